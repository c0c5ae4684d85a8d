#include <jwtkit/alg.hpp>

namespace jwtkit {

std::string_view to_string(Alg alg) noexcept {
  switch (alg) {
    case Alg::HS256: return "HS256";
    case Alg::HS384: return "HS384";
    case Alg::HS512: return "HS512";
    case Alg::RS256: return "RS256";
    case Alg::RS384: return "RS384";
    case Alg::RS512: return "RS512";
    case Alg::PS256: return "PS256";
    case Alg::PS384: return "PS384";
    case Alg::PS512: return "PS512";
    case Alg::ES256: return "ES256";
    case Alg::ES384: return "ES384";
    case Alg::ES512: return "ES512";
    case Alg::EdDSA: return "EdDSA";
  }
  return "unknown";
}

std::optional<Alg> parse_alg(std::string_view name) noexcept {
  for (Alg a : kAllAlgs) {
    if (to_string(a) == name) return a;
  }
  return std::nullopt;
}

std::string_view to_string(KeyType type) noexcept {
  switch (type) {
    case KeyType::oct: return "oct";
    case KeyType::rsa: return "RSA";
    case KeyType::ec_p256: return "EC P-256";
    case KeyType::ec_p384: return "EC P-384";
    case KeyType::ec_p521: return "EC P-521";
    case KeyType::ed25519: return "OKP Ed25519";
  }
  return "unknown";
}

KeyType key_type_for(Alg alg) noexcept {
  switch (alg) {
    case Alg::HS256: case Alg::HS384: case Alg::HS512: return KeyType::oct;
    case Alg::RS256: case Alg::RS384: case Alg::RS512:
    case Alg::PS256: case Alg::PS384: case Alg::PS512: return KeyType::rsa;
    case Alg::ES256: return KeyType::ec_p256;
    case Alg::ES384: return KeyType::ec_p384;
    case Alg::ES512: return KeyType::ec_p521;
    case Alg::EdDSA: return KeyType::ed25519;
  }
  return KeyType::oct;
}

}  // namespace jwtkit
