// Engines over the Redis stores: several app instances sharing one Redis see each other's
// revocations, refresh-token use and key rotations at once; with Redis down they fail closed.
#include "redis_test_support.hpp"

#include <jwtkit/engine.hpp>
#include <jwtkit/redis/redis.hpp>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

using jwtkit::Engine;
using jwtkit::EngineOptions;
using jwtkit::ManualClock;
using jwtkit::RedisKeyStore;
using jwtkit::RedisOptions;
using jwtkit::RedisRevocationStore;
using jwtkit_redis_test::fixture_server;
using jwtkit_redis_test::options_for;
using jwtkit_redis_test::PrivateServer;
using jwtkit_test::code;
using jwtkit_test::status;
using std::chrono::minutes;
using std::chrono::seconds;

namespace {

EngineOptions engine_options(std::shared_ptr<ManualClock> clock) {
  EngineOptions o;
  o.issuer = "https://issuer.example";
  o.audiences = {"api"};
  o.signing_alg = jwtkit::Alg::ES256;
  o.clock = std::move(clock);
  return o;
}

/// One app instance: its own connections (pools) to the shared Redis, its own Engine.
struct Instance {
  std::shared_ptr<RedisKeyStore> keys;
  std::shared_ptr<RedisRevocationStore> revocations;
  std::unique_ptr<Engine> engine;
};

Instance start_instance(const RedisOptions& redis, std::shared_ptr<ManualClock> clock) {
  Instance i;
  auto k = RedisKeyStore::open(redis);
  REQUIRE(status(k) == "ok");
  i.keys = *k;
  auto r = RedisRevocationStore::open(redis, clock);
  REQUIRE(status(r) == "ok");
  i.revocations = *r;
  auto e = Engine::create(i.keys, i.revocations, engine_options(clock));
  REQUIRE(status(e) == "ok");
  i.engine = std::make_unique<Engine>(std::move(*e));
  return i;
}

}  // namespace

TEST_CASE("Redis, two engines: they share the signing key, and a token revoked through one is "
          "rejected by the other at once") {
  auto clock = std::make_shared<ManualClock>();
  const RedisOptions redis = options_for(fixture_server().url);
  Instance a = start_instance(redis, clock);
  Instance b = start_instance(redis, clock);
  // b found a's first key in Redis instead of making its own.
  CHECK(a.engine->active_kid() == b.engine->active_kid());
  CHECK(a.engine->jwks_json() == b.engine->jwks_json());

  auto pair = a.engine->issue_pair("alice");
  REQUIRE(status(pair) == "ok");
  REQUIRE(status(b.engine->verify_access(pair->access_token)) == "ok");
  REQUIRE(status(b.engine->verify_refresh(pair->refresh_token)) == "ok");

  REQUIRE(status(a.engine->revoke(pair->access_token)) == "ok");
  CHECK(code(b.engine->verify_access(pair->access_token)) == "revoked");
  CHECK(code(a.engine->verify_access(pair->access_token)) == "revoked");
  // Only that token: a fresh one for the same subject still passes.
  auto other = a.engine->issue_access("alice");
  REQUIRE(status(other) == "ok");
  CHECK(status(b.engine->verify_access(*other)) == "ok");

  // Revoking the subject through b rejects everything alice got so far, through a.
  auto bob = a.engine->issue_access("bob");
  REQUIRE(status(bob) == "ok");
  REQUIRE(status(b.engine->revoke_subject("alice")) == "ok");
  CHECK(code(a.engine->verify_access(*other)) == "revoked");
  CHECK(code(a.engine->verify_refresh(pair->refresh_token)) == "revoked");
  CHECK(status(a.engine->verify_access(*bob)) == "ok");
  CHECK(*a.engine->is_subject_revoked("alice"));
  // Tokens issued after the revocation are fine again.
  clock->advance(seconds(2));
  auto later = b.engine->issue_access("alice");
  REQUIRE(status(later) == "ok");
  CHECK(status(a.engine->verify_access(*later)) == "ok");
}

TEST_CASE("Redis, two engines: a refresh token used through one is detected as reused through "
          "the other, and its session is revoked everywhere") {
  auto clock = std::make_shared<ManualClock>();
  const RedisOptions redis = options_for(fixture_server().url);
  Instance a = start_instance(redis, clock);
  Instance b = start_instance(redis, clock);

  auto pair = a.engine->issue_pair("carol");
  REQUIRE(status(pair) == "ok");
  CHECK(*b.engine->session_count("carol") == 1);

  clock->advance(seconds(10));
  auto renewed = b.engine->refresh(pair->refresh_token);
  REQUIRE(status(renewed) == "ok");
  CHECK(renewed->session_id == pair->session_id);
  REQUIRE(status(a.engine->verify_access(renewed->access_token)) == "ok");

  // The old refresh token again, now through a: reuse.
  auto reused = a.engine->refresh(pair->refresh_token);
  CHECK(code(reused) == "refresh_reused");
  // The whole session is revoked, for both instances.
  CHECK(code(b.engine->verify_access(renewed->access_token)) == "revoked");
  CHECK(code(a.engine->verify_refresh(renewed->refresh_token)) == "revoked");
  CHECK(code(b.engine->refresh(renewed->refresh_token)) == "revoked");
  CHECK(*a.engine->session_count("carol") == 0);
}

