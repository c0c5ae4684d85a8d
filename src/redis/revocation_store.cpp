// RedisRevocationStore. Every entry holds its own expiry, compared with the store's Clock on
// every read; the Redis TTL (computed from the same Clock at write time) only collects garbage.
#include <jwtkit/redis/revocation_store.hpp>

#include "client.hpp"

#include <algorithm>
#include <optional>
#include <exception>
#include <string>

namespace jwtkit {

using redis_detail::Args;
using redis_detail::Connection;
using redis_detail::Reply;
using redis_detail::Script;

namespace {

// Marks a refresh token id used unless a live mark exists. Atomic, so exactly one of several
// concurrent callers (in any process) gets 1.
// KEYS[1] rt key; ARGV[1] expiry, ARGV[2] now, ARGV[3] ttl seconds.
constexpr const char* kMarkRefreshUsed = R"lua(
local cur = redis.call('GET', KEYS[1])
if cur then
  local e = tonumber(cur)
  if e == nil or e > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
)lua";

// Moves a subject's not-before forward (never back) and keeps the later keep_until; drops
// the subject's sessions. Values are "<not_before>:<keep_until>" in Unix seconds.
// KEYS[1] nbf key, KEYS[2] sessions key; ARGV[1] not_before, ARGV[2] keep_until, ARGV[3] now.
constexpr const char* kRevokeSubject = R"lua(
local nbf, keep, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local cur = redis.call('GET', KEYS[1])
if cur then
  local sep = string.find(cur, ':', 1, true)
  if sep then
    local cn, ck = string.sub(cur, 1, sep - 1), string.sub(cur, sep + 1)
    if tonumber(cn) and tonumber(ck) and tonumber(ck) > now then
      if tonumber(cn) > tonumber(nbf) then nbf = cn end
      if tonumber(ck) > tonumber(keep) then keep = ck end
    end
  end
end
redis.call('DEL', KEYS[2])
local ttl = tonumber(keep) - now
if ttl <= 0 then
  redis.call('DEL', KEYS[1])
  return 0
end
redis.call('SET', KEYS[1], nbf .. ':' .. keep, 'EX', math.min(ttl + 900, 8589934592))
return 1
)lua";

// Adds or extends a session (never shortens one); the set lives as long as its longest session.
// KEYS[1] sessions key; ARGV[1] expiry, ARGV[2] session id, ARGV[3] ttl seconds.
constexpr const char* kAddSession = R"lua(
local cur = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not cur or tonumber(cur) < tonumber(ARGV[1]) then redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2]) end
local t = redis.call('TTL', KEYS[1])
if t < tonumber(ARGV[3]) then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
return 1
)lua";

// Removes what expired by the caller's clock from the given keys of this store: whole
// string entries, and members of session sets. Returns how many entries went.
// KEYS: candidate keys; ARGV[1] now, ARGV[2] prefix.
constexpr const char* kCleanup = R"lua(
local now = tonumber(ARGV[1])
local prefix = ARGV[2]
local removed = 0
for _, k in ipairs(KEYS) do
  local kind = string.sub(k, #prefix + 1, #prefix + 4)
  local t = redis.call('TYPE', k)['ok']
  if t == 'zset' and kind == 'sub:' then
    removed = removed + redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
  elseif t == 'string' then
    local v = redis.call('GET', k)
    local e = nil
    if kind == 'sub:' then
      local sep = string.find(v, ':', 1, true)
      if sep then e = tonumber(string.sub(v, sep + 1)) end
    else
      e = tonumber(v)
    end
    if e ~= nil and e <= now then
      redis.call('DEL', k)
      removed = removed + 1
    end
  end
end
return removed
)lua";

Error unavailable(std::string message) {
  return Error(Errc::store_unavailable, std::move(message));
}

Error bad_value(std::string_view key, std::string_view value) {
  return unavailable("unexpected value '" + std::string(value.substr(0, 64)) +
                     "' in Redis key '" + std::string(key) + "' (not written by jwtkit?)");
}

// "<not_before>:<keep_until>"
struct SubjectEntry {
  std::int64_t not_before;
  std::int64_t keep_until;
};
std::optional<SubjectEntry> parse_subject_entry(std::string_view v) {
  const auto sep = v.find(':');
  if (sep == std::string_view::npos) return std::nullopt;
  const auto nbf = redis_detail::parse_int64(v.substr(0, sep));
  const auto keep = redis_detail::parse_int64(v.substr(sep + 1));
  if (!nbf || !keep) return std::nullopt;
  return SubjectEntry{*nbf, *keep};
}

