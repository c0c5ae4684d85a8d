#include <jwtkit/json.hpp>

#include "catch.hpp"

using jwtkit::Errc;
using jwtkit::parse_json_strict;

TEST_CASE("strict JSON parses ordinary documents") {
  auto r = parse_json_strict(R"({"a":1,"b":[true,null,"x",{"c":2.5}],"d":{}})");
  REQUIRE(r.ok());
  CHECK((*r)["a"] == 1);
  CHECK((*r)["b"][3]["c"] == 2.5);
  CHECK((*r)["d"].is_object());
  CHECK(parse_json_strict("\"just a string\"").ok());
}

TEST_CASE("strict JSON rejects duplicate member names") {
  auto r = parse_json_strict(R"({"alg":"HS256","alg":"none"})");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == Errc::malformed);
  CHECK_THAT(r.error().message(), jwtkit_test::contains("duplicate"));
  CHECK_FALSE(parse_json_strict(R"({"a":{"x":1,"x":2}})").ok());
  // The same name in different objects is fine.
  CHECK(parse_json_strict(R"({"a":{"x":1},"b":{"x":2}})").ok());
}

TEST_CASE("strict JSON enforces depth and size limits") {
  std::string deep;
  for (int i = 0; i < 17; ++i) deep += "[";
  for (int i = 0; i < 17; ++i) deep += "]";
  auto r = parse_json_strict(deep);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message(), jwtkit_test::contains("nesting"));
  CHECK(parse_json_strict(deep, jwtkit::JsonLimits{1024, 17}).ok());

  std::string big = "\"" + std::string(9000, 'a') + "\"";
  auto r2 = parse_json_strict(big);
  REQUIRE_FALSE(r2.ok());
  CHECK_THAT(r2.error().message(), jwtkit_test::contains("limit"));
}

TEST_CASE("strict JSON rejects invalid text without throwing") {
  for (const char* bad : {"", "{", "{\"a\":}", "[1,2,]", "{\"a\":1} trailing", "nul", "{'a':1}",
                          "\"\xff\"", "{\"a\":1,}"}) {
    auto r = parse_json_strict(bad);
    CHECK_FALSE(r.ok());
    if (!r.ok()) CHECK(r.error().code() == Errc::malformed);
  }
}
