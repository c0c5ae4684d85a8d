#include "client.hpp"

#include <openssl/evp.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <pthread.h>
#include <sys/time.h>
#include <time.h>

namespace jwtkit::redis_detail {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms.count() % 1000) * 1000);
  return tv;
}

std::string endpoint_of(const RedisOptions& o) {
  if (o.transport == RedisOptions::Transport::unix_socket) return "unix://" + o.socket_path;
  const bool v6 = o.host.find(':') != std::string::npos;
  return (v6 ? "[" + o.host + "]" : o.host) + ":" + std::to_string(o.port);
}

Error unavailable(std::string message, std::error_code cause = {}) {
  return Error(Errc::store_unavailable, std::move(message), cause);
}

std::string reply_text(const redisReply* r) {
  if (r->str == nullptr) return {};
  return std::string(r->str, r->len);
}

std::string sha1_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha1(), nullptr) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xf]);
  }
  return out;
}

// Keeps SIGPIPE from a write on a reset connection away from the process (whose default
// action is to die): blocked in this thread for the duration of one hiredis call, and
// consumed if the call raised it. Linux has no per-socket switch for it, and hiredis 0.14
// does not pass MSG_NOSIGNAL.
class SigpipeBlock {
 public:
  SigpipeBlock() noexcept {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    was_pending_ = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    blocked_ = pthread_sigmask(SIG_BLOCK, &pipe_, &old_) == 0;
  }
  ~SigpipeBlock() {
    if (!blocked_) return;
    const int saved_errno = errno;
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
        const timespec zero{0, 0};
        while (sigtimedwait(&pipe_, nullptr, &zero) == -1 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    errno = saved_errno;
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
  bool blocked_ = false;
};

std::string_view type_name(int type) {
  switch (type) {
    case REDIS_REPLY_STRING: return "string";
    case REDIS_REPLY_ARRAY: return "array";
    case REDIS_REPLY_INTEGER: return "integer";
    case REDIS_REPLY_NIL: return "nil";
    case REDIS_REPLY_STATUS: return "status";
    case REDIS_REPLY_ERROR: return "error";
    default: return "unknown";
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Connection

Result<std::unique_ptr<Connection>> Connection::open(const RedisOptions& o) {
  if (auto v = o.validate(); !v) return std::move(v).error();
  const std::string endpoint = endpoint_of(o);
  const timeval connect_tv = to_timeval(o.connect_timeout);
  errno = 0;
  redisContext* raw = o.transport == RedisOptions::Transport::unix_socket
                          ? redisConnectUnixWithTimeout(o.socket_path.c_str(), connect_tv)
                          : redisConnectWithTimeout(o.host.c_str(), o.port, connect_tv);
  const int saved_errno = errno;
  if (raw == nullptr) return unavailable("cannot connect to Redis at " + endpoint + ": out of memory");
  std::unique_ptr<redisContext, ContextDeleter> ctx(raw);
  if (ctx->err != 0) {
    return unavailable("cannot connect to Redis at " + endpoint + ": " + ctx->errstr,
                       std::error_code(saved_errno, std::generic_category()));
  }
  // Bounds every later read and write (SO_RCVTIMEO / SO_SNDTIMEO).
  if (redisSetTimeout(ctx.get(), to_timeval(o.command_timeout)) != REDIS_OK) {
    return unavailable("cannot set the command timeout on the Redis connection to " + endpoint +
                       ": " + ctx->errstr);
  }
  if (o.transport == RedisOptions::Transport::tcp) {
    // Finds dead peers of idle pooled connections; failure only loses that, so it is ignored.
    static_cast<void>(redisEnableKeepAlive(ctx.get()));
  }
  std::unique_ptr<Connection> conn(new Connection(std::move(ctx), endpoint, o.command_timeout));

  if (!o.user.empty() || !o.password.empty()) {
    Args auth = o.user.empty() ? Args{"AUTH", o.password} : Args{"AUTH", o.user, o.password};
    auto r = conn->send(auth);
    if (!r) return std::move(r).error();
    const std::string who = o.user.empty() ? "the default user" : "user '" + o.user + "'";
    if ((*r)->type == REDIS_REPLY_ERROR) {
      return unavailable("Redis at " + endpoint + " refused AUTH as " + who + ": " +
                         reply_text(r->get()));
    }
    if (auto s = check_status_ok(*r, "AUTH"); !s) return std::move(s).error();
  }
  if (o.db != 0) {
    const std::string db = std::to_string(o.db);
    auto r = conn->send({"SELECT", db});
    if (!r) return std::move(r).error();
    if ((*r)->type == REDIS_REPLY_ERROR) {
      return unavailable("Redis at " + endpoint + " refused SELECT " + db + ": " +
                         reply_text(r->get()));
    }
    if (auto s = check_status_ok(*r, "SELECT"); !s) return std::move(s).error();
  }
  if (!o.client_name.empty()) {
    auto r = conn->send({"CLIENT", "SETNAME", o.client_name});
    if (!r) return std::move(r).error();
    if (auto s = check_status_ok(*r, "CLIENT SETNAME"); !s) return std::move(s).error();
  }
  conn->used_ = false;  // the setup commands do not count: the connection is fresh
  return conn;
}

Error Connection::fail(std::string_view command, int saved_errno) {
  broken_ = true;
  const int err = ctx_->err;
  const bool io = err == REDIS_ERR_IO;
  bool timed_out = io && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK ||
                          saved_errno == ETIMEDOUT);
#ifdef REDIS_ERR_TIMEOUT
  timed_out = timed_out || err == REDIS_ERR_TIMEOUT;  // hiredis >= 1.1
#endif
  closed_by_server_ = err == REDIS_ERR_EOF ||
                      (io && (saved_errno == ECONNRESET || saved_errno == EPIPE ||
                              saved_errno == ECONNABORTED));
  std::string what;
  if (timed_out) {
    what = "no reply within the command timeout (" + std::to_string(timeout_.count()) + " ms)";
  } else if (closed_by_server_) {
    what = std::string("connection closed by the server (") + ctx_->errstr + ")";
  } else {
    what = ctx_->errstr[0] != '\0' ? std::string(ctx_->errstr) : std::string("I/O error");
  }
  return unavailable("Redis " + std::string(command) + " at " + endpoint_ + " failed: " + what,
                     io && saved_errno != 0 ? std::error_code(saved_errno, std::generic_category())
                                            : std::error_code());
}

Result<Reply> Connection::send(const Args& args) {
  if (broken_) return unavailable("internal: a broken Redis connection was reused");
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (auto a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  const SigpipeBlock no_sigpipe;
  errno = 0;
  void* raw = redisCommandArgv(ctx_.get(), static_cast<int>(argv.size()), argv.data(),
                               lens.data());
  const int saved_errno = errno;
  Reply reply(static_cast<redisReply*>(raw));
  if (!reply || ctx_->err != 0) return fail(args.empty() ? "command" : args[0], saved_errno);
  used_ = true;
  return reply;
}

Result<std::vector<Reply>> Connection::pipeline(const std::vector<Args>& commands) {
  if (broken_) return unavailable("internal: a broken Redis connection was reused");
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto& args : commands) {
    argv.clear();
    lens.clear();
    for (auto a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_.get(), static_cast<int>(argv.size()), argv.data(),
                               lens.data()) != REDIS_OK) {
      return fail(args.empty() ? "command" : args[0], errno);
    }
  }
  const SigpipeBlock no_sigpipe;  // redisGetReply writes the buffered commands
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (const auto& args : commands) {
    void* raw = nullptr;
    errno = 0;
    const int rc = redisGetReply(ctx_.get(), &raw);
    const int saved_errno = errno;
    Reply reply(static_cast<redisReply*>(raw));
    if (rc != REDIS_OK || !reply || ctx_->err != 0) {
      return fail(args.empty() ? "command" : args[0], saved_errno);
    }
    replies.push_back(std::move(reply));
  }
  used_ = true;
  return replies;
}

// ---------------------------------------------------------------------------------------------
// Pool

Pool::~Pool() = default;

Result<void> Pool::warm_up() {
  auto conn = acquire(std::chrono::steady_clock::now() + options_.pool_wait_timeout, true);
  if (!conn) return std::move(conn).error();
  // PING also finds a server that wants a password none was given for (NOAUTH).
  auto r = (*conn)->send({"PING"});
  Result<void> result = ok();
  if (!r) {
    result = std::move(r).error();
  } else if ((*r)->type != REDIS_REPLY_STATUS || reply_text(r->get()) != "PONG") {
    result = unexpected_reply("PING", r->get());
  }
  release(std::move(*conn));
  return result;
}

Result<std::unique_ptr<Connection>> Pool::acquire(std::chrono::steady_clock::time_point deadline,
                                                  bool fresh) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (!fresh && !idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
    if (open_ < options_.pool_size) {
      ++open_;
      const std::uint64_t generation = generation_;
      lock.unlock();
      auto c = Connection::open(options_);  // outside the lock: bounded by connect_timeout
      if (!c) {
        lock.lock();
        --open_;
        cv_.notify_one();
        return std::move(c).error();
      }
      (*c)->generation = generation;
      return c;
    }
    if (fresh && !idle_.empty()) {
      // Full, but an idle connection can make room for a new one.
      idle_.pop_back();
      --open_;
      continue;
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout &&
        (fresh || idle_.empty()) && open_ >= options_.pool_size) {
      return unavailable("no free Redis connection within " +
                         std::to_string(options_.pool_wait_timeout.count()) +
                         " ms (pool_size " + std::to_string(options_.pool_size) +
                         ", all in use)");
    }
  }
}

void Pool::release(std::unique_ptr<Connection> conn) {
  std::vector<std::unique_ptr<Connection>> to_close;  // closed outside the lock
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!conn->healthy() && conn->closed_by_server()) {
      // The server went away: the idle connections are most likely dead too.
      ++generation_;
      open_ -= idle_.size();
      to_close = std::move(idle_);
      idle_.clear();
    }
    if (conn->healthy() && conn->generation == generation_) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
      to_close.push_back(std::move(conn));
    }
  }
  cv_.notify_all();
}

