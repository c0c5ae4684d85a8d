// Store decorators that fail on demand with store_unavailable, for testing how the engine
// behaves when its stores cannot answer or cannot write. Test support only: not in the library.
#pragma once

#include <jwtkit/key_store.hpp>
#include <jwtkit/revocation_store.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace jwtkit_test {

/// Which calls of a store fail. Combine with |.
enum class StoreOp : unsigned {
  none = 0,
  // RevocationStore
  revoke_token = 1u << 0,
  is_token_revoked = 1u << 1,
  revoke_subject = 1u << 2,
  subject_revoked_before = 1u << 3,
  add_session = 1u << 4,
  remove_session = 1u << 5,
  revoke_session = 1u << 6,
  is_session_revoked = 1u << 7,
  count_sessions = 1u << 8,
  mark_refresh_used = 1u << 9,
  cleanup = 1u << 10,
  is_revoked = 1u << 11,
  // KeyStore
  load_all = 1u << 12,
  save = 1u << 13,
  remove = 1u << 14,
  save_if_active = 1u << 15,
  all = ~0u,
};

constexpr StoreOp operator|(StoreOp a, StoreOp b) {
  return static_cast<StoreOp>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}

/// Counts and switches the failures of one decorated store. Thread-safe.
class FailureSwitch {
 public:
  /// From now on, the calls in `ops` fail (replacing the previous setting).
  void fail(StoreOp ops) noexcept { failing_.store(static_cast<unsigned>(ops)); }
  /// From now on, every call succeeds again (as far as the wrapped store does).
  void heal() noexcept { fail(StoreOp::none); }
  /// How many calls were refused so far.
  int failures() const noexcept { return failures_.load(); }

 protected:
  bool should_fail(StoreOp op) noexcept {
    if ((failing_.load() & static_cast<unsigned>(op)) == 0) return false;
    ++failures_;
    return true;
  }
  static jwtkit::Error unavailable(const char* what) {
    return jwtkit::Error(jwtkit::Errc::store_unavailable,
                         std::string("injected failure in ") + what);
  }

 private:
  std::atomic<unsigned> failing_{0};
  std::atomic<int> failures_{0};
};

/// A RevocationStore that forwards to another one, except for the calls told to fail.
class FailingRevocationStore final : public jwtkit::RevocationStore, public FailureSwitch {
 public:
  explicit FailingRevocationStore(std::shared_ptr<jwtkit::RevocationStore> inner)
      : inner_(std::move(inner)) {}

  jwtkit::Result<void> revoke_token(std::string_view jti, jwtkit::TimePoint exp) override {
    if (should_fail(StoreOp::revoke_token)) return unavailable("revoke_token");
    return inner_->revoke_token(jti, exp);
  }
  jwtkit::Result<bool> is_token_revoked(std::string_view jti) override {
    if (should_fail(StoreOp::is_token_revoked)) return unavailable("is_token_revoked");
    return inner_->is_token_revoked(jti);
  }
  jwtkit::Result<void> revoke_subject(std::string_view subject, jwtkit::TimePoint not_before,
                                      jwtkit::TimePoint keep_until) override {
    if (should_fail(StoreOp::revoke_subject)) return unavailable("revoke_subject");
    return inner_->revoke_subject(subject, not_before, keep_until);
  }
  jwtkit::Result<std::optional<jwtkit::TimePoint>> subject_revoked_before(
      std::string_view subject) override {
    if (should_fail(StoreOp::subject_revoked_before)) return unavailable("subject_revoked_before");
    return inner_->subject_revoked_before(subject);
  }
  jwtkit::Result<void> add_session(std::string_view subject, std::string_view sid,
                                   jwtkit::TimePoint exp) override {
    if (should_fail(StoreOp::add_session)) return unavailable("add_session");
    return inner_->add_session(subject, sid, exp);
  }
  jwtkit::Result<void> remove_session(std::string_view subject, std::string_view sid) override {
    if (should_fail(StoreOp::remove_session)) return unavailable("remove_session");
    return inner_->remove_session(subject, sid);
  }
  jwtkit::Result<void> revoke_session(std::string_view subject, std::string_view sid,
                                      jwtkit::TimePoint exp) override {
    if (should_fail(StoreOp::revoke_session)) return unavailable("revoke_session");
    return inner_->revoke_session(subject, sid, exp);
  }
  jwtkit::Result<bool> is_session_revoked(std::string_view sid) override {
    if (should_fail(StoreOp::is_session_revoked)) return unavailable("is_session_revoked");
    return inner_->is_session_revoked(sid);
  }
  jwtkit::Result<std::size_t> count_sessions(std::string_view subject) override {
    if (should_fail(StoreOp::count_sessions)) return unavailable("count_sessions");
    return inner_->count_sessions(subject);
  }
  jwtkit::Result<bool> mark_refresh_used(std::string_view jti, jwtkit::TimePoint exp) override {
    if (should_fail(StoreOp::mark_refresh_used)) return unavailable("mark_refresh_used");
    return inner_->mark_refresh_used(jti, exp);
  }
  jwtkit::Result<std::size_t> cleanup() override {
    if (should_fail(StoreOp::cleanup)) return unavailable("cleanup");
    return inner_->cleanup();
  }
  jwtkit::Result<bool> is_revoked(const jwtkit::TokenRef& token) override {
    if (should_fail(StoreOp::is_revoked)) return unavailable("is_revoked");
    return inner_->is_revoked(token);
  }

 private:
  std::shared_ptr<jwtkit::RevocationStore> inner_;
};

/// A KeyStore that forwards to another one, except for the calls told to fail.
class FailingKeyStore final : public jwtkit::KeyStore, public FailureSwitch {
 public:
  explicit FailingKeyStore(std::shared_ptr<jwtkit::KeyStore> inner) : inner_(std::move(inner)) {}

  jwtkit::Result<std::vector<jwtkit::KeyRecord>> load_all() override {
    if (should_fail(StoreOp::load_all)) return unavailable("load_all");
    return inner_->load_all();
  }
  jwtkit::Result<void> save(const jwtkit::KeyRecord& record) override {
    if (should_fail(StoreOp::save)) return unavailable("save");
    return inner_->save(record);
  }
  jwtkit::Result<void> remove(std::string_view kid) override {
    if (should_fail(StoreOp::remove)) return unavailable("remove");
    return inner_->remove(kid);
  }
  jwtkit::Result<void> save_if_active(std::string_view expected_active_kid,
                                      const std::vector<jwtkit::KeyRecord>& records) override {
    if (should_fail(StoreOp::save_if_active)) return unavailable("save_if_active");
    return inner_->save_if_active(expected_active_kid, records);
  }

 private:
  std::shared_ptr<jwtkit::KeyStore> inner_;
};

}  // namespace jwtkit_test
