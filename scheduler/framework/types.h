// The scheduler's view of pods and nodes (upstream framework/types.go): a PodInfo is a pod with
// what every cycle needs already parsed (requests, host ports, affinity terms with their
// selectors); a NodeInfo is a node with the aggregates of the pods on it (requested resources,
// used host ports, pods with affinity). The cache (scheduler/cache/) keeps NodeInfos and copies
// them into a Snapshot per cycle; plugins only read them.
// Threading: PodInfo is immutable once built and shared. A NodeInfo is written by one owner (the
// cache, or a cycle's private clone during preemption) and read concurrently otherwise.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/api/label_selector.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"
#include "common/base/status.h"

namespace ck::scheduler {

namespace corev1 = ::k8s::io::api::core::v1;
using PodPtr = std::shared_ptr<const corev1::Pod>;
using NodePtr = std::shared_ptr<const corev1::Node>;

// Scores run from 0 to 100 per plugin (framework.MinNodeScore / MaxNodeScore).
inline constexpr int64_t kMinNodeScore = 0;
inline constexpr int64_t kMaxNodeScore = 100;

// The scheduler's defaults for containers that request nothing (schedutil.DefaultMilliCPURequest,
// DefaultMemoryRequest): used by the "non-zero" requests that spread scores.
inline constexpr int64_t kDefaultMilliCpuRequest = 100;
inline constexpr int64_t kDefaultMemoryRequest = 200LL * 1024 * 1024;

// Amounts of resources (framework.Resource): cpu in millicores, the others in base units;
// `scalar` holds extended resources ("example.com/gpu"), hugepages-* and attachable volumes.
struct Resource {
  int64_t milli_cpu = 0;
  int64_t memory = 0;
  int64_t ephemeral_storage = 0;
  int64_t allowed_pod_number = 0;
  std::map<std::string, int64_t> scalar;

  void Add(const Resource& other);
  // Subtracts; a field never goes below zero (a removed pod that was never counted).
  void Sub(const Resource& other);
  // The amount of `name` ("cpu" in millicores, "memory", "ephemeral-storage", "pods", or a scalar).
  int64_t Get(std::string_view name) const;
  void Set(std::string_view name, int64_t value);
  // cpu -> MilliValue, pods -> allowed_pod_number, the rest -> Value. Unparsable quantities were
  // refused by the apiserver; here they count as zero.
  static Resource FromProto(const google::protobuf::Map<std::string, ::k8s::io::apimachinery::pkg::api::resource::Quantity>& list);
  friend bool operator==(const Resource&, const Resource&) = default;
};

// True for resources the scheduler treats as scalar: extended (a domain-prefixed name outside
// kubernetes.io/), hugepages-*, attachable-volumes-*.
bool IsScalarResourceName(std::string_view name);
bool IsExtendedResourceName(std::string_view name);

// One (required or preferred) pod affinity term with its selectors parsed (framework.AffinityTerm).
// A pod matches when its namespace is in `namespaces` or its namespace's labels match
// `namespace_selector`, and its labels match `selector`.
struct AffinityTerm {
  std::set<std::string> namespaces;
  api::LabelSelector selector;
  std::string topology_key;
  api::LabelSelector namespace_selector = api::LabelSelector::Nothing();

  // `ns_labels` are the labels of the candidate's namespace (nullptr: unknown, matches only by name).
  bool Matches(const corev1::Pod& pod, const std::map<std::string, std::string>* ns_labels) const;
};

struct WeightedAffinityTerm {
  AffinityTerm term;
  int32_t weight = 0;
};

// A host port a container asks for (protocol "TCP"/"UDP"/"SCTP", hostIP "" = 0.0.0.0).
struct HostPort {
  std::string ip;
  std::string protocol;
  int32_t port = 0;
  friend auto operator<=>(const HostPort&, const HostPort&) = default;
};

// Host ports in use on a node (framework.HostPortInfo): ip -> {(protocol, port)}. 0.0.0.0 conflicts
// with every address for the same protocol and port.
class HostPortInfo {
 public:
  void Add(const HostPort& p);
  void Remove(const HostPort& p);
  bool CheckConflict(const HostPort& p) const;
  size_t size() const;

