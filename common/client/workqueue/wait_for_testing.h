// Condition waits with a real-time deadline for the workqueue tests: a test never sleeps to wait
// for something, it polls a condition until it holds or the deadline passes.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace ck::client::testing {

// Returns true as soon as `condition` holds, false if it still does not after `timeout`.
inline bool WaitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

}  // namespace ck::client::testing
