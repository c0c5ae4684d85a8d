#include <jwtkit/error.hpp>
#include <jwtkit/result.hpp>

#include "catch.hpp"

#include <memory>
#include <set>
#include <string>

using jwtkit::Errc;
using jwtkit::Error;
using jwtkit::Result;

TEST_CASE("error codes have stable, distinct names") {
  CHECK(jwtkit::to_string(Errc::expired) == "expired");
  CHECK(jwtkit::to_string(Errc::bad_signature) == "bad_signature");
  CHECK(jwtkit::to_string(Errc::revoked) == "revoked");
  CHECK(jwtkit::to_string(Errc::store_unavailable) == "store_unavailable");
  std::set<std::string> names;
  for (int i = 1; i <= static_cast<int>(Errc::internal); ++i) {
    auto n = std::string(jwtkit::to_string(static_cast<Errc>(i)));
    CHECK(n != "unknown");
    names.insert(n);
  }
  CHECK(names.size() == static_cast<std::size_t>(Errc::internal));
  // Values are part of the ABI: appending only.
  CHECK(static_cast<int>(Errc::malformed) == 1);
  CHECK(static_cast<int>(Errc::store_unavailable) == 15);
  CHECK(static_cast<int>(Errc::internal) == 20);
}

TEST_CASE("Errc works as a std::error_code") {
  std::error_code ec = Errc::revoked;
  CHECK(ec.category().name() == std::string("jwtkit"));
  CHECK(ec.message() == "revoked");
  CHECK(ec == Errc::revoked);
  CHECK(&ec.category() == &jwtkit::error_category());
  Error e(Errc::expired, "token expired");
  std::error_code from_error = e;
  CHECK(from_error == Errc::expired);
  CHECK(e.to_string() == "expired: token expired");
}

TEST_CASE("Result holds a value or an error") {
  Result<int> good = 42;
  REQUIRE(good.ok());
  CHECK(*good == 42);
  CHECK(good.value_or(7) == 42);
  Result<int> bad = Error(Errc::malformed, "nope");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code() == Errc::malformed);
  CHECK(bad.value_or(7) == 7);
  CHECK_THROWS_AS(bad.value(), jwtkit::BadResultAccess);
  CHECK_THROWS_AS(good.error(), jwtkit::BadResultAccess);

  Result<std::unique_ptr<int>> move_only = std::make_unique<int>(5);
  REQUIRE(move_only.ok());
  std::unique_ptr<int> taken = std::move(move_only).value();
  CHECK(*taken == 5);

  Result<void> done;
  CHECK(done.ok());
  Result<void> failed = Error(Errc::store_unavailable, "down");
  CHECK_FALSE(failed.ok());
  CHECK(failed.error().code() == Errc::store_unavailable);
  CHECK_THROWS_AS(failed.value(), jwtkit::BadResultAccess);
  failed.ignore();
}
