// The token engine against real stores (memory, file) and a manual clock: every behaviour
// of issue 3 has a test case named after it.
#include "catch.hpp"
#include "support/failing_stores.hpp"
#include "support/result_check.hpp"
#include "support/temp_dir.hpp"

#include <jwtkit/jwtkit.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

using jwtkit::Alg;
using jwtkit::Engine;
using jwtkit::EngineOptions;
using jwtkit::IssueOptions;
using jwtkit::KeyState;
using jwtkit_test::code;
using jwtkit_test::status;
using json = nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

namespace {

constexpr const char* kIssuer = "https://auth.example.com";

/// An engine's surroundings: manual clock, memory stores behind failure switches.
struct Rig {
  std::shared_ptr<jwtkit::ManualClock> clock = std::make_shared<jwtkit::ManualClock>();
  std::shared_ptr<jwtkit::MemoryKeyStore> key_mem = std::make_shared<jwtkit::MemoryKeyStore>();
  std::shared_ptr<jwtkit_test::FailingKeyStore> keys =
      std::make_shared<jwtkit_test::FailingKeyStore>(key_mem);
  std::shared_ptr<jwtkit::MemoryRevocationStore> rev_mem =
      std::make_shared<jwtkit::MemoryRevocationStore>(clock);
  std::shared_ptr<jwtkit_test::FailingRevocationStore> revocations =
      std::make_shared<jwtkit_test::FailingRevocationStore>(rev_mem);
  EngineOptions opts;

  explicit Rig(Alg alg = Alg::ES256) {
    opts.issuer = kIssuer;
    opts.audiences = {"api"};
    opts.signing_alg = alg;
    opts.clock = clock;
  }

  Engine make() const {
    auto e = Engine::create(keys, revocations, opts);
    REQUIRE(status(e) == "ok");
    return std::move(e).value();
  }

  /// The stored active key record.
  jwtkit::KeyRecord active_record() const {
    auto all = key_mem->load_all();
    REQUIRE(status(all) == "ok");
    auto it = std::find_if(all->begin(), all->end(),
                           [](const jwtkit::KeyRecord& r) { return r.state == KeyState::active; });
    REQUIRE(it != all->end());
    return *it;
  }

  /// A token signed with the engine's own key but with claims and header of our choosing.
  std::string forge(const json& claims, json header = {{"typ", "at+jwt"}}) const {
    auto rec = active_record();
    auto t = jwtkit::sign_compact(rec.key, rec.alg, claims.dump(), header);
    REQUIRE(status(t) == "ok");
    return *t;
  }

  std::int64_t now_s() const { return jwtkit::to_unix(clock->now()); }

  /// Claims of a well-formed access token issued now.
  json good_claims() const {
    return {{"iss", kIssuer}, {"sub", "alice"},     {"aud", "api"},
            {"iat", now_s()}, {"nbf", now_s()},      {"exp", now_s() + 600},
            {"jti", "forged-jti-1"}};
  }
};

jwtkit::unsafe::DecodedToken decoded(const std::string& token) {
  auto d = jwtkit::unsafe::decode(token);
  REQUIRE(status(d) == "ok");
  return *d;
}

template <class T>
T value_of(jwtkit::Result<T> r) {
  REQUIRE(status(r) == "ok");
  return std::move(r).value();
}

std::set<std::string> jwks_kids(const json& jwks) {
  std::set<std::string> kids;
  for (const auto& k : jwks.at("keys")) kids.insert(k.at("kid").get<std::string>());
  return kids;
}

}  // namespace

// ---- initialize ------------------------------------------------------------------------------

TEST_CASE("initialize generates new keys when the key store is empty") {
  Rig rig;
  REQUIRE(rig.key_mem->load_all()->empty());
  auto engine = rig.make();
  auto stored = value_of(rig.key_mem->load_all());
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].state == KeyState::active);
  CHECK(stored[0].alg == Alg::ES256);
  CHECK(stored[0].key.can_sign());
  CHECK(stored[0].kid() == engine.active_kid());
  CHECK(jwtkit::to_unix(stored[0].created_at) == rig.now_s());
}

TEST_CASE("initialize loads existing keys instead of generating") {
  Rig rig;
  auto first = rig.make();
  auto token = value_of(first.issue_access("alice"));

  auto second = rig.make();  // same stores: a restart, or a second instance
  CHECK(second.active_kid() == first.active_kid());
  CHECK(value_of(rig.key_mem->load_all()).size() == 1);
  CHECK(status(second.verify_access(token)) == "ok");
}

TEST_CASE("initialize loads existing keys from a FileKeyStore across restarts") {
  jwtkit_test::TempDir tmp("engine-file");
  auto clock = std::make_shared<jwtkit::ManualClock>();
  auto revocations = std::make_shared<jwtkit::MemoryRevocationStore>(clock);
  EngineOptions opts;
  opts.issuer = kIssuer;
  opts.audiences = {"api"};
  opts.signing_alg = Alg::EdDSA;
  opts.clock = clock;

  std::string token, kid;
  {
    auto store = value_of(jwtkit::FileKeyStore::open(tmp.str("keys")));
    auto engine = Engine::create(store, revocations, opts);
    REQUIRE(status(engine) == "ok");
    token = value_of(engine->issue_access("alice"));
    kid = engine->active_kid();
  }
  auto store = value_of(jwtkit::FileKeyStore::open(tmp.str("keys")));
  auto engine = Engine::create(store, revocations, opts);
  REQUIRE(status(engine) == "ok");
  CHECK(engine->active_kid() == kid);
  CHECK(status(engine->verify_access(token)) == "ok");
}

TEST_CASE("initialize promotes a published next key when no key is active") {
  Rig rig;
  auto rec = jwtkit::Key::generate(Alg::ES256);
  REQUIRE(status(rec) == "ok");
  jwtkit::KeyRecord next{rec->with_alg(Alg::ES256).value(), Alg::ES256, KeyState::next,
                         rig.clock->now(), std::nullopt, std::nullopt};
  REQUIRE(status(rig.key_mem->save(next)) == "ok");
  auto engine = rig.make();
  CHECK(engine.active_kid() == next.kid());
  CHECK(value_of(rig.key_mem->load_all()).size() == 1);
}

TEST_CASE("initialize replaces an active key whose algorithm is no longer allowed") {
  Rig rig(Alg::EdDSA);
  auto old_engine = rig.make();
  const auto old_kid = old_engine.active_kid();
  rig.opts.signing_alg = Alg::ES256;  // reconfigured: EdDSA no longer allowed
  auto engine = rig.make();
  CHECK(engine.active_kid() != old_kid);
  auto stored = value_of(rig.key_mem->load_all());
  REQUIRE(stored.size() == 2);
  for (const auto& r : stored) {
    if (r.kid() == old_kid) {
      CHECK(r.state == KeyState::retiring);
    } else {
      CHECK(r.state == KeyState::active);
      CHECK(r.alg == Alg::ES256);
    }
  }
}

