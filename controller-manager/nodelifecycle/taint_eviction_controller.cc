#include "controller-manager/nodelifecycle/taint_eviction_controller.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>

#include "common/api/conditions.h"
#include "common/api/object.h"
#include "common/base/log.h"
#include "controller-manager/nodelifecycle/node_util.h"

namespace ck::controller_manager {

namespace {

const client::ResourceInfo& PodsResource() {
  return client::SharedInformerFactory::ResourceOfMessage(corev1::Pod::descriptor()->full_name());
}

bool SameNoExecuteTaints(const corev1::Node& a, const corev1::Node& b) {
  std::vector<corev1::Taint> x = NoExecuteTaints(a);
  std::vector<corev1::Taint> y = NoExecuteTaints(b);
  if (x.size() != y.size()) return false;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!google::protobuf::util::MessageDifferencer::Equals(x[i], y[i])) return false;
  }
  return true;
}

bool SameTolerations(const corev1::Pod& a, const corev1::Pod& b) {
  const auto& x = a.spec().tolerations();
  const auto& y = b.spec().tolerations();
  if (x.size() != y.size()) return false;
  for (int i = 0; i < x.size(); ++i) {
    if (!google::protobuf::util::MessageDifferencer::Equals(x.Get(i), y.Get(i))) return false;
  }
  return true;
}

// When the pod came to the node: the PodScheduled transition, else its creation.
WallTime BoundTime(const corev1::Pod& pod) {
  const corev1::PodCondition* scheduled = api::FindCondition(pod.status().conditions(), "PodScheduled");
  if (scheduled != nullptr && scheduled->status() == "True" && !api::IsZeroTime(scheduled->lasttransitiontime())) {
    return api::WallTimeOf(scheduled->lasttransitiontime());
  }
  return api::WallTimeOf(pod.metadata().creationtimestamp());
}

corev1::ObjectReference PodRef(const std::string& ns, const std::string& name) {
  corev1::ObjectReference ref;
  ref.set_apiversion("v1");
  ref.set_kind("Pod");
  ref.set_namespace_(ns);
  ref.set_name(name);
  return ref;
}

}  // namespace

TaintEvictionController::TaintEvictionController(ControllerContext& context, int workers)
    : ManagedController(client::ControllerOptions{.name = "taint_eviction_controller",
                                                  .workers = workers,
                                                  .clock = &context.clock,
                                                  .registry = &context.metrics}),
      api_(context.api),
      clock_(context.clock),
      recorder_(context.Recorder("taint-eviction-controller")),
      nodes_(context.informers.ForKind<corev1::Node>()),
      pods_(context.informers.ForKind<corev1::Pod>()) {
  EnsureNodeNameIndex(pods_.Informer());
  Handle(nodes_, client::TypedEventHandler<corev1::Node>{
                     .on_add = [this](const auto& node, bool) { Enqueue(NodeKey(node->metadata().name())); },
                     .on_update =
                         [this](const auto& old_node, const auto& node) {
                           if (!SameNoExecuteTaints(*old_node, *node)) Enqueue(NodeKey(node->metadata().name()));
                         },
                     .on_delete = [this](const auto& node, bool) { Enqueue(NodeKey(node->metadata().name())); },
                 });
  Handle(pods_, client::TypedEventHandler<corev1::Pod>{
                    .on_add =
                        [this](const auto& pod, bool) {
                          Enqueue(PodKey(pod->metadata().namespace_(), pod->metadata().name()));
                        },
                    .on_update =
                        [this](const auto& old_pod, const auto& pod) {
                          if (old_pod->spec().nodename() == pod->spec().nodename() && SameTolerations(*old_pod, *pod)) {
                            return;
                          }
                          Enqueue(PodKey(pod->metadata().namespace_(), pod->metadata().name()));
                        },
                    .on_delete =
                        [this](const auto& pod, bool) {
                          Enqueue(PodKey(pod->metadata().namespace_(), pod->metadata().name()));
                        },
                });
}

TaintEvictionController::~TaintEvictionController() {
  RemoveHandlers();
  Stop();
}

std::vector<client::SharedIndexInformer*> TaintEvictionController::Informers() const {
  return {&nodes_.Informer(), &pods_.Informer()};
}

