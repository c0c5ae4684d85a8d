// Test support for jwtkit::redis: the ctest fixture's server, private servers for fault tests,
// a raw hiredis admin connection, and fresh key prefixes.
#pragma once

#include "catch.hpp"
#include "support/result_check.hpp"

#include <jwtkit/redis/options.hpp>

#include <hiredis/hiredis.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace jwtkit_redis_test {

/// Exit code that ctest reports as "skipped" for the Redis tests (SKIP_RETURN_CODE).
inline constexpr int kSkipExitCode = 77;

inline std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

inline bool file_exists(const std::string& path) { return std::ifstream(path).good(); }

/// A running redis-server: its URL, port and Unix socket.
struct ServerInfo {
  std::string dir;
  std::string url;
  int port = 0;
  std::string socket;
};

inline ServerInfo read_server_info(const std::string& dir) {
  ServerInfo s;
  s.dir = dir;
  s.url = read_first_line(dir + "/url");
  const std::string port = read_first_line(dir + "/port");
  s.port = port.empty() ? 0 : std::stoi(port);
  s.socket = read_first_line(dir + "/socket");
  return s;
}

/// The server started by the ctest fixture (JWTKIT_REDIS_FIXTURE_DIR). When the fixture was
/// skipped because redis-server is missing, the whole test process exits with
/// kSkipExitCode, which ctest reports as skipped: the test never passes silently.
inline const ServerInfo& fixture_server() {
  static const ServerInfo info = [] {
    const char* dir = std::getenv("JWTKIT_REDIS_FIXTURE_DIR");
    if (dir == nullptr || *dir == '\0') {
      std::cerr << "JWTKIT_REDIS_FIXTURE_DIR is not set: run this test through ctest\n";
      std::exit(1);
    }
    if (file_exists(std::string(dir) + "/skip")) {
      std::cerr << "redis-server is not installed: skipping\n";
      std::exit(kSkipExitCode);
    }
    ServerInfo s = read_server_info(dir);
    if (s.url.empty()) {
      std::cerr << "the Redis fixture did not start (no " << dir << "/url)\n";
      std::exit(1);
    }
    return s;
  }();
  return info;
}

/// A key prefix no other test uses.
inline std::string unique_prefix() {
  static std::atomic<int> counter{0};
  return "jwtkit-test:" + std::to_string(::getpid()) + ":" + std::to_string(++counter) + ":";
}

/// Options for `url` with a fresh key prefix.
inline jwtkit::RedisOptions options_for(const std::string& url) {
  auto o = jwtkit::RedisOptions::from_url(url);
  REQUIRE(jwtkit_test::status(o) == "ok");
  jwtkit::RedisOptions options = *o;
  options.key_prefix = unique_prefix();
  // Generous: tests that are not about timeouts must not fail on a loaded (or sanitized) run.
  options.connect_timeout = std::chrono::milliseconds(5000);
  options.command_timeout = std::chrono::milliseconds(5000);
  options.pool_wait_timeout = std::chrono::milliseconds(5000);
  return options;
}

/// Runs the fixture script; returns its exit status.
inline int run_fixture_script(const std::string& command, const std::string& dir,
                              const std::string& extra = "") {
  const std::string cmd = std::string("bash '") + JWTKIT_REDIS_FIXTURE_SCRIPT + "' " + command +
                          " '" + dir + "' " + extra + " >/dev/null";
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/// A redis-server of one test's own (for faults: stop, restart, pause), stopped at the end.
class PrivateServer {
 public:
  /// `extra`: more redis-server arguments, already shell-quoted.
  explicit PrivateServer(const std::string& extra = "") {
    fixture_server();  // skip like every Redis test when there is no redis-server
    static std::atomic<int> n{0};
    dir_ = std::string(JWTKIT_TEST_TMPDIR) + "/redis-private-" + std::to_string(::getpid()) +
           "-" + std::to_string(++n);
    if (run_fixture_script("start", dir_, extra) != 0) {
      throw std::runtime_error("could not start a private redis-server in " + dir_);
    }
    info_ = read_server_info(dir_);
  }
  ~PrivateServer() { static_cast<void>(run_fixture_script("stop", dir_)); }
  PrivateServer(const PrivateServer&) = delete;
  PrivateServer& operator=(const PrivateServer&) = delete;

  void stop() { REQUIRE(run_fixture_script("stop", dir_) == 0); }
  /// Starts again on the same port (with an empty dataset: there is no persistence).
  void restart() { REQUIRE(run_fixture_script("restart", dir_) == 0); }
  const ServerInfo& info() const { return info_; }
  const std::string& url() const { return info_.url; }

 private:
  std::string dir_;
  ServerInfo info_;
};

/// A raw hiredis connection for test set-up and inspection (never used by the stores).
class Admin {
 public:
  explicit Admin(const ServerInfo& server, int timeout_ms = 5000) {
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ctx_ = redisConnectWithTimeout("127.0.0.1", server.port, tv);
    REQUIRE(ctx_ != nullptr);
    INFO("admin connection: " << ctx_->errstr);
    REQUIRE(ctx_->err == 0);
    REQUIRE(redisSetTimeout(ctx_, tv) == REDIS_OK);
  }
  ~Admin() {
    if (ctx_ != nullptr) redisFree(ctx_);
  }
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  /// Runs a command; returns the reply as text: strings and status as is, integers in
  /// decimal, nil as "(nil)", errors as "ERR: ...", arrays as one line per element.
  std::string run(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.c_str());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()));
    INFO("admin command " << args.at(0) << ": " << ctx_->errstr);
    REQUIRE(r != nullptr);
    std::string out = text(r);
    freeReplyObject(r);
    return out;
  }

  long long integer(const std::vector<std::string>& args) {
    const std::string s = run(args);
    INFO("reply: " << s);
    REQUIRE(!s.empty());
    REQUIRE(s.find_first_not_of("-0123456789") == std::string::npos);
    return std::stoll(s);
  }

  /// A field of INFO <section>, e.g. info_field("memory", "used_memory").
  std::string info_field(const std::string& section, const std::string& field) {
    std::istringstream in(run({"INFO", section}));
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.rfind(field + ":", 0) == 0) return line.substr(field.size() + 1);
    }
    return {};
  }

 private:
  static std::string text(const redisReply* r) {
    switch (r->type) {
      case REDIS_REPLY_STRING:
      case REDIS_REPLY_STATUS: return std::string(r->str, r->len);
      case REDIS_REPLY_ERROR: return "ERR: " + std::string(r->str, r->len);
      case REDIS_REPLY_INTEGER: return std::to_string(r->integer);
      case REDIS_REPLY_NIL: return "(nil)";
      case REDIS_REPLY_ARRAY: {
        std::string out;
        for (size_t i = 0; i < r->elements; ++i) out += text(r->element[i]) + "\n";
        return out;
      }
      default: return "(unknown)";
    }
  }
  redisContext* ctx_ = nullptr;
};

/// Milliseconds taken by f().
template <class F>
long long elapsed_ms(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               t0)
      .count();
}

}  // namespace jwtkit_redis_test
