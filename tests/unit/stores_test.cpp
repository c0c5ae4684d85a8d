// MemoryKeyStore, MemoryRevocationStore and FileKeyStore: the conformance suite, plus what
// is particular to each (clock injection, file names, permissions, atomic writes, errors).
#include "catch.hpp"
#include "support/failing_stores.hpp"
#include "support/result_check.hpp"
#include "support/store_conformance.hpp"
#include "support/temp_dir.hpp"

#include <jwtkit/stores/file.hpp>
#include <jwtkit/stores/memory.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <sys/stat.h>

using jwtkit::Alg;
using jwtkit::KeyState;
using jwtkit_test::code;
using jwtkit_test::status;
namespace fs = std::filesystem;

namespace {

jwtkit_test::RevocationStoreFixture memory_revocation_fixture() {
  auto clock = std::make_shared<jwtkit::ManualClock>();
  return {std::make_shared<jwtkit::MemoryRevocationStore>(clock), clock, true};
}

jwtkit_test::KeyStoreFixture memory_key_fixture() {
  auto store = std::make_shared<jwtkit::MemoryKeyStore>();
  return {store, [store] { return store; }};
}

jwtkit_test::KeyStoreFixture file_key_fixture() {
  auto dir = std::make_shared<jwtkit_test::TempDir>("file-key-store");
  auto open = [dir]() -> std::shared_ptr<jwtkit::KeyStore> {
    auto s = jwtkit::FileKeyStore::open(dir->str("keys"));
    REQUIRE(status(s) == "ok");
    return *s;
  };
  return {open(), open};
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return static_cast<unsigned>(st.st_mode) & 0777u;
}

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
  return out;
}

const auto kT0 = jwtkit::from_unix(1'700'000'000);

}  // namespace

// ---- conformance ---------------------------------------------------------------------------

TEST_CASE("MemoryRevocationStore passes the revocation store conformance suite") {
  jwtkit_test::revocation_store_conformance(memory_revocation_fixture);
}

TEST_CASE("MemoryKeyStore passes the key store conformance suite") {
  jwtkit_test::key_store_conformance(memory_key_fixture);
}

TEST_CASE("FileKeyStore passes the key store conformance suite") {
  jwtkit_test::key_store_conformance(file_key_fixture);
}

TEST_CASE("failing store decorators forward calls and fail on demand") {
  auto clock = std::make_shared<jwtkit::ManualClock>();
  auto inner = std::make_shared<jwtkit::MemoryRevocationStore>(clock);
  jwtkit_test::FailingRevocationStore store(inner);
  REQUIRE(status(store.revoke_token("j", clock->now() + std::chrono::hours(1))) == "ok");
  CHECK(*store.is_token_revoked("j"));
  store.fail(jwtkit_test::StoreOp::is_token_revoked | jwtkit_test::StoreOp::revoke_token);
  CHECK(code(store.is_token_revoked("j")) == "store_unavailable");
  CHECK(code(store.revoke_token("k", clock->now())) == "store_unavailable");
  CHECK(status(store.count_sessions("x")) == "ok");  // not told to fail
  CHECK(store.failures() == 2);
  store.heal();
  CHECK(*store.is_token_revoked("j"));

  auto keys = std::make_shared<jwtkit::MemoryKeyStore>();
  jwtkit_test::FailingKeyStore failing_keys(keys);
  failing_keys.fail(jwtkit_test::StoreOp::all);
  CHECK(code(failing_keys.load_all()) == "store_unavailable");
  CHECK(code(failing_keys.remove("x")) == "store_unavailable");
}

// ---- memory stores -------------------------------------------------------------------------

