#include <jwtkit/base64url.hpp>

#include "catch.hpp"

using jwtkit::Errc;
namespace b64 = jwtkit::base64url;

TEST_CASE("base64url round trips every length and byte value") {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    auto enc = b64::encode(bytes);
    CHECK(enc.find_first_of("+/=") == std::string::npos);
    auto dec = b64::decode(enc);
    REQUIRE(dec.ok());
    CHECK(*dec == bytes);
    bytes += static_cast<char>((i * 37 + 11) & 0xFF);
  }
}

TEST_CASE("base64url matches RFC 4648 test vectors (unpadded)") {
  CHECK(b64::encode("") == "");
  CHECK(b64::encode("f") == "Zg");
  CHECK(b64::encode("fo") == "Zm8");
  CHECK(b64::encode("foo") == "Zm9v");
  CHECK(b64::encode("foob") == "Zm9vYg");
  CHECK(b64::encode("fooba") == "Zm9vYmE");
  CHECK(b64::encode("foobar") == "Zm9vYmFy");
  CHECK(b64::encode("\xfb\xff") == "-_8");
}

TEST_CASE("base64url decode is strict") {
  SECTION("padding is refused") {
    auto r = b64::decode("Zg==");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::malformed);
    CHECK_THAT(r.error().message(), jwtkit_test::contains("padding"));
  }
  SECTION("standard alphabet + and / are refused") {
    CHECK(b64::decode("-_8").ok());
    CHECK_FALSE(b64::decode("+/8").ok());
  }
  SECTION("whitespace is refused") {
    CHECK_FALSE(b64::decode("Zm9v YmFy").ok());
    CHECK_FALSE(b64::decode("Zm9v\nYmFy").ok());
    CHECK_FALSE(b64::decode(" Zm9v").ok());
  }
  SECTION("length 1 mod 4 is refused") {
    CHECK_FALSE(b64::decode("Z").ok());
    CHECK_FALSE(b64::decode("Zm9vY").ok());
  }
  SECTION("non-zero trailing bits are refused") {
    CHECK(b64::decode("Zg").ok());
    CHECK_FALSE(b64::decode("Zh").ok());   // same byte, low bits set
    CHECK(b64::decode("Zm8").ok());
    CHECK_FALSE(b64::decode("Zm9").ok());
  }
  SECTION("NUL and high bytes are refused") {
    CHECK_FALSE(b64::decode(std::string("Zm\0v", 4)).ok());
    CHECK_FALSE(b64::decode("Zm\xc3\xa9v").ok());
  }
}