// Glob-escapes a literal for SCAN MATCH.
std::string glob_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace

struct RedisRevocationStore::Impl {
  Impl(RedisOptions options, std::shared_ptr<const Clock> c)
      : pool(std::move(options)), clock(std::move(c)) {}

  redis_detail::Pool pool;
  std::shared_ptr<const Clock> clock;
  const Script mark_refresh_used{kMarkRefreshUsed};
  const Script revoke_subject{kRevokeSubject};
  const Script add_session{kAddSession};
  const Script cleanup{kCleanup};

  const std::string& prefix() const { return pool.options().key_prefix; }
  std::int64_t now() const { return to_unix(clock->now()); }

  // The EX argument for an entry that must live `ttl` seconds by this instance's clock. Each
  // entry carries its real expiry and is compared with the reader's clock; the Redis TTL
  // only collects garbage, so it gets a margin for other instances whose clocks lag (and a
  // cap Redis accepts).
  static std::string redis_ttl(std::int64_t ttl) {
    constexpr std::int64_t kMargin = 15 * 60;
    constexpr std::int64_t kCap = std::int64_t{1} << 33;
    return std::to_string(std::min(ttl + kMargin, kCap));
  }

  std::string jti_key(std::string_view jti) const { return prefix() + "jti:" + std::string(jti); }
  std::string refresh_key(std::string_view jti) const {
    return prefix() + "rt:" + std::string(jti);
  }
  std::string session_key(std::string_view sid) const {
    return prefix() + "sid:" + std::string(sid);
  }
  // "s:" keeps the hash tag non-empty whatever the subject, so both keys of a subject
  // always hash to the same slot.
  std::string subject_nbf_key(std::string_view subject) const {
    return prefix() + "sub:{s:" + std::string(subject) + "}:nbf";
  }
  std::string subject_sessions_key(std::string_view subject) const {
    return prefix() + "sub:{s:" + std::string(subject) + "}:sessions";
  }

  // GET of an entry whose value is its expiry: true while that expiry is after now.
  Result<bool> live_expiry_entry(const std::string& key, std::string_view what) {
    return pool.run<bool>(true, [&](Connection& c) -> Result<bool> {
      auto r = c.send({"GET", key});
      if (!r) return std::move(r).error();
      return expiry_entry_is_live(r->get(), key, what);
    });
  }

  Result<bool> expiry_entry_is_live(const redisReply* reply, const std::string& key,
                                    std::string_view what) {
    auto v = redis_detail::check_string_or_nil(reply, what);
    if (!v) return std::move(v).error();
    if (!v->has_value()) return false;
    const auto exp = redis_detail::parse_int64(**v);
    if (!exp) return bad_value(key, **v);
    return *exp > now();
  }

  Result<std::optional<SubjectEntry>> subject_entry(const redisReply* reply,
                                                    const std::string& key) {
    auto v = redis_detail::check_string_or_nil(reply, "GET subject");
    if (!v) return std::move(v).error();
    if (!v->has_value()) return std::optional<SubjectEntry>();
    auto e = parse_subject_entry(**v);
    if (!e) return bad_value(key, **v);
    if (e->keep_until <= now()) return std::optional<SubjectEntry>();
    return e;
  }
};

// Catches what could escape (std::bad_alloc) so nothing throws through the store interface.
template <class F>
static auto guarded(F&& f) noexcept -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return Error(Errc::internal, std::string("RedisRevocationStore: ") + e.what());
  } catch (...) {
    return Error(Errc::internal, "RedisRevocationStore: unknown exception");
  }
}

RedisRevocationStore::RedisRevocationStore(std::unique_ptr<Impl> impl) noexcept
    : impl_(std::move(impl)) {}
RedisRevocationStore::~RedisRevocationStore() = default;

Result<std::shared_ptr<RedisRevocationStore>> RedisRevocationStore::open(
    RedisOptions options, std::shared_ptr<const Clock> clock) {
  return guarded([&]() -> Result<std::shared_ptr<RedisRevocationStore>> {
    if (auto v = options.validate(); !v) return std::move(v).error();
    if (!clock) clock = std::make_shared<SystemClock>();
    std::shared_ptr<RedisRevocationStore> store(
        new RedisRevocationStore(std::make_unique<Impl>(std::move(options), std::move(clock))));
    if (auto w = store->impl_->pool.warm_up(); !w) return std::move(w).error();
    return store;
  });
}

