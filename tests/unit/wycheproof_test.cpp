// Project Wycheproof vectors (tests/vectors/wycheproof/), one TEST_CASE per data file.
//
// Signature files (ECDSA P1363, Ed25519, RSA PKCS#1 v1.5, RSA-PSS): the key is loaded from
// its JWK (publicKeyJwk / keyJwk) and, independently, from publicKeyPem; both must describe
// the same key (same RFC 7638 thumbprint). Each case runs through verify_signature():
//   - `valid`      must be accepted;
//   - `invalid`    must be rejected with Errc::bad_signature (never an internal error);
//   - `acceptable` cases (only RSA PKCS#1 v1.5 "MissingNull": a DigestInfo without the
//                  NULL parameters) are run, must not crash, and must give either success or
//                  bad_signature; jwtkit requires neither. They are counted per outcome and
//                  the counts are printed.
// HMAC files: JWS uses the full tag and RFC 7518 3.2 requires a key at least as long as the
// hash, so jwtkit rejects every truncated tag and every short key even when Wycheproof calls
// the MAC `valid`; only full-length tags with long-enough keys are accepted. Each rejected
// `valid` truncated tag is checked to be a prefix of jwtkit's own full tag, so the rejection
// is the length rule, not a wrong MAC.
// JWS / JWK / JWS-JWE files: compact JWS cases run through JwsVerifier with every algorithm
// allowed; JSON serialization and JWE cases are skipped and counted. jwtkit never accepts an
// `invalid` case, except the MixedKeySet case (see is_mixed_key_set_case) and two data defects
// (kSameAsValid), each explained below; `valid` cases are accepted except those listed in
// kDeliberateRejections, each with the jwtkit rule that refuses it.
#include <jwtkit/base64url.hpp>
#include <jwtkit/jwk.hpp>
#include <jwtkit/jws.hpp>
#include <jwtkit/key.hpp>

#include "catch.hpp"
#include "support/result_check.hpp"
#include "support/vector_files.hpp"

#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

using jwtkit::Alg;
using jwtkit::Errc;
using jwtkit::JwkSet;
using jwtkit::JwsVerifier;
using jwtkit::JwsVerifierOptions;
using jwtkit::Key;
using jwtkit_test::code;
using jwtkit_test::from_hex;
using jwtkit_test::status;
using json = nlohmann::json;

namespace {

struct Tally {
  std::size_t valid_accepted = 0;
  std::size_t invalid_rejected = 0;
  std::size_t acceptable_accepted = 0;
  std::size_t acceptable_rejected = 0;
  std::size_t skipped = 0;  // JSON serialization / JWE cases
  std::size_t valid_rejected_by_rule = 0;
  std::size_t data_defects = 0;   // see kSameAsValid
  std::size_t mixed_key_set = 0;  // see is_mixed_key_set_case
  std::vector<std::string> failures;

