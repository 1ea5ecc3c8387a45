// Scheduler (scheduler.h): informer handlers, the scheduling cycle and the binding cycle.
#include "scheduler/core/scheduler.h"

#include <algorithm>

#include "common/api/api_resources.h"
#include "common/api/pod.h"
#include "common/api/resources.h"
#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/policy_v1.pb.h"
#include "common/api/time_format.h"
#include "common/base/log.h"
#include "common/base/strings.h"
#include "common/base/thread.h"

namespace ck::scheduler {

namespace {

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// FailedScheduling messages are cut like upstream's truncateMessage (events cap at 1024 bytes).
std::string Truncate(const std::string& msg) {
  constexpr size_t kMax = 1024;
  if (msg.size() <= kMax) return msg;
  return msg.substr(0, kMax - 4) + " ...";
}

const api::ResourceInfo& ResourceFor(const std::string& proto) { return client::SharedInformerFactory::ResourceOfMessage(proto); }

bool Assigned(const corev1::Pod& pod) { return !pod.spec().nodename().empty(); }

template <typename A, typename B>
bool SameMap(const A& a, const B& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end() || !(it->second == v)) return false;
  }
  return true;
}

bool SameTaints(const corev1::NodeSpec& a, const corev1::NodeSpec& b) {
  if (a.taints_size() != b.taints_size()) return false;
  for (int i = 0; i < a.taints_size(); ++i) {
    const auto& x = a.taints(i);
    const auto& y = b.taints(i);
    if (x.key() != y.key() || x.value() != y.value() || x.effect() != y.effect()) return false;
  }
  return true;
}

bool SameConditions(const corev1::NodeStatus& a, const corev1::NodeStatus& b) {
  if (a.conditions_size() != b.conditions_size()) return false;
  for (int i = 0; i < a.conditions_size(); ++i) {
    if (a.conditions(i).type() != b.conditions(i).type() || a.conditions(i).status() != b.conditions(i).status()) {
      return false;
    }
  }
  return true;
}

bool SameQuantities(const google::protobuf::Map<std::string, ::k8s::io::apimachinery::pkg::api::resource::Quantity>& a,
                    const google::protobuf::Map<std::string, ::k8s::io::apimachinery::pkg::api::resource::Quantity>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end() || it->second.string() != v.string()) return false;
  }
  return true;
}

// An in-place resize lowered the pod's cpu, memory or ephemeral-storage requests (upstream
// isPodResourcesResizedDown). Most updates (status from the kubelet) leave the containers alone,
// so the requests are summed only when a container's resources changed.
bool RequestsWentDown(const corev1::Pod& old_pod, const corev1::Pod& new_pod) {
  const auto& a = old_pod.spec().containers();
  const auto& b = new_pod.spec().containers();
  bool changed = a.size() != b.size();
  for (int i = 0; !changed && i < a.size(); ++i) {
    changed = a[i].resources().SerializeAsString() != b[i].resources().SerializeAsString();
  }
  if (!changed) return false;
  auto before = api::PodRequests(old_pod);
  auto after = api::PodRequests(new_pod);
  if (!before.ok() || !after.ok()) return false;
  for (const char* name : {"cpu", "memory", "ephemeral-storage"}) {
    auto x = before->find(name);
    auto y = after->find(name);
    api::Quantity was = x == before->end() ? api::Quantity() : x->second;
    api::Quantity now = y == after->end() ? api::Quantity() : y->second;
    if (now < was) return true;
  }
  return false;
}

}  // namespace

// The frameworks are built before the queue; they reach its nominator through this.
class Scheduler::NominatorProxy final : public PodNominator {
 public:
  std::vector<PodInfoPtr> NominatedPodsForNode(const std::string& node) const override {
    return target ? target->NominatedPodsForNode(node) : std::vector<PodInfoPtr>{};
  }
  void AddNominatedPod(const PodInfoPtr& pod, const std::string& node) override {
    if (target) target->AddNominatedPod(pod, node);
  }
  void DeleteNominatedPodIfExists(const corev1::Pod& pod) override {
    if (target) target->DeleteNominatedPodIfExists(pod);
  }
  PodNominator* target = nullptr;
};

