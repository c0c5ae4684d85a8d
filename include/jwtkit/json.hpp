// Strict JSON parsing for untrusted input (token headers and payloads, JWKs).
#pragma once

#include <jwtkit/export.hpp>
#include <jwtkit/result.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string_view>

namespace jwtkit {

/// Limits on untrusted input, so hostile input costs little.
struct JsonLimits {
  /// Largest accepted input, in bytes.
  std::size_t max_bytes = 8 * 1024;
  /// Deepest accepted nesting of objects and arrays (the top-level object is depth 1).
  std::size_t max_depth = 16;
};

/// Parses `text` as one JSON value. Unlike plain nlohmann::json::parse it rejects duplicate
/// member names, input over `limits.max_bytes` and nesting deeper than `limits.max_depth`.
/// Never throws (other than std::bad_alloc). Errors: Errc::malformed.
JWTKIT_EXPORT Result<nlohmann::json> parse_json_strict(std::string_view text,
                                                       const JsonLimits& limits = {}) noexcept;

}  // namespace jwtkit
