// Cache (cache.h), with upstream internal/cache/cache.go's rules.
#include "scheduler/cache/cache.h"

#include <sstream>
#include <vector>

#include "common/api/quantity.h"
#include "common/api/resources.h"
#include "common/base/check.h"
#include "common/base/log.h"

namespace ck::scheduler {

namespace {

std::string PodKeyOf(const corev1::Pod& pod) { return pod.metadata().namespace_() + "/" + pod.metadata().name(); }

Status CheckUid(const corev1::Pod& pod) {
  if (pod.metadata().uid().empty()) {
    return BadRequest("pod " + PodKeyOf(pod) + " has no uid (the scheduler cache keys pods by uid)");
  }
  return Status::Ok();
}

bool HasAffinityPods(const NodeInfo& n) { return !n.pods_with_affinity().empty(); }
bool HasRequiredAntiAffinityPods(const NodeInfo& n) { return !n.pods_with_required_anti_affinity().empty(); }

// Drops the entries of `list` whose quantity does not parse.
void DropBadQuantities(api::ProtoResourceList* list) {
  for (auto it = list->begin(); it != list->end();) {
    if (!it->second.string().empty() && !api::Quantity::Parse(it->second.string()).ok()) {
      it = list->erase(it);
    } else {
      ++it;
    }
  }
}

// Strips the pod's resources down to what parses (`all`: every resource, for a sum that overflows).
void StripResources(corev1::Pod* pod, bool all) {
  auto* spec = pod->mutable_spec();
  for (auto* containers : {spec->mutable_containers(), spec->mutable_initcontainers()}) {
    for (auto& c : *containers) {
      if (all) {
        c.clear_resources();
      } else if (c.has_resources()) {
        DropBadQuantities(c.mutable_resources()->mutable_requests());
        DropBadQuantities(c.mutable_resources()->mutable_limits());
      }
    }
  }
  if (all) {
    spec->clear_overhead();
  } else {
    DropBadQuantities(spec->mutable_overhead());
  }
}

void AppendResource(std::ostringstream& out, const Resource& r) {
  out << "cpu=" << r.milli_cpu << "m memory=" << r.memory;
  if (r.ephemeral_storage != 0) out << " ephemeral-storage=" << r.ephemeral_storage;
  for (const auto& [name, v] : r.scalar) out << " " << name << "=" << v;
}

}  // namespace

Cache::Cache(Clock& clock, CacheOptions options) : clock_(clock), options_(options) {}

// ---- Nodes ------------------------------------------------------------------------------------

Cache::NodeList::iterator Cache::NodeItemFor(const std::string& node_name) {
  auto it = nodes_.find(node_name);
  if (it != nodes_.end()) return it->second;
  node_list_.push_front(NodeItem{node_name, NodeInfo()});
  nodes_.emplace(node_name, node_list_.begin());
  return node_list_.begin();
}

void Cache::MoveToHead(NodeList::iterator it) {
  // Every change bumps the NodeInfo's generation from one global counter; keeping the changed
  // NodeInfo at the head keeps the list sorted by generation, newest first.
  node_list_.splice(node_list_.begin(), node_list_, it);
}

void Cache::SetNodeLocked(NodePtr node) {
  auto it = NodeItemFor(node->metadata().name());
  tree_.Add(*node);
  it->info.SetNode(std::move(node));
  MoveToHead(it);
}

void Cache::AddNode(NodePtr node) {
  CK_CHECK(node != nullptr);
  std::lock_guard lock(mu_);
  SetNodeLocked(std::move(node));
}

void Cache::UpdateNode(NodePtr node) {
  CK_CHECK(node != nullptr);
  std::lock_guard lock(mu_);
  SetNodeLocked(std::move(node));
}

Status Cache::RemoveNode(const std::string& node_name) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node_name);
  if (it == nodes_.end() || !tree_.Remove(node_name)) {
    return NotFound("node " + node_name + " is not in the scheduler cache");
  }
  auto item = it->second;
  // Pods are delivered on another watch and may be removed later: keep their NodeInfo (without
  // the Node) until the last one goes (upstream RemoveNode).
  if (item->info.pods().empty()) {
    node_list_.erase(item);
    nodes_.erase(it);
  } else {
    item->info.SetNode(nullptr);  // bumps the generation from the global counter
    MoveToHead(item);
  }
  return Status::Ok();
}

