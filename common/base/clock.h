// Clock: injected time. Components never read the system clock directly; they take a Clock& so
// that tests can run on a FakeClock and never sleep to wait for time to pass.
//
// Threading: both implementations are safe to call from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace ck {

using WallTime = std::chrono::system_clock::time_point;
using MonoTime = std::chrono::steady_clock::time_point;
using Duration = std::chrono::nanoseconds;

// A wake-up signal a thread can wait on together with a clock deadline: a worker sleeps until its
// next timer fires or until new work arrives (Notify). A notification is remembered until one
// WaitUntil consumes it. Notify is safe from any thread; one thread waits on a Wakeup at a time.
class Wakeup {
 public:
  void Notify();

 private:
  friend class RealClock;
  friend class FakeClock;
  std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;  // guarded by mu_
};

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, for timestamps written into objects (creationTimestamp, lease renewTime).
  virtual WallTime Now() const = 0;
  // Monotonic time, for deadlines, timeouts and backoff.
  virtual MonoTime Monotonic() const = 0;
  // Blocks the caller until Monotonic() >= deadline. On a FakeClock this waits for Advance().
  virtual void SleepUntil(MonoTime deadline) = 0;
  void SleepFor(Duration d) { SleepUntil(Monotonic() + d); }
  // Blocks until Monotonic() >= deadline or `wakeup` is notified. Returns true (and consumes the
  // notification) when notified, false when the deadline passed first.
  virtual bool WaitUntil(Wakeup& wakeup, MonoTime deadline) = 0;
};

// The process-wide real clock.
class RealClock final : public Clock {
 public:
  static RealClock& Get();
  WallTime Now() const override { return std::chrono::system_clock::now(); }
  MonoTime Monotonic() const override { return std::chrono::steady_clock::now(); }
  void SleepUntil(MonoTime deadline) override;
  bool WaitUntil(Wakeup& wakeup, MonoTime deadline) override;
};

// A clock that moves only when a test calls Advance(). Starts at a fixed, readable wall time
// (2026-01-01T00:00:00Z) unless told otherwise.
class FakeClock final : public Clock {
 public:
  FakeClock();
  explicit FakeClock(WallTime start);

  WallTime Now() const override;
  MonoTime Monotonic() const override;
  void SleepUntil(MonoTime deadline) override;
  bool WaitUntil(Wakeup& wakeup, MonoTime deadline) override;

  // Moves both clocks forward and wakes every sleeper whose deadline has passed.
  void Advance(Duration d);
  // Number of threads currently blocked in SleepUntil or WaitUntil (lets tests wait until a worker
  // sleeps).
  int sleepers() const;

 private:
  // Time is atomic so that a WaitUntil waiter can read it under its Wakeup's mutex without taking
  // mu_ (Advance takes mu_, then each waiter's mutex; never the other way round).
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<WallTime::rep> wall_;  // written under mu_
  std::atomic<MonoTime::rep> mono_;  // written under mu_
  int sleepers_ = 0;                 // guarded by mu_
  std::vector<Wakeup*> waiters_;     // guarded by mu_
};

}  // namespace ck
