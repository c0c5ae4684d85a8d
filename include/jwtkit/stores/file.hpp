// FileKeyStore: signing keys in a directory, one file per key.
#pragma once

#include <jwtkit/export.hpp>
#include <jwtkit/key_store.hpp>
#include <jwtkit/result.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace jwtkit {

/// Keeps signing keys as JSON files in one directory, for a single host (several processes
/// may share it: writes that must be atomic take an flock on a lock file in the directory).
///
/// The store names the files itself (`key-<hex SHA-256 of the kid>.json`), so a kid never
/// becomes a path. Each file holds {kid, alg, state, created_at, sign_until, verify_until,
/// jwk} with the private JWK; it is created 0600 (the directory 0700 when the store creates
/// it) and written to a temporary file, fsync'ed, renamed into place, and the directory
/// fsync'ed. Times are kept in whole seconds. Thread-safe.
class JWTKIT_EXPORT FileKeyStore final : public KeyStore {
 public:
  /// Opens `dir`, creating it (mode 0700) if it does not exist.
  /// Errors: io_error (not a directory, cannot be created or read).
  static Result<std::shared_ptr<FileKeyStore>> open(const std::string& dir);

  /// Errors: io_error, or malformed naming the file that is corrupt.
  Result<std::vector<KeyRecord>> load_all() override;
  /// Errors: invalid_argument (no kid), io_error, crypto_error.
  Result<void> save(const KeyRecord& record) override;
  Result<void> remove(std::string_view kid) override;
  /// Writes every record or none (all files are written before any is renamed into place).
  Result<void> save_if_active(std::string_view expected_active_kid,
                              const std::vector<KeyRecord>& records) override;

  const std::string& directory() const noexcept { return dir_; }
  /// The file that holds (or would hold) the record with this kid.
  Result<std::string> path_for(std::string_view kid) const;

 private:
  explicit FileKeyStore(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace jwtkit
