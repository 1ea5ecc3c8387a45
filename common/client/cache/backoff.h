// Backoff: jittered exponential delays between a reflector's failed attempts, as client-go's
// reflector configures its backoff manager: 800 ms, doubling, jittered by up to +100%, capped at
// 30 s, and back to the start after two quiet minutes (no failure in between).
// Time and jitter come from the injected Clock and Random. Not synchronized: one owner thread.
#pragma once

#include <chrono>

#include "common/base/clock.h"
#include "common/base/random.h"

namespace ck::client {

struct BackoffPolicy {
  Duration initial = std::chrono::milliseconds(800);
  Duration max = std::chrono::seconds(30);
  double factor = 2.0;
  double jitter = 1.0;  // a delay d becomes d * (1 + jitter * u), u uniform in [0, 1), then capped
  Duration reset_after = std::chrono::minutes(2);
};

class Backoff {
 public:
  Backoff(Clock& clock, Random& random, BackoffPolicy policy = {});

  // The delay before the next attempt; each call doubles the base delay until `max`. When the
  // previous call is longer than `reset_after` ago, starts again from `initial`.
  Duration Next();
  // Starts again from `initial`.
  void Reset() { steps_ = 0; }

 private:
  Clock& clock_;
  Random& random_;
  const BackoffPolicy policy_;
  int steps_ = 0;
  bool used_ = false;
  MonoTime last_;
};

}  // namespace ck::client
