// Runs the jwtkit tool as a child process and captures its exit code, stdout and stderr.
#pragma once

#include "catch.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace jwtkit_cli_test {

namespace fs = std::filesystem;

/// What one run of the tool did. `exit_code` is 128 + signal when the tool was killed
/// by a signal (a crash), which no test accepts.
struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

inline std::string rtrim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

/// A scratch directory for one test process (ctest may run tests in parallel), removed at
/// the end, with helpers to run the tool inside it.
class Sandbox {
 public:
  Sandbox() : dir_(fs::path(JWTKIT_TEST_TMPDIR) / ("cli-" + std::to_string(::getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~Sandbox() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  const fs::path& dir() const { return dir_; }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::string write(const std::string& name, const std::string& text) const {
    write_text(dir_ / name, text);
    return path(name);
  }
  std::string write_json(const std::string& name, const nlohmann::json& value) const {
    return write(name, value.dump());
  }
  std::string read(const std::string& name) const { return slurp(dir_ / name); }

  /// Runs `jwtkit args...` with `input` as its standard input (never a terminal), stdout and
  /// stderr captured through files (no pipe deadlocks).
  Run run(const std::vector<std::string>& args, const std::string& input = {}) const {
    return run_to(args, input, path(".stdout"));
  }

  /// Same, with stdout going to `out_path` (e.g. /dev/full); `out` is read back from it
  /// only when it is a regular file.
  Run run_to(const std::vector<std::string>& args, const std::string& input,
             const std::string& out_path) const {
    const std::string in_path = path(".stdin"), err_path = path(".stderr");
    write_text(in_path, input);
    std::vector<std::string> argv_strings{JWTKIT_CLI_PATH};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, in_path.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> env_strings = child_environment();
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, JWTKIT_CLI_PATH, &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error(std::string("posix_spawn: ") + std::strerror(rc));
    // A tool that hangs (e.g. blocked opening a FIFO) is killed, and fails its test, rather
    // than hanging the whole suite.
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    for (;;) {
      pid_t done = ::waitpid(pid, &status, WNOHANG);
      if (done == pid) break;
      if (done < 0 && errno != EINTR) throw std::runtime_error("waitpid failed");
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    Run r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (fs::is_regular_file(out_path)) r.out = slurp(out_path);
    r.err = slurp(err_path);
    return r;
  }

  /// Runs and requires exit 0; returns stdout.
  std::string ok(const std::vector<std::string>& args, const std::string& input = {}) const {
    Run r = run(args, input);
    INFO("jwtkit " << join(args) << "\nstderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  }

  /// How long one run of the tool may take before it is killed (exit_code 128 + SIGKILL).
  static constexpr std::chrono::seconds kDeadline{120};

  /// Environment variables the tool reads: unset for the child unless set here, so a
  /// developer's own settings cannot change a test's outcome.
  std::map<std::string, std::string> env{};

  static std::string join(const std::vector<std::string>& args) {
    std::string s;
    for (const auto& a : args) s += (s.empty() ? "" : " ") + a;
    return s;
  }

 private:
  std::vector<std::string> child_environment() const {
    static const char* const kToolVariables[] = {"JWTKIT_ISSUER", "JWTKIT_AUDIENCE"};
    std::vector<std::string> out;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry(*e);
      std::string name = entry.substr(0, entry.find('='));
      bool drop = env.count(name) > 0;
      for (const char* v : kToolVariables) drop = drop || name == v;
      if (!drop) out.push_back(entry);
    }
    for (const auto& [name, value] : env) out.push_back(name + "=" + value);
    return out;
  }

  fs::path dir_;
};

/// Checks the failure contract: the exit code, and stderr ending in exactly one line
/// "error: <code>: <message>" (warnings may come before it), and nothing on stdout.
inline void require_error(const Run& r, int exit_code, const std::string& code) {
  INFO("exit " << r.exit_code << "\nstdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == exit_code);
  REQUIRE(r.out.empty());
  static const std::regex kErrorLine("(warning: [^\n]*\n)*error: ([a-z_]+): [^\n]+\n");
  std::smatch m;
  REQUIRE(std::regex_match(r.err, m, kErrorLine));
  REQUIRE(m[2].str() == code);
}

/// The RFC / Wycheproof vector file at JWTKIT_VECTORS_DIR/name.
inline nlohmann::json load_vector(const std::string& name) {
  return nlohmann::json::parse(slurp(fs::path(JWTKIT_VECTORS_DIR) / name));
}

inline bool is_hmac(const std::string& alg) { return alg.rfind("HS", 0) == 0; }

}  // namespace jwtkit_cli_test
