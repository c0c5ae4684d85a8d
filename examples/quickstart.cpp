// jwtkit quick start: issue, verify, refresh, detect refresh-token reuse, revoke, rotate the
// signing key and publish the JWKS, with the in-memory stores. Exits non-zero if any step
// does not behave as described.
#include <jwtkit/jwtkit.hpp>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

namespace {

int failures = 0;

/// Prints one step and whether it behaved.
void step(bool good, const std::string& what) {
  std::cout << (good ? "  ok    " : "  FAIL  ") << what << "\n";
  if (!good) ++failures;
}

template <class T>
std::string describe(const jwtkit::Result<T>& r) {
  return r.ok() ? std::string("ok") : r.error().to_string();
}

template <class T>
bool failed_with(const jwtkit::Result<T>& r, jwtkit::Errc code) {
  return !r.ok() && r.error().code() == code;
}

std::string shorten(const std::string& token) {
  return token.size() > 40 ? token.substr(0, 20) + "..." + token.substr(token.size() - 12) : token;
}

}  // namespace

int main() {
  std::cout << "jwtkit quick start\n\n";

  // 1. An engine on in-memory stores (the embedded default). The first key is generated.
  jwtkit::EngineOptions options;
  options.issuer = "https://auth.example.com";
  options.audiences = {"api.example.com"};
  options.signing_alg = jwtkit::Alg::ES256;  // RS256 by default; PS256, EdDSA, HS256...
  auto engine = jwtkit::Engine::create(std::make_shared<jwtkit::MemoryKeyStore>(),
                                       std::make_shared<jwtkit::MemoryRevocationStore>(),
                                       options);
  if (!engine) {
    std::cerr << "error: " << engine.error().to_string() << "\n";
    return EXIT_FAILURE;
  }
  const std::string first_kid = engine->active_kid();
  std::cout << "engine ready, signing key " << first_kid << "\n\n";

  // 2. Log in: an access token and a refresh token of one session.
  jwtkit::IssueOptions access;
  access.claims = {{"scope", "orders:read"}};
  auto pair = engine->issue_pair("user-42", access);
  step(pair.ok(), "issue a token pair: " + describe(pair));
  if (!pair) return EXIT_FAILURE;
  std::cout << "        access  " << shorten(pair->access_token) << "\n"
            << "        refresh " << shorten(pair->refresh_token) << "\n";

  // 3. A resource server checks the access token.
  auto token = engine->verify_access(pair->access_token);
  step(token.ok() && token->subject() == "user-42" && token->claim("scope") &&
           *token->claim("scope") == "orders:read",
       "verify the access token: " + describe(token) +
           (token ? " (sub " + token->subject() + ", scope " + token->claim("scope")->dump() + ")"
                  : std::string()));

  // 4. The client refreshes: a new pair in the same session; the old refresh token is used up.
  auto next = engine->refresh(pair->refresh_token);
  step(next.ok() && next->session_id == pair->session_id,
       "refresh: " + describe(next) + " (same session " + pair->session_id + ")");
  if (!next) return EXIT_FAILURE;
  step(engine->verify_access(next->access_token).ok(), "verify the new access token");

  // 5. Someone replays the old refresh token: detected, and the whole session is revoked.
  auto replay = engine->refresh(pair->refresh_token);
  step(failed_with(replay, jwtkit::Errc::refresh_reused),
       "reuse the old refresh token: " + describe(replay));
  auto after = engine->verify_access(next->access_token);
  step(failed_with(after, jwtkit::Errc::revoked),
       "the session's newer access token is now refused: " + describe(after));

  // 6. A new login, then an explicit revocation (logout of one token).
  auto login = engine->issue_pair("user-42");
  step(login.ok(), "log in again: " + describe(login));
  if (!login) return EXIT_FAILURE;
  auto revoked = engine->revoke(login->access_token);
  step(revoked.ok(), "revoke the access token: " + describe(revoked));
  auto rejected = engine->verify_access(login->access_token);
  step(failed_with(rejected, jwtkit::Errc::revoked),
       "verify the revoked token: " + describe(rejected));
  auto sessions = engine->session_count("user-42");
  step(sessions.ok() && *sessions == 1,
       "active sessions of user-42: " + (sessions ? std::to_string(*sessions) : describe(sessions)));

  // 7. Rotate the signing key. Tokens signed by the old key keep verifying until they expire.
  auto old_key_token = engine->issue_access("user-7");
  auto new_kid = engine->rotate_key();
  step(new_kid.ok() && *new_kid != first_kid && engine->active_kid() == *new_kid,
       "rotate the signing key: " + (new_kid ? *new_kid : describe(new_kid)));
  step(old_key_token.ok() && engine->verify_access(*old_key_token).ok(),
       "a token signed before the rotation still verifies");
  auto fresh = engine->issue_access("user-7");
  auto fresh_verified = fresh ? engine->verify_access(*fresh)
                              : jwtkit::Result<jwtkit::VerifiedToken>(fresh.error());
  step(fresh_verified.ok() && fresh_verified->kid() == engine->active_kid(),
       "a new token is signed with the new key");

  // 8. Publish the JWKS: both keys, public members only.
  const auto jwks = engine->jwks();
  step(jwks.at("keys").size() == 2, "the JWKS lists the old and the new key");
  std::cout << "\nGET /.well-known/jwks.json\n" << jwks.dump(2) << "\n\n";

  if (failures > 0) {
    std::cout << failures << " step(s) did not behave\n";
    return EXIT_FAILURE;
  }
  std::cout << "all steps behaved\n";
  return EXIT_SUCCESS;
}
