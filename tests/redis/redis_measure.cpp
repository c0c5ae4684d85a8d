// One-off measurements for jwtkit::redis (not a test: it prints figures, asserts nothing):
//  - Redis memory per revoked token id: MEMORY USAGE of one key, and the INFO used_memory
//    delta over many revocations divided by their number;
//  - verify-with-revocation throughput of an Engine over RedisRevocationStore, next to the
//    same Engine over MemoryRevocationStore.
// Run it against a throwaway server: it writes keys under the "jwtkit-measure:" prefix.
//
//   redis_measure <redis-url> [revocations=10000] [verifications=20000] [key-prefix]
#include <jwtkit/engine.hpp>
#include <jwtkit/redis/redis.hpp>
#include <jwtkit/stores/memory.hpp>

#include <hiredis/hiredis.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "redis_measure: %s\n", what.c_str());
  std::exit(1);
}

template <class T>
T must(jwtkit::Result<T> r, const char* what) {
  if (!r.ok()) die(std::string(what) + ": " + r.error().to_string());
  return std::move(r).value();
}
void must(const jwtkit::Result<void>& r, const char* what) {
  if (!r.ok()) die(std::string(what) + ": " + r.error().to_string());
}

// A raw connection to read MEMORY USAGE and INFO.
class Admin {
 public:
  explicit Admin(const jwtkit::RedisOptions& o) {
    timeval tv{5, 0};
    ctx_ = o.transport == jwtkit::RedisOptions::Transport::unix_socket
               ? redisConnectUnixWithTimeout(o.socket_path.c_str(), tv)
               : redisConnectWithTimeout(o.host.c_str(), o.port, tv);
    if (ctx_ == nullptr || ctx_->err != 0) die("admin connection failed");
    if (!o.password.empty()) {
      run(o.user.empty() ? std::vector<std::string>{"AUTH", o.password}
                         : std::vector<std::string>{"AUTH", o.user, o.password});
    }
    if (o.db != 0) run({"SELECT", std::to_string(o.db)});
  }
  ~Admin() { redisFree(ctx_); }
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  std::string run(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.c_str());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (r == nullptr) die("admin command failed: " + std::string(ctx_->errstr));
    std::string out;
    if (r->type == REDIS_REPLY_INTEGER) {
      out = std::to_string(r->integer);
    } else if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) {
      out.assign(r->str, r->len);
    } else if (r->type == REDIS_REPLY_ERROR) {
      die("admin command " + args[0] + ": " + std::string(r->str, r->len));
    }
    freeReplyObject(r);
    return out;
  }
  long long used_memory() {
    std::istringstream in(run({"INFO", "memory"}));
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("used_memory:", 0) == 0) return std::stoll(line.substr(12));
    }
    die("no used_memory in INFO memory");
  }

 private:
  redisContext* ctx_ = nullptr;
};

// A 22-character base64url id: the size of the engine's 128-bit jti.
std::string random_id(std::mt19937_64& rng) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string s(22, 'A');
  for (auto& c : s) c = kAlphabet[rng() % 64];
  return s;
}

struct Rate {
  double per_second;
  double mean_us;
};

