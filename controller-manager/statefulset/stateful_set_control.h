// StatefulSetControl: one pass of the StatefulSet rules over a set and the pods it owns
// (upstream defaultStatefulSetControl). A pass:
//   1. finds the update revision (the set's template as a ControllerRevision: the newest one if
//      equal, an older equal one renumbered for a rollback, else a new one, bumping
//      collisionCount on a name clash) and the current revision (status.currentRevision);
//   2. sorts pods into replicas (ordinals start..start+replicas-1, missing ones built at the
//      revision the strategy gives them) and condemned (ordinals beyond);
//   3. OrderedReady: walks replicas in ordinal order, deleting a Failed/Succeeded pod, creating a
//      missing one, and stopping at the first pod not Running, Ready and Available; then deletes
//      the highest condemned pod once everything before it is healthy. Parallel: does all
//      creates and deletes at once, in slow-start batches;
//   4. RollingUpdate: deletes the highest-ordinal pod (>= partition) not at the update revision,
//      one at a time, after the pods above it are available again. OnDelete: nothing;
//   5. writes the status when it changed and deletes revisions beyond revisionHistoryLimit that
//      no pod, nor the current or update revision, uses.
// Threading: one pass at a time per set (the work queue guarantees it); a Parallel pass runs
// pod writes on several threads.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"
#include "common/base/status.h"
#include "common/client/api_client.h"
#include "common/client/cache/lister.h"
#include "common/client/tools/event_recorder.h"
#include "controller-manager/statefulset/stateful_pod_control.h"
#include "controller-manager/util/history.h"

namespace ck::controller_manager::statefulset {

using PodPtr = std::shared_ptr<const corev1::Pod>;
using RevisionPtr = std::shared_ptr<const appsv1::ControllerRevision>;

// Pod writes a Parallel pass runs at once (upstream starts a goroutine per pod of a batch).
inline constexpr int kParallelPodWrites = 16;

class StatefulSetControl {
 public:
  // `revisions` is the ControllerRevision informer's lister; `clock` decides availability.
  StatefulSetControl(client::ApiClient& api, client::EventRecorder recorder,
                     client::Lister<appsv1::ControllerRevision> revisions, Clock& clock);

  // One pass over `set` (already defaulted: WithDefaults) and `pods` (the pods it owns). Returns
  // the status it computed (and wrote, when it differed), or the first error; a pass that fails
  // half-way still writes the status of what it saw.
  Result<appsv1::StatefulSetStatus> UpdateStatefulSet(const appsv1::StatefulSet& set,
                                                      const std::vector<PodPtr>& pods);
  // The revisions in the set's namespace matching its selector that it owns or nobody owns.
  Result<std::vector<RevisionPtr>> ListRevisions(const appsv1::StatefulSet& set) const;
  // Makes the set the controller of each of `orphans` (a strategic merge patch per revision).
  Status AdoptOrphanRevisions(const appsv1::StatefulSet& set, const std::vector<RevisionPtr>& orphans);

 private:
  // A replica slot: the pod, and whether it exists in the API (false: built, to be created).
  struct Slot {
    PodPtr pod;
    bool created = false;
  };
  struct Revisions {
    RevisionPtr current;
    RevisionPtr update;
    int32_t collision_count = 0;
  };

  Result<Revisions> GetStatefulSetRevisions(const appsv1::StatefulSet& set, const std::vector<RevisionPtr>& revisions);
  // Steps 2-4. Fills *status whenever it got far enough to compute one, also on failure.
  Status UpdatePods(const appsv1::StatefulSet& set, const Revisions& revs, const std::vector<PodPtr>& pods,
                    std::optional<appsv1::StatefulSetStatus>* status);
  // Upstream processReplica / processCondemned: {stop this pass, error}.
  std::pair<bool, Status> ProcessReplica(const appsv1::StatefulSet& set, const appsv1::StatefulSet& update_set,
                                         bool monotonic, const Slot& replica);
  std::pair<bool, Status> ProcessCondemned(const appsv1::StatefulSet& set, const corev1::Pod* first_unavailable,
                                           bool monotonic, const corev1::Pod& condemned);
  // Runs fn(0..n-1): in order, stopping at the first stop or error (monotonic), or, Parallel,
  // fn(i) for each i with writes(i) in slow-start batches (the others would do nothing).
  // Returns {stop, error}.
  std::pair<bool, Status> RunForAll(int n, const std::function<std::pair<bool, Status>(int)>& fn, bool monotonic,
                                    const std::function<bool(int)>& writes);
  void ComputeStatus(appsv1::StatefulSetStatus* status, int32_t min_ready_seconds, const Revisions& revs,
                     const std::vector<const std::vector<Slot>*>& lists) const;
  Status WriteStatus(const appsv1::StatefulSet& set, appsv1::StatefulSetStatus* status);
  Status TruncateHistory(const appsv1::StatefulSet& set, const std::vector<PodPtr>& pods,
                         const std::vector<RevisionPtr>& revisions, const Revisions* revs);

  client::ApiClient& api_;
  StatefulPodControl pod_control_;
  History history_;
  client::Lister<appsv1::ControllerRevision> revisions_;
  Clock& clock_;
};

}  // namespace ck::controller_manager::statefulset
