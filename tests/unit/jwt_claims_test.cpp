// JWT claims: validate_claims and verify_jwt (times, issuer, audience, type, required claims,
// types of registered claims, leeway bounds).
#include <jwtkit/jws.hpp>
#include <jwtkit/jwt.hpp>

#include "catch.hpp"
#include "support/result_check.hpp"
#include "support/test_keys.hpp"

#include <chrono>
#include <string>

using jwtkit::Alg;
using jwtkit::ClaimsPolicy;
using jwtkit::validate_claims;
using jwtkit_test::code;
using json = nlohmann::json;
using std::chrono::seconds;

namespace {

constexpr std::int64_t kNow = 1'700'000'000;
const jwtkit::TimePoint kNowTp = jwtkit::from_unix(kNow);

ClaimsPolicy no_leeway() {
  ClaimsPolicy p;
  p.leeway = seconds(0);
  return p;
}

std::string check(const json& claims, const ClaimsPolicy& policy, std::int64_t now = kNow) {
  return code(validate_claims(claims, policy, jwtkit::from_unix(now)));
}

}  // namespace

TEST_CASE("claims: exp equal to now is expired") {
  ClaimsPolicy p = no_leeway();
  CHECK(check({{"exp", kNow}}, p) == "expired");
  CHECK(check({{"exp", kNow + 1}}, p) == "ok");
  CHECK(check({{"exp", kNow - 1}}, p) == "expired");
  // Fractional NumericDate: valid until the instant itself.
  CHECK(check({{"exp", kNow + 0.5}}, p) == "ok");
  CHECK(check({{"exp", kNow - 0.5}}, p) == "expired");
}

TEST_CASE("claims: exp with leeway") {
  ClaimsPolicy p;
  p.leeway = seconds(30);
  CHECK(check({{"exp", kNow - 29}}, p) == "ok");
  CHECK(check({{"exp", kNow - 30}}, p) == "expired");
  p.leeway = seconds(600);
  CHECK(check({{"exp", kNow - 599}}, p) == "ok");
  CHECK(check({{"exp", kNow - 600}}, p) == "expired");
}

TEST_CASE("claims: nbf and iat in the future are not yet valid") {
  ClaimsPolicy p = no_leeway();
  json base = {{"exp", kNow + 3600}};
  for (const char* name : {"nbf", "iat"}) {
    INFO(name);
    json c = base;
    c[name] = kNow + 1;
    CHECK(check(c, p) == "not_yet_valid");
    c[name] = kNow;
    CHECK(check(c, p) == "ok");
    c[name] = kNow - 100;
    CHECK(check(c, p) == "ok");
    // Within the leeway it is accepted, past it not.
    c[name] = kNow + 30;
    ClaimsPolicy lenient;
    lenient.leeway = seconds(30);
    CHECK(check(c, lenient) == "ok");
    c[name] = kNow + 31;
    CHECK(check(c, lenient) == "not_yet_valid");
  }
}

TEST_CASE("claims: issuer must be present and equal") {
  ClaimsPolicy p = no_leeway();
  p.issuer = "https://issuer.example";
  json c = {{"exp", kNow + 60}, {"iss", "https://issuer.example"}};
  CHECK(check(c, p) == "ok");
  c["iss"] = "https://issuer.example/";
  CHECK(check(c, p) == "bad_issuer");
  c["iss"] = "HTTPS://ISSUER.EXAMPLE";
  CHECK(check(c, p) == "bad_issuer");
  c.erase("iss");
  CHECK(check(c, p) == "bad_issuer");
  // Without an expected issuer any string issuer passes.
  c["iss"] = "anyone";
  CHECK(check(c, no_leeway()) == "ok");
}

TEST_CASE("claims: audience as a string or an array") {
  ClaimsPolicy p = no_leeway();
  p.audiences = {"api", "admin"};
  json c = {{"exp", kNow + 60}};
  c["aud"] = "api";
  CHECK(check(c, p) == "ok");
  c["aud"] = json::array({"other", "admin"});
  CHECK(check(c, p) == "ok");
  c["aud"] = json::array({"other"});
  CHECK(check(c, p) == "bad_audience");
  c["aud"] = json::array();
  CHECK(check(c, p) == "bad_audience");
  c["aud"] = "API";
  CHECK(check(c, p) == "bad_audience");
  c.erase("aud");
  CHECK(check(c, p) == "bad_audience");
}

TEST_CASE("claims: required claims and exp must be present") {
  ClaimsPolicy p = no_leeway();
  CHECK(check(json::object(), p) == "missing_claim");
  p.require_exp = false;
  CHECK(check(json::object(), p) == "ok");
  p.required_claims = {"sub", "jti"};
  CHECK(check({{"sub", "alice"}}, p) == "missing_claim");
  CHECK(check({{"sub", "alice"}, {"jti", "1"}}, p) == "ok");
  CHECK(check({{"sub", "alice"}, {"jti", nullptr}}, p) == "malformed");  // jti must be a string
}

