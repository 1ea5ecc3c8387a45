// Cache: the scheduler's picture of the cluster (upstream internal/cache.cacheImpl). It keeps every
// node with a NodeInfo that sums the pods placed on it (requested resources, host ports, pods with
// affinity), fed by the node and assigned-pod informers, plus the pods the scheduling loop has
// "assumed" onto a node before the API confirms the binding, so the next cycle already sees them.
// Each cycle calls UpdateSnapshot, which copies only the NodeInfos that changed since the
// snapshot's generation (nodes sit in a list ordered by most recent change, so the walk stops at
// the first unchanged one).
//
// Pod life cycle (keys are pod UIDs):
//   AssumePod -> [FinishBinding] -> AddPod (informer confirms; moves it if it landed elsewhere)
//             -> ForgetPod (binding failed)  -> expired by CleanupExpiredAssumedPods once the
//                binding finished and `assumed_pod_ttl` passed without a confirmation.
//   AddPod -> UpdatePod* -> RemovePod for pods the scheduler never assumed.
// A node removed while pods still name it keeps a NodeInfo without a Node (invisible to snapshots)
// until its last pod goes: pod and node events come on different watches and may arrive late.
//
// Threading: every method is safe from any thread; one mutex (mu_) guards all state. Informer
// handler threads call the node and pod methods; the scheduling loop assumes/forgets pods and
// updates its snapshot; the scheduler's timer calls CleanupExpiredAssumedPods every
// kCleanupAssumedPodsPeriod.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "common/base/clock.h"
#include "common/base/status.h"
#include "scheduler/cache/node_tree.h"
#include "scheduler/framework/snapshot.h"
#include "scheduler/framework/types.h"

namespace ck::scheduler {

struct CacheOptions {
  // How long an assumed pod whose binding finished may wait for the informer to confirm it before
  // the cache drops it. 0 = never expire (upstream's value since Kubernetes 1.23, issue #106361:
  // expiring raced with slow informers; the binding's own success or ForgetPod settles each pod).
  Duration assumed_pod_ttl = std::chrono::minutes(15);
};

// How often the scheduler calls CleanupExpiredAssumedPods (upstream cleanAssumedPeriod).
inline constexpr Duration kCleanupAssumedPodsPeriod = std::chrono::seconds(1);

// A copy of the cache's content for debugging (upstream cache.Dump).
struct CacheDump {
  struct AssumedPod {
    std::string key;   // "ns/name"
    std::string node;  // spec.nodeName it was assumed on
    bool binding_finished = false;
    std::optional<Duration> expires_in;  // set once the binding finished and the ttl is not 0
  };
  // Node name -> a copy of its NodeInfo (also the Node-less ones that only hold pods).
  std::map<std::string, std::shared_ptr<const NodeInfo>> nodes;
  // Pod UID -> the assumption.
  std::map<std::string, AssumedPod> assumed_pods;

  // A readable listing: each node with its aggregates and pods (assumed ones marked), then the
  // assumed pods.
  std::string ToString() const;
};

class Cache {
 public:
  // `clock` (FinishBinding's start of the expiry clock) must outlive the cache.
  explicit Cache(Clock& clock, CacheOptions options = {});
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  // ---- Nodes (node informer). Never fail: the informer's object is the truth.
  // Adds the node, or updates it when the cache already has it (a NodeInfo that so far only held
  // pods gets its Node).
  void AddNode(NodePtr node);
  // Replaces the Node of the NodeInfo (adding it when unknown). A changed zone moves it in the
  // node order.
  void UpdateNode(NodePtr node);
  // Drops the node from the node order and from the next snapshots. NotFound when the cache has
  // no such node. Its pods stay (in a Node-less NodeInfo) until they are removed.
  Status RemoveNode(const std::string& node_name);

