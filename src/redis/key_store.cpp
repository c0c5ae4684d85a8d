// RedisKeyStore: one hash, field = kid, value = the record as JSON.
#include <jwtkit/redis/key_store.hpp>

#include "client.hpp"

#include <jwtkit/json.hpp>

#include <nlohmann/json.hpp>

#include <exception>
#include <string>

namespace jwtkit {

using redis_detail::Args;
using redis_detail::Connection;
using redis_detail::Script;

namespace {

// Writes the records only if the active key is still the expected one ("" = none).
// Returns {status, detail}: {'ok',''}, {'conflict', active kids}, {'corrupt', ''}.
// KEYS[1] hash; ARGV[1] expected kid; then kid, json pairs.
constexpr const char* kSaveIfActive = R"lua(
local active = {}
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do
  local ok, rec = pcall(cjson.decode, v)
  if not ok or type(rec) ~= 'table' then return {'corrupt', ''} end
  if rec['state'] == 'active' then active[#active + 1] = tostring(rec['kid']) end
end
local expected = ARGV[1]
local match = (expected == '' and #active == 0) or
              (expected ~= '' and #active == 1 and active[1] == expected)
if not match then return {'conflict', table.concat(active, ', ')} end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return {'ok', ''}
)lua";

// Private JWKs of RSA-16384 keys are the largest records (~15 KB).
constexpr JsonLimits kRecordLimits{256 * 1024, 16};

Result<std::string> record_to_json(const KeyRecord& r) {
  if (r.kid().empty()) {
    return Error(Errc::invalid_argument, "RedisKeyStore: a key record needs a kid");
  }
  auto jwk = r.key.private_jwk();
  if (!jwk) return std::move(jwk).error();
  nlohmann::json j = {
      {"kid", r.kid()},
      {"alg", std::string(to_string(r.alg))},
      {"state", std::string(to_string(r.state))},
      {"created_at", to_unix(r.created_at)},
      {"sign_until", r.sign_until ? nlohmann::json(to_unix(*r.sign_until)) : nlohmann::json()},
      {"verify_until",
       r.verify_until ? nlohmann::json(to_unix(*r.verify_until)) : nlohmann::json()},
      {"jwk", std::move(*jwk)},
  };
  try {
    return j.dump();
  } catch (const nlohmann::json::exception& e) {
    return Error(Errc::invalid_argument,
                 "RedisKeyStore: cannot encode the record (kid not UTF-8?): " +
                     std::string(e.what()));
  }
}

Result<KeyRecord> record_from_json(std::string_view field, std::string_view text,
                                   const std::string& hash) {
  auto corrupt = [&](const std::string& what) {
    return Error(Errc::malformed, "corrupt key record '" + std::string(field.substr(0, 128)) +
                                      "' in Redis hash '" + hash + "': " + what);
  };
  auto doc = parse_json_strict(text, kRecordLimits);
  if (!doc) return corrupt(doc.error().message());
  const nlohmann::json& j = *doc;
  if (!j.is_object()) return corrupt("not a JSON object");

  auto str = [&](const char* name) -> const std::string* {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
  };
  auto time = [&](const char* name, bool required) -> Result<std::optional<TimePoint>> {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) {
      if (required) return corrupt(std::string("missing ") + name);
      return std::optional<TimePoint>();
    }
    if (!it->is_number_integer()) return corrupt(std::string(name) + " is not an integer");
    return std::optional<TimePoint>(from_unix(it->get<std::int64_t>()));
  };

  const std::string* kid = str("kid");
  if (kid == nullptr || *kid != field) return corrupt("kid missing or not the field name");
  const std::string* alg_name = str("alg");
  const auto alg = alg_name ? parse_alg(*alg_name) : std::nullopt;
  if (!alg) return corrupt("missing or unknown alg");
  const std::string* state_name = str("state");
  const auto state = state_name ? parse_key_state(*state_name) : std::nullopt;
  if (!state) return corrupt("missing or unknown state");
  auto created = time("created_at", true);
  if (!created) return std::move(created).error();
  auto sign_until = time("sign_until", false);
  if (!sign_until) return std::move(sign_until).error();
  auto verify_until = time("verify_until", false);
  if (!verify_until) return std::move(verify_until).error();
  auto jwk_it = j.find("jwk");
  if (jwk_it == j.end() || !jwk_it->is_object()) return corrupt("missing jwk");
  auto key = Key::from_jwk(*jwk_it);
  if (!key) return corrupt("bad jwk: " + key.error().message());
  Key k = *key;
  if (k.kid() != *kid) k = k.with_kid(*kid);
  if (!k.can_sign()) return corrupt("jwk has no private part");
  return KeyRecord{std::move(k), *alg, *state, **created, *sign_until, *verify_until};
}

template <class F>
auto guarded(F&& f) noexcept -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return Error(Errc::internal, std::string("RedisKeyStore: ") + e.what());
  } catch (...) {
    return Error(Errc::internal, "RedisKeyStore: unknown exception");
  }
}

}  // namespace

struct RedisKeyStore::Impl {
  explicit Impl(RedisOptions options)
      : pool(std::move(options)), hash(pool.options().key_prefix + "keys") {}
  redis_detail::Pool pool;
  const std::string hash;
  const Script save_if_active{kSaveIfActive};
};