TEST_CASE("initialize reports a key store that cannot answer") {
  Rig rig;
  rig.keys->fail(jwtkit_test::StoreOp::load_all);
  CHECK(code(Engine::create(rig.keys, rig.revocations, rig.opts)) == "store_unavailable");
  rig.keys->fail(jwtkit_test::StoreOp::save_if_active);
  CHECK(code(Engine::create(rig.keys, rig.revocations, rig.opts)) == "store_unavailable");
  CHECK(value_of(rig.key_mem->load_all()).empty());  // nothing half-written
}

namespace {

/// A key store where some other writer always wins the race.
class AlwaysConflictingKeyStore final : public jwtkit::KeyStore {
 public:
  jwtkit::Result<std::vector<jwtkit::KeyRecord>> load_all() override {
    return std::vector<jwtkit::KeyRecord>{};
  }
  jwtkit::Result<void> save(const jwtkit::KeyRecord&) override { return jwtkit::ok(); }
  jwtkit::Result<void> remove(std::string_view) override { return jwtkit::ok(); }
  jwtkit::Result<void> save_if_active(std::string_view,
                                      const std::vector<jwtkit::KeyRecord>&) override {
    ++attempts;
    return jwtkit::Error(jwtkit::Errc::store_conflict, "someone else won");
  }
  int attempts = 0;
};

}  // namespace

TEST_CASE("initialize gives up with store_conflict when the key store keeps changing") {
  Rig rig;
  auto store = std::make_shared<AlwaysConflictingKeyStore>();
  CHECK(code(Engine::create(store, rig.revocations, rig.opts)) == "store_conflict");
  CHECK(store->attempts > 1);  // it reloaded and retried before giving up
}

TEST_CASE("invalid private key format in the key store gives a clear error") {
  SECTION("a corrupt key file names the file") {
    jwtkit_test::TempDir tmp("engine-corrupt");
    auto store = value_of(jwtkit::FileKeyStore::open(tmp.str("keys")));
    Rig rig;
    {
      auto engine = Engine::create(store, rig.revocations, rig.opts);
      REQUIRE(status(engine) == "ok");
    }
    std::string key_file;
    for (const auto& e : std::filesystem::directory_iterator(tmp.path() / "keys")) {
      if (e.path().filename().string().rfind("key-", 0) == 0) key_file = e.path().string();
    }
    REQUIRE_FALSE(key_file.empty());
    std::ifstream in(key_file);
    json doc = json::parse(in);
    in.close();
    doc["jwk"]["d"] = "%%% not base64url %%%";
    std::ofstream(key_file, std::ios::trunc) << doc.dump();

    auto engine = Engine::create(store, rig.revocations, rig.opts);
    REQUIRE(code(engine) == "malformed");
    CHECK_THAT(engine.error().message(), jwtkit_test::contains(key_file));
    CHECK_THAT(engine.error().message(), jwtkit_test::contains("invalid private key"));
  }
  SECTION("a stored key that cannot serve its algorithm is named by kid") {
    Rig rig;
    auto ed = jwtkit::Key::generate(Alg::EdDSA);
    REQUIRE(status(ed) == "ok");
    jwtkit::KeyRecord wrong{*ed, Alg::ES256, KeyState::active, rig.clock->now(), std::nullopt,
                            std::nullopt};
    REQUIRE(status(rig.key_mem->save(wrong)) == "ok");
    auto engine = Engine::create(rig.keys, rig.revocations, rig.opts);
    REQUIRE(code(engine) == "key_mismatch");
    CHECK_THAT(engine.error().message(), jwtkit_test::contains(ed->kid()));
  }
}

TEST_CASE("Engine::create refuses invalid options") {
  Rig rig;
  auto expect_invalid = [&](EngineOptions o) {
    auto e = Engine::create(rig.keys, rig.revocations, std::move(o));
    CHECK(code(e) == "invalid_argument");
  };
  auto o = rig.opts;
  o.issuer.clear();
  expect_invalid(o);
  o = rig.opts;
  o.audiences.clear();
  expect_invalid(o);
  o = rig.opts;
  o.audiences = {"api", ""};
  expect_invalid(o);
  o = rig.opts;
  o.access_ttl = seconds(0);
  expect_invalid(o);
  o = rig.opts;
  o.refresh_ttl = seconds(-5);
  expect_invalid(o);
  o = rig.opts;
  o.leeway = jwtkit::kMaxLeeway + seconds(1);
  expect_invalid(o);
  o = rig.opts;
  o.leeway = seconds(-1);
  expect_invalid(o);
  o = rig.opts;
  o.allowed_algs = {Alg::RS256};  // does not contain signing_alg ES256
  expect_invalid(o);
  o = rig.opts;
  o.rsa_bits = 1024;
  expect_invalid(o);
  o = rig.opts;
  o.key_publish_delay = seconds(-1);
  expect_invalid(o);
  o = rig.opts;
  o.required_claims = {""};
  expect_invalid(o);
  o = rig.opts;
  o.limits.max_token_bytes = 0;
  expect_invalid(o);
  CHECK(code(Engine::create(nullptr, rig.revocations, rig.opts)) == "invalid_argument");
  CHECK(code(Engine::create(rig.keys, nullptr, rig.opts)) == "invalid_argument");
  CHECK(value_of(rig.key_mem->load_all()).empty());  // refused before touching the store

  o = rig.opts;
  o.leeway = jwtkit::kMaxLeeway;  // the cap itself is allowed
  o.clock = nullptr;              // and a null clock means the system clock
  CHECK(status(Engine::create(rig.keys, rig.revocations, o)) == "ok");
}

// ---- issue -------------------------------------------------------------------------------------

TEST_CASE("create access token: registered claims, at+jwt type and kid") {
  const Alg alg = GENERATE(Alg::RS256, Alg::PS256, Alg::ES256, Alg::EdDSA, Alg::HS256);
  Rig rig(alg);
  auto engine = rig.make();
  auto token = value_of(engine.issue_access("alice"));
  auto d = decoded(token);
  CHECK(d.header.at("typ") == "at+jwt");
  CHECK(d.header.at("alg") == std::string(jwtkit::to_string(alg)));
  CHECK(d.header.at("kid") == engine.active_kid());
  CHECK(d.claims.at("iss") == kIssuer);
  CHECK(d.claims.at("sub") == "alice");
  CHECK(d.claims.at("aud") == "api");  // one audience: a string
  CHECK(d.claims.at("iat") == rig.now_s());
  CHECK(d.claims.at("nbf") == rig.now_s());
  CHECK(d.claims.at("exp") == rig.now_s() + 15 * 60);
  CHECK_FALSE(d.claims.contains("sid"));  // not part of a session
  const auto jti = d.claims.at("jti").get<std::string>();
  CHECK(jti.size() >= 22);  // >= 128 random bits, base64url
  CHECK(jti.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
        std::string::npos);

  auto v = engine.verify_access(token);
  REQUIRE(status(v) == "ok");
  CHECK(v->alg() == alg);
}

TEST_CASE("create access token: every jti is unique") {
  Rig rig;
  auto engine = rig.make();
  std::set<std::string> jtis;
  for (int i = 0; i < 200; ++i) {
    jtis.insert(decoded(value_of(engine.issue_access("alice"))).claims.at("jti").get<std::string>());
  }
  CHECK(jtis.size() == 200);
}

