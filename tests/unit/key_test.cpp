// Keys: PEM and JWK import/export both ways, and every check made when a key is loaded.
#include <jwtkit/base64url.hpp>
#include <jwtkit/jwk.hpp>
#include <jwtkit/jws.hpp>
#include <jwtkit/key.hpp>

#include "catch.hpp"
#include "support/result_check.hpp"
#include "support/test_keys.hpp"
#include "support/vector_files.hpp"

#include <string>
#include <vector>

using jwtkit::Alg;
using jwtkit::Errc;
using jwtkit::JwkSet;
using jwtkit::Key;
using jwtkit::KeyType;
using jwtkit::PemFormat;
using jwtkit_test::code;
using jwtkit_test::contains;
using jwtkit_test::signing_key;
using jwtkit_test::status;
using json = nlohmann::json;

namespace {

const Alg kAsymmetric[] = {Alg::RS256, Alg::ES256, Alg::ES384, Alg::ES512, Alg::EdDSA};

// `a` signs, `b` verifies (and the other way round when both can sign).
void check_same_key(const Key& a, const Key& b, Alg alg) {
  CHECK(a.thumbprint() == b.thumbprint());
  CHECK(a.type() == b.type());
  CHECK(a.bits() == b.bits());
  const Key& signer = a.can_sign() ? a : b;
  const Key& other = a.can_sign() ? b : a;
  auto sig = jwtkit::create_signature(signer, alg, "payload");
  REQUIRE(sig.ok());
  CHECK(jwtkit::verify_signature(other, alg, "payload", *sig).ok());
}

void check_refused(const jwtkit::Result<Key>& r, Errc expected, const std::string& words) {
  INFO(status(r));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == expected);
  CHECK_THAT(r.error().message(), contains(words));
}

json public_jwk(Alg alg) {
  auto j = signing_key(alg).public_jwk();
  REQUIRE(j.ok());
  return *j;
}
json private_jwk(Alg alg) {
  auto j = signing_key(alg).private_jwk();
  REQUIRE(j.ok());
  return *j;
}

// A 1024-bit RSA public key (generated with `openssl genrsa 1024`).
const char* const kRsa1024Spki = R"(-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDKN/IO3DVSW69/dJ7QfGNmKi6E
eA74lEazBLtaoMTXaH2McJyOwM2TCn1jwOHWLhWOiPjHsLrBFdHRDoQJrBb8AFpO
uEF5lP6+8eYQvR1JW+FEkWlPMppsYoRxCtZIBYAM/Oj2pDnLk2XIvI/pb2I605X/
6oBnYdi+wVZ2RRfxGwIDAQAB
-----END PUBLIC KEY-----
)";

}  // namespace

