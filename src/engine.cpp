#include <jwtkit/engine.hpp>

#include <jwtkit/json.hpp>
#include <jwtkit/jwk.hpp>
#include <jwtkit/jwt.hpp>

#include "crypto_util.hpp"
#include "json_scan.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <new>
#include <utility>

namespace jwtkit {

namespace {

using std::chrono::seconds;

/// Claims the engine sets itself; IssueOptions::claims may not name them.
constexpr std::array<std::string_view, 8> kRegisteredClaims = {"iss", "sub", "aud", "exp",
                                                               "nbf", "iat", "jti", "sid"};

// nlohmann::json writes NaN and infinity as null: refuse them instead of changing a claim.
bool has_non_finite(const nlohmann::json& j) {
  if (j.is_number_float()) return !std::isfinite(j.get<double>());
  if (j.is_structured()) {
    for (const auto& v : j) {
      if (has_non_finite(v)) return true;
    }
  }
  return false;
}

bool is_registered(std::string_view name) {
  return std::find(kRegisteredClaims.begin(), kRegisteredClaims.end(), name) !=
         kRegisteredClaims.end();
}

/// A shared_ptr that is read and replaced atomically, so verification never takes a lock.
template <class T>
class AtomicSharedPtr {
 public:
#if defined(__cpp_lib_atomic_shared_ptr)
  std::shared_ptr<T> load() const noexcept { return p_.load(); }
  void store(std::shared_ptr<T> p) noexcept { p_.store(std::move(p)); }

 private:
  std::atomic<std::shared_ptr<T>> p_;
#else
  std::shared_ptr<T> load() const noexcept { return std::atomic_load(&p_); }
  void store(std::shared_ptr<T> p) noexcept { std::atomic_store(&p_, std::move(p)); }

 private:
  std::shared_ptr<T> p_;
#endif
};

/// The keys the engine works with, built from the KeyStore's records. Immutable.
struct KeySet {
  std::vector<KeyRecord> records;
  /// The signing key (the newest active record).
  std::optional<KeyRecord> signer;
  /// Over every key that may verify: next, active, and retiring keys.
  std::optional<JwsVerifier> verifier;
  /// kid -> verify_until of the keys in `verifier`.
  std::map<std::string, std::optional<TimePoint>, std::less<>> verify_until;
};

bool can_verify_at(const KeyRecord& r, TimePoint now) {
  switch (r.state) {
    case KeyState::next:
    case KeyState::active:
      return true;
    case KeyState::retiring:
      return !r.verify_until || now < *r.verify_until;
    case KeyState::retired:
      return false;
  }
  return false;
}

/// NumericDate claim as whole seconds (fractions rounded down). Precondition: a number.
std::int64_t numeric_date(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    return u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
               ? std::numeric_limits<std::int64_t>::max()
               : static_cast<std::int64_t>(u);
  }
  const double d = std::floor(v.get<double>());
  if (!(d < 9.2e18)) return std::numeric_limits<std::int64_t>::max();
  if (!(d > -9.2e18)) return std::numeric_limits<std::int64_t>::min();
  return static_cast<std::int64_t>(d);
}

const std::string* string_claim(const nlohmann::json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end() || !it->is_string()) return nullptr;
  return it->get_ptr<const std::string*>();
}

Error internal_error(const char* where, const std::exception& e) {
  return Error(Errc::internal, std::string(where) + ": unexpected exception: " + e.what());
}

/// Runs `f`, turning any exception into an Error: nothing throws through the public API.
template <class F>
auto guarded(const char* where, F&& f) noexcept -> decltype(f()) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return Error(Errc::internal, std::string(where) + ": out of memory");
  } catch (const std::exception& e) {
    return internal_error(where, e);
  } catch (...) {
    return Error(Errc::internal, std::string(where) + ": unknown exception");
  }
}

}  // namespace

