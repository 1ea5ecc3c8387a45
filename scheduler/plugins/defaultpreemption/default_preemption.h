// DefaultPreemption: the PostFilter plugin that makes room for a pod no node can take, by evicting
// pods of lower priority (upstream plugins/defaultpreemption with framework/preemption's
// Evaluator, synchronous mode). One PostFilter call:
//   1. eligibility: preemptionPolicy Never, or victims of an earlier preemption still terminating
//      on the pod's nominated node, end it ("preemption: not eligible due to ...");
//   2. candidates: only nodes whose Filter verdict was Unschedulable; from a random offset, a dry
//      run per node (in parallel) removes every lower-priority pod, checks the pod fits, then gives
//      back as many victims as still let it fit (PDB-violating ones first, most important first);
//   3. one node is picked (PickOneNodeForPreemption) and its victims get the DisruptionTarget
//      condition and are deleted through the API, with a `Preempted` event each; lower-priority
//      pods nominated to that node lose their nomination;
//   4. Success with PostFilterResult.nominated_node_name; the scheduler records the preemptor's
//      nomination (status.nominatedNodeName), as upstream's scheduler does with the result.
// Failure is Unschedulable with upstream's FitError text, e.g.
//   "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod,
//    2 Preemption is not helpful for scheduling."
// Threading: PostFilter runs on the scheduling loop's thread; the dry runs fan out on the
// Handle's Parallelizer and only touch their own NodeInfo and CycleState clones.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "scheduler/framework/interface.h"
#include "scheduler/framework/registry.h"
#include "scheduler/plugins/defaultpreemption/candidate.h"
#include "scheduler/plugins/defaultpreemption/default_preemption_args.h"

namespace ck::scheduler::plugins {

// Reasons and messages, as upstream writes them.
inline constexpr std::string_view kNoPreemptionVictims = "No preemption victims found for incoming pod";
inline constexpr std::string_view kPreemptionNotHelpful = "Preemption is not helpful for scheduling";
inline constexpr std::string_view kNotEligiblePreemptNever = "not eligible due to preemptionPolicy=Never.";
inline constexpr std::string_view kNotEligibleTerminating =
    "not eligible due to a terminating pod on the nominated node.";
// Pod condition written on each victim before it is deleted.
inline constexpr std::string_view kDisruptionTarget = "DisruptionTarget";
inline constexpr std::string_view kPreemptionByScheduler = "PreemptionByScheduler";

class DefaultPreemption final : public PostFilterPlugin {
 public:
  static constexpr std::string_view kName = "DefaultPreemption";

  // `handle` outlives the plugin.
  DefaultPreemption(DefaultPreemptionArgs args, Handle& handle);

  std::string_view Name() const override { return kName; }

  // See the file comment. Error (retried by the scheduler) when an API call for a victim fails
  // with anything but NotFound, or when a dry run fails internally on every node.
  Verdict PostFilter(CycleState& state, const PodInfo& pod, const NodeToVerdict& filtered,
                     PostFilterResult* result) override;

  // ---- the steps, public for tests ----

  // Whether `pod` may preempt; when not, `*reason` gets upstream's message (without "preemption: ").
  bool PodEligibleToPreemptOthers(const corev1::Pod& pod, const NodeToVerdict& filtered,
                                  std::string* reason) const;

  // The dry run on one node: `node` and `state` are the caller's clones and are changed. Success
  // with `*victims` (most important first) and the number of them whose eviction violates a PDB;
  // UnschedulableAndUnresolvable kNoPreemptionVictims when no pod has lower priority; the Filter
  // verdict when the pod does not fit even with every lower-priority pod gone; Error when a
  // PreFilter extension fails.
  Verdict SelectVictimsOnNode(CycleState& state, const PodInfo& pod, NodeInfo& node,
                              const std::vector<PdbInfo>& pdbs, WallTime now,
                              std::vector<PodInfoPtr>* victims, int64_t* num_pdb_violations) const;

  // How many candidates to look for among `num_nodes` potential nodes (upstream calculateNumCandidates).
  int32_t CalculateNumCandidates(int32_t num_nodes) const;

  const DefaultPreemptionArgs& args() const { return args_; }

 private:
  // Dry runs from a random offset until enough candidates are found. Candidates that violate no
  // PDB come first. `statuses` gets the verdict of every node that is not a candidate; `errors`
  // the messages of internal failures.
  std::vector<Candidate> DryRunPreemption(CycleState& state, const PodInfo& pod,
                                          const std::vector<const NodeInfo*>& potential,
                                          const std::vector<PdbInfo>& pdbs, WallTime now,
                                          NodeToVerdict* statuses, std::vector<std::string>* errors);
  // Evicts the chosen candidate's victims and clears lower-priority nominations to its node.
  Status PrepareCandidate(const Candidate& candidate, const corev1::Pod& preemptor);
  // DisruptionTarget condition, delete, event. NotFound (the victim is gone already) is OK.
  Status PreemptPod(const Candidate& candidate, const corev1::Pod& preemptor, const corev1::Pod& victim);

  const DefaultPreemptionArgs args_;
  Handle& handle_;
};

// Registry factory: parses and validates the args (defaults when Null).
Result<std::unique_ptr<Plugin>> NewDefaultPreemption(const PluginArgs& args, Handle& handle);

}  // namespace ck::scheduler::plugins