TEST_CASE("PEM export and re-import for every format and key type") {
  struct Case {
    Alg alg;
    std::vector<PemFormat> private_formats;
    std::vector<PemFormat> public_formats;
  };
  const Case cases[] = {
      {Alg::RS256, {PemFormat::pkcs8, PemFormat::pkcs1}, {PemFormat::spki, PemFormat::pkcs1}},
      {Alg::ES256, {PemFormat::pkcs8, PemFormat::sec1}, {PemFormat::spki}},
      {Alg::ES384, {PemFormat::pkcs8, PemFormat::sec1}, {PemFormat::spki}},
      {Alg::ES512, {PemFormat::pkcs8, PemFormat::sec1}, {PemFormat::spki}},
      {Alg::EdDSA, {PemFormat::pkcs8}, {PemFormat::spki}},
  };
  for (const auto& c : cases) {
    INFO("alg " << jwtkit::to_string(c.alg));
    const Key& key = signing_key(c.alg);
    for (PemFormat f : c.private_formats) {
      auto pem = key.private_pem(f);
      INFO(status(pem));
      REQUIRE(pem.ok());
      const char* label = f == PemFormat::pkcs8 ? "-----BEGIN PRIVATE KEY-----"
                          : f == PemFormat::pkcs1 ? "-----BEGIN RSA PRIVATE KEY-----"
                                                  : "-----BEGIN EC PRIVATE KEY-----";
      CHECK_THAT(*pem, contains(label));
      auto back = Key::from_pem(*pem);
      INFO(status(back));
      REQUIRE(back.ok());
      CHECK(back->can_sign());
      check_same_key(*back, key, c.alg);
    }
    for (PemFormat f : c.public_formats) {
      auto pem = key.public_pem(f);
      REQUIRE(pem.ok());
      CHECK_THAT(*pem, contains(f == PemFormat::spki ? "-----BEGIN PUBLIC KEY-----" : "-----BEGIN RSA PUBLIC KEY-----"));
      CHECK_THAT(*pem, !contains("PRIVATE"));
      auto back = Key::from_pem(*pem);
      INFO(status(back));
      REQUIRE(back.ok());
      CHECK_FALSE(back->can_sign());
      check_same_key(key, *back, c.alg);
      // A public key has no private PEM or JWK.
      CHECK(code(back->private_pem()) == "key_mismatch");
      CHECK(code(back->private_jwk()) == "key_mismatch");
    }
  }
  // Formats that do not fit the key type.
  CHECK(code(signing_key(Alg::RS256).private_pem(PemFormat::sec1)) == "key_mismatch");
  CHECK(code(signing_key(Alg::ES256).private_pem(PemFormat::pkcs1)) == "key_mismatch");
  CHECK(code(signing_key(Alg::ES256).public_pem(PemFormat::pkcs1)) == "key_mismatch");
  CHECK(code(signing_key(Alg::EdDSA).private_pem(PemFormat::sec1)) == "key_mismatch");
  CHECK(code(signing_key(Alg::RS256).public_pem(PemFormat::pkcs8)) == "key_mismatch");
  CHECK(code(signing_key(Alg::RS256).private_pem(PemFormat::spki)) == "key_mismatch");
  CHECK(code(signing_key(Alg::HS256).private_pem()) == "key_mismatch");
  CHECK(code(signing_key(Alg::HS256).public_pem()) == "key_mismatch");
}

TEST_CASE("PEM with text around the block and EC PARAMETERS first is read") {
  auto sec1 = signing_key(Alg::ES256).private_pem(PemFormat::sec1);
  REQUIRE(sec1.ok());
  std::string with_params = "comment line\n-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" +
                            *sec1 + "trailing\n";
  auto k = Key::from_pem(with_params);
  INFO(status(k));
  REQUIRE(k.ok());
  CHECK(k->thumbprint() == signing_key(Alg::ES256).thumbprint());
}

TEST_CASE("JWK export and re-import, public and private, for every key type") {
  for (Alg alg : kAsymmetric) {
    INFO("alg " << jwtkit::to_string(alg));
    const Key& key = signing_key(alg);
    json priv = private_jwk(alg);
    json pub = public_jwk(alg);
    CHECK(priv.contains("d"));
    for (const char* m : {"d", "p", "q", "dp", "dq", "qi", "k"}) CHECK_FALSE(pub.contains(m));
    CHECK(pub["kid"] == key.thumbprint());  // generated keys are named by their thumbprint

    auto priv_back = Key::from_jwk(priv);
    INFO(status(priv_back));
    REQUIRE(priv_back.ok());
    CHECK(priv_back->can_sign());
    CHECK(*priv_back->private_jwk() == priv);
    check_same_key(*priv_back, key, alg);

    auto pub_back = Key::from_jwk(pub);
    REQUIRE(pub_back.ok());
    CHECK_FALSE(pub_back->can_sign());
    CHECK(*pub_back->public_jwk() == pub);
    check_same_key(key, *pub_back, alg);
    // From JSON text too (std::string and string_view both compile and agree).
    std::string text = pub.dump();
    auto from_text = Key::from_jwk(text);
    REQUIRE(from_text.ok());
    CHECK(from_text->thumbprint() == key.thumbprint());
    CHECK(Key::from_jwk(std::string_view(text)).ok());
  }
  // EC coordinates keep their full width (P-521: 66 bytes) even with leading zeros.
  for (auto [alg, width] : {std::pair{Alg::ES256, 32u}, std::pair{Alg::ES384, 48u}, std::pair{Alg::ES512, 66u}}) {
    json priv = private_jwk(alg);
    for (const char* m : {"x", "y", "d"}) {
      CHECK(jwtkit::base64url::decode(priv[m].get<std::string>())->size() == width);
    }
  }
  // HMAC secrets: only a private form, which round-trips.
  for (Alg alg : {Alg::HS256, Alg::HS384, Alg::HS512}) {
    const Key& key = signing_key(alg);
    CHECK(code(key.public_jwk()) == "key_mismatch");
    CHECK(code(key.public_key()) == "key_mismatch");
    json priv = private_jwk(alg);
    CHECK(priv["kty"] == "oct");
    auto back = Key::from_jwk(priv);
    REQUIRE(back.ok());
    CHECK(*jwtkit::create_signature(*back, alg, "x") == *jwtkit::create_signature(key, alg, "x"));
  }
}