// What the binding cycle needs of a scheduling cycle.
struct Scheduler::Binding {
  Framework* fwk = nullptr;
  std::unique_ptr<CycleState> state;
  std::unique_ptr<QueuedPodInfo> qpi;
  int64_t cycle = 0;
  PodInfoPtr assumed;
  std::string node;
  MonoTime start{};
};

Scheduler::Scheduler(SchedulerDeps deps, SchedulerOptions options, std::optional<int32_t> percentage)
    : deps_(deps),
      options_(options),
      nominator_(std::make_unique<NominatorProxy>()),
      algorithm_(*deps.random, percentage),
      explain_(options.explain_capacity) {}

Scheduler::~Scheduler() { Stop(); }

Result<std::unique_ptr<Scheduler>> Scheduler::Create(const Registry& registry, const SchedulerConfig& config,
                                                     const daemon::Profile& profile, SchedulerDeps deps,
                                                     SchedulerOptions options) {
  CK_CHECK(deps.api != nullptr && deps.informers != nullptr && deps.clock != nullptr && deps.random != nullptr &&
           deps.metrics != nullptr);
  options.binding_threads = std::max(1, options.binding_threads);
  std::unique_ptr<Scheduler> s(new Scheduler(deps, options, config.percentage_of_nodes_to_score));
  s->parallelizer_ = std::make_unique<Parallelizer>(std::max(1, config.parallelism), "sched-worker");

  // Listers: the informers exist now; the factory starts them later.
  auto& f = *deps.informers;
  client::InformerSpec pods_spec;
  pods_spec.field_selector = "status.phase!=Succeeded,status.phase!=Failed";
  s->pods_ = &f.InformerFor(ResourceFor("k8s.io.api.core.v1.Pod"), pods_spec).GetIndexer();
  s->listers_.pods = s->pods_;
  s->listers_.namespaces = &f.InformerFor(ResourceFor("k8s.io.api.core.v1.Namespace")).GetIndexer();
  s->listers_.pod_disruption_budgets = &f.InformerFor(ResourceFor("k8s.io.api.policy.v1.PodDisruptionBudget")).GetIndexer();
  s->listers_.services = &f.InformerFor(ResourceFor("k8s.io.api.core.v1.Service")).GetIndexer();
  // ReplicationControllers are not served by ck-apiserver; the lister stays null.
  s->listers_.replica_sets = &f.InformerFor(ResourceFor("k8s.io.api.apps.v1.ReplicaSet")).GetIndexer();
  s->listers_.stateful_sets = &f.InformerFor(ResourceFor("k8s.io.api.apps.v1.StatefulSet")).GetIndexer();

  for (const ProfileConfig& p : config.profiles) {
    FrameworkDeps fd;
    fd.clock = deps.clock;
    fd.random = deps.random;
    fd.parallelizer = s->parallelizer_.get();
    fd.api = deps.api;
    fd.events = deps.events;
    fd.nominator = s->nominator_.get();
    fd.listers = s->listers_;
    fd.metrics = deps.metrics;
    CK_ASSIGN_OR_RETURN(auto fwk, Framework::Create(registry, p, fd));
    s->frameworks_[p.scheduler_name] = std::move(fwk);
  }
  if (s->frameworks_.empty()) return Status(Code::kInvalid, "no scheduling profile is configured");
  // Upstream requires every profile to sort the queue the same way.
  std::string sort;
  for (const auto& [name, fwk] : s->frameworks_) {
    std::string this_sort = fwk->ListPlugins()["queueSort"].at(0);
    if (!sort.empty() && sort != this_sort) {
      return Status(Code::kInvalid, "different queue sort plugins for profile \"" + name + "\": " + this_sort + " vs " + sort);
    }
    sort = this_sort;
  }

  queue::QueueOptions q;
  q.pod_initial_backoff = config.pod_initial_backoff_seconds
                              ? std::chrono::duration_cast<Duration>(std::chrono::duration<double>(*config.pod_initial_backoff_seconds))
                              : std::chrono::duration_cast<Duration>(profile.scheduler_backoff_initial);
  q.pod_max_backoff = config.pod_max_backoff_seconds
                          ? std::chrono::duration_cast<Duration>(std::chrono::duration<double>(*config.pod_max_backoff_seconds))
                          : std::chrono::duration_cast<Duration>(profile.scheduler_backoff_max);
  Framework* first = s->frameworks_.begin()->second.get();
  q.less = [first](const QueuedPodInfo& a, const QueuedPodInfo& b) { return first->QueueSortLess(a, b); };
  for (const auto& [name, fwk] : s->frameworks_) {
    for (auto& [plugin, events] : fwk->EventsToRegister()) {
      auto& dst = q.plugin_events[plugin];
      dst.insert(dst.end(), events.begin(), events.end());
    }
  }
  const client::Indexer* namespaces = s->listers_.namespaces;
  q.namespace_labels = [namespaces](const std::string& ns) -> std::optional<std::map<std::string, std::string>> {
    auto obj = namespaces->Get(ns);
    if (!obj) return std::nullopt;
    const auto* n = static_cast<const corev1::Namespace*>(obj.get());
    return std::map<std::string, std::string>(n->metadata().labels().begin(), n->metadata().labels().end());
  };
  q.metrics = deps.metrics;
  s->queue_ = std::make_unique<queue::PriorityQueue>(*deps.clock, std::move(q));
  s->nominator_->target = s->queue_.get();
  CacheOptions co;
  co.assumed_pod_ttl = options.assumed_pod_ttl;
  s->cache_ = std::make_unique<Cache>(*deps.clock, co);

  auto& m = *deps.metrics;
  s->attempts_ = &m.CounterFamily("scheduler_schedule_attempts_total",
                                  "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could "
                                  "not be scheduled, while 'error' means an internal scheduler problem.",
                                  {"result", "profile"});
  s->attempt_duration_ = &m.HistogramFamily("scheduler_scheduling_attempt_duration_seconds",
                                            "Scheduling attempt latency in seconds (scheduling algorithm + binding)",
                                            {"result", "profile"}, metrics::ExponentialBuckets(0.001, 2, 15));
  s->sli_duration_ = &m.HistogramFamily(
      "scheduler_pod_scheduling_sli_duration_seconds",
      "E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue and might involve "
      "multiple scheduling attempts.",
      {"attempts"}, metrics::ExponentialBuckets(0.01, 2, 20));
  s->pod_attempts_ = &m.HistogramFamily("scheduler_pod_scheduling_attempts",
                                        "Number of attempts to successfully schedule a pod.", {},
                                        metrics::ExponentialBuckets(1, 2, 5))
                          .Get();
  s->preemption_attempts_ = &m.CounterFamily("scheduler_preemption_attempts_total",
                                             "Total preemption attempts in the cluster till now");
  return s;
}

