#include <jwtkit/base64url.hpp>

#include "base64url_detail.hpp"

#include <array>
#include <cstdint>

namespace jwtkit::base64url {

namespace {
constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<std::int8_t, 256> make_table() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  return t;
}
constexpr auto kTable = make_table();
}  // namespace

std::string encode(std::string_view bytes) {
  const std::size_t full = bytes.size() / 3 * 3;
  const std::size_t rest = bytes.size() - full;
  std::string out(full / 3 * 4 + (rest == 0 ? 0 : rest + 1), '\0');
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  char* o = out.data();
  for (std::size_t i = 0; i < full; i += 3) {
    const std::uint32_t v = (static_cast<std::uint32_t>(in[i]) << 16) | (static_cast<std::uint32_t>(in[i + 1]) << 8) | in[i + 2];
    *o++ = kAlphabet[(v >> 18) & 63];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
    *o++ = kAlphabet[v & 63];
  }
  if (rest != 0) {
    std::uint32_t v = static_cast<std::uint32_t>(in[full]) << 16;
    if (rest == 2) v |= static_cast<std::uint32_t>(in[full + 1]) << 8;
    *o++ = kAlphabet[(v >> 18) & 63];
    *o++ = kAlphabet[(v >> 12) & 63];
    if (rest == 2) *o++ = kAlphabet[(v >> 6) & 63];
  }
  return out;
}

Result<std::string> decode(std::string_view text) {
  if (text.size() % 4 == 1) return Error(Errc::malformed, "base64url: impossible length (1 mod 4)");
  std::string out(detail::base64url_decoded_size(text), '\0');
  if (auto r = detail::base64url_decode_to(text, reinterpret_cast<unsigned char*>(out.data())); !r) {
    return r.error();
  }
  return out;
}

}  // namespace jwtkit::base64url

namespace jwtkit::detail {

Result<void> base64url_decode_to(std::string_view text, unsigned char* out) {
  const auto& table = base64url::kTable;
  const std::size_t rest = text.size() % 4;
  if (rest == 1) return Error(Errc::malformed, "base64url: impossible length (1 mod 4)");
  const std::size_t full = text.size() - rest;
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  unsigned char* o = out;
  auto bad = [&](std::size_t at) -> Error {
    if (text[at] == '=') return Error(Errc::malformed, "base64url: padding is not allowed");
    return Error(Errc::malformed, "base64url: character outside the alphabet");
  };
  std::size_t i = 0;
  for (; i < full; i += 4) {
    const int a = table[in[i]], b = table[in[i + 1]], c = table[in[i + 2]], d = table[in[i + 3]];
    if ((a | b | c | d) < 0) {
      for (std::size_t k = i;; ++k) if (table[in[k]] < 0) return bad(k);
    }
    const std::uint32_t v = (static_cast<std::uint32_t>(a) << 18) | (static_cast<std::uint32_t>(b) << 12) |
                            (static_cast<std::uint32_t>(c) << 6) | static_cast<std::uint32_t>(d);
    *o++ = static_cast<unsigned char>(v >> 16);
    *o++ = static_cast<unsigned char>(v >> 8);
    *o++ = static_cast<unsigned char>(v);
  }
  if (rest != 0) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < rest; ++k) {
      const int x = table[in[i + k]];
      if (x < 0) return bad(i + k);
      v |= static_cast<std::uint32_t>(x) << (18 - 6 * k);
    }
    // Leftover bits must be zero, or two strings would decode to the same bytes.
    const std::uint32_t unused = rest == 2 ? 0xFFFFu : 0xFFu;
    if ((v & unused) != 0) return Error(Errc::malformed, "base64url: non-zero trailing bits");
    *o++ = static_cast<unsigned char>(v >> 16);
    if (rest == 3) *o++ = static_cast<unsigned char>(v >> 8);
  }
  return ok();
}

}  // namespace jwtkit::detail
