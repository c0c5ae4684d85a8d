// The verify path checks token headers and payloads with a purpose-built scanner instead of
// building a DOM. It must accept exactly what parse_json_strict accepts (for objects) and read
// the same values: checked here on a corpus and on every single-byte mutation of it.
#include <jwtkit/json.hpp>

#include "catch.hpp"
#include "json_scan.hpp"

#include <cmath>
#include <string>
#include <vector>

using jwtkit::JsonLimits;
using jwtkit::detail::ScannedObject;
using jwtkit::detail::ScannedValue;

namespace {

const std::vector<std::string>& corpus() {
  static const std::vector<std::string> docs = {
      R"({})",
      R"({"alg":"HS256","typ":"JWT"})",
      R"({"typ":"JWT",)" "\r\n" R"( "alg":"HS256"})",
      R"({"iss":"joe","exp":1300819380,"http://example.com/is_root":true})",
      R"({"aud":["a","b"],"n":-0.5e-3,"z":0,"big":1.7e308,"tiny":1e-400,"neg":-12,"f":false,"nul":null})",
      R"({"nested":{"a":[1,{"b":[]},"x"],"c":{}},"arr":[[],[[]]],"s":"\"\\\/\b\f\n\r\t"})",
      R"({"u":"\u00e9\u20ac\ud83d\ude00","raw":"é€😀","a\u0062":1})",
      R"({"roles":["admin",1],"crit":["exp"],"kid":"k1","b64":true})",
      R"({"over":1e400,"under":-2E+999})",
  };
  return docs;
}

bool strict_accepts(const std::string& text, const JsonLimits& limits) {
  auto r = jwtkit::parse_json_strict(text, limits);
  return r.ok() && r->is_object();
}

void check_same_values(const std::string& text, const ScannedObject& scanned, const JsonLimits& limits) {
  auto dom = jwtkit::parse_json_strict(text, limits);
  REQUIRE(dom.ok());
  REQUIRE(scanned.members.size() == dom->size());
  for (const auto& [name, value] : scanned.members) {
    auto it = dom->find(std::string(name));
    REQUIRE(it != dom->end());
    switch (value.kind) {
      case ScannedValue::Kind::string: CHECK(it->get<std::string>() == value.text); break;
      case ScannedValue::Kind::number: {
        REQUIRE(it->is_number());
        double d = it->get<double>();
        CHECK(d == value.number);
        break;
      }
      case ScannedValue::Kind::boolean: CHECK(it->get<bool>() == value.boolean); break;
      case ScannedValue::Kind::null: CHECK(it->is_null()); break;
      case ScannedValue::Kind::object: CHECK(it->is_object()); break;
      case ScannedValue::Kind::array: {
        REQUIRE(it->is_array());
        bool all = std::all_of(it->begin(), it->end(), [](const auto& e) { return e.is_string(); });
        CHECK(value.all_strings == all);
        if (all) {
          REQUIRE(value.strings.size() == it->size());
          for (std::size_t i = 0; i < value.strings.size(); ++i) CHECK((*it)[i].get<std::string>() == value.strings[i]);
        }
        break;
      }
    }
  }
  // The lazily built DOM of validated text equals the strict parse.
  jwtkit::detail::LazyJson lazy(text);
  CHECK(lazy.get() == *dom);
}

void agree(const std::string& text, const JsonLimits& limits = {}) {
  ScannedObject scanned;
  bool scan_ok = jwtkit::detail::scan_object(text, limits, scanned).ok();
  bool strict_ok = strict_accepts(text, limits);
  INFO("input: " << text);
  REQUIRE(scan_ok == strict_ok);
  if (scan_ok) check_same_values(text, scanned, limits);
}

}  // namespace

TEST_CASE("json scanner reads the corpus like the strict parser") {
  for (const auto& doc : corpus()) agree(doc);
}

TEST_CASE("json scanner agrees with the strict parser on every single-byte mutation") {
  static const char kBytes[] = "{}[]\":,\\/ 0-+.eEtfnu19aZ\x00\x1f\x7f\x80\xbf\xc0\xc3\xe2\xed\xf0\xf4\xff";
  const std::string alphabet(kBytes, sizeof kBytes - 1);  // NUL included
  std::size_t cases = 0;
  for (const auto& doc : corpus()) {
    for (std::size_t i = 0; i < doc.size(); ++i) {
      std::string deleted = doc;
      deleted.erase(i, 1);
      agree(deleted);
      ++cases;
      for (char c : alphabet) {
        std::string replaced = doc;
        replaced[i] = c;
        agree(replaced);
        std::string inserted = doc;
        inserted.insert(i, 1, c);
        agree(inserted);
        cases += 2;
      }
    }
  }
  CHECK(cases > 10000);
}

TEST_CASE("json scanner rejects duplicates, also when spelled with escapes or in large objects") {
  ScannedObject s;
  CHECK_FALSE(jwtkit::detail::scan_object(R"({"alg":"HS256","alg":"none"})", {}, s).ok());
  CHECK_FALSE(jwtkit::detail::scan_object(R"({"alg":"HS256","\u0061lg":"none"})", {}, s).ok());
  CHECK_FALSE(jwtkit::detail::scan_object(R"({"a":{"x":1,"x":2}})", {}, s).ok());
  std::string big = "{";
  for (int i = 0; i < 100; ++i) big += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  agree(big + "\"k7\":1}");
  agree(big + "\"k100\":1}");
}

TEST_CASE("json scanner enforces the depth and size limits like the strict parser") {
  std::string deep = "{\"a\":";
  for (int i = 0; i < 20; ++i) deep += "[";
  for (int i = 0; i < 20; ++i) deep += "]";
  deep += "}";
  for (std::size_t depth : {1u, 2u, 5u, 20u, 21u, 22u, 64u}) agree(deep, JsonLimits{1024, depth});
  agree(deep, JsonLimits{deep.size() - 1, 64});
  agree(deep, JsonLimits{deep.size(), 64});
}
