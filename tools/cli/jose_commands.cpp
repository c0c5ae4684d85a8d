// The JOSE commands: keys, JWKS, sign, verify, decode. Library calls only, no shortcuts: the
// tool verifies exactly as an application linking jwtkit would.
#include "commands.hpp"
#include "common.hpp"

#include <jwtkit/base64url.hpp>
#include <jwtkit/json.hpp>
#include <jwtkit/jws.hpp>
#include <jwtkit/jwt.hpp>
#include <jwtkit/stores/file.hpp>

#include <map>

namespace jwtkit_cli {

using jwtkit::Errc;
using jwtkit::Error;
using jwtkit::Key;
using jwtkit::Result;

namespace {

// Where an input error (token, claims, stdin) belongs: a bad command line, a token that is
// not even well formed, or a file that could not be read.
int input_exit(const Error& e) {
  switch (e.code()) {
    case Errc::invalid_argument: return kExitUsage;
    case Errc::malformed: return kExitRejected;
    default: return kExitFailure;
  }
}

// ---- keygen ---------------------------------------------------------------------------------

int run_keygen(const Args& args) {
  auto alg_name = args.get("alg");
  if (!alg_name) return usage_error("keygen needs --alg ALG");
  auto alg = parse_one_alg(*alg_name);
  if (!alg) return fail(kExitUsage, alg.error());
  const bool as_jwk = args.has("jwk");
  const bool hmac = jwtkit::key_type_for(*alg) == jwtkit::KeyType::oct;
  if (hmac && !as_jwk) return usage_error("an HMAC secret has no PEM form; add --jwk");
  if (args.has("kid") && !as_jwk) {
    return usage_error("a PEM file cannot carry a kid (its kid is its thumbprint); add --jwk");
  }
  unsigned bits = 2048;
  if (auto b = args.get("bits")) {
    if (jwtkit::key_type_for(*alg) != jwtkit::KeyType::rsa) {
      return usage_error("--bits applies to RSA keys (RS*, PS*) only");
    }
    auto n = parse_integer(*b, 16384);
    if (!n || *n < 2048) return usage_error("--bits must be 2048..16384");
    bits = static_cast<unsigned>(*n);
  }

  auto key = Key::generate(*alg, bits);
  if (!key) return fail(kExitFailure, key.error());
  std::string text;
  if (as_jwk) {
    // A generated key is for one algorithm; saying so in the JWK stops its misuse with another.
    auto restricted = key->with_alg(*alg);
    if (!restricted) return fail(kExitFailure, restricted.error());
    Key k = *restricted;
    if (auto kid = args.get("kid")) {
      k = k.with_kid(*kid);
    } else if (k.kid().empty()) {
      k = k.with_kid(k.thumbprint());
    }
    auto jwk = k.private_jwk();
    if (!jwk) return fail(kExitFailure, jwk.error());
    text = to_json_text(*jwk);
  } else {
    auto pem = key->private_pem();
    if (!pem) return fail(kExitFailure, pem.error());
    text = *pem;
  }
  if (auto out = args.get("out")) {
    if (auto w = write_private_file(*out, text, args.has("force")); !w) {
      return fail(kExitFailure, w.error());
    }
  } else {
    if (args.has("force")) return usage_error("--force applies to --out FILE only");
    print(text);
  }
  return kExitOk;
}

// ---- pubkey, thumbprint, jwks -----------------------------------------------------------------

int run_pubkey(const Args& args) {
  auto path = args.get("key");
  if (!path) return usage_error("pubkey needs --key FILE");
  auto key = load_key_file(*path);
  if (!key) return fail(kExitFailure, key.error());
  if (args.has("jwk")) {
    auto jwk = key->public_jwk();
    if (!jwk) return fail(kExitFailure, jwk.error());
    print(to_json_text(*jwk));
  } else {
    auto pem = key->public_pem();
    if (!pem) return fail(kExitFailure, pem.error());
    print(*pem);
  }
  return kExitOk;
}

int run_thumbprint(const Args& args) {
  auto path = args.get("key");
  if (!path) return usage_error("thumbprint needs --key FILE");
  auto key = load_key_file(*path);
  if (!key) return fail(kExitFailure, key.error());
  std::string thumbprint = key->thumbprint();
  if (thumbprint.empty()) {
    return fail(kExitFailure, Error(Errc::crypto_error, "cannot compute the thumbprint"));
  }
  print(thumbprint + "\n");
  return kExitOk;
}

// Keys of an engine key directory (a FileKeyStore) that verifiers need: every key that is not
// retired and whose verification window is still open.
Result<std::vector<Key>> publishable_keys(const std::string& dir, jwtkit::TimePoint now) {
  if (auto checked = check_key_directory(dir); !checked) return checked.error();
  auto store = jwtkit::FileKeyStore::open(dir);
  if (!store) return store.error();
  auto records = (*store)->load_all();
  if (!records) return records.error();
  std::vector<Key> keys;
  for (const auto& record : *records) {
    if (record.state == jwtkit::KeyState::retired) continue;
    if (record.verify_until && *record.verify_until <= now) continue;
    if (record.key.is_symmetric()) continue;  // an HMAC secret is never published
    // Published with its algorithm, as the engine's own JWKS does.
    auto restricted = record.key.with_alg(record.alg);
    if (!restricted) {
      return Error(restricted.error().code(), "stored key '" + record.kid() + "': " +
                                                  restricted.error().message());
    }
    keys.push_back(*restricted);
  }
  return keys;
}

// The keys of one JWKS, one per kid. Verifiers (jwtkit's own included) refuse every key of a
// set whose kid is not unique, so the same key given twice is published once, and two
// different keys under one kid are refused rather than published.
class KidSet {
 public:
  /// `source` names where the key came from, for the error message.
  Result<void> add(const Key& key, const std::string& source) {
    auto [it, inserted] = index_.try_emplace(key.kid(), keys_.size());
    if (inserted) {
      keys_.push_back(key);
      sources_.push_back(source);
      return jwtkit::ok();
    }
    Key& seen = keys_[it->second];
    const bool same_key = seen.thumbprint() == key.thumbprint() && !key.thumbprint().empty();
    const bool same_alg = !seen.alg() || !key.alg() || seen.alg() == key.alg();
    if (!same_key || !same_alg) {
      return Error(Errc::key_mismatch,
                   source + " and " + sources_[it->second] + " are different keys with the same "
                   "kid \"" + key.kid() + "\"; a JWKS with both could not be used (a verifier " +
                   "cannot tell which key a token names)");
    }
    if (!seen.alg() && key.alg()) seen = key;  // the same key: keep the more specific entry
    return jwtkit::ok();
  }
  std::vector<Key> take() && { return std::move(keys_); }

