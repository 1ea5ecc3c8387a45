// SettleClock: a Clock over a FakeClock that knows the deadline of every thread blocked on it, so
// that a test can step time and then wait until each worker has reacted before the next step,
// without sleeping: Settled(n) holds when exactly n threads are blocked in SleepUntil/WaitUntil
// and each waits for a time after now (a thread woken by Advance is still running until it blocks
// again with a later deadline). Hand it to the code under test; Advance() through it or the
// FakeClock. A thread woken by Wakeup::Notify looks settled until it returns from WaitUntil, so
// synchronize on something else (a counter) after notifying.
// Threading: safe from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>

#include "common/base/clock.h"

namespace ck::client {

class SettleClock final : public Clock {
 public:
  explicit SettleClock(FakeClock& fake) : fake_(fake) {}

  WallTime Now() const override { return fake_.Now(); }
  MonoTime Monotonic() const override { return fake_.Monotonic(); }
  void SleepUntil(MonoTime deadline) override;
  bool WaitUntil(Wakeup& wakeup, MonoTime deadline) override;

  void Advance(Duration d) { fake_.Advance(d); }
  bool Settled(int n) const;
  // Waits (real time, up to `timeout`) until Settled(n()); n is re-read as threads come and go.
  bool WaitSettled(const std::function<int()>& n,
                   std::chrono::steady_clock::duration timeout = std::chrono::seconds(20));
  bool WaitSettled(int n, std::chrono::steady_clock::duration timeout = std::chrono::seconds(20)) {
    return WaitSettled([n] { return n; }, timeout);
  }

 private:
  int Register(MonoTime deadline);
  void Unregister(int id);
  bool SettledLocked(int n) const;

  FakeClock& fake_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int next_id_ = 0;                    // guarded by mu_
  std::map<int, MonoTime> deadlines_;  // guarded by mu_; blocked thread -> its deadline
};

}  // namespace ck::client
