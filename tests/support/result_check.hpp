// Test helpers that turn a jwtkit::Result into a string Catch can print, so a failing
// REQUIRE shows the error instead of "false".
#pragma once

#include <jwtkit/error.hpp>
#include <jwtkit/result.hpp>

#include <string>

namespace jwtkit_test {

/// "ok", or the full "<code>: <message>" of the error.
template <class T>
std::string status(const jwtkit::Result<T>& r) {
  return r.ok() ? std::string("ok") : r.error().to_string();
}

/// "ok", or the stable name of the error code (e.g. "revoked").
template <class T>
std::string code(const jwtkit::Result<T>& r) {
  return r.ok() ? std::string("ok") : std::string(jwtkit::to_string(r.error().code()));
}

}  // namespace jwtkit_test
