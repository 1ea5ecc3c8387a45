// Pod spec validation shared by Pods and every kind with a pod template (Deployment, ReplicaSet,
// StatefulSet, DaemonSet, Job, CronJob): upstream's ValidatePodSpec, ValidatePodTemplateSpec and
// the Pod create/update/status rules. Internal to apiserver/validation; pure functions.
#pragma once

#include <set>
#include <string>

#include "apiserver/validation/meta.h"
#include "common/api/proto/core_v1.pb.h"

namespace ck::apiserver::validation {

namespace corev1 = k8s::io::api::core::v1;

struct PodSpecOptions {
  // The spec belongs to a Pod, not a template (hostPort must then equal containerPort with
  // hostNetwork, and a few pod-only checks apply).
  bool resource_is_pod = false;
  // Names that volume mounts may refer to besides spec.volumes (StatefulSet volumeClaimTemplates).
  std::set<std::string> extra_volumes;
};

FieldErrors ValidatePodSpec(const corev1::PodSpec& spec, const Path& path, const PodSpecOptions& opts);
// A pod template: labels, annotations and the spec (no ephemeral containers).
FieldErrors ValidatePodTemplateSpec(const corev1::PodTemplateSpec& tpl, const Path& path, const PodSpecOptions& opts);
// Compute resource requirements of a container (names, quantities, requests <= limits).
FieldErrors ValidateResourceRequirements(const corev1::ResourceRequirements& r, const Path& path);
FieldErrors ValidateTolerations(const google::protobuf::RepeatedPtrField<corev1::Toleration>& tolerations,
                                const Path& path);
FieldErrors ValidateNodeSelector(const corev1::NodeSelector& selector, const Path& path);
// A resource quantity's value rules for `name` (non-negative, integer where required).
FieldErrors ValidateResourceQuantityValue(std::string_view name, std::string_view quantity, const Path& path);

FieldErrors ValidatePod(const corev1::Pod& pod, const corev1::Pod* old);
FieldErrors ValidatePodStatusUpdate(const corev1::Pod& pod, const corev1::Pod& old);
FieldErrors ValidateBinding(const corev1::Binding& binding);

// Upstream resource-name predicates.
bool IsHugePageResourceName(std::string_view name);
bool IsNativeResource(std::string_view name);
bool IsExtendedResourceName(std::string_view name);

}  // namespace ck::apiserver::validation
