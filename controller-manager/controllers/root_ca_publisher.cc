#include "controller-manager/controllers/root_ca_publisher.h"

#include "common/base/log.h"

namespace ck::controller_manager {

namespace corev1 = ::k8s::io::api::core::v1;

Result<std::unique_ptr<ManagedController>> RootCaPublisher::New(ControllerContext& context) {
  if (context.root_ca_pem.empty()) {
    return Invalid("root-ca-certificate-publisher-controller: no root CA (set --root-ca-file)");
  }
  return std::unique_ptr<ManagedController>(new RootCaPublisher(context, context.root_ca_pem));
}

RootCaPublisher::RootCaPublisher(ControllerContext& context, std::string root_ca)
    : ManagedController(client::ControllerOptions{
          .name = "root_ca_cert_publisher", .workers = 1, .clock = &context.clock, .registry = &context.metrics}),
      api_(context.api),
      root_ca_(std::move(root_ca)),
      namespaces_(context.informers.ForKind<corev1::Namespace>()),
      config_maps_(context.informers.ForKind<corev1::ConfigMap>()) {
  Handle(namespaces_, client::TypedEventHandler<k8s::io::api::core::v1::Namespace>{
      .on_add = [this](const auto& ns, bool) { Enqueue(ns->metadata().name()); },
      .on_update = [this](const auto&, const auto& ns) { Enqueue(ns->metadata().name()); },
  });
  // Other ConfigMaps are none of this controller's business.
  Handle(config_maps_, client::TypedEventHandler<k8s::io::api::core::v1::ConfigMap>{
      .on_update =
          [this](const auto&, const auto& cm) {
            if (cm->metadata().name() == kRootCaConfigMapName) Enqueue(cm->metadata().namespace_());
          },
      .on_delete =
          [this](const auto& cm, bool) {
            if (cm->metadata().name() == kRootCaConfigMapName) Enqueue(cm->metadata().namespace_());
          },
  });
}

RootCaPublisher::~RootCaPublisher() {
  RemoveHandlers();
  Stop();
}

std::vector<client::SharedIndexInformer*> RootCaPublisher::Informers() const {
  return {&namespaces_.Informer(), &config_maps_.Informer()};
}

Status RootCaPublisher::Sync(const std::string& key) {
  Result<std::shared_ptr<const corev1::Namespace>> ns = namespaces_.Lister().Get(key);
  if (ns.status().code() == Code::kNotFound) return Status::Ok();
  CK_RETURN_IF_ERROR(ns.status());
  const client::ResourceInfo& resource =
      client::SharedInformerFactory::ResourceOfMessage(corev1::ConfigMap::descriptor()->full_name());

  Result<std::shared_ptr<const corev1::ConfigMap>> cm = config_maps_.Lister().Get(key, kRootCaConfigMapName);
  if (cm.status().code() == Code::kNotFound) {
    // A terminating namespace takes no new objects; do not retry into it.
    if ((*ns)->metadata().has_deletiontimestamp() || (*ns)->status().phase() == "Terminating") return Status::Ok();
    corev1::ConfigMap fresh;
    fresh.mutable_metadata()->set_name(kRootCaConfigMapName);
    (*fresh.mutable_metadata()->mutable_annotations())[kDescriptionAnnotation] = kRootCaDescription;
    (*fresh.mutable_data())["ca.crt"] = root_ca_;
    Result<client::ObjectPtr> created = api_.Create(resource, key, fresh);
    if (created.ok()) {
      CK_VLOG(2, "Published root CA", "namespace", key);
      return Status::Ok();
    }
    Code code = created.status().code();
    if (code == Code::kAlreadyExists || code == Code::kNotFound) return Status::Ok();
    if (code == Code::kForbidden && created.status().message().find("terminat") != std::string::npos) {
      return Status::Ok();
    }
    return created.status();
  }
  CK_RETURN_IF_ERROR(cm.status());

  // data exactly {ca.crt: root CA} and the description annotation present (upstream's check).
  const corev1::ConfigMap& current = **cm;
  auto described = current.metadata().annotations().find(kDescriptionAnnotation);
  auto ca = current.data().find("ca.crt");
  bool data_ok = current.data().size() == 1 && ca != current.data().end() && ca->second == root_ca_;
  if (data_ok && described != current.metadata().annotations().end() && !described->second.empty()) {
    return Status::Ok();
  }
  corev1::ConfigMap repaired = current;
  repaired.clear_data();
  (*repaired.mutable_data())["ca.crt"] = root_ca_;
  (*repaired.mutable_metadata()->mutable_annotations())[kDescriptionAnnotation] = kRootCaDescription;
  Result<client::ObjectPtr> updated = api_.Update(resource, key, repaired);
  if (updated.ok()) CK_VLOG(2, "Repaired root CA ConfigMap", "namespace", key);
  // A Conflict means the cache is behind: the queue retries after the informer catches up.
  return updated.status();
}

}  // namespace ck::controller_manager
