// ServiceAccountsController ("serviceaccount-controller"): every namespace that is not
// terminating has the ServiceAccounts it should (upstream's serviceaccounts-controller: just
// `default`), recreated when deleted. ServiceAccount admission rejects pods whose account does
// not exist, so a new namespace is unusable for pods until this controller has run.
//   Namespace add/update, ServiceAccount delete -> key = namespace name -> Sync creates what is missing.
// Threading: see client::Controller.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "controller-manager/controller_table.h"

namespace ck::controller_manager {

class ServiceAccountsController final : public ManagedController {
 public:
  // The accounts each namespace gets (upstream DefaultServiceAccountsControllerOptions).
  static std::vector<std::string> DefaultAccounts() { return {"default"}; }

  ServiceAccountsController(ControllerContext& context, std::vector<std::string> accounts = DefaultAccounts(),
                            int workers = 1);
  ~ServiceAccountsController() override;

  std::vector<client::SharedIndexInformer*> Informers() const override;

 protected:
  // `key` is a namespace name.
  Status Sync(const std::string& key) override;

 private:
  client::ApiClient& api_;
  const std::vector<std::string> accounts_;
  client::TypedInformer<k8s::io::api::core::v1::Namespace> namespaces_;
  client::TypedInformer<k8s::io::api::core::v1::ServiceAccount> service_accounts_;
};

}  // namespace ck::controller_manager
