// Sign and verify through jwtkit side by side with raw OpenSSL EVP on the same input, so each
// ratio comes from one run on one machine. bench/run.py turns the output into a table.
//
//   sign/<ALG>/jwtkit           sign_compact of the claims below
//   sign/<ALG>/openssl_raw      EVP signature of the same signing input, key pre-loaded,
//                               context reused
//   verify/<ALG>/jwtkit         verify_jwt: signature, header rules and every claim check
//   verify/<ALG>/openssl_raw    EVP verification of the same signature, key pre-loaded,
//                               context reused
//   verify_engine/<ALG>/no_revocation   Engine token checked with verify_jwt (same policy)
//   verify_revocation/<ALG>/memory      Engine::verify_access with a MemoryRevocationStore
//   verify_revocation/<ALG>/redis       same with a RedisRevocationStore ($JWTKIT_BENCH_REDIS_URL)
// Thread variants run the jwtkit verify with one shared verifier on 1 and 2 threads.
#include <jwtkit/base64url.hpp>
#include <jwtkit/engine.hpp>
#include <jwtkit/jwt.hpp>
#include <jwtkit/stores/memory.hpp>
#ifdef JWTKIT_BENCH_WITH_REDIS
#include <jwtkit/redis/revocation_store.hpp>
#endif

#include <benchmark/benchmark.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <memory>
#include <string>

