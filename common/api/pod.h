// Pod state helpers with upstream's definitions (k8s.io/kubernetes/pkg/api/v1/pod,
// pkg/apis/core/v1/helper/qos, controller utils): phase tests, readiness and availability, the
// QoS class, and the field set that field selectors on pods evaluate. Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"

namespace ck::api {

namespace corev1 = ::k8s::io::api::core::v1;

inline constexpr std::string_view kPodPending = "Pending";
inline constexpr std::string_view kPodRunning = "Running";
inline constexpr std::string_view kPodSucceeded = "Succeeded";
inline constexpr std::string_view kPodFailed = "Failed";

// Succeeded or Failed: the pod will not run again.
inline bool IsTerminalPhase(std::string_view phase) { return phase == kPodSucceeded || phase == kPodFailed; }
bool IsPodTerminal(const corev1::Pod& pod);
// Not terminal and not being deleted (controller.IsPodActive): counts towards replicas.
bool IsPodActive(const corev1::Pod& pod);
// The Ready condition is True.
bool IsPodReady(const corev1::Pod& pod);
// Ready for at least min_ready_seconds at `now` (podutil.IsPodAvailable).
bool IsPodAvailable(const corev1::Pod& pod, int32_t min_ready_seconds, WallTime now);
// Bound to a node.
inline bool IsPodScheduled(const corev1::Pod& pod) { return !pod.spec().nodename().empty(); }
// spec.priority, 0 when unset (admission sets it from the PriorityClass).
inline int32_t PodPriority(const corev1::Pod& pod) { return pod.spec().has_priority() ? pod.spec().priority() : 0; }

// "Guaranteed", "Burstable" or "BestEffort": status.qosClass when set, else computed from the
// cpu and memory requests and limits of all containers (ComputePodQOS).
std::string PodQOSClass(const corev1::Pod& pod);
std::string ComputePodQOSClass(const corev1::Pod& pod);

// The fields a pod field selector can name (metadata.name, metadata.namespace, spec.nodeName,
// spec.restartPolicy, spec.schedulerName, spec.serviceAccountName, spec.hostNetwork,
// status.phase, status.podIP, status.nominatedNodeName), as the apiserver's PodToSelectableFields.
std::map<std::string, std::string> PodFieldSet(const corev1::Pod& pod);

}  // namespace ck::api
