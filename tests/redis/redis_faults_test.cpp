// jwtkit::redis under faults, each test on a redis-server of its own: the server stops
// (calls fail with store_unavailable, never a guess), restarts (the same store object
// recovers), stalls (calls return within their timeouts), or wants a password.
#include "redis_test_support.hpp"

#include <jwtkit/redis/redis.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using jwtkit::ManualClock;
using jwtkit::RedisKeyStore;
using jwtkit::RedisOptions;
using jwtkit::RedisRevocationStore;
using jwtkit::TokenRef;
using jwtkit_redis_test::Admin;
using jwtkit_redis_test::elapsed_ms;
using jwtkit_redis_test::options_for;
using jwtkit_redis_test::PrivateServer;
using jwtkit_test::code;
using jwtkit_test::contains;
using jwtkit_test::status;
using std::chrono::hours;
using std::chrono::milliseconds;

namespace {

RedisOptions fast_options(const std::string& url) {
  RedisOptions o = options_for(url);
  o.connect_timeout = milliseconds(1000);
  o.command_timeout = milliseconds(1000);
  o.pool_wait_timeout = milliseconds(1000);
  return o;
}

// Worst case of one call by the contract in options.hpp, plus slack for a loaded machine.
long long bound_ms(const RedisOptions& o) {
  return o.pool_wait_timeout.count() + 2 * (o.connect_timeout.count() + o.command_timeout.count()) +
         1500;
}

}  // namespace

TEST_CASE("Redis faults: server stopped mid-test, every call is store_unavailable, then the "
          "same store object recovers after a restart") {
  PrivateServer server;
  auto clock = std::make_shared<ManualClock>();
  const RedisOptions o = fast_options(server.url());
  auto opened = RedisRevocationStore::open(o, clock);
  REQUIRE(status(opened) == "ok");
  auto store = *opened;
  auto keys_opened = RedisKeyStore::open(o);
  REQUIRE(status(keys_opened) == "ok");
  auto keys = *keys_opened;
  const auto now = clock->now();

  REQUIRE(status(store->revoke_token("revoked-before", now + hours(1))) == "ok");
  REQUIRE(*store->is_revoked(TokenRef{"revoked-before", "sub", "", now}));
  auto key = jwtkit::Key::generate(jwtkit::Alg::EdDSA);
  REQUIRE(status(key) == "ok");
  const jwtkit::KeyRecord rec{*key, jwtkit::Alg::EdDSA, jwtkit::KeyState::active, now,
                              std::nullopt, std::nullopt};
  REQUIRE(status(keys->save(rec)) == "ok");

  server.stop();

  // A revoked token is never reported as "not revoked": the answer is an error.
  long long ms = elapsed_ms([&] {
    auto r = store->is_revoked(TokenRef{"revoked-before", "sub", "", now});
    CHECK(code(r) == "store_unavailable");
    INFO(status(r));
  });
  CHECK(ms < bound_ms(o));
  auto single = store->is_token_revoked("revoked-before");
  CHECK(code(single) == "store_unavailable");
  CHECK_THAT(single.error().message(), contains("127.0.0.1:" + std::to_string(server.info().port)));

  // A revocation that cannot be written reports failure.
  ms = elapsed_ms([&] {
    CHECK(code(store->revoke_token("revoked-during", now + hours(1))) == "store_unavailable");
  });
  CHECK(ms < bound_ms(o));
  CHECK(code(store->revoke_subject("sub", now, now + hours(1))) == "store_unavailable");
  CHECK(code(store->revoke_session("sub", "sid", now + hours(1))) == "store_unavailable");
  CHECK(code(store->mark_refresh_used("rt", now + hours(1))) == "store_unavailable");
  CHECK(code(store->add_session("sub", "sid", now + hours(1))) == "store_unavailable");
  CHECK(code(store->count_sessions("sub")) == "store_unavailable");
  CHECK(code(store->cleanup()) == "store_unavailable");
  CHECK(code(store->ping()) == "store_unavailable");
  CHECK(code(keys->load_all()) == "store_unavailable");
  CHECK(code(keys->save(rec)) == "store_unavailable");
  CHECK(code(keys->save_if_active(rec.kid(), {rec})) == "store_unavailable");

  server.restart();  // same port, empty dataset (the test server has no persistence)

  REQUIRE(status(store->ping()) == "ok");
  REQUIRE(status(store->revoke_token("revoked-after", now + hours(1))) == "ok");
  CHECK(*store->is_token_revoked("revoked-after"));
  CHECK(*store->mark_refresh_used("rt", now + hours(1)));
  REQUIRE(status(keys->save(rec)) == "ok");
  auto loaded = keys->load_all();
  REQUIRE(status(loaded) == "ok");
  CHECK(loaded->size() == 1);
}

