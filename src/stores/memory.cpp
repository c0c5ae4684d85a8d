#include <jwtkit/stores/memory.hpp>

#include <algorithm>
#include <utility>

namespace jwtkit {

namespace {

Error no_kid() { return Error(Errc::invalid_argument, "key record has no kid"); }

Error empty_arg(const char* what) {
  return Error(Errc::invalid_argument, std::string(what) + " must not be empty");
}

/// Sets map[key] to the later of its current expiry and `expires_at`.
template <class Map>
void extend(Map& map, std::string_view key, TimePoint expires_at) {
  auto it = map.find(key);
  if (it == map.end()) {
    map.emplace(std::string(key), expires_at);
  } else {
    it->second = std::max(it->second, expires_at);
  }
}


// Drops one session of a subject, and the subject's entry once it has none.
template <class Sessions>
void erase_session(Sessions& sessions, std::string_view subject, std::string_view session_id) {
  auto it = sessions.find(subject);
  if (it == sessions.end()) return;
  auto s = it->second.find(session_id);
  if (s != it->second.end()) it->second.erase(s);
  if (it->second.empty()) sessions.erase(it);
}

}  // namespace

// ---- MemoryKeyStore ------------------------------------------------------------------------

Result<std::vector<KeyRecord>> MemoryKeyStore::load_all() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<KeyRecord> out;
  out.reserve(records_.size());
  for (const auto& entry : records_) out.push_back(entry.second);
  return out;
}

Result<void> MemoryKeyStore::save(const KeyRecord& record) {
  if (record.kid().empty()) return no_kid();
  std::lock_guard<std::mutex> lock(mu_);
  records_.insert_or_assign(record.kid(), record);
  return ok();
}

Result<void> MemoryKeyStore::remove(std::string_view kid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = records_.find(kid);
  if (it != records_.end()) records_.erase(it);
  return ok();
}

Result<void> MemoryKeyStore::save_if_active(std::string_view expected_active_kid,
                                            const std::vector<KeyRecord>& records) {
  for (const auto& r : records) {
    if (r.kid().empty()) return no_kid();
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t active_count = 0;
  bool expected_is_active = false;
  for (const auto& entry : records_) {
    if (entry.second.state != KeyState::active) continue;
    ++active_count;
    if (entry.first == expected_active_kid) expected_is_active = true;
  }
  const bool holds = key_store_expectation_holds(active_count, expected_is_active, expected_active_kid);
  if (!holds) {
    return Error(Errc::store_conflict, "the active key is no longer '" +
                                           std::string(expected_active_kid) + "'");
  }
  for (const auto& r : records) records_.insert_or_assign(r.kid(), r);
  return ok();
}

// ---- MemoryRevocationStore -----------------------------------------------------------------

MemoryRevocationStore::MemoryRevocationStore(std::shared_ptr<const Clock> clock)
    : clock_(clock ? std::move(clock) : std::make_shared<SystemClock>()) {}

bool MemoryRevocationStore::live_in(const ExpiryMap& map, std::string_view key) const {
  auto it = map.find(key);
  return it != map.end() && live(it->second);
}

Result<void> MemoryRevocationStore::revoke_token(std::string_view jti, TimePoint expires_at) {
  if (jti.empty()) return empty_arg("jti");
  std::lock_guard<std::mutex> lock(mu_);
  extend(tokens_, jti, expires_at);
  return ok();
}

Result<bool> MemoryRevocationStore::is_token_revoked(std::string_view jti) {
  std::lock_guard<std::mutex> lock(mu_);
  return live_in(tokens_, jti);
}

Result<void> MemoryRevocationStore::revoke_subject(std::string_view subject, TimePoint not_before,
                                                   TimePoint keep_until) {
  if (subject.empty()) return empty_arg("subject");
  std::lock_guard<std::mutex> lock(mu_);
  auto it = subjects_.find(subject);
  if (it == subjects_.end() || !live(it->second.keep_until)) {
    subjects_.insert_or_assign(std::string(subject), SubjectEntry{not_before, keep_until});
  } else {
    it->second.not_before = std::max(it->second.not_before, not_before);
    it->second.keep_until = std::max(it->second.keep_until, keep_until);
  }
  sessions_.erase(std::string(subject));
  return ok();
}

Result<std::optional<TimePoint>> MemoryRevocationStore::subject_revoked_before(
    std::string_view subject) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = subjects_.find(subject);
  if (it == subjects_.end() || !live(it->second.keep_until)) return std::optional<TimePoint>();
  return std::optional<TimePoint>(it->second.not_before);
}

