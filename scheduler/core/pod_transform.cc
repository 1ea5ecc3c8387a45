#include "scheduler/core/pod_transform.h"

#include "common/client/cache/transform.h"

namespace ck::scheduler {

namespace corev1 = ::k8s::io::api::core::v1;

std::shared_ptr<const corev1::Pod> PodForScheduling(const corev1::Pod& pod) {
  auto out = std::make_shared<corev1::Pod>();

  const auto& im = pod.metadata();
  auto* m = out->mutable_metadata();
  m->set_name(im.name());
  m->set_namespace_(im.namespace_());
  m->set_uid(im.uid());
  m->set_resourceversion(im.resourceversion());
  if (im.has_generation()) m->set_generation(im.generation());
  if (im.has_creationtimestamp()) *m->mutable_creationtimestamp() = im.creationtimestamp();
  if (im.has_deletiontimestamp()) *m->mutable_deletiontimestamp() = im.deletiontimestamp();
  *m->mutable_labels() = im.labels();
  *m->mutable_ownerreferences() = im.ownerreferences();

  const corev1::PodSpec& in = pod.spec();
  corev1::PodSpec* spec = out->mutable_spec();
  if (in.has_nodename()) spec->set_nodename(in.nodename());
  if (in.has_schedulername()) spec->set_schedulername(in.schedulername());
  if (in.has_priority()) spec->set_priority(in.priority());
  if (in.has_priorityclassname()) spec->set_priorityclassname(in.priorityclassname());
  if (in.has_preemptionpolicy()) spec->set_preemptionpolicy(in.preemptionpolicy());
  if (in.has_hostnetwork()) spec->set_hostnetwork(in.hostnetwork());
  *spec->mutable_overhead() = in.overhead();
  if (in.has_resources()) *spec->mutable_resources() = in.resources();
  *spec->mutable_resourceclaims() = in.resourceclaims();
  client::CopyContainerShapes(in.containers(), spec->mutable_containers());
  client::CopyContainerShapes(in.initcontainers(), spec->mutable_initcontainers());
  if (in.nodename().empty()) {
    // What places the pod itself.
    if (in.has_affinity()) *spec->mutable_affinity() = in.affinity();
    *spec->mutable_nodeselector() = in.nodeselector();
    *spec->mutable_tolerations() = in.tolerations();
    *spec->mutable_topologyspreadconstraints() = in.topologyspreadconstraints();
    *spec->mutable_schedulinggates() = in.schedulinggates();
    if (in.has_os()) *spec->mutable_os() = in.os();
    if (in.has_runtimeclassname()) spec->set_runtimeclassname(in.runtimeclassname());
  } else {
    // A placed pod only constrains others: through its pod (anti-)affinity terms.
    const corev1::Affinity& a = in.affinity();
    if (a.has_podaffinity()) *spec->mutable_affinity()->mutable_podaffinity() = a.podaffinity();
    if (a.has_podantiaffinity()) *spec->mutable_affinity()->mutable_podantiaffinity() = a.podantiaffinity();
  }

  const corev1::PodStatus& st = pod.status();
  corev1::PodStatus* status = out->mutable_status();
  if (st.has_phase()) status->set_phase(st.phase());
  if (st.has_nominatednodename()) status->set_nominatednodename(st.nominatednodename());
  if (st.has_starttime()) *status->mutable_starttime() = st.starttime();
  *status->mutable_resourceclaimstatuses() = st.resourceclaimstatuses();
  for (const corev1::PodCondition& c : st.conditions()) {
    if (c.type() == "PodScheduled") *status->add_conditions() = c;
  }
  return out;
}

}  // namespace ck::scheduler