TEST_CASE("Redis faults: after a restart behind idle pooled connections, reads and idempotent "
          "writes retry once on a new connection, a refresh mark reports the lost connection") {
  PrivateServer server;
  auto clock = std::make_shared<ManualClock>();
  const RedisOptions o = fast_options(server.url());
  auto opened = RedisRevocationStore::open(o, clock);
  REQUIRE(status(opened) == "ok");
  auto store = *opened;
  const auto now = clock->now();
  REQUIRE(status(store->revoke_token("a", now + hours(1))) == "ok");  // pool: 1 idle connection

  server.stop();
  server.restart();
  // The idle connection is dead; the read is made again on a new one and succeeds.
  auto r = store->is_token_revoked("a");
  REQUIRE(status(r) == "ok");
  CHECK_FALSE(*r);  // the restarted server lost its data: no persistence in this test

  server.stop();
  server.restart();
  REQUIRE(status(store->revoke_token("b", now + hours(1))) == "ok");  // SET: safe to repeat
  CHECK(*store->is_token_revoked("b"));

  server.stop();
  server.restart();
  // Marking a refresh token is not repeated blindly (a repeat could see its own mark as
  // reuse): the lost connection is reported, and the next call works.
  auto first = store->mark_refresh_used("rt", now + hours(1));
  CHECK(code(first) == "store_unavailable");
  CHECK_THAT(first.error().message(), contains("closed"));
  auto second = store->mark_refresh_used("rt", now + hours(1));
  REQUIRE(status(second) == "ok");
  CHECK(*second);
}

TEST_CASE("Redis faults: a connection killed by the server is dropped and replaced") {
  PrivateServer server;
  Admin admin(server.info());
  auto clock = std::make_shared<ManualClock>();
  RedisOptions o = fast_options(server.url());
  o.client_name = "jwtkit-kill-test";
  auto opened = RedisRevocationStore::open(o, clock);
  REQUIRE(status(opened) == "ok");
  auto store = *opened;
  REQUIRE(status(store->ping()) == "ok");
  const std::string list_before = admin.run({"CLIENT", "LIST"});
  REQUIRE(admin.integer({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}) >= 1);
  REQUIRE(status(store->ping()) == "ok");
  const std::string list_after = admin.run({"CLIENT", "LIST"});
  CHECK_THAT(list_after, contains("name=jwtkit-kill-test"));
  // A new connection: a new client id.
  const auto id_of = [](const std::string& list) {
    const auto at = list.find("name=jwtkit-kill-test");
    const auto line = list.rfind('\n', at);
    const auto start = line == std::string::npos ? 0 : line + 1;
    return list.substr(start, list.find(' ', start) - start);
  };
  CHECK(id_of(list_before) != id_of(list_after));
}

