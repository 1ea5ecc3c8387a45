// NamespaceController ("namespace-controller"): a namespace with a deletionTimestamp is emptied
// and released (upstream pkg/controller/namespace). The work is NamespacedResourcesDeleter's;
// this is its queue:
//   Namespace add/update with a deletionTimestamp -> key = name, after 5 s (upstream
//   namespaceDeletionGracePeriod: late creations inside the namespace become visible) -> Sync:
//   deleter.Delete(name); content still terminating -> look again after estimate/2 + 1 s;
//   an error -> retried with backoff.
// Emits no Events (upstream neither); what blocks a namespace is in its status.conditions.
// Threading: see client::Controller.
#pragma once

#include <string>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "controller-manager/controller_table.h"
#include "controller-manager/namespace/namespaced_resources_deleter.h"

namespace ck::controller_manager {

// Upstream namespaceDeletionGracePeriod.
inline constexpr Duration kNamespaceDeletionGracePeriod = std::chrono::seconds(5);

class NamespaceController final : public ManagedController {
 public:
  explicit NamespaceController(ControllerContext& context);
  ~NamespaceController() override;

  std::vector<client::SharedIndexInformer*> Informers() const override;

 protected:
  // `key` is a namespace name.
  Status Sync(const std::string& key) override;

 private:
  NamespacedResourcesDeleter deleter_;
  client::TypedInformer<k8s::io::api::core::v1::Namespace> namespaces_;
};

}  // namespace ck::controller_manager
