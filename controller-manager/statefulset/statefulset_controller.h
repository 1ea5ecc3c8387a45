// StatefulSetController ("statefulset-controller", alias "statefulset"): keeps each StatefulSet's
// pods `<set>-<ordinal>` in place with stable identities, in order, at the right revision
// (upstream pkg/controller/statefulset). Pods are created with fixed names, hostname = pod name,
// subdomain = spec.serviceName, claim volumes `<template>-<set>-<ordinal>`, and the labels
// statefulset.kubernetes.io/pod-name, apps.kubernetes.io/pod-index and controller-revision-hash.
//   StatefulSet add/update/delete, its pods' add/update/delete (by controller reference; orphans
//   wake the sets selecting them) -> key "ns/name" -> Sync: adopt orphan ControllerRevisions,
//   claim pods (adopt matching orphans, release owned pods that no longer match or are not
//   named after the set), then one StatefulSetControl pass (stateful_set_control.h).
// PersistentVolumeClaims are not created (see README.md).
// Threading: see client::Controller.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "controller-manager/controller_table.h"
#include "controller-manager/statefulset/stateful_set_control.h"

namespace ck::controller_manager {

class StatefulSetController final : public ManagedController {
 public:
  // Workers: context.settings.concurrent_statefulset_syncs (--concurrent-statefulset-syncs).
  explicit StatefulSetController(ControllerContext& context);
  ~StatefulSetController() override;

  std::vector<client::SharedIndexInformer*> Informers() const override;

 protected:
  // `key` is "namespace/name" of a StatefulSet.
  Status Sync(const std::string& key) override;

 private:
  using SetPtr = std::shared_ptr<const k8s::io::api::apps::v1::StatefulSet>;
  using PodPtr = std::shared_ptr<const k8s::io::api::core::v1::Pod>;

  void OnPodAdd(const PodPtr& pod);
  void OnPodUpdate(const PodPtr& old_pod, const PodPtr& cur_pod);
  void OnPodDelete(const PodPtr& pod);
  // The set a controller reference names, when it is a StatefulSet with that uid.
  SetPtr ResolveControllerRef(const std::string& ns, const k8s::io::apimachinery::pkg::apis::meta::v1::OwnerReference& ref) const;
  // The sets of the pod's namespace whose selector matches its labels (upstream GetPodStatefulSets).
  std::vector<SetPtr> SetsForPod(const k8s::io::api::core::v1::Pod& pod) const;
  void EnqueueSet(const k8s::io::api::apps::v1::StatefulSet& set);

  Status AdoptOrphanRevisions(const k8s::io::api::apps::v1::StatefulSet& set);
  Result<std::vector<PodPtr>> PodsForStatefulSet(const k8s::io::api::apps::v1::StatefulSet& set,
                                                 const api::LabelSelector& selector);

  client::ApiClient& api_;
  client::TypedInformer<k8s::io::api::apps::v1::StatefulSet> sets_;
  client::TypedInformer<k8s::io::api::core::v1::Pod> pods_;
  client::TypedInformer<k8s::io::api::apps::v1::ControllerRevision> revisions_;
  statefulset::StatefulSetControl control_;
};

}  // namespace ck::controller_manager