TEST_CASE("Redis faults: a stalled server (CLIENT PAUSE) makes calls return within their "
          "timeouts, also for threads waiting for a pool slot") {
  PrivateServer server;
  Admin admin(server.info(), 10000);
  auto clock = std::make_shared<ManualClock>();
  RedisOptions o = fast_options(server.url());
  o.command_timeout = milliseconds(300);
  o.pool_wait_timeout = milliseconds(300);
  o.pool_size = 1;
  auto opened = RedisRevocationStore::open(o, clock);
  REQUIRE(status(opened) == "ok");
  auto store = *opened;
  const auto now = clock->now();
  REQUIRE(status(store->revoke_token("stalled", now + hours(1))) == "ok");

  REQUIRE(admin.run({"CLIENT", "PAUSE", "3000", "ALL"}) == "OK");

  long long ms = elapsed_ms([&] {
    auto r = store->is_revoked(TokenRef{"stalled", "s", "", now});
    CHECK(code(r) == "store_unavailable");
    CHECK_THAT(r.error().message(), contains("no reply within the command timeout (300 ms)"));
  });
  CHECK(ms >= 250);  // it did wait for the server...
  CHECK(ms < bound_ms(o));  // ...but not past its timeouts

  ms = elapsed_ms([&] {
    CHECK(code(store->revoke_token("during-stall", now + hours(1))) == "store_unavailable");
  });
  CHECK(ms < bound_ms(o));

  // Four threads, one pooled connection: the waiters give up after pool_wait_timeout.
  std::atomic<long long> slowest{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      const long long t = elapsed_ms([&] {
        if (code(store->is_token_revoked("stalled")) == "store_unavailable") ++failures;
      });
      long long prev = slowest.load();
      while (t > prev && !slowest.compare_exchange_weak(prev, t)) {
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures.load() == 4);
  CHECK(slowest.load() < bound_ms(o));

  // The admin connection is paused too: its PING returns when the pause is over.
  REQUIRE(admin.run({"PING"}) == "PONG");
  auto after = store->is_token_revoked("stalled");
  REQUIRE(status(after) == "ok");
  CHECK(*after);
  CHECK(status(store->revoke_token("after-stall", now + hours(1))) == "ok");
}

TEST_CASE("Redis faults: a server that wants a password, given none or a wrong one, is a clear "
          "error at open") {
  PrivateServer server("--requirepass 'R1ght-pass'");
  const std::string authority = server.url().substr(std::string("redis://").size());

  auto none = RedisRevocationStore::open(server.url());
  REQUIRE_FALSE(none.ok());
  CHECK(code(none) == "store_unavailable");
  CHECK_THAT(none.error().message(), contains("NOAUTH"));

  auto wrong = RedisKeyStore::open("redis://:wr0ng-pass@" + authority);
  REQUIRE_FALSE(wrong.ok());
  CHECK(code(wrong) == "store_unavailable");
  CHECK_THAT(wrong.error().message(), contains("refused AUTH as the default user"));
  CHECK(wrong.error().message().find("wr0ng-pass") == std::string::npos);

  auto right = RedisRevocationStore::open("redis://:R1ght-pass@" + authority);
  REQUIRE(status(right) == "ok");
  CHECK(status((*right)->ping()) == "ok");
}

TEST_CASE("Redis faults: writing to a connection the peer reset does not kill the process with "
          "SIGPIPE") {
  jwtkit_redis_test::fixture_server();  // skipped like the others without redis-server
  // A fake server on loopback: answers the PING of open(), then resets the connection
  // (SO_LINGER 0), so the store's next write hits a reset socket: EPIPE, and SIGPIPE unless
  // the store keeps it from the process.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(listener >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(listener, 8) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const int port = ntohs(addr.sin_port);

  int peer = -1;
  std::thread fake([&] {
    peer = ::accept(listener, nullptr, nullptr);
    if (peer < 0) return;
    char buf[256];
    if (::read(peer, buf, sizeof buf) > 0) {  // "*1\r\n$4\r\nPING\r\n"
      static const char kPong[] = "+PONG\r\n";
      if (::write(peer, kPong, sizeof kPong - 1) < 0) return;
    }
  });
  auto clock = std::make_shared<ManualClock>();
  RedisOptions o = fast_options("redis://127.0.0.1:" + std::to_string(port));
  auto opened = RedisRevocationStore::open(o, clock);
  fake.join();
  REQUIRE(status(opened) == "ok");
  REQUIRE(peer >= 0);
  // FIN first (the client socket goes to CLOSE_WAIT), then RST: the state in which a
  // client's next write raises SIGPIPE, as after an idle connection's keepalive probe meets a
  // restarted server.
  REQUIRE(::shutdown(peer, SHUT_WR) == 0);
  linger reset{1, 0};
  REQUIRE(::setsockopt(peer, SOL_SOCKET, SO_LINGER, &reset, sizeof reset) == 0);
  ::close(peer);

  // The pooled connection is reset: the call fails, and the process is still here.
  auto r = (*opened)->revoke_token("after-reset", clock->now() + hours(1));
  CHECK(code(r) == "store_unavailable");
  auto again = (*opened)->is_token_revoked("after-reset");
  CHECK(code(again) == "store_unavailable");
  ::close(listener);
}
