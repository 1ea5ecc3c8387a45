// The policy checker on the example policy of the upstream auditing documentation, plus the
// wildcard forms and the validation errors.
#include "apiserver/audit/policy.h"

#include <gtest/gtest.h>

namespace ck::apiserver::audit {
namespace {

// kubernetes.io/docs/tasks/debug/debug-cluster/audit/ (audit-policy.yaml).
constexpr char kDocsPolicy[] = R"(
apiVersion: audit.k8s.io/v1 # This is required.
kind: Policy
# Don't generate audit events for all requests in RequestReceived stage.
omitStages:
  - "RequestReceived"
rules:
  # Log pod changes at RequestResponse level
  - level: RequestResponse
    resources:
    - group: ""
      # Resource "pods" doesn't match requests to any subresource of pods,
      # which is consistent with the RBAC policy.
      resources: ["pods"]
  # Log "pods/log", "pods/status" at Metadata level
  - level: Metadata
    resources:
    - group: ""
      resources: ["pods/log", "pods/status"]

  # Don't log requests to a configmap called "controller-leader"
  - level: None
    resources:
    - group: ""
      resources: ["configmaps"]
      resourceNames: ["controller-leader"]

  # Don't log watch requests by the "system:kube-proxy" on endpoints or services
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
    resources:
    - group: "" # core API group
      resources: ["endpoints", "services"]

  # Don't log authenticated requests to certain non-resource URL paths.
  - level: None
    userGroups: ["system:authenticated"]
    nonResourceURLs:
    - "/api*" # Wildcard matching.
    - "/version"

  # Log the request body of configmap changes in kube-system.
  - level: Request
    resources:
    - group: "" # core API group
      resources: ["configmaps"]
    # This rule only applies to resources in the "kube-system" namespace.
    # The empty string "" can be used to select non-namespaced resources.
    namespaces: ["kube-system"]

  # Log configmap and secret changes in all other namespaces at the Metadata level.
  - level: Metadata
    resources:
    - group: "" # core API group
      resources: ["secrets", "configmaps"]

  # Log all other resources in core and extensions at the Request level.
  - level: Request
    resources:
    - group: "" # core API group
    - group: "extensions" # Version of group should NOT be included.

