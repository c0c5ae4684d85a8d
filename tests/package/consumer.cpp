// A small application that uses jwtkit the way a downstream project would. The packaging tests
// build it against an installed jwtkit (find_package, pkg-config) and in-tree
// (add_subdirectory), then run it: it must link, and jwtkit must work from it.
#include <jwtkit/error.hpp>
#include <jwtkit/jws.hpp>
#include <jwtkit/key.hpp>
#include <jwtkit/version.hpp>
#ifdef CONSUMER_WITH_REDIS
#include <jwtkit/redis/redis.hpp>
#endif

#include <cstdio>
#include <string>
#include <system_error>

namespace {

int failures = 0;

void expect(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "consumer: FAILED: %s\n", what);
    ++failures;
  }
}

}  // namespace

int main() {
#ifdef CONSUMER_EXPECTED_VERSION
  expect(std::string(JWTKIT_VERSION_STRING) == CONSUMER_EXPECTED_VERSION,
         "version.hpp matches the version the package was built from");
#endif
  expect(JWTKIT_VERSION == JWTKIT_VERSION_MAJOR * 10000 + JWTKIT_VERSION_MINOR * 100 +
                               JWTKIT_VERSION_PATCH,
         "JWTKIT_VERSION is consistent");

  auto key = jwtkit::Key::from_secret(std::string(32, 'k'));
  expect(key.ok(), "Key::from_secret accepts a 32-byte secret");
  if (!key) return 1;

  auto token = jwtkit::sign_compact(*key, jwtkit::Alg::HS256, R"({"sub":"consumer"})");
  expect(token.ok(), "sign_compact HS256");
  jwtkit::JwsVerifierOptions options;
  options.allowed_algs = {jwtkit::Alg::HS256};
  auto verifier = jwtkit::JwsVerifier::create({*key}, options);
  expect(verifier.ok(), "JwsVerifier::create");
  if (!token || !verifier) return 1;

  auto verified = verifier->verify(*token);
  expect(verified.ok() && verified->payload() == R"({"sub":"consumer"})",
         "a token signed here verifies here");

  std::string tampered = *token;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  auto rejected = verifier->verify(tampered);
  expect(!rejected.ok(), "a tampered token is rejected");
  if (!rejected.ok()) {
    // The category lives in the library: comparing error codes across the boundary works.
    std::error_code ec = rejected.error();
    expect(ec == jwtkit::Errc::bad_signature, "rejection is bad_signature");
    expect(&ec.category() == &jwtkit::error_category(), "one error_category across the boundary");
    expect(jwtkit::to_string(jwtkit::Errc::bad_signature) == "bad_signature", "stable error names");
  }

#ifdef CONSUMER_WITH_REDIS
  auto redis = jwtkit::RedisOptions::from_url("redis://app:s3cret@127.0.0.1:6390/2");
  expect(redis.ok() && redis->port == 6390 && redis->db == 2 && redis->user == "app",
         "RedisOptions::from_url parses a URL");
  if (redis) {
    expect(redis->to_redacted_url().find("s3cret") == std::string::npos,
           "the redacted URL hides the password");
  }
  auto garbage = jwtkit::RedisOptions::from_url("not a url");
  expect(!garbage.ok() && garbage.error().code() == jwtkit::Errc::invalid_argument,
         "a garbage URL is invalid_argument");
#endif

  if (failures != 0) return 1;
  std::printf("jwtkit %s consumer: OK\n", JWTKIT_VERSION_STRING);
  return 0;
}
