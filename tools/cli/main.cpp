// jwtkit: make keys, sign, verify and inspect JWTs, and drive the token engine from a shell.
#include "args.hpp"
#include "commands.hpp"
#include "common.hpp"

#include <jwtkit/error.hpp>
#include <jwtkit/version.hpp>

#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <vector>

namespace {

using jwtkit_cli::Command;

std::vector<Command> all_commands() {
  std::vector<Command> commands = jwtkit_cli::jose_commands();
  for (auto& c : jwtkit_cli::engine_commands()) commands.push_back(std::move(c));
  return commands;
}

std::string tool_help(const std::vector<Command>& commands) {
  std::string s =
      "Usage: jwtkit <command> [options]\n"
      "       jwtkit <command> --help\n"
      "       jwtkit --version\n\n"
      "Make keys, sign, verify and inspect JSON Web Tokens, and issue, refresh and revoke\n"
      "them through the jwtkit engine. Keys are read from PEM or JWK files (detected).\n\n"
      "Commands:\n";
  for (const auto& c : commands) {
    std::string name(c.name);
    name.resize(12, ' ');
    s += "  " + name + std::string(c.summary) + "\n";
  }
  s += "\n" + jwtkit_cli::exit_codes_help("success", "token rejected (verify, introspect, ...)");
  return s;
}

std::string command_help(const Command& c) {
  std::string s = "Usage: jwtkit " + std::string(c.name) + " " + std::string(c.synopsis) + "\n\n";
  s += std::string(c.description) + "\n\nOptions:\n";
  auto line = [&s](std::string left, std::string_view help) {
    if (left.size() < 26) {
      left.resize(26, ' ');
      s += "  " + left + std::string(help) + "\n";
    } else {
      s += "  " + left + "\n  " + std::string(26, ' ') + std::string(help) + "\n";
    }
  };
  for (const auto& o : c.options) {
    std::string left = "--" + std::string(o.name);
    if (!o.value.empty()) left += " " + std::string(o.value);
    line(left, o.help);
  }
  line("-h, --help", "show this help");
  return s + "\n" + c.exit_codes;
}

int run(int argc, char** argv) {
  const std::vector<Command> commands = all_commands();
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(tool_help(commands).c_str(), stderr);
    return jwtkit_cli::usage_error("no command given");
  }
  const std::string& name = args.front();
  if (name == "--version") {
    if (args.size() > 1) return jwtkit_cli::usage_error("--version takes no arguments");
    jwtkit_cli::print("jwtkit " JWTKIT_VERSION_STRING "\n");
    return jwtkit_cli::kExitOk;
  }
  if (name == "-h" || name == "--help" || name == "help") {
    if (name == "help" && args.size() > 1) {
      args = {args[1], "--help"};  // "jwtkit help verify" works like "jwtkit verify --help"
    } else {
      jwtkit_cli::print(tool_help(commands));
      return jwtkit_cli::kExitOk;
    }
  }
  const Command* command = nullptr;
  for (const auto& c : commands) {
    if (c.name == args.front()) command = &c;
  }
  if (command == nullptr) {
    return jwtkit_cli::usage_error("unknown command '" + args.front() + "' (see jwtkit --help)");
  }
  args.erase(args.begin());
  auto parsed = jwtkit_cli::parse_args(args, command->options, command->max_positionals);
  if (!parsed) {
    return jwtkit_cli::usage_error(parsed.error().message() + " (see jwtkit " +
                                   std::string(command->name) + " --help)");
  }
  if (parsed->help()) {
    jwtkit_cli::print(command_help(*command));
    return jwtkit_cli::kExitOk;
  }
  return command->run(*parsed);
}

}  // namespace

int main(int argc, char** argv) {
  int rc;
  try {
    rc = run(argc, argv);
  } catch (const std::bad_alloc&) {
    rc = jwtkit_cli::fail(jwtkit_cli::kExitFailure,
                          jwtkit::Error(jwtkit::Errc::internal, "out of memory"));
  } catch (const std::exception& e) {
    rc = jwtkit_cli::fail(jwtkit_cli::kExitFailure,
                          jwtkit::Error(jwtkit::Errc::internal, std::string("unexpected: ") + e.what()));
  }
  // Output that did not reach its destination (full disk, closed pipe) is a failure too.
  if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
    if (rc == jwtkit_cli::kExitOk) rc = jwtkit_cli::kExitFailure;
    jwtkit_cli::fail(rc, jwtkit::Error(jwtkit::Errc::io_error, "cannot write to standard output"));
  }
  return rc;
}
