// FailedPodsBackoff: how often the DaemonSet controller may delete a failed daemon pod on one node
// (upstream flowcontrol.Backoff as NewDaemonSetsController configures it: 1 s doubling to 15 min).
// A kubelet that keeps rejecting the pod would otherwise make the controller create and delete in
// a hot loop. Entries idle for twice the maximum are forgotten (upstream's GC).
// Threading: every method is safe from any thread (one mutex).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "common/base/clock.h"

namespace ck::controller_manager::daemonset {

class FailedPodsBackoff {
 public:
  static constexpr Duration kInitial = std::chrono::seconds(1);
  static constexpr Duration kMax = std::chrono::minutes(15);

  explicit FailedPodsBackoff(Clock& clock, Duration initial = kInitial, Duration max = kMax)
      : clock_(clock), initial_(initial), max_(max) {}

  // True while less than the current backoff has passed since the last Next(id).
  bool IsInBackOffSinceUpdate(const std::string& id) const;
  // The current backoff of `id` (zero when it has none).
  Duration Get(const std::string& id) const;
  // Records an attempt: the backoff starts at `initial`, or doubles up to `max`.
  void Next(const std::string& id);
  // Forgets entries not updated for twice the maximum.
  void GC();
  size_t size() const;

 private:
  struct Entry {
    Duration backoff{0};
    MonoTime last_update;
  };
  bool Expired(const Entry& e, MonoTime now) const { return now - e.last_update > 2 * max_; }

  Clock& clock_;
  const Duration initial_;
  const Duration max_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;  // guarded by mu_
};

}  // namespace ck::controller_manager::daemonset
