// Timing profiles (DESIGN.md §11). `default` keeps upstream Kubernetes values; `teaching`
// shortens them so that a lesson sees a dead node handled in seconds. Every daemon takes
// `--profile` and reads its timings from here, never from literals of its own.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ck::daemon {

struct Profile {
  std::string name;
  std::chrono::milliseconds node_lease_renew_interval;
  std::chrono::milliseconds node_monitor_grace_period;
  std::chrono::seconds default_toleration_seconds;     // not-ready / unreachable NoExecute
  std::chrono::milliseconds leader_lease_duration;
  std::chrono::milliseconds leader_renew_deadline;
  std::chrono::milliseconds leader_retry_period;
  std::chrono::milliseconds crashloop_backoff_initial;
  std::chrono::milliseconds crashloop_backoff_max;
  std::chrono::milliseconds scheduler_backoff_initial;
  std::chrono::milliseconds scheduler_backoff_max;
  std::chrono::seconds event_ttl;
};

const Profile& DefaultProfile();
const Profile& TeachingProfile();
// "default" or "teaching"; anything else is kInvalid naming the choices.
Result<Profile> ProfileByName(std::string_view name);

}  // namespace ck::daemon
