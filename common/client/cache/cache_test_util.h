// Test utilities of common/client/cache: waiting on a condition with a real-time deadline (never a
// sleep), a clock pump for FakeClock-driven loops, and resource lookups.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "common/api/api_resources.h"
#include "common/base/check.h"
#include "common/base/clock.h"
#include "common/base/random.h"

namespace ck::client::testing {

// Polls `cond` (yielding between checks) until it holds or `timeout` of real time passes.
inline bool WaitFor(const std::function<bool()>& cond, std::chrono::seconds timeout = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return cond();
    std::this_thread::yield();
  }
  return true;
}

// Moves a FakeClock forward by `step` whenever some thread sleeps on it, so that backoff waits
// and watch timeouts pass without the test sleeping. Stops in the destructor.
class ClockPump {
 public:
  ClockPump(FakeClock& clock, Duration step) : clock_(clock), step_(step), thread_([this] { Run(); }) {}
  ~ClockPump() {
    done_ = true;
    thread_.join();
  }

 private:
  void Run() {
    while (!done_) {
      if (clock_.sleepers() > 0) clock_.Advance(step_);
      std::this_thread::yield();
    }
  }
  FakeClock& clock_;
  const Duration step_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// A Random whose every draw is 0: jitter-free, exact schedules.
class ZeroRandom final : public Random {
 public:
  uint64_t Next() override { return 0; }
};

inline const api::ResourceInfo& Resource(std::string_view group, std::string_view kind) {
  const api::ResourceInfo* r = api::FindResourceByKind(group, "v1", kind);
  CK_CHECK(r != nullptr) << kind;
  return *r;
}

}  // namespace ck::client::testing
