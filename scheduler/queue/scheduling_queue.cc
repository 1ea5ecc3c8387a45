#include "scheduler/queue/scheduling_queue.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <utility>

#include "common/base/log.h"

namespace ck::scheduler::queue {

namespace {

using google::protobuf::util::MessageDifferencer;

constexpr std::string_view kPodTopologySpread = "PodTopologySpread";
// How long Pop sleeps when no timer is due; any new work wakes it earlier.
constexpr Duration kIdleWait = std::chrono::hours(1);

bool IsWildCard(const ClusterEvent& event) {
  return event.resource == EventResource::kWildCard && event.actions == kActionAll;
}

std::string EventLabel(const ClusterEvent& event) {
  return event.label.empty() ? "ClusterEvent" : event.label;
}

// Upstream isPodUpdated: a change worth a retry is anything other than resourceVersion,
// generation, managedFields, finalizers and the status (except resourceClaimStatuses).
bool IsPodUpdated(const corev1::Pod& a, const corev1::Pod& b) {
  if (!MessageDifferencer::Equals(a.spec(), b.spec())) return true;
  const auto& ca = a.status().resourceclaimstatuses();
  const auto& cb = b.status().resourceclaimstatuses();
  if (ca.size() != cb.size()) return true;
  for (int i = 0; i < ca.size(); ++i) {
    if (!MessageDifferencer::Equals(ca.Get(i), cb.Get(i))) return true;
  }
  auto strip = [](const corev1::Pod& p) {
    auto m = p.metadata();
    m.clear_resourceversion();
    m.clear_generation();
    m.clear_managedfields();
    m.clear_finalizers();
    return m;
  };
  return !MessageDifferencer::Equals(strip(a), strip(b));
}

bool Intersects(const std::set<std::string>& a, const std::set<std::string>& b) {
  for (const auto& x : a) {
    if (b.contains(x)) return true;
  }
  return false;
}

}  // namespace

bool PrioritySortLess(const QueuedPodInfo& a, const QueuedPodInfo& b) {
  int32_t pa = a.pod_info->priority();
  int32_t pb = b.pod_info->priority();
  return pa > pb || (pa == pb && a.timestamp < b.timestamp);
}

std::string SchedulingGatesPreEnqueue(const corev1::Pod& pod) {
  return pod.spec().schedulinggates_size() > 0 ? "SchedulingGates" : "";
}

ClusterEvent UnschedulableTimeoutEvent() {
  return ClusterEvent{EventResource::kWildCard, kActionAll, std::string(kEventUnschedulableTimeout)};
}

PriorityQueue::PriorityQueue(Clock& clock, QueueOptions options)
    : clock_(clock),
      options_(std::move(options)),
      less_(options_.less ? options_.less : LessFunc(PrioritySortLess)),
      pre_enqueue_(options_.pre_enqueue ? options_.pre_enqueue : PreEnqueueFunc(SchedulingGatesPreEnqueue)),
      active_q_([this](const QueuedPodInfoPtr& a, const QueuedPodInfoPtr& b) { return less_(*a, *b); }),
      backoff_q_([this](const QueuedPodInfoPtr& a, const QueuedPodInfoPtr& b) {
        return BackoffExpiry(*a) < BackoffExpiry(*b);
      }),
      next_leftover_flush_(clock.Monotonic() + options_.unschedulable_flush_interval) {
  CK_CHECK(options_.pod_initial_backoff > Duration::zero()) << "pod_initial_backoff must be positive";
  CK_CHECK(options_.pod_max_backoff >= options_.pod_initial_backoff)
      << "pod_max_backoff below pod_initial_backoff";
  if (options_.metrics != nullptr) {
    auto& pending = options_.metrics->GaugeFamily(
        "scheduler_pending_pods",
        "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' "
        "means "
        "number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the "
        "scheduler attempted to schedule and failed; 'gated' is the number of unschedulable pods that the "
        "scheduler never attempted to schedule because they are gated.",
        {"queue"});
    pending_gauges_[0] = &pending.With({std::string(kActiveQ)});
    pending_gauges_[1] = &pending.With({std::string(kBackoffQ)});
    pending_gauges_[2] = &pending.With({std::string(kUnschedulable)});
    pending_gauges_[3] = &pending.With({std::string(kGated)});
    incoming_ = &options_.metrics->CounterFamily(
        "scheduler_queue_incoming_pods_total",
        "Number of pods added to scheduling queues by event and queue type.", {"queue", "event"});
  }
  std::lock_guard lock(mu_);
  AfterChangeLocked();
}

PriorityQueue::~PriorityQueue() = default;

// ---- helpers ----

PodInfoPtr PriorityQueue::MakePodInfo(PodPtr pod) {
  auto info = PodInfo::Create(pod);
  if (info.ok()) return *info;
  // Upstream queues the pod anyway (the apiserver does not validate affinity terms fully); the
  // scheduling cycle parses it again and reports the error on the pod.
  CK_LOG_WARNING("Queued a pod whose scheduling inputs do not parse", "pod",
                 pod->metadata().namespace_() + "/" + pod->metadata().name(), "err",
                 info.status().ToString());
  auto bare = std::make_shared<PodInfo>();
  bare->pod = std::move(pod);
  bare->parse_error = info.status().message();
  return bare;
}

QueuedPodInfoPtr PriorityQueue::NewQueuedPodInfo(PodInfoPtr info) const {
  auto qpi = std::make_unique<QueuedPodInfo>();
  qpi->pod_info = std::move(info);
  qpi->timestamp = clock_.Monotonic();
  return qpi;
}

MonoTime PriorityQueue::BackoffExpiry(const QueuedPodInfo& pod) const {
  return pod.timestamp +
         BackoffDuration(pod.attempts, options_.pod_initial_backoff, options_.pod_max_backoff);
}

bool PriorityQueue::IsBackingOff(const QueuedPodInfo& pod, MonoTime now) const {
  return BackoffExpiry(pod) > now;
}

bool PriorityQueue::KnownLocked(const std::string& key) const {
  return active_q_.Contains(key) || backoff_q_.Contains(key) || unschedulable_.contains(key);
}

void PriorityQueue::CountIncomingLocked(std::string_view queue, std::string_view event) {
  if (incoming_ == nullptr) return;
  auto& cache = incoming_cache_[queue == kActiveQ ? 0 : queue == kBackoffQ ? 1 : 2];
  auto it = cache.find(event);
  if (it == cache.end()) {
    it = cache.emplace(std::string(event), &incoming_->With({std::string(queue), std::string(event)})).first;
  }
  it->second->Inc();
}

bool PriorityQueue::AddToActiveQLocked(QueuedPodInfoPtr pod, std::string_view event) {
  std::string gate = pre_enqueue_(pod->pod());
  if (!gate.empty()) {
    pod->unschedulable_plugins = {gate};
    ParkLocked(std::move(pod), /*gated=*/true, event);
    return false;
  }
  std::string key = PodKey(pod->pod());
  active_q_.Push(key, std::move(pod));
  CountIncomingLocked(kActiveQ, event);
  pop_wakeup_.Notify();
  return true;
}

void PriorityQueue::AddToBackoffQLocked(QueuedPodInfoPtr pod, std::string_view event) {
  std::string key = PodKey(pod->pod());
  backoff_q_.Push(key, std::move(pod));
  CountIncomingLocked(kBackoffQ, event);
  // A new head means an earlier deadline for a waiting Pop.
  if (backoff_q_.PeekKey() == key) pop_wakeup_.Notify();
}

void PriorityQueue::ParkLocked(QueuedPodInfoPtr pod, bool gated, std::string_view event) {
  std::string key = PodKey(pod->pod());
  auto [it, inserted] = unschedulable_.try_emplace(key);
  if (!inserted && it->second.gated) --gated_count_;
  it->second.pod = std::move(pod);
  it->second.gated = gated;
  if (gated) {
    ++gated_count_;
  } else {
    CountIncomingLocked(kUnschedulable, event);
  }
}

void PriorityQueue::AfterChangeLocked() {
  nominated_count_.store(nominator_.size(), std::memory_order_relaxed);
  if (pending_gauges_[0] == nullptr) return;
  pending_gauges_[0]->Set(static_cast<double>(active_q_.size()));
  pending_gauges_[1]->Set(static_cast<double>(backoff_q_.size()));
  pending_gauges_[2]->Set(static_cast<double>(unschedulable_.size() - gated_count_));
  pending_gauges_[3]->Set(static_cast<double>(gated_count_));
}

// ---- informer side ----

void PriorityQueue::Add(PodPtr pod) {
  if (!pod->spec().nodename().empty()) return;  // bound by someone else: not ours to schedule
  std::string key = PodKey(*pod);
  PodInfoPtr info = MakePodInfo(pod);
  std::lock_guard lock(mu_);
  if (auto it = in_flight_.find(key); it != in_flight_.end()) {
    it->second.latest = std::move(pod);
    return;
  }
  if (QueuedPodInfoPtr* q = active_q_.Get(key)) {
    nominator_.Update((*q)->pod(), info);
    (*q)->pod_info = info;
    active_q_.Fix(key);
  } else if (QueuedPodInfoPtr* b = backoff_q_.Get(key)) {
    nominator_.Update((*b)->pod(), info);
    (*b)->pod_info = info;
    backoff_q_.Fix(key);
  } else if (auto u = unschedulable_.find(key); u != unschedulable_.end()) {
    nominator_.Update(u->second.pod->pod(), info);
    u->second.pod->pod_info = info;
  } else {
    AddToActiveQLocked(NewQueuedPodInfo(info), kEventPodAdd);
    nominator_.Add(info, nullptr);
  }
  AfterChangeLocked();
}

void PriorityQueue::Update(const PodPtr& old_pod, PodPtr new_pod) {
  // An informer resync re-delivers an unchanged object (upstream skips equal resourceVersions).
  if (old_pod != nullptr && !old_pod->metadata().resourceversion().empty() &&
      old_pod->metadata().resourceversion() == new_pod->metadata().resourceversion()) {
    return;
  }
  if (!new_pod->spec().nodename().empty()) {
    std::lock_guard lock(mu_);
    DeleteLocked(*new_pod);
    AfterChangeLocked();
    return;
  }
  std::string key = PodKey(*new_pod);
  const corev1::Pod& before = old_pod != nullptr ? *old_pod : *new_pod;
  bool changed = old_pod == nullptr || IsPodUpdated(*old_pod, *new_pod);
  PodInfoPtr info = MakePodInfo(new_pod);
  std::lock_guard lock(mu_);
  if (auto it = in_flight_.find(key); it != in_flight_.end()) {
    it->second.latest = new_pod;
    it->second.updated = it->second.updated || changed;
    if (!nominator_.NodeOf(key).empty() || !new_pod->status().nominatednodename().empty()) {
      nominator_.Update(before, info);
    }
    AfterChangeLocked();
    return;
  }
  if (QueuedPodInfoPtr* q = active_q_.Get(key)) {
    (*q)->pod_info = info;
    active_q_.Fix(key);
    nominator_.Update(before, info);
  } else if (QueuedPodInfoPtr* b = backoff_q_.Get(key)) {
    (*b)->pod_info = info;
    backoff_q_.Fix(key);
    nominator_.Update(before, info);
  } else if (auto u = unschedulable_.find(key); u != unschedulable_.end()) {
    u->second.pod->pod_info = info;
    nominator_.Update(before, info);
    if (changed) {
      // The change may make it schedulable: retry it (after its backoff, if any is left).
      Parked parked = std::move(u->second);
      unschedulable_.erase(u);
      if (parked.gated) --gated_count_;
      if (!parked.gated && IsBackingOff(*parked.pod, clock_.Monotonic())) {
        AddToBackoffQLocked(std::move(parked.pod), kEventPodUpdate);
      } else {
        AddToActiveQLocked(std::move(parked.pod), kEventPodUpdate);
      }
    }
  } else {
    AddToActiveQLocked(NewQueuedPodInfo(info), kEventPodUpdate);
    nominator_.Add(info, nullptr);
  }
  AfterChangeLocked();
}

void PriorityQueue::Delete(const corev1::Pod& pod) {
  std::lock_guard lock(mu_);
  DeleteLocked(pod);
  AfterChangeLocked();
}

void PriorityQueue::DeleteLocked(const corev1::Pod& pod) {
  nominator_.Delete(pod);
  std::string key = PodKey(pod);
  if (auto it = in_flight_.find(key); it != in_flight_.end()) it->second.gone = true;
  if (active_q_.Remove(key)) return;
  if (backoff_q_.Remove(key)) return;
  if (auto u = unschedulable_.find(key); u != unschedulable_.end()) {
    if (u->second.gated) --gated_count_;
    unschedulable_.erase(u);
  }
}

void PriorityQueue::MoveAllToActiveOrBackoffQueue(const ClusterEvent& event,
                                                  const PreEnqueueCheck& precheck) {
  std::lock_guard lock(mu_);
  MoveAllLocked(event, precheck);
  AfterChangeLocked();
}

void PriorityQueue::MoveAllLocked(const ClusterEvent& event, const PreEnqueueCheck& precheck) {
  std::vector<std::string> keys;
  keys.reserve(unschedulable_.size());
  for (const auto& [key, parked] : unschedulable_) {
    if (parked.gated) continue;
    if (precheck && !precheck(parked.pod->pod())) continue;
    keys.push_back(key);
  }
  MovePodsLocked(keys, event);
}

void PriorityQueue::MovePodsLocked(const std::vector<std::string>& keys, const ClusterEvent& event) {
  bool wildcard = IsWildCard(event);
  std::set<std::string> interested;  // plugins that registered an event covering this one
  for (const auto& [plugin, events] : options_.plugin_events) {
    for (const ClusterEvent& registered : events) {
      if (registered.Covers(event)) {
        interested.insert(plugin);
        break;
      }
    }
  }
  // No plugin cares (upstream isEventOfInterest): nothing can move, and it is no move request.
  // Parked pods always name a rejecting plugin; a pod rejected by none goes to backoffQ instead.
  if (!wildcard && interested.empty()) return;

  std::string label = EventLabel(event);
  MonoTime now = clock_.Monotonic();
  for (const std::string& key : keys) {
    auto u = unschedulable_.find(key);
    if (u == unschedulable_.end() || u->second.gated) continue;
    const QueuedPodInfo& qpi = *u->second.pod;
    bool no_rejector = qpi.unschedulable_plugins.empty() && qpi.pending_plugins.empty();
    if (!wildcard && !no_rejector && !Intersects(qpi.unschedulable_plugins, interested) &&
        !Intersects(qpi.pending_plugins, interested)) {
      continue;
    }
    QueuedPodInfoPtr pod = std::move(u->second.pod);
    unschedulable_.erase(u);
    if (IsBackingOff(*pod, now)) {
      AddToBackoffQLocked(std::move(pod), label);
    } else {
      AddToActiveQLocked(std::move(pod), label);
    }
  }
  // Pods in flight now may have missed this event: if they fail, they retry after backoff.
  move_request_cycle_ = scheduling_cycle_;
}

std::vector<std::string> PriorityQueue::CrossTopologyCandidatesLocked(const corev1::Pod& pod) const {
  std::optional<std::map<std::string, std::string>> ns_labels;
  if (options_.namespace_labels) ns_labels = options_.namespace_labels(pod.metadata().namespace_());
  const std::map<std::string, std::string>* labels = ns_labels ? &*ns_labels : nullptr;
  std::vector<std::string> keys;
  for (const auto& [key, parked] : unschedulable_) {
    if (parked.gated) continue;
    const QueuedPodInfo& qpi = *parked.pod;
    if (qpi.unschedulable_plugins.contains(std::string(kPodTopologySpread)) &&
        qpi.pod_info->ns() == pod.metadata().namespace_()) {
      keys.push_back(key);
      continue;
    }
    for (const AffinityTerm& term : qpi.pod_info->required_affinity_terms) {
      if (term.Matches(pod, labels)) {
        keys.push_back(key);
        break;
      }
    }
  }
  return keys;
}

void PriorityQueue::AssignedPodAdded(const corev1::Pod& pod) {
  std::lock_guard lock(mu_);
  MovePodsLocked(CrossTopologyCandidatesLocked(pod),
                 ClusterEvent{EventResource::kAssignedPod, kActionAdd, "AssignedPodAdd"});
  AfterChangeLocked();
}

void PriorityQueue::AssignedPodUpdated(const corev1::Pod& /*old_pod*/, const corev1::Pod& new_pod,
                                       const ClusterEvent& event) {
  std::lock_guard lock(mu_);
  if ((event.actions & kActionUpdatePodScaleDown) != 0) {
    // Freed resources can help pods any plugin rejected, not only cross-topology ones.
    MoveAllLocked(event, nullptr);
  } else {
    MovePodsLocked(CrossTopologyCandidatesLocked(new_pod), event);
  }
  AfterChangeLocked();
}

// ---- scheduling loop side ----

QueuedPodInfoPtr PriorityQueue::PopLocked() {
  QueuedPodInfoPtr pod = active_q_.Pop();
  std::string key = PodKey(pod->pod());
  // Adds and updates of in-flight pods are only recorded, so a queued pod is never in flight.
  CK_CHECK(!in_flight_.contains(key)) << "pod " << key << " popped while already in flight";
  in_flight_.emplace(key, InFlightState{});
  ++pod->attempts;
  ++scheduling_cycle_;
  if (!pod->has_initial_attempt) {
    pod->initial_attempt_timestamp = clock_.Monotonic();
    pod->has_initial_attempt = true;
  }
  pod->unschedulable_plugins.clear();
  pod->pending_plugins.clear();
  AfterChangeLocked();
  return pod;
}

void PriorityQueue::RunDueFlushesLocked(MonoTime now) {
  FlushBackoffQCompletedLocked(now);
  if (now >= next_leftover_flush_) {
    FlushUnschedulablePodsLeftoverLocked(now);
    next_leftover_flush_ = now + options_.unschedulable_flush_interval;
  }
  AfterChangeLocked();
}

QueuedPodInfoPtr PriorityQueue::Pop() {
  std::unique_lock lock(mu_);
  CK_CHECK(!popping_) << "PriorityQueue::Pop called from two threads at once";
  popping_ = true;
  while (true) {
    if (closed_) break;
    MonoTime now = clock_.Monotonic();
    RunDueFlushesLocked(now);
    if (!active_q_.empty()) {
      popping_ = false;
      return PopLocked();
    }
    MonoTime deadline = now + kIdleWait;
    if (unschedulable_.size() > gated_count_) deadline = std::min(deadline, next_leftover_flush_);
    if (!backoff_q_.empty()) deadline = std::min(deadline, BackoffExpiry(*backoff_q_.Peek()));
    lock.unlock();
    clock_.WaitUntil(pop_wakeup_, deadline);
    lock.lock();
  }
  popping_ = false;
  return nullptr;
}

QueuedPodInfoPtr PriorityQueue::TryPop() {
  std::lock_guard lock(mu_);
  if (closed_) return nullptr;
  RunDueFlushesLocked(clock_.Monotonic());
  if (active_q_.empty()) return nullptr;
  return PopLocked();
}

int64_t PriorityQueue::SchedulingCycle() const {
  std::lock_guard lock(mu_);
  return scheduling_cycle_;
}

Status PriorityQueue::AddUnschedulableIfNotPresent(QueuedPodInfoPtr pod, int64_t scheduling_cycle) {
  CK_CHECK(pod != nullptr && pod->pod_info != nullptr) << "AddUnschedulableIfNotPresent without a pod";
  std::string key = PodKey(pod->pod());
  std::lock_guard lock(mu_);
  InFlightState seen;
  if (auto it = in_flight_.find(key); it != in_flight_.end()) {
    seen = std::move(it->second);
    in_flight_.erase(it);
  }
  if (seen.gone) {
    nominator_.Delete(pod->pod());
    AfterChangeLocked();
    return Status::Ok();
  }
  if (active_q_.Contains(key)) return AlreadyExists("pod " + key + " is already present in the active queue");
  if (backoff_q_.Contains(key))
    return AlreadyExists("pod " + key + " is already present in the backoff queue");
  if (unschedulable_.contains(key)) {
    return AlreadyExists("pod " + key + " is already present in the unschedulable queue");
  }
  // Retry with the newest version the informer delivered while the pod was being scheduled.
  if (seen.latest != nullptr) pod->pod_info = MakePodInfo(seen.latest);
  pod->timestamp = clock_.Monotonic();
  PodInfoPtr info = pod->pod_info;
  bool rejected_by_none = pod->unschedulable_plugins.empty() && pod->pending_plugins.empty();
  // Upstream's moveRequestCycle rule: an event that arrived during or after this pod's cycle may
  // have made it schedulable, and an error (no rejecting plugin) is worth a plain retry.
  if (move_request_cycle_ >= scheduling_cycle || rejected_by_none || seen.updated) {
    AddToBackoffQLocked(std::move(pod), kEventScheduleAttemptFailure);
  } else {
    ParkLocked(std::move(pod), /*gated=*/false, kEventScheduleAttemptFailure);
  }
  nominator_.Add(info, nullptr);
  AfterChangeLocked();
  return Status::Ok();
}

void PriorityQueue::Done(const std::string& uid) {
  std::lock_guard lock(mu_);
  in_flight_.erase(uid);
}

void PriorityQueue::Close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  pop_wakeup_.Notify();
}

