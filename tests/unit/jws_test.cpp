// JWS compact sign/verify: round trips, tampering, and one test per verification rule.
#include <jwtkit/base64url.hpp>
#include <jwtkit/jwk.hpp>
#include <jwtkit/jws.hpp>
#include <jwtkit/jwt.hpp>
#include <jwtkit/key.hpp>

#include "catch.hpp"
#include "support/result_check.hpp"
#include "support/test_keys.hpp"

#include <string>
#include <vector>

using jwtkit::Alg;
using jwtkit::Errc;
using jwtkit::JwsVerifier;
using jwtkit::JwsVerifierOptions;
using jwtkit::Key;
using jwtkit_test::code;
using jwtkit_test::contains;
using jwtkit_test::signing_key;
using jwtkit_test::status;
using jwtkit_test::verifying_key;
using json = nlohmann::json;
namespace b64 = jwtkit::base64url;

namespace {

std::vector<Alg> all_algs() { return {jwtkit::kAllAlgs.begin(), jwtkit::kAllAlgs.end()}; }

JwsVerifier make_verifier(std::vector<Key> keys, std::vector<Alg> algs, jwtkit::JwsLimits limits = {},
                          std::vector<std::string> crit = {}) {
  auto v = JwsVerifier::create(std::move(keys), JwsVerifierOptions{std::move(algs), limits, std::move(crit)});
  REQUIRE(v.ok());
  return *v;
}

// A token over exactly these header and payload octets, signed with `key` under `alg`
// (whatever the header claims): how an attacker builds tokens.
std::string forge(const Key& key, Alg alg, const std::string& header, const std::string& payload) {
  std::string input = b64::encode(header) + "." + b64::encode(payload);
  auto sig = jwtkit::create_signature(key, alg, input);
  INFO(status(sig));
  REQUIRE(sig.ok());
  return input + "." + b64::encode(*sig);
}

std::string header_for(Alg alg) { return R"({"alg":")" + std::string(jwtkit::to_string(alg)) + "\"}"; }

struct Parts {
  std::string header, payload, signature;  // still encoded
};
Parts parts(const std::string& token) {
  auto d1 = token.find('.');
  auto d2 = token.rfind('.');
  return {token.substr(0, d1), token.substr(d1 + 1, d2 - d1 - 1), token.substr(d2 + 1)};
}
std::string join(const Parts& p) { return p.header + "." + p.payload + "." + p.signature; }

// DER SEQUENCE { INTEGER r, INTEGER s } from a JWS r||s signature (lengths < 128 only).
std::string to_der(const std::string& raw) {
  auto integer = [](std::string v) {
    std::size_t i = 0;
    while (i + 1 < v.size() && v[i] == 0) ++i;
    v = v.substr(i);
    if (static_cast<unsigned char>(v[0]) & 0x80) v.insert(v.begin(), '\0');
    return std::string("\x02", 1) + static_cast<char>(v.size()) + v;
  };
  std::string body = integer(raw.substr(0, raw.size() / 2)) + integer(raw.substr(raw.size() / 2));
  return std::string("\x30", 1) + static_cast<char>(body.size()) + body;
}

const char* const kP256Order = "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551";

std::string hex_bytes(const char* hex) {
  std::string out;
  for (std::size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex + i, 2), nullptr, 16));
  }
  return out;
}

}  // namespace

TEST_CASE("sign then verify round trip for all 13 algorithms") {
  for (Alg alg : jwtkit::kAllAlgs) {
    INFO("alg " << jwtkit::to_string(alg));
    const std::string payload = R"({"sub":"alice","n":1})";
    auto token = jwtkit::sign_compact(signing_key(alg), alg, payload, json{{"typ", "JWT"}});
    INFO(status(token));
    REQUIRE(token.ok());
    auto verifier = make_verifier({verifying_key(alg)}, {alg});
    auto r = verifier.verify(*token);
    INFO(status(r));
    REQUIRE(r.ok());
    CHECK(r->payload() == payload);
    CHECK(r->alg() == alg);
    CHECK(r->kid() == signing_key(alg).kid());
    CHECK(r->header()["alg"] == jwtkit::to_string(alg));
    CHECK(r->header()["typ"] == "JWT");
    if (!signing_key(alg).kid().empty()) CHECK(r->header()["kid"] == signing_key(alg).kid());
    // Raw signatures have the JWS sizes: HMAC the hash, RSA the modulus, ECDSA 2 * field.
    auto sig = b64::decode(parts(*token).signature);
    REQUIRE(sig.ok());
    const std::size_t expected_size[] = {32, 48, 64, 256, 256, 256, 256, 256, 256, 64, 96, 132, 64};
    CHECK(sig->size() == expected_size[static_cast<int>(alg)]);
    // A public key cannot sign.
    if (!signing_key(alg).is_symmetric()) {
      CHECK(code(jwtkit::sign_compact(verifying_key(alg), alg, payload)) == "key_mismatch");
    }
  }
  // The empty payload is a payload.
  auto empty = jwtkit::sign_compact(signing_key(Alg::ES256), Alg::ES256, "");
  REQUIRE(empty.ok());
  auto r = make_verifier({verifying_key(Alg::ES256)}, {Alg::ES256}).verify(*empty);
  REQUIRE(r.ok());
  CHECK(r->payload().empty());
}