TEST_CASE("JWK from a literal or std::string compiles and parses strictly") {
  auto from_literal = Key::from_jwk(R"({"kty":"oct","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})");
  CHECK(from_literal.ok());
  std::string dup = R"({"kty":"oct","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})";
  check_refused(Key::from_jwk(dup), Errc::malformed, "duplicate");
  CHECK(JwkSet::parse(R"({"keys":[]})").ok());
  CHECK(JwkSet::parse(std::string(R"({"keys":[]})")).ok());
}

TEST_CASE("RSA keys under 2048 bits are refused") {
  check_refused(Key::from_pem(kRsa1024Spki), Errc::malformed, "too small");
  auto wp = jwtkit_test::load_vector("wycheproof/json_web_key_test.json");
  bool seen = false;
  for (const auto& g : wp["testGroups"]) {
    if (g["comment"] != "keysize_too_small") continue;
    seen = true;
    check_refused(Key::from_jwk(g["public"]["keys"][0]), Errc::malformed, "too small");
    check_refused(Key::from_jwk(g["private"]["keys"][0]), Errc::malformed, "too small");
  }
  CHECK(seen);
  CHECK(code(Key::generate(Alg::RS256, 1024)) == "invalid_argument");
}

TEST_CASE("RSA public exponent 1 or even is refused") {
  json jwk = public_jwk(Alg::RS256);
  jwk.erase("kid");
  for (const char* e : {"AQ", "Ag", "AAE", "AQAA"}) {  // 1, 2, 1 (with a zero byte), 65536
    jwk["e"] = e;
    INFO("e = " << e);
    check_refused(Key::from_jwk(jwk), Errc::malformed, "exponent must be odd and at least 3");
  }
  jwk["e"] = "Aw";  // 3 is allowed (Wycheproof has valid e=3 keys)
  CHECK(Key::from_jwk(jwk).ok());
}

TEST_CASE("RSA modulus with the ROCA fingerprint is refused") {
  auto wp = jwtkit_test::load_vector("wycheproof/json_web_key_test.json");
  bool seen = false;
  for (const auto& g : wp["testGroups"]) {
    if (g["comment"] != "jws_rsa_roca_key") continue;
    seen = true;
    check_refused(Key::from_jwk(g["public"]["keys"][0]), Errc::malformed, "ROCA");
  }
  CHECK(seen);
  // Ordinary generated moduli do not trip the check.
  CHECK(Key::from_jwk(public_jwk(Alg::RS256)).ok());
}

TEST_CASE("EC point not on its curve is refused") {
  json jwk = public_jwk(Alg::ES256);
  std::string y = *jwtkit::base64url::decode(jwk["y"].get<std::string>());
  y[31] = static_cast<char>(y[31] ^ 1);
  jwk["y"] = jwtkit::base64url::encode(y);
  check_refused(Key::from_jwk(jwk), Errc::malformed, "not on");
  // Coordinates of another curve's length are refused too.
  json short_x = public_jwk(Alg::ES384);
  short_x["crv"] = "P-256";
  check_refused(Key::from_jwk(short_x), Errc::malformed, "32 bytes");
  json unknown = public_jwk(Alg::ES256);
  unknown["crv"] = "secp256k1";
  check_refused(Key::from_jwk(unknown), Errc::malformed, "secp256k1");
}

