// JWS algorithms (RFC 7518 section 3, RFC 8037) that jwtkit implements.
#pragma once

#include <jwtkit/export.hpp>

#include <array>
#include <optional>
#include <string_view>

namespace jwtkit {

/// A JWS signature algorithm. `none` is deliberately absent: it can never be named.
enum class Alg {
  HS256, HS384, HS512,
  RS256, RS384, RS512,
  PS256, PS384, PS512,
  ES256, ES384, ES512,
  EdDSA,
};

/// Every algorithm, in declaration order.
inline constexpr std::array<Alg, 13> kAllAlgs = {
    Alg::HS256, Alg::HS384, Alg::HS512, Alg::RS256, Alg::RS384, Alg::RS512, Alg::PS256,
    Alg::PS384, Alg::PS512, Alg::ES256, Alg::ES384, Alg::ES512, Alg::EdDSA};

/// The JWS name, e.g. "ES256".
JWTKIT_EXPORT std::string_view to_string(Alg alg) noexcept;

/// Parses a JWS name (case-sensitive, as RFC 7515 requires). "none" and unknown names give nullopt.
JWTKIT_EXPORT std::optional<Alg> parse_alg(std::string_view name) noexcept;

/// The kind of key material (the JWK `kty`, with the curve folded in).
enum class KeyType { oct, rsa, ec_p256, ec_p384, ec_p521, ed25519 };

JWTKIT_EXPORT std::string_view to_string(KeyType type) noexcept;

/// The only key type that can sign or verify `alg` (RSA serves both RS* and PS*).
JWTKIT_EXPORT KeyType key_type_for(Alg alg) noexcept;

}  // namespace jwtkit
