// Private: what a jwtkit::Key holds.
#pragma once

#include <jwtkit/key.hpp>

#include "ossl.hpp"

#include <openssl/crypto.h>

#include <optional>
#include <string>
#include <vector>

namespace jwtkit::detail {

struct KeyImpl {
  KeyType type = KeyType::oct;
  PkeyPtr pkey;        // asymmetric keys
  std::string secret;  // HMAC secrets (wiped on destruction)
  bool has_private = false;
  std::size_t bits = 0;
  std::string kid;
  std::optional<Alg> alg;
  std::optional<std::string> use;
  std::optional<std::vector<std::string>> key_ops;

  KeyImpl() = default;
  KeyImpl(const KeyImpl& other);
  KeyImpl& operator=(const KeyImpl&) = delete;
  ~KeyImpl() {
    if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
  }

  static Key wrap(std::shared_ptr<const KeyImpl> impl) noexcept { return Key(std::move(impl)); }
};

/// Size in bytes of one coordinate / scalar of the key's curve (0 if not EC).
std::size_t ec_field_bytes(KeyType type) noexcept;

}  // namespace jwtkit::detail
