// DeploymentController: construction, event handlers, the Sync dispatch (upstream
// deployment_controller.go) and the two writes every step shares.
#include "controller-manager/deployment/deployment_controller.h"

#include <utility>

#include "common/api/object.h"
#include "common/base/log.h"
#include "common/client/cache/meta.h"
#include "controller-manager/util/controller_ref.h"

namespace ck::controller_manager {

namespace appsv1 = ::k8s::io::api::apps::v1;
namespace corev1 = ::k8s::io::api::core::v1;
using namespace deployment;  // NOLINT: the controller is this folder's utilities put to work

namespace {
const client::ResourceInfo& ResourceOf(const google::protobuf::Descriptor* d) {
  return client::SharedInformerFactory::ResourceOfMessage(d->full_name());
}
}  // namespace

DeploymentController::DeploymentController(ControllerContext& context)
    : ManagedController(client::ControllerOptions{.name = "deployment",
                                                  .workers = context.settings.concurrent_deployment_syncs,
                                                  .clock = &context.clock,
                                                  .registry = &context.metrics}),
      api_(context.api),
      clock_(context.clock),
      recorder_(context.Recorder("deployment-controller")),
      deployments_resource_(ResourceOf(appsv1::Deployment::descriptor())),
      replicasets_resource_(ResourceOf(appsv1::ReplicaSet::descriptor())),
      deployments_(context.informers.ForKind<appsv1::Deployment>()),
      replica_sets_(context.informers.ForKind<appsv1::ReplicaSet>()),
      pods_(context.informers.ForKind<corev1::Pod>()) {
  Handle(deployments_, client::TypedEventHandler<appsv1::Deployment>{
                           .on_add = [this](const auto& d, bool) { EnqueueDeployment(*d); },
                           .on_update = [this](const auto&, const auto& d) { EnqueueDeployment(*d); },
                           .on_delete = [this](const auto& d, bool) { EnqueueDeployment(*d); },
                       });
  Handle(replica_sets_, client::TypedEventHandler<appsv1::ReplicaSet>{
                            .on_add = [this](const auto& rs, bool) { OnReplicaSetAdd(rs); },
                            .on_update = [this](const auto& old_rs, const auto& rs) { OnReplicaSetUpdate(old_rs, rs); },
                            .on_delete = [this](const auto& rs, bool) { OnReplicaSetDelete(rs); },
                        });
  // Pods matter only to Recreate, which waits until the old ones are gone.
  Handle(pods_, client::TypedEventHandler<corev1::Pod>{
                    .on_delete = [this](const auto& pod, bool) { OnPodDelete(pod); },
                });
}

DeploymentController::~DeploymentController() {
  RemoveHandlers();
  Stop();
}

std::vector<client::SharedIndexInformer*> DeploymentController::Informers() const {
  return {&deployments_.Informer(), &replica_sets_.Informer(), &pods_.Informer()};
}

// ---- Event handlers ----------------------------------------------------------------------------

void DeploymentController::EnqueueDeployment(const Deployment& d) { Enqueue(api::ObjectKey(d.metadata())); }

std::shared_ptr<const appsv1::Deployment> DeploymentController::ResolveControllerRef(
    const std::string& ns, const metav1::OwnerReference* ref) const {
  // A reference to another kind, or to a deployment since replaced by a namesake, is not ours.
  if (ref == nullptr || ref->kind() != "Deployment") return nullptr;
  Result<std::shared_ptr<const Deployment>> d = deployments_.Lister().Get(ns, ref->name());
  if (!d.ok() || (*d)->metadata().uid() != ref->uid()) return nullptr;
  return *d;
}

std::vector<std::shared_ptr<const appsv1::Deployment>> DeploymentController::DeploymentsForReplicaSet(
    const ReplicaSet& rs) const {
  std::vector<std::shared_ptr<const Deployment>> out;
  if (rs.metadata().labels().empty()) return out;
  for (const auto& d : deployments_.Lister().Namespace(rs.metadata().namespace_()).List()) {
    Result<api::LabelSelector> selector =
        api::LabelSelector::FromProto(d->spec().has_selector() ? &d->spec().selector() : nullptr);
    // A deployment with an empty (or broken) selector matches nothing, not everything.
    if (!selector.ok() || selector->Empty() || !selector->Matches(rs.metadata().labels())) continue;
    out.push_back(d);
  }
  if (out.size() > 1) {
    CK_VLOG(4, "More than one deployment is selecting replica set", "replicaSet", api::ObjectKey(rs.metadata()));
  }
  return out;
}

void DeploymentController::OnReplicaSetAdd(const std::shared_ptr<const ReplicaSet>& rs) {
  // After a restart a ReplicaSet may first show up already being deleted.
  if (rs->metadata().has_deletiontimestamp()) {
    OnReplicaSetDelete(rs);
    return;
  }
  if (const metav1::OwnerReference* ref = GetControllerOf(rs->metadata()); ref != nullptr) {
    if (auto d = ResolveControllerRef(rs->metadata().namespace_(), ref)) EnqueueDeployment(*d);
    return;
  }
  // An orphan: every deployment that selects it may want to adopt it.
  for (const auto& d : DeploymentsForReplicaSet(*rs)) EnqueueDeployment(*d);
}

void DeploymentController::OnReplicaSetUpdate(const std::shared_ptr<const ReplicaSet>& old_rs,
                                              const std::shared_ptr<const ReplicaSet>& cur) {
  // Resyncs deliver unchanged objects; two versions always differ in resourceVersion.
  if (old_rs->metadata().resourceversion() == cur->metadata().resourceversion()) return;
  const metav1::OwnerReference* cur_ref = GetControllerOf(cur->metadata());
  const metav1::OwnerReference* old_ref = GetControllerOf(old_rs->metadata());
  const bool ref_changed = (cur_ref == nullptr) != (old_ref == nullptr) ||
                           (cur_ref != nullptr && cur_ref->SerializeAsString() != old_ref->SerializeAsString());
  if (ref_changed && old_ref != nullptr) {
    if (auto d = ResolveControllerRef(old_rs->metadata().namespace_(), old_ref)) EnqueueDeployment(*d);
  }
  if (cur_ref != nullptr) {
    if (auto d = ResolveControllerRef(cur->metadata().namespace_(), cur_ref)) EnqueueDeployment(*d);
    return;
  }
  // An orphan whose labels or owner changed: someone may adopt it now.
  bool labels_changed = old_rs->metadata().labels().size() != cur->metadata().labels().size();
  for (const auto& [k, v] : cur->metadata().labels()) {
    auto it = old_rs->metadata().labels().find(k);
    if (it == old_rs->metadata().labels().end() || it->second != v) labels_changed = true;
  }
  if (labels_changed || ref_changed) {
    for (const auto& d : DeploymentsForReplicaSet(*cur)) EnqueueDeployment(*d);
  }
}

void DeploymentController::OnReplicaSetDelete(const std::shared_ptr<const ReplicaSet>& rs) {
  // Orphans going away concern nobody.
  if (auto d = ResolveControllerRef(rs->metadata().namespace_(), GetControllerOf(rs->metadata()))) {
    EnqueueDeployment(*d);
  }
}

void DeploymentController::OnPodDelete(const std::shared_ptr<const Pod>& pod) {
  const metav1::OwnerReference* ref = GetControllerOf(pod->metadata());
  if (ref == nullptr || ref->kind() != "ReplicaSet") return;
  Result<std::shared_ptr<const ReplicaSet>> rs = replica_sets_.Lister().Get(pod->metadata().namespace_(), ref->name());
  if (!rs.ok() || (*rs)->metadata().uid() != ref->uid()) return;
  auto d = ResolveControllerRef((*rs)->metadata().namespace_(), GetControllerOf((*rs)->metadata()));
  // A Recreate rollout waits for the old pods to be gone; Sync checks whether they all are.
  if (d != nullptr && d->spec().strategy().type() == kRecreate) EnqueueDeployment(*d);
}

// ---- Sync --------------------------------------------------------------------------------------

Status DeploymentController::Sync(const std::string& key) {
  CK_ASSIGN_OR_RETURN(auto ns_name, api::SplitObjectKey(key));
  const auto& [ns, name] = ns_name;
  Result<std::shared_ptr<const Deployment>> got = deployments_.Lister().Get(ns, name);
  if (got.status().code() == Code::kNotFound) {
    CK_VLOG(4, "Deployment has been deleted", "deployment", key);
    return Status::Ok();
  }
  CK_RETURN_IF_ERROR(got.status());
  Deployment d = **got;
  SetDefaults(&d);

  // A present but empty selector would select every pod in the namespace.
  const auto& selector_proto = d.spec().selector();
  if (d.spec().has_selector() && selector_proto.matchlabels().empty() && selector_proto.matchexpressions().empty()) {
    recorder_.Event(d, client::kEventWarning, "SelectingAll",
                    "This deployment is selecting all pods. A non-empty selector is required.");
    if (d.status().observedgeneration() < d.metadata().generation()) {
      d.mutable_status()->set_observedgeneration(d.metadata().generation());
      return WriteStatus(&d);
    }
    return Status::Ok();
  }
  Result<api::LabelSelector> selector =
      api::LabelSelector::FromProto(d.spec().has_selector() ? &selector_proto : nullptr);
  if (!selector.ok()) {
    return BadRequest("deployment " + key + " has invalid label selector: " + selector.status().message());
  }

  CK_ASSIGN_OR_RETURN(ReplicaSets rs_list, ClaimReplicaSets(d, *selector));

  // Being deleted: only report (the garbage collector removes the ReplicaSets).
  if (d.metadata().has_deletiontimestamp()) return SyncStatusOnly(&d, &rs_list);

  // Paused and resumed deployments get an Unknown Progressing condition, so that time spent
  // paused never counts against progressDeadlineSeconds.
  CK_RETURN_IF_ERROR(CheckPausedConditions(&d));
  if (d.spec().paused()) return SyncScale(&d, &rs_list);

  CK_ASSIGN_OR_RETURN(bool scaling, IsScalingEvent(&d, &rs_list));
  if (scaling) return SyncScale(&d, &rs_list);

  const std::string& type = d.spec().strategy().type();
  if (type == kRecreate) return RolloutRecreate(&d, &rs_list, PodMapFor(d, *selector, rs_list));
  if (type == kRollingUpdate) return RolloutRolling(&d, &rs_list);
  return BadRequest("unexpected deployment strategy type: " + type);
}

Result<deployment::ReplicaSets> DeploymentController::ClaimReplicaSets(const Deployment& d,
                                                                       const api::LabelSelector& selector) {
  const std::string& ns = d.metadata().namespace_();
  std::vector<client::ObjectPtr> candidates;
  for (auto& rs : replica_sets_.Lister().Namespace(ns).List()) candidates.push_back(std::move(rs));
  // Adoption re-reads the deployment first: a deployment being deleted (or replaced by a
  // namesake) must not adopt.
  ControllerRefManager manager(api_, d, selector, replicasets_resource_,
                               RecheckDeletionTimestamp(api_, deployments_resource_, ns, d.metadata().name(),
                                                        d.metadata().uid()));
  CK_ASSIGN_OR_RETURN(std::vector<client::ObjectPtr> claimed, manager.Claim(candidates));
  ReplicaSets out;
  for (const auto& object : claimed) {
    ReplicaSetPtr rs = client::As<ReplicaSet>(object);
    CK_CHECK(rs != nullptr) << "claimed a " << object->GetDescriptor()->full_name() << ", not a ReplicaSet";
    out.push_back(std::move(rs));
  }
  return out;
}

DeploymentController::PodMap DeploymentController::PodMapFor(const Deployment& d, const api::LabelSelector& selector,
                                                              const ReplicaSets& rs_list) const {
  PodMap map;
  for (const auto& rs : rs_list) map[rs->metadata().uid()];
  // Only pods controlled by one of the deployment's ReplicaSets count (their labels may be
  // anything by now: the ReplicaSet owns them through its reference).
  for (const auto& pod : pods_.Lister().Namespace(d.metadata().namespace_()).List(selector)) {
    const metav1::OwnerReference* ref = GetControllerOf(pod->metadata());
    if (ref == nullptr) continue;
    auto it = map.find(ref->uid());
    if (it != map.end()) it->second.push_back(pod);
  }
  return map;
}

Status DeploymentController::WriteStatus(Deployment* d) {
  const std::string& ns = d->metadata().namespace_();
  Result<client::ObjectPtr> stored = api_.Update(deployments_resource_, ns, *d, "status");
  if (!stored.ok()) return stored.status();
  std::shared_ptr<const Deployment> now = client::As<Deployment>(*stored);
  CK_CHECK(now != nullptr) << "deployments/status answered a " << (*stored)->GetDescriptor()->full_name();
  // Upstream writes the revision annotation together with the status (its status strategy keeps
  // metadata); when this server dropped it, write it through the object itself.
  const auto& want = d->metadata().annotations();
  if (auto w = want.find(kRevisionAnnotation); w != want.end()) {
    const auto& have = now->metadata().annotations();
    auto h = have.find(kRevisionAnnotation);
    if (h == have.end() || h->second != w->second) {
      Deployment copy = *now;  // the stored spec, not the defaulted one
      (*copy.mutable_metadata()->mutable_annotations())[kRevisionAnnotation] = w->second;
      stored = api_.Update(deployments_resource_, ns, copy);
      if (!stored.ok()) return stored.status();
      now = client::As<Deployment>(*stored);
      CK_CHECK(now != nullptr) << "deployments answered a " << (*stored)->GetDescriptor()->full_name();
    }
  }
  d->mutable_metadata()->set_resourceversion(now->metadata().resourceversion());
  return Status::Ok();
}

Result<deployment::ReplicaSetPtr> DeploymentController::UpdateReplicaSet(const ReplicaSet& rs) {
  Result<client::ObjectPtr> stored = api_.Update(replicasets_resource_, rs.metadata().namespace_(), rs);
  if (!stored.ok()) return stored.status();
  ReplicaSetPtr typed = client::As<ReplicaSet>(*stored);
  CK_CHECK(typed != nullptr) << "replicasets answered a " << (*stored)->GetDescriptor()->full_name();
  return typed;
}

}  // namespace ck::controller_manager
