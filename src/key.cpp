#include <jwtkit/base64url.hpp>
#include <jwtkit/json.hpp>
#include <jwtkit/key.hpp>

#include "key_impl.hpp"
#include "ossl.hpp"

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <set>

namespace jwtkit {

namespace detail {

KeyImpl::KeyImpl(const KeyImpl& o)
    : type(o.type),
      secret(o.secret),
      has_private(o.has_private),
      bits(o.bits),
      kid(o.kid),
      alg(o.alg),
      use(o.use),
      key_ops(o.key_ops) {
  if (o.pkey) {
    EVP_PKEY_up_ref(o.pkey.get());
    pkey.reset(o.pkey.get());
  }
}

std::size_t ec_field_bytes(KeyType type) noexcept {
  switch (type) {
    case KeyType::ec_p256: return 32;
    case KeyType::ec_p384: return 48;
    case KeyType::ec_p521: return 66;
    default: return 0;
  }
}

}  // namespace detail

namespace {

using detail::BnPtr;
using detail::KeyImpl;
using detail::PkeyCtxPtr;
using detail::PkeyPtr;
using json = nlohmann::json;

constexpr std::size_t kMinRsaBits = 2048;
constexpr std::size_t kMaxRsaBits = 16384;
constexpr std::size_t kMinHmacBytes = 32;

Error malformed(std::string msg) { return Error(Errc::malformed, std::move(msg)); }
Error mismatch(std::string msg) { return Error(Errc::key_mismatch, std::move(msg)); }

struct CurveInfo {
  KeyType type;
  const char* jwk_name;      // "P-256"
  const char* openssl_name;  // "prime256v1"
};
constexpr std::array<CurveInfo, 3> kCurves = {{
    {KeyType::ec_p256, "P-256", "prime256v1"},
    {KeyType::ec_p384, "P-384", "secp384r1"},
    {KeyType::ec_p521, "P-521", "secp521r1"},
}};

const CurveInfo* curve_by_type(KeyType t) {
  for (const auto& c : kCurves) if (c.type == t) return &c;
  return nullptr;
}

Result<BnPtr> get_bn(const EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1 || bn == nullptr) {
    return detail::openssl_error(Errc::crypto_error, std::string("cannot read key parameter ") + name);
  }
  return BnPtr(bn);
}

// Checks an OpenSSL key and records what it is. `has_private` says whether the source held a
// private key. Rejects weak or inconsistent keys with a message saying why.
Result<std::shared_ptr<KeyImpl>> from_pkey(PkeyPtr pkey, bool has_private) {
  auto impl = std::make_shared<KeyImpl>();
  impl->has_private = has_private;
  EVP_PKEY* p = pkey.get();
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, p, nullptr));
  if (!ctx) return detail::openssl_error(Errc::crypto_error, "cannot create key context");

  if (EVP_PKEY_is_a(p, "RSA")) {
    impl->type = KeyType::rsa;
    impl->bits = static_cast<std::size_t>(EVP_PKEY_get_bits(p));
    if (impl->bits < kMinRsaBits) {
      return malformed("RSA modulus of " + std::to_string(impl->bits) + " bits is too small (minimum 2048)");
    }
    if (impl->bits > kMaxRsaBits) {
      return malformed("RSA modulus of " + std::to_string(impl->bits) + " bits is too large (maximum 16384)");
    }
    auto e = get_bn(p, OSSL_PKEY_PARAM_RSA_E);
    if (!e) return e.error();
    // With e = 1 a "signature" equals the padded message: anyone could forge.
    if (!BN_is_odd(e->get()) || BN_cmp(e->get(), BN_value_one()) <= 0 || BN_num_bits(e->get()) < 2) {
      return malformed("RSA public exponent must be odd and at least 3");
    }
    if (EVP_PKEY_public_check(ctx.get()) != 1) {
      return detail::openssl_error(Errc::malformed, "RSA public key fails validation");
    }
  } else if (EVP_PKEY_is_a(p, "EC")) {
    char group[64] = {0};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(p, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1) {
      return detail::openssl_error(Errc::malformed, "EC key without a named curve (explicit parameters are not supported)");
    }
    const CurveInfo* curve = nullptr;
    for (const auto& c : kCurves) if (std::strcmp(group, c.openssl_name) == 0) curve = &c;
    if (curve == nullptr) return malformed(std::string("unsupported EC curve ") + group);
    impl->type = curve->type;
    impl->bits = static_cast<std::size_t>(EVP_PKEY_get_bits(p));
    if (EVP_PKEY_public_check(ctx.get()) != 1) {
      return detail::openssl_error(Errc::malformed, "EC public point is not valid on its curve");
    }
  } else if (EVP_PKEY_is_a(p, "ED25519")) {
    impl->type = KeyType::ed25519;
    impl->bits = 256;
  } else if (EVP_PKEY_is_a(p, "RSA-PSS")) {
    return malformed("RSASSA-PSS restricted RSA keys are not supported; use a plain RSA key");
  } else {
    return malformed(std::string("unsupported key type ") +
                     (EVP_PKEY_get0_type_name(p) ? EVP_PKEY_get0_type_name(p) : "?"));
  }
  if (has_private && impl->type != KeyType::ed25519) {
    if (EVP_PKEY_pairwise_check(ctx.get()) != 1) {
      return detail::openssl_error(Errc::key_mismatch, "private key does not match its public key");
    }
  }
  detail::clear_openssl_errors();
  impl->pkey = std::move(pkey);
  return impl;
}

