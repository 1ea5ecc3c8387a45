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

void Wakeup::Notify() {
  std::lock_guard lock(mu_);
  notified_ = true;
  cv_.notify_all();
}

bool RealClock::WaitUntil(Wakeup& wakeup, MonoTime deadline) {
  std::unique_lock lock(wakeup.mu_);
  bool notified = wakeup.cv_.wait_until(lock, deadline, [&] { return wakeup.notified_; });
  wakeup.notified_ = false;
  return notified;
}

FakeClock::FakeClock() : FakeClock(WallTime(kFakeEpoch)) {}
FakeClock::FakeClock(WallTime start)
    : wall_(start.time_since_epoch().count()),
      mono_(MonoTime(std::chrono::hours(1)).time_since_epoch().count()) {}

WallTime FakeClock::Now() const { return WallTime(WallTime::duration(wall_.load())); }

MonoTime FakeClock::Monotonic() const { return MonoTime(MonoTime::duration(mono_.load())); }

void FakeClock::SleepUntil(MonoTime deadline) {
  std::unique_lock lock(mu_);
  ++sleepers_;
  cv_.wait(lock, [&] { return Monotonic() >= deadline; });
  --sleepers_;
}

bool FakeClock::WaitUntil(Wakeup& wakeup, MonoTime deadline) {
  {
    std::lock_guard lock(mu_);
    ++sleepers_;
    waiters_.push_back(&wakeup);
  }
  bool notified;
  {
    std::unique_lock lock(wakeup.mu_);
    wakeup.cv_.wait(lock, [&] { return wakeup.notified_ || Monotonic() >= deadline; });
    notified = wakeup.notified_;
    wakeup.notified_ = false;
  }
  std::lock_guard lock(mu_);
  --sleepers_;
  std::erase(waiters_, &wakeup);
  return notified;
}

void FakeClock::Advance(Duration d) {
  std::lock_guard lock(mu_);
  wall_ += std::chrono::duration_cast<WallTime::duration>(d).count();
  mono_ += std::chrono::duration_cast<MonoTime::duration>(d).count();
  cv_.notify_all();
  for (Wakeup* w : waiters_) {
    std::lock_guard wake_lock(w->mu_);
    w->cv_.notify_all();
  }
}

int FakeClock::sleepers() const {
  std::lock_guard lock(mu_);
  return sleepers_;
}

}  // namespace ck