  # A catch-all rule to log all other requests at the Metadata level.
  - level: Metadata
    # Long-running requests like watches that fall under this rule will not
    # generate an audit event in RequestReceived.
    omitStages:
      - "RequestReceived"
)";

AuditAttributes Res(std::string user, std::string verb, std::string group, std::string ns, std::string resource,
                    std::string subresource = "", std::string name = "") {
  AuditAttributes a;
  a.user = std::move(user);
  a.groups = {"system:authenticated"};
  a.verb = std::move(verb);
  a.resource_request = true;
  a.api_group = std::move(group);
  a.namespace_ = std::move(ns);
  a.resource = std::move(resource);
  a.subresource = std::move(subresource);
  a.name = std::move(name);
  return a;
}

AuditAttributes Url(std::string user, std::vector<std::string> groups, std::string path) {
  AuditAttributes a;
  a.user = std::move(user);
  a.groups = std::move(groups);
  a.verb = "get";
  a.path = std::move(path);
  return a;
}

TEST(AuditPolicyTest, DocsExamplePolicyTable) {
  Result<Policy> policy = ParsePolicy(kDocsPolicy);
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  ASSERT_EQ(policy->rules.size(), 9u);
  struct Case {
    const char* what;
    AuditAttributes attributes;
    Level want;
  };
  const std::vector<std::string> authed = {"system:authenticated"};
  const std::vector<Case> cases = {
      {"pod create", Res("alice", "create", "", "default", "pods", "", "web"), Level::kRequestResponse},
      {"pod list, all namespaces", Res("alice", "list", "", "", "pods"), Level::kRequestResponse},
      {"pods/log is not pods", Res("alice", "get", "", "default", "pods", "log", "web"), Level::kMetadata},
      {"pods/status", Res("kubelet", "update", "", "default", "pods", "status", "web"), Level::kMetadata},
      {"pods/exec falls to core", Res("alice", "create", "", "default", "pods", "exec", "web"), Level::kRequest},
      {"controller-leader configmap", Res("cm", "update", "", "kube-system", "configmaps", "", "controller-leader"),
       Level::kNone},
      {"controller-leader anywhere", Res("cm", "get", "", "default", "configmaps", "", "controller-leader"),
       Level::kNone},
      {"other configmap in kube-system", Res("cm", "update", "", "kube-system", "configmaps", "", "other"),
       Level::kRequest},
      {"configmap list in kube-system (no name)", Res("cm", "list", "", "kube-system", "configmaps"), Level::kRequest},
      {"configmap elsewhere", Res("bob", "update", "", "team-a", "configmaps", "", "cfg"), Level::kMetadata},
      {"secret", Res("bob", "get", "", "kube-system", "secrets", "", "token"), Level::kMetadata},
      {"kube-proxy watches endpoints", Res("system:kube-proxy", "watch", "", "", "endpoints"), Level::kNone},
      {"kube-proxy watches services", Res("system:kube-proxy", "watch", "", "", "services"), Level::kNone},
      {"kube-proxy lists services", Res("system:kube-proxy", "list", "", "", "services"), Level::kRequest},
      {"someone else watches services", Res("alice", "watch", "", "", "services"), Level::kRequest},
      {"kube-proxy watches endpointslices", Res("system:kube-proxy", "watch", "discovery.k8s.io", "", "endpointslices"),
       Level::kMetadata},
      {"namespaces (cluster-scoped core)", Res("alice", "create", "", "", "namespaces", "", "x"), Level::kRequest},
      {"extensions group", Res("alice", "create", "extensions", "default", "ingresses"), Level::kRequest},
      {"apps group falls through", Res("alice", "create", "apps", "default", "deployments"), Level::kMetadata},
      {"/api by an authenticated user", Url("alice", authed, "/api"), Level::kNone},
      {"/api/v1 matches /api*", Url("alice", authed, "/api/v1"), Level::kNone},
      {"/apis matches /api*", Url("alice", authed, "/apis"), Level::kNone},
      {"/version", Url("alice", authed, "/version"), Level::kNone},
      {"/version/ is not /version", Url("alice", authed, "/version/"), Level::kMetadata},
      {"/healthz", Url("alice", authed, "/healthz"), Level::kMetadata},
      {"/api anonymously", Url("system:anonymous", {"system:unauthenticated"}, "/api"), Level::kMetadata},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(LevelName(LevelFor(*policy, c.attributes)), LevelName(c.want)) << c.what;
  }
  // Top-level omitStages apply to every rule; the catch-all adds the same stage once.
  RuleEvaluation pod = EvaluatePolicyRule(*policy, cases[0].attributes);
  EXPECT_EQ(pod.omit_stages, std::vector<Stage>{Stage::kRequestReceived});
  RuleEvaluation catch_all = EvaluatePolicyRule(*policy, Url("alice", authed, "/healthz"));
  EXPECT_EQ(catch_all.omit_stages, std::vector<Stage>{Stage::kRequestReceived});
}

TEST(AuditPolicyTest, WildcardsNamespacesAndFirstMatch) {
  Result<Policy> policy = ParsePolicy(R"(
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: RequestResponse
  resources: [{group: "", resources: ["*/status"]}]
- level: Request
  resources: [{group: apps, resources: ["deployments/*"]}]
- level: Metadata
  namespaces: [""]
- level: Request
  userGroups: [admins]
  omitStages: [ResponseStarted]
  omitManagedFields: true
- level: Metadata
  nonResourceURLs: ["*"]
  verbs: [get]
- level: None
  resources: [{group: rbac.authorization.k8s.io, resources: ["*"]}]
)");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(LevelFor(*policy, Res("u", "update", "", "ns", "pods", "status")), Level::kRequestResponse);
  EXPECT_EQ(LevelFor(*policy, Res("u", "update", "", "ns", "services", "status")), Level::kRequestResponse);
  EXPECT_EQ(LevelFor(*policy, Res("u", "update", "apps", "ns", "deployments", "scale")), Level::kRequest);
  // Upstream's checker lets "deployments/*" match the deployment itself too (the prefix before
  // "/*" equals the resource); a cluster-scoped object matches namespaces [""].
  EXPECT_EQ(LevelFor(*policy, Res("u", "update", "apps", "ns", "deployments")), Level::kRequest);
  EXPECT_EQ(LevelFor(*policy, Res("u", "update", "apps", "ns", "replicasets", "scale")), Level::kNone);
  EXPECT_EQ(LevelFor(*policy, Res("u", "get", "", "", "nodes", "", "n1")), Level::kMetadata);
  AuditAttributes admin = Res("root", "delete", "", "ns", "pods", "", "p");
  admin.groups = {"admins"};
  RuleEvaluation r = EvaluatePolicyRule(*policy, admin);
  EXPECT_EQ(r.level, Level::kRequest);
  EXPECT_EQ(r.omit_stages, std::vector<Stage>{Stage::kResponseStarted});
  EXPECT_TRUE(r.omit_managed_fields);
  EXPECT_EQ(LevelFor(*policy, Url("u", {}, "/metrics")), Level::kMetadata);
  AuditAttributes post = Url("u", {}, "/metrics");
  post.verb = "post";
  EXPECT_EQ(LevelFor(*policy, post), Level::kNone);  // no rule: None
  EXPECT_EQ(LevelFor(*policy, Res("u", "get", "rbac.authorization.k8s.io", "ns", "roles")), Level::kNone);
  // An empty policy audits nothing.
  EXPECT_EQ(LevelFor(Policy{}, Res("u", "get", "", "ns", "pods")), Level::kNone);
}

TEST(AuditPolicyTest, InvalidPoliciesNameTheProblem) {
  struct Case {
    const char* yaml;
    const char* want;
  };
  const Case cases[] = {
      {"apiVersion: audit.k8s.io/v1beta1\nkind: Policy\n", "apiVersion must be \"audit.k8s.io/v1\""},
      {"apiVersion: audit.k8s.io/v1\nkind: Pod\n", "kind must be \"Policy\""},
      {"apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Everything\n", "rules[0].level: Unsupported value"},
      {"apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- users: [a]\n", "rules[0].level: Required value"},
      {"apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [Sometime]\n", "policy.omitStages: Unsupported"},
      {"apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  nonResourceURLs: [/a*b]\n",
       "can only appear at the end"},
      {"apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  nonResourceURLs: [/a]\n  namespaces: [x]\n",
       "both regular resources and non-resource URLs"},
      {"apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  resources: [{resourceNames: [x]}]\n",
       "rules[0].resources[0].resourceNames"},
      {"apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: {a: 1}\n", "rules: must be a list"},
      {"kind: [\n", "yaml"},
  };
  for (const Case& c : cases) {
    Result<Policy> p = ParsePolicy(c.yaml);
    ASSERT_FALSE(p.ok()) << c.yaml;
    EXPECT_EQ(p.status().code(), Code::kInvalid);
    EXPECT_NE(p.status().message().find(c.want), std::string::npos) << p.status().message();
  }
  EXPECT_EQ(LoadPolicyFile("/nonexistent/policy.yaml").status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace ck::apiserver::audit