// ---------------------------------------------------------------------------------------------
// Scripts and replies

Script::Script(std::string_view source) : source_(source), sha1_(sha1_hex(source)) {}

Result<Reply> Script::run(Connection& c, const Args& keys, const Args& args) const {
  const std::string numkeys = std::to_string(keys.size());
  Args argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back(sha1_.empty() ? "EVAL" : "EVALSHA");
  argv.push_back(sha1_.empty() ? std::string_view(source_) : std::string_view(sha1_));
  argv.push_back(numkeys);
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = c.send(argv);
  if (!r || sha1_.empty()) return r;
  if ((*r)->type == REDIS_REPLY_ERROR && reply_text(r->get()).rfind("NOSCRIPT", 0) == 0) {
    argv[0] = "EVAL";
    argv[1] = source_;
    return c.send(argv);
  }
  return r;
}

Error unexpected_reply(std::string_view what, const redisReply* reply) {
  if (reply->type == REDIS_REPLY_ERROR) {
    return unavailable("Redis " + std::string(what) + " failed: " + reply_text(reply));
  }
  std::string msg = "unexpected Redis reply to " + std::string(what) + ": " +
                    std::string(type_name(reply->type));
  if (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS) {
    msg += " '" + reply_text(reply).substr(0, 64) + "'";
  } else if (reply->type == REDIS_REPLY_INTEGER) {
    msg += " " + std::to_string(reply->integer);
  }
  return unavailable(std::move(msg));
}

