// The verify path reads token headers and payloads with its own JSON scanner. It must accept
// exactly what parse_json_strict (nlohmann::json plus duplicate, depth and size checks)
// accepts. These tests feed both the same texts, hand-picked and randomly mutated, and
// compare: verify() on a token whose header or payload embeds the text, against
// parse_json_strict on the same header or payload.
#include <jwtkit/base64url.hpp>
#include <jwtkit/json.hpp>
#include <jwtkit/jws.hpp>
#include <jwtkit/jwt.hpp>

#include "catch.hpp"
#include "support/result_check.hpp"
#include "support/test_keys.hpp"

#include <random>
#include <string>
#include <vector>

using jwtkit::Alg;
using json = nlohmann::json;
namespace b64 = jwtkit::base64url;

namespace {

const std::vector<std::string>& seeds() {
  static const std::vector<std::string> s = {
      "1", "-0", "0.5", "-12.5e+3", "1E-2", "123456789012345678901234567890", "1e308", "true", "false",
      "null", "\"\"", "\"abc\"", "\"\\u00e9\\n\\t\\\"\\\\\\/\"", "\"\\ud83d\\ude00\"", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
      "[]", "{}", "[1,\"a\",[true,{\"k\":null}]]", "{\"a\":{\"b\":{\"c\":[1,2,3]}}}", "{\"a\":1,\"b\":2}",
      "[\"x\",\"y\"]", "{\"\\u0061\":1,\"b\":[{},{}]}", " [ 1 , 2 ] ", "\"a\\u0000b\"",
  };
  return s;
}

// Bytes that matter to a JSON lexer.
const std::string kAlphabet = std::string("{}[]\",:\\/ \t\n\rueE+-.0123456789abcdfnrtADF") + "\x01\x1f\x7f" +
                              "\x80\xbf\xc0\xc1\xc2\xdf\xe0\xed\xef\xf0\xf4\xf5\xff";

std::string mutate(std::string s, std::mt19937& rng) {
  int edits = 1 + static_cast<int>(rng() % 3);
  for (int i = 0; i < edits; ++i) {
    std::size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
    char c = kAlphabet[rng() % kAlphabet.size()];
    switch (rng() % 3) {
      case 0: s.insert(pos, 1, c); break;
      case 1: if (pos < s.size()) s.erase(pos, 1); break;
      default: if (pos < s.size()) s[pos] = c; break;
    }
  }
  return s;
}

struct Harness {
  jwtkit::Key key = jwtkit_test::signing_key(Alg::HS256);
  jwtkit::JwsVerifier verifier =
      *jwtkit::JwsVerifier::create({jwtkit_test::signing_key(Alg::HS256)}, jwtkit::JwsVerifierOptions{{Alg::HS256}, {}, {}});

  std::string token(const std::string& header, const std::string& payload) const {
    std::string input = b64::encode(header) + "." + b64::encode(payload);
    return input + "." + b64::encode(*jwtkit::create_signature(key, Alg::HS256, input));
  }

  // Returns a description of the disagreement, or "" when both agree.
  std::string compare(const std::string& value) const {
    const std::string header = R"({"alg":"HS256","x":)" + value + "}";
    const bool header_ok = jwtkit::parse_json_strict(header).ok();
    auto h = verifier.verify(token(header, "{}"));
    if (h.ok() != header_ok) {
      return "header " + json(header).dump() + ": scanner " + jwtkit_test::status(h) + ", parse_json_strict " +
             (header_ok ? "ok" : jwtkit_test::status(jwtkit::parse_json_strict(header)));
    }
    if (!h.ok() && h.error().code() != jwtkit::Errc::malformed) {
      return "header " + json(header).dump() + ": " + jwtkit_test::status(h);
    }
    const std::string payload = R"({"x":)" + value + "}";
    auto strict = jwtkit::parse_json_strict(payload);
    jwtkit::ClaimsPolicy policy;
    policy.require_exp = false;
    auto p = jwtkit::verify_jwt(verifier, token(R"({"alg":"HS256"})", payload), policy, jwtkit::from_unix(0));
    if (p.ok() != strict.ok()) {
      return "payload " + json(payload).dump() + ": scanner " + jwtkit_test::status(p) + ", parse_json_strict " +
             jwtkit_test::status(strict);
    }
    if (p.ok() && p->claims() != *strict) return "payload " + json(payload).dump() + ": claims differ";
    return "";
  }
};

}  // namespace

TEST_CASE("JSON scanner agrees with parse_json_strict on hand-picked texts") {
  Harness h;
  std::vector<std::string> texts = seeds();
  for (const char* extra :
       {"01", "-", "1.", ".5", "+1", "1e", "1e+", "0x10", "1e400", "-1e400", "1e-400", "NaN", "Infinity", "tru",
        "nul", "\"\\x41\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\xff\"",
        "\"\xc0\xaf\"", "\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xf5\x80\x80\x80\"",
        "\"\x01\"", "\"\x7f\"", "\"\t\"", "[1,]", "[,1]", "{\"a\"}", "{\"a\":1,}", "{,}", "{\"a\" 1}",
        "{\"a\":1 \"b\":2}", "{\"a\":1,\"a\":2}", "{\"a\":1,\"\\u0061\":2}", "[{\"a\":1,\"a\":1}]", "'a'", "[1]]",
        "[[1]", "\"abc", "\"\\\"", "1 2", "\v1", "\f1"}) {
    texts.push_back(extra);
  }
  for (int depth = 13; depth <= 16; ++depth) {
    texts.push_back(std::string(static_cast<std::size_t>(depth), '[') + std::string(static_cast<std::size_t>(depth), ']'));
  }
  std::vector<std::string> disagreements;
  for (const auto& t : texts) {
    std::string d = h.compare(t);
    if (!d.empty()) disagreements.push_back(d);
  }
  CHECK(disagreements == std::vector<std::string>{});
}

TEST_CASE("JSON scanner agrees with parse_json_strict on 20000 mutated texts") {
  Harness h;
  std::mt19937 rng(20260301);
  std::vector<std::string> disagreements;
  std::size_t accepted = 0;
  for (int i = 0; i < 20000 && disagreements.size() < 10; ++i) {
    const auto& seed = seeds()[rng() % seeds().size()];
    std::string text = mutate(seed, rng);
    if (jwtkit::parse_json_strict("[" + text + "]").ok()) ++accepted;
    std::string d = h.compare(text);
    if (!d.empty()) disagreements.push_back(d);
  }
  CHECK(disagreements == std::vector<std::string>{});
  CHECK(accepted > 1000);  // the mutations are not all trivially broken
}
