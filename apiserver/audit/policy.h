// Audit policy (audit.k8s.io/v1 Policy, kube-apiserver --audit-policy-file): an ordered list of
// rules, each naming users, groups, verbs, resources, namespaces or non-resource URLs; the first
// rule a request matches sets its audit level, and a request no rule matches is not audited
// (level None). Matching follows upstream's policy checker:
//   - resources {group, resources, resourceNames}: "pods" does not match "pods/log"; "pods/log",
//     "*", "*/status" and "pods/*" do; a group with no resources matches all of its resources;
//   - namespaces: "" selects cluster-scoped resources;
//   - nonResourceURLs: exact, "*", or a prefix ending in "*" ("/api*").
// Top-level and per-rule omitStages are honoured (their union); omitManagedFields is parsed and
// reported but not applied to logged objects.
// Pure data and functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace ck::apiserver::audit {

enum class Level { kNone, kMetadata, kRequest, kRequestResponse };
enum class Stage { kRequestReceived, kResponseStarted, kResponseComplete, kPanic };

std::string_view LevelName(Level level);  // "None", "Metadata", "Request", "RequestResponse"
std::string_view StageName(Stage stage);  // "RequestReceived", ...
// True when `level` logs at least as much as `minimum` (Request includes Metadata).
inline bool LevelAtLeast(Level level, Level minimum) { return static_cast<int>(level) >= static_cast<int>(minimum); }

struct GroupResources {
  std::string group;                        // "" is the core group
  std::vector<std::string> resources;       // "pods", "pods/log", "*", "*/status", "pods/*"
  std::vector<std::string> resource_names;  // empty: any name
};

struct PolicyRule {
  Level level = Level::kNone;
  std::vector<std::string> users;
  std::vector<std::string> user_groups;
  std::vector<std::string> verbs;
  std::vector<GroupResources> resources;
  std::vector<std::string> namespaces;
  std::vector<std::string> non_resource_urls;
  std::vector<Stage> omit_stages;
  std::optional<bool> omit_managed_fields;
};

struct Policy {
  std::vector<PolicyRule> rules;
  std::vector<Stage> omit_stages;
  bool omit_managed_fields = false;
};

// Parses a Policy manifest (YAML or JSON). Invalid, naming the place, on a wrong kind/apiVersion
// (audit.k8s.io/v1 only), an unknown level or stage, a rule with both resources/namespaces and
// nonResourceURLs, or a non-resource URL with "*" anywhere but the end (upstream's validation).
Result<Policy> ParsePolicy(std::string_view yaml);
// The same from a file; NotFound when it cannot be read.
Result<Policy> LoadPolicyFile(const std::string& path);

// What the policy checker sees of a request (upstream authorizer.Attributes).
struct AuditAttributes {
  std::string user;
  std::vector<std::string> groups;
  std::string verb;  // get, list, watch, create, update, patch, delete, deletecollection
  bool resource_request = false;
  std::string api_group;
  std::string namespace_;
  std::string resource;
  std::string subresource;
  std::string name;
  std::string path;  // non-resource requests: "/version", "/apis"
};

struct RuleEvaluation {
  Level level = Level::kNone;
  std::vector<Stage> omit_stages;  // the policy's and the rule's, without duplicates
  bool omit_managed_fields = false;
};

// The first matching rule's level and stages to omit; Level::kNone when nothing matches.
RuleEvaluation EvaluatePolicyRule(const Policy& policy, const AuditAttributes& attributes);
inline Level LevelFor(const Policy& policy, const AuditAttributes& attributes) {
  return EvaluatePolicyRule(policy, attributes).level;
}

}  // namespace ck::apiserver::audit
