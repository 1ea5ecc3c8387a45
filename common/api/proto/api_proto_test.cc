// Checks the API protos against upstream facts: field numbers (some seen on the wire from
// kubectl), the Go json tag facts carried by (ck.api.go), the upstream package of every file,
// that every served kind exists, and rules every annotation must follow.
#include <map>
#include <set>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "common/api/proto/authorization_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/meta_v1.pb.h"
#include "common/api/proto/options.pb.h"
#include "common/api/proto/proto_files.h"
#include "common/api/proto/runtime.pb.h"

namespace ck::api {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;

const Descriptor* Message(std::string_view full_name) {
  AllApiProtoFiles();  // Links every generated file into the pool.
  return DescriptorPool::generated_pool()->FindMessageTypeByName(std::string(full_name));
}

const FieldDescriptor* Field(std::string_view message, std::string_view field) {
  const Descriptor* d = Message(message);
  if (d == nullptr) return nullptr;
  return d->FindFieldByName(std::string(field));
}

// The field number, or -1 when the message or field does not exist.
int Number(std::string_view message, std::string_view field) {
  const FieldDescriptor* f = Field(message, field);
  return f == nullptr ? -1 : f->number();
}

// The (ck.api.go) value as its enum name, or "MISSING".
std::string Go(std::string_view message, std::string_view field) {
  const FieldDescriptor* f = Field(message, field);
  if (f == nullptr) return "MISSING";
  return GoField_Name(f->options().GetExtension(ck::api::go));
}

constexpr std::string_view kMeta = "k8s.io.apimachinery.pkg.apis.meta.v1.";
constexpr std::string_view kCore = "k8s.io.api.core.v1.";

std::string M(std::string_view prefix, std::string_view name) {
  return std::string(prefix) + std::string(name);
}

TEST(ApiProtoTest, ObjectMetaFieldNumbersMatchTheWire) {
  const std::string om = M(kMeta, "ObjectMeta");
  EXPECT_EQ(Number(om, "name"), 1);
  EXPECT_EQ(Number(om, "generateName"), 2);
  EXPECT_EQ(Number(om, "namespace"), 3);
  EXPECT_EQ(Number(om, "selfLink"), 4);
  EXPECT_EQ(Number(om, "uid"), 5);
  EXPECT_EQ(Number(om, "resourceVersion"), 6);
  EXPECT_EQ(Number(om, "generation"), 7);
  EXPECT_EQ(Number(om, "creationTimestamp"), 8);
  EXPECT_EQ(Number(om, "deletionTimestamp"), 9);
  EXPECT_EQ(Number(om, "labels"), 11);
  EXPECT_EQ(Number(om, "annotations"), 12);
  EXPECT_EQ(Number(om, "ownerReferences"), 13);
  EXPECT_EQ(Number(om, "finalizers"), 14);
  EXPECT_EQ(Number(om, "managedFields"), 17);
}

TEST(ApiProtoTest, WellKnownFieldNumbers) {
  EXPECT_EQ(Number(M(kCore, "Pod"), "metadata"), 1);
  EXPECT_EQ(Number(M(kCore, "Pod"), "spec"), 2);
  EXPECT_EQ(Number(M(kCore, "Pod"), "status"), 3);
  EXPECT_EQ(Number(M(kCore, "Container"), "name"), 1);
  EXPECT_EQ(Number(M(kCore, "Container"), "image"), 2);
  EXPECT_EQ(Number(M(kCore, "Container"), "envFrom"), 19);
  EXPECT_EQ(Number(M(kCore, "PodSpec"), "containers"), 2);
  EXPECT_EQ(Number(M(kCore, "PodSpec"), "initContainers"), 20);
  EXPECT_EQ(Number(M(kCore, "PodSpec"), "ephemeralContainers"), 34);
  EXPECT_EQ(Number(M(kCore, "ConfigMap"), "metadata"), 1);
  EXPECT_EQ(Number(M(kCore, "ConfigMap"), "data"), 2);
  EXPECT_EQ(Number(M(kCore, "Namespace"), "metadata"), 1);
  EXPECT_EQ(Number(M(kCore, "Namespace"), "spec"), 2);
  EXPECT_EQ(Number(M(kCore, "Namespace"), "status"), 3);
  EXPECT_EQ(Number("k8s.io.api.apps.v1.DeploymentSpec", "progressDeadlineSeconds"), 9);
  EXPECT_EQ(Number("k8s.io.api.apps.v1.DeploymentCondition", "lastUpdateTime"), 6);
}

// kubectl-api.md §11: the protobuf bodies kubectl 1.32 sends for can-i and whoami.
TEST(ApiProtoTest, ReviewFieldNumbersMatchTheWire) {
  const std::string authz = "k8s.io.api.authorization.v1.";
  EXPECT_EQ(Number(authz + "SelfSubjectAccessReview", "metadata"), 1);
  EXPECT_EQ(Number(authz + "SelfSubjectAccessReview", "spec"), 2);
  EXPECT_EQ(Number(authz + "SelfSubjectAccessReview", "status"), 3);
  EXPECT_EQ(Number(authz + "SelfSubjectAccessReviewSpec", "resourceAttributes"), 1);
  EXPECT_EQ(Number(authz + "SelfSubjectAccessReviewSpec", "nonResourceAttributes"), 2);
  const std::string ra = authz + "ResourceAttributes";
  EXPECT_EQ(Number(ra, "namespace"), 1);
  EXPECT_EQ(Number(ra, "verb"), 2);
  EXPECT_EQ(Number(ra, "group"), 3);
  EXPECT_EQ(Number(ra, "version"), 4);
  EXPECT_EQ(Number(ra, "resource"), 5);
  EXPECT_EQ(Number(ra, "subresource"), 6);
  EXPECT_EQ(Number(ra, "name"), 7);
  EXPECT_EQ(Number(authz + "NonResourceAttributes", "path"), 1);
  EXPECT_EQ(Number(authz + "NonResourceAttributes", "verb"), 2);
  EXPECT_EQ(Number(authz + "SelfSubjectRulesReviewSpec", "namespace"), 1);
  EXPECT_EQ(Number("k8s.io.api.authentication.v1.SelfSubjectReview", "metadata"), 1);
  EXPECT_EQ(Number("k8s.io.api.authentication.v1.SelfSubjectReview", "status"), 2);
  const std::string unknown = "k8s.io.apimachinery.pkg.runtime.Unknown";
  EXPECT_EQ(Number(unknown, "typeMeta"), 1);
  EXPECT_EQ(Number(unknown, "raw"), 2);
  EXPECT_EQ(Number(unknown, "contentEncoding"), 3);
  EXPECT_EQ(Number(unknown, "contentType"), 4);
  EXPECT_EQ(Number("k8s.io.apimachinery.pkg.runtime.TypeMeta", "apiVersion"), 1);
  EXPECT_EQ(Number("k8s.io.apimachinery.pkg.runtime.TypeMeta", "kind"), 2);
}

TEST(ApiProtoTest, SpecialTypesKeepTheUpstreamShape) {
  EXPECT_EQ(Number(M(kMeta, "Time"), "seconds"), 1);
  EXPECT_EQ(Number(M(kMeta, "Time"), "nanos"), 2);
  EXPECT_EQ(Number(M(kMeta, "MicroTime"), "nanos"), 2);
  EXPECT_EQ(Number(M(kMeta, "Duration"), "duration"), 1);
  EXPECT_EQ(Number(M(kMeta, "FieldsV1"), "Raw"), 1);
  EXPECT_EQ(Number("k8s.io.apimachinery.pkg.api.resource.Quantity", "string"), 1);
  EXPECT_EQ(Number("k8s.io.apimachinery.pkg.util.intstr.IntOrString", "type"), 1);
  EXPECT_EQ(Number("k8s.io.apimachinery.pkg.util.intstr.IntOrString", "intVal"), 2);
  EXPECT_EQ(Number("k8s.io.apimachinery.pkg.util.intstr.IntOrString", "strVal"), 3);
  EXPECT_EQ(Number("k8s.io.apimachinery.pkg.runtime.RawExtension", "raw"), 1);

  const FieldDescriptor* limits = Field(M(kCore, "ResourceRequirements"), "limits");
  ASSERT_NE(limits, nullptr);
  ASSERT_TRUE(limits->is_map());
  EXPECT_EQ(limits->message_type()->map_value()->message_type()->full_name(),
            "k8s.io.apimachinery.pkg.api.resource.Quantity");
  const FieldDescriptor* data = Field(M(kCore, "Secret"), "data");
  ASSERT_NE(data, nullptr);
  ASSERT_TRUE(data->is_map());
  EXPECT_EQ(data->message_type()->map_value()->type(), FieldDescriptor::TYPE_BYTES);
}

TEST(ApiProtoTest, GoFieldFactsOfWellKnownFields) {
  const std::string apps = "k8s.io.api.apps.v1.";
  // Pointers to scalars: written when set, even when zero.
  EXPECT_EQ(Go(apps + "DeploymentSpec", "replicas"), "POINTER");
  EXPECT_EQ(Go(M(kCore, "PodSpec"), "terminationGracePeriodSeconds"), "POINTER");
  EXPECT_EQ(Go(M(kCore, "PodSpec"), "automountServiceAccountToken"), "POINTER");
  EXPECT_EQ(Go(M(kMeta, "ObjectMeta"), "deletionGracePeriodSeconds"), "POINTER");
  // No omitempty, or a struct held by value: always written.
  EXPECT_EQ(Go(M(kCore, "Container"), "name"), "ALWAYS");
  EXPECT_EQ(Go(M(kCore, "ContainerPort"), "containerPort"), "ALWAYS");
  EXPECT_EQ(Go(M(kCore, "PodSpec"), "containers"), "ALWAYS");
  EXPECT_EQ(Go(M(kCore, "Container"), "resources"), "ALWAYS");
  EXPECT_EQ(Go(apps + "Deployment", "metadata"), "ALWAYS");
  EXPECT_EQ(Go(apps + "Deployment", "spec"), "ALWAYS");
  EXPECT_EQ(Go(apps + "Deployment", "status"), "ALWAYS");
  EXPECT_EQ(Go(apps + "DeploymentSpec", "template"), "ALWAYS");
  EXPECT_EQ(Go(apps + "DeploymentSpec", "strategy"), "ALWAYS");
  EXPECT_EQ(Go(M(kMeta, "ObjectMeta"), "creationTimestamp"), "ALWAYS");
  EXPECT_EQ(Go(M(kCore, "ServicePort"), "targetPort"), "ALWAYS");
  EXPECT_EQ(Go(M(kCore, "ServiceStatus"), "loadBalancer"), "ALWAYS");
  // omitempty: left out when unset or empty.
  EXPECT_EQ(Go(M(kMeta, "ObjectMeta"), "labels"), "OMITEMPTY");
  EXPECT_EQ(Go(M(kMeta, "ObjectMeta"), "deletionTimestamp"), "OMITEMPTY");
  EXPECT_EQ(Go(M(kCore, "Container"), "image"), "OMITEMPTY");
  EXPECT_EQ(Go(M(kCore, "Container"), "livenessProbe"), "OMITEMPTY");
  // Embedded with `json:",inline"`.
  EXPECT_EQ(Go(M(kCore, "Volume"), "volumeSource"), "INLINE");
  EXPECT_EQ(Go(M(kCore, "Probe"), "handler"), "INLINE");
  EXPECT_EQ(Go("k8s.io.api.networking.v1.IngressRule", "ingressRuleValue"), "INLINE");
  // Pointer without omitempty: null when unset.
  EXPECT_EQ(Go(apps + "DeploymentSpec", "selector"), "NULLABLE");
  EXPECT_EQ(Go(M(kCore, "TypedLocalObjectReference"), "apiGroup"), "NULLABLE");
}

TEST(ApiProtoTest, EveryFileHasTheUpstreamPackage) {
  const std::map<std::string, std::string> want = {
      {"common/api/proto/options.proto", "ck.api"},
      {"common/api/proto/resource.proto", "k8s.io.apimachinery.pkg.api.resource"},
      {"common/api/proto/intstr.proto", "k8s.io.apimachinery.pkg.util.intstr"},
      {"common/api/proto/runtime.proto", "k8s.io.apimachinery.pkg.runtime"},
      {"common/api/proto/meta_v1.proto", "k8s.io.apimachinery.pkg.apis.meta.v1"},
      {"common/api/proto/core_v1.proto", "k8s.io.api.core.v1"},
      {"common/api/proto/apps_v1.proto", "k8s.io.api.apps.v1"},
      {"common/api/proto/autoscaling_v1.proto", "k8s.io.api.autoscaling.v1"},
      {"common/api/proto/batch_v1.proto", "k8s.io.api.batch.v1"},
      {"common/api/proto/policy_v1.proto", "k8s.io.api.policy.v1"},
      {"common/api/proto/scheduling_v1.proto", "k8s.io.api.scheduling.v1"},
      {"common/api/proto/coordination_v1.proto", "k8s.io.api.coordination.v1"},
      {"common/api/proto/discovery_v1.proto", "k8s.io.api.discovery.v1"},
      {"common/api/proto/events_v1.proto", "k8s.io.api.events.v1"},
      {"common/api/proto/networking_v1.proto", "k8s.io.api.networking.v1"},
      {"common/api/proto/rbac_v1.proto", "k8s.io.api.rbac.v1"},
      {"common/api/proto/admissionregistration_v1.proto",
       "k8s.io.api.admissionregistration.v1"},
      {"common/api/proto/authentication_v1.proto", "k8s.io.api.authentication.v1"},
      {"common/api/proto/authorization_v1.proto", "k8s.io.api.authorization.v1"},
      {"common/api/proto/admission_v1.proto", "k8s.io.api.admission.v1"},
      {"common/api/proto/apidiscovery_v2.proto", "k8s.io.api.apidiscovery.v2"},
  };
  std::map<std::string, std::string> got;
  for (const FileDescriptor* f : AllApiProtoFiles()) got[f->name()] = f->package();
  EXPECT_EQ(got, want);
}

TEST(ApiProtoTest, EveryServedKindExists) {
  const std::map<std::string, std::vector<std::string>> kinds = {
      {"k8s.io.apimachinery.pkg.apis.meta.v1",
       {"ObjectMeta", "ListMeta", "TypeMeta", "Time", "MicroTime", "Duration", "Status",
        "StatusDetails", "StatusCause", "WatchEvent", "Table", "TableColumnDefinition", "TableRow",
        "TableRowCondition", "TableOptions", "PartialObjectMetadata", "PartialObjectMetadataList",
        "APIResource", "APIResourceList", "APIGroup", "APIGroupList", "APIVersions",
        "GroupVersionForDiscovery", "ServerAddressByClientCIDR", "DeleteOptions", "Preconditions",
        "OwnerReference", "LabelSelector", "LabelSelectorRequirement", "ManagedFieldsEntry",
        "FieldsV1", "Condition", "ListOptions", "GetOptions", "CreateOptions", "PatchOptions",
        "UpdateOptions", "Patch", "Verbs"}},
      {"k8s.io.apimachinery.pkg.runtime", {"RawExtension", "TypeMeta", "Unknown"}},
      {"k8s.io.apimachinery.pkg.api.resource", {"Quantity"}},
      {"k8s.io.apimachinery.pkg.util.intstr", {"IntOrString"}},
      {"k8s.io.api.core.v1",
       {"Namespace", "NamespaceList", "Node", "NodeList", "Pod", "PodList", "Service",
        "ServiceList", "Endpoints", "EndpointsList", "ConfigMap", "ConfigMapList", "Secret",
        "SecretList", "ServiceAccount", "ServiceAccountList", "Event", "EventList", "LimitRange",
        "LimitRangeList", "ResourceQuota", "ResourceQuotaList", "Binding",
        "PersistentVolumeClaim", "PersistentVolumeClaimList", "PodLogOptions", "PodExecOptions",
        "PodAttachOptions", "PodPortForwardOptions", "PodSpec", "PodStatus", "Container",
        "Probe", "Volume", "NodeStatus", "PodTemplateSpec"}},
      {"k8s.io.api.apps.v1",
       {"Deployment", "DeploymentList", "ReplicaSet", "ReplicaSetList", "StatefulSet",
        "StatefulSetList", "DaemonSet", "DaemonSetList", "ControllerRevision",
        "ControllerRevisionList"}},
      {"k8s.io.api.autoscaling.v1", {"Scale"}},
      {"k8s.io.api.batch.v1", {"Job", "JobList", "CronJob", "CronJobList"}},
      {"k8s.io.api.policy.v1", {"PodDisruptionBudget", "PodDisruptionBudgetList", "Eviction"}},
      {"k8s.io.api.scheduling.v1", {"PriorityClass", "PriorityClassList"}},
      {"k8s.io.api.coordination.v1", {"Lease", "LeaseList"}},
      {"k8s.io.api.discovery.v1", {"EndpointSlice", "EndpointSliceList"}},
      {"k8s.io.api.events.v1", {"Event", "EventList"}},
      {"k8s.io.api.networking.v1",
       {"Ingress", "IngressList", "IngressClass", "IngressClassList", "NetworkPolicy",
        "NetworkPolicyList"}},
      {"k8s.io.api.rbac.v1",
       {"Role", "RoleList", "ClusterRole", "ClusterRoleList", "RoleBinding", "RoleBindingList",
        "ClusterRoleBinding", "ClusterRoleBindingList", "AggregationRule"}},
      {"k8s.io.api.admissionregistration.v1",
       {"MutatingWebhookConfiguration", "MutatingWebhookConfigurationList",
        "ValidatingWebhookConfiguration", "ValidatingWebhookConfigurationList"}},
      {"k8s.io.api.authentication.v1", {"TokenReview", "TokenRequest", "SelfSubjectReview"}},
      {"k8s.io.api.authorization.v1",
       {"SubjectAccessReview", "SelfSubjectAccessReview", "SelfSubjectRulesReview",
        "LocalSubjectAccessReview"}},
      {"k8s.io.api.admission.v1", {"AdmissionReview", "AdmissionRequest", "AdmissionResponse"}},
      {"k8s.io.api.apidiscovery.v2",
       {"APIGroupDiscoveryList", "APIGroupDiscovery", "APIVersionDiscovery",
        "APIResourceDiscovery", "APISubresourceDiscovery"}},
  };
  for (const auto& [package, names] : kinds) {
    for (const std::string& name : names) {
      EXPECT_NE(Message(package + "." + name), nullptr) << package << "." << name;
    }
  }
}

// Rules every (ck.api.go) annotation and field name must follow, over all messages.
TEST(ApiProtoTest, AnnotationsAreConsistent) {
  // Upstream proto names that differ from the Go json name; everything else is equal.
  const std::map<std::string, std::string> renamed = {
      {"k8s.io.api.networking.v1.IngressClassParametersReference.aPIGroup", "apiGroup"},
      {"k8s.io.api.authentication.v1.BoundObjectReference.uID", "uid"},
      {"k8s.io.api.admissionregistration.v1.ValidatingWebhookConfiguration.Webhooks", "webhooks"},
      {"k8s.io.api.admissionregistration.v1.MutatingWebhookConfiguration.Webhooks", "webhooks"},
      {"k8s.io.apimachinery.pkg.runtime.Unknown.contentEncoding", "ContentEncoding"},
      {"k8s.io.apimachinery.pkg.runtime.Unknown.contentType", "ContentType"},
  };
  const std::string object_meta = M(kMeta, "ObjectMeta");
  const std::string list_meta = M(kMeta, "ListMeta");
  int messages = 0;
  int fields = 0;
  std::set<std::string> renamed_seen;
  for (const FileDescriptor* file : AllApiProtoFiles()) {
    for (int i = 0; i < file->message_type_count(); ++i) {
      const Descriptor* m = file->message_type(i);
      ++messages;
      bool has_object_meta = false;
      for (int j = 0; j < m->field_count(); ++j) {
        const FieldDescriptor* f = m->field(j);
        if (f->name() == "metadata" && f->message_type() != nullptr &&
            f->message_type()->full_name() == object_meta) {
          has_object_meta = true;
        }
      }
      for (int j = 0; j < m->field_count(); ++j) {
        const FieldDescriptor* f = m->field(j);
        ++fields;
        const std::string where = f->full_name();
        const GoField go = f->options().GetExtension(ck::api::go);
        const bool is_message = f->type() == FieldDescriptor::TYPE_MESSAGE;
        if (go == POINTER) {
          EXPECT_FALSE(f->is_repeated() || is_message) << where << ": POINTER is for scalars";
        }
        if (go == INLINE) {
          EXPECT_TRUE(is_message && !f->is_repeated()) << where << ": INLINE is for structs";
        }
        if (go == NULLABLE) {
          EXPECT_FALSE(f->is_repeated()) << where << ": NULLABLE is for single values";
        }
        if (is_message && !f->is_map() && (f->message_type()->full_name() == object_meta ||
                                           f->message_type()->full_name() == list_meta)) {
          EXPECT_EQ(go, ALWAYS) << where << ": metadata is held by value";
        }
        if (f->name() == "items" && m->name().size() > 4 &&
            m->name().substr(m->name().size() - 4) == "List") {
          EXPECT_TRUE(f->is_repeated()) << where;
          EXPECT_EQ(go, ALWAYS) << where << ": items has no omitempty";
        }
        if (has_object_meta && (f->name() == "spec" || f->name() == "status") && is_message) {
          EXPECT_EQ(go, ALWAYS) << where << ": spec and status are held by value";
        }
        auto it = renamed.find(where);
        if (it != renamed.end()) {
          renamed_seen.insert(where);
          EXPECT_EQ(f->json_name(), it->second) << where;
        } else {
          EXPECT_EQ(f->json_name(), f->name()) << where << ": JSON name differs from the field name";
        }
      }
    }
  }
  EXPECT_EQ(renamed_seen.size(), renamed.size());
  // The walk saw every file (459 messages, 1745 fields when written); guards against an empty pool.
  EXPECT_GE(messages, 459);
  EXPECT_GE(fields, 1745);
}

// ObjectMeta{name: "web", labels: {app: web}} as kubectl encodes it (kubectl-api.md §11).
TEST(ApiProtoTest, ObjectMetaEncodesAsUpstream) {
  k8s::io::apimachinery::pkg::apis::meta::v1::ObjectMeta meta;
  meta.set_name("web");
  (*meta.mutable_labels())["app"] = "web";
  const std::string want("\x0a\x03web\x5a\x0a\x0a\x03" "app\x12\x03web", 17);
  EXPECT_EQ(meta.SerializeAsString(), want);
}

// The envelope and body kubectl 1.32 sends for `kubectl auth can-i get pods`.
TEST(ApiProtoTest, DecodesASelfSubjectAccessReviewEnvelope) {
  const std::string attributes("\x0a\x07" "default" "\x12\x03get" "\x2a\x04pods", 20);
  const std::string spec = std::string("\x0a", 1) + static_cast<char>(attributes.size()) +
                           attributes;
  const std::string raw = std::string("\x12", 1) + static_cast<char>(spec.size()) + spec;
  k8s::io::apimachinery::pkg::runtime::Unknown unknown;
  unknown.mutable_typemeta()->set_apiversion("authorization.k8s.io/v1");
  unknown.mutable_typemeta()->set_kind("SelfSubjectAccessReview");
  unknown.set_raw(raw);
  const std::string body = std::string("k8s\0", 4) + unknown.SerializeAsString();

  ASSERT_EQ(body.substr(0, 4), std::string("k8s\0", 4));
  k8s::io::apimachinery::pkg::runtime::Unknown got;
  ASSERT_TRUE(got.ParseFromString(body.substr(4)));
  EXPECT_EQ(got.typemeta().kind(), "SelfSubjectAccessReview");
  k8s::io::api::authorization::v1::SelfSubjectAccessReview review;
  ASSERT_TRUE(review.ParseFromString(got.raw()));
  ASSERT_TRUE(review.spec().has_resourceattributes());
  EXPECT_EQ(review.spec().resourceattributes().namespace_(), "default");
  EXPECT_EQ(review.spec().resourceattributes().verb(), "get");
  EXPECT_EQ(review.spec().resourceattributes().resource(), "pods");
  EXPECT_FALSE(review.spec().has_nonresourceattributes());
}

}  // namespace
}  // namespace ck::api
