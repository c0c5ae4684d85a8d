// Private: base64url decoding into a caller's buffer (no allocation on the verify path).
#pragma once

#include <jwtkit/result.hpp>

#include <cstddef>
#include <string_view>

namespace jwtkit::detail {

/// Bytes `text` decodes to, if its length is possible at all.
constexpr std::size_t base64url_decoded_size(std::string_view text) noexcept {
  return text.size() / 4 * 3 + (text.size() % 4 == 0 ? 0 : text.size() % 4 - 1);
}

/// Decodes `text` (same strict rules as base64url::decode) into `out`, which must hold
/// base64url_decoded_size(text) bytes. Errors: Errc::malformed.
Result<void> base64url_decode_to(std::string_view text, unsigned char* out);

}  // namespace jwtkit::detail
