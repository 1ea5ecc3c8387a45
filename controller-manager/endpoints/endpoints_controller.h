// EndpointsController ("endpoints-controller", alias "endpoint"; events from
// "endpoint-controller"): every Service with a selector has a core/v1 Endpoints of the same name
// listing the pods it selects, as upstream pkg/controller/endpoint does. Ready pods are in
// `addresses`, the others in `notReadyAddresses` (all in `addresses` with
// publishNotReadyAddresses; terminating pods only then); subsets group addresses by their port
// set; the Endpoints carry the Service's labels, service.kubernetes.io/headless for a Service
// without a cluster IP, the last-change-trigger-time annotation, and at most 1000 addresses
// (endpoints.kubernetes.io/over-capacity: truncated beyond). Nothing is written when nothing
// changed. The Endpoints of a deleted Service are deleted; the Endpoints of a Service without a
// selector (the apiserver's `kubernetes`, hand-made ones) are never touched.
//   Service add/update/delete, Pod add/update/delete (for the Services selecting it), Endpoints
//   delete, every Endpoints at start (leftovers) -> key "ns/name" -> Sync(key)
// Threading: see client::Controller. Handlers run on informer threads and only enqueue.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "common/client/tools/event_recorder.h"
#include "controller-manager/controller_table.h"
#include "controller-manager/endpoints/endpoints_util.h"

namespace ck::controller_manager {

namespace corev1 = ::k8s::io::api::core::v1;

namespace endpoints {

// The most addresses (ready and not ready) an Endpoints holds (upstream maxCapacity).
inline constexpr int kMaxEndpointsCapacity = 1000;

// Upstream RepackSubsets: the canonical form of `subsets`. Addresses (deduplicated by IP and
// target uid; "not ready" wins over "ready") are grouped by the exact set of ports they serve;
// addresses, ports and subsets are sorted, so equal endpoints give equal subsets.
std::vector<corev1::EndpointSubset> RepackSubsets(const std::vector<corev1::EndpointSubset>& subsets);
// Upstream truncateEndpoints: cuts `endpoints` to kMaxEndpointsCapacity addresses, keeping ready
// addresses first and sharing the cut across subsets in proportion. False when under capacity.
bool TruncateEndpoints(corev1::Endpoints* endpoints);

}  // namespace endpoints

class EndpointsController final : public ManagedController {
 public:
  static constexpr int kMaxRetries = 15;  // upstream maxRetries

  // Workers: settings.concurrent_endpoint_syncs.
  explicit EndpointsController(ControllerContext& context);
  ~EndpointsController() override;

  std::vector<client::SharedIndexInformer*> Informers() const override;

 protected:
  // `key` is "namespace/name" of a Service (and of its Endpoints).
  Status Sync(const std::string& key) override;

 private:
  void OnPod(const corev1::Pod& pod);
  bool IsStale(const corev1::Endpoints& endpoints);
  void MarkStale(const corev1::Endpoints& endpoints);
  void ForgetStale(const std::string& key);

  client::ApiClient& api_;
  client::TypedInformer<corev1::Service> services_;
  client::TypedInformer<corev1::Pod> pods_;
  client::TypedInformer<corev1::Endpoints> endpoints_;
  client::EventRecorder recorder_;
  endpoints::TriggerTimeTracker trigger_times_;

  // Upstream staleEndpointsTracker: the resourceVersion each Endpoints had before this controller
  // last updated it; seeing it again in the cache means the cache lags the update.
  std::mutex stale_mu_;
  std::map<std::string, std::string> stale_versions_;  // guarded by stale_mu_; by "ns/name"
};

}  // namespace ck::controller_manager
