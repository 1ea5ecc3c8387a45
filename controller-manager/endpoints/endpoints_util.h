// What the EndpointSlice and Endpoints controllers share (upstream k8s.io/endpointslice/util and
// pkg/api/v1/pod): which pods belong in a Service's endpoints, how a Service port resolves to a
// pod's port, which Services a pod change concerns, and the TriggerTimeTracker behind the
// `endpoints.kubernetes.io/last-change-trigger-time` annotation.
// Threading: the functions are pure; TriggerTimeTracker is safe from any thread (one mutex), but
// must not be called for the same Service from two threads at once (the queue guarantees that).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/api/label_selector.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/time_format.h"
#include "common/client/cache/lister.h"

namespace ck::controller_manager::endpoints {

namespace corev1 = ::k8s::io::api::core::v1;

// Well-known labels and annotations (k8s.io/api/core/v1 and discovery/v1 constants).
inline constexpr std::string_view kLabelServiceName = "kubernetes.io/service-name";
inline constexpr std::string_view kLabelManagedBy = "endpointslice.kubernetes.io/managed-by";
inline constexpr std::string_view kEndpointSliceControllerName = "endpointslice-controller.k8s.io";
inline constexpr std::string_view kLabelHeadlessService = "service.kubernetes.io/headless";
inline constexpr std::string_view kLabelTopologyZone = "topology.kubernetes.io/zone";
inline constexpr std::string_view kAnnotationLastChangeTriggerTime = "endpoints.kubernetes.io/last-change-trigger-time";
inline constexpr std::string_view kAnnotationOverCapacity = "endpoints.kubernetes.io/over-capacity";
inline constexpr std::string_view kAnnotationLeaderElection = "control-plane.alpha.kubernetes.io/leader";

// A Service this family manages: it has a selector and is not ExternalName. Protobuf cannot tell
// a nil selector from an empty one; both count as "no selector" (upstream: nil).
bool HasSelector(const corev1::Service& service);
bool IsExternalName(const corev1::Service& service);
// The pods the Service selects (labels.Set(spec.selector)).
api::LabelSelector ServiceSelector(const corev1::Service& service);
// spec.clusterIP is set and not "None" (helper.IsServiceIPSet).
bool IsServiceIPSet(const corev1::Service& service);

// Upstream ShouldPodBeInEndpoints: not Succeeded/Failed, has an IP, and (unless
// `include_terminating`) no deletionTimestamp.
bool ShouldPodBeInEndpoints(const corev1::Pod& pod, bool include_terminating);
// The pod names itself in the Service's DNS: spec.hostname set and spec.subdomain == the Service's
// name in the same namespace.
bool ShouldSetHostname(const corev1::Pod& pod, const corev1::Service& service);

// True for an IPv6 address text.
bool IsIPv6(std::string_view ip);
// status.podIPs, or status.podIP when podIPs is empty (an undefaulted pod).
std::vector<std::string> PodIPs(const corev1::Pod& pod);

// A port protocol, "TCP" when unset (the API default).
std::string ProtocolOf(const std::string& protocol);
// Upstream FindPort: a numeric targetPort is used as is (unset: the service port, the API
// default); a named one is looked up among the containers' ports (then sidecars') with the
// service port's protocol. nullopt when the pod has no such port.
std::optional<int32_t> FindPort(const corev1::Pod& pod, const corev1::ServicePort& service_port);

// Keys ("ns/name") of the Services in the pod's namespace whose selector matches `labels`.
std::set<std::string> ServicesForPod(const client::Lister<corev1::Service>& services, const std::string& ns,
                                     const google::protobuf::Map<std::string, std::string>& labels);
// Upstream GetServicesToUpdateOnPodChange: nothing for a resync (same resourceVersion) or a change
// that cannot move the endpoints; the pod's Services when readiness, IPs or deletion changed;
// when the labels (or hostname/subdomain) changed, the Services gained or lost, or all of both
// sets when the endpoints changed too.
std::set<std::string> ServicesToUpdateOnPodChange(const client::Lister<corev1::Service>& services,
                                                  const corev1::Pod& old_pod, const corev1::Pod& new_pod);

// time.RFC3339Nano of a UTC time: whole seconds, or a fraction without trailing zeros.
std::string FormatRfc3339Nano(api::Timestamp t);

// Upstream TriggerTimeTracker: for each Service, the trigger times (pods' Ready transition,
// Service creation) seen at its last sync; the annotation gets the earliest trigger time that
// changed since then.
class TriggerTimeTracker {
 public:
  // The time to export for `service` given its selected `pods`, or nullopt (no annotation): the
  // Service's creationTimestamp on its first sync, afterwards the earliest changed trigger time.
  // Records the current trigger times.
  std::optional<api::Timestamp> ComputeEndpointLastChangeTriggerTime(
      const corev1::Service& service, const std::vector<std::shared_ptr<const corev1::Pod>>& pods);
  void DeleteService(const std::string& ns, const std::string& name);

 private:
  struct ServiceState {
    std::map<std::string, api::Timestamp> last_pod_trigger_times;  // by pod name
    api::Timestamp last_service_trigger_time;
  };
  std::mutex mu_;
  std::map<std::string, ServiceState> states_;  // guarded by mu_; by "ns/name"
};

}  // namespace ck::controller_manager::endpoints
