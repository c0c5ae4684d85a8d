#include <jwtkit/jwt.hpp>

#include "json_scan.hpp"
#include "text.hpp"

#include <algorithm>
#include <array>
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

enum class Has { absent, yes, wrong_type };

// `aud`: one string or a list, without copying the list.
struct StringList {
  std::string_view single;
  const std::vector<std::string_view>* many = nullptr;

  template <class F>
  bool any_of(F&& f) const {
    return many != nullptr ? std::any_of(many->begin(), many->end(), f) : f(single);
  }
  std::vector<std::string> to_strings() const {
    if (many == nullptr) return {std::string(single)};
    return std::vector<std::string>(many->begin(), many->end());
  }
};

// The claims as the checks see them, read from the scanner's output (the verify path) or
// from a DOM (validate_claims). One set of rules serves both.
struct ScanSource {
  using Kind = detail::ScannedValue::Kind;

  // One pass over the members picks out the registered ones, so each check below is a
  // pointer test rather than a search.
  explicit ScanSource(const detail::ScannedObject& o) : obj(o) {
    for (const auto& [name, value] : o.members) {
      if (name.size() != 3) continue;
      for (std::size_t i = 0; i < kNames.size(); ++i) {
        if (name == kNames[i]) slots[i] = &value;
      }
    }
  }

  Has str(std::string_view name, std::string_view& out) const {
    const auto* v = slot(name);
    if (v == nullptr) return Has::absent;
    if (v->kind != Kind::string) return Has::wrong_type;
    out = v->text;
    return Has::yes;
  }
  Has num(std::string_view name, double& out) const {
    const auto* v = slot(name);
    if (v == nullptr) return Has::absent;
    if (v->kind != Kind::number || !std::isfinite(v->number)) return Has::wrong_type;
    out = v->number;
    return Has::yes;
  }
  Has strings(std::string_view name, StringList& out) const {
    const auto* v = slot(name);
    if (v == nullptr) return Has::absent;
    if (v->kind == Kind::string) {
      out.single = v->text;
      return Has::yes;
    }
    if (v->kind != Kind::array || !v->all_strings) return Has::wrong_type;
    out.many = &v->strings;
    return Has::yes;
  }
  bool contains(std::string_view name) const { return obj.contains(name); }

 private:
  static constexpr std::array<std::string_view, 8> kNames = {"iss", "sub", "jti", "sid",
                                                             "exp", "nbf", "iat", "aud"};
  const detail::ScannedValue* slot(std::string_view name) const {
    for (std::size_t i = 0; i < kNames.size(); ++i) {
      if (name == kNames[i]) return slots[i];
    }
    return obj.find(name);
  }
  const detail::ScannedObject& obj;
  std::array<const detail::ScannedValue*, 8> slots{};
};

struct DomSource {
  const json& obj;

  Has str(std::string_view name, std::string_view& out) const {
    auto it = obj.find(name);
    if (it == obj.end()) return Has::absent;
    if (!it->is_string()) return Has::wrong_type;
    out = it->get_ref<const std::string&>();
    return Has::yes;
  }
  Has num(std::string_view name, double& out) const {
    auto it = obj.find(name);
    if (it == obj.end()) return Has::absent;
    if (!it->is_number() || !std::isfinite(it->get<double>())) return Has::wrong_type;
    out = it->get<double>();
    return Has::yes;
  }
  Has strings(std::string_view name, StringList& out) const {
    auto it = obj.find(name);
    if (it == obj.end()) return Has::absent;
    if (it->is_string()) {
      out.single = it->get_ref<const std::string&>();
      return Has::yes;
    }
    if (!it->is_array()) return Has::wrong_type;
    list.clear();
    for (const auto& a : *it) {
      if (!a.is_string()) return Has::wrong_type;
      list.push_back(a.get_ref<const std::string&>());
    }
    out.many = &list;
    return Has::yes;
  }
  mutable std::vector<std::string_view> list;
  bool contains(std::string_view name) const { return obj.find(name) != obj.end(); }
};

Error wrong_type(const char* name, const char* what) {
  return Error(Errc::malformed, std::string("claim \"") + name + "\" must be " + what);
}

TimePoint to_time(double seconds) { return from_unix(static_cast<std::int64_t>(std::floor(seconds))); }