// ---- clock-driven moves ----

void PriorityQueue::FlushBackoffQCompleted() {
  std::lock_guard lock(mu_);
  FlushBackoffQCompletedLocked(clock_.Monotonic());
  AfterChangeLocked();
}

void PriorityQueue::FlushBackoffQCompletedLocked(MonoTime now) {
  while (!backoff_q_.empty() && !IsBackingOff(*backoff_q_.Peek(), now)) {
    AddToActiveQLocked(backoff_q_.Pop(), kEventBackoffComplete);
  }
}

void PriorityQueue::FlushUnschedulablePodsLeftover() {
  std::lock_guard lock(mu_);
  FlushUnschedulablePodsLeftoverLocked(clock_.Monotonic());
  AfterChangeLocked();
}

void PriorityQueue::FlushUnschedulablePodsLeftoverLocked(MonoTime now) {
  std::vector<std::string> keys;
  for (const auto& [key, parked] : unschedulable_) {
    if (!parked.gated && now - parked.pod->timestamp > options_.pod_max_in_unschedulable_pods)
      keys.push_back(key);
  }
  if (!keys.empty()) MovePodsLocked(keys, UnschedulableTimeoutEvent());
}

// ---- PodNominator ----

std::vector<PodInfoPtr> PriorityQueue::NominatedPodsForNode(const std::string& node) const {
  // Filter asks for every node of every cycle; most of the time nobody is nominated.
  if (nominated_count_.load(std::memory_order_relaxed) == 0) return {};
  std::lock_guard lock(mu_);
  return nominator_.PodsForNode(node);
}

