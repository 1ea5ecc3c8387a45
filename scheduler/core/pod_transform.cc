#include "scheduler/core/pod_transform.h"

#include "common/client/cache/transform.h"

namespace ck::scheduler {

namespace corev1 = ::k8s::io::api::core::v1;

std::shared_ptr<const corev1::Pod> PodForScheduling(const corev1::Pod& pod) {
  auto out = std::make_shared<corev1::Pod>();

  *out->mutable_metadata() = pod.metadata();
  client::DropField(out->mutable_metadata()->mutable_annotations());
  client::DropField(out->mutable_metadata()->mutable_managedfields());

  corev1::PodSpec* spec = out->mutable_spec();
  *spec = pod.spec();
  client::KeepContainerShape(spec->mutable_containers());
  client::KeepContainerShape(spec->mutable_initcontainers());
  client::DropField(spec->mutable_ephemeralcontainers());
  client::DropField(spec->mutable_volumes());

  const corev1::PodStatus& in = pod.status();
  corev1::PodStatus* status = out->mutable_status();
  if (in.has_phase()) status->set_phase(in.phase());
  if (in.has_nominatednodename()) status->set_nominatednodename(in.nominatednodename());
  if (in.has_starttime()) *status->mutable_starttime() = in.starttime();
  *status->mutable_resourceclaimstatuses() = in.resourceclaimstatuses();
  for (const corev1::PodCondition& c : in.conditions()) {
    if (c.type() == "PodScheduled") *status->add_conditions() = c;
  }
  return out;
}

}  // namespace ck::scheduler
