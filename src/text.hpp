// Private: untrusted text (a token's kid, alg, typ...) made safe to put in an error message.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace jwtkit::detail {

/// `s` between double quotes, with control characters, quotes, backslashes and non-ASCII
/// bytes escaped (\n, \", \\, \xNN) and cut after `max` bytes, so a value from a token can
/// never forge a line or a terminal sequence in a log.
inline std::string quoted(std::string_view s, std::size_t max = 64) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > max) out += "...";
  out += '"';
  return out;
}

}  // namespace jwtkit::detail