TEST_CASE("create refresh token: rt+jwt, audience is the issuer, a recorded session") {
  Rig rig;
  auto engine = rig.make();
  auto token = value_of(engine.issue_refresh("alice"));
  auto d = decoded(token);
  CHECK(d.header.at("typ") == "rt+jwt");
  CHECK(d.header.at("kid") == engine.active_kid());
  CHECK(d.claims.at("aud") == kIssuer);
  CHECK(d.claims.at("exp") == rig.now_s() + 30 * 24 * 3600);
  CHECK(d.claims.at("sid").get<std::string>().size() >= 22);
  for (const char* c : {"iss", "sub", "iat", "nbf", "jti"}) CHECK(d.claims.contains(c));
  CHECK(value_of(engine.session_count("alice")) == 1);

  auto v = engine.verify_refresh(token);
  REQUIRE(status(v) == "ok");
  CHECK(v->is_refresh());
  CHECK(v->session_id() == d.claims.at("sid"));
}

TEST_CASE("create refresh token: no token when its session cannot be recorded") {
  Rig rig;
  auto engine = rig.make();
  rig.revocations->fail(jwtkit_test::StoreOp::add_session);
  CHECK(code(engine.issue_refresh("alice")) == "store_unavailable");
  CHECK(code(engine.issue_pair("alice")) == "store_unavailable");
  rig.revocations->heal();
  CHECK(value_of(engine.session_count("alice")) == 0);
}

TEST_CASE("create token pair: both tokens carry the session id") {
  Rig rig;
  auto engine = rig.make();
  auto pair = value_of(engine.issue_pair("alice"));
  auto a = decoded(pair.access_token);
  auto r = decoded(pair.refresh_token);
  CHECK(a.claims.at("sid") == pair.session_id);
  CHECK(r.claims.at("sid") == pair.session_id);
  CHECK(a.claims.at("jti") != r.claims.at("jti"));
  CHECK(jwtkit::to_unix(pair.access_expires_at) == a.claims.at("exp").get<std::int64_t>());
  CHECK(jwtkit::to_unix(pair.refresh_expires_at) == r.claims.at("exp").get<std::int64_t>());
  CHECK(value_of(engine.verify_access(pair.access_token)).session_id() == pair.session_id);
  CHECK(value_of(engine.session_count("alice")) == 1);
}

TEST_CASE("create token with custom expiry") {
  Rig rig;
  auto engine = rig.make();
  IssueOptions o;
  o.ttl = seconds(90);
  auto token = value_of(engine.issue_access("alice", o));
  CHECK(decoded(token).claims.at("exp") == rig.now_s() + 90);
  auto v = value_of(engine.verify_access(token));
  CHECK(jwtkit::to_unix(v.expires_at()) == rig.now_s() + 90);

  o.ttl = hours(24);
  auto refresh = value_of(engine.issue_refresh("alice", o));
  CHECK(decoded(refresh).claims.at("exp") == rig.now_s() + 24 * 3600);

  rig.clock->advance(seconds(90) + rig.opts.leeway);
  CHECK(code(engine.verify_access(token)) == "expired");

  SECTION("a TTL of zero or below, or longer than the engine allows, is refused") {
    o.ttl = seconds(0);
    CHECK(code(engine.issue_access("alice", o)) == "invalid_argument");
    o.ttl = seconds(-1);
    CHECK(code(engine.issue_refresh("alice", o)) == "invalid_argument");
    CHECK(code(engine.issue_pair("alice", {}, o)) == "invalid_argument");
    o.ttl = rig.opts.refresh_ttl + seconds(1);
    CHECK(code(engine.issue_access("alice", o)) == "invalid_argument");
  }
}

TEST_CASE("created token stores its claims") {
  Rig rig;
  auto engine = rig.make();
  IssueOptions o;
  o.claims = {{"scope", "read write"},
              {"roles", {"admin", "ops"}},
              {"tenant", {{"id", 42}, {"name", "acme"}}},
              {"email_verified", true}};
  auto token = value_of(engine.issue_access("alice", o));
  auto v = value_of(engine.verify_access(token));
  CHECK(v.subject() == "alice");
  CHECK(v.claims().at("scope") == "read write");
  CHECK(v.claims().at("roles") == json({"admin", "ops"}));
  REQUIRE(v.claim("tenant") != nullptr);
  CHECK(v.claim("tenant")->at("id") == 42);
  CHECK(*v.claim("email_verified") == true);
  CHECK(v.claim("absent") == nullptr);
  CHECK(v.header().at("typ") == "at+jwt");
  CHECK(v.kid() == engine.active_kid());
  CHECK(v.jti() == decoded(token).claims.at("jti"));
  CHECK(jwtkit::to_unix(v.issued_at()) == rig.now_s());
  CHECK_FALSE(v.is_refresh());
}

TEST_CASE("custom claims cannot override registered claims") {
  Rig rig;
  auto engine = rig.make();
  const char* name = GENERATE("iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid");
  IssueOptions o;
  o.claims = {{name, "evil"}};
  auto r = engine.issue_access("alice", o);
  REQUIRE(code(r) == "invalid_argument");
  CHECK_THAT(r.error().message(), jwtkit_test::contains(name));
  CHECK(code(engine.issue_refresh("alice", o)) == "invalid_argument");
  CHECK(code(engine.issue_pair("alice", o)) == "invalid_argument");
}

