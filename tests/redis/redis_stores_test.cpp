// RedisRevocationStore and RedisKeyStore against the fixture's real redis-server: the store
// conformance suite, the data model as Redis sees it, connection options, concurrency.
#include "redis_test_support.hpp"
#include "support/store_conformance.hpp"

#include <jwtkit/redis/redis.hpp>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

using jwtkit::ManualClock;
using jwtkit::RedisKeyStore;
using jwtkit::RedisOptions;
using jwtkit::RedisRevocationStore;
using jwtkit::TokenRef;
using jwtkit_redis_test::Admin;
using jwtkit_redis_test::fixture_server;
using jwtkit_redis_test::options_for;
using jwtkit_test::code;
using jwtkit_test::contains;
using jwtkit_test::status;
using std::chrono::hours;
using std::chrono::seconds;

namespace {

std::shared_ptr<RedisRevocationStore> open_revocations(const RedisOptions& o,
                                                       std::shared_ptr<const jwtkit::Clock> clock) {
  auto s = RedisRevocationStore::open(o, std::move(clock));
  REQUIRE(status(s) == "ok");
  return *s;
}

std::shared_ptr<RedisKeyStore> open_keys(const RedisOptions& o) {
  auto s = RedisKeyStore::open(o);
  REQUIRE(status(s) == "ok");
  return *s;
}

// The part of a key Redis Cluster hashes: the first non-empty {...}, else the whole key.
std::string hash_tag(const std::string& key) {
  const auto open = key.find('{');
  if (open == std::string::npos) return key;
  const auto close = key.find('}', open + 1);
  if (close == std::string::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Conformance

TEST_CASE("RedisRevocationStore passes the revocation store conformance suite") {
  const std::string url = fixture_server().url;
  jwtkit_test::revocation_store_conformance([url] {
    auto clock = std::make_shared<ManualClock>();
    // Each entry keeps its own expiry and is compared with the store's clock on every read,
    // so expiry follows the manual clock (Redis TTLs only collect the garbage).
    return jwtkit_test::RevocationStoreFixture{open_revocations(options_for(url), clock), clock,
                                               /*expiry_follows_clock=*/true};
  });
}

TEST_CASE("RedisKeyStore passes the key store conformance suite") {
  const std::string url = fixture_server().url;
  jwtkit_test::key_store_conformance([url] {
    const RedisOptions o = options_for(url);
    auto store = open_keys(o);
    return jwtkit_test::KeyStoreFixture{store, [o] {
                                          std::shared_ptr<jwtkit::KeyStore> again = open_keys(o);
                                          return again;
                                        }};
  });
}

// ---------------------------------------------------------------------------------------------
// Data model, seen from Redis

TEST_CASE("Redis data model: a revoked jti lives until the token's exp, as a Redis TTL") {
  Admin admin(fixture_server());
  auto clock = std::make_shared<ManualClock>();
  const auto o = options_for(fixture_server().url);
  auto store = open_revocations(o, clock);
  const auto now = clock->now();

  REQUIRE(status(store->revoke_token("jti-ttl", now + seconds(900))) == "ok");
  const std::string key = o.key_prefix + "jti:jti-ttl";
  CHECK(admin.run({"GET", key}) == std::to_string(jwtkit::to_unix(now) + 900));
  // The entry's own value is the expiry; the Redis TTL adds a 15-minute margin for readers
  // whose clocks lag, so Redis never drops an entry another instance still needs.
  const long long ttl = admin.integer({"TTL", key});
  CHECK(ttl > 900 + 890);
  CHECK(ttl <= 900 + 900);

  // Written already expired: nothing is stored at all.
  REQUIRE(status(store->revoke_token("jti-past", now - seconds(1))) == "ok");
  CHECK(admin.integer({"EXISTS", o.key_prefix + "jti:jti-past"}) == 0);
}

TEST_CASE("Redis data model: a subject's keys share one hash tag, sessions are a sorted set") {
  Admin admin(fixture_server());
  auto clock = std::make_shared<ManualClock>();
  const auto o = options_for(fixture_server().url);
  auto store = open_revocations(o, clock);
  const auto now = clock->now();

  REQUIRE(status(store->add_session("user:{42}", "s1", now + hours(2))) == "ok");
  REQUIRE(status(store->add_session("user:{42}", "s2", now + hours(1))) == "ok");
  const std::string sessions = o.key_prefix + "sub:{s:user:{42}}:sessions";
  CHECK(admin.run({"TYPE", sessions}) == "zset");
  CHECK(admin.integer({"ZCARD", sessions}) == 2);
  CHECK(admin.run({"ZSCORE", sessions, "s1"}) == std::to_string(jwtkit::to_unix(now) + 7200));
  // The set lives as long as its longest session.
  CHECK(admin.integer({"TTL", sessions}) > 7000);

  REQUIRE(status(store->revoke_subject("user:{42}", now, now + hours(3))) == "ok");
  const std::string nbf = o.key_prefix + "sub:{s:user:{42}}:nbf";
  CHECK(admin.integer({"EXISTS", sessions}) == 0);
  CHECK(admin.run({"GET", nbf}) == std::to_string(jwtkit::to_unix(now)) + ":" +
                                       std::to_string(jwtkit::to_unix(now) + 3 * 3600));
  // Same cluster slot for both keys of the subject, whatever the subject contains: Redis
  // Cluster hashes only the hash tag (this instance is no cluster, so CLUSTER KEYSLOT is
  // unavailable; hash_tag() is the rule from the Redis Cluster specification).
  for (const std::string subject : {"plain", "}starts-with-brace", "{}", "a}b{c", ""}) {
    INFO("subject '" << subject << "'");
    const std::string tag_nbf = hash_tag(o.key_prefix + "sub:{s:" + subject + "}:nbf");
    CHECK(tag_nbf == hash_tag(o.key_prefix + "sub:{s:" + subject + "}:sessions"));
    CHECK(tag_nbf.rfind("s:", 0) == 0);
  }
}

TEST_CASE("Redis data model: untrusted ids are plain argv values, never command text") {
  Admin admin(fixture_server());
  auto clock = std::make_shared<ManualClock>();
  const auto o = options_for(fixture_server().url);
  auto store = open_revocations(o, clock);
  const auto now = clock->now();
  admin.run({"SET", o.key_prefix + "canary", "alive"});

  const std::vector<std::string> hostile = {
      "x\r\nFLUSHALL\r\n", "*1\r\n$8\r\nFLUSHALL\r\n", "' or 1=1 --", "a b c", "*",
      std::string("nul\0byte", 8), "\xff\xfe", std::string(4096, 'j'), "jti:other"};
  for (const auto& id : hostile) {
    INFO("id of " << id.size() << " bytes");
    REQUIRE(status(store->revoke_token(id, now + hours(1))) == "ok");
    CHECK(*store->is_token_revoked(id));
    REQUIRE(status(store->add_session(id, id, now + hours(1))) == "ok");
    CHECK(*store->count_sessions(id) == 1);
    CHECK(*store->mark_refresh_used(id, now + hours(1)));
    CHECK_FALSE(*store->mark_refresh_used(id, now + hours(1)));
    REQUIRE(status(store->revoke_session(id, id, now + hours(1))) == "ok");
    CHECK(*store->is_revoked(TokenRef{"other", id, id, now}));
  }
  // The binary jti with a NUL byte is distinct from its prefix.
  CHECK_FALSE(*store->is_token_revoked("nul"));
  CHECK(admin.run({"GET", o.key_prefix + "canary"}) == "alive");
}

TEST_CASE("Redis data model: is_revoked answers with a single MGET round trip") {
  Admin admin(fixture_server());
  auto clock = std::make_shared<ManualClock>();
  auto store = open_revocations(options_for(fixture_server().url), clock);
  const auto now = clock->now();
  REQUIRE(status(store->revoke_subject("rt-sub", now, now + hours(1))) == "ok");

  auto calls_of = [&](const std::string& command) -> long long {
    const std::string line = admin.info_field("commandstats", "cmdstat_" + command);
    if (line.empty()) return 0;
    return std::stoll(line.substr(line.find("calls=") + 6));
  };
  const long long mget0 = calls_of("mget");
  const long long get0 = calls_of("get");
  const long long eval0 = calls_of("evalsha") + calls_of("eval");
  CHECK(*store->is_revoked(TokenRef{"j", "rt-sub", "sid", now - seconds(1)}));
  CHECK_FALSE(*store->is_revoked(TokenRef{"j", "rt-sub", "sid", now + seconds(1)}));
  CHECK(calls_of("mget") - mget0 == 2);
  CHECK(calls_of("get") - get0 == 0);
  CHECK(calls_of("evalsha") + calls_of("eval") - eval0 == 0);
}

TEST_CASE("Redis data model: a value jwtkit did not write is an error, not an answer") {
  Admin admin(fixture_server());
  auto clock = std::make_shared<ManualClock>();
  const auto o = options_for(fixture_server().url);
  auto store = open_revocations(o, clock);
  admin.run({"SET", o.key_prefix + "jti:tampered", "yes"});
  auto r = store->is_token_revoked("tampered");
  CHECK(code(r) == "store_unavailable");
  CHECK_THAT(r.error().message(), contains("unexpected value"));
  auto both = store->is_revoked(TokenRef{"tampered", "s", "", clock->now()});
  CHECK(code(both) == "store_unavailable");

  // A key of the wrong type: Redis answers WRONGTYPE, the store reports it.
  admin.run({"SET", o.key_prefix + "sub:{s:wrongtype}:sessions", "not-a-zset"});
  auto n = store->count_sessions("wrongtype");
  CHECK(code(n) == "store_unavailable");
  CHECK_THAT(n.error().message(), contains("WRONGTYPE"));
  // The connection survives a Redis error reply: the next call works.
  CHECK(status(store->count_sessions("fine")) == "ok");
}

TEST_CASE("Redis data model: key records are JSON in one hash, corrupt ones are named") {
  Admin admin(fixture_server());
  const auto o = options_for(fixture_server().url);
  auto store = open_keys(o);
  auto key = jwtkit::Key::generate(jwtkit::Alg::ES256);
  REQUIRE(status(key) == "ok");
  const jwtkit::KeyRecord rec{*key, jwtkit::Alg::ES256, jwtkit::KeyState::active,
                              jwtkit::from_unix(1'700'000'000), std::nullopt, std::nullopt};
  REQUIRE(status(store->save(rec)) == "ok");
  const std::string hash = o.key_prefix + "keys";
  const std::string json = admin.run({"HGET", hash, rec.kid()});
  CHECK_THAT(json, contains("\"state\":\"active\""));
  CHECK_THAT(json, contains("\"alg\":\"ES256\""));
  CHECK_THAT(json, contains("\"created_at\":1700000000"));
  CHECK_THAT(json, contains("\"jwk\":{"));
  CHECK_THAT(json, contains("\"d\":"));  // private part

  admin.run({"HSET", hash, "broken-kid", "{not json"});
  auto all = store->load_all();
  REQUIRE_FALSE(all.ok());
  CHECK(code(all) == "malformed");
  CHECK_THAT(all.error().message(), contains("broken-kid"));
  auto r = store->save_if_active(rec.kid(), {rec});
  CHECK(code(r) == "malformed");
}

TEST_CASE("Redis data model: cleanup leaves a key store that shares the prefix alone") {
  Admin admin(fixture_server());
  auto clock = std::make_shared<ManualClock>();
  const auto o = options_for(fixture_server().url);
  auto revocations = open_revocations(o, clock);
  auto keys = open_keys(o);
  auto key = jwtkit::Key::generate(jwtkit::Alg::EdDSA);
  REQUIRE(status(key) == "ok");
  REQUIRE(status(keys->save(jwtkit::KeyRecord{*key, jwtkit::Alg::EdDSA, jwtkit::KeyState::active,
                                              clock->now(), std::nullopt, std::nullopt})) ==
          "ok");
  REQUIRE(status(revocations->revoke_token("short", clock->now() + seconds(5))) == "ok");
  admin.run({"SET", o.key_prefix + "app-owned", "100"});  // looks like an expiry, is not ours
  clock->advance(hours(1));
  auto removed = revocations->cleanup();
  REQUIRE(status(removed) == "ok");
  CHECK(*removed == 1);
  CHECK(admin.integer({"EXISTS", o.key_prefix + "jti:short"}) == 0);
  CHECK(admin.run({"GET", o.key_prefix + "app-owned"}) == "100");
  auto loaded = keys->load_all();
  REQUIRE(status(loaded) == "ok");
  CHECK(loaded->size() == 1);
}

// ---------------------------------------------------------------------------------------------
// Connection options

TEST_CASE("Redis connection: Unix socket URL") {
  const auto& server = fixture_server();
  auto o = jwtkit::RedisOptions::from_url("unix://" + server.socket);
  REQUIRE(status(o) == "ok");
  o->key_prefix = jwtkit_redis_test::unique_prefix();
  auto clock = std::make_shared<ManualClock>();
  auto store = open_revocations(*o, clock);
  REQUIRE(status(store->revoke_token("via-socket", clock->now() + hours(1))) == "ok");
  Admin admin(server);
  CHECK(admin.integer({"EXISTS", o->key_prefix + "jti:via-socket"}) == 1);
  CHECK(status(store->ping()) == "ok");
}

TEST_CASE("Redis connection: SELECT of the database in the URL") {
  const auto& server = fixture_server();
  auto o = options_for(server.url + "/3");
  REQUIRE(o.db == 3);
  auto clock = std::make_shared<ManualClock>();
  auto store = open_revocations(o, clock);
  REQUIRE(status(store->revoke_token("in-db-3", clock->now() + hours(1))) == "ok");
  Admin admin(server);
  CHECK(admin.integer({"EXISTS", o.key_prefix + "jti:in-db-3"}) == 0);  // not in db 0
  admin.run({"SELECT", "3"});
  CHECK(admin.integer({"EXISTS", o.key_prefix + "jti:in-db-3"}) == 1);

  auto bad = options_for(server.url + "/99999");
  auto r = RedisRevocationStore::open(bad, clock);
  REQUIRE_FALSE(r.ok());
  CHECK(code(r) == "store_unavailable");
  CHECK_THAT(r.error().message(), contains("SELECT 99999"));
}

TEST_CASE("Redis connection: AUTH with an ACL user, and a wrong password is a clear error") {
  const auto& server = fixture_server();
  Admin admin(server);
  const std::string user = "jwtkit-acl-" + std::to_string(::getpid());
  const std::string prefix = jwtkit_redis_test::unique_prefix();
  // A user that may touch only this test's keys.
  REQUIRE(admin.run({"ACL", "SETUSER", user, "reset", "on", ">right-password", "~" + prefix + "*",
                     "+@all"}) == "OK");
  const std::string authority = server.url.substr(std::string("redis://").size());

  SECTION("right password") {
    auto o = options_for("redis://" + user + ":right-password@" + authority);
    o.key_prefix = prefix;
    auto clock = std::make_shared<ManualClock>();
    auto store = open_revocations(o, clock);
    REQUIRE(status(store->revoke_token("acl-jti", clock->now() + hours(1))) == "ok");
    CHECK(*store->is_token_revoked("acl-jti"));
    // Outside its key pattern the user is refused, and that is reported.
    RedisOptions other = o;
    other.key_prefix = "not-allowed:";
    auto denied = open_revocations(other, clock);
    auto r = denied->revoke_token("x", clock->now() + hours(1));
    CHECK(code(r) == "store_unavailable");
    CHECK_THAT(r.error().message(), contains("NOPERM"));
  }
  SECTION("wrong password") {
    auto r = RedisRevocationStore::open("redis://" + user + ":Not-The-Pa55word@" + authority);
    REQUIRE_FALSE(r.ok());
    CHECK(code(r) == "store_unavailable");
    CHECK_THAT(r.error().message(), contains("refused AUTH as user '" + user + "'"));
    CHECK_THAT(r.error().message(), contains("WRONGPASS"));
    // The password itself is never echoed.
    CHECK(r.error().message().find("Not-The-Pa55word") == std::string::npos);
    auto k = RedisKeyStore::open("redis://" + user + ":Not-The-Pa55word@" + authority);
    CHECK(code(k) == "store_unavailable");
  }
  SECTION("unknown user") {
    auto r = RedisRevocationStore::open("redis://nobody-here:pw@" + authority);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message(), contains("WRONGPASS"));
  }
  admin.run({"ACL", "DELUSER", user});
}

TEST_CASE("Redis connection: nothing listening gives store_unavailable naming the address") {
  // Port 1 on loopback: reserved, nothing listens there.
  auto r = RedisRevocationStore::open("redis://127.0.0.1:1");
  REQUIRE_FALSE(r.ok());
  CHECK(code(r) == "store_unavailable");
  CHECK_THAT(r.error().message(), contains("cannot connect to Redis at 127.0.0.1:1"));
  auto k = RedisKeyStore::open("unix:///nonexistent/dir/redis.sock");
  REQUIRE_FALSE(k.ok());
  CHECK(code(k) == "store_unavailable");
  CHECK_THAT(k.error().message(), contains("/nonexistent/dir/redis.sock"));
}

TEST_CASE("Redis connection: garbage URL and rediss:// are refused before connecting") {
  auto r = RedisRevocationStore::open("definitely not a url");
  CHECK(code(r) == "invalid_argument");
  auto k = RedisKeyStore::open("redis://host:notaport");
  CHECK(code(k) == "invalid_argument");
  CHECK_THAT(k.error().message(), contains("port"));
  if (!jwtkit::redis_tls_supported()) {
    auto t = RedisRevocationStore::open("rediss://127.0.0.1:6380");
    CHECK(code(t) == "invalid_argument");
    CHECK_THAT(t.error().message(), contains("TLS"));
  }
}

// ---------------------------------------------------------------------------------------------
// Concurrency through the pool

TEST_CASE("Redis concurrency: many threads revoke and check through a small pool") {
  auto clock = std::make_shared<ManualClock>();
  auto o = options_for(fixture_server().url);
  o.pool_size = 2;
  o.pool_wait_timeout = std::chrono::milliseconds(5000);  // generous: 8 threads share 2 slots
  auto store = open_revocations(o, clock);
  const auto now = clock->now();
  constexpr int kThreads = 8, kPerThread = 150;
  std::atomic<int> errors{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string jti = "p-" + std::to_string(t) + "-" + std::to_string(i);
        if (!store->revoke_token(jti, now + hours(1)).ok()) ++errors;
        auto yes = store->is_revoked(TokenRef{jti, "conc", "", now});
        auto no = store->is_revoked(TokenRef{jti + "-not", "conc", "", now});
        if (!yes.ok() || !no.ok()) {
          ++errors;
        } else if (!*yes || *no) {
          ++wrong;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(errors.load() == 0);
  CHECK(wrong.load() == 0);
}

TEST_CASE("Redis concurrency: two store instances marking one refresh jti, one wins") {
  // Two stores = two pools = two app instances sharing one Redis.
  auto clock = std::make_shared<ManualClock>();
  const auto o = options_for(fixture_server().url);
  auto a = open_revocations(o, clock);
  auto b = open_revocations(o, clock);
  const auto exp = clock->now() + hours(1);
  for (int round = 0; round < 20; ++round) {
    const std::string jti = "race-" + std::to_string(round);
    std::atomic<int> wins{0}, errors{0};
    std::thread ta([&] {
      auto r = a->mark_refresh_used(jti, exp);
      if (!r.ok()) ++errors;
      else if (*r) ++wins;
    });
    std::thread tb([&] {
      auto r = b->mark_refresh_used(jti, exp);
      if (!r.ok()) ++errors;
      else if (*r) ++wins;
    });
    ta.join();
    tb.join();
    INFO("round " << round);
    CHECK(errors.load() == 0);
    CHECK(wins.load() == 1);
  }
}

TEST_CASE("Redis concurrency: the pool opens at most pool_size connections") {
  Admin admin(fixture_server());
  auto clock = std::make_shared<ManualClock>();
  auto o = options_for(fixture_server().url);
  o.pool_size = 3;
  o.pool_wait_timeout = std::chrono::milliseconds(5000);
  o.client_name = "jwtkit-pool-test-" + std::to_string(::getpid());
  const auto count_clients = [&] {
    const std::string list = admin.run({"CLIENT", "LIST"});
    long long n = 0;
    for (std::size_t at = list.find("name=" + o.client_name + " "); at != std::string::npos;
         at = list.find("name=" + o.client_name + " ", at + 1)) {
      ++n;
    }
    return n;
  };
  auto store = open_revocations(o, clock);
  CHECK(count_clients() == 1);  // open() made one connection, to check the server
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 30; ++i) {
        if (!store->is_token_revoked("x").ok()) ++errors;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(errors.load() == 0);
  const long long after = count_clients();
  CHECK(after <= 3);
  CHECK(after >= 1);
}