TEST_CASE("tampering with any byte of header, payload or signature fails") {
  for (Alg alg : jwtkit::kAllAlgs) {
    INFO("alg " << jwtkit::to_string(alg));
    auto token = jwtkit::sign_compact(signing_key(alg), alg, R"({"sub":"alice","admin":false})");
    REQUIRE(token.ok());
    auto verifier = make_verifier({verifying_key(alg)}, all_algs());
    REQUIRE(verifier.verify(*token).ok());
    std::size_t tried = 0;
    for (std::size_t i = 0; i < token->size(); ++i) {
      // Two different replacements per position, so each position really changes.
      for (char replacement : {'A', 'x'}) {
        std::string t = *token;
        if (t[i] == replacement) continue;
        t[i] = replacement;
        auto r = verifier.verify(t);
        if (r.ok()) FAIL("accepted with position " << i << " changed to " << replacement << ": " << t);
        ++tried;
      }
      // Dropping the position, or everything from it on, also fails.
      std::string dropped = *token;
      dropped.erase(i, 1);
      CHECK_FALSE(verifier.verify(dropped).ok());
      CHECK_FALSE(verifier.verify(token->substr(0, i)).ok());
    }
    CHECK(tried >= token->size());
    CHECK_FALSE(verifier.verify(*token + "A").ok());
    // Flipping each bit of the decoded signature fails too (not just the encoding).
    Parts p = parts(*token);
    std::string sig = *b64::decode(p.signature);
    for (std::size_t byte = 0; byte < sig.size(); ++byte) {
      std::string s = sig;
      s[byte] = static_cast<char>(s[byte] ^ (1 << (byte % 8)));
      Parts q = p;
      q.signature = b64::encode(s);
      CHECK(code(verifier.verify(join(q))) == "bad_signature");
    }
  }
}

TEST_CASE("rule: a verifier needs a non-empty allow-list") {
  auto v = JwsVerifier::create({verifying_key(Alg::ES256)}, JwsVerifierOptions{});
  REQUIRE_FALSE(v.ok());
  CHECK(v.error().code() == Errc::invalid_argument);
  auto from_set = JwsVerifier::create(jwtkit::JwkSet(std::vector<Key>{verifying_key(Alg::ES256)}), JwsVerifierOptions{});
  CHECK(code(from_set) == "invalid_argument");
}

TEST_CASE("rule: the allow-list is enforced") {
  auto rs = jwtkit::sign_compact(signing_key(Alg::RS256), Alg::RS256, "{}");
  REQUIRE(rs.ok());
  Key rsa = verifying_key(Alg::RS256);
  CHECK(code(make_verifier({rsa}, {Alg::PS256, Alg::RS512}).verify(*rs)) == "alg_not_allowed");
  CHECK(make_verifier({rsa}, {Alg::PS256, Alg::RS256}).verify(*rs).ok());
  auto hs = jwtkit::sign_compact(signing_key(Alg::HS512), Alg::HS512, "{}");
  REQUIRE(hs.ok());
  CHECK(code(make_verifier({signing_key(Alg::HS512)}, {Alg::HS256}).verify(*hs)) == "alg_not_allowed");
}

TEST_CASE("rule: none, None and unknown algorithms are unsupported") {
  auto verifier = make_verifier({verifying_key(Alg::HS256), verifying_key(Alg::RS256)}, all_algs());
  for (const char* name : {"none", "None", "NONE", "nOnE", "hs256", "HS256 ", "RS1", "ES256K", "Ed25519", ""}) {
    INFO("alg \"" << name << "\"");
    std::string header = R"({"alg":")" + std::string(name) + "\"}";
    std::string token = b64::encode(header) + "." + b64::encode("{}") + "." + b64::encode("sig");
    CHECK(code(verifier.verify(token)) == "unsupported_alg");
    CHECK_FALSE(jwtkit::parse_alg(name).has_value());
  }
  // alg none with the empty signature it comes with: refused too.
  std::string none = b64::encode(R"({"alg":"none"})") + "." + b64::encode("{}") + ".";
  CHECK_FALSE(verifier.verify(none).ok());
}

