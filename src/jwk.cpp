#include <jwtkit/jwk.hpp>

#include "text.hpp"

#include <map>
#include <string>

namespace jwtkit {

Result<JwkSet> JwkSet::parse(std::string_view json, const JsonLimits& limits) {
  auto doc = parse_json_strict(json, limits);
  if (!doc) return doc.error();
  return parse(*doc);
}

Result<JwkSet> JwkSet::parse(const nlohmann::json& doc) {
  if (!doc.is_object()) return Error(Errc::malformed, "a JWK Set must be a JSON object");
  auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array()) {
    return Error(Errc::malformed, "a JWK Set needs a \"keys\" array");
  }
  // A kid that names several keys is ambiguous (RFC 7517 4.5 asks for distinct kids): none of
  // those keys is used, rather than whichever happens to come first.
  std::map<std::string, std::size_t> kid_count;
  for (const auto& entry : *keys) {
    if (!entry.is_object()) continue;
    if (auto it = entry.find("kid"); it != entry.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
      ++kid_count[it->get<std::string>()];
    }
  }
  JwkSet set;
  for (std::size_t i = 0; i < keys->size(); ++i) {
    const auto& entry = (*keys)[i];
    if (entry.is_object()) {
      auto it = entry.find("kid");
      if (it != entry.end() && it->is_string() && kid_count[it->get<std::string>()] > 1) {
        set.skipped_.push_back(Skipped{i, it->get<std::string>(), "kid " + detail::quoted(it->get<std::string>()) +
                                                                    " names more than one key in the set"});
        continue;
      }
    }
    auto key = Key::from_jwk(entry);
    if (key) {
      set.keys_.push_back(std::move(*key));
      continue;
    }
    std::string kid;
    if (entry.is_object()) {
      if (auto it = entry.find("kid"); it != entry.end() && it->is_string()) kid = it->get<std::string>();
    }
    set.skipped_.push_back(Skipped{i, std::move(kid), key.error().to_string()});
  }
  return set;
}

nlohmann::json JwkSet::to_public_json() const {
  nlohmann::json arr = nlohmann::json::array();
  for (const Key& k : keys_) {
    auto pub = k.public_jwk();  // fails only for HMAC secrets, which are never published
    if (pub) arr.push_back(std::move(*pub));
  }
  return nlohmann::json{{"keys", std::move(arr)}};
}

}  // namespace jwtkit
