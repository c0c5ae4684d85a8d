// Process-level tests of the jwtkit tool's engine commands that need no Redis: issue on an
// in-memory store (with its warning), key rotation and cleanup in a key directory, and the
// refusal of every command whose point is shared state to run without --store.
#include "cli/cli_test_support.hpp"

#include <sys/stat.h>

using jwtkit_cli_test::require_error;
using jwtkit_cli_test::rtrim;
using jwtkit_cli_test::Run;
using jwtkit_cli_test::Sandbox;
using jwtkit_test::contains;
using nlohmann::json;

namespace {

const std::string kIss = "https://issuer.example";
constexpr long long kNow = 1700000000;

// `jwtkit <command> --keys <sandbox>/keys --iss ... --aud api <extra...>`.
std::vector<std::string> engine(const Sandbox& sb, const std::string& command,
                                std::vector<std::string> extra = {}) {
  std::vector<std::string> args{command, "--keys", sb.path("keys"), "--iss", kIss, "--aud", "api"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::string at(long long t) { return std::to_string(t); }

// Verifies an engine access token with the plain JOSE verifier and the directory's JWKS.
Run verify_access(const Sandbox& sb, const std::string& token, long long now) {
  std::string jwks = sb.write("jwks.json", sb.ok({"jwks", "--keys", sb.path("keys"), "--now",
                                                  at(now)}));
  return sb.run({"verify", "--jwks", jwks, "--alg", "RS256,ES256,EdDSA", "--typ", "at+jwt",
                 "--iss", kIss, "--aud", "api", "--now", at(now), "--require", "sub,jti,sid",
                 token});
}

std::size_t files_in(const std::string& dir) {
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind("key-", 0) == 0) ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("engine help: every engine command's --help documents its options and exit codes") {
  Sandbox sb;
  auto command = GENERATE(as<std::string>{}, "issue", "refresh", "revoke", "introspect",
                          "sessions", "rotate", "cleanup");
  Run r = sb.run({command, "--help"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, contains("Usage: jwtkit " + command));
  if (command != "sessions") CHECK_THAT(r.out, contains("--keys DIR"));
  if (command != "rotate") CHECK_THAT(r.out, contains("--store URL"));
  CHECK_THAT(r.out, contains("Exit codes:\n  0  "));
  CHECK_THAT(r.out, contains("3  key, file or store error"));
  CHECK_THAT(sb.ok({"--help"}), contains("  " + command + " "));
}

TEST_CASE("engine help: each command shows, and accepts, only the options it uses") {
  Sandbox sb;
  std::string sessions = sb.ok({"sessions", "--help"});
  CHECK_THAT(sessions, contains("--store URL"));
  CHECK_THAT(sessions, contains("--sub SUB"));
  for (const char* unrelated : {"--keys", "--alg", "--iss", "--aud", "--access-ttl",
                                "--refresh-ttl", "--leeway", "--publish-delay"}) {
    CHECK_THAT(sessions, !contains(unrelated));
  }
  Run keys = sb.run({"sessions", "--store", "redis://127.0.0.1:1", "--sub", "a", "--keys", "d"});
  require_error(keys, 2, "invalid_argument");
  CHECK_THAT(keys.err, contains("unknown option '--keys'"));

  std::string rotate = sb.ok({"rotate", "--help"});
  for (const char* unrelated : {"--store", "--iss", "--aud", "--sub"}) {
    CHECK_THAT(rotate, !contains(unrelated));
  }
  CHECK_THAT(rotate, contains("--publish-delay D the new key is published in the JWKS at once"));
  CHECK_THAT(rotate, contains("starts signing\nonly after D"));
  CHECK_THAT(sb.ok({"cleanup", "--help"}), !contains("--alg"));
  CHECK_THAT(sb.ok({"introspect", "--help"}), !contains("--access-ttl"));
  CHECK_THAT(sb.ok({"issue", "--help"}), !contains("--publish-delay"));
}

TEST_CASE("engine issue: without --store it prints a pair and warns that nothing is recorded") {
  Sandbox sb;
  Run r = sb.run(engine(sb, "issue", {"--sub", "alice", "--claims", R"({"scope":"read"})", "--now",
                                      at(kNow)}));
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.err, contains("warning: no --store"));
  CHECK_THAT(r.err, contains("can be neither refreshed nor revoked"));
  json pair = json::parse(r.out);
  CHECK(pair["token_type"] == "Bearer");
  CHECK(pair["expires_in"] == 900);  // the engine's default access TTL
  CHECK(pair["access_expires_at"] == kNow + 900);
  CHECK(pair["refresh_expires_at"] == kNow + 30 * 86400);
  CHECK_FALSE(pair["session_id"].get<std::string>().empty());

  // The access token is a real one: the JOSE verifier accepts it with the directory's JWKS.
  Run v = verify_access(sb, pair["access_token"], kNow + 1);
  INFO(v.err);
  REQUIRE(v.exit_code == 0);
  json claims = json::parse(v.out);
  CHECK(claims["sub"] == "alice");
  CHECK(claims["scope"] == "read");
  CHECK(claims["sid"] == pair["session_id"]);

  // The first key was created in the directory, in a private file.
  REQUIRE(files_in(sb.path("keys")) == 1);
  for (const auto& entry : std::filesystem::directory_iterator(sb.path("keys"))) {
    if (entry.path().filename().string().rfind("key-", 0) != 0) continue;
    struct stat st {};
    REQUIRE(::stat(entry.path().c_str(), &st) == 0);
    CHECK((st.st_mode & 077) == 0);
  }
}

TEST_CASE("engine issue: --access-ttl and --now fix the token's lifetime") {
  Sandbox sb;
  json pair = json::parse(sb.ok(engine(sb, "issue", {"--sub", "bob", "--access-ttl", "1m",
                                                     "--refresh-ttl", "1h", "--now", at(1000)})));
  CHECK(pair["access_expires_at"] == 1060);
  CHECK(pair["refresh_expires_at"] == 4600);
  // Verified with no leeway: valid before exp, expired at exp.
  std::string jwks = sb.write("jwks.json", sb.ok({"jwks", "--keys", sb.path("keys"), "--now",
                                                  "1000"}));
  auto verify_at = [&](const std::string& now) {
    return sb.run({"verify", "--jwks", jwks, "--alg", "RS256", "--iss", kIss, "--aud", "api",
                   "--leeway", "0", "--now", now, pair["access_token"].get<std::string>()});
  };
  CHECK(verify_at("1059").exit_code == 0);
  require_error(verify_at("1060"), 1, "expired");
}

TEST_CASE("engine issue: --sub, --iss and --aud are required, or JWTKIT_ISSUER/JWTKIT_AUDIENCE") {
  Sandbox sb;
  require_error(sb.run(engine(sb, "issue")), 2, "invalid_argument");
  Run no_iss = sb.run({"issue", "--keys", sb.path("keys"), "--sub", "a"});
  require_error(no_iss, 2, "invalid_argument");
  CHECK_THAT(no_iss.err, contains("--iss"));

  sb.env = {{"JWTKIT_ISSUER", kIss}, {"JWTKIT_AUDIENCE", "api"}};
  Run from_env = sb.run({"issue", "--keys", sb.path("keys"), "--sub", "a", "--now", at(kNow)});
  REQUIRE(from_env.exit_code == 0);
  CHECK(verify_access(sb, json::parse(from_env.out)["access_token"], kNow).exit_code == 0);
}

TEST_CASE("engine issue: registered claims in --claims or a zero TTL are usage errors") {
  Sandbox sb;
  require_error(sb.run(engine(sb, "issue", {"--sub", "a", "--claims", R"({"exp":1})"})), 2,
                "invalid_argument");
  require_error(sb.run(engine(sb, "issue", {"--sub", "a", "--claims", "[]"})), 2,
                "invalid_argument");
  require_error(sb.run(engine(sb, "issue", {"--sub", "a", "--access-ttl", "0"})), 2,
                "invalid_argument");
  require_error(sb.run(engine(sb, "issue", {"--sub", "a", "--leeway", "11m"})), 2,
                "invalid_argument");
}

TEST_CASE("engine: refresh, revoke, introspect and sessions refuse to run without --store") {
  Sandbox sb;
  json pair = json::parse(sb.ok(engine(sb, "issue", {"--sub", "alice"})));
  const std::string access = pair["access_token"], refresh = pair["refresh_token"];
  struct Case {
    std::vector<std::string> args;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {engine(sb, "refresh", {refresh}), "single-use"},
      {engine(sb, "revoke", {access}), "no revocation"},
      {{"revoke", "--jti", "j1", "--exp", at(kNow)}, "no revocation"},
      {{"revoke", "--sub", "alice"}, "no revocation"},
      {engine(sb, "introspect", {access}), "use jwtkit verify"},
      {{"sessions", "--sub", "alice"}, "shared store"}};
  const Case& c = cases[static_cast<std::size_t>(GENERATE(0, 1, 2, 3, 4, 5))];
  Run r = sb.run(c.args);
  require_error(r, 2, "invalid_argument");
  CHECK_THAT(r.err, contains("needs --store URL"));
  CHECK_THAT(r.err, contains(c.reason));
}

TEST_CASE("engine revoke: exactly one of TOKEN, --jti with --exp, --sub") {
  Sandbox sb;
  const std::string store = "redis://127.0.0.1:1";
  require_error(sb.run({"revoke", "--store", store}), 2, "invalid_argument");
  require_error(sb.run({"revoke", "--store", store, "--jti", "j", "--sub", "s", "--exp", "5"}), 2,
                "invalid_argument");
  require_error(sb.run({"revoke", "--store", store, "--jti", "j"}), 2, "invalid_argument");
  require_error(sb.run({"revoke", "--store", store, "--sub", "s", "a.b.c"}), 2,
                "invalid_argument");
  require_error(sb.run({"revoke", "--store", store, "--jti", "j", "--exp", "soon"}), 2,
                "invalid_argument");
}

TEST_CASE("engine: --store that cannot be reached is exit 3, a bad URL exit 2") {
  Sandbox sb;
  Run unreachable = sb.run({"sessions", "--store", "redis://127.0.0.1:1", "--sub", "a"});
#ifdef JWTKIT_CLI_WITH_REDIS
  require_error(unreachable, 3, "store_unavailable");
#else
  require_error(unreachable, 2, "invalid_argument");
  CHECK_THAT(unreachable.err, contains("without Redis support"));
#endif
  require_error(sb.run({"sessions", "--store", "postgres://db", "--sub", "a"}), 2,
                "invalid_argument");
  // issue does not fall back to memory when the store it was given is down: exit 3, no token.
  Run issue = sb.run(engine(sb, "issue", {"--sub", "a", "--store", "redis://127.0.0.1:1"}));
#ifdef JWTKIT_CLI_WITH_REDIS
  require_error(issue, 3, "store_unavailable");
#else
  require_error(issue, 2, "invalid_argument");
#endif
}

TEST_CASE("engine: a missing or empty key directory exits 3 and gets no key as a side effect") {
  Sandbox sb;
  Run missing = sb.run({"cleanup", "--keys", sb.path("nope")});
  require_error(missing, 3, "io_error");
  CHECK_THAT(missing.err, contains(sb.path("nope")));
  std::filesystem::create_directories(sb.path("empty"));
  Run empty = sb.run({"cleanup", "--keys", sb.path("empty")});
  require_error(empty, 3, "key_not_found");
  CHECK(files_in(sb.path("empty")) == 0);
  json pair = json::parse(sb.ok(engine(sb, "issue", {"--sub", "a"})));
  for (const auto& dir : {sb.path("nope"), sb.path("empty")}) {
    Run r = sb.run({"introspect", "--keys", dir, "--store", "redis://127.0.0.1:1", "--iss", kIss,
                    "--aud", "api", pair["access_token"].get<std::string>()});
    CHECK(r.exit_code == 3);  // the key directory, or the unreachable store: never accepted
  }
  CHECK(files_in(sb.path("empty")) == 0);
  CHECK_FALSE(std::filesystem::exists(sb.path("nope")));
}

TEST_CASE("engine rotate: creates the first key, then a new one; the old one keeps verifying") {
  Sandbox sb;
  json first = json::parse(sb.ok({"rotate", "--keys", sb.path("keys"), "--now", at(kNow)}));
  CHECK(first["kid"] == first["active_kid"]);
  CHECK(files_in(sb.path("keys")) == 1);

  json pair = json::parse(sb.ok(engine(sb, "issue", {"--sub", "a", "--now", at(kNow)})));
  json second = json::parse(sb.ok({"rotate", "--keys", sb.path("keys"), "--alg", "ES256",
                                   "--now", at(kNow + 10)}));
  CHECK(second["kid"] == second["active_kid"]);
  CHECK(second["kid"] != first["kid"]);
  CHECK(files_in(sb.path("keys")) == 2);

  json jwks = json::parse(sb.ok({"jwks", "--keys", sb.path("keys"), "--now", at(kNow + 20)}));
  REQUIRE(jwks["keys"].size() == 2);
  // The token signed before the rotation still verifies; new tokens use the new ES256 key.
  CHECK(verify_access(sb, pair["access_token"], kNow + 20).exit_code == 0);
  json after = json::parse(sb.ok(engine(sb, "issue", {"--sub", "a", "--now", at(kNow + 20)})));
  json header = json::parse(sb.ok({"decode", after["access_token"]}))["header"];
  CHECK(header["alg"] == "ES256");
  CHECK(header["kid"] == second["kid"]);
}

TEST_CASE("engine rotate: changing between HMAC and a key pair needs --force") {
  Sandbox sb;
  struct Case {
    std::string from, to, why;
  };
  const std::vector<Case> cases = {
      {"ES256", "HS256", "resource servers verifying through the JWKS could no longer verify"},
      {"HS256", "RS256", "resource servers verifying with the shared secret could no longer"}};
  const Case& c = cases[static_cast<std::size_t>(GENERATE(0, 1))];
  const std::string dir = sb.path("keys-" + c.from);
  sb.ok({"rotate", "--keys", dir, "--alg", c.from, "--now", at(kNow)});
  Run refused = sb.run({"rotate", "--keys", dir, "--alg", c.to, "--now", at(kNow + 10)});
  require_error(refused, 2, "invalid_argument");
  CHECK_THAT(refused.err, contains(c.why));
  CHECK_THAT(refused.err, contains("--force"));
  CHECK(files_in(dir) == 1);  // nothing was generated

  json forced = json::parse(sb.ok({"rotate", "--keys", dir, "--alg", c.to, "--force", "--now",
                                   at(kNow + 20)}));
  CHECK(forced["kid"] == forced["active_kid"]);
  CHECK(files_in(dir) == 2);
  // Within one kind no --force is needed.
  sb.ok({"rotate", "--keys", dir, "--alg", c.to == "HS256" ? "HS384" : "ES256", "--now",
         at(kNow + 30)});
}

TEST_CASE("engine: a --keys path that is a file says it is not a directory") {
  Sandbox sb;
  std::string file = sb.write("file", "x");
  for (const char* command : {"cleanup", "rotate"}) {
    Run r = sb.run({command, "--keys", file});
    require_error(r, 3, "io_error");
    CHECK_THAT(r.err, contains("'" + file + "' is not a directory"));
  }
}

TEST_CASE("engine cleanup: removes keys whose tokens have all expired") {
  Sandbox sb;
  sb.ok({"rotate", "--keys", sb.path("keys"), "--now", at(kNow)});
  sb.ok({"rotate", "--keys", sb.path("keys"), "--now", at(kNow + 10), "--refresh-ttl", "1h"});
  REQUIRE(files_in(sb.path("keys")) == 2);
  // Too early: the retiring key still verifies tokens it signed.
  CHECK(json::parse(sb.ok({"cleanup", "--keys", sb.path("keys"), "--now", at(kNow + 60)}))
            ["removed"] == 0);
  CHECK(files_in(sb.path("keys")) == 2);
  // Past refresh TTL + leeway after the rotation: it goes.
  Run r = sb.run({"cleanup", "--keys", sb.path("keys"), "--now", at(kNow + 10 + 3600 + 31)});
  REQUIRE(r.exit_code == 0);
  CHECK(json::parse(r.out)["removed"] == 1);
  CHECK_THAT(r.err, contains("warning: no --store: only the key directory was cleaned"));
  CHECK(files_in(sb.path("keys")) == 1);
}
