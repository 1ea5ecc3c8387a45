// Pod facts the workload controllers share (upstream podutil and controller_utils): whether a
// pod is active, ready, available after minReadySeconds, the order in which a controller deletes
// surplus pods, and slow-start batching of creates.
// Threading: pure functions, except SlowStartBatch, which runs `fn` on up to `parallelism`
// threads at once.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"
#include "common/base/status.h"

namespace ck::controller_manager {

namespace corev1 = ::k8s::io::api::core::v1;

// Not Succeeded, not Failed, no deletionTimestamp (upstream IsPodActive).
bool IsPodActive(const corev1::Pod& pod);
// Succeeded or Failed.
bool IsPodTerminal(const corev1::Pod& pod);
// The Ready condition is True.
bool IsPodReady(const corev1::Pod& pod);
// Ready for at least `min_ready_seconds` at `now` (upstream IsPodAvailable).
bool IsPodAvailable(const corev1::Pod& pod, int32_t min_ready_seconds, WallTime now);
// The Ready condition's lastTransitionTime when the pod is ready; nullopt otherwise.
std::optional<WallTime> PodReadyTime(const corev1::Pod& pod);
// Sum of the restart counts of the pod's containers.
int32_t PodRestarts(const corev1::Pod& pod);

// Upstream ActivePodsWithRanks.Less: true when `a` should be deleted before `b`. In order:
// unassigned before assigned; Pending before Unknown before Running; not ready before ready;
// lower controller.kubernetes.io/pod-deletion-cost first; higher rank (more related pods on the
// same node) first; ready for a shorter time first; more restarts first; newer first. (Upstream's
// LogarithmicScaleDown buckets the last two comparisons by powers of two; here they are exact.)
bool DeleteBefore(const corev1::Pod& a, int rank_a, const corev1::Pod& b, int rank_b);
// The `count` pods of `pods` to delete first: ranks count each pod's node among `related`
// (pods of the same owner and of its siblings, as upstream's getPodsRankedByRelatedPodsOnSameNode).
std::vector<const corev1::Pod*> PodsToDelete(const std::vector<const corev1::Pod*>& pods,
                                             const std::vector<const corev1::Pod*>& related, size_t count);

// Upstream slowStartBatch: calls `fn` `count` times in batches of 1, 2, 4, ... (starting at
// `initial_batch`), each batch's calls in parallel on up to `parallelism` threads; stops after the
// first batch with a failure. Returns the number of successful calls and the first error.
std::pair<int, Status> SlowStartBatch(int count, int initial_batch, int parallelism,
                                      const std::function<Status()>& fn);

// Upstream FilterActivePods.
std::vector<const corev1::Pod*> FilterActivePods(const std::vector<const corev1::Pod*>& pods);

}  // namespace ck::controller_manager