TEST_CASE("issuing refuses bad input with invalid_argument") {
  Rig rig;
  auto engine = rig.make();
  CHECK(code(engine.issue_access("")) == "invalid_argument");
  CHECK(code(engine.issue_refresh("")) == "invalid_argument");
  CHECK(code(engine.issue_pair("")) == "invalid_argument");
  IssueOptions o;
  o.claims = json::array({1, 2});  // claims of the wrong JSON type
  CHECK(code(engine.issue_access("alice", o)) == "invalid_argument");
  o.claims = "scope";
  CHECK(code(engine.issue_access("alice", o)) == "invalid_argument");
  o.claims = {{"blob", std::string(10'000, 'x')}};  // beyond limits.max_token_bytes
  CHECK(code(engine.issue_access("alice", o)) == "invalid_argument");
  o.claims = {{"bad_utf8", std::string("\xff\xfe")}};
  CHECK(code(engine.issue_access("alice", o)) == "invalid_argument");
}

// ---- verify ------------------------------------------------------------------------------------

TEST_CASE("verify valid access token") {
  Rig rig;
  auto engine = rig.make();
  auto token = value_of(engine.issue_access("alice"));
  rig.clock->advance(minutes(10));
  auto v = engine.verify_access(token);
  REQUIRE(status(v) == "ok");
  CHECK(v->subject() == "alice");
  CHECK(v->claims().at("aud") == "api");
}

TEST_CASE("verify invalid signature") {
  Rig rig;
  auto engine = rig.make();
  auto token = value_of(engine.issue_access("alice"));
  const auto dot = token.rfind('.');

  SECTION("a flipped signature byte") {
    std::string bad = token;
    bad[dot + 5] = bad[dot + 5] == 'A' ? 'B' : 'A';
    CHECK(code(engine.verify_access(bad)) == "bad_signature");
  }
  SECTION("a payload swapped for another token's") {
    auto other = value_of(engine.issue_access("mallory"));
    const auto p1 = token.find('.'), p2 = other.find('.');
    std::string spliced = token.substr(0, p1) + other.substr(p2, other.rfind('.') - p2) +
                          token.substr(dot);
    CHECK(code(engine.verify_access(spliced)) == "bad_signature");
  }
  SECTION("a token of another engine (another key)") {
    Rig other_rig;
    auto other = other_rig.make();
    auto foreign = value_of(other.issue_access("alice"));
    CHECK(code(engine.verify_access(foreign)) == "key_not_found");
  }
  SECTION("the signature removed, or alg none") {
    CHECK(code(engine.verify_access(token.substr(0, dot + 1))) != "ok");
    const std::string none_header = jwtkit::base64url::encode(R"({"alg":"none","typ":"at+jwt"})");
    const std::string body = token.substr(token.find('.'), dot - token.find('.'));
    CHECK(code(engine.verify_access(none_header + body + ".")) != "ok");
    CHECK(code(engine.verify_access(none_header + body + ".AAAA")) == "unsupported_alg");
  }
}

TEST_CASE("verify refuses an algorithm outside the allow-list") {
  Rig rig(Alg::ES256);
  auto engine = rig.make();
  // HS256 with the right kid: refused before any key is used.
  const std::string header = jwtkit::base64url::encode(
      json({{"alg", "HS256"}, {"typ", "at+jwt"}, {"kid", engine.active_kid()}}).dump());
  const std::string payload = jwtkit::base64url::encode(rig.good_claims().dump());
  CHECK(code(engine.verify_access(header + "." + payload + ".AAAA")) == "alg_not_allowed");
}

TEST_CASE("verify expired token") {
  Rig rig;
  rig.opts.leeway = seconds(0);
  auto engine = rig.make();
  auto token = value_of(engine.issue_access("alice"));
  rig.clock->advance(rig.opts.access_ttl + hours(1));
  CHECK(code(engine.verify_access(token)) == "expired");
}

TEST_CASE("leeway edges: exp == now is expired; leeway extends exp by exactly its length") {
  SECTION("no leeway") {
    Rig rig;
    rig.opts.leeway = seconds(0);
    auto engine = rig.make();
    IssueOptions o;
    o.ttl = seconds(60);
    auto token = value_of(engine.issue_access("alice", o));
    rig.clock->advance(seconds(59));
    CHECK(status(engine.verify_access(token)) == "ok");
    rig.clock->advance(seconds(1));  // now == exp
    CHECK(code(engine.verify_access(token)) == "expired");
  }
  SECTION("30 s leeway") {
    Rig rig;
    auto engine = rig.make();
    IssueOptions o;
    o.ttl = seconds(60);
    auto token = value_of(engine.issue_access("alice", o));
    rig.clock->advance(seconds(89));
    CHECK(status(engine.verify_access(token)) == "ok");
    rig.clock->advance(seconds(1));  // now == exp + leeway
    CHECK(code(engine.verify_access(token)) == "expired");
  }
  SECTION("a token from the future is not yet valid, within leeway it is") {
    Rig rig;
    auto engine = rig.make();
    auto claims = rig.good_claims();
    claims["iat"] = claims["nbf"] = rig.now_s() + 30;
    CHECK(status(engine.verify_access(rig.forge(claims))) == "ok");
    claims["iat"] = claims["nbf"] = rig.now_s() + 31;
    CHECK(code(engine.verify_access(rig.forge(claims))) == "not_yet_valid");
  }
}

TEST_CASE("verify checks issuer, audience and required claims") {
  Rig rig;
  rig.opts.required_claims = {"scope"};
  auto engine = rig.make();
  auto claims = rig.good_claims();
  claims["scope"] = "read";
  CHECK(status(engine.verify_access(rig.forge(claims))) == "ok");

  auto c = claims;
  c["iss"] = "https://evil.example.com";
  CHECK(code(engine.verify_access(rig.forge(c))) == "bad_issuer");
  c = claims;
  c["aud"] = "other-api";
  CHECK(code(engine.verify_access(rig.forge(c))) == "bad_audience");
  c = claims;
  c.erase("scope");
  CHECK(code(engine.verify_access(rig.forge(c))) == "missing_claim");
  c = claims;
  c.erase("exp");
  CHECK(code(engine.verify_access(rig.forge(c))) == "missing_claim");
  c = claims;
  c.erase("jti");
  CHECK(code(engine.verify_access(rig.forge(c))) == "missing_claim");
  // The engine's own tokens lack the required custom claim unless the caller adds it.
  CHECK(code(engine.verify_access(value_of(engine.issue_access("alice")))) == "missing_claim");
}

TEST_CASE("verify refuses claims of the wrong JSON type cleanly") {
  Rig rig;
  auto engine = rig.make();
  auto c = rig.good_claims();
  SECTION("sub a number") { c["sub"] = 5; }
  SECTION("sub empty") { c["sub"] = ""; }
  SECTION("jti an object") { c["jti"] = {{"a", 1}}; }
  SECTION("exp a string") { c["exp"] = "tomorrow"; }
  SECTION("iat a string") { c["iat"] = "now"; }
  SECTION("aud a number") { c["aud"] = 7; }
  SECTION("sid a number") { c["sid"] = 7; }
  SECTION("sid empty") { c["sid"] = ""; }
  CHECK(code(engine.verify_access(rig.forge(c))) == "malformed");
}

TEST_CASE("aud arrays: issued as an array, accepted when any audience matches") {
  Rig rig;
  rig.opts.audiences = {"api", "admin-api"};
  auto engine = rig.make();
  auto token = value_of(engine.issue_access("alice"));
  CHECK(decoded(token).claims.at("aud") == json({"api", "admin-api"}));
  CHECK(status(engine.verify_access(token)) == "ok");

  auto c = rig.good_claims();
  c["aud"] = {"unrelated", "admin-api"};
  CHECK(status(engine.verify_access(rig.forge(c))) == "ok");
  c["aud"] = {"unrelated", "other"};
  CHECK(code(engine.verify_access(rig.forge(c))) == "bad_audience");
  c["aud"] = json::array();
  CHECK(code(engine.verify_access(rig.forge(c))) == "bad_audience");
  c["aud"] = {"api", 3};
  CHECK(code(engine.verify_access(rig.forge(c))) == "malformed");
}

TEST_CASE("refresh token used as access token is rejected, and the reverse") {
  Rig rig;
  auto engine = rig.make();
  auto pair = value_of(engine.issue_pair("alice"));
  CHECK(code(engine.verify_access(pair.refresh_token)) == "bad_type");
  CHECK(code(engine.verify_refresh(pair.access_token)) == "bad_type");
  CHECK(code(engine.refresh(pair.access_token)) == "bad_type");

  SECTION("even when the audiences include the issuer") {
    rig.opts.audiences = {"api", kIssuer};
    auto e2 = rig.make();
    auto p2 = value_of(e2.issue_pair("alice"));
    CHECK(code(e2.verify_access(p2.refresh_token)) == "bad_type");
  }
  SECTION("a forged access-typed token with a refresh audience is refused as refresh") {
    auto c = rig.good_claims();
    c["aud"] = kIssuer;
    c["sid"] = "s";
    CHECK(code(engine.verify_refresh(rig.forge(c))) == "bad_type");
    // ... and a refresh-typed token lacking sid is refused.
    c.erase("sid");
    CHECK(code(engine.verify_refresh(rig.forge(c, {{"typ", "rt+jwt"}}))) == "missing_claim");
  }
  SECTION("a token without typ is neither") {
    auto t = rig.forge(rig.good_claims(), json::object());
    CHECK(code(engine.verify_access(t)) == "bad_type");
    CHECK(code(engine.verify_refresh(t)) == "bad_type");
  }
}

TEST_CASE("verify refuses garbage tokens cleanly") {
  Rig rig;
  auto engine = rig.make();
  const std::string garbage = GENERATE(std::string(""), std::string("."), std::string(".."),
                                       std::string("abc"), std::string("a.b.c"),
                                       std::string("a.b.c.d.e"), std::string("\0\0\0", 3),
                                       std::string(100'000, 'A'),
                                       std::string("eyJhbGciOiJFUzI1NiJ9.e30."),
                                       std::string("e30.e30.e30"));
  auto r = engine.verify_access(garbage);
  CHECK_FALSE(r.ok());
  CHECK(code(r) != "internal");
  CHECK_FALSE(engine.verify_refresh(garbage).ok());
  CHECK_FALSE(engine.revoke(garbage).ok());
  CHECK_FALSE(engine.remaining_lifetime(garbage).ok());
  CHECK_FALSE(engine.refresh(garbage).ok());
}

// ---- revocation ----------------------------------------------------------------------------

TEST_CASE("verify revoked (blacklisted) token") {
  Rig rig;
  auto engine = rig.make();
  auto token = value_of(engine.issue_access("alice"));
  auto other = value_of(engine.issue_access("alice"));
  REQUIRE(status(engine.revoke(token)) == "ok");
  CHECK(code(engine.verify_access(token)) == "revoked");
  CHECK(status(engine.verify_access(other)) == "ok");
}

TEST_CASE("revoke by jti") {
  Rig rig;
  auto engine = rig.make();
  auto token = value_of(engine.issue_access("alice"));
  const auto jti = decoded(token).claims.at("jti").get<std::string>();
  REQUIRE(status(engine.revoke_jti(jti, rig.clock->now() + hours(1))) == "ok");
  CHECK(code(engine.verify_access(token)) == "revoked");
  CHECK(code(engine.revoke_jti("", rig.clock->now() + hours(1))) == "invalid_argument");
}

TEST_CASE("revoke with a parsed payload: signature checked, exp bounds the entry") {
  Rig rig;
  auto engine = rig.make();
  IssueOptions o;
  o.ttl = seconds(100);
  auto token = value_of(engine.issue_access("alice", o));
  const auto jti = decoded(token).claims.at("jti").get<std::string>();
  REQUIRE(status(engine.revoke(token)) == "ok");
  CHECK(value_of(engine.is_revoked(jti)));
  // The entry lives until exp + leeway (while the token could still be accepted), then goes.
  rig.clock->advance(seconds(100) + rig.opts.leeway - seconds(1));
  CHECK(value_of(engine.is_revoked(jti)));
  rig.clock->advance(seconds(1));
  CHECK_FALSE(value_of(engine.is_revoked(jti)));

  SECTION("a token with a bad signature is not revoked") {
    auto victim = value_of(engine.issue_access("bob"));
    std::string bad = victim;
    bad.back() = bad.back() == 'A' ? 'B' : 'A';
    CHECK_FALSE(engine.revoke(bad).ok());
    CHECK_FALSE(value_of(engine.is_revoked(decoded(victim).claims.at("jti").get<std::string>())));
  }
  SECTION("a token of another issuer is refused") {
    auto c = rig.good_claims();
    c["iss"] = "https://evil.example.com";
    CHECK(code(engine.revoke(rig.forge(c))) == "bad_issuer");
  }
  SECTION("a token without exp or jti is refused") {
    auto c = rig.good_claims();
    c.erase("exp");
    CHECK(code(engine.revoke(rig.forge(c))) == "missing_claim");
    c = rig.good_claims();
    c.erase("jti");
    CHECK(code(engine.revoke(rig.forge(c))) == "missing_claim");
    c = rig.good_claims();
    c["exp"] = "soon";
    CHECK(code(engine.revoke(rig.forge(c))) == "malformed");
  }
  SECTION("an expired token can still be revoked") {
    auto old = value_of(engine.issue_access("carol", o));
    rig.clock->advance(hours(1));
    CHECK(status(engine.revoke(old)) == "ok");
  }
}

TEST_CASE("revoking a refresh token ends its session") {
  Rig rig;
  auto engine = rig.make();
  auto pair = value_of(engine.issue_pair("alice"));
  REQUIRE(status(engine.revoke(pair.refresh_token)) == "ok");
  CHECK(code(engine.verify_refresh(pair.refresh_token)) == "revoked");
  CHECK(code(engine.verify_access(pair.access_token)) == "revoked");
  CHECK(code(engine.refresh(pair.refresh_token)) == "revoked");
  CHECK(value_of(engine.session_count("alice")) == 0);
}

TEST_CASE("revoke all tokens of a user") {
  Rig rig;
  auto engine = rig.make();
  auto a1 = value_of(engine.issue_access("alice"));
  auto p1 = value_of(engine.issue_pair("alice"));
  auto b1 = value_of(engine.issue_access("bob"));
  REQUIRE(value_of(engine.session_count("alice")) == 1);

  REQUIRE(status(engine.revoke_subject("alice")) == "ok");
  CHECK(code(engine.verify_access(a1)) == "revoked");
  CHECK(code(engine.verify_access(p1.access_token)) == "revoked");
  CHECK(code(engine.verify_refresh(p1.refresh_token)) == "revoked");
  CHECK(code(engine.refresh(p1.refresh_token)) == "revoked");
  CHECK(value_of(engine.session_count("alice")) == 0);
  CHECK(status(engine.verify_access(b1)) == "ok");

  // Tokens issued after the revocation work again.
  rig.clock->advance(seconds(1));
  auto a2 = value_of(engine.issue_access("alice"));
  CHECK(status(engine.verify_access(a2)) == "ok");
  CHECK(code(engine.revoke_subject("")) == "invalid_argument");
}

TEST_CASE("is-token-revoked true and false") {
  Rig rig;
  auto engine = rig.make();
  auto token = value_of(engine.issue_access("alice"));
  const auto jti = decoded(token).claims.at("jti").get<std::string>();
  CHECK_FALSE(value_of(engine.is_revoked(jti)));
  REQUIRE(status(engine.revoke(token)) == "ok");
  CHECK(value_of(engine.is_revoked(jti)));
  CHECK_FALSE(value_of(engine.is_revoked("some-other-jti")));
}

TEST_CASE("is-user-revoked true and false") {
  Rig rig;
  auto engine = rig.make();
  CHECK_FALSE(value_of(engine.is_subject_revoked("alice")));
  REQUIRE(status(engine.revoke_subject("alice")) == "ok");
  CHECK(value_of(engine.is_subject_revoked("alice")));
  CHECK_FALSE(value_of(engine.is_subject_revoked("bob")));
  // The entry lasts as long as any token issued before it could live, then goes.
  rig.clock->advance(rig.opts.refresh_ttl + rig.opts.leeway);
  CHECK_FALSE(value_of(engine.is_subject_revoked("alice")));
}

// ---- store failures --------------------------------------------------------------------------

TEST_CASE("store unavailable: verify fails closed and revoke reports the failure") {
  Rig rig;
  auto engine = rig.make();
  auto pair = value_of(engine.issue_pair("alice"));
  rig.revocations->fail(jwtkit_test::StoreOp::all);

  auto v = engine.verify_access(pair.access_token);
  CHECK(code(v) == "store_unavailable");
  CHECK(code(engine.verify_refresh(pair.refresh_token)) == "store_unavailable");
  CHECK(code(engine.refresh(pair.refresh_token)) == "store_unavailable");
  CHECK(code(engine.revoke(pair.access_token)) == "store_unavailable");
  CHECK(code(engine.revoke_jti("x", rig.clock->now() + hours(1))) == "store_unavailable");
  CHECK(code(engine.revoke_subject("alice")) == "store_unavailable");
  CHECK(code(engine.is_revoked("x")) == "store_unavailable");
  CHECK(code(engine.is_subject_revoked("alice")) == "store_unavailable");
  CHECK(code(engine.session_count("alice")) == "store_unavailable");
  CHECK(code(engine.cleanup()) == "store_unavailable");
  CHECK(code(engine.issue_pair("alice")) == "store_unavailable");

  // Nothing was lost: once the store is back, everything behaves.
  rig.revocations->heal();
  CHECK(status(engine.verify_access(pair.access_token)) == "ok");
  REQUIRE(status(engine.revoke(pair.access_token)) == "ok");
  CHECK(code(engine.verify_access(pair.access_token)) == "revoked");
}

TEST_CASE("store unavailable: fail open only when explicitly chosen") {
  Rig rig;
  rig.opts.store_failure = EngineOptions::StoreFailurePolicy::fail_open;
  auto engine = rig.make();
  auto token = value_of(engine.issue_access("alice"));
  rig.revocations->fail(jwtkit_test::StoreOp::is_revoked);
  CHECK(status(engine.verify_access(token)) == "ok");
  // Everything but the revocation check still applies.
  rig.clock->advance(hours(1));
  CHECK(code(engine.verify_access(token)) == "expired");
}

// ---- refresh -------------------------------------------------------------------------------

TEST_CASE("refresh rotation: a new pair in the same session; the old token is used up") {
  Rig rig;
  auto engine = rig.make();
  IssueOptions rt_opts;
  rt_opts.claims = {{"device", "phone"}};
  auto first = value_of(engine.issue_pair("alice", {}, rt_opts));
  rig.clock->advance(minutes(5));

  IssueOptions at_opts;
  at_opts.claims = {{"scope", "read"}};
  auto second = value_of(engine.refresh(first.refresh_token, at_opts));
  CHECK(second.session_id == first.session_id);
  CHECK(second.refresh_token != first.refresh_token);
  auto at = value_of(engine.verify_access(second.access_token));
  CHECK(at.subject() == "alice");
  CHECK(at.session_id() == first.session_id);
  CHECK(at.claims().at("scope") == "read");
  auto rt = value_of(engine.verify_refresh(second.refresh_token));
  CHECK(rt.claims().at("device") == "phone");  // carried over
  CHECK(jwtkit::to_unix(rt.expires_at()) == rig.now_s() + 30 * 24 * 3600);
  CHECK(value_of(engine.session_count("alice")) == 1);

  // The new refresh token refreshes again; the chain goes on.
  auto third = value_of(engine.refresh(second.refresh_token));
  CHECK(status(engine.verify_access(third.access_token)) == "ok");
  IssueOptions bad;
  bad.claims = json::object({{"sid", "x"}});  // access claims cannot set registered ones
  CHECK(code(engine.refresh(third.refresh_token, bad)) == "invalid_argument");
}

TEST_CASE("refresh reuse detection: a used refresh token revokes its whole session") {
  Rig rig;
  auto engine = rig.make();
  auto first = value_of(engine.issue_pair("alice"));
  auto other_session = value_of(engine.issue_pair("alice"));
  auto second = value_of(engine.refresh(first.refresh_token));

  // An attacker replays the first refresh token.
  CHECK(code(engine.refresh(first.refresh_token)) == "refresh_reused");
  // The whole family is dead: every token of the session.
  CHECK(code(engine.refresh(second.refresh_token)) == "revoked");
  CHECK(code(engine.verify_access(second.access_token)) == "revoked");
  CHECK(code(engine.verify_access(first.access_token)) == "revoked");
  CHECK(code(engine.verify_refresh(second.refresh_token)) == "revoked");
  // Other sessions of the same user are untouched.
  CHECK(status(engine.verify_access(other_session.access_token)) == "ok");
  CHECK(value_of(engine.session_count("alice")) == 1);
}

TEST_CASE("refresh reuse detection: two threads refreshing the same token at once") {
  Rig rig;
  auto engine = rig.make();
  for (int round = 0; round < 5; ++round) {
    auto pair = value_of(engine.issue_pair("alice"));
    constexpr int kThreads = 4;
    std::atomic<int> got_pair{0}, reused{0}, revoked{0}, other{0};
    std::vector<jwtkit::TokenPair> winners(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        auto r = engine.refresh(pair.refresh_token);
        if (r.ok()) {
          winners[static_cast<std::size_t>(i)] = *r;
          ++got_pair;
        } else if (r.error().code() == jwtkit::Errc::refresh_reused) {
          ++reused;
        } else if (r.error().code() == jwtkit::Errc::revoked) {
          ++revoked;  // came after a reuse had already revoked the session
        } else {
          ++other;
        }
      });
    }
    for (auto& t : threads) t.join();
    CHECK(got_pair.load() == 1);
    CHECK(reused.load() >= 1);
    CHECK(reused.load() + revoked.load() == kThreads - 1);
    CHECK(other.load() == 0);
    // The losers' reuse revoked the session, so even the winner's pair is dead.
    for (const auto& w : winners) {
      if (!w.access_token.empty()) CHECK(code(engine.verify_access(w.access_token)) == "revoked");
    }
  }
}

TEST_CASE("refresh: a store failure issues nothing and loses nothing") {
  Rig rig;
  auto engine = rig.make();
  auto pair = value_of(engine.issue_pair("alice"));

  SECTION("marking the token used fails") {
    rig.revocations->fail(jwtkit_test::StoreOp::mark_refresh_used);
    CHECK(code(engine.refresh(pair.refresh_token)) == "store_unavailable");
  }
  SECTION("extending the session fails") {
    rig.revocations->fail(jwtkit_test::StoreOp::add_session);
    CHECK(code(engine.refresh(pair.refresh_token)) == "store_unavailable");
  }
  // The old token was not used up: it still refreshes once the store is back.
  rig.revocations->heal();
  CHECK(status(engine.refresh(pair.refresh_token)) == "ok");
  CHECK(code(engine.refresh(pair.refresh_token)) == "refresh_reused");
}

TEST_CASE("refresh reuse detection: a failed family revocation is reported, not hidden") {
  Rig rig;
  auto engine = rig.make();
  auto pair = value_of(engine.issue_pair("alice"));
  auto next = value_of(engine.refresh(pair.refresh_token));
  rig.revocations->fail(jwtkit_test::StoreOp::revoke_session);
  CHECK(code(engine.refresh(pair.refresh_token)) == "store_unavailable");
  // Retried with the store back: detected and revoked.
  rig.revocations->heal();
  CHECK(code(engine.refresh(pair.refresh_token)) == "refresh_reused");
  CHECK(code(engine.verify_access(next.access_token)) == "revoked");
}

TEST_CASE("refresh of an expired refresh token is refused") {
  Rig rig;
  auto engine = rig.make();
  auto pair = value_of(engine.issue_pair("alice"));
  rig.clock->advance(rig.opts.refresh_ttl + rig.opts.leeway);
  CHECK(code(engine.refresh(pair.refresh_token)) == "expired");
}

// ---- lifetime, sessions, cleanup -----------------------------------------------------------

TEST_CASE("remaining lifetime of a valid token and of an expired one") {
  Rig rig;
  auto engine = rig.make();
  auto token = value_of(engine.issue_access("alice"));
  CHECK(value_of(engine.remaining_lifetime(token)) == minutes(15));
  rig.clock->advance(minutes(10));
  CHECK(value_of(engine.remaining_lifetime(token)) == minutes(5));
  rig.clock->advance(minutes(5));
  CHECK(value_of(engine.remaining_lifetime(token)) == seconds(0));
  rig.clock->advance(hours(5));
  CHECK(value_of(engine.remaining_lifetime(token)) == seconds(0));
  // The signature is still checked.
  std::string bad = token;
  bad.back() = bad.back() == 'A' ? 'B' : 'A';
  CHECK_FALSE(engine.remaining_lifetime(bad).ok());
}

TEST_CASE("active session count") {
  Rig rig;
  auto engine = rig.make();
  CHECK(value_of(engine.session_count("alice")) == 0);
  auto p1 = value_of(engine.issue_pair("alice"));
  IssueOptions short_lived;
  short_lived.ttl = hours(1);
  REQUIRE(status(engine.issue_refresh("alice", short_lived)) == "ok");
  REQUIRE(status(engine.issue_pair("bob")) == "ok");
  CHECK(value_of(engine.session_count("alice")) == 2);
  CHECK(value_of(engine.session_count("bob")) == 1);
  // Refreshing keeps the session count.
  auto p1b = value_of(engine.refresh(p1.refresh_token));
  CHECK(value_of(engine.session_count("alice")) == 2);
  // A session ends when its refresh token expires.
  rig.clock->advance(hours(1));
  CHECK(value_of(engine.session_count("alice")) == 1);
  CHECK(status(engine.verify_refresh(p1b.refresh_token)) == "ok");
}

TEST_CASE("cleanup of expired entries") {
  Rig rig;
  auto engine = rig.make();
  IssueOptions o;
  o.ttl = seconds(60);
  auto short_token = value_of(engine.issue_access("alice", o));
  auto long_token = value_of(engine.issue_access("alice"));
  REQUIRE(status(engine.revoke(short_token)) == "ok");
  REQUIRE(status(engine.revoke(long_token)) == "ok");
  CHECK(value_of(engine.cleanup()) == 0);

  rig.clock->advance(seconds(60) + rig.opts.leeway);
  CHECK(value_of(engine.cleanup()) == 1);  // only the short token's entry
  CHECK(value_of(engine.cleanup()) == 0);
  CHECK(code(engine.verify_access(long_token)) == "revoked");
}

// ---- JWKS and keys -------------------------------------------------------------------------

TEST_CASE("JWKS with keys: public members only") {
  Rig rig(Alg::RS256);
  auto engine = rig.make();
  auto jwks = engine.jwks();
  REQUIRE(jwks.at("keys").size() == 1);
  const auto& k = jwks.at("keys")[0];
  CHECK(k.at("kty") == "RSA");
  CHECK(k.at("kid") == engine.active_kid());
  CHECK(k.at("alg") == "RS256");
  CHECK(k.contains("n"));
  CHECK(k.contains("e"));
  for (const char* priv : {"d", "p", "q", "dp", "dq", "qi"}) CHECK_FALSE(k.contains(priv));
  CHECK(json::parse(engine.jwks_json()) == jwks);

  // A verifier built from the JWKS alone accepts the engine's tokens.
  auto set = jwtkit::JwkSet::parse(engine.jwks_json());
  REQUIRE(status(set) == "ok");
  auto verifier = jwtkit::JwsVerifier::create(*set, jwtkit::JwsVerifierOptions{{Alg::RS256}, {}, {}});
  REQUIRE(status(verifier) == "ok");
  CHECK(status(verifier->verify(value_of(engine.issue_access("alice")))) == "ok");
}

TEST_CASE("JWKS with no keys: an HMAC engine publishes an empty set") {
  Rig rig(Alg::HS256);
  auto engine = rig.make();
  CHECK(engine.jwks() == json({{"keys", json::array()}}));
  CHECK(engine.jwks_json() == R"({"keys":[]})");
  // The secret still signs and verifies.
  CHECK(status(engine.verify_access(value_of(engine.issue_access("alice")))) == "ok");
  CHECK_FALSE(engine.active_kid().empty());
}

TEST_CASE("key rotation overlap: a token signed before rotation verifies until its key retires") {
  Rig rig;
  auto engine = rig.make();
  const auto old_kid = engine.active_kid();
  auto old_token = value_of(engine.issue_access("alice"));
  auto old_refresh = value_of(engine.issue_refresh("alice"));

  rig.clock->advance(minutes(1));
  auto new_kid = value_of(engine.rotate_key());
  CHECK(new_kid != old_kid);
  CHECK(engine.active_kid() == new_kid);
  CHECK(decoded(value_of(engine.issue_access("alice"))).header.at("kid") == new_kid);
  CHECK(jwks_kids(engine.jwks()) == std::set<std::string>{old_kid, new_kid});

  // The old key verifies what it signed, for as long as such a token can live.
  CHECK(status(engine.verify_access(old_token)) == "ok");
  rig.clock->advance(hours(24 * 29));
  CHECK(status(engine.verify_refresh(old_refresh)) == "ok");

  auto stored = value_of(rig.key_mem->load_all());
  REQUIRE(stored.size() == 2);
  for (const auto& r : stored) {
    if (r.kid() != old_kid) continue;
    CHECK(r.state == KeyState::retiring);
    REQUIRE(r.verify_until.has_value());
    REQUIRE(r.sign_until.has_value());
    // Every token it signed has expired by verify_until (plus leeway).
    CHECK(*r.verify_until == *r.sign_until + rig.opts.refresh_ttl + rig.opts.leeway);
  }

  // Past verify_until the key is gone from the JWKS and refuses, even before cleanup.
  rig.clock->advance(hours(24) + rig.opts.leeway);
  CHECK(jwks_kids(engine.jwks()) == std::set<std::string>{new_kid});
  CHECK(code(engine.remaining_lifetime(old_refresh)) == "key_not_found");
  CHECK(value_of(engine.cleanup()) >= 1);
  CHECK(value_of(rig.key_mem->load_all()).size() == 1);
  CHECK(code(engine.verify_refresh(old_refresh)) == "key_not_found");
}

TEST_CASE("key rotation: with a publish delay the new key is in the JWKS before it signs") {
  Rig rig;
  rig.opts.key_publish_delay = hours(1);
  auto engine = rig.make();
  const auto old_kid = engine.active_kid();
  auto new_kid = value_of(engine.rotate_key());
  CHECK(engine.active_kid() == old_kid);  // still signing with the old key
  CHECK(jwks_kids(engine.jwks()).count(new_kid) == 1);
  CHECK(decoded(value_of(engine.issue_access("alice"))).header.at("kid") == old_kid);

  rig.clock->advance(minutes(59));
  REQUIRE(status(engine.reload_keys()) == "ok");
  CHECK(engine.active_kid() == old_kid);
  rig.clock->advance(minutes(1));
  REQUIRE(status(engine.reload_keys()) == "ok");
  CHECK(engine.active_kid() == new_kid);
  CHECK(decoded(value_of(engine.issue_access("alice"))).header.at("kid") == new_kid);
}

TEST_CASE("key rotation across instances: others pick it up and verify at once") {
  Rig rig;
  rig.opts.key_publish_delay = minutes(10);
  auto a = rig.make();
  auto b = rig.make();
  REQUIRE(a.active_kid() == b.active_kid());

  auto new_kid = value_of(a.rotate_key());
  REQUIRE(status(b.reload_keys()) == "ok");  // b sees the published key
  rig.clock->advance(minutes(10));
  REQUIRE(status(a.reload_keys()) == "ok");  // a promotes it and signs with it
  REQUIRE(a.active_kid() == new_kid);
  auto token = value_of(a.issue_access("alice"));
  // b has not reloaded since, yet verifies: the key was published before it signed.
  CHECK(status(b.verify_access(token)) == "ok");
  REQUIRE(status(b.reload_keys()) == "ok");
  CHECK(b.active_kid() == new_kid);
  CHECK(value_of(rig.key_mem->load_all()).size() == 2);
}

TEST_CASE("key rotation: rotating twice before promotion supersedes the first pending key") {
  Rig rig;
  rig.opts.key_publish_delay = minutes(10);
  auto engine = rig.make();
  auto k1 = value_of(engine.rotate_key());
  rig.clock->advance(minutes(1));
  auto k2 = value_of(engine.rotate_key());
  rig.clock->advance(minutes(10));
  REQUIRE(status(engine.reload_keys()) == "ok");
  CHECK(engine.active_kid() == k2);
  CHECK(jwks_kids(engine.jwks()).count(k1) == 0);
}

TEST_CASE("key rotation: another algorithm, refusals and failures") {
  Rig rig;
  rig.opts.allowed_algs = {Alg::ES256, Alg::EdDSA};
  auto engine = rig.make();
  auto old_token = value_of(engine.issue_access("alice"));
  auto kid = value_of(engine.rotate_key(Alg::EdDSA));
  auto token = value_of(engine.issue_access("alice"));
  CHECK(decoded(token).header.at("alg") == "EdDSA");
  CHECK(decoded(token).header.at("kid") == kid);
  CHECK(status(engine.verify_access(token)) == "ok");
  CHECK(status(engine.verify_access(old_token)) == "ok");

  CHECK(code(engine.rotate_key(Alg::RS256)) == "invalid_argument");  // not allowed

  rig.keys->fail(jwtkit_test::StoreOp::save);
  CHECK(code(engine.rotate_key()) == "store_unavailable");
  CHECK(engine.active_kid() == kid);
  rig.keys->fail(jwtkit_test::StoreOp::load_all);
  CHECK(code(engine.reload_keys()) == "store_unavailable");
  CHECK(code(engine.cleanup()) == "store_unavailable");
  // The engine keeps working on the keys it has.
  CHECK(status(engine.verify_access(value_of(engine.issue_access("alice")))) == "ok");
}

// ---- decode --------------------------------------------------------------------------------

TEST_CASE("decode without verification") {
  Rig rig;
  auto engine = rig.make();
  auto token = value_of(engine.issue_access("alice"));
  std::string tampered = token;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  auto d = jwtkit::unsafe::decode(tampered);  // the signature is not looked at
  REQUIRE(status(d) == "ok");
  CHECK(d->header.at("typ") == "at+jwt");
  CHECK(d->header.at("kid") == engine.active_kid());
  CHECK(d->claims.at("sub") == "alice");
  // Expired tokens decode too.
  rig.clock->advance(hours(10));
  CHECK(status(jwtkit::unsafe::decode(token)) == "ok");
}

TEST_CASE("decode of garbage fails cleanly") {
  const std::string garbage = GENERATE(
      std::string(""), std::string("not a token"), std::string("a.b"), std::string("a.b.c.d"),
      std::string("!!!.e30.sig"), std::string("e30.!!!.sig"),
      std::string("W10.e30.sig"),                      // header is an array
      std::string("e30.IjEi.sig"),                     // payload is a string
      std::string("eyJhIjoxLCJhIjoyfQ.e30.sig"),       // duplicate member
      std::string("e30.eyJ.sig"),                      // truncated JSON
      std::string(9000, 'e') + ".e30.sig");             // over the size limit
  auto d = jwtkit::unsafe::decode(garbage);
  REQUIRE_FALSE(d.ok());
  CHECK(code(d) == "malformed");
  CHECK_FALSE(d.error().message().empty());
}

// ---- concurrency -----------------------------------------------------------------------------

TEST_CASE("the engine is safe to use from many threads at once") {
  Rig rig;
  auto engine = rig.make();
  std::atomic<int> failures{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 60; ++i) {
        auto pair = engine.issue_pair("user-" + std::to_string(t));
        if (!pair.ok()) {
          ++failures;
          continue;
        }
        if (!engine.verify_access(pair->access_token).ok()) ++failures;
        auto next = engine.refresh(pair->refresh_token);
        if (!next.ok() || !engine.verify_access(next->access_token).ok()) ++failures;
        if (i % 10 == 0 && !engine.revoke(next->access_token).ok()) ++failures;
      }
    });
  }
  std::thread rotator([&] {
    for (int i = 0; i < 5 && !stop; ++i) {
      if (!engine.rotate_key().ok()) ++failures;
      if (!engine.reload_keys().ok()) ++failures;
      if (engine.jwks().at("keys").empty()) ++failures;
    }
  });
  for (auto& th : threads) th.join();
  stop = true;
  rotator.join();
  CHECK(failures.load() == 0);
}

TEST_CASE("a moved engine keeps working") {
  Rig rig;
  auto engine = rig.make();
  auto token = value_of(engine.issue_access("alice"));
  Engine moved = std::move(engine);
  CHECK(status(moved.verify_access(token)) == "ok");
  Engine other = rig.make();
  other = std::move(moved);
  CHECK(status(other.verify_access(token)) == "ok");
  CHECK(other.options().issuer == kIssuer);
}
