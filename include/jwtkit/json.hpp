// Strict JSON parsing for untrusted input (token headers and payloads, JWKs).
#pragma once

#include <jwtkit/export.hpp>
#include <jwtkit/result.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstddef>
#include <string>
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

namespace detail {

/// JSON text that was already validated, whose DOM is built on first use: the verify path
/// checks claims without a DOM and builds one only if the caller reads it. Thread-safe
/// (concurrent first uses race benignly to install one DOM).
class JWTKIT_EXPORT LazyJson {
 public:
  LazyJson() = default;
  explicit LazyJson(std::string text) noexcept : text_(std::move(text)) {}
  LazyJson(const LazyJson& other) : text_(other.text_) {}
  LazyJson(LazyJson&& other) noexcept : text_(std::move(other.text_)), dom_(other.dom_.exchange(nullptr)) {}
  LazyJson& operator=(const LazyJson& other);
  LazyJson& operator=(LazyJson&& other) noexcept;
  ~LazyJson();

  const std::string& text() const noexcept { return text_; }
  /// The DOM (a discarded value if the text were not JSON, which validation rules out).
  const nlohmann::json& get() const;

 private:
  std::string text_;
  mutable std::atomic<nlohmann::json*> dom_{nullptr};
};

}  // namespace detail

}  // namespace jwtkit