// Runs `per_thread` calls of f() on each of `threads` threads; f must succeed.
template <class F>
Rate measure(int threads, int per_thread, F f) {
  std::atomic<int> failures{0};
  const auto t0 = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        if (!f()) ++failures;
      }
    });
  }
  for (auto& th : pool) th.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  if (failures.load() != 0) die(std::to_string(failures.load()) + " calls failed");
  const double total = static_cast<double>(threads) * per_thread;
  return {total / secs, secs * 1e6 * threads / total};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) die("usage: redis_measure <redis-url> [revocations] [verifications] [key-prefix]");
  const int revocations = argc > 2 ? std::atoi(argv[2]) : 10000;
  const int verifications = argc > 3 ? std::atoi(argv[3]) : 20000;
  if (revocations <= 0 || verifications <= 0) die("counts must be > 0");

  auto options = must(jwtkit::RedisOptions::from_url(argv[1]), "URL");
  options.key_prefix = argc > 4 ? argv[4] : "jwtkit-measure:";
  options.pool_size = 4;
  auto clock = std::make_shared<jwtkit::SystemClock>();
  auto store = must(jwtkit::RedisRevocationStore::open(options, clock), "open");
  Admin admin(options);
  std::mt19937_64 rng(42);
  const auto exp = clock->now() + std::chrono::minutes(15);

  std::printf("redis_measure against %s (%s)\n", options.to_redacted_url().c_str(),
              admin.run({"INFO", "server"}).find("redis_version:7") != std::string::npos
                  ? "Redis 7"
                  : "Redis");

  // --- memory per revoked jti -----------------------------------------------------------
  const std::string one = random_id(rng);
  must(store->revoke_token(one, exp), "revoke_token");
  const std::string key = options.key_prefix + "jti:" + one;
  std::printf("key example: %s (%zu bytes), value %s, TTL %s s\n", key.c_str(), key.size(),
              admin.run({"GET", key}).c_str(), admin.run({"TTL", key}).c_str());
  std::printf("MEMORY USAGE of one revoked-jti key: %s bytes\n",
              admin.run({"MEMORY", "USAGE", key, "SAMPLES", "0"}).c_str());

  std::vector<std::string> ids;
  ids.reserve(static_cast<std::size_t>(revocations));
  for (int i = 0; i < revocations; ++i) ids.push_back(random_id(rng));
  const long long before = admin.used_memory();
  const auto t0 = Clock::now();
  for (const auto& id : ids) must(store->revoke_token(id, exp), "revoke_token");
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const long long after = admin.used_memory();
  std::printf("INFO used_memory delta over %d revocations: %lld bytes = %.1f bytes per jti\n",
              revocations, after - before,
              static_cast<double>(after - before) / revocations);
  std::printf("sequential revoke_token (1 thread, 1 round trip each): %.0f/s\n",
              revocations / secs);

  // Other entries, for comparison.
  must(store->mark_refresh_used(one, exp), "mark_refresh_used");
  std::printf("MEMORY USAGE of one used-refresh key: %s bytes\n",
              admin.run({"MEMORY", "USAGE", options.key_prefix + "rt:" + one, "SAMPLES", "0"})
                  .c_str());
  must(store->revoke_subject("user-1234", clock->now(), exp), "revoke_subject");
  std::printf("MEMORY USAGE of one subject not-before key: %s bytes\n",
              admin.run({"MEMORY", "USAGE", options.key_prefix + "sub:{s:user-1234}:nbf",
                         "SAMPLES", "0"})
                  .c_str());
  for (int i = 0; i < 5; ++i) must(store->add_session("user-5678", random_id(rng), exp), "add");
  std::printf("MEMORY USAGE of a sessions set with 5 sessions: %s bytes\n",
              admin.run({"MEMORY", "USAGE", options.key_prefix + "sub:{s:user-5678}:sessions",
                         "SAMPLES", "0"})
                  .c_str());

  // --- verify-with-revocation throughput ------------------------------------------------
  jwtkit::EngineOptions eo;
  eo.issuer = "https://issuer.example";
  eo.audiences = {"api"};
  eo.signing_alg = jwtkit::Alg::ES256;
  eo.clock = clock;
  auto redis_keys = must(jwtkit::RedisKeyStore::open(options), "open key store");
  auto redis_engine = must(jwtkit::Engine::create(redis_keys, store, eo), "engine (redis)");
  auto memory_engine = must(jwtkit::Engine::create(std::make_shared<jwtkit::MemoryKeyStore>(),
                                                   std::make_shared<jwtkit::MemoryRevocationStore>(clock),
                                                   eo),
                            "engine (memory)");
  const std::string redis_token = must(redis_engine.issue_access("user-1"), "issue");
  const std::string memory_token = must(memory_engine.issue_access("user-1"), "issue");
  std::printf("verify_access, ES256, %d calls per row (build: %s):\n", verifications,
#ifdef NDEBUG
              "optimized"
#else
              "debug, unoptimized"
#endif
  );
  for (int threads : {1, 2, 4}) {
    const int per = verifications / threads;
    const Rate m = measure(threads, per, [&] { return memory_engine.verify_access(memory_token).ok(); });
    const Rate r = measure(threads, per, [&] { return redis_engine.verify_access(redis_token).ok(); });
    const jwtkit::TokenRef ref{"some-jti", "user-1", "", clock->now()};
    const Rate raw = measure(threads, per, [&] { return store->is_revoked(ref).ok(); });
    std::printf(
        "  %d thread(s): memory store %.0f/s (%.1f us each) | Redis store %.0f/s (%.1f us each)"
        " | Redis is_revoked alone %.0f/s (%.1f us each)\n",
        threads, m.per_second, m.mean_us, r.per_second, r.mean_us, raw.per_second,
        raw.mean_us);
  }
  return 0;
}
