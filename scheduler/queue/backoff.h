// Pod backoff (upstream PriorityQueue.calculateBackoffDuration): after its n-th failed attempt a
// pod waits initial * 2^(n-1), capped at max, counted from the moment it went back to the queue.
// Defaults 1 s doubling to 10 s (podInitialBackoffSeconds / podMaxBackoffSeconds).
// Pure functions; thread-safe.
#pragma once

#include <chrono>

#include "common/base/clock.h"

namespace ck::scheduler::queue {

inline constexpr Duration kDefaultPodInitialBackoff = std::chrono::seconds(1);
inline constexpr Duration kDefaultPodMaxBackoff = std::chrono::seconds(10);

// The backoff after `attempts` attempts (attempts <= 1 gives `initial`). Doubling stops at `max`
// without overflowing.
inline Duration BackoffDuration(int attempts, Duration initial, Duration max) {
  Duration d = initial;
  for (int i = 1; i < attempts; ++i) {
    if (d > max - d) return max;
    d += d;
  }
  return d < max ? d : max;
}

}  // namespace ck::scheduler::queue
