// TokenBucket: `qps` tokens per second, at most `burst` saved up (golang.org/x/time/rate as
// client-go uses it). The REST client waits on it before each request (QPS/burst) and the
// workqueue's overall rate limiter reserves from it.
// Threading: safe from any thread.
#pragma once

#include <mutex>

#include "common/base/clock.h"

namespace ck::client {

class TokenBucket {
 public:
  // qps <= 0 means unlimited. The bucket starts full.
  TokenBucket(double qps, int burst, Clock& clock);

  // Takes a token if one is available now.
  bool TryAccept();
  // Takes a token, possibly one not yet earned, and returns how long the caller must wait before
  // acting on it (zero when one was available). Reservations queue up in order.
  Duration Reserve();
  // Reserve(), then sleep on the clock for the returned delay.
  void Accept();

 private:
  void RefillLocked(MonoTime now);

  const double qps_;
  const double burst_;
  Clock& clock_;
  std::mutex mu_;
  double tokens_;  // guarded by mu_; negative while reservations are outstanding
  MonoTime last_;  // guarded by mu_
};

}  // namespace ck::client
