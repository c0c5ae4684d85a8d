// The RFC examples in tests/vectors/ (RFC 7515, 7517, 7519, 7638, 8037): one TEST_CASE per
// vector file, named after it, so ctest lists each vector by name.
#include <jwtkit/base64url.hpp>
#include <jwtkit/jwk.hpp>
#include <jwtkit/jws.hpp>
#include <jwtkit/jwt.hpp>
#include <jwtkit/key.hpp>

#include "catch.hpp"
#include "support/result_check.hpp"
#include "support/vector_files.hpp"

#include <filesystem>
#include <set>
#include <string>
#include <vector>

using jwtkit::Alg;
using jwtkit::ClaimsPolicy;
using jwtkit::Errc;
using jwtkit::JwkSet;
using jwtkit::JwsVerifier;
using jwtkit::JwsVerifierOptions;
using jwtkit::Key;
using jwtkit_test::code;
using jwtkit_test::load_vector;
using jwtkit_test::status;
using json = nlohmann::json;

namespace {

std::vector<Alg> all_algs() { return {jwtkit::kAllAlgs.begin(), jwtkit::kAllAlgs.end()}; }

JwsVerifier verifier_for(const Key& key, std::vector<Alg> algs) {
  auto v = JwsVerifier::create({key}, JwsVerifierOptions{std::move(algs), {}, {}});
  REQUIRE(v.ok());
  return *v;
}

Key load_key(const json& jwk) {
  auto k = Key::from_jwk(jwk);
  INFO("JWK " << jwk.dump() << " -> " << status(k));
  REQUIRE(k.ok());
  return *k;
}

struct Token {
  std::string signing_input;  // BASE64URL(header) "." BASE64URL(payload)
  std::string signature;      // decoded
};

Token split(const std::string& token) {
  auto last = token.rfind('.');
  REQUIRE(last != std::string::npos);
  auto sig = jwtkit::base64url::decode(token.substr(last + 1));
  REQUIRE(sig.ok());
  return Token{token.substr(0, last), *sig};
}

// The vector's header/payload octets encode to exactly the token's signing input, so the
// signing tests below sign the RFC's own octets (CR LF and spaces included).
void check_octets(const json& v) {
  const std::string payload =
      v.contains("payload_json") ? v["payload_json"].get<std::string>() : v["payload_text"].get<std::string>();
  std::string input = jwtkit::base64url::encode(v["header_json"].get<std::string>()) + "." +
                      jwtkit::base64url::encode(payload);
  CHECK(input == split(v["token"].get<std::string>()).signing_input);
}

// Verifies the vector's token: at the JWS layer with the vector's key, then, for JWTs, with
// verify_jwt at `now` (accepted) and at `expect_at_later_time.now` (expired).
void check_verifies(const json& v, Alg alg) {
  const std::string token = v["token"];
  Key key = load_key(v["key"]);
  CHECK_FALSE((key.can_sign() && !key.is_symmetric()));  // the verification key is public

  auto verifier = verifier_for(key, {alg});
  auto jws = verifier.verify(token);
  INFO(status(jws));
  REQUIRE(jws.ok());
  CHECK(jws->alg() == alg);
  const std::string payload =
      v.contains("payload_json") ? v["payload_json"].get<std::string>() : v["payload_text"].get<std::string>();
  CHECK(jws->payload() == payload);
  CHECK(jws->header() == json::parse(v["header_json"].get<std::string>()));

  // Not on the allow-list: refused before any key is tried.
  Alg other = alg == Alg::HS256 ? Alg::HS512 : Alg::HS256;
  auto refused = verifier_for(key, {other}).verify(token);
  CHECK(code(refused) == "alg_not_allowed");

  if (v["now"].is_null()) return;
  ClaimsPolicy policy;
  policy.leeway = std::chrono::seconds(0);
  auto now = jwtkit::from_unix(v["now"].get<std::int64_t>());
  auto jwt = jwtkit::verify_jwt(verifier, token, policy, now);
  INFO(status(jwt));
  REQUIRE(jwt.ok());
  CHECK(jwt->claims() == json::parse(v["payload_json"].get<std::string>()));

  const auto& later = v["expect_at_later_time"];
  REQUIRE(later.is_object());
  REQUIRE(later["expect"] == "reject");
  auto late = jwtkit::verify_jwt(verifier, token, policy, jwtkit::from_unix(later["now"].get<std::int64_t>()));
  CHECK(code(late) == "expired");
}

// Deterministic algorithms: signing the RFC's signing input with the RFC's private key gives
// the RFC's signature byte for byte.
void check_resigns(const json& v, const Key& signer, Alg alg) {
  REQUIRE(v["signature_deterministic"] == true);
  Token t = split(v["token"]);
  auto sig = jwtkit::create_signature(signer, alg, t.signing_input);
  INFO(status(sig));
  REQUIRE(sig.ok());
  CHECK(jwtkit::base64url::encode(*sig) == jwtkit::base64url::encode(t.signature));
}

// ECDSA is randomised: a fresh signature differs but verifies, and is raw r||s.
void check_fresh_ecdsa(const json& v, Alg alg, std::size_t sig_len) {
  REQUIRE(v["signature_deterministic"] == false);
  Key priv = load_key(v["private_key"]);
  Key pub = load_key(v["key"]);
  Token t = split(v["token"]);
  CHECK(t.signature.size() == sig_len);
  auto sig = jwtkit::create_signature(priv, alg, t.signing_input);
  REQUIRE(sig.ok());
  CHECK(sig->size() == sig_len);
  CHECK(*sig != t.signature);
  CHECK(jwtkit::verify_signature(pub, alg, t.signing_input, *sig).ok());
  // The private JWK round-trips and describes the same public key.
  auto priv_jwk = priv.private_jwk();
  REQUIRE(priv_jwk.ok());
  for (const char* m : {"kty", "crv", "x", "y", "d"}) CHECK((*priv_jwk)[m] == v["private_key"][m]);
  CHECK(priv.thumbprint() == pub.thumbprint());
}

// `got` has every member of `want` with the same value.
void check_members(const json& got, const json& want) {
  for (const auto& [name, value] : want.items()) {
    INFO("member " << name);
    REQUIRE(got.contains(name));
    CHECK(got[name] == value);
  }
}

const char* const kPrivateMembers[] = {"d", "p", "q", "dp", "dq", "qi", "k"};

void check_no_private_members(const json& jwks) {
  for (const auto& k : jwks["keys"]) {
    for (const char* m : kPrivateMembers) {
      INFO(k.dump() << " must not contain " << m);
      CHECK_FALSE(k.contains(m));
    }
  }
}

}  // namespace

