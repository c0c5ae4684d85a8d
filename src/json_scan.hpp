// Private: a strict, allocation-light JSON scanner for token headers and payloads.
//
// The verify path must check a ~300-byte payload in well under a microsecond; nlohmann's
// lexer alone takes longer than that, and building a DOM several times longer. This scanner
// validates the whole text exactly as strictly as parse_json_strict (RFC 8259 grammar, UTF-8,
// no duplicate member names at any depth, depth and size limits) and keeps only the top-level
// members, so the registered claims can be checked without a DOM. The DOM is built later, and
// only if the caller asks for it.
#pragma once

#include <jwtkit/json.hpp>
#include <jwtkit/result.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace jwtkit::detail {

/// A top-level member value, as far as the token checks need it.
struct ScannedValue {
  enum class Kind { string, number, boolean, null, object, array };
  Kind kind = Kind::null;
  std::string_view text;              ///< string: the decoded value
  double number = 0;                  ///< number
  bool boolean = false;               ///< boolean
  bool all_strings = false;           ///< array: every element is a string
  std::vector<std::string_view> strings;  ///< array: the decoded elements when all_strings
};

/// The top-level object of a JSON text. Views point into the scanned text or into `arena`,
/// so the object must outlive neither; it is not copyable for that reason.
class ScannedObject {
 public:
  ScannedObject() = default;
  ScannedObject(const ScannedObject&) = delete;
  ScannedObject& operator=(const ScannedObject&) = delete;

  const ScannedValue* find(std::string_view name) const noexcept {
    for (const auto& m : members) {
      if (m.first == name) return &m.second;
    }
    return nullptr;
  }
  bool contains(std::string_view name) const noexcept { return find(name) != nullptr; }

  std::vector<std::pair<std::string_view, ScannedValue>> members;
  /// Decoded strings that contained escapes (reserved once: views never move).
  std::string arena;
};

/// Scans `text`, which must be one JSON object. Errors: Errc::malformed, with the same
/// reasons parse_json_strict gives (duplicate member, nesting, size, invalid JSON).
Result<void> scan_object(std::string_view text, const JsonLimits& limits, ScannedObject& out) noexcept;

}  // namespace jwtkit::detail
