// RootCaPublisher ("root-ca-certificate-publisher-controller"): every namespace has a ConfigMap
// `kube-root-ca.crt` whose data is exactly {ca.crt: <root CA bundle>} and which carries the
// kubernetes.io/description annotation; an edited copy is put back, a deleted one recreated
// (upstream's root-ca-cert-publisher). Pods mount it through their projected token volume to trust
// the apiserver.
//   Namespace add/update, kube-root-ca.crt update/delete -> key = namespace name -> Sync.
// Threading: see client::Controller.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "controller-manager/controller_table.h"

namespace ck::controller_manager {

inline constexpr char kRootCaConfigMapName[] = "kube-root-ca.crt";
inline constexpr char kDescriptionAnnotation[] = "kubernetes.io/description";
inline constexpr char kRootCaDescription[] =
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as "
    "the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of "
    "Kubernetes clusters.";

class RootCaPublisher final : public ManagedController {
 public:
  // Invalid when context.root_ca_pem is empty.
  static Result<std::unique_ptr<ManagedController>> New(ControllerContext& context);
  ~RootCaPublisher() override;

  std::vector<client::SharedIndexInformer*> Informers() const override;

 protected:
  Status Sync(const std::string& key) override;

 private:
  RootCaPublisher(ControllerContext& context, std::string root_ca);

  client::ApiClient& api_;
  const std::string root_ca_;
  client::TypedInformer<k8s::io::api::core::v1::Namespace> namespaces_;
  client::TypedInformer<k8s::io::api::core::v1::ConfigMap> config_maps_;
};

}  // namespace ck::controller_manager
