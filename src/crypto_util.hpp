// Private helpers of the engine and the file store that need OpenSSL: random ids, SHA-256.
#pragma once

#include <jwtkit/result.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace jwtkit::detail {

/// `n` bytes from the OpenSSL CSPRNG. Errors: crypto_error.
Result<std::string> secure_random_bytes(std::size_t n);

/// A fresh unguessable id: `bytes` random bytes (at least 16), base64url. Errors: crypto_error.
Result<std::string> random_id(std::size_t bytes = 16);

/// Lower-case hex of the SHA-256 of `data`. Errors: crypto_error.
Result<std::string> sha256_hex(std::string_view data);

}  // namespace jwtkit::detail
