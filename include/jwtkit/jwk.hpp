// JWK Sets (RFC 7517 section 5): parse and publish.
#pragma once

#include <jwtkit/export.hpp>
#include <jwtkit/json.hpp>
#include <jwtkit/key.hpp>
#include <jwtkit/result.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace jwtkit {

/// A set of keys. Immutable once built; thread-safe to share as const.
class JWTKIT_EXPORT JwkSet {
 public:
  /// A key of the input that was not loaded, and why.
  struct Skipped {
    std::size_t index;
    std::string kid;
    std::string reason;
  };

  JwkSet() = default;
  explicit JwkSet(std::vector<Key> keys) : keys_(std::move(keys)) {}

  /// Parses `{"keys":[...]}`. Keys that cannot be used (unknown `kty`, missing or bad
  /// members, too weak) are skipped, as RFC 7517 section 5 asks, and listed in `skipped()`;
  /// so are all keys sharing a `kid` with another key of the set (ambiguous).
  /// Errors: malformed when the document itself is not a JWK Set.
  static Result<JwkSet> parse(std::string_view json, const JsonLimits& limits = {64 * 1024, 16});
  static Result<JwkSet> parse(const nlohmann::json& doc);
  /// JSON text as a std::string or a literal: without these, both overloads above would match.
  static Result<JwkSet> parse(const std::string& json, const JsonLimits& limits = {64 * 1024, 16}) {
    return parse(std::string_view(json), limits);
  }
  static Result<JwkSet> parse(const char* json, const JsonLimits& limits = {64 * 1024, 16}) {
    return parse(std::string_view(json), limits);
  }

  const std::vector<Key>& keys() const noexcept { return keys_; }
  const std::vector<Skipped>& skipped() const noexcept { return skipped_; }
  bool empty() const noexcept { return keys_.empty(); }

  /// The published form: `{"keys":[...]}` with public members only. HMAC secrets are
  /// never published and are left out.
  nlohmann::json to_public_json() const;

 private:
  std::vector<Key> keys_;
  std::vector<Skipped> skipped_;
};

}  // namespace jwtkit