  std::size_t total() const {
    return valid_accepted + invalid_rejected + acceptable_accepted + acceptable_rejected + skipped +
           valid_rejected_by_rule + data_defects + mixed_key_set + failures.size();
  }
};

std::string describe(const std::string& file, const json& t) {
  return file + " tcId " + std::to_string(t["tcId"].get<int>()) + " (" + t["result"].get<std::string>() +
         ", " + t["comment"].get<std::string>() + ")";
}

void report(const std::string& file, const Tally& tally) {
  std::cout << file << ": " << tally.valid_accepted << " valid accepted, " << tally.invalid_rejected
            << " invalid rejected, " << tally.acceptable_accepted << " acceptable accepted, "
            << tally.acceptable_rejected << " acceptable rejected, " << tally.valid_rejected_by_rule
            << " valid rejected by a jwtkit rule, " << tally.data_defects << " data defects, "
            << tally.mixed_key_set << " MixedKeySet accepted via HMAC, "
            << tally.skipped << " skipped, "
            << tally.failures.size() << " failures\n";
}

// Every case of the file was looked at, and nothing failed.
void finish(const std::string& file, const json& doc, const Tally& tally) {
  report(file, tally);
  CHECK(tally.total() == doc["numberOfTests"].get<std::size_t>());
  CHECK(tally.failures == std::vector<std::string>{});
  CHECK(tally.valid_accepted > 0);
}

// The group's public key from its JWK and from its PEM; they must agree.
Key load_group_key(const std::string& file, const json& group, const char* jwk_member) {
  INFO(file);
  std::optional<Key> from_jwk;
  if (group.contains(jwk_member) && !group[jwk_member].is_null()) {
    auto k = Key::from_jwk(group[jwk_member]);
    INFO("JWK " << group[jwk_member].dump() << ": " << status(k));
    REQUIRE(k.ok());
    from_jwk = *k;
  }
  auto from_pem = Key::from_pem(group["publicKeyPem"].get<std::string>());
  INFO("PEM " << group["publicKeyPem"].get<std::string>() << ": " << status(from_pem));
  REQUIRE(from_pem.ok());
  CHECK_FALSE(from_pem->can_sign());
  if (from_jwk) {
    CHECK(from_jwk->thumbprint() == from_pem->thumbprint());
    return *from_jwk;
  }
  return *from_pem;
}

// A signature-verification file: msg/sig in hex, one key per group.
void run_signature_file(const std::string& file, Alg alg, const char* jwk_member) {
  json doc = jwtkit_test::load_vector("wycheproof/" + file);
  Tally tally;
  std::map<std::string, std::size_t> acceptable_kinds;
  for (const auto& group : doc["testGroups"]) {
    if (group.contains("keySize") && group["keySize"].get<int>() < 2048) {
      // (None in this snapshot.) jwtkit refuses RSA keys under 2048 bits at load, so every
      // case of such a group is rejected, valid or not.
      CHECK(code(Key::from_pem(group["publicKeyPem"].get<std::string>())) == "malformed");
      for (const auto& t : group["tests"]) {
        if (t["result"] == "valid") ++tally.valid_rejected_by_rule;
        else if (t["result"] == "invalid") ++tally.invalid_rejected;
        else ++tally.acceptable_rejected;
      }
      continue;
    }
    Key key = load_group_key(file, group, jwk_member);
    REQUIRE(key.check_alg(alg).ok());
    for (const auto& t : group["tests"]) {
      const std::string msg = from_hex(t["msg"].get<std::string>());
      const std::string sig = from_hex(t["sig"].get<std::string>());
      auto r = jwtkit::verify_signature(key, alg, msg, sig);
      const std::string expected = t["result"];
      if (expected == "valid") {
        if (r.ok()) ++tally.valid_accepted;
        else tally.failures.push_back(describe(file, t) + " rejected: " + status(r));
      } else if (expected == "invalid") {
        if (!r.ok() && r.error().code() == Errc::bad_signature) ++tally.invalid_rejected;
        else tally.failures.push_back(describe(file, t) + " gave " + status(r));
      } else {
        REQUIRE(expected == "acceptable");
        for (const auto& f : t["flags"]) ++acceptable_kinds[f.get<std::string>()];
        if (r.ok()) ++tally.acceptable_accepted;
        else if (r.error().code() == Errc::bad_signature) ++tally.acceptable_rejected;
        else tally.failures.push_back(describe(file, t) + " gave " + status(r));
      }
    }
  }
  for (const auto& [flag, n] : acceptable_kinds) {
    std::cout << file << ": acceptable cases flagged " << flag << ": " << n << "\n";
    // The only acceptable cases in these files are MissingNull (PKCS#1 v1.5 DigestInfo).
    CHECK(flag == "MissingNull");
  }
  finish(file, doc, tally);
}

// ---- HMAC ---------------------------------------------------------------------------------

void run_hmac_file(const std::string& file, Alg alg) {
  json doc = jwtkit_test::load_vector("wycheproof/" + file);
  const std::size_t hash_bits = jwtkit::to_string(alg) == "HS256" ? 256 : jwtkit::to_string(alg) == "HS384" ? 384 : 512;
  Tally tally;
  std::size_t truncated = 0, short_key = 0;
  for (const auto& group : doc["testGroups"]) {
    const std::size_t key_bits = group["keySize"];
    const std::size_t tag_bits = group["tagSize"];
    for (const auto& t : group["tests"]) {
      const std::string key_bytes = from_hex(t["key"].get<std::string>());
      const std::string msg = from_hex(t["msg"].get<std::string>());
      const std::string tag = from_hex(t["tag"].get<std::string>());
      REQUIRE(key_bytes.size() * 8 == key_bits);
      auto key = Key::from_secret(key_bytes);
      // RFC 7518 3.2: keys under 32 bytes are refused at load, and under the hash size by alg.
      CHECK(key.ok() == (key_bits >= 256));
      jwtkit::Result<void> r = key ? jwtkit::verify_signature(*key, alg, msg, tag)
                           : jwtkit::Result<void>(key.error());
      const bool full_size = tag_bits == hash_bits && key_bits >= hash_bits;
      const bool wycheproof_valid = t["result"] == "valid";
      if (wycheproof_valid && full_size) {
        if (r.ok()) ++tally.valid_accepted;
        else tally.failures.push_back(describe(file, t) + " rejected: " + status(r));
        continue;
      }
      if (r.ok()) {
        tally.failures.push_back(describe(file, t) + " accepted (tag " + std::to_string(tag_bits) + " bits, key " +
                                 std::to_string(key_bits) + " bits)");
        continue;
      }
      if (!wycheproof_valid) {
        ++tally.invalid_rejected;
        continue;
      }
      ++tally.valid_rejected_by_rule;
      if (key_bits < hash_bits) {
        ++short_key;
        CHECK(r.error().code() == (key_bits < 256 ? Errc::malformed : Errc::key_mismatch));
      } else {
        ++truncated;
        CHECK(r.error().code() == Errc::bad_signature);
        // The Wycheproof tag is a prefix of jwtkit's full tag: only the length rule refused it.
        auto full = jwtkit::create_signature(*key, alg, msg);
        REQUIRE(full.ok());
        CHECK(full->size() * 8 == hash_bits);
        CHECK(full->compare(0, tag.size(), tag) == 0);
      }
    }
  }
  std::cout << file << ": valid but refused: " << truncated << " truncated tags, " << short_key
            << " keys shorter than the hash\n";
  CHECK(truncated > 0);
  CHECK(short_key > 0);
  finish(file, doc, tally);
}

// ---- JWS / JWK ----------------------------------------------------------------------------

// `valid` cases jwtkit refuses on purpose, by file and tcId, with the rule and the error.
struct Deliberate {
  const char* file;
  int tc_id;
  Errc code;
  const char* rule;
};
const Deliberate kDeliberateRejections[] = {
    // RFC 7520 figure 20: the key's JWK says "alg":"PS256" but the token is PS384. jwtkit binds
    // a JWK's alg to the key (RFC 7517 4.4), so the key does not verify PS384.
    {"json_web_signature_test.json", 346, Errc::key_mismatch, "JWK alg PS256 used for PS384"},
    {"json_web_signature_test.json", 350, Errc::key_mismatch, "JWK alg PS256 used for PS384"},
    // RFC 7520 figure 27 as Wycheproof stores it: the key's JWK says "alg":"ES521", which is not
    // a JWS algorithm (RFC 7518 names ES512), so the key is refused at load.
    {"json_web_signature_test.json", 347, Errc::key_not_found, "JWK alg ES521 is not a JWS algorithm"},
    {"json_web_signature_test.json", 351, Errc::key_not_found, "JWK alg ES521 is not a JWS algorithm"},
    // A '?' inserted into the base64url header or payload: jwtkit's base64url is strict (no
    // character outside the alphabet), so the token is malformed whatever its MAC.
    {"json_web_signature_test.json", 372, Errc::malformed, "strict base64url"},
    {"json_web_signature_test.json", 373, Errc::malformed, "strict base64url"},
};

// Data defects of this Wycheproof snapshot: `invalid` cases whose stored token is byte for
// byte the token of a `valid` case of the same file (the '=' padding their comments describe
// is not in the string). One input cannot be both; jwtkit accepts it, as it must for the valid
// case. The padded tokens the comments describe are checked to be refused (malformed).
struct SameAsValid {
  const char* file;
  int tc_id;
  int valid_tc_id;
};
const SameAsValid kSameAsValid[] = {
    {"json_web_signature_test.json", 367, 357},  // invalidBase64Padding
    {"json_web_signature_test.json", 370, 357},  // invalidBase64PaddingInPayload
};

std::optional<SameAsValid> same_as_valid(const std::string& file, int tc_id) {
  for (const auto& d : kSameAsValid) {
    if (file == d.file && tc_id == d.tc_id) return d;
  }
  return std::nullopt;
}

// The compact token with '=' padding added to its payload or signature is refused.
void check_padding_refused(const JwsVerifier& verifier, const std::string& token) {
  auto d1 = token.find('.');
  auto d2 = token.rfind('.');
  for (const std::string& padded :
       {token + "=", token.substr(0, d2) + "=" + token.substr(d2), token.substr(0, d2) + "==" + token.substr(d2),
        token.substr(0, d1) + "=" + token.substr(d1)}) {
    auto r = verifier.verify(padded);
    INFO(padded);
    CHECK(jwtkit_test::code(r) == "malformed");
  }
}

// The one `invalid` case jwtkit accepts: a key set holding an HMAC secret and an EC public
// key (flags MixedKeySet, Ambiguous; Wycheproof marks the behaviour "not well defined by the
// RFCs"). The token is a genuine HS256 MAC by the set's secret. The danger such sets stand
// for, public key material used as an HMAC secret, cannot arise in jwtkit: an algorithm only
// ever runs with a key of its own type (see the alg-confusion tests in test_jws, and the check
// right below the case). Verifiers that mix HMAC and asymmetric keys are supported on purpose
// (e.g. while rotating from HS256 to RS256).
std::optional<Deliberate> deliberate(const std::string& file, int tc_id) {
  for (const auto& d : kDeliberateRejections) {
    if (file == d.file && tc_id == d.tc_id) return d;
  }
  return std::nullopt;
}

bool is_mixed_key_set_case(const std::string& file, const json& group, const json& t) {
  for (const auto& f : t["flags"]) {
    if (f == "MixedKeySet") return true;
  }
  // json_web_crypto_test.json marks the same group only by its comment.
  return file == "json_web_crypto_test.json" && group["comment"] == "jws_mixedSymmetryKeyset";
}

// The verification keys of a group: "public" when given, else "private" (HMAC secrets); a JWK
// or a JWK Set. Keys jwtkit refuses are left out (so their tokens find no key).
jwtkit::Result<JwsVerifier> group_verifier(const json& group) {
  const json& material = group.contains("public") && !group["public"].is_null() ? group["public"] : group["private"];
  std::vector<Key> keys;
  if (material.contains("keys")) {
    auto set = JwkSet::parse(material.dump());
    if (!set) return set.error();
    keys = set->keys();
  } else if (auto k = Key::from_jwk(material); k) {
    keys.push_back(*k);
  }
  std::vector<Alg> all(jwtkit::kAllAlgs.begin(), jwtkit::kAllAlgs.end());
  return JwsVerifier::create(std::move(keys), JwsVerifierOptions{all, {}, {}});
}

// For each asymmetric key of the verifier: HS256 tokens MACed with its public material (the
// public JWK text, the RFC 7638 canonical JSON, the raw coordinates) are all refused.
void check_public_key_is_no_hmac_secret(const JwsVerifier& verifier) {
  std::size_t checked = 0;
  for (const Key& k : verifier.keys()) {
    if (k.is_symmetric()) continue;
    auto jwk = k.public_jwk();
    REQUIRE(jwk.ok());
    std::vector<std::string> secrets = {jwk->dump()};
    json canonical = *jwk;
    for (const char* meta : {"kid", "alg", "use", "key_ops"}) canonical.erase(meta);
    secrets.push_back(canonical.dump());
    if (jwk->contains("y")) {
      secrets.push_back(*jwtkit::base64url::decode((*jwk)["x"].get<std::string>()) +
                        *jwtkit::base64url::decode((*jwk)["y"].get<std::string>()));
    }
    for (const auto& secret : secrets) {
      auto hmac = Key::from_secret(secret);
      REQUIRE(hmac.ok());
      for (const json& header : {json::object(), json{{"kid", k.kid()}}}) {
        auto forged = jwtkit::sign_compact(hmac->with_kid(""), Alg::HS256, "foo", header);
        REQUIRE(forged.ok());
        auto r = verifier.verify(*forged);
        CHECK_FALSE(r.ok());
        ++checked;
      }
    }
  }
  CHECK(checked > 0);
}

void run_jose_file(const std::string& file) {
  json doc = jwtkit_test::load_vector("wycheproof/" + file);
  Tally tally;
  std::map<int, std::string> tokens;
  for (const auto& group : doc["testGroups"]) {
    for (const auto& t : group["tests"]) {
      if (t.contains("jws") && t["jws"].is_string()) tokens[t["tcId"].get<int>()] = t["jws"];
    }
  }
  for (const auto& group : doc["testGroups"]) {
    auto verifier = group_verifier(group);
    for (const auto& t : group["tests"]) {
      const int tc_id = t["tcId"];
      bool json_serialization = false;
      for (const auto& f : t["flags"]) json_serialization = json_serialization || f == "JsonSerialization";
      if (t.contains("jwe") || !t["jws"].is_string() || json_serialization) {  // JWE or JSON form
        ++tally.skipped;
        continue;
      }
      const std::string jws = t["jws"];
      auto r = verifier ? verifier->verify(jws) : jwtkit::Result<jwtkit::VerifiedJws>(verifier.error());
      if (!r.ok() && r.error().code() == Errc::internal) {
        tally.failures.push_back(describe(file, t) + " internal error: " + status(r));
        continue;
      }
      const bool valid = t["result"] == "valid";
      if (valid) {
        if (auto d = deliberate(file, tc_id)) {
          if (!r.ok() && r.error().code() == d->code) ++tally.valid_rejected_by_rule;
          else tally.failures.push_back(describe(file, t) + " expected refusal (" + d->rule + "), got " + status(r));
        } else if (r.ok()) {
          ++tally.valid_accepted;
        } else {
          tally.failures.push_back(describe(file, t) + " rejected: " + status(r));
        }
        continue;
      }
      if (!r.ok()) {
        ++tally.invalid_rejected;
        continue;
      }
      if (auto d = same_as_valid(file, tc_id)) {
        CHECK(jws == tokens.at(d->valid_tc_id));
        check_padding_refused(*verifier, jws);
        ++tally.data_defects;
        continue;
      }
      if (is_mixed_key_set_case(file, group, t)) {
        // Accepted only through the HMAC secret, as HS256; the EC public key of the same set
        // turned into an HMAC secret (its JWK, its coordinates) verifies nothing.
        CHECK(r->alg() == Alg::HS256);
        CHECK(r->kid() == "kid-aes-sign");
        check_public_key_is_no_hmac_secret(*verifier);
        ++tally.mixed_key_set;
        continue;
      }
      tally.failures.push_back(describe(file, t) + " accepted an invalid JWS");
    }
  }
  finish(file, doc, tally);
}

}  // namespace

