// EndpointSliceReconciler: turns a Service, the pods it selects and the EndpointSlices it already
// has into the fewest EndpointSlice writes that make the slices list exactly those pods
// (upstream k8s.io/endpointslice Reconciler). Per address type the Service lists (IPv4, IPv6) and
// per distinct set of resolved ports:
//   1. existing slices drop endpoints no longer wanted and take the new version of changed ones
//      (updated in place; a slice left empty is deleted; unchanged slices are not written);
//   2. remaining new endpoints fill the slices already being updated, fullest first;
//   3. what is left goes into the unchanged slice that ends up closest to full, else new slices
//      of at most max_endpoints_per_slice;
// then creates are turned into updates of slices that would be deleted, and a Service with no
// endpoints of a type keeps one empty placeholder slice.
// Threading: Reconcile runs on one worker per Service at a time; the tracker is thread-safe.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/discovery_v1.pb.h"
#include "common/api/time_format.h"
#include "common/base/status.h"
#include "common/client/api_client.h"
#include "common/client/cache/lister.h"
#include "controller-manager/endpoints/endpoints_util.h"
#include "controller-manager/endpoints/endpointslice_tracker.h"

namespace ck::controller_manager::endpoints {

using PodPtr = std::shared_ptr<const corev1::Pod>;
using SlicePtr = std::shared_ptr<const discv1::EndpointSlice>;

// Identity of an endpoint within a Service (upstream hashEndpoint): its sorted addresses, hostname
// and target pod. Endpoints with the same identity are updated in place.
std::string EndpointIdentity(const discv1::Endpoint& endpoint);
// Upstream EndpointsEqualBeyondHash: nodeName, zone, the three conditions and targetRef (minus its
// resourceVersion) are equal.
bool EndpointsEqualBeyondHash(const discv1::Endpoint& a, const discv1::Endpoint& b);
// A key equal for equal sets of ports in any order (upstream NewPortMapKey).
std::string PortMapKey(const std::vector<discv1::EndpointPort>& ports);

// The endpoint of `pod` for `address_type` ("IPv4"/"IPv6"); `node` may be null (no zone).
discv1::Endpoint PodToEndpoint(const corev1::Pod& pod, const corev1::Node* node, const corev1::Service& service,
                               const std::string& address_type);
// The Service's ports resolved against `pod` (ports the pod lacks are left out).
std::vector<discv1::EndpointPort> EndpointPortsFor(const corev1::Service& service, const corev1::Pod& pod);
// "IPv4" and/or "IPv6": spec.ipFamilies; without them the clusterIP's family, or both for a
// headless Service (upstream getAddressTypesForService).
std::vector<std::string> AddressTypesForService(const corev1::Service& service);

class EndpointSliceReconciler {
 public:
  // `api`, `nodes` and `tracker` must outlive the reconciler.
  EndpointSliceReconciler(client::ApiClient& api, client::Lister<corev1::Node> nodes, int max_endpoints_per_slice,
                          EndpointSliceTracker& tracker,
                          std::string controller_name = std::string(kEndpointSliceControllerName));

  // Makes the Service's slices match `pods`. `existing` are the slices labelled with the
  // Service's name and this controller's managed-by value (none being deleted). `trigger_time`
  // is written to the last-change-trigger-time annotation of every slice written (nullopt removes
  // it). Writes go on after a per-pod problem (a pod whose Node is missing is left out), and the
  // errors are returned together; a write failure stops the writes of its address type.
  Status Reconcile(const corev1::Service& service, const std::vector<PodPtr>& pods,
                   const std::vector<SlicePtr>& existing, std::optional<api::Timestamp> trigger_time);

  bool ManagedByController(const discv1::EndpointSlice& slice) const;
  bool ManagedByChanged(const discv1::EndpointSlice& a, const discv1::EndpointSlice& b) const {
    return ManagedByController(a) != ManagedByController(b);
  }
  const std::string& controller_name() const { return controller_name_; }
  int max_endpoints_per_slice() const { return max_endpoints_per_slice_; }

 private:
  struct Plan {
    std::vector<discv1::EndpointSlice> create;
    std::vector<discv1::EndpointSlice> update;
    std::vector<discv1::EndpointSlice> remove;
  };

  Status ReconcileByAddressType(const corev1::Service& service, const std::vector<PodPtr>& pods,
                                const std::vector<SlicePtr>& existing, std::optional<api::Timestamp> trigger_time,
                                const std::string& address_type);
  void ReconcileByPortMapping(const corev1::Service& service, const std::vector<const discv1::EndpointSlice*>& existing,
                              std::map<std::string, discv1::Endpoint> desired,
                              const std::vector<discv1::EndpointPort>& ports, const std::string& address_type,
                              Plan* plan) const;
  Status Finalize(const corev1::Service& service, Plan plan, std::optional<api::Timestamp> trigger_time);
  Status DeleteSlice(const corev1::Service& service, const discv1::EndpointSlice& slice);
  discv1::EndpointSlice NewEndpointSlice(const corev1::Service& service, const std::vector<discv1::EndpointPort>& ports,
                                         const std::string& address_type) const;

  client::ApiClient& api_;
  client::Lister<corev1::Node> nodes_;
  const int max_endpoints_per_slice_;
  EndpointSliceTracker& tracker_;
  const std::string controller_name_;
};

}  // namespace ck::controller_manager::endpoints