// ---- Pods -------------------------------------------------------------------------------------

void Cache::AddPodLocked(PodInfoPtr pod, bool assumed) {
  std::string uid = pod->uid();
  auto it = NodeItemFor(pod->pod->spec().nodename());
  it->info.AddPod(pod);
  MoveToHead(it);
  PodState& state = pod_states_[uid];
  state = PodState{std::move(pod), assumed, false, std::nullopt};
  if (assumed) {
    assumed_pods_.insert(std::move(uid));
  } else {
    assumed_pods_.erase(uid);
  }
}

void Cache::RemovePodLocked(const std::string& uid) {
  auto state = pod_states_.find(uid);
  CK_CHECK(state != pod_states_.end()) << "pod " << uid << " is not in the cache";
  const std::string& node_name = state->second.info->pod->spec().nodename();
  auto node = nodes_.find(node_name);
  // Every pod in pod_states_ sits on the NodeInfo named by its spec.nodeName.
  CK_CHECK(node != nodes_.end()) << "pod " << state->second.info->Key() << " names node " << node_name
                                 << " which the cache does not hold";
  auto item = node->second;
  Status removed = item->info.RemovePod(uid);
  CK_CHECK(removed.ok()) << removed.ToString();
  if (item->info.pods().empty() && item->info.node() == nullptr) {
    node_list_.erase(item);
    nodes_.erase(node);
  } else {
    MoveToHead(item);
  }
  pod_states_.erase(state);
  assumed_pods_.erase(uid);
}

PodInfoPtr Cache::BuildAssignedPodInfo(const PodPtr& pod) {
  auto info = PodInfo::Create(pod);
  if (info.ok()) return *info;
  // The apiserver accepted the pod and the node runs it: count what can be counted rather than
  // leave the node looking emptier than it is.
  ++pods_with_spec_errors_;
  CK_LOG_WARNING("Assigned pod's spec does not parse; counting it without the parts that fail", "pod",
                 PodKeyOf(*pod), "node", pod->spec().nodename(), "err", info.status().message());
  auto copy = std::make_shared<corev1::Pod>(*pod);
  if (copy->spec().has_affinity()) {
    copy->mutable_spec()->mutable_affinity()->clear_podaffinity();
    copy->mutable_spec()->mutable_affinity()->clear_podantiaffinity();
  }
  info = PodInfo::Create(copy);
  if (!info.ok()) {
    StripResources(copy.get(), /*all=*/false);
    info = PodInfo::Create(copy);
  }
  if (!info.ok()) {
    StripResources(copy.get(), /*all=*/true);
    info = PodInfo::Create(copy);
  }
  // With no pod affinity and no resources, nothing is left that can fail to parse.
  CK_CHECK(info.ok()) << info.status().ToString();
  auto fixed = std::make_shared<PodInfo>(**info);
  fixed->pod = pod;  // the cache and the plugins see the pod as the informer gave it
  return fixed;
}

Status Cache::AddPod(PodPtr pod) {
  CK_CHECK(pod != nullptr);
  if (Status s = CheckUid(*pod); !s.ok()) return s;
  if (pod->spec().nodename().empty()) return BadRequest("pod " + PodKeyOf(*pod) + " is not assigned to a node");
  const std::string& uid = pod->metadata().uid();
  std::lock_guard lock(mu_);
  auto state = pod_states_.find(uid);
  if (state != pod_states_.end() && !state->second.assumed) {
    return AlreadyExists("pod " + PodKeyOf(*pod) + " (" + uid + ") was already added to the scheduler cache");
  }
  PodInfoPtr info = BuildAssignedPodInfo(pod);
  if (state != pod_states_.end()) {
    // Confirmation of an assumption: replace the assumed copy with the informer's version.
    const std::string assumed_node = state->second.info->pod->spec().nodename();
    RemovePodLocked(uid);
    if (assumed_node != pod->spec().nodename()) {
      CK_LOG_INFO("Pod was added to a different node than it was assumed", "pod", PodKeyOf(*pod), "assumedNode",
                  assumed_node, "currentNode", pod->spec().nodename());
    }
  }
  AddPodLocked(std::move(info), /*assumed=*/false);
  return Status::Ok();
}

