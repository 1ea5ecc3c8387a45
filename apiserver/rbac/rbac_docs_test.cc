// Hand-written cases from the upstream RBAC documentation
// (kubernetes.io/docs/reference/access-authn-authz/rbac/): its manifests, loaded as YAML, plus
// the default roles and bindings, and one expectation per line of the table below.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "apiserver/rbac/aggregation.h"
#include "apiserver/rbac/bootstrap_policy.h"
#include "apiserver/rbac/rbac_authorizer.h"
#include "common/api/codec.h"
#include "common/api/kinds.h"
#include "common/api/yaml.h"

namespace ck::apiserver::rbac {
namespace {

// The documentation's examples (names and rules as in the docs).
constexpr std::string_view kDocsManifests = R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {namespace: default, name: pod-reader}
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "watch", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read-pods, namespace: default}
subjects:
- kind: User
  name: jane
  apiGroup: rbac.authorization.k8s.io
roleRef: {kind: Role, name: pod-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: secret-reader}
rules:
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "watch", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read-secrets, namespace: development}
subjects:
- {kind: User, name: dave, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: secret-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: read-secrets-global}
subjects:
- {kind: Group, name: manager, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: secret-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {namespace: default, name: pod-and-pod-logs-reader}
rules:
- apiGroups: [""]
  resources: ["pods", "pods/log"]
  verbs: ["get", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: log-readers, namespace: default}
subjects:
- {kind: User, name: logan, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: Role, name: pod-and-pod-logs-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {namespace: default, name: configmap-updater}
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  resourceNames: ["my-configmap"]
  verbs: ["update", "get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: configmap-updaters, namespace: default}
subjects:
- {kind: User, name: cora, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: Role, name: configmap-updater, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: healthz-poster}
rules:
- nonResourceURLs: ["/healthz", "/healthz/*"]
  verbs: ["get", "post"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: healthz-posters}
subjects:
- {kind: User, name: hank, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: healthz-poster, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: monitoring}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels:
      rbac.example.com/aggregate-to-monitoring: "true"
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: monitoring-endpoints
  labels:
    rbac.example.com/aggregate-to-monitoring: "true"
rules:
- apiGroups: [""]
  resources: ["services", "endpointslices", "pods"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: monitors}
subjects:
- {kind: User, name: mona, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: monitoring, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: aggregate-cron-tabs-edit
  labels:
    rbac.authorization.k8s.io/aggregate-to-admin: "true"
    rbac.authorization.k8s.io/aggregate-to-edit: "true"
rules:
- apiGroups: ["stable.example.com"]
  resources: ["crontabs"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: aggregate-cron-tabs-view
  labels:
    rbac.authorization.k8s.io/aggregate-to-view: "true"
rules:
- apiGroups: ["stable.example.com"]
  resources: ["crontabs"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: example.com-superuser}
rules:
- apiGroups: ["example.com"]
  resources: ["*"]
  verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: example-superusers}
subjects:
- {kind: User, name: "alice@example.com", apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: example.com-superuser, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {namespace: default, name: deployments-rw}
rules:
- apiGroups: ["extensions", "apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: frontend-admins-deployments, namespace: default}
subjects:
- {kind: Group, name: frontend-admins, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: Role, name: deployments-rw, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {namespace: default, name: pods-read-jobs-rw}
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: kube-system-default-jobs, namespace: default}
subjects:
- {kind: ServiceAccount, name: default, namespace: kube-system}
roleRef: {kind: Role, name: pods-read-jobs-rw, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-reader}
rules:
- apiGroups: [""]
  resources: ["nodes"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: serviceaccounts-view, namespace: qa}
subjects:
- {kind: Group, name: "system:serviceaccounts:qa", apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: view, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: all-sa-node-reader}
subjects:
- {kind: Group, name: "system:serviceaccounts", apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: node-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {namespace: default, name: pod-reader-named}
rules:
- apiGroups: [""]
  resources: ["pods"]
  resourceNames: ["readablepod", "anotherpod"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {namespace: default, name: pod-status-reader}
rules:
- apiGroups: [""]
  resources: ["pods/status"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: nina-named, namespace: default}
subjects:
- {kind: User, name: nina, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: Role, name: pod-reader-named, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: nina-status, namespace: default}
subjects:
- {kind: User, name: nina, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: Role, name: pod-status-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: logs-reader}
rules:
- nonResourceURLs: ["/logs/*"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: logs-readers}
subjects:
- {kind: User, name: logan, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: logs-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: bob-admin-binding, namespace: acme}
subjects:
- {kind: User, name: bob, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: admin, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: myapp-view-binding, namespace: acme}
subjects:
- {kind: ServiceAccount, name: myapp, namespace: acme}
roleRef: {kind: ClusterRole, name: view, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: myappnamespace-myapp-view-binding, namespace: acme}
subjects:
- {kind: ServiceAccount, name: myapp, namespace: myappnamespace}
roleRef: {kind: ClusterRole, name: view, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: default-sa-view, namespace: my-namespace}
subjects:
- {kind: ServiceAccount, name: default}
roleRef: {kind: ClusterRole, name: view, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: edit-binding, namespace: acme}
subjects:
- {kind: User, name: eddie, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: edit, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: root-cluster-admin-binding}
subjects:
- {kind: User, name: root, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: cluster-admin, apiGroup: rbac.authorization.k8s.io}
)";

class RbacDocsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto& obj : BootstrapPolicy()) ASSERT_TRUE(authz_.Upsert(*obj));
    Result<std::vector<std::string>> docs = api::YamlToJsonDocuments(kDocsManifests);
    ASSERT_TRUE(docs.ok()) << docs.status().ToString();
    std::vector<std::unique_ptr<google::protobuf::Message>> objs;
    for (const std::string& json : docs.value()) {
      Result<api::TypeMeta> tm = api::PeekTypeMeta(json);
      ASSERT_TRUE(tm.ok()) << tm.status().ToString();
      std::unique_ptr<google::protobuf::Message> m = api::NewObject(tm.value().api_version, tm.value().kind);
      ASSERT_NE(m, nullptr) << tm.value().kind;
      Status st = api::FromJson(json, m.get());
      ASSERT_TRUE(st.ok()) << st.ToString();
      objs.push_back(std::move(m));
    }
    // Run the aggregation controller's step over every ClusterRole, as ck-controller-manager does.
    std::vector<rbacv1::ClusterRole> roles;
    for (auto& obj : BootstrapPolicy()) {
      if (auto* cr = dynamic_cast<rbacv1::ClusterRole*>(obj.get())) roles.push_back(*cr);
    }
    for (auto& obj : objs) {
      if (auto* cr = dynamic_cast<rbacv1::ClusterRole*>(obj.get())) roles.push_back(*cr);
    }
    for (int pass = 0; pass < 3; ++pass) {
      std::vector<const rbacv1::ClusterRole*> all;
      for (auto& r : roles) all.push_back(&r);
      for (auto& r : roles) {
        if (!r.has_aggregationrule()) continue;
        Result<std::vector<PolicyRule>> rules = AggregatedRules(r, all);
        ASSERT_TRUE(rules.ok());
        r.clear_rules();
        for (auto& rule : rules.value()) *r.add_rules() = rule;
      }
    }
    for (auto& r : roles) ASSERT_TRUE(authz_.Upsert(r));
    for (auto& obj : objs) {
      if (dynamic_cast<rbacv1::ClusterRole*>(obj.get()) == nullptr) {
        ASSERT_TRUE(authz_.Upsert(*obj));
      }
    }
  }
  RbacAuthorizer authz_;
};

struct Case {
  const char* line;  // who, what, and the docs example it comes from
  std::string user;
  std::vector<std::string> groups;
  std::string verb, group, resource, subresource, name, ns, path;
  bool allowed;
};

Case Res(const char* line, std::string user, std::vector<std::string> groups, std::string verb, std::string group,
         std::string resource, std::string sub, std::string name, std::string ns, bool allowed) {
  return {line, std::move(user), std::move(groups), std::move(verb), std::move(group), std::move(resource),
          std::move(sub), std::move(name), std::move(ns), "", allowed};
}
Case Url(const char* line, std::string user, std::vector<std::string> groups, std::string verb, std::string path,
         bool allowed) {
  return {line, std::move(user), std::move(groups), std::move(verb), "", "", "", "", "", std::move(path), allowed};
}

const std::vector<std::string> kAuthn = {"system:authenticated"};
const std::vector<std::string> kAnon = {"system:unauthenticated"};
std::vector<std::string> SAGroups(const std::string& ns) {
  return {"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"};
}

std::vector<Case> Cases() {
  return {
      // Role pod-reader + RoleBinding read-pods (jane in default)
      Res("jane get pods in default", "jane", kAuthn, "get", "", "pods", "", "web", "default", true),
      Res("jane list pods in default", "jane", kAuthn, "list", "", "pods", "", "", "default", true),
      Res("jane watch pods in default", "jane", kAuthn, "watch", "", "pods", "", "", "default", true),
      Res("jane cannot delete pods", "jane", kAuthn, "delete", "", "pods", "", "web", "default", false),
      Res("jane cannot read pods in kube-system", "jane", kAuthn, "get", "", "pods", "", "web", "kube-system", false),
      Res("jane cannot list pods cluster-wide", "jane", kAuthn, "list", "", "pods", "", "", "", false),
      Res("jane cannot read pods/log (not in the rule)", "jane", kAuthn, "get", "", "pods", "log", "web", "default", false),
      Res("jane cannot read apps pods", "jane", kAuthn, "get", "apps", "pods", "", "web", "default", false),
      // ClusterRole secret-reader via RoleBinding read-secrets (dave in development)
      Res("dave reads secrets in development", "dave", kAuthn, "get", "", "secrets", "", "s", "development", true),
      Res("dave lists secrets in development", "dave", kAuthn, "list", "", "secrets", "", "", "development", true),
      Res("dave cannot read secrets in default", "dave", kAuthn, "get", "", "secrets", "", "s", "default", false),
      Res("dave cannot list secrets cluster-wide", "dave", kAuthn, "list", "", "secrets", "", "", "", false),
      Res("dave cannot create secrets", "dave", kAuthn, "create", "", "secrets", "", "", "development", false),
      // ClusterRoleBinding read-secrets-global (group manager)
      Res("manager reads secrets anywhere", "mia", {"manager"}, "get", "", "secrets", "", "s", "prod", true),
      Res("manager lists secrets at cluster scope", "mia", {"manager"}, "list", "", "secrets", "", "", "", true),
      Res("manager cannot update secrets", "mia", {"manager"}, "update", "", "secrets", "", "s", "prod", false),
      // pods/log subresource
      Res("logan reads pods/log", "logan", kAuthn, "get", "", "pods", "log", "web", "default", true),
      Res("logan reads pods", "logan", kAuthn, "get", "", "pods", "", "web", "default", true),
      Res("logan cannot exec", "logan", kAuthn, "create", "", "pods", "exec", "web", "default", false),
      Res("logan cannot watch pods/log", "logan", kAuthn, "watch", "", "pods", "log", "web", "default", false),
      // resourceNames my-configmap
      Res("cora gets my-configmap", "cora", kAuthn, "get", "", "configmaps", "", "my-configmap", "default", true),
      Res("cora updates my-configmap", "cora", kAuthn, "update", "", "configmaps", "", "my-configmap", "default", true),
      Res("cora cannot get other configmaps", "cora", kAuthn, "get", "", "configmaps", "", "other", "default", false),
      Res("cora cannot list configmaps (no name)", "cora", kAuthn, "list", "", "configmaps", "", "", "default", false),
      Res("cora cannot create configmaps (no name)", "cora", kAuthn, "create", "", "configmaps", "", "", "default", false),
      // nonResourceURLs /healthz and /healthz/*
      Url("hank gets /healthz", "hank", {}, "get", "/healthz", true),
      Url("hank posts /healthz", "hank", {}, "post", "/healthz", true),
      Url("hank gets /healthz/etcd", "hank", {}, "get", "/healthz/etcd", true),
      Url("hank posts /healthz/log/x", "hank", {}, "post", "/healthz/log/x", true),
      Url("hank cannot get /healthzx (no prefix without /)", "hank", {}, "get", "/healthzx", false),
      Url("hank cannot delete /healthz", "hank", {}, "delete", "/healthz", false),
      Url("hank cannot get /metrics", "hank", {}, "get", "/metrics", false),
      // /logs/* (kubectl create clusterrole --non-resource-url=/logs/*)
      Url("logan gets /logs/kube.log", "logan", {}, "get", "/logs/kube.log", true),
      Url("logan cannot get /logs (no trailing slash)", "logan", {}, "get", "/logs", false),
      // aggregation: monitoring gathers monitoring-endpoints
      Res("mona lists services via aggregated monitoring", "mona", kAuthn, "list", "", "services", "", "", "", true),
      Res("mona gets pods via aggregated monitoring", "mona", kAuthn, "get", "", "pods", "", "p", "ns1", true),
      Res("mona cannot delete pods", "mona", kAuthn, "delete", "", "pods", "", "p", "ns1", false),
      // aggregate-to-edit / aggregate-to-view of crontabs into the default roles
      Res("eddie (edit) creates crontabs", "eddie", kAuthn, "create", "stable.example.com", "crontabs", "", "", "acme", true),
      Res("myapp SA (view) lists crontabs", "system:serviceaccount:acme:myapp", SAGroups("acme"), "list",
          "stable.example.com", "crontabs", "", "", "acme", true),
      Res("myapp SA (view) cannot create crontabs", "system:serviceaccount:acme:myapp", SAGroups("acme"), "create",
          "stable.example.com", "crontabs", "", "", "acme", false),
      Res("bob (admin) deletes crontabs", "bob", kAuthn, "delete", "stable.example.com", "crontabs", "", "c", "acme", true),
      // wildcard resources and verbs in one group
      Res("alice any verb on example.com widgets", "alice@example.com", kAuthn, "deletecollection", "example.com",
          "widgets", "", "", "ns", true),
      Res("alice any subresource in example.com", "alice@example.com", kAuthn, "update", "example.com", "widgets",
          "status", "w", "ns", true),
      Res("alice nothing in other groups", "alice@example.com", kAuthn, "get", "", "pods", "", "p", "ns", false),
      // deployments in extensions and apps, group subject
      Res("frontend-admins create apps deployments", "fred", {"frontend-admins"}, "create", "apps", "deployments", "",
          "", "default", true),
      Res("frontend-admins patch extensions deployments", "fred", {"frontend-admins"}, "patch", "extensions",
          "deployments", "", "d", "default", true),
      Res("frontend-admins cannot scale (subresource not granted)", "fred", {"frontend-admins"}, "update", "apps",
          "deployments", "scale", "d", "default", false),
      Res("frontend-admins cannot use batch deployments", "fred", {"frontend-admins"}, "get", "batch", "deployments",
          "", "d", "default", false),
      // kube-system default SA: read pods, read/write jobs in default
      Res("kube-system default SA creates jobs in default", "system:serviceaccount:kube-system:default",
          SAGroups("kube-system"), "create", "batch", "jobs", "", "", "default", true),
      Res("kube-system default SA lists pods in default", "system:serviceaccount:kube-system:default",
          SAGroups("kube-system"), "list", "", "pods", "", "", "default", true),
      Res("default SA of default cannot (namespace matters)", "system:serviceaccount:default:default",
          SAGroups("default"), "create", "batch", "jobs", "", "", "default", false),
      // Group system:serviceaccounts:qa via RoleBinding (namespaced!) and system:serviceaccounts cluster-wide
      Res("every SA of qa lists pods in qa", "system:serviceaccount:qa:tester", SAGroups("qa"), "list", "", "pods", "",
          "", "qa", true),
      Res("SAs of qa get nothing in dev", "system:serviceaccount:qa:tester", SAGroups("qa"), "list", "", "pods", "", "",
          "dev", false),
      Res("every SA reads nodes cluster-wide", "system:serviceaccount:dev:x", SAGroups("dev"), "list", "", "nodes", "",
          "", "", true),
      Res("a user cannot read nodes", "jane", kAuthn, "list", "", "nodes", "", "", "", false),
      // resourceNames readablepod / anotherpod and pods/status
      Res("nina gets readablepod", "nina", kAuthn, "get", "", "pods", "", "readablepod", "default", true),
      Res("nina gets anotherpod", "nina", kAuthn, "get", "", "pods", "", "anotherpod", "default", true),
      Res("nina cannot get thirdpod", "nina", kAuthn, "get", "", "pods", "", "thirdpod", "default", false),
      Res("nina reads pods/status of any pod", "nina", kAuthn, "get", "", "pods", "status", "thirdpod", "default", true),
      Res("nina cannot read pods/log", "nina", kAuthn, "get", "", "pods", "log", "readablepod", "default", false),
      // RoleBinding to ClusterRole admin (bob in acme)
      Res("bob creates roles in acme", "bob", kAuthn, "create", "rbac.authorization.k8s.io", "roles", "", "", "acme", true),
      Res("bob creates rolebindings in acme", "bob", kAuthn, "create", "rbac.authorization.k8s.io", "rolebindings", "",
          "", "acme", true),
      Res("bob cannot create clusterroles", "bob", kAuthn, "create", "rbac.authorization.k8s.io", "clusterroles", "",
          "", "", false),
      Res("bob cannot touch pods outside acme", "bob", kAuthn, "get", "", "pods", "", "p", "default", false),
      Res("bob reads secrets in acme", "bob", kAuthn, "get", "", "secrets", "", "s", "acme", true),
      // view / edit
      Res("view SA cannot read secrets", "system:serviceaccount:acme:myapp", SAGroups("acme"), "get", "", "secrets",
          "", "s", "acme", false),
      Res("view SA reads pods/log", "system:serviceaccount:acme:myapp", SAGroups("acme"), "get", "", "pods", "log",
          "p", "acme", true),
      Res("view SA from myappnamespace reads deployments in acme", "system:serviceaccount:myappnamespace:myapp",
          SAGroups("myappnamespace"), "get", "apps", "deployments", "", "d", "acme", true),
      Res("view SA cannot create pods", "system:serviceaccount:acme:myapp", SAGroups("acme"), "create", "", "pods", "",
          "", "acme", false),
      Res("edit reads secrets", "eddie", kAuthn, "get", "", "secrets", "", "s", "acme", true),
      Res("edit execs into pods", "eddie", kAuthn, "create", "", "pods", "exec", "p", "acme", true),
      Res("edit scales deployments", "eddie", kAuthn, "update", "apps", "deployments", "scale", "d", "acme", true),
      Res("edit cannot create roles", "eddie", kAuthn, "create", "rbac.authorization.k8s.io", "roles", "", "", "acme",
          false),
      Res("edit cannot update resourcequotas", "eddie", kAuthn, "update", "", "resourcequotas", "", "q", "acme", false),
      // ServiceAccount subject without namespace defaults to the RoleBinding's namespace
      Res("default SA of my-namespace reads pods", "system:serviceaccount:my-namespace:default",
          SAGroups("my-namespace"), "list", "", "pods", "", "", "my-namespace", true),
      Res("default SA of other namespace does not", "system:serviceaccount:other:default", SAGroups("other"), "list",
          "", "pods", "", "", "my-namespace", false),
      // cluster-admin
      Res("root deletes nodes", "root", kAuthn, "delete", "", "nodes", "", "n1", "", true),
      Url("root gets /metrics", "root", {}, "get", "/metrics", true),
      // default roles and bindings
      Url("anonymous gets /healthz (public-info-viewer)", "system:anonymous", kAnon, "get", "/healthz", true),
      Url("anonymous gets /version", "system:anonymous", kAnon, "get", "/version", true),
      Url("anonymous cannot get /api", "system:anonymous", kAnon, "get", "/api", false),
      Url("authenticated gets /apis/apps/v1 (discovery)", "jane", kAuthn, "get", "/apis/apps/v1", true),
      Url("authenticated cannot get /metrics", "jane", kAuthn, "get", "/metrics", false),
      Res("authenticated creates selfsubjectaccessreviews", "jane", kAuthn, "create", "authorization.k8s.io",
          "selfsubjectaccessreviews", "", "", "", true),
      Res("anonymous cannot create selfsubjectaccessreviews", "system:anonymous", kAnon, "create",
          "authorization.k8s.io", "selfsubjectaccessreviews", "", "", "", false),
      Res("kube-proxy lists endpointslices", "system:kube-proxy", kAuthn, "list", "discovery.k8s.io", "endpointslices",
          "", "", "", true),
      Res("kube-scheduler binds pods", "system:kube-scheduler", kAuthn, "create", "", "pods", "binding", "p", "ns",
          true),
      Res("kube-scheduler updates its lease", "system:kube-scheduler", kAuthn, "update", "coordination.k8s.io", "leases",
          "", "kube-scheduler", "kube-system", true),
      Res("kube-scheduler cannot update another lease", "system:kube-scheduler", kAuthn, "update",
          "coordination.k8s.io", "leases", "", "kube-controller-manager", "default", false),
      Res("system:node binding has no subjects: a kubelet gets nothing from RBAC", "system:node:n1",
          {"system:nodes", "system:authenticated"}, "get", "", "pods", "", "p", "ns", false),
      Res("system:masters can do anything", "admin", {"system:masters", "system:authenticated"}, "escalate",
          "rbac.authorization.k8s.io", "clusterroles", "", "x", "", true),
      Url("system:masters any URL", "admin", {"system:masters"}, "put", "/anything/at/all", true),
      Res("replicaset controller SA creates pods", "system:serviceaccount:kube-system:replicaset-controller",
          SAGroups("kube-system"), "create", "", "pods", "", "", "web", true),
      Res("namespace controller SA deletes collections", "system:serviceaccount:kube-system:namespace-controller",
          SAGroups("kube-system"), "deletecollection", "apps", "deployments", "", "", "gone", true),
  };
}

TEST_F(RbacDocsTest, DocumentationExamples) {
  std::vector<Case> cases = Cases();
  ASSERT_GE(cases.size(), 50u);
  int mismatches = 0;
  for (const Case& c : cases) {
    UserInfo u{c.user, "", c.groups, {}};
    Attributes a;
    a.user = &u;
    a.verb = c.verb;
    a.resource_request = c.path.empty();
    a.api_group = c.group;
    a.resource = c.resource;
    a.subresource = c.subresource;
    a.name = c.name;
    a.namespace_ = c.ns;
    a.path = c.path;
    std::string reason;
    Decision d = authz_.Authorize(a, &reason);
    EXPECT_NE(d, Decision::kDeny);
    if ((d == Decision::kAllow) != c.allowed) {
      ++mismatches;
      ADD_FAILURE() << c.line << ": want " << (c.allowed ? "allow" : "no opinion") << ", reason " << reason;
    }
  }
  std::printf("rbac docs: %zu cases, %d mismatches\n", cases.size(), mismatches);
}

TEST_F(RbacDocsTest, ReasonsNameTheBinding) {
  UserInfo jane{"jane", "", kAuthn, {}};
  Attributes a;
  a.user = &jane;
  a.verb = "get";
  a.resource_request = true;
  a.resource = "pods";
  a.namespace_ = "default";
  std::string reason;
  ASSERT_EQ(authz_.Authorize(a, &reason), Decision::kAllow);
  EXPECT_EQ(reason, R"(RBAC: allowed by RoleBinding "read-pods/default" of Role "pod-reader" to User "jane")");

  UserInfo admin{"admin", "", {"system:masters", "system:authenticated"}, {}};
  a.user = &admin;
  ASSERT_EQ(authz_.Authorize(a, &reason), Decision::kAllow);
  EXPECT_EQ(reason,
            R"(RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters")");

  UserInfo sa{"system:serviceaccount:my-namespace:default", "", SAGroups("my-namespace"), {}};
  a.user = &sa;
  a.namespace_ = "my-namespace";
  ASSERT_EQ(authz_.Authorize(a, &reason), Decision::kAllow);
  EXPECT_EQ(reason,
            R"(RBAC: allowed by RoleBinding "default-sa-view/my-namespace" of ClusterRole "view" to ServiceAccount "default/my-namespace")");

  // A binding to a role that does not exist is reported when nothing else allows.
  rbacv1::RoleBinding dangling;
  dangling.mutable_metadata()->set_name("dangling");
  dangling.mutable_metadata()->set_namespace_("default");
  dangling.mutable_roleref()->set_kind("Role");
  dangling.mutable_roleref()->set_name("missing");
  auto* s = dangling.add_subjects();
  s->set_kind("User");
  s->set_name("zed");
  ASSERT_TRUE(authz_.Upsert(dangling));
  UserInfo zed{"zed", "", kAuthn, {}};
  a.user = &zed;
  a.namespace_ = "default";
  EXPECT_EQ(authz_.Authorize(a, &reason), Decision::kNoOpinion);
  EXPECT_EQ(reason, R"(RBAC: role.rbac.authorization.k8s.io "missing" not found)");
}

}  // namespace
}  // namespace ck::apiserver::rbac
