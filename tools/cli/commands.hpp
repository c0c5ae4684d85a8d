// The jwtkit tool's command table: one entry per command, each with its options and help.
#pragma once

#include "args.hpp"

#include <jwtkit/clock.hpp>
#include <jwtkit/result.hpp>
#include <jwtkit/revocation_store.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace jwtkit_cli {

/// One command of the tool. `run` returns the process exit code.
struct Command {
  std::string_view name;
  std::string_view synopsis;     ///< what follows "jwtkit <name>" in the usage line
  std::string_view summary;      ///< one line, for the tool's --help
  std::string_view description;  ///< the command's --help text before the options
  std::vector<OptionSpec> options;
  std::size_t max_positionals = 0;
  std::string exit_codes;        ///< the command's "Exit codes:" section
  int (*run)(const Args& args) = nullptr;
};

/// keygen, pubkey, thumbprint, jwks, sign, verify, decode.
std::vector<Command> jose_commands();
/// issue, refresh, revoke, introspect, sessions, rotate, cleanup.
std::vector<Command> engine_commands();

/// Opens the revocation store named by a --store URL (redis://, rediss://, unix://), when
/// this build has Redis support. Errors: invalid_argument (unsupported URL or no Redis
/// support in this build), store_unavailable.
jwtkit::Result<std::shared_ptr<jwtkit::RevocationStore>> open_revocation_store(
    const std::string& url, std::shared_ptr<const jwtkit::Clock> clock);

}  // namespace jwtkit_cli
