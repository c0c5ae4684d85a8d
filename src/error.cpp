#include <jwtkit/error.hpp>
#include <jwtkit/result.hpp>

#include <string>

namespace jwtkit {

std::string_view to_string(Errc code) noexcept {
  switch (code) {
    case Errc::malformed: return "malformed";
    case Errc::unsupported_alg: return "unsupported_alg";
    case Errc::alg_not_allowed: return "alg_not_allowed";
    case Errc::key_mismatch: return "key_mismatch";
    case Errc::bad_signature: return "bad_signature";
    case Errc::key_not_found: return "key_not_found";
    case Errc::expired: return "expired";
    case Errc::not_yet_valid: return "not_yet_valid";
    case Errc::bad_issuer: return "bad_issuer";
    case Errc::bad_audience: return "bad_audience";
    case Errc::bad_type: return "bad_type";
    case Errc::missing_claim: return "missing_claim";
    case Errc::revoked: return "revoked";
    case Errc::refresh_reused: return "refresh_reused";
    case Errc::store_unavailable: return "store_unavailable";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::io_error: return "io_error";
    case Errc::crypto_error: return "crypto_error";
    case Errc::store_conflict: return "store_conflict";
    case Errc::internal: return "internal";
  }
  return "unknown";
}

namespace {
class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "jwtkit"; }
  std::string message(int ev) const override {
    return std::string(to_string(static_cast<Errc>(ev)));
  }
};
}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(Errc code) noexcept {
  return {static_cast<int>(code), error_category()};
}

std::string Error::to_string() const {
  std::string out(jwtkit::to_string(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

BadResultAccess::BadResultAccess(const Error& e)
    : std::logic_error("jwtkit::Result accessed without a value: " + e.to_string()), error_(e) {}

}  // namespace jwtkit
