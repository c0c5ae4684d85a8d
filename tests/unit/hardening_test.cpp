// Findings of an adversarial review, each pinned by a test: dates that would overflow a
// TimePoint, Ed25519 keys of small order, untrusted text in error messages, and tokens the
// engine would issue but could never verify.
#include <jwtkit/base64url.hpp>
#include <jwtkit/engine.hpp>
#include <jwtkit/jws.hpp>
#include <jwtkit/jwt.hpp>
#include <jwtkit/stores/memory.hpp>

#include "catch.hpp"
#include "support/failing_stores.hpp"
#include "support/result_check.hpp"
#include "support/test_keys.hpp"

#include <cmath>
#include <limits>
#include <string>

using jwtkit::Alg;
using jwtkit_test::code;
using json = nlohmann::json;
namespace b64 = jwtkit::base64url;

namespace {

const jwtkit::TimePoint kNow = jwtkit::from_unix(1'750'000'000);

jwtkit::JwsVerifier hs256_verifier() {
  auto v = jwtkit::JwsVerifier::create({jwtkit_test::signing_key(Alg::HS256)}, {{Alg::HS256}, {}, {}});
  REQUIRE(v.ok());
  return *v;
}

std::string hs256_token(const json& claims, const json& header = json::object()) {
  auto t = jwtkit::sign_compact(jwtkit_test::signing_key(Alg::HS256), Alg::HS256, claims.dump(), header);
  REQUIRE(t.ok());
  return *t;
}

std::string raw(const char* hex32) {  // 64 hex digits -> 32 bytes
  std::string out;
  for (int i = 0; i < 64; i += 2) out += static_cast<char>(std::stoi(std::string(hex32 + i, 2), nullptr, 16));
  return out;
}

}  // namespace

TEST_CASE("dates a TimePoint cannot hold are malformed, never wrapped around") {
  const auto verifier = hs256_verifier();
  jwtkit::ClaimsPolicy policy;
  for (json bad : {json(9'300'000'000LL), json(1e300), json(std::numeric_limits<std::int64_t>::max()),
                   json(std::numeric_limits<std::uint64_t>::max()), json(-1), json(-9.3e18)}) {
    INFO("date " << bad.dump());
    CHECK(code(jwtkit::verify_jwt(verifier, hs256_token({{"exp", bad}}), policy, kNow)) == "malformed");
    CHECK(code(jwtkit::verify_jwt(verifier, hs256_token({{"exp", 1'750'000'100}, {"nbf", bad}}), policy, kNow)) ==
          "malformed");
    CHECK(code(jwtkit::verify_jwt(verifier, hs256_token({{"exp", 1'750'000'100}, {"iat", bad}}), policy, kNow)) ==
          "malformed");
    CHECK(code(jwtkit::validate_claims({{"exp", bad}}, policy, kNow)) == "malformed");
  }
  // The largest date allowed still works and reads back exactly.
  auto far = jwtkit::verify_jwt(verifier, hs256_token({{"exp", jwtkit::kMaxNumericDate}}), policy, kNow);
  REQUIRE(far.ok());
  CHECK(jwtkit::to_unix(*far->registered().expires_at) == jwtkit::kMaxNumericDate);
  // from_unix saturates instead of overflowing.
  CHECK(jwtkit::from_unix(std::numeric_limits<std::int64_t>::max()) == jwtkit::TimePoint::max());
  CHECK(jwtkit::from_unix(std::numeric_limits<std::int64_t>::min()) == jwtkit::TimePoint::min());
  CHECK(jwtkit::to_unix(jwtkit::from_unix(jwtkit::kMaxNumericDate)) == jwtkit::kMaxNumericDate);
}

TEST_CASE("Ed25519 public keys of small order are refused") {
  const char* small_order[] = {
      "0000000000000000000000000000000000000000000000000000000000000000",
      "0100000000000000000000000000000000000000000000000000000000000000",
      "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
      "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  };
  for (const char* hex : small_order) {
    for (bool sign_bit : {false, true}) {
      std::string x = raw(hex);
      if (sign_bit) x[31] = static_cast<char>(static_cast<unsigned char>(x[31]) | 0x80);
      auto key = jwtkit::Key::from_jwk(json{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", b64::encode(x)}});
      INFO(hex << (sign_bit ? " with sign bit" : ""));
      REQUIRE_FALSE(key.ok());
      CHECK(key.error().code() == jwtkit::Errc::malformed);
      CHECK_THAT(key.error().message(), jwtkit_test::contains("small order"));
    }
  }
  // The forgery the check prevents: with the identity point as public key, the signature
  // (R = identity, S = 0) verified any payload. It cannot even be configured now.
  const std::string forged =
      "eyJhbGciOiAiRWREU0EifQ.eyJleHAiOiAxOTAwMDAwMDAwLCAic3ViIjogImFkbWluIn0."
      "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  auto identity = jwtkit::Key::from_jwk(json{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", b64::encode(raw(small_order[1]))}});
  CHECK_FALSE(identity.ok());
  auto good = jwtkit::JwsVerifier::create({jwtkit_test::verifying_key(Alg::EdDSA)}, {{Alg::EdDSA}, {}, {}});
  REQUIRE(good.ok());
  CHECK(code(good->verify(forged)) == "bad_signature");
  // Ordinary keys still load.
  CHECK(jwtkit::Key::generate(Alg::EdDSA).ok());
}

TEST_CASE("untrusted header values are escaped in error messages") {
  const auto verifier = hs256_verifier();
  const std::string evil = "x\nerror: ok\x1b[31mRED\"";
  for (const json& header : {json{{"kid", evil}}, json{{"typ", evil}}, json{{"crit", {evil}}, {evil, 1}}}) {
    auto r = jwtkit::verify_jwt(verifier, hs256_token({{"exp", 1'750'000'100}}, header),
                                jwtkit::ClaimsPolicy{std::nullopt, {}, std::string("JWT"), std::chrono::seconds(30), true, {}},
                                kNow);
    REQUIRE_FALSE(r.ok());
    const std::string& m = r.error().message();
    INFO(m);
    CHECK(m.find('\n') == std::string::npos);
    CHECK(m.find('\x1b') == std::string::npos);
    CHECK_THAT(m, jwtkit_test::contains("\\n"));
  }
  // An alg that is not an algorithm.
  std::string token = b64::encode(json{{"alg", evil}}.dump()) + "." + b64::encode("{}") + ".AAAA";
  auto r = verifier.verify(token);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == jwtkit::Errc::unsupported_alg);
  CHECK(r.error().message().find('\n') == std::string::npos);
}

TEST_CASE("the engine refuses lifetimes and claims it could not honour") {
  auto make = [](std::chrono::seconds access, std::chrono::seconds refresh) {
    jwtkit::EngineOptions o;
    o.issuer = "https://issuer.example";
    o.audiences = {"api"};
    o.signing_alg = Alg::ES256;
    o.access_ttl = access;
    o.refresh_ttl = refresh;
    o.clock = std::make_shared<jwtkit::ManualClock>(kNow);
    return jwtkit::Engine::create(std::make_shared<jwtkit::MemoryKeyStore>(),
                                  std::make_shared<jwtkit::MemoryRevocationStore>(o.clock), o);
  };
  CHECK(code(make(std::chrono::seconds(7'500'000'000LL), std::chrono::seconds(900))) == "invalid_argument");
  CHECK(code(make(std::chrono::seconds(900), jwtkit::kMaxTokenTtl + std::chrono::seconds(1))) == "invalid_argument");
  auto engine = make(std::chrono::seconds(900), jwtkit::kMaxTokenTtl);
  REQUIRE(engine.ok());

  // Claims nested deeper than verification allows: refused at issue, not at verify.
  json deep = json::array();
  for (int i = 0; i < 30; ++i) deep = json::array({deep});
  jwtkit::IssueOptions nested;
  nested.claims = {{"deep", deep}};
  CHECK(code(engine->issue_access("user-1", nested)) == "invalid_argument");
  // NaN would be written as null: refused instead of changed.
  jwtkit::IssueOptions nan;
  nan.claims = {{"score", std::nan("")}, {"ok", {1.5, 2}}};
  CHECK(code(engine->issue_access("user-1", nan)) == "invalid_argument");
  // What is issued verifies.
  jwtkit::IssueOptions fine;
  fine.claims = {{"roles", {"a", "b"}}, {"n", {{"x", 1}}}};
  auto token = engine->issue_access("user-1", fine);
  REQUIRE(token.ok());
  CHECK(code(engine->verify_access(*token)) == "ok");
}

namespace {
struct RefreshRig {
  std::shared_ptr<jwtkit::ManualClock> clock = std::make_shared<jwtkit::ManualClock>(kNow);
  std::shared_ptr<jwtkit_test::FailingRevocationStore> store =
      std::make_shared<jwtkit_test::FailingRevocationStore>(std::make_shared<jwtkit::MemoryRevocationStore>(clock));
  jwtkit::Engine engine = make(jwtkit::EngineOptions::StoreFailurePolicy::fail_closed);

  jwtkit::Engine make(jwtkit::EngineOptions::StoreFailurePolicy policy) {
    jwtkit::EngineOptions o;
    o.issuer = "https://issuer.example";
    o.audiences = {"api"};
    o.signing_alg = Alg::ES256;
    o.store_failure = policy;
    o.clock = clock;
    auto e = jwtkit::Engine::create(std::make_shared<jwtkit::MemoryKeyStore>(), store, o);
    REQUIRE(e.ok());
    return std::move(*e);
  }
};
}  // namespace

TEST_CASE("refresh checks revocation fail-closed even when verification is fail-open") {
  RefreshRig rig;
  rig.engine = rig.make(jwtkit::EngineOptions::StoreFailurePolicy::fail_open);
  auto pair = rig.engine.issue_pair("user-1");
  REQUIRE(pair.ok());
  REQUIRE(rig.engine.revoke_subject("user-1").ok());
  rig.clock->advance(std::chrono::seconds(5));
  // The store cannot answer whether the token is revoked: fail-open verification lets the
  // access token through (as chosen), but no new tokens may be minted on that guess.
  rig.store->fail(jwtkit_test::StoreOp::is_revoked);
  CHECK(code(rig.engine.verify_access(pair->access_token)) == "ok");
  CHECK(code(rig.engine.refresh(pair->refresh_token)) == "store_unavailable");
  rig.store->heal();
  CHECK(code(rig.engine.refresh(pair->refresh_token)) == "revoked");
}

TEST_CASE("refresh keeps the session's own lifetime instead of stretching it to refresh_ttl") {
  RefreshRig rig;
  jwtkit::IssueOptions short_refresh;
  short_refresh.ttl = std::chrono::hours(1);
  auto pair = rig.engine.issue_pair("user-1", {}, short_refresh);
  REQUIRE(pair.ok());
  CHECK(pair->refresh_expires_at - jwtkit::from_unix(jwtkit::to_unix(kNow)) == std::chrono::hours(1));
  rig.clock->advance(std::chrono::minutes(10));
  auto next = rig.engine.refresh(pair->refresh_token);
  REQUIRE(next.ok());
  const auto lifetime = next->refresh_expires_at - rig.clock->now();
  CHECK(lifetime <= std::chrono::hours(1));
  CHECK(lifetime > std::chrono::minutes(59));
}