TEST_CASE("RFC 7515 A.1 HS256") {
  auto v = load_vector("rfc7515_A1_hs256.json");
  REQUIRE(v["expect"] == "accept");
  REQUIRE(v["alg"] == "HS256");
  check_octets(v);
  check_verifies(v, Alg::HS256);
  check_resigns(v, load_key(v["key"]), Alg::HS256);
  // The same token with its signature cut by one byte is not a shorter valid MAC.
  std::string token = v["token"];
  Token t = split(token);
  std::string truncated = t.signing_input + "." + jwtkit::base64url::encode(t.signature.substr(0, 31));
  CHECK(code(verifier_for(load_key(v["key"]), {Alg::HS256}).verify(truncated)) == "bad_signature");
}

TEST_CASE("RFC 7515 A.2 RS256") {
  auto v = load_vector("rfc7515_A2_rs256.json");
  REQUIRE(v["expect"] == "accept");
  check_octets(v);
  check_verifies(v, Alg::RS256);
  Key priv = load_key(v["private_key"]);
  CHECK(priv.can_sign());
  CHECK(priv.bits() == 2048);
  check_resigns(v, priv, Alg::RS256);
  // Private JWK round trip: every RFC member comes back unchanged.
  auto jwk = priv.private_jwk();
  REQUIRE(jwk.ok());
  check_members(*jwk, v["private_key"]);
  auto pub = priv.public_key();
  REQUIRE(pub.ok());
  auto pub_jwk = pub->public_jwk();
  REQUIRE(pub_jwk.ok());
  check_members(*pub_jwk, v["key"]);
  CHECK_FALSE(pub_jwk->contains("d"));
  // The RSA key never verifies the token as PS256 (same key type, other padding).
  CHECK(code(jwtkit::verify_signature(*pub, Alg::PS256, split(v["token"]).signing_input,
                                      split(v["token"]).signature)) == "bad_signature");
}

