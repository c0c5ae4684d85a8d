// Private: RAII handles for OpenSSL objects and conversion of its error queue into Error.
#pragma once

#include <jwtkit/alg.hpp>
#include <jwtkit/error.hpp>

#include <openssl/bn.h>
#include <openssl/evp.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace jwtkit::detail {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const noexcept { Free(p); }
};
template <class T, void (*Free)(T*)>
using Handle = std::unique_ptr<T, Deleter<T, Free>>;

using PkeyPtr = Handle<EVP_PKEY, EVP_PKEY_free>;
using PkeyCtxPtr = Handle<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using MdCtxPtr = Handle<EVP_MD_CTX, EVP_MD_CTX_free>;
using BnPtr = Handle<BIGNUM, BN_free>;
using MacCtxPtr = Handle<EVP_MAC_CTX, EVP_MAC_CTX_free>;

/// Drains OpenSSL's thread-local error queue into one line ("" when empty).
std::string drain_openssl_errors();

/// An Error with `code` whose message is `what` plus the drained OpenSSL detail.
Error openssl_error(Errc code, std::string what);

/// Clears the error queue (after an expected failure, such as a bad signature).
void clear_openssl_errors() noexcept;

/// Hash used by an algorithm (nullptr for EdDSA). Fetched once, shared, thread-safe.
const EVP_MD* digest_for(Alg alg) noexcept;
/// Output size of that hash in bytes (0 for EdDSA).
std::size_t digest_size(Alg alg) noexcept;

/// Big-endian bytes of a BIGNUM, left-padded with zeros to `width` (0: minimal length).
std::string bn_to_bytes(const BIGNUM* bn, std::size_t width = 0);

}  // namespace jwtkit::detail
