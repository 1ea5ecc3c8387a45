// ResourceQuotaController ("resourcequota-controller"): recomputes every ResourceQuota's
// status from what its namespace holds (upstream pkg/controller/resourcequota). Admission keeps
// `status.used` current on each write (apiserver/admission/plugins/resource_quota.h); this
// controller sets `status.hard` from `spec.hard`, fills `status.used` for a new quota, and catches
// what admission cannot see: pods turning terminal, objects removed by other means, drift.
//   quota add/update -> its key; pod/service/PVC/ConfigMap/Secret/quota events -> every quota of
//   that namespace (replenishment); every --resource-quota-sync-period -> each quota again
//   -> Sync: usage of every object the quota's scopes track, summed for the names in spec.hard
//      (count/<resource>.<group> of other kinds by a metadata-only list), written when changed.
// Threading: see client::Controller.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "controller-manager/controller_table.h"

namespace ck::controller_manager {

class ResourceQuotaController final : public ManagedController {
 public:
  explicit ResourceQuotaController(ControllerContext& context);
  ~ResourceQuotaController() override;

  std::vector<client::SharedIndexInformer*> Informers() const override;

 protected:
  Status Sync(const std::string& key) override;

 private:
  using Quota = k8s::io::api::core::v1::ResourceQuota;
  void EnqueueNamespace(const std::string& ns);
  template <typename T>
  void Replenish(client::TypedInformer<T>& informer);

  client::ApiClient& api_;
  const Duration resync_;
  client::TypedInformer<Quota> quotas_;
  client::TypedInformer<k8s::io::api::core::v1::Pod> pods_;
  client::TypedInformer<k8s::io::api::core::v1::Service> services_;
  client::TypedInformer<k8s::io::api::core::v1::PersistentVolumeClaim> claims_;
  client::TypedInformer<k8s::io::api::core::v1::ConfigMap> config_maps_;
  client::TypedInformer<k8s::io::api::core::v1::Secret> secrets_;
};

}  // namespace ck::controller_manager