TEST_CASE("RFC 7515 A.3 ES256") {
  auto v = load_vector("rfc7515_A3_es256.json");
  REQUIRE(v["expect"] == "accept");
  check_octets(v);
  check_verifies(v, Alg::ES256);
  check_fresh_ecdsa(v, Alg::ES256, 64);
}

TEST_CASE("RFC 7515 A.4 ES512") {
  auto v = load_vector("rfc7515_A4_es512.json");
  REQUIRE(v["expect"] == "accept");
  REQUIRE(v["now"].is_null());
  check_octets(v);
  check_verifies(v, Alg::ES512);
  check_fresh_ecdsa(v, Alg::ES512, 132);
  // The payload "Payload" is not a claims set: as a JWT it is malformed.
  auto verifier = verifier_for(load_key(v["key"]), {Alg::ES512});
  ClaimsPolicy policy;
  policy.require_exp = false;
  auto jwt = jwtkit::verify_jwt(verifier, v["token"].get<std::string>(), policy, jwtkit::from_unix(0));
  CHECK(code(jwt) == "malformed");
}

TEST_CASE("RFC 7515 A.5 unsecured JWS (alg none)") {
  auto v = load_vector("rfc7515_A5_unsecured.json");
  REQUIRE(v["expect"] == "reject");
  const std::string token = v["token"];
  CHECK_FALSE(jwtkit::parse_alg("none").has_value());
  // Every algorithm allowed and a key of each family configured: still refused.
  auto a1 = load_vector("rfc7515_A1_hs256.json");
  auto a2 = load_vector("rfc7515_A2_rs256.json");
  auto verifier = JwsVerifier::create({load_key(a1["key"]), load_key(a2["key"])},
                                      JwsVerifierOptions{all_algs(), {}, {}});
  REQUIRE(verifier.ok());
  auto r = verifier->verify(token);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == Errc::unsupported_alg);  // the alg is refused before anything else
  // With a signature part added, the same.
  auto with_sig = verifier->verify(token + "AAAA");
  CHECK(code(with_sig) == "unsupported_alg");
  ClaimsPolicy policy;
  CHECK_FALSE(jwtkit::verify_jwt(*verifier, token, policy, jwtkit::from_unix(v["now"].get<std::int64_t>())).ok());
}

TEST_CASE("RFC 7517 A.1 public keys") {
  auto v = load_vector("rfc7517_A1_public_keys.json");
  auto set = JwkSet::parse(v["jwks"].dump());
  INFO(status(set));
  REQUIRE(set.ok());
  REQUIRE(set->keys().size() == 2);
  CHECK(set->skipped().empty());
  for (std::size_t i = 0; i < 2; ++i) {
    const Key& k = set->keys()[i];
    const json& original = v["jwks"]["keys"][i];
    CHECK(k.kid() == original["kid"]);
    CHECK_FALSE(k.can_sign());
    CHECK(k.thumbprint() == v["thumbprints_rfc7638"][k.kid()]);
    auto jwk = k.public_jwk();
    REQUIRE(jwk.ok());
    CHECK(*jwk == original);  // public JWK round trip, metadata included
  }
  const Key& ec = set->keys()[0];
  const Key& rsa = set->keys()[1];
  CHECK(ec.type() == jwtkit::KeyType::ec_p256);
  CHECK(ec.use() == std::optional<std::string>("enc"));
  CHECK(code(ec.check_alg(Alg::ES256)) == "key_mismatch");  // use=enc never verifies signatures
  CHECK(rsa.type() == jwtkit::KeyType::rsa);
  CHECK(rsa.check_alg(Alg::RS256).ok());
  CHECK(code(rsa.check_alg(Alg::PS256)) == "key_mismatch");  // its JWK alg is RS256
  CHECK(set->to_public_json() == v["jwks"]);
}

