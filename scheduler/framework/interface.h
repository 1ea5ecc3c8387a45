// The scheduling framework's extension points (upstream framework/interface.go), one small
// interface each. A plugin is one class (scheduler/plugins/<name>/) that implements the points it
// needs; the registry table (scheduler/plugins/registry.cc) names every plugin and its factory,
// and a profile (config) says which points each plugin runs at and with which score weight.
//
// One scheduling cycle, as the framework runs it (framework.h):
//   QueueSort orders the queue -> PreFilter (once per pod) -> Filter (per node, in parallel)
//   -> PostFilter (only when no node fits: preemption) -> PreScore -> Score (per node, parallel)
//   -> NormalizeScore -> pick the best node -> Reserve -> Permit -> [binding cycle, async]
//   PreBind -> Bind -> PostBind.  A failure after Reserve runs Unreserve in reverse order.
//
// Threading: Filter and Score are called concurrently for different nodes of one cycle and must
// only read the CycleState and NodeInfo they are given; the other points run on the scheduling
// loop's thread (or the pod's binding thread) one at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/clock.h"
#include "scheduler/framework/cycle_state.h"
#include "scheduler/framework/snapshot.h"
#include "scheduler/framework/types.h"
#include "scheduler/framework/verdict.h"

namespace ck {
class Random;
namespace client {
class ApiClient;
class Indexer;
class EventRecorder;
}  // namespace client
}  // namespace ck

namespace ck::scheduler {

class Parallelizer;

class Plugin {
 public:
  virtual ~Plugin() = default;
  // The upstream name ("NodeResourcesFit"); the registry key and the `plugin` of its verdicts.
  virtual std::string_view Name() const = 0;
};

// ---- cluster events: what can make a rejected pod schedulable (framework.ClusterEvent) ----

enum class EventResource { kPod, kAssignedPod, kNode, kNamespace, kPersistentVolume, kPersistentVolumeClaim, kStorageClass, kService, kPodDisruptionBudget, kWildCard };
// Bit set of what happened.
enum ActionType : uint32_t {
  kActionAdd = 1u << 0,
  kActionDelete = 1u << 1,
  kActionUpdateNodeAllocatable = 1u << 2,
  kActionUpdateNodeLabel = 1u << 3,
  kActionUpdateNodeTaint = 1u << 4,
  kActionUpdateNodeCondition = 1u << 5,
  kActionUpdatePodLabel = 1u << 6,
  kActionUpdatePodScaleDown = 1u << 7,  // a pod's requests went down
  kActionUpdateOther = 1u << 8,
  kActionUpdate = kActionUpdateNodeAllocatable | kActionUpdateNodeLabel | kActionUpdateNodeTaint |
                  kActionUpdateNodeCondition | kActionUpdatePodLabel | kActionUpdatePodScaleDown | kActionUpdateOther,
  kActionAll = kActionAdd | kActionDelete | kActionUpdate,
};

struct ClusterEvent {
  EventResource resource = EventResource::kWildCard;
  uint32_t actions = kActionAll;
  std::string label;  // for logs and metrics: "NodeAdd", "AssignedPodDelete", ...

  // True when `happened` is covered by this registration (same resource or wildcard, and a
  // shared action bit). A registration for kPod also covers kAssignedPod, as upstream's Pod
  // event covers assigned and unscheduled pods alike.
  bool Covers(const ClusterEvent& happened) const {
    bool same = resource == EventResource::kWildCard || resource == happened.resource ||
                (resource == EventResource::kPod && happened.resource == EventResource::kAssignedPod);
    return same && (actions & happened.actions) != 0;
  }
};

// Plugins that can reject a pod say which events may change their mind
// (framework.EnqueueExtensions). A pod rejected only by plugins that did not register an event
// stays parked when that event happens.
class EnqueueExtensions {
 public:
  virtual ~EnqueueExtensions() = default;
  virtual std::vector<ClusterEvent> EventsToRegister() const = 0;
};

// ---- extension points ----

class QueueSortPlugin : public virtual Plugin {
 public:
  // True when `a` should be popped before `b`.
  virtual bool Less(const QueuedPodInfo& a, const QueuedPodInfo& b) const = 0;
};

// What PreFilter learned: the only nodes worth filtering (nullopt: all of them).
struct PreFilterResult {
  std::optional<std::set<std::string>> node_names;
  bool AllNodes() const { return !node_names.has_value(); }
  // The intersection of two results (upstream PreFilterResult.Merge).
  PreFilterResult Merge(const PreFilterResult& other) const;
};

class PreFilterPlugin : public virtual Plugin {
 public:
  // Once per cycle, before Filter. Skip means "Filter has nothing to do for this pod".
  // `snapshot` is the cycle's snapshot; `result` may narrow the nodes.
  virtual Verdict PreFilter(CycleState& state, const PodInfo& pod, const Snapshot& snapshot, PreFilterResult* result) = 0;