TEST_CASE("rule: jwk, jku, x5u and x5c in the header never supply a key") {
  // The attacker signs with their own key and embeds it (or points to it) in the header.
  for (Alg alg : {Alg::RS256, Alg::ES256, Alg::EdDSA}) {
    INFO("alg " << jwtkit::to_string(alg));
    auto attacker = Key::generate(alg);
    REQUIRE(attacker.ok());
    json attacker_jwk = *attacker->public_jwk();
    Key legit = verifying_key(alg);
    for (const json& extra : {json{{"jwk", attacker_jwk}}, json{{"jwk", attacker_jwk}, {"kid", legit.kid()}},
                              json{{"jwk", attacker_jwk}, {"kid", attacker->kid()}},
                              json{{"jku", "https://attacker.example/jwks.json"}},
                              json{{"x5u", "https://attacker.example/cert.pem"}},
                              json{{"x5c", json::array({"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"})}}}) {
      INFO("header " << extra.dump());
      auto token = jwtkit::sign_compact(*attacker, alg, R"({"sub":"admin"})", extra);
      REQUIRE(token.ok());
      auto with_legit = make_verifier({legit}, all_algs()).verify(*token);
      CHECK_FALSE(with_legit.ok());
      auto with_nothing = make_verifier({}, all_algs()).verify(*token);
      CHECK(code(with_nothing) == "key_not_found");
    }
  }
  // An HMAC token whose header carries the "secret" as an oct JWK.
  std::string secret(32, 's');
  auto hmac = Key::from_secret(secret);
  REQUIRE(hmac.ok());
  json embedded = {{"jwk", {{"kty", "oct"}, {"k", b64::encode(secret)}}}};
  auto token = jwtkit::sign_compact(*hmac, Alg::HS256, "{}", embedded);
  REQUIRE(token.ok());
  CHECK(code(make_verifier({signing_key(Alg::HS256)}, all_algs()).verify(*token)) == "bad_signature");
  CHECK(code(make_verifier({}, all_algs()).verify(*token)) == "key_not_found");
}

TEST_CASE("rule: kid is only a lookup key") {
  Key a = verifying_key(Alg::ES256).with_kid("key-a");
  Key b = verifying_key(Alg::ES384).with_kid("../keys/b");
  auto verifier = make_verifier({a, b}, all_algs());
  auto with_kid = [](Alg alg, const std::string& kid) {
    auto t = jwtkit::sign_compact(signing_key(alg), alg, "{}", json{{"kid", kid}});
    REQUIRE(t.ok());
    return *t;
  };
  CHECK(verifier.verify(with_kid(Alg::ES256, "key-a")).ok());
  CHECK(code(verifier.verify(with_kid(Alg::ES256, "key-b"))) == "key_not_found");
  CHECK(code(verifier.verify(with_kid(Alg::ES256, "KEY-A"))) == "key_not_found");
  CHECK(code(verifier.verify(with_kid(Alg::ES256, "key-a "))) == "key_not_found");
  for (const char* hostile : {"../../../../etc/passwd", "/dev/zero", "key-a/../key-a", "' OR '1'='1", "*",
                              "key-a\n", "file:///etc/passwd", "https://attacker.example/key"}) {
    INFO("kid " << hostile);
    CHECK(code(verifier.verify(with_kid(Alg::ES256, hostile))) == "key_not_found");
  }
  // "../keys/b" is just a string: it names key b exactly, nothing else.
  CHECK(verifier.verify(with_kid(Alg::ES384, "../keys/b")).ok());
  CHECK(code(verifier.verify(with_kid(Alg::ES384, "../keys/../keys/b"))) == "key_not_found");
  auto r = verifier.verify(with_kid(Alg::ES384, "../keys/b"));
  REQUIRE(r.ok());
  CHECK(r->kid() == "../keys/b");
  // A non-string kid is malformed.
  std::string numeric = forge(signing_key(Alg::ES256), Alg::ES256, R"({"alg":"ES256","kid":7})", "{}");
  CHECK(code(verifier.verify(numeric)) == "malformed");
  // Without kid every key that fits the algorithm is tried.
  auto no_kid = jwtkit::sign_compact(signing_key(Alg::ES384).with_kid(""), Alg::ES384, "{}");
  REQUIRE(no_kid.ok());
  CHECK(verifier.verify(*no_kid).ok());
}