TEST_CASE("claims: registered claims of the wrong JSON type are malformed") {
  ClaimsPolicy p = no_leeway();
  p.require_exp = false;
  const json bad[] = {
      {{"exp", "1700000000"}}, {{"exp", true}},     {{"exp", nullptr}},       {{"exp", json::array({1})}},
      {{"nbf", "0"}},          {{"iat", json::object()}}, {{"iss", 1}},       {{"sub", json::array()}},
      {{"sub", false}},        {{"jti", 7}},        {{"aud", 1}},             {{"aud", json::array({"a", 1})}},
      {{"aud", json::object()}}, {{"aud", nullptr}},
  };
  for (const json& c : bad) {
    INFO(c.dump());
    CHECK(check(c, p) == "malformed");
  }
  CHECK(check(json::array(), p) == "malformed");
  CHECK(check("claims", p) == "malformed");
  // Unregistered claims may have any type.
  CHECK(check({{"roles", json::array({1, "x"})}, {"n", nullptr}}, p) == "ok");
}

TEST_CASE("claims: leeway above 600 seconds or negative is refused") {
  ClaimsPolicy p;
  p.require_exp = false;
  p.leeway = seconds(601);
  CHECK(check(json::object(), p) == "invalid_argument");
  p.leeway = seconds(-1);
  CHECK(check(json::object(), p) == "invalid_argument");
  p.leeway = jwtkit::kMaxLeeway;
  CHECK(check(json::object(), p) == "ok");
}

TEST_CASE("verify_jwt checks the typ header") {
  const jwtkit::Key& key = jwtkit_test::signing_key(Alg::ES256);
  auto verifier = jwtkit::JwsVerifier::create({jwtkit_test::verifying_key(Alg::ES256)},
                                              jwtkit::JwsVerifierOptions{{Alg::ES256}, {}, {}});
  REQUIRE(verifier.ok());
  const std::string claims = json{{"exp", kNow + 60}, {"sub", "alice"}}.dump();
  auto token = [&](const json& header) {
    auto t = jwtkit::sign_compact(key, Alg::ES256, claims, header);
    REQUIRE(t.ok());
    return *t;
  };
  ClaimsPolicy p = no_leeway();
  p.type = "at+jwt";
  CHECK(code(jwtkit::verify_jwt(*verifier, token({{"typ", "at+jwt"}}), p, kNowTp)) == "ok");
  CHECK(code(jwtkit::verify_jwt(*verifier, token({{"typ", "AT+JWT"}}), p, kNowTp)) == "ok");
  CHECK(code(jwtkit::verify_jwt(*verifier, token({{"typ", "application/at+jwt"}}), p, kNowTp)) == "ok");
  CHECK(code(jwtkit::verify_jwt(*verifier, token({{"typ", "JWT"}}), p, kNowTp)) == "bad_type");
  CHECK(code(jwtkit::verify_jwt(*verifier, token({{"typ", "rt+jwt"}}), p, kNowTp)) == "bad_type");
  CHECK(code(jwtkit::verify_jwt(*verifier, token(json::object()), p, kNowTp)) == "bad_type");
  // typ is a string (RFC 7515 4.1.9): any other JSON type makes the header malformed.
  CHECK(code(jwtkit::verify_jwt(*verifier, token({{"typ", 1}}), p, kNowTp)) == "malformed");
  CHECK(code(jwtkit::verify_jwt(*verifier, token({{"typ", 1}}), no_leeway(), kNowTp)) == "malformed");
  CHECK(jwtkit::type_matches("application/JWT", "jwt"));
  CHECK_FALSE(jwtkit::type_matches("jwt2", "jwt"));
  // Without an expected type, typ is not looked at.
  CHECK(code(jwtkit::verify_jwt(*verifier, token({{"typ", "whatever"}}), no_leeway(), kNowTp)) == "ok");
}

TEST_CASE("verify_jwt returns the claims and applies the policy after the signature") {
  const jwtkit::Key& key = jwtkit_test::signing_key(Alg::EdDSA);
  auto verifier = jwtkit::JwsVerifier::create({jwtkit_test::verifying_key(Alg::EdDSA)},
                                              jwtkit::JwsVerifierOptions{{Alg::EdDSA}, {}, {}});
  REQUIRE(verifier.ok());
  json claims = {{"iss", "me"}, {"aud", "api"}, {"exp", kNow + 60}, {"iat", kNow}, {"sub", "alice"}};
  auto token = jwtkit::sign_compact(key, Alg::EdDSA, claims.dump());
  REQUIRE(token.ok());
  ClaimsPolicy p = no_leeway();
  p.issuer = "me";
  p.audiences = {"api"};
  auto jwt = jwtkit::verify_jwt(*verifier, *token, p, kNowTp);
  REQUIRE(jwt.ok());
  CHECK(jwt->claims() == claims);
  CHECK(jwt->alg() == Alg::EdDSA);
  CHECK(jwt->kid() == key.kid());
  CHECK(code(jwtkit::verify_jwt(*verifier, *token, p, jwtkit::from_unix(kNow + 60))) == "expired");
  CHECK(code(jwtkit::verify_jwt(*verifier, *token, p, jwtkit::from_unix(kNow - 1))) == "not_yet_valid");
  // A payload that is JSON but not an object, or not JSON at all.
  for (const char* payload : {"[1,2]", "\"text\"", "42", "not json", ""}) {
    auto t = jwtkit::sign_compact(key, Alg::EdDSA, payload);
    REQUIRE(t.ok());
    INFO(payload);
    CHECK(code(jwtkit::verify_jwt(*verifier, *t, p, kNowTp)) == "malformed");
  }
  // A bad signature is reported before any claim problem.
  std::string tampered = *token;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  CHECK(code(jwtkit::verify_jwt(*verifier, tampered, p, jwtkit::from_unix(kNow + 1000))) == "bad_signature");
}
