// Clock: injected time. Components never read the system clock directly; they take a Clock& so
// that tests can run on a FakeClock and never sleep to wait for time to pass.
//
// Threading: both implementations are safe to call from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace ck {

using WallTime = std::chrono::system_clock::time_point;
using MonoTime = std::chrono::steady_clock::time_point;
using Duration = std::chrono::nanoseconds;

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
};

// The process-wide real clock.
class RealClock final : public Clock {
 public:
  static RealClock& Get();
  WallTime Now() const override { return std::chrono::system_clock::now(); }
  MonoTime Monotonic() const override { return std::chrono::steady_clock::now(); }
  void SleepUntil(MonoTime deadline) override;
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

  // Moves both clocks forward and wakes every sleeper whose deadline has passed.
  void Advance(Duration d);
  // Number of threads currently blocked in SleepUntil (lets tests wait until a worker sleeps).
  int sleepers() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  WallTime wall_;     // guarded by mu_
  MonoTime mono_;     // guarded by mu_
  int sleepers_ = 0;  // guarded by mu_
};

}  // namespace ck