RedisKeyStore::RedisKeyStore(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
RedisKeyStore::~RedisKeyStore() = default;

Result<std::shared_ptr<RedisKeyStore>> RedisKeyStore::open(RedisOptions options) {
  return guarded([&]() -> Result<std::shared_ptr<RedisKeyStore>> {
    if (auto v = options.validate(); !v) return std::move(v).error();
    std::shared_ptr<RedisKeyStore> store(
        new RedisKeyStore(std::make_unique<Impl>(std::move(options))));
    if (auto w = store->impl_->pool.warm_up(); !w) return std::move(w).error();
    return store;
  });
}

Result<std::shared_ptr<RedisKeyStore>> RedisKeyStore::open(std::string_view url) {
  auto options = RedisOptions::from_url(url);
  if (!options) return std::move(options).error();
  return open(std::move(*options));
}

const RedisOptions& RedisKeyStore::options() const noexcept { return impl_->pool.options(); }

Result<std::vector<KeyRecord>> RedisKeyStore::load_all() {
  return guarded([&]() -> Result<std::vector<KeyRecord>> {
    return impl_->pool.run<std::vector<KeyRecord>>(
        true, [&](Connection& c) -> Result<std::vector<KeyRecord>> {
          auto r = c.send({"HGETALL", impl_->hash});
          if (!r) return std::move(r).error();
          auto arr = redis_detail::check_array(*r, "HGETALL (load_all)");
          if (!arr) return std::move(arr).error();
          const redisReply* a = *arr;
          if (a->elements % 2 != 0) return redis_detail::unexpected_reply("HGETALL", a);
          std::vector<KeyRecord> records;
          records.reserve(a->elements / 2);
          for (std::size_t i = 0; i < a->elements; i += 2) {
            const redisReply* f = a->element[i];
            const redisReply* v = a->element[i + 1];
            if (f->type != REDIS_REPLY_STRING) return redis_detail::unexpected_reply("HGETALL", f);
            if (v->type != REDIS_REPLY_STRING) return redis_detail::unexpected_reply("HGETALL", v);
            auto rec = record_from_json(std::string_view(f->str, f->len),
                                        std::string_view(v->str, v->len), impl_->hash);
            if (!rec) return std::move(rec).error();
            records.push_back(std::move(*rec));
          }
          return records;
        });
  });
}

Result<void> RedisKeyStore::save(const KeyRecord& record) {
  return guarded([&]() -> Result<void> {
    auto json = record_to_json(record);
    if (!json) return std::move(json).error();
    return impl_->pool.run<void>(true, [&](Connection& c) -> Result<void> {
      auto r = c.send({"HSET", impl_->hash, record.kid(), *json});
      if (!r) return std::move(r).error();
      auto n = redis_detail::check_integer(*r, "HSET (save)");
      if (!n) return std::move(n).error();
      return ok();
    });
  });
}

Result<void> RedisKeyStore::remove(std::string_view kid) {
  return guarded([&]() -> Result<void> {
    return impl_->pool.run<void>(true, [&](Connection& c) -> Result<void> {
      auto r = c.send({"HDEL", impl_->hash, kid});
      if (!r) return std::move(r).error();
      auto n = redis_detail::check_integer(*r, "HDEL (remove)");
      if (!n) return std::move(n).error();
      return ok();
    });
  });
}

Result<void> RedisKeyStore::save_if_active(std::string_view expected_active_kid,
                                           const std::vector<KeyRecord>& records) {
  return guarded([&]() -> Result<void> {
    std::vector<std::string> jsons;
    jsons.reserve(records.size());
    for (const auto& rec : records) {
      auto json = record_to_json(rec);
      if (!json) return std::move(json).error();
      jsons.push_back(std::move(*json));
    }
    Args args{expected_active_kid};
    for (std::size_t i = 0; i < records.size(); ++i) {
      args.push_back(records[i].kid());
      args.push_back(jsons[i]);
    }
    // Not retried: after a lost reply, a second run would see its own write as a conflict.
    return impl_->pool.run<void>(false, [&](Connection& c) -> Result<void> {
      auto r = impl_->save_if_active.run(c, {impl_->hash}, args);
      if (!r) return std::move(r).error();
      auto arr = redis_detail::check_array(*r, "save_if_active script");
      if (!arr) return std::move(arr).error();
      const redisReply* a = *arr;
      if (a->elements != 2 || a->element[0]->type != REDIS_REPLY_STRING ||
          a->element[1]->type != REDIS_REPLY_STRING) {
        return redis_detail::unexpected_reply("save_if_active script", a);
      }
      const std::string_view status(a->element[0]->str, a->element[0]->len);
      const std::string detail(a->element[1]->str, a->element[1]->len);
      if (status == "ok") return ok();
      if (status == "conflict") {
        return Error(Errc::store_conflict,
                     "the active key is no longer '" + std::string(expected_active_kid) +
                         "' (active now: " + (detail.empty() ? "none" : "'" + detail + "'") +
                         "); reload the keys");
      }
      if (status == "corrupt") {
        return Error(Errc::malformed,
                     "a record in Redis hash '" + impl_->hash + "' is not valid JSON");
      }
      return redis_detail::unexpected_reply("save_if_active script", a);
    });
  });
}

}  // namespace jwtkit
