// RedisOptions: URL parsing and validation.
#include <jwtkit/redis/options.hpp>

#include <cctype>
#include <charconv>
#include <optional>
#include <string>

namespace jwtkit {
namespace {

Error bad_url(std::string_view what) {
  return Error(Errc::invalid_argument, "invalid Redis URL: " + std::string(what));
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding (RFC 3986 section 2.1) of a user or password.
Result<std::string> percent_decode(std::string_view in, std::string_view what) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) {
      return bad_url("truncated percent escape in the " + std::string(what));
    }
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return bad_url("bad percent escape in the " + std::string(what));
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// A decimal number in [lo, hi], digits only (no sign, no spaces).
std::optional<long> parse_number(std::string_view s, long lo, long hi) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  long v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return v;
}

bool has_control_or_space(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return true;
  }
  return false;
}

constexpr long kMaxDb = 1'000'000;

// Parses "db=N" (the only query parameter), into `options.db`.
Result<void> parse_query(std::string_view query, RedisOptions& options) {
  if (query.empty()) return ok();
  if (query.substr(0, 3) != "db=") {
    return bad_url("unsupported query parameter in '?" + std::string(query) +
                   "' (only db=N is understood)");
  }
  const auto db = parse_number(query.substr(3), 0, kMaxDb);
  if (!db) return bad_url("database must be a non-negative number, got '" +
                          std::string(query.substr(3)) + "'");
  options.db = static_cast<int>(*db);
  return ok();
}

}  // namespace

Result<RedisOptions> RedisOptions::from_url(std::string_view url) {
  if (url.empty()) return bad_url("empty string");
  if (has_control_or_space(url)) return bad_url("contains spaces or control characters");
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) {
    return bad_url("'" + std::string(url.substr(0, 64)) +
                   "' has no scheme (expected redis://, rediss:// or unix://)");
  }
  const std::string_view scheme = url.substr(0, sep);
  std::string_view rest = url.substr(sep + 3);
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) {
    return bad_url("fragments ('#') are not allowed");
  }

  RedisOptions options;
  if (iequals(scheme, "unix")) {
    options.transport = Transport::unix_socket;
    std::string_view query;
    if (const auto q = rest.find('?'); q != std::string_view::npos) {
      query = rest.substr(q + 1);
      rest = rest.substr(0, q);
    }
    // unix:///path: empty authority, then an absolute path.
    if (rest.empty() || rest.front() != '/') {
      return bad_url("unix:// needs an absolute socket path, as in unix:///run/redis.sock");
    }
    if (rest.size() == 1 || rest.back() == '/') return bad_url("socket path names a directory");
    options.socket_path = std::string(rest);
    if (auto r = parse_query(query, options); !r) return std::move(r).error();
    return options;
  }
  if (iequals(scheme, "redis")) {
    options.tls = false;
  } else if (iequals(scheme, "rediss")) {
    options.tls = true;
  } else {
    return bad_url("unsupported scheme '" + std::string(scheme.substr(0, 32)) +
                   "' (expected redis://, rediss:// or unix://)");
  }

  // authority [ "/" db ] [ "?" query ]
  const auto auth_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, auth_end);
  std::string_view path;
  std::string_view query;
  if (auth_end != std::string_view::npos) {
    std::string_view tail = rest.substr(auth_end);
    if (const auto q = tail.find('?'); q != std::string_view::npos) {
      query = tail.substr(q + 1);
      tail = tail.substr(0, q);
    }
    path = tail;  // "" or "/..."
  }

  // userinfo: everything before the last '@' (a password may contain '@' only encoded, but
  // be lenient about it).
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      // redis://name@host: a user without a password (an ACL user with nopass).
      auto user = percent_decode(userinfo, "user name");
      if (!user) return std::move(user).error();
      if (user->empty()) return bad_url("empty user name before '@'");
      options.user = std::move(*user);
    } else {
      auto user = percent_decode(userinfo.substr(0, colon), "user name");
      if (!user) return std::move(user).error();
      auto password = percent_decode(userinfo.substr(colon + 1), "password");
      if (!password) return std::move(password).error();
      if (user->empty() && password->empty()) return bad_url("empty user and password before '@'");
      options.user = std::move(*user);
      options.password = std::move(*password);
    }
  }

  // host [ ":" port ], host possibly "[v6]".
  std::string_view host;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return bad_url("unterminated '[' in the host");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad_url("unexpected characters after ']'");
      port = after.substr(1);
      if (port.empty()) return bad_url("empty port after ':'");
    }
    if (host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos) {
      return bad_url("'" + std::string(host) + "' is not an IPv6 address");
    }
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return bad_url("empty port after ':'");
    }
    for (char c : host) {
      const bool allowed = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ||
                           c == '_';
      if (!allowed) {
        return bad_url("host '" + std::string(host.substr(0, 64)) +
                       "' contains a character not allowed in a host name");
      }
    }
  }
  if (host.empty()) return bad_url("no host (expected redis://host[:port][/db])");
  options.host = std::string(host);
  if (!port.empty()) {
    const auto p = parse_number(port, 1, 65535);
    if (!p) return bad_url("port must be a number from 1 to 65535, got '" + std::string(port) + "'");
    options.port = static_cast<int>(*p);
  }

  if (!path.empty()) {
    const std::string_view db = path.substr(1);
    if (!db.empty()) {
      const auto n = parse_number(db, 0, kMaxDb);
      if (!n) {
        return bad_url("the path must be a database number, as in redis://host:6379/2, got '" +
                       std::string(path.substr(0, 64)) + "'");
      }
      options.db = static_cast<int>(*n);
    }
  }
  if (auto r = parse_query(query, options); !r) return std::move(r).error();
  return options;
}

std::string RedisOptions::to_redacted_url() const {
  std::string url;
  if (transport == Transport::unix_socket) {
    url = "unix://" + socket_path;
    if (db != 0) url += "?db=" + std::to_string(db);
    return url;
  }
  url = tls ? "rediss://" : "redis://";
  if (!user.empty() || !password.empty()) {
    url += user;
    if (!password.empty()) url += ":***";
    url += "@";
  }
  url += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  url += ":" + std::to_string(port);
  if (db != 0) url += "/" + std::to_string(db);
  return url;
}

Result<void> RedisOptions::validate() const {
  auto bad = [](std::string what) {
    return Error(Errc::invalid_argument, "invalid Redis options: " + std::move(what));
  };
  if (transport == Transport::tcp) {
    if (host.empty()) return bad("empty host");
    if (port < 1 || port > 65535) return bad("port " + std::to_string(port) + " out of range");
  } else if (socket_path.empty()) {
    return bad("empty Unix socket path");
  }
  if (db < 0) return bad("negative database index");
  if (connect_timeout.count() <= 0) return bad("connect_timeout must be > 0");
  if (command_timeout.count() <= 0) return bad("command_timeout must be > 0");
  if (pool_wait_timeout.count() < 0) return bad("pool_wait_timeout must be >= 0");
  if (pool_size == 0) return bad("pool_size must be >= 1");
  if (has_control_or_space(client_name)) return bad("client_name contains spaces or control characters");
  if (tls && !redis_tls_supported()) {
    return Error(Errc::invalid_argument,
                 "TLS (rediss://) is not supported by this build of jwtkit::redis: hiredis "
                 "was built without SSL support");
  }
  return ok();
}

bool redis_tls_supported() noexcept { return false; }

}  // namespace jwtkit