TEST_CASE("rule: an RSA public key is never an HMAC secret (no algorithm confusion)") {
  Key rsa = verifying_key(Alg::RS256);
  std::vector<std::string> public_material = {*rsa.public_pem(jwtkit::PemFormat::spki),
                                              *rsa.public_pem(jwtkit::PemFormat::pkcs1), rsa.public_jwk()->dump()};
  auto verifier = make_verifier({rsa}, {Alg::HS256, Alg::RS256});
  for (const auto& bytes : public_material) {
    auto as_secret = Key::from_secret(bytes);
    REQUIRE(as_secret.ok());
    for (const json& extra : {json::object(), json{{"kid", rsa.kid()}}}) {
      auto token = jwtkit::sign_compact(as_secret->with_kid(""), Alg::HS256, R"({"sub":"admin"})", extra);
      REQUIRE(token.ok());
      CHECK(code(verifier.verify(*token)) == "key_mismatch");  // the RSA key does not serve HS256
    }
    CHECK(code(jwtkit::verify_signature(rsa, Alg::HS256, "x", *jwtkit::create_signature(*as_secret, Alg::HS256, "x"))) ==
          "key_mismatch");
  }
}

TEST_CASE("rule: an HMAC secret and an RSA key in one verifier do not mix") {
  // A secret of PEM size next to the RSA key: each verifies only its own algorithm.
  const std::string pem = *verifying_key(Alg::RS256).public_pem();
  auto secret = Key::from_secret(std::string(pem.size(), 'q'));
  REQUIRE(secret.ok());
  Key rsa = verifying_key(Alg::RS256);
  auto verifier = make_verifier({*secret, rsa}, {Alg::HS256, Alg::RS256});

  auto hs = jwtkit::sign_compact(*secret, Alg::HS256, "{}");
  REQUIRE(hs.ok());
  CHECK(verifier.verify(*hs).ok());
  auto rs = jwtkit::sign_compact(signing_key(Alg::RS256), Alg::RS256, "{}");
  REQUIRE(rs.ok());
  CHECK(verifier.verify(*rs).ok());

  // HS256 MAC keyed with the RSA public key's PEM: the secret does not match, the RSA key
  // is not an HMAC key.
  auto pem_secret = Key::from_secret(pem);
  REQUIRE(pem_secret.ok());
  auto confused = jwtkit::sign_compact(*pem_secret, Alg::HS256, R"({"sub":"admin"})");
  REQUIRE(confused.ok());
  CHECK(code(verifier.verify(*confused)) == "bad_signature");
  // An "RS256" token whose signature is the HMAC of the shared secret: refused.
  std::string rs_header = header_for(Alg::RS256);
  std::string mac_as_rsa = forge(*secret, Alg::HS256, rs_header, "{}");
  CHECK(code(verifier.verify(mac_as_rsa)) == "bad_signature");
  CHECK(code(jwtkit::verify_signature(*secret, Alg::RS256, "x", "y")) == "key_mismatch");
}

TEST_CASE("rule: an EC key verifies only its own curve's algorithm") {
  auto es384 = jwtkit::sign_compact(signing_key(Alg::ES384).with_kid(""), Alg::ES384, "{}");
  REQUIRE(es384.ok());
  Key p256 = verifying_key(Alg::ES256);
  CHECK(code(make_verifier({p256}, {Alg::ES256, Alg::ES384, Alg::ES512}).verify(*es384)) == "key_mismatch");
  Parts p = parts(*es384);
  std::string input = p.header + "." + p.payload;
  std::string sig = *b64::decode(p.signature);
  CHECK(code(jwtkit::verify_signature(p256, Alg::ES384, input, sig)) == "key_mismatch");
  CHECK(code(jwtkit::verify_signature(p256, Alg::ES512, input, sig)) == "key_mismatch");
  CHECK(code(jwtkit::create_signature(signing_key(Alg::ES256), Alg::ES384, input)) == "key_mismatch");
  // An Ed25519 key is not an ECDSA key, and the other way round.
  CHECK(code(jwtkit::verify_signature(verifying_key(Alg::EdDSA), Alg::ES256, input, sig)) == "key_mismatch");
  CHECK(code(jwtkit::verify_signature(p256, Alg::EdDSA, input, sig)) == "key_mismatch");
}

TEST_CASE("rule: a JWK alg binds the key to that algorithm") {
  json jwk = *verifying_key(Alg::RS256).public_jwk();
  jwk["alg"] = "RS256";
  auto bound = Key::from_jwk(jwk);
  REQUIRE(bound.ok());
  auto ps = jwtkit::sign_compact(signing_key(Alg::RS256), Alg::PS256, "{}");
  REQUIRE(ps.ok());
  auto verifier = make_verifier({*bound}, {Alg::RS256, Alg::PS256});
  auto r = verifier.verify(*ps);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == Errc::key_mismatch);
  CHECK_THAT(r.error().message(), contains("restricted to RS256"));
  auto rs = jwtkit::sign_compact(signing_key(Alg::RS256), Alg::RS256, "{}");
  REQUIRE(rs.ok());
  CHECK(verifier.verify(*rs).ok());
}

