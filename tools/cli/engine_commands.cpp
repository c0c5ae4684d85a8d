// The engine commands (issue, refresh, revoke, introspect, sessions, rotate, cleanup).
#include "commands.hpp"

namespace jwtkit_cli {

// The token engine has not landed yet; its commands follow once it has.
std::vector<Command> engine_commands() { return {}; }

}  // namespace jwtkit_cli