Key finish(std::shared_ptr<KeyImpl> impl) {
  Key k = KeyImpl::wrap(impl);
  if (impl->kid.empty() && impl->type != KeyType::oct) impl->kid = k.thumbprint();
  return k;
}

// ---- PEM -------------------------------------------------------------------------------

struct PemBlock {
  std::string label;
  std::string_view text;  // from BEGIN to the end of END line
};

Result<PemBlock> find_key_block(std::string_view pem) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  std::size_t pos = 0;
  while (true) {
    pos = pem.find(kBegin, pos);
    if (pos == std::string_view::npos) return malformed("no PEM key block found (expected -----BEGIN ...-----)");
    std::size_t label_start = pos + kBegin.size();
    std::size_t label_end = pem.find("-----", label_start);
    if (label_end == std::string_view::npos) return malformed("truncated PEM header");
    std::string label(pem.substr(label_start, label_end - label_start));
    std::string end_marker = "-----END " + label + "-----";
    std::size_t end = pem.find(end_marker, label_end);
    if (end == std::string_view::npos) return malformed("PEM block \"" + label + "\" has no END line");
    if (label == "EC PARAMETERS") {  // emitted before the key by `openssl ecparam -genkey`
      pos = end + end_marker.size();
      continue;
    }
    return PemBlock{label, pem.substr(pos, end + end_marker.size() - pos)};
  }
}

}  // namespace

Result<Key> Key::from_pem(std::string_view pem) {
  auto block = find_key_block(pem);
  if (!block) return block.error();
  const std::string& label = block->label;
  bool is_private;
  const char* structure;
  if (label == "PRIVATE KEY") {
    is_private = true; structure = "PrivateKeyInfo";
  } else if (label == "RSA PRIVATE KEY" || label == "EC PRIVATE KEY") {
    if (block->text.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos) {
      return malformed("encrypted PEM keys are not supported; decrypt the key first");
    }
    is_private = true; structure = "type-specific";
  } else if (label == "PUBLIC KEY") {
    is_private = false; structure = "SubjectPublicKeyInfo";
  } else if (label == "RSA PUBLIC KEY") {
    is_private = false; structure = "type-specific";
  } else if (label == "ENCRYPTED PRIVATE KEY") {
    return malformed("encrypted PEM keys are not supported; decrypt the key first");
  } else if (label == "CERTIFICATE") {
    return malformed("this PEM is a certificate, not a key; extract its public key first");
  } else {
    return malformed("unsupported PEM block \"" + label + "\"");
  }

  EVP_PKEY* raw = nullptr;
  int selection = is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;
  detail::Handle<OSSL_DECODER_CTX, OSSL_DECODER_CTX_free> dctx(OSSL_DECODER_CTX_new_for_pkey(
      &raw, "PEM", structure, nullptr, selection, nullptr, nullptr));
  if (!dctx) return detail::openssl_error(Errc::crypto_error, "cannot create PEM decoder");
  const auto* data = reinterpret_cast<const unsigned char*>(block->text.data());
  std::size_t len = block->text.size();
  if (OSSL_DECODER_from_data(dctx.get(), &data, &len) != 1 || raw == nullptr) {
    EVP_PKEY_free(raw);
    return detail::openssl_error(Errc::malformed, "cannot decode PEM \"" + label + "\" key");
  }
  auto impl = from_pkey(PkeyPtr(raw), is_private);
  if (!impl) return impl.error();
  return finish(std::move(*impl));
}

