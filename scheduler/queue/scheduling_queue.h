// PriorityQueue: the scheduler's queue of pods waiting for a node (upstream
// internal/queue.PriorityQueue). Three sub-queues hold every pending pod exactly once:
//   activeQ            pods to try now, ordered by the profile's QueueSort (PrioritySort: higher
//                      priority first, then earlier timestamp); Pop() takes the head.
//   backoffQ           pods that failed recently, ordered by backoff expiry; they go to activeQ
//                      when their backoff (initial * 2^(attempts-1), capped) ends.
//   unschedulablePods  pods rejected by plugins, parked until a cluster event those plugins
//                      registered for (or 5 minutes) moves them to backoffQ/activeQ; pods held by
//                      a PreEnqueue gate (spec.schedulingGates) wait here too, as "gated".
// A popped pod is "in flight" until the scheduler calls AddUnschedulableIfNotPresent (it failed)
// or Done (it was bound or given up); while in flight, adds and updates of the same pod are
// recorded but never queue it a second time, so a pod is never scheduled twice.
// Time: there is no background thread. Pop waits on the Clock until new work arrives, the head of
// backoffQ expires, or the next 30 s leftover check, and runs the flushes itself; tests on a
// FakeClock Advance() and call Pop/TryPop or the Flush methods.
// Threading: one mutex guards everything. One thread (the scheduling loop) calls Pop/TryPop;
// informer handler threads call Add/Update/Delete/Move*/AssignedPod*; any thread may call the rest.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/base/clock.h"
#include "common/base/status.h"
#include "common/metrics/metrics.h"
#include "scheduler/framework/interface.h"
#include "scheduler/framework/types.h"
#include "scheduler/queue/backoff.h"
#include "scheduler/queue/heap.h"
#include "scheduler/queue/nominator.h"

namespace ck::scheduler::queue {

using QueuedPodInfoPtr = std::unique_ptr<QueuedPodInfo>;
// Orders activeQ: true when `a` is popped before `b` (a profile's QueueSortPlugin::Less).
using LessFunc = std::function<bool(const QueuedPodInfo& a, const QueuedPodInfo& b)>;
// Decides whether a pod may enter activeQ at all (upstream PreEnqueue plugins): "" admits it,
// otherwise the name of the plugin that holds it back (e.g. "SchedulingGates").
using PreEnqueueFunc = std::function<std::string(const corev1::Pod& pod)>;
// Filters the unschedulable pods a move considers (upstream PreEnqueueCheck); true = consider.
using PreEnqueueCheck = std::function<bool(const corev1::Pod& pod)>;
// The labels of a namespace (nullopt when unknown), for affinity terms with a namespaceSelector.
using NamespaceLabelsFunc =
    std::function<std::optional<std::map<std::string, std::string>>(const std::string& ns)>;

// Upstream's PrioritySort: higher spec.priority first, then the earlier timestamp.
bool PrioritySortLess(const QueuedPodInfo& a, const QueuedPodInfo& b);
// Upstream's SchedulingGates PreEnqueue rule: a pod with spec.schedulingGates is held.
std::string SchedulingGatesPreEnqueue(const corev1::Pod& pod);

// Names of the sub-queues, as in metrics and PendingPods().
inline constexpr std::string_view kActiveQ = "active";
inline constexpr std::string_view kBackoffQ = "backoff";
inline constexpr std::string_view kUnschedulable = "unschedulable";
inline constexpr std::string_view kGated = "gated";

// The `event` labels of scheduler_queue_incoming_pods_total besides cluster events' own labels.
inline constexpr std::string_view kEventPodAdd = "PodAdd";
inline constexpr std::string_view kEventPodUpdate = "PodUpdate";
inline constexpr std::string_view kEventScheduleAttemptFailure = "ScheduleAttemptFailure";
inline constexpr std::string_view kEventBackoffComplete = "BackoffComplete";
inline constexpr std::string_view kEventUnschedulableTimeout = "UnschedulableTimeout";

// The wildcard event that moves every unschedulable pod (upstream UnschedulableTimeout).
ClusterEvent UnschedulableTimeoutEvent();

struct QueueOptions {
  Duration pod_initial_backoff = kDefaultPodInitialBackoff;  // podInitialBackoffSeconds (teaching: 0.2 s)
  Duration pod_max_backoff = kDefaultPodMaxBackoff;          // podMaxBackoffSeconds (teaching: 2 s)
  // podMaxInUnschedulablePodsDuration: longer than this in unschedulablePods and the pod is retried.
  Duration pod_max_in_unschedulable_pods = std::chrono::minutes(5);
  // How often that is checked (upstream flushUnschedulablePodsLeftover period).
  Duration unschedulable_flush_interval = std::chrono::seconds(30);
  // Empty: PrioritySortLess.
  LessFunc less;
  // Empty: SchedulingGatesPreEnqueue. Return "" always to disable gating.
  PreEnqueueFunc pre_enqueue;
  // Plugin name -> the cluster events it registered (EnqueueExtensions::EventsToRegister).
  std::map<std::string, std::vector<ClusterEvent>> plugin_events;
  // Empty: namespaces are unknown, and a namespaceSelector term matches by name only.
  NamespaceLabelsFunc namespace_labels;
  // Where scheduler_pending_pods and scheduler_queue_incoming_pods_total go (nullptr: nowhere).
  metrics::Registry* metrics = nullptr;
};

// One pending pod as PendingPods() reports it (for /debug and logs).
struct PendingPod {
  PodPtr pod;
  std::string queue;  // kActiveQ, kBackoffQ, kUnschedulable or kGated
  int attempts = 0;
  MonoTime timestamp{};
  MonoTime backoff_expiry{};  // when its backoff ends (past for pods not backing off)
  std::set<std::string> unschedulable_plugins;
};

struct QueueSizes {
  size_t active = 0;
  size_t backoff = 0;
  size_t unschedulable = 0;  // not counting gated pods
  size_t gated = 0;
  size_t in_flight = 0;
};

class PriorityQueue final : public PodNominator {
 public:
  // `clock` must outlive the queue.
  PriorityQueue(Clock& clock, QueueOptions options = {});
  ~PriorityQueue() override;
  PriorityQueue(const PriorityQueue&) = delete;
  PriorityQueue& operator=(const PriorityQueue&) = delete;

