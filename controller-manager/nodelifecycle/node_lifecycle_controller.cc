#include "controller-manager/nodelifecycle/node_lifecycle_controller.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>

#include "common/api/conditions.h"
#include "common/api/object.h"
#include "common/base/log.h"
#include "controller-manager/nodelifecycle/node_util.h"

namespace ck::controller_manager {

namespace coordv1 = ::k8s::io::api::coordination::v1;

namespace {

constexpr int kNodeHealthUpdateRetry = 5;                       // upstream NodeHealthUpdateRetry
constexpr Duration kNodeEvictionPeriod = std::chrono::milliseconds(100);  // upstream NodeEvictionPeriod
constexpr Duration kConditionMissingRetry = std::chrono::milliseconds(50);
constexpr char kExcludeDisruptionLabel[] = "node.kubernetes.io/exclude-disruption";

const client::ResourceInfo& ResourceOf(const google::protobuf::Descriptor* d) {
  return client::SharedInformerFactory::ResourceOfMessage(d->full_name());
}

// The conditions a silent node has set to Unknown (NetworkUnavailable belongs to the network
// plugin and is left alone, as upstream).
constexpr std::string_view kMonitoredConditions[] = {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"};

// TaintNodesByCondition: which NoSchedule taint each condition status maps to.
struct ConditionTaint {
  std::string_view condition;
  std::string_view status;
  std::string_view taint;
};
constexpr ConditionTaint kConditionTaints[] = {
    {"Ready", "False", kTaintNodeNotReady},
    {"Ready", "Unknown", kTaintNodeUnreachable},
    {"MemoryPressure", "True", kTaintNodeMemoryPressure},
    {"DiskPressure", "True", kTaintNodeDiskPressure},
    {"NetworkUnavailable", "True", kTaintNodeNetworkUnavailable},
    {"PIDPressure", "True", kTaintNodePIDPressure},
};

bool IsConditionTaintKey(std::string_view key) {
  return std::any_of(std::begin(kConditionTaints), std::end(kConditionTaints),
                     [&](const ConditionTaint& c) { return c.taint == key; });
}

// The beta labels upstream keeps equal to the stable ones (labelReconcileInfo).
constexpr std::pair<std::string_view, std::string_view> kReconciledLabels[] = {
    {"kubernetes.io/os", "beta.kubernetes.io/os"},
    {"kubernetes.io/arch", "beta.kubernetes.io/arch"},
};

WallTime WallOf(const k8s::io::apimachinery::pkg::apis::meta::v1::MicroTime& t) {
  return api::FromTimestamp(api::Timestamp{t.seconds(), t.nanos()});
}

}  // namespace

const char* NodeLifecycleController::ZoneStateName(ZoneState state) {
  switch (state) {
    case ZoneState::kInitial:
      return "Initial";
    case ZoneState::kNormal:
      return "Normal";
    case ZoneState::kFullDisruption:
      return "FullDisruption";
    case ZoneState::kPartialDisruption:
      return "PartialDisruption";
  }
  return "Unknown";
}

NodeLifecycleController::NodeLifecycleController(ControllerContext& context, int workers)
    : ManagedController(client::ControllerOptions{.name = "node_lifecycle_controller",
                                                  .workers = workers,
                                                  .clock = &context.clock,
                                                  .registry = &context.metrics}),
      api_(context.api),
      clock_(context.clock),
      settings_(context.settings),
      recorder_(context.Recorder("node-controller")),
      nodes_(context.informers.ForKind<corev1::Node>()),
      pods_(context.informers.ForKind<corev1::Pod>()),
      leases_(context.informers.ForKind<coordv1::Lease>(client::InformerSpec{.ns = std::string(kNodeLeaseNamespace)})) {
  EnsureNodeNameIndex(pods_.Informer());
  Handle(nodes_, client::TypedEventHandler<corev1::Node>{
                     .on_add = [this](const auto& node, bool) { Enqueue(NodeKey(node->metadata().name())); },
                     .on_update = [this](const auto&, const auto& node) { Enqueue(NodeKey(node->metadata().name())); },
                 });
  // A pod newly bound to a node that is not Ready is marked not Ready too (upstream podUpdated).
  Handle(pods_, client::TypedEventHandler<corev1::Pod>{
                    .on_add =
                        [this](const auto& pod, bool) {
                          if (!pod->spec().nodename().empty()) {
                            Enqueue(PodKey(pod->metadata().namespace_(), pod->metadata().name()));
                          }
                        },
                    .on_update =
                        [this](const auto& old_pod, const auto& pod) {
                          if (!pod->spec().nodename().empty() && pod->spec().nodename() != old_pod->spec().nodename()) {
                            Enqueue(PodKey(pod->metadata().namespace_(), pod->metadata().name()));
                          }
                        },
                });
  // The monitor loop starts with the workers (after the caches synced) and re-adds itself.
  Enqueue(kMonitorKey);
}

NodeLifecycleController::~NodeLifecycleController() {
  RemoveHandlers();
  Stop();
}

std::vector<client::SharedIndexInformer*> NodeLifecycleController::Informers() const {
  return {&nodes_.Informer(), &pods_.Informer(), &leases_.Informer()};
}

std::map<std::string, NodeLifecycleController::ZoneState> NodeLifecycleController::ZoneStates() const {
  std::lock_guard lock(evictor_mu_);
  return zone_states_;
}

std::optional<double> NodeLifecycleController::ZoneRate(const std::string& zone) const {
  std::lock_guard lock(evictor_mu_);
  auto it = tainters_.find(zone);
  if (it == tainters_.end()) return std::nullopt;
  return it->second->qps();
}

Status NodeLifecycleController::Sync(const std::string& key) {
  if (key == kMonitorKey) {
    Status s = MonitorNodeHealth();
    if (!s.ok()) CK_LOG_ERROR("Error monitoring node health", "err", s.ToString());
    // The next pass is due one period later whatever happened (upstream wait.Until).
    EnqueueAfter(kMonitorKey, settings_.node_monitor_period);
    return Status::Ok();
  }
  if (key == kTaintingKey) {
    DoNoExecuteTaintingPass();
    return Status::Ok();
  }
  if (key.starts_with("node:")) {
    std::string name = key.substr(5);
    Status taints = DoNoScheduleTaintingPass(name);
    if (!taints.ok()) CK_LOG_ERROR("Failed to taint NoSchedule on node, requeue it", "node", name, "err", taints.ToString());
    Status labels = ReconcileNodeLabels(name);
    if (!labels.ok()) CK_LOG_ERROR("Failed to reconcile labels for node, requeue it", "node", name, "err", labels.ToString());
    return taints.ok() ? labels : taints;
  }
  if (key.starts_with("pod:")) {
    CK_ASSIGN_OR_RETURN(auto ns_name, api::SplitObjectKey(std::string_view(key).substr(4)));
    return ProcessPod(ns_name.first, ns_name.second);
  }
  CK_LOG_WARNING("Ignoring unknown key", "controller", name(), "key", key);
  return Status::Ok();
}

// ---- Node health --------------------------------------------------------------------------------

Status NodeLifecycleController::MonitorNodeHealth() {
  std::vector<std::shared_ptr<const corev1::Node>> nodes = nodes_.Lister().List();
  std::vector<std::shared_ptr<const corev1::Node>> added;
  std::vector<std::pair<std::string, std::string>> deleted;
  {
    std::lock_guard lock(health_mu_);
    std::set<std::string> seen;
    for (const auto& node : nodes) {
      seen.insert(node->metadata().name());
      if (!known_nodes_.contains(node->metadata().name())) added.push_back(node);
    }
    for (const auto& [name, uid] : known_nodes_) {
      if (!seen.contains(name)) deleted.emplace_back(name, uid);
    }
  }
  for (const auto& node : nodes) AddZoneIfNew(*node);
  for (const auto& node : added) {
    const std::string& name = node->metadata().name();
    CK_VLOG(1, "Controller observed a new Node", "node", name);
    RecordNodeEvent(recorder_, name, node->metadata().uid(), client::kEventNormal, "RegisteredNode",
                    "Registered Node " + name + " in Controller");
    {
      std::lock_guard lock(health_mu_);
      known_nodes_[name] = node->metadata().uid();
    }
    // Upstream starts from a clean slate: taints come back through the rate-limited queue.
    Result<bool> reachable = MarkNodeAsReachable(node);
    if (!reachable.ok()) CK_LOG_ERROR("Failed to remove taints from node", "node", name, "err", reachable.status().ToString());
  }
  for (const auto& [name, uid] : deleted) {
    CK_VLOG(1, "Controller observed a Node deletion", "node", name);
    RecordNodeEvent(recorder_, name, uid, client::kEventNormal, "RemovingNode", "Removing Node " + name + " from Controller");
    std::lock_guard lock(health_mu_);
    known_nodes_.erase(name);
    health_.erase(name);
    nodes_to_retry_.erase(name);
  }

  std::map<std::string, std::vector<std::optional<corev1::NodeCondition>>> zones;
  for (const auto& listed : nodes) {
    const std::string& name = listed->metadata().name();
    std::shared_ptr<const corev1::Node> node = FreshestNode(name);
    if (node == nullptr) node = listed;
    Result<HealthResult> health = Internal("not tried");
    for (int attempt = 0; attempt < kNodeHealthUpdateRetry; ++attempt) {
      health = TryUpdateNodeHealth(node);
      if (health.ok()) break;
      Result<client::ObjectPtr> fresh = api_.Get(ResourceOf(corev1::Node::descriptor()), "", name);
      if (!fresh.ok()) {
        CK_LOG_ERROR("Failed while getting a Node to retry updating node health. Probably Node was deleted", "node",
                     name, "err", fresh.status().ToString());
        break;
      }
      node = std::static_pointer_cast<const corev1::Node>(*fresh);
      Remember(node);
    }
    if (!health.ok()) {
      CK_LOG_ERROR("Update health of Node from Controller error, Skipping - no pods will be evicted", "node", name,
                   "err", health.status().ToString());
      continue;
    }
    if (!health->node->metadata().labels().contains(kExcludeDisruptionLabel)) {
      zones[ZoneKey(*health->node)].push_back(health->current);
    }
    if (!health->current.has_value()) {
      std::lock_guard lock(health_mu_);
      nodes_to_retry_.erase(name);
      continue;
    }
    // Taints follow the Ready condition as this pass left it (upstream looks at the condition
    // it observed before its own update, and so taints one monitor period later).
    ProcessTaintBaseEviction(health->node, *health->current);

    bool needs_retry = false;
    {
      std::lock_guard lock(health_mu_);
      needs_retry = nodes_to_retry_.contains(name);
    }
    const bool became_not_ready = health->current->status() != "True" && health->observed.status() == "True";
    if (became_not_ready) RecordNodeStatusChange(recorder_, *health->node, "NodeNotReady");
    if (became_not_ready || (needs_retry && health->observed.status() != "True")) {
      Status marked = MarkPodsNotReady(PodsOnNode(name), name);
      if (!marked.ok()) {
        CK_LOG_ERROR("Unable to mark all pods NotReady on node; queuing for retry", "node", name, "err",
                     marked.ToString());
        std::lock_guard lock(health_mu_);
        nodes_to_retry_.insert(name);
        continue;
      }
    }
    std::lock_guard lock(health_mu_);
    nodes_to_retry_.erase(name);
  }

  HandleDisruption(zones, nodes);
  DoNoExecuteTaintingPass();
  return Status::Ok();
}

Result<NodeLifecycleController::HealthResult> NodeLifecycleController::TryUpdateNodeHealth(
    std::shared_ptr<const corev1::Node> node) {
  const std::string& name = node->metadata().name();
  HealthResult out;
  const corev1::NodeCondition* ready = api::FindCondition(node->status().conditions(), "Ready");
  Duration grace{0};
  WallTime last_heard;
  if (ready == nullptr) {
    // Never posted: a fake Unknown condition dated from the node's creation, and the startup grace.
    out.observed.set_type("Ready");
    out.observed.set_status("Unknown");
    *out.observed.mutable_lastheartbeattime() = node->metadata().creationtimestamp();
    *out.observed.mutable_lasttransitiontime() = node->metadata().creationtimestamp();
    grace = settings_.node_startup_grace_period;
    last_heard = api::WallTimeOf(node->metadata().creationtimestamp());
  } else {
    out.observed = *ready;
    grace = settings_.node_monitor_grace_period;
    last_heard = api::WallTimeOf(ready->lastheartbeattime());
  }
  // A renewed Lease counts as a heartbeat (the kubelet posts status rarely when nothing changes).
  Result<std::shared_ptr<const coordv1::Lease>> lease = leases_.Lister().Get(std::string(kNodeLeaseNamespace), name);
  if (lease.ok() && (*lease)->spec().has_renewtime()) last_heard = std::max(last_heard, WallOf((*lease)->spec().renewtime()));

  const WallTime now = clock_.Now();
  if (now > last_heard + grace) {
    auto updated = std::make_shared<corev1::Node>(*node);
    auto* conditions = updated->mutable_status()->mutable_conditions();
    const auto now_time = api::MakeTime(now);
    for (std::string_view type : kMonitoredConditions) {
      corev1::NodeCondition* c = api::FindCondition(conditions, type);
      if (c == nullptr) {
        CK_VLOG(2, "Condition of node was never updated by kubelet", "nodeConditionType", type, "node", name);
        c = conditions->Add();
        c->set_type(std::string(type));
        c->set_status("Unknown");
        c->set_reason("NodeStatusNeverUpdated");
        c->set_message("Kubelet never posted node status.");
        *c->mutable_lastheartbeattime() = node->metadata().creationtimestamp();
        *c->mutable_lasttransitiontime() = now_time;
      } else if (c->status() != "Unknown") {
        CK_VLOG(2, "Node hasn't been updated", "node", name, "nodeConditionType", type);
        c->set_status("Unknown");
        c->set_reason("NodeStatusUnknown");
        c->set_message("Kubelet stopped posting node status.");
        *c->mutable_lasttransitiontime() = now_time;
      }
    }
    const corev1::NodeCondition* current = api::FindCondition(updated->status().conditions(), "Ready");
    if (!google::protobuf::util::MessageDifferencer::Equals(*current, out.observed)) {
      CK_ASSIGN_OR_RETURN(client::ObjectPtr written,
                          api_.Update(ResourceOf(corev1::Node::descriptor()), "", *updated, "status"));
      out.node = std::static_pointer_cast<const corev1::Node>(written);
      out.current = *api::FindCondition(out.node->status().conditions(), "Ready");
      CK_LOG_INFO("Node stopped posting status: conditions set to Unknown", "node", name);
      Remember(out.node);
      std::lock_guard lock(health_mu_);
      health_[name].ready = out.current;
      return out;
    }
  }
  out.node = node;
  if (ready != nullptr) out.current = *ready;
  std::lock_guard lock(health_mu_);
  health_[name].ready = out.current;
  return out;
}

Status NodeLifecycleController::MarkPodsNotReady(const std::vector<std::shared_ptr<const corev1::Pod>>& pods,
                                                 const std::string& node_name) {
  CK_VLOG(2, "Update ready status of pods on node", "node", node_name);
  const client::ResourceInfo& resource = ResourceOf(corev1::Pod::descriptor());
  Status first_error = Status::Ok();
  for (const auto& pod : pods) {
    if (pod->spec().nodename() != node_name) continue;
    const corev1::PodCondition* ready = api::FindCondition(pod->status().conditions(), "Ready");
    if (ready == nullptr || ready->status() == "False") continue;
    // Strategic merge by condition type, with the uid as precondition (upstream PatchPodStatus).
    std::string body = "{\"metadata\":{\"uid\":" + JsonQuote(pod->metadata().uid()) +
                       "},\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\","
                       "\"lastTransitionTime\":" +
                       JsonQuote(api::FormatRfc3339(api::ToTimestamp(clock_.Now()))) + "}]}}";
    Result<client::ObjectPtr> patched = api_.Patch(resource, pod->metadata().namespace_(), pod->metadata().name(),
                                                   client::PatchType::kStrategicMerge, body, "status");
    if (!patched.ok()) {
      if (patched.status().code() == Code::kNotFound) continue;
      if (first_error.ok()) first_error = patched.status();
      continue;
    }
    CK_VLOG(2, "Updating ready status of pod to false", "pod", api::ObjectKey(pod->metadata()));
    // Recorded after the write, so that the pod still exists.
    recorder_.Event(**patched, client::kEventWarning, "NodeNotReady", "Node is not ready");
  }
  return first_error;
}

// ---- Taints -------------------------------------------------------------------------------------

void NodeLifecycleController::ProcessTaintBaseEviction(const std::shared_ptr<const corev1::Node>& node,
                                                       const corev1::NodeCondition& ready) {
  const std::string& name = node->metadata().name();
  const corev1::Taint not_ready = MakeTaint(kTaintNodeNotReady, kEffectNoExecute);
  const corev1::Taint unreachable = MakeTaint(kTaintNodeUnreachable, kEffectNoExecute);
  if (ready.status() == "False" || ready.status() == "Unknown") {
    const bool is_false = ready.status() == "False";
    const corev1::Taint& wanted = is_false ? not_ready : unreachable;
    const corev1::Taint& opposite = is_false ? unreachable : not_ready;
    // Already tainted the other way: swap at once, no need to wait for a token.
    if (TaintExists(node->spec().taints(), opposite)) {
      auto swapped = SwapNodeTaints(api_, clock_, name, node, {wanted}, {opposite});
      if (swapped.ok()) {
        Remember(*swapped);
      } else {
        CK_LOG_ERROR("Failed to instantly swap NoExecute taints. Will try again in the next cycle", "node", name,
                     "err", swapped.status().ToString());
      }
    } else if (MarkNodeForTainting(*node, ready.status())) {
      CK_VLOG(2, is_false ? "Node is NotReady. Adding it to the Taint queue"
                          : "Node is unresponsive. Adding it to the Taint queue",
              "node", name);
    }
    return;
  }
  if (ready.status() == "True") {
    Result<bool> removed = MarkNodeAsReachable(node);
    if (!removed.ok()) {
      CK_LOG_ERROR("Failed to remove taints from node. Will retry in next iteration", "node", name, "err",
                   removed.status().ToString());
    } else if (*removed) {
      CK_VLOG(2, "Node is healthy again, removed all taints", "node", name);
    }
  }
}

bool NodeLifecycleController::MarkNodeForTainting(const corev1::Node& node, const std::string& status) {
  std::lock_guard lock(evictor_mu_);
  auto it = tainters_.find(ZoneKey(node));
  if (it == tainters_.end()) return false;
  const corev1::Taint wanted = MakeTaint(status == "False" ? kTaintNodeNotReady : kTaintNodeUnreachable, kEffectNoExecute);
  // Queued again when its taint is missing (a node tainted once is otherwise left alone).
  if (!TaintExists(node.spec().taints(), wanted)) it->second->Remove(node.metadata().name());
  return it->second->Add(node.metadata().name(), node.metadata().uid());
}

Result<bool> NodeLifecycleController::MarkNodeAsReachable(const std::shared_ptr<const corev1::Node>& node) {
  const corev1::Taint not_ready = MakeTaint(kTaintNodeNotReady, kEffectNoExecute);
  const corev1::Taint unreachable = MakeTaint(kTaintNodeUnreachable, kEffectNoExecute);
  if (TaintExists(node->spec().taints(), not_ready) || TaintExists(node->spec().taints(), unreachable)) {
    auto cleaned = SwapNodeTaints(api_, clock_, node->metadata().name(), node, {}, {unreachable, not_ready});
    if (!cleaned.ok() && cleaned.status().code() != Code::kNotFound) return cleaned.status();
    if (cleaned.ok()) Remember(*cleaned);
  }
  std::lock_guard lock(evictor_mu_);
  auto it = tainters_.find(ZoneKey(*node));
  return it != tainters_.end() && it->second->Remove(node->metadata().name());
}

void NodeLifecycleController::DoNoExecuteTaintingPass() {
  std::optional<Duration> next;
  {
    std::lock_guard lock(evictor_mu_);
    for (auto& [zone, queue] : tainters_) {
      queue->Try([this](const std::string& node_name, const std::string&) { return TaintOne(node_name); });
      std::optional<Duration> wait = queue->NextAttemptIn();
      if (wait.has_value() && (!next.has_value() || *wait < *next)) next = wait;
    }
  }
  // Nodes still wait for a token: come back when the next one is due.
  if (next.has_value()) EnqueueAfter(kTaintingKey, std::max(*next, kNodeEvictionPeriod));
}

RateLimitedTimedQueue::Outcome NodeLifecycleController::TaintOne(const std::string& node_name) {
  std::shared_ptr<const corev1::Node> node = FreshestNode(node_name);
  if (node == nullptr) return {};  // gone
  const corev1::NodeCondition* ready = api::FindCondition(node->status().conditions(), "Ready");
  if (ready == nullptr) {
    CK_LOG_INFO("Failed to get NodeCondition from the node status", "node", node_name);
    return {false, kConditionMissingRetry};
  }
  corev1::Taint wanted;
  corev1::Taint opposite;
  if (ready->status() == "False") {
    wanted = MakeTaint(kTaintNodeNotReady, kEffectNoExecute);
    opposite = MakeTaint(kTaintNodeUnreachable, kEffectNoExecute);
  } else if (ready->status() == "Unknown") {
    wanted = MakeTaint(kTaintNodeUnreachable, kEffectNoExecute);
    opposite = MakeTaint(kTaintNodeNotReady, kEffectNoExecute);
  } else {
    CK_VLOG(2, "Node was in a taint queue, but it's ready now. Ignoring taint request", "node", node_name);
    return {};
  }
  auto tainted = SwapNodeTaints(api_, clock_, node_name, node, {wanted}, {opposite});
  if (tainted.ok()) {
    CK_LOG_INFO("Tainted node", "node", node_name, "taint", wanted.key() + ":NoExecute");
    Remember(*tainted);
    return {};
  }
  if (tainted.status().code() == Code::kNotFound) return {};
  CK_LOG_ERROR("Failed to taint node", "node", node_name, "err", tainted.status().ToString());
  return {false, Duration(0)};
}

// ---- Zones --------------------------------------------------------------------------------------

void NodeLifecycleController::AddZoneIfNew(const corev1::Node& node) {
  std::lock_guard lock(evictor_mu_);
  std::string zone = ZoneKey(node);
  if (zone_states_.contains(zone)) return;
  CK_LOG_INFO("Initializing eviction metric for zone", "zone", zone);
  zone_states_[zone] = ZoneState::kInitial;
  tainters_[zone] = std::make_unique<RateLimitedTimedQueue>(clock_, settings_.node_eviction_rate);
}

NodeLifecycleController::ZoneState NodeLifecycleController::ComputeZoneState(
    const std::vector<std::optional<corev1::NodeCondition>>& conditions) const {
  int ready = 0;
  int not_ready = 0;
  for (const auto& c : conditions) {
    if (c.has_value() && c->status() == "True") {
      ++ready;
    } else {
      ++not_ready;
    }
  }
  if (ready == 0 && not_ready > 0) return ZoneState::kFullDisruption;
  if (not_ready > 2 && static_cast<double>(not_ready) / (not_ready + ready) >= settings_.unhealthy_zone_threshold) {
    return ZoneState::kPartialDisruption;
  }
  return ZoneState::kNormal;
}

void NodeLifecycleController::SetLimiterInZone(const std::string& zone, int zone_size, ZoneState state) {
  auto it = tainters_.find(zone);
  if (it == tainters_.end()) return;
  switch (state) {
    case ZoneState::kNormal:
    case ZoneState::kFullDisruption:  // one zone down in a healthy cluster: evict at the normal rate
      it->second->SwapLimiter(settings_.node_eviction_rate);
      break;
    case ZoneState::kPartialDisruption:  // upstream ReducedQPSFunc
      it->second->SwapLimiter(zone_size > settings_.large_cluster_size_threshold ? settings_.secondary_node_eviction_rate
                                                                                  : 0);
      break;
    case ZoneState::kInitial:
      break;
  }
}

void NodeLifecycleController::HandleDisruption(
    const std::map<std::string, std::vector<std::optional<corev1::NodeCondition>>>& zones,
    const std::vector<std::shared_ptr<const corev1::Node>>& nodes) {
  bool entering_full_disruption = false;
  {
    std::lock_guard lock(evictor_mu_);
    std::map<std::string, ZoneState> new_states;
    bool all_fully_disrupted = true;
    for (const auto& [zone, conditions] : zones) {
      ZoneState state = ComputeZoneState(conditions);
      if (state != ZoneState::kFullDisruption) all_fully_disrupted = false;
      new_states[zone] = state;
      if (!zone_states_.contains(zone)) zone_states_[zone] = ZoneState::kInitial;
    }
    bool all_were_fully_disrupted = true;
    for (auto it = zone_states_.begin(); it != zone_states_.end();) {
      if (!zones.contains(it->first)) {
        it = zone_states_.erase(it);
        continue;
      }
      if (it->second != ZoneState::kFullDisruption) {
        all_were_fully_disrupted = false;
        break;
      }
      ++it;
    }
    if (!all_fully_disrupted || !all_were_fully_disrupted) {
      if (all_fully_disrupted) {
        CK_LOG_INFO("Controller detected that all Nodes are not-Ready. Entering master disruption mode");
        entering_full_disruption = true;
        for (auto& [zone, state] : zone_states_) {
          if (auto t = tainters_.find(zone); t != tainters_.end()) t->second->SwapLimiter(0);
          state = ZoneState::kFullDisruption;
        }
      } else if (all_were_fully_disrupted) {
        CK_LOG_INFO("Controller detected that some Nodes are Ready. Exiting master disruption mode");
        for (auto& [zone, state] : zone_states_) {
          auto size = zones.find(zone);
          SetLimiterInZone(zone, size == zones.end() ? 0 : static_cast<int>(size->second.size()), new_states[zone]);
          state = new_states[zone];
        }
      } else {
        for (auto& [zone, state] : zone_states_) {
          ZoneState next = new_states[zone];
          if (state == next) continue;
          CK_LOG_INFO("Controller detected that zone is now in new state", "zone", zone, "newState",
                      ZoneStateName(next));
          auto size = zones.find(zone);
          SetLimiterInZone(zone, size == zones.end() ? 0 : static_cast<int>(size->second.size()), next);
          state = next;
        }
      }
    }
  }
  if (!entering_full_disruption) return;
  // Every node is down: most likely the control plane lost the nodes, not the nodes their pods.
  for (const auto& listed : nodes) {
    std::shared_ptr<const corev1::Node> node = FreshestNode(listed->metadata().name());
    Result<bool> removed = MarkNodeAsReachable(node != nullptr ? node : listed);
    if (!removed.ok()) {
      CK_LOG_ERROR("Failed to remove taints from Node", "node", listed->metadata().name(), "err",
                   removed.status().ToString());
    }
  }
}

// ---- Node and pod keys --------------------------------------------------------------------------

Status NodeLifecycleController::DoNoScheduleTaintingPass(const std::string& node_name) {
  Result<std::shared_ptr<const corev1::Node>> cached = nodes_.Lister().Get(node_name);
  if (cached.status().code() == Code::kNotFound) return Status::Ok();
  CK_RETURN_IF_ERROR(cached.status());
  const corev1::Node& node = **cached;
  std::vector<corev1::Taint> desired;
  for (const corev1::NodeCondition& c : node.status().conditions()) {
    for (const ConditionTaint& ct : kConditionTaints) {
      if (c.type() == ct.condition && c.status() == ct.status) desired.push_back(MakeTaint(ct.taint, kEffectNoSchedule));
    }
  }
  if (node.spec().unschedulable()) desired.push_back(MakeTaint(kTaintNodeUnschedulable, kEffectNoSchedule));
  std::vector<corev1::Taint> current;
  for (const corev1::Taint& t : node.spec().taints()) {
    if (t.effect() != kEffectNoSchedule) continue;
    if (t.key() == kTaintNodeUnschedulable || IsConditionTaintKey(t.key())) current.push_back(t);
  }
  auto contains = [](const std::vector<corev1::Taint>& list, const corev1::Taint& t) {
    return std::any_of(list.begin(), list.end(), [&](const corev1::Taint& x) { return MatchTaint(x, t); });
  };
  std::vector<corev1::Taint> to_add;
  std::vector<corev1::Taint> to_remove;
  for (const corev1::Taint& t : desired) {
    if (!contains(current, t)) to_add.push_back(t);
  }
  for (const corev1::Taint& t : current) {
    if (!contains(desired, t)) to_remove.push_back(t);
  }
  if (to_add.empty() && to_remove.empty()) return Status::Ok();
  auto swapped = SwapNodeTaints(api_, clock_, node_name, FreshestNode(node_name), to_add, to_remove);
  if (swapped.status().code() == Code::kNotFound) return Status::Ok();
  if (!swapped.ok()) return swapped.status().WithPrefix("failed to swap taints of node " + node_name);
  Remember(*swapped);
  return Status::Ok();
}

Status NodeLifecycleController::ReconcileNodeLabels(const std::string& node_name) {
  Result<std::shared_ptr<const corev1::Node>> cached = nodes_.Lister().Get(node_name);
  if (cached.status().code() == Code::kNotFound) return Status::Ok();
  CK_RETURN_IF_ERROR(cached.status());
  const auto& labels = (*cached)->metadata().labels();
  std::string patch;
  for (const auto& [primary, secondary] : kReconciledLabels) {
    auto p = labels.find(std::string(primary));
    if (p == labels.end()) continue;
    auto s = labels.find(std::string(secondary));
    if (s != labels.end() && s->second == p->second) continue;
    if (!patch.empty()) patch += ',';
    patch += JsonQuote(secondary) + ":" + JsonQuote(p->second);
  }
  if (patch.empty()) return Status::Ok();
  Result<client::ObjectPtr> patched =
      api_.Patch(ResourceOf(corev1::Node::descriptor()), "", node_name, client::PatchType::kStrategicMerge,
                 "{\"metadata\":{\"labels\":{" + patch + "}}}");
  if (patched.status().code() == Code::kNotFound) return Status::Ok();
  if (!patched.ok()) return patched.status().WithPrefix("failed update labels for node " + node_name);
  Remember(std::static_pointer_cast<const corev1::Node>(*patched));
  return Status::Ok();
}

Status NodeLifecycleController::ProcessPod(const std::string& ns, const std::string& name) {
  Result<std::shared_ptr<const corev1::Pod>> pod = pods_.Lister().Get(ns, name);
  if (pod.status().code() == Code::kNotFound) return Status::Ok();
  CK_RETURN_IF_ERROR(pod.status());
  const std::string& node_name = (*pod)->spec().nodename();
  if (node_name.empty()) return Status::Ok();
  std::optional<corev1::NodeCondition> ready;
  {
    std::lock_guard lock(health_mu_);
    auto it = health_.find(node_name);
    // Not seen by the monitor yet (or removed): its next pass handles the pod.
    if (it == health_.end()) return Status::Ok();
    ready = it->second.ready;
  }
  Result<std::shared_ptr<const corev1::Node>> node = nodes_.Lister().Get(node_name);
  if (node.status().code() == Code::kNotFound) return Status::Ok();
  CK_RETURN_IF_ERROR(node.status());
  if (!ready.has_value() || ready->status() == "True") return Status::Ok();
  return MarkPodsNotReady({*pod}, node_name);
}

std::vector<std::shared_ptr<const corev1::Pod>> NodeLifecycleController::PodsOnNode(const std::string& node_name) const {
  auto indexed = pods_.Lister().ByIndex(client::kNodeNameIndex, node_name);
  if (indexed.ok()) return *indexed;
  std::vector<std::shared_ptr<const corev1::Pod>> out;
  for (auto& pod : pods_.Lister().List()) {
    if (pod->spec().nodename() == node_name) out.push_back(pod);
  }
  return out;
}

std::shared_ptr<const corev1::Node> NodeLifecycleController::FreshestNode(const std::string& name) const {
  Result<std::shared_ptr<const corev1::Node>> cached = nodes_.Lister().Get(name);
  if (!cached.ok()) return nullptr;
  std::lock_guard lock(health_mu_);
  auto it = health_.find(name);
  if (it != health_.end() && it->second.node != nullptr &&
      it->second.node->metadata().uid() == (*cached)->metadata().uid() &&
      NewerResourceVersion(it->second.node->metadata().resourceversion(), (*cached)->metadata().resourceversion())) {
    return it->second.node;
  }
  return *cached;
}

void NodeLifecycleController::Remember(const std::shared_ptr<const corev1::Node>& node) {
  std::lock_guard lock(health_mu_);
  NodeHealth& h = health_[node->metadata().name()];
  if (h.node == nullptr || h.node->metadata().uid() != node->metadata().uid() ||
      NewerResourceVersion(node->metadata().resourceversion(), h.node->metadata().resourceversion())) {
    h.node = node;
  }
}

}  // namespace ck::controller_manager
