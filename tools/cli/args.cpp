#include "args.hpp"

#include <jwtkit/error.hpp>

namespace jwtkit_cli {

using jwtkit::Errc;
using jwtkit::Error;

std::optional<std::string> Args::get(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> Args::all(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

jwtkit::Result<Args> parse_args(const std::vector<std::string>& argv,
                                const std::vector<OptionSpec>& specs,
                                std::size_t max_positionals) {
  Args args;
  bool options_done = false;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (options_done || arg == "-" || arg.rfind('-', 0) != 0) {
      if (args.positionals_.size() == max_positionals) {
        return Error(Errc::invalid_argument,
                     max_positionals == 0 ? "unexpected argument '" + arg + "'"
                                          : "too many arguments: '" + arg + "'");
      }
      args.positionals_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      args.help_ = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      return Error(Errc::invalid_argument, "unknown option '" + arg + "'");
    }
    std::string name = arg.substr(2);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    const OptionSpec* spec = nullptr;
    for (const auto& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) return Error(Errc::invalid_argument, "unknown option '--" + name + "'");

    auto& slot = args.values_[name];
    if (!slot.empty() && !spec->repeatable) {
      return Error(Errc::invalid_argument, "option '--" + name + "' given more than once");
    }
    if (spec->value.empty()) {
      if (inline_value) {
        return Error(Errc::invalid_argument, "option '--" + name + "' takes no value");
      }
      slot.emplace_back();
    } else if (inline_value) {
      slot.push_back(*inline_value);
    } else if (i + 1 < argv.size()) {
      slot.push_back(argv[++i]);
    } else {
      return Error(Errc::invalid_argument,
                   "option '--" + name + "' needs a value (" + std::string(spec->value) + ")");
    }
  }
  return args;
}

}  // namespace jwtkit_cli
