// The default policy as tables: one row per role or binding, transcribed from upstream's
// bootstrappolicy (policy.go, controller_policy.go, namespace_policy.go). Read a row as
// "name: rules" with R(verbs, apiGroups, resources[, resourceNames]) and U(verbs, URLs).
#include "apiserver/rbac/bootstrap_policy.h"

#include <map>
#include <string>

#include "apiserver/rbac/aggregation.h"
#include "common/api/proto/rbac_v1.pb.h"

namespace ck::apiserver::rbac {
namespace {

namespace rbacv1 = ::k8s::io::api::rbac::v1;
using S = std::vector<std::string>;

PolicyRule R(S verbs, S groups, S resources, S names = {}) {
  return MakeRule(std::move(verbs), std::move(groups), std::move(resources), std::move(names));
}
PolicyRule U(S verbs, S urls) { return MakeUrlRule(std::move(verbs), std::move(urls)); }
// upstream eventsRule(): create/update/patch events in "" and events.k8s.io.
PolicyRule Events() { return R({"create", "update", "patch"}, {"", "events.k8s.io"}, {"events"}); }

const S kRead = {"get", "list", "watch"};
const S kWrite = {"create", "delete", "deletecollection", "patch", "update"};
const S kReadWrite = {"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"};

constexpr const char* kAggregateToAdmin = "rbac.authorization.k8s.io/aggregate-to-admin";
constexpr const char* kAggregateToEdit = "rbac.authorization.k8s.io/aggregate-to-edit";
constexpr const char* kAggregateToView = "rbac.authorization.k8s.io/aggregate-to-view";

struct ClusterRoleRow {
  std::string name;
  std::vector<PolicyRule> rules;
  std::map<std::string, std::string> labels = {};  // besides kubernetes.io/bootstrapping
  std::string aggregate_from = "";                  // label of the aggregationRule's one selector
};

struct SubjectRow {
  std::string kind, name, ns = "";
};
SubjectRow User(std::string n) { return {"User", std::move(n)}; }
SubjectRow Group(std::string n) { return {"Group", std::move(n)}; }
SubjectRow SA(std::string ns, std::string n) { return {"ServiceAccount", std::move(n), std::move(ns)}; }

struct BindingRow {
  std::string name, role;
  std::vector<SubjectRow> subjects;
};

struct RoleRow {
  std::string ns, name;
  std::vector<PolicyRule> rules;
};

struct RoleBindingRow {
  std::string ns, name, role;
  std::vector<SubjectRow> subjects;
};

// ---- ClusterRoles (policy.go ClusterRoles) ----
std::vector<ClusterRoleRow> ClusterRoleRows() {
  return {
      {"cluster-admin", {R({"*"}, {"*"}, {"*"}), U({"*"}, {"*"})}},
      {"admin", {}, {}, kAggregateToAdmin},
      {"edit", {}, {{kAggregateToAdmin, "true"}}, kAggregateToEdit},
      {"view", {}, {{kAggregateToEdit, "true"}}, kAggregateToView},
      {"system:aggregate-to-admin",
       {R({"create"}, {"authorization.k8s.io"}, {"localsubjectaccessreviews"}),
        R(kReadWrite, {"rbac.authorization.k8s.io"}, {"rolebindings", "roles"})},
       {{kAggregateToAdmin, "true"}}},
      {"system:aggregate-to-edit",
       {R(kRead, {""}, {"pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"}),
        R({"impersonate"}, {""}, {"serviceaccounts"}),
        R(kWrite, {""}, {"pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"}),
        R({"create"}, {""}, {"pods/eviction"}),
        R(kWrite, {""},
          {"configmaps", "events", "persistentvolumeclaims", "replicationcontrollers", "replicationcontrollers/scale",
           "secrets", "serviceaccounts", "services", "services/proxy"}),
        R({"create"}, {""}, {"serviceaccounts/token"}),
        R(kWrite, {"apps"},
          {"daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets",
           "replicasets/scale", "statefulsets", "statefulsets/scale"}),
        R(kWrite, {"autoscaling"}, {"horizontalpodautoscalers"}),
        R(kWrite, {"batch"}, {"cronjobs", "jobs"}),
        R(kWrite, {"extensions"},
          {"daemonsets", "deployments", "deployments/rollback", "deployments/scale", "ingresses", "networkpolicies",
           "replicasets", "replicasets/scale", "replicationcontrollers/scale"}),
        R(kWrite, {"policy"}, {"poddisruptionbudgets"}),
        R(kWrite, {"networking.k8s.io"}, {"ingresses", "networkpolicies"}),
        R({"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}, {"coordination.k8s.io"},
          {"leases"})},
       {{kAggregateToEdit, "true"}}},
      {"system:aggregate-to-view",
       {R(kRead, {""},
          {"configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods",
           "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services",
           "services/status"}),
        R(kRead, {""},
          {"bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
           "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"}),
        R(kRead, {""}, {"namespaces"}),
        R(kRead, {"discovery.k8s.io"}, {"endpointslices"}),
        R(kRead, {"apps"},
          {"controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale",
           "deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets",
           "statefulsets/scale", "statefulsets/status"}),
        R(kRead, {"autoscaling"}, {"horizontalpodautoscalers", "horizontalpodautoscalers/status"}),
        R(kRead, {"batch"}, {"cronjobs", "cronjobs/status", "jobs", "jobs/status"}),
        R(kRead, {"extensions"},
          {"daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status", "ingresses",
           "ingresses/status", "networkpolicies", "replicasets", "replicasets/scale", "replicasets/status",
           "replicationcontrollers/scale"}),
        R(kRead, {"policy"}, {"poddisruptionbudgets", "poddisruptionbudgets/status"}),
        R(kRead, {"networking.k8s.io"}, {"ingresses", "ingresses/status", "networkpolicies"})},
       {{kAggregateToView, "true"}}},
      {"system:auth-delegator",
       {R({"create"}, {"authentication.k8s.io"}, {"tokenreviews"}),
        R({"create"}, {"authorization.k8s.io"}, {"subjectaccessreviews"})}},
      {"system:basic-user",
       {R({"create"}, {"authorization.k8s.io"}, {"selfsubjectaccessreviews", "selfsubjectrulesreviews"}),
        R({"create"}, {"authentication.k8s.io"}, {"selfsubjectreviews"})}},
      {"system:discovery",
       {U({"get"}, {"/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz",
                    "/version", "/version/"})}},
      {"system:public-info-viewer", {U({"get"}, {"/healthz", "/livez", "/readyz", "/version", "/version/"})}},
      {"system:monitoring",
       {U({"get"}, {"/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics", "/metrics/slis", "/readyz",
                    "/readyz/*"})}},
      {"system:service-account-issuer-discovery",
       {U({"get"}, {"/.well-known/openid-configuration", "/openid/v1/jwks"})}},
      {"system:kube-aggregator", {R(kRead, {""}, {"endpoints", "services"})}},
      {"system:kube-dns", {R({"list", "watch"}, {""}, {"endpoints", "services"})}},
      {"system:kubelet-api-admin",
       {R(kRead, {""}, {"nodes"}), R({"proxy"}, {""}, {"nodes"}),
        R({"*"}, {""}, {"nodes/log", "nodes/metrics", "nodes/proxy", "nodes/stats"})}},
      {"system:node-bootstrapper", {R({"create", "get", "list", "watch"}, {"certificates.k8s.io"}, {"certificatesigningrequests"})}},
      {"system:node-problem-detector",
       {R({"get"}, {""}, {"nodes"}), R({"patch"}, {""}, {"nodes/status"}), Events()}},
      {"system:node-proxier",
       {R({"list", "watch"}, {""}, {"endpoints", "services"}), R(kRead, {""}, {"nodes"}), Events(),
        R({"list", "watch"}, {"discovery.k8s.io"}, {"endpointslices"})}},
      {"system:node", NodeRules()},
      {"system:kube-controller-manager",
       {Events(), R({"create"}, {"coordination.k8s.io"}, {"leases"}),
        R({"get", "update"}, {"coordination.k8s.io"}, {"leases"}, {"kube-controller-manager"}),
        R({"create"}, {""}, {"secrets", "serviceaccounts"}), R({"delete"}, {""}, {"secrets"}),
        R({"get"}, {""}, {"configmaps", "namespaces", "secrets", "serviceaccounts"}),
        R({"update"}, {""}, {"secrets", "serviceaccounts"}),
        R({"create"}, {"authentication.k8s.io"}, {"tokenreviews"}),
        R({"create"}, {"authorization.k8s.io"}, {"subjectaccessreviews"}), R({"list", "watch"}, {"*"}, {"*"}),
        R({"create"}, {""}, {"serviceaccounts/token"})}},
      {"system:kube-scheduler",
       {Events(), R({"create"}, {"coordination.k8s.io"}, {"leases"}),
        R({"get", "update"}, {"coordination.k8s.io"}, {"leases"}, {"kube-scheduler"}), R(kRead, {""}, {"nodes"}),
        R({"delete", "get", "list", "watch"}, {""}, {"pods"}), R({"create"}, {""}, {"bindings", "pods/binding"}),
        R({"patch", "update"}, {""}, {"pods/status"}), R(kRead, {""}, {"replicationcontrollers", "services"}),
        R(kRead, {"apps", "extensions"}, {"replicasets"}), R(kRead, {"apps"}, {"statefulsets"}),
        R(kRead, {"policy"}, {"poddisruptionbudgets"}),
        R(kRead, {""}, {"persistentvolumeclaims", "persistentvolumes"}),
        R({"create"}, {"authentication.k8s.io"}, {"tokenreviews"}),
        R({"create"}, {"authorization.k8s.io"}, {"subjectaccessreviews"}), R(kRead, {"storage.k8s.io"}, {"csinodes"}),
        R(kRead, {""}, {"namespaces"}), R(kRead, {"storage.k8s.io"}, {"csidrivers"}),
        R(kRead, {"storage.k8s.io"}, {"csistoragecapacities"})}},
      {"system:volume-scheduler",
       {R({"get", "list", "patch", "update", "watch"}, {""}, {"persistentvolumes"}),
        R(kRead, {"storage.k8s.io"}, {"storageclasses"}),
        R({"get", "list", "patch", "update", "watch"}, {""}, {"persistentvolumeclaims"})}},
      {"system:persistent-volume-provisioner",
       {R({"create", "delete", "get", "list", "watch"}, {""}, {"persistentvolumes"}),
        R({"get", "list", "update", "watch"}, {""}, {"persistentvolumeclaims"}),
        R(kRead, {"storage.k8s.io"}, {"storageclasses"}), R({"watch"}, {""}, {"events"}), Events()}},
      {"system:certificates.k8s.io:certificatesigningrequests:nodeclient",
       {R({"create"}, {"certificates.k8s.io"}, {"certificatesigningrequests/nodeclient"})}},
      {"system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
       {R({"create"}, {"certificates.k8s.io"}, {"certificatesigningrequests/selfnodeclient"})}},
  };
}

// ---- ClusterRoleBindings (policy.go ClusterRoleBindings) ----
std::vector<BindingRow> ClusterRoleBindingRows() {
  return {
      {"cluster-admin", "cluster-admin", {Group("system:masters")}},
      {"system:monitoring", "system:monitoring", {Group("system:monitoring")}},
      {"system:discovery", "system:discovery", {Group("system:authenticated")}},
      {"system:basic-user", "system:basic-user", {Group("system:authenticated")}},
      {"system:public-info-viewer", "system:public-info-viewer",
       {Group("system:authenticated"), Group("system:unauthenticated")}},
      {"system:node-proxier", "system:node-proxier", {User("system:kube-proxy")}},
      {"system:kube-controller-manager", "system:kube-controller-manager", {User("system:kube-controller-manager")}},
      {"system:kube-dns", "system:kube-dns", {SA("kube-system", "kube-dns")}},
      {"system:kube-scheduler", "system:kube-scheduler", {User("system:kube-scheduler")}},
      {"system:volume-scheduler", "system:volume-scheduler", {User("system:kube-scheduler")}},
      // No subjects: nodes are authorized by the Node authorizer (upstream keeps the binding empty).
      {"system:node", "system:node", {}},
      {"system:service-account-issuer-discovery", "system:service-account-issuer-discovery",
       {Group("system:serviceaccounts")}},
  };
}

// ---- system:controller:<name> ClusterRoles, each bound to ServiceAccount kube-system/<name>
// (controller_policy.go) ----
std::vector<ClusterRoleRow> ControllerRoleRows() {
  return {
      {"clusterrole-aggregation-controller",
       {R({"escalate", "get", "list", "watch", "update", "patch"}, {"rbac.authorization.k8s.io"}, {"clusterroles"})}},
      {"cronjob-controller",
       {R({"get", "list", "watch", "update"}, {"batch"}, {"cronjobs"}),
        R({"get", "list", "watch", "create", "update", "delete", "patch"}, {"batch"}, {"jobs"}),
        R({"update"}, {"batch"}, {"cronjobs/status"}), R({"update"}, {"batch"}, {"cronjobs/finalizers"}),
        R({"list", "watch", "delete"}, {""}, {"pods"}), Events()}},
      {"daemon-set-controller",
       {R(kRead, {"extensions", "apps"}, {"daemonsets"}), R({"update"}, {"extensions", "apps"}, {"daemonsets/status"}),
        R({"update"}, {"extensions", "apps"}, {"daemonsets/finalizers"}), R({"list", "watch"}, {""}, {"nodes"}),
        R({"list", "watch", "create", "delete", "patch"}, {""}, {"pods"}), R({"create"}, {""}, {"pods/binding"}),
        R({"get", "list", "watch", "create", "delete", "update", "patch"}, {"apps"}, {"controllerrevisions"}),
        Events()}},
      {"deployment-controller",
       {R({"get", "list", "watch", "update"}, {"extensions", "apps"}, {"deployments"}),
        R({"update"}, {"extensions", "apps"}, {"deployments/status"}),
        R({"update"}, {"extensions", "apps"}, {"deployments/finalizers"}),
        R({"get", "list", "watch", "create", "update", "patch", "delete"}, {"apps", "extensions"}, {"replicasets"}),
        R({"get", "list", "watch", "update"}, {""}, {"pods"}), Events()}},
      {"disruption-controller",
       {R(kRead, {"extensions", "apps"}, {"deployments"}), R(kRead, {"apps", "extensions"}, {"replicasets"}),
        R(kRead, {""}, {"replicationcontrollers"}), R(kRead, {"policy"}, {"poddisruptionbudgets"}),
        R(kRead, {"apps"}, {"statefulsets"}), R({"update"}, {"policy"}, {"poddisruptionbudgets/status"}),
        R({"patch", "update"}, {""}, {"pods/status"}), R({"get"}, {"*"}, {"*/scale"}), Events()}},
      {"endpoint-controller",
       {R(kRead, {""}, {"services", "pods"}),
        R({"get", "list", "watch", "create", "update", "delete"}, {""}, {"endpoints"}),
        R({"create"}, {""}, {"endpoints/restricted"}), Events()}},
      {"endpointslice-controller",
       {R(kRead, {""}, {"services", "pods", "nodes"}), R({"update"}, {""}, {"services/finalizers"}),
        R({"get", "list", "watch", "create", "update", "delete"}, {"discovery.k8s.io"}, {"endpointslices"}),
        Events()}},
      {"endpointslicemirroring-controller",
       {R(kRead, {""}, {"services", "endpoints"}), R({"update"}, {""}, {"services/finalizers"}),
        R({"update"}, {""}, {"endpoints/finalizers"}),
        R({"get", "list", "watch", "create", "update", "delete"}, {"discovery.k8s.io"}, {"endpointslices"}),
        Events()}},
      {"generic-garbage-collector", {R({"get", "list", "watch", "patch", "update", "delete"}, {"*"}, {"*"}), Events()}},
      {"horizontal-pod-autoscaler",
       {R(kRead, {"autoscaling"}, {"horizontalpodautoscalers"}),
        R({"update"}, {"autoscaling"}, {"horizontalpodautoscalers/status"}), R({"get", "update"}, {"*"}, {"*/scale"}),
        R({"list", "watch"}, {""}, {"pods"}), R({"list", "watch"}, {"metrics.k8s.io"}, {"pods"}),
        R(kRead, {"custom.metrics.k8s.io"}, {"*"}), R(kRead, {"external.metrics.k8s.io"}, {"*"}), Events()}},
      {"job-controller",
       {R({"get", "list", "watch", "update", "patch"}, {"batch"}, {"jobs"}), R({"update"}, {"batch"}, {"jobs/status"}),
        R({"update"}, {"batch"}, {"jobs/finalizers"}),
        R({"list", "watch", "create", "delete", "patch"}, {""}, {"pods"}), Events()}},
      {"namespace-controller",
       {R({"get", "list", "watch", "delete"}, {""}, {"namespaces"}),
        R({"update"}, {""}, {"namespaces/finalize", "namespaces/status"}),
        R({"get", "list", "watch", "delete", "deletecollection"}, {"*"}, {"*"})}},
      {"node-controller",
       {R({"get", "list", "watch", "update", "delete", "patch"}, {""}, {"nodes"}),
        R({"patch", "update"}, {""}, {"nodes/status"}), R({"patch", "update"}, {""}, {"pods/status"}),
        R({"list", "watch", "get", "delete"}, {""}, {"pods"}), Events()}},
      {"pod-garbage-collector",
       {R({"list", "watch", "delete"}, {""}, {"pods"}), R(kRead, {""}, {"nodes"}), R({"patch"}, {""}, {"pods/status"})}},
      {"replicaset-controller",
       {R({"get", "list", "watch", "update"}, {"apps", "extensions"}, {"replicasets"}),
        R({"update"}, {"apps", "extensions"}, {"replicasets/status"}),
        R({"update"}, {"apps", "extensions"}, {"replicasets/finalizers"}),
        R({"list", "watch", "patch", "create", "delete"}, {""}, {"pods"}), Events()}},
      {"replication-controller",
       {R({"get", "list", "watch", "update"}, {""}, {"replicationcontrollers"}),
        R({"update"}, {""}, {"replicationcontrollers/status"}),
        R({"update"}, {""}, {"replicationcontrollers/finalizers"}),
        R({"list", "watch", "patch", "create", "delete"}, {""}, {"pods"}), Events()}},
      {"resourcequota-controller",
       {R({"list", "watch"}, {"*"}, {"*"}), R({"update"}, {""}, {"resourcequotas/status"}), Events()}},
      {"service-account-controller", {R({"create"}, {""}, {"serviceaccounts"}), Events()}},
      {"service-controller",
       {R(kRead, {""}, {"services"}), R({"patch", "update"}, {""}, {"services/status"}),
        R({"list", "watch"}, {""}, {"nodes"}), Events()}},
      {"statefulset-controller",
       {R({"list", "watch"}, {""}, {"pods"}), R(kRead, {"apps"}, {"statefulsets"}),
        R({"update"}, {"apps"}, {"statefulsets/status"}), R({"update"}, {"apps"}, {"statefulsets/finalizers"}),
        R({"get", "create", "delete", "update", "patch"}, {""}, {"pods"}),
        R({"get", "create", "delete", "update", "patch", "list", "watch"}, {"apps"}, {"controllerrevisions"}),
        R({"get", "create", "list", "watch"}, {""}, {"persistentvolumeclaims"}),
        R({"update", "delete"}, {""}, {"persistentvolumeclaims"}), R({"update"}, {""}, {"pods/finalizers"}),
        Events()}},
      {"ttl-controller", {R({"update", "patch", "list", "watch"}, {""}, {"nodes"}), Events()}},
      {"ttl-after-finished-controller", {R({"get", "list", "watch", "delete"}, {"batch"}, {"jobs"}), Events()}},
      {"pvc-protection-controller",
       {R({"get", "list", "watch", "update"}, {""}, {"persistentvolumeclaims"}),
        R({"list", "watch", "get"}, {""}, {"pods"}), Events()}},
      {"pv-protection-controller", {R({"get", "list", "watch", "update"}, {""}, {"persistentvolumes"}), Events()}},
      {"root-ca-cert-publisher", {R({"create", "update"}, {""}, {"configmaps"}), Events()}},
  };
}

// ---- Roles and RoleBindings in kube-system and kube-public (namespace_policy.go) ----
std::vector<RoleRow> RoleRows() {
  const std::vector<PolicyRule> leader_locking = {
      R({"create", "get", "list", "update", "watch"}, {"coordination.k8s.io"}, {"leases"}),
      R({"create", "get", "list", "update", "watch"}, {"coordination.k8s.io"}, {"leasecandidates"})};
  return {
      {"kube-system", "extension-apiserver-authentication-reader",
       {R(kRead, {""}, {"configmaps"}, {"extension-apiserver-authentication"})}},
      {"kube-system", "system::leader-locking-kube-controller-manager", leader_locking},
      {"kube-system", "system::leader-locking-kube-scheduler", leader_locking},
      {"kube-system", "system:controller:bootstrap-signer", {R(kRead, {""}, {"secrets"})}},
      {"kube-system", "system:controller:cloud-provider", {R({"create", "get", "list", "watch"}, {""}, {"configmaps"})}},
      {"kube-system", "system:controller:token-cleaner", {R({"delete", "get", "list", "watch"}, {""}, {"secrets"}), Events()}},
      {"kube-public", "system:controller:bootstrap-signer",
       {R(kRead, {""}, {"configmaps"}), R({"update"}, {""}, {"configmaps"}, {"cluster-info"}), Events()}},
  };
}

std::vector<RoleBindingRow> RoleBindingRows() {
  return {
      {"kube-system", "system::extension-apiserver-authentication-reader", "extension-apiserver-authentication-reader",
       {User("system:kube-controller-manager"), User("system:kube-scheduler")}},
      {"kube-system", "system::leader-locking-kube-controller-manager", "system::leader-locking-kube-controller-manager",
       {User("system:kube-controller-manager"), SA("kube-system", "kube-controller-manager"),
        SA("kube-system", "leader-election-controller")}},
      {"kube-system", "system::leader-locking-kube-scheduler", "system::leader-locking-kube-scheduler",
       {User("system:kube-scheduler"), SA("kube-system", "kube-scheduler")}},
      {"kube-system", "system:controller:bootstrap-signer", "system:controller:bootstrap-signer",
       {SA("kube-system", "bootstrap-signer")}},
      {"kube-system", "system:controller:cloud-provider", "system:controller:cloud-provider",
       {SA("kube-system", "cloud-provider")}},
      {"kube-system", "system:controller:token-cleaner", "system:controller:token-cleaner",
       {SA("kube-system", "token-cleaner")}},
      {"kube-public", "system:controller:bootstrap-signer", "system:controller:bootstrap-signer",
       {SA("kube-system", "bootstrap-signer")}},
  };
}

// ---- building the objects ----
void Stamp(::k8s::io::apimachinery::pkg::apis::meta::v1::ObjectMeta* meta, const std::string& ns, const std::string& name) {
  meta->set_name(name);
  if (!ns.empty()) meta->set_namespace_(ns);
  (*meta->mutable_labels())["kubernetes.io/bootstrapping"] = "rbac-defaults";
  (*meta->mutable_annotations())["rbac.authorization.kubernetes.io/autoupdate"] = "true";
}

void FillSubjects(const std::vector<SubjectRow>& rows, google::protobuf::RepeatedPtrField<rbacv1::Subject>* out) {
  for (const SubjectRow& row : rows) {
    rbacv1::Subject* s = out->Add();
    s->set_kind(row.kind);
    s->set_name(row.name);
    if (row.kind == "ServiceAccount") {
      s->set_namespace_(row.ns);
    } else {
      s->set_apigroup("rbac.authorization.k8s.io");
    }
  }
}

void FillRef(std::string_view kind, const std::string& name, rbacv1::RoleRef* ref) {
  ref->set_apigroup("rbac.authorization.k8s.io");
  ref->set_kind(std::string(kind));
  ref->set_name(name);
}

std::unique_ptr<rbacv1::ClusterRole> MakeClusterRole(const ClusterRoleRow& row, const std::string& name) {
  auto role = std::make_unique<rbacv1::ClusterRole>();
  Stamp(role->mutable_metadata(), "", name);
  for (const auto& [k, v] : row.labels) (*role->mutable_metadata()->mutable_labels())[k] = v;
  for (const PolicyRule& r : row.rules) *role->add_rules() = r;
  if (!row.aggregate_from.empty()) {
    auto* selector = role->mutable_aggregationrule()->add_clusterroleselectors();
    (*selector->mutable_matchlabels())[row.aggregate_from] = "true";
  }
  return role;
}

std::unique_ptr<rbacv1::ClusterRoleBinding> MakeClusterRoleBinding(const std::string& name, const std::string& role,
                                                                   const std::vector<SubjectRow>& subjects) {
  auto b = std::make_unique<rbacv1::ClusterRoleBinding>();
  Stamp(b->mutable_metadata(), "", name);
  FillRef("ClusterRole", role, b->mutable_roleref());
  FillSubjects(subjects, b->mutable_subjects());
  return b;
}

// Fills the aggregated roles' rules until nothing changes (view -> edit -> admin).
void Aggregate(std::vector<std::unique_ptr<rbacv1::ClusterRole>>* roles) {
  std::vector<const rbacv1::ClusterRole*> all;
  for (const auto& r : *roles) all.push_back(r.get());
  for (bool changed = true; changed;) {
    changed = false;
    for (auto& role : *roles) {
      if (!role->has_aggregationrule()) continue;
      Result<std::vector<PolicyRule>> rules = AggregatedRules(*role, all);
      CK_CHECK(rules.ok()) << "bootstrap aggregationRule of " << role->metadata().name() << ": "
                           << rules.status().ToString();
      if (SameRules(rules.value(), role->rules())) continue;
      role->clear_rules();
      for (PolicyRule& r : rules.value()) *role->add_rules() = std::move(r);
      changed = true;
    }
  }
}

}  // namespace

std::vector<PolicyRule> NodeRules() {
  return {
      R({"create"}, {"authentication.k8s.io"}, {"tokenreviews"}),
      R({"create"}, {"authorization.k8s.io"}, {"localsubjectaccessreviews", "subjectaccessreviews"}),
      R(kRead, {""}, {"services"}),
      R({"create", "get", "list", "watch"}, {""}, {"nodes"}),
      R({"patch", "update"}, {""}, {"nodes/status"}),
      R({"patch", "update"}, {""}, {"nodes"}),
      R({"create", "patch", "update"}, {""}, {"events"}),
      R(kRead, {""}, {"pods"}),
      R({"create", "delete"}, {""}, {"pods"}),
      R({"patch", "update"}, {""}, {"pods/status"}),
      R({"create"}, {""}, {"pods/eviction"}),
      R(kRead, {""}, {"configmaps", "secrets"}),
      R({"get"}, {""}, {"persistentvolumeclaims", "persistentvolumes"}),
      R({"get"}, {""}, {"endpoints"}),
      R({"create", "get", "list", "watch"}, {"certificates.k8s.io"}, {"certificatesigningrequests"}),
      R({"create", "delete", "get", "patch", "update"}, {"coordination.k8s.io"}, {"leases"}),
      R({"get"}, {"storage.k8s.io"}, {"volumeattachments"}),
      R({"create"}, {""}, {"serviceaccounts/token"}),
      R({"get", "patch", "update"}, {""}, {"persistentvolumeclaims/status"}),
      R(kRead, {"storage.k8s.io"}, {"csidrivers"}),
      R({"create", "delete", "get", "patch", "update"}, {"storage.k8s.io"}, {"csinodes"}),
      R(kRead, {"node.k8s.io"}, {"runtimeclasses"}),
  };
}

std::vector<std::unique_ptr<google::protobuf::Message>> BootstrapPolicy() {
  std::vector<std::unique_ptr<rbacv1::ClusterRole>> cluster_roles;
  std::vector<std::unique_ptr<rbacv1::ClusterRoleBinding>> cluster_bindings;
  for (const ClusterRoleRow& row : ClusterRoleRows()) cluster_roles.push_back(MakeClusterRole(row, row.name));
  Aggregate(&cluster_roles);
  for (const BindingRow& row : ClusterRoleBindingRows()) {
    cluster_bindings.push_back(MakeClusterRoleBinding(row.name, row.role, row.subjects));
  }
  for (const ClusterRoleRow& row : ControllerRoleRows()) {
    std::string name = "system:controller:" + row.name;
    cluster_roles.push_back(MakeClusterRole(row, name));
    // ck-controller-manager runs every controller with its own identity (it has no
    // --use-service-account-credentials), so each controller's binding also names that user.
    cluster_bindings.push_back(
        MakeClusterRoleBinding(name, name, {SA("kube-system", row.name), User("system:kube-controller-manager")}));
  }

  std::vector<std::unique_ptr<google::protobuf::Message>> out;
  for (auto& r : cluster_roles) out.push_back(std::move(r));
  for (auto& b : cluster_bindings) out.push_back(std::move(b));
  for (const RoleRow& row : RoleRows()) {
    auto role = std::make_unique<rbacv1::Role>();
    Stamp(role->mutable_metadata(), row.ns, row.name);
    for (const PolicyRule& r : row.rules) *role->add_rules() = r;
    out.push_back(std::move(role));
  }
  for (const RoleBindingRow& row : RoleBindingRows()) {
    auto b = std::make_unique<rbacv1::RoleBinding>();
    Stamp(b->mutable_metadata(), row.ns, row.name);
    FillRef("Role", row.role, b->mutable_roleref());
    FillSubjects(row.subjects, b->mutable_subjects());
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace ck::apiserver::rbac
