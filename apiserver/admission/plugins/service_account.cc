#include "apiserver/admission/plugins/service_account.h"

#include "apiserver/admission/plugins/util.h"

namespace ck::apiserver::admission::plugins {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;

// upstream utilrand.String's alphabet: no vowels (no accidental words), no 0/1/3 (confusable).
constexpr std::string_view kNameAlphabet = "bcdfghjklmnpqrstvwxz2456789";
constexpr int64_t kBoundTokenExpirationSeconds = 3607;  // upstream WarnOnlyBoundTokenExpirationSeconds
constexpr int32_t kProjectedDefaultMode = 0644;

bool IsMirrorPod(const corev1::Pod& pod) { return pod.metadata().annotations().contains(std::string(kMirrorPodAnnotation)); }

bool IsPodCreate(const Attributes& a) {
  return IsResource(a, "", "pods") && a.subresource.empty() && a.operation == Operation::kCreate;
}

bool ContainerReferencesSecret(const corev1::Container& c) {
  for (const auto& env : c.env()) {
    if (env.has_valuefrom() && env.valuefrom().has_secretkeyref()) return true;
  }
  for (const auto& from : c.envfrom()) {
    if (from.has_secretref()) return true;
  }
  return false;
}

// podutil.VisitPodSecretNames, for the references a static pod can carry.
bool ReferencesSecrets(const corev1::Pod& pod) {
  if (pod.spec().imagepullsecrets_size() > 0) return true;
  for (const auto& c : pod.spec().containers()) {
    if (ContainerReferencesSecret(c)) return true;
  }
  for (const auto& c : pod.spec().initcontainers()) {
    if (ContainerReferencesSecret(c)) return true;
  }
  for (const auto& v : pod.spec().volumes()) {
    if (v.volumesource().has_secret()) return true;
    for (const auto& source : v.volumesource().projected().sources()) {
      if (source.has_secret()) return true;
    }
  }
  return false;
}

bool ShouldAutomount(const corev1::ServiceAccount& account, const corev1::Pod& pod) {
  if (pod.spec().has_automountserviceaccounttoken()) return pod.spec().automountserviceaccounttoken();
  if (account.has_automountserviceaccounttoken()) return account.automountserviceaccounttoken();
  return true;
}

// Appends the mount to `c` unless something is mounted at the token path already.
bool AddMount(corev1::Container* c, const std::string& volume) {
  for (const auto& m : c->volumemounts()) {
    if (m.mountpath() == kServiceAccountTokenMountPath) return false;
  }
  auto* m = c->add_volumemounts();
  m->set_name(volume);
  m->set_readonly(true);
  m->set_mountpath(std::string(kServiceAccountTokenMountPath));
  return true;
}

}  // namespace

corev1::ProjectedVolumeSource TokenVolumeSource() {
  corev1::ProjectedVolumeSource p;
  p.set_defaultmode(kProjectedDefaultMode);
  auto* token = p.add_sources()->mutable_serviceaccounttoken();
  token->set_path("token");
  token->set_expirationseconds(kBoundTokenExpirationSeconds);
  auto* ca = p.add_sources()->mutable_configmap();
  ca->mutable_localobjectreference()->set_name("kube-root-ca.crt");
  auto* item = ca->add_items();
  item->set_key("ca.crt");
  item->set_path("ca.crt");
  auto* file = p.add_sources()->mutable_downwardapi()->add_items();
  file->set_path("namespace");
  file->mutable_fieldref()->set_apiversion("v1");
  file->mutable_fieldref()->set_fieldpath("metadata.namespace");
  return p;
}

Result<const corev1::ServiceAccount*> ServiceAccountAdmission::Lookup(const Attributes& a, std::string_view account,
                                                                        ObjectRef* holder) const {
  *holder = source_.Get("serviceaccounts", a.namespace_, account);
  const auto* sa = As<corev1::ServiceAccount>(holder->get());
  if (sa == nullptr) {
    // The lister's NotFound names the singular resource: `serviceaccount "x" not found`.
    return ForbiddenFor(a, "error looking up service account " + a.namespace_ + "/" + std::string(account) +
                               ": serviceaccount \"" + std::string(account) + "\" not found");
  }
  return sa;
}

