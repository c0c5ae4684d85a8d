// Process-level tests of the jwtkit tool's JOSE commands: keygen, pubkey, thumbprint, jwks,
// sign, verify, decode. Every test runs the built binary and checks exit code, stdout, stderr.
#include "cli/cli_test_support.hpp"

#include <jwtkit/key.hpp>
#include <jwtkit/stores/file.hpp>
#include <jwtkit/version.hpp>

#include <sys/stat.h>

using jwtkit_cli_test::is_hmac;
using jwtkit_cli_test::load_vector;
using jwtkit_cli_test::require_error;
using jwtkit_cli_test::rtrim;
using jwtkit_cli_test::Run;
using jwtkit_cli_test::Sandbox;
using jwtkit_test::contains;
using nlohmann::json;

namespace {

constexpr long long kNow = 1700000000;

// A fresh private key for `alg` in the sandbox: a JWK for HMAC (no PEM form), else PEM.
std::string make_key(const Sandbox& sb, const std::string& alg, const std::string& name) {
  std::vector<std::string> args{"keygen", "--alg", alg, "--out", sb.path(name)};
  if (is_hmac(alg)) args.push_back("--jwk");
  sb.ok(args);
  return sb.path(name);
}

// What verifies tokens of `private_key`: the secret itself for HMAC, else its public key.
std::string verification_key(const Sandbox& sb, const std::string& alg,
                             const std::string& private_key, bool as_jwk) {
  if (is_hmac(alg)) return private_key;
  std::vector<std::string> args{"pubkey", "--key", private_key};
  if (as_jwk) args.push_back("--jwk");
  return sb.write(alg + (as_jwk ? "-pub.jwk" : "-pub.pem"), sb.ok(args));
}

std::string sign(const Sandbox& sb, const std::string& key, const std::string& alg,
                 const json& claims) {
  return rtrim(sb.ok({"sign", "--key", key, "--alg", alg, "--claims", claims.dump()}));
}

// The token with one character of its signature changed (the signature still decodes).
std::string tamper_signature(std::string token) {
  std::size_t pos = token.rfind('.') + 3;
  token[pos] = token[pos] == 'A' ? 'B' : 'A';
  return token;
}

int file_mode(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<int>(st.st_mode & 07777);
}

const json kClaims = {{"iss", "https://issuer.example"},
                      {"sub", "user-1"},
                      {"aud", "api"},
                      {"iat", kNow - 10},
                      {"exp", kNow + 600}};

}  // namespace

// ---- help and usage ----------------------------------------------------------------------------

TEST_CASE("help: the tool's --help lists every command and the exit codes") {
  Sandbox sb;
  std::string out = sb.ok({"--help"});
  for (const char* name : {"keygen", "pubkey", "thumbprint", "jwks", "sign", "verify", "decode"}) {
    CHECK_THAT(out, contains(std::string("  ") + name + " "));
  }
  CHECK_THAT(out, contains("Exit codes:"));
  CHECK_THAT(out, contains("3  key, file or store error"));
}

