// Time source. The engine and the stores read time only through a Clock, so tests never sleep.
#pragma once

#include <jwtkit/export.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>

namespace jwtkit {

using TimePoint = std::chrono::system_clock::time_point;
using Seconds = std::chrono::seconds;

/// Seconds since the Unix epoch (a JWT NumericDate), truncated toward negative infinity.
inline std::int64_t to_unix(TimePoint t) noexcept {
  return std::chrono::floor<Seconds>(t.time_since_epoch()).count();
}
/// The time point of a Unix time, saturating at what a TimePoint can hold (about the years
/// 1678 to 2262 with nanosecond clocks) instead of overflowing.
inline TimePoint from_unix(std::int64_t s) noexcept {
  constexpr std::int64_t kMax = std::chrono::duration_cast<Seconds>(TimePoint::duration::max()).count();
  constexpr std::int64_t kMin = std::chrono::duration_cast<Seconds>(TimePoint::duration::min()).count();
  if (s >= kMax) return TimePoint::max();
  if (s <= kMin) return TimePoint::min();
  return TimePoint(Seconds(s));
}

/// Where time comes from. Implementations must be thread-safe.
class JWTKIT_EXPORT Clock {
 public:
  virtual ~Clock();
  virtual TimePoint now() const noexcept = 0;
};

/// The wall clock (std::chrono::system_clock). Thread-safe.
class JWTKIT_EXPORT SystemClock final : public Clock {
 public:
  TimePoint now() const noexcept override;
};

/// A clock that moves only when told to, for tests (yours and ours). Thread-safe.
class JWTKIT_EXPORT ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = from_unix(1'700'000'000)) noexcept;
  TimePoint now() const noexcept override;
  void set(TimePoint t) noexcept;
  void advance(std::chrono::nanoseconds d) noexcept;

 private:
  std::atomic<std::int64_t> ns_;
};

}  // namespace jwtkit
