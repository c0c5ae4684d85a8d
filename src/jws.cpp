#include <jwtkit/base64url.hpp>
#include <jwtkit/json.hpp>
#include <jwtkit/jws.hpp>

#include "base64url_detail.hpp"
#include "json_scan.hpp"
#include "key_impl.hpp"
#include "ossl.hpp"
#include "text.hpp"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>

#include <algorithm>

namespace jwtkit {

namespace {

using json = nlohmann::json;

bool is_pss(Alg a) { return a == Alg::PS256 || a == Alg::PS384 || a == Alg::PS512; }

EVP_MAC* hmac() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

std::size_t hmac_index(Alg alg) { return alg == Alg::HS256 ? 0 : alg == Alg::HS384 ? 1 : 2; }

// HMAC contexts cached per thread, keyed by (key id, hash). Duplicating the key's template
// on every call (EVP_MAC_CTX_dup) touches reference counts shared by all threads, and that
// stopped two threads from going faster than one; a context of this thread's own, re-armed
// with EVP_MAC_init(ctx, NULL, ...) (same key), touches nothing shared.
class ThreadMacCache {
 public:
  ~ThreadMacCache() {
    for (auto& e : entries_) EVP_MAC_CTX_free(e.ctx);
  }
  EVP_MAC_CTX* get(const detail::KeyImpl& k, std::size_t index) {
    for (auto& e : entries_) {
      if (e.ctx != nullptr && e.key_id == k.id && e.index == index) {
        if (EVP_MAC_init(e.ctx, nullptr, 0, nullptr) == 1) return e.ctx;
        EVP_MAC_CTX_free(e.ctx);
        e.ctx = nullptr;
        return nullptr;
      }
    }
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(k.hmac_templates[index].get());
    if (ctx == nullptr) return nullptr;
    Entry& slot = entries_[next_++ % entries_.size()];  // evict round-robin
    EVP_MAC_CTX_free(slot.ctx);
    slot = Entry{k.id, index, ctx};
    return ctx;
  }

 private:
  struct Entry {
    std::uint64_t key_id = 0;
    std::size_t index = 0;
    EVP_MAC_CTX* ctx = nullptr;
  };
  std::array<Entry, 8> entries_{};
  std::size_t next_ = 0;
};

// The HMAC of `data` into `out` (EVP_MAX_MD_SIZE bytes); returns its length, 0 on failure.
// check_alg has made sure the secret is long enough, so a missing template means its set-up
// (an allocation) failed.
std::size_t hmac_into(const detail::KeyImpl& k, std::size_t index, std::string_view data, unsigned char* out) {
  if (!k.hmac_templates[index]) return 0;
  thread_local ThreadMacCache cache;
  EVP_MAC_CTX* ctx = cache.get(k, index);
  std::size_t len = 0;
  if (ctx == nullptr || EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
      EVP_MAC_final(ctx, out, &len, EVP_MAX_MD_SIZE) != 1) {
    return 0;
  }
  return len;
}

Result<std::string> hmac_tag(const detail::KeyImpl& k, Alg alg, std::string_view data) {
  unsigned char tag[EVP_MAX_MD_SIZE];
  const std::size_t len = hmac_into(k, hmac_index(alg), data, tag);
  if (len == 0) return detail::openssl_error(Errc::crypto_error, "HMAC failed");
  return std::string(reinterpret_cast<const char*>(tag), len);
}

// A signature context for (key, alg, sign?) set up with digest and padding, taken from the
// key's pool and given back when done. Only a context whose last use succeeded goes back.
class PooledSigCtx {
 public:
  PooledSigCtx(const detail::KeyImpl& k, Alg alg, bool sign)
      : pool_(k.sig_ctx[(sign ? kAllAlgs.size() : 0) + static_cast<std::size_t>(alg)]) {
    ctx_ = pool_.take();
    if (ctx_ == nullptr) ctx_ = make(k, alg, sign);
  }
  ~PooledSigCtx() {
    if (ctx_ == nullptr) return;
    if (reusable_) {
      pool_.give(ctx_);
    } else {
      EVP_PKEY_CTX_free(ctx_);
    }
  }
  PooledSigCtx(const PooledSigCtx&) = delete;
  PooledSigCtx& operator=(const PooledSigCtx&) = delete;

  EVP_PKEY_CTX* get() const noexcept { return ctx_; }
  void reusable() noexcept { reusable_ = true; }

