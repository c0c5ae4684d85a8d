// RedisOptions: URL parsing and validation (no server needed).
#include "catch.hpp"
#include "support/result_check.hpp"

#include <jwtkit/redis/options.hpp>

#include <string>

using jwtkit::RedisOptions;
using jwtkit_test::code;
using jwtkit_test::contains;
using jwtkit_test::status;

namespace {

RedisOptions parse_ok(const std::string& url) {
  auto r = RedisOptions::from_url(url);
  INFO(url);
  REQUIRE(status(r) == "ok");
  return *r;
}

std::string parse_error(const std::string& url) {
  auto r = RedisOptions::from_url(url);
  INFO(url);
  REQUIRE_FALSE(r.ok());
  CHECK(code(r) == "invalid_argument");
  return r.error().message();
}

}  // namespace

TEST_CASE("redis URL: host only gives the defaults") {
  const auto o = parse_ok("redis://cache.internal");
  CHECK(o.transport == RedisOptions::Transport::tcp);
  CHECK(o.host == "cache.internal");
  CHECK(o.port == 6379);
  CHECK(o.db == 0);
  CHECK(o.user.empty());
  CHECK(o.password.empty());
  CHECK_FALSE(o.tls);
  CHECK(o.key_prefix == "jwtkit:");
  CHECK(status(o.validate()) == "ok");
}

TEST_CASE("redis URL: user, password, port and database") {
  const auto o = parse_ok("redis://app:s3cret@10.0.0.7:6380/5");
  CHECK(o.host == "10.0.0.7");
  CHECK(o.port == 6380);
  CHECK(o.db == 5);
  CHECK(o.user == "app");
  CHECK(o.password == "s3cret");
}

TEST_CASE("redis URL: password only authenticates as the default user") {
  const auto o = parse_ok("redis://:pw@localhost");
  CHECK(o.user.empty());
  CHECK(o.password == "pw");
}

TEST_CASE("redis URL: user without password (ACL nopass user)") {
  const auto o = parse_ok("redis://reader@localhost:7000");
  CHECK(o.user == "reader");
  CHECK(o.password.empty());
  CHECK(o.port == 7000);
}

TEST_CASE("redis URL: percent-encoded credentials are decoded") {
  const auto o = parse_ok("redis://us%40er:p%3Aw%2F%40%25@h:1/0");
  CHECK(o.user == "us@er");
  CHECK(o.password == "p:w/@%");
  CHECK(o.port == 1);
}

TEST_CASE("redis URL: IPv6 host in brackets") {
  const auto o = parse_ok("redis://[::1]:6390/2");
  CHECK(o.host == "::1");
  CHECK(o.port == 6390);
  CHECK(o.db == 2);
  CHECK(o.to_redacted_url() == "redis://[::1]:6390/2");
}

TEST_CASE("redis URL: trailing slash and scheme case are accepted") {
  CHECK(parse_ok("redis://h:6379/").db == 0);
  CHECK(parse_ok("REDIS://h").host == "h");
  CHECK(parse_ok("redis://h?db=3").db == 3);
}

TEST_CASE("redis URL: unix socket path, with an optional database") {
  auto o = parse_ok("unix:///run/redis/redis.sock");
  CHECK(o.transport == RedisOptions::Transport::unix_socket);
  CHECK(o.socket_path == "/run/redis/redis.sock");
  CHECK(o.db == 0);
  o = parse_ok("unix:///tmp/r.sock?db=4");
  CHECK(o.socket_path == "/tmp/r.sock");
  CHECK(o.db == 4);
  CHECK(o.to_redacted_url() == "unix:///tmp/r.sock?db=4");
}

TEST_CASE("redis URL: the redacted form hides the password") {
  const auto o = parse_ok("redis://app:topsecret@h:6380/1");
  const std::string shown = o.to_redacted_url();
  CHECK(shown == "redis://app:***@h:6380/1");
  CHECK(shown.find("topsecret") == std::string::npos);
}