void PriorityQueue::AddNominatedPod(const PodInfoPtr& pod, const std::string& node) {
  std::string key = PodKey(*pod->pod);
  std::lock_guard lock(mu_);
  auto it = in_flight_.find(key);
  bool pending = it != in_flight_.end() ? !it->second.gone : KnownLocked(key);
  if (!pending) return;
  nominator_.Add(pod, &node);
  AfterChangeLocked();
}

void PriorityQueue::DeleteNominatedPodIfExists(const corev1::Pod& pod) {
  std::lock_guard lock(mu_);
  nominator_.Delete(pod);
  AfterChangeLocked();
}

// ---- debugging ----

std::vector<PendingPod> PriorityQueue::PendingPods() const {
  std::lock_guard lock(mu_);
  std::vector<PendingPod> out;
  out.reserve(active_q_.size() + backoff_q_.size() + unschedulable_.size());
  auto add = [&](const QueuedPodInfo& q, std::string_view queue) {
    out.push_back(PendingPod{q.pod_info->pod, std::string(queue), q.attempts, q.timestamp, BackoffExpiry(q),
                             q.unschedulable_plugins});
  };
  active_q_.ForEach([&](const std::string&, const QueuedPodInfoPtr& q) { add(*q, kActiveQ); });
  backoff_q_.ForEach([&](const std::string&, const QueuedPodInfoPtr& q) { add(*q, kBackoffQ); });
  for (const auto& [key, parked] : unschedulable_) add(*parked.pod, parked.gated ? kGated : kUnschedulable);
  return out;
}

QueueSizes PriorityQueue::Sizes() const {
  std::lock_guard lock(mu_);
  return QueueSizes{active_q_.size(), backoff_q_.size(), unschedulable_.size() - gated_count_, gated_count_,
                    in_flight_.size()};
}

bool PriorityQueue::InFlight(const std::string& uid) const {
  std::lock_guard lock(mu_);
  return in_flight_.contains(uid);
}

}  // namespace ck::scheduler::queue