std::string ServiceAccountAdmission::MountToken(corev1::Pod* pod) {
  std::string volume;
  bool has_volume = false;
  for (const auto& v : pod->spec().volumes()) {
    if (v.name().starts_with(kServiceAccountVolumePrefix)) {
      volume = v.name();
      has_volume = true;
      break;
    }
  }
  if (volume.empty()) {
    volume = std::string(kServiceAccountVolumePrefix);
    for (int i = 0; i < 5; ++i) volume += kNameAlphabet[random_.Uniform(kNameAlphabet.size())];
  }
  bool needed = false;
  for (auto& c : *pod->mutable_spec()->mutable_initcontainers()) needed |= AddMount(&c, volume);
  for (auto& c : *pod->mutable_spec()->mutable_containers()) needed |= AddMount(&c, volume);
  if (!needed) return "";
  if (!has_volume) {
    auto* v = pod->mutable_spec()->add_volumes();
    v->set_name(volume);
    *v->mutable_volumesource()->mutable_projected() = TokenVolumeSource();
  }
  return volume;
}

Status ServiceAccountAdmission::Admit(const Attributes& a, Context& ctx) {
  if (!IsPodCreate(a)) return Status::Ok();
  auto* pod = As<corev1::Pod>(a.object);
  if (pod == nullptr) return Status::Ok();
  // A mirror pod must match the kubelet's static manifest exactly; it is only validated.
  if (IsMirrorPod(*pod)) return Validate(a, ctx);

  std::string trace;
  if (pod->spec().serviceaccountname().empty()) {
    pod->mutable_spec()->set_serviceaccountname("default");
    trace = "serviceAccountName default";
  }
  ObjectRef holder;
  CK_ASSIGN_OR_RETURN(const corev1::ServiceAccount* account, Lookup(a, pod->spec().serviceaccountname(), &holder));
  if (ShouldAutomount(*account, *pod)) {
    std::string volume = MountToken(pod);
    if (!volume.empty()) trace += std::string(trace.empty() ? "" : ", ") + "mounted token volume " + volume;
  }
  if (pod->spec().imagepullsecrets_size() == 0 && account->imagepullsecrets_size() > 0) {
    *pod->mutable_spec()->mutable_imagepullsecrets() = account->imagepullsecrets();
    trace += std::string(trace.empty() ? "" : ", ") + "imagePullSecrets from the account";
  }
  if (!trace.empty()) ctx.trace.push_back("ServiceAccount: " + trace);
  return Status::Ok();
}

Status ServiceAccountAdmission::Validate(const Attributes& a, Context& ctx) {
  (void)ctx;
  if (!IsPodCreate(a)) return Status::Ok();
  const auto* pod = As<corev1::Pod>(a.object);
  if (pod == nullptr) return Status::Ok();
  if (IsMirrorPod(*pod)) {
    if (!pod->spec().serviceaccountname().empty()) return ForbiddenFor(a, "a mirror pod may not reference service accounts");
    if (ReferencesSecrets(*pod)) return ForbiddenFor(a, "a mirror pod may not reference secrets");
    for (const auto& v : pod->spec().volumes()) {
      for (const auto& source : v.volumesource().projected().sources()) {
        if (source.has_serviceaccounttoken()) {
          return ForbiddenFor(a, "a mirror pod may not use ServiceAccountToken volume projections");
        }
      }
    }
    return Status::Ok();
  }
  if (pod->spec().serviceaccountname().empty()) {
    return ForbiddenFor(a, "no service account specified for pod " + a.namespace_ + "/" + pod->metadata().name());
  }
  ObjectRef holder;
  return Lookup(a, pod->spec().serviceaccountname(), &holder).status();
}

}  // namespace ck::apiserver::admission::plugins