  // ---- informer side ----

  // A new unscheduled pod: to activeQ (or, when a PreEnqueue gate holds it, to the gated pods).
  // A pod with spec.nodeName is ignored (someone else bound it). A pod the queue already holds is
  // updated in place; one in flight is only recorded (its latest version is used if it fails).
  void Add(PodPtr pod);
  // The pod changed. Same resourceVersion (an informer resync): nothing happens. spec.nodeName set:
  // the pod is dropped like Delete. In activeQ/backoffQ: replaced in place. In unschedulablePods:
  // replaced, and moved to backoffQ/activeQ when the change may make it schedulable (anything but
  // resourceVersion, generation, managedFields, finalizers and status). In flight: recorded, and
  // such a change sends the pod to backoffQ if the attempt fails. Unknown: added to activeQ.
  // `old_pod` may be null.
  void Update(const PodPtr& old_pod, PodPtr new_pod);
  // The pod is gone: removed from every sub-queue and the nominator; an in-flight pod is marked
  // so that it is not queued again.
  void Delete(const corev1::Pod& pod);

  // A cluster event happened (node added, assigned pod deleted, ...): every unschedulable pod
  // rejected by a plugin that registered a covering event (or rejected by no plugin, or any pod
  // when `event` is the wildcard) and passing `precheck` moves to backoffQ if still backing off,
  // else to activeQ. Gated pods stay (only an update of the pod itself can lift a gate).
  void MoveAllToActiveOrBackoffQueue(const ClusterEvent& event, const PreEnqueueCheck& precheck = nullptr);
  // An assigned pod appeared / changed: moves the unschedulable pods it may help, i.e. those
  // with a required affinity term matching it and those PodTopologySpread rejected in its
  // namespace (upstream getUnschedulablePodsWithCrossTopologyTerm), subject to the event rule
  // above. An update whose event has kActionUpdatePodScaleDown moves like
  // MoveAllToActiveOrBackoffQueue (freed resources can help any pod).
  void AssignedPodAdded(const corev1::Pod& pod);
  void AssignedPodUpdated(const corev1::Pod& old_pod, const corev1::Pod& new_pod, const ClusterEvent& event);

  // ---- scheduling loop side ----

  // Blocks until activeQ has a pod or Close(); returns nullptr once closed. The caller owns the
  // popped pod: its attempts went up by one, initial_attempt_timestamp is set on the first pop,
  // unschedulable_plugins/pending_plugins are cleared for this attempt, and it is in flight.
  // Runs the backoff and leftover flushes that are due before looking.
  QueuedPodInfoPtr Pop();
  // Like Pop, but returns nullptr at once when activeQ is empty (after the flushes that are due).
  QueuedPodInfoPtr TryPop();
  // The number of pods popped so far; read it right after Pop and pass it to
  // AddUnschedulableIfNotPresent.
  int64_t SchedulingCycle() const;

  // The attempt failed; `pod` comes back with its unschedulable_plugins (and pending_plugins)
  // filled in. Ends the in-flight state. The pod goes to backoffQ when a move request (an event
  // of interest, a leftover flush) happened at or after `scheduling_cycle`, when an update that
  // may make it schedulable arrived while in flight, or when no plugin rejected it (an error);
  // otherwise to unschedulablePods. A pod deleted or bound elsewhere while in flight is dropped
  // (OK). AlreadyExists when the queue holds the pod already (a caller bug upstream logs).
  Status AddUnschedulableIfNotPresent(QueuedPodInfoPtr pod, int64_t scheduling_cycle);
  // The pod's attempt ended without coming back (bound, or dropped): ends the in-flight state.
  // Nothing when it is not in flight. Call exactly one of this and AddUnschedulableIfNotPresent
  // per popped pod.
  void Done(const std::string& uid);

