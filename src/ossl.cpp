#include "ossl.hpp"

#include <openssl/err.h>

#include <vector>

namespace jwtkit::detail {

std::string drain_openssl_errors() {
  std::string out;
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

Error openssl_error(Errc code, std::string what) {
  std::string detail = drain_openssl_errors();
  if (!detail.empty()) what += " (OpenSSL: " + detail + ")";
  return Error(code, std::move(what));
}

void clear_openssl_errors() noexcept { ERR_clear_error(); }

namespace {
struct Digests {
  EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD* sha384 = EVP_MD_fetch(nullptr, "SHA384", nullptr);
  EVP_MD* sha512 = EVP_MD_fetch(nullptr, "SHA512", nullptr);
  ~Digests() {
    EVP_MD_free(sha256);
    EVP_MD_free(sha384);
    EVP_MD_free(sha512);
  }
};
const Digests& digests() {
  static const Digests d;
  return d;
}
}  // namespace

const EVP_MD* digest_for(Alg alg) noexcept {
  switch (alg) {
    case Alg::HS256: case Alg::RS256: case Alg::PS256: case Alg::ES256: return digests().sha256;
    case Alg::HS384: case Alg::RS384: case Alg::PS384: case Alg::ES384: return digests().sha384;
    case Alg::HS512: case Alg::RS512: case Alg::PS512: case Alg::ES512: return digests().sha512;
    case Alg::EdDSA: return nullptr;
  }
  return nullptr;
}

std::size_t digest_size(Alg alg) noexcept {
  const EVP_MD* md = digest_for(alg);
  return md == nullptr ? 0 : static_cast<std::size_t>(EVP_MD_get_size(md));
}

std::string bn_to_bytes(const BIGNUM* bn, std::size_t width) {
  std::size_t n = static_cast<std::size_t>(BN_num_bytes(bn));
  if (width < n) width = n;
  std::string out(width, '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(width));
  return out;
}

}  // namespace jwtkit::detail