Framework* Scheduler::FrameworkFor(const std::string& scheduler_name) const {
  auto it = frameworks_.find(scheduler_name.empty() ? "default-scheduler" : scheduler_name);
  return it == frameworks_.end() ? nullptr : it->second.get();
}

bool Scheduler::Responsible(const corev1::Pod& pod) const { return FrameworkFor(pod.spec().schedulername()) != nullptr; }

PodPtr Scheduler::CurrentPod(const corev1::Pod& pod) const {
  auto obj = pods_->Get(pod.metadata().namespace_(), pod.metadata().name());
  if (!obj) return nullptr;
  auto p = std::static_pointer_cast<const corev1::Pod>(obj);
  if (p->metadata().uid() != pod.metadata().uid()) return nullptr;
  return p;
}

// ---- informer handlers (upstream eventhandlers.go) ----

void Scheduler::AddEventHandlers() {
  auto& f = *deps_.informers;
  client::InformerSpec pods_spec;
  pods_spec.field_selector = "status.phase!=Succeeded,status.phase!=Failed";
  auto pods = client::TypedInformer<corev1::Pod>(f.InformerFor(ResourceFor("k8s.io.api.core.v1.Pod"), pods_spec));
  pods.AddEventHandler({
      .on_add = [this](const PodPtr& p, bool) { OnPodAdd(p); },
      .on_update = [this](const PodPtr& o, const PodPtr& n) { OnPodUpdate(o, n); },
      .on_delete = [this](const PodPtr& p, bool) { OnPodDelete(p); },
  });
  auto nodes = f.ForKind<corev1::Node>();
  nodes.AddEventHandler({
      .on_add = [this](const NodePtr& n, bool) { OnNodeAdd(n); },
      .on_update = [this](const NodePtr& o, const NodePtr& n) { OnNodeUpdate(o, n); },
      .on_delete = [this](const NodePtr& n, bool) { OnNodeDelete(n); },
  });
  auto namespaces = f.ForKind<corev1::Namespace>();
  namespaces.AddEventHandler({
      .on_add = [this](const std::shared_ptr<const corev1::Namespace>&, bool initial) {
        if (!initial) queue_->MoveAllToActiveOrBackoffQueue({EventResource::kNamespace, kActionAdd, "NamespaceAdd"});
      },
      .on_update =
          [this](const std::shared_ptr<const corev1::Namespace>& o, const std::shared_ptr<const corev1::Namespace>& n) {
            if (!SameMap(o->metadata().labels(), n->metadata().labels())) {
              queue_->MoveAllToActiveOrBackoffQueue({EventResource::kNamespace, kActionUpdate, "NamespaceUpdate"});
            }
          },
  });
  // The lister-only informers need no handlers; asking for them keeps them in the factory.
  (void)f.ForKind<::k8s::io::api::policy::v1::PodDisruptionBudget>();
}

