#include <jwtkit/key_store.hpp>
#include <jwtkit/revocation_store.hpp>

namespace jwtkit {

std::string_view to_string(KeyState state) noexcept {
  switch (state) {
    case KeyState::next: return "next";
    case KeyState::active: return "active";
    case KeyState::retiring: return "retiring";
    case KeyState::retired: return "retired";
  }
  return "unknown";
}

std::optional<KeyState> parse_key_state(std::string_view name) noexcept {
  for (KeyState s : {KeyState::next, KeyState::active, KeyState::retiring, KeyState::retired}) {
    if (to_string(s) == name) return s;
  }
  return std::nullopt;
}

KeyStore::~KeyStore() = default;
RevocationStore::~RevocationStore() = default;

Result<bool> RevocationStore::is_revoked(const TokenRef& token) {
  if (!token.jti.empty()) {
    auto r = is_token_revoked(token.jti);
    if (!r) return r.error();
    if (*r) return true;
  }
  if (!token.session_id.empty()) {
    auto r = is_session_revoked(token.session_id);
    if (!r) return r.error();
    if (*r) return true;
  }
  if (!token.subject.empty()) {
    auto r = subject_revoked_before(token.subject);
    if (!r) return r.error();
    if (*r && token.issued_at <= **r) return true;
  }
  return false;
}

}  // namespace jwtkit