namespace detail {

/// The one place that builds VerifiedToken values.
struct EngineAccess {
  // `jwt` passed the engine's checks: sub, jti and iat are present (verify() made sure).
  static VerifiedToken make(Jwt&& jwt, bool refresh) {
    VerifiedToken t;
    const RegisteredClaims& c = jwt.registered();
    t.subject_ = *c.subject;
    t.jti_ = *c.jwt_id;
    t.session_id_ = c.session_id.value_or(std::string());
    t.issued_at_ = *c.issued_at;
    t.expires_at_ = *c.expires_at;
    t.kid_ = jwt.kid();
    t.alg_ = jwt.alg();
    t.is_refresh_ = refresh;
    t.jwt_.emplace(std::move(jwt));
    return t;
  }
};

}  // namespace detail

const nlohmann::json* VerifiedToken::claim(std::string_view name) const {
  const nlohmann::json& claims = jwt_->claims();
  auto it = claims.find(name);
  return it == claims.end() ? nullptr : &*it;
}

// ---------------------------------------------------------------------------------------------

struct Engine::Impl {
  EngineOptions opts;
  std::shared_ptr<KeyStore> key_store;
  std::shared_ptr<RevocationStore> revocations;
  std::shared_ptr<const Clock> clock;
  /// Longest lifetime any token can have: bounds every revocation entry.
  seconds max_ttl{0};
  ClaimsPolicy access_policy;
  ClaimsPolicy refresh_policy;

  /// Serializes the operations that change keys (reload, rotate, cleanup).
  std::mutex key_mu;
  AtomicSharedPtr<const KeySet> keyset;

  TimePoint now() const noexcept { return clock->now(); }
  /// The time after which no token issued until now can still be accepted.
  TimePoint horizon(TimePoint t) const { return t + max_ttl + opts.leeway; }

  // ---- keys ----

  Result<KeyRecord> new_key_record(Alg alg, KeyState state, TimePoint created_at) const {
    auto key = Key::generate(alg, opts.rsa_bits);
    if (!key) return std::move(key).error();
    Key k = *key;
    if (k.kid().empty()) {  // HMAC secrets have no thumbprint
      auto id = detail::random_id();
      if (!id) return std::move(id).error();
      k = k.with_kid(*id);
    }
    auto restricted = k.with_alg(alg);
    if (!restricted) return std::move(restricted).error();
    return KeyRecord{*restricted, alg, state, created_at, std::nullopt, std::nullopt};
  }

  bool alg_allowed(Alg alg) const {
    return std::find(opts.allowed_algs.begin(), opts.allowed_algs.end(), alg) !=
           opts.allowed_algs.end();
  }

  /// The newest record in `state` that satisfies `pred` (ties broken by kid), or null.
  template <class Pred>
  static const KeyRecord* newest(const std::vector<KeyRecord>& records, KeyState state,
                                 Pred pred) {
    const KeyRecord* best = nullptr;
    for (const auto& r : records) {
      if (r.state != state || !pred(r)) continue;
      if (!best || r.created_at > best->created_at ||
          (r.created_at == best->created_at && r.kid() > best->kid())) {
        best = &r;
      }
    }
    return best;
  }
  static const KeyRecord* newest(const std::vector<KeyRecord>& records, KeyState state) {
    return newest(records, state, [](const KeyRecord&) { return true; });
  }

  Result<std::shared_ptr<const KeySet>> build_keyset(std::vector<KeyRecord> records,
                                                     TimePoint t) const {
    auto ks = std::make_shared<KeySet>();
    std::vector<Key> verify_keys;
    for (const auto& r : records) {
      if (r.kid().empty()) return Error(Errc::malformed, "a stored key has no kid");
      if (!can_verify_at(r, t)) continue;
      auto k = r.key.with_alg(r.alg);
      if (!k) {
        return Error(k.error().code(),
                     "stored key '" + r.kid() + "' cannot serve its algorithm " +
                         std::string(to_string(r.alg)) + ": " + k.error().message());
      }
      verify_keys.push_back(*k);
      ks->verify_until.emplace(r.kid(), r.verify_until);
    }
    if (const auto* s = newest(records, KeyState::active)) ks->signer = *s;
    JwsVerifierOptions vo;
    vo.allowed_algs = opts.allowed_algs;
    vo.limits = opts.limits;
    auto verifier = JwsVerifier::create(std::move(verify_keys), std::move(vo));
    if (!verifier) return std::move(verifier).error();
    ks->verifier = std::move(*verifier);
    ks->records = std::move(records);
    return std::shared_ptr<const KeySet>(std::move(ks));
  }