void Scheduler::OnPodAdd(const PodPtr& pod) {
  if (Assigned(*pod)) {
    Status s = cache_->AddPod(pod);
    if (!s.ok() && s.code() != Code::kAlreadyExists) CK_LOG_ERROR("Scheduler cache AddPod failed", "pod", pod->metadata().name(), "err", s.message());
    queue_->AssignedPodAdded(*pod);
    return;
  }
  if (Responsible(*pod) && !pod->metadata().has_deletiontimestamp()) queue_->Add(pod);
}

void Scheduler::OnPodUpdate(const PodPtr& old_pod, const PodPtr& new_pod) {
  const bool was_assigned = Assigned(*old_pod);
  const bool is_assigned = Assigned(*new_pod);
  if (api::IsPodTerminal(*new_pod)) {
    OnPodDelete(new_pod);
    return;
  }
  if (!was_assigned && is_assigned) {
    // Bound (by us or someone else): leaves the queue, enters the cache (confirming an assumption).
    queue_->Delete(*old_pod);
    OnPodAdd(new_pod);
    return;
  }
  if (is_assigned) {
    Status s = cache_->UpdatePod(new_pod);
    if (s.code() == Code::kNotFound) s = cache_->AddPod(new_pod);
    if (!s.ok() && s.code() != Code::kConflict) CK_LOG_ERROR("Scheduler cache UpdatePod failed", "pod", new_pod->metadata().name(), "err", s.message());
    uint32_t actions = 0;
    if (!SameMap(old_pod->metadata().labels(), new_pod->metadata().labels())) actions |= kActionUpdatePodLabel;
    if (RequestsWentDown(*old_pod, *new_pod)) actions |= kActionUpdatePodScaleDown;
    if (actions == 0) actions = kActionUpdateOther;
    queue_->AssignedPodUpdated(*old_pod, *new_pod, ClusterEvent{EventResource::kAssignedPod, actions, "AssignedPodUpdate"});
    return;
  }
  if (!Responsible(*new_pod)) return;
  queue_->Update(old_pod, new_pod);
}