Result<Key> Key::from_secret(std::string_view secret) {
  if (secret.size() < kMinHmacBytes) {
    return malformed("HMAC secret of " + std::to_string(secret.size()) +
                     " bytes is shorter than 32 (RFC 7518 section 3.2)");
  }
  auto impl = std::make_shared<KeyImpl>();
  impl->type = KeyType::oct;
  impl->secret.assign(secret.data(), secret.size());
  impl->has_private = true;
  impl->bits = secret.size() * 8;
  return finish(std::move(impl));
}

Result<Key> Key::generate(Alg alg, unsigned rsa_bits) {
  KeyType type = key_type_for(alg);
  if (type == KeyType::oct) {
    std::string secret(detail::digest_size(alg), '\0');
    if (!detail::random_bytes(reinterpret_cast<unsigned char*>(secret.data()), secret.size())) {
      return detail::openssl_error(Errc::crypto_error, "random generator failed");
    }
    auto k = from_secret(secret);
    OPENSSL_cleanse(secret.data(), secret.size());
    return k;
  }
  EVP_PKEY* raw = nullptr;
  if (type == KeyType::rsa) {
    if (rsa_bits < kMinRsaBits || rsa_bits > kMaxRsaBits) {
      return Error(Errc::invalid_argument, "RSA key size must be 2048..16384 bits");
    }
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(rsa_bits));
  } else if (type == KeyType::ed25519) {
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  } else {
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve_by_type(type)->openssl_name);
  }
  if (raw == nullptr) return detail::openssl_error(Errc::crypto_error, "key generation failed");
  auto impl = from_pkey(PkeyPtr(raw), true);
  if (!impl) return impl.error();
  return finish(std::move(*impl));
}

// ---- JWK import -----------------------------------------------------------------------------

namespace {

const std::set<std::string>& members_of(const std::string& kty) {
  static const std::set<std::string> rsa = {"n", "e", "d", "p", "q", "dp", "dq", "qi", "oth"};
  static const std::set<std::string> ec = {"crv", "x", "y", "d"};
  static const std::set<std::string> okp = {"crv", "x", "d"};
  static const std::set<std::string> oct = {"k"};
  static const std::set<std::string> none;
  if (kty == "RSA") return rsa;
  if (kty == "EC") return ec;
  if (kty == "OKP") return okp;
  if (kty == "oct") return oct;
  return none;
}

Result<std::string> b64_member(const json& jwk, const char* name, bool required) {
  auto it = jwk.find(name);
  if (it == jwk.end()) {
    if (required) return malformed(std::string("JWK is missing \"") + name + "\"");
    return std::string();
  }
  if (!it->is_string()) return malformed(std::string("JWK member \"") + name + "\" must be a string");
  auto bytes = base64url::decode(it->get_ref<const std::string&>());
  if (!bytes) return malformed(std::string("JWK member \"") + name + "\": " + bytes.error().message());
  if (bytes->empty()) return malformed(std::string("JWK member \"") + name + "\" is empty");
  return bytes;
}

BnPtr to_bn(const std::string& bytes) {
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                         static_cast<int>(bytes.size()), nullptr));
}

Result<PkeyPtr> pkey_fromdata(const char* type, OSSL_PARAM_BLD* bld, int selection) {
  detail::Handle<OSSL_PARAM, OSSL_PARAM_free> params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, selection, params.get()) != 1 || raw == nullptr) {
    return detail::openssl_error(Errc::malformed, std::string("JWK does not form a valid ") + type + " key");
  }
  return PkeyPtr(raw);
}

using BldPtr = detail::Handle<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;

