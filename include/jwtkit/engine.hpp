// The token engine: issue, verify, refresh and revoke JWTs; rotate keys; publish the JWKS.
#pragma once

#include <jwtkit/alg.hpp>
#include <jwtkit/clock.hpp>
#include <jwtkit/export.hpp>
#include <jwtkit/jws.hpp>
#include <jwtkit/jwt.hpp>
#include <jwtkit/key_store.hpp>
#include <jwtkit/result.hpp>
#include <jwtkit/revocation_store.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jwtkit {

namespace detail {
struct EngineAccess;
}

/// The `typ` header of access tokens (RFC 9068).
inline constexpr std::string_view kAccessTokenType = "at+jwt";
/// The `typ` header of refresh tokens, so neither kind can pass for the other.
inline constexpr std::string_view kRefreshTokenType = "rt+jwt";

/// How an Engine is set up. Engine::create checks every field.
/// The longest lifetime the engine gives a token: ten years.
inline constexpr std::chrono::seconds kMaxTokenTtl{10LL * 366 * 24 * 3600};

struct EngineOptions {
  /// What to do when the RevocationStore cannot answer during verification.
  enum class StoreFailurePolicy {
    fail_closed,  ///< the token is refused with store_unavailable (the default)
    fail_open,    ///< the token is accepted as if not revoked; choose only knowingly
  };

  /// `iss` of every token, and the `aud` of refresh tokens. Required.
  std::string issuer;
  /// `aud` of access tokens (a string when there is one, else an array), and the audiences
  /// verify_access accepts (any one of them). Required.
  std::vector<std::string> audiences;
  /// Token lifetimes: > 0 and at most kMaxTokenTtl.
  std::chrono::seconds access_ttl{15 * 60};
  std::chrono::seconds refresh_ttl{30 * 24 * 3600};
  /// Clock skew tolerated when checking exp/nbf/iat: 0..kMaxLeeway.
  std::chrono::seconds leeway{30};
  /// Algorithm of the first key and of rotate_key() without an argument.
  Alg signing_alg = Alg::RS256;
  /// Algorithms verification accepts. Empty means {signing_alg}; must contain signing_alg.
  std::vector<Alg> allowed_algs;
  /// RSA modulus size for generated RS*/PS* keys (2048..16384).
  unsigned rsa_bits = 2048;
  /// Claims every access token must carry (beyond those the engine always checks).
  std::vector<std::string> required_claims;
  StoreFailurePolicy store_failure = StoreFailurePolicy::fail_closed;
  /// How long a rotated-in key is only published (JWKS) before it signs, so that verifiers
  /// caching the JWKS learn it first. 0: it signs at once. A pending key is promoted by
  /// reload_keys() (call it periodically), rotate_key() and cleanup() once the delay passed.
  std::chrono::seconds key_publish_delay{0};
  /// Time source; null means SystemClock.
  std::shared_ptr<const Clock> clock;
  JwsLimits limits;
};

/// Per-token choices when issuing.
struct IssueOptions {
  /// Extra claims (a JSON object). Registered claims (iss, sub, aud, exp, nbf, iat, jti, sid)
  /// cannot be set here: invalid_argument.
  nlohmann::json claims = nlohmann::json::object();
  /// Lifetime instead of the engine's default: > 0 and at most max(access_ttl, refresh_ttl).
  std::optional<std::chrono::seconds> ttl;
};

/// An access token and a refresh token of one session.
struct TokenPair {
  std::string access_token;
  std::string refresh_token;
  TimePoint access_expires_at{};
  TimePoint refresh_expires_at{};
  /// The `sid` both tokens carry.
  std::string session_id;
};

/// A token whose signature, claims, type and revocation status were checked. Only the Engine
/// creates one. Immutable value; thread-safe to share as const.
class JWTKIT_EXPORT VerifiedToken {
 public:
  const std::string& subject() const noexcept { return subject_; }
  const std::string& jti() const noexcept { return jti_; }
  /// The `sid` claim; empty when the token has none.
  const std::string& session_id() const noexcept { return session_id_; }
  TimePoint issued_at() const noexcept { return issued_at_; }
  TimePoint expires_at() const noexcept { return expires_at_; }
  /// Every claim (a JSON object), built on first use.
  const nlohmann::json& claims() const { return jwt_->claims(); }
  /// One claim, or nullptr when absent.
  const nlohmann::json* claim(std::string_view name) const;
  /// The protected header (a JSON object), built on first use.
  const nlohmann::json& header() const { return jwt_->header(); }
  /// The kid of the key that verified the token.
  const std::string& kid() const noexcept { return kid_; }
  Alg alg() const noexcept { return alg_; }
  bool is_refresh() const noexcept { return is_refresh_; }

