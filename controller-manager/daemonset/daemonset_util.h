// DaemonSet rules the controller applies per node and per pod (upstream pkg/controller/daemon and
// its util package): which nodes should run a daemon pod (nodeSelector, required node affinity,
// NoSchedule/NoExecute taints against the template's tolerations plus the ones every daemon pod
// gets), how a daemon pod is pinned to its node through the scheduler (a required node affinity
// on metadata.name, never spec.nodeName), which pods are up to date, the rolling-update budgets
// (maxUnavailable, maxSurge) and the ControllerRevision data that records a template.
// Resources are not checked here: the scheduler binds the pod, or reports why it cannot.
// Threading: pure functions and immutable values; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/intstr.pb.h"
#include "common/base/status.h"
#include "scheduler/plugins/nodeaffinity/node_selector.h"

namespace ck::controller_manager::daemonset {

namespace appsv1 = ::k8s::io::api::apps::v1;
namespace corev1 = ::k8s::io::api::core::v1;
namespace intstr = ::k8s::io::apimachinery::pkg::util::intstr;

// Labels every daemon pod carries (upstream DaemonSetTemplateGenerationKey and
// ControllerRevisionHashLabelKey), and the annotation the template generation is read from.
inline constexpr char kPodTemplateGenerationLabel[] = "pod-template-generation";
inline constexpr char kDeprecatedTemplateGenerationAnnotation[] = "deprecated.daemonset.template.generation";

inline constexpr std::string_view kRollingUpdateStrategy = "RollingUpdate";
inline constexpr std::string_view kOnDeleteStrategy = "OnDelete";

// Upstream NodeShouldRunDaemonPod's two answers.
struct NodeVerdict {
  // A daemon pod should be created on the node when it has none.
  bool should_run = false;
  // A daemon pod already on the node may stay (it tolerates every NoExecute taint).
  bool should_continue_running = false;
  friend bool operator==(const NodeVerdict&, const NodeVerdict&) = default;
};

// The placement rules of one DaemonSet, parsed once and evaluated per node.
class DaemonSetPlacement {
 public:
  explicit DaemonSetPlacement(const appsv1::DaemonSet& ds);

  // Upstream NodeShouldRunDaemonPod: template nodeName (when set) must be the node; nodeSelector
  // and required node affinity must match (terms that do not parse never match); an untolerated
  // NoSchedule or NoExecute taint means "do not start one"; an untolerated NoExecute taint also
  // means "do not keep one".
  NodeVerdict Evaluate(const corev1::Node& node) const;

 private:
  std::string template_node_name_;
  scheduler::plugins::RequiredNodeAffinity affinity_;
  google::protobuf::RepeatedPtrField<corev1::Toleration> tolerations_;  // the template's plus the daemon ones
};

inline NodeVerdict NodeShouldRunDaemonPod(const corev1::Node& node, const appsv1::DaemonSet& ds) {
  return DaemonSetPlacement(ds).Evaluate(node);
}

// Upstream AddOrUpdateTolerationInPodSpec: replaces a toleration with the same key, operator,
// value and effect, or appends it. Returns whether the spec changed.
bool AddOrUpdateToleration(corev1::PodSpec* spec, const corev1::Toleration& toleration);
// Upstream AddOrUpdateDaemonPodTolerations: not-ready and unreachable (NoExecute, no
// tolerationSeconds, so node problems never evict a daemon pod), disk-pressure, memory-pressure,
// pid-pressure and unschedulable (NoSchedule), and network-unavailable for hostNetwork pods.
void AddOrUpdateDaemonPodTolerations(corev1::PodSpec* spec);

// Upstream CreatePodTemplate: a copy of `tmpl` with the daemon tolerations, the
// pod-template-generation label (when `generation` is set) and the controller-revision-hash
// label (when `hash` is not empty).
corev1::PodTemplateSpec CreatePodTemplate(const corev1::PodTemplateSpec& tmpl, std::optional<int64_t> generation,
                                          const std::string& hash);

// Upstream ReplaceDaemonSetPodNodeNameNodeAffinity: the required node affinity of `spec` becomes
// the single term `matchFields: metadata.name In [node_name]` (other terms are dropped: the
// controller already checked that the node matches them); preferred terms and pod (anti-)affinity
// are kept.
void ReplaceDaemonSetPodNodeNameNodeAffinity(corev1::PodSpec* spec, const std::string& node_name);

// Upstream GetTargetNodeName: spec.nodeName, else the node the first `metadata.name In [x]`
// matchFields requirement names. Invalid when the pod names no node (or more than one value).
Result<std::string> GetTargetNodeName(const corev1::Pod& pod);

// The deprecated.daemonset.template.generation annotation (upstream GetTemplateGeneration):
// nullopt when absent, Invalid when it is not an integer.
Result<std::optional<int64_t>> GetTemplateGeneration(const appsv1::DaemonSet& ds);
// The pod-template-generation value new pods get: the annotation when the API server sets it (as
// kube-apiserver does), else metadata.generation (nullopt when neither is known).
std::optional<int64_t> PodTemplateGenerationLabelValue(const appsv1::DaemonSet& ds);

// Upstream IsPodUpdated: the pod's controller-revision-hash is `hash`, or its
// pod-template-generation is the annotated template generation.
bool IsPodUpdated(const corev1::Pod& pod, const std::string& hash, std::optional<int64_t> template_generation);

// intstr.GetScaledValueFromIntOrPercent: an int as is, "N%" of `total` rounded up or down.
// Invalid for another string ("invalid value for IntOrString: invalid type: string is not a
// percentage") or an unset value ("nil value for IntOrString").
Result<int> ScaledValueFromIntOrPercent(const intstr::IntOrString* value, int total, bool round_up);
// Upstream SurgeCount / UnavailableCount: 0 unless the strategy is RollingUpdate (and for surge,
// maxSurge is set); else the scaled value out of `number_to_schedule`, rounded up.
Result<int> SurgeCount(const appsv1::DaemonSet& ds, int number_to_schedule);
Result<int> UnavailableCount(const appsv1::DaemonSet& ds, int number_to_schedule);
// More than one pod per node may run during an update (maxSurge > 0).
bool AllowsSurge(const appsv1::DaemonSet& ds);

// The ControllerRevision data recording the DaemonSet's template (upstream getPatch): a
// strategic-merge patch that puts the template back, {"spec":{"template":{...,"$patch":"replace"}}}.
Result<std::string> RevisionData(const appsv1::DaemonSet& ds);

// Upstream podByCreationTimestampAndPhase: bound pods first, then older first, then by name.
bool PodBefore(const corev1::Pod& a, const corev1::Pod& b);

}  // namespace ck::controller_manager::daemonset
