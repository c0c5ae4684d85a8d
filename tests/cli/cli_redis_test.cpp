// Process-level tests of the jwtkit tool's engine commands against a real Redis (the ctest
// fixture's redis-server): sessions, refresh and reuse detection, every kind of revocation as
// seen by introspect and by verify --store, cleanup. Skipped when redis-server is missing.
#include "cli/cli_test_support.hpp"

#include <cstdlib>
#include <iostream>

using jwtkit_cli_test::require_error;
using jwtkit_cli_test::rtrim;
using jwtkit_cli_test::Run;
using jwtkit_cli_test::Sandbox;
using jwtkit_cli_test::slurp;
using jwtkit_test::contains;
using nlohmann::json;

namespace {

const std::string kIss = "https://issuer.example";
constexpr long long kNow = 1700000000;
constexpr int kSkipExitCode = 77;  // SKIP_RETURN_CODE of these tests

// The fixture's server, in a database of its own. Exits with kSkipExitCode when the
// fixture found no redis-server, so the tests are reported as skipped, never as passed.
const std::string& store_url() {
  static const std::string url = [] {
    const char* dir = std::getenv("JWTKIT_REDIS_FIXTURE_DIR");
    if (dir == nullptr || *dir == '\0') {
      std::cerr << "JWTKIT_REDIS_FIXTURE_DIR is not set: run this test through ctest\n";
      std::exit(1);
    }
    if (std::filesystem::exists(std::string(dir) + "/skip")) {
      std::cerr << "redis-server is not installed: skipping\n";
      std::exit(kSkipExitCode);
    }
    std::string base = rtrim(slurp(std::string(dir) + "/url"));
    if (base.empty()) {
      std::cerr << "the Redis fixture did not start\n";
      std::exit(1);
    }
    return base + "/7";
  }();
  return url;
}

// A subject no other test (or earlier run against the same server) uses.
std::string unique(const std::string& name) {
  return name + "-" + std::to_string(::getpid());
}

std::string at(long long t) { return std::to_string(t); }

std::vector<std::string> engine(const Sandbox& sb, const std::string& command, long long now,
                                std::vector<std::string> extra = {}) {
  std::vector<std::string> args{command, "--keys", sb.path("keys"), "--store", store_url(),
                                "--iss", kIss, "--aud", "api", "--now", at(now)};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

json issue(const Sandbox& sb, const std::string& sub, long long now) {
  Run r = sb.run(engine(sb, "issue", now, {"--sub", sub}));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());  // with --store there is nothing to warn about
  return json::parse(r.out);
}

std::size_t sessions(const Sandbox& sb, const std::string& sub, long long now) {
  return json::parse(sb.ok({"sessions", "--store", store_url(), "--sub", sub, "--now", at(now)}))
      ["sessions"].get<std::size_t>();
}

// The plain JOSE verifier with revocation checked in the store.
Run verify_with_store(const Sandbox& sb, const std::string& token, long long now) {
  std::string jwks = sb.write("jwks.json", sb.ok({"jwks", "--keys", sb.path("keys")}));
  return sb.run({"verify", "--jwks", jwks, "--alg", "RS256", "--iss", kIss, "--aud", "api",
                 "--now", at(now), "--store", store_url(), token});
}

}  // namespace

TEST_CASE("redis: issue records the session, sessions counts it, introspect accepts the tokens") {
  Sandbox sb;
  const std::string sub = unique("alice");
  CHECK(sessions(sb, sub, kNow) == 0);
  json pair = issue(sb, sub, kNow);
  CHECK(sessions(sb, sub, kNow) == 1);
  issue(sb, sub, kNow);
  CHECK(sessions(sb, sub, kNow) == 2);

  json claims = json::parse(sb.ok(engine(sb, "introspect", kNow + 1, {pair["access_token"]})));
  CHECK(claims["sub"] == sub);
  CHECK(claims["sid"] == pair["session_id"]);
  json refresh_claims =
      json::parse(sb.ok(engine(sb, "introspect", kNow + 1, {pair["refresh_token"]})));
  CHECK(refresh_claims["aud"] == kIss);  // a refresh token is for the issuer itself
  CHECK(verify_with_store(sb, pair["access_token"], kNow + 1).exit_code == 0);
  // Sessions end with their refresh token.
  CHECK(sessions(sb, sub, kNow + 31 * 86400) == 0);
}

