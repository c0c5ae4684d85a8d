// JWS compact serialization (RFC 7515): sign and verify.
#pragma once

#include <jwtkit/alg.hpp>
#include <jwtkit/export.hpp>
#include <jwtkit/json.hpp>
#include <jwtkit/jwk.hpp>
#include <jwtkit/key.hpp>
#include <jwtkit/result.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace jwtkit {

class Jwt;
class JwsVerifier;
struct ClaimsPolicy;

/// Signs `signing_input` with `key` and `alg`: the raw JWS signature bytes (ECDSA as r||s).
/// Errors: key_mismatch (key cannot sign or cannot serve alg), crypto_error.
JWTKIT_EXPORT Result<std::string> create_signature(const Key& key, Alg alg,
                                                   std::string_view signing_input);

/// Verifies raw JWS signature bytes over `signing_input`. ECDSA signatures must be r||s of
/// exactly twice the curve size with 0 < r, s < n; RSA signatures exactly the modulus size.
/// Errors: key_mismatch, bad_signature.
JWTKIT_EXPORT Result<void> verify_signature(const Key& key, Alg alg, std::string_view signing_input,
                                            std::string_view signature) noexcept;

/// Produces `BASE64URL(header).BASE64URL(payload).BASE64URL(signature)`. The header is
/// `extra_header` plus `alg`, and `kid` when the key has one and `extra_header` names none.
/// Errors: invalid_argument (extra_header is not an object, or sets a different alg),
/// key_mismatch, crypto_error.
JWTKIT_EXPORT Result<std::string> sign_compact(const Key& key, Alg alg, std::string_view payload,
                                               const nlohmann::json& extra_header = nlohmann::json::object());

/// Limits on a token before any cryptography runs.
struct JwsLimits {
  std::size_t max_token_bytes = 8 * 1024;
  std::size_t max_json_depth = 16;
};

/// What a verifier accepts.
struct JwsVerifierOptions {
  /// Required and non-empty: tokens whose `alg` is not listed are refused (alg_not_allowed).
  std::vector<Alg> allowed_algs;
  JwsLimits limits;
  /// Header parameter names this application handles itself; a `crit` naming anything else
  /// is refused (RFC 7515 section 4.1.11).
  std::vector<std::string> understood_crit;
};

/// A JWS whose signature verified. Only JwsVerifier creates one. Thread-safe to read.
class JWTKIT_EXPORT VerifiedJws {
 public:
  /// The protected header as a JSON object (built on first use).
  const nlohmann::json& header() const { return header_.get(); }
  /// The protected header's JSON text, as signed.
  const std::string& header_json() const noexcept { return header_.text(); }
  /// The payload bytes, as signed.
  const std::string& payload() const noexcept { return payload_; }
  Alg alg() const noexcept { return alg_; }
  /// kid of the key that verified the signature (may be empty).
  const std::string& kid() const noexcept { return kid_; }
  /// The `typ` header, empty when the header has none.
  const std::string& type() const noexcept { return typ_; }

 private:
  friend class JwsVerifier;
  // verify_jwt moves the texts on into the Jwt it returns.
  friend JWTKIT_EXPORT Result<Jwt> verify_jwt(const JwsVerifier&, std::string_view, const ClaimsPolicy&,
                                              std::chrono::system_clock::time_point) noexcept;
  VerifiedJws(std::string header_json, std::string payload, Alg alg, std::string kid, std::string typ)
      : header_(std::move(header_json)), payload_(std::move(payload)), alg_(alg), kid_(std::move(kid)),
        typ_(std::move(typ)) {}
  detail::LazyJson header_;
  std::string payload_;
  Alg alg_;
  std::string kid_;
  std::string typ_;
};

/// Verifies compact JWS against a fixed set of keys and an algorithm allow-list.
/// Keys come only from here: `jwk`, `jku`, `x5u`, `x5c` in a token header are never used, and
/// a `kid` is only compared with the keys' ids. Immutable after creation; thread-safe.
class JWTKIT_EXPORT JwsVerifier {
 public:
  /// Errors: invalid_argument when the allow-list is empty.
  static Result<JwsVerifier> create(std::vector<Key> keys, JwsVerifierOptions options);
  static Result<JwsVerifier> create(const JwkSet& keys, JwsVerifierOptions options);

  /// Checks size, structure, header (a JSON object with a string `alg`, no duplicate
  /// members, no unknown `crit`), the allow-list, then the signature with the key named by
  /// `kid` (or, without `kid`, each key that can serve the algorithm). Never throws.
  /// Errors: malformed, unsupported_alg, alg_not_allowed, key_not_found, key_mismatch,
  /// bad_signature.
  Result<VerifiedJws> verify(std::string_view token) const noexcept;

  const JwsVerifierOptions& options() const noexcept;
  const std::vector<Key>& keys() const noexcept;

 private:
  struct State;
  explicit JwsVerifier(std::shared_ptr<const State> s) noexcept : s_(std::move(s)) {}
  std::shared_ptr<const State> s_;
};

}  // namespace jwtkit
