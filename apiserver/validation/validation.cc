// The one table mapping each served kind to its validators, and the public entry points.
#include "apiserver/validation/validation.h"

#include <functional>
#include <map>
#include <memory>

#include "apiserver/validation/kinds.h"
#include "common/api/proto/authentication_v1.pb.h"
#include "common/api/proto/autoscaling_v1.pb.h"

namespace ck::apiserver {

namespace {

using google::protobuf::Message;
using namespace validation;  // NOLINT: kinds' namespace aliases
using k8s::io::api::authentication::v1::TokenRequest;
using k8s::io::api::autoscaling::v1::Scale;

// A `const T&` view of `m`: the generated message itself, or a copy when `m` is another class of
// the same type (a DynamicMessage).
template <typename T>
const T& Typed(const Message& m, std::unique_ptr<T>* storage) {
  if (const T* t = dynamic_cast<const T*>(&m)) return *t;
  *storage = std::make_unique<T>();
  (*storage)->ParseFromString(m.SerializeAsString());
  return **storage;
}

struct KindValidators {
  std::function<FieldErrors(const Message&, const Message*)> object;
  std::function<FieldErrors(const Message&, const Message&)> status;  // null: metadata rules only
};

template <typename T>
KindValidators Entry(FieldErrors (*object)(const T&, const T*), FieldErrors (*status)(const T&, const T&) = nullptr) {
  KindValidators v;
  v.object = [object](const Message& m, const Message* old) {
    std::unique_ptr<T> a, b;
    const T& typed = Typed<T>(m, &a);
    if (old == nullptr) return object(typed, nullptr);
    return object(typed, &Typed<T>(*old, &b));
  };
  if (status != nullptr) {
    v.status = [status](const Message& m, const Message& old) {
      std::unique_ptr<T> a, b;
      return status(Typed<T>(m, &a), Typed<T>(old, &b));
    };
  }
  return v;
}

// Kinds validated without an old object (create-only reviews).
template <typename T>
KindValidators CreateOnly(FieldErrors (*fn)(const T&)) {
  KindValidators v;
  v.object = [fn](const Message& m, const Message*) {
    std::unique_ptr<T> a;
    return fn(Typed<T>(m, &a));
  };
  return v;
}

KindValidators NoRules() {
  KindValidators v;
  v.object = [](const Message&, const Message*) { return FieldErrors{}; };
  return v;
}

FieldErrors ValidatePodBinding(const corev1::Binding& b) { return ValidateBinding(b); }

const std::map<std::string, KindValidators>& Table() {
  static const std::map<std::string, KindValidators> table = {
      {"k8s.io.api.core.v1.Pod", Entry<corev1::Pod>(ValidatePod, ValidatePodStatusUpdate)},
      {"k8s.io.api.core.v1.Binding", CreateOnly<corev1::Binding>(ValidatePodBinding)},
      {"k8s.io.api.core.v1.Service", Entry<corev1::Service>(ValidateService, ValidateServiceStatusUpdate)},
      {"k8s.io.api.core.v1.ConfigMap", Entry<corev1::ConfigMap>(ValidateConfigMap)},
      {"k8s.io.api.core.v1.Secret", Entry<corev1::Secret>(ValidateSecret)},
      {"k8s.io.api.core.v1.Namespace", Entry<corev1::Namespace>(ValidateNamespace, ValidateNamespaceStatusUpdate)},
      {"k8s.io.api.core.v1.Node", Entry<corev1::Node>(ValidateNode, ValidateNodeStatusUpdate)},
      {"k8s.io.api.core.v1.Endpoints", Entry<corev1::Endpoints>(ValidateEndpoints)},
      {"k8s.io.api.core.v1.Event", Entry<corev1::Event>(ValidateCoreEvent)},
      {"k8s.io.api.core.v1.LimitRange", Entry<corev1::LimitRange>(ValidateLimitRange)},
      {"k8s.io.api.core.v1.ResourceQuota", Entry<corev1::ResourceQuota>(ValidateResourceQuota, ValidateResourceQuotaStatusUpdate)},
      {"k8s.io.api.core.v1.ServiceAccount", Entry<corev1::ServiceAccount>(ValidateServiceAccount)},
      {"k8s.io.api.core.v1.PersistentVolumeClaim",
       Entry<corev1::PersistentVolumeClaim>(ValidatePersistentVolumeClaim, ValidatePersistentVolumeClaimStatusUpdate)},
      {"k8s.io.api.apps.v1.Deployment", Entry<appsv1::Deployment>(ValidateDeployment, ValidateDeploymentStatusUpdate)},
      {"k8s.io.api.apps.v1.ReplicaSet", Entry<appsv1::ReplicaSet>(ValidateReplicaSet, ValidateReplicaSetStatusUpdate)},
      {"k8s.io.api.apps.v1.StatefulSet", Entry<appsv1::StatefulSet>(ValidateStatefulSet, ValidateStatefulSetStatusUpdate)},
      {"k8s.io.api.apps.v1.DaemonSet", Entry<appsv1::DaemonSet>(ValidateDaemonSet, ValidateDaemonSetStatusUpdate)},
      {"k8s.io.api.apps.v1.ControllerRevision", Entry<appsv1::ControllerRevision>(ValidateControllerRevision)},
      {"k8s.io.api.batch.v1.Job", Entry<batchv1::Job>(ValidateJob, ValidateJobStatusUpdate)},
      {"k8s.io.api.batch.v1.CronJob", Entry<batchv1::CronJob>(ValidateCronJob, ValidateCronJobStatusUpdate)},
      {"k8s.io.api.events.v1.Event", Entry<eventsv1::Event>(ValidateEventsV1Event)},
      {"k8s.io.api.networking.v1.Ingress", Entry<netv1::Ingress>(ValidateIngress, ValidateIngressStatusUpdate)},
      {"k8s.io.api.networking.v1.IngressClass", Entry<netv1::IngressClass>(ValidateIngressClass)},
      {"k8s.io.api.networking.v1.NetworkPolicy", Entry<netv1::NetworkPolicy>(ValidateNetworkPolicy)},
      {"k8s.io.api.rbac.v1.Role", Entry<rbacv1::Role>(ValidateRole)},
      {"k8s.io.api.rbac.v1.ClusterRole", Entry<rbacv1::ClusterRole>(ValidateClusterRole)},
      {"k8s.io.api.rbac.v1.RoleBinding", Entry<rbacv1::RoleBinding>(ValidateRoleBinding)},
      {"k8s.io.api.rbac.v1.ClusterRoleBinding", Entry<rbacv1::ClusterRoleBinding>(ValidateClusterRoleBinding)},
      {"k8s.io.api.policy.v1.PodDisruptionBudget",
       Entry<policyv1::PodDisruptionBudget>(ValidatePodDisruptionBudget, ValidatePodDisruptionBudgetStatusUpdate)},
      {"k8s.io.api.scheduling.v1.PriorityClass", Entry<schedv1::PriorityClass>(ValidatePriorityClass)},
      {"k8s.io.api.coordination.v1.Lease", Entry<coordv1::Lease>(ValidateLease)},
      {"k8s.io.api.discovery.v1.EndpointSlice", Entry<discv1::EndpointSlice>(ValidateEndpointSlice)},
      {"k8s.io.api.admissionregistration.v1.ValidatingWebhookConfiguration",
       Entry<admregv1::ValidatingWebhookConfiguration>(ValidateValidatingWebhookConfiguration)},
      {"k8s.io.api.admissionregistration.v1.MutatingWebhookConfiguration",
       Entry<admregv1::MutatingWebhookConfiguration>(ValidateMutatingWebhookConfiguration)},
      {"k8s.io.api.authorization.v1.SubjectAccessReview", CreateOnly<authzv1::SubjectAccessReview>(ValidateSubjectAccessReview)},
      {"k8s.io.api.authorization.v1.SelfSubjectAccessReview",
       CreateOnly<authzv1::SelfSubjectAccessReview>(ValidateSelfSubjectAccessReview)},
      {"k8s.io.api.authorization.v1.LocalSubjectAccessReview",
       CreateOnly<authzv1::LocalSubjectAccessReview>(ValidateLocalSubjectAccessReview)},
      // Upstream validates nothing on these create-only reviews (the handlers check the spec).
      {"k8s.io.api.authorization.v1.SelfSubjectRulesReview", NoRules()},
      {"k8s.io.api.authentication.v1.TokenReview", NoRules()},
      {"k8s.io.api.authentication.v1.SelfSubjectReview", NoRules()},
  };
  return table;
}

// The ObjectMeta in field `metadata` of any API object, or null.
const ObjectMeta* MetadataOf(const Message& m, std::unique_ptr<ObjectMeta>* storage) {
  const auto* f = m.GetDescriptor()->FindFieldByName("metadata");
  if (f == nullptr || f->message_type() == nullptr || f->message_type()->full_name() != ObjectMeta::descriptor()->full_name()) {
    return nullptr;
  }
  const Message& meta = m.GetReflection()->GetMessage(m, f);
  if (const auto* typed = dynamic_cast<const ObjectMeta*>(&meta)) return typed;
  *storage = std::make_unique<ObjectMeta>();
  (*storage)->ParseFromString(meta.SerializeAsString());
  return storage->get();
}

bool KubeFinalizers(const ResourceInfo& r) { return r.group != "admissionregistration.k8s.io"; }

}  // namespace

FieldErrors ValidateObject(const ResourceInfo& resource, const Message& object, const Message* old_object) {
  if (object.GetDescriptor()->full_name() != resource.proto_type) {
    return {validation::Invalid(validation::Path("kind"), validation::Q(object.GetDescriptor()->name()),
                                "does not match the resource's kind " + resource.kind)};
  }
  auto it = Table().find(resource.proto_type);
  if (it != Table().end()) return it->second.object(object, old_object);
  // Kinds without their own rules: metadata only.
  std::unique_ptr<ObjectMeta> a, b;
  const ObjectMeta* meta = MetadataOf(object, &a);
  if (meta == nullptr) return {};
  Path path("metadata");
  if (old_object != nullptr) {
    const ObjectMeta* old_meta = MetadataOf(*old_object, &b);
    if (old_meta != nullptr) return ValidateMetaUpdate(*meta, *old_meta, path, KubeFinalizers(resource));
  }
  return ValidateMeta(*meta, resource.namespaced, NameRuleFor(resource), path, KubeFinalizers(resource));
}

FieldErrors ValidateStatusUpdate(const ResourceInfo& resource, const Message& object, const Message& old_object) {
  auto it = Table().find(resource.proto_type);
  if (it != Table().end() && it->second.status) return it->second.status(object, old_object);
  std::unique_ptr<ObjectMeta> a, b;
  const ObjectMeta* meta = MetadataOf(object, &a);
  const ObjectMeta* old_meta = MetadataOf(old_object, &b);
  if (meta == nullptr || old_meta == nullptr) return {};
  return ValidateMetaUpdate(*meta, *old_meta, Path("metadata"), KubeFinalizers(resource));
}

void PrepareStatusUpdate(const Message& old_object, Message* object) {
  if (object == nullptr || object->GetDescriptor() != old_object.GetDescriptor()) return;
  std::unique_ptr<Message> copy(object->New());
  copy->CopyFrom(old_object);
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  const auto* desc = object->GetDescriptor();
  for (int i = 0; i < desc->field_count(); ++i) {
    const auto* f = desc->field(i);
    if (f->name() != "metadata" && f->name() != "status") fields.push_back(f);
  }
  object->GetReflection()->SwapFields(object, copy.get(), fields);
}

void ApplySubresourceDefaults(const SubresourceInfo& subresource, Message* object) {
  if (object == nullptr || object->GetDescriptor()->full_name() != TokenRequest::descriptor()->full_name()) return;
  (void)subresource;
  TokenRequest copy;
  copy.ParseFromString(object->SerializeAsString());
  if (!copy.spec().has_expirationseconds()) copy.mutable_spec()->set_expirationseconds(3600);
  object->ParseFromString(copy.SerializeAsString());
}

FieldErrors ValidateSubresource(const SubresourceInfo& subresource, const Message& object) {
  (void)subresource;
  const std::string& type = object.GetDescriptor()->full_name();
  if (type == Scale::descriptor()->full_name()) {
    std::unique_ptr<Scale> storage;
    const Scale& scale = Typed<Scale>(object, &storage);
    FieldErrors errs = ValidateMeta(scale.metadata(), true, NameRule::kDNSSubdomain, Path("metadata"));
    if (scale.spec().replicas() < 0) {
      errs.push_back(Invalid(Path("spec").Child("replicas"), Num(scale.spec().replicas()), "must be greater than or equal to 0"));
    }
    return errs;
  }
  if (type == TokenRequest::descriptor()->full_name()) {
    std::unique_ptr<TokenRequest> storage;
    const TokenRequest& req = Typed<TokenRequest>(object, &storage);
    FieldErrors errs;
    int64_t seconds = req.spec().expirationseconds();
    Path path = Path("spec").Child("expirationSeconds");
    if (seconds < 10 * 60) errs.push_back(Invalid(path, Num(seconds), "may not specify a duration less than 10 minutes"));
    if (seconds > (int64_t{1} << 32)) errs.push_back(Invalid(path, Num(seconds), "may not specify a duration larger than 2^32 seconds"));
    return errs;
  }
  return {};
}

FieldErrors ValidateObjectMeta(const ResourceInfo& resource, const ObjectMeta& meta, bool requires_namespace) {
  return ValidateMeta(meta, requires_namespace, NameRuleFor(resource), Path("metadata"), KubeFinalizers(resource));
}

}  // namespace ck::apiserver
