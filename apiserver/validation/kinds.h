// Per-kind validators, one pair (object, status) per served kind; validation.cc maps kinds to
// them in one table. `old` is null on create. Internal to apiserver/validation; pure functions.
#pragma once

#include "apiserver/validation/pod.h"
#include "common/api/proto/admissionregistration_v1.pb.h"
#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/authorization_v1.pb.h"
#include "common/api/proto/autoscaling_v1.pb.h"
#include "common/api/proto/batch_v1.pb.h"
#include "common/api/proto/coordination_v1.pb.h"
#include "common/api/proto/discovery_v1.pb.h"
#include "common/api/proto/events_v1.pb.h"
#include "common/api/proto/networking_v1.pb.h"
#include "common/api/proto/policy_v1.pb.h"
#include "common/api/proto/rbac_v1.pb.h"
#include "common/api/proto/scheduling_v1.pb.h"

namespace ck::apiserver::validation {

namespace appsv1 = k8s::io::api::apps::v1;
namespace batchv1 = k8s::io::api::batch::v1;
namespace netv1 = k8s::io::api::networking::v1;
namespace rbacv1 = k8s::io::api::rbac::v1;
namespace policyv1 = k8s::io::api::policy::v1;
namespace schedv1 = k8s::io::api::scheduling::v1;
namespace coordv1 = k8s::io::api::coordination::v1;
namespace discv1 = k8s::io::api::discovery::v1;
namespace eventsv1 = k8s::io::api::events::v1;
namespace admregv1 = k8s::io::api::admissionregistration::v1;
namespace authzv1 = k8s::io::api::authorization::v1;

// apps (apps.cc)
FieldErrors ValidateDeployment(const appsv1::Deployment& d, const appsv1::Deployment* old);
FieldErrors ValidateDeploymentStatusUpdate(const appsv1::Deployment& d, const appsv1::Deployment& old);
FieldErrors ValidateReplicaSet(const appsv1::ReplicaSet& rs, const appsv1::ReplicaSet* old);
FieldErrors ValidateReplicaSetStatusUpdate(const appsv1::ReplicaSet& rs, const appsv1::ReplicaSet& old);
FieldErrors ValidateStatefulSet(const appsv1::StatefulSet& s, const appsv1::StatefulSet* old);
FieldErrors ValidateStatefulSetStatusUpdate(const appsv1::StatefulSet& s, const appsv1::StatefulSet& old);
FieldErrors ValidateDaemonSet(const appsv1::DaemonSet& ds, const appsv1::DaemonSet* old);
FieldErrors ValidateDaemonSetStatusUpdate(const appsv1::DaemonSet& ds, const appsv1::DaemonSet& old);
FieldErrors ValidateControllerRevision(const appsv1::ControllerRevision& r, const appsv1::ControllerRevision* old);
// Shared with PodDisruptionBudget.
FieldErrors ValidatePositiveIntOrPercent(const IntOrString& v, const Path& path);
FieldErrors IsNotMoreThan100Percent(const IntOrString& v, const Path& path);

// batch (batch.cc)
FieldErrors ValidateJob(const batchv1::Job& job, const batchv1::Job* old);
FieldErrors ValidateJobStatusUpdate(const batchv1::Job& job, const batchv1::Job& old);
FieldErrors ValidateCronJob(const batchv1::CronJob& cj, const batchv1::CronJob* old);
FieldErrors ValidateCronJobStatusUpdate(const batchv1::CronJob& cj, const batchv1::CronJob& old);

// core/v1 except pods (core.cc)
FieldErrors ValidateService(const corev1::Service& svc, const corev1::Service* old);
FieldErrors ValidateServiceStatusUpdate(const corev1::Service& svc, const corev1::Service& old);
FieldErrors ValidateConfigMap(const corev1::ConfigMap& cm, const corev1::ConfigMap* old);
FieldErrors ValidateSecret(const corev1::Secret& s, const corev1::Secret* old);
FieldErrors ValidateNamespace(const corev1::Namespace& ns, const corev1::Namespace* old);
FieldErrors ValidateNamespaceStatusUpdate(const corev1::Namespace& ns, const corev1::Namespace& old);
FieldErrors ValidateNode(const corev1::Node& node, const corev1::Node* old);
FieldErrors ValidateNodeStatusUpdate(const corev1::Node& node, const corev1::Node& old);
FieldErrors ValidateEndpoints(const corev1::Endpoints& ep, const corev1::Endpoints* old);
FieldErrors ValidateCoreEvent(const corev1::Event& ev, const corev1::Event* old);
FieldErrors ValidateEventsV1Event(const eventsv1::Event& ev, const eventsv1::Event* old);
FieldErrors ValidateLimitRange(const corev1::LimitRange& lr, const corev1::LimitRange* old);
FieldErrors ValidateResourceQuota(const corev1::ResourceQuota& rq, const corev1::ResourceQuota* old);
FieldErrors ValidateResourceQuotaStatusUpdate(const corev1::ResourceQuota& rq, const corev1::ResourceQuota& old);
FieldErrors ValidateServiceAccount(const corev1::ServiceAccount& sa, const corev1::ServiceAccount* old);
FieldErrors ValidatePersistentVolumeClaim(const corev1::PersistentVolumeClaim& pvc, const corev1::PersistentVolumeClaim* old);
FieldErrors ValidatePersistentVolumeClaimStatusUpdate(const corev1::PersistentVolumeClaim& pvc,
                                                      const corev1::PersistentVolumeClaim& old);

// networking (networking.cc)
FieldErrors ValidateIngress(const netv1::Ingress& ing, const netv1::Ingress* old);
FieldErrors ValidateIngressStatusUpdate(const netv1::Ingress& ing, const netv1::Ingress& old);
FieldErrors ValidateIngressClass(const netv1::IngressClass& ic, const netv1::IngressClass* old);
FieldErrors ValidateNetworkPolicy(const netv1::NetworkPolicy& np, const netv1::NetworkPolicy* old);

// rbac (rbac.cc)
FieldErrors ValidateRole(const rbacv1::Role& r, const rbacv1::Role* old);
FieldErrors ValidateClusterRole(const rbacv1::ClusterRole& r, const rbacv1::ClusterRole* old);
FieldErrors ValidateRoleBinding(const rbacv1::RoleBinding& b, const rbacv1::RoleBinding* old);
FieldErrors ValidateClusterRoleBinding(const rbacv1::ClusterRoleBinding& b, const rbacv1::ClusterRoleBinding* old);

// policy, scheduling, coordination, discovery, authorization (cluster_kinds.cc)
FieldErrors ValidatePodDisruptionBudget(const policyv1::PodDisruptionBudget& pdb, const policyv1::PodDisruptionBudget* old);
FieldErrors ValidatePodDisruptionBudgetStatusUpdate(const policyv1::PodDisruptionBudget& pdb,
                                                    const policyv1::PodDisruptionBudget& old);
FieldErrors ValidatePriorityClass(const schedv1::PriorityClass& pc, const schedv1::PriorityClass* old);
FieldErrors ValidateLease(const coordv1::Lease& lease, const coordv1::Lease* old);
FieldErrors ValidateEndpointSlice(const discv1::EndpointSlice& slice, const discv1::EndpointSlice* old);
FieldErrors ValidateSubjectAccessReview(const authzv1::SubjectAccessReview& r);
FieldErrors ValidateSelfSubjectAccessReview(const authzv1::SelfSubjectAccessReview& r);
FieldErrors ValidateLocalSubjectAccessReview(const authzv1::LocalSubjectAccessReview& r);

// admissionregistration (admissionregistration.cc)
FieldErrors ValidateValidatingWebhookConfiguration(const admregv1::ValidatingWebhookConfiguration& c,
                                                   const admregv1::ValidatingWebhookConfiguration* old);
FieldErrors ValidateMutatingWebhookConfiguration(const admregv1::MutatingWebhookConfiguration& c,
                                                 const admregv1::MutatingWebhookConfiguration* old);

}  // namespace ck::apiserver::validation
