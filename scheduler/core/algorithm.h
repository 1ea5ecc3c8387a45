// The scheduling cycle's decision for one pod (upstream schedule_one.go schedulePod and its
// helpers): PreFilter, then Filter over the nodes starting where the previous cycle stopped
// (round-robin) until percentageOfNodesToScore's number of feasible nodes is found, in parallel;
// PreScore and Score on those; the highest total wins, ties broken uniformly at random by
// reservoir sampling with the injected Random. A pod with status.nominatedNodeName tries that
// node first. When no node fits, the Diagnosis says why per node, and FitErrorMessage turns it
// into FailedScheduling's "0/500 nodes are available: 3 Insufficient cpu, ...".
// Threading: one ScheduleAlgorithm per scheduler, used by the scheduling loop only.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/base/random.h"
#include "scheduler/core/explain.h"
#include "scheduler/framework/framework.h"

namespace ck::scheduler {

// Why no node fitted (upstream framework.Diagnosis).
struct Diagnosis {
  NodeToVerdict node_to_verdict;
  std::set<std::string> unschedulable_plugins;
  std::set<std::string> pending_plugins;
  std::string pre_filter_message;
  std::string post_filter_message;
};

// FailedScheduling's message (upstream FitError.Error()):
//   "0/<all> nodes are available: <count> <reason>, ... ." then " <post-filter message>." if any.
// When PreFilter rejected the pod, its message replaces the per-node histogram.
std::string FitErrorMessage(int64_t num_all_nodes, const Diagnosis& d);

struct ScheduleOutcome {
  enum class Kind { kScheduled, kUnschedulable, kError };
  Kind kind = Kind::kError;
  std::string node;            // kScheduled
  int64_t feasible_nodes = 0;
  Diagnosis diagnosis;         // kUnschedulable
  int64_t num_all_nodes = 0;
  Status error;                // kError
};

class ScheduleAlgorithm {
 public:
  // `global_percentage`: the configuration's percentageOfNodesToScore (a profile's own value wins).
  ScheduleAlgorithm(Random& random, std::optional<int32_t> global_percentage)
      : random_(random), global_percentage_(global_percentage) {}

  // Decides where `pod` goes on `snapshot` (the framework's snapshot must be set to it). `explain`
  // (may be null) receives the decision's details.
  ScheduleOutcome Schedule(Framework& fwk, CycleState& state, const PodInfo& pod, const Snapshot& snapshot,
                           ExplainRecord* explain);

  int64_t next_start_node_index() const { return next_start_node_index_; }

 private:
  // Fills `d` with the rejected nodes only when none passed (preemption and FailedScheduling need
  // them then; a pod that fits pays for no map), and `explain` (may be null) always.
  std::vector<const NodeInfo*> FindNodesThatPassFilters(Framework& fwk, CycleState& state, const PodInfo& pod,
                                                        const std::vector<NodeInfo*>& nodes, Diagnosis* d,
                                                        int64_t* num_to_find, ExplainRecord* explain);
  std::shared_ptr<const std::vector<std::string>> NodeOrder(const Snapshot& snapshot);

  Random& random_;
  const std::optional<int32_t> global_percentage_;
  int64_t next_start_node_index_ = 0;
  // The node names of the last snapshot order, shared by explain records until nodes change.
  const Snapshot* order_snapshot_ = nullptr;
  uint64_t order_version_ = 0;
  std::shared_ptr<const std::vector<std::string>> order_names_;
  // Scratch reused by every cycle (the loop is single-threaded).
  std::vector<NodeInfo*> all_nodes_;
  std::vector<Verdict> verdicts_;
  std::vector<uint8_t> failed_;
  std::vector<const NodeInfo*> found_;
};

}  // namespace ck::scheduler
