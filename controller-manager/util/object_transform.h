// What the controller-manager's informers keep of the objects they receive (their transform).
// The controller-manager holds every pod and every event of the cluster; most of a decoded pod is
// what the kubelet needs (commands, environment, probes, mounts) and most of an event is text,
// none of which a controller reads. Upstream kube-controller-manager drops managedFields the same
// way; this goes further:
//   Pod: metadata but managedFields; the spec but ephemeral containers and the volumes that do not
//     name a claim (persistentVolumeClaim or ephemeral), and of each container only name,
//     resources, ports and restartPolicy; the status but each container status's image, imageID,
//     containerID, resources, allocations, mounts and user.
//   Event (core/v1 and events.k8s.io/v1), read only by the event TTL controller: name, namespace,
//     uid, resourceVersion, creationTimestamp and the times the TTL is counted from.
//   PartialObjectMetadata (the metadata-only informers of the garbage collector, the namespace
//     deleter and resource quota, which read identity, owners, finalizers and deletion state):
//     metadata but labels, annotations and managedFields.
// Controllers only patch pods and delete events (with uid and resourceVersion preconditions), so
// nothing dropped can be written back. A controller that starts reading a dropped field must
// keep it here. Idempotent; other kinds pass through.
#pragma once

#include "common/client/cache/reflector.h"

namespace ck::controller_manager {

client::ObjectPtr TransformForControllers(client::ObjectPtr object);

}  // namespace ck::controller_manager
