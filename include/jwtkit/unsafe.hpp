// Reading a token WITHOUT verifying it. Nothing read this way may be trusted.
#pragma once

#include <jwtkit/export.hpp>
#include <jwtkit/jws.hpp>
#include <jwtkit/result.hpp>

#include <nlohmann/json.hpp>

#include <string_view>

namespace jwtkit::unsafe {

/// The header and claims of a token whose signature was NOT checked.
struct DecodedToken {
  nlohmann::json header;  ///< a JSON object
  nlohmann::json claims;  ///< a JSON object
};

/// Splits a compact JWS and parses its header and payload strictly (size and depth limits,
/// no duplicate members, both JSON objects). Checks no signature, time or issuer: for
/// logging and debugging only. Errors: malformed, with what was wrong.
JWTKIT_EXPORT Result<DecodedToken> decode(std::string_view token, const JwsLimits& limits = {});

}  // namespace jwtkit::unsafe