void Scheduler::OnPodDelete(const PodPtr& pod) {
  if (Assigned(*pod)) {
    Status s = cache_->RemovePod(*pod);
    if (!s.ok() && s.code() != Code::kNotFound) CK_LOG_ERROR("Scheduler cache RemovePod failed", "pod", pod->metadata().name(), "err", s.message());
    queue_->MoveAllToActiveOrBackoffQueue({EventResource::kAssignedPod, kActionDelete, "AssignedPodDelete"});
    return;
  }
  queue_->Delete(*pod);
  for (const auto& [name, fwk] : frameworks_) fwk->RejectWaitingPod(pod->metadata().uid(), "", "pod deleted");
}

void Scheduler::OnNodeAdd(const NodePtr& node) {
  cache_->AddNode(node);
  queue_->MoveAllToActiveOrBackoffQueue({EventResource::kNode, kActionAdd, "NodeAdd"});
}

void Scheduler::OnNodeUpdate(const NodePtr& old_node, const NodePtr& new_node) {
  cache_->UpdateNode(new_node);
  // Upstream nodeSchedulingPropertiesChange: only changes that can make a pod fit move pods.
  uint32_t actions = 0;
  if (old_node->spec().unschedulable() && !new_node->spec().unschedulable()) actions |= kActionUpdateNodeTaint;
  if (!SameQuantities(old_node->status().allocatable(), new_node->status().allocatable())) actions |= kActionUpdateNodeAllocatable;
  if (!SameMap(old_node->metadata().labels(), new_node->metadata().labels())) actions |= kActionUpdateNodeLabel;
  if (!SameTaints(old_node->spec(), new_node->spec())) actions |= kActionUpdateNodeTaint;
  if (!SameConditions(old_node->status(), new_node->status())) actions |= kActionUpdateNodeCondition;
  if (actions != 0) queue_->MoveAllToActiveOrBackoffQueue({EventResource::kNode, actions, "NodeUpdate"});
}

void Scheduler::OnNodeDelete(const NodePtr& node) {
  Status s = cache_->RemoveNode(node->metadata().name());
  if (!s.ok()) CK_LOG_ERROR("Scheduler cache RemoveNode failed", "node", node->metadata().name(), "err", s.message());
}

// ---- running ----

void Scheduler::Run() {
  for (int i = 0; i < options_.binding_threads; ++i) {
    binders_.emplace_back([this, i] {
      SetCurrentThreadName("sched-bind-" + std::to_string(i));
      BindingLoop();
    });
  }
  timer_ = std::thread([this] {
    SetCurrentThreadName("sched-timer");
    while (!stopping_) {
      deps_.clock->WaitUntil(timer_wakeup_, deps_.clock->Monotonic() + kCleanupAssumedPodsPeriod);
      if (stopping_) break;
      cache_->CleanupExpiredAssumedPods(deps_.clock->Monotonic());
    }
  });
  loop_ = std::thread([this] {
    SetCurrentThreadName("sched-loop");
    RunLoop();
  });
}

void Scheduler::RunLoop() {
  while (!stopping_ && ScheduleOne()) {
  }
}

void Scheduler::Stop() {
  if (stopping_.exchange(true)) return;
  if (queue_) queue_->Close();
  if (loop_.joinable()) loop_.join();
  timer_wakeup_.Notify();
  if (timer_.joinable()) timer_.join();
  {
    std::lock_guard lock(bind_mu_);
    bind_closed_ = true;
  }
  bind_cv_.notify_all();
  for (auto& t : binders_) t.join();
  binders_.clear();
}

void Scheduler::Submit(std::function<void()> task) {
  {
    std::lock_guard lock(bind_mu_);
    bind_tasks_.push_back(std::move(task));
  }
  bind_cv_.notify_one();
}

void Scheduler::BindingLoop() {
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock lock(bind_mu_);
      bind_cv_.wait(lock, [&] { return bind_closed_ || !bind_tasks_.empty(); });
      if (bind_tasks_.empty()) return;  // closed and drained
      task = std::move(bind_tasks_.front());
      bind_tasks_.pop_front();
    }
    task();
  }
}