TEST_CASE("RFC 7517 A.2 private keys") {
  auto v = load_vector("rfc7517_A2_private_keys.json");
  auto set = JwkSet::parse(v["jwks"].dump());
  INFO(status(set));
  REQUIRE(set.ok());
  REQUIRE(set->keys().size() == 2);
  CHECK(set->skipped().empty());
  for (std::size_t i = 0; i < 2; ++i) {
    const Key& k = set->keys()[i];
    CHECK(k.can_sign());
    auto jwk = k.private_jwk();
    REQUIRE(jwk.ok());
    CHECK(*jwk == v["jwks"]["keys"][i]);  // private JWK round trip, every member
  }
  // Published form: public members only, equal to the RFC's public set (A.1).
  json published = set->to_public_json();
  check_no_private_members(published);
  CHECK(published == load_vector("rfc7517_A1_public_keys.json")["jwks"]);
  // The RSA private key signs and its public half verifies.
  const Key& rsa = set->keys()[1];
  auto token = jwtkit::sign_compact(rsa, Alg::RS256, "{}");
  REQUIRE(token.ok());
  auto pub = rsa.public_key();
  REQUIRE(pub.ok());
  CHECK(verifier_for(*pub, {Alg::RS256}).verify(*token).ok());
}

TEST_CASE("RFC 7517 A.3 symmetric keys") {
  auto v = load_vector("rfc7517_A3_symmetric_keys.json");
  const json& aes = v["jwks"]["keys"][0];
  REQUIRE(aes["alg"] == "A128KW");
  // The A128KW key is not a JWS key: refused with a reason that names it.
  auto direct = Key::from_jwk(aes);
  REQUIRE_FALSE(direct.ok());
  CHECK(direct.error().code() == Errc::unsupported_alg);
  CHECK_THAT(direct.error().message(), jwtkit_test::contains("A128KW"));
  // Even without its alg, 16 octets are too short for any HS algorithm.
  json no_alg = aes;
  no_alg.erase("alg");
  auto short_key = Key::from_jwk(no_alg);
  REQUIRE_FALSE(short_key.ok());
  CHECK_THAT(short_key.error().message(), jwtkit_test::contains("shorter than 32"));

  // In a set it is skipped, not fatal; the HMAC key loads.
  auto set = JwkSet::parse(v["jwks"].dump());
  REQUIRE(set.ok());
  REQUIRE(set->keys().size() == 1);
  REQUIRE(set->skipped().size() == 1);
  CHECK(set->skipped()[0].index == 0);
  CHECK_THAT(set->skipped()[0].reason, jwtkit_test::contains("A128KW"));
  const Key& hmac = set->keys()[0];
  CHECK(hmac.is_symmetric());
  CHECK(hmac.kid() == "HMAC key used in JWS spec Appendix A.1 example");
  CHECK(hmac.bits() == 512);
  auto priv = hmac.private_jwk();
  REQUIRE(priv.ok());
  CHECK(*priv == v["jwks"]["keys"][1]);
  CHECK(code(hmac.public_jwk()) == "key_mismatch");  // a secret has no public form
  CHECK(set->to_public_json() == json{{"keys", json::array()}});  // never published

  // That key verifies the RFC 7515 A.1 token (whose header has no kid).
  auto verifier = JwsVerifier::create(*set, JwsVerifierOptions{{Alg::HS256}, {}, {}});
  REQUIRE(verifier.ok());
  CHECK(verifier->verify(load_vector("rfc7515_A1_hs256.json")["token"].get<std::string>()).ok());
}

