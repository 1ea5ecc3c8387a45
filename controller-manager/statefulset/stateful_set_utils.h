// StatefulSet facts shared by the StatefulSet controller's parts (upstream
// pkg/controller/statefulset/stateful_set_utils.go): pod identity (`<set>-<ordinal>`, hostname,
// subdomain, the pod-name and pod-index labels), stable storage (a volume per volumeClaimTemplate
// naming the claim `<template>-<set>-<ordinal>`), the pod states the ordering rules look at,
// revisions stored as the patch `{"spec":{"template":{...,"$patch":"replace"}}}`, and the status
// rules (when a rolling update is complete, when the status must be written).
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"
#include "common/base/status.h"

namespace ck::controller_manager::statefulset {

namespace appsv1 = ::k8s::io::api::apps::v1;
namespace corev1 = ::k8s::io::api::core::v1;

// Labels every pod of a set carries (upstream StatefulSetPodNameLabel, PodIndexLabel,
// StatefulSetRevisionLabel; the last holds the name of the pod's ControllerRevision).
inline constexpr char kPodNameLabel[] = "statefulset.kubernetes.io/pod-name";
inline constexpr char kPodIndexLabel[] = "apps.kubernetes.io/pod-index";
inline constexpr char kRevisionLabel[] = "controller-revision-hash";

// The set with kube-apiserver's defaults where a field is unset (SetDefaults_StatefulSet):
// replicas 1, podManagementPolicy OrderedReady, updateStrategy RollingUpdate with partition 0,
// revisionHistoryLimit 10, claim retention Retain/Retain. A set read from ck-apiserver is
// already defaulted; this keeps the controller's rules total for sets written without them.
appsv1::StatefulSet WithDefaults(const appsv1::StatefulSet& set);

// spec.ordinals.start (0 when unset) and the last ordinal, start + replicas - 1.
int StartOrdinal(const appsv1::StatefulSet& set);
int EndOrdinal(const appsv1::StatefulSet& set);
// podManagementPolicy Parallel: create and delete without waiting (upstream allowsBurst).
bool AllowsBurst(const appsv1::StatefulSet& set);

// Upstream getParentNameAndOrdinal: "web-12" -> {"web", 12} (the name matches `(.*)-([0-9]+)$`);
// a name that does not match gives {"", -1}; digits beyond int32 give {parent, -1}.
struct ParentAndOrdinal {
  std::string parent;
  int ordinal = -1;
};
ParentAndOrdinal ParseParentAndOrdinal(std::string_view pod_name);
int OrdinalOf(const corev1::Pod& pod);
// The pod's name says it belongs to `set` ("web-3" for "web").
bool IsMemberOf(const appsv1::StatefulSet& set, const corev1::Pod& pod);
// StartOrdinal <= ordinal <= EndOrdinal.
bool PodInOrdinalRange(const corev1::Pod& pod, const appsv1::StatefulSet& set);

std::string PodName(const appsv1::StatefulSet& set, int ordinal);
// `<claim template name>-<set name>-<ordinal>`.
std::string ClaimName(const appsv1::StatefulSet& set, const corev1::PersistentVolumeClaim& claim, int ordinal);

// Name, namespace and the pod-name label are the set's (upstream identityMatches).
bool IdentityMatches(const appsv1::StatefulSet& set, const corev1::Pod& pod);
// Every volumeClaimTemplate has a volume of its name using the pod's claim (storageMatches).
bool StorageMatches(const appsv1::StatefulSet& set, const corev1::Pod& pod);
// Sets name, namespace, the pod-name and pod-index labels (updateIdentity).
void UpdateIdentity(const appsv1::StatefulSet& set, corev1::Pod* pod);
// Puts a persistentVolumeClaim volume per template first (in template order), keeping the pod's
// other volumes after them (updateStorage).
void UpdateStorage(const appsv1::StatefulSet& set, corev1::Pod* pod);

// The pod of `ordinal` built from the set's template: the template's labels, annotations and
// spec, generateName `<set>-`, name `<set>-<ordinal>`, the set as controller, identity,
// hostname = name, subdomain = serviceName, and the claim volumes (newStatefulSetPod).
corev1::Pod NewStatefulSetPod(const appsv1::StatefulSet& set, int ordinal);
// The pod of `ordinal` at the revision the update strategy gives it: ordinals below the
// partition keep `current_set`'s template and revision, the others get `update_set`'s
// (newVersionedStatefulSetPod).
corev1::Pod NewVersionedStatefulSetPod(const appsv1::StatefulSet& current_set, const appsv1::StatefulSet& update_set,
                                       const std::string& current_revision, const std::string& update_revision,
                                       int ordinal);

// The controller-revision-hash label ("" when absent) and its setter.
std::string PodRevision(const corev1::Pod& pod);
void SetPodRevision(corev1::Pod* pod, const std::string& revision);

// Pod states, as upstream names them. Running and Ready: phase Running and the Ready condition
// True. Running and Available: that, for at least `min_ready_seconds` at `now`.
bool IsRunningAndReady(const corev1::Pod& pod);
bool IsRunningAndAvailable(const corev1::Pod& pod, int32_t min_ready_seconds, WallTime now);
bool IsFailed(const corev1::Pod& pod);
bool IsSucceeded(const corev1::Pod& pod);
bool IsTerminating(const corev1::Pod& pod);
// Not Running and Available, or terminating: the pods an ordered rollout waits for.
bool IsUnavailable(const corev1::Pod& pod, int32_t min_ready_seconds, WallTime now);

// The revision data of `set` (upstream getPatch): its pod template as JSON with every object's
// keys sorted and "$patch":"replace" added, under {"spec":{"template":...}}.
Result<std::string> RevisionPatch(const appsv1::StatefulSet& set);
// A new ControllerRevision of `set` (not yet created): the patch as data, the template's labels
// plus the hash label, the set's annotations, the set as controller, number `revision`, name
// `<set>-<hash of data and collision_count>` (upstream newRevision).
Result<appsv1::ControllerRevision> NewRevision(const appsv1::StatefulSet& set, int64_t revision,
                                               int32_t collision_count);
// `set` with the pod template stored in `revision` (upstream ApplyRevision). Internal when the
// data is not a revision patch.
Result<appsv1::StatefulSet> ApplyRevision(const appsv1::StatefulSet& set, const appsv1::ControllerRevision& revision);

// A RollingUpdate whose pods are all updated and ready is complete: currentRevision becomes
// updateRevision and currentReplicas updatedReplicas (upstream completeRollingUpdate).
void CompleteRollingUpdate(const appsv1::StatefulSet& set, appsv1::StatefulSetStatus* status);
// The fields upstream compares before writing status (inconsistentStatus): a newer
// observedGeneration or any count or revision name that differs.
bool InconsistentStatus(const appsv1::StatefulSet& set, const appsv1::StatefulSetStatus& status);

}  // namespace ck::controller_manager::statefulset
