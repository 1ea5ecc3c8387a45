// ResourceQuota (validating, runs last): upstream's staging/.../admission/plugin/resourcequota,
// made exact under concurrency by the write's own transaction.
//
// For a write in a namespace with ResourceQuota objects, each quota's usage change is
//   delta = usage(new object, if the quota's scopes match it) - usage(old object, if they match)
// (CREATE has no old object, DELETE no new one). Resources counted (QuotaUsage below):
// count/<resource>[.<group>] for every kind; pods, cpu, memory, ephemeral-storage, requests.*,
// limits.*, hugepages-* and requests.<extended> for pods that are not Succeeded/Failed;
// services, services.nodeports, services.loadbalancers; persistentvolumeclaims, requests.storage
// and <class>.storageclass.storage.k8s.io/{requests.storage,persistentvolumeclaims}; configmaps,
// secrets, resourcequotas, replicationcontrollers. Any increase must fit: used + delta <= hard,
// else Forbidden `exceeded quota: <name>, requested: pods=1, used: pods=10, limited: pods=10`; a
// created pod must set what a quota on cpu/memory (requests.*, limits.*) tracks, else Forbidden
// `failed quota: <name>: must specify limits.cpu for: app; requests.cpu for: app`.
// When every quota allows the write and the write has a transaction (not dry-run), each changed
// quota is written in that transaction: a compare on the quota's mod revision as the source saw
// it, and a put of the quota with status.used += delta (status.hard = spec.hard). Two concurrent
// writers thus conflict on the compare; the registry re-runs validation on fresh state, so no
// quota is ever overshot. A refusal is checked again after the source caught up with the store,
// so a create right after a delete that freed room is admitted.
// Differences from upstream (README.md): the enforced hard is spec.hard (upstream uses
// status.hard, which its controller copies from spec.hard); usage decreases on DELETE and on
// updates that shrink it (upstream leaves that to the controller's recount), and a missing
// status.used entry counts as 0 (upstream refuses with "status unknown for quota"); the expiry of
// a deleting pod's grace period is not looked at. Scopes Terminating, NotTerminating, BestEffort,
// NotBestEffort and PriorityClass are evaluated (a scoped quota only applies to pods);
// CrossNamespacePodAffinity is not: a quota with that scope applies to no object.
// Threading: stateless apart from the source; safe from any thread.
#pragma once

#include "apiserver/admission/admission.h"
#include "common/api/resources.h"

namespace ck::apiserver::admission::plugins {

// What `object` (of `resource`) counts against a quota, before scopes.
Result<api::ResourceList> QuotaUsage(const ResourceInfo& resource, const Message& object);
// Whether `quota`'s scopes (scopes and scopeSelector) let it track `object`; the controller
// manager's recount uses the same rule as admission.
bool QuotaTracks(const k8s::io::api::core::v1::ResourceQuota& quota, const ResourceInfo& resource,
                 const Message& object);

class ResourceQuota final : public Plugin {
 public:
  explicit ResourceQuota(const ObjectSource& source);
  std::string_view name() const override { return "ResourceQuota"; }
  Status Validate(const Attributes& a, Context& ctx) override;

 private:
  // One evaluation on what the source holds now; *exceeded says a quota's hard limit refused it.
  Status Check(const Attributes& a, Context& ctx, bool* exceeded) const;
  const ObjectSource& source_;
  const ResourceInfo* quotas_;  // the resourcequotas row, for StorageKey
};

}  // namespace ck::apiserver::admission::plugins