TEST_CASE("RFC 7517 B x5c") {
  auto v = load_vector("rfc7517_B_x5c.json");
  const json& jwk = v["jwk"];
  REQUIRE(jwk.contains("x5c"));
  Key key = load_key(jwk);
  CHECK(key.kid() == "1b94c");
  CHECK(key.use() == std::optional<std::string>("sig"));
  CHECK(key.type() == jwtkit::KeyType::rsa);
  auto pub = key.public_jwk();
  REQUIRE(pub.ok());
  CHECK((*pub)["n"] == jwk["n"]);
  CHECK((*pub)["e"] == jwk["e"]);
  CHECK_FALSE(pub->contains("x5c"));  // the certificate is never carried along or trusted

  // A token whose header carries this very x5c but is signed by another key is refused:
  // the certificate chain never supplies a key.
  static const Key attacker = *Key::generate(Alg::RS256);
  json header = {{"x5c", jwk["x5c"]}, {"kid", "1b94c"}};
  auto forged = jwtkit::sign_compact(attacker, Alg::RS256, "{}", header);
  REQUIRE(forged.ok());
  auto with_key = JwsVerifier::create({key}, JwsVerifierOptions{{Alg::RS256}, {}, {}});
  REQUIRE(with_key.ok());
  CHECK(code(with_key->verify(*forged)) == "bad_signature");
  auto without_keys = JwsVerifier::create(std::vector<Key>{}, JwsVerifierOptions{{Alg::RS256}, {}, {}});
  REQUIRE(without_keys.ok());
  CHECK(code(without_keys->verify(*forged)) == "key_not_found");
}

TEST_CASE("RFC 7519 3.1 example JWT") {
  auto v = load_vector("rfc7519_3.1_example_jwt.json");
  REQUIRE(v["kind"] == "jwt");
  Key key = load_key(v["key"]);
  auto verifier = verifier_for(key, {Alg::HS256});
  const std::string token = v["token"];
  ClaimsPolicy policy;
  policy.leeway = std::chrono::seconds(0);
  policy.issuer = "joe";
  policy.type = "JWT";
  auto jwt = jwtkit::verify_jwt(verifier, token, policy, jwtkit::from_unix(v["now"].get<std::int64_t>()));
  INFO(status(jwt));
  REQUIRE(jwt.ok());
  CHECK(jwt->claims() == v["claims"]);
  CHECK(jwt->alg() == Alg::HS256);
  CHECK(jwt->header()["typ"] == "JWT");

  const auto& later = v["expect_at_later_time"];
  REQUIRE(later["expect"] == "reject");
  auto late = jwtkit::verify_jwt(verifier, token, policy, jwtkit::from_unix(later["now"].get<std::int64_t>()));
  CHECK(code(late) == "expired");
  // Other policies that this token does not meet.
  ClaimsPolicy other_issuer = policy;
  other_issuer.issuer = "jane";
  CHECK(code(jwtkit::verify_jwt(verifier, token, other_issuer, jwtkit::from_unix(v["now"].get<std::int64_t>()))) ==
        "bad_issuer");
  ClaimsPolicy wants_audience = policy;
  wants_audience.audiences = {"https://api.example"};
  CHECK(code(jwtkit::verify_jwt(verifier, token, wants_audience, jwtkit::from_unix(v["now"].get<std::int64_t>()))) ==
        "bad_audience");
}

TEST_CASE("RFC 7638 3.1 thumbprint") {
  auto v = load_vector("rfc7638_3.1_thumbprint.json");
  Key key = load_key(v["jwk"]);
  CHECK(key.thumbprint() == v["thumbprint"]);
  // Metadata does not change the thumbprint; without a kid the thumbprint is the kid.
  json bare = {{"kty", "RSA"}, {"n", v["jwk"]["n"]}, {"e", v["jwk"]["e"]}};
  Key bare_key = load_key(bare);
  CHECK(bare_key.thumbprint() == v["thumbprint"]);
  CHECK(bare_key.kid() == v["thumbprint"]);
  // The canonical form is the required members, sorted, without whitespace.
  CHECK(bare.dump() == v["canonical_json"]);
}

