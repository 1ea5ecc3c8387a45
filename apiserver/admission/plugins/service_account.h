// ServiceAccount (mutating + validating): upstream's plugin/pkg/admission/serviceaccount, for pod
// creates.
// Admit: spec.serviceAccountName defaults to "default"; the account must exist (Forbidden
// `error looking up service account <ns>/<name>: serviceaccount "<name>" not found`); unless
// automountServiceAccountToken is false on the pod (first) or the account, the projected volume
// kube-api-access-<5 random chars> (a bound token at "token" expiring in 3607 s, ca.crt from the
// kube-root-ca.crt ConfigMap, the namespace from the downward API) is added and mounted read-only
// at /var/run/secrets/kubernetes.io/serviceaccount in every init container and container that
// has no mount at that path yet; imagePullSecrets come from the account when the pod has none.
// Validate: the account is named and exists. Mirror pods (annotation kubernetes.io/config.mirror)
// are not changed; they may not name an account, reference secrets or project tokens.
// Threading: safe from any thread (Random is thread-safe).
#pragma once

#include "apiserver/admission/admission.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/base/random.h"

namespace ck::apiserver::admission::plugins {

inline constexpr std::string_view kServiceAccountTokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount";
inline constexpr std::string_view kServiceAccountVolumePrefix = "kube-api-access-";
inline constexpr std::string_view kMirrorPodAnnotation = "kubernetes.io/config.mirror";

// The projected source upstream mounts (serviceaccount.TokenVolumeSource), defaultMode 0644.
::k8s::io::api::core::v1::ProjectedVolumeSource TokenVolumeSource();

class ServiceAccountAdmission final : public Plugin {
 public:
  ServiceAccountAdmission(const ObjectSource& source, Random& random) : source_(source), random_(random) {}
  std::string_view name() const override { return "ServiceAccount"; }
  bool mutating() const override { return true; }
  Status Admit(const Attributes& a, Context& ctx) override;
  Status Validate(const Attributes& a, Context& ctx) override;

 private:
  // The account, or the Forbidden upstream answers when it is missing.
  Result<const ::k8s::io::api::core::v1::ServiceAccount*> Lookup(const Attributes& a, std::string_view account,
                                                                   ObjectRef* holder) const;
  // Adds the volume and mounts; returns the volume name when something was added.
  std::string MountToken(::k8s::io::api::core::v1::Pod* pod);

  const ObjectSource& source_;
  Random& random_;
};

}  // namespace ck::apiserver::admission::plugins
