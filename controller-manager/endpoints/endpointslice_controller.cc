#include "controller-manager/endpoints/endpointslice_controller.h"

#include <algorithm>

#include "common/api/object.h"
#include "common/base/log.h"
#include "common/client/workqueue/rate_limiter.h"

namespace ck::controller_manager {

namespace {

// Upstream's EndpointSlice queue: per-Service backoff from 1 s to 1000 s, at most 10 retries per
// second overall (burst 100).
std::unique_ptr<client::RateLimiter> SliceRateLimiter(Clock& clock) {
  std::vector<std::unique_ptr<client::RateLimiter>> limiters;
  limiters.push_back(std::make_unique<client::ItemExponentialFailureRateLimiter>(std::chrono::seconds(1),
                                                                                 std::chrono::seconds(1000)));
  limiters.push_back(std::make_unique<client::BucketRateLimiter>(clock, 10, 100));
  return std::make_unique<client::MaxOfRateLimiter>(std::move(limiters));
}

}  // namespace

EndpointSliceController::EndpointSliceController(ControllerContext& context)
    : ManagedController(client::ControllerOptions{.name = "endpoint_slice",
                                                  .workers = context.settings.concurrent_service_endpoint_syncs,
                                                  .clock = &context.clock,
                                                  .registry = &context.metrics,
                                                  .rate_limiter = SliceRateLimiter(context.clock),
                                                  .max_retries = kMaxRetries}),
      services_(context.informers.ForKind<corev1::Service>()),
      pods_(context.informers.ForKind<corev1::Pod>()),
      nodes_(context.informers.ForKind<corev1::Node>()),
      slices_(context.informers.ForKind<discv1::EndpointSlice>()),
      recorder_(context.Recorder("endpoint-slice-controller")),
      reconciler_(context.api, nodes_.Lister(), context.settings.max_endpoints_per_slice, tracker_) {
  Handle(services_, client::TypedEventHandler<corev1::Service>{
      .on_add = [this](const auto& svc, bool) { Enqueue(api::ObjectKey(svc->metadata())); },
      .on_update = [this](const auto&, const auto& svc) { Enqueue(api::ObjectKey(svc->metadata())); },
      .on_delete = [this](const auto& svc, bool) { Enqueue(api::ObjectKey(svc->metadata())); },
  });
  Handle(pods_, client::TypedEventHandler<corev1::Pod>{
      .on_add = [this](const auto& pod, bool) { OnPod(*pod); },
      .on_update = [this](const auto& old_pod, const auto& pod) { OnPodUpdate(*old_pod, *pod); },
      .on_delete = [this](const auto& pod, bool) { OnPod(*pod); },
  });
  // Nodes only feed the lister (zone of each endpoint); upstream watches them for topology hints,
  // which this controller does not set.
  Handle(slices_, client::TypedEventHandler<discv1::EndpointSlice>{
      .on_add = [this](const auto& slice, bool) { OnSliceAdd(*slice); },
      .on_update = [this](const auto& old_slice, const auto& slice) { OnSliceUpdate(*old_slice, *slice); },
      .on_delete = [this](const auto& slice, bool) { OnSliceDelete(*slice); },
  });
}

EndpointSliceController::~EndpointSliceController() {
  RemoveHandlers();
  Stop();
}

std::vector<client::SharedIndexInformer*> EndpointSliceController::Informers() const {
  return {&services_.Informer(), &pods_.Informer(), &nodes_.Informer(), &slices_.Informer()};
}

void EndpointSliceController::OnPod(const corev1::Pod& pod) {
  for (const std::string& key :
       endpoints::ServicesForPod(services_.Lister(), pod.metadata().namespace_(), pod.metadata().labels())) {
    Enqueue(key);
  }
}

void EndpointSliceController::OnPodUpdate(const corev1::Pod& old_pod, const corev1::Pod& new_pod) {
  for (const std::string& key : endpoints::ServicesToUpdateOnPodChange(services_.Lister(), old_pod, new_pod)) {
    Enqueue(key);
  }
}

void EndpointSliceController::QueueServiceForSlice(const discv1::EndpointSlice& slice) {
  auto name = slice.metadata().labels().find(std::string(endpoints::kLabelServiceName));
  if (name == slice.metadata().labels().end() || name->second.empty()) {
    CK_VLOG(2, "EndpointSlice missing the service-name label", "slice", api::ObjectKey(slice.metadata()));
    return;
  }
  EnqueueAfter(api::ObjectKey(slice.metadata().namespace_(), name->second), kSliceChangeMinSyncDelay);
}

void EndpointSliceController::OnSliceAdd(const discv1::EndpointSlice& slice) {
  if (reconciler_.ManagedByController(slice) && tracker_.ShouldSync(slice)) QueueServiceForSlice(slice);
}

void EndpointSliceController::OnSliceUpdate(const discv1::EndpointSlice& old_slice, const discv1::EndpointSlice& slice) {
  auto service_of = [](const discv1::EndpointSlice& s) {
    auto it = s.metadata().labels().find(std::string(endpoints::kLabelServiceName));
    return it == s.metadata().labels().end() ? std::string() : it->second;
  };
  // Someone moved the slice to another Service: both need a look.
  if (service_of(old_slice) != service_of(slice)) {
    QueueServiceForSlice(slice);
    QueueServiceForSlice(old_slice);
    return;
  }
  if (reconciler_.ManagedByChanged(old_slice, slice) ||
      (reconciler_.ManagedByController(slice) && tracker_.ShouldSync(slice))) {
    QueueServiceForSlice(slice);
  }
}

void EndpointSliceController::OnSliceDelete(const discv1::EndpointSlice& slice) {
  if (!reconciler_.ManagedByController(slice)) return;
  // Upstream requeues only deletions of tracked slices it did not expect; a slice this process
  // never wrote (before a restart) is requeued too, so that it comes back.
  bool tracked = tracker_.Has(slice);
  bool expected = tracker_.HandleDeletion(slice);
  if (!tracked || !expected) QueueServiceForSlice(slice);
}

Status EndpointSliceController::Sync(const std::string& key) {
  CK_ASSIGN_OR_RETURN(auto ns_name, api::SplitObjectKey(key));
  const auto& [ns, name] = ns_name;
  Result<std::shared_ptr<const corev1::Service>> service = services_.Lister().Get(ns, name);
  if (!service.ok()) {
    if (service.status().code() != Code::kNotFound) return service.status();
    // The Service is gone. Its slices go with it through their owner reference (the garbage
    // collector), exactly as upstream: this controller forgets the Service and writes nothing.
    trigger_times_.DeleteService(ns, name);
    tracker_.DeleteService(ns, name);
    return Status::Ok();
  }
  const corev1::Service& svc = **service;
  // ExternalName Services get no endpoints; Services without a selector get theirs from whoever
  // manages them (out-of-band slices through the API).
  if (endpoints::IsExternalName(svc) || !endpoints::HasSelector(svc)) return Status::Ok();

  std::vector<endpoints::PodPtr> pods = pods_.Lister().Namespace(ns).List(endpoints::ServiceSelector(svc));
  api::LabelSelector mine = api::LabelSelector::FromSet({{std::string(endpoints::kLabelServiceName), name},
                                                         {std::string(endpoints::kLabelManagedBy),
                                                          reconciler_.controller_name()}});
  std::vector<endpoints::SlicePtr> slices = slices_.Lister().Namespace(ns).List(mine);
  // Slices being deleted are as good as gone (else the Service could wait on them forever).
  std::erase_if(slices, [](const endpoints::SlicePtr& s) { return s->metadata().has_deletiontimestamp(); });

  if (tracker_.StaleSlices(svc, slices)) return Unavailable("EndpointSlice informer cache is out of date");

  // Computed on every Sync, so the tracker's state moves on even when nothing is written.
  std::optional<api::Timestamp> trigger_time = trigger_times_.ComputeEndpointLastChangeTriggerTime(svc, pods);
  Status s = reconciler_.Reconcile(svc, pods, slices, trigger_time);
  if (!s.ok()) {
    recorder_.Event(svc, client::kEventWarning, "FailedToUpdateEndpointSlices",
                    "Error updating Endpoint Slices for Service " + key + ": " + s.message());
    return s;
  }
  return Status::Ok();
}

}  // namespace ck::controller_manager