  // Wakes Pop, which then returns nullptr; later Pops return nullptr at once.
  void Close();

  // ---- clock-driven moves (Pop runs them when due; public for tests and explicit timers) ----

  // Moves every pod whose backoff has ended from backoffQ to activeQ.
  void FlushBackoffQCompleted();
  // Moves pods that have been in unschedulablePods longer than pod_max_in_unschedulable_pods.
  void FlushUnschedulablePodsLeftover();

  // ---- PodNominator ----
  std::vector<PodInfoPtr> NominatedPodsForNode(const std::string& node) const override;
  // Ignored for a pod the queue neither holds nor has in flight, or that was deleted or bound
  // while in flight (upstream checks the pod lister for the same reason).
  void AddNominatedPod(const PodInfoPtr& pod, const std::string& node) override;
  void DeleteNominatedPodIfExists(const corev1::Pod& pod) override;

  // ---- debugging ----
  // Every pending pod (not the ones in flight) with its sub-queue.
  std::vector<PendingPod> PendingPods() const;
  QueueSizes Sizes() const;
  // True when `uid` was popped and has not come back or been marked Done.
  bool InFlight(const std::string& uid) const;
  // When the pod's current backoff ends (its timestamp + BackoffDuration(attempts)).
  MonoTime BackoffExpiry(const QueuedPodInfo& pod) const;

 private:
  // What the queue learned about a popped pod while it was being scheduled.
  struct InFlightState {
    PodPtr latest;         // the newest version seen (nullptr: none)
    bool updated = false;  // an update that may make it schedulable arrived
    bool gone = false;     // deleted, or bound by someone else
  };
  struct Parked {
    QueuedPodInfoPtr pod;
    bool gated = false;
  };

  QueuedPodInfoPtr NewQueuedPodInfo(PodInfoPtr info) const;
  static PodInfoPtr MakePodInfo(PodPtr pod);
  bool IsBackingOff(const QueuedPodInfo& pod, MonoTime now) const;
  // Puts `pod` into activeQ unless a PreEnqueue gate holds it (then into the gated pods).
  // Returns true when it went to activeQ.
  bool AddToActiveQLocked(QueuedPodInfoPtr pod, std::string_view event);
  void AddToBackoffQLocked(QueuedPodInfoPtr pod, std::string_view event);
  void ParkLocked(QueuedPodInfoPtr pod, bool gated, std::string_view event);
  // Moves the given unschedulable pods (by key) that `event` may help; sets the move request.
  void MovePodsLocked(const std::vector<std::string>& keys, const ClusterEvent& event);
  void MoveAllLocked(const ClusterEvent& event, const PreEnqueueCheck& precheck);
  std::vector<std::string> CrossTopologyCandidatesLocked(const corev1::Pod& pod) const;
  void DeleteLocked(const corev1::Pod& pod);
  void FlushBackoffQCompletedLocked(MonoTime now);
  void FlushUnschedulablePodsLeftoverLocked(MonoTime now);
  void RunDueFlushesLocked(MonoTime now);
  QueuedPodInfoPtr PopLocked();
  bool KnownLocked(const std::string& key) const;
  // Refreshes the gauges and the nominated-pod count after any change.
  void AfterChangeLocked();
  void CountIncomingLocked(std::string_view queue, std::string_view event);

  Clock& clock_;
  const QueueOptions options_;
  LessFunc less_;
  PreEnqueueFunc pre_enqueue_;

  mutable std::mutex mu_;
  KeyedHeap<QueuedPodInfoPtr> active_q_;                      // guarded by mu_
  KeyedHeap<QueuedPodInfoPtr> backoff_q_;                     // guarded by mu_
  std::unordered_map<std::string, Parked> unschedulable_;     // guarded by mu_; key -> pod
  size_t gated_count_ = 0;                                    // guarded by mu_
  std::unordered_map<std::string, InFlightState> in_flight_;  // guarded by mu_
  Nominator nominator_;                                       // guarded by mu_
  std::atomic<size_t> nominated_count_{0};  // nominator_.size(), for a lock-free empty check
  int64_t scheduling_cycle_ = 0;            // guarded by mu_
  int64_t move_request_cycle_ = -1;         // guarded by mu_
  MonoTime next_leftover_flush_;            // guarded by mu_
  bool closed_ = false;                     // guarded by mu_
  bool popping_ = false;                    // guarded by mu_: a Pop is waiting

  Wakeup pop_wakeup_;  // notified when activeQ may have a pod, backoffQ got an earlier head, or Close

  metrics::Gauge* pending_gauges_[4] = {};  // active, backoff, unschedulable, gated
  metrics::Family<metrics::Counter>* incoming_ = nullptr;
  // Children of incoming_ already looked up, per queue (active, backoff, unschedulable) and event;
  // guarded by mu_. Saves the family's lock and key allocations on every move.
  std::map<std::string, metrics::Counter*, std::less<>> incoming_cache_[3];
};

}  // namespace ck::scheduler::queue
