#include "common/api/api_resources.h"

#include <algorithm>

namespace ck::api {

namespace {

const std::vector<std::string> kCrud = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};
const std::vector<std::string> kCreateOnly = {"create"};
const std::vector<std::string> kStatusVerbs = {"get", "patch", "update"};

SubresourceInfo Status(const std::string& group, const std::string& version, const std::string& kind) {
  return {"status", group, version, kind, kStatusVerbs};
}
SubresourceInfo Scale() { return {"scale", "autoscaling", "v1", "Scale", kStatusVerbs}; }

struct Row {
  std::string group, version, resource, singular, kind;
  bool namespaced;
  std::vector<std::string> short_names, categories;
  std::vector<std::string> verbs;
  std::vector<SubresourceInfo> subresources;
  std::string proto_package;  // "k8s.io.api.core.v1"
  std::string storage;        // "" = same as resource; "-" = not stored
};

ResourceInfo Make(const Row& r) {
  ResourceInfo i;
  i.group = r.group;
  i.version = r.version;
  i.resource = r.resource;
  i.singular = r.singular;
  i.kind = r.kind;
  i.namespaced = r.namespaced;
  i.short_names = r.short_names;
  i.categories = r.categories;
  i.verbs = r.verbs;
  i.subresources = r.subresources;
  i.proto_type = r.proto_package + "." + r.kind;
  bool stored = r.storage != "-";
  i.list_proto_type = stored ? r.proto_package + "." + r.kind + "List" : "";
  if (stored) i.storage_prefix = "/registry/" + (r.storage.empty() ? r.resource : r.storage) + "/";
  return i;
}

std::vector<ResourceInfo> Build() {
  const std::string core = "k8s.io.api.core.v1";
  const std::vector<std::string> all = {"all"};
  std::vector<Row> rows = {
      // core/v1
      {"", "v1", "bindings", "binding", "Binding", true, {}, {}, kCreateOnly, {}, core, "-"},
      {"", "v1", "configmaps", "configmap", "ConfigMap", true, {"cm"}, {}, kCrud, {}, core, ""},
      {"", "v1", "endpoints", "endpoints", "Endpoints", true, {"ep"}, {}, kCrud, {}, core, "services/endpoints"},
      {"", "v1", "events", "event", "Event", true, {"ev"}, {}, kCrud, {}, core, ""},
      {"", "v1", "limitranges", "limitrange", "LimitRange", true, {"limits"}, {}, kCrud, {}, core, ""},
      {"", "v1", "namespaces", "namespace", "Namespace", false, {"ns"}, {},
       {"create", "delete", "get", "list", "patch", "update", "watch"},
       {Status("", "v1", "Namespace"), {"finalize", "", "v1", "Namespace", {"update"}}}, core, ""},
      {"", "v1", "nodes", "node", "Node", false, {"no"}, {}, kCrud,
       {Status("", "v1", "Node"), {"proxy", "", "v1", "NodeProxyOptions", {"create", "delete", "get", "patch", "update"}}},
       core, "minions"},
      {"", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true, {"pvc"}, {}, kCrud,
       {Status("", "v1", "PersistentVolumeClaim")}, core, ""},
      {"", "v1", "pods", "pod", "Pod", true, {"po"}, all, kCrud,
       {{"attach", "", "v1", "PodAttachOptions", {"create", "get"}},
        {"binding", "", "v1", "Binding", {"create"}},
        {"eviction", "policy", "v1", "Eviction", {"create"}},
        {"exec", "", "v1", "PodExecOptions", {"create", "get"}},
        {"log", "", "v1", "Pod", {"get"}},
        {"portforward", "", "v1", "PodPortForwardOptions", {"create", "get"}},
        Status("", "v1", "Pod")},
       core, ""},
      {"", "v1", "resourcequotas", "resourcequota", "ResourceQuota", true, {"quota"}, {}, kCrud,
       {Status("", "v1", "ResourceQuota")}, core, ""},
      {"", "v1", "secrets", "secret", "Secret", true, {}, {}, kCrud, {}, core, ""},
      {"", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, {"sa"}, {}, kCrud,
       {{"token", "authentication.k8s.io", "v1", "TokenRequest", {"create"}}}, core, ""},
      {"", "v1", "services", "service", "Service", true, {"svc"}, all,
       {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"},
       {Status("", "v1", "Service")}, core, "services/specs"},
      // apps/v1
      {"apps", "v1", "controllerrevisions", "controllerrevision", "ControllerRevision", true, {}, {}, kCrud, {},
       "k8s.io.api.apps.v1", ""},
      {"apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, {"ds"}, all, kCrud,
       {Status("apps", "v1", "DaemonSet")}, "k8s.io.api.apps.v1", ""},
      {"apps", "v1", "deployments", "deployment", "Deployment", true, {"deploy"}, all, kCrud,
       {Scale(), Status("apps", "v1", "Deployment")}, "k8s.io.api.apps.v1", ""},
      {"apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, {"rs"}, all, kCrud,
       {Scale(), Status("apps", "v1", "ReplicaSet")}, "k8s.io.api.apps.v1", ""},
      {"apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, {"sts"}, all, kCrud,
       {Scale(), Status("apps", "v1", "StatefulSet")}, "k8s.io.api.apps.v1", ""},
      // events.k8s.io/v1
      {"events.k8s.io", "v1", "events", "event", "Event", true, {"ev"}, {}, kCrud, {}, "k8s.io.api.events.v1",
       "events.k8s.io/events"},
      // authentication.k8s.io/v1
      {"authentication.k8s.io", "v1", "selfsubjectreviews", "selfsubjectreview", "SelfSubjectReview", false, {}, {},
       kCreateOnly, {}, "k8s.io.api.authentication.v1", "-"},
      {"authentication.k8s.io", "v1", "tokenreviews", "tokenreview", "TokenReview", false, {}, {}, kCreateOnly, {},
       "k8s.io.api.authentication.v1", "-"},
      // authorization.k8s.io/v1
      {"authorization.k8s.io", "v1", "localsubjectaccessreviews", "localsubjectaccessreview", "LocalSubjectAccessReview",
       true, {}, {}, kCreateOnly, {}, "k8s.io.api.authorization.v1", "-"},
      {"authorization.k8s.io", "v1", "selfsubjectaccessreviews", "selfsubjectaccessreview", "SelfSubjectAccessReview",
       false, {}, {}, kCreateOnly, {}, "k8s.io.api.authorization.v1", "-"},
      {"authorization.k8s.io", "v1", "selfsubjectrulesreviews", "selfsubjectrulesreview", "SelfSubjectRulesReview",
       false, {}, {}, kCreateOnly, {}, "k8s.io.api.authorization.v1", "-"},
      {"authorization.k8s.io", "v1", "subjectaccessreviews", "subjectaccessreview", "SubjectAccessReview", false, {}, {},
       kCreateOnly, {}, "k8s.io.api.authorization.v1", "-"},
      // batch/v1
      {"batch", "v1", "cronjobs", "cronjob", "CronJob", true, {"cj"}, all, kCrud, {Status("batch", "v1", "CronJob")},
       "k8s.io.api.batch.v1", ""},
      {"batch", "v1", "jobs", "job", "Job", true, {}, all, kCrud, {Status("batch", "v1", "Job")},
       "k8s.io.api.batch.v1", ""},
      // networking.k8s.io/v1
      {"networking.k8s.io", "v1", "ingressclasses", "ingressclass", "IngressClass", false, {}, {}, kCrud, {},
       "k8s.io.api.networking.v1", ""},
      {"networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", true, {"ing"}, {}, kCrud,
       {Status("networking.k8s.io", "v1", "Ingress")}, "k8s.io.api.networking.v1", "ingress"},
      {"networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", true, {"netpol"}, {}, kCrud, {},
       "k8s.io.api.networking.v1", ""},
      // policy/v1
      {"policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", true, {"pdb"}, {}, kCrud,
       {Status("policy", "v1", "PodDisruptionBudget")}, "k8s.io.api.policy.v1", ""},
      // rbac.authorization.k8s.io/v1
      {"rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", false, {}, {},
       kCrud, {}, "k8s.io.api.rbac.v1", ""},
      {"rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", false, {}, {}, kCrud, {},
       "k8s.io.api.rbac.v1", ""},
      {"rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", true, {}, {}, kCrud, {},
       "k8s.io.api.rbac.v1", ""},
      {"rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true, {}, {}, kCrud, {}, "k8s.io.api.rbac.v1", ""},
      // admissionregistration.k8s.io/v1
      {"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "mutatingwebhookconfiguration",
       "MutatingWebhookConfiguration", false, {}, {"api-extensions"}, kCrud, {},
       "k8s.io.api.admissionregistration.v1", ""},
      {"admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "validatingwebhookconfiguration",
       "ValidatingWebhookConfiguration", false, {}, {"api-extensions"}, kCrud, {},
       "k8s.io.api.admissionregistration.v1", ""},
      // scheduling.k8s.io/v1
      {"scheduling.k8s.io", "v1", "priorityclasses", "priorityclass", "PriorityClass", false, {"pc"}, {}, kCrud, {},
       "k8s.io.api.scheduling.v1", ""},
      // coordination.k8s.io/v1
      {"coordination.k8s.io", "v1", "leases", "lease", "Lease", true, {}, {}, kCrud, {}, "k8s.io.api.coordination.v1",
       ""},
      // discovery.k8s.io/v1
      {"discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", true, {}, {}, kCrud, {},
       "k8s.io.api.discovery.v1", ""},
  };
  std::vector<ResourceInfo> out;
  for (const auto& r : rows) out.push_back(Make(r));
  return out;
}

}  // namespace

const SubresourceInfo* ResourceInfo::FindSubresource(std::string_view name) const {
  for (const auto& s : subresources) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

bool ResourceInfo::HasVerb(std::string_view verb) const {
  return std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

const std::vector<ResourceInfo>& AllResources() {
  static const std::vector<ResourceInfo> all = Build();
  return all;
}

const std::vector<GroupInfo>& AllGroups() {
  // Upstream's /apis order for the groups we serve; core ("") first.
  static const std::vector<GroupInfo> groups = {
      {"", "v1"},
      {"apps", "v1"},
      {"events.k8s.io", "v1"},
      {"authentication.k8s.io", "v1"},
      {"authorization.k8s.io", "v1"},
      {"batch", "v1"},
      {"networking.k8s.io", "v1"},
      {"policy", "v1"},
      {"rbac.authorization.k8s.io", "v1"},
      {"admissionregistration.k8s.io", "v1"},
      {"scheduling.k8s.io", "v1"},
      {"coordination.k8s.io", "v1"},
      {"discovery.k8s.io", "v1"},
  };
  return groups;
}

const ResourceInfo* FindResource(std::string_view group, std::string_view version, std::string_view resource) {
  for (const auto& r : AllResources()) {
    if (r.group == group && r.version == version && r.resource == resource) return &r;
  }
  return nullptr;
}

const ResourceInfo* FindResourceByKind(std::string_view group, std::string_view version, std::string_view kind) {
  for (const auto& r : AllResources()) {
    if (r.group == group && r.version == version && r.kind == kind) return &r;
  }
  return nullptr;
}

}  // namespace ck::api