TEST_CASE("help: every command's --help documents its options and exit codes") {
  Sandbox sb;
  auto command = GENERATE(as<std::string>{}, "keygen", "pubkey", "thumbprint", "jwks", "sign",
                          "verify", "decode");
  Run r = sb.run({command, "--help"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK_THAT(r.out, contains("Usage: jwtkit " + command));
  CHECK_THAT(r.out, contains("Options:"));
  CHECK_THAT(r.out, contains("--help"));
  CHECK_THAT(r.out, contains("Exit codes:\n  0  "));
  CHECK_THAT(r.out, contains("2  usage error"));
  CHECK_THAT(r.out, contains("error: <code>: <message>"));
  // "jwtkit help <command>" is the same text.
  CHECK(sb.ok({"help", command}) == r.out);
}

TEST_CASE("version: --version prints the library version") {
  Sandbox sb;
  Run r = sb.run({"--version"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == std::string("jwtkit ") + JWTKIT_VERSION_STRING + "\n");
  CHECK(r.err.empty());
  CHECK_THAT(sb.ok({"--help"}), contains("jwtkit --version"));
  require_error(sb.run({"--version", "extra"}), 2, "invalid_argument");
}

TEST_CASE("usage: no command, an unknown command and bad options exit 2 with invalid_argument") {
  Sandbox sb;
  Run none = sb.run({});
  REQUIRE(none.exit_code == 2);
  CHECK_THAT(none.err, contains("error: invalid_argument: no command given"));

  require_error(sb.run({"frobnicate"}), 2, "invalid_argument");
  require_error(sb.run({"verify", "--bogus", "x"}), 2, "invalid_argument");
  require_error(sb.run({"keygen", "--alg"}), 2, "invalid_argument");
  require_error(sb.run({"keygen", "--alg", "ES256", "--alg", "ES384"}), 2, "invalid_argument");
  require_error(sb.run({"keygen", "--alg", "ES256", "--jwk=yes"}), 2, "invalid_argument");
  require_error(sb.run({"decode", "a.b.c", "d.e.f"}), 2, "invalid_argument");
  require_error(sb.run({"keygen", "--alg", "XS256"}), 2, "invalid_argument");
  Run missing = sb.run({"keygen"});
  require_error(missing, 2, "invalid_argument");
  CHECK_THAT(missing.err, contains("--alg"));
}

// ---- keygen, pubkey, thumbprint --------------------------------------------------------------

TEST_CASE("keygen: private keys are written with mode 0600 for every algorithm") {
  Sandbox sb;
  auto alg = GENERATE(as<std::string>{}, "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256",
                   "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA");
  std::string path = make_key(sb, alg, "key");
  CHECK(file_mode(path) == 0600);
  std::string text = sb.read("key");
  if (is_hmac(alg)) {
    json jwk = json::parse(text);
    CHECK(jwk["kty"] == "oct");
    CHECK(jwk["alg"] == alg);
  } else {
    CHECK_THAT(text, contains("-----BEGIN PRIVATE KEY-----"));
  }
  // The key is usable: it signs, and loads back as a private key of the right type.
  auto key = text.front() == '{' ? jwtkit::Key::from_jwk(text) : jwtkit::Key::from_pem(text);
  REQUIRE(key.ok());
  CHECK(key->can_sign());
  CHECK(key->check_alg(*jwtkit::parse_alg(alg)).ok());
}

TEST_CASE("keygen: an existing --out file is kept, or with --force replaced by a new file") {
  Sandbox sb;
  std::string path = sb.write("key.pem", std::string(10000, '#'));
  REQUIRE(::chmod(path.c_str(), 0644) == 0);
  // A second name for the same file: what happens to the old file itself shows through it.
  REQUIRE(::link(path.c_str(), sb.path("other-name").c_str()) == 0);

  Run refused = sb.run({"keygen", "--alg", "ES256", "--out", path});
  require_error(refused, 3, "io_error");
  CHECK_THAT(refused.err, contains("'" + path + "'"));
  CHECK_THAT(refused.err, contains("--force"));
  CHECK(sb.read("key.pem") == std::string(10000, '#'));
  CHECK(file_mode(path) == 0644);

  sb.ok({"keygen", "--alg", "ES256", "--out", path, "--force"});
  CHECK(file_mode(path) == 0600);
  std::string text = sb.read("key.pem");
  CHECK(text.rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
  CHECK(text.find('#') == std::string::npos);
  // The old file was neither truncated nor chmod'ed: a new file took its name.
  CHECK(sb.read("other-name") == std::string(10000, '#'));
  CHECK(file_mode(sb.path("other-name")) == 0644);
  // No temporary file is left behind.
  std::size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(sb.dir())) {
    CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
    ++entries;
  }
  CHECK(entries >= 2);
}

TEST_CASE("keygen: --out never writes through a symlink, nor to a FIFO or directory") {
  Sandbox sb;
  std::string target = sb.write("target", "precious");
  REQUIRE(::chmod(target.c_str(), 0644) == 0);
  std::string link = sb.path("link.pem");
  REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
  std::string dangling = sb.path("dangling.pem");
  REQUIRE(::symlink(sb.path("created-through-link").c_str(), dangling.c_str()) == 0);
  for (std::string force : {"", "--force"}) {
    INFO("with '" << force << "'");
    for (const std::string& path : {link, dangling}) {
      std::vector<std::string> args{"keygen", "--alg", "ES256", "--out", path};
      if (!force.empty()) args.push_back(force);
      Run r = sb.run(args);
      require_error(r, 3, "io_error");
      CHECK_THAT(r.err, contains("'" + path + "'"));
      CHECK_THAT(r.err, contains("symbolic link"));
      CHECK(std::filesystem::is_symlink(path));
    }
    CHECK(sb.read("target") == "precious");
    CHECK(file_mode(target) == 0644);
    CHECK_FALSE(std::filesystem::exists(sb.path("created-through-link")));

    std::string fifo = sb.path("fifo");
    if (!std::filesystem::exists(fifo)) REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
    std::filesystem::create_directories(sb.path("dir"));
    for (const std::string& path : {fifo, sb.path("dir")}) {
      std::vector<std::string> args{"keygen", "--alg", "ES256", "--out", path};
      if (!force.empty()) args.push_back(force);
      Run r = sb.run(args);
      require_error(r, 3, "io_error");
      CHECK_THAT(r.err, contains("'" + path + "'"));
      CHECK_THAT(r.err, contains("not a regular file"));
    }
    CHECK(file_mode(fifo) == 0644);
  }
  CHECK_THAT(sb.ok({"keygen", "--help"}), contains("--force"));
  require_error(sb.run({"keygen", "--alg", "ES256", "--force"}), 2, "invalid_argument");
}

TEST_CASE("keygen: without --out the key goes to stdout, a full device is an io_error") {
  Sandbox sb;
  std::string pem = sb.ok({"keygen", "--alg", "EdDSA"});
  CHECK_THAT(pem, contains("-----BEGIN PRIVATE KEY-----"));
  Run full = sb.run_to({"keygen", "--alg", "EdDSA"}, "", "/dev/full");
  CHECK(full.exit_code == 3);
  CHECK_THAT(full.err, contains("error: io_error: cannot write to standard output"));
}

TEST_CASE("keygen: the JWK kid defaults to the RFC 7638 thumbprint, --kid overrides it") {
  Sandbox sb;
  auto alg = GENERATE(as<std::string>{}, "HS256", "RS256", "ES384", "EdDSA");
  json jwk = json::parse(sb.ok({"keygen", "--alg", alg, "--jwk"}));
  std::string file = sb.write_json("key.jwk", jwk);
  CHECK(jwk["kid"] == rtrim(sb.ok({"thumbprint", "--key", file})));
  CHECK(jwk["alg"] == alg);

  json named = json::parse(sb.ok({"keygen", "--alg", alg, "--jwk", "--kid", "key-2024"}));
  CHECK(named["kid"] == "key-2024");
}

TEST_CASE("keygen: PEM for an HMAC secret, --kid with PEM, or bad --bits exit 2") {
  Sandbox sb;
  require_error(sb.run({"keygen", "--alg", "HS256"}), 2, "invalid_argument");
  require_error(sb.run({"keygen", "--alg", "ES256", "--kid", "k"}), 2, "invalid_argument");
  require_error(sb.run({"keygen", "--alg", "RS256", "--bits", "1024"}), 2, "invalid_argument");
  require_error(sb.run({"keygen", "--alg", "ES256", "--bits", "2048"}), 2, "invalid_argument");
  require_error(sb.run({"keygen", "--alg", "none"}), 2, "invalid_argument");
}

TEST_CASE("keygen: an --out file that cannot be created is an io_error naming it (exit 3)") {
  Sandbox sb;
  std::string path = sb.path("no-such-dir/key.pem");
  Run r = sb.run({"keygen", "--alg", "ES256", "--out", path});
  require_error(r, 3, "io_error");
  CHECK_THAT(r.err, contains(path));
  CHECK_THAT(r.err, contains("No such file or directory"));
}

TEST_CASE("pubkey: prints the public half as PEM or JWK, never private members") {
  Sandbox sb;
  auto alg = GENERATE(as<std::string>{}, "RS256", "ES256", "ES512", "EdDSA");
  std::string key = make_key(sb, alg, "key.pem");
  std::string pem = sb.ok({"pubkey", "--key", key});
  CHECK(pem.rfind("-----BEGIN PUBLIC KEY-----", 0) == 0);
  CHECK_THAT(pem, !contains("PRIVATE"));

  json jwk = json::parse(sb.ok({"pubkey", "--key", key, "--jwk"}));
  for (const char* private_member : {"d", "p", "q", "dp", "dq", "qi", "k"}) {
    CHECK_FALSE(jwk.contains(private_member));
  }
  // PEM and JWK are the same key: equal thumbprints, also from the public files themselves.
  std::string thumb = rtrim(sb.ok({"thumbprint", "--key", key}));
  CHECK(jwk["kid"] == thumb);
  CHECK(rtrim(sb.ok({"thumbprint", "--key", sb.write("pub.pem", pem)})) == thumb);
  CHECK(rtrim(sb.ok({"thumbprint", "--key", sb.write_json("pub.jwk", jwk)})) == thumb);
}

TEST_CASE("pubkey: an HMAC secret has no public key (exit 3, key_mismatch)") {
  Sandbox sb;
  std::string key = make_key(sb, "HS256", "secret.jwk");
  require_error(sb.run({"pubkey", "--key", key}), 3, "key_mismatch");
  require_error(sb.run({"pubkey", "--key", key, "--jwk"}), 3, "key_mismatch");
}

TEST_CASE("thumbprint: the RFC 7638 3.1 and RFC 8037 A.3 examples") {
  Sandbox sb;
  auto file = GENERATE(as<std::string>{}, "rfc7638_3.1_thumbprint.json",
                       "rfc8037_A3_thumbprint.json");
  json vector = load_vector(file);
  std::string key = sb.write_json("key.jwk", vector["jwk"]);
  CHECK(rtrim(sb.ok({"thumbprint", "--key", key})) == vector["thumbprint"]);
}

// ---- jwks -----------------------------------------------------------------------------------

TEST_CASE("jwks: publishes the public keys of several key files") {
  Sandbox sb;
  std::string rsa = make_key(sb, "RS256", "rsa.pem");
  std::string ec = make_key(sb, "ES256", "ec.pem");
  json set = json::parse(sb.ok({"jwks", "--key", rsa, "--key", ec}));
  REQUIRE(set["keys"].size() == 2);
  CHECK(set["keys"][0]["kty"] == "RSA");
  CHECK(set["keys"][1]["kty"] == "EC");
  CHECK(set["keys"][0]["kid"] == rtrim(sb.ok({"thumbprint", "--key", rsa})));
  for (const auto& key : set["keys"]) CHECK_FALSE(key.contains("d"));
}

TEST_CASE("jwks: an HMAC secret is never published (exit 3), no key at all is exit 2") {
  Sandbox sb;
  std::string secret = make_key(sb, "HS256", "secret.jwk");
  Run r = sb.run({"jwks", "--key", secret});
  require_error(r, 3, "key_mismatch");
  CHECK_THAT(r.err, contains(secret));
  require_error(sb.run({"jwks"}), 2, "invalid_argument");
}

TEST_CASE("jwks: --keys DIR publishes the keys of an engine key directory that still verify") {
  Sandbox sb;
  auto store = jwtkit::FileKeyStore::open(sb.path("keys"));
  REQUIRE(store.ok());
  auto make_record = [](jwtkit::KeyState state, std::optional<long long> verify_until) {
    auto key = jwtkit::Key::generate(jwtkit::Alg::ES256);
    REQUIRE(key.ok());
    jwtkit::KeyRecord record{*key, jwtkit::Alg::ES256, state, {}, std::nullopt, std::nullopt};
    record.created_at = jwtkit::from_unix(kNow - 1000);
    if (verify_until) record.verify_until = jwtkit::from_unix(*verify_until);
    return record;
  };
  auto active = make_record(jwtkit::KeyState::active, std::nullopt);
  auto retiring = make_record(jwtkit::KeyState::retiring, kNow + 100);
  auto expired = make_record(jwtkit::KeyState::retiring, kNow - 1);
  auto retired = make_record(jwtkit::KeyState::retired, std::nullopt);
  for (const auto& record : {active, retiring, expired, retired}) {
    REQUIRE((*store)->save(record).ok());
  }

  json set = json::parse(sb.ok({"jwks", "--keys", sb.path("keys"), "--now", std::to_string(kNow)}));
  std::vector<std::string> kids;
  for (const auto& key : set["keys"]) {
    CHECK_FALSE(key.contains("d"));
    kids.push_back(key["kid"]);
  }
  std::sort(kids.begin(), kids.end());
  std::vector<std::string> expected{active.kid(), retiring.kid()};
  std::sort(expected.begin(), expected.end());
  CHECK(kids == expected);

  require_error(sb.run({"jwks", "--keys", sb.path("missing")}), 3, "io_error");
}

TEST_CASE("jwks: the same key given twice is published once") {
  Sandbox sb;
  std::string pem = make_key(sb, "ES256", "key.pem");
  // The same key as a JWK with its thumbprint as kid: the same kid and key as the PEM file.
  std::string jwk = sb.write("key.jwk", sb.ok({"pubkey", "--key", pem, "--jwk"}));
  std::string other = make_key(sb, "EdDSA", "other.pem");
  json set = json::parse(sb.ok({"jwks", "--key", pem, "--key", other, "--key", pem, "--key", jwk}));
  REQUIRE(set["keys"].size() == 2);
  CHECK(set["keys"][0]["kid"] == rtrim(sb.ok({"thumbprint", "--key", pem})));
  CHECK(set["keys"][1]["kid"] == rtrim(sb.ok({"thumbprint", "--key", other})));
  // jwtkit's own verifier accepts the published set: no kid is ambiguous.
  std::string published = sb.write_json("jwks.json", set);
  std::string token = sign(sb, pem, "ES256", kClaims);
  CHECK(sb.run({"verify", "--jwks", published, "--alg", "ES256", "--now", std::to_string(kNow),
                token}).exit_code == 0);
}

TEST_CASE("jwks: two different keys with the same kid are refused (exit 3) naming both") {
  Sandbox sb;
  std::string a = sb.write("a.jwk", sb.ok({"keygen", "--alg", "ES256", "--jwk", "--kid", "k1"}));
  std::string b = sb.write("b.jwk", sb.ok({"keygen", "--alg", "ES256", "--jwk", "--kid", "k1"}));
  Run r = sb.run({"jwks", "--key", a, "--key", b});
  require_error(r, 3, "key_mismatch");
  CHECK_THAT(r.err, contains(a));
  CHECK_THAT(r.err, contains(b));
  CHECK_THAT(r.err, contains("same kid \"k1\""));
}

TEST_CASE("jwks: --keys naming a file says it is not a directory") {
  Sandbox sb;
  std::string file = sb.write("file", "x");
  Run r = sb.run({"jwks", "--keys", file});
  require_error(r, 3, "io_error");
  CHECK_THAT(r.err, contains("'" + file + "' is not a directory"));
  Run missing = sb.run({"jwks", "--keys", sb.path("missing")});
  require_error(missing, 3, "io_error");
  CHECK_THAT(missing.err, contains("does not exist"));
}

// ---- sign and verify ------------------------------------------------------------------------

TEST_CASE("sign/verify: tokens from sign verify with verify, for every algorithm") {
  Sandbox sb;
  auto alg = GENERATE(as<std::string>{}, "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256",
                   "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA");
  std::string key = make_key(sb, alg, "key");
  std::string token = sign(sb, key, alg, kClaims);
  const std::string now = std::to_string(kNow);

  for (bool as_jwk : {false, true}) {
    if (is_hmac(alg) && !as_jwk) continue;
    std::string vkey = verification_key(sb, alg, key, as_jwk);
    std::string out = sb.ok({"verify", "--key", vkey, "--alg", alg, "--now", now, "--iss",
                             "https://issuer.example", "--aud", "api", token});
    CHECK(json::parse(out) == kClaims);
  }
  if (!is_hmac(alg)) {
    std::string jwks = sb.write("jwks.json", sb.ok({"jwks", "--key", key}));
    CHECK(json::parse(sb.ok({"verify", "--jwks", jwks, "--alg", alg, "--now", now, token})) ==
          kClaims);
  }
  // The same token under a fresh key of the same type does not verify.
  std::string other = make_key(sb, alg, "other");
  std::string other_vkey = verification_key(sb, alg, other, true);
  // (Keys from keygen have a kid, so the token names a key this file does not hold.)
  require_error(sb.run({"verify", "--key", other_vkey, "--alg", alg, "--now", now, token}), 1,
                "key_not_found");
}

TEST_CASE("sign: --header, --kid, --claims from a file and from stdin, --ttl with --now") {
  Sandbox sb;
  std::string key = make_key(sb, "ES256", "key.pem");
  std::string claims_file = sb.write_json("claims.json", {{"sub", "from-file"}});
  std::string token = rtrim(sb.ok({"sign", "--key", key, "--alg", "ES256", "--kid", "my-kid",
                                   "--header", R"({"typ":"at+jwt"})", "--claims",
                                   "@" + claims_file, "--ttl", "15m", "--now", "1000"}));
  json decoded = json::parse(sb.ok({"decode", token}));
  CHECK(decoded["header"] == json({{"alg", "ES256"}, {"kid", "my-kid"}, {"typ", "at+jwt"}}));
  CHECK(decoded["payload"] == json({{"sub", "from-file"}, {"iat", 1000}, {"exp", 1900}}));

  std::string piped = rtrim(sb.ok({"sign", "--key", key, "--alg", "ES256", "--claims", "-"},
                                  R"({"sub":"from-stdin","exp":5})"));
  CHECK(json::parse(sb.ok({"decode", piped}))["payload"]["sub"] == "from-stdin");

  // A token without claims options is still signed ({}): verify needs exp, so it is rejected.
  std::string bare = rtrim(sb.ok({"sign", "--key", key, "--alg", "ES256"}));
  std::string pub = verification_key(sb, "ES256", key, false);
  require_error(sb.run({"verify", "--key", pub, "--alg", "ES256", bare}), 1, "missing_claim");
}

TEST_CASE("sign: durations are seconds or take an s, m, h or d suffix") {
  Sandbox sb;
  std::string key = make_key(sb, "HS256", "key.jwk");
  struct Case {
    std::string text;
    long long seconds;  // -1: refused
  };
  const std::vector<Case> cases = {{"900", 900},  {"45s", 45},      {"15m", 900},
                                   {"1h", 3600},  {"30d", 2592000}, {"1", 1},
                                   {"5x", -1},    {"m", -1},        {"-5", -1},
                                   {"1.5h", -1},  {"", -1},         {"99999999999999d", -1}};
  const Case& c = cases[static_cast<std::size_t>(GENERATE(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11))];
  INFO("--ttl '" << c.text << "'");
  Run r = sb.run({"sign", "--key", key, "--alg", "HS256", "--ttl", c.text, "--now", "1000"});
  if (c.seconds < 0) {
    require_error(r, 2, "invalid_argument");
  } else {
    REQUIRE(r.exit_code == 0);
    json payload = json::parse(sb.ok({"decode", rtrim(r.out)}))["payload"];
    CHECK(payload["iat"] == 1000);
    CHECK(payload["exp"] == 1000 + c.seconds);
  }
}

TEST_CASE("sign: claims that are not a JSON object, or a header that changes alg, exit 2") {
  Sandbox sb;
  std::string key = make_key(sb, "ES256", "key.pem");
  auto sign_with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{"sign", "--key", key, "--alg", "ES256"};
    args.insert(args.end(), extra.begin(), extra.end());
    return sb.run(args);
  };
  require_error(sign_with({"--claims", "[1,2]"}), 2, "invalid_argument");
  require_error(sign_with({"--claims", "{not json"}), 2, "invalid_argument");
  require_error(sign_with({"--claims", R"({"a":1,"a":2})"}), 2, "invalid_argument");
  require_error(sign_with({"--header", R"({"alg":"HS256"})"}), 2, "invalid_argument");
  require_error(sign_with({"--claims", R"({"exp":1})", "--ttl", "1h"}), 2, "invalid_argument");
  require_error(sign_with({"--ttl", "soon"}), 2, "invalid_argument");
  require_error(sign_with({"--claims", "@" + sb.path("missing.json")}), 3, "io_error");
  require_error(sb.run({"sign", "--alg", "ES256"}), 2, "invalid_argument");
}

TEST_CASE("sign: a key that cannot sign the algorithm exits 3 with key_mismatch") {
  Sandbox sb;
  std::string key = make_key(sb, "ES256", "key.pem");
  require_error(sb.run({"sign", "--key", key, "--alg", "RS256"}), 3, "key_mismatch");
  std::string pub = verification_key(sb, "ES256", key, false);
  require_error(sb.run({"sign", "--key", pub, "--alg", "ES256"}), 3, "key_mismatch");
}

// ---- standard vectors --------------------------------------------------------------------------

TEST_CASE("vectors: RFC 7515 A.1-A.3 verify as JWTs at their time and expire later") {
  Sandbox sb;
  auto file = GENERATE(as<std::string>{}, "rfc7515_A1_hs256.json", "rfc7515_A2_rs256.json",
                       "rfc7515_A3_es256.json");
  json v = load_vector(file);
  std::string key = sb.write_json("key.jwk", v["key"]);
  const std::string token = v["token"];
  const std::string alg = v["alg"];
  std::string out = sb.ok({"verify", "--key", key, "--alg", alg, "--leeway", "0", "--now",
                           std::to_string(v["now"].get<long long>()), token});
  CHECK(json::parse(out) == json::parse(v["payload_json"].get<std::string>()));

  const json& later = v["expect_at_later_time"];
  require_error(sb.run({"verify", "--key", key, "--alg", alg, "--leeway", "0", "--now",
                        std::to_string(later["now"].get<long long>()), token}),
                1, "expired");
}

TEST_CASE("vectors: RFC 7515 A.4 and RFC 8037 A.4 verify as JWS and print the payload") {
  Sandbox sb;
  auto file = GENERATE(as<std::string>{}, "rfc7515_A4_es512.json", "rfc8037_A4_A5_eddsa_jws.json");
  json v = load_vector(file);
  std::string key = sb.write_json("key.jwk", v["key"]);
  const std::string token = v["token"];
  const std::string alg = v["alg"];
  CHECK(sb.ok({"verify", "--jws", "--key", key, "--alg", alg, token}) == v["payload_text"]);
  // Not a JWT: verifying it as one rejects it as malformed rather than crashing or passing.
  require_error(sb.run({"verify", "--key", key, "--alg", alg, "--now", "1", token}), 1,
                "malformed");
  // The signature is checked in --jws mode too.
  require_error(sb.run({"verify", "--jws", "--key", key, "--alg", alg, tamper_signature(token)}),
                1, "bad_signature");
}

TEST_CASE("vectors: the RFC 7515 A.5 unsecured JWS (alg none) is rejected") {
  Sandbox sb;
  json v = load_vector("rfc7515_A5_unsecured.json");
  std::string key = sb.write_json("key.jwk", load_vector("rfc7515_A1_hs256.json")["key"]);
  Run r = sb.run({"verify", "--key", key, "--alg", "HS256", "--now", "1300819300",
                  v["token"].get<std::string>()});
  CHECK(r.exit_code == 1);
  require_error(r, 1, "unsupported_alg");
  CHECK_THAT(r.err, contains("unsecured"));
}

// ---- verify: rejections ---------------------------------------------------------------------

TEST_CASE("verify: algorithm confusion (an RSA public key PEM as HMAC secret) is rejected") {
  Sandbox sb;
  std::string rsa = make_key(sb, "RS256", "rsa.pem");
  std::string pub = verification_key(sb, "RS256", rsa, false);
  // The attacker knows the public key and signs HS256 with its PEM text as the secret.
  std::string forged = rtrim(sb.ok({"sign", "--secret", pub, "--alg", "HS256", "--claims",
                                    kClaims.dump()}));
  const std::string now = std::to_string(kNow);
  Run both = sb.run({"verify", "--key", pub, "--alg", "HS256,RS256", "--now", now, forged});
  require_error(both, 1, "key_mismatch");
  require_error(sb.run({"verify", "--key", pub, "--alg", "RS256", "--now", now, forged}), 1,
                "alg_not_allowed");
  // The genuine RS256 token passes the same command line.
  std::string genuine = sign(sb, rsa, "RS256", kClaims);
  sb.ok({"verify", "--key", pub, "--alg", "HS256,RS256", "--now", now, genuine});
}

TEST_CASE("verify: an expired token exits 1 with 'expired'") {
  Sandbox sb;
  std::string key = make_key(sb, "ES256", "key.pem");
  std::string token = sign(sb, key, "ES256", {{"sub", "u"}, {"exp", kNow - 60}});
  require_error(sb.run({"verify", "--key", key, "--alg", "ES256", "--now", std::to_string(kNow),
                        token}),
                1, "expired");
}

TEST_CASE("verify: a wrong or missing issuer exits 1 with 'bad_issuer'") {
  Sandbox sb;
  std::string key = make_key(sb, "ES256", "key.pem");
  std::string token = sign(sb, key, "ES256", kClaims);
  const std::string now = std::to_string(kNow);
  require_error(sb.run({"verify", "--key", key, "--alg", "ES256", "--now", now, "--iss",
                        "https://other.example", token}),
                1, "bad_issuer");
  std::string no_iss = sign(sb, key, "ES256", {{"exp", kNow + 60}});
  require_error(sb.run({"verify", "--key", key, "--alg", "ES256", "--now", now, "--iss",
                        "https://issuer.example", no_iss}),
                1, "bad_issuer");
}

TEST_CASE("verify: a wrong audience exits 1 with 'bad_audience', any one --aud may match") {
  Sandbox sb;
  std::string key = make_key(sb, "EdDSA", "key.pem");
  std::string token = sign(sb, key, "EdDSA", kClaims);
  const std::string now = std::to_string(kNow);
  require_error(sb.run({"verify", "--key", key, "--alg", "EdDSA", "--now", now, "--aud", "web",
                        token}),
                1, "bad_audience");
  sb.ok({"verify", "--key", key, "--alg", "EdDSA", "--now", now, "--aud", "web", "--aud", "api",
         token});
}

TEST_CASE("verify: a tampered signature exits 1 with 'bad_signature'") {
  Sandbox sb;
  auto alg = GENERATE(as<std::string>{}, "HS256", "RS256", "PS256", "ES256", "EdDSA");
  std::string key = make_key(sb, alg, "key");
  std::string token = sign(sb, key, alg, kClaims);
  require_error(sb.run({"verify", "--key", key, "--alg", alg, "--now", std::to_string(kNow),
                        tamper_signature(token)}),
                1, "bad_signature");
}

TEST_CASE("verify: an algorithm off the allow-list exits 1 with 'alg_not_allowed'") {
  Sandbox sb;
  std::string key = make_key(sb, "RS256", "key.pem");
  std::string token = sign(sb, key, "RS256", kClaims);
  require_error(sb.run({"verify", "--key", key, "--alg", "PS256,ES256", "--now",
                        std::to_string(kNow), token}),
                1, "alg_not_allowed");
}

TEST_CASE("verify: nbf in the future, a missing required claim and a wrong typ exit 1") {
  Sandbox sb;
  std::string key = make_key(sb, "ES256", "key.pem");
  const std::string now = std::to_string(kNow);
  std::string early = sign(sb, key, "ES256", {{"nbf", kNow + 3600}, {"exp", kNow + 7200}});
  require_error(sb.run({"verify", "--key", key, "--alg", "ES256", "--now", now, early}), 1,
                "not_yet_valid");

  std::string token = sign(sb, key, "ES256", kClaims);
  require_error(sb.run({"verify", "--key", key, "--alg", "ES256", "--now", now, "--require",
                        "sub,scope", token}),
                1, "missing_claim");
  sb.ok({"verify", "--key", key, "--alg", "ES256", "--now", now, "--require", "sub,aud", token});

  require_error(sb.run({"verify", "--key", key, "--alg", "ES256", "--now", now, "--typ",
                        "at+jwt", token}),
                1, "bad_type");
  std::string typed = rtrim(sb.ok({"sign", "--key", key, "--alg", "ES256", "--header",
                                   R"({"typ":"at+jwt"})", "--claims", kClaims.dump()}));
  sb.ok({"verify", "--key", key, "--alg", "ES256", "--now", now, "--typ", "at+jwt", typed});
}

TEST_CASE("verify: --now fixes the clock and --leeway widens it, at most 600 s") {
  Sandbox sb;
  std::string key = make_key(sb, "ES256", "key.pem");
  std::string token = sign(sb, key, "ES256", {{"exp", 1000}});
  auto verify_at = [&](const std::string& now, const std::string& leeway) {
    return sb.run({"verify", "--key", key, "--alg", "ES256", "--now", now, "--leeway", leeway,
                   token});
  };
  CHECK(verify_at("999", "0").exit_code == 0);
  require_error(verify_at("1000", "0"), 1, "expired");
  CHECK(verify_at("1029", "30").exit_code == 0);
  CHECK(verify_at("1029", "30s").exit_code == 0);
  require_error(verify_at("1030", "30"), 1, "expired");
  CHECK(verify_at("1500", "10m").exit_code == 0);
  require_error(verify_at("1000", "601"), 2, "invalid_argument");
  require_error(verify_at("yesterday", "0"), 2, "invalid_argument");
  require_error(verify_at("-5", "0"), 2, "invalid_argument");
  // Without --now the system clock is used: 1000 is long past.
  require_error(sb.run({"verify", "--key", key, "--alg", "ES256", token}), 1, "expired");
}

TEST_CASE("verify: the token is read from stdin with '-' or when no argument is given") {
  Sandbox sb;
  std::string key = make_key(sb, "ES256", "key.pem");
  std::string token = sign(sb, key, "ES256", kClaims);
  const std::string now = std::to_string(kNow);
  CHECK(json::parse(sb.ok({"verify", "--key", key, "--alg", "ES256", "--now", now, "-"},
                          token + "\n")) == kClaims);
  CHECK(json::parse(sb.ok({"verify", "--key", key, "--alg", "ES256", "--now", now},
                          "  " + token + "\r\n")) == kClaims);
  require_error(sb.run({"verify", "--key", key, "--alg", "ES256", "--now", now}, ""), 1,
                "malformed");
}

TEST_CASE("verify: a kid selects the key from a JWKS, an unknown kid is key_not_found") {
  Sandbox sb;
  std::string a = make_key(sb, "ES256", "a.pem");
  std::string b = make_key(sb, "ES256", "b.pem");
  std::string jwks = sb.write("jwks.json", sb.ok({"jwks", "--key", a, "--key", b}));
  const std::string now = std::to_string(kNow);
  sb.ok({"verify", "--jwks", jwks, "--alg", "ES256", "--now", now, sign(sb, b, "ES256", kClaims)});

  std::string c = make_key(sb, "ES256", "c.pem");
  Run r = sb.run({"verify", "--jwks", jwks, "--alg", "ES256", "--now", now,
                  sign(sb, c, "ES256", kClaims)});
  require_error(r, 1, "key_not_found");
  CHECK_THAT(r.err, contains("the keys given have kid \""));  // says what was there instead
}

TEST_CASE("verify and decode: malformed tokens give a clear error and never crash") {
  Sandbox sb;
  std::string key = make_key(sb, "ES256", "key.pem");
  auto b64 = [](const std::string& s) {
    static const char* kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    unsigned value = 0;
    int bits = 0;
    for (unsigned char ch : s) {
      value = (value << 8) | ch;
      bits += 8;
      while (bits >= 6) {
        out += kAlphabet[(value >> (bits - 6)) & 63];
        bits -= 6;
      }
    }
    if (bits > 0) out += kAlphabet[(value << (6 - bits)) & 63];
    return out;
  };
  auto token = GENERATE_COPY(
      std::string("x"), std::string("a.b"), std::string("...."), std::string(".."),
      std::string("a.b.c.d.e"), std::string("!!!.???.***"), std::string("eyJ.eyJ.eyJ"),
      std::string(100000, 'A'), std::string("\xff\xfe.\x80.\x01"),
      b64("[1,2]") + "." + b64("{}") + ".AAAA",
      b64("{\"alg\":\"ES256\"") + "." + b64("{}") + ".AAAA",
      b64("{\"alg\":\"ES256\",\"alg\":\"none\"}") + "." + b64("{}") + ".AAAA",
      b64("{\"alg\":\"ES256\"}") + "." + b64("not json") + "." + std::string(86, 'A'),
      b64("{\"alg\":\"ES256\"}") + "." + b64("{\"exp\":\"soon\"}") + ".AAAA",
      b64(std::string(40, '[')) + "." + b64("{}") + ".AAAA");
  INFO("token: " << token.substr(0, 80));
  Run v = sb.run({"verify", "--key", key, "--alg", "ES256", "--now", "1", token});
  CHECK(v.exit_code == 1);
  CHECK(v.out.empty());
  CHECK_THAT(v.err, contains("error: "));
  CHECK(v.err.size() < 2000);  // a clear message, not a dump of the input

  Run d = sb.run({"decode", token});
  INFO("decode stderr: " << d.err);
  CHECK((d.exit_code == 0 || d.exit_code == 1));
  if (d.exit_code == 1) require_error(d, 1, "malformed");
}

TEST_CASE("verify: unreadable or invalid key files exit 3 naming the file and the reason") {
  Sandbox sb;
  std::string good = make_key(sb, "ES256", "good.pem");
  std::string token = sign(sb, good, "ES256", kClaims);
  std::string pem = sb.read("good.pem");
  struct Case {
    std::string file;
    std::string code;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {sb.path("missing.pem"), "io_error", "No such file or directory"},
      {sb.dir().string(), "io_error", "is a directory"},
      {sb.write("garbage.txt", "hello"), "malformed", "neither a PEM key"},
      {sb.write("truncated.pem", pem.substr(0, pem.size() / 2)), "malformed", "PEM"},
      {sb.write("cert.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
       "malformed", "certificate"},
      {sb.write("set.json", R"({"keys":[]})"), "malformed", "JWK Set"},
      {sb.write("bad.jwk", R"({"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"})"), "malformed",
       "JWK"}};
  const Case& c = cases[static_cast<std::size_t>(GENERATE(0, 1, 2, 3, 4, 5, 6))];
  Run r = sb.run({"verify", "--key", c.file, "--alg", "ES256", "--now", "1", token});
  require_error(r, 3, c.code);
  CHECK_THAT(r.err, contains("'" + c.file + "'"));
  CHECK_THAT(r.err, contains(c.reason));
}

TEST_CASE("key, JWKS, secret and claims files that are FIFOs or devices are refused, not waited on") {
  Sandbox sb;
  std::string key = make_key(sb, "ES256", "key.pem");
  std::string token = sign(sb, key, "ES256", kClaims);
  std::string fifo = sb.path("fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  struct Case {
    std::vector<std::string> args;
    std::string file;
    std::string kind;
  };
  const std::vector<Case> cases = {
      {{"pubkey", "--key", fifo}, fifo, "FIFO"},
      {{"verify", "--key", fifo, "--alg", "ES256", token}, fifo, "FIFO"},
      {{"verify", "--jwks", fifo, "--alg", "ES256", token}, fifo, "FIFO"},
      {{"verify", "--secret", fifo, "--alg", "HS256", token}, fifo, "FIFO"},
      {{"sign", "--key", key, "--alg", "ES256", "--claims", "@" + fifo}, fifo, "FIFO"},
      {{"thumbprint", "--key", "/dev/null"}, "/dev/null", "character device"},
      {{"sign", "--secret", "/dev/zero", "--alg", "HS256"}, "/dev/zero", "character device"}};
  const Case& c = cases[static_cast<std::size_t>(GENERATE(0, 1, 2, 3, 4, 5, 6))];
  Run r = sb.run(c.args);
  require_error(r, 3, "io_error");
  CHECK_THAT(r.err, contains("'" + c.file + "'"));
  CHECK_THAT(r.err, contains(c.kind));
  CHECK_THAT(r.err, contains("not a regular file"));
}

TEST_CASE("verify: a JWKS file without usable keys or unreadable exits 3") {
  Sandbox sb;
  std::string key = make_key(sb, "ES256", "key.pem");
  std::string token = sign(sb, key, "ES256", kClaims);
  std::string empty = sb.write("empty.json", R"({"keys":[]})");
  require_error(sb.run({"verify", "--jwks", empty, "--alg", "ES256", token}), 3, "key_not_found");
  std::string bad = sb.write("bad.json", R"({"keys":[{"kty":"XX"}]})");
  Run r = sb.run({"verify", "--jwks", bad, "--alg", "ES256", token});
  require_error(r, 3, "key_not_found");
  CHECK_THAT(r.err, contains("warning: JWKS file"));  // the skipped key is explained
  std::string not_set = sb.write("not-set.json", R"([1])");
  require_error(sb.run({"verify", "--jwks", not_set, "--alg", "ES256", token}), 3, "malformed");
}

TEST_CASE("verify: usage errors exit 2 before anything is verified") {
  Sandbox sb;
  std::string key = make_key(sb, "ES256", "key.pem");
  std::string token = sign(sb, key, "ES256", kClaims);
  auto verify = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{"verify"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(token);
    return sb.run(args);
  };
  require_error(verify({"--key", key}), 2, "invalid_argument");                   // no --alg
  require_error(verify({"--key", key, "--alg", "none"}), 2, "invalid_argument");  // never
  require_error(verify({"--key", key, "--alg", ","}), 2, "invalid_argument");
  require_error(verify({"--alg", "ES256"}), 2, "invalid_argument");               // no key
  require_error(verify({"--key", key, "--alg", "ES256", "--jws", "--iss", "x"}), 2,
                "invalid_argument");
  require_error(verify({"--key", key, "--alg", "ES256", "--store", "memory://"}), 2,
                "invalid_argument");
}

TEST_CASE("verify: --store that cannot be reached fails closed with exit 3") {
  Sandbox sb;
  std::string key = make_key(sb, "ES256", "key.pem");
  json claims = kClaims;
  claims["jti"] = "t-1";
  std::string token = sign(sb, key, "ES256", claims);
  // Port 1 on loopback: nothing listens there, the connection is refused at once.
  Run r = sb.run({"verify", "--key", key, "--alg", "ES256", "--now", std::to_string(kNow),
                  "--store", "redis://127.0.0.1:1", token});
#ifdef JWTKIT_CLI_WITH_REDIS
  require_error(r, 3, "store_unavailable");
#else
  require_error(r, 2, "invalid_argument");
  CHECK_THAT(r.err, contains("without Redis support"));
#endif
}

// ---- decode -----------------------------------------------------------------------------------

TEST_CASE("decode: prints header and payload and warns that nothing was verified") {
  Sandbox sb;
  std::string key = make_key(sb, "ES256", "key.pem");
  std::string token = sign(sb, key, "ES256", kClaims);
  Run r = sb.run({"decode", token});
  REQUIRE(r.exit_code == 0);
  json out = json::parse(r.out);
  CHECK(out["payload"] == kClaims);
  CHECK(out["header"]["alg"] == "ES256");
  CHECK_THAT(r.err, contains("warning: nothing was verified"));
  // Decoding does not need a valid signature: that is exactly why it warns.
  Run tampered = sb.run({"decode", "-"}, tamper_signature(token) + "\n");
  CHECK(tampered.exit_code == 0);
  CHECK(json::parse(tampered.out) == out);
  CHECK_THAT(tampered.err, contains("warning: nothing was verified"));
}

TEST_CASE("decode: a payload that is not JSON is shown as a string, with a warning") {
  Sandbox sb;
  json v = load_vector("rfc7515_A4_es512.json");
  Run r = sb.run({"decode", v["token"].get<std::string>()});
  REQUIRE(r.exit_code == 0);
  json out = json::parse(r.out);
  CHECK(out["payload"] == "Payload");
  CHECK(out["header"] == json({{"alg", "ES512"}}));
  CHECK_THAT(r.err, contains("the payload is not JSON"));
}
