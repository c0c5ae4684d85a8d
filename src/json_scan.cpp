#include "json_scan.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <unordered_set>

namespace jwtkit::detail {

namespace {

// One object's member names, for duplicate detection: a linear scan over an inline array
// while small (no allocation for the objects tokens have), a hash set once large, so a
// hostile object of thousands of members still costs linear time.
class NameSet {
 public:
  bool insert(std::string_view name) {
    if (set_) return set_->insert(name).second;
    for (std::size_t i = 0; i < count_; ++i) {
      const std::string_view n = small_[i];
      if (n.size() == name.size() && (n.empty() || n[0] == name[0]) && n == name) return false;
    }
    if (count_ < small_.size()) {
      small_[count_++] = name;
      return true;
    }
    set_.reset(new std::unordered_set<std::string_view>(small_.begin(), small_.end()));
    return set_->insert(name).second;
  }

 private:
  std::array<std::string_view, 16> small_{};
  std::size_t count_ = 0;
  std::unique_ptr<std::unordered_set<std::string_view>> set_;
};

// Bytes a string scan must stop at: the closing quote, a backslash, control characters and
// the lead bytes of multi-byte UTF-8; everything else is skipped by one table lookup.
constexpr std::array<bool, 256> make_special() {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[static_cast<std::size_t>(c)] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
  return t;
}
constexpr std::array<bool, 256> kSpecial = make_special();

class Scanner {
 public:
  Scanner(std::string_view text, const JsonLimits& limits, ScannedObject& out)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()), limits_(limits), out_(out) {}

  Result<void> run() {
    skip_ws();
    if (p_ == end_ || *p_ != '{') return fail("expected a JSON object");
    if (!object(1, true)) return error();
    skip_ws();
    if (p_ != end_) return fail("unexpected data after the JSON value");
    return ok();
  }

 private:
  Error error() const { return Error(Errc::malformed, error_.empty() ? "invalid JSON" : error_); }
  Error fail(std::string why) {
    set_error(std::move(why));
    return error();
  }
  bool set_error(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    return false;
  }
  bool bad() { return set_error("invalid JSON at byte " + std::to_string(offset())); }
  std::size_t offset() const { return static_cast<std::size_t>(p_ - begin_); }

  void skip_ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  // value at `depth` (the depth of the container it would open). When `top` the members are
  // recorded in out_.
  bool value(std::size_t depth, ScannedValue* into) {
    if (p_ == end_) return bad();
    switch (*p_) {
      case '{':
        if (into) into->kind = ScannedValue::Kind::object;
        return object(depth, false);
      case '[':
        if (into) into->kind = ScannedValue::Kind::array;
        return array(depth, into);
      case '"': {
        std::string_view s;
        if (!string(s)) return false;
        if (into) {
          into->kind = ScannedValue::Kind::string;
          into->text = s;
        }
        return true;
      }
      case 't': return literal("true", into, ScannedValue::Kind::boolean, true);
      case 'f': return literal("false", into, ScannedValue::Kind::boolean, false);
      case 'n': return literal("null", into, ScannedValue::Kind::null, false);
      default: return number(into);
    }
  }

