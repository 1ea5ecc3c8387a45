#include "controller-manager/resourcequota/resource_quota_controller.h"

#include <set>

#include "apiserver/admission/plugins/resource_quota.h"
#include "common/api/object.h"
#include "common/api/resources.h"
#include "common/base/log.h"

namespace ck::controller_manager {

namespace corev1 = ::k8s::io::api::core::v1;

namespace {

const client::ResourceInfo& ResourceOf(const google::protobuf::Descriptor* d) {
  return client::SharedInformerFactory::ResourceOfMessage(d->full_name());
}

// Adds what `object` counts to `used`, for the names `hard` limits, when the quota tracks it.
Status Count(const corev1::ResourceQuota& quota, const client::ResourceInfo& resource,
             const google::protobuf::Message& object, const api::ResourceList& hard, api::ResourceList* used) {
  if (!apiserver::admission::plugins::QuotaTracks(quota, resource, object)) return Status::Ok();
  CK_ASSIGN_OR_RETURN(api::ResourceList usage, apiserver::admission::plugins::QuotaUsage(resource, object));
  for (const auto& [name, q] : usage) {
    if (!hard.count(name)) continue;
    if (!(*used)[name].Add(q)) return Invalid("quota usage of " + name + " overflows");
  }
  return Status::Ok();
}

template <typename T>
Status CountAll(const corev1::ResourceQuota& quota, const client::TypedInformer<T>& informer,
                const api::ResourceList& hard, api::ResourceList* used) {
  const client::ResourceInfo& r = ResourceOf(T::descriptor());
  for (const auto& object : informer.Lister().Namespace(quota.metadata().namespace_()).List()) {
    CK_RETURN_IF_ERROR(Count(quota, r, *object, hard, used));
  }
  return Status::Ok();
}

}  // namespace

ResourceQuotaController::ResourceQuotaController(ControllerContext& context)
    : ManagedController(client::ControllerOptions{.name = "resourcequota_primary",
                                                  .workers = context.settings.concurrent_resource_quota_syncs,
                                                  .clock = &context.clock,
                                                  .registry = &context.metrics}),
      api_(context.api),
      resync_(context.settings.resource_quota_sync_period),
      quotas_(context.informers.ForKind<Quota>()),
      pods_(context.informers.ForKind<corev1::Pod>()),
      services_(context.informers.ForKind<corev1::Service>()),
      claims_(context.informers.ForKind<corev1::PersistentVolumeClaim>()),
      config_maps_(context.informers.ForKind<corev1::ConfigMap>()),
      secrets_(context.informers.ForKind<corev1::Secret>()) {
  Handle(quotas_, client::TypedEventHandler<Quota>{
      .on_add = [this](const auto& q, bool) { Enqueue(api::ObjectKey(q->metadata())); },
      .on_update =
          [this](const auto& old, const auto& q) {
            // Only a change of spec needs a recount; status writes (ours and admission's) do not.
            std::string a, b;
            old->spec().SerializeToString(&a);
            q->spec().SerializeToString(&b);
            if (a != b || !q->status().used_size()) Enqueue(api::ObjectKey(q->metadata()));
          },
      .on_delete = [this](const auto& q, bool) { EnqueueNamespace(q->metadata().namespace_()); },
  });
  Replenish(pods_);
  Replenish(services_);
  Replenish(claims_);
  Replenish(config_maps_);
  Replenish(secrets_);
}

ResourceQuotaController::~ResourceQuotaController() {
  RemoveHandlers();
  Stop();
}

template <typename T>
void ResourceQuotaController::Replenish(client::TypedInformer<T>& informer) {
  // Admission counts creates and updates as they happen; deletions and pods turning terminal are
  // what it cannot see (upstream's replenishment triggers).
  Handle(informer, client::TypedEventHandler<T>{
      .on_update =
          [this](const auto& old, const auto& now) {
            if constexpr (std::is_same_v<T, corev1::Pod>) {
              const bool was = old->status().phase() == "Succeeded" || old->status().phase() == "Failed";
              const bool is = now->status().phase() == "Succeeded" || now->status().phase() == "Failed";
              if (was != is) EnqueueNamespace(now->metadata().namespace_());
            } else {
              (void)this;  // only pods turn terminal
            }
          },
      .on_delete = [this](const auto& object, bool) { EnqueueNamespace(object->metadata().namespace_()); },
  });
}

std::vector<client::SharedIndexInformer*> ResourceQuotaController::Informers() const {
  return {&quotas_.Informer(), &pods_.Informer(), &services_.Informer(), &claims_.Informer(),
          &config_maps_.Informer(), &secrets_.Informer()};
}

void ResourceQuotaController::EnqueueNamespace(const std::string& ns) {
  for (const auto& q : quotas_.Lister().Namespace(ns).List()) Enqueue(api::ObjectKey(q->metadata()));
}

Status ResourceQuotaController::Sync(const std::string& key) {
  CK_ASSIGN_OR_RETURN(auto name, api::SplitObjectKey(key));
  Result<std::shared_ptr<const Quota>> got = quotas_.Lister().Get(name.first, name.second);
  if (got.status().code() == Code::kNotFound) return Status::Ok();
  CK_RETURN_IF_ERROR(got.status());
  const Quota& quota = **got;
  CK_ASSIGN_OR_RETURN(api::ResourceList hard, api::FromProto(quota.spec().hard()));

  api::ResourceList used;
  for (const auto& [resource_name, q] : hard) used[resource_name] = api::Quantity();
  CK_RETURN_IF_ERROR(CountAll(quota, pods_, hard, &used));
  CK_RETURN_IF_ERROR(CountAll(quota, services_, hard, &used));
  CK_RETURN_IF_ERROR(CountAll(quota, claims_, hard, &used));
  CK_RETURN_IF_ERROR(CountAll(quota, config_maps_, hard, &used));
  CK_RETURN_IF_ERROR(CountAll(quota, secrets_, hard, &used));
  CK_RETURN_IF_ERROR(CountAll(quota, quotas_, hard, &used));
  // count/<resource>.<group> of the other kinds: a metadata-only list of the namespace.
  static const std::set<std::string> kWatched = {"pods", "services", "persistentvolumeclaims", "configmaps", "secrets",
                                                 "resourcequotas"};
  for (const auto& [resource_name, q] : hard) {
    if (resource_name.rfind("count/", 0) != 0) continue;
    std::string group_resource = resource_name.substr(6);
    if (kWatched.count(group_resource)) continue;
    const client::ResourceInfo* resource = nullptr;
    for (const client::ResourceInfo& r : api::AllResources()) {
      if (r.namespaced && r.GroupResource() == group_resource) resource = &r;
    }
    if (resource == nullptr) continue;  // not served: counts as 0, as upstream for unknown kinds
    client::ListOptions o;
    o.metadata_only = true;
    CK_ASSIGN_OR_RETURN(client::ObjectList list, api_.List(*resource, quota.metadata().namespace_(), o));
    used[resource_name] = api::Quantity::FromInt(static_cast<int64_t>(list.items.size()));
  }

  Quota next = quota;
  next.mutable_status()->mutable_hard()->clear();
  api::ToProto(hard, next.mutable_status()->mutable_hard());
  next.mutable_status()->mutable_used()->clear();
  api::ToProto(used, next.mutable_status()->mutable_used());
  // Compare as quantities, not strings: "1000m" and "1" are the same usage.
  bool changed = false;
  {
    Result<api::ResourceList> old_hard = api::FromProto(quota.status().hard());
    Result<api::ResourceList> old_used = api::FromProto(quota.status().used());
    changed = !old_hard.ok() || !old_used.ok() || *old_hard != hard || *old_used != used;
  }
  if (changed) {
    Result<client::ObjectPtr> updated = api_.Update(ResourceOf(Quota::descriptor()), quota.metadata().namespace_(),
                                                    next, "status");
    if (!updated.ok()) return updated.status();  // a conflict with admission's write: retried
    CK_VLOG(2, "Updated quota usage", "quota", key);
  }
  EnqueueAfter(key, resync_);  // upstream's full resync
  return Status::Ok();
}

}  // namespace ck::controller_manager