void Scheduler::RecordAttempt(const std::string& result, const std::string& profile, MonoTime start) {
  attempts_->With({result, profile}).Inc();
  attempt_duration_->With({result, profile}).Observe(Seconds(deps_.clock->Monotonic() - start));
}

// ---- the scheduling cycle ----

bool Scheduler::ScheduleOne() {
  std::unique_ptr<QueuedPodInfo> qpi = queue_->Pop();
  if (!qpi) return false;
  const int64_t cycle = queue_->SchedulingCycle();
  const PodInfoPtr pod_info = qpi->pod_info;
  const corev1::Pod& pod = *pod_info->pod;
  Framework* fwk = FrameworkFor(pod.spec().schedulername());
  if (fwk == nullptr) {
    CK_LOG_ERROR("Error occurred: no profile for the pod's schedulerName", "pod", pod_info->Key(), "schedulerName", pod.spec().schedulername());
    queue_->Done(pod_info->uid());
    return true;
  }
  // Upstream skipPodSchedule: a pod being deleted, or one already assumed (an update raced).
  if (pod.metadata().has_deletiontimestamp() || cache_->IsAssumedPod(pod)) {
    queue_->Done(pod_info->uid());
    return true;
  }
  const MonoTime start = deps_.clock->Monotonic();
  CK_VLOG(3, "Attempting to schedule pod", "pod", pod_info->Key());
  if (!pod_info->parse_error.empty()) {
    HandleFailure(*fwk, std::move(qpi), cycle, true, pod_info->parse_error, nullptr, "", start);
    return true;
  }
  Status synced = cache_->UpdateSnapshot(&snapshot_);
  if (!synced.ok()) CK_LOG_ERROR("Error updating the scheduler's snapshot", "err", synced.message());
  fwk->SetSnapshot(&snapshot_);

  auto state = std::make_unique<CycleState>();
  ExplainRecord rec;
  rec.pod = pod_info->Key();
  rec.uid = pod_info->uid();
  rec.profile = fwk->profile_name();
  rec.time = deps_.clock->Now();
  rec.attempt = qpi->attempts;
  ScheduleOutcome outcome = algorithm_.Schedule(*fwk, *state, *pod_info, snapshot_, &rec);

  if (outcome.kind == ScheduleOutcome::Kind::kError) {
    rec.result = "Error";
    rec.message = outcome.error.message();
    explain_.Put(std::move(rec));
    HandleFailure(*fwk, std::move(qpi), cycle, true, outcome.error.message(), nullptr, "", start);
    return true;
  }
  if (outcome.kind == ScheduleOutcome::Kind::kUnschedulable) {
    std::string nominated;
    if (fwk->HasPostFilterPlugins()) {
      PostFilterResult pf;
      preemption_attempts_->Get().Inc();
      Verdict pv = fwk->RunPostFilterPlugins(*state, *pod_info, outcome.diagnosis.node_to_verdict, &pf);
      if (pv.IsSuccess()) {
        nominated = pf.nominated_node_name;
      } else {
        outcome.diagnosis.post_filter_message = pv.Message();
        if (pv.IsError()) CK_LOG_ERROR("Status after running PostFilter plugins for pod", "pod", pod_info->Key(), "err", pv.Message());
      }
    }
    std::string msg = FitErrorMessage(outcome.num_all_nodes, outcome.diagnosis);
    rec.result = "Unschedulable";
    rec.message = msg;
    rec.nominated_node = nominated;
    explain_.Put(std::move(rec));
    HandleFailure(*fwk, std::move(qpi), cycle, false, msg, &outcome.diagnosis, nominated, start);
    return true;
  }

  // Assume: the cache sees the pod on its node from now on, before the API confirms.
  auto assumed_pod = std::make_shared<corev1::Pod>(pod);
  assumed_pod->mutable_spec()->set_nodename(outcome.node);
  auto assumed_info = std::make_shared<PodInfo>(*pod_info);
  assumed_info->pod = assumed_pod;
  PodInfoPtr assumed = assumed_info;
  rec.result = "Scheduled";
  rec.node = outcome.node;
  explain_.Put(std::move(rec));
  Status as = cache_->AssumePod(assumed);
  if (!as.ok()) {
    HandleFailure(*fwk, std::move(qpi), cycle, true, "assuming pod: " + as.message(), nullptr, "", start);
    return true;
  }
  queue_->DeleteNominatedPodIfExists(pod);
  Verdict rv = fwk->RunReservePluginsReserve(*state, *assumed, outcome.node);
  if (!rv.IsSuccess()) {
    fwk->RunReservePluginsUnreserve(*state, *assumed, outcome.node);
    (void)cache_->ForgetPod(*assumed_pod);
    HandleFailure(*fwk, std::move(qpi), cycle, rv.IsError(), rv.Message(), nullptr, "", start);
    return true;
  }
  Verdict pv = fwk->RunPermitPlugins(*state, *assumed, outcome.node);
  if (!pv.IsSuccess() && !pv.IsWait()) {
    fwk->RunReservePluginsUnreserve(*state, *assumed, outcome.node);
    (void)cache_->ForgetPod(*assumed_pod);
    HandleFailure(*fwk, std::move(qpi), cycle, pv.IsError(), pv.Message(), nullptr, "", start);
    return true;
  }
  auto b = std::make_shared<Binding>();
  b->fwk = fwk;
  b->state = std::move(state);
  b->qpi = std::move(qpi);
  b->cycle = cycle;
  b->assumed = std::move(assumed);
  b->node = outcome.node;
  b->start = start;
  Submit([this, b] { BindingCycle(b); });
  return true;
}

