// Command-line parsing for the jwtkit tool: "--name VALUE" options, flags and positionals.
#pragma once

#include <jwtkit/result.hpp>

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jwtkit_cli {

/// One option a command accepts: "--name VALUE", or a flag when `value` is empty.
struct OptionSpec {
  std::string_view name;   ///< without the leading "--"
  std::string_view value;  ///< placeholder shown by --help; empty for a flag
  std::string_view help;
  bool repeatable = false;
};

/// The parsed command line of one command. Plain value type; not thread-safe to mutate.
class Args {
 public:
  bool has(std::string_view name) const { return values_.find(name) != values_.end(); }
  /// The value of an option given at most once (parse_args enforces that), if given.
  std::optional<std::string> get(std::string_view name) const;
  /// Every value of an option, in command-line order (empty when absent).
  std::vector<std::string> all(std::string_view name) const;
  const std::vector<std::string>& positionals() const noexcept { return positionals_; }
  /// True when -h or --help was given.
  bool help() const noexcept { return help_; }

 private:
  friend jwtkit::Result<Args> parse_args(const std::vector<std::string>& argv,
                                         const std::vector<OptionSpec>& specs,
                                         std::size_t max_positionals);
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
  std::vector<std::string> positionals_;
  bool help_ = false;
};

/// Parses the arguments after the command name. Accepts "--name VALUE" and "--name=VALUE";
/// "-" is a positional (standard input) and "--" ends the options. Errors: invalid_argument
/// naming the argument (unknown option, missing value, value on a flag, option repeated,
/// too many positionals).
jwtkit::Result<Args> parse_args(const std::vector<std::string>& argv,
                                const std::vector<OptionSpec>& specs, std::size_t max_positionals);

}  // namespace jwtkit_cli