Result<std::shared_ptr<RedisRevocationStore>> RedisRevocationStore::open(
    std::string_view url, std::shared_ptr<const Clock> clock) {
  auto options = RedisOptions::from_url(url);
  if (!options) return std::move(options).error();
  return open(std::move(*options), std::move(clock));
}

const RedisOptions& RedisRevocationStore::options() const noexcept {
  return impl_->pool.options();
}

Result<void> RedisRevocationStore::ping() {
  return guarded([&] {
    return impl_->pool.run<void>(true, [&](Connection& c) -> Result<void> {
      auto r = c.send({"PING"});
      if (!r) return std::move(r).error();
      if ((*r)->type == REDIS_REPLY_STATUS && std::string_view((*r)->str, (*r)->len) == "PONG") {
        return ok();
      }
      return redis_detail::unexpected_reply("PING", r->get());
    });
  });
}

Result<void> RedisRevocationStore::revoke_token(std::string_view jti, TimePoint expires_at) {
  return guarded([&]() -> Result<void> {
    const std::int64_t exp = to_unix(expires_at);
    const std::int64_t ttl = exp - impl_->now();
    if (ttl <= 0) return ok();  // already expired: nothing left to revoke
    const std::string key = impl_->jti_key(jti);
    const std::string value = std::to_string(exp);
    const std::string ttl_s = Impl::redis_ttl(ttl);
    // SET is idempotent, so a retry after a dropped connection is safe.
    return impl_->pool.run<void>(true, [&](Connection& c) -> Result<void> {
      auto r = c.send({"SET", key, value, "EX", ttl_s});
      if (!r) return std::move(r).error();
      return redis_detail::check_status_ok(*r, "SET (revoke_token)");
    });
  });
}

Result<bool> RedisRevocationStore::is_token_revoked(std::string_view jti) {
  return guarded([&] { return impl_->live_expiry_entry(impl_->jti_key(jti), "GET (jti)"); });
}

Result<void> RedisRevocationStore::revoke_subject(std::string_view subject, TimePoint not_before,
                                                  TimePoint keep_until) {
  return guarded([&]() -> Result<void> {
    const std::string nbf_key = impl_->subject_nbf_key(subject);
    const std::string sessions_key = impl_->subject_sessions_key(subject);
    const std::string nbf = std::to_string(to_unix(not_before));
    const std::string keep = std::to_string(to_unix(keep_until));
    const std::string now = std::to_string(impl_->now());
    // Idempotent: moving forward to the same time twice gives the same state.
    return impl_->pool.run<void>(true, [&](Connection& c) -> Result<void> {
      auto r = impl_->revoke_subject.run(c, {nbf_key, sessions_key}, {nbf, keep, now});
      if (!r) return std::move(r).error();
      auto n = redis_detail::check_integer(*r, "revoke_subject script");
      if (!n) return std::move(n).error();
      return ok();
    });
  });
}

Result<std::optional<TimePoint>> RedisRevocationStore::subject_revoked_before(
    std::string_view subject) {
  return guarded([&]() -> Result<std::optional<TimePoint>> {
    const std::string key = impl_->subject_nbf_key(subject);
    return impl_->pool.run<std::optional<TimePoint>>(
        true, [&](Connection& c) -> Result<std::optional<TimePoint>> {
          auto r = c.send({"GET", key});
          if (!r) return std::move(r).error();
          auto e = impl_->subject_entry(r->get(), key);
          if (!e) return std::move(e).error();
          if (!e->has_value()) return std::optional<TimePoint>();
          return std::optional<TimePoint>(from_unix((*e)->not_before));
        });
  });
}

Result<void> RedisRevocationStore::add_session(std::string_view subject,
                                               std::string_view session_id,
                                               TimePoint expires_at) {
  return guarded([&]() -> Result<void> {
    const std::string key = impl_->subject_sessions_key(subject);
    const std::int64_t exp = to_unix(expires_at);
    const std::int64_t ttl = exp - impl_->now();
    if (ttl <= 0) {
      // Already over: it must not count; drop an older, live entry of the same session.
      return remove_session(subject, session_id);
    }
    const std::string exp_s = std::to_string(exp);
    const std::string ttl_s = Impl::redis_ttl(ttl);
    return impl_->pool.run<void>(true, [&](Connection& c) -> Result<void> {
      auto r = impl_->add_session.run(c, {key}, {exp_s, session_id, ttl_s});
      if (!r) return std::move(r).error();
      auto n = redis_detail::check_integer(*r, "add_session script");
      if (!n) return std::move(n).error();
      return ok();
    });
  });
}