Status Cache::UpdatePod(PodPtr pod) {
  CK_CHECK(pod != nullptr);
  if (Status s = CheckUid(*pod); !s.ok()) return s;
  if (pod->spec().nodename().empty()) return BadRequest("pod " + PodKeyOf(*pod) + " is not assigned to a node");
  const std::string& uid = pod->metadata().uid();
  std::lock_guard lock(mu_);
  auto state = pod_states_.find(uid);
  if (state == pod_states_.end()) {
    return NotFound("pod " + PodKeyOf(*pod) + " (" + uid + ") is not in the scheduler cache, so it cannot be updated");
  }
  if (state->second.assumed) {
    // The informer adds a pod (confirming the assumption) before it updates it.
    return Conflict("assumed pod " + PodKeyOf(*pod) + " (" + uid + ") should not be updated");
  }
  const std::string& old_node = state->second.info->pod->spec().nodename();
  if (old_node != pod->spec().nodename()) {
    // spec.nodeName is immutable once set; upstream stops the scheduler here. The informer is the
    // truth, so follow it and say loudly that something upstream of the cache went wrong.
    CK_LOG_ERROR("Pod updated on a different node than previously added to; the scheduler cache follows the informer",
                 "pod", PodKeyOf(*pod), "oldNode", old_node, "newNode", pod->spec().nodename());
  }
  PodInfoPtr info = BuildAssignedPodInfo(pod);
  RemovePodLocked(uid);
  AddPodLocked(std::move(info), /*assumed=*/false);
  return Status::Ok();
}

Status Cache::RemovePod(const corev1::Pod& pod) {
  if (Status s = CheckUid(pod); !s.ok()) return s;
  const std::string& uid = pod.metadata().uid();
  std::lock_guard lock(mu_);
  auto state = pod_states_.find(uid);
  if (state == pod_states_.end()) {
    return NotFound("pod " + PodKeyOf(pod) + " (" + uid + ") is not in the scheduler cache, so it cannot be removed");
  }
  const std::string& cached_node = state->second.info->pod->spec().nodename();
  // An empty nodeName happens when a missed delete comes back as the informer's last known state.
  if (!pod.spec().nodename().empty() && pod.spec().nodename() != cached_node) {
    CK_LOG_ERROR("Pod removed from a different node than the scheduler cache has it on; removing it from the cached node",
                 "pod", PodKeyOf(pod), "cachedNode", cached_node, "node", pod.spec().nodename());
  }
  RemovePodLocked(uid);
  return Status::Ok();
}

// ---- Assumed pods -----------------------------------------------------------------------------

Status Cache::AssumePod(PodInfoPtr pod) {
  CK_CHECK(pod != nullptr && pod->pod != nullptr);
  if (Status s = CheckUid(*pod->pod); !s.ok()) return s;
  if (pod->pod->spec().nodename().empty()) {
    return BadRequest("pod " + pod->Key() + " cannot be assumed without spec.nodeName");
  }
  std::lock_guard lock(mu_);
  if (pod_states_.count(pod->uid()) > 0) {
    return AlreadyExists("pod " + pod->Key() + " (" + pod->uid() + ") is in the scheduler cache, so it cannot be assumed");
  }
  AddPodLocked(std::move(pod), /*assumed=*/true);
  return Status::Ok();
}

void Cache::FinishBinding(const corev1::Pod& pod) {
  const MonoTime now = clock_.Monotonic();
  std::lock_guard lock(mu_);
  auto state = pod_states_.find(pod.metadata().uid());
  if (state == pod_states_.end() || !state->second.assumed) return;
  state->second.binding_finished = true;
  if (options_.assumed_pod_ttl == Duration::zero()) {
    state->second.deadline.reset();
  } else {
    state->second.deadline = now + options_.assumed_pod_ttl;
  }
}

