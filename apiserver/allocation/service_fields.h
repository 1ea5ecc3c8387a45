// The Service-spec rules that allocation and repair share: which allocated fields each type
// needs, who owns an allocation key, and the fix-ups upstream's Service registry makes before it
// allocates (initIPFamilyFields for an IPv4-only cluster, patchAllocatedValues and
// dropTypeDependentFields on update).
// Internal to apiserver/allocation; pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/registry.h"
#include "apiserver/validation/validation.h"
#include "common/api/proto/core_v1.pb.h"

namespace ck::apiserver::allocation {

namespace corev1 = k8s::io::api::core::v1;

bool IsServices(const ResourceInfo& resource);

bool NeedsClusterIP(const corev1::ServiceSpec& s);    // every type but ExternalName
bool IsHeadless(const corev1::ServiceSpec& s);        // clusterIP "None"
bool NeedsNodePort(const corev1::ServiceSpec& s);     // NodePort, LoadBalancer
bool NeedsHealthCheckNodePort(const corev1::ServiceSpec& s);  // LoadBalancer + externalTrafficPolicy Local
// NodePort, or LoadBalancer with allocateLoadBalancerNodePorts unset or true.
bool ShouldAllocateNodePorts(const corev1::ServiceSpec& s);
// Every non-zero ports[].nodePort, in order (collectServiceNodePorts).
std::vector<int32_t> NodePortsOf(const corev1::ServiceSpec& s);

// The value of an allocation key: "<namespace>/<name>/<uid>" ("<namespace>/<name>" without uid).
std::string OwnerOf(const metav1::ObjectMeta& meta);
// Same namespace and name, and the same uid unless one side has none.
bool SameOwner(std::string_view a, std::string_view b);

// Go's %#v of []string: []string{"a", "b"}, or []string(nil) when empty.
std::string GoStrings(const google::protobuf::RepeatedPtrField<std::string>& values);
// A 422 for the Service with these field errors, details filled as the Registry fills them.
Status InvalidErrors(const corev1::Service& svc, const FieldErrors& errors, ErrorDetails* details);

// initIPFamilyFields on a cluster whose only family is IPv4: infers ipFamilies from clusterIPs,
// gives a headless Service without selector both families (RequireDualStack, as upstream on any
// cluster), and refuses IPv6 and RequireDualStack otherwise (422 "not configured on this
// cluster", "this cluster is not configured for dual-stack services"). ExternalName: nothing.
Status InitIpFamilies(corev1::Service* svc, ErrorDetails* details);

// patchAllocatedValues: a PUT that leaves clusterIP/clusterIPs, a port's nodePort (matched by
// port name) or healthCheckNodePort empty keeps the value the stored object holds.
void PatchAllocatedValues(corev1::Service* svc, const corev1::Service& old);

// dropTypeDependentFields: when the type no longer uses a field and the user left it as it was,
// wipe it (clusterIP(s), ipFamilies, ipFamilyPolicy, nodePorts, healthCheckNodePort,
// allocateLoadBalancerNodePorts, loadBalancerClass, externalTrafficPolicy); a Service that is not
// a LoadBalancer loses its load-balancer status.
void DropTypeDependentFields(corev1::Service* svc, const corev1::Service& old);

}  // namespace ck::apiserver::allocation
