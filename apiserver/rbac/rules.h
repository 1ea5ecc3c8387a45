// PolicyRule evaluation, upstream's rbac/v1 helpers and pkg/registry/rbac/validation:
// - RuleAllows: does one rule grant a request (verbs, apiGroups, resources with "pods/log" and
//   "*/scale" subresources, resourceNames, nonResourceURLs with a trailing "*" prefix match).
//   As upstream, "pods/*" is not a wildcard: it only matches a resource literally named so.
// - Covers: do the owner's rules include every permission of the servant's rules (escalation
//   prevention), with the uncovered permissions broken down one verb/resource/name each.
// - CompactRules / CompactString: the missing-rule text of upstream's escalation message.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "apiserver/auth/auth.h"
#include "common/api/proto/rbac_v1.pb.h"

namespace ck::apiserver::rbac {

namespace rbacv1 = ::k8s::io::api::rbac::v1;
using PolicyRule = rbacv1::PolicyRule;

inline constexpr std::string_view kVerbAll = "*";
inline constexpr std::string_view kResourceAll = "*";
inline constexpr std::string_view kAPIGroupAll = "*";
inline constexpr std::string_view kNonResourceAll = "*";
inline constexpr std::string_view kRbacGroup = "rbac.authorization.k8s.io";
inline constexpr std::string_view kSystemPrivilegedGroup = "system:masters";

// `obj` as a T: itself, or a copy parsed into `scratch` when it is T from another descriptor pool;
// nullptr when it is another type.
template <typename T>
const T* As(const google::protobuf::Message& obj, T* scratch) {
  if (auto* t = dynamic_cast<const T*>(&obj)) return t;
  if (obj.GetDescriptor()->full_name() != T::descriptor()->full_name()) return nullptr;
  scratch->ParseFromString(obj.SerializeAsString());
  return scratch;
}

bool VerbMatches(const PolicyRule& rule, std::string_view verb);
bool APIGroupMatches(const PolicyRule& rule, std::string_view group);
// `combined` is "pods" or "pods/log"; `subresource` is "" or "log".
bool ResourceMatches(const PolicyRule& rule, std::string_view combined, std::string_view subresource);
// An empty resourceNames list matches every name (also the empty name of list and create).
bool ResourceNameMatches(const PolicyRule& rule, std::string_view name);
bool NonResourceURLMatches(const PolicyRule& rule, std::string_view path);
// The request attributes against one rule (resource or non-resource request).
bool RuleAllows(const Attributes& a, const PolicyRule& rule);

// One rule per (group, resource, verb[, name]) and per (url, verb).
std::vector<PolicyRule> BreakdownRule(const PolicyRule& rule);
// True when `owner` grants everything of `servant`; `uncovered` (if given) receives the broken
// down servant rules that no owner rule covers.
bool Covers(const std::vector<PolicyRule>& owner, const std::vector<PolicyRule>& servant,
            std::vector<PolicyRule>* uncovered);
// Merges rules that differ only in verbs for one group/resource/(name) (upstream CompactRules).
std::vector<PolicyRule> CompactRules(const std::vector<PolicyRule>& rules);
// `{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}` (Go's %q of each list).
std::string CompactString(const PolicyRule& rule);
// Go's %q of one string and of a []string: "a", ["a" "b"].
std::string GoQuote(std::string_view s);
std::string GoQuoteList(const std::vector<std::string>& v);

// Builders used by the bootstrap table and tests.
PolicyRule MakeRule(std::vector<std::string> verbs, std::vector<std::string> groups,
                    std::vector<std::string> resources, std::vector<std::string> names = {});
PolicyRule MakeUrlRule(std::vector<std::string> verbs, std::vector<std::string> urls);

}  // namespace ck::apiserver::rbac