void Scheduler::BindingCycle(std::shared_ptr<Binding> b) {
  Framework& fwk = *b->fwk;
  const PodInfo& info = *b->assumed;
  Verdict v = fwk.WaitOnPermit(info);
  if (v.IsSuccess()) v = fwk.RunPreBindPlugins(*b->state, info, b->node);
  if (v.IsSuccess()) v = fwk.RunBindPlugins(*b->state, info, b->node);
  if (!v.IsSuccess()) {
    // Upstream handleBindingCycleError: undo the reservation and the assumption, then tell the
    // queue that room was freed, and treat the pod as failed.
    fwk.RunReservePluginsUnreserve(*b->state, info, b->node);
    (void)cache_->ForgetPod(*info.pod);
    queue_->MoveAllToActiveOrBackoffQueue({EventResource::kAssignedPod, kActionDelete, "AssignedPodDelete"});
    std::string msg = v.IsSkip() ? "no bind plugin bound the pod" : v.Message();
    HandleFailure(fwk, std::move(b->qpi), b->cycle, !v.IsRejected(), msg, nullptr, "", b->start);
    return;
  }
  cache_->FinishBinding(*info.pod);
  RecordAttempt("scheduled", fwk.profile_name(), b->start);
  pod_attempts_->Observe(b->qpi->attempts);
  if (b->qpi->has_initial_attempt) {
    sli_duration_->With({std::to_string(b->qpi->attempts)})
        .Observe(Seconds(deps_.clock->Monotonic() - b->qpi->initial_attempt_timestamp));
  }
  if (deps_.events != nullptr) {
    deps_.events->Event(*info.pod, client::kEventNormal, "Scheduled",
                        "Successfully assigned " + info.ns() + "/" + info.name() + " to " + b->node);
  }
  CK_VLOG(2, "Successfully bound pod to node", "pod", info.Key(), "node", b->node);
  fwk.RunPostBindPlugins(*b->state, info, b->node);
  queue_->Done(info.uid());
}

