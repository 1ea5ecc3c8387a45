// Preemption candidates and the rules that order them (upstream framework/preemption and
// defaultpreemption): a Candidate is a node plus the pods that must go for the preemptor to fit
// there; PodDisruptionBudgets decide which victims count as violations; PickOneNodeForPreemption
// chooses among the candidates the way kube-scheduler does.
// "Importance" is upstream's util.MoreImportantPod: higher priority first, then the pod that
// started earlier (a pod without status.startTime counts as starting `now`).
// Pure functions over values the caller owns; thread-safe.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "common/api/label_selector.h"
#include "common/base/clock.h"
#include "scheduler/framework/types.h"

namespace ck::client {
class Indexer;
}

namespace ck::scheduler::plugins {

struct Candidate {
  std::string node;
  std::vector<PodInfoPtr> victims;  // most important first
  int64_t num_pdb_violations = 0;
};

// The parts of a policy/v1 PodDisruptionBudget that preemption reads.
struct PdbInfo {
  std::string ns;
  api::LabelSelector selector;           // never empty (empty and nil selectors match nothing)
  int32_t disruptions_allowed = 0;       // status.disruptionsAllowed
  std::set<std::string> disrupted_pods;  // status.disruptedPods: already counted by the apiserver
};

// The PDBs of `lister` (null: none), in key order. PDBs whose selector is nil, empty or invalid
// match no pod and are left out.
std::vector<PdbInfo> PdbsFromLister(const client::Indexer* lister);

// status.startTime, or `now` when the pod has not started (upstream GetPodStartTime).
WallTime PodStartTime(const corev1::Pod& pod, WallTime now);
// True when `a` should be kept in preference to `b`.
bool MoreImportantPod(const corev1::Pod& a, const corev1::Pod& b, WallTime now);

// Splits `pods` (order kept) into those whose eviction would take a matching PDB below zero
// disruptions, counting the pods in order, and the others (upstream filterPodsWithPDBViolation).
void FilterPodsWithPdbViolation(const std::vector<PodInfoPtr>& pods, const std::vector<PdbInfo>& pdbs,
                                std::vector<PodInfoPtr>* violating, std::vector<PodInfoPtr>* non_violating);

// The index of the candidate to preempt on (`candidates` must not be empty): fewest PDB
// violations, then the lowest highest-priority victim, then the smallest sum of victim priorities,
// then the fewest victims, then the latest start among the highest-priority victims, then the
// first in order.
size_t PickOneNodeForPreemption(const std::vector<Candidate>& candidates, WallTime now);

}  // namespace ck::scheduler::plugins
