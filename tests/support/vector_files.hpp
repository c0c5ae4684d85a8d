// Test helpers for the vector suites: read files from tests/vectors, decode hex.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace jwtkit_test {

/// The whole file at `JWTKIT_VECTORS_DIR/relative`. Throws when it cannot be read, so a
/// missing vector file fails the test instead of silently testing nothing.
inline std::string read_vector_file(const std::string& relative) {
  std::string path = std::string(JWTKIT_VECTORS_DIR) + "/" + relative;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read vector file " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// A vector file parsed as JSON. Plain nlohmann parsing: the files are trusted test data and
/// larger than jwtkit's strict limits for untrusted input.
inline nlohmann::json load_vector(const std::string& relative) {
  return nlohmann::json::parse(read_vector_file(relative));
}

/// Bytes of a hex string (Wycheproof's encoding). Throws on odd length or a non-hex digit.
inline std::string from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) throw std::invalid_argument("odd-length hex");
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::invalid_argument("bad hex digit");
  };
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(nibble(hex[2 * i]) * 16 + nibble(hex[2 * i + 1]));
  }
  return out;
}

}  // namespace jwtkit_test