Result<std::shared_ptr<KeyImpl>> rsa_from_jwk(const json& jwk) {
  auto n = b64_member(jwk, "n", true);
  if (!n) return n.error();
  auto e = b64_member(jwk, "e", true);
  if (!e) return e.error();
  if (jwk.contains("oth")) return malformed("multi-prime RSA keys (\"oth\") are not supported");
  static const char* kPrivate[] = {"d", "p", "q", "dp", "dq", "qi"};
  std::string priv[6];
  int present = 0;
  for (int i = 0; i < 6; ++i) {
    auto v = b64_member(jwk, kPrivate[i], false);
    if (!v) return v.error();
    priv[i] = std::move(*v);
    if (!priv[i].empty()) ++present;
  }
  if (present != 0 && present != 6) {
    return mismatch("RSA private JWK must have all of d, p, q, dp, dq, qi (found " +
                    std::to_string(present) + " of 6)");
  }
  BldPtr bld(OSSL_PARAM_BLD_new());
  std::vector<BnPtr> keep;
  auto push = [&](const char* name, const std::string& bytes) {
    keep.push_back(to_bn(bytes));
    return keep.back() && OSSL_PARAM_BLD_push_BN(bld.get(), name, keep.back().get()) == 1;
  };
  bool ok = bld && push(OSSL_PKEY_PARAM_RSA_N, *n) && push(OSSL_PKEY_PARAM_RSA_E, *e);
  if (ok && present == 6) {
    ok = push(OSSL_PKEY_PARAM_RSA_D, priv[0]) && push(OSSL_PKEY_PARAM_RSA_FACTOR1, priv[1]) &&
         push(OSSL_PKEY_PARAM_RSA_FACTOR2, priv[2]) && push(OSSL_PKEY_PARAM_RSA_EXPONENT1, priv[3]) &&
         push(OSSL_PKEY_PARAM_RSA_EXPONENT2, priv[4]) && push(OSSL_PKEY_PARAM_RSA_COEFFICIENT1, priv[5]);
  }
  for (auto& s : priv) OPENSSL_cleanse(s.data(), s.size());
  if (!ok) return detail::openssl_error(Errc::crypto_error, "cannot build RSA parameters");
  auto pkey = pkey_fromdata("RSA", bld.get(), present ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
  if (!pkey) return pkey.error();
  return from_pkey(std::move(*pkey), present != 0);
}

Result<std::shared_ptr<KeyImpl>> ec_from_jwk(const json& jwk) {
  auto crv = jwk.find("crv");
  if (crv == jwk.end() || !crv->is_string()) return malformed("EC JWK needs a string \"crv\"");
  const CurveInfo* curve = nullptr;
  for (const auto& c : kCurves) if (*crv == c.jwk_name) curve = &c;
  if (curve == nullptr) return malformed("unsupported EC curve \"" + crv->get<std::string>() + "\"");
  std::size_t width = detail::ec_field_bytes(curve->type);
  auto x = b64_member(jwk, "x", true);
  if (!x) return x.error();
  auto y = b64_member(jwk, "y", true);
  if (!y) return y.error();
  auto d = b64_member(jwk, "d", false);
  if (!d) return d.error();
  if (x->size() != width || y->size() != width) {
    return malformed(std::string("EC JWK coordinates for ") + curve->jwk_name + " must be " +
                     std::to_string(width) + " bytes each");
  }
  if (!d->empty() && d->size() != width) {
    return malformed(std::string("EC JWK \"d\" for ") + curve->jwk_name + " must be " +
                     std::to_string(width) + " bytes");
  }
  std::string point = "\x04" + *x + *y;
  BldPtr bld(OSSL_PARAM_BLD_new());
  BnPtr priv = d->empty() ? nullptr : to_bn(*d);
  OPENSSL_cleanse(d->data(), d->size());
  bool ok = bld &&
            OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve->openssl_name, 0) == 1 &&
            OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) == 1 &&
            (!priv || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get()) == 1);
  if (!ok) return detail::openssl_error(Errc::crypto_error, "cannot build EC parameters");
  auto pkey = pkey_fromdata("EC", bld.get(), priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
  if (!pkey) return malformed(std::string("EC JWK point is not on ") + curve->jwk_name + ": " + pkey.error().message());
  return from_pkey(std::move(*pkey), priv != nullptr);
}

