#include "common.hpp"

#include <jwtkit/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace jwtkit_cli {

using jwtkit::Errc;
using jwtkit::Error;
using jwtkit::Result;

namespace {

// Key files, JWKS documents, claims and tokens are small; anything bigger is a mistake
// (or /dev/zero), so reading stops there instead of filling memory.
constexpr std::size_t kMaxInputBytes = 1024 * 1024;
// 9999-12-31T23:59:59Z: far enough for any token, small enough never to overflow.
constexpr std::int64_t kMaxUnixTime = 253402300799;

std::string errno_text(int err) { return std::strerror(err); }

Result<std::string> read_fd(int fd, const std::string& name) {
  std::string data;
  char buf[16 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error(Errc::io_error, "cannot read " + name + ": " + errno_text(errno));
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    if (data.size() > kMaxInputBytes) {
      return Error(Errc::io_error, name + " is larger than " + std::to_string(kMaxInputBytes) +
                                       " bytes; refusing to read it");
    }
  }
  return data;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

Result<jwtkit::Key> parse_key_text(std::string_view text) {
  std::string_view body = trim(text);
  if (!body.empty() && body.front() == '{') {
    auto doc = jwtkit::parse_json_strict(body, jwtkit::JsonLimits{64 * 1024, 16});
    if (!doc) return Error(Errc::malformed, "not a valid JWK: " + doc.error().message());
    if (doc->is_object() && doc->contains("keys")) {
      return Error(Errc::malformed, "this is a JWK Set, not a single key (use --jwks)");
    }
    return jwtkit::Key::from_jwk(*doc);
  }
  if (body.find("-----BEGIN ") != std::string_view::npos) return jwtkit::Key::from_pem(body);
  return Error(Errc::malformed,
               "neither a PEM key (\"-----BEGIN ...\") nor a JWK (a JSON object)");
}

}  // namespace

std::string exit_codes_help(std::string_view ok, std::string_view rejected) {
  std::string s = "Exit codes:\n  0  " + std::string(ok) + "\n";
  if (!rejected.empty()) s += "  1  " + std::string(rejected) + "\n";
  s += "  2  usage error (bad or missing options)\n"
       "  3  key, file or store error\n"
       "Errors are printed on stderr as \"error: <code>: <message>\", <code> being the stable\n"
       "jwtkit error name (expired, bad_signature, alg_not_allowed, io_error, ...).\n";
  return s;
}

int fail(int exit_code, const Error& error) {
  std::string line = "error: " + error.to_string() + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  return exit_code;
}

int usage_error(std::string message) {
  return fail(kExitUsage, Error(Errc::invalid_argument, std::move(message)));
}

void warn(std::string_view message) {
  std::string line = "warning: " + std::string(message) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

void print(std::string_view text) { std::fwrite(text.data(), 1, text.size(), stdout); }

std::string to_json_text(const nlohmann::json& value) {
  return value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {

// What a non-regular file is, for messages: "a directory", "a FIFO (named pipe)", ...
std::string file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

Error not_regular(const std::string& path, mode_t mode) {
  return Error(Errc::io_error,
               "cannot read '" + path + "': it is " + file_kind(mode) + ", not a regular file");
}

}  // namespace

Result<std::string> read_file(const std::string& path) {
  // Checked before opening, so that a device is never even opened...
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) return not_regular(path, st.st_mode);
  // ... and after, on what was opened. O_NONBLOCK: open() of a FIFO without a writer would
  // otherwise wait forever.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return Error(Errc::io_error, "cannot open '" + path + "': " + errno_text(errno));
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Error(Errc::io_error, "cannot read '" + path + "': " + errno_text(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return not_regular(path, st.st_mode);
  }
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    int err = errno;
    ::close(fd);
    return Error(Errc::io_error, "cannot read '" + path + "': " + errno_text(err));
  }
  auto data = read_fd(fd, "'" + path + "'");
  ::close(fd);
  return data;
}

Result<std::string> read_stdin() { return read_fd(STDIN_FILENO, "standard input"); }

Result<void> write_private_file(const std::string& path, std::string_view data,
                                bool overwrite) {
  auto io_error = [&path](const std::string& what, int err) {
    return Error(Errc::io_error, what + " '" + path + "': " + errno_text(err));
  };
  auto refuse = [&path](const std::string& why) {
    return Error(Errc::io_error, "refusing to write '" + path + "': " + why);
  };
  auto exists_error = [&] {
    return refuse("it already exists (pass --force to replace it)");
  };
  // What is at `path` is looked at (lstat: a symlink itself), never opened or chmod'ed.
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode)) return refuse("it is a symbolic link");
    if (!S_ISREG(st.st_mode)) {
      return refuse("it is " + file_kind(st.st_mode) + ", not a regular file");
    }
    if (!overwrite) return exists_error();
  } else if (errno != ENOENT) {
    return io_error("cannot create", errno);
  }

  // A temporary file next to it (rename() is atomic only within one file system).
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0                ? "/"
                                                      : path.substr(0, slash);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty()) return refuse("it names a directory, not a file");
  std::random_device random;
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, ".tmp-%08x%08x", random(), random());
    tmp = (dir == "/" ? "/" : dir + "/") + "." + base + suffix;
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) return io_error("cannot create", errno);
  }
  if (fd < 0) return io_error("cannot create a temporary file for", EEXIST);

  auto failed = [&](const std::string& what, int err) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    return io_error(what, err);
  };
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return failed("cannot write", errno);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return failed("cannot sync", errno);
  int closed = ::close(fd);
  fd = -1;
  if (closed != 0) return failed("cannot close", errno);

  if (overwrite) {
    if (::rename(tmp.c_str(), path.c_str()) != 0) return failed("cannot create", errno);
  } else if (::link(tmp.c_str(), path.c_str()) == 0) {
    // link() never replaces: a file that appeared since the check above is kept.
    ::unlink(tmp.c_str());
  } else if (errno == EEXIST) {
    ::unlink(tmp.c_str());
    return exists_error();
  } else if (errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP || errno == EMLINK) {
    // A file system without hard links: rename() after a second look.
    if (::lstat(path.c_str(), &st) == 0) {
      ::unlink(tmp.c_str());
      return exists_error();
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) return failed("cannot create", errno);
  } else {
    return failed("cannot create", errno);
  }

  // The new directory entry is durable only once the directory itself is synced.
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    int rc = ::fsync(dir_fd);
    int err = errno;
    ::close(dir_fd);
    if (rc != 0 && err != EINVAL) return io_error("cannot sync the directory of", err);
  }
  return jwtkit::ok();
}

