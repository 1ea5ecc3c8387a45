// GeneratePodStatus: the pod's status as the kubelet reports it (upstream generateAPIPodStatus,
// convertToAPIContainerStatuses and getPhase), from the runtime's containers of the pod, the
// probe results and what the last sync found (waiting reasons). Pure function; thread-safe.
//
//   phase          Pending / Running / Succeeded / Failed by upstream's getPhase
//   conditions     PodReadyToStartContainers, Initialized, Ready, ContainersReady, PodScheduled;
//                  lastTransitionTime moves only when a condition's status changes
//   containers     state (waiting ContainerCreating / PodInitializing / CrashLoopBackOff /
//                  CreateContainerError / CreateContainerConfigError, running, terminated),
//                  lastState, restartCount, ready, started, image, imageID, containerID
//   pod            podIP(s), hostIP(s), startTime (kept once set), qosClass
// A terminal phase already in pod.status is never moved back.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"
#include "kubelet/pod/pod_actions.h"
#include "kubelet/runtime/container_runtime.h"

namespace ck::kubelet {

struct PodStatusInput {
  std::vector<ContainerStatus> containers;  // the runtime's containers of this pod
  ProbeView probes;                         // readiness and startup are read
  std::vector<std::string> pod_ips;
  std::string host_ip;
  bool sandbox_ready = false;               // PodReadyToStartContainers
  // Reasons the last sync holds a container back with (CrashLoopBackOff, CreateContainerError,
  // CreateContainerConfigError, ...), by container name.
  std::map<std::string, ContainerWaiting> waiting;
  std::string runtime_name = "fake";        // containerID scheme: "<runtime>://<id>"
  bool terminating = false;                 // the pod is being deleted: no restarts will follow
};

corev1::PodStatus GeneratePodStatus(const corev1::Pod& pod, const PodStatusInput& input, WallTime now);

// A terminal phase never moves back, and the reason and message that ended the pod
// (DeadlineExceeded, Evicted, ...) stay with it: when `from` is Succeeded or Failed and `status`
// is not, `status` takes its phase, reason and message (upstream checkContainerStateTransition /
// status manager).
void KeepTerminalPhase(const corev1::PodStatus& from, corev1::PodStatus* status);

// Upstream getPhase over a generated status' container statuses.
std::string PodPhase(const corev1::PodSpec& spec, const corev1::PodStatus& status, bool pod_is_terminal);

}  // namespace ck::kubelet