namespace {

using jwtkit::Alg;

constexpr std::int64_t kNow = 1'750'000'000;

std::string claims_json() {
  nlohmann::json c = {{"iss", "https://auth.example.com"},
                      {"sub", "user-1234567890"},
                      {"aud", "api.example.com"},
                      {"iat", kNow - 60},
                      {"nbf", kNow - 60},
                      {"exp", kNow + 900},
                      {"jti", "b3f1c2d4-5e6f-4a1b-9c8d-7e6f5a4b3c2d"},
                      {"scope", "read:items write:items"},
                      {"roles", {"admin", "editor"}}};
  return c.dump();
}

jwtkit::ClaimsPolicy policy() {
  jwtkit::ClaimsPolicy p;
  p.issuer = "https://auth.example.com";
  p.audiences = {"api.example.com"};
  return p;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench setup failed: %s\n", what.c_str());
  std::exit(1);
}

template <class T>
T must(jwtkit::Result<T> r, const char* what) {
  if (!r) die(std::string(what) + ": " + r.error().to_string());
  return std::move(*r);
}

// One key, token and verifier per algorithm, made once.
struct Fixture {
  jwtkit::Key key;
  std::string token;
  std::string signing_input;
  std::string signature;  // raw JWS form
  jwtkit::JwsVerifier verifier;
  EVP_PKEY* pkey = nullptr;  // the same key for the raw baseline (asymmetric only)
  std::string secret;        // HMAC
};

EVP_PKEY* to_evp(const jwtkit::Key& key) {
  auto pem = must(key.private_pem(), "private_pem");
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* p = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (p == nullptr) die("PEM_read_bio_PrivateKey");
  return p;
}

const EVP_MD* md_of(Alg a) {
  switch (a) {
    case Alg::HS384: case Alg::RS384: case Alg::PS384: case Alg::ES384: return EVP_sha384();
    case Alg::HS512: case Alg::RS512: case Alg::PS512: case Alg::ES512: return EVP_sha512();
    case Alg::EdDSA: return nullptr;
    default: return EVP_sha256();
  }
}
bool is_hmac(Alg a) { return a == Alg::HS256 || a == Alg::HS384 || a == Alg::HS512; }
bool is_pss(Alg a) { return a == Alg::PS256 || a == Alg::PS384 || a == Alg::PS512; }
bool is_ec(Alg a) { return a == Alg::ES256 || a == Alg::ES384 || a == Alg::ES512; }

Fixture& fixture(Alg alg) {
  static std::mutex mu;  // thread variants call this from every thread at once
  std::lock_guard<std::mutex> lock(mu);
  static std::map<Alg, std::unique_ptr<Fixture>> all;
  auto& slot = all[alg];
  if (slot) return *slot;
  auto key = must(jwtkit::Key::generate(alg), "generate");
  std::string token = must(jwtkit::sign_compact(key, alg, claims_json(), {{"typ", "JWT"}}), "sign");
  std::size_t dot = token.rfind('.');
  std::vector<jwtkit::Key> keys;
  keys.push_back(key.is_symmetric() ? key : must(key.public_key(), "public_key"));
  auto verifier = must(jwtkit::JwsVerifier::create(keys, {{alg}, {}, {}}), "verifier");
  slot.reset(new Fixture{key, token, token.substr(0, dot),
                         must(jwtkit::base64url::decode(token.substr(dot + 1)), "b64"), verifier, nullptr, {}});
  if (is_hmac(alg)) {
    slot->secret = must(jwtkit::base64url::decode(must(key.private_jwk(), "jwk")["k"].get<std::string>()), "k");
  } else {
    slot->pkey = to_evp(key);
  }
  if (is_ec(alg)) {  // raw OpenSSL verifies DER: convert the r||s signature once, outside the loop
    std::size_t w = slot->signature.size() / 2;
    const auto* b = reinterpret_cast<const unsigned char*>(slot->signature.data());
    ECDSA_SIG* sig = ECDSA_SIG_new();
    ECDSA_SIG_set0(sig, BN_bin2bn(b, static_cast<int>(w), nullptr), BN_bin2bn(b + w, static_cast<int>(w), nullptr));
    unsigned char* der = nullptr;
    int len = i2d_ECDSA_SIG(sig, &der);
    slot->signature.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
  }
  return *slot;
}

const unsigned char* u8(const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// ---- jwtkit -----------------------------------------------------------------------------

void jwtkit_sign(benchmark::State& state, Alg alg) {
  Fixture& f = fixture(alg);
  const std::string payload = claims_json();
  const nlohmann::json header = {{"typ", "JWT"}};
  for (auto _ : state) {
    auto t = jwtkit::sign_compact(f.key, alg, payload, header);
    if (!t) state.SkipWithError(t.error().to_string().c_str());
    benchmark::DoNotOptimize(t);
  }
  state.SetItemsProcessed(state.iterations());
}

void jwtkit_verify(benchmark::State& state, Alg alg) {
  Fixture& f = fixture(alg);
  const auto p = policy();
  const auto now = jwtkit::from_unix(kNow);
  for (auto _ : state) {
    auto r = jwtkit::verify_jwt(f.verifier, f.token, p, now);
    if (!r) state.SkipWithError(r.error().to_string().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- raw OpenSSL: pre-loaded key, context reused -----------------------------------------

// One HMAC with a context keyed once: re-armed for the same key, no copy.
std::size_t hmac_once(EVP_MAC_CTX* ctx, const std::string& in, unsigned char* out) {
  std::size_t len = 0;
  EVP_MAC_init(ctx, nullptr, 0, nullptr);
  EVP_MAC_update(ctx, u8(in), in.size());
  EVP_MAC_final(ctx, out, &len, EVP_MAX_MD_SIZE);
  return len;
}

// An RSA/ECDSA signature context for the fixture's key, set up once: digest and padding.
EVP_PKEY_CTX* signature_ctx(const Fixture& f, Alg alg, bool sign) {
  EVP_PKEY_CTX* pctx = EVP_PKEY_CTX_new(f.pkey, nullptr);
  if (sign) EVP_PKEY_sign_init(pctx); else EVP_PKEY_verify_init(pctx);
  EVP_PKEY_CTX_set_signature_md(pctx, md_of(alg));
  if (is_pss(alg)) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  } else if (!is_ec(alg)) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING);
  }
  return pctx;
}

// An HMAC context keyed once with the fixture's secret.
EVP_MAC_CTX* keyed_hmac(const Fixture& f, Alg alg) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  EVP_MAC_free(mac);  // the context keeps its own reference
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(
                             OSSL_MAC_PARAM_DIGEST, const_cast<char*>(EVP_MD_get0_name(md_of(alg))), 0),
                         OSSL_PARAM_construct_end()};
  EVP_MAC_init(ctx, u8(f.secret), f.secret.size(), params);
  return ctx;
}