TEST_CASE("rule: ECDSA signatures must be raw r||s of the curve's size, 0 < r, s < n") {
  Key pub = verifying_key(Alg::ES256);
  const std::string input = "eyJhbGciOiJFUzI1NiJ9.e30";
  auto good = jwtkit::create_signature(signing_key(Alg::ES256), Alg::ES256, input);
  REQUIRE(good.ok());
  REQUIRE(good->size() == 64);
  REQUIRE(jwtkit::verify_signature(pub, Alg::ES256, input, *good).ok());
  const std::string r = good->substr(0, 32), s = good->substr(32);
  auto refused = [&](const std::string& sig, const char* why) {
    auto res = jwtkit::verify_signature(pub, Alg::ES256, input, sig);
    INFO(why << ": " << status(res));
    REQUIRE_FALSE(res.ok());
    CHECK(res.error().code() == Errc::bad_signature);
    return res.error().message();
  };
  // The same signature in DER (what OpenSSL itself would accept).
  CHECK_THAT(refused(to_der(*good), "DER"), contains("must be 64 bytes"));
  // Wrong lengths, including r||s with a leading zero byte each and P-384 sized.
  CHECK_THAT(refused(good->substr(0, 63), "63 bytes"), contains("must be 64 bytes"));
  CHECK_THAT(refused(*good + '\0', "65 bytes"), contains("must be 64 bytes"));
  CHECK_THAT(refused('\0' + r + '\0' + s, "66 bytes"), contains("must be 64 bytes"));
  CHECK_THAT(refused("", "empty"), contains("must be 64 bytes"));
  CHECK_THAT(refused(*good + *good, "128 bytes"), contains("must be 64 bytes"));
  // Out of range scalars.
  const std::string zero(32, '\0'), n = hex_bytes(kP256Order);
  CHECK_THAT(refused(zero + s, "r = 0"), contains("out of range"));
  CHECK_THAT(refused(r + zero, "s = 0"), contains("out of range"));
  CHECK_THAT(refused(zero + zero, "r = s = 0"), contains("out of range"));
  CHECK_THAT(refused(n + s, "r = n"), contains("out of range"));
  CHECK_THAT(refused(r + n, "s = n"), contains("out of range"));
  CHECK_THAT(refused(std::string(32, '\xff') + s, "r > n"), contains("out of range"));
  // Through the verifier as well.
  auto verifier = make_verifier({pub}, {Alg::ES256});
  CHECK(verifier.verify(input + "." + b64::encode(*good)).ok());
  CHECK(code(verifier.verify(input + "." + b64::encode(to_der(*good)))) == "bad_signature");
  CHECK(code(verifier.verify(input + "." + b64::encode(zero + s))) == "bad_signature");
}

TEST_CASE("rule: RSA signatures must be exactly the modulus length") {
  Key pub = verifying_key(Alg::RS256);
  auto sig = jwtkit::create_signature(signing_key(Alg::RS256), Alg::RS256, "x");
  REQUIRE(sig.ok());
  REQUIRE(jwtkit::verify_signature(pub, Alg::RS256, "x", *sig).ok());
  auto with_zero = jwtkit::verify_signature(pub, Alg::RS256, "x", '\0' + *sig);
  REQUIRE_FALSE(with_zero.ok());
  CHECK_THAT(with_zero.error().message(), contains("modulus length"));
  CHECK(code(jwtkit::verify_signature(pub, Alg::RS256, "x", sig->substr(1))) == "bad_signature");
}

TEST_CASE("rule: HMAC tags must be complete") {
  auto token = jwtkit::sign_compact(signing_key(Alg::HS256), Alg::HS256, "{}");
  REQUIRE(token.ok());
  auto verifier = make_verifier({signing_key(Alg::HS256)}, {Alg::HS256});
  REQUIRE(verifier.verify(*token).ok());
  Parts p = parts(*token);
  std::string tag = *b64::decode(p.signature);
  for (std::size_t len : {0u, 1u, 16u, 24u, 31u}) {
    INFO("tag truncated to " << len);
    Parts q = p;
    q.signature = b64::encode(tag.substr(0, len));
    CHECK_FALSE(verifier.verify(join(q)).ok());
    CHECK(code(jwtkit::verify_signature(signing_key(Alg::HS256), Alg::HS256, p.header + "." + p.payload,
                                        tag.substr(0, len))) == "bad_signature");
  }
  Parts longer = p;
  longer.signature = b64::encode(tag + "x");
  CHECK(code(verifier.verify(join(longer))) == "bad_signature");
  // An HS256 tag is not an HS512 tag, even with a key that serves both.
  auto h512 = Key::from_secret(std::string(64, 'k'));
  REQUIRE(h512.ok());
  auto t256 = jwtkit::create_signature(*h512, Alg::HS256, "x");
  REQUIRE(t256.ok());
  CHECK(code(jwtkit::verify_signature(*h512, Alg::HS512, "x", *t256)) == "bad_signature");
}

