// RedisKeyStore: signing keys shared by every app instance through one Redis.
#pragma once

#include <jwtkit/key_store.hpp>
#include <jwtkit/redis/export.hpp>
#include <jwtkit/redis/options.hpp>
#include <jwtkit/result.hpp>

#include <memory>
#include <string_view>
#include <vector>

namespace jwtkit {

/// A KeyStore kept in one Redis hash (`<key_prefix>keys`, field = kid, value = the record as
/// JSON: kid, alg, state, created_at, sign_until, verify_until, jwk), so all instances sign
/// with the same key and rotate together. Thread-safe (pooled connections).
///
/// The records hold private keys: protect the Redis server (ACL user, network) accordingly.
/// save_if_active runs as one Lua script, so of two instances rotating at once one wins and
/// the other gets store_conflict.
class JWTKIT_REDIS_EXPORT RedisKeyStore final : public KeyStore {
 public:
  /// Connects once to check address and credentials. Errors: invalid_argument,
  /// store_unavailable.
  static Result<std::shared_ptr<RedisKeyStore>> open(RedisOptions options);
  static Result<std::shared_ptr<RedisKeyStore>> open(std::string_view url);

  ~RedisKeyStore() override;
  RedisKeyStore(const RedisKeyStore&) = delete;
  RedisKeyStore& operator=(const RedisKeyStore&) = delete;

  Result<std::vector<KeyRecord>> load_all() override;
  Result<void> save(const KeyRecord& record) override;
  Result<void> remove(std::string_view kid) override;
  Result<void> save_if_active(std::string_view expected_active_kid,
                              const std::vector<KeyRecord>& records) override;

  const RedisOptions& options() const noexcept;

 private:
  struct Impl;
  explicit RedisKeyStore(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jwtkit
