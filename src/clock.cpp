#include <jwtkit/clock.hpp>

namespace jwtkit {

Clock::~Clock() = default;

TimePoint SystemClock::now() const noexcept { return std::chrono::system_clock::now(); }

ManualClock::ManualClock(TimePoint start) noexcept
    : ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count()) {}

TimePoint ManualClock::now() const noexcept {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::nanoseconds(ns_.load(std::memory_order_acquire))));
}

void ManualClock::set(TimePoint t) noexcept {
  ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count(),
            std::memory_order_release);
}

void ManualClock::advance(std::chrono::nanoseconds d) noexcept {
  ns_.fetch_add(d.count(), std::memory_order_acq_rel);
}

}  // namespace jwtkit