Result<std::shared_ptr<KeyImpl>> okp_from_jwk(const json& jwk) {
  auto crv = jwk.find("crv");
  if (crv == jwk.end() || !crv->is_string()) return malformed("OKP JWK needs a string \"crv\"");
  if (*crv != "Ed25519") return malformed("unsupported OKP curve \"" + crv->get<std::string>() + "\" (only Ed25519)");
  auto x = b64_member(jwk, "x", true);
  if (!x) return x.error();
  auto d = b64_member(jwk, "d", false);
  if (!d) return d.error();
  if (x->size() != 32) return malformed("Ed25519 JWK \"x\" must be 32 bytes");
  EVP_PKEY* raw = nullptr;
  if (!d->empty()) {
    if (d->size() != 32) return malformed("Ed25519 JWK \"d\" must be 32 bytes");
    raw = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                       reinterpret_cast<const unsigned char*>(d->data()), 32);
    OPENSSL_cleanse(d->data(), d->size());
    if (raw == nullptr) return detail::openssl_error(Errc::malformed, "invalid Ed25519 private key");
    unsigned char pub[32];
    std::size_t len = sizeof pub;
    if (EVP_PKEY_get_raw_public_key(raw, pub, &len) != 1 || len != 32 ||
        std::memcmp(pub, x->data(), 32) != 0) {
      EVP_PKEY_free(raw);
      return mismatch("Ed25519 private key \"d\" does not match public key \"x\"");
    }
  } else {
    raw = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                      reinterpret_cast<const unsigned char*>(x->data()), 32);
    if (raw == nullptr) return detail::openssl_error(Errc::malformed, "invalid Ed25519 public key");
  }
  return from_pkey(PkeyPtr(raw), !d->empty());
}

}  // namespace

Result<Key> Key::from_jwk(const nlohmann::json& jwk) {
  try {
    if (!jwk.is_object()) return malformed("a JWK must be a JSON object");
    auto kty_it = jwk.find("kty");
    if (kty_it == jwk.end() || !kty_it->is_string()) return malformed("JWK needs a string \"kty\"");
    const std::string kty = kty_it->get<std::string>();
    if (kty != "RSA" && kty != "EC" && kty != "OKP" && kty != "oct") {
      return malformed("unsupported JWK kty \"" + kty + "\"");
    }
    // Members that belong to another kty mean the JWK contradicts itself.
    const auto& own = members_of(kty);
    for (const char* other : {"RSA", "EC", "OKP", "oct"}) {
      for (const auto& m : members_of(other)) {
        if (own.count(m) == 0 && jwk.contains(m)) {
          return mismatch("JWK member \"" + m + "\" does not belong to kty \"" + kty + "\"");
        }
      }
    }
    std::optional<Alg> alg;
    if (auto it = jwk.find("alg"); it != jwk.end()) {
      if (!it->is_string()) return malformed("JWK \"alg\" must be a string");
      alg = parse_alg(it->get<std::string>());
      if (!alg) return Error(Errc::unsupported_alg, "JWK alg \"" + it->get<std::string>() + "\" is not a JWS algorithm jwtkit implements");
    }
    std::optional<std::string> use;
    if (auto it = jwk.find("use"); it != jwk.end()) {
      if (!it->is_string()) return malformed("JWK \"use\" must be a string");
      use = it->get<std::string>();
    }
    std::optional<std::vector<std::string>> key_ops;
    if (auto it = jwk.find("key_ops"); it != jwk.end()) {
      if (!it->is_array()) return malformed("JWK \"key_ops\" must be an array of strings");
      key_ops.emplace();
      for (const auto& op : *it) {
        if (!op.is_string()) return malformed("JWK \"key_ops\" must be an array of strings");
        key_ops->push_back(op.get<std::string>());
      }
    }
    std::string kid;
    if (auto it = jwk.find("kid"); it != jwk.end()) {
      if (!it->is_string()) return malformed("JWK \"kid\" must be a string");
      kid = it->get<std::string>();
    }

    std::shared_ptr<KeyImpl> impl;
    if (kty == "oct") {
      auto k = b64_member(jwk, "k", true);
      if (!k) return k.error();
      auto key = from_secret(*k);
      OPENSSL_cleanse(k->data(), k->size());
      if (!key) return key.error();
      impl = std::make_shared<KeyImpl>(key->impl());
    } else {
      Result<std::shared_ptr<KeyImpl>> r =
          kty == "RSA" ? rsa_from_jwk(jwk) : kty == "EC" ? ec_from_jwk(jwk) : okp_from_jwk(jwk);
      if (!r) return r.error();
      impl = std::move(*r);
    }
    if (alg && key_type_for(*alg) != impl->type) {
      return mismatch("JWK alg " + std::string(to_string(*alg)) + " cannot be used with a " +
                      std::string(to_string(impl->type)) + " key");
    }
    impl->alg = alg;
    impl->use = std::move(use);
    impl->key_ops = std::move(key_ops);
    impl->kid = std::move(kid);
    return finish(std::move(impl));
  } catch (const std::exception& e) {
    return malformed(std::string("invalid JWK: ") + e.what());
  }
}