TEST_CASE("redis URL: rediss:// parses but this build refuses TLS with a clear error") {
  const auto o = parse_ok("rediss://secure.example:6380");
  CHECK(o.tls);
  CHECK(o.port == 6380);
  if (!jwtkit::redis_tls_supported()) {
    auto v = o.validate();
    REQUIRE_FALSE(v.ok());
    CHECK(code(v) == "invalid_argument");
    CHECK_THAT(v.error().message(), contains("TLS"));
    CHECK_THAT(v.error().message(), contains("not supported by this build"));
  }
}

TEST_CASE("redis URL: garbage gives a clear invalid_argument error") {
  CHECK_THAT(parse_error(""), contains("empty"));
  CHECK_THAT(parse_error("localhost:6379"), contains("no scheme"));
  CHECK_THAT(parse_error("not a url"), contains("spaces"));
  CHECK_THAT(parse_error("http://h:6379"), contains("unsupported scheme 'http'"));
  CHECK_THAT(parse_error("redis://"), contains("no host"));
  CHECK_THAT(parse_error("redis://:6379"), contains("no host"));
  CHECK_THAT(parse_error("redis://h:"), contains("empty port"));
  CHECK_THAT(parse_error("redis://h:0"), contains("port"));
  CHECK_THAT(parse_error("redis://h:65536"), contains("port"));
  CHECK_THAT(parse_error("redis://h:63x9"), contains("port"));
  CHECK_THAT(parse_error("redis://h:-1"), contains("port"));
  CHECK_THAT(parse_error("redis://h/abc"), contains("database number"));
  CHECK_THAT(parse_error("redis://h/1/2"), contains("database number"));
  CHECK_THAT(parse_error("redis://h/-1"), contains("database number"));
  CHECK_THAT(parse_error("redis://h?timeout=5"), contains("unsupported query parameter"));
  CHECK_THAT(parse_error("redis://h#frag"), contains("fragment"));
  CHECK_THAT(parse_error("redis://u:p%zz@h"), contains("percent escape"));
  CHECK_THAT(parse_error("redis://u:p%4@h"), contains("percent escape"));
  CHECK_THAT(parse_error("redis://[::1"), contains("unterminated"));
  CHECK_THAT(parse_error("redis://[::1]x"), contains("after ']'"));
  CHECK_THAT(parse_error("redis://ho$t"), contains("not allowed in a host"));
  CHECK_THAT(parse_error("unix://relative.sock"), contains("absolute socket path"));
  CHECK_THAT(parse_error("unix:///"), contains("directory"));
  CHECK_THAT(parse_error("unix:///tmp/r.sock?db=x"), contains("database"));
  CHECK_THAT(parse_error("redis://h\r\nFLUSHALL"), contains("control"));
}

TEST_CASE("redis options: validate refuses values outside the contract") {
  RedisOptions o;
  CHECK(status(o.validate()) == "ok");
  auto expect_bad = [](RedisOptions bad, const char* what) {
    auto v = bad.validate();
    INFO(what);
    REQUIRE_FALSE(v.ok());
    CHECK(code(v) == "invalid_argument");
    CHECK_THAT(v.error().message(), contains(what));
  };
  RedisOptions bad = o;
  bad.pool_size = 0;
  expect_bad(bad, "pool_size");
  bad = o;
  bad.command_timeout = std::chrono::milliseconds(0);
  expect_bad(bad, "command_timeout");
  bad = o;
  bad.connect_timeout = std::chrono::milliseconds(-5);
  expect_bad(bad, "connect_timeout");
  bad = o;
  bad.port = 70000;
  expect_bad(bad, "port");
  bad = o;
  bad.host.clear();
  expect_bad(bad, "host");
  bad = o;
  bad.transport = RedisOptions::Transport::unix_socket;
  expect_bad(bad, "socket path");
  bad = o;
  bad.db = -1;
  expect_bad(bad, "database");
}