TEST_CASE("RFC 8037 A.1 A.2 Ed25519 keys") {
  auto v = load_vector("rfc8037_A1_A2_ed25519_keys.json");
  Key priv = load_key(v["jwk"]);
  CHECK(priv.type() == jwtkit::KeyType::ed25519);
  CHECK(priv.can_sign());
  auto priv_jwk = priv.private_jwk();
  REQUIRE(priv_jwk.ok());
  check_members(*priv_jwk, v["jwk"]);
  CHECK((*priv_jwk)["kid"] == priv.thumbprint());  // no kid given: the thumbprint
  auto pub = priv.public_key();
  REQUIRE(pub.ok());
  CHECK_FALSE(pub->can_sign());
  auto pub_jwk = pub->public_jwk();
  REQUIRE(pub_jwk.ok());
  check_members(*pub_jwk, v["public_jwk"]);
  CHECK_FALSE(pub_jwk->contains("d"));
  Key pub_direct = load_key(v["public_jwk"]);
  CHECK(pub_direct.thumbprint() == priv.thumbprint());
  // d that does not belong to x is refused.
  json wrong = v["jwk"];
  auto other = Key::generate(Alg::EdDSA);
  REQUIRE(other.ok());
  wrong["x"] = (*other->public_jwk())["x"];
  auto mismatched = Key::from_jwk(wrong);
  REQUIRE_FALSE(mismatched.ok());
  CHECK(mismatched.error().code() == Errc::key_mismatch);
}

TEST_CASE("RFC 8037 A.3 thumbprint") {
  auto v = load_vector("rfc8037_A3_thumbprint.json");
  Key key = load_key(v["jwk"]);
  CHECK(key.thumbprint() == v["thumbprint"]);
  CHECK(key.kid() == v["thumbprint"]);
  CHECK(v["jwk"].dump() == v["canonical_json"]);
}

TEST_CASE("RFC 8037 A.4 A.5 EdDSA JWS") {
  auto v = load_vector("rfc8037_A4_A5_eddsa_jws.json");
  REQUIRE(v["now"].is_null());
  check_octets(v);
  check_verifies(v, Alg::EdDSA);
  check_resigns(v, load_key(v["private_key"]), Alg::EdDSA);
  // sign_compact with the RFC's header reproduces the whole token: the header then has to
  // be exactly {"alg":"EdDSA"}, so give the key an empty kid.
  Key signer = load_key(v["private_key"]).with_kid("");
  auto token = jwtkit::sign_compact(signer, Alg::EdDSA, v["payload_text"].get<std::string>());
  REQUIRE(token.ok());
  CHECK(*token == v["token"]);
}

TEST_CASE("every RFC vector file has a test") {
  const std::set<std::string> covered = {
      "rfc7515_A1_hs256.json",         "rfc7515_A2_rs256.json",
      "rfc7515_A3_es256.json",         "rfc7515_A4_es512.json",
      "rfc7515_A5_unsecured.json",     "rfc7517_A1_public_keys.json",
      "rfc7517_A2_private_keys.json",  "rfc7517_A3_symmetric_keys.json",
      "rfc7517_B_x5c.json",            "rfc7519_3.1_example_jwt.json",
      "rfc7638_3.1_thumbprint.json",   "rfc8037_A1_A2_ed25519_keys.json",
      "rfc8037_A3_thumbprint.json",    "rfc8037_A4_A5_eddsa_jws.json"};
  std::set<std::string> present;
  for (const auto& entry : std::filesystem::directory_iterator(JWTKIT_VECTORS_DIR)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("rfc", 0) == 0 && entry.path().extension() == ".json") present.insert(name);
  }
  CHECK(present == covered);
}