TEST_CASE("JWK whose members contradict each other or its kty is refused") {
  json ec_with_n = public_jwk(Alg::ES256);
  ec_with_n["n"] = public_jwk(Alg::RS256)["n"];
  check_refused(Key::from_jwk(ec_with_n), Errc::key_mismatch, "\"n\"");

  json okp_with_y = public_jwk(Alg::EdDSA);
  okp_with_y["y"] = public_jwk(Alg::ES256)["y"];
  check_refused(Key::from_jwk(okp_with_y), Errc::key_mismatch, "\"y\"");

  json oct_with_d = private_jwk(Alg::HS256);
  oct_with_d["d"] = "AAAA";
  check_refused(Key::from_jwk(oct_with_d), Errc::key_mismatch, "\"d\"");

  json es256_on_p384 = public_jwk(Alg::ES384);
  es256_on_p384["alg"] = "ES256";
  check_refused(Key::from_jwk(es256_on_p384), Errc::key_mismatch, "ES256");

  json hs256_on_rsa = public_jwk(Alg::RS256);
  hs256_on_rsa["alg"] = "HS256";
  check_refused(Key::from_jwk(hs256_on_rsa), Errc::key_mismatch, "HS256");

  json rsa_d_only = private_jwk(Alg::RS256);
  for (const char* m : {"p", "q", "dp", "dq", "qi"}) rsa_d_only.erase(m);
  check_refused(Key::from_jwk(rsa_d_only), Errc::key_mismatch, "d, p, q, dp, dq, qi");

  json rsa_wrong_q = private_jwk(Alg::RS256);
  auto other_rsa = Key::generate(Alg::RS256);
  REQUIRE(other_rsa.ok());
  rsa_wrong_q["q"] = (*other_rsa->private_jwk())["q"];
  CHECK_FALSE(Key::from_jwk(rsa_wrong_q).ok());

  json kty_wrong = public_jwk(Alg::ES256);
  kty_wrong["kty"] = "RSA";  // EC members under kty RSA (Wycheproof wrong_kty)
  CHECK(code(Key::from_jwk(kty_wrong)) == "key_mismatch");

  json unknown_alg = public_jwk(Alg::ES256);
  unknown_alg["alg"] = "ES521";
  check_refused(Key::from_jwk(unknown_alg), Errc::unsupported_alg, "ES521");
}

TEST_CASE("EC or Ed25519 private key that does not match its public key is refused") {
  for (Alg alg : {Alg::ES256, Alg::ES384, Alg::ES512, Alg::EdDSA}) {
    INFO("alg " << jwtkit::to_string(alg));
    json jwk = private_jwk(alg);
    auto other = Key::generate(alg);
    REQUIRE(other.ok());
    jwk["d"] = (*other->private_jwk())["d"];
    check_refused(Key::from_jwk(jwk), Errc::key_mismatch, "match");
  }
}

TEST_CASE("encrypted and garbage PEM give clear errors") {
  const char* pkcs8_encrypted = R"(-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAiVDnKS973gZAICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEAQIEEE3A4FoYzDr0TMZQ8LjjgzAEgZAI
lZt1xS3ipdDHBv5vyg2FJYVd7TQxNPwnA7qW9h0W7j85F7aua2XCxuPzWE7/+OKQ
OWVHeWYYK/EuVLOPzygDFNt5j2RvJL8fl/jBEkCFg0/oxvldlHVwJYoPRqTG/NtH
ukWWBUONvN45Qt9DPv8FPTZCe96vKpnsCBRhgCwrMzUsiZ+YUry+CV+MaK7073c=
-----END ENCRYPTED PRIVATE KEY-----
)";
  const char* legacy_encrypted = R"(-----BEGIN EC PRIVATE KEY-----
Proc-Type: 4,ENCRYPTED
DEK-Info: AES-128-CBC,1D6FA082C7ACDB85C4A77503E01685AB