  /// The record `r` as it is once it stops signing at `t`.
  KeyRecord retiring(KeyRecord r, TimePoint t) const {
    r.state = KeyState::retiring;
    r.sign_until = t;
    r.verify_until = horizon(t);
    return r;
  }

  /// Loads the keys, brings them to a consistent state (an allowed active key; pending keys
  /// promoted once due), and publishes the result for the hot path. Caller holds key_mu.
  Result<void> sync_keys_locked() {
    constexpr int kAttempts = 8;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      auto loaded = key_store->load_all();
      if (!loaded) return std::move(loaded).error();
      std::vector<KeyRecord> records = std::move(*loaded);
      const TimePoint t = now();

      const KeyRecord* active = newest(records, KeyState::active);
      auto allowed_next = [&](const KeyRecord& r) { return alg_allowed(r.alg); };
      auto due_next = [&](const KeyRecord& r) {
        return alg_allowed(r.alg) && r.created_at + opts.key_publish_delay <= t;
      };
      // Promote a pending key when there is no usable signer (at once, whatever the delay:
      // nothing else can sign) or when its publish delay has passed.
      const bool need_signer = active == nullptr || !alg_allowed(active->alg);
      const KeyRecord* candidate = need_signer ? newest(records, KeyState::next, allowed_next)
                                               : newest(records, KeyState::next, due_next);
      if (!need_signer && candidate == nullptr) {
        auto built = build_keyset(std::move(records), t);
        if (!built) return std::move(built).error();
        keyset.store(std::move(*built));
        return ok();
      }

      std::vector<KeyRecord> writes;
      if (candidate) {
        KeyRecord promoted = *candidate;
        promoted.state = KeyState::active;
        writes.push_back(promoted);
        // Older pending keys never signed anything: a newer key supersedes them.
        for (const auto& r : records) {
          if (r.state == KeyState::next && r.kid() != promoted.kid() &&
              r.created_at <= promoted.created_at) {
            KeyRecord gone = r;
            gone.state = KeyState::retired;
            gone.verify_until = t;
            writes.push_back(std::move(gone));
          }
        }
      } else {
        auto fresh = new_key_record(opts.signing_alg, KeyState::active, t);
        if (!fresh) return std::move(fresh).error();
        writes.push_back(std::move(*fresh));
      }
      std::string expected;
      if (active) {
        expected = active->kid();
        // Every active key steps down, so exactly one stays active.
        for (const auto& r : records) {
          if (r.state == KeyState::active) writes.push_back(retiring(r, t));
        }
      }
      auto saved = key_store->save_if_active(expected, writes);
      if (!saved) {
        if (saved.error().code() == Errc::store_conflict) continue;  // another instance won
        return saved;
      }
    }
    return Error(Errc::store_conflict, "the key store kept changing while the keys were loaded");
  }

  // ---- tokens ----

  Result<void> check_issue_options(std::string_view subject, const IssueOptions& o) const {
    if (subject.empty()) return Error(Errc::invalid_argument, "subject must not be empty");
    if (!o.claims.is_object()) {
      return Error(Errc::invalid_argument, "custom claims must be a JSON object");
    }
    if (has_non_finite(o.claims)) {
      return Error(Errc::invalid_argument, "custom claims hold NaN or infinity, which JSON cannot carry");
    }
    for (auto it = o.claims.begin(); it != o.claims.end(); ++it) {
      if (is_registered(it.key())) {
        return Error(Errc::invalid_argument,
                     "custom claims cannot set the registered claim '" + it.key() + "'");
      }
    }
    if (o.ttl) {
      if (o.ttl->count() <= 0) return Error(Errc::invalid_argument, "ttl must be positive");
      if (*o.ttl > max_ttl) {
        return Error(Errc::invalid_argument,
                     "ttl exceeds the engine's longest lifetime (max of access_ttl, refresh_ttl)");
      }
    }
    return ok();
  }

  struct Issued {
    std::string token;
    TimePoint expires_at;
  };

  Result<Issued> sign_token(std::string_view subject, const nlohmann::json& custom,
                            seconds ttl, bool refresh, std::string_view sid) const {
    auto ks = keyset.load();
    if (!ks || !ks->signer) return Error(Errc::internal, "the engine has no signing key");
    auto jti = detail::random_id();
    if (!jti) return std::move(jti).error();

    const std::int64_t iat = to_unix(now());
    const std::int64_t exp = iat + ttl.count();
    nlohmann::json claims = custom;
    claims["iss"] = opts.issuer;
    claims["sub"] = std::string(subject);
    if (refresh) {
      claims["aud"] = opts.issuer;
    } else if (opts.audiences.size() == 1) {
      claims["aud"] = opts.audiences.front();
    } else {
      claims["aud"] = opts.audiences;
    }
    claims["iat"] = iat;
    claims["nbf"] = iat;
    claims["exp"] = exp;
    claims["jti"] = *jti;
    if (!sid.empty()) claims["sid"] = std::string(sid);

    std::string payload;
    try {
      payload = claims.dump();
    } catch (const nlohmann::json::exception& e) {
      return Error(Errc::invalid_argument, std::string("claims cannot be serialized: ") + e.what());
    }
    // Never issue what verification would refuse: the payload passes the same strict checks.
    detail::ScannedObject scanned;
    if (auto r = detail::scan_object(payload, JsonLimits{opts.limits.max_token_bytes, opts.limits.max_json_depth},
                                     scanned);
        !r) {
      return Error(Errc::invalid_argument, "custom claims would make an unverifiable token: " + r.error().message());
    }
    nlohmann::json header = {{"typ", refresh ? kRefreshTokenType : kAccessTokenType}};
    auto token = sign_compact(ks->signer->key, ks->signer->alg, payload, header);
    if (!token) return std::move(token).error();
    if (token->size() > opts.limits.max_token_bytes) {
      return Error(Errc::invalid_argument,
                   "the token would be " + std::to_string(token->size()) +
                       " bytes, over limits.max_token_bytes; use fewer custom claims");
    }
    return Issued{std::move(*token), from_unix(exp)};
  }

  Result<TokenPair> sign_pair(std::string_view subject, const IssueOptions& access,
                              const nlohmann::json& refresh_claims, seconds refresh_ttl,
                              const std::string& sid) const {
    auto rt = sign_token(subject, refresh_claims, refresh_ttl, true, sid);
    if (!rt) return std::move(rt).error();
    auto at = sign_token(subject, access.claims, access.ttl.value_or(opts.access_ttl), false, sid);
    if (!at) return std::move(at).error();
    return TokenPair{std::move(at->token), std::move(rt->token), at->expires_at, rt->expires_at,
                     sid};
  }

  // ---- verification ----

  /// The retirement check the verifier itself cannot do: time moves on after it was built.
  static Result<void> check_key_live(const KeySet& ks, const std::string& kid, TimePoint t) {
    auto it = ks.verify_until.find(kid);
    if (it == ks.verify_until.end()) {
      return Error(Errc::key_not_found, "no key with this kid can verify");
    }
    if (it->second && t >= *it->second) {
      return Error(Errc::key_not_found, "the key that signed the token has retired");
    }
    return ok();
  }

  // `always_fail_closed`: refuse on a store error whatever the policy (refresh mints new
  // tokens, so an unknown revocation status must never let it through).
  Result<VerifiedToken> verify(std::string_view token, bool refresh, bool always_fail_closed = false) const {
    auto ks = keyset.load();
    if (!ks || !ks->verifier) return Error(Errc::key_not_found, "the engine has no keys");
    const TimePoint t = now();
    auto jwt = verify_jwt(*ks->verifier, token, refresh ? refresh_policy : access_policy, t);
    if (!jwt) return std::move(jwt).error();
    if (auto live = check_key_live(*ks, jwt->kid(), t); !live) return std::move(live).error();

    // The registered claims were read while verifying: no JSON tree is built here.
    const RegisteredClaims& c = jwt->registered();
    if (!c.subject || c.subject->empty()) return Error(Errc::malformed, "'sub' must be a non-empty string");
    if (!c.jwt_id || c.jwt_id->empty()) return Error(Errc::malformed, "'jti' must be a non-empty string");
    if (!c.issued_at) return Error(Errc::malformed, "'iat' is missing");
    if (!c.expires_at) return Error(Errc::malformed, "'exp' is missing");
    if (c.session_id && c.session_id->empty()) return Error(Errc::malformed, "'sid' must be a non-empty string");
    std::string_view sid = c.session_id ? std::string_view(*c.session_id) : std::string_view();

    const TokenRef ref{*c.jwt_id, *c.subject, sid, *c.issued_at};
    auto revoked = revocations->is_revoked(ref);
    if (!revoked) {
      if (always_fail_closed || opts.store_failure == EngineOptions::StoreFailurePolicy::fail_closed) {
        return Error(Errc::store_unavailable,
                     "revocation status unknown, token refused: " + revoked.error().message(),
                     revoked.error().cause());
      }
    } else if (*revoked) {
      return Error(Errc::revoked, "the token, its session or its subject was revoked");
    }
    return detail::EngineAccess::make(std::move(*jwt), refresh);
  }

  struct SignedClaims {
    nlohmann::json header;
    nlohmann::json claims;
  };

  /// Signature, issuer and key retirement only: for revoke() and remaining_lifetime(),
  /// which also accept expired tokens.
  Result<SignedClaims> signed_claims(std::string_view token) const {
    auto ks = keyset.load();
    if (!ks || !ks->verifier) return Error(Errc::key_not_found, "the engine has no keys");
    auto jws = ks->verifier->verify(token);
    if (!jws) return std::move(jws).error();
    if (auto live = check_key_live(*ks, jws->kid(), now()); !live) return std::move(live).error();
    auto claims = parse_json_strict(jws->payload(),
                                    JsonLimits{opts.limits.max_token_bytes,
                                               opts.limits.max_json_depth});
    if (!claims) return std::move(claims).error();
    if (!claims->is_object()) return Error(Errc::malformed, "the payload is not a JSON object");
    const auto* iss = string_claim(*claims, "iss");
    if (!iss || *iss != opts.issuer) return Error(Errc::bad_issuer, "not issued by this issuer");
    auto exp = claims->find("exp");
    if (exp == claims->end()) return Error(Errc::missing_claim, "the token has no 'exp'");
    if (!exp->is_number()) return Error(Errc::malformed, "'exp' must be a number");
    return SignedClaims{jws->header(), std::move(*claims)};
  }
};

