#include "crypto_util.hpp"
#include "ossl.hpp"

#include <jwtkit/base64url.hpp>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>

namespace jwtkit::detail {

Result<std::string> secure_random_bytes(std::size_t n) {
  if (n > static_cast<std::size_t>(INT_MAX)) {
    return Error(Errc::invalid_argument, "too many random bytes requested");
  }
  std::string out(n, '\0');
  if (n > 0 &&
      RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return openssl_error(Errc::crypto_error, "RAND_bytes failed");
  }
  return out;
}

Result<std::string> random_id(std::size_t bytes) {
  auto raw = secure_random_bytes(std::max<std::size_t>(bytes, 16));
  if (!raw) return std::move(raw).error();
  return base64url::encode(*raw);
}

Result<std::string> sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) {
    return openssl_error(Errc::crypto_error, "SHA-256 failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0x0f]);
  }
  return out;
}

}  // namespace jwtkit::detail