Result<Key> Key::from_jwk(std::string_view jwk_json) {
  auto doc = parse_json_strict(jwk_json, JsonLimits{64 * 1024, 8});
  if (!doc) return doc.error();
  return from_jwk(*doc);
}

// ---- accessors ------------------------------------------------------------------------------

KeyType Key::type() const noexcept { return impl_->type; }
bool Key::can_sign() const noexcept { return impl_->has_private; }
std::size_t Key::bits() const noexcept { return impl_->bits; }
const std::string& Key::kid() const noexcept { return impl_->kid; }
std::optional<Alg> Key::alg() const noexcept { return impl_->alg; }
const std::optional<std::string>& Key::use() const noexcept { return impl_->use; }

Key Key::with_kid(std::string kid) const {
  auto impl = std::make_shared<KeyImpl>(*impl_);
  impl->kid = std::move(kid);
  return Key(std::move(impl));
}

Result<Key> Key::with_alg(Alg alg) const {
  auto impl = std::make_shared<KeyImpl>(*impl_);
  impl->alg.reset();
  Key candidate(impl);
  if (auto ok = candidate.check_alg(alg); !ok) return ok.error();
  if (impl_->alg && *impl_->alg != alg) {
    return mismatch("key is restricted to " + std::string(to_string(*impl_->alg)));
  }
  impl->alg = alg;
  return candidate;
}

Result<void> Key::check_alg(Alg alg) const {
  if (key_type_for(alg) != impl_->type) {
    return mismatch(std::string(to_string(alg)) + " needs a " +
                    std::string(to_string(key_type_for(alg))) + " key, not " +
                    std::string(to_string(impl_->type)));
  }
  if (impl_->type == KeyType::oct && impl_->secret.size() < detail::digest_size(alg)) {
    return mismatch(std::string(to_string(alg)) + " needs a secret of at least " +
                    std::to_string(detail::digest_size(alg)) + " bytes, this one has " +
                    std::to_string(impl_->secret.size()));
  }
  if (impl_->alg && *impl_->alg != alg) {
    return mismatch("key is restricted to " + std::string(to_string(*impl_->alg)) + ", not " +
                    std::string(to_string(alg)));
  }
  if (impl_->use && *impl_->use != "sig") {
    return mismatch("key has use \"" + *impl_->use + "\", not \"sig\"");
  }
  if (impl_->key_ops) {
    const auto& ops = *impl_->key_ops;
    if (std::find(ops.begin(), ops.end(), "verify") == ops.end() &&
        std::find(ops.begin(), ops.end(), "sign") == ops.end()) {
      return mismatch("key_ops allow neither sign nor verify");
    }
  }
  return ok();
}

Result<Key> Key::public_key() const {
  if (impl_->type == KeyType::oct) return mismatch("an HMAC secret has no public key");
  auto impl = std::make_shared<KeyImpl>(*impl_);
  if (impl_->has_private) {
    // Re-encode the public half so the private scalar is not carried along.
    unsigned char* der = nullptr;
    int len = i2d_PUBKEY(impl_->pkey.get(), &der);
    if (len <= 0) return detail::openssl_error(Errc::crypto_error, "cannot extract public key");
    const unsigned char* p = der;
    EVP_PKEY* pub = d2i_PUBKEY(nullptr, &p, len);
    OPENSSL_free(der);
    if (pub == nullptr) return detail::openssl_error(Errc::crypto_error, "cannot extract public key");
    impl->pkey.reset(pub);
    impl->has_private = false;
  }
  return Key(std::move(impl));
}