TEST_CASE("redis: refresh gives a new pair, and reusing a refresh token revokes the session") {
  Sandbox sb;
  const std::string sub = unique("bob");
  json first = issue(sb, sub, kNow);
  json second = json::parse(
      sb.ok(engine(sb, "refresh", kNow + 60, {"--claims", R"({"scope":"x"})", "-"}),
            first["refresh_token"].get<std::string>() + "\n"));
  CHECK(second["session_id"] == first["session_id"]);
  CHECK(second["access_token"] != first["access_token"]);
  json claims = json::parse(sb.ok(engine(sb, "introspect", kNow + 61, {second["access_token"]})));
  CHECK(claims["scope"] == "x");

  Run reuse = sb.run(engine(sb, "refresh", kNow + 120, {first["refresh_token"]}));
  require_error(reuse, 1, "refresh_reused");
  // The whole session is gone: the tokens of the second pair are rejected as well.
  require_error(sb.run(engine(sb, "introspect", kNow + 121, {second["access_token"]})), 1,
                "revoked");
  require_error(sb.run(engine(sb, "refresh", kNow + 121, {second["refresh_token"]})), 1,
                "revoked");
  require_error(verify_with_store(sb, second["access_token"], kNow + 121), 1, "revoked");
}

TEST_CASE("redis: an access token is no refresh token") {
  Sandbox sb;
  json pair = issue(sb, unique("carol"), kNow);
  require_error(sb.run(engine(sb, "refresh", kNow + 1, {pair["access_token"]})), 1, "bad_type");
}

TEST_CASE("redis: revoke TOKEN is seen by introspect and by verify --store") {
  Sandbox sb;
  const std::string sub = unique("dave");
  json pair = issue(sb, sub, kNow);
  json other = issue(sb, sub, kNow);
  const std::string access = pair["access_token"];
  json out = json::parse(sb.ok(engine(sb, "revoke", kNow + 5, {access})));
  CHECK(out["revoked"] == "token");
  CHECK(out["sub"] == sub);
  require_error(sb.run(engine(sb, "introspect", kNow + 6, {access})), 1, "revoked");
  require_error(verify_with_store(sb, access, kNow + 6), 1, "revoked");
  // Without --store, verify cannot know: it still accepts the token's signature and claims.
  std::string jwks = sb.write("jwks.json", sb.ok({"jwks", "--keys", sb.path("keys")}));
  CHECK(sb.run({"verify", "--jwks", jwks, "--alg", "RS256", "--now", at(kNow + 6), access})
            .exit_code == 0);
  // Only that token: the subject's other session is untouched.
  CHECK(sb.run(engine(sb, "introspect", kNow + 6, {other["access_token"]})).exit_code == 0);
  // A forged token is not revoked on its say-so: its signature is checked first.
  std::string forged = access;
  forged[forged.rfind('.') + 3] = forged[forged.rfind('.') + 3] == 'A' ? 'B' : 'A';
  require_error(sb.run(engine(sb, "revoke", kNow + 7, {forged})), 1, "bad_signature");
}

TEST_CASE("redis: revoking a refresh token ends its session") {
  Sandbox sb;
  const std::string sub = unique("erin");
  json pair = issue(sb, sub, kNow);
  CHECK(sessions(sb, sub, kNow) == 1);
  sb.ok(engine(sb, "revoke", kNow + 1, {pair["refresh_token"]}));
  CHECK(sessions(sb, sub, kNow + 1) == 0);
  require_error(sb.run(engine(sb, "refresh", kNow + 2, {pair["refresh_token"]})), 1, "revoked");
  require_error(sb.run(engine(sb, "introspect", kNow + 2, {pair["access_token"]})), 1, "revoked");
}