  // PreFilterExtensions: keep the PreFilter state right when preemption pretends `other` is added
  // to or removed from `node` (only plugins whose state depends on other pods need them).
  virtual bool HasPreFilterExtensions() const { return false; }
  virtual Verdict AddPod(CycleState& /*state*/, const PodInfo& /*pod*/, const PodInfoPtr& /*other*/,
                         const NodeInfo& /*node*/) {
    return Verdict::Success();
  }
  virtual Verdict RemovePod(CycleState& /*state*/, const PodInfo& /*pod*/, const PodInfoPtr& /*other*/,
                            const NodeInfo& /*node*/) {
    return Verdict::Success();
  }
};

class FilterPlugin : public virtual Plugin {
 public:
  // Can `pod` run on `node`? Called concurrently for different nodes.
  virtual Verdict Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const = 0;
};

// The verdict of each node that did not pass (upstream NodeToStatusMap), plus how many nodes there were.
using NodeToVerdict = std::map<std::string, Verdict>;

struct PostFilterResult {
  std::string nominated_node_name;  // "" when nothing was nominated
};

class PostFilterPlugin : public virtual Plugin {
 public:
  // Called when no node passed Filter. Success with a nominated node means "retry there soon";
  // Unschedulable means it could not help (the reasons end up in FailedScheduling's message,
  // e.g. "preemption: 0/3 nodes are available: ...").
  virtual Verdict PostFilter(CycleState& state, const PodInfo& pod, const NodeToVerdict& filtered,
                             PostFilterResult* result) = 0;
};

class PreScorePlugin : public virtual Plugin {
 public:
  // Once per cycle with the feasible nodes. Skip means "Score has nothing to do".
  virtual Verdict PreScore(CycleState& state, const PodInfo& pod, const std::vector<const NodeInfo*>& nodes) = 0;
};

struct NodeScore {
  std::string name;
  int64_t score = 0;
};

class ScorePlugin : public virtual Plugin {
 public:
  // A score for `node`, usually in [0, 100]; called concurrently for different nodes.
  virtual Verdict Score(const CycleState& state, const PodInfo& pod, const NodeInfo& node, int64_t* score) const = 0;
  // ScoreExtensions: rescale the raw scores of every node into [0, 100].
  virtual bool HasNormalizeScore() const { return false; }
  virtual Verdict NormalizeScore(const CycleState& /*state*/, const PodInfo& /*pod*/,
                                 std::vector<NodeScore>& /*scores*/) const {
    return Verdict::Success();
  }
};

class ReservePlugin : public virtual Plugin {
 public:
  // The pod is assumed on `node`; keep plugin state in step. A rejection undoes the cycle.
  virtual Verdict Reserve(CycleState& state, const PodInfo& pod, const std::string& node) = 0;
  // Undo Reserve (called in reverse plugin order, also for plugins whose Reserve was not reached).
  virtual void Unreserve(CycleState& state, const PodInfo& pod, const std::string& node) = 0;
};

class PermitPlugin : public virtual Plugin {
 public:
  // Success, a rejection, or Wait with `*timeout`: the binding cycle then waits until every
  // waiting plugin allows the pod (Framework::AllowWaitingPod) or rejects it, or the timeout.
  virtual Verdict Permit(CycleState& state, const PodInfo& pod, const std::string& node, Duration* timeout) = 0;
};

class PreBindPlugin : public virtual Plugin {
 public:
  virtual Verdict PreBind(CycleState& state, const PodInfo& pod, const std::string& node) = 0;
};

class BindPlugin : public virtual Plugin {
 public:
  // Binds the pod, or Skip to leave it to the next bind plugin.
  virtual Verdict Bind(CycleState& state, const PodInfo& pod, const std::string& node) = 0;
};

class PostBindPlugin : public virtual Plugin {
 public:
  virtual void PostBind(CycleState& state, const PodInfo& pod, const std::string& node) = 0;
};

// ---- what plugins may use of the scheduler ----

// Read-only caches of other resources, from the scheduler's informers (null when not wired, e.g.
// in unit tests that do not need them). Keys are "ns/name" (cluster-scoped: "name").
struct Listers {
  const client::Indexer* namespaces = nullptr;
  const client::Indexer* pod_disruption_budgets = nullptr;
  const client::Indexer* priority_classes = nullptr;
  const client::Indexer* services = nullptr;
  const client::Indexer* replication_controllers = nullptr;
  const client::Indexer* replica_sets = nullptr;
  const client::Indexer* stateful_sets = nullptr;
  const client::Indexer* pods = nullptr;  // every pod the scheduler's informer holds
};

// Pods nominated to run on a node after preemption (upstream PodNominator). Filter treats them as
// already there when they have equal or higher priority than the pod being scheduled.
class PodNominator {
 public:
  virtual ~PodNominator() = default;
  virtual std::vector<PodInfoPtr> NominatedPodsForNode(const std::string& node) const = 0;
  // Records (or, with node "", clears) `pod`'s nomination.
  virtual void AddNominatedPod(const PodInfoPtr& pod, const std::string& node) = 0;
  virtual void DeleteNominatedPodIfExists(const corev1::Pod& pod) = 0;
};

// The framework as plugins see it (upstream framework.Handle).
class Handle {
 public:
  virtual ~Handle() = default;
  // The current cycle's snapshot.
  virtual const Snapshot& snapshot() const = 0;
  virtual const Listers& listers() const = 0;
  // The API, for binders and preemption (null in unit tests without one).
  virtual client::ApiClient* api() = 0;
  virtual client::EventRecorder* events() = 0;
  virtual PodNominator* nominator() = 0;
  virtual Clock& clock() = 0;
  virtual Random& random() = 0;
  virtual Parallelizer& parallelizer() = 0;
  // The profile's schedulerName.
  virtual const std::string& profile_name() const = 0;

  // For preemption: run PreFilter's AddPod/RemovePod extensions of every plugin, and the Filter
  // plugins with the nominated pods of higher or equal priority counted on `node`.
  virtual Verdict RunPreFilterExtensionAddPod(CycleState& state, const PodInfo& pod, const PodInfoPtr& other,
                                              const NodeInfo& node) = 0;
  virtual Verdict RunPreFilterExtensionRemovePod(CycleState& state, const PodInfo& pod, const PodInfoPtr& other,
                                                 const NodeInfo& node) = 0;
  virtual Verdict RunFilterPluginsWithNominatedPods(CycleState& state, const PodInfo& pod, const NodeInfo& node) = 0;
};

}  // namespace ck::scheduler