 private:
  static EVP_PKEY_CTX* make(const detail::KeyImpl& k, Alg alg, bool sign) {
    EVP_PKEY_CTX* c = EVP_PKEY_CTX_new_from_pkey(nullptr, k.pkey.get(), nullptr);
    if (c == nullptr) return nullptr;
    const EVP_MD* md = detail::digest_for(alg);
    bool ok = (sign ? EVP_PKEY_sign_init(c) : EVP_PKEY_verify_init(c)) == 1 &&
              EVP_PKEY_CTX_set_signature_md(c, md) == 1;
    if (ok && is_pss(alg)) {
      // RFC 7518 3.5: MGF1 with the same hash, salt as long as the hash.
      ok = EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(c, RSA_PSS_SALTLEN_DIGEST) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(c, md) == 1;
    } else if (ok && key_type_for(alg) == KeyType::rsa) {
      ok = EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1;
    }
    if (!ok) {
      EVP_PKEY_CTX_free(c);
      return nullptr;
    }
    return c;
  }

  detail::PkeyCtxPool& pool_;
  EVP_PKEY_CTX* ctx_ = nullptr;
  bool reusable_ = false;
};

// The same for Ed25519, whose one-shot API needs a digest context initialised per call.
class PooledEdCtx {
 public:
  PooledEdCtx(const detail::KeyImpl& k, bool sign) : pool_(k.ed_ctx[sign ? 1 : 0]) {
    ctx_ = pool_.take();
    if (ctx_ == nullptr) ctx_ = EVP_MD_CTX_new();
    if (ctx_ != nullptr &&
        (sign ? EVP_DigestSignInit(ctx_, nullptr, nullptr, nullptr, k.pkey.get())
              : EVP_DigestVerifyInit(ctx_, nullptr, nullptr, nullptr, k.pkey.get())) != 1) {
      EVP_MD_CTX_free(ctx_);
      ctx_ = nullptr;
    }
  }
  ~PooledEdCtx() {
    if (ctx_ != nullptr) pool_.give(ctx_);
  }
  PooledEdCtx(const PooledEdCtx&) = delete;
  PooledEdCtx& operator=(const PooledEdCtx&) = delete;
  EVP_MD_CTX* get() const noexcept { return ctx_; }

