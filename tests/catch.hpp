// One include for Catch2 v2 (Debian) and v3 (vcpkg). Tests use only the common subset:
// TEST_CASE, SECTION, REQUIRE/CHECK (+_FALSE, _THROWS_AS), GENERATE, string matchers.
#pragma once

#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
namespace jwtkit_test {
inline auto contains(const std::string& s) { return Catch::Matchers::ContainsSubstring(s); }
}  // namespace jwtkit_test
#else
#include <catch2/catch.hpp>
namespace jwtkit_test {
inline auto contains(const std::string& s) { return Catch::Matchers::Contains(s); }
}  // namespace jwtkit_test
#endif
