// KeyStore: where the engine keeps its signing keys.
#pragma once

#include <jwtkit/alg.hpp>
#include <jwtkit/clock.hpp>
#include <jwtkit/export.hpp>
#include <jwtkit/key.hpp>
#include <jwtkit/result.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jwtkit {

/// Life cycle of a signing key.
enum class KeyState {
  next,      ///< published in the JWKS, not yet signing
  active,    ///< signing (at most one key is active)
  retiring,  ///< verify-only, until tokens it signed have expired
  retired,   ///< neither signs nor verifies; kept only until removed
};

JWTKIT_EXPORT std::string_view to_string(KeyState state) noexcept;
JWTKIT_EXPORT std::optional<KeyState> parse_key_state(std::string_view name) noexcept;

/// A signing key and its metadata.
struct KeyRecord {
  Key key;  ///< the private key (or HMAC secret); its kid is the record's id
  Alg alg;
  KeyState state = KeyState::next;
  TimePoint created_at{};
  /// When the key stopped signing (set when it leaves `active`).
  std::optional<TimePoint> sign_until;
  /// After this the key no longer verifies (set when it starts `retiring`).
  std::optional<TimePoint> verify_until;

  const std::string& kid() const noexcept { return key.kid(); }
};

/// The JSON form of a record, as the file and Redis stores keep it:
/// `{"kid","alg","state","created_at","sign_until","verify_until","jwk"}` with times as Unix
/// seconds (null when unset) and `jwk` the PRIVATE JWK: handle the text as a secret. For
/// custom KeyStore implementations too. `indent` as nlohmann::json::dump (-1: compact).
/// Errors: invalid_argument (no kid), key_mismatch (the key has no private part).
JWTKIT_EXPORT Result<std::string> key_record_to_json(const KeyRecord& record, int indent = -1);

/// Parses that form (strictly), checking every member and the key itself. The key's kid is
/// the record's kid. Errors: malformed, with a message saying what is wrong.
JWTKIT_EXPORT Result<KeyRecord> key_record_from_json(std::string_view json);

/// The rule every KeyStore applies in save_if_active, given how many stored keys are active
/// and whether `expected_active_kid` is one of them.
inline bool key_store_expectation_holds(std::size_t active_count, bool expected_is_active,
                                        std::string_view expected_active_kid) noexcept {
  return expected_active_kid.empty() ? active_count == 0 : active_count == 1 && expected_is_active;
}

/// Persistent storage of signing keys. Every call reports failure through its Result;
/// implementations must be thread-safe.
class JWTKIT_EXPORT KeyStore {
 public:
  virtual ~KeyStore();

  /// Every stored record. Errors: store_unavailable, io_error, malformed (a corrupt entry,
  /// named in the message).
  virtual Result<std::vector<KeyRecord>> load_all() = 0;

  /// Inserts or replaces the record with this kid. Returns only once the write is durable.
  virtual Result<void> save(const KeyRecord& record) = 0;

  /// Removes the record with this kid; removing an absent kid succeeds.
  virtual Result<void> remove(std::string_view kid) = 0;

  /// Atomically saves `records` (insert or replace), but only if the currently active key
  /// is still `expected_active_kid` (empty: no key is active): exactly one key is active and
  /// it is that one, or none is and the expectation is empty (see
  /// key_store_expectation_holds). This is how rotation stays
  /// safe when several app instances share a store: of two concurrent rotations one wins,
  /// the other gets store_conflict and should reload.
  virtual Result<void> save_if_active(std::string_view expected_active_kid,
                                      const std::vector<KeyRecord>& records) = 0;
};

}  // namespace jwtkit
