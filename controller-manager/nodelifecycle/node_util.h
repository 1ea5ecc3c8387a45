// Node taints, tolerations and zones as the node lifecycle and taint eviction controllers use them
// (upstream pkg/util/taints, the Toleration helpers of pkg/apis/core/v1/helper, pkg/controller
// AddOrUpdateTaintOnNode / RemoveTaintOffNode and pkg/controller/util/node): the well-known taint
// keys, taint and toleration matching, the zone key of a node, taint writes with optimistic
// concurrency, and the node events the controllers record.
// Threading: pure functions, except the writes (safe from any thread: the client is).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"
#include "common/base/status.h"
#include "common/client/api_client.h"
#include "common/client/tools/event_recorder.h"

namespace ck::client {
class SharedIndexInformer;
}

namespace ck::controller_manager {

namespace corev1 = ::k8s::io::api::core::v1;

// Well-known taints (k8s.io/api/core/v1 well_known_taints.go).
inline constexpr std::string_view kTaintNodeNotReady = "node.kubernetes.io/not-ready";
inline constexpr std::string_view kTaintNodeUnreachable = "node.kubernetes.io/unreachable";
inline constexpr std::string_view kTaintNodeUnschedulable = "node.kubernetes.io/unschedulable";
inline constexpr std::string_view kTaintNodeMemoryPressure = "node.kubernetes.io/memory-pressure";
inline constexpr std::string_view kTaintNodeDiskPressure = "node.kubernetes.io/disk-pressure";
inline constexpr std::string_view kTaintNodeNetworkUnavailable = "node.kubernetes.io/network-unavailable";
inline constexpr std::string_view kTaintNodePIDPressure = "node.kubernetes.io/pid-pressure";
inline constexpr std::string_view kEffectNoExecute = "NoExecute";
inline constexpr std::string_view kEffectNoSchedule = "NoSchedule";

// The Lease namespace kubelets heartbeat in (v1.NamespaceNodeLease).
inline constexpr std::string_view kNodeLeaseNamespace = "kube-node-lease";

corev1::Taint MakeTaint(std::string_view key, std::string_view effect);
// Same key and effect (Taint.MatchTaint): the identity of a taint on a node.
bool MatchTaint(const corev1::Taint& a, const corev1::Taint& b);
bool TaintExists(const google::protobuf::RepeatedPtrField<corev1::Taint>& taints, const corev1::Taint& taint);
// The taints with effect NoExecute.
std::vector<corev1::Taint> NoExecuteTaints(const corev1::Node& node);

// Toleration.ToleratesTaint: effect empty or equal, key empty or equal, and operator Exists or
// (""/Equal) with an equal value.
bool ToleratesTaint(const corev1::Toleration& toleration, const corev1::Taint& taint);
// GetMatchingTolerations: true when every taint is tolerated; `used` gets, per taint, the first
// toleration that tolerates it (in taint order).
bool MatchingTolerations(const std::vector<corev1::Taint>& taints,
                         const google::protobuf::RepeatedPtrField<corev1::Toleration>& tolerations,
                         std::vector<const corev1::Toleration*>* used);

// topology.GetZoneKey: "<region>:\x00:<zone>" from the topology labels (or their deprecated
// failure-domain.beta forms), "" when the node has neither.
std::string ZoneKey(const corev1::Node& node);

// Removes from node `node_name` every taint matching one of `remove` (key and effect) and adds
// each of `add` that is not there yet with timeAdded = the clock's now (upstream
// SwapNodeControllerTaint / AddOrUpdateTaintOnNode / RemoveTaintOffNode). The write is a
// strategic merge patch of spec.taints carrying the node's resourceVersion, so a concurrent
// change is a Conflict; then the node is read again from the API and the change retried (5 tries,
// upstream UpdateTaintBackoff). `hint` (the cached node, may be null) is used for the first try.
// Returns the node as written, or as read when nothing had to change. NotFound when the node is gone.
Result<std::shared_ptr<const corev1::Node>> SwapNodeTaints(client::ApiClient& api, const Clock& clock,
                                                           const std::string& node_name,
                                                           std::shared_ptr<const corev1::Node> hint,
                                                           const std::vector<corev1::Taint>& add,
                                                           const std::vector<corev1::Taint>& remove);

// nodeutil.RecordNodeStatusChange: Normal event `new_status` on the node, "Node <name> status is
// now: <new_status>".
void RecordNodeStatusChange(const client::EventRecorder& recorder, const corev1::Node& node,
                            std::string_view new_status);
// nodeutil.RecordNodeEvent: an event on the node by name and uid.
void RecordNodeEvent(const client::EventRecorder& recorder, const std::string& node_name, const std::string& uid,
                     std::string_view type, std::string_view reason, std::string_view message);

// `s` as a JSON string literal, quotes included (for hand-built patch bodies).
std::string JsonQuote(std::string_view s);

// Adds the spec.nodeName index to a pods informer (both node controllers list a node's pods by it);
// already there is fine.
void EnsureNodeNameIndex(client::SharedIndexInformer& informer);

// resourceVersion a is newer than b (both store revisions; false when either is not a number).
bool NewerResourceVersion(std::string_view a, std::string_view b);

}  // namespace ck::controller_manager