void Scheduler::HandleFailure(Framework& fwk, std::unique_ptr<QueuedPodInfo> qpi, int64_t cycle, bool is_error,
                              const std::string& message, const Diagnosis* diagnosis, const std::string& nominated_node,
                              MonoTime start) {
  const corev1::Pod& pod = qpi->pod();
  const std::string reason = is_error ? "SchedulerError" : "Unschedulable";
  if (is_error) {
    CK_LOG_ERROR("Error scheduling pod; retrying", "pod", qpi->pod_info->Key(), "err", message);
  } else {
    CK_VLOG(2, "Unable to schedule pod; waiting", "pod", qpi->pod_info->Key(), "err", message);
  }
  RecordAttempt(is_error ? "error" : "unschedulable", fwk.profile_name(), start);
  if (diagnosis != nullptr) {
    qpi->unschedulable_plugins = diagnosis->unschedulable_plugins;
    qpi->pending_plugins = diagnosis->pending_plugins;
  }
  // Back to the queue with the informer's latest version, unless it is gone or was bound.
  PodPtr current = CurrentPod(pod);
  PodPtr for_status = current;
  if (current == nullptr) {
    CK_VLOG(3, "Pod doesn't exist in informer cache", "pod", qpi->pod_info->Key());
    queue_->Done(qpi->pod_info->uid());
  } else if (Assigned(*current)) {
    CK_VLOG(3, "Pod has been assigned to node. Abort adding it back to queue.", "pod", qpi->pod_info->Key());
    queue_->Done(qpi->pod_info->uid());
    for_status = nullptr;
  } else {
    if (current != qpi->pod_info->pod) {
      auto fresh = PodInfo::Create(current);
      if (fresh.ok()) qpi->pod_info = std::move(*fresh);
    }
    PodInfoPtr info = qpi->pod_info;
    Status s = queue_->AddUnschedulableIfNotPresent(std::move(qpi), cycle);
    if (!s.ok()) CK_LOG_ERROR("Error occurred adding the pod back to the queue", "err", s.message());
    // After the requeue, which resets the nomination from status.nominatedNodeName.
    if (!nominated_node.empty()) queue_->AddNominatedPod(info, nominated_node);
  }
  if (deps_.events != nullptr) deps_.events->Event(pod, client::kEventWarning, "FailedScheduling", Truncate(message));
  if (for_status != nullptr) {
    Submit([this, p = std::move(for_status), reason, message, nominated_node] {
      PatchPodStatus(p, reason, message, nominated_node);
    });
  }
}

void Scheduler::PatchPodStatus(PodPtr pod, std::string reason, std::string message, std::string nominated_node) {
  // Upstream updatePod: skip when the condition and the nomination would not change.
  bool same = nominated_node.empty() || nominated_node == pod->status().nominatednodename();
  if (same) {
    same = false;
    for (const auto& c : pod->status().conditions()) {
      if (c.type() == "PodScheduled") same = c.status() == "False" && c.reason() == reason && c.message() == message;
    }
  }
  if (same) return;
  std::string now = api::FormatRfc3339(api::ToTimestamp(deps_.clock->Now()));
  std::string body = "{\"status\":{\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"False\",\"reason\":" +
                     JsonString(reason) + ",\"message\":" + JsonString(message) +
                     ",\"lastProbeTime\":null,\"lastTransitionTime\":" + JsonString(now) + "}]";
  if (!nominated_node.empty()) body += ",\"nominatedNodeName\":" + JsonString(nominated_node);
  body += "}}";
  auto r = deps_.api->Patch(ResourceFor("k8s.io.api.core.v1.Pod"), pod->metadata().namespace_(), pod->metadata().name(),
                            client::PatchType::kStrategicMerge, body, "status");
  if (!r.ok() && r.status().code() != Code::kNotFound) {
    CK_LOG_ERROR("Error updating pod", "pod", pod->metadata().namespace_() + "/" + pod->metadata().name(), "err",
                 r.status().message());
  }
}

Result<std::string> Scheduler::Explain(const std::string& pod, bool text) const {
  auto rec = explain_.Get(pod);
  if (!rec) return Status(Code::kNotFound, "no scheduling decision is recorded for pod " + pod);
  return text ? ExplainText(*rec) : ExplainJson(*rec);
}

}  // namespace ck::scheduler