/1uycdb5XLRES+dc/3XNLLH5UNItv/2H+s9kmgdincTkvIGm0ZqAfY5qWymY7YvA
VsA2D8iQzMl4yH8gGZ/slJB++NZMBMOoD6ochXGFigF9XY0yJS4KyC662M11OfIN
ubMg5YqsBWS1QsM/LmGbii32nKv9cjdMezvoR9fySTI=
-----END EC PRIVATE KEY-----
)";
  check_refused(Key::from_pem(pkcs8_encrypted), Errc::malformed, "encrypted");
  check_refused(Key::from_pem(legacy_encrypted), Errc::malformed, "encrypted");

  check_refused(Key::from_pem(""), Errc::malformed, "no PEM");
  check_refused(Key::from_pem("just some text"), Errc::malformed, "no PEM");
  check_refused(Key::from_pem(std::string("\0\xff\x01-----", 8)), Errc::malformed, "no PEM");
  check_refused(Key::from_pem("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZI\n"), Errc::malformed, "END");
  check_refused(Key::from_pem("-----BEGIN PUBLIC KEY"), Errc::malformed, "truncated");
  check_refused(Key::from_pem("-----BEGIN PUBLIC KEY-----\nZ2FyYmFnZQ==\n-----END PUBLIC KEY-----\n"),
                Errc::malformed, "cannot decode");
  check_refused(Key::from_pem("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n"),
                Errc::malformed, "cannot decode");
  check_refused(Key::from_pem("-----BEGIN DSA PRIVATE KEY-----\nAAAA\n-----END DSA PRIVATE KEY-----\n"),
                Errc::malformed, "unsupported PEM block");
  // Public key under a private label, and the other way round.
  auto spki = signing_key(Alg::ES256).public_pem();
  REQUIRE(spki.ok());
  std::string relabelled = *spki;
  for (std::string::size_type at; (at = relabelled.find("PUBLIC KEY")) != std::string::npos;) {
    relabelled.replace(at, 10, "PRIVATE KEY");
  }
  CHECK(code(Key::from_pem(relabelled)) == "malformed");
  // A certificate is not a key (RFC 7517 B's certificate).
  auto b = jwtkit_test::load_vector("rfc7517_B_x5c.json");
  std::string cert = "-----BEGIN CERTIFICATE-----\n" + b["jwk"]["x5c"][0].get<std::string>() + "\n-----END CERTIFICATE-----\n";
  check_refused(Key::from_pem(cert), Errc::malformed, "certificate");
  // Keys of algorithms jwtkit does not implement.
  check_refused(Key::from_pem("-----BEGIN PUBLIC KEY-----\n"
                              "MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAE5S1j3+rbxHrUiju20akqJ+zG9hvBAmKH\n"
                              "DqVT50SKhd1T/LoW4qZJIeOPfFQVt1hLT3SlQZeSsKhY6CepR4WQUg==\n"
                              "-----END PUBLIC KEY-----\n"),
                Errc::malformed, "secp256k1");
  check_refused(Key::from_pem("-----BEGIN PUBLIC KEY-----\n"
                              "MCowBQYDK2VuAyEA2F75niJWb6ur83ZzUXVQwo1aoZRvBnMwp9oN83fICRA=\n"
                              "-----END PUBLIC KEY-----\n"),
                Errc::malformed, "unsupported key type");
}

TEST_CASE("malformed JWKs give clear errors, never a crash") {
  check_refused(Key::from_jwk(json::array()), Errc::malformed, "object");
  check_refused(Key::from_jwk(json{{"n", "AQAB"}}), Errc::malformed, "kty");
  check_refused(Key::from_jwk(json{{"kty", 1}}), Errc::malformed, "kty");
  check_refused(Key::from_jwk(json{{"kty", "XYZ"}}), Errc::malformed, "XYZ");
  check_refused(Key::from_jwk(json{{"kty", "RSA"}, {"e", "AQAB"}}), Errc::malformed, "\"n\"");
  check_refused(Key::from_jwk(json{{"kty", "RSA"}, {"n", 5}, {"e", "AQAB"}}), Errc::malformed, "string");
  check_refused(Key::from_jwk(json{{"kty", "RSA"}, {"n", "AQAB="}, {"e", "AQAB"}}), Errc::malformed, "\"n\"");
  check_refused(Key::from_jwk(json{{"kty", "oct"}, {"k", ""}}), Errc::malformed, "empty");
  check_refused(Key::from_jwk(json{{"kty", "EC"}, {"crv", "P-256"}}), Errc::malformed, "\"x\"");
  check_refused(Key::from_jwk(json{{"kty", "OKP"}, {"crv", "X25519"}, {"x", "AAAA"}}), Errc::malformed, "X25519");
  json kid_number = public_jwk(Alg::ES256);
  kid_number["kid"] = 7;
  check_refused(Key::from_jwk(kid_number), Errc::malformed, "kid");
  check_refused(Key::from_jwk(std::string_view("{not json")), Errc::malformed, "JSON");
}

