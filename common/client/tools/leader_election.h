// LeaderElector: one active replica among many, through a coordination.k8s.io/v1 Lease (client-go's
// tools/leaderelection). Candidates read the Lease; the holder renews spec.renewTime every
// RetryPeriod; a candidate takes the Lease (leaseTransitions + 1) once it has seen the same
// record unchanged for leaseDurationSeconds on its own clock. Every write carries the
// resourceVersion it read, so of two racing candidates one gets 409 Conflict and stays a candidate.
//
// Fencing, the two rules that make "at most one leader acts" hold without synchronized clocks:
//  (a) a leader that has not renewed successfully within RenewDeadline of its last successful
//      renew stops leading (IsLeader() turns false, OnStoppedLeading runs) at that deadline; other
//      candidates wait LeaseDuration > RenewDeadline from the moment they saw that renew;
//  (b) a candidate that finds another holder's lease counts the lease duration from the moment it
//      first observed the current record on its own monotonic clock (upstream's observedTime),
//      never from the renewTime written in the object.
// Threading: Run() blocks its caller's thread (one call per elector); the callbacks run on that
// thread, without locks held, and must return promptly (OnStartedLeading starts the workers,
// OnStoppedLeading stops them). Stop(), IsLeader() and GetLeader() are safe from any thread.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "common/api/proto/coordination_v1.pb.h"
#include "common/base/clock.h"
#include "common/base/random.h"
#include "common/client/api_client.h"
#include "common/metrics/metrics.h"

namespace ck::client {

// The three timings (upstream flags --leader-elect-lease-duration, -renew-deadline, -retry-period).
struct LeaderElectionTimings {
  Duration lease_duration = std::chrono::seconds(15);
  Duration renew_deadline = std::chrono::seconds(10);
  Duration retry_period = std::chrono::seconds(2);

  static LeaderElectionTimings Default() { return {}; }
  // DESIGN.md §11, --profile=teaching: 3 s / 2 s / 0.5 s.
  static LeaderElectionTimings Teaching() {
    return {std::chrono::seconds(3), std::chrono::seconds(2), std::chrono::milliseconds(500)};
  }
};

// The timings from flag values in Go duration syntax ("15s"; "" takes `defaults`), checked as
// upstream's NewLeaderElector does when `leader_elect` (so a bad value fails at the flag).
// Invalid naming the flag: "--leader-elect-lease-duration: time: invalid duration \"x\"".
Result<LeaderElectionTimings> ParseLeaderElectionTimings(const std::string& lease_duration,
                                                         const std::string& renew_deadline,
                                                         const std::string& retry_period,
                                                         const LeaderElectionTimings& defaults, bool leader_elect);

// A lock identity unique to this process: "<hostname>_<uuid v4>", as upstream components use.
std::string NewLeaderIdentity(Random& random);

struct LeaderCallbacks {
  std::function<void()> on_started_leading;               // required
  std::function<void()> on_stopped_leading;               // required; only after on_started_leading
  std::function<void(const std::string&)> on_new_leader;  // optional; the observed holder changed
};

struct LeaderElectionConfig {
  std::string lease_namespace = "kube-system";
  std::string lease_name;  // e.g. "kube-scheduler"
  std::string identity;    // unique per process, e.g. "<hostname>_<uuid>"
  LeaderElectionTimings timings;
  // On Stop(), a leader empties holderIdentity so that a successor need not wait for expiry.
  bool release_on_cancel = false;
  // The `name` label of leader_election_master_status; lease_name when empty.
  std::string name;
  LeaderCallbacks callbacks;
};

class LeaderElector {
 public:
  // The multiplier of RetryPeriod for a candidate's jittered retries (wait.JitterUntil's factor).
  static constexpr double kJitterFactor = 1.2;

  // Validates the config as upstream's NewLeaderElector does; Invalid with its message:
  // "leaseDuration must be greater than renewDeadline", "renewDeadline must be greater than
  // retryPeriod*JitterFactor", "leaseDuration must be a whole number of seconds",
  // "Lock identity is empty", "OnStartedLeading callback must not be nil", ...
  // `api`, `clock`, `random` and `registry` must outlive the elector.
  static Result<std::unique_ptr<LeaderElector>> Create(
      ApiClient& api, Clock& clock, LeaderElectionConfig config, Random& random = RealRandom::Get(),
      metrics::Registry& registry = metrics::Registry::Default());
  // Stop() must have been called and Run() must have returned.
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Campaigns until this process holds the lease (or Stop()), then leads until it loses the lease
  // or Stop() is called, and returns. Leadership lost is final for this elector (upstream
  // components exit); create a new one to campaign again.
  void Run();
  // Ends Run(): a candidate stops campaigning; a leader stops leading (OnStoppedLeading) and then,
  // with release_on_cancel, releases the lease. Safe from any thread, callbacks included.
  void Stop();

  // True while this process leads and its renew deadline has not passed; reads the clock, so it
  // turns false at the deadline even while a renew call hangs.
  bool IsLeader() const;
  // The holder identity last observed in the lease ("" when none or not yet read).
  std::string GetLeader() const;

 private:
  enum class Outcome { kHeld, kHeldByOther, kConflict, kError };

  LeaderElector(ApiClient& api, Clock& clock, LeaderElectionConfig config, Random& random,
                metrics::Registry& registry);
  // One attempt (upstream tryAcquireOrRenew): kHeld when this process holds the lease after it.
  Outcome TryAcquireOrRenew();
  Outcome WriteLease(const ObjectPtr& base, bool create);
  void Observe(const k8s::io::api::coordination::v1::Lease& lease);
  void ReportTransition();
  void Release();
  bool stopping() const;
  Duration Jittered(Duration d);

  ApiClient& api_;
  Clock& clock_;
  const LeaderElectionConfig config_;
  Random& random_;
  metrics::Gauge& master_status_;
  const ResourceInfo& leases_;
  Wakeup wakeup_;  // Stop() interrupts waits

  mutable std::mutex mu_;
  bool stop_ = false;                                   // guarded by mu_
  bool leading_ = false;                                // guarded by mu_
  MonoTime renew_deadline_at_;                          // guarded by mu_; leading ends here without a renew
  k8s::io::api::coordination::v1::LeaseSpec observed_;  // guarded by mu_; the record last seen
  bool observed_any_ = false;                           // guarded by mu_
  MonoTime observed_time_;                              // guarded by mu_; when `observed_` was first seen
  ObjectPtr observed_lease_;                            // guarded by mu_; the lease as last read or written
  std::string reported_leader_;                         // Run() thread only
};

}  // namespace ck::client
