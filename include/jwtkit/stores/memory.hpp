// In-memory KeyStore and RevocationStore: the embedded default, and fakes for users' tests.
#pragma once

#include <jwtkit/clock.hpp>
#include <jwtkit/export.hpp>
#include <jwtkit/key_store.hpp>
#include <jwtkit/revocation_store.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace jwtkit {

/// Keeps signing keys in process memory (lost on exit). Thread-safe.
class JWTKIT_EXPORT MemoryKeyStore final : public KeyStore {
 public:
  MemoryKeyStore() = default;

  Result<std::vector<KeyRecord>> load_all() override;
  /// Errors: invalid_argument when the record has no kid.
  Result<void> save(const KeyRecord& record) override;
  Result<void> remove(std::string_view kid) override;
  Result<void> save_if_active(std::string_view expected_active_kid,
                              const std::vector<KeyRecord>& records) override;

 private:
  mutable std::mutex mu_;
  std::map<std::string, KeyRecord, std::less<>> records_;
};

/// Keeps revocation state in process memory, for one process (or tests). Entries past their
/// expiry, by the injected Clock, are invisible at once and removed by cleanup(). Thread-safe.
class JWTKIT_EXPORT MemoryRevocationStore final : public RevocationStore {
 public:
  /// `clock` null means SystemClock.
  explicit MemoryRevocationStore(std::shared_ptr<const Clock> clock = nullptr);

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
  Result<std::size_t> cleanup() override;
  /// Answers under one lock acquisition.
  Result<bool> is_revoked(const TokenRef& token) override;

 private:
  struct SubjectEntry {
    TimePoint not_before;
    TimePoint keep_until;
  };
  using ExpiryMap = std::map<std::string, TimePoint, std::less<>>;

  bool live(TimePoint expires_at) const noexcept { return clock_->now() < expires_at; }
  bool live_in(const ExpiryMap& map, std::string_view key) const;

  std::shared_ptr<const Clock> clock_;
  mutable std::mutex mu_;
  ExpiryMap tokens_;           // jti -> expiry
  ExpiryMap revoked_sessions_; // session id -> expiry
  ExpiryMap used_refresh_;     // refresh jti -> expiry
  std::map<std::string, SubjectEntry, std::less<>> subjects_;
  std::map<std::string, ExpiryMap, std::less<>> sessions_;  // subject -> session id -> expiry
};

}  // namespace jwtkit