TEST_CASE("ecdsa_secp256r1_sha256_p1363_test.json") {
  run_signature_file("ecdsa_secp256r1_sha256_p1363_test.json", Alg::ES256, "publicKeyJwk");
}
TEST_CASE("ecdsa_secp384r1_sha384_p1363_test.json") {
  run_signature_file("ecdsa_secp384r1_sha384_p1363_test.json", Alg::ES384, "publicKeyJwk");
}
TEST_CASE("ecdsa_secp521r1_sha512_p1363_test.json") {
  run_signature_file("ecdsa_secp521r1_sha512_p1363_test.json", Alg::ES512, "publicKeyJwk");
}
TEST_CASE("ed25519_test.json") { run_signature_file("ed25519_test.json", Alg::EdDSA, "publicKeyJwk"); }

TEST_CASE("rsa_signature_2048_sha256_test.json") {
  run_signature_file("rsa_signature_2048_sha256_test.json", Alg::RS256, "keyJwk");
}
TEST_CASE("rsa_signature_2048_sha384_test.json") {
  run_signature_file("rsa_signature_2048_sha384_test.json", Alg::RS384, "keyJwk");
}
TEST_CASE("rsa_signature_2048_sha512_test.json") {
  run_signature_file("rsa_signature_2048_sha512_test.json", Alg::RS512, "keyJwk");
}
TEST_CASE("rsa_signature_3072_sha256_test.json") {
  run_signature_file("rsa_signature_3072_sha256_test.json", Alg::RS256, "keyJwk");
}
TEST_CASE("rsa_signature_3072_sha384_test.json") {
  run_signature_file("rsa_signature_3072_sha384_test.json", Alg::RS384, "keyJwk");
}
TEST_CASE("rsa_signature_3072_sha512_test.json") {
  run_signature_file("rsa_signature_3072_sha512_test.json", Alg::RS512, "keyJwk");
}
TEST_CASE("rsa_signature_4096_sha256_test.json") {
  run_signature_file("rsa_signature_4096_sha256_test.json", Alg::RS256, "keyJwk");
}
TEST_CASE("rsa_signature_4096_sha384_test.json") {
  run_signature_file("rsa_signature_4096_sha384_test.json", Alg::RS384, "keyJwk");
}
TEST_CASE("rsa_signature_4096_sha512_test.json") {
  run_signature_file("rsa_signature_4096_sha512_test.json", Alg::RS512, "keyJwk");
}