void raw_sign(benchmark::State& state, Alg alg) {
  Fixture& f = fixture(alg);
  const std::string& in = f.signing_input;
  if (is_hmac(alg)) {
    EVP_MAC_CTX* tmpl = keyed_hmac(f, alg);
    unsigned char out[EVP_MAX_MD_SIZE];
    for (auto _ : state) {
      benchmark::DoNotOptimize(hmac_once(tmpl, in, out));
    }
    EVP_MAC_CTX_free(tmpl);
  } else if (alg == Alg::EdDSA) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    unsigned char sig[64];
    for (auto _ : state) {
      std::size_t len = sizeof sig;
      EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, f.pkey);
      EVP_DigestSign(ctx, sig, &len, u8(in), in.size());
      benchmark::DoNotOptimize(sig);
    }
    EVP_MD_CTX_free(ctx);
  } else {
    EVP_PKEY_CTX* pctx = signature_ctx(f, alg, true);
    std::string sig(static_cast<std::size_t>(EVP_PKEY_get_size(f.pkey)), '\0');
    unsigned char digest[EVP_MAX_MD_SIZE];
    for (auto _ : state) {
      unsigned int dlen = 0;
      EVP_Digest(in.data(), in.size(), digest, &dlen, md_of(alg), nullptr);
      std::size_t len = sig.size();
      EVP_PKEY_sign(pctx, reinterpret_cast<unsigned char*>(sig.data()), &len, digest, dlen);
      benchmark::DoNotOptimize(sig);
    }
    EVP_PKEY_CTX_free(pctx);
  }
  state.SetItemsProcessed(state.iterations());
}

void raw_verify(benchmark::State& state, Alg alg) {
  Fixture& f = fixture(alg);
  const std::string& in = f.signing_input;
  const std::string& sig = f.signature;
  if (is_hmac(alg)) {
    EVP_MAC_CTX* tmpl = keyed_hmac(f, alg);
    unsigned char out[EVP_MAX_MD_SIZE];
    for (auto _ : state) {
      const std::size_t len = hmac_once(tmpl, in, out);
      bool ok = len == sig.size() && CRYPTO_memcmp(out, sig.data(), len) == 0;
      if (!ok) state.SkipWithError("raw HMAC mismatch");
    }
    EVP_MAC_CTX_free(tmpl);
  } else if (alg == Alg::EdDSA) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    for (auto _ : state) {
      EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, f.pkey);
      if (EVP_DigestVerify(ctx, u8(sig), sig.size(), u8(in), in.size()) != 1) {
        state.SkipWithError("raw Ed25519 verify failed");
      }
    }
    EVP_MD_CTX_free(ctx);
  } else {
    EVP_PKEY_CTX* pctx = signature_ctx(f, alg, false);
    unsigned char digest[EVP_MAX_MD_SIZE];
    for (auto _ : state) {
      unsigned int dlen = 0;
      EVP_Digest(in.data(), in.size(), digest, &dlen, md_of(alg), nullptr);
      if (EVP_PKEY_verify(pctx, u8(sig), sig.size(), digest, dlen) != 1) {
        state.SkipWithError("raw verify failed");
      }
    }
    EVP_PKEY_CTX_free(pctx);
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- engine: the cost of the revocation check ----------------------------------------------

struct EngineFixture {
  jwtkit::Engine engine;
  std::string access_token;
  jwtkit::JwsVerifier verifier;
  jwtkit::ClaimsPolicy policy;
};

std::unique_ptr<EngineFixture> make_engine(Alg alg, std::shared_ptr<jwtkit::RevocationStore> store) {
  auto clock = std::make_shared<jwtkit::ManualClock>(jwtkit::from_unix(kNow));
  jwtkit::EngineOptions o;
  o.issuer = "https://auth.example.com";
  o.audiences = {"api.example.com"};
  o.signing_alg = alg;
  o.clock = clock;
  auto engine = must(jwtkit::Engine::create(std::make_shared<jwtkit::MemoryKeyStore>(), std::move(store), o), "engine");
  jwtkit::IssueOptions io;
  io.claims = {{"scope", "read:items write:items"}, {"roles", {"admin", "editor"}}};
  auto pair = must(engine.issue_pair("user-1234567890", io), "issue_pair");
  auto jwks = must(jwtkit::JwkSet::parse(engine.jwks()), "jwks");
  std::vector<jwtkit::Key> keys = jwks.keys();
  if (is_hmac(alg)) die("engine benchmarks use asymmetric algorithms or HS via the engine's own key");
  auto verifier = must(jwtkit::JwsVerifier::create(keys, {{alg}, {}, {}}), "verifier");
  jwtkit::ClaimsPolicy p;
  p.issuer = o.issuer;
  p.audiences = o.audiences;
  p.type = std::string(jwtkit::kAccessTokenType);
  return std::unique_ptr<EngineFixture>(
      new EngineFixture{std::move(engine), pair.access_token, std::move(verifier), p});
}

// One engine per (benchmark, algorithm), made once even when several threads ask at once.
EngineFixture& engine_fixture(const char* which, Alg alg,
                              const std::function<std::shared_ptr<jwtkit::RevocationStore>()>& store) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  static std::map<std::pair<std::string, Alg>, std::unique_ptr<EngineFixture>> cache;
  auto& f = cache[{which, alg}];
  if (!f) f = make_engine(alg, store());
  return *f;
}

