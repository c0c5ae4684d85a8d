// Private to jwtkit::redis: hiredis connections, a bounded thread-safe pool, checked replies.
// Uses only the hiredis API common to 0.14 and 1.x.
#pragma once

#include <jwtkit/redis/options.hpp>
#include <jwtkit/result.hpp>

#include <hiredis/hiredis.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace jwtkit::redis_detail {

struct ReplyDeleter {
  void operator()(redisReply* r) const noexcept {
    if (r != nullptr) freeReplyObject(r);
  }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

/// One command: each argument is sent as its own binary-safe argv entry, so untrusted
/// strings are never parsed as part of a command.
using Args = std::vector<std::string_view>;

/// One hiredis connection, set up (AUTH, SELECT) and used by one thread at a time.
class Connection {
 public:
  /// Connects, sets the command timeout, authenticates and selects the database.
  static Result<std::unique_ptr<Connection>> open(const RedisOptions& options);

  /// Sends one command and reads its reply. The reply may be a Redis error reply: the
  /// caller decides (see the check_* helpers). Errors (the connection is then broken):
  /// store_unavailable for I/O errors, timeouts and a closed connection.
  Result<Reply> send(const Args& args);

  /// Sends several commands in one round trip and reads every reply.
  Result<std::vector<Reply>> pipeline(const std::vector<Args>& commands);

  /// False once an I/O error, a timeout or a protocol error happened: never reuse it.
  bool healthy() const noexcept { return !broken_; }
  /// The last failure was the server closing the connection (it restarted, or killed us).
  bool closed_by_server() const noexcept { return closed_by_server_; }
  /// Has completed at least one command for a caller (so it may have gone stale while idle).
  bool used() const noexcept { return used_; }

  std::uint64_t generation = 0;

 private:
  struct ContextDeleter {
    void operator()(redisContext* c) const noexcept {
      if (c != nullptr) redisFree(c);
    }
  };
  Connection(std::unique_ptr<redisContext, ContextDeleter> ctx, std::string endpoint,
             std::chrono::milliseconds timeout) noexcept
      : ctx_(std::move(ctx)), endpoint_(std::move(endpoint)), timeout_(timeout) {}
  Error fail(std::string_view command, int saved_errno);

  std::unique_ptr<redisContext, ContextDeleter> ctx_;
  std::string endpoint_;
  std::chrono::milliseconds timeout_;
  bool broken_ = false;
  bool closed_by_server_ = false;
  bool used_ = false;
};

/// A bounded pool of connections, shared by the threads of one store. Thread-safe.
/// Waiting for a free connection is bounded by pool_wait_timeout.
class Pool {
 public:
  explicit Pool(RedisOptions options) : options_(std::move(options)) {}
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  const RedisOptions& options() const noexcept { return options_; }

  /// Opens one connection now and keeps it, to report a bad address or bad credentials at
  /// once.
  Result<void> warm_up();

  /// Runs `fn(Connection&) -> Result<T>` on a pooled connection. When `idempotent` and the
  /// connection, taken idle from the pool, turns out closed by the server (a restart), the
  /// call is made once more on a new connection; a timeout is never retried.
  template <class T, class F>
  Result<T> run(bool idempotent, F&& fn) {
    const auto deadline = std::chrono::steady_clock::now() + options_.pool_wait_timeout;
    for (int attempt = 0;; ++attempt) {
      auto conn = acquire(deadline, attempt > 0);
      if (!conn.ok()) return std::move(conn).error();
      std::unique_ptr<Connection> c = std::move(*conn);
      const bool was_used = c->used();
      Result<T> r = fn(*c);
      const bool retry = !r.ok() && idempotent && attempt == 0 && was_used &&
                         !c->healthy() && c->closed_by_server();
      release(std::move(c));
      if (!retry) return r;
    }
  }

 private:
  Result<std::unique_ptr<Connection>> acquire(std::chrono::steady_clock::time_point deadline,
                                              bool fresh);
  void release(std::unique_ptr<Connection> conn);

  const RedisOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;  // idle + in use + being opened
  std::uint64_t generation_ = 0;
};

/// A Lua script, run with EVALSHA and, when the server does not have it (NOSCRIPT, e.g.
/// after a restart), with EVAL.
class Script {
 public:
  explicit Script(std::string_view source);
  Result<Reply> run(Connection& c, const Args& keys, const Args& args) const;

 private:
  std::string source_;
  std::string sha1_;  // empty if it could not be computed: always EVAL
};

// Checked replies. `what` names the command for the message. Every error is
// store_unavailable and says what Redis answered.
Result<Reply> check_not_error(Reply reply, std::string_view what);
Result<void> check_status_ok(const Reply& reply, std::string_view what);
Result<long long> check_integer(const Reply& reply, std::string_view what);
/// A bulk string, or nullopt for nil.
Result<std::optional<std::string>> check_string_or_nil(const redisReply* reply,
                                                       std::string_view what);
/// An array reply (its elements are checked by the caller).
Result<const redisReply*> check_array(const Reply& reply, std::string_view what);

/// A decimal int64 (the whole string), for values this library wrote.
std::optional<std::int64_t> parse_int64(std::string_view s) noexcept;

Error unexpected_reply(std::string_view what, const redisReply* reply);

}  // namespace jwtkit::redis_detail
