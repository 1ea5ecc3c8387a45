#include "apiserver/audit/policy.h"

#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/api/yaml.h"

namespace ck::apiserver::audit {

namespace {

using simdjson::dom::element;

constexpr std::string_view kLevels[] = {"None", "Metadata", "Request", "RequestResponse"};
constexpr std::string_view kStages[] = {"RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"};

Status Bad(const std::string& where, const std::string& what) { return Invalid("audit policy: " + where + ": " + what); }

Result<std::string> StringAt(element e, const std::string& where) {
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS) return Bad(where, "must be a string");
  return std::string(s);
}

// A list of strings; a missing or null member is empty.
Result<std::vector<std::string>> Strings(element object, std::string_view key, const std::string& where) {
  std::vector<std::string> out;
  element value;
  if (object[key].get(value) != simdjson::SUCCESS || value.is_null()) return out;
  simdjson::dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS) return Bad(where + "." + std::string(key), "must be a list");
  size_t i = 0;
  for (element item : array) {
    CK_ASSIGN_OR_RETURN(std::string s, StringAt(item, where + "." + std::string(key) + "[" + std::to_string(i++) + "]"));
    out.push_back(std::move(s));
  }
  return out;
}

Result<Level> ParseLevel(const std::string& s, const std::string& where) {
  for (size_t i = 0; i < std::size(kLevels); ++i) {
    if (kLevels[i] == s) return static_cast<Level>(i);
  }
  return Bad(where, "Unsupported value: \"" + s +
                        "\": supported values: \"None\", \"Metadata\", \"Request\", \"RequestResponse\"");
}

Result<std::vector<Stage>> ParseStages(element object, const std::string& where) {
  CK_ASSIGN_OR_RETURN(std::vector<std::string> names, Strings(object, "omitStages", where));
  std::vector<Stage> out;
  for (const std::string& name : names) {
    auto it = std::find(std::begin(kStages), std::end(kStages), name);
    if (it == std::end(kStages)) {
      return Bad(where + ".omitStages", "Unsupported value: \"" + name +
                                            "\": supported values: \"RequestReceived\", \"ResponseStarted\", "
                                            "\"ResponseComplete\", \"Panic\"");
    }
    out.push_back(static_cast<Stage>(it - std::begin(kStages)));
  }
  return out;
}

Result<std::optional<bool>> OptionalBool(element object, std::string_view key, const std::string& where) {
  element value;
  if (object[key].get(value) != simdjson::SUCCESS || value.is_null()) return std::optional<bool>();
  bool b = false;
  if (value.get_bool().get(b) != simdjson::SUCCESS) return Bad(where + "." + std::string(key), "must be a boolean");
  return std::optional<bool>(b);
}

Result<PolicyRule> ParseRule(element e, const std::string& where) {
  if (!e.is_object()) return Bad(where, "must be an object");
  PolicyRule rule;
  element level;
  if (e["level"].get(level) != simdjson::SUCCESS) return Bad(where + ".level", "Required value");
  CK_ASSIGN_OR_RETURN(std::string level_name, StringAt(level, where + ".level"));
  CK_ASSIGN_OR_RETURN(rule.level, ParseLevel(level_name, where + ".level"));
  CK_ASSIGN_OR_RETURN(rule.users, Strings(e, "users", where));
  CK_ASSIGN_OR_RETURN(rule.user_groups, Strings(e, "userGroups", where));
  CK_ASSIGN_OR_RETURN(rule.verbs, Strings(e, "verbs", where));
  CK_ASSIGN_OR_RETURN(rule.namespaces, Strings(e, "namespaces", where));
  CK_ASSIGN_OR_RETURN(rule.non_resource_urls, Strings(e, "nonResourceURLs", where));
  CK_ASSIGN_OR_RETURN(rule.omit_stages, ParseStages(e, where));
  CK_ASSIGN_OR_RETURN(rule.omit_managed_fields, OptionalBool(e, "omitManagedFields", where));
  element resources;
  if (e["resources"].get(resources) == simdjson::SUCCESS && !resources.is_null()) {
    simdjson::dom::array array;
    if (resources.get_array().get(array) != simdjson::SUCCESS) return Bad(where + ".resources", "must be a list");
    size_t i = 0;
    for (element gr : array) {
      std::string at = where + ".resources[" + std::to_string(i++) + "]";
      if (!gr.is_object()) return Bad(at, "must be an object");
      GroupResources g;
      element group;
      if (gr["group"].get(group) == simdjson::SUCCESS && !group.is_null()) {
        CK_ASSIGN_OR_RETURN(g.group, StringAt(group, at + ".group"));
      }
      CK_ASSIGN_OR_RETURN(g.resources, Strings(gr, "resources", at));
      CK_ASSIGN_OR_RETURN(g.resource_names, Strings(gr, "resourceNames", at));
      if (!g.resource_names.empty() && g.resources.empty()) {
        return Bad(at + ".resourceNames", "using resourceNames requires at least one resource");
      }
      rule.resources.push_back(std::move(g));
    }
  }
  if (!rule.non_resource_urls.empty() && (!rule.resources.empty() || !rule.namespaces.empty())) {
    return Bad(where + ".nonResourceURLs", "rules cannot apply to both regular resources and non-resource URLs");
  }
  for (const std::string& url : rule.non_resource_urls) {
    size_t star = url.find('*');
    if (star != std::string::npos && star != url.size() - 1) {
      return Bad(where + ".nonResourceURLs", "\"" + url + "\": \"*\" can only appear at the end");
    }
  }
  return rule;
}