std::optional<WallTime> TaintEvictionController::ScheduledEviction(const std::string& pod_key) const {
  std::lock_guard lock(mu_);
  auto it = scheduled_.find(pod_key);
  if (it == scheduled_.end()) return std::nullopt;
  return it->second.fire_at;
}

Status TaintEvictionController::Sync(const std::string& key) {
  if (key.starts_with("node:")) return SyncNode(key.substr(5));
  if (key.starts_with("pod:")) {
    CK_ASSIGN_OR_RETURN(auto ns_name, api::SplitObjectKey(std::string_view(key).substr(4)));
    return SyncPod(ns_name.first, ns_name.second);
  }
  CK_LOG_WARNING("Ignoring unknown key", "controller", name(), "key", key);
  return Status::Ok();
}

Status TaintEvictionController::SyncNode(const std::string& name) {
  Result<std::shared_ptr<const corev1::Node>> node = nodes_.Lister().Get(name);
  if (!node.ok() && node.status().code() != Code::kNotFound) return node.status();
  const corev1::Node* current = node.ok() ? node->get() : nullptr;
  auto pods = pods_.Lister().ByIndex(client::kNodeNameIndex, name);
  CK_RETURN_IF_ERROR(pods.status());
  Status first_error = Status::Ok();
  for (const auto& pod : *pods) {
    Status s = ProcessPod(*pod, current);
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  return first_error;
}

Status TaintEvictionController::SyncPod(const std::string& ns, const std::string& name) {
  Result<std::shared_ptr<const corev1::Pod>> pod = pods_.Lister().Get(ns, name);
  if (pod.status().code() == Code::kNotFound) {
    CK_VLOG(4, "Noticed pod deletion", "pod", api::ObjectKey(ns, name));
    Cancel(ns, name);
    std::lock_guard lock(mu_);
    scheduled_.erase(api::ObjectKey(ns, name));
    return Status::Ok();
  }
  CK_RETURN_IF_ERROR(pod.status());
  const std::string& node_name = (*pod)->spec().nodename();
  if (node_name.empty()) return Status::Ok();
  Result<std::shared_ptr<const corev1::Node>> node = nodes_.Lister().Get(node_name);
  if (!node.ok() && node.status().code() != Code::kNotFound) return node.status();
  return ProcessPod(**pod, node.ok() ? node->get() : nullptr);
}

Status TaintEvictionController::ProcessPod(const corev1::Pod& pod, const corev1::Node* node) {
  const std::string& ns = pod.metadata().namespace_();
  const std::string& name = pod.metadata().name();
  const std::string key = api::ObjectKey(ns, name);
  // Already on its way out (by us or anyone else): nothing to schedule.
  if (pod.metadata().has_deletiontimestamp()) {
    std::lock_guard lock(mu_);
    auto it = scheduled_.find(key);
    if (it != scheduled_.end()) it->second.fire_at.reset();
    return Status::Ok();
  }
  std::vector<corev1::Taint> taints;
  if (node != nullptr) taints = NoExecuteTaints(*node);
  if (taints.empty()) {
    Cancel(ns, name);
    return Status::Ok();
  }
  std::vector<const corev1::Toleration*> used;
  if (!MatchingTolerations(taints, pod.spec().tolerations(), &used)) {
    CK_VLOG(2, "Not all taints are tolerated after update for pod on node", "pod", key, "node", node->metadata().name());
    return Evict(pod);
  }
  // The shortest tolerationSeconds of the tolerations in use (none: tolerated forever).
  std::optional<int64_t> min_seconds;
  for (const corev1::Toleration* t : used) {
    if (!t->has_tolerationseconds()) continue;
    int64_t s = std::max<int64_t>(0, t->tolerationseconds());
    if (!min_seconds.has_value() || s < *min_seconds) min_seconds = s;
  }
  if (!min_seconds.has_value()) {
    CK_VLOG(4, "Current tolerations for pod tolerate forever, cancelling any scheduled deletion", "pod", key);
    Cancel(ns, name);
    return Status::Ok();
  }

  const WallTime now = clock_.Now();
  WallTime fire_at;
  {
    std::lock_guard lock(mu_);
    Scheduled& entry = scheduled_[key];
    if (entry.uid != pod.metadata().uid()) entry = Scheduled{.uid = pod.metadata().uid(), .first_seen = now};
    if (entry.evicted) return Status::Ok();
    // The pod came under the taints when the newest of them was added, or when it was bound
    // there if that was later.
    WallTime start = BoundTime(pod);
    for (const corev1::Taint& t : taints) {
      start = std::max(start, t.has_timeadded() ? api::WallTimeOf(t.timeadded()) : entry.first_seen);
    }
    if (!entry.start.has_value() || start < *entry.start) entry.start = start;
    fire_at = *entry.start + std::chrono::seconds(*min_seconds);
    if (now < fire_at) entry.fire_at = fire_at;
  }
  if (now >= fire_at) return Evict(pod);
  EnqueueAfter(PodKey(ns, name), fire_at - now);
  return Status::Ok();
}

Status TaintEvictionController::Evict(const corev1::Pod& pod) {
  const std::string& ns = pod.metadata().namespace_();
  const std::string& name = pod.metadata().name();
  const std::string key = api::ObjectKey(ns, name);
  {
    std::lock_guard lock(mu_);
    Scheduled& entry = scheduled_[key];
    if (entry.uid != pod.metadata().uid()) entry = Scheduled{.uid = pod.metadata().uid(), .first_seen = clock_.Now()};
    if (entry.evicted) return Status::Ok();
  }
  CK_LOG_INFO("Deleting pod", "controller", "taint-eviction-controller", "pod", key);
  recorder_.Event(PodRef(ns, name), client::kEventNormal, "TaintManagerEviction", "Marking for deletion Pod " + key);

  // The DisruptionTarget condition first, so that whoever sees the pod go knows why.
  Result<client::ObjectPtr> got = api_.Get(PodsResource(), ns, name);
  if (got.status().code() == Code::kNotFound) return Status::Ok();
  CK_RETURN_IF_ERROR(got.status());
  const auto& live = static_cast<const corev1::Pod&>(**got);
  if (live.metadata().uid() != pod.metadata().uid()) return Status::Ok();  // replaced: judged on its own
  const corev1::PodCondition* target = api::FindCondition(live.status().conditions(), "DisruptionTarget");
  const std::string kReason = "DeletionByTaintManager";
  const std::string kMessage = "Taint manager: deleting due to NoExecute taint";
  if (target == nullptr || target->status() != "True" || target->reason() != kReason || target->message() != kMessage) {
    std::string body = "{\"metadata\":{\"uid\":" + JsonQuote(live.metadata().uid()) +
                       "},\"status\":{\"conditions\":[{\"type\":\"DisruptionTarget\",\"status\":\"True\",\"reason\":" +
                       JsonQuote(kReason) + ",\"message\":" + JsonQuote(kMessage) + ",\"lastTransitionTime\":" +
                       JsonQuote(api::FormatRfc3339(api::ToTimestamp(clock_.Now()))) + "}]}}";
    Result<client::ObjectPtr> patched =
        api_.Patch(PodsResource(), ns, name, client::PatchType::kStrategicMerge, body, "status");
    if (patched.status().code() == Code::kNotFound) return Status::Ok();
    CK_RETURN_IF_ERROR(patched.status());
  }
  client::DeleteOptions options;
  options.precondition_uid = live.metadata().uid();
  Result<client::ObjectPtr> deleted = api_.Delete(PodsResource(), ns, name, options);
  if (!deleted.ok() && deleted.status().code() != Code::kNotFound && deleted.status().code() != Code::kConflict) {
    return deleted.status();
  }
  std::lock_guard lock(mu_);
  Scheduled& entry = scheduled_[key];
  entry.evicted = true;
  entry.fire_at.reset();
  return Status::Ok();
}

void TaintEvictionController::Cancel(const std::string& ns, const std::string& name) {
  bool pending = false;
  {
    std::lock_guard lock(mu_);
    auto it = scheduled_.find(api::ObjectKey(ns, name));
    if (it == scheduled_.end()) return;
    pending = it->second.fire_at.has_value() && !it->second.evicted;
    // An evicted pod keeps its entry until it is gone, so that it is not evicted twice.
    if (!it->second.evicted) scheduled_.erase(it);
  }
  if (pending) {
    recorder_.Event(PodRef(ns, name), client::kEventNormal, "TaintManagerEviction",
                    "Cancelling deletion of Pod " + api::ObjectKey(ns, name));
  }
}

}  // namespace ck::controller_manager
