// InterPodAffinity's per-cycle data (upstream preFilterState and preScoreState), written by
// PreFilter / PreScore into the CycleState and read by Filter / Score for every node.
//   existing_anti_affinity_counts  pairs where an existing pod's required anti-affinity term
//                                  matches the incoming pod
//   affinity_counts                pairs holding a pod that matches all the incoming pod's
//                                  required affinity terms (one count per term)
//   anti_affinity_counts           pairs holding a pod that matches one of the incoming pod's
//                                  required anti-affinity terms
// Threading: written in PreFilter / PreScore and by AddPod / RemovePod on a clone during
// preemption; read concurrently by Filter / Score.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "scheduler/framework/cycle_state.h"
#include "scheduler/framework/types.h"
#include "scheduler/plugins/interpodaffinity/terms.h"
#include "scheduler/plugins/interpodaffinity/topology_counts.h"

namespace ck::scheduler::plugins {

// CycleState keys (upstream "PreFilter" + Name, "PreScore" + Name).
inline const std::string kInterPodAffinityPreFilterKey = "PreFilterInterPodAffinity";
inline const std::string kInterPodAffinityPreScoreKey = "PreScoreInterPodAffinity";

// The incoming pod as PreFilter prepared it; shared, never changed after PreFilter.
struct IncomingPod {
  PodPtr pod;
  // The required terms with the namespaceSelector merged into `namespaces` (upstream
  // mergeAffinityTermNamespacesIfNotEmpty), so matching them needs no namespace labels.
  std::vector<AffinityTerm> affinity_terms;
  std::vector<AffinityTerm> anti_affinity_terms;
  // The id of each term's topology key in affinity_counts / anti_affinity_counts.
  std::vector<TopologyPairCounts::KeyId> affinity_key_ids;
  std::vector<TopologyPairCounts::KeyId> anti_affinity_key_ids;
  // The labels of the pod's namespace, for existing pods' namespaceSelectors.
  NamespaceLabels namespace_labels;
  // The pod matches all its own affinity terms (it may be the first of its group).
  bool matches_own_affinity = false;
};

class PreFilterState final : public StateData {
 public:
  TopologyPairCounts existing_anti_affinity_counts;
  TopologyPairCounts affinity_counts;
  TopologyPairCounts anti_affinity_counts;
  std::shared_ptr<const IncomingPod> incoming;

  std::unique_ptr<StateData> Clone() const override { return std::make_unique<PreFilterState>(*this); }

  // Counts `other` on `node` `multiplier` times (+1: AddPod, -1: RemovePod), as upstream
  // updateWithPod.
  void UpdateWithPod(const PodInfo& other, const corev1::Node& node, int64_t multiplier);
};

class PreScoreState final : public StateData {
 public:
  // Sum of weights per topology pair (upstream scoreMap); never changed after PreScore.
  std::shared_ptr<const TopologyPairCounts> topology_score;

  std::unique_ptr<StateData> Clone() const override { return std::make_unique<PreScoreState>(*this); }
};

}  // namespace ck::scheduler::plugins
