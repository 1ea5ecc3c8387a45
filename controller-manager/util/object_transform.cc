#include "controller-manager/util/object_transform.h"

#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/events_v1.pb.h"
#include "common/api/proto/meta_v1.pb.h"
#include "common/client/cache/meta.h"
#include "common/client/cache/transform.h"

namespace ck::controller_manager {

namespace corev1 = ::k8s::io::api::core::v1;
namespace eventsv1 = ::k8s::io::api::events::v1;
namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;
using google::protobuf::RepeatedPtrField;

namespace {

void SlimStatuses(RepeatedPtrField<corev1::ContainerStatus>* statuses) {
  for (corev1::ContainerStatus& s : *statuses) {
    corev1::ContainerStatus slim;
    slim.mutable_name()->swap(*s.mutable_name());
    if (s.has_state()) slim.mutable_state()->Swap(s.mutable_state());
    if (s.has_laststate()) slim.mutable_laststate()->Swap(s.mutable_laststate());
    if (s.has_ready()) slim.set_ready(s.ready());
    if (s.has_restartcount()) slim.set_restartcount(s.restartcount());
    if (s.has_started()) slim.set_started(s.started());
    s.Swap(&slim);
  }
}

std::shared_ptr<const corev1::Pod> SlimPod(const corev1::Pod& pod) {
  auto out = std::make_shared<corev1::Pod>(pod);
  client::DropField(out->mutable_metadata()->mutable_managedfields());
  corev1::PodSpec* spec = out->mutable_spec();
  for (auto* containers : {spec->mutable_containers(), spec->mutable_initcontainers()}) {
    RepeatedPtrField<corev1::Container> shapes;
    client::CopyContainerShapes(*containers, &shapes);
    containers->Swap(&shapes);
  }
  client::DropField(spec->mutable_ephemeralcontainers());
  RepeatedPtrField<corev1::Volume> claims;
  for (corev1::Volume& v : *spec->mutable_volumes()) {
    if (v.volumesource().has_persistentvolumeclaim() || v.volumesource().has_ephemeral()) claims.Add()->Swap(&v);
  }
  spec->mutable_volumes()->Swap(&claims);
  SlimStatuses(out->mutable_status()->mutable_containerstatuses());
  SlimStatuses(out->mutable_status()->mutable_initcontainerstatuses());
  SlimStatuses(out->mutable_status()->mutable_ephemeralcontainerstatuses());
  return out;
}

void SlimMeta(const metav1::ObjectMeta& in, metav1::ObjectMeta* out) {
  out->set_name(in.name());
  out->set_namespace_(in.namespace_());
  out->set_uid(in.uid());
  out->set_resourceversion(in.resourceversion());
  if (in.has_creationtimestamp()) *out->mutable_creationtimestamp() = in.creationtimestamp();
}

std::shared_ptr<const corev1::Event> SlimEvent(const corev1::Event& e) {
  auto out = std::make_shared<corev1::Event>();
  SlimMeta(e.metadata(), out->mutable_metadata());
  if (e.has_lasttimestamp()) *out->mutable_lasttimestamp() = e.lasttimestamp();
  if (e.has_eventtime()) *out->mutable_eventtime() = e.eventtime();
  if (e.has_series() && e.series().has_lastobservedtime()) {
    *out->mutable_series()->mutable_lastobservedtime() = e.series().lastobservedtime();
  }
  return out;
}

std::shared_ptr<const eventsv1::Event> SlimEvent(const eventsv1::Event& e) {
  auto out = std::make_shared<eventsv1::Event>();
  SlimMeta(e.metadata(), out->mutable_metadata());
  if (e.has_deprecatedlasttimestamp()) *out->mutable_deprecatedlasttimestamp() = e.deprecatedlasttimestamp();
  if (e.has_eventtime()) *out->mutable_eventtime() = e.eventtime();
  if (e.has_series() && e.series().has_lastobservedtime()) {
    *out->mutable_series()->mutable_lastobservedtime() = e.series().lastobservedtime();
  }
  return out;
}

std::shared_ptr<const metav1::PartialObjectMetadata> SlimMetadata(const metav1::PartialObjectMetadata& m) {
  auto out = std::make_shared<metav1::PartialObjectMetadata>(m);
  client::DropField(out->mutable_metadata()->mutable_labels());
  client::DropField(out->mutable_metadata()->mutable_annotations());
  client::DropField(out->mutable_metadata()->mutable_managedfields());
  return out;
}

}  // namespace

client::ObjectPtr TransformForControllers(client::ObjectPtr object) {
  if (auto pod = client::As<corev1::Pod>(object)) return SlimPod(*pod);
  if (auto event = client::As<corev1::Event>(object)) return SlimEvent(*event);
  if (auto event = client::As<eventsv1::Event>(object)) return SlimEvent(*event);
  if (auto meta = client::As<metav1::PartialObjectMetadata>(object)) return SlimMetadata(*meta);
  return object;
}

}  // namespace ck::controller_manager
