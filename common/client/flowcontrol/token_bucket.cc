#include "common/client/flowcontrol/token_bucket.h"

#include <algorithm>

namespace ck::client {

TokenBucket::TokenBucket(double qps, int burst, Clock& clock)
    : qps_(qps), burst_(std::max(1, burst)), clock_(clock), tokens_(std::max(1, burst)), last_(clock.Monotonic()) {}

void TokenBucket::RefillLocked(MonoTime now) {
  if (now <= last_) return;
  double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
  last_ = now;
}

bool TokenBucket::TryAccept() {
  if (qps_ <= 0) return true;
  std::lock_guard lock(mu_);
  RefillLocked(clock_.Monotonic());
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

Duration TokenBucket::Reserve() {
  if (qps_ <= 0) return Duration::zero();
  std::lock_guard lock(mu_);
  RefillLocked(clock_.Monotonic());
  tokens_ -= 1;
  if (tokens_ >= 0) return Duration::zero();
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(-tokens_ / qps_));
}

void TokenBucket::Accept() {
  Duration wait = Reserve();
  if (wait > Duration::zero()) clock_.SleepFor(wait);
}

}  // namespace ck::client
