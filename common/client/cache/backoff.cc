#include "common/client/cache/backoff.h"

#include <algorithm>
#include <cmath>

namespace ck::client {

Backoff::Backoff(Clock& clock, Random& random, BackoffPolicy policy)
    : clock_(clock), random_(random), policy_(policy) {}

Duration Backoff::Next() {
  MonoTime now = clock_.Monotonic();
  if (used_ && now - last_ >= policy_.reset_after) steps_ = 0;
  used_ = true;
  last_ = now;
  double base = static_cast<double>(policy_.initial.count()) * std::pow(policy_.factor, steps_);
  double max = static_cast<double>(policy_.max.count());
  if (base < max) {
    ++steps_;
  } else {
    base = max;  // steps_ stops growing once the cap is reached
  }
  double delay = base * (1.0 + policy_.jitter * random_.Double());
  return Duration(static_cast<Duration::rep>(std::min(delay, max)));
}

}  // namespace ck::client
