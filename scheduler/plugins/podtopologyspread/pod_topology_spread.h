// PodTopologySpread (upstream plugins/podtopologyspread): spreads matching pods evenly over
// topology domains (zones, hosts, any node label).
//   Filter side  (PreFilter, Filter, AddPod/RemovePod): the pod's whenUnsatisfiable=DoNotSchedule
//     constraints. A node passes when, for every constraint,
//       matching pods in the node's domain + (1 if the pod matches itself) - global minimum <= maxSkew
//     where the global minimum is the smallest count over the eligible domains, or 0 when there
//     are fewer eligible domains than minDomains. Eligible nodes hold every constraint's topology
//     key and pass nodeAffinityPolicy (Honor: the pod's nodeSelector/required node affinity) and
//     nodeTaintsPolicy (Honor: the pod tolerates the node's NoSchedule/NoExecute taints).
//   Score side (PreScore, Score, NormalizeScore): the ScheduleAnyway constraints; fewer matching
//     pods in a node's domains scores higher, each constraint weighted by log(domains + 2).
//   Pods without constraints of their own get the cluster defaults (args.h) with a selector made
//     from the Services / ReplicationControllers / ReplicaSets / StatefulSets selecting them.
// Counting covers pods in the pod's namespace that are not terminating, on every snapshot node.
// Node facts (topology values, matching-pod counts) are kept across cycles in a SpreadCache and
// re-read only for nodes whose NodeInfo changed (spread_cache.h).
// Threading: PreFilter and PreScore run on the scheduling thread, one at a time per plugin
// instance (they update the cache); AddPod/RemovePod change only their own CycleState; Filter,
// Score and NormalizeScore are const and run concurrently, reading the CycleState written before.
#pragma once

#include <memory>
#include <mutex>  // before cycle_state.h (via interface.h), which uses std::unique_lock without including it
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "scheduler/framework/interface.h"
#include "scheduler/framework/registry.h"
#include "scheduler/plugins/podtopologyspread/args.h"
#include "scheduler/plugins/podtopologyspread/common.h"
#include "scheduler/plugins/podtopologyspread/node_matching.h"
#include "scheduler/plugins/podtopologyspread/spread_cache.h"

namespace ck::scheduler::plugins {

class PodTopologySpread final : public PreFilterPlugin,
                                public FilterPlugin,
                                public PreScorePlugin,
                                public ScorePlugin,
                                public EnqueueExtensions {
 public:
  static constexpr std::string_view kName = "PodTopologySpread";
  // Filter reasons (ErrReasonConstraintsNotMatch, ErrReasonNodeLabelNotMatch).
  static constexpr std::string_view kReasonConstraintsNotMatch =
      "node(s) didn't match pod topology spread constraints";
  static constexpr std::string_view kReasonNodeLabelNotMatch =
      "node(s) didn't match pod topology spread constraints (missing required label)";
  // CycleState keys.
  static constexpr std::string_view kPreFilterStateKey = "PreFilterPodTopologySpread";
  static constexpr std::string_view kPreScoreStateKey = "PreScorePodTopologySpread";

  // `handle` outlives the plugin; `args` are already validated.
  PodTopologySpread(Handle& handle, PodTopologySpreadArgs args);

  std::string_view Name() const override { return kName; }

  // Counts matching pods per domain of each DoNotSchedule constraint over every snapshot node
  // (in parallel), once per cycle. Skip when the pod has no DoNotSchedule constraint; Error when
  // a selector does not parse.
  Verdict PreFilter(CycleState& state, const PodInfo& pod, const Snapshot& snapshot,
                    PreFilterResult* result) override;
  bool HasPreFilterExtensions() const override { return true; }
  // Preemption's "what if `other` were on / gone from `node`": adjusts the counts in `state`
  // (preemption's own clone; not called concurrently with Filter on the same state).
  Verdict AddPod(CycleState& state, const PodInfo& pod, const PodInfoPtr& other,
                 const NodeInfo& node) override;
  Verdict RemovePod(CycleState& state, const PodInfo& pod, const PodInfoPtr& other,
                    const NodeInfo& node) override;

  // O(constraints) lookups; no allocation unless the node is rejected.
  //   UnschedulableAndUnresolvable kReasonNodeLabelNotMatch: the node lacks a topology key.
  //   Unschedulable kReasonConstraintsNotMatch: placing the pod here exceeds some maxSkew.
  Verdict Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const override;

  // Counts for the ScheduleAnyway constraints over every snapshot node and precomputes each
  // feasible node's raw score. Skip when the pod has no such constraint (or no nodes exist).
  Verdict PreScore(CycleState& state, const PodInfo& pod, const std::vector<const NodeInfo*>& nodes) override;
  // The weighted count of matching pods in the node's domains (lower is better; 0 for ignored
  // nodes, those lacking a topology key).
  Verdict Score(const CycleState& state, const PodInfo& pod, const NodeInfo& node,
                int64_t* score) const override;
  bool HasNormalizeScore() const override { return true; }
  // Maps raw scores to [0, 100], fewest matching pods best; ignored nodes get 0.
  Verdict NormalizeScore(const CycleState& state, const PodInfo& pod,
                         std::vector<NodeScore>& scores) const override;

  // Pod add / delete / label change, node add / delete / label change / taint change.
  std::vector<ClusterEvent> EventsToRegister() const override;

  // The pod's own constraints of `action` ("DoNotSchedule" / "ScheduleAnyway"), or, when it has
  // none, the cluster defaults of that action with the deduced selector (none when the deduced
  // selector is empty). BadRequest when a selector does not parse.
  Result<std::vector<podtopologyspread_internal::Constraint>> ConstraintsFor(const corev1::Pod& pod,
                                                                             std::string_view action) const;
  // The selector deduced from the Services, ReplicationControllers, ReplicaSets and StatefulSets
  // that select `pod` (helper.DefaultSelector), from the handle's listers.
  api::LabelSelector DefaultSelector(const corev1::Pod& pod) const;

  bool system_defaulted() const { return system_defaulted_; }

 private:
  static constexpr uint8_t kAffinityOk = 1;  // Inclusion bits
  static constexpr uint8_t kTaintsOk = 2;
  // Per snapshot row, whether the node passes the pod's required node affinity and whether the
  // pod tolerates its NoSchedule/NoExecute taints; only the asked-for checks run (the others read
  // as passed). Computed in parallel; valid until the next call.
  const std::vector<uint8_t>& Inclusion(const podtopologyspread_internal::SpreadCache::NodeList& nodes,
                                        const corev1::Pod& pod,
                                        const podtopologyspread_internal::RequiredNodeAffinity& affinity,
                                        bool check_affinity, bool check_taints);

  Handle& handle_;
  podtopologyspread_internal::ApiConstraints default_constraints_;
  bool system_defaulted_ = false;
  // Node facts kept across cycles; used by PreFilter and PreScore only (the scheduling thread).
  podtopologyspread_internal::SpreadCache cache_;
  std::vector<uint8_t> inclusion_;  // Inclusion's answer
};

// The registry factory: parses and validates `args` (PodTopologySpreadArgs) and builds the plugin.
Result<std::unique_ptr<Plugin>> NewPodTopologySpread(const PluginArgs& args, Handle& handle);

}  // namespace ck::scheduler::plugins
