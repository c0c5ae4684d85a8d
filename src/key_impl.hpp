// Private: what a jwtkit::Key holds.
#pragma once

#include <jwtkit/key.hpp>
#include <jwtkit/result.hpp>

#include "ossl.hpp"

#include <openssl/crypto.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace jwtkit::detail {

/// A few reusable OpenSSL contexts, lock-free: take() hands one out or nullptr, give() puts
/// one back (or frees it when every slot is full). Threads never share a context.
template <class T, void (*Free)(T*)>
class CtxPool {
 public:
  CtxPool() = default;
  CtxPool(const CtxPool&) = delete;
  CtxPool& operator=(const CtxPool&) = delete;
  ~CtxPool() {
    for (auto& s : slots_) Free(s.load(std::memory_order_acquire));
  }
  T* take() noexcept {
    for (auto& s : slots_) {
      if (s.load(std::memory_order_relaxed) == nullptr) continue;
      if (T* p = s.exchange(nullptr, std::memory_order_acq_rel)) return p;
    }
    return nullptr;
  }
  void give(T* p) noexcept {
    for (auto& s : slots_) {
      T* expected = nullptr;
      if (s.compare_exchange_strong(expected, p, std::memory_order_acq_rel)) return;
    }
    Free(p);
  }

 private:
  std::array<std::atomic<T*>, 4> slots_{};
};

using PkeyCtxPool = CtxPool<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using MdCtxPool = CtxPool<EVP_MD_CTX, EVP_MD_CTX_free>;

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

  // Ready-made contexts for the sign/verify path (not copied with the key).
  /// HMAC contexts keyed with the secret, per hash (HS256, HS384, HS512); duplicated per call.
  std::array<MacCtxPtr, 3> hmac_templates;
  /// Signature contexts per (sign?, algorithm), initialised with digest and padding.
  mutable std::array<PkeyCtxPool, 2 * kAllAlgs.size()> sig_ctx;
  /// Digest contexts for Ed25519 (sign, verify).
  mutable std::array<MdCtxPool, 2> ed_ctx;

  /// Unique for the life of the process (never reused, unlike an address): names this
  /// key's contexts in per-thread caches.
  const std::uint64_t id = next_id();

  KeyImpl() = default;
  KeyImpl(const KeyImpl& other);
  KeyImpl& operator=(const KeyImpl&) = delete;
  ~KeyImpl() {
    if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
  }

  static Key wrap(std::shared_ptr<const KeyImpl> impl) noexcept { return Key(std::move(impl)); }

 private:
  static std::uint64_t next_id() noexcept {
    static std::atomic<std::uint64_t> counter{0};
    return counter.fetch_add(1, std::memory_order_relaxed) + 1;
  }
};

/// Builds the HMAC templates of an oct key (one per hash the secret is long enough for).
Result<void> prepare_hmac(KeyImpl& k);

/// Size in bytes of one coordinate / scalar of the key's curve (0 if not EC).
std::size_t ec_field_bytes(KeyType type) noexcept;

}  // namespace jwtkit::detail