Result<void> RedisRevocationStore::remove_session(std::string_view subject,
                                                  std::string_view session_id) {
  return guarded([&]() -> Result<void> {
    const std::string key = impl_->subject_sessions_key(subject);
    return impl_->pool.run<void>(true, [&](Connection& c) -> Result<void> {
      auto r = c.send({"ZREM", key, session_id});
      if (!r) return std::move(r).error();
      auto n = redis_detail::check_integer(*r, "ZREM (remove_session)");
      if (!n) return std::move(n).error();
      return ok();
    });
  });
}

Result<void> RedisRevocationStore::revoke_session(std::string_view subject,
                                                  std::string_view session_id,
                                                  TimePoint expires_at) {
  return guarded([&]() -> Result<void> {
    const std::string sessions_key = impl_->subject_sessions_key(subject);
    const std::string revoked_key = impl_->session_key(session_id);
    const std::int64_t exp = to_unix(expires_at);
    const std::int64_t ttl = exp - impl_->now();
    if (ttl <= 0) return remove_session(subject, session_id);
    const std::string exp_s = std::to_string(exp);
    const std::string ttl_s = Impl::redis_ttl(ttl);
    // One round trip; the revocation is written first and both replies are checked.
    return impl_->pool.run<void>(true, [&](Connection& c) -> Result<void> {
      auto replies = c.pipeline({{"SET", revoked_key, exp_s, "EX", ttl_s},
                                 {"ZREM", sessions_key, session_id}});
      if (!replies) return std::move(replies).error();
      if (auto s = redis_detail::check_status_ok((*replies)[0], "SET (revoke_session)"); !s) {
        return s;
      }
      auto n = redis_detail::check_integer((*replies)[1], "ZREM (revoke_session)");
      if (!n) return std::move(n).error();
      return ok();
    });
  });
}

Result<bool> RedisRevocationStore::is_session_revoked(std::string_view session_id) {
  return guarded([&] {
    return impl_->live_expiry_entry(impl_->session_key(session_id), "GET (session)");
  });
}

Result<std::size_t> RedisRevocationStore::count_sessions(std::string_view subject) {
  return guarded([&]() -> Result<std::size_t> {
    const std::string key = impl_->subject_sessions_key(subject);
    const std::string min = "(" + std::to_string(impl_->now());  // expiry strictly after now
    return impl_->pool.run<std::size_t>(true, [&](Connection& c) -> Result<std::size_t> {
      auto r = c.send({"ZCOUNT", key, min, "+inf"});
      if (!r) return std::move(r).error();
      auto n = redis_detail::check_integer(*r, "ZCOUNT (count_sessions)");
      if (!n) return std::move(n).error();
      if (*n < 0) return redis_detail::unexpected_reply("ZCOUNT (count_sessions)", r->get());
      return static_cast<std::size_t>(*n);
    });
  });
}

Result<bool> RedisRevocationStore::mark_refresh_used(std::string_view jti,
                                                     TimePoint expires_at) {
  return guarded([&]() -> Result<bool> {
    const std::string key = impl_->refresh_key(jti);
    const std::int64_t now = impl_->now();
    const std::int64_t exp = to_unix(expires_at);
    // An expired token keeps a short mark, so that racing callers still see one winner.
    const std::int64_t ttl = std::max<std::int64_t>(exp - now, 1);
    const std::string exp_s = std::to_string(std::max(exp, now + 1));
    const std::string now_s = std::to_string(now);
    const std::string ttl_s = Impl::redis_ttl(ttl);
    // Not idempotent (a retry could see its own mark and report reuse): never retried.
    return impl_->pool.run<bool>(false, [&](Connection& c) -> Result<bool> {
      auto r = impl_->mark_refresh_used.run(c, {key}, {exp_s, now_s, ttl_s});
      if (!r) return std::move(r).error();
      auto n = redis_detail::check_integer(*r, "mark_refresh_used script");
      if (!n) return std::move(n).error();
      if (*n != 0 && *n != 1) {
        return redis_detail::unexpected_reply("mark_refresh_used script", r->get());
      }
      return *n == 1;
    });
  });
}