Status Cache::ForgetPod(const corev1::Pod& pod) {
  if (Status s = CheckUid(pod); !s.ok()) return s;
  const std::string& uid = pod.metadata().uid();
  std::lock_guard lock(mu_);
  auto state = pod_states_.find(uid);
  if (state != pod_states_.end() && state->second.info->pod->spec().nodename() != pod.spec().nodename()) {
    return Conflict("pod " + PodKeyOf(pod) + " (" + uid + ") was assumed on " +
                    state->second.info->pod->spec().nodename() + " but assigned to " + pod.spec().nodename());
  }
  if (state == pod_states_.end() || !state->second.assumed) {
    return NotFound("pod " + PodKeyOf(pod) + " (" + uid + ") wasn't assumed so cannot be forgotten");
  }
  RemovePodLocked(uid);
  return Status::Ok();
}

size_t Cache::CleanupExpiredAssumedPods(MonoTime now) {
  std::lock_guard lock(mu_);
  std::vector<std::string> expired;
  for (const std::string& uid : assumed_pods_) {
    auto state = pod_states_.find(uid);
    CK_CHECK(state != pod_states_.end()) << "assumed pod " << uid << " has no state";
    const PodState& ps = state->second;
    // A binding still in flight may yet succeed: never expire before FinishBinding.
    if (!ps.binding_finished || !ps.deadline.has_value()) continue;
    if (now > *ps.deadline) expired.push_back(uid);
  }
  for (const std::string& uid : expired) {
    const PodInfoPtr& info = pod_states_.at(uid).info;
    CK_LOG_INFO("Assumed pod expired", "pod", info->Key(), "node", info->pod->spec().nodename());
    RemovePodLocked(uid);
  }
  return expired.size();
}

bool Cache::IsAssumedPod(const corev1::Pod& pod) const {
  std::lock_guard lock(mu_);
  return assumed_pods_.count(pod.metadata().uid()) > 0;
}

Result<PodInfoPtr> Cache::GetPod(const corev1::Pod& pod) const {
  std::lock_guard lock(mu_);
  auto state = pod_states_.find(pod.metadata().uid());
  if (state == pod_states_.end()) {
    return NotFound("pod " + PodKeyOf(pod) + " (" + pod.metadata().uid() + ") does not exist in the scheduler cache");
  }
  return state->second.info;
}

// ---- Snapshot ---------------------------------------------------------------------------------

Status Cache::UpdateSnapshot(Snapshot* snapshot) {
  CK_CHECK(snapshot != nullptr);
  std::lock_guard lock(mu_);
  const int64_t snapshot_generation = snapshot->generation();
  auto& map = snapshot->mutable_map();
  bool update_all_lists = false;
  bool update_affinity_lists = false;

  for (const NodeItem& item : node_list_) {
    // The list is newest first: everything from here on is already in the snapshot.
    if (item.info.generation() <= snapshot_generation) break;
    if (item.info.node() == nullptr) continue;  // removed node whose pods are still here
    auto [it, inserted] = map.try_emplace(item.name);
    if (inserted) {
      it->second = std::make_shared<NodeInfo>(item.info);
      update_all_lists = true;
      continue;
    }
    NodeInfo& existing = *it->second;
    if (existing.node_ptr() != item.info.node_ptr() &&
        (existing.node() == nullptr || NodeTree::ZoneKey(*existing.node()) != NodeTree::ZoneKey(*item.info.node()))) {
      update_all_lists = true;  // the node moved to another zone: the interleaved order changes
    }
    if (HasAffinityPods(existing) != HasAffinityPods(item.info) ||
        HasRequiredAntiAffinityPods(existing) != HasRequiredAntiAffinityPods(item.info)) {
      update_affinity_lists = true;
    }
    existing = item.info;
  }
  if (!node_list_.empty()) snapshot->set_generation(node_list_.front().info.generation());

  // Every node of the tree is in the map (it was copied when it came), so a bigger map holds
  // nodes that are gone.
  if (map.size() > tree_.num_nodes()) {
    for (auto it = map.begin(); it != map.end();) {
      auto cached = nodes_.find(it->first);
      if (cached == nodes_.end() || cached->second->info.node() == nullptr) {
        it = map.erase(it);
      } else {
        ++it;
      }
    }
    update_all_lists = true;
  }

  if (update_all_lists) {
    snapshot->RebuildLists(tree_.List());
  } else if (update_affinity_lists) {
    snapshot->RebuildAffinityLists();
  }

  if (snapshot->NumNodes() != tree_.num_nodes() || map.size() != tree_.num_nodes()) {
    const std::string message = "snapshot state is not consistent: " + std::to_string(snapshot->NumNodes()) +
                                " nodes listed, " + std::to_string(map.size()) + " in the map, " +
                                std::to_string(tree_.num_nodes()) + " in the cache; rebuilt from scratch";
    CK_LOG_ERROR("Scheduler cache snapshot inconsistent", "err", message);
    map.clear();
    for (const NodeItem& item : node_list_) {
      if (item.info.node() != nullptr) map.emplace(item.name, std::make_shared<NodeInfo>(item.info));
    }
    snapshot->RebuildLists(tree_.List());
    return Internal(message);
  }
  return Status::Ok();
}

