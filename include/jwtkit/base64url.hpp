// Strict base64url (RFC 4648 section 5, as JWS uses it: no padding).
#pragma once

#include <jwtkit/export.hpp>
#include <jwtkit/result.hpp>

#include <string>
#include <string_view>

namespace jwtkit::base64url {

/// Encodes without padding.
JWTKIT_EXPORT std::string encode(std::string_view bytes);

/// Decodes strictly: only [A-Za-z0-9_-], no padding, no whitespace, no `+` or `/`,
/// length not 1 mod 4, and unused trailing bits zero (so each value has one encoding).
/// Errors: Errc::malformed.
JWTKIT_EXPORT Result<std::string> decode(std::string_view text);

}  // namespace jwtkit::base64url
