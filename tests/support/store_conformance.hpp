// Store conformance suite: the behaviour every KeyStore and every RevocationStore must show.
//
// Use from a test file:
//
//   TEST_CASE("MemoryRevocationStore passes the revocation store conformance suite") {
//     jwtkit_test::revocation_store_conformance([] {
//       auto clock = std::make_shared<jwtkit::ManualClock>();
//       return jwtkit_test::RevocationStoreFixture{
//           std::make_shared<jwtkit::MemoryRevocationStore>(clock), clock};
//     });
//   }
//
// Each check is a SECTION that calls the factory afresh, so every factory call must give an
// empty store of its own (a new object, a fresh directory, a fresh key prefix).
#pragma once

#include "catch.hpp"
#include "support/result_check.hpp"

#include <jwtkit/alg.hpp>
#include <jwtkit/clock.hpp>
#include <jwtkit/jws.hpp>
#include <jwtkit/key.hpp>
#include <jwtkit/key_store.hpp>
#include <jwtkit/revocation_store.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace jwtkit_test {

// ---------------------------------------------------------------------------------------------
// RevocationStore

/// A revocation store under test and the clock it was given.
struct RevocationStoreFixture {
  std::shared_ptr<jwtkit::RevocationStore> store;
  /// The clock the store reads. Checks move it forward.
  std::shared_ptr<jwtkit::ManualClock> clock;
  /// True when the store judges expiry by `clock` whenever it answers (memory, file).
  /// False when a server enforces expiry with its own timer, set from `clock` at write time
  /// (Redis): advancing `clock` then expires nothing, so the checks that need that are left
  /// out and expiry is checked only with entries written already expired.
  bool expiry_follows_clock = true;
};
using RevocationStoreFactory = std::function<RevocationStoreFixture()>;

namespace detail {

/// The clock's current time, truncated to whole seconds (stores may keep only seconds).
inline jwtkit::TimePoint whole_seconds_now(const jwtkit::Clock& clock) {
  return jwtkit::from_unix(jwtkit::to_unix(clock.now()));
}

template <class T>
T value_of(jwtkit::Result<T> r) {
  REQUIRE(status(r) == "ok");
  return std::move(r).value();
}

}  // namespace detail