// ---- PEM export -----------------------------------------------------------------------------

namespace {
Result<std::string> encode_pem(const EVP_PKEY* pkey, int selection, const char* structure) {
  detail::Handle<OSSL_ENCODER_CTX, OSSL_ENCODER_CTX_free> ectx(
      OSSL_ENCODER_CTX_new_for_pkey(pkey, selection, "PEM", structure, nullptr));
  unsigned char* data = nullptr;
  std::size_t len = 0;
  if (!ectx || OSSL_ENCODER_CTX_get_num_encoders(ectx.get()) == 0 ||
      OSSL_ENCODER_to_data(ectx.get(), &data, &len) != 1) {
    return detail::openssl_error(Errc::crypto_error, std::string("cannot encode key as ") + structure);
  }
  std::string out(reinterpret_cast<char*>(data), len);
  OPENSSL_clear_free(data, len);
  return out;
}
}  // namespace

Result<std::string> Key::private_pem(PemFormat format) const {
  if (impl_->type == KeyType::oct) return mismatch("an HMAC secret has no PEM form; use private_jwk()");
  if (!impl_->has_private) return mismatch("this is a public key; it has no private PEM");
  switch (format) {
    case PemFormat::pkcs8: return encode_pem(impl_->pkey.get(), EVP_PKEY_KEYPAIR, "PrivateKeyInfo");
    case PemFormat::pkcs1:
      if (impl_->type != KeyType::rsa) return mismatch("PKCS#1 is for RSA keys only");
      return encode_pem(impl_->pkey.get(), EVP_PKEY_KEYPAIR, "type-specific");
    case PemFormat::sec1:
      if (detail::ec_field_bytes(impl_->type) == 0) return mismatch("SEC1 is for EC keys only");
      return encode_pem(impl_->pkey.get(), EVP_PKEY_KEYPAIR, "type-specific");
    case PemFormat::spki: return mismatch("SPKI holds public keys; use public_pem()");
  }
  return Error(Errc::invalid_argument, "unknown PEM format");
}

Result<std::string> Key::public_pem(PemFormat format) const {
  if (impl_->type == KeyType::oct) return mismatch("an HMAC secret has no public key");
  switch (format) {
    case PemFormat::spki: return encode_pem(impl_->pkey.get(), EVP_PKEY_PUBLIC_KEY, "SubjectPublicKeyInfo");
    case PemFormat::pkcs1:
      if (impl_->type != KeyType::rsa) return mismatch("PKCS#1 is for RSA keys only");
      return encode_pem(impl_->pkey.get(), EVP_PKEY_PUBLIC_KEY, "type-specific");
    case PemFormat::pkcs8:
    case PemFormat::sec1: return mismatch("PKCS#8 and SEC1 hold private keys; use private_pem()");
  }
  return Error(Errc::invalid_argument, "unknown PEM format");
}

// ---- JWK export -----------------------------------------------------------------------------

