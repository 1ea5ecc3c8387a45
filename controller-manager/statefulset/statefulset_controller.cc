#include "controller-manager/statefulset/statefulset_controller.h"

#include <chrono>

#include <google/protobuf/util/message_differencer.h>

#include "common/api/label_selector.h"
#include "common/api/object.h"
#include "common/base/log.h"
#include "controller-manager/statefulset/stateful_set_utils.h"
#include "controller-manager/util/controller_ref.h"
#include "controller-manager/util/pod_util.h"

namespace ck::controller_manager {

namespace appsv1 = ::k8s::io::api::apps::v1;
namespace corev1 = ::k8s::io::api::core::v1;

namespace {

const client::ResourceInfo& Resource(const google::protobuf::Descriptor* d) {
  return client::SharedInformerFactory::ResourceOfMessage(d->full_name());
}

Result<api::LabelSelector> SelectorOf(const appsv1::StatefulSet& set) {
  return api::LabelSelector::FromProto(set.spec().has_selector() ? &set.spec().selector() : nullptr);
}

}  // namespace

StatefulSetController::StatefulSetController(ControllerContext& context)
    : ManagedController(client::ControllerOptions{.name = "statefulset",
                                                  .workers = context.settings.concurrent_statefulset_syncs,
                                                  .clock = &context.clock,
                                                  .registry = &context.metrics}),
      api_(context.api),
      sets_(context.informers.ForKind<appsv1::StatefulSet>()),
      pods_(context.informers.ForKind<corev1::Pod>()),
      revisions_(context.informers.ForKind<appsv1::ControllerRevision>()),
      control_(context.api, context.Recorder("statefulset-controller"), revisions_.Lister(), context.clock) {
  Handle(sets_, client::TypedEventHandler<appsv1::StatefulSet>{
      .on_add = [this](const auto& set, bool) { EnqueueSet(*set); },
      .on_update = [this](const auto& old_set, const auto& cur_set) {
        if (old_set->status().replicas() != cur_set->status().replicas()) {
          CK_VLOG(4, "Observed updated replica count for StatefulSet", "statefulSet", cur_set->metadata().name(),
                  "oldReplicas", old_set->status().replicas(), "newReplicas", cur_set->status().replicas());
        }
        EnqueueSet(*cur_set);
      },
      .on_delete = [this](const auto& set, bool) { EnqueueSet(*set); },
  });
  Handle(pods_, client::TypedEventHandler<corev1::Pod>{
      .on_add = [this](const auto& pod, bool) { OnPodAdd(pod); },
      .on_update = [this](const auto& old_pod, const auto& cur_pod) { OnPodUpdate(old_pod, cur_pod); },
      .on_delete = [this](const auto& pod, bool) { OnPodDelete(pod); },
  });
  // Revisions have no handler (as upstream): the sets' own events bring every change to them.
}

StatefulSetController::~StatefulSetController() {
  RemoveHandlers();
  Stop();
}

std::vector<client::SharedIndexInformer*> StatefulSetController::Informers() const {
  return {&sets_.Informer(), &pods_.Informer(), &revisions_.Informer()};
}

void StatefulSetController::EnqueueSet(const appsv1::StatefulSet& set) { Enqueue(api::ObjectKey(set.metadata())); }

StatefulSetController::SetPtr StatefulSetController::ResolveControllerRef(const std::string& ns,
                                                                          const metav1::OwnerReference& ref) const {
  if (ref.kind() != "StatefulSet") return nullptr;
  Result<SetPtr> set = sets_.Lister().Get(ns, ref.name());
  if (!set.ok() || (*set)->metadata().uid() != ref.uid()) return nullptr;
  return *set;
}

std::vector<StatefulSetController::SetPtr> StatefulSetController::SetsForPod(const corev1::Pod& pod) const {
  std::vector<SetPtr> out;
  for (SetPtr& set : sets_.Lister().Namespace(pod.metadata().namespace_()).List()) {
    Result<api::LabelSelector> selector = SelectorOf(*set);
    // An empty selector would match every pod; upstream skips it (and invalid ones).
    if (!selector.ok() || selector->Empty() || !selector->Matches(pod.metadata().labels())) continue;
    out.push_back(std::move(set));
  }
  if (out.size() > 1) {
    CK_LOG_WARNING("user error: more than one StatefulSet is selecting pods", "pod",
                   api::ObjectKey(pod.metadata()), "sets", out.size());
  }
  return out;
}

void StatefulSetController::OnPodAdd(const PodPtr& pod) {
  // After a restart a pod may show up already being deleted.
  if (pod->metadata().has_deletiontimestamp()) {
    OnPodDelete(pod);
    return;
  }
  if (const metav1::OwnerReference* ref = GetControllerOf(pod->metadata()); ref != nullptr) {
    if (SetPtr set = ResolveControllerRef(pod->metadata().namespace_(), *ref)) EnqueueSet(*set);
    return;
  }
  // An orphan: every set selecting it may want to adopt it.
  for (const SetPtr& set : SetsForPod(*pod)) EnqueueSet(*set);
}

void StatefulSetController::OnPodUpdate(const PodPtr& old_pod, const PodPtr& cur_pod) {
  // A relist delivers unchanged pods as updates; two versions always differ in resourceVersion.
  if (old_pod->metadata().resourceversion() == cur_pod->metadata().resourceversion()) return;
  const bool labels_changed = !SameLabels(old_pod->metadata().labels(), cur_pod->metadata().labels());
  const metav1::OwnerReference* cur_ref = GetControllerOf(cur_pod->metadata());
  const metav1::OwnerReference* old_ref = GetControllerOf(old_pod->metadata());
  const bool ref_changed = !SameControllerRef(cur_ref, old_ref);
  if (ref_changed && old_ref != nullptr) {
    if (SetPtr set = ResolveControllerRef(old_pod->metadata().namespace_(), *old_ref)) EnqueueSet(*set);
  }
  if (cur_ref != nullptr) {
    SetPtr set = ResolveControllerRef(cur_pod->metadata().namespace_(), *cur_ref);
    if (set == nullptr) return;
    EnqueueSet(*set);
    // A pod that just became ready turns available minReadySeconds later; look again then (one
    // second more, against clock skew, as upstream).
    if (!IsPodReady(*old_pod) && IsPodReady(*cur_pod) && set->spec().minreadyseconds() > 0) {
      EnqueueAfter(api::ObjectKey(set->metadata()),
                   std::chrono::seconds(set->spec().minreadyseconds()) + std::chrono::seconds(1));
    }
    return;
  }
  if (labels_changed || ref_changed) {
    for (const SetPtr& set : SetsForPod(*cur_pod)) EnqueueSet(*set);
  }
}

void StatefulSetController::OnPodDelete(const PodPtr& pod) {
  const metav1::OwnerReference* ref = GetControllerOf(pod->metadata());
  if (ref == nullptr) return;  // nobody cares about an orphan going away
  if (SetPtr set = ResolveControllerRef(pod->metadata().namespace_(), *ref)) EnqueueSet(*set);
}

Status StatefulSetController::AdoptOrphanRevisions(const appsv1::StatefulSet& set) {
  CK_ASSIGN_OR_RETURN(std::vector<statefulset::RevisionPtr> revisions, control_.ListRevisions(set));
  std::vector<statefulset::RevisionPtr> orphans;
  for (const auto& r : revisions) {
    if (GetControllerOf(r->metadata()) == nullptr) orphans.push_back(r);
  }
  if (orphans.empty()) return Status::Ok();
  Status can_adopt = RecheckDeletionTimestamp(api_, Resource(appsv1::StatefulSet::descriptor()),
                                              set.metadata().namespace_(), set.metadata().name(),
                                              set.metadata().uid())();
  if (!can_adopt.ok()) return can_adopt.WithPrefix("can't adopt ControllerRevisions");
  return control_.AdoptOrphanRevisions(set, orphans);
}

Result<std::vector<StatefulSetController::PodPtr>> StatefulSetController::PodsForStatefulSet(
    const appsv1::StatefulSet& set, const api::LabelSelector& selector) {
  const client::ResourceInfo& pods_resource = Resource(corev1::Pod::descriptor());
  // Every pod of the namespace: owned pods that stopped matching must be seen to be released.
  std::vector<client::ObjectPtr> members;
  Status release_error;
  for (const PodPtr& pod : pods_.Lister().Namespace(set.metadata().namespace_()).List()) {
    if (statefulset::IsMemberOf(set, *pod)) {
      members.push_back(pod);
      continue;
    }
    // Only pods named after the set are claimed; an owned pod with another name is released.
    if (!IsControlledBy(pod->metadata(), set.metadata().uid()) || set.metadata().has_deletiontimestamp()) continue;
    Result<client::ObjectPtr> released =
        api_.Patch(pods_resource, pod->metadata().namespace_(), pod->metadata().name(),
                   client::PatchType::kStrategicMerge, ReleasePatch(set.metadata().uid(), pod->metadata().uid()));
    Code code = released.status().code();
    if (!released.ok() && code != Code::kNotFound && code != Code::kInvalid && release_error.ok()) {
      release_error = released.status();
    }
  }
  ControllerRefManager manager(api_, set, selector, pods_resource,
                               RecheckDeletionTimestamp(api_, Resource(appsv1::StatefulSet::descriptor()),
                                                        set.metadata().namespace_(), set.metadata().name(),
                                                        set.metadata().uid()));
  CK_ASSIGN_OR_RETURN(std::vector<client::ObjectPtr> claimed, manager.Claim(members));
  CK_RETURN_IF_ERROR(release_error);
  std::vector<PodPtr> out;
  out.reserve(claimed.size());
  for (const client::ObjectPtr& object : claimed) out.push_back(client::As<corev1::Pod>(object));
  return out;
}

Status StatefulSetController::Sync(const std::string& key) {
  CK_ASSIGN_OR_RETURN(auto ns_name, api::SplitObjectKey(key));
  Result<SetPtr> got = sets_.Lister().Get(ns_name.first, ns_name.second);
  if (got.status().code() == Code::kNotFound) {
    CK_VLOG(2, "StatefulSet has been deleted", "key", key);
    return Status::Ok();
  }
  CK_RETURN_IF_ERROR(got.status());
  const appsv1::StatefulSet set = statefulset::WithDefaults(**got);
  Result<api::LabelSelector> selector = SelectorOf(set);
  if (!selector.ok()) {
    // Not transient: retrying cannot help until the set changes.
    CK_LOG_ERROR("error converting StatefulSet selector", "key", key, "error", selector.status().message());
    return Status::Ok();
  }
  CK_RETURN_IF_ERROR(AdoptOrphanRevisions(set));
  CK_ASSIGN_OR_RETURN(std::vector<PodPtr> pods, PodsForStatefulSet(set, *selector));
  CK_VLOG(4, "Syncing StatefulSet", "statefulSet", key, "pods", pods.size());
  CK_ASSIGN_OR_RETURN(appsv1::StatefulSetStatus status, control_.UpdateStatefulSet(set, pods));
  // Availability comes with time, not with an event: look again after minReadySeconds.
  if (set.spec().minreadyseconds() > 0 && status.availablereplicas() != set.spec().replicas()) {
    EnqueueAfter(key, std::chrono::seconds(set.spec().minreadyseconds()));
  }
  return Status::Ok();
}

}  // namespace ck::controller_manager
