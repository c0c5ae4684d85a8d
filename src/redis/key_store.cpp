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

Result<std::string> record_to_json(const KeyRecord& r) {
  auto text = key_record_to_json(r);
  if (!text) return Error(text.error().code(), "RedisKeyStore: " + text.error().message());
  return text;
}

Result<KeyRecord> record_from_json(std::string_view field, std::string_view text,
                                   const std::string& hash) {
  auto corrupt = [&](const std::string& what) {
    return Error(Errc::malformed, "corrupt key record '" + std::string(field.substr(0, 128)) +
                                      "' in Redis hash '" + hash + "': " + what);
  };
  auto rec = key_record_from_json(text);
  if (!rec) return corrupt(rec.error().message());
  if (rec->kid() != field) return corrupt("kid is not the field name");
  return rec;
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