Result<void> check_key_directory(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return Error(Errc::io_error, "key directory '" + dir + "' does not exist");
    }
    return Error(Errc::io_error, "key directory '" + dir + "': " + errno_text(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Error(Errc::io_error, "key directory '" + dir + "' is not a directory");
  }
  return jwtkit::ok();
}

Result<jwtkit::Key> load_key_file(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  auto key = parse_key_text(*text);
  if (!key) return Error(key.error().code(), "key file '" + path + "': " + key.error().message());
  return key;
}

Result<jwtkit::Key> load_secret_file(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  auto key = jwtkit::Key::from_secret(*text);
  if (!key) {
    return Error(key.error().code(), "secret file '" + path + "': " + key.error().message());
  }
  return key;
}

Result<jwtkit::JwkSet> load_jwks_file(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  auto set = jwtkit::JwkSet::parse(*text);
  if (!set) {
    return Error(set.error().code(), "JWKS file '" + path + "': " + set.error().message());
  }
  for (const auto& skipped : set->skipped()) {
    std::string name = "#" + std::to_string(skipped.index);
    if (!skipped.kid.empty()) name += " (kid \"" + skipped.kid + "\")";
    warn("JWKS file '" + path + "': key " + name + " skipped: " + skipped.reason);
  }
  if (set->empty()) {
    return Error(Errc::key_not_found, "JWKS file '" + path + "' has no usable key");
  }
  return set;
}

Result<jwtkit::Alg> parse_one_alg(std::string_view name) {
  if (auto alg = jwtkit::parse_alg(name)) return *alg;
  if (name == "none" || name == "None" || name == "NONE") {
    return Error(Errc::invalid_argument, "alg 'none' (an unsecured JWS) is never accepted");
  }
  std::string known;
  for (auto alg : jwtkit::kAllAlgs) {
    if (!known.empty()) known += ", ";
    known += jwtkit::to_string(alg);
  }
  return Error(Errc::invalid_argument,
               "unknown algorithm '" + std::string(name) + "' (known: " + known + ")");
}