  // ---- Assigned pods (informer of pods with spec.nodeName set).
  // Adds the pod to its node, or confirms an assumed pod (replacing the assumed copy with this
  // one, on this pod's node if it landed elsewhere; the expiry clock stops). A pod already added
  // and not assumed is AlreadyExists; a pod without a UID or nodeName is BadRequest.
  // A pod whose spec does not parse (PodInfo::Create fails: an affinity selector or a quantity the
  // apiserver should have refused) is still placed, so its node is never overcommitted: without
  // its pod (anti-)affinity terms, and, if that is not enough, without the quantities that do not
  // parse (or all its resources when the sum overflows). It is logged and counted
  // (pods_with_spec_errors).
  Status AddPod(PodPtr pod);
  // Replaces an added pod with its new version. NotFound when the pod is not in the cache,
  // Conflict when it is only assumed (an informer always adds before it updates). A pod that
  // moved to another node (impossible through the API) follows the informer and is logged.
  Status UpdatePod(PodPtr pod);
  // Removes an added or assumed pod from the node the cache has it on. NotFound when unknown.
  Status RemovePod(const corev1::Pod& pod);

  // ---- Assumed pods (scheduling loop).
  // Places the pod on spec.nodeName before the binding is confirmed. AlreadyExists when the
  // cache already has the pod; BadRequest without UID or nodeName.
  Status AssumePod(PodInfoPtr pod);
  // The binding call returned: the assumption may expire `assumed_pod_ttl` from now (unless it
  // is confirmed first). No-op for a pod that is not assumed.
  void FinishBinding(const corev1::Pod& pod);
  // Undoes an assumption (the binding failed). Conflict when the cache has the pod on another
  // node than pod.spec.nodeName; NotFound when the pod is not assumed.
  Status ForgetPod(const corev1::Pod& pod);
  // Drops assumptions whose binding finished and whose deadline is before `now`; returns how many.
  // The scheduler calls it every kCleanupAssumedPodsPeriod with clock.Monotonic(); tests call it
  // directly with a FakeClock's time.
  size_t CleanupExpiredAssumedPods(MonoTime now);
  bool IsAssumedPod(const corev1::Pod& pod) const;
  // The cache's PodInfo for the pod (by UID). NotFound when absent.
  Result<PodInfoPtr> GetPod(const corev1::Pod& pod) const;

  // ---- Snapshot (scheduling loop, once per cycle).
  // Brings `snapshot` up to date: NodeInfos changed since snapshot->generation() are copied into
  // it (in place: the snapshot's NodeInfo pointers stay stable, their content changes, so a reader
  // that must outlive the cycle takes a Clone), deleted nodes leave it, and the node list (zone-
  // interleaved order) is rebuilt only when nodes came, went or changed zone; the affinity lists
  // only when a node gained its first or lost its last pod with affinity. Internal when the result
  // disagrees with the node order (then every list has been rebuilt from scratch).
  Status UpdateSnapshot(Snapshot* snapshot);

  // ---- Sizes and debugging.
  size_t NodeCount() const;         // nodes with a Node object
  size_t PodCount() const;          // added and assumed pods
  size_t AssumedPodCount() const;
  int64_t pods_with_spec_errors() const;  // assigned pods placed despite a spec that did not parse
  CacheDump Dump() const;

 private:
  struct NodeItem {
    std::string name;
    NodeInfo info;
  };
  using NodeList = std::list<NodeItem>;  // most recently changed first

  struct PodState {
    PodInfoPtr info;
    bool assumed = false;
    bool binding_finished = false;
    std::optional<MonoTime> deadline;  // set by FinishBinding when the ttl is not 0
  };

  // All below: the caller holds mu_.
  NodeList::iterator NodeItemFor(const std::string& node_name);
  void MoveToHead(NodeList::iterator it);
  void SetNodeLocked(NodePtr node);
  void AddPodLocked(PodInfoPtr pod, bool assumed);
  // Removes the pod in `state` from its node and forgets its state.
  void RemovePodLocked(const std::string& uid);
  PodInfoPtr BuildAssignedPodInfo(const PodPtr& pod);

  Clock& clock_;
  const CacheOptions options_;

  mutable std::mutex mu_;
  NodeList node_list_;                                              // guarded by mu_
  std::unordered_map<std::string, NodeList::iterator> nodes_;       // guarded by mu_; by node name
  NodeTree tree_;                                                   // guarded by mu_
  std::unordered_map<std::string, PodState> pod_states_;            // guarded by mu_; by pod UID
  std::unordered_set<std::string> assumed_pods_;                    // guarded by mu_; pod UIDs
  int64_t pods_with_spec_errors_ = 0;                               // guarded by mu_
};

}  // namespace ck::scheduler