 private:
  std::map<std::string, std::map<std::pair<std::string, int32_t>, int>> ports_;  // ip -> (proto, port) -> count
};

struct PodInfo;
using PodInfoPtr = std::shared_ptr<const PodInfo>;

// A pod with its scheduling inputs parsed once (framework.PodInfo). Build with PodInfo::Create.
struct PodInfo {
  PodPtr pod;
  Resource requests;           // effective requests incl. init containers and overhead (PodRequests)
  Resource non_zero_requests;  // the same with 100m cpu / 200Mi memory for containers without requests
  std::vector<HostPort> host_ports;
  std::vector<AffinityTerm> required_affinity_terms;
  std::vector<AffinityTerm> required_anti_affinity_terms;
  std::vector<WeightedAffinityTerm> preferred_affinity_terms;
  std::vector<WeightedAffinityTerm> preferred_anti_affinity_terms;
  // Set (and nothing above but `pod`) on the stand-in the queue keeps for a pod whose spec does
  // not parse: the scheduling cycle reports it as the attempt's error.
  std::string parse_error;

  // Parses the pod. A label selector in an affinity term that does not parse is BadRequest naming
  // the pod; the scheduler then reports the pod as failing with that error.
  static Result<PodInfoPtr> Create(PodPtr pod);
  // Same, for tests: copies the pod.
  static Result<PodInfoPtr> Create(const corev1::Pod& pod);

  const std::string& name() const { return pod->metadata().name(); }
  const std::string& ns() const { return pod->metadata().namespace_(); }
  const std::string& uid() const { return pod->metadata().uid(); }
  int32_t priority() const { return pod->spec().has_priority() ? pod->spec().priority() : 0; }
  // "ns/name".
  std::string Key() const;
};

// Generations come from one process-wide counter so that a NodeInfo's generation is comparable to
// the snapshot's (upstream nextGeneration).
int64_t NextGeneration();

// A node and the pods assigned (or assumed) to it (framework.NodeInfo).
class NodeInfo {
 public:
  NodeInfo() = default;
  explicit NodeInfo(NodePtr node) { SetNode(std::move(node)); }

  // The node may be null for a NodeInfo that holds pods of a node the cache has not seen yet.
  const corev1::Node* node() const { return node_.get(); }
  const NodePtr& node_ptr() const { return node_; }
  const std::string& name() const;
  void SetNode(NodePtr node);
  void RemoveNode() {
    node_.reset();
    generation_ = NextGeneration();
  }

  const std::vector<PodInfoPtr>& pods() const { return pods_; }
  const std::vector<PodInfoPtr>& pods_with_affinity() const { return pods_with_affinity_; }
  const std::vector<PodInfoPtr>& pods_with_required_anti_affinity() const { return pods_with_required_anti_affinity_; }
  const HostPortInfo& used_ports() const { return used_ports_; }
  const Resource& requested() const { return requested_; }
  const Resource& non_zero_requested() const { return non_zero_requested_; }
  const Resource& allocatable() const { return allocatable_; }
  // Bumped on every change; the cache copies only NodeInfos whose generation moved.
  int64_t generation() const { return generation_; }

  void AddPod(PodInfoPtr pod);
  // Removes the pod with this uid. NotFound when it is not on the node.
  ck::Status RemovePod(const std::string& uid);
  bool HasPod(const std::string& uid) const;

  // A deep enough copy for a cycle to change (pods are shared, lists copied).
  std::shared_ptr<NodeInfo> Clone() const { return std::make_shared<NodeInfo>(*this); }

 private:
  NodePtr node_;
  std::vector<PodInfoPtr> pods_;
  std::vector<PodInfoPtr> pods_with_affinity_;
  std::vector<PodInfoPtr> pods_with_required_anti_affinity_;
  HostPortInfo used_ports_;
  Resource requested_;
  Resource non_zero_requested_;
  Resource allocatable_;
  int64_t generation_ = 0;
};

// A pod in the scheduling queue (framework.QueuedPodInfo).
struct QueuedPodInfo {
  PodInfoPtr pod_info;
  MonoTime timestamp{};                 // when it was last added to a queue (PrioritySort's tie-break)
  MonoTime initial_attempt_timestamp{}; // first pop (scheduler_pod_scheduling_sli_duration_seconds)
  bool has_initial_attempt = false;
  int attempts = 0;
  // Plugins that rejected it in the last attempt: only events those plugins registered for move
  // it out of the unschedulable pods.
  std::set<std::string> unschedulable_plugins;
  std::set<std::string> pending_plugins;

  const corev1::Pod& pod() const { return *pod_info->pod; }
};

}  // namespace ck::scheduler
