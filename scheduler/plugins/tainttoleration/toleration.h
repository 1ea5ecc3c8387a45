// Taints and tolerations (upstream core/v1 Toleration.ToleratesTaint and component-helpers
// scheduling/corev1): does a pod's toleration list tolerate a node's taint? TaintToleration,
// NodeUnschedulable, PodTopologySpread's nodeTaintsPolicy, preemption and DaemonSet placement all
// answer that question through these functions, so they agree on it.
// Matching, as upstream: a toleration with an effect only matches that effect (empty: every
// effect); a toleration with a key only matches that key (empty key with Exists: every taint);
// operator Exists ignores the value, Equal (or empty) needs the same value; any other operator
// matches nothing. Pure functions on the API objects; no allocation; thread-safe.
#pragma once

#include <string_view>

#include <google/protobuf/repeated_ptr_field.h>

#include "common/api/proto/core_v1.pb.h"

namespace ck::scheduler::plugins {

namespace corev1 = ::k8s::io::api::core::v1;

using Tolerations = google::protobuf::RepeatedPtrField<corev1::Toleration>;
using Taints = google::protobuf::RepeatedPtrField<corev1::Taint>;

inline constexpr std::string_view kTaintEffectNoSchedule = "NoSchedule";
inline constexpr std::string_view kTaintEffectPreferNoSchedule = "PreferNoSchedule";
inline constexpr std::string_view kTaintEffectNoExecute = "NoExecute";
inline constexpr std::string_view kTolerationOpExists = "Exists";
inline constexpr std::string_view kTolerationOpEqual = "Equal";
// The taint that stands for spec.unschedulable (v1.TaintNodeUnschedulable).
inline constexpr std::string_view kTaintNodeUnschedulable = "node.kubernetes.io/unschedulable";

// One toleration against the taint (key, value, effect).
bool ToleratesTaint(const corev1::Toleration& toleration, std::string_view key, std::string_view value,
                    std::string_view effect);
inline bool ToleratesTaint(const corev1::Toleration& toleration, const corev1::Taint& taint) {
  return ToleratesTaint(toleration, taint.key(), taint.value(), taint.effect());
}

// True when some toleration of the list tolerates the taint (v1helper.TolerationsTolerateTaint).
bool TolerationsTolerateTaint(const Tolerations& tolerations, std::string_view key, std::string_view value,
                              std::string_view effect);
inline bool TolerationsTolerateTaint(const Tolerations& tolerations, const corev1::Taint& taint) {
  return TolerationsTolerateTaint(tolerations, taint.key(), taint.value(), taint.effect());
}

// Which taints a check looks at.
using TaintFilter = bool (*)(const corev1::Taint& taint);
// NoSchedule and NoExecute: the taints that keep a pod off a node (helper.DoNotScheduleTaintsFilterFunc).
bool IsDoNotScheduleTaint(const corev1::Taint& taint);

// The first taint of `taints` (in node order) accepted by `filter` that no toleration tolerates,
// or nullptr when every such taint is tolerated (v1helper.FindMatchingUntoleratedTaint).
const corev1::Taint* FindMatchingUntoleratedTaint(const Taints& taints, const Tolerations& tolerations,
                                                  TaintFilter filter);

}  // namespace ck::scheduler::plugins