 private:
  detail::MdCtxPool& pool_;
  EVP_MD_CTX* ctx_ = nullptr;
};

struct Digest {
  unsigned char bytes[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
};

bool digest(Alg alg, std::string_view data, Digest& out) {
  return EVP_Digest(data.data(), data.size(), out.bytes, &out.size, detail::digest_for(alg), nullptr) == 1;
}

using EcdsaSigPtr = detail::Handle<ECDSA_SIG, ECDSA_SIG_free>;

// Group order of each supported curve, computed once.
const BIGNUM* curve_order(KeyType t) {
  struct Orders {
    EC_GROUP* p256 = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_GROUP* p384 = EC_GROUP_new_by_curve_name(NID_secp384r1);
    EC_GROUP* p521 = EC_GROUP_new_by_curve_name(NID_secp521r1);
    ~Orders() { EC_GROUP_free(p256); EC_GROUP_free(p384); EC_GROUP_free(p521); }
  };
  static const Orders o;
  switch (t) {
    case KeyType::ec_p256: return EC_GROUP_get0_order(o.p256);
    case KeyType::ec_p384: return EC_GROUP_get0_order(o.p384);
    case KeyType::ec_p521: return EC_GROUP_get0_order(o.p521);
    default: return nullptr;
  }
}

Result<std::string> der_to_raw(const std::string& der, std::size_t width) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return detail::openssl_error(Errc::crypto_error, "cannot parse ECDSA signature");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  return detail::bn_to_bytes(r, width) + detail::bn_to_bytes(s, width);
}

// JWS r||s to DER, refusing anything but exactly 2*width bytes with 0 < r, s < n.
Result<std::string> raw_to_der(std::string_view raw, KeyType type) {
  std::size_t width = detail::ec_field_bytes(type);
  if (raw.size() != 2 * width) {
    return Error(Errc::bad_signature, "ECDSA signature must be " + std::to_string(2 * width) +
                                          " bytes (r||s), got " + std::to_string(raw.size()));
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  detail::BnPtr r(BN_bin2bn(bytes, static_cast<int>(width), nullptr));
  detail::BnPtr s(BN_bin2bn(bytes + width, static_cast<int>(width), nullptr));
  if (!r || !s) return detail::openssl_error(Errc::crypto_error, "out of memory");
  const BIGNUM* n = curve_order(type);
  if (n == nullptr) return detail::openssl_error(Errc::crypto_error, "curve order unavailable");
  if (BN_is_zero(r.get()) || BN_is_zero(s.get()) || BN_cmp(r.get(), n) >= 0 || BN_cmp(s.get(), n) >= 0) {
    return Error(Errc::bad_signature, "ECDSA r or s out of range");
  }
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return detail::openssl_error(Errc::crypto_error, "out of memory");
  }
  r.release();
  s.release();
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return detail::openssl_error(Errc::crypto_error, "cannot encode ECDSA signature");
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

const auto* bytes_of(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace

namespace detail {

Result<void> prepare_hmac(KeyImpl& k) {
  const Alg algs[] = {Alg::HS256, Alg::HS384, Alg::HS512};
  for (std::size_t i = 0; i < 3; ++i) {
    if (k.secret.size() < digest_size(algs[i])) continue;  // too short: check_alg refuses it
    MacCtxPtr ctx(EVP_MAC_CTX_new(hmac()));
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 const_cast<char*>(EVP_MD_get0_name(digest_for(algs[i]))), 0);
    params[1] = OSSL_PARAM_construct_end();
    if (!ctx || EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(k.secret.data()),
                             k.secret.size(), params) != 1) {
      return openssl_error(Errc::crypto_error, "cannot set up HMAC");
    }
    k.hmac_templates[i] = std::move(ctx);
  }
  return ok();
}

}  // namespace detail

Result<std::string> create_signature(const Key& key, Alg alg, std::string_view signing_input) {
  if (auto ok = key.check_alg(alg); !ok) return ok.error();
  if (!key.can_sign()) return Error(Errc::key_mismatch, "a public key cannot sign");
  const detail::KeyImpl& k = key.impl();
  if (k.type == KeyType::oct) return hmac_tag(k, alg, signing_input);

  std::string sig;
  if (k.type == KeyType::ed25519) {
    PooledEdCtx ctx(k, true);
    std::size_t len = 64;
    sig.resize(len);
    if (ctx.get() == nullptr ||
        EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, bytes_of(signing_input),
                       signing_input.size()) != 1) {
      return detail::openssl_error(Errc::crypto_error, "signing failed");
    }
    sig.resize(len);
    return sig;
  }
  Digest d;
  PooledSigCtx ctx(k, alg, true);
  std::size_t len = static_cast<std::size_t>(EVP_PKEY_get_size(k.pkey.get()));
  sig.resize(len);
  if (ctx.get() == nullptr || !digest(alg, signing_input, d) ||
      EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, d.bytes, d.size) != 1) {
    return detail::openssl_error(Errc::crypto_error, "signing failed");
  }
  ctx.reusable();
  sig.resize(len);
  std::size_t width = detail::ec_field_bytes(k.type);
  if (width != 0) return der_to_raw(sig, width);
  return sig;
}

namespace {
// The signature check proper; the caller has already run key.check_alg(alg).
Result<void> verify_checked(const Key& key, Alg alg, std::string_view signing_input,
                            std::string_view signature) noexcept {
  try {
    const detail::KeyImpl& k = key.impl();
    if (k.type == KeyType::oct) {
      unsigned char tag[EVP_MAX_MD_SIZE];
      const std::size_t len = hmac_into(k, hmac_index(alg), signing_input, tag);
      if (len == 0) return detail::openssl_error(Errc::crypto_error, "HMAC failed");
      if (signature.size() != len || CRYPTO_memcmp(tag, signature.data(), len) != 0) {
        return Error(Errc::bad_signature, "HMAC does not match");
      }
      return ok();
    }
    std::string der;
    if (detail::ec_field_bytes(k.type) != 0) {
      auto converted = raw_to_der(signature, k.type);
      if (!converted) return converted.error();
      der = std::move(*converted);
      signature = der;
    } else if (k.type == KeyType::rsa &&
               signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(k.pkey.get()))) {
      return Error(Errc::bad_signature, "RSA signature length differs from the modulus length");
    }
    int rc = 0;
    if (k.type == KeyType::ed25519) {
      PooledEdCtx ctx(k, false);
      if (ctx.get() == nullptr) return detail::openssl_error(Errc::crypto_error, "cannot initialise verification");
      rc = EVP_DigestVerify(ctx.get(), bytes_of(signature), signature.size(), bytes_of(signing_input),
                            signing_input.size());
    } else {
      Digest d;
      PooledSigCtx ctx(k, alg, false);
      if (ctx.get() == nullptr || !digest(alg, signing_input, d)) {
        return detail::openssl_error(Errc::crypto_error, "cannot initialise verification");
      }
      rc = EVP_PKEY_verify(ctx.get(), bytes_of(signature), signature.size(), d.bytes, d.size);
      if (rc == 1) ctx.reusable();
    }
    detail::clear_openssl_errors();
    if (rc != 1) return Error(Errc::bad_signature, "signature does not verify");
    return ok();
  } catch (const std::exception& e) {
    return Error(Errc::internal, e.what());
  }
}
}  // namespace