TEST_CASE("redis: revoke --sub revokes the subject's tokens issued up to now, not later ones") {
  Sandbox sb;
  const std::string sub = unique("frank");
  json before = issue(sb, sub, kNow);
  json out = json::parse(sb.ok({"revoke", "--store", store_url(), "--sub", sub, "--now",
                                at(kNow)}));
  CHECK(out["revoked"] == "subject");
  CHECK(out["issued_up_to"] == kNow);
  CHECK(sessions(sb, sub, kNow) == 0);
  require_error(sb.run(engine(sb, "introspect", kNow + 1, {before["access_token"]})), 1,
                "revoked");
  require_error(verify_with_store(sb, before["access_token"], kNow + 1), 1, "revoked");
  json after = issue(sb, sub, kNow + 1);
  CHECK(sb.run(engine(sb, "introspect", kNow + 2, {after["access_token"]})).exit_code == 0);
  // Another subject is untouched.
  json other = issue(sb, unique("frank-other"), kNow);
  CHECK(sb.run(engine(sb, "introspect", kNow + 2, {other["access_token"]})).exit_code == 0);
}

TEST_CASE("redis: revoke --jti --exp is seen by verify --store until exp") {
  Sandbox sb;
  std::string key = sb.path("key.pem");
  sb.ok({"keygen", "--alg", "ES256", "--out", key});
  const std::string jti = unique("jti");
  json claims = {{"sub", unique("gina")}, {"jti", jti}, {"iat", kNow}, {"exp", kNow + 600}};
  std::string token = rtrim(sb.ok({"sign", "--key", key, "--alg", "ES256", "--claims",
                                   claims.dump()}));
  auto verify_at = [&](long long now) {
    return sb.run({"verify", "--key", key, "--alg", "ES256", "--now", at(now), "--store",
                   store_url(), token});
  };
  CHECK(verify_at(kNow + 1).exit_code == 0);
  json out = json::parse(sb.ok({"revoke", "--store", store_url(), "--jti", jti, "--exp",
                                at(kNow + 300), "--now", at(kNow + 2)}));
  CHECK(out["jti"] == jti);
  require_error(verify_at(kNow + 3), 1, "revoked");
  // The revocation lasts until the exp it was given (the store's clock is --now).
  CHECK(verify_at(kNow + 301).exit_code == 0);
}

TEST_CASE("redis: verify --store needs jti and sub in the token") {
  Sandbox sb;
  std::string key = sb.path("key.pem");
  sb.ok({"keygen", "--alg", "ES256", "--out", key});
  std::string token = rtrim(sb.ok({"sign", "--key", key, "--alg", "ES256", "--claims",
                                   json({{"sub", "x"}, {"exp", kNow + 60}}).dump()}));
  Run r = sb.run({"verify", "--key", key, "--alg", "ES256", "--now", at(kNow), "--store",
                  store_url(), token});
  require_error(r, 1, "missing_claim");
  CHECK_THAT(r.err, contains("jti"));
}

TEST_CASE("redis: cleanup with --store removes expired revocation entries") {
  Sandbox sb;
  issue(sb, unique("hank"), kNow);  // creates the key directory
  for (int i = 0; i < 3; ++i) {
    sb.ok({"revoke", "--store", store_url(), "--jti", unique("old-" + std::to_string(i)),
           "--exp", at(kNow + 10), "--now", at(kNow)});
  }
  Run r = sb.run({"cleanup", "--keys", sb.path("keys"), "--store", store_url(), "--now",
                  at(kNow + 20)});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(json::parse(r.out)["removed"].get<long long>() >= 3);
}