// Checks the claims and, when `out` is given, records the registered ones.
template <class Source>
Result<void> check_claims(const Source& src, const ClaimsPolicy& policy, TimePoint now,
                          RegisteredClaims* out) {
  if (policy.leeway.count() < 0 || policy.leeway > kMaxLeeway) {
    return Error(Errc::invalid_argument, "leeway must be between 0 and 600 seconds");
  }
  std::string_view iss, sub, jti, sid;
  const std::pair<const char*, std::string_view*> strings[] = {
      {"iss", &iss}, {"sub", &sub}, {"jti", &jti}, {"sid", &sid}};
  Has has_str[4];
  for (int i = 0; i < 4; ++i) {
    has_str[i] = src.str(strings[i].first, *strings[i].second);
    if (has_str[i] == Has::wrong_type) return wrong_type(strings[i].first, "a string");
  }
  double exp = 0, nbf = 0, iat = 0;
  const Has has_exp = src.num("exp", exp);
  const Has has_nbf = src.num("nbf", nbf);
  const Has has_iat = src.num("iat", iat);
  const double kMaxDate = static_cast<double>(kMaxNumericDate);
  const std::pair<const char*, std::pair<Has, double>> dates[] = {
      {"exp", {has_exp, exp}}, {"nbf", {has_nbf, nbf}}, {"iat", {has_iat, iat}}};
  for (const auto& [name, date] : dates) {
    if (date.first == Has::wrong_type) return wrong_type(name, "a number");
    if (date.first == Has::yes && !(date.second >= 0 && date.second <= kMaxDate)) {
      return Error(Errc::malformed, std::string("claim \"") + name + "\" is out of range (0 to 2^33-1)");
    }
  }
  StringList aud;
  const Has has_aud = src.strings("aud", aud);
  if (has_aud == Has::wrong_type) return wrong_type("aud", "a string or an array of strings");

  for (const auto& name : policy.required_claims) {
    if (!src.contains(name)) return Error(Errc::missing_claim, "required claim \"" + name + "\" is missing");
  }

  // Exact time, so a fractional exp (1000.5) is expired at 1000.7 with no leeway; for the
  // whole-second dates of real tokens this is the same as comparing whole seconds.
  const double t = std::chrono::duration<double>(now.time_since_epoch()).count();
  const double leeway = static_cast<double>(policy.leeway.count());
  if (has_exp == Has::absent && policy.require_exp) return Error(Errc::missing_claim, "claim \"exp\" is missing");
  if (has_exp == Has::yes && t >= exp + leeway) return Error(Errc::expired, "token expired");
  if (has_nbf == Has::yes && t + leeway < nbf) return Error(Errc::not_yet_valid, "token not valid yet (nbf)");
  if (has_iat == Has::yes && t + leeway < iat) return Error(Errc::not_yet_valid, "token issued in the future (iat)");

  if (policy.issuer) {
    if (has_str[0] == Has::absent) return Error(Errc::bad_issuer, "token has no issuer");
    if (iss != *policy.issuer) return Error(Errc::bad_issuer, "unexpected issuer");
  }
  if (!policy.audiences.empty()) {
    if (has_aud == Has::absent) return Error(Errc::bad_audience, "token has no audience");
    bool match = aud.any_of([&](std::string_view a) {
      return std::find(policy.audiences.begin(), policy.audiences.end(), a) != policy.audiences.end();
    });
    if (!match) return Error(Errc::bad_audience, "token is not meant for this audience");
  }

  if (out != nullptr) {
    std::optional<std::string>* fields[] = {&out->issuer, &out->subject, &out->jwt_id, &out->session_id};
    for (int i = 0; i < 4; ++i) {
      if (has_str[i] == Has::yes) fields[i]->emplace(*strings[i].second);
    }
    if (has_aud == Has::yes) out->audience = aud.to_strings();
    if (has_exp == Has::yes) out->expires_at = to_time(exp);
    if (has_nbf == Has::yes) out->not_before = to_time(nbf);
    if (has_iat == Has::yes) out->issued_at = to_time(iat);
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
    if (!claims.is_object()) return Error(Errc::malformed, "JWT claims must be a JSON object");
    return check_claims(DomSource{claims, {}}, policy, now, nullptr);
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
      if (jws->type().empty()) {
        return Error(Errc::bad_type, "token has no \"typ\" header; expected \"" + *policy.type + "\"");
      }
      if (!type_matches(jws->type(), *policy.type)) {
        return Error(Errc::bad_type, "token type " + detail::quoted(jws->type()) + " is not \"" + *policy.type + "\"");
      }
    }
    const auto& limits = verifier.options().limits;
    // Per-thread scratch: its buffers keep their capacity, so a scan allocates nothing.
    thread_local detail::ScannedObject scanned;
    if (auto r = detail::scan_object(jws->payload(), JsonLimits{limits.max_token_bytes, limits.max_json_depth},
                                     scanned);
        !r) {
      return Error(Errc::malformed, "payload: " + r.error().message());
    }
    RegisteredClaims registered;
    if (auto r = check_claims(ScanSource{scanned}, policy, now, &registered); !r) return r.error();
    VerifiedJws& v = *jws;
    return Jwt(std::move(v.header_), detail::LazyJson(std::move(v.payload_)), std::move(registered), v.alg_,
               std::move(v.kid_), std::move(v.typ_));
  } catch (const std::exception& e) {
    return Error(Errc::internal, std::string("unexpected: ") + e.what());
  }
}

}  // namespace jwtkit
