// What the scheduler keeps of each pod its informer receives (the informer's transform). The
// scheduler holds every pod of the cluster, so a pod's image, command, environment, probes,
// volumes and container statuses (none of which any plugin reads) would cost it most of its
// memory: about 11 KB of 13 KB per decoded pod at 30,000 pods. Upstream kube-scheduler drops
// managedFields the same way; this keeps only what a scheduling step reads:
//   metadata: name, namespace, uid, resourceVersion, generation, creation and deletion times,
//     labels and owner references;
//   spec: nodeName, schedulerName, priority and its class and policy, hostNetwork, overhead,
//     pod-level resources, resource claims, and of each container only name, resources, ports
//     and restartPolicy (a restartable init container is a sidecar); for a pod not yet placed
//     also its affinity, nodeSelector, tolerations, topology spread, scheduling gates, os and
//     runtimeClassName; for a placed pod only its pod affinity and anti-affinity (what other
//     pods are checked against);
//   status: phase, nominatedNodeName, startTime, resourceClaimStatuses and the PodScheduled
//     condition.
// The scheduler never writes a pod back whole (bindings, status patches and deletes name it), so
// nothing it drops can be lost on the server. Idempotent.
#pragma once

#include <memory>

#include "common/api/proto/core_v1.pb.h"

namespace ck::scheduler {

std::shared_ptr<const ::k8s::io::api::core::v1::Pod> PodForScheduling(const ::k8s::io::api::core::v1::Pod& pod);

}  // namespace ck::scheduler