Result<void> verify_signature(const Key& key, Alg alg, std::string_view signing_input,
                              std::string_view signature) noexcept {
  try {
    if (auto ok = key.check_alg(alg); !ok) return ok.error();
  } catch (const std::exception& e) {
    return Error(Errc::internal, e.what());
  }
  return verify_checked(key, alg, signing_input, signature);
}

Result<std::string> sign_compact(const Key& key, Alg alg, std::string_view payload,
                                 const nlohmann::json& extra_header) {
  if (!extra_header.is_object()) return Error(Errc::invalid_argument, "extra header must be a JSON object");
  json header = extra_header;
  if (auto it = header.find("alg"); it != header.end() && *it != to_string(alg)) {
    return Error(Errc::invalid_argument, "extra header sets a different alg");
  }
  header["alg"] = std::string(to_string(alg));
  if (!key.kid().empty() && !header.contains("kid")) header["kid"] = key.kid();
  std::string input = base64url::encode(header.dump()) + "." + base64url::encode(payload);
  auto sig = create_signature(key, alg, input);
  if (!sig) return sig.error();
  input += '.';
  input += base64url::encode(*sig);
  return input;
}

// ---- verifier -------------------------------------------------------------------------------

struct JwsVerifier::State {
  std::vector<Key> keys;
  JwsVerifierOptions options;
};

Result<JwsVerifier> JwsVerifier::create(std::vector<Key> keys, JwsVerifierOptions options) {
  if (options.allowed_algs.empty()) {
    return Error(Errc::invalid_argument, "a verifier needs a non-empty algorithm allow-list");
  }
  auto s = std::make_shared<State>();
  s->keys = std::move(keys);
  s->options = std::move(options);
  return JwsVerifier(std::move(s));
}

Result<JwsVerifier> JwsVerifier::create(const JwkSet& keys, JwsVerifierOptions options) {
  return create(keys.keys(), std::move(options));
}

const JwsVerifierOptions& JwsVerifier::options() const noexcept { return s_->options; }
const std::vector<Key>& JwsVerifier::keys() const noexcept { return s_->keys; }

namespace {
// Header parameters registered by RFC 7515/7519/8725 that `crit` must not name.
bool is_registered_header(const std::string& name) {
  static const char* kNames[] = {"alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256",
                                 "typ", "cty", "crit"};
  return std::any_of(std::begin(kNames), std::end(kNames), [&](const char* n) { return name == n; });
}
}  // namespace