TEST_CASE("Redis, two engines: of two concurrent refreshes of one token, exactly one gets a pair") {
  auto clock = std::make_shared<ManualClock>();
  const RedisOptions redis = options_for(fixture_server().url);
  Instance a = start_instance(redis, clock);
  Instance b = start_instance(redis, clock);
  for (int round = 0; round < 10; ++round) {
    auto pair = a.engine->issue_pair("dave");
    REQUIRE(status(pair) == "ok");
    std::string code_a, code_b;
    std::thread ta([&] { code_a = code(a.engine->refresh(pair->refresh_token)); });
    std::thread tb([&] { code_b = code(b.engine->refresh(pair->refresh_token)); });
    ta.join();
    tb.join();
    INFO("round " << round << ": " << code_a << " / " << code_b);
    std::vector<std::string> codes = {code_a, code_b};
    std::sort(codes.begin(), codes.end());
    CHECK(codes == std::vector<std::string>{"ok", "refresh_reused"});
  }
}

TEST_CASE("Redis, two engines: a key rotated by one is picked up by the other, and concurrent "
          "rotations leave one active key") {
  auto clock = std::make_shared<ManualClock>();
  const RedisOptions redis = options_for(fixture_server().url);
  Instance a = start_instance(redis, clock);
  Instance b = start_instance(redis, clock);
  const std::string first = a.engine->active_kid();

  auto old_token = b.engine->issue_access("erin");
  REQUIRE(status(old_token) == "ok");
  auto rotated = a.engine->rotate_key();
  REQUIRE(status(rotated) == "ok");
  CHECK(*rotated != first);
  CHECK(a.engine->active_kid() == *rotated);
  REQUIRE(status(b.engine->reload_keys()) == "ok");
  CHECK(b.engine->active_kid() == *rotated);
  auto new_token = a.engine->issue_access("erin");
  REQUIRE(status(new_token) == "ok");
  CHECK(status(b.engine->verify_access(*new_token)) == "ok");
  CHECK(status(a.engine->verify_access(*old_token)) == "ok");  // old key still verifies

  // Both instances rotate at once, each believing the same key is active.
  std::string kid_a, kid_b, code_a, code_b;
  std::thread ta([&] {
    auto r = a.engine->rotate_key();
    code_a = code(r);
    if (r.ok()) kid_a = *r;
  });
  std::thread tb([&] {
    auto r = b.engine->rotate_key();
    code_b = code(r);
    if (r.ok()) kid_b = *r;
  });
  ta.join();
  tb.join();
  INFO(code_a << " / " << code_b);
  auto records = a.keys->load_all();
  REQUIRE(status(records) == "ok");
  const auto active = std::count_if(records->begin(), records->end(), [](const auto& r) {
    return r.state == jwtkit::KeyState::active;
  });
  CHECK(active == 1);
  REQUIRE(status(a.engine->reload_keys()) == "ok");
  REQUIRE(status(b.engine->reload_keys()) == "ok");
  CHECK(a.engine->active_kid() == b.engine->active_kid());
}

TEST_CASE("Redis, engine: with Redis down verification fails closed and revoke reports failure, and "
          "after a restart the same engine works again") {
  PrivateServer server;
  auto clock = std::make_shared<ManualClock>();
  RedisOptions redis = options_for(server.url());
  redis.connect_timeout = std::chrono::milliseconds(1000);
  redis.command_timeout = std::chrono::milliseconds(1000);
  Instance app = start_instance(redis, clock);

  auto revoked = app.engine->issue_pair("frank");
  auto good = app.engine->issue_pair("frank");
  REQUIRE(status(revoked) == "ok");
  REQUIRE(status(good) == "ok");
  REQUIRE(status(app.engine->revoke(revoked->access_token)) == "ok");
  REQUIRE(code(app.engine->verify_access(revoked->access_token)) == "revoked");

  server.stop();
  // A revoked token is never accepted, and neither is a good one: nobody can tell.
  CHECK(code(app.engine->verify_access(revoked->access_token)) == "store_unavailable");
  CHECK(code(app.engine->verify_access(good->access_token)) == "store_unavailable");
  CHECK(code(app.engine->revoke(good->access_token)) == "store_unavailable");
  CHECK(code(app.engine->revoke_subject("frank")) == "store_unavailable");
  CHECK(code(app.engine->refresh(good->refresh_token)) == "store_unavailable");

  server.restart();  // an empty server: the test server keeps nothing on disk
  CHECK(status(app.engine->verify_access(good->access_token)) == "ok");
  REQUIRE(status(app.engine->revoke(good->access_token)) == "ok");
  CHECK(code(app.engine->verify_access(good->access_token)) == "revoked");
  // The refresh that failed issued nothing and marked nothing: it can be made now.
  CHECK(status(app.engine->refresh(good->refresh_token)) == "ok");
}
