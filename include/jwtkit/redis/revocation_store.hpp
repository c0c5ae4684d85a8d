// RedisRevocationStore: revocation state shared by every app instance through one Redis.
#pragma once

#include <jwtkit/clock.hpp>
#include <jwtkit/redis/export.hpp>
#include <jwtkit/redis/options.hpp>
#include <jwtkit/result.hpp>
#include <jwtkit/revocation_store.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>

namespace jwtkit {

/// A RevocationStore kept in Redis, so that every instance of an app sees a revocation at
/// once. Thread-safe: calls share a bounded pool of connections.
///
/// Every answer comes from a checked Redis reply: a lost connection, a timeout or a Redis
/// error is store_unavailable (the engine then fails closed), and a write succeeds only
/// once Redis acknowledged it. A connection that failed is closed and replaced on the next
/// call, so the store recovers by itself after a Redis restart.
///
/// Expiry follows the store's Clock: each entry holds its own expiry time and is ignored
/// once that time has passed; Redis deletes it a little later through a TTL computed from
/// the same Clock at write time. Keys (under RedisOptions::key_prefix):
///   jti:<jti>                  revoked token id        value: expiry (Unix seconds)
///   rt:<jti>                   used refresh token id   value: expiry
///   sid:<sid>                  revoked session         value: expiry
///   sub:{s:<subject>}:nbf      subject not-before      value: "<not_before>:<keep_until>"
///   sub:{s:<subject>}:sessions sessions of a subject   sorted set, score: expiry
/// The hash tag keeps the keys of one subject in one Redis Cluster slot.
class JWTKIT_REDIS_EXPORT RedisRevocationStore final : public RevocationStore {
 public:
  /// Connects (once, to check address and credentials) and returns the store. A null clock
  /// means the system clock. Errors: invalid_argument (options), store_unavailable (cannot
  /// connect, AUTH or SELECT refused; the message says which).
  static Result<std::shared_ptr<RedisRevocationStore>> open(
      RedisOptions options, std::shared_ptr<const Clock> clock = nullptr);
  /// Same, from a URL (see RedisOptions::from_url).
  static Result<std::shared_ptr<RedisRevocationStore>> open(
      std::string_view url, std::shared_ptr<const Clock> clock = nullptr);

  ~RedisRevocationStore() override;
  RedisRevocationStore(const RedisRevocationStore&) = delete;
  RedisRevocationStore& operator=(const RedisRevocationStore&) = delete;

  Result<void> revoke_token(std::string_view jti, TimePoint expires_at) override;
  Result<bool> is_token_revoked(std::string_view jti) override;
  Result<void> revoke_subject(std::string_view subject, TimePoint not_before,
                              TimePoint keep_until) override;
  Result<std::optional<TimePoint>> subject_revoked_before(std::string_view subject) override;
  Result<void> add_session(std::string_view subject, std::string_view session_id,
                           TimePoint expires_at) override;
  Result<void> remove_session(std::string_view subject, std::string_view session_id) override;
  Result<void> revoke_session(std::string_view subject, std::string_view session_id,
                              TimePoint expires_at) override;
  Result<bool> is_session_revoked(std::string_view session_id) override;
  Result<std::size_t> count_sessions(std::string_view subject) override;
  Result<bool> mark_refresh_used(std::string_view jti, TimePoint expires_at) override;
  /// Trims expired sessions and deletes entries whose expiry passed (by the store's Clock)
  /// but whose Redis TTL has not run out yet. Walks the keys with SCAN: a maintenance call.
  Result<std::size_t> cleanup() override;
  /// One round trip (MGET of the token, session and subject entries).
  Result<bool> is_revoked(const TokenRef& token) override;

  /// Round trip to the server (PING). Errors: store_unavailable.
  Result<void> ping();
  const RedisOptions& options() const noexcept;

 private:
  struct Impl;
  explicit RedisRevocationStore(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jwtkit