  bool literal(std::string_view word, ScannedValue* into, ScannedValue::Kind kind, bool b) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) {
      return bad();
    }
    p_ += word.size();
    if (into) {
      into->kind = kind;
      into->boolean = b;
    }
    return true;
  }

  static bool digit(char c) { return c >= '0' && c <= '9'; }

  bool number(ScannedValue* into) {
    const char* start = p_;
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ == end_) return bad();
    const char* int_start = p_;
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      while (p_ != end_ && digit(*p_)) ++p_;
    } else {
      return bad();
    }
    const std::size_t int_digits = static_cast<std::size_t>(p_ - int_start);
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (p_ == end_ || !digit(*p_)) return bad();
      while (p_ != end_ && digit(*p_)) ++p_;
    }
    bool has_exponent = false;
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      has_exponent = true;
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !digit(*p_)) return bad();
      while (p_ != end_ && digit(*p_)) ++p_;
    }
    // Only an exponent or more than 308 integer digits can overflow a double; nlohmann::json
    // refuses such numbers, so the scanner does too (underflow to 0 is accepted by both).
    const bool may_overflow = has_exponent || int_digits > 308;
    if (into == nullptr && !may_overflow) return true;
    double v = 0;
    auto r = std::from_chars(start, p_, v);
    if (r.ec != std::errc()) v = std::strtod(std::string(start, p_).c_str(), nullptr);
    if (std::isinf(v)) return set_error("number out of range at byte " + std::to_string(offset()));
    if (into) {
      into->kind = ScannedValue::Kind::number;
      into->number = v;
    }
    return true;
  }

  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool hex4(unsigned& v) {
    if (end_ - p_ < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hex(p_[i]);
      if (h < 0) return false;
      v = (v << 4) | static_cast<unsigned>(h);
    }
    p_ += 4;
    return true;
  }

  void put_utf8(unsigned cp) {
    std::string& a = out_.arena;
    if (cp < 0x80) {
      a += static_cast<char>(cp);
    } else if (cp < 0x800) {
      a += static_cast<char>(0xC0 | (cp >> 6));
      a += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      a += static_cast<char>(0xE0 | (cp >> 12));
      a += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      a += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      a += static_cast<char>(0xF0 | (cp >> 18));
      a += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      a += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      a += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // Validates one UTF-8 sequence starting at p_ (a byte >= 0x80); advances past it.
  bool utf8() {
    auto b = [&](std::ptrdiff_t i) { return static_cast<unsigned char>(p_[i]); };
    auto cont = [&](std::ptrdiff_t i) { return p_ + i < end_ && (b(i) & 0xC0) == 0x80; };
    unsigned char c = b(0);
    if (c >= 0xC2 && c <= 0xDF) {
      if (!cont(1)) return false;
      p_ += 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      if (!cont(1) || !cont(2)) return false;
      if (c == 0xE0 && b(1) < 0xA0) return false;   // overlong
      if (c == 0xED && b(1) > 0x9F) return false;   // UTF-16 surrogate
      p_ += 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      if (!cont(1) || !cont(2) || !cont(3)) return false;
      if (c == 0xF0 && b(1) < 0x90) return false;   // overlong
      if (c == 0xF4 && b(1) > 0x8F) return false;   // above U+10FFFF
      p_ += 4;
    } else {
      return false;
    }
    return true;
  }

  // A string starting at the opening quote. `s` views the decoded text: the input itself when
  // there is no escape, else a copy in the arena.
  bool string(std::string_view& s) {
    ++p_;
    const char* start = p_;
    while (p_ != end_) {
      unsigned char c = static_cast<unsigned char>(*p_);
      if (!kSpecial[c]) {
        ++p_;
        continue;
      }
      if (c == '"') {
        s = std::string_view(start, static_cast<std::size_t>(p_ - start));
        ++p_;
        return true;
      }
      if (c == '\\') return escaped_string(start, s);
      if (c < 0x20) return set_error("control character in a JSON string");
      if (c < 0x80) {
        ++p_;
      } else if (!utf8()) {
        return set_error("invalid UTF-8 in a JSON string");
      }
    }
    return set_error("unterminated JSON string");
  }

  bool escaped_string(const char* start, std::string_view& s) {
    std::string& a = out_.arena;
    if (!arena_reserved_) {
      // Decoded text is never longer than its source, so this one reservation holds every
      // later string too and the views handed out never move.
      a.reserve(a.size() + static_cast<std::size_t>(end_ - start) + 1);
      arena_reserved_ = true;
    }
    std::size_t from = a.size();
    a.append(start, static_cast<std::size_t>(p_ - start));
    while (p_ != end_) {
      unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        s = std::string_view(a.data() + from, a.size() - from);
        ++p_;
        return true;
      }
      if (c < 0x20) return set_error("control character in a JSON string");
      if (c == '\\') {
        ++p_;
        if (p_ == end_) break;
        char e = *p_++;
        switch (e) {
          case '"': a += '"'; break;
          case '\\': a += '\\'; break;
          case '/': a += '/'; break;
          case 'b': a += '\b'; break;
          case 'f': a += '\f'; break;
          case 'n': a += '\n'; break;
          case 'r': a += '\r'; break;
          case 't': a += '\t'; break;
          case 'u': {
            unsigned cp = 0;
            if (!hex4(cp)) return set_error("invalid \\u escape in a JSON string");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              unsigned lo = 0;
              if (end_ - p_ < 6 || p_[0] != '\\' || p_[1] != 'u') return set_error("unpaired UTF-16 surrogate");
              p_ += 2;
              if (!hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return set_error("unpaired UTF-16 surrogate");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
              return set_error("unpaired UTF-16 surrogate");
            }
            put_utf8(cp);
            break;
          }
          default: return set_error("invalid escape in a JSON string");
        }
        continue;
      }
      const char* seq = p_;
      if (c < 0x80) {
        ++p_;
      } else if (!utf8()) {
        return set_error("invalid UTF-8 in a JSON string");
      }
      a.append(seq, static_cast<std::size_t>(p_ - seq));
    }
    return set_error("unterminated JSON string");
  }

  bool depth_ok(std::size_t depth) {
    if (depth > limits_.max_depth) {
      return set_error("nesting deeper than " + std::to_string(limits_.max_depth));
    }
    return true;
  }

  bool object(std::size_t depth, bool top) {
    if (!depth_ok(depth)) return false;
    ++p_;  // '{'
    NameSet names;
    skip_ws();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    if (top) out_.members.reserve(12);
    while (true) {
      skip_ws();
      if (p_ == end_ || *p_ != '"') return bad();
      std::string_view name;
      if (!string(name)) return false;
      if (!names.insert(name)) return set_error("duplicate member name \"" + std::string(name) + "\"");
      skip_ws();
      if (p_ == end_ || *p_ != ':') return bad();
      ++p_;
      skip_ws();
      ScannedValue* into = nullptr;
      if (top) {
        out_.members.emplace_back(name, ScannedValue{});
        into = &out_.members.back().second;
      }
      if (!value(depth + 1, into)) return false;
      skip_ws();
      if (p_ == end_) return bad();
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == '}') {
        ++p_;
        return true;
      }
      return bad();
    }
  }

  bool array(std::size_t depth, ScannedValue* into) {
    if (!depth_ok(depth)) return false;
    ++p_;  // '['
    if (into) into->all_strings = true;
    skip_ws();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    while (true) {
      skip_ws();
      if (into && into->all_strings && p_ != end_ && *p_ == '"') {
        std::string_view s;
        if (!string(s)) return false;
        into->strings.push_back(s);
      } else {
        if (into) {
          into->all_strings = false;
          into->strings.clear();
        }
        if (!value(depth + 1, nullptr)) return false;
      }
      skip_ws();
      if (p_ == end_) return bad();
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      return bad();
    }
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  bool arena_reserved_ = false;
  const JsonLimits& limits_;
  ScannedObject& out_;
  std::string error_;
};

}  // namespace

Result<void> scan_object(std::string_view text, const JsonLimits& limits, ScannedObject& out) noexcept {
  try {
    if (text.size() > limits.max_bytes) {
      return Error(Errc::malformed, "JSON input of " + std::to_string(text.size()) +
                                        " bytes exceeds the limit of " + std::to_string(limits.max_bytes));
    }
    out.members.clear();
    out.arena.clear();
    return Scanner(text, limits, out).run();
  } catch (const std::bad_alloc&) {
    return Error(Errc::internal, "out of memory while scanning JSON");
  }
}

}  // namespace jwtkit::detail