TEST_CASE("rule: HMAC keys shorter than the hash output cannot sign or verify") {
  auto k32 = Key::from_secret(std::string(32, 'k'));
  REQUIRE(k32.ok());
  CHECK(code(jwtkit::sign_compact(*k32, Alg::HS512, "{}")) == "key_mismatch");
  // A genuine HS512 tag made elsewhere with this 32-byte key is still refused.
  auto k64 = Key::from_secret(std::string(32, 'k') + std::string(32, '\0'));
  REQUIRE(k64.ok());
  // (HMAC pads short keys with zeros, so this 64-byte key computes the same tag.)
  std::string input = b64::encode(header_for(Alg::HS512)) + "." + b64::encode("{}");
  auto tag = jwtkit::create_signature(*k64, Alg::HS512, input);
  REQUIRE(tag.ok());
  CHECK(jwtkit::verify_signature(*k64, Alg::HS512, input, *tag).ok());
  CHECK(code(jwtkit::verify_signature(*k32, Alg::HS512, input, *tag)) == "key_mismatch");
  CHECK(code(make_verifier({*k32}, {Alg::HS512}).verify(input + "." + b64::encode(*tag))) == "key_mismatch");
}

TEST_CASE("rule: crit naming a parameter the verifier does not understand is rejected") {
  const Key& key = signing_key(Alg::HS256);
  auto token = [&](const std::string& header) { return forge(key, Alg::HS256, header, "{}"); };
  auto strict = make_verifier({key}, {Alg::HS256});
  auto understands = make_verifier({key}, {Alg::HS256}, {}, {"exp", "http://example.com/flag"});

  std::string custom = R"({"alg":"HS256","crit":["http://example.com/flag"],"http://example.com/flag":true})";
  auto r = strict.verify(token(custom));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == Errc::malformed);
  CHECK_THAT(r.error().message(), contains("does not understand"));
  CHECK(understands.verify(token(custom)).ok());

  // Listed in crit but absent from the header, registered names, and malformed crit values.
  CHECK(code(understands.verify(token(R"({"alg":"HS256","crit":["exp"]})"))) == "malformed");
  CHECK(code(understands.verify(token(R"({"alg":"HS256","crit":["alg"]})"))) == "malformed");
  // Registered names never belong in crit, even if the application claims to understand them.
  auto misconfigured = make_verifier({key}, {Alg::HS256}, {}, {"alg", "kid", "typ"});
  for (const char* header : {R"({"alg":"HS256","crit":["alg"]})", R"({"alg":"HS256","kid":"k","crit":["kid"]})",
                             R"({"alg":"HS256","typ":"JWT","crit":["typ"]})"}) {
    INFO(header);
    auto reg = misconfigured.verify(token(header));
    REQUIRE_FALSE(reg.ok());
    CHECK_THAT(reg.error().message(), contains("registered header"));
  }
  CHECK(code(understands.verify(token(R"({"alg":"HS256","crit":[]})"))) == "malformed");
  CHECK(code(understands.verify(token(R"({"alg":"HS256","crit":"exp","exp":1})"))) == "malformed");
  CHECK(code(understands.verify(token(R"({"alg":"HS256","crit":[7]})"))) == "malformed");
  // Unencoded payloads (RFC 7797) are not supported, even when b64 is "understood".
  auto b64_false = make_verifier({key}, {Alg::HS256}, {}, {"b64"});
  CHECK(code(b64_false.verify(token(R"({"alg":"HS256","b64":false,"crit":["b64"]})"))) == "malformed");
  // Unknown header parameters outside crit are ignored.
  CHECK(strict.verify(token(R"({"alg":"HS256","x-note":"hello"})")).ok());
}