 private:
  friend struct detail::EngineAccess;
  VerifiedToken() = default;
  std::optional<Jwt> jwt_;  // always set by the Engine
  std::string subject_;
  std::string jti_;
  std::string session_id_;
  std::string kid_;
  TimePoint issued_at_{};
  TimePoint expires_at_{};
  Alg alg_ = Alg::RS256;
  bool is_refresh_ = false;
};

/// Issues, verifies, refreshes and revokes tokens over a KeyStore and a RevocationStore.
/// Thread-safe: every member may be called from many threads at once; verification reads
/// the key set without taking a lock. Movable; a moved-from Engine may only be destroyed or
/// assigned to. No exception leaves it: failures come back as Error.
class JWTKIT_EXPORT Engine {
 public:
  /// Checks `options`, then initializes: loads the keys from `keys`, or generates the first
  /// key and saves it. Errors: invalid_argument (options, null store), the stores' errors,
  /// crypto_error.
  static Result<Engine> create(std::shared_ptr<KeyStore> keys,
                               std::shared_ptr<RevocationStore> revocations,
                               EngineOptions options);

  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;
  ~Engine();

  /// An access token (typ at+jwt) for `subject`. Errors: invalid_argument.
  Result<std::string> issue_access(std::string_view subject, const IssueOptions& options = {});
  /// A refresh token (typ rt+jwt, aud = issuer) opening a new session, which is recorded in
  /// the RevocationStore. Errors: invalid_argument, the store's errors.
  Result<std::string> issue_refresh(std::string_view subject, const IssueOptions& options = {});
  /// An access and a refresh token of one new session (both carry its `sid`).
  Result<TokenPair> issue_pair(std::string_view subject, const IssueOptions& access = {},
                               const IssueOptions& refresh = {});

  /// Checks an access token: signature (by kid, over the keys that can verify), allow-list,
  /// typ at+jwt, iss, aud, exp/nbf/iat with leeway, required claims, then revocation of the
  /// token, its session and its subject. Errors: those of verify_jwt, key_not_found (key
  /// retired), revoked, store_unavailable (fail closed), internal.
  Result<VerifiedToken> verify_access(std::string_view token) const noexcept;
  /// The same for a refresh token (typ rt+jwt, aud = issuer, a `sid`).
  Result<VerifiedToken> verify_refresh(std::string_view token) const noexcept;

  /// Exchanges a refresh token for a new pair in the same session. The old token is marked
  /// used first; presenting it again revokes the whole session and gives refresh_reused.
  /// Custom claims of the refresh token carry over to the new one; `access` supplies the new
  /// access token's. A store failure issues nothing.
  Result<TokenPair> refresh(std::string_view refresh_token, const IssueOptions& access = {});

  /// Revokes a token of this issuer (signature checked first; expired tokens are accepted)
  /// until its own expiry. Revoking a refresh token also revokes its session.
  Result<void> revoke(std::string_view token);
  /// Revokes a token id until `expires_at`. Errors: invalid_argument, the store's errors.
  Result<void> revoke_jti(std::string_view jti, TimePoint expires_at);
  /// Revokes every token of `subject` issued up to now, and drops its sessions.
  Result<void> revoke_subject(std::string_view subject);
  Result<bool> is_revoked(std::string_view jti) const;
  Result<bool> is_subject_revoked(std::string_view subject) const;

  /// Time left before the token expires, 0 once expired. The signature and issuer are
  /// checked; revocation is not.
  Result<std::chrono::seconds> remaining_lifetime(std::string_view token) const;
  /// Sessions of `subject` that have not expired.
  Result<std::size_t> session_count(std::string_view subject) const;

  /// Removes expired revocation entries and keys past their verify_until; promotes a
  /// pending key whose publish delay has passed. Returns how many entries and keys went.
  Result<std::size_t> cleanup();

  /// Generates a new key (of `alg`, default signing_alg; it must be allowed), publishes it
  /// and, after key_publish_delay, makes it the signing key; the old one keeps verifying
  /// until every token it signed has expired. Returns the new kid.
  Result<std::string> rotate_key(std::optional<Alg> alg = std::nullopt);
  /// Reloads the keys from the KeyStore (to see other instances' rotations) and promotes a
  /// pending key whose delay has passed.
  Result<void> reload_keys();

  /// The public keys of every key that can still verify, plus pending keys:
  /// `{"keys":[...]}` (HMAC secrets are never published).
  nlohmann::json jwks() const;
  std::string jwks_json() const;

  /// The kid of the signing key.
  std::string active_kid() const;
  const EngineOptions& options() const noexcept;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jwtkit