std::shared_ptr<jwtkit::RevocationStore> memory_store() { return std::make_shared<jwtkit::MemoryRevocationStore>(); }

void engine_verify_no_revocation(benchmark::State& state, Alg alg) {
  EngineFixture* f = &engine_fixture("plain", alg, memory_store);
  const auto now = jwtkit::from_unix(kNow);
  for (auto _ : state) {
    auto r = jwtkit::verify_jwt(f->verifier, f->access_token, f->policy, now);
    if (!r) state.SkipWithError(r.error().to_string().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void engine_verify_memory(benchmark::State& state, Alg alg) {
  EngineFixture* f = &engine_fixture("memory", alg, memory_store);
  for (auto _ : state) {
    auto r = f->engine.verify_access(f->access_token);
    if (!r) state.SkipWithError(r.error().to_string().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

#ifdef JWTKIT_BENCH_WITH_REDIS
void engine_verify_redis(benchmark::State& state, Alg alg) {
  EngineFixture* f = &engine_fixture("redis", alg, [] {
    const char* url = std::getenv("JWTKIT_BENCH_REDIS_URL");
    return must(jwtkit::RedisRevocationStore::open(std::string_view(url)), "redis connect");
  });
  for (auto _ : state) {
    auto r = f->engine.verify_access(f->access_token);
    if (!r) state.SkipWithError(r.error().to_string().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
#endif

void register_all() {
  for (Alg alg : jwtkit::kAllAlgs) {
    std::string name(jwtkit::to_string(alg));
    benchmark::RegisterBenchmark(("sign/" + name + "/jwtkit").c_str(), jwtkit_sign, alg);
    benchmark::RegisterBenchmark(("sign/" + name + "/openssl_raw").c_str(), raw_sign, alg);
    benchmark::RegisterBenchmark(("verify/" + name + "/jwtkit").c_str(), jwtkit_verify, alg);
    benchmark::RegisterBenchmark(("verify/" + name + "/openssl_raw").c_str(), raw_verify, alg);
  }
  for (Alg alg : {Alg::HS256, Alg::RS256, Alg::ES256, Alg::EdDSA}) {
    std::string name(jwtkit::to_string(alg));
    benchmark::RegisterBenchmark(("verify_threads/" + name + "/jwtkit").c_str(), jwtkit_verify, alg)
        ->Threads(1)->Threads(2)->UseRealTime();
    // The same with raw OpenSSL: how far this machine and OpenSSL scale at all.
    benchmark::RegisterBenchmark(("verify_threads/" + name + "/openssl_raw").c_str(), raw_verify, alg)
        ->Threads(1)->Threads(2)->UseRealTime();
  }
  for (Alg alg : {Alg::RS256, Alg::ES256, Alg::EdDSA}) {
    std::string name(jwtkit::to_string(alg));
    benchmark::RegisterBenchmark(("verify_engine/" + name + "/no_revocation").c_str(),
                                 engine_verify_no_revocation, alg);
    benchmark::RegisterBenchmark(("verify_revocation/" + name + "/memory").c_str(), engine_verify_memory, alg);
    benchmark::RegisterBenchmark(("verify_revocation_threads/" + name + "/memory").c_str(),
                                 engine_verify_memory, alg)->Threads(1)->Threads(2)->UseRealTime();
#ifdef JWTKIT_BENCH_WITH_REDIS
    if (std::getenv("JWTKIT_BENCH_REDIS_URL") != nullptr) {
      benchmark::RegisterBenchmark(("verify_revocation/" + name + "/redis").c_str(), engine_verify_redis, alg);
    }
#endif
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
