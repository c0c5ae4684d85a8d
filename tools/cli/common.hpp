// What every jwtkit command shares: exit codes, error output, files, keys, times, JSON output.
#pragma once

#include "args.hpp"

#include <jwtkit/alg.hpp>
#include <jwtkit/clock.hpp>
#include <jwtkit/error.hpp>
#include <jwtkit/jwk.hpp>
#include <jwtkit/key.hpp>
#include <jwtkit/result.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace jwtkit_cli {

/// The tool's exit codes (documented by every --help).
inline constexpr int kExitOk = 0;
inline constexpr int kExitRejected = 1;  ///< the token was rejected
inline constexpr int kExitUsage = 2;     ///< bad command line
inline constexpr int kExitFailure = 3;   ///< key, file or store error

/// The exit-code section every --help prints; `ok` says what success means for the command.
std::string exit_codes_help(std::string_view ok, std::string_view rejected = {});

/// Prints "error: <code>: <message>" on stderr and returns `exit_code`.
int fail(int exit_code, const jwtkit::Error& error);
/// A usage error: prints "error: invalid_argument: <message>" and returns kExitUsage.
int usage_error(std::string message);
/// Prints "warning: <message>" on stderr.
void warn(std::string_view message);

/// Writes to stdout; main() checks that stdout was written in full before exiting 0.
void print(std::string_view text);
/// JSON for humans and scripts: indented, invalid UTF-8 replaced rather than thrown on.
std::string to_json_text(const nlohmann::json& value);

/// The whole of a regular file (a FIFO, device or directory is refused rather than blocked
/// on or read forever). Errors: io_error naming the file and the reason.
jwtkit::Result<std::string> read_file(const std::string& path);
/// All of standard input. Errors: io_error.
jwtkit::Result<std::string> read_stdin();
/// Writes `data` to `path` as a new file of mode 0600: a temporary file in the same
/// directory (created exclusively, never through a symlink) is written, synced and renamed
/// into place, so a reader never sees a partial key and nothing that was at `path` is ever
/// opened or chmod'ed. An existing symlink or non-regular file at `path` is refused; an
/// existing regular file is replaced only when `overwrite`. Errors: io_error naming the file.
jwtkit::Result<void> write_private_file(const std::string& path, std::string_view data,
                                        bool overwrite);

/// Checks that `dir` is an existing directory. Errors: io_error saying that it does not
/// exist, or that it is not a directory.
jwtkit::Result<void> check_key_directory(const std::string& dir);

/// Loads a key from a PEM or JWK file, telling the two apart by content. Errors name the
/// file: io_error, or the key's own error (malformed, key_mismatch, unsupported_alg).
jwtkit::Result<jwtkit::Key> load_key_file(const std::string& path);
/// An HMAC key whose secret is the file's raw bytes.
jwtkit::Result<jwtkit::Key> load_secret_file(const std::string& path);
/// Loads a JWK Set file; keys that were skipped are reported as warnings. Errors name the file.
jwtkit::Result<jwtkit::JwkSet> load_jwks_file(const std::string& path);

/// "HS256,ES256" (values may repeat the option). "none" and unknown names: invalid_argument.
jwtkit::Result<std::vector<jwtkit::Alg>> parse_alg_list(const std::vector<std::string>& values);
jwtkit::Result<jwtkit::Alg> parse_one_alg(std::string_view name);
/// "900" (seconds), "45s", "15m", "1h", "30d". Errors: invalid_argument.
jwtkit::Result<std::chrono::seconds> parse_duration(std::string_view text);
/// A decimal integer in 0..max (no sign). Errors: invalid_argument.
jwtkit::Result<std::int64_t> parse_integer(std::string_view text, std::int64_t max);
/// A non-negative Unix time in seconds. Errors: invalid_argument.
jwtkit::Result<std::int64_t> parse_unix_time(std::string_view text);
/// Splits "a,b,c", dropping empty parts.
std::vector<std::string> split_list(const std::vector<std::string>& values);

/// The time a command works at: --now when given, else the system clock.
jwtkit::Result<jwtkit::TimePoint> command_now(const Args& args);

/// The token a command works on: the positional argument, or standard input for "-" or when
/// absent (surrounding whitespace trimmed). Errors: io_error, invalid_argument (empty).
jwtkit::Result<std::string> read_token(const Args& args);

/// A JSON value given as text, "@FILE" or "-" (standard input), parsed strictly.
jwtkit::Result<nlohmann::json> read_json_argument(const std::string& value, std::string_view what);

}  // namespace jwtkit_cli