/// Runs every revocation store check against stores made by `make`.
inline void revocation_store_conformance(const RevocationStoreFactory& make) {
  using detail::value_of;
  using jwtkit::TokenRef;
  using std::chrono::hours;
  using std::chrono::seconds;
  const bool expiry_follows_clock = make().expiry_follows_clock;

  SECTION("revoke_token: the revoked jti is revoked, others are not") {
    auto f = make();
    const auto now = detail::whole_seconds_now(*f.clock);
    REQUIRE_FALSE(value_of(f.store->is_token_revoked("jti-1")));
    REQUIRE(status(f.store->revoke_token("jti-1", now + hours(1))) == "ok");
    CHECK(value_of(f.store->is_token_revoked("jti-1")));
    CHECK_FALSE(value_of(f.store->is_token_revoked("jti-2")));
    CHECK_FALSE(value_of(f.store->is_token_revoked("jti-")));
    // Revoking twice is harmless.
    REQUIRE(status(f.store->revoke_token("jti-1", now + hours(2))) == "ok");
    CHECK(value_of(f.store->is_token_revoked("jti-1")));
  }

  SECTION("revoke_token: an entry written already expired succeeds and is not visible") {
    auto f = make();
    const auto now = detail::whole_seconds_now(*f.clock);
    REQUIRE(status(f.store->revoke_token("old-jti", now - seconds(5))) == "ok");
    CHECK_FALSE(value_of(f.store->is_token_revoked("old-jti")));
    TokenRef ref{"old-jti", "alice", "", now - hours(1)};
    CHECK_FALSE(value_of(f.store->is_revoked(ref)));
  }

  if (expiry_follows_clock) {
    SECTION("revoke_token: the entry vanishes once the clock passes its expiry") {
      auto f = make();
      const auto now = detail::whole_seconds_now(*f.clock);
      REQUIRE(status(f.store->revoke_token("jti-exp", now + seconds(10))) == "ok");
      f.clock->advance(seconds(9));
      CHECK(value_of(f.store->is_token_revoked("jti-exp")));
      f.clock->advance(seconds(1));  // exactly at expires_at: gone
      CHECK_FALSE(value_of(f.store->is_token_revoked("jti-exp")));
    }
  }

  SECTION("revoke_subject: tokens issued at or before the time are revoked, later ones not") {
    auto f = make();
    const auto now = detail::whole_seconds_now(*f.clock);
    CHECK_FALSE(value_of(f.store->subject_revoked_before("alice")).has_value());
    REQUIRE(status(f.store->revoke_subject("alice", now, now + hours(1))) == "ok");

    auto when = value_of(f.store->subject_revoked_before("alice"));
    REQUIRE(when.has_value());
    CHECK(jwtkit::to_unix(*when) == jwtkit::to_unix(now));
    CHECK_FALSE(value_of(f.store->subject_revoked_before("bob")).has_value());

    CHECK(value_of(f.store->is_revoked(TokenRef{"j1", "alice", "", now - seconds(60)})));
    CHECK(value_of(f.store->is_revoked(TokenRef{"j2", "alice", "", now})));
    CHECK_FALSE(value_of(f.store->is_revoked(TokenRef{"j3", "alice", "", now + seconds(1)})));
    CHECK_FALSE(value_of(f.store->is_revoked(TokenRef{"j4", "bob", "", now - seconds(60)})));
  }

  SECTION("revoke_subject: an earlier time does not move the revocation back, a later one does") {
    auto f = make();
    const auto now = detail::whole_seconds_now(*f.clock);
    REQUIRE(status(f.store->revoke_subject("carol", now, now + hours(1))) == "ok");
    REQUIRE(status(f.store->revoke_subject("carol", now - seconds(100), now + hours(1))) == "ok");
    auto when = value_of(f.store->subject_revoked_before("carol"));
    REQUIRE(when.has_value());
    CHECK(jwtkit::to_unix(*when) == jwtkit::to_unix(now));

    REQUIRE(status(f.store->revoke_subject("carol", now + seconds(30), now + hours(1))) == "ok");
    when = value_of(f.store->subject_revoked_before("carol"));
    REQUIRE(when.has_value());
    CHECK(jwtkit::to_unix(*when) == jwtkit::to_unix(now + seconds(30)));
  }

  SECTION("revoke_subject: drops the subject's sessions and only those") {
    auto f = make();
    const auto now = detail::whole_seconds_now(*f.clock);
    REQUIRE(status(f.store->add_session("dave", "s1", now + hours(1))) == "ok");
    REQUIRE(status(f.store->add_session("dave", "s2", now + hours(1))) == "ok");
    REQUIRE(status(f.store->add_session("erin", "s3", now + hours(1))) == "ok");
    REQUIRE(value_of(f.store->count_sessions("dave")) == 2);
    REQUIRE(status(f.store->revoke_subject("dave", now, now + hours(1))) == "ok");
    CHECK(value_of(f.store->count_sessions("dave")) == 0);
    CHECK(value_of(f.store->count_sessions("erin")) == 1);
  }

  SECTION("revoke_subject: an entry whose keep_until has passed is not visible") {
    auto f = make();
    const auto now = detail::whole_seconds_now(*f.clock);
    REQUIRE(status(f.store->revoke_subject("frank", now - seconds(20), now - seconds(10))) ==
            "ok");
    CHECK_FALSE(value_of(f.store->subject_revoked_before("frank")).has_value());
  }

  if (expiry_follows_clock) {
    SECTION("revoke_subject: the entry vanishes once the clock passes keep_until") {
      auto f = make();
      const auto now = detail::whole_seconds_now(*f.clock);
      REQUIRE(status(f.store->revoke_subject("gina", now, now + seconds(10))) == "ok");
      f.clock->advance(seconds(10));
      CHECK_FALSE(value_of(f.store->subject_revoked_before("gina")).has_value());
    }
  }

  SECTION("sessions: add, extend, count and remove per subject") {
    auto f = make();
    const auto now = detail::whole_seconds_now(*f.clock);
    CHECK(value_of(f.store->count_sessions("hank")) == 0);
    REQUIRE(status(f.store->add_session("hank", "s1", now + hours(1))) == "ok");
    REQUIRE(status(f.store->add_session("hank", "s2", now + hours(1))) == "ok");
    // Adding the same session again extends it; it is still one session.
    REQUIRE(status(f.store->add_session("hank", "s1", now + hours(2))) == "ok");
    CHECK(value_of(f.store->count_sessions("hank")) == 2);
    CHECK(value_of(f.store->count_sessions("ivy")) == 0);

    REQUIRE(status(f.store->remove_session("hank", "s1")) == "ok");
    CHECK(value_of(f.store->count_sessions("hank")) == 1);
    // Removing a session is not revoking it.
    CHECK_FALSE(value_of(f.store->is_session_revoked("s1")));
    // Removing an absent session succeeds.
    REQUIRE(status(f.store->remove_session("hank", "nope")) == "ok");
    CHECK(value_of(f.store->count_sessions("hank")) == 1);
  }

  SECTION("sessions: a session written already expired is not counted") {
    auto f = make();
    const auto now = detail::whole_seconds_now(*f.clock);
    REQUIRE(status(f.store->add_session("jack", "old", now - seconds(1))) == "ok");
    REQUIRE(status(f.store->add_session("jack", "new", now + hours(1))) == "ok");
    CHECK(value_of(f.store->count_sessions("jack")) == 1);
  }

  if (expiry_follows_clock) {
    SECTION("sessions: expired sessions are not counted, extended ones are") {
      auto f = make();
      const auto now = detail::whole_seconds_now(*f.clock);
      REQUIRE(status(f.store->add_session("kim", "short", now + seconds(10))) == "ok");
      REQUIRE(status(f.store->add_session("kim", "extended", now + seconds(10))) == "ok");
      REQUIRE(status(f.store->add_session("kim", "extended", now + seconds(100))) == "ok");
      CHECK(value_of(f.store->count_sessions("kim")) == 2);
      f.clock->advance(seconds(50));
      CHECK(value_of(f.store->count_sessions("kim")) == 1);
      f.clock->advance(seconds(50));
      CHECK(value_of(f.store->count_sessions("kim")) == 0);
    }
  }

  SECTION("revoke_session: revokes every token of the session and removes it") {
    auto f = make();
    const auto now = detail::whole_seconds_now(*f.clock);
    REQUIRE(status(f.store->add_session("liam", "s1", now + hours(1))) == "ok");
    REQUIRE(status(f.store->add_session("liam", "s2", now + hours(1))) == "ok");
    REQUIRE(status(f.store->revoke_session("liam", "s1", now + hours(1))) == "ok");
    CHECK(value_of(f.store->is_session_revoked("s1")));
    CHECK_FALSE(value_of(f.store->is_session_revoked("s2")));
    CHECK(value_of(f.store->count_sessions("liam")) == 1);
    CHECK(value_of(f.store->is_revoked(TokenRef{"any-jti", "liam", "s1", now})));
    CHECK_FALSE(value_of(f.store->is_revoked(TokenRef{"any-jti", "liam", "s2", now})));
    CHECK_FALSE(value_of(f.store->is_revoked(TokenRef{"any-jti", "liam", "", now})));
  }

  SECTION("is_revoked: answers for jti, session and subject together") {
    auto f = make();
    const auto now = detail::whole_seconds_now(*f.clock);
    REQUIRE(status(f.store->revoke_token("bad-jti", now + hours(1))) == "ok");
    REQUIRE(status(f.store->revoke_session("mia", "bad-sid", now + hours(1))) == "ok");
    REQUIRE(status(f.store->revoke_subject("noah", now, now + hours(1))) == "ok");

    const auto later = now + seconds(5);
    CHECK_FALSE(value_of(f.store->is_revoked(TokenRef{"good", "mia", "good-sid", later})));
    CHECK(value_of(f.store->is_revoked(TokenRef{"bad-jti", "mia", "good-sid", later})));
    CHECK(value_of(f.store->is_revoked(TokenRef{"good", "mia", "bad-sid", later})));
    CHECK(value_of(f.store->is_revoked(TokenRef{"good", "noah", "", now - seconds(5)})));
    CHECK_FALSE(value_of(f.store->is_revoked(TokenRef{"good", "noah", "", later})));
  }

  SECTION("mark_refresh_used: first call wins, every later call sees reuse") {
    auto f = make();
    const auto now = detail::whole_seconds_now(*f.clock);
    CHECK(value_of(f.store->mark_refresh_used("r1", now + hours(1))));
    CHECK_FALSE(value_of(f.store->mark_refresh_used("r1", now + hours(1))));
    CHECK_FALSE(value_of(f.store->mark_refresh_used("r1", now + hours(1))));
    CHECK(value_of(f.store->mark_refresh_used("r2", now + hours(1))));
    // A used mark is not a revocation of the jti.
    CHECK_FALSE(value_of(f.store->is_token_revoked("r1")));
  }

  SECTION("mark_refresh_used: of many concurrent calls exactly one wins") {
    auto f = make();
    const auto now = detail::whole_seconds_now(*f.clock);
    constexpr int kThreads = 8;
    std::atomic<int> winners{0}, reused{0}, errors{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&] {
        auto r = f.store->mark_refresh_used("contended", now + hours(1));
        if (!r.ok()) {
          ++errors;
        } else if (*r) {
          ++winners;
        } else {
          ++reused;
        }
      });
    }
    for (auto& t : threads) t.join();
    CHECK(errors.load() == 0);
    CHECK(winners.load() == 1);
    CHECK(reused.load() == kThreads - 1);
  }

  SECTION("concurrent writes from many threads are all kept") {
    auto f = make();
    const auto now = detail::whole_seconds_now(*f.clock);
    constexpr int kThreads = 4, kPerThread = 25;
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          const auto id = std::to_string(t) + "-" + std::to_string(i);
          if (!f.store->revoke_token("c-" + id, now + hours(1)).ok()) ++errors;
          if (!f.store->add_session("olga", "s-" + id, now + hours(1)).ok()) ++errors;
        }
      });
    }
    for (auto& t : threads) t.join();
    REQUIRE(errors.load() == 0);
    CHECK(value_of(f.store->count_sessions("olga")) == kThreads * kPerThread);
    int revoked = 0;
    for (int t = 0; t < kThreads; ++t) {
      for (int i = 0; i < kPerThread; ++i) {
        const auto id = std::to_string(t) + "-" + std::to_string(i);
        if (value_of(f.store->is_token_revoked("c-" + id))) ++revoked;
      }
    }
    CHECK(revoked == kThreads * kPerThread);
  }

  SECTION("cleanup: keeps live entries") {
    auto f = make();
    const auto now = detail::whole_seconds_now(*f.clock);
    REQUIRE(status(f.store->revoke_token("live", now + hours(1))) == "ok");
    REQUIRE(status(f.store->add_session("pam", "live", now + hours(1))) == "ok");
    REQUIRE(status(f.store->revoke_subject("quinn", now, now + hours(1))) == "ok");
    REQUIRE(value_of(f.store->mark_refresh_used("live-r", now + hours(1))));
    REQUIRE(status(f.store->cleanup()) == "ok");
    CHECK(value_of(f.store->is_token_revoked("live")));
    CHECK(value_of(f.store->count_sessions("pam")) == 1);
    CHECK(value_of(f.store->subject_revoked_before("quinn")).has_value());
    CHECK_FALSE(value_of(f.store->mark_refresh_used("live-r", now + hours(1))));
  }

  if (expiry_follows_clock) {
    SECTION("cleanup: removes expired entries and says how many") {
      auto f = make();
      const auto now = detail::whole_seconds_now(*f.clock);
      REQUIRE(status(f.store->revoke_token("short", now + seconds(10))) == "ok");
      REQUIRE(status(f.store->add_session("rose", "short", now + seconds(10))) == "ok");
      REQUIRE(status(f.store->revoke_session("rose", "short-rev", now + seconds(10))) == "ok");
      REQUIRE(status(f.store->revoke_subject("sam", now, now + seconds(10))) == "ok");
      REQUIRE(value_of(f.store->mark_refresh_used("short-r", now + seconds(10))));
      REQUIRE(status(f.store->revoke_token("long", now + hours(1))) == "ok");
      REQUIRE(status(f.store->add_session("rose", "long", now + hours(1))) == "ok");

      CHECK(value_of(f.store->cleanup()) == 0);  // nothing expired yet
      f.clock->advance(seconds(11));
      CHECK(value_of(f.store->cleanup()) == 5);
      CHECK(value_of(f.store->cleanup()) == 0);  // nothing left to remove
      CHECK(value_of(f.store->is_token_revoked("long")));
      CHECK(value_of(f.store->count_sessions("rose")) == 1);
      CHECK_FALSE(value_of(f.store->is_token_revoked("short")));
      // The used mark is gone with its expiry, so the jti can be marked again.
      CHECK(value_of(f.store->mark_refresh_used("short-r", now + hours(1))));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// KeyStore

/// A key store under test.
struct KeyStoreFixture {
  std::shared_ptr<jwtkit::KeyStore> store;
  /// Another handle on the same storage (the directory opened again, a new connection), to
  /// check that writes are durable and seen by other instances. May return `store` itself.
  std::function<std::shared_ptr<jwtkit::KeyStore>()> reopen;
};
using KeyStoreFactory = std::function<KeyStoreFixture()>;

namespace detail {

inline jwtkit::KeyRecord make_key_record(jwtkit::Alg alg, jwtkit::KeyState state,
                                         jwtkit::TimePoint created_at, std::string kid = {}) {
  auto key = jwtkit::Key::generate(alg);
  REQUIRE(status(key) == "ok");
  jwtkit::Key k = *key;
  if (!kid.empty()) k = k.with_kid(std::move(kid));
  return jwtkit::KeyRecord{k, alg, state, created_at, std::nullopt, std::nullopt};
}

inline const jwtkit::KeyRecord* find_record(const std::vector<jwtkit::KeyRecord>& records,
                                            const std::string& kid) {
  auto it = std::find_if(records.begin(), records.end(),
                         [&](const jwtkit::KeyRecord& r) { return r.kid() == kid; });
  return it == records.end() ? nullptr : &*it;
}

inline std::size_t count_active(const std::vector<jwtkit::KeyRecord>& records) {
  return static_cast<std::size_t>(std::count_if(
      records.begin(), records.end(),
      [](const jwtkit::KeyRecord& r) { return r.state == jwtkit::KeyState::active; }));
}

/// The loaded key signs what the original verifies (and the reverse).
inline void check_same_key(const jwtkit::KeyRecord& original, const jwtkit::KeyRecord& loaded) {
  CHECK(loaded.kid() == original.kid());
  CHECK(loaded.alg == original.alg);
  CHECK(loaded.key.type() == original.key.type());
  CHECK(loaded.key.can_sign());
  const std::string input = "conformance.check";
  auto sig = jwtkit::create_signature(loaded.key, loaded.alg, input);
  REQUIRE(status(sig) == "ok");
  CHECK(status(jwtkit::verify_signature(original.key, original.alg, input, *sig)) == "ok");
}

}  // namespace detail

/// Runs every key store check against stores made by `make`.
inline void key_store_conformance(const KeyStoreFactory& make) {
  using detail::find_record;
  using detail::make_key_record;
  using detail::value_of;
  using jwtkit::Alg;
  using jwtkit::KeyState;
  using std::chrono::hours;
  const auto t0 = jwtkit::from_unix(1'700'000'000);

  SECTION("a new store is empty") {
    auto f = make();
    CHECK(value_of(f.store->load_all()).empty());
  }

  SECTION("save then load_all gives back the record and its key") {
    auto f = make();
    auto rec = make_key_record(Alg::ES256, KeyState::active, t0);
    REQUIRE(status(f.store->save(rec)) == "ok");
    auto loaded = value_of(f.reopen()->load_all());
    REQUIRE(loaded.size() == 1);
    const auto& got = loaded[0];
    detail::check_same_key(rec, got);
    CHECK(got.state == KeyState::active);
    CHECK(jwtkit::to_unix(got.created_at) == jwtkit::to_unix(t0));
    CHECK_FALSE(got.sign_until.has_value());
    CHECK_FALSE(got.verify_until.has_value());
  }

  SECTION("records of every key type round-trip with their metadata") {
    auto f = make();
    std::vector<jwtkit::KeyRecord> recs = {
        make_key_record(Alg::EdDSA, KeyState::active, t0),
        make_key_record(Alg::ES384, KeyState::next, t0 + hours(1)),
        make_key_record(Alg::PS256, KeyState::retiring, t0 - hours(1)),  // RSA key, PS alg
        make_key_record(Alg::HS256, KeyState::retired, t0 - hours(2), "hmac-key-1"),
    };
    recs[2].sign_until = t0;
    recs[2].verify_until = t0 + hours(24);
    recs[3].sign_until = t0 - hours(1);
    recs[3].verify_until = t0;
    for (const auto& r : recs) REQUIRE(status(f.store->save(r)) == "ok");

    auto loaded = value_of(f.reopen()->load_all());
    REQUIRE(loaded.size() == recs.size());
    for (const auto& r : recs) {
      const auto* got = find_record(loaded, r.kid());
      REQUIRE(got != nullptr);
      detail::check_same_key(r, *got);
      CHECK(got->state == r.state);
      CHECK(jwtkit::to_unix(got->created_at) == jwtkit::to_unix(r.created_at));
      REQUIRE(got->sign_until.has_value() == r.sign_until.has_value());
      REQUIRE(got->verify_until.has_value() == r.verify_until.has_value());
      if (r.sign_until) CHECK(jwtkit::to_unix(*got->sign_until) == jwtkit::to_unix(*r.sign_until));
      if (r.verify_until) {
        CHECK(jwtkit::to_unix(*got->verify_until) == jwtkit::to_unix(*r.verify_until));
      }
    }
  }

  SECTION("save replaces the record with the same kid") {
    auto f = make();
    auto rec = make_key_record(Alg::ES256, KeyState::active, t0);
    REQUIRE(status(f.store->save(rec)) == "ok");
    rec.state = KeyState::retiring;
    rec.sign_until = t0 + hours(1);
    rec.verify_until = t0 + hours(2);
    REQUIRE(status(f.store->save(rec)) == "ok");
    auto loaded = value_of(f.reopen()->load_all());
    REQUIRE(loaded.size() == 1);
    CHECK(loaded[0].state == KeyState::retiring);
    REQUIRE(loaded[0].verify_until.has_value());
    CHECK(jwtkit::to_unix(*loaded[0].verify_until) == jwtkit::to_unix(t0 + hours(2)));
  }

  SECTION("remove deletes one record; removing an absent kid succeeds") {
    auto f = make();
    auto a = make_key_record(Alg::ES256, KeyState::active, t0);
    auto b = make_key_record(Alg::ES256, KeyState::retiring, t0);
    REQUIRE(status(f.store->save(a)) == "ok");
    REQUIRE(status(f.store->save(b)) == "ok");
    REQUIRE(status(f.store->remove(b.kid())) == "ok");
    auto loaded = value_of(f.reopen()->load_all());
    REQUIRE(loaded.size() == 1);
    CHECK(loaded[0].kid() == a.kid());
    CHECK(status(f.store->remove(b.kid())) == "ok");
    CHECK(status(f.store->remove("never-existed")) == "ok");
  }

  SECTION("a kid is only an id: path-like and unusual kids are stored and found") {
    auto f = make();
    const std::vector<std::string> kids = {
        "../../escape", "a/b\\c", ".", "..", "with space and \xc3\xbcnic\xc3\xb6" "de",
        std::string(300, 'k'), "*", "key:{1}"};
    for (const auto& kid : kids) {
      REQUIRE(status(f.store->save(make_key_record(Alg::EdDSA, KeyState::next, t0, kid))) ==
              "ok");
    }
    auto loaded = value_of(f.reopen()->load_all());
    REQUIRE(loaded.size() == kids.size());
    for (const auto& kid : kids) CHECK(find_record(loaded, kid) != nullptr);
    REQUIRE(status(f.store->remove("../../escape")) == "ok");
    CHECK(value_of(f.reopen()->load_all()).size() == kids.size() - 1);
  }

  SECTION("save refuses a record without a kid") {
    auto f = make();
    auto rec = make_key_record(Alg::HS256, KeyState::active, t0);
    REQUIRE(rec.kid().empty());  // generated HMAC secrets have no kid
    CHECK_FALSE(f.store->save(rec).ok());
    CHECK(value_of(f.store->load_all()).empty());
  }

  SECTION("save_if_active: succeeds only while the expected key is active") {
    auto f = make();
    auto a = make_key_record(Alg::ES256, KeyState::active, t0);
    auto b = make_key_record(Alg::ES256, KeyState::active, t0 + hours(1));

    // No key active yet: "" is the expected value.
    REQUIRE(status(f.store->save_if_active("", {a})) == "ok");
    // Now `a` is active: a writer that still thinks none is active loses, writing nothing.
    CHECK(code(f.store->save_if_active("", {b})) == "store_conflict");
    CHECK(code(f.store->save_if_active("someone-else", {b})) == "store_conflict");
    auto loaded = value_of(f.reopen()->load_all());
    REQUIRE(loaded.size() == 1);
    CHECK(loaded[0].kid() == a.kid());

    // The writer that knows `a` is active rotates: b active, a retiring, in one step.
    auto a_retiring = a;
    a_retiring.state = KeyState::retiring;
    a_retiring.sign_until = t0 + hours(1);
    a_retiring.verify_until = t0 + hours(3);
    REQUIRE(status(f.store->save_if_active(a.kid(), {b, a_retiring})) == "ok");
    loaded = value_of(f.reopen()->load_all());
    REQUIRE(loaded.size() == 2);
    CHECK(detail::count_active(loaded) == 1);
    REQUIRE(find_record(loaded, b.kid()) != nullptr);
    CHECK(find_record(loaded, b.kid())->state == KeyState::active);
    CHECK(find_record(loaded, a.kid())->state == KeyState::retiring);
    // And the old expectation no longer holds.
    CHECK(code(f.store->save_if_active(a.kid(), {a})) == "store_conflict");
  }

  SECTION("save_if_active: with two active keys no expectation holds") {
    // "The active key" is only defined when there is one; every store refuses the same way.
    auto f = make();
    auto a = make_key_record(Alg::ES256, KeyState::active, t0);
    auto b = make_key_record(Alg::ES256, KeyState::active, t0 + hours(1));
    auto c = make_key_record(Alg::ES256, KeyState::next, t0 + hours(2));
    REQUIRE(status(f.store->save(a)) == "ok");
    REQUIRE(status(f.store->save(b)) == "ok");
    CHECK(code(f.store->save_if_active(a.kid(), {c})) == "store_conflict");
    CHECK(code(f.store->save_if_active(b.kid(), {c})) == "store_conflict");
    CHECK(code(f.store->save_if_active("", {c})) == "store_conflict");
    CHECK(value_of(f.reopen()->load_all()).size() == 2);
  }

  SECTION("save_if_active: of concurrent rotations exactly one wins") {
    auto f = make();
    auto a = make_key_record(Alg::ES256, KeyState::active, t0);
    REQUIRE(status(f.store->save(a)) == "ok");
    auto a_retiring = a;
    a_retiring.state = KeyState::retiring;
    a_retiring.verify_until = t0 + hours(3);

    constexpr int kThreads = 6;
    std::vector<jwtkit::KeyRecord> candidates;
    for (int i = 0; i < kThreads; ++i) {
      candidates.push_back(make_key_record(Alg::EdDSA, KeyState::active, t0 + hours(1)));
    }
    std::atomic<int> wins{0}, conflicts{0}, others{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        auto store = f.reopen();  // each "instance" with its own handle
        auto r = store->save_if_active(a.kid(), {candidates[static_cast<std::size_t>(i)],
                                                 a_retiring});
        if (r.ok()) {
          ++wins;
        } else if (r.error().code() == jwtkit::Errc::store_conflict) {
          ++conflicts;
        } else {
          ++others;
        }
      });
    }
    for (auto& t : threads) t.join();
    CHECK(wins.load() == 1);
    CHECK(conflicts.load() == kThreads - 1);
    CHECK(others.load() == 0);
    auto loaded = value_of(f.reopen()->load_all());
    CHECK(loaded.size() == 2);
    CHECK(detail::count_active(loaded) == 1);
  }
}

}  // namespace jwtkit_test