TEST_CASE("rule: the header is a JSON object with a string alg and no duplicate members") {
  const Key& key = signing_key(Alg::HS256);
  auto verifier = make_verifier({key}, {Alg::HS256});
  for (const char* header : {R"([{"alg":"HS256"}])", R"("HS256")", "123", "null", R"({"alg":1})",
                             R"({"alg":null})", R"({"alg":["HS256"]})", R"({"alg":{"name":"HS256"}})", "{}",
                             R"({"typ":"JWT"})", R"({"alg":"HS256","alg":"HS256"})", R"({"alg":"none","alg":"HS256"})",
                             R"({"alg":"HS256","kid":"a","kid":"b"})", R"({"alg":"HS256")", "not json",
                             "{\"alg\":\"HS256\"} x"}) {
    INFO("header " << header);
    auto r = verifier.verify(forge(key, Alg::HS256, header, "{}"));
    CHECK(code(r) == "malformed");
  }
  for (const char* header : {R"([{"alg":"HS256"}])", R"("HS256")", "123", "null", "true"}) {
    INFO("header " << header);
    auto r = verifier.verify(forge(key, Alg::HS256, header, "{}"));
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message(), contains("JSON object"));
  }
  // Duplicate members in the payload are refused when it is read as claims.
  jwtkit::ClaimsPolicy policy;
  policy.require_exp = false;
  std::string dup_payload = forge(key, Alg::HS256, header_for(Alg::HS256), R"({"sub":"alice","sub":"admin"})");
  REQUIRE(verifier.verify(dup_payload).ok());  // the JWS layer does not read the payload
  auto jwt = jwtkit::verify_jwt(verifier, dup_payload, policy, jwtkit::from_unix(0));
  REQUIRE_FALSE(jwt.ok());
  CHECK(jwt.error().code() == Errc::malformed);
  CHECK_THAT(jwt.error().message(), contains("duplicate"));
}

TEST_CASE("rule: token size and JSON depth limits are enforced and configurable") {
  const Key& key = signing_key(Alg::HS256);
  std::string big_payload = "\"" + std::string(9000, 'a') + "\"";
  std::string big = forge(key, Alg::HS256, header_for(Alg::HS256), big_payload);
  auto r = make_verifier({key}, {Alg::HS256}).verify(big);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == Errc::malformed);
  CHECK_THAT(r.error().message(), contains("exceeds the limit"));
  CHECK(make_verifier({key}, {Alg::HS256}, jwtkit::JwsLimits{16 * 1024, 16}).verify(big).ok());
  std::string small = forge(key, Alg::HS256, header_for(Alg::HS256), "{}");
  CHECK(code(make_verifier({key}, {Alg::HS256}, jwtkit::JwsLimits{small.size() - 1, 16}).verify(small)) ==
        "malformed");
  CHECK(make_verifier({key}, {Alg::HS256}, jwtkit::JwsLimits{small.size(), 16}).verify(small).ok());

  // Depth: the header object is depth 1; 20 nested arrays inside go past 16.
  std::string nested = std::string(20, '[') + std::string(20, ']');
  std::string deep_header = R"({"alg":"HS256","x":)" + nested + "}";
  std::string deep = forge(key, Alg::HS256, deep_header, "{}");
  auto d = make_verifier({key}, {Alg::HS256}).verify(deep);
  REQUIRE_FALSE(d.ok());
  CHECK_THAT(d.error().message(), contains("nesting"));
  CHECK(make_verifier({key}, {Alg::HS256}, jwtkit::JwsLimits{8 * 1024, 32}).verify(deep).ok());
  // The payload, read as claims, has the same depth limit.
  std::string deep_claims = forge(key, Alg::HS256, header_for(Alg::HS256), R"({"x":)" + nested + "}");
  jwtkit::ClaimsPolicy policy;
  policy.require_exp = false;
  auto verifier = make_verifier({key}, {Alg::HS256});
  REQUIRE(verifier.verify(deep_claims).ok());
  CHECK(code(jwtkit::verify_jwt(verifier, deep_claims, policy, jwtkit::from_unix(0))) == "malformed");
}

