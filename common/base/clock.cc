#include "common/base/clock.h"

#include <thread>

namespace ck {

RealClock& RealClock::Get() {
  static RealClock clock;
  return clock;
}

void RealClock::SleepUntil(MonoTime deadline) { std::this_thread::sleep_until(deadline); }

namespace {
// 2026-01-01T00:00:00Z
constexpr auto kFakeEpoch = std::chrono::seconds(1767225600);
}  // namespace

FakeClock::FakeClock() : FakeClock(WallTime(kFakeEpoch)) {}
FakeClock::FakeClock(WallTime start) : wall_(start), mono_(MonoTime(std::chrono::hours(1))) {}

WallTime FakeClock::Now() const {
  std::lock_guard lock(mu_);
  return wall_;
}

MonoTime FakeClock::Monotonic() const {
  std::lock_guard lock(mu_);
  return mono_;
}

void FakeClock::SleepUntil(MonoTime deadline) {
  std::unique_lock lock(mu_);
  ++sleepers_;
  cv_.wait(lock, [&] { return mono_ >= deadline; });
  --sleepers_;
}

void FakeClock::Advance(Duration d) {
  {
    std::lock_guard lock(mu_);
    wall_ += std::chrono::duration_cast<WallTime::duration>(d);
    mono_ += std::chrono::duration_cast<MonoTime::duration>(d);
  }
  cv_.notify_all();
}

int FakeClock::sleepers() const {
  std::lock_guard lock(mu_);
  return sleepers_;
}

}  // namespace ck
