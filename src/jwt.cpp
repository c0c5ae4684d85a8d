#include <jwtkit/jwt.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace jwtkit {

namespace {

using json = nlohmann::json;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view strip_application(std::string_view t) {
  constexpr std::string_view kPrefix = "application/";
  if (t.size() > kPrefix.size() && iequals(t.substr(0, kPrefix.size()), kPrefix)) {
    return t.substr(kPrefix.size());
  }
  return t;
}

// A NumericDate member, if present. Errors: malformed when it is not a finite number.
Result<std::optional<double>> numeric_date(const json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::optional<double>();
  if (!it->is_number() || !std::isfinite(it->get<double>())) {
    return Error(Errc::malformed, std::string("claim \"") + name + "\" must be a number");
  }
  return std::optional<double>(it->get<double>());
}

Result<void> string_claim(const json& claims, const char* name) {
  auto it = claims.find(name);
  if (it != claims.end() && !it->is_string()) {
    return Error(Errc::malformed, std::string("claim \"") + name + "\" must be a string");
  }
  return ok();
}

}  // namespace

bool type_matches(std::string_view actual, std::string_view expected) noexcept {
  return iequals(strip_application(actual), strip_application(expected));
}

Result<void> validate_claims(const nlohmann::json& claims, const ClaimsPolicy& policy,
                             TimePoint now) noexcept {
  try {
    if (policy.leeway.count() < 0 || policy.leeway > kMaxLeeway) {
      return Error(Errc::invalid_argument, "leeway must be between 0 and 600 seconds");
    }
    if (!claims.is_object()) return Error(Errc::malformed, "JWT claims must be a JSON object");
    for (const char* name : {"iss", "sub", "jti"}) {
      if (auto r = string_claim(claims, name); !r) return r;
    }
    auto exp = numeric_date(claims, "exp");
    if (!exp) return exp.error();
    auto nbf = numeric_date(claims, "nbf");
    if (!nbf) return nbf.error();
    auto iat = numeric_date(claims, "iat");
    if (!iat) return iat.error();

    const auto aud = claims.find("aud");
    if (aud != claims.end()) {
      bool good = aud->is_string() ||
                  (aud->is_array() && std::all_of(aud->begin(), aud->end(), [](const json& a) { return a.is_string(); }));
      if (!good) return Error(Errc::malformed, "claim \"aud\" must be a string or an array of strings");
    }

    for (const auto& name : policy.required_claims) {
      if (!claims.contains(name)) return Error(Errc::missing_claim, "required claim \"" + name + "\" is missing");
    }

    const double t = static_cast<double>(to_unix(now));
    const double leeway = static_cast<double>(policy.leeway.count());
    if (!*exp && policy.require_exp) return Error(Errc::missing_claim, "claim \"exp\" is missing");
    if (*exp && t >= **exp + leeway) return Error(Errc::expired, "token expired");
    if (*nbf && t + leeway < **nbf) return Error(Errc::not_yet_valid, "token not valid yet (nbf)");
    if (*iat && t + leeway < **iat) return Error(Errc::not_yet_valid, "token issued in the future (iat)");

    if (policy.issuer) {
      auto iss = claims.find("iss");
      if (iss == claims.end()) return Error(Errc::bad_issuer, "token has no issuer");
      if (*iss != *policy.issuer) return Error(Errc::bad_issuer, "unexpected issuer");
    }
    if (!policy.audiences.empty()) {
      if (aud == claims.end()) return Error(Errc::bad_audience, "token has no audience");
      auto wanted = [&](const json& a) {
        return std::find(policy.audiences.begin(), policy.audiences.end(), a.get_ref<const std::string&>()) !=
               policy.audiences.end();
      };
      bool match = aud->is_string() ? wanted(*aud) : std::any_of(aud->begin(), aud->end(), wanted);
      if (!match) return Error(Errc::bad_audience, "token is not meant for this audience");
    }
    return ok();
  } catch (const std::exception& e) {
    return Error(Errc::internal, std::string("unexpected: ") + e.what());
  }
}

Result<Jwt> verify_jwt(const JwsVerifier& verifier, std::string_view token, const ClaimsPolicy& policy,
                       TimePoint now) noexcept {
  try {
    auto jws = verifier.verify(token);
    if (!jws) return jws.error();
    if (policy.type) {
      auto typ = jws->header().find("typ");
      if (typ == jws->header().end() || !typ->is_string()) {
        return Error(Errc::bad_type, "token has no \"typ\" header; expected \"" + *policy.type + "\"");
      }
      if (!type_matches(typ->get_ref<const std::string&>(), *policy.type)) {
        return Error(Errc::bad_type, "token type \"" + typ->get<std::string>() + "\" is not \"" + *policy.type + "\"");
      }
    }
    const auto& limits = verifier.options().limits;
    auto claims = parse_json_strict(jws->payload(), JsonLimits{limits.max_token_bytes, limits.max_json_depth});
    if (!claims) return Error(Errc::malformed, "payload: " + claims.error().message());
    if (auto r = validate_claims(*claims, policy, now); !r) return r.error();
    return Jwt(jws->header(), std::move(*claims), jws->alg(), jws->kid());
  } catch (const std::exception& e) {
    return Error(Errc::internal, std::string("unexpected: ") + e.what());
  }
}

}  // namespace jwtkit