Result<VerifiedJws> JwsVerifier::verify(std::string_view token) const noexcept {
  try {
    const auto& opt = s_->options;
    if (token.size() > opt.limits.max_token_bytes) {
      return Error(Errc::malformed, "token of " + std::to_string(token.size()) +
                                        " bytes exceeds the limit of " +
                                        std::to_string(opt.limits.max_token_bytes));
    }
    std::size_t d1 = token.find('.');
    std::size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
    if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
      return Error(Errc::malformed, "a compact JWS has exactly three dot-separated parts");
    }
    std::string_view h64 = token.substr(0, d1);
    std::string_view p64 = token.substr(d1 + 1, d2 - d1 - 1);
    std::string_view s64 = token.substr(d2 + 1);
    if (h64.empty()) return Error(Errc::malformed, "empty JWS header");

    auto header_bytes = base64url::decode(h64);
    if (!header_bytes) return Error(Errc::malformed, "header: " + header_bytes.error().message());
    thread_local detail::ScannedObject header;  // per-thread scratch, reused: no allocation
    if (auto r = detail::scan_object(*header_bytes, JsonLimits{opt.limits.max_token_bytes, opt.limits.max_json_depth},
                                     header);
        !r) {
      return Error(Errc::malformed, "header: " + r.error().message());
    }
    using Kind = detail::ScannedValue::Kind;

    const detail::ScannedValue* alg_v = header.find("alg");
    if (alg_v == nullptr || alg_v->kind != Kind::string) {
      return Error(Errc::malformed, "header has no string \"alg\"");
    }
    auto alg = parse_alg(alg_v->text);
    if (!alg) {
      if (alg_v->text == "none") return Error(Errc::unsupported_alg, "alg \"none\" (an unsecured JWS) is never accepted");
      return Error(Errc::unsupported_alg, "alg " + detail::quoted(alg_v->text) + " is not supported");
    }
    if (std::find(opt.allowed_algs.begin(), opt.allowed_algs.end(), *alg) == opt.allowed_algs.end()) {
      return Error(Errc::alg_not_allowed, "alg " + std::string(to_string(*alg)) + " is not on the allow-list");
    }

    if (s64.empty()) return Error(Errc::malformed, "empty JWS signature");

    if (const detail::ScannedValue* crit = header.find("crit")) {
      if (crit->kind != Kind::array || crit->strings.empty()) {
        return Error(Errc::malformed, "\"crit\" must be a non-empty array of strings");
      }
      if (!crit->all_strings) return Error(Errc::malformed, "\"crit\" entries must be strings");
      for (std::string_view n : crit->strings) {
        const std::string name(n);
        if (is_registered_header(name)) return Error(Errc::malformed, "\"crit\" names registered header " + detail::quoted(name));
        if (std::find(opt.understood_crit.begin(), opt.understood_crit.end(), name) == opt.understood_crit.end()) {
          return Error(Errc::malformed, "\"crit\" names " + detail::quoted(name) + ", which this verifier does not understand");
        }
        if (!header.contains(n)) return Error(Errc::malformed, "\"crit\" names " + detail::quoted(name) + ", which the header lacks");
      }
    }
    if (const detail::ScannedValue* b64 = header.find("b64");
        b64 != nullptr && !(b64->kind == Kind::boolean && b64->boolean)) {
      return Error(Errc::malformed, "unencoded payloads (RFC 7797 b64=false) are not supported");
    }

    std::string_view kid;
    bool has_kid = false;
    if (const detail::ScannedValue* k = header.find("kid")) {
      if (k->kind != Kind::string) return Error(Errc::malformed, "\"kid\" must be a string");
      kid = k->text;
      has_kid = true;
    }
    std::string typ;
    if (const detail::ScannedValue* t = header.find("typ")) {
      if (t->kind != Kind::string) return Error(Errc::malformed, "\"typ\" must be a string");
      typ = std::string(t->text);
    }

    auto payload = base64url::decode(p64);
    if (!payload) return Error(Errc::malformed, "payload: " + payload.error().message());
    // No signature jwtkit can check is longer than an RSA-16384 one: decode on the stack.
    unsigned char sig_buf[2048];
    const std::size_t sig_len = detail::base64url_decoded_size(s64);
    if (sig_len > sizeof sig_buf) return Error(Errc::bad_signature, "signature longer than any key allows");
    if (auto r = detail::base64url_decode_to(s64, sig_buf); !r) {
      return Error(Errc::malformed, "signature: " + r.error().message());
    }
    const std::string_view signature(reinterpret_cast<const char*>(sig_buf), sig_len);

    std::string_view signing_input = token.substr(0, d2);
    bool tried_signature = false;
    std::optional<Error> mismatch;
    for (const Key& key : s_->keys) {
      if (has_kid && key.kid() != kid) continue;
      if (auto fits = key.check_alg(*alg); !fits) {
        if (!mismatch) mismatch = fits.error();
        continue;
      }
      tried_signature = true;
      if (verify_checked(key, *alg, signing_input, signature)) {  // check_alg ran just above
        return VerifiedJws(std::move(*header_bytes), std::move(*payload), *alg, key.kid(), std::move(typ));
      }
    }
    if (tried_signature) return Error(Errc::bad_signature, "signature does not verify");
    if (mismatch) return *mismatch;
    return Error(Errc::key_not_found,
                 has_kid ? "no key with kid " + detail::quoted(kid) : std::string("no keys configured"));
  } catch (const std::bad_alloc&) {
    return Error(Errc::internal, "out of memory");
  } catch (const std::exception& e) {
    return Error(Errc::internal, std::string("unexpected: ") + e.what());
  }
}

}  // namespace jwtkit