// ---- Sizes and debugging ----------------------------------------------------------------------

size_t Cache::NodeCount() const {
  std::lock_guard lock(mu_);
  return tree_.num_nodes();
}

size_t Cache::PodCount() const {
  std::lock_guard lock(mu_);
  return pod_states_.size();
}

size_t Cache::AssumedPodCount() const {
  std::lock_guard lock(mu_);
  return assumed_pods_.size();
}

int64_t Cache::pods_with_spec_errors() const {
  std::lock_guard lock(mu_);
  return pods_with_spec_errors_;
}

CacheDump Cache::Dump() const {
  const MonoTime now = clock_.Monotonic();
  CacheDump dump;
  std::lock_guard lock(mu_);
  for (const NodeItem& item : node_list_) dump.nodes.emplace(item.name, item.info.Clone());
  for (const std::string& uid : assumed_pods_) {
    const PodState& ps = pod_states_.at(uid);
    CacheDump::AssumedPod a;
    a.key = ps.info->Key();
    a.node = ps.info->pod->spec().nodename();
    a.binding_finished = ps.binding_finished;
    if (ps.deadline.has_value()) a.expires_in = *ps.deadline - now;
    dump.assumed_pods.emplace(uid, std::move(a));
  }
  return dump;
}

std::string CacheDump::ToString() const {
  std::ostringstream out;
  out << "nodes: " << nodes.size() << ", assumed pods: " << assumed_pods.size() << "\n";
  for (const auto& [name, info] : nodes) {
    out << "node " << name;
    if (info->node() == nullptr) {
      out << " (removed; holds pods)";
    } else {
      // The zone key is "region:\0:zone"; shown as region/zone.
      const std::string key = NodeTree::ZoneKey(*info->node());
      const size_t sep = key.find(std::string_view(":\0:", 3));
      if (sep != std::string::npos) {
        const std::string region = key.substr(0, sep);
        out << " zone=" << (region.empty() ? "" : region + "/") << key.substr(sep + 3);
      }
    }
    out << " pods=" << info->pods().size() << "\n  allocatable: ";
    AppendResource(out, info->allocatable());
    out << "\n  requested:   ";
    AppendResource(out, info->requested());
    out << "\n";
    for (const auto& pod : info->pods()) {
      out << "  - " << pod->Key() << " uid=" << pod->uid();
      if (assumed_pods.count(pod->uid()) > 0) out << " (assumed)";
      out << "\n";
    }
  }
  for (const auto& [uid, a] : assumed_pods) {
    out << "assumed " << a.key << " uid=" << uid << " on " << a.node
        << (a.binding_finished ? " binding finished" : " binding in flight");
    if (a.expires_in.has_value()) {
      out << ", expires in " << std::chrono::duration_cast<std::chrono::milliseconds>(*a.expires_in).count() << "ms";
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace ck::scheduler
