// jwtkit error model: one closed, append-only list of codes, one Error type.
#pragma once

#include <jwtkit/export.hpp>

#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace jwtkit {

/// Stable error codes. Values are never renumbered and new ones are only appended.
/// `to_string()` gives the stable name that logs and the CLI print.
enum class Errc : int {
  /// Input is not well formed: bad base64url, bad JSON, wrong JSON type, duplicate member,
  /// too large or too deep, wrong number of JWS segments.
  malformed = 1,
  /// The algorithm is not one jwtkit implements (`none` is never implemented).
  unsupported_alg = 2,
  /// The algorithm is implemented but not on the caller's allow-list.
  alg_not_allowed = 3,
  /// The key cannot be used with this algorithm (wrong type, curve, size, or its JWK `alg`/`use`).
  key_mismatch = 4,
  /// The signature does not verify. Prefer this over `malformed` once the token parsed.
  bad_signature = 5,
  /// No configured key matches the token's `kid` (or no key exists at all).
  key_not_found = 6,
  /// `exp` is at or before now (minus leeway).
  expired = 7,
  /// `nbf` or `iat` is after now (plus leeway).
  not_yet_valid = 8,
  /// `iss` is missing or not the expected issuer.
  bad_issuer = 9,
  /// `aud` is missing or names none of the expected audiences.
  bad_audience = 10,
  /// The token type (`typ` header or token use) is not the one expected.
  bad_type = 11,
  /// A required claim is absent.
  missing_claim = 12,
  /// The token, its subject or its session was revoked.
  revoked = 13,
  /// A refresh token was presented a second time; its whole session was revoked.
  refresh_reused = 14,
  /// A store could not answer or could not write (connection, timeout, server error).
  /// Retrying later may succeed. Verification fails closed with this code.
  store_unavailable = 15,
  /// The caller passed a value outside the contract (empty subject, TTL <= 0, empty allow-list).
  invalid_argument = 16,
  /// A file could not be read or written.
  io_error = 17,
  /// OpenSSL failed for a reason other than a bad signature (key generation, encoding).
  crypto_error = 18,
  /// A store write lost a race it must not silently win (e.g. a key id that already exists).
  store_conflict = 19,
  /// A bug in jwtkit: an invariant did not hold.
  internal = 20,
};

/// The stable name of a code, e.g. "expired". Unknown values give "unknown".
JWTKIT_EXPORT std::string_view to_string(Errc code) noexcept;

/// The `std::error_category` named "jwtkit". Defined out of line so every shared object
/// sees the same category object.
JWTKIT_EXPORT const std::error_category& error_category() noexcept;

/// Lets `std::error_code ec = jwtkit::Errc::revoked;` work.
JWTKIT_EXPORT std::error_code make_error_code(Errc code) noexcept;

/// An error: a stable code, a human-readable message, and an optional cause (an OpenSSL,
/// hiredis or system error). Immutable value type; thread-safe to share as const.
class JWTKIT_EXPORT Error {
 public:
  Error(Errc code, std::string message, std::error_code cause = {})
      : code_(code), message_(std::move(message)), cause_(cause) {}

  Errc code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  std::error_code cause() const noexcept { return cause_; }

  /// "<code>: <message>", the form the CLI prints after "error: ".
  std::string to_string() const;

  operator std::error_code() const noexcept { return make_error_code(code_); }

 private:
  Errc code_;
  std::string message_;
  std::error_code cause_;
};

}  // namespace jwtkit

namespace std {
template <>
struct is_error_code_enum<jwtkit::Errc> : true_type {};
}  // namespace std
