#include <jwtkit/json.hpp>
#include <jwtkit/key_store.hpp>
#include <jwtkit/revocation_store.hpp>

#include <nlohmann/json.hpp>

namespace jwtkit {

std::string_view to_string(KeyState state) noexcept {
  switch (state) {
    case KeyState::next: return "next";
    case KeyState::active: return "active";
    case KeyState::retiring: return "retiring";
    case KeyState::retired: return "retired";
  }
  return "unknown";
}

std::optional<KeyState> parse_key_state(std::string_view name) noexcept {
  for (KeyState s : {KeyState::next, KeyState::active, KeyState::retiring, KeyState::retired}) {
    if (to_string(s) == name) return s;
  }
  return std::nullopt;
}

namespace {
// Private JWKs of RSA-16384 keys are the largest records (~15 KB).
constexpr JsonLimits kRecordLimits{256 * 1024, 16};

nlohmann::json time_or_null(const std::optional<TimePoint>& t) {
  return t ? nlohmann::json(to_unix(*t)) : nlohmann::json();
}
}  // namespace

Result<std::string> key_record_to_json(const KeyRecord& r, int indent) {
  if (r.kid().empty()) return Error(Errc::invalid_argument, "a key record needs a kid");
  auto jwk = r.key.private_jwk();
  if (!jwk) return std::move(jwk).error();
  (*jwk)["kid"] = r.kid();
  nlohmann::json doc = {
      {"kid", r.kid()},
      {"alg", std::string(to_string(r.alg))},
      {"state", std::string(to_string(r.state))},
      {"created_at", to_unix(r.created_at)},
      {"sign_until", time_or_null(r.sign_until)},
      {"verify_until", time_or_null(r.verify_until)},
      {"jwk", std::move(*jwk)},
  };
  try {
    return doc.dump(indent);
  } catch (const nlohmann::json::exception& e) {
    return Error(Errc::invalid_argument, std::string("cannot encode the key record (kid not UTF-8?): ") + e.what());
  }
}

Result<KeyRecord> key_record_from_json(std::string_view text) {
  auto doc = parse_json_strict(text, kRecordLimits);
  if (!doc) return doc.error();
  const nlohmann::json& d = *doc;
  if (!d.is_object()) return Error(Errc::malformed, "not a JSON object");
  auto str = [&](const char* name) -> const std::string* {
    auto it = d.find(name);
    return it != d.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
  };
  auto time = [&](const char* name, bool required) -> Result<std::optional<TimePoint>> {
    auto it = d.find(name);
    if (it == d.end() || it->is_null()) {
      if (required) return Error(Errc::malformed, std::string("'") + name + "' is missing");
      return std::optional<TimePoint>();
    }
    if (!it->is_number_integer()) return Error(Errc::malformed, std::string("'") + name + "' must be an integer");
    return std::optional<TimePoint>(from_unix(it->get<std::int64_t>()));
  };
  const std::string* kid = str("kid");
  if (kid == nullptr || kid->empty()) return Error(Errc::malformed, "'kid' must be a non-empty string");
  const std::string* alg_name = str("alg");
  const auto alg = alg_name ? parse_alg(*alg_name) : std::nullopt;
  if (!alg) return Error(Errc::malformed, "'alg' is missing or not an algorithm jwtkit implements");
  const std::string* state_name = str("state");
  const auto state = state_name ? parse_key_state(*state_name) : std::nullopt;
  if (!state) return Error(Errc::malformed, "'state' is missing or unknown");
  auto created = time("created_at", true);
  if (!created) return std::move(created).error();
  auto sign_until = time("sign_until", false);
  if (!sign_until) return std::move(sign_until).error();
  auto verify_until = time("verify_until", false);
  if (!verify_until) return std::move(verify_until).error();
  auto jwk = d.find("jwk");
  if (jwk == d.end() || !jwk->is_object()) return Error(Errc::malformed, "'jwk' must be a JSON object");
  auto key = Key::from_jwk(*jwk);
  if (!key) return Error(Errc::malformed, "invalid private key: " + key.error().message());
  if (!key->can_sign()) return Error(Errc::malformed, "the JWK holds no private key");
  return KeyRecord{key->kid() == *kid ? *key : key->with_kid(*kid), *alg, *state, **created, *sign_until,
                   *verify_until};
}

KeyStore::~KeyStore() = default;
RevocationStore::~RevocationStore() = default;

Result<bool> RevocationStore::is_revoked(const TokenRef& token) {
  if (!token.jti.empty()) {
    auto r = is_token_revoked(token.jti);
    if (!r) return r.error();
    if (*r) return true;
  }
  if (!token.session_id.empty()) {
    auto r = is_session_revoked(token.session_id);
    if (!r) return r.error();
    if (*r) return true;
  }
  if (!token.subject.empty()) {
    auto r = subject_revoked_before(token.subject);
    if (!r) return r.error();
    if (*r && token.issued_at <= **r) return true;
  }
  return false;
}

}  // namespace jwtkit