TEST_CASE("HMAC secrets shorter than the hash are refused") {
  check_refused(Key::from_secret(std::string(31, 'k')), Errc::malformed, "shorter than 32");
  check_refused(Key::from_secret(""), Errc::malformed, "shorter than 32");
  auto k32 = Key::from_secret(std::string(32, 'k'));
  REQUIRE(k32.ok());
  CHECK(k32->check_alg(Alg::HS256).ok());
  CHECK(code(k32->check_alg(Alg::HS384)) == "key_mismatch");
  CHECK(code(k32->check_alg(Alg::HS512)) == "key_mismatch");
  CHECK(code(jwtkit::create_signature(*k32, Alg::HS384, "x")) == "key_mismatch");
  auto k48 = Key::from_secret(std::string(48, 'k'));
  REQUIRE(k48.ok());
  CHECK(k48->check_alg(Alg::HS384).ok());
  CHECK(code(k48->check_alg(Alg::HS512)) == "key_mismatch");
  // Same through a JWK: a 47-byte "k" for HS384 loads but cannot serve HS384.
  json jwk = {{"kty", "oct"}, {"k", jwtkit::base64url::encode(std::string(47, 'k'))}};
  auto k47 = Key::from_jwk(jwk);
  REQUIRE(k47.ok());
  CHECK_THAT(k47->check_alg(Alg::HS384).error().message(), contains("at least 48"));
  jwk["alg"] = "HS384";
  auto restricted = Key::from_jwk(jwk);
  REQUIRE(restricted.ok());
  CHECK(code(restricted->check_alg(Alg::HS384)) == "key_mismatch");
}

TEST_CASE("a key serves only its own algorithms") {
  for (Alg key_alg : jwtkit::kAllAlgs) {
    const Key& key = signing_key(key_alg);
    for (Alg alg : jwtkit::kAllAlgs) {
      bool same_family = jwtkit::key_type_for(alg) == key.type();
      // HMAC secrets are the hash size of their own alg: a 32-byte secret cannot do HS512.
      bool long_enough = !key.is_symmetric() || key.bits() >= signing_key(alg).bits();
      INFO(jwtkit::to_string(key_alg) << " key used for " << jwtkit::to_string(alg));
      CHECK(key.check_alg(alg).ok() == (same_family && long_enough));
    }
  }
  // with_alg restricts; a restricted key refuses the other algorithms of its family.
  auto rs = signing_key(Alg::RS256).with_alg(Alg::PS384);
  REQUIRE(rs.ok());
  CHECK(rs->check_alg(Alg::PS384).ok());
  CHECK(code(rs->check_alg(Alg::RS256)) == "key_mismatch");
  CHECK(code(rs->with_alg(Alg::RS256)) == "key_mismatch");
  CHECK(code(signing_key(Alg::ES256).with_alg(Alg::ES384)) == "key_mismatch");
  // use other than "sig" and key_ops without sign/verify refuse every algorithm.
  json enc = public_jwk(Alg::ES256);
  enc["use"] = "enc";
  CHECK(code(Key::from_jwk(enc)->check_alg(Alg::ES256)) == "key_mismatch");
  json ops = public_jwk(Alg::ES256);
  ops["key_ops"] = {"encrypt"};
  CHECK(code(Key::from_jwk(ops)->check_alg(Alg::ES256)) == "key_mismatch");
  ops["key_ops"] = {"verify"};
  CHECK(Key::from_jwk(ops)->check_alg(Alg::ES256).ok());
}

