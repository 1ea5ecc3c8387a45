// The supervisor's restart backoff for one daemon: the first restart waits 1 s, each further one
// twice as long up to 30 s, and a daemon that stayed up for 60 s starts again from 1 s (the shape
// of the kubelet's CrashLoopBackOff, with launcher-sized numbers).
// Threading: a plain value; owned by the supervisor thread.
#pragma once

#include <algorithm>
#include <chrono>

namespace ck::launcher {

class RestartBackoff {
 public:
  using Duration = std::chrono::milliseconds;
  static constexpr Duration kInitial{1'000};
  static constexpr Duration kMax{30'000};
  static constexpr Duration kResetAfter{60'000};

  RestartBackoff(Duration initial = kInitial, Duration max = kMax, Duration reset_after = kResetAfter)
      : initial_(initial), max_(max), reset_after_(reset_after), next_(initial) {}

  // The daemon exited after running for `ran_for`; returns how long to wait before starting it
  // again. A run of at least reset_after counts as healthy and resets the delay to `initial`.
  Duration OnExit(Duration ran_for) {
    if (ran_for >= reset_after_) next_ = initial_;
    Duration delay = next_;
    next_ = std::min(next_ * 2, max_);
    return delay;
  }

  // Forget the history (after `ck start`: an explicit start is not a crash).
  void Reset() { next_ = initial_; }

 private:
  Duration initial_, max_, reset_after_;
  Duration next_;
};

}  // namespace ck::launcher
