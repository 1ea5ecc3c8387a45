// EndpointSliceController ("endpointslice-controller", alias "endpointslice"; events from
// "endpoint-slice-controller"): every Service with a selector has EndpointSlices
// (discovery.k8s.io/v1) listing the pods it selects, as upstream pkg/controller/endpointslice
// does. Slices carry the labels kubernetes.io/service-name and endpointslice.kubernetes.io/managed-by
// = endpointslice-controller.k8s.io, the Service as controller owner, generateName "<service>-",
// one address type each, at most --max-endpoints-per-slice endpoints, and one port set each (pods
// whose named target port resolves to different numbers land in different slices). Slices of a
// deleted Service are left to the garbage collector (the owner reference), as upstream does.
// Services without a selector, ExternalName Services and slices managed by anyone else are not
// touched.
//   Service add/update/delete, Pod add/update/delete (for the Services selecting it),
//   EndpointSlice changes not made by this controller -> key "ns/service" -> Sync(key)
// Threading: see client::Controller. Handlers run on informer threads and only enqueue.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/discovery_v1.pb.h"
#include "common/client/tools/event_recorder.h"
#include "controller-manager/controller_table.h"
#include "controller-manager/endpoints/endpoints_util.h"
#include "controller-manager/endpoints/endpointslice_reconciler.h"
#include "controller-manager/endpoints/endpointslice_tracker.h"

namespace ck::controller_manager {

namespace corev1 = ::k8s::io::api::core::v1;
namespace discv1 = ::k8s::io::api::discovery::v1;

class EndpointSliceController final : public ManagedController {
 public:
  // A slice change is synced no sooner than this (upstream endpointSliceChangeMinSyncDelay), so a
  // burst of slice events costs one Sync.
  static constexpr Duration kSliceChangeMinSyncDelay = std::chrono::seconds(1);
  // A Service is dropped from the queue after this many failed Syncs in a row (upstream maxRetries).
  static constexpr int kMaxRetries = 15;

  // Workers: settings.concurrent_service_endpoint_syncs; slice size: settings.max_endpoints_per_slice.
  explicit EndpointSliceController(ControllerContext& context);
  ~EndpointSliceController() override;

  std::vector<client::SharedIndexInformer*> Informers() const override;

  endpoints::EndpointSliceTracker& tracker() { return tracker_; }

 protected:
  // `key` is "namespace/name" of a Service.
  Status Sync(const std::string& key) override;

 private:
  void OnPod(const corev1::Pod& pod);
  void OnPodUpdate(const corev1::Pod& old_pod, const corev1::Pod& new_pod);
  void OnSliceAdd(const discv1::EndpointSlice& slice);
  void OnSliceUpdate(const discv1::EndpointSlice& old_slice, const discv1::EndpointSlice& slice);
  void OnSliceDelete(const discv1::EndpointSlice& slice);
  void QueueServiceForSlice(const discv1::EndpointSlice& slice);

  client::TypedInformer<corev1::Service> services_;
  client::TypedInformer<corev1::Pod> pods_;
  client::TypedInformer<corev1::Node> nodes_;
  client::TypedInformer<discv1::EndpointSlice> slices_;
  client::EventRecorder recorder_;
  endpoints::EndpointSliceTracker tracker_;
  endpoints::TriggerTimeTracker trigger_times_;
  endpoints::EndpointSliceReconciler reconciler_;
};

}  // namespace ck::controller_manager