bool Has(const std::vector<std::string>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

bool MatchesResource(const PolicyRule& r, const AuditAttributes& a) {
  if (!a.resource_request) return false;
  if (!r.namespaces.empty() && !Has(r.namespaces, a.namespace_)) return false;
  if (r.resources.empty()) return true;
  std::string combined = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  for (const GroupResources& gr : r.resources) {
    if (gr.group != a.api_group) continue;
    if (gr.resources.empty()) return true;
    if (!gr.resource_names.empty() && !Has(gr.resource_names, a.name)) continue;
    for (const std::string& res : gr.resources) {
      if (res == combined || res == "*") return true;
      if (!a.subresource.empty() && res.starts_with("*/") && res.substr(2) == a.subresource) return true;
      if (res.ends_with("/*") && res.substr(0, res.size() - 2) == a.resource) return true;
    }
  }
  return false;
}

bool MatchesNonResource(const PolicyRule& r, const AuditAttributes& a) {
  if (a.resource_request) return false;
  for (const std::string& spec : r.non_resource_urls) {
    if (spec == "*" || spec == a.path) return true;
    if (spec.ends_with("*") && a.path.starts_with(std::string_view(spec).substr(0, spec.size() - 1))) return true;
  }
  return false;
}

bool RuleMatches(const PolicyRule& r, const AuditAttributes& a) {
  if (!r.users.empty() && !Has(r.users, a.user)) return false;
  if (!r.user_groups.empty() &&
      std::none_of(a.groups.begin(), a.groups.end(), [&](const std::string& g) { return Has(r.user_groups, g); })) {
    return false;
  }
  if (!r.verbs.empty() && !Has(r.verbs, a.verb)) return false;
  if (!r.namespaces.empty() || !r.resources.empty()) return MatchesResource(r, a);
  if (!r.non_resource_urls.empty()) return MatchesNonResource(r, a);
  return true;
}

}  // namespace

std::string_view LevelName(Level level) { return kLevels[static_cast<int>(level)]; }
std::string_view StageName(Stage stage) { return kStages[static_cast<int>(stage)]; }

Result<Policy> ParsePolicy(std::string_view yaml) {
  Result<std::string> json = api::YamlToJson(yaml);
  if (!json.ok()) return Invalid("audit policy: " + json.status().message());
  simdjson::dom::parser parser;
  element doc;
  if (parser.parse(*json).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return Invalid("audit policy: not an object");
  }
  element kind, api_version;
  std::string_view kind_s, version_s;
  if (doc["kind"].get(kind) != simdjson::SUCCESS || kind.get_string().get(kind_s) != simdjson::SUCCESS ||
      kind_s != "Policy") {
    return Invalid("audit policy: kind must be \"Policy\"");
  }
  if (doc["apiVersion"].get(api_version) != simdjson::SUCCESS ||
      api_version.get_string().get(version_s) != simdjson::SUCCESS || version_s != "audit.k8s.io/v1") {
    return Invalid("audit policy: apiVersion must be \"audit.k8s.io/v1\", got \"" + std::string(version_s) + "\"");
  }
  Policy policy;
  CK_ASSIGN_OR_RETURN(policy.omit_stages, ParseStages(doc, "policy"));
  CK_ASSIGN_OR_RETURN(std::optional<bool> omit_managed, OptionalBool(doc, "omitManagedFields", "policy"));
  policy.omit_managed_fields = omit_managed.value_or(false);
  element rules;
  if (doc["rules"].get(rules) == simdjson::SUCCESS && !rules.is_null()) {
    simdjson::dom::array array;
    if (rules.get_array().get(array) != simdjson::SUCCESS) return Invalid("audit policy: rules: must be a list");
    size_t i = 0;
    for (element rule : array) {
      CK_ASSIGN_OR_RETURN(PolicyRule parsed, ParseRule(rule, "rules[" + std::to_string(i++) + "]"));
      policy.rules.push_back(std::move(parsed));
    }
  }
  return policy;
}

Result<Policy> LoadPolicyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("audit policy: cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  Result<Policy> policy = ParsePolicy(ss.str());
  if (!policy.ok()) return Invalid(path + ": " + policy.status().message());
  return policy;
}

RuleEvaluation EvaluatePolicyRule(const Policy& policy, const AuditAttributes& attributes) {
  RuleEvaluation out;
  for (const PolicyRule& rule : policy.rules) {
    if (!RuleMatches(rule, attributes)) continue;
    out.level = rule.level;
    out.omit_stages = policy.omit_stages;
    for (Stage s : rule.omit_stages) {
      if (std::find(out.omit_stages.begin(), out.omit_stages.end(), s) == out.omit_stages.end()) {
        out.omit_stages.push_back(s);
      }
    }
    out.omit_managed_fields = rule.omit_managed_fields.value_or(policy.omit_managed_fields);
    return out;
  }
  return out;
}

}  // namespace ck::apiserver::audit