Result<void> MemoryRevocationStore::add_session(std::string_view subject,
                                                std::string_view session_id,
                                                TimePoint expires_at) {
  if (subject.empty()) return empty_arg("subject");
  if (session_id.empty()) return empty_arg("session id");
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(subject);
  if (it == sessions_.end()) it = sessions_.emplace(std::string(subject), ExpiryMap{}).first;
  auto& sessions = it->second;
  // An expired entry is gone: re-adding starts it afresh rather than extending it.
  auto s = sessions.find(session_id);
  if (s != sessions.end() && !live(s->second)) sessions.erase(s);
  extend(sessions, session_id, expires_at);
  return ok();
}

Result<void> MemoryRevocationStore::remove_session(std::string_view subject,
                                                   std::string_view session_id) {
  std::lock_guard<std::mutex> lock(mu_);
  erase_session(sessions_, subject, session_id);
  return ok();
}

Result<void> MemoryRevocationStore::revoke_session(std::string_view subject,
                                                   std::string_view session_id,
                                                   TimePoint expires_at) {
  if (session_id.empty()) return empty_arg("session id");
  std::lock_guard<std::mutex> lock(mu_);
  extend(revoked_sessions_, session_id, expires_at);
  erase_session(sessions_, subject, session_id);
  return ok();
}

Result<bool> MemoryRevocationStore::is_session_revoked(std::string_view session_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return live_in(revoked_sessions_, session_id);
}

Result<std::size_t> MemoryRevocationStore::count_sessions(std::string_view subject) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(subject);
  if (it == sessions_.end()) return std::size_t{0};
  const auto now = clock_->now();
  return static_cast<std::size_t>(std::count_if(
      it->second.begin(), it->second.end(), [&](const auto& s) { return now < s.second; }));
}

Result<bool> MemoryRevocationStore::mark_refresh_used(std::string_view jti, TimePoint expires_at) {
  if (jti.empty()) return empty_arg("jti");
  std::lock_guard<std::mutex> lock(mu_);
  auto it = used_refresh_.find(jti);
  if (it != used_refresh_.end() && live(it->second)) return false;
  if (it == used_refresh_.end()) {
    used_refresh_.emplace(std::string(jti), expires_at);
  } else {
    it->second = expires_at;  // the old mark had expired
  }
  return true;
}

Result<std::size_t> MemoryRevocationStore::cleanup() {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = clock_->now();
  std::size_t removed = 0;
  auto sweep = [&](ExpiryMap& map) {
    for (auto it = map.begin(); it != map.end();) {
      if (now < it->second) {
        ++it;
      } else {
        it = map.erase(it);
        ++removed;
      }
    }
  };
  sweep(tokens_);
  sweep(revoked_sessions_);
  sweep(used_refresh_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    sweep(it->second);
    it = it->second.empty() ? sessions_.erase(it) : std::next(it);
  }
  for (auto it = subjects_.begin(); it != subjects_.end();) {
    if (now < it->second.keep_until) {
      ++it;
    } else {
      it = subjects_.erase(it);
      ++removed;
    }
  }
  return removed;
}

Result<bool> MemoryRevocationStore::is_revoked(const TokenRef& token) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!token.jti.empty() && live_in(tokens_, token.jti)) return true;
  if (!token.session_id.empty() && live_in(revoked_sessions_, token.session_id)) return true;
  auto it = subjects_.find(token.subject);
  return it != subjects_.end() && live(it->second.keep_until) &&
         token.issued_at <= it->second.not_before;
}

}  // namespace jwtkit
