#include <jwtkit/unsafe.hpp>

#include <jwtkit/base64url.hpp>
#include <jwtkit/json.hpp>

#include <exception>
#include <string>

namespace jwtkit::unsafe {

namespace {

Result<nlohmann::json> decode_part(std::string_view part, const char* what,
                                   const JwsLimits& limits) {
  auto bytes = base64url::decode(part);
  if (!bytes) return Error(Errc::malformed, std::string(what) + ": " + bytes.error().message());
  auto doc = parse_json_strict(*bytes, JsonLimits{limits.max_token_bytes, limits.max_json_depth});
  if (!doc) return Error(Errc::malformed, std::string(what) + ": " + doc.error().message());
  if (!doc->is_object()) return Error(Errc::malformed, std::string(what) + " is not a JSON object");
  return doc;
}

}  // namespace

Result<DecodedToken> decode(std::string_view token, const JwsLimits& limits) {
  try {
    if (token.size() > limits.max_token_bytes) {
      return Error(Errc::malformed, "token is larger than " +
                                        std::to_string(limits.max_token_bytes) + " bytes");
    }
    const auto first = token.find('.');
    const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
      return Error(Errc::malformed, "a compact JWS has exactly three dot-separated parts");
    }
    auto header = decode_part(token.substr(0, first), "header", limits);
    if (!header) return std::move(header).error();
    auto claims = decode_part(token.substr(first + 1, second - first - 1), "payload", limits);
    if (!claims) return std::move(claims).error();
    return DecodedToken{std::move(*header), std::move(*claims)};
  } catch (const std::exception& e) {
    return Error(Errc::internal, std::string("unsafe::decode: ") + e.what());
  }
}

}  // namespace jwtkit::unsafe