 private:
  std::map<std::string, std::size_t> index_;
  std::vector<Key> keys_;
  std::vector<std::string> sources_;
};

int run_jwks(const Args& args) {
  auto paths = args.all("key");
  auto dir = args.get("keys");
  if (paths.empty() && !dir) return usage_error("jwks needs --key FILE (one or more) or --keys DIR");
  KidSet keys;
  for (const auto& path : paths) {
    auto key = load_key_file(path);
    if (!key) return fail(kExitFailure, key.error());
    if (key->is_symmetric()) {
      return fail(kExitFailure, Error(Errc::key_mismatch, "key file '" + path +
                                          "' is an HMAC secret, which is never published"));
    }
    if (auto added = keys.add(*key, "key file '" + path + "'"); !added) {
      return fail(kExitFailure, added.error());
    }
  }
  if (dir) {
    auto now = command_now(args);
    if (!now) return fail(kExitUsage, now.error());
    auto stored = publishable_keys(*dir, *now);
    if (!stored) return fail(kExitFailure, stored.error());
    for (const auto& key : *stored) {
      if (auto added = keys.add(key, "the key in '" + *dir + "'"); !added) {
        return fail(kExitFailure, added.error());
      }
    }
  }
  print(to_json_text(jwtkit::JwkSet(std::move(keys).take()).to_public_json()));
  return kExitOk;
}

// ---- sign -------------------------------------------------------------------------------------

int run_sign(const Args& args) {
  auto alg_name = args.get("alg");
  if (!alg_name) return usage_error("sign needs --alg ALG");
  auto alg = parse_one_alg(*alg_name);
  if (!alg) return fail(kExitUsage, alg.error());
  auto key_path = args.get("key");
  auto secret_path = args.get("secret");
  if (key_path.has_value() == secret_path.has_value()) {
    return usage_error("sign needs exactly one of --key FILE and --secret FILE");
  }
  if (args.get("claims") == "-" && args.get("header") == "-") {
    return usage_error("--claims and --header cannot both read standard input");
  }

  nlohmann::json header = nlohmann::json::object();
  if (auto h = args.get("header")) {
    auto doc = read_json_argument(*h, "--header");
    if (!doc) return fail(input_exit(doc.error()), doc.error());
    if (!doc->is_object()) return usage_error("--header must be a JSON object");
    header = std::move(*doc);
  }
  nlohmann::json claims = nlohmann::json::object();
  if (auto c = args.get("claims")) {
    auto doc = read_json_argument(*c, "--claims");
    if (!doc) return fail(input_exit(doc.error()), doc.error());
    if (!doc->is_object()) return usage_error("--claims must be a JSON object (a JWT claims set)");
    claims = std::move(*doc);
  }
  if (auto ttl_text = args.get("ttl")) {
    auto ttl = parse_duration(*ttl_text);
    if (!ttl) return fail(kExitUsage, ttl.error());
    if (ttl->count() == 0) return usage_error("--ttl must be positive");
    if (claims.contains("exp") || claims.contains("iat")) {
      return usage_error("--ttl sets iat and exp; --claims already has one of them");
    }
    auto now = command_now(args);
    if (!now) return fail(kExitUsage, now.error());
    claims["iat"] = jwtkit::to_unix(*now);
    claims["exp"] = jwtkit::to_unix(*now) + ttl->count();
  } else if (args.has("now")) {
    return usage_error("--now only applies with --ttl");
  }

  auto key = key_path ? load_key_file(*key_path) : load_secret_file(*secret_path);
  if (!key) return fail(kExitFailure, key.error());
  Key signing_key = *key;
  if (auto kid = args.get("kid")) signing_key = signing_key.with_kid(*kid);

  auto token = jwtkit::sign_compact(signing_key, *alg, claims.dump(), header);
  if (!token) {
    return fail(token.error().code() == Errc::invalid_argument ? kExitUsage : kExitFailure,
                token.error());
  }
  print(*token + "\n");
  return kExitOk;
}

// ---- verify -----------------------------------------------------------------------------------

// With --store: the token must not be revoked by its jti, its session or its subject. A
// store that cannot answer rejects the token (fail closed), as the engine does.
int check_revocation(jwtkit::RevocationStore& store, const nlohmann::json& claims) {
  auto text = [&](const char* name) -> std::string {
    auto it = claims.find(name);
    return it != claims.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string jti = text("jti");
  const std::string sub = text("sub");
  const std::string sid = text("sid");
  if (jti.empty() || sub.empty()) {
    return fail(kExitRejected, Error(Errc::missing_claim,
                                     "--store checks revocation by jti and sub; the token lacks " +
                                         std::string(jti.empty() ? "jti" : "sub")));
  }
  jwtkit::TimePoint issued_at{};  // no iat: revoked by any subject revocation
  if (auto it = claims.find("iat"); it != claims.end() && it->is_number()) {
    issued_at = jwtkit::from_unix(static_cast<std::int64_t>(it->get<double>()));
  }
  auto revoked = store.is_revoked(jwtkit::TokenRef{jti, sub, sid, issued_at});
  if (!revoked) return fail(kExitFailure, revoked.error());
  if (*revoked) {
    return fail(kExitRejected,
                Error(Errc::revoked, "token " + jti + " was revoked (its jti, session or subject)"));
  }
  return kExitOk;
}

// key_not_found names the token's kid; saying which kids were given shows the mismatch
// (a PEM key's kid is its thumbprint, which a token from elsewhere rarely names).
Error with_kid_hint(const Error& e, const std::vector<Key>& keys) {
  if (e.code() != Errc::key_not_found || keys.empty()) return e;
  std::string kids;
  for (std::size_t i = 0; i < keys.size() && i < 5; ++i) {
    kids += (i == 0 ? "\"" : ", \"") + keys[i].kid() + "\"";
  }
  if (keys.size() > 5) kids += ", ...";
  return Error(e.code(), e.message() + " (the keys given have kid " + kids + ")", e.cause());
}

int run_verify(const Args& args) {
  auto algs = parse_alg_list(args.all("alg"));
  if (!algs) {
    return args.has("alg") ? fail(kExitUsage, algs.error())
                           : usage_error("verify needs --alg ALG[,ALG...] (the allow-list)");
  }
  const bool raw_jws = args.has("jws");
  if (raw_jws) {
    for (const char* claim_option : {"iss", "aud", "typ", "require", "leeway", "now", "store"}) {
      if (args.has(claim_option)) {
        return usage_error(std::string("--") + claim_option +
                           " checks JWT claims; it cannot be combined with --jws");
      }
    }
  }

  jwtkit::ClaimsPolicy policy;
  policy.issuer = args.get("iss");
  policy.audiences = args.all("aud");
  policy.type = args.get("typ");
  policy.required_claims = split_list(args.all("require"));
  if (auto leeway = args.get("leeway")) {
    auto d = parse_duration(*leeway);
    if (!d) return fail(kExitUsage, d.error());
    if (*d > jwtkit::kMaxLeeway) {
      return usage_error("--leeway must be at most " + std::to_string(jwtkit::kMaxLeeway.count()) +
                         " seconds");
    }
    policy.leeway = *d;
  }
  auto now = command_now(args);
  if (!now) return fail(kExitUsage, now.error());

  std::vector<Key> keys;
  for (const auto& path : args.all("key")) {
    auto key = load_key_file(path);
    if (!key) return fail(kExitFailure, key.error());
    keys.push_back(*key);
  }
  for (const auto& path : args.all("secret")) {
    auto key = load_secret_file(path);
    if (!key) return fail(kExitFailure, key.error());
    keys.push_back(*key);
  }
  if (auto path = args.get("jwks")) {
    auto set = load_jwks_file(*path);
    if (!set) return fail(kExitFailure, set.error());
    keys.insert(keys.end(), set->keys().begin(), set->keys().end());
  }
  if (keys.empty() && !args.has("jwks")) {
    return usage_error("verify needs --key FILE or --jwks FILE");
  }

  // Opened before anything is verified, so a bad URL or a dead store is reported as such.
  std::shared_ptr<jwtkit::RevocationStore> store;
  if (auto url = args.get("store")) {
    std::shared_ptr<const jwtkit::Clock> clock;
    if (args.has("now")) clock = std::make_shared<jwtkit::ManualClock>(*now);
    auto opened = open_revocation_store(*url, clock);
    if (!opened) {
      return fail(opened.error().code() == Errc::invalid_argument ? kExitUsage : kExitFailure,
                  opened.error());
    }
    store = std::move(*opened);
  }

  auto token = read_token(args);
  if (!token) return fail(input_exit(token.error()), token.error());

  jwtkit::JwsVerifierOptions options;
  options.allowed_algs = *algs;
  auto verifier = jwtkit::JwsVerifier::create(std::move(keys), std::move(options));
  if (!verifier) return fail(kExitUsage, verifier.error());

  if (raw_jws) {
    auto jws = verifier->verify(*token);
    if (!jws) {
      return fail(jws.error().code() == Errc::internal ? kExitFailure : kExitRejected,
                  with_kid_hint(jws.error(), verifier->keys()));
    }
    print(jws->payload());
    return kExitOk;
  }
  auto jwt = jwtkit::verify_jwt(*verifier, *token, policy, *now);
  if (!jwt) {
    if (jwt.error().code() == Errc::key_not_found) {
      return fail(kExitRejected, with_kid_hint(jwt.error(), verifier->keys()));
    }
    return fail(jwt.error().code() == Errc::internal ? kExitFailure : kExitRejected, jwt.error());
  }
  if (store) {
    if (int rc = check_revocation(*store, jwt->claims()); rc != kExitOk) return rc;
  }
  print(to_json_text(jwt->claims()));
  return kExitOk;
}

// ---- decode -----------------------------------------------------------------------------------

Result<nlohmann::json> decode_token(const std::string& token, bool& payload_is_json) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    std::size_t dot = token.find('.', start);
    parts.push_back(token.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (parts.size() == 5) {
    return Error(Errc::malformed, "5 dot-separated parts: an encrypted JWE, which jwtkit does not "
                                  "decode (a compact JWS has 3)");
  }
  if (parts.size() != 3) {
    return Error(Errc::malformed, "a compact JWS has 3 dot-separated parts, this has " +
                                      std::to_string(parts.size()));
  }
  const jwtkit::JsonLimits limits{64 * 1024, 16};
  auto header_bytes = jwtkit::base64url::decode(parts[0]);
  if (!header_bytes) return Error(Errc::malformed, "header: " + header_bytes.error().message());
  auto header = jwtkit::parse_json_strict(*header_bytes, limits);
  if (!header) return Error(Errc::malformed, "header: " + header.error().message());
  if (!header->is_object()) return Error(Errc::malformed, "header: not a JSON object");
  auto payload_bytes = jwtkit::base64url::decode(parts[1]);
  if (!payload_bytes) return Error(Errc::malformed, "payload: " + payload_bytes.error().message());
  if (auto sig = jwtkit::base64url::decode(parts[2]); !sig) {
    return Error(Errc::malformed, "signature: " + sig.error().message());
  }
  nlohmann::json out = {{"header", std::move(*header)}};
  auto payload = jwtkit::parse_json_strict(*payload_bytes, limits);
  payload_is_json = payload.ok();
  out["payload"] = payload_is_json ? std::move(*payload) : nlohmann::json(*payload_bytes);
  return out;
}

int run_decode(const Args& args) {
  auto token = read_token(args);
  if (!token) return fail(input_exit(token.error()), token.error());
  bool payload_is_json = false;
  auto decoded = decode_token(*token, payload_is_json);
  if (!decoded) return fail(kExitRejected, decoded.error());
  warn("nothing was verified: not the signature, not the claims; do not trust this output");
  if (!payload_is_json) warn("the payload is not JSON; it is shown as a string");
  print(to_json_text(*decoded));
  return kExitOk;
}

}  // namespace

std::vector<Command> jose_commands() {
  const OptionSpec kKey{"key", "FILE", "key file: PEM or JWK (detected from the content)"};
  const OptionSpec kNow{"now", "UNIXTIME", "fix the current time (seconds since 1970)"};
  std::vector<Command> commands;

  commands.push_back(Command{
      "keygen", "--alg ALG [--kid KID] [--jwk] [--bits N] [--out FILE [--force]]",
      "generate a private key (PEM, or a private JWK)",
      "Generates a new random key for ALG: RSA for RS*/PS* (2048 bits unless --bits), P-256/\n"
      "P-384/P-521 for ES256/ES384/ES512, Ed25519 for EdDSA, a secret of the hash size for\n"
      "HS* (JWK only). The kid defaults to the key's RFC 7638 thumbprint; a JWK also records\n"
      "the alg. --out FILE writes a new file of mode 0600 (through a temporary file renamed\n"
      "into place); an existing FILE is replaced only with --force, and a symlink or anything\n"
      "that is not a regular file never is.",
      {{"alg", "ALG", "algorithm the key is for (HS256 ... EdDSA)"},
       {"kid", "KID", "key id (JWK only; default: the RFC 7638 thumbprint)"},
       {"jwk", "", "write a private JWK instead of PKCS#8 PEM"},
       {"bits", "N", "RSA modulus size, 2048..16384 (default 2048)"},
       {"out", "FILE", "write to FILE (mode 0600) instead of standard output"},
       {"force", "", "replace FILE when it exists (a regular file only)"}},
      0, exit_codes_help("the key was written"), run_keygen});

  commands.push_back(Command{
      "pubkey", "--key FILE [--jwk]", "print the public key of a key (PEM or JWK)",
      "Prints the public half of a private key (or a public key again) as SPKI PEM, or as a\n"
      "public JWK with --jwk. HMAC secrets have no public form.",
      {kKey, {"jwk", "", "print a public JWK instead of PEM"}},
      0, exit_codes_help("the public key was printed"), run_pubkey});

  commands.push_back(Command{
      "thumbprint", "--key FILE", "print a key's RFC 7638 thumbprint",
      "Prints the RFC 7638 SHA-256 thumbprint of the key's public members, base64url.",
      {kKey}, 0, exit_codes_help("the thumbprint was printed"), run_thumbprint});

  commands.push_back(Command{
      "jwks", "(--key FILE [--key FILE ...] | --keys DIR)", "print the public JWK Set of keys",
      "Prints {\"keys\":[...]} with the public members of each key. --keys DIR reads the key\n"
      "directory of the engine commands and publishes every key that still verifies.\n"
      "HMAC secrets are never published. A key given twice is published once; two different\n"
      "keys with the same kid are refused (exit 3), since no verifier could use either.",
      {{"key", "FILE", "key file: PEM or JWK (repeatable)", true},
       {"keys", "DIR", "an engine key directory"},
       kNow},
      0, exit_codes_help("the JWKS was printed"), run_jwks});

  commands.push_back(Command{
      "sign", "--key FILE --alg ALG [--kid KID] [--header JSON] [--claims JSON|@FILE|-]",
      "sign claims into a compact JWS (a JWT)",
      "Signs the claims (a JSON object; default {}) and prints the compact JWS. The header is\n"
      "--header plus alg, and kid when the key has one. JSON options take the JSON itself,\n"
      "@FILE, or - for standard input. --secret FILE uses the file's raw bytes as an HMAC key.",
      {kKey,
       {"secret", "FILE", "HMAC secret: the raw bytes of FILE (instead of --key)"},
       {"alg", "ALG", "signature algorithm"},
       {"kid", "KID", "kid header (default: the key's kid)"},
       {"header", "JSON", "extra header members (a JSON object, @FILE or -)"},
       {"claims", "JSON", "the claims (a JSON object, @FILE or -)"},
       {"ttl", "DURATION", "add iat = now and exp = now + DURATION (900, 15m, 1h, 30d)"},
       {"now", "UNIXTIME", "the time --ttl counts from"}},
      0, exit_codes_help("the token was printed"), run_sign});

  commands.push_back(Command{
      "verify",
      "(--key FILE | --jwks FILE) --alg ALG[,ALG...] [--iss S] [--aud S] [--typ T]\n"
      "       [--leeway SECONDS] [--now UNIXTIME] [--require CLAIM[,CLAIM...]] [--store URL]\n"
      "       [TOKEN | -]",
      "verify a JWT and print its claims",
      "Verifies the token's signature against the given keys with an algorithm allow-list,\n"
      "then its claims: exp (required), nbf and iat with --leeway (default 30s), and iss, aud,\n"
      "typ and required claims when asked. Prints the claims as JSON when the token is valid.\n"
      "The token comes from the argument, or standard input for - or when absent.\n"
      "--store URL also checks the token's jti, session and subject against that revocation\n"
      "store (redis://...); a store that cannot answer rejects the token with exit code 3.\n"
      "--jws verifies a JWS whose payload is not a JWT (signature only) and prints the payload\n"
      "bytes as they are.",
      {{"key", "FILE", "verification key: PEM or JWK (repeatable)", true},
       {"jwks", "FILE", "a JWK Set file"},
       {"secret", "FILE", "HMAC secret: the raw bytes of FILE (repeatable)", true},
       {"alg", "ALG[,ALG...]", "algorithms to accept (required; repeatable)", true},
       {"iss", "S", "required issuer"},
       {"aud", "S", "accepted audience (repeatable: any one matches)", true},
       {"typ", "T", "required typ header (e.g. at+jwt)"},
       {"leeway", "SECONDS", "clock skew allowed for exp/nbf/iat, at most 600 (default 30)"},
       {"now", "UNIXTIME", "verify as of this time instead of the system clock"},
       {"require", "CLAIM[,CLAIM...]", "claims that must be present (repeatable)", true},
       {"store", "URL", "revocation store to check the token against (redis://...)"},
       {"jws", "", "the payload is not a JWT: check the signature only, print the payload"}},
      1,
      exit_codes_help("the token is valid; its claims were printed",
                      "the token was rejected (expired, bad_signature, revoked, ...)"),
      run_verify});

  commands.push_back(Command{
      "decode", "[TOKEN | -]", "show a token's header and payload WITHOUT verifying it",
      "Prints {\"header\":...,\"payload\":...} of a compact JWS without checking anything,\n"
      "and says so on stderr. Use verify to trust a token.",
      {}, 1,
      exit_codes_help("the token was decoded", "the token is malformed"), run_decode});
  return commands;
}

}  // namespace jwtkit_cli
