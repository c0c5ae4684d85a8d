// JWT claims validation (RFC 7519) on top of a verified JWS.
#pragma once

#include <jwtkit/clock.hpp>
#include <jwtkit/export.hpp>
#include <jwtkit/json.hpp>
#include <jwtkit/jws.hpp>
#include <jwtkit/result.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jwtkit {

/// The largest leeway jwtkit accepts; larger values are refused as invalid_argument.
inline constexpr std::chrono::seconds kMaxLeeway{600};

/// `exp`, `nbf` and `iat` must lie in [0, kMaxNumericDate] (2^33 - 1 s, in the year 2242);
/// other values are malformed, so no date ever overflows a TimePoint.
inline constexpr std::int64_t kMaxNumericDate = (std::int64_t{1} << 33) - 1;

/// Rules for the claims of a JWT. Times are compared in whole seconds:
/// expired when now >= exp + leeway; not yet valid when now + leeway < nbf or < iat.
struct ClaimsPolicy {
  /// When set, `iss` must be present and equal.
  std::optional<std::string> issuer;
  /// When non-empty, `aud` (a string or an array of strings) must name at least one of these.
  std::vector<std::string> audiences;
  /// When set, the `typ` header must match (case-insensitive, "application/" prefix optional).
  std::optional<std::string> type;
  std::chrono::seconds leeway{30};
  /// `exp` must be present unless this is false.
  bool require_exp = true;
  /// Claims that must be present.
  std::vector<std::string> required_claims;
};

/// The registered claims of a token (RFC 7519 section 4.1, plus `sid`), read while the token
/// was checked. Dates are whole seconds (fractions are dropped).
struct RegisteredClaims {
  std::optional<std::string> issuer;      ///< iss
  std::optional<std::string> subject;     ///< sub
  std::optional<std::string> jwt_id;      ///< jti
  std::optional<std::string> session_id;  ///< sid (OpenID Connect session id)
  std::vector<std::string> audience;      ///< aud; a single string gives one element
  std::optional<TimePoint> expires_at;    ///< exp
  std::optional<TimePoint> not_before;    ///< nbf
  std::optional<TimePoint> issued_at;     ///< iat
};

/// A verified JWT: signature and claims checked. Only verify_jwt creates one. Thread-safe to
/// read; the JSON trees are built on first use, so a caller that needs only the registered
/// claims pays for no DOM.
class JWTKIT_EXPORT Jwt {
 public:
  const nlohmann::json& header() const { return header_.get(); }
  /// The claims set (always a JSON object).
  const nlohmann::json& claims() const { return claims_.get(); }
  /// The payload's JSON text, as signed.
  const std::string& claims_json() const noexcept { return claims_.text(); }
  const RegisteredClaims& registered() const noexcept { return registered_; }
  Alg alg() const noexcept { return alg_; }
  const std::string& kid() const noexcept { return kid_; }
  /// The `typ` header, empty when the header has none.
  const std::string& type() const noexcept { return typ_; }

 private:
  friend JWTKIT_EXPORT Result<Jwt> verify_jwt(const JwsVerifier&, std::string_view,
                                              const ClaimsPolicy&, TimePoint) noexcept;
  Jwt(detail::LazyJson header, detail::LazyJson claims, RegisteredClaims registered, Alg alg,
      std::string kid, std::string typ)
      : header_(std::move(header)), claims_(std::move(claims)), registered_(std::move(registered)),
        alg_(alg), kid_(std::move(kid)), typ_(std::move(typ)) {}
  detail::LazyJson header_;
  detail::LazyJson claims_;
  RegisteredClaims registered_;
  Alg alg_;
  std::string kid_;
  std::string typ_;
};

/// Checks a claims set against `policy` at time `now`. Registered claims of the wrong JSON
/// type are malformed (`exp`/`nbf`/`iat` numbers in [0, kMaxNumericDate], `iss`/`sub`/`jti`/`sid` strings,
/// `aud` a string or array of strings). Errors: invalid_argument (leeway out of range),
/// malformed, expired, not_yet_valid, bad_issuer, bad_audience, missing_claim.
JWTKIT_EXPORT Result<void> validate_claims(const nlohmann::json& claims, const ClaimsPolicy& policy,
                                           TimePoint now) noexcept;

/// Checks a `typ` header value against an expected type (see ClaimsPolicy::type).
JWTKIT_EXPORT bool type_matches(std::string_view actual, std::string_view expected) noexcept;

/// Verifies the JWS, checks the payload strictly as a JSON object (duplicates, depth, size),
/// then `typ` and the claims. Errors: those of JwsVerifier::verify, bad_type, and those of
/// validate_claims.
JWTKIT_EXPORT Result<Jwt> verify_jwt(const JwsVerifier& verifier, std::string_view token,
                                     const ClaimsPolicy& policy, TimePoint now) noexcept;

}  // namespace jwtkit