TEST_CASE("rule: wrong segment count, bad base64url and empty parts are malformed") {
  const Key& key = signing_key(Alg::HS256);
  auto verifier = make_verifier({key}, {Alg::HS256});
  std::string token = forge(key, Alg::HS256, header_for(Alg::HS256), R"({"sub":"alice"})");
  REQUIRE(verifier.verify(token).ok());
  Parts p = parts(token);
  for (const std::string& t : {std::string(""), p.header, p.header + "." + p.payload,
                               token + ".", token + "." + p.signature, "." + token, token + "..",
                               p.header + ".." + p.signature + "." + p.payload, std::string("..")}) {
    INFO("token " << t);
    CHECK(code(verifier.verify(t)) == "malformed");
  }
  for (const std::string& t : {token + "." + p.signature, token + ".", token + "..", std::string("a.b.c.d.e")}) {
    INFO("token " << t);
    auto r = verifier.verify(t);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message(), contains("exactly three"));
  }
  // Characters outside base64url, padding, whitespace, in each part.
  for (const char* bad : {"+", "/", "=", "==", " ", "\n", "\t", "%", "\xc3\xa9"}) {
    for (int part = 0; part < 3; ++part) {
      Parts q = p;
      std::string& target = part == 0 ? q.header : part == 1 ? q.payload : q.signature;
      target.insert(target.size() / 2, bad);
      INFO("part " << part << " with \"" << bad << "\"");
      CHECK(code(verifier.verify(join(q))) == "malformed");
    }
  }
  std::string with_nul = token;
  with_nul.insert(3, 1, '\0');
  CHECK(code(verifier.verify(with_nul)) == "malformed");
  // Padding at the end of a part, and a part of impossible length (1 mod 4).
  CHECK(code(verifier.verify(p.header + "=." + p.payload + "." + p.signature)) == "malformed");
  CHECK(code(verifier.verify(p.header + "." + p.payload + "." + p.signature + "=")) == "malformed");
  CHECK(code(verifier.verify(p.header + "." + p.payload + "A." + p.signature)) == "malformed");
  // Non-zero unused trailing bits: the same bytes with a second encoding are refused.
  std::string sig = p.signature;  // 32 bytes -> 43 chars, the last carrying 2 unused bits
  REQUIRE(sig.size() == 43);
  std::string alt = sig;
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  int value = static_cast<int>(alphabet.find(sig.back()));
  REQUIRE((value & 3) == 0);
  alt.back() = alphabet[static_cast<std::size_t>(value | 1)];
  CHECK(code(verifier.verify(p.header + "." + p.payload + "." + alt)) == "malformed");
  // Empty header or signature.
  CHECK(code(verifier.verify("." + p.payload + "." + p.signature)) == "malformed");
  auto empty_sig = verifier.verify(p.header + "." + p.payload + ".");
  REQUIRE_FALSE(empty_sig.ok());
  CHECK(empty_sig.error().code() == Errc::malformed);
  CHECK_THAT(empty_sig.error().message(), contains("empty JWS signature"));
}

TEST_CASE("sign_compact builds the header from alg, kid and the extra members") {
  const Key& key = signing_key(Alg::ES256);
  CHECK(code(jwtkit::sign_compact(key, Alg::ES256, "{}", json::array())) == "invalid_argument");
  CHECK(code(jwtkit::sign_compact(key, Alg::ES256, "{}", json{{"alg", "none"}})) == "invalid_argument");
  CHECK(code(jwtkit::sign_compact(key, Alg::ES256, "{}", json{{"alg", "ES384"}})) == "invalid_argument");
  CHECK(code(jwtkit::sign_compact(key, Alg::ES384, "{}")) == "key_mismatch");
  auto t = jwtkit::sign_compact(key, Alg::ES256, "{}", json{{"alg", "ES256"}, {"kid", "chosen"}, {"typ", "at+jwt"}});
  REQUIRE(t.ok());
  auto header = json::parse(*b64::decode(parts(*t).header));
  CHECK(header == json{{"alg", "ES256"}, {"kid", "chosen"}, {"typ", "at+jwt"}});
}

TEST_CASE("verify never throws on hostile input") {
  auto verifier = make_verifier({verifying_key(Alg::ES256), signing_key(Alg::HS256)}, all_algs());
  std::string token = *jwtkit::sign_compact(signing_key(Alg::ES256), Alg::ES256, R"({"a":[1,2,{"b":null}]})");
  // Every prefix of a token and of its header and payload, decoded back in as JSON text.
  for (std::size_t i = 0; i <= token.size(); ++i) {
    auto r = verifier.verify(token.substr(0, i));
    if (!r.ok()) CHECK(r.error().code() != Errc::internal);
  }
  std::string header = R"({"alg":"ES256","kid":"x","crit":["a"],"a":{"b":[1,2,3]}})";
  for (std::size_t i = 0; i <= header.size(); ++i) {
    std::string t = b64::encode(header.substr(0, i)) + ".e30.AAAA";
    auto r = verifier.verify(t);
    CHECK_FALSE(r.ok());
    CHECK(r.error().code() != Errc::internal);
  }
  for (const char* text : {"\xff\xfe", "\"\\ud800\"", "{\"alg\":\"\\u0000\"}", "{\"alg\":1e999}", "[[[[[[[["}) {
    std::string t = b64::encode(text) + ".e30.AAAA";
    auto r = verifier.verify(t);
    CHECK_FALSE(r.ok());
    CHECK(r.error().code() != Errc::internal);
  }
}
