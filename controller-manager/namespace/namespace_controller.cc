#include "controller-manager/namespace/namespace_controller.h"

#include "common/base/log.h"

namespace ck::controller_manager {

namespace corev1 = ::k8s::io::api::core::v1;

NamespaceController::NamespaceController(ControllerContext& context)
    : ManagedController(client::ControllerOptions{.name = "namespace",
                                                  .workers = context.settings.concurrent_namespace_syncs,
                                                  .clock = &context.clock,
                                                  .registry = &context.metrics}),
      deleter_(context.api, context.clock),
      namespaces_(context.informers.ForKind<corev1::Namespace>()) {
  auto enqueue = [this](const std::shared_ptr<const corev1::Namespace>& ns) {
    if (!ns->metadata().has_deletiontimestamp()) return;
    EnqueueAfter(ns->metadata().name(), kNamespaceDeletionGracePeriod);
  };
  Handle(namespaces_, client::TypedEventHandler<corev1::Namespace>{
      .on_add = [enqueue](const auto& ns, bool) { enqueue(ns); },
      .on_update = [enqueue](const auto&, const auto& ns) { enqueue(ns); },
  });
}

NamespaceController::~NamespaceController() {
  RemoveHandlers();
  Stop();
}

std::vector<client::SharedIndexInformer*> NamespaceController::Informers() const {
  return {&namespaces_.Informer()};
}

Status NamespaceController::Sync(const std::string& key) {
  Result<std::shared_ptr<const corev1::Namespace>> ns = namespaces_.Lister().Get(key);
  if (!ns.ok()) return ns.status().code() == Code::kNotFound ? Status::Ok() : ns.status();
  Result<int64_t> estimate = deleter_.Delete(key);
  if (!estimate.ok()) return estimate.status().WithPrefix("deletion of namespace " + key + " failed");
  if (*estimate > 0) {
    const int64_t wait = *estimate / 2 + 1;
    CK_VLOG(4, "Content remaining in namespace", "namespace", key, "waitSeconds", wait);
    EnqueueAfter(key, std::chrono::seconds(wait));
  }
  return Status::Ok();
}

}  // namespace ck::controller_manager
