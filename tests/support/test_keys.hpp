// Keys for tests, generated once per test binary (RSA generation is slow): one private key
// per algorithm family, shared by every test case of the binary.
#pragma once

#include <jwtkit/alg.hpp>
#include <jwtkit/key.hpp>

#include <map>
#include <mutex>
#include <stdexcept>

namespace jwtkit_test {

/// A private key (or HMAC secret) that serves `alg`. RS* and PS* share one 2048-bit RSA key;
/// HS* secrets are exactly the hash size.
inline const jwtkit::Key& signing_key(jwtkit::Alg alg) {
  static std::mutex mu;
  static std::map<int, jwtkit::Key> keys;
  using jwtkit::Alg;
  Alg canonical = jwtkit::key_type_for(alg) == jwtkit::KeyType::rsa ? Alg::RS256 : alg;
  std::lock_guard<std::mutex> lock(mu);
  auto it = keys.find(static_cast<int>(canonical));
  if (it == keys.end()) {
    auto k = jwtkit::Key::generate(canonical);
    if (!k) throw std::runtime_error("test key generation failed: " + k.error().to_string());
    it = keys.emplace(static_cast<int>(canonical), *k).first;
  }
  return it->second;
}

/// The key that verifies `alg` tokens of signing_key(alg): its public half (the secret for HS*).
inline jwtkit::Key verifying_key(jwtkit::Alg alg) {
  const jwtkit::Key& k = signing_key(alg);
  if (k.is_symmetric()) return k;
  auto pub = k.public_key();
  if (!pub) throw std::runtime_error("public_key failed: " + pub.error().to_string());
  return *pub;
}

}  // namespace jwtkit_test