std::vector<std::string> split_list(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& value : values) {
    std::size_t start = 0;
    while (start <= value.size()) {
      std::size_t comma = value.find(',', start);
      if (comma == std::string::npos) comma = value.size();
      if (comma > start) out.push_back(value.substr(start, comma - start));
      start = comma + 1;
    }
  }
  return out;
}

Result<std::vector<jwtkit::Alg>> parse_alg_list(const std::vector<std::string>& values) {
  std::vector<jwtkit::Alg> algs;
  for (const auto& name : split_list(values)) {
    auto alg = parse_one_alg(name);
    if (!alg) return alg.error();
    algs.push_back(*alg);
  }
  if (algs.empty()) return Error(Errc::invalid_argument, "--alg names no algorithm");
  return algs;
}

namespace {

// Digits only, no sign, no overflow past `max`.
bool parse_uint(std::string_view digits, std::int64_t max, std::int64_t& out) {
  if (digits.empty()) return false;
  std::int64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    int d = c - '0';
    if (v > (max - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

}  // namespace

Result<std::chrono::seconds> parse_duration(std::string_view text) {
  std::int64_t unit = 1;
  std::string_view digits = text;
  if (!text.empty() && (text.back() < '0' || text.back() > '9')) {
    switch (text.back()) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86400; break;
      default: unit = 0; break;  // an unknown suffix: refused below
    }
    digits.remove_suffix(1);
  }
  constexpr std::int64_t kMaxSeconds = 100LL * 366 * 86400;  // a century is plenty
  std::int64_t n = 0;
  if (unit == 0 || !parse_uint(digits, kMaxSeconds / unit, n)) {
    return Error(Errc::invalid_argument, "bad duration '" + std::string(text) +
                                             "' (expected e.g. 900, 45s, 15m, 1h, 30d)");
  }
  return std::chrono::seconds(n * unit);
}

Result<std::int64_t> parse_integer(std::string_view text, std::int64_t max) {
  std::int64_t n = 0;
  if (!parse_uint(text, max, n)) {
    return Error(Errc::invalid_argument, "bad number '" + std::string(text) + "' (expected 0.." +
                                             std::to_string(max) + ")");
  }
  return n;
}

Result<std::int64_t> parse_unix_time(std::string_view text) {
  std::int64_t t = 0;
  if (!parse_uint(text, kMaxUnixTime, t)) {
    return Error(Errc::invalid_argument,
                 "bad Unix time '" + std::string(text) + "' (expected seconds since 1970)");
  }
  return t;
}

Result<jwtkit::TimePoint> command_now(const Args& args) {
  if (auto now = args.get("now")) {
    auto t = parse_unix_time(*now);
    if (!t) return Error(Errc::invalid_argument, "--now: " + t.error().message());
    return jwtkit::from_unix(*t);
  }
  return jwtkit::SystemClock().now();
}

Result<std::string> read_token(const Args& args) {
  const auto& pos = args.positionals();
  std::string token;
  if (!pos.empty() && pos.front() != "-") {
    token = pos.front();
  } else {
    if (pos.empty() && ::isatty(STDIN_FILENO) == 1) {
      return Error(Errc::invalid_argument,
                   "no token given: pass TOKEN, or '-' to read it from standard input");
    }
    auto in = read_stdin();
    if (!in) return in.error();
    token = std::string(trim(*in));
  }
  if (token.empty()) return Error(Errc::malformed, "the token is empty");
  return token;
}

Result<nlohmann::json> read_json_argument(const std::string& value, std::string_view what) {
  std::string text;
  if (value == "-") {
    auto in = read_stdin();
    if (!in) return in.error();
    text = std::move(*in);
  } else if (!value.empty() && value.front() == '@') {
    auto file = read_file(value.substr(1));
    if (!file) return file.error();
    text = std::move(*file);
  } else {
    text = value;
  }
  auto doc = jwtkit::parse_json_strict(trim(text), jwtkit::JsonLimits{64 * 1024, 16});
  if (!doc) {
    return Error(Errc::invalid_argument,
                 std::string(what) + " is not valid JSON: " + doc.error().message());
  }
  return doc;
}

}  // namespace jwtkit_cli
