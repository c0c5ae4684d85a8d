// The engine commands: issue, refresh, revoke, introspect, sessions, rotate, cleanup. They run
// jwtkit::Engine over a key directory (FileKeyStore) and a revocation store given by --store.
// Commands whose whole point is shared state refuse to run without --store instead of
// pretending on a store that vanishes when the process exits.
#include "commands.hpp"
#include "common.hpp"

#include <jwtkit/engine.hpp>
#include <jwtkit/stores/file.hpp>
#include <jwtkit/stores/memory.hpp>
#include <jwtkit/unsafe.hpp>

#include <algorithm>
#include <cstdlib>
#include <initializer_list>
#include <optional>

namespace jwtkit_cli {

using jwtkit::Errc;
using jwtkit::Error;
using jwtkit::Result;

namespace {

constexpr const char* kDefaultIssuer = "jwtkit";  // for commands that neither issue nor verify

/// What a command needs from the engine set-up (flags, or'ed).
enum Need : unsigned {
  kKeys = 1,         ///< --keys must be given, and hold keys
  kCreateKeys = 2,   ///< an empty or missing key directory gets a first key
  kStore = 4,        ///< --store must be given
  kIssuer = 8,       ///< --iss and --aud (or their environment variables)
};

/// A ready engine, or the exit code of the error already reported.
struct Opened {
  std::optional<jwtkit::Engine> engine;
  int exit_code = kExitOk;
  bool shared_store = false;
  bool had_keys = false;  ///< the key directory held keys before this run
  std::optional<jwtkit::Alg> active_alg;  ///< the signing key's algorithm before this run
  jwtkit::TimePoint now{};
};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// Errors of a token operation: the token's fault (1), the command line's (2), or the
// environment's (3).
int token_op_fail(const Error& e) {
  switch (e.code()) {
    case Errc::invalid_argument: return fail(kExitUsage, e);
    case Errc::store_unavailable:
    case Errc::store_conflict:
    case Errc::io_error:
    case Errc::crypto_error:
    case Errc::internal: return fail(kExitFailure, e);
    default: return fail(kExitRejected, e);
  }
}

// Errors of an operation on keys or stores only: never a rejected token.
int store_op_fail(const Error& e) {
  return fail(e.code() == Errc::invalid_argument ? kExitUsage : kExitFailure, e);
}

// `why_store`: the reason given when kStore is needed and --store is missing.
Opened open_engine(const Args& args, std::string_view command, unsigned needs,
                   std::string_view why_store = {}) {
  Opened o;
  auto failed = [&o](int rc) {
    o.exit_code = rc;
    return std::move(o);
  };

  auto now = command_now(args);
  if (!now) return failed(fail(kExitUsage, now.error()));
  o.now = *now;
  std::shared_ptr<const jwtkit::Clock> clock;
  if (args.has("now")) {
    clock = std::make_shared<jwtkit::ManualClock>(*now);
  } else {
    clock = std::make_shared<jwtkit::SystemClock>();
  }

  jwtkit::EngineOptions options;
  options.clock = clock;
  options.issuer = args.get("iss").value_or(env("JWTKIT_ISSUER"));
  options.audiences = args.all("aud");
  if (options.audiences.empty()) options.audiences = split_list({env("JWTKIT_AUDIENCE")});
  if ((needs & kIssuer) && (options.issuer.empty() || options.audiences.empty())) {
    return failed(usage_error(std::string(command) +
                              " needs --iss ISSUER and --aud AUDIENCE (or JWTKIT_ISSUER and "
                              "JWTKIT_AUDIENCE): the engine's tokens carry both"));
  }
  if (options.issuer.empty()) options.issuer = kDefaultIssuer;
  if (options.audiences.empty()) options.audiences = {options.issuer};
  for (auto [name, slot] : {std::pair{"access-ttl", &options.access_ttl},
                            std::pair{"refresh-ttl", &options.refresh_ttl},
                            std::pair{"leeway", &options.leeway},
                            std::pair{"publish-delay", &options.key_publish_delay}}) {
    if (auto text = args.get(name)) {
      auto d = parse_duration(*text);
      if (!d) return failed(usage_error("--" + std::string(name) + ": " + d.error().message()));
      *slot = *d;
    }
  }

  // The revocation store: shared (--store), or a throwaway one in memory.
  std::shared_ptr<jwtkit::RevocationStore> revocations;
  if (auto url = args.get("store")) {
    auto store = open_revocation_store(*url, clock);
    if (!store) return failed(store_op_fail(store.error()));
    revocations = std::move(*store);
    o.shared_store = true;
  } else if (needs & kStore) {
    return failed(usage_error(std::string(command) + " needs --store URL: " +
                              std::string(why_store)));
  } else {
    revocations = std::make_shared<jwtkit::MemoryRevocationStore>(clock);
  }

  // The key store: the directory, or (for commands that sign nothing) keys in memory.
  std::shared_ptr<jwtkit::KeyStore> keys;
  std::vector<jwtkit::KeyRecord> records;
  auto dir = args.get("keys");
  if (!dir && (needs & kKeys)) {
    return failed(usage_error(std::string(command) + " needs --keys DIR (the key directory)"));
  }
  if (dir) {
    if (!(needs & kCreateKeys)) {
      if (auto checked = check_key_directory(*dir); !checked) {
        return failed(fail(kExitFailure, checked.error()));
      }
    }
    auto store = jwtkit::FileKeyStore::open(*dir);
    if (!store) return failed(store_op_fail(store.error()));
    auto loaded = (*store)->load_all();
    if (!loaded) return failed(store_op_fail(loaded.error()));
    records = std::move(*loaded);
    if (!records.empty() || (needs & kCreateKeys)) keys = std::move(*store);
  }
  o.had_keys = !records.empty();
  for (const auto& r : records) {
    if (r.state == jwtkit::KeyState::active) o.active_alg = r.alg;
  }
  if (!keys) {
    if (needs & kKeys) {
      return failed(fail(kExitFailure,
                         Error(Errc::key_not_found,
                               "key directory '" + *dir + "' holds no keys (jwtkit rotate or "
                               "jwtkit issue creates the first)")));
    }
    keys = std::make_shared<jwtkit::MemoryKeyStore>();
    options.signing_alg = jwtkit::Alg::ES256;  // a throwaway key: the cheapest to make
  }

  // Signing: --alg, else the active key's algorithm. Verifying: every stored key's algorithm,
  // since these keys are this engine's own.
  if (auto alg = args.get("alg")) {
    auto parsed = parse_one_alg(*alg);
    if (!parsed) return failed(fail(kExitUsage, parsed.error()));
    options.signing_alg = *parsed;
  } else {
    for (const auto& r : records) {
      if (r.state == jwtkit::KeyState::active) options.signing_alg = r.alg;
    }
  }
  options.allowed_algs = {options.signing_alg};
  for (const auto& r : records) {
    if (std::find(options.allowed_algs.begin(), options.allowed_algs.end(), r.alg) ==
        options.allowed_algs.end()) {
      options.allowed_algs.push_back(r.alg);
    }
  }

  auto engine = jwtkit::Engine::create(std::move(keys), std::move(revocations), std::move(options));
  if (!engine) return failed(store_op_fail(engine.error()));
  o.engine.emplace(std::move(*engine));
  return o;
}

nlohmann::json pair_json(const jwtkit::TokenPair& pair, jwtkit::TimePoint now) {
  return {{"access_token", pair.access_token},
          {"refresh_token", pair.refresh_token},
          {"token_type", "Bearer"},
          {"expires_in", jwtkit::to_unix(pair.access_expires_at) - jwtkit::to_unix(now)},
          {"access_expires_at", jwtkit::to_unix(pair.access_expires_at)},
          {"refresh_expires_at", jwtkit::to_unix(pair.refresh_expires_at)},
          {"session_id", pair.session_id}};
}

Result<jwtkit::IssueOptions> issue_options(const Args& args) {
  jwtkit::IssueOptions options;
  if (auto c = args.get("claims")) {
    auto doc = read_json_argument(*c, "--claims");
    if (!doc) return doc.error();
    if (!doc->is_object()) return Error(Errc::invalid_argument, "--claims must be a JSON object");
    options.claims = std::move(*doc);
  }
  return options;
}

int input_fail(const Error& e) {
  return fail(e.code() == Errc::invalid_argument ? kExitUsage
              : e.code() == Errc::malformed      ? kExitRejected
                                                 : kExitFailure,
              e);
}

// ---- commands ---------------------------------------------------------------------------------

int run_issue(const Args& args) {
  auto sub = args.get("sub");
  if (!sub || sub->empty()) return usage_error("issue needs --sub SUBJECT");
  auto access = issue_options(args);
  if (!access) return input_fail(access.error());
  Opened o = open_engine(args, "issue", kKeys | kCreateKeys | kIssuer);
  if (!o.engine) return o.exit_code;
  auto pair = o.engine->issue_pair(*sub, *access);
  if (!pair) return store_op_fail(pair.error());
  if (!o.shared_store) {
    warn("no --store: this session is recorded nowhere, so its refresh token can be neither "
         "refreshed nor revoked; pass --store redis://... to record it");
  }
  print(to_json_text(pair_json(*pair, o.now)));
  return kExitOk;
}

int run_refresh(const Args& args) {
  auto access = issue_options(args);
  if (!access) return input_fail(access.error());
  auto token = read_token(args);
  if (!token) return input_fail(token.error());
  Opened o = open_engine(args, "refresh", kKeys | kStore | kIssuer,
                         "a refresh token is single-use, and only a shared store can record "
                         "that it was used");
  if (!o.engine) return o.exit_code;
  auto pair = o.engine->refresh(*token, *access);
  if (!pair) return token_op_fail(pair.error());
  print(to_json_text(pair_json(*pair, o.now)));
  return kExitOk;
}

int run_revoke(const Args& args) {
  const bool by_token = !args.positionals().empty();
  const bool by_jti = args.has("jti");
  const bool by_sub = args.has("sub");
  if (int(by_token) + int(by_jti) + int(by_sub) != 1) {
    return usage_error("revoke takes exactly one of TOKEN, --jti JTI --exp UNIXTIME, --sub SUB");
  }
  if (by_jti != args.has("exp")) return usage_error("--jti and --exp go together");
  const char* why = "a revocation that is not stored where verifiers look is no revocation";

  if (by_token) {
    auto token = read_token(args);
    if (!token) return input_fail(token.error());
    Opened o = open_engine(args, "revoke", kKeys | kStore | kIssuer, why);
    if (!o.engine) return o.exit_code;
    if (auto r = o.engine->revoke(*token); !r) return token_op_fail(r.error());
    nlohmann::json out = {{"revoked", "token"}};
    // The signature was checked by revoke(); this only reads back what was revoked.
    if (auto decoded = jwtkit::unsafe::decode(*token); decoded) {
      for (const char* name : {"jti", "sub", "sid"}) {
        if (decoded->claims.contains(name)) out[name] = decoded->claims[name];
      }
    }
    print(to_json_text(out));
    return kExitOk;
  }
  if (by_jti) {
    auto exp = parse_unix_time(*args.get("exp"));
    if (!exp) return usage_error("--exp: " + exp.error().message());
    Opened o = open_engine(args, "revoke", kStore, why);
    if (!o.engine) return o.exit_code;
    const std::string jti = *args.get("jti");
    if (auto r = o.engine->revoke_jti(jti, jwtkit::from_unix(*exp)); !r) {
      return store_op_fail(r.error());
    }
    print(to_json_text({{"revoked", "jti"}, {"jti", jti}, {"until", *exp}}));
    return kExitOk;
  }
  Opened o = open_engine(args, "revoke", kStore, why);
  if (!o.engine) return o.exit_code;
  const std::string sub = *args.get("sub");
  if (auto r = o.engine->revoke_subject(sub); !r) return store_op_fail(r.error());
  print(to_json_text(
      {{"revoked", "subject"}, {"sub", sub}, {"issued_up_to", jwtkit::to_unix(o.now)}}));
  return kExitOk;
}

int run_introspect(const Args& args) {
  auto token = read_token(args);
  if (!token) return input_fail(token.error());
  Opened o = open_engine(args, "introspect", kKeys | kStore | kIssuer,
                         "introspect checks revocation, which lives in the shared store (to "
                         "check signature and claims only, use jwtkit verify)");
  if (!o.engine) return o.exit_code;
  auto verified = o.engine->verify_access(*token);
  if (!verified && verified.error().code() == Errc::bad_type) {
    // Not an access token: perhaps a refresh token, which introspects just as well.
    auto as_refresh = o.engine->verify_refresh(*token);
    if (as_refresh || as_refresh.error().code() != Errc::bad_type) verified = std::move(as_refresh);
  }
  if (!verified) return token_op_fail(verified.error());
  print(to_json_text(verified->claims()));
  return kExitOk;
}

int run_sessions(const Args& args) {
  auto sub = args.get("sub");
  if (!sub || sub->empty()) return usage_error("sessions needs --sub SUBJECT");
  Opened o = open_engine(args, "sessions", kStore, "sessions are recorded in the shared store");
  if (!o.engine) return o.exit_code;
  auto count = o.engine->session_count(*sub);
  if (!count) return store_op_fail(count.error());
  print(to_json_text({{"sub", *sub}, {"sessions", *count}}));
  return kExitOk;
}

bool is_hmac(jwtkit::Alg alg) { return jwtkit::key_type_for(alg) == jwtkit::KeyType::oct; }

// Switching between an HMAC secret and a key pair changes how every resource server must
// verify, which a key rotation alone cannot tell them.
std::optional<std::string> kind_switch(jwtkit::Alg from, jwtkit::Alg to) {
  const std::string change = std::string("from ") + std::string(jwtkit::to_string(from)) +
                             " to " + std::string(jwtkit::to_string(to));
  if (!is_hmac(from) && is_hmac(to)) {
    return "rotating " + change + " replaces the key pair by an HMAC secret, which the JWKS "
           "never publishes: resource servers verifying through the JWKS could no longer "
           "verify the new tokens (pass --force if every verifier has the secret)";
  }
  if (is_hmac(from) && !is_hmac(to)) {
    return "rotating " + change + " replaces the HMAC secret by a key pair: resource servers "
           "verifying with the shared secret could no longer verify the new tokens (pass "
           "--force once they all verify through the JWKS)";
  }
  return std::nullopt;
}

int run_rotate(const Args& args) {
  Opened o = open_engine(args, "rotate", kKeys | kCreateKeys);
  if (!o.engine) return o.exit_code;
  std::string kid;
  if (!o.had_keys) {
    kid = o.engine->active_kid();  // an empty directory just got its first key
  } else {
    std::optional<jwtkit::Alg> alg;
    if (args.has("alg")) alg = o.engine->options().signing_alg;
    if (alg && o.active_alg && !args.has("force")) {
      if (auto why = kind_switch(*o.active_alg, *alg)) return usage_error(*why);
    }
    auto rotated = o.engine->rotate_key(alg);
    if (!rotated) return store_op_fail(rotated.error());
    kid = *rotated;
  }
  print(to_json_text({{"kid", kid}, {"active_kid", o.engine->active_kid()}}));
  return kExitOk;
}

int run_cleanup(const Args& args) {
  Opened o = open_engine(args, "cleanup", kKeys);
  if (!o.engine) return o.exit_code;
  auto removed = o.engine->cleanup();
  if (!removed) return store_op_fail(removed.error());
  if (!o.shared_store) warn("no --store: only the key directory was cleaned");
  print(to_json_text({{"removed", *removed}}));
  return kExitOk;
}

// The engine options a command uses, by name, after its own: each command accepts and
// documents exactly the options it reads.
std::vector<OptionSpec> with_engine_options(std::vector<OptionSpec> own,
                                            std::initializer_list<std::string_view> names) {
  static const OptionSpec kCatalog[] = {
      {"keys", "DIR", "the key directory (a FileKeyStore: one 0600 JSON file per key)"},
      {"store", "URL", "the shared revocation store: redis://[user:pass@]host[:port][/db]"},
      {"iss", "ISSUER", "the engine's issuer (default: $JWTKIT_ISSUER)"},
      {"aud", "AUDIENCE", "audience of access tokens, repeatable (default: $JWTKIT_AUDIENCE)",
       true},
      {"access-ttl", "DURATION", "access token lifetime (default 15m)"},
      {"refresh-ttl", "DURATION", "refresh token lifetime (default 30d)"},
      {"leeway", "DURATION", "clock skew allowed, at most 600 s (default 30)"},
      {"now", "UNIXTIME", "act as of this time instead of the system clock"}};
  for (std::string_view name : names) {
    const OptionSpec* found = nullptr;
    for (const auto& spec : kCatalog) {
      if (spec.name == name) found = &spec;
    }
    if (found == nullptr) std::abort();  // a typo in the command table below
    own.push_back(*found);
  }
  return own;
}

}  // namespace

std::vector<Command> engine_commands() {
  std::vector<Command> commands;

  commands.push_back(Command{
      "issue", "--keys DIR --sub SUB [--claims JSON] [--access-ttl D] [--refresh-ttl D] "
               "[--store URL]",
      "issue an access and a refresh token (engine)",
      "Issues an access token and a refresh token of one new session for SUB and prints them\n"
      "as JSON. An empty key directory first gets a signing key (--alg, default RS256).\n"
      "Without --store the session is recorded nowhere (a warning says so): its refresh\n"
      "token can then be neither refreshed nor revoked.",
      with_engine_options(
          {{"sub", "SUB", "the subject (required)"},
           {"claims", "JSON", "extra claims of the access token (object, @FILE, -)"},
           {"alg", "ALG", "algorithm of the first key of an empty directory (default RS256)"}},
          {"keys", "store", "iss", "aud", "access-ttl", "refresh-ttl", "now"}),
      0, exit_codes_help("the token pair was printed"), run_issue});

  commands.push_back(Command{
      "refresh", "--keys DIR --store URL [--claims JSON] [TOKEN | -]",
      "exchange a refresh token for a new pair (engine)",
      "Exchanges a refresh token for a new access and refresh token of the same session. The\n"
      "old refresh token is marked used in the store; presenting it again revokes the whole\n"
      "session (refresh_reused). Needs --store.",
      with_engine_options({{"claims", "JSON", "extra claims of the new access token"}},
                          {"keys", "store", "iss", "aud", "access-ttl", "refresh-ttl", "leeway",
                           "now"}),
      1,
      exit_codes_help("the new pair was printed",
                      "the token was rejected (expired, revoked, refresh_reused, ...)"),
      run_refresh});

  commands.push_back(Command{
      "revoke", "--store URL (TOKEN | --jti JTI --exp UNIXTIME | --sub SUB) [--keys DIR]",
      "revoke a token, a token id or every token of a subject (engine)",
      "Revokes a token (its signature is checked first; revoking a refresh token ends its\n"
      "session), a token id until UNIXTIME, or every token of a subject issued up to now.\n"
      "Needs --store. TOKEN needs --keys, --iss and --aud. A session or subject revocation is\n"
      "kept for the longest token lifetime plus leeway: give the TTLs the tokens were issued\n"
      "with.",
      with_engine_options({{"jti", "JTI", "revoke this token id"},
                           {"exp", "UNIXTIME", "until when (the token's exp)"},
                           {"sub", "SUB", "revoke every token of this subject issued up to now"}},
                          {"keys", "store", "iss", "aud", "access-ttl", "refresh-ttl", "leeway",
                           "now"}),
      1,
      exit_codes_help("the revocation was stored", "the token was rejected (bad signature, ...)"),
      run_revoke});

  commands.push_back(Command{
      "introspect", "--keys DIR --store URL [TOKEN | -]",
      "verify an engine token including revocation, print its claims",
      "Verifies an access (or refresh) token as the engine does: signature, type, iss, aud,\n"
      "times, and revocation of its jti, session and subject in --store, then prints its\n"
      "claims. A store that cannot answer rejects the token (exit 3). Needs --store.",
      with_engine_options({}, {"keys", "store", "iss", "aud", "leeway", "now"}), 1,
      exit_codes_help("the token is valid; its claims were printed",
                      "the token was rejected (expired, revoked, bad_signature, ...)"),
      run_introspect});

  commands.push_back(Command{
      "sessions", "--store URL --sub SUB", "count a subject's live sessions (engine)",
      "Prints how many refresh sessions of SUB have not expired. Needs --store.",
      with_engine_options({{"sub", "SUB", "the subject (required)"}}, {"store", "now"}), 0,
      exit_codes_help("the count was printed"), run_sessions});

  commands.push_back(Command{
      "rotate", "--keys DIR [--alg ALG] [--publish-delay D] [--force]",
      "rotate the signing key (engine)",
      "Generates a new signing key in the key directory (an empty directory gets its first\n"
      "key) and prints the new kid and the active kid. The previous key keeps verifying until\n"
      "every token it signed has expired (refresh TTL + leeway, so give the TTLs the tokens\n"
      "were issued with).\n"
      "With --publish-delay D the new key is published in the JWKS at once and starts signing\n"
      "only after D, so that verifiers caching the JWKS learn it first. The delay is not\n"
      "recorded in the key directory: another engine command run before D has passed makes\n"
      "the new key sign at once.\n"
      "Changing between an HMAC algorithm (HS*) and a key pair is refused without --force:\n"
      "the JWKS never publishes HMAC secrets, so resource servers verifying through it could\n"
      "no longer verify (and servers holding the secret cannot verify a key pair's tokens).",
      with_engine_options(
          {{"alg", "ALG", "algorithm of the new key (default: the active key's, or RS256)"},
           {"publish-delay", "DURATION",
            "publish the new key at once, sign with it only after DURATION (default 0)"},
           {"force", "", "allow changing between HMAC (HS*) and a key pair"}},
          {"keys", "access-ttl", "refresh-ttl", "leeway", "now"}),
      0, exit_codes_help("the new kid was printed"), run_rotate});

  commands.push_back(Command{
      "cleanup", "--keys DIR [--store URL]", "remove expired keys and revocation entries (engine)",
      "Removes keys that no longer verify from the key directory and, with --store, expired\n"
      "revocation entries from the store. Prints how many entries went.",
      with_engine_options({}, {"keys", "store", "now"}), 0,
      exit_codes_help("the count was printed"), run_cleanup});
  return commands;
}

}  // namespace jwtkit_cli