TEST_CASE("JwkSet skips unusable keys instead of failing") {
  json doc = {{"keys",
               {json{{"kty", "XYZ"}, {"kid", "future"}}, public_jwk(Alg::ES256), "not an object",
                json{{"kty", "RSA"}, {"kid", "weak"}, {"n", "AQAB"}, {"e", "AQAB"}}, public_jwk(Alg::EdDSA)}}};
  auto set = JwkSet::parse(doc);
  INFO(status(set));
  REQUIRE(set.ok());
  REQUIRE(set->keys().size() == 2);
  REQUIRE(set->skipped().size() == 3);
  CHECK(set->skipped()[0].index == 0);
  CHECK(set->skipped()[0].kid == "future");
  CHECK_THAT(set->skipped()[0].reason, contains("XYZ"));
  CHECK(set->skipped()[1].index == 2);
  CHECK(set->skipped()[2].kid == "weak");
  // Not a JWK Set at all: an error.
  CHECK(code(JwkSet::parse(json::array())) == "malformed");
  CHECK(code(JwkSet::parse(json{{"keys", "x"}})) == "malformed");
  CHECK(code(JwkSet::parse(std::string_view("{\"keys\":[]"))) == "malformed");
}

TEST_CASE("JwkSet skips every key whose kid is shared") {
  json a = public_jwk(Alg::ES256);
  json b = public_jwk(Alg::EdDSA);
  json c = public_jwk(Alg::ES384);
  a["kid"] = "same";
  b["kid"] = "same";
  auto set = JwkSet::parse(json{{"keys", {a, b, c}}});
  REQUIRE(set.ok());
  REQUIRE(set->keys().size() == 1);
  CHECK(set->keys()[0].type() == KeyType::ec_p384);
  REQUIRE(set->skipped().size() == 2);
  CHECK_THAT(set->skipped()[0].reason, contains("more than one key"));
  CHECK(set->skipped()[1].kid == "same");
}

TEST_CASE("published JWKS never contains private members, for every key type") {
  std::vector<Key> keys;
  for (Alg alg : {Alg::RS256, Alg::ES256, Alg::ES384, Alg::ES512, Alg::EdDSA, Alg::HS256, Alg::HS512}) {
    REQUIRE(signing_key(alg).can_sign());
    keys.push_back(signing_key(alg));
  }
  // Also through a parsed set of private JWKs.
  json private_set = {{"keys", json::array()}};
  for (const Key& k : keys) private_set["keys"].push_back(*k.private_jwk());
  auto parsed = JwkSet::parse(private_set);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->keys().size() == keys.size());
  for (const JwkSet& set : {JwkSet(keys), *parsed}) {
    json published = set.to_public_json();
    REQUIRE(published["keys"].size() == 5);  // the two HMAC secrets are left out
    for (const auto& k : published["keys"]) {
      for (const char* m : {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}) {
        INFO(k.dump());
        CHECK_FALSE(k.contains(m));
      }
      // What is published loads as a public key.
      auto back = Key::from_jwk(k);
      REQUIRE(back.ok());
      CHECK_FALSE(back->can_sign());
    }
    std::string text = published.dump();
    for (const Key& k : keys) {
      if (!k.is_symmetric()) continue;
      CHECK(text.find((*k.private_jwk())["k"].get<std::string>()) == std::string::npos);
    }
  }
}

TEST_CASE("kid defaults to the RFC 7638 thumbprint and with_kid renames") {
  const Key& k = signing_key(Alg::ES256);
  CHECK(k.kid() == k.thumbprint());
  CHECK(k.thumbprint().size() == 43);
  Key renamed = k.with_kid("2024-key");
  CHECK(renamed.kid() == "2024-key");
  CHECK(renamed.thumbprint() == k.thumbprint());
  CHECK(k.kid() == k.thumbprint());  // the original is unchanged
  CHECK(signing_key(Alg::HS256).kid().empty());
  CHECK(signing_key(Alg::HS256).bits() == 256);
  CHECK(signing_key(Alg::RS256).bits() == 2048);
  CHECK(signing_key(Alg::ES512).bits() == 521);
}