namespace {

// Required public members only (the RFC 7638 set), in a std::map so they come out sorted.
Result<json> required_members(const KeyImpl& k) {
  json j = json::object();
  const EVP_PKEY* p = k.pkey.get();
  switch (k.type) {
    case KeyType::oct:
      j["kty"] = "oct";
      j["k"] = base64url::encode(k.secret);
      break;
    case KeyType::rsa: {
      auto n = get_bn(p, OSSL_PKEY_PARAM_RSA_N);
      if (!n) return n.error();
      auto e = get_bn(p, OSSL_PKEY_PARAM_RSA_E);
      if (!e) return e.error();
      j["kty"] = "RSA";
      j["n"] = base64url::encode(detail::bn_to_bytes(n->get()));
      j["e"] = base64url::encode(detail::bn_to_bytes(e->get()));
      break;
    }
    case KeyType::ec_p256:
    case KeyType::ec_p384:
    case KeyType::ec_p521: {
      auto x = get_bn(p, OSSL_PKEY_PARAM_EC_PUB_X);
      if (!x) return x.error();
      auto y = get_bn(p, OSSL_PKEY_PARAM_EC_PUB_Y);
      if (!y) return y.error();
      std::size_t w = detail::ec_field_bytes(k.type);
      j["kty"] = "EC";
      j["crv"] = curve_by_type(k.type)->jwk_name;
      j["x"] = base64url::encode(detail::bn_to_bytes(x->get(), w));
      j["y"] = base64url::encode(detail::bn_to_bytes(y->get(), w));
      break;
    }
    case KeyType::ed25519: {
      unsigned char pub[32];
      std::size_t len = sizeof pub;
      if (EVP_PKEY_get_raw_public_key(p, pub, &len) != 1) {
        return detail::openssl_error(Errc::crypto_error, "cannot read Ed25519 public key");
      }
      j["kty"] = "OKP";
      j["crv"] = "Ed25519";
      j["x"] = base64url::encode(std::string_view(reinterpret_cast<char*>(pub), len));
      break;
    }
  }
  return j;
}

void add_metadata(const KeyImpl& k, json& j) {
  if (!k.kid.empty()) j["kid"] = k.kid;
  if (k.alg) j["alg"] = std::string(to_string(*k.alg));
  if (k.use) j["use"] = *k.use;
  if (k.key_ops) j["key_ops"] = *k.key_ops;
}

}  // namespace

Result<nlohmann::json> Key::public_jwk() const {
  if (impl_->type == KeyType::oct) return mismatch("an HMAC secret has no public JWK");
  auto j = required_members(*impl_);
  if (!j) return j.error();
  add_metadata(*impl_, *j);
  return j;
}

Result<nlohmann::json> Key::private_jwk() const {
  if (!impl_->has_private) return mismatch("this is a public key; it has no private JWK");
  auto j = required_members(*impl_);
  if (!j) return j.error();
  const EVP_PKEY* p = impl_->pkey.get();
  auto put_bn = [&](const char* member, const char* param, std::size_t width) -> Result<void> {
    auto bn = get_bn(p, param);
    if (!bn) return bn.error();
    std::string bytes = detail::bn_to_bytes(bn->get(), width);
    (*j)[member] = base64url::encode(bytes);
    OPENSSL_cleanse(bytes.data(), bytes.size());
    return ok();
  };
  switch (impl_->type) {
    case KeyType::oct: break;
    case KeyType::rsa: {
      const std::pair<const char*, const char*> members[] = {
          {"d", OSSL_PKEY_PARAM_RSA_D}, {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
          {"q", OSSL_PKEY_PARAM_RSA_FACTOR2}, {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
          {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2}, {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1}};
      for (const auto& [member, param] : members) {
        if (auto r = put_bn(member, param, 0); !r) return r.error();
      }
      break;
    }
    case KeyType::ec_p256:
    case KeyType::ec_p384:
    case KeyType::ec_p521:
      if (auto r = put_bn("d", OSSL_PKEY_PARAM_PRIV_KEY, detail::ec_field_bytes(impl_->type)); !r) {
        return r.error();
      }
      break;
    case KeyType::ed25519: {
      unsigned char priv[32];
      std::size_t len = sizeof priv;
      if (EVP_PKEY_get_raw_private_key(p, priv, &len) != 1) {
        return detail::openssl_error(Errc::crypto_error, "cannot read Ed25519 private key");
      }
      (*j)["d"] = base64url::encode(std::string_view(reinterpret_cast<char*>(priv), len));
      OPENSSL_cleanse(priv, sizeof priv);
      break;
    }
  }
  add_metadata(*impl_, *j);
  return j;
}

std::string Key::thumbprint() const {
  auto j = required_members(*impl_);
  if (!j) return std::string();
  std::string canonical = j->dump();  // sorted members, no whitespace: RFC 7638 section 3
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(canonical.data(), canonical.size(), md, &len, detail::digest_for(Alg::HS256), nullptr);
  OPENSSL_cleanse(canonical.data(), canonical.size());
  return base64url::encode(std::string_view(reinterpret_cast<char*>(md), len));
}

}  // namespace jwtkit
