// Keys: generation, PEM and JWK import/export, RFC 7638 thumbprints.
#pragma once

#include <jwtkit/alg.hpp>
#include <jwtkit/export.hpp>
#include <jwtkit/result.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace jwtkit {

namespace detail {
struct KeyImpl;
}

/// PEM encodings. `pkcs1` is RSA only ("RSA PRIVATE KEY" / "RSA PUBLIC KEY"), `sec1` is EC
/// private keys only ("EC PRIVATE KEY").
enum class PemFormat { pkcs8, spki, pkcs1, sec1 };

/// A signing or verification key, parsed and checked once into a reusable OpenSSL object
/// (or an HMAC secret). Immutable; copies share the parsed key. Thread-safe.
///
/// Loading checks the key: RSA moduli of 2048 to 16384 bits with an odd public exponent
/// >= 3 and without the ROCA fingerprint (CVE-2017-15361); EC points on their curve; private
/// parts matching public parts; JWK members that agree with each other and with `kty`. A key
/// that fails is refused with a message that says what is wrong (Errc::malformed, or
/// Errc::key_mismatch for contradictions).
class JWTKIT_EXPORT Key {
 public:
  /// A new random key for `alg`: RSA of `rsa_bits` (2048..16384) for RS*/PS*, the curve of
  /// ES256/384/512, Ed25519 for EdDSA, a secret of the hash size for HS*. The kid is the
  /// RFC 7638 thumbprint (empty for HMAC secrets). Errors: invalid_argument, crypto_error.
  static Result<Key> generate(Alg alg, unsigned rsa_bits = 2048);

  /// Loads a PEM key: PKCS#8 ("PRIVATE KEY"), SPKI ("PUBLIC KEY"), PKCS#1 ("RSA PRIVATE KEY",
  /// "RSA PUBLIC KEY") or SEC1 ("EC PRIVATE KEY"). Encrypted keys are refused.
  static Result<Key> from_pem(std::string_view pem);

  /// Loads a JWK (RFC 7517/7518/8037): kty RSA, EC (P-256, P-384, P-521), OKP (Ed25519), oct.
  static Result<Key> from_jwk(const nlohmann::json& jwk);
  /// Same, from JSON text (parsed strictly: duplicate members are refused).
  static Result<Key> from_jwk(std::string_view jwk_json);
  /// JSON text as a std::string or a literal: without these, both overloads above would match.
  static Result<Key> from_jwk(const std::string& jwk_json) { return from_jwk(std::string_view(jwk_json)); }
  static Result<Key> from_jwk(const char* jwk_json) { return from_jwk(std::string_view(jwk_json)); }

  /// An HMAC key from raw secret bytes (at least 32 bytes; HS384/HS512 need 48/64).
  static Result<Key> from_secret(std::string_view secret);

  KeyType type() const noexcept;
  /// True when the key can sign: a private key, or an HMAC secret.
  bool can_sign() const noexcept;
  bool is_symmetric() const noexcept { return type() == KeyType::oct; }
  /// RSA modulus bits, curve bits, 256 for Ed25519, secret bits for HMAC.
  std::size_t bits() const noexcept;

  /// Key id: from the JWK, else the RFC 7638 thumbprint for asymmetric keys, else empty.
  const std::string& kid() const noexcept;
  /// The JWK `alg` the key is restricted to, if any.
  std::optional<Alg> alg() const noexcept;
  /// The JWK `use` ("sig", "enc", ...), if any.
  const std::optional<std::string>& use() const noexcept;

  /// A copy with another kid.
  Key with_kid(std::string kid) const;
  /// A copy restricted to `alg`. Errors: key_mismatch when the key cannot serve `alg`.
  Result<Key> with_alg(Alg alg) const;

  /// Whether this key may sign or verify with `alg`: the key type matches the algorithm
  /// (RSA for RS*/PS*, the right curve for ES*, Ed25519 for EdDSA, oct for HS*), an HMAC
  /// secret is at least the hash size, the JWK `alg` (if any) equals `alg`, and `use` (if
  /// any) is "sig". Errors: key_mismatch with the reason.
  Result<void> check_alg(Alg alg) const;

  /// The public half (with the same kid/alg/use). Errors: key_mismatch for HMAC secrets.
  Result<Key> public_key() const;

  /// PEM of the private key (pkcs8 default; pkcs1 for RSA, sec1 for EC).
  /// Errors: key_mismatch if this key has no private part or the format does not fit.
  Result<std::string> private_pem(PemFormat format = PemFormat::pkcs8) const;
  /// PEM of the public key (spki default; pkcs1 for RSA). Errors: key_mismatch for HMAC.
  Result<std::string> public_pem(PemFormat format = PemFormat::spki) const;

  /// The public JWK: public members only, plus kid, alg and use when set. Errors:
  /// key_mismatch for HMAC secrets (a secret has no public form).
  Result<nlohmann::json> public_jwk() const;
  /// The full JWK including private members (or `k` for HMAC). Handle with care.
  /// Errors: key_mismatch if this key has no private part.
  Result<nlohmann::json> private_jwk() const;

  /// RFC 7638 SHA-256 thumbprint of the key's required public members, base64url.
  std::string thumbprint() const;

  /// Internal: the parsed key material.
  const detail::KeyImpl& impl() const noexcept { return *impl_; }

 private:
  explicit Key(std::shared_ptr<const detail::KeyImpl> impl) noexcept : impl_(std::move(impl)) {}
  friend struct detail::KeyImpl;
  std::shared_ptr<const detail::KeyImpl> impl_;
};

}  // namespace jwtkit
