// RevocationStore: revoked token ids, per-subject revocation, refresh sessions.
#pragma once

#include <jwtkit/clock.hpp>
#include <jwtkit/export.hpp>
#include <jwtkit/result.hpp>

#include <cstddef>
#include <optional>
#include <string_view>

namespace jwtkit {

/// What the engine asks about a token in one call (one round trip for remote stores).
struct TokenRef {
  std::string_view jti;
  std::string_view subject;
  std::string_view session_id;  ///< empty when the token has none
  TimePoint issued_at{};
};

/// Shared revocation state. Every call reports failure through its Result (a store that
/// cannot answer returns store_unavailable, never a guess); a write returns success only
/// once it is stored. Implementations must be thread-safe.
class JWTKIT_EXPORT RevocationStore {
 public:
  virtual ~RevocationStore();

  /// Revokes a token id until `expires_at` (the token's own exp); the entry may vanish after.
  virtual Result<void> revoke_token(std::string_view jti, TimePoint expires_at) = 0;
  virtual Result<bool> is_token_revoked(std::string_view jti) = 0;

  /// Revokes every token of `subject` issued at or before `not_before`, and drops the
  /// subject's sessions. The entry is kept until `keep_until` (the latest exp such a token
  /// can have). A later call with an earlier `not_before` does not move it back.
  virtual Result<void> revoke_subject(std::string_view subject, TimePoint not_before,
                                      TimePoint keep_until) = 0;
  /// The subject's revocation time, if any.
  virtual Result<std::optional<TimePoint>> subject_revoked_before(std::string_view subject) = 0;

  /// Records (or extends) a refresh session of `subject` that lives until `expires_at`.
  virtual Result<void> add_session(std::string_view subject, std::string_view session_id,
                                   TimePoint expires_at) = 0;
  /// Removes a session without revoking it (logout of one device).
  virtual Result<void> remove_session(std::string_view subject, std::string_view session_id) = 0;
  /// Revokes a whole session (every token carrying its id) until `expires_at`, and removes it.
  virtual Result<void> revoke_session(std::string_view subject, std::string_view session_id,
                                      TimePoint expires_at) = 0;
  virtual Result<bool> is_session_revoked(std::string_view session_id) = 0;
  /// Sessions of `subject` that have not expired.
  virtual Result<std::size_t> count_sessions(std::string_view subject) = 0;

  /// Marks a refresh token id used, atomically: returns true for the one call that marked
  /// it, false for every later call (reuse). The mark lives until `expires_at`.
  virtual Result<bool> mark_refresh_used(std::string_view jti, TimePoint expires_at) = 0;

  /// Removes expired entries; returns how many were removed.
  virtual Result<std::size_t> cleanup() = 0;

  /// True when the token is revoked by its jti, its session, or its subject's revocation
  /// time. The default asks the three questions in turn; stores override it to answer in
  /// one round trip.
  virtual Result<bool> is_revoked(const TokenRef& token);
};

}  // namespace jwtkit