TEST_CASE("MemoryRevocationStore reads time only from its injected clock") {
  auto clock = std::make_shared<jwtkit::ManualClock>(jwtkit::from_unix(1'000));
  jwtkit::MemoryRevocationStore store(clock);
  // By the wall clock this entry expired decades ago; by the injected clock it is live.
  REQUIRE(status(store.revoke_token("j", jwtkit::from_unix(2'000))) == "ok");
  CHECK(*store.is_token_revoked("j"));
  clock->set(jwtkit::from_unix(2'000));
  CHECK_FALSE(*store.is_token_revoked("j"));
}

TEST_CASE("MemoryRevocationStore without a clock uses the system clock") {
  jwtkit::MemoryRevocationStore store;
  const auto now = std::chrono::system_clock::now();
  REQUIRE(status(store.revoke_token("past", now - std::chrono::seconds(1))) == "ok");
  REQUIRE(status(store.revoke_token("future", now + std::chrono::hours(1))) == "ok");
  CHECK_FALSE(*store.is_token_revoked("past"));
  CHECK(*store.is_token_revoked("future"));
}

TEST_CASE("MemoryRevocationStore refuses empty ids in writes") {
  auto f = memory_revocation_fixture();
  const auto later = f.clock->now() + std::chrono::hours(1);
  CHECK(code(f.store->revoke_token("", later)) == "invalid_argument");
  CHECK(code(f.store->revoke_subject("", later, later)) == "invalid_argument");
  CHECK(code(f.store->add_session("", "s", later)) == "invalid_argument");
  CHECK(code(f.store->add_session("u", "", later)) == "invalid_argument");
  CHECK(code(f.store->revoke_session("u", "", later)) == "invalid_argument");
  CHECK(code(f.store->mark_refresh_used("", later)) == "invalid_argument");
}

TEST_CASE("MemoryRevocationStore: a re-added session that had expired starts afresh") {
  auto f = memory_revocation_fixture();
  const auto now = f.clock->now();
  REQUIRE(status(f.store->add_session("u", "s", now + std::chrono::seconds(10))) == "ok");
  f.clock->advance(std::chrono::seconds(20));
  CHECK(*f.store->count_sessions("u") == 0);
  REQUIRE(status(f.store->add_session("u", "s", now + std::chrono::seconds(30))) == "ok");
  CHECK(*f.store->count_sessions("u") == 1);
  // A revoked subject entry that expired is replaced, not merged.
  REQUIRE(status(f.store->revoke_subject("v", now + std::chrono::seconds(15),
                                         now + std::chrono::seconds(19))) == "ok");
  REQUIRE(status(f.store->revoke_subject("v", now, now + std::chrono::hours(1))) == "ok");
  auto when = *f.store->subject_revoked_before("v");
  REQUIRE(when.has_value());
  CHECK(jwtkit::to_unix(*when) == jwtkit::to_unix(now));
}

// ---- file store ----------------------------------------------------------------------------

namespace {

jwtkit::KeyRecord es256_record(KeyState state = KeyState::active, std::string kid = {}) {
  return jwtkit_test::detail::make_key_record(Alg::ES256, state, kT0, std::move(kid));
}

}  // namespace

TEST_CASE("FileKeyStore creates its directory 0700 and key files 0600") {
  jwtkit_test::TempDir tmp("file-perms");
  const fs::path dir = tmp.path() / "new-keys";
  auto store = jwtkit::FileKeyStore::open(dir.string());
  REQUIRE(status(store) == "ok");
  CHECK(mode_of(dir) == 0700u);
  auto rec = es256_record();
  REQUIRE(status((*store)->save(rec)) == "ok");
  auto path = (*store)->path_for(rec.kid());
  REQUIRE(status(path) == "ok");
  CHECK(mode_of(*path) == 0600u);
}

TEST_CASE("FileKeyStore names files by the SHA-256 of the kid, never the kid itself") {
  jwtkit_test::TempDir tmp("file-names");
  auto store = jwtkit::FileKeyStore::open(tmp.str("keys"));
  REQUIRE(status(store) == "ok");
  auto rec = es256_record(KeyState::active, "../../../etc/evil");
  REQUIRE(status((*store)->save(rec)) == "ok");

  // Nothing escaped the directory, and exactly one key file exists inside it.
  CHECK_FALSE(fs::exists(tmp.path() / "etc"));
  std::vector<std::string> key_files;
  for (const auto& p : files_in(tmp.path() / "keys")) {
    const auto name = p.filename().string();
    if (name.rfind("key-", 0) == 0) key_files.push_back(name);
  }
  REQUIRE(key_files.size() == 1);
  // sha256("../../../etc/evil")
  auto expected = (*store)->path_for("../../../etc/evil");
  REQUIRE(status(expected) == "ok");
  CHECK(fs::path(*expected).filename().string() == key_files[0]);
  CHECK(key_files[0].size() == 4 + 64 + 5);
  CHECK(key_files[0].find("evil") == std::string::npos);

  // The file holds the documented fields and the private JWK.
  auto doc = nlohmann::json::parse(read_text(*expected));
  CHECK(doc.at("kid") == "../../../etc/evil");
  CHECK(doc.at("alg") == "ES256");
  CHECK(doc.at("state") == "active");
  CHECK(doc.at("created_at") == 1'700'000'000);
  CHECK(doc.at("sign_until").is_null());
  CHECK(doc.at("verify_until").is_null());
  CHECK(doc.at("jwk").at("kty") == "EC");
  CHECK(doc.at("jwk").contains("d"));
}

TEST_CASE("FileKeyStore leaves no temporary files behind") {
  jwtkit_test::TempDir tmp("file-tmp");
  auto store = jwtkit::FileKeyStore::open(tmp.str("keys"));
  REQUIRE(status(store) == "ok");
  auto a = es256_record();
  REQUIRE(status((*store)->save(a)) == "ok");
  auto b = es256_record(KeyState::active);
  a.state = KeyState::retiring;
  REQUIRE(status((*store)->save_if_active(a.kid(), {b, a})) == "ok");
  for (const auto& p : files_in(tmp.path() / "keys")) {
    CHECK(p.filename().string().rfind(".tmp-", 0) == std::string::npos);
  }
}

TEST_CASE("FileKeyStore: invalid private key format gives a clear error naming the file") {
  jwtkit_test::TempDir tmp("file-corrupt");
  auto store = jwtkit::FileKeyStore::open(tmp.str("keys"));
  REQUIRE(status(store) == "ok");
  auto rec = es256_record();
  REQUIRE(status((*store)->save(rec)) == "ok");
  const std::string path = *(*store)->path_for(rec.kid());
  auto doc = nlohmann::json::parse(read_text(path));

  SECTION("the JWK's private part is garbage") {
    doc["jwk"]["d"] = "not-a-valid-scalar!";
    write_text(path, doc.dump());
  }
  SECTION("the JWK is of an unknown key type") {
    doc["jwk"] = {{"kty", "XYZ"}, {"kid", rec.kid()}};
    write_text(path, doc.dump());
  }
  SECTION("the JWK has no private part") {
    doc["jwk"].erase("d");
    write_text(path, doc.dump());
  }
  SECTION("the file is not JSON") {
    write_text(path, "-----BEGIN PRIVATE KEY-----\nMIIE...\n");
  }
  SECTION("the file is truncated") {
    write_text(path, doc.dump().substr(0, 40));
  }
  SECTION("a field has the wrong type") {
    doc["created_at"] = "yesterday";
    write_text(path, doc.dump());
  }
  SECTION("the state is unknown") {
    doc["state"] = "sleeping";
    write_text(path, doc.dump());
  }
  SECTION("the algorithm is unknown") {
    doc["alg"] = "none";
    write_text(path, doc.dump());
  }
  SECTION("the file was renamed to another kid's name") {
    auto other = (*store)->path_for("another-kid");
    fs::rename(path, *other);
    auto r = (*store)->load_all();
    REQUIRE(code(r) == "malformed");
    CHECK_THAT(r.error().message(), jwtkit_test::contains(*other));
    return;
  }

  auto r = (*store)->load_all();
  REQUIRE(code(r) == "malformed");
  CHECK_THAT(r.error().message(), jwtkit_test::contains(path));
  CHECK_THAT(r.error().message(), jwtkit_test::contains("corrupt"));
}

TEST_CASE("FileKeyStore: an unreadable key file gives an io_error naming the file") {
  jwtkit_test::TempDir tmp("file-unreadable");
  auto store = jwtkit::FileKeyStore::open(tmp.str("keys"));
  REQUIRE(status(store) == "ok");
  // A key file name that is a dangling symlink: never followed, reported.
  const std::string path = *(*store)->path_for("some-kid");
  fs::create_symlink(tmp.path() / "elsewhere", path);
  auto r = (*store)->load_all();
  REQUIRE(code(r) == "io_error");
  CHECK_THAT(r.error().message(), jwtkit_test::contains(path));
}

TEST_CASE("FileKeyStore ignores files that are not key files") {
  jwtkit_test::TempDir tmp("file-other");
  auto store = jwtkit::FileKeyStore::open(tmp.str("keys"));
  REQUIRE(status(store) == "ok");
  write_text(tmp.path() / "keys" / "README", "not a key");
  write_text(tmp.path() / "keys" / "key-short.json", "{}");
  REQUIRE(status((*store)->save(es256_record())) == "ok");
  CHECK(status((*store)->load_all()) == "ok");
  CHECK((*store)->load_all()->size() == 1);
}

TEST_CASE("FileKeyStore::open refuses a path that is not a usable directory") {
  jwtkit_test::TempDir tmp("file-open");
  write_text(tmp.path() / "plain-file", "x");
  CHECK(code(jwtkit::FileKeyStore::open(tmp.str("plain-file"))) == "io_error");
  CHECK(code(jwtkit::FileKeyStore::open(tmp.str("missing-parent/keys"))) == "io_error");
  CHECK(code(jwtkit::FileKeyStore::open("")) == "invalid_argument");
}

TEST_CASE("FileKeyStore: an existing directory is used as it is") {
  jwtkit_test::TempDir tmp("file-existing");
  fs::create_directories(tmp.path() / "keys");
  fs::permissions(tmp.path() / "keys", fs::perms::owner_all | fs::perms::group_read |
                                           fs::perms::group_exec);
  auto store = jwtkit::FileKeyStore::open(tmp.str("keys"));
  REQUIRE(status(store) == "ok");
  CHECK(mode_of(tmp.path() / "keys") == 0750u);
  CHECK((*store)->directory() == tmp.str("keys"));
}

TEST_CASE("FileKeyStore: a failed write changes nothing") {
  jwtkit_test::TempDir tmp("file-failed-write");
  auto store = jwtkit::FileKeyStore::open(tmp.str("keys"));
  REQUIRE(status(store) == "ok");
  auto a = es256_record();
  REQUIRE(status((*store)->save(a)) == "ok");
  // A record whose key has no private part cannot be written; the records before it were
  // only staged, so nothing may change.
  auto pub = a.key.public_key();
  REQUIRE(status(pub) == "ok");
  jwtkit::KeyRecord bad{pub->with_kid("public-only"), Alg::ES256, KeyState::retiring, kT0,
                        std::nullopt, std::nullopt};
  auto b = es256_record(KeyState::active);
  auto a_retiring = a;
  a_retiring.state = KeyState::retiring;
  auto r = (*store)->save_if_active(a.kid(), {b, a_retiring, bad});
  REQUIRE_FALSE(r.ok());
  auto loaded = (*store)->load_all();
  REQUIRE(status(loaded) == "ok");
  REQUIRE(loaded->size() == 1);
  CHECK(loaded->front().kid() == a.kid());
  CHECK(loaded->front().state == KeyState::active);
  for (const auto& p : files_in(tmp.path() / "keys")) {
    CHECK(p.filename().string().rfind(".tmp-", 0) == std::string::npos);
  }
}

TEST_CASE("FileKeyStore: a write of several records that fails on one changes none") {
  jwtkit_test::TempDir tmp("file-rollback");
  auto store = jwtkit::FileKeyStore::open(tmp.str("keys"));
  REQUIRE(status(store) == "ok");
  auto a = es256_record();
  REQUIRE(status((*store)->save(a)) == "ok");
  const std::string a_path = *(*store)->path_for(a.kid());
  const std::string a_before = read_text(a_path);

  // b's file name is taken by a directory, so b cannot be written; a, listed first and
  // writable, must not change either.
  auto b = es256_record(KeyState::active);
  const std::string b_path = *(*store)->path_for(b.kid());
  fs::create_directories(fs::path(b_path) / "occupied");
  auto a_retiring = a;
  a_retiring.state = KeyState::retiring;
  auto r = (*store)->save_if_active(a.kid(), {a_retiring, b});
  REQUIRE(code(r) == "io_error");
  CHECK_THAT(r.error().message(), jwtkit_test::contains(b_path));

  CHECK(read_text(a_path) == a_before);  // a is back as it was
  fs::remove_all(b_path);
  auto loaded = (*store)->load_all();
  REQUIRE(status(loaded) == "ok");
  REQUIRE(loaded->size() == 1);
  CHECK(loaded->front().state == KeyState::active);
  for (const auto& p : files_in(tmp.path() / "keys")) {
    const auto name = p.filename().string();
    CHECK(name.rfind(".tmp-", 0) == std::string::npos);
    CHECK(name.rfind(".bak-", 0) == std::string::npos);
  }
  // A new record whose rename fails leaves no file either.
  fs::create_directories(fs::path(b_path) / "occupied");
  auto c = es256_record(KeyState::next);
  CHECK(code((*store)->save_if_active(a.kid(), {c, b})) == "io_error");
  CHECK_FALSE(fs::exists(*(*store)->path_for(c.kid())));
  CHECK(code((*store)->save(b)) == "io_error");
}

TEST_CASE("key records round trip through their JSON form, and a corrupt one says what is wrong") {
  auto key = jwtkit::Key::generate(Alg::ES256);
  REQUIRE(key.ok());
  jwtkit::KeyRecord rec{*key, Alg::ES256, KeyState::retiring, jwtkit::from_unix(1'700'000'000),
                        jwtkit::from_unix(1'700'000'100), jwtkit::from_unix(1'700'000'900)};
  auto text = jwtkit::key_record_to_json(rec);
  REQUIRE(text.ok());
  auto back = jwtkit::key_record_from_json(*text);
  REQUIRE(back.ok());
  CHECK(back->kid() == rec.kid());
  CHECK(back->alg == Alg::ES256);
  CHECK(back->state == KeyState::retiring);
  CHECK(back->created_at == rec.created_at);
  CHECK(back->sign_until == rec.sign_until);
  CHECK(back->verify_until == rec.verify_until);
  CHECK(back->key.thumbprint() == key->thumbprint());
  CHECK(back->key.can_sign());

  // A public key cannot be stored as a signing key.
  auto pub = key->public_key();
  REQUIRE(pub.ok());
  jwtkit::KeyRecord public_only{*pub, Alg::ES256, KeyState::active, rec.created_at, std::nullopt, std::nullopt};
  CHECK(code(jwtkit::key_record_to_json(public_only)) == "key_mismatch");

  auto doc = nlohmann::json::parse(*text);
  auto broken = [&](const char* member, nlohmann::json value) {
    auto d = doc;
    if (value.is_discarded()) d.erase(member); else d[member] = value;
    return jwtkit::key_record_from_json(d.dump());
  };
  const auto discard = nlohmann::json(nlohmann::json::value_t::discarded);
  CHECK_THAT(broken("kid", discard).error().message(), jwtkit_test::contains("'kid'"));
  CHECK_THAT(broken("alg", "none").error().message(), jwtkit_test::contains("'alg'"));
  CHECK_THAT(broken("state", "paused").error().message(), jwtkit_test::contains("'state'"));
  CHECK_THAT(broken("created_at", "yesterday").error().message(), jwtkit_test::contains("'created_at'"));
  CHECK_THAT(broken("verify_until", 1.5).error().message(), jwtkit_test::contains("'verify_until'"));
  CHECK_THAT(broken("jwk", *pub->public_jwk()).error().message(), jwtkit_test::contains("no private key"));
  CHECK(code(jwtkit::key_record_from_json("{\"kid\":\"a\",\"kid\":\"b\"}")) == "malformed");
  CHECK(code(jwtkit::key_record_from_json("[]")) == "malformed");
}