Result<Reply> check_not_error(Reply reply, std::string_view what) {
  if (reply->type == REDIS_REPLY_ERROR) return unexpected_reply(what, reply.get());
  return reply;
}

Result<void> check_status_ok(const Reply& reply, std::string_view what) {
  if (reply->type == REDIS_REPLY_STATUS && reply_text(reply.get()) == "OK") return ok();
  return unexpected_reply(what, reply.get());
}

Result<long long> check_integer(const Reply& reply, std::string_view what) {
  if (reply->type == REDIS_REPLY_INTEGER) return reply->integer;
  return unexpected_reply(what, reply.get());
}

Result<std::optional<std::string>> check_string_or_nil(const redisReply* reply,
                                                       std::string_view what) {
  if (reply->type == REDIS_REPLY_NIL) return std::optional<std::string>();
  if (reply->type == REDIS_REPLY_STRING) return std::optional<std::string>(reply_text(reply));
  return unexpected_reply(what, reply);
}

Result<const redisReply*> check_array(const Reply& reply, std::string_view what) {
  if (reply->type == REDIS_REPLY_ARRAY) return static_cast<const redisReply*>(reply.get());
  return unexpected_reply(what, reply.get());
}

std::optional<std::int64_t> parse_int64(std::string_view s) noexcept {
  std::int64_t v = 0;
  if (s.empty()) return std::nullopt;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace jwtkit::redis_detail