// ---------------------------------------------------------------------------------------------

Engine::Engine(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;
Engine::~Engine() = default;

Result<Engine> Engine::create(std::shared_ptr<KeyStore> keys,
                              std::shared_ptr<RevocationStore> revocations,
                              EngineOptions options) {
  return guarded("Engine::create", [&]() -> Result<Engine> {
    auto bad = [](const std::string& why) { return Error(Errc::invalid_argument, why); };
    if (!keys) return bad("the key store is null");
    if (!revocations) return bad("the revocation store is null");
    if (options.issuer.empty()) return bad("issuer must not be empty");
    if (options.audiences.empty()) return bad("at least one audience is required");
    for (const auto& a : options.audiences) {
      if (a.empty()) return bad("an audience must not be empty");
    }
    if (options.access_ttl.count() <= 0) return bad("access_ttl must be positive");
    if (options.refresh_ttl.count() <= 0) return bad("refresh_ttl must be positive");
    if (options.access_ttl > kMaxTokenTtl || options.refresh_ttl > kMaxTokenTtl) {
      return bad("token lifetimes must be at most ten years (kMaxTokenTtl)");
    }
    if (options.leeway.count() < 0 || options.leeway > kMaxLeeway) {
      return bad("leeway must be between 0 and " + std::to_string(kMaxLeeway.count()) + " s");
    }
    if (options.key_publish_delay.count() < 0) return bad("key_publish_delay must not be negative");
    if (options.rsa_bits < 2048 || options.rsa_bits > 16384) {
      return bad("rsa_bits must be between 2048 and 16384");
    }
    if (options.allowed_algs.empty()) options.allowed_algs = {options.signing_alg};
    if (std::find(options.allowed_algs.begin(), options.allowed_algs.end(),
                  options.signing_alg) == options.allowed_algs.end()) {
      return bad("allowed_algs must contain signing_alg " +
                 std::string(to_string(options.signing_alg)));
    }
    for (const auto& c : options.required_claims) {
      if (c.empty()) return bad("a required claim name must not be empty");
    }
    if (options.limits.max_token_bytes == 0 || options.limits.max_json_depth == 0) {
      return bad("limits must be positive");
    }
    if (!options.clock) options.clock = std::make_shared<SystemClock>();

    auto impl = std::make_unique<Impl>();
    impl->key_store = std::move(keys);
    impl->revocations = std::move(revocations);
    impl->clock = options.clock;
    impl->max_ttl = std::max(options.access_ttl, options.refresh_ttl);

    ClaimsPolicy& ap = impl->access_policy;
    ap.issuer = options.issuer;
    ap.audiences = options.audiences;
    ap.type = std::string(kAccessTokenType);
    ap.leeway = options.leeway;
    ap.require_exp = true;
    ap.required_claims = options.required_claims;
    for (const char* c : {"sub", "jti", "iat"}) ap.required_claims.emplace_back(c);

    ClaimsPolicy& rp = impl->refresh_policy;
    rp.issuer = options.issuer;
    rp.audiences = {options.issuer};
    rp.type = std::string(kRefreshTokenType);
    rp.leeway = options.leeway;
    rp.require_exp = true;
    rp.required_claims = {"sub", "jti", "iat", "sid"};

    impl->opts = std::move(options);
    {
      std::lock_guard<std::mutex> lock(impl->key_mu);
      if (auto synced = impl->sync_keys_locked(); !synced) return std::move(synced).error();
    }
    return Engine(std::move(impl));
  });
}

Result<std::string> Engine::issue_access(std::string_view subject, const IssueOptions& options) {
  return guarded("Engine::issue_access", [&]() -> Result<std::string> {
    if (auto checked = impl_->check_issue_options(subject, options); !checked) {
      return std::move(checked).error();
    }
    auto t = impl_->sign_token(subject, options.claims,
                               options.ttl.value_or(impl_->opts.access_ttl), false, {});
    if (!t) return std::move(t).error();
    return std::move(t->token);
  });
}

Result<std::string> Engine::issue_refresh(std::string_view subject, const IssueOptions& options) {
  return guarded("Engine::issue_refresh", [&]() -> Result<std::string> {
    if (auto checked = impl_->check_issue_options(subject, options); !checked) {
      return std::move(checked).error();
    }
    auto sid = detail::random_id();
    if (!sid) return std::move(sid).error();
    auto t = impl_->sign_token(subject, options.claims,
                               options.ttl.value_or(impl_->opts.refresh_ttl), true, *sid);
    if (!t) return std::move(t).error();
    // The token exists only once its session is recorded.
    if (auto added = impl_->revocations->add_session(subject, *sid, t->expires_at); !added) {
      return std::move(added).error();
    }
    return std::move(t->token);
  });
}

Result<TokenPair> Engine::issue_pair(std::string_view subject, const IssueOptions& access,
                                     const IssueOptions& refresh) {
  return guarded("Engine::issue_pair", [&]() -> Result<TokenPair> {
    if (auto checked = impl_->check_issue_options(subject, access); !checked) {
      return std::move(checked).error();
    }
    if (auto checked = impl_->check_issue_options(subject, refresh); !checked) {
      return std::move(checked).error();
    }
    auto sid = detail::random_id();
    if (!sid) return std::move(sid).error();
    auto pair = impl_->sign_pair(subject, access, refresh.claims,
                                 refresh.ttl.value_or(impl_->opts.refresh_ttl), *sid);
    if (!pair) return pair;
    if (auto added = impl_->revocations->add_session(subject, *sid, pair->refresh_expires_at);
        !added) {
      return std::move(added).error();
    }
    return pair;
  });
}

Result<VerifiedToken> Engine::verify_access(std::string_view token) const noexcept {
  return guarded("Engine::verify_access", [&] { return impl_->verify(token, false); });
}

Result<VerifiedToken> Engine::verify_refresh(std::string_view token) const noexcept {
  return guarded("Engine::verify_refresh", [&] { return impl_->verify(token, true); });
}

Result<TokenPair> Engine::refresh(std::string_view refresh_token, const IssueOptions& access) {
  return guarded("Engine::refresh", [&]() -> Result<TokenPair> {
    auto old = impl_->verify(refresh_token, true, /*always_fail_closed=*/true);
    if (!old) return std::move(old).error();
    if (auto checked = impl_->check_issue_options(old->subject(), access); !checked) {
      return std::move(checked).error();
    }
    nlohmann::json carried = nlohmann::json::object();
    for (auto it = old->claims().begin(); it != old->claims().end(); ++it) {
      if (!is_registered(it.key())) carried[it.key()] = *it;
    }
    // The new refresh token lives as long as the old one did (a short "don't remember me"
    // session stays short), never longer than refresh_ttl.
    const auto lifetime = std::chrono::duration_cast<seconds>(old->expires_at() - old->issued_at());
    const seconds refresh_ttl = std::clamp(lifetime, seconds(1), impl_->opts.refresh_ttl);
    // Sign first: after the token is marked used nothing may fail.
    auto pair = impl_->sign_pair(old->subject(), access, carried, refresh_ttl, old->session_id());
    if (!pair) return pair;

    auto& store = *impl_->revocations;
    // Extending the session before the mark is harmless if the mark then fails or loses.
    if (auto added = store.add_session(old->subject(), old->session_id(), pair->refresh_expires_at);
        !added) {
      return std::move(added).error();
    }
    auto first = store.mark_refresh_used(old->jti(), old->expires_at() + impl_->opts.leeway);
    if (!first) return std::move(first).error();
    if (!*first) {
      const auto t = impl_->now();
      auto killed = store.revoke_session(old->subject(), old->session_id(), impl_->horizon(t));
      if (!killed) {
        return Error(Errc::store_unavailable,
                     "a used refresh token was presented again, and revoking its session "
                     "failed: " + killed.error().message(),
                     killed.error().cause());
      }
      return Error(Errc::refresh_reused,
                   "the refresh token was already used; its session has been revoked");
    }
    // A revoke_subject that landed between the check above and now would not cover the new
    // pair (its iat is later than the revocation time): look again, now that the old token
    // can no longer be used, and kill the session if so.
    auto since = store.subject_revoked_before(old->subject());
    if (!since || (*since && old->issued_at() <= **since)) {
      auto killed = store.revoke_session(old->subject(), old->session_id(), impl_->horizon(impl_->now()));
      if (!since) return std::move(since).error();
      if (!killed) return std::move(killed).error();
      return Error(Errc::revoked, "the subject was revoked while the token was being refreshed");
    }
    return pair;
  });
}

Result<void> Engine::revoke(std::string_view token) {
  return guarded("Engine::revoke", [&]() -> Result<void> {
    auto sc = impl_->signed_claims(token);
    if (!sc) return std::move(sc).error();
    const auto* jti = string_claim(sc->claims, "jti");
    if (!jti || jti->empty()) return Error(Errc::missing_claim, "the token has no 'jti'");
    const auto until = from_unix(numeric_date(sc->claims.at("exp"))) + impl_->opts.leeway;
    if (auto r = impl_->revocations->revoke_token(*jti, until); !r) return r;

    auto typ = sc->header.find("typ");
    const bool is_refresh = typ != sc->header.end() && typ->is_string() &&
                            type_matches(typ->get<std::string>(), kRefreshTokenType);
    const auto* sid = string_claim(sc->claims, "sid");
    const auto* sub = string_claim(sc->claims, "sub");
    if (is_refresh && sid && !sid->empty() && sub) {
      // Revoking a refresh token ends its session: the device is logged out.
      return impl_->revocations->revoke_session(*sub, *sid, impl_->horizon(impl_->now()));
    }
    return ok();
  });
}

Result<void> Engine::revoke_jti(std::string_view jti, TimePoint expires_at) {
  return guarded("Engine::revoke_jti", [&]() -> Result<void> {
    if (jti.empty()) return Error(Errc::invalid_argument, "jti must not be empty");
    return impl_->revocations->revoke_token(jti, expires_at);
  });
}

Result<void> Engine::revoke_subject(std::string_view subject) {
  return guarded("Engine::revoke_subject", [&]() -> Result<void> {
    if (subject.empty()) return Error(Errc::invalid_argument, "subject must not be empty");
    const auto t = impl_->now();
    // Whole seconds, like the iat it is compared with.
    return impl_->revocations->revoke_subject(subject, from_unix(to_unix(t)), impl_->horizon(t));
  });
}

Result<bool> Engine::is_revoked(std::string_view jti) const {
  return guarded("Engine::is_revoked",
                 [&]() -> Result<bool> { return impl_->revocations->is_token_revoked(jti); });
}

Result<bool> Engine::is_subject_revoked(std::string_view subject) const {
  return guarded("Engine::is_subject_revoked", [&]() -> Result<bool> {
    auto when = impl_->revocations->subject_revoked_before(subject);
    if (!when) return std::move(when).error();
    return when->has_value();
  });
}

Result<std::chrono::seconds> Engine::remaining_lifetime(std::string_view token) const {
  return guarded("Engine::remaining_lifetime", [&]() -> Result<std::chrono::seconds> {
    auto sc = impl_->signed_claims(token);
    if (!sc) return std::move(sc).error();
    const std::int64_t exp = numeric_date(sc->claims.at("exp"));
    const std::int64_t now_s = to_unix(impl_->now());
    return seconds(exp > now_s ? exp - now_s : 0);
  });
}

Result<std::size_t> Engine::session_count(std::string_view subject) const {
  return guarded("Engine::session_count", [&]() -> Result<std::size_t> {
    return impl_->revocations->count_sessions(subject);
  });
}

Result<std::size_t> Engine::cleanup() {
  return guarded("Engine::cleanup", [&]() -> Result<std::size_t> {
    auto removed = impl_->revocations->cleanup();
    if (!removed) return removed;
    std::size_t count = *removed;

    std::lock_guard<std::mutex> lock(impl_->key_mu);
    auto records = impl_->key_store->load_all();
    if (!records) return std::move(records).error();
    const auto t = impl_->now();
    for (const auto& r : *records) {
      const bool dead = r.state == KeyState::retired ||
                        (r.state == KeyState::retiring && r.verify_until && t >= *r.verify_until);
      if (!dead) continue;
      if (auto gone = impl_->key_store->remove(r.kid()); !gone) return std::move(gone).error();
      ++count;
    }
    if (auto synced = impl_->sync_keys_locked(); !synced) return std::move(synced).error();
    return count;
  });
}

Result<std::string> Engine::rotate_key(std::optional<Alg> alg) {
  return guarded("Engine::rotate_key", [&]() -> Result<std::string> {
    const Alg a = alg.value_or(impl_->opts.signing_alg);
    if (!impl_->alg_allowed(a)) {
      return Error(Errc::invalid_argument,
                   std::string(to_string(a)) + " is not in allowed_algs: its tokens could not "
                                               "be verified");
    }
    std::lock_guard<std::mutex> lock(impl_->key_mu);
    auto rec = impl_->new_key_record(a, KeyState::next, impl_->now());
    if (!rec) return std::move(rec).error();
    // Published first; sync promotes it now or once key_publish_delay has passed.
    if (auto saved = impl_->key_store->save(*rec); !saved) return std::move(saved).error();
    if (auto synced = impl_->sync_keys_locked(); !synced) return std::move(synced).error();
    return rec->kid();
  });
}

Result<void> Engine::reload_keys() {
  return guarded("Engine::reload_keys", [&]() -> Result<void> {
    std::lock_guard<std::mutex> lock(impl_->key_mu);
    return impl_->sync_keys_locked();
  });
}

nlohmann::json Engine::jwks() const {
  auto ks = impl_->keyset.load();
  std::vector<Key> pub;
  if (ks) {
    const auto t = impl_->now();
    for (const auto& r : ks->records) {
      if (!can_verify_at(r, t)) continue;
      auto restricted = r.key.with_alg(r.alg);
      if (!restricted) continue;
      auto p = restricted->public_key();
      if (p) pub.push_back(std::move(*p));  // HMAC secrets have no public form
    }
  }
  return JwkSet(std::move(pub)).to_public_json();
}

std::string Engine::jwks_json() const { return jwks().dump(); }

std::string Engine::active_kid() const {
  auto ks = impl_->keyset.load();
  return ks && ks->signer ? ks->signer->kid() : std::string();
}

const EngineOptions& Engine::options() const noexcept { return impl_->opts; }

}  // namespace jwtkit