TEST_CASE("rsa_pss_2048_sha256_mgf1_32_test.json") {
  run_signature_file("rsa_pss_2048_sha256_mgf1_32_test.json", Alg::PS256, "publicKeyJwk");
}
TEST_CASE("rsa_pss_2048_sha384_mgf1_48_test.json") {
  run_signature_file("rsa_pss_2048_sha384_mgf1_48_test.json", Alg::PS384, "publicKeyJwk");
}
TEST_CASE("rsa_pss_3072_sha256_mgf1_32_test.json") {
  run_signature_file("rsa_pss_3072_sha256_mgf1_32_test.json", Alg::PS256, "publicKeyJwk");
}
TEST_CASE("rsa_pss_4096_sha256_mgf1_32_test.json") {
  run_signature_file("rsa_pss_4096_sha256_mgf1_32_test.json", Alg::PS256, "publicKeyJwk");
}
TEST_CASE("rsa_pss_4096_sha384_mgf1_48_test.json") {
  run_signature_file("rsa_pss_4096_sha384_mgf1_48_test.json", Alg::PS384, "publicKeyJwk");
}
TEST_CASE("rsa_pss_4096_sha512_mgf1_64_test.json") {
  run_signature_file("rsa_pss_4096_sha512_mgf1_64_test.json", Alg::PS512, "publicKeyJwk");
}

TEST_CASE("hmac_sha256_test.json") { run_hmac_file("hmac_sha256_test.json", Alg::HS256); }
TEST_CASE("hmac_sha384_test.json") { run_hmac_file("hmac_sha384_test.json", Alg::HS384); }
TEST_CASE("hmac_sha512_test.json") { run_hmac_file("hmac_sha512_test.json", Alg::HS512); }

TEST_CASE("json_web_signature_test.json") { run_jose_file("json_web_signature_test.json"); }
TEST_CASE("json_web_key_test.json") { run_jose_file("json_web_key_test.json"); }
TEST_CASE("json_web_crypto_test.json") { run_jose_file("json_web_crypto_test.json"); }
