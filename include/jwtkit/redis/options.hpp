// How jwtkit::redis connects to Redis: options and their URL form.
#pragma once

#include <jwtkit/redis/export.hpp>
#include <jwtkit/result.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace jwtkit {

/// Where and how to reach one Redis server. A plain value type; thread-safe to share as const.
///
/// Worst-case time of one store call: pool_wait_timeout + 2 * (connect_timeout +
/// command_timeout) (one transparent retry on a fresh connection, only for idempotent
/// commands that failed on a connection the server had closed).
struct JWTKIT_REDIS_EXPORT RedisOptions {
  enum class Transport { tcp, unix_socket };

  Transport transport = Transport::tcp;
  std::string host = "127.0.0.1";
  int port = 6379;
  /// Path of the server's Unix socket (Transport::unix_socket).
  std::string socket_path;

  /// Redis ACL user. Empty: `AUTH <password>` (the default user) when a password is set.
  std::string user;
  /// Empty with an empty user: no AUTH at all.
  std::string password;
  /// Logical database (SELECT), 0 by default.
  int db = 0;
  /// rediss://. Needs hiredis built with TLS; this build refuses it with a clear error.
  bool tls = false;

  std::chrono::milliseconds connect_timeout{1000};
  /// Bound on each socket read or write of a command.
  std::chrono::milliseconds command_timeout{500};
  /// Bound on waiting for a free pooled connection when all `pool_size` are busy.
  std::chrono::milliseconds pool_wait_timeout{500};
  /// Most connections kept open at once (>= 1).
  std::size_t pool_size = 4;

  /// Prepended to every key, so several applications can share one Redis.
  std::string key_prefix = "jwtkit:";
  /// When set, each connection names itself (CLIENT SETNAME), to be found in CLIENT LIST.
  /// No spaces or newlines.
  std::string client_name;

  /// Parses `redis://[user:password@]host[:port][/db]`, `rediss://...` or
  /// `unix:///path/to.sock[?db=N]`. User and password may be percent-encoded; an IPv6 host is
  /// written in brackets. The other fields keep their defaults.
  /// Errors: invalid_argument, with a message saying what is wrong.
  static Result<RedisOptions> from_url(std::string_view url);

  /// The URL form, with the password replaced by "***" (for logs).
  std::string to_redacted_url() const;

  /// Checks the values (port, db, timeouts, pool size, TLS availability).
  /// Errors: invalid_argument.
  Result<void> validate() const;
};

/// True when this build can connect with TLS (hiredis with SSL support).
JWTKIT_REDIS_EXPORT bool redis_tls_supported() noexcept;

}  // namespace jwtkit
