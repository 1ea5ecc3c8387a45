// What PodTopologySpread's filter half (filtering.cc) and score half (scoring.cc) share: the
// parsed constraint (upstream topologySpreadConstraint), its construction from the API's
// TopologySpreadConstraint (filterTopologySpreadConstraints, with matchLabelKeys merged into the
// selector), pod counting (countPodsMatchSelector), and NodeIndex, a flat hash table from a
// NodeInfo's address to its row in a cycle's per-node arrays.
// Threading: everything here is a plain value; the tables are read concurrently once built.
#pragma once

#include <google/protobuf/map.h>
#include <google/protobuf/repeated_ptr_field.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/api/label_selector.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/base/status.h"
#include "scheduler/framework/types.h"

namespace ck::scheduler::plugins::podtopologyspread_internal {

namespace corev1 = ::k8s::io::api::core::v1;
using Labels = google::protobuf::Map<std::string, std::string>;
using ApiConstraints = google::protobuf::RepeatedPtrField<corev1::TopologySpreadConstraint>;

inline constexpr std::string_view kLabelHostname = "kubernetes.io/hostname";
inline constexpr std::string_view kLabelTopologyZone = "topology.kubernetes.io/zone";
inline constexpr std::string_view kDoNotSchedule = "DoNotSchedule";
inline constexpr std::string_view kScheduleAnyway = "ScheduleAnyway";
inline constexpr std::string_view kPolicyHonor = "Honor";
inline constexpr std::string_view kPolicyIgnore = "Ignore";

// The value of `key` in `labels`, or nullptr; no std::string is built for the lookup.
const std::string* FindLabel(const Labels& labels, std::string_view key);
// `selector` against proto labels without per-lookup allocation.
bool SelectorMatches(const api::LabelSelector& selector, const Labels& labels);

// One spread constraint with its selector parsed and the API's defaults applied.
struct Constraint {
  int32_t max_skew = 0;
  std::string topology_key;
  api::LabelSelector selector = api::LabelSelector::Nothing();  // a nil labelSelector selects nothing
  int32_t min_domains = 1;                                      // nil minDomains counts as 1
  bool honor_node_affinity = true;                              // nodeAffinityPolicy, nil = Honor
  bool honor_node_taints = false;                               // nodeTaintsPolicy, nil = Ignore
  bool is_hostname = false;                                     // topology_key == kubernetes.io/hostname
};

// The constraints of `in` whose whenUnsatisfiable is `action`, in order. matchLabelKeys adds
// "key=<pod's value>" for each listed key the pod has (a nil selector stays nil). A selector
// that does not parse is BadRequest.
Result<std::vector<Constraint>> FilterConstraints(const ApiConstraints& in, const Labels& pod_labels,
                                                  std::string_view action);

// True when `labels` hold every constraint's topology key (nodeLabelsMatchSpreadConstraints).
bool NodeHasAllKeys(const Labels& labels, const std::vector<Constraint>& constraints);

// Pods of `pods` in namespace `ns`, not terminating (no deletionTimestamp, upstream #87621), whose
// labels match `selector`. A nil selector counts nothing without looking at the pods.
int CountMatchingPods(const std::vector<PodInfoPtr>& pods, const api::LabelSelector& selector,
                      std::string_view ns);

// NodeInfo address -> row (0..n-1) for one cycle's per-node arrays.
class NodeIndex {
 public:
  void Reset(size_t n);
  void Insert(const NodeInfo* node, int32_t row);
  // The row of `node`, or -1 (a node the cycle did not index, e.g. preemption's copy of one).
  int32_t Find(const NodeInfo* node) const;

 private:
  struct Slot {
    const NodeInfo* node = nullptr;
    int32_t row = -1;
  };
  size_t SlotOf(const NodeInfo* node) const;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

}  // namespace ck::scheduler::plugins::podtopologyspread_internal