Result<std::size_t> RedisRevocationStore::cleanup() {
  return guarded([&]() -> Result<std::size_t> {
    const std::string& prefix = impl_->prefix();
    const std::string pattern = glob_escape(prefix) + "*";
    const std::string now = std::to_string(impl_->now());
    std::size_t removed = 0;
    std::string cursor = "0";
    // Each SCAN step is its own call, so one step failing fails the cleanup without
    // holding a connection for the whole walk.
    do {
      auto step = impl_->pool.run<std::size_t>(true, [&](Connection& c) -> Result<std::size_t> {
        auto r = c.send({"SCAN", cursor, "MATCH", pattern, "COUNT", "500"});
        if (!r) return std::move(r).error();
        auto arr = redis_detail::check_array(*r, "SCAN");
        if (!arr) return std::move(arr).error();
        const redisReply* a = *arr;
        if (a->elements != 2 || a->element[0]->type != REDIS_REPLY_STRING ||
            a->element[1]->type != REDIS_REPLY_ARRAY) {
          return redis_detail::unexpected_reply("SCAN", a);
        }
        std::string next(a->element[0]->str, a->element[0]->len);
        Args keys;
        for (std::size_t i = 0; i < a->element[1]->elements; ++i) {
          const redisReply* k = a->element[1]->element[i];
          if (k->type != REDIS_REPLY_STRING) return redis_detail::unexpected_reply("SCAN", k);
          const std::string_view name(k->str, k->len);
          const std::string_view rest = name.substr(prefix.size());
          // Only this store's kinds of keys (a key store may share the prefix).
          if (rest.rfind("jti:", 0) == 0 || rest.rfind("rt:", 0) == 0 ||
              rest.rfind("sid:", 0) == 0 || rest.rfind("sub:{s:", 0) == 0) {
            keys.push_back(name);
          }
        }
        std::size_t n = 0;
        if (!keys.empty()) {
          auto s = impl_->cleanup.run(c, keys, {now, prefix});
          if (!s) return std::move(s).error();
          auto count = redis_detail::check_integer(*s, "cleanup script");
          if (!count) return std::move(count).error();
          n = static_cast<std::size_t>(std::max<long long>(*count, 0));
        }
        cursor = std::move(next);
        return n;
      });
      if (!step) return std::move(step).error();
      removed += *step;
    } while (cursor != "0");
    return removed;
  });
}

Result<bool> RedisRevocationStore::is_revoked(const TokenRef& token) {
  return guarded([&]() -> Result<bool> {
    std::vector<std::string> keys;
    keys.reserve(3);
    const bool has_jti = !token.jti.empty();
    const bool has_sid = !token.session_id.empty();
    const bool has_sub = !token.subject.empty();
    if (has_jti) keys.push_back(impl_->jti_key(token.jti));
    if (has_sid) keys.push_back(impl_->session_key(token.session_id));
    if (has_sub) keys.push_back(impl_->subject_nbf_key(token.subject));
    if (keys.empty()) return false;
    Args argv{"MGET"};
    for (const auto& k : keys) argv.push_back(k);
    return impl_->pool.run<bool>(true, [&](Connection& c) -> Result<bool> {
      auto r = c.send(argv);
      if (!r) return std::move(r).error();
      auto arr = redis_detail::check_array(*r, "MGET (is_revoked)");
      if (!arr) return std::move(arr).error();
      if ((*arr)->elements != keys.size()) {
        return redis_detail::unexpected_reply("MGET (is_revoked)", *arr);
      }
      // Any entry that certainly revokes the token wins over another that cannot be read:
      // "revoked" must never turn into an error a fail-open caller would ignore.
      std::size_t i = 0;
      bool revoked = false;
      std::optional<Error> unreadable;
      if (has_jti) {
        auto live = impl_->expiry_entry_is_live((*arr)->element[i], keys[i], "MGET (jti)");
        if (!live) unreadable = live.error(); else revoked = revoked || *live;
        ++i;
      }
      if (has_sid) {
        auto live = impl_->expiry_entry_is_live((*arr)->element[i], keys[i], "MGET (session)");
        if (!live) unreadable = live.error(); else revoked = revoked || *live;
        ++i;
      }
      if (has_sub) {
        auto e = impl_->subject_entry((*arr)->element[i], keys[i]);
        if (!e) {
          unreadable = e.error();
        } else if (e->has_value() && to_unix(token.issued_at) <= (*e)->not_before) {
          revoked = true;
        }
      }
      if (revoked) return true;
      if (unreadable) return *unreadable;
      return false;
    });
  });
}

}  // namespace jwtkit
