#include "controller-manager/controllers/serviceaccounts_controller.h"

#include "common/base/log.h"

namespace ck::controller_manager {

namespace corev1 = ::k8s::io::api::core::v1;

namespace {
// A namespace being deleted gets nothing new (upstream checks Status.Phase != Active).
bool IsActive(const corev1::Namespace& ns) {
  return !ns.metadata().has_deletiontimestamp() && ns.status().phase() != "Terminating";
}
}  // namespace

ServiceAccountsController::ServiceAccountsController(ControllerContext& context, std::vector<std::string> accounts,
                                                     int workers)
    : ManagedController(client::ControllerOptions{.name = "serviceaccount",
                                                  .workers = workers,
                                                  .clock = &context.clock,
                                                  .registry = &context.metrics}),
      api_(context.api),
      accounts_(std::move(accounts)),
      namespaces_(context.informers.ForKind<corev1::Namespace>()),
      service_accounts_(context.informers.ForKind<corev1::ServiceAccount>()) {
  Handle(namespaces_, client::TypedEventHandler<k8s::io::api::core::v1::Namespace>{
      .on_add = [this](const auto& ns, bool) { Enqueue(ns->metadata().name()); },
      .on_update = [this](const auto&, const auto& ns) { Enqueue(ns->metadata().name()); },
  });
  // Only deletions matter: an added or changed account never makes one missing.
  Handle(service_accounts_, client::TypedEventHandler<k8s::io::api::core::v1::ServiceAccount>{
      .on_delete = [this](const auto& sa, bool) { Enqueue(sa->metadata().namespace_()); },
  });
}

ServiceAccountsController::~ServiceAccountsController() {
  RemoveHandlers();
  Stop();
}

std::vector<client::SharedIndexInformer*> ServiceAccountsController::Informers() const {
  return {&namespaces_.Informer(), &service_accounts_.Informer()};
}

Status ServiceAccountsController::Sync(const std::string& key) {
  Result<std::shared_ptr<const corev1::Namespace>> ns = namespaces_.Lister().Get(key);
  if (ns.status().code() == Code::kNotFound) return Status::Ok();
  CK_RETURN_IF_ERROR(ns.status());
  if (!IsActive(**ns)) return Status::Ok();
  const client::ResourceInfo& resource = client::SharedInformerFactory::ResourceOfMessage(
      corev1::ServiceAccount::descriptor()->full_name());
  for (const std::string& name : accounts_) {
    if (service_accounts_.Lister().Get(key, name).ok()) continue;
    corev1::ServiceAccount sa;
    sa.mutable_metadata()->set_name(name);
    Result<client::ObjectPtr> created = api_.Create(resource, key, sa);
    if (created.ok()) {
      CK_VLOG(2, "Created ServiceAccount", "namespace", key, "name", name);
      continue;
    }
    // Someone else made it, or the namespace went away or started terminating meanwhile.
    Code code = created.status().code();
    if (code == Code::kAlreadyExists || code == Code::kNotFound) continue;
    if (code == Code::kForbidden && created.status().message().find("terminat") != std::string::npos) continue;
    return created.status();
  }
  return Status::Ok();
}

}  // namespace ck::controller_manager
