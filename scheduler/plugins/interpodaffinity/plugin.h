// InterPodAffinity (upstream plugins/interpodaffinity): required pod affinity and anti-affinity
// as a filter, preferred terms as a score, both over topology domains (a node label such as
// kubernetes.io/hostname or topology.kubernetes.io/zone).
//   PreFilter  counts, per topology pair, the existing pods whose required anti-affinity matches
//              the incoming pod (walking only nodes with such pods) and the pods matching the
//              incoming pod's required affinity / anti-affinity terms (walking every node, in
//              parallel). Skip when there is nothing to check.
//   Filter     rejects a node whose pair has a conflicting count; AddPod/RemovePod keep the counts
//              right for preemption's what-ifs.
//   PreScore   sums preferred term weights (and hardPodAffinityWeight for existing pods' required
//              affinity) per pair; Score adds a node's pairs; NormalizeScore maps min..max to 0..100.
// Namespace selectors of the incoming pod's terms are resolved through Listers::namespaces (may be
// null: then only the terms' namespace lists count).
// Speed: the counts of a pod shape that comes again (replicas) are kept across cycles and only the
// nodes whose NodeInfo generation moved are recounted (counts_memo.h); pairs live in a compact
// hashed table (topology_counts.h), so Filter and Score allocate nothing on the success path.
// Threading: PreFilter, PreScore, AddPod and RemovePod run on the scheduling thread one at a time
// (a lock guards the memos against misuse); Filter and Score run concurrently and only read the
// CycleState.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "scheduler/framework/interface.h"
#include "scheduler/framework/registry.h"
#include "scheduler/plugins/interpodaffinity/counts_memo.h"
#include "scheduler/plugins/interpodaffinity/state.h"

namespace ck::scheduler::plugins {

// Upstream's FailedScheduling reasons.
inline constexpr std::string_view kErrReasonExistingAntiAffinityRulesNotMatch =
    "node(s) didn't satisfy existing pods anti-affinity rules";
inline constexpr std::string_view kErrReasonAffinityRulesNotMatch = "node(s) didn't match pod affinity rules";
inline constexpr std::string_view kErrReasonAntiAffinityRulesNotMatch = "node(s) didn't match pod anti-affinity rules";

// InterPodAffinityArgs (kubescheduler.config.k8s.io/v1).
struct InterPodAffinityArgs {
  // Weight of an existing pod's required affinity term that the incoming pod matches, in [0, 100].
  int32_t hard_pod_affinity_weight = 1;
  // When the incoming pod has no preferred terms, do not score existing pods' terms either.
  bool ignore_preferred_terms_of_existing_pods = false;

  // Reads the YAML args (Null: defaults) and validates them like upstream. Invalid names the field:
  //   "InterPodAffinityArgs: hardPodAffinityWeight: Invalid value: 101: not in valid range [0, 100]"
  static Result<InterPodAffinityArgs> Parse(const PluginArgs& args);
};

class InterPodAffinity final : public PreFilterPlugin,
                               public FilterPlugin,
                               public PreScorePlugin,
                               public ScorePlugin,
                               public EnqueueExtensions {
 public:
  static constexpr std::string_view kName = "InterPodAffinity";

  // `handle` must outlive the plugin. `memoize` false recounts every cycle (tests compare both).
  InterPodAffinity(InterPodAffinityArgs args, Handle& handle, bool memoize = true);

  std::string_view Name() const override { return kName; }
  std::vector<ClusterEvent> EventsToRegister() const override;
  const InterPodAffinityArgs& args() const { return args_; }
  // Nodes the last PreFilter / PreScore counted: every listed node for a plain walk, only the
  // changed ones when a memo served the shape.
  size_t last_counted_nodes() const { return last_counted_nodes_; }

  // filtering.cc
  Verdict PreFilter(CycleState& state, const PodInfo& pod, const Snapshot& snapshot, PreFilterResult* result) override;
  bool HasPreFilterExtensions() const override { return true; }
  Verdict AddPod(CycleState& state, const PodInfo& pod, const PodInfoPtr& other, const NodeInfo& node) override;
  Verdict RemovePod(CycleState& state, const PodInfo& pod, const PodInfoPtr& other, const NodeInfo& node) override;
  Verdict Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const override;

  // scoring.cc
  Verdict PreScore(CycleState& state, const PodInfo& pod, const std::vector<const NodeInfo*>& nodes) override;
  Verdict Score(const CycleState& state, const PodInfo& pod, const NodeInfo& node, int64_t* score) const override;
  bool HasNormalizeScore() const override { return true; }
  Verdict NormalizeScore(const CycleState& state, const PodInfo& pod, std::vector<NodeScore>& scores) const override;

 private:
  using NodeList = std::vector<std::shared_ptr<NodeInfo>>;

  // Replaces the term's namespaceSelector by the names of the namespaces it selects (upstream
  // mergeAffinityTermNamespacesIfNotEmpty); an empty selector (all namespaces) stays.
  void MergeNamespaces(AffinityTerm& term) const;
  // The labels of namespace `ns` (empty when unknown or no namespace lister).
  NamespaceLabels NamespaceLabelsOf(const std::string& ns) const;

  // Counts the emissions of `visit` over `nodes` into `out` (out[i] gets table i): from the memo
  // of `shape` when it has one, else by a plain walk. Returns the number of emissions counted.
  size_t Count(MemoCache& memos, const std::string& shape, const NodeList& nodes, const NodeVisit& visit,
               const std::vector<TopologyPairCounts*>& out);

  InterPodAffinityArgs args_;
  Handle& handle_;
  const bool memoize_;
  std::mutex mu_;                    // PreFilter/PreScore are sequential; the lock only guards misuse
  std::vector<EmitBuffer> scratch_;  // guarded by mu_
  MemoCache filter_memos_;           // guarded by mu_; 3 tables: existing anti, affinity, anti
  MemoCache score_memos_;            // guarded by mu_; 1 table: weights
  size_t last_counted_nodes_ = 0;    // written under mu_ on the scheduling thread
};

// The registry's factory: parses the args and builds the plugin.
Result<std::unique_ptr<Plugin>> NewInterPodAffinity(const PluginArgs& args, Handle& handle);

}  // namespace ck::scheduler::plugins
