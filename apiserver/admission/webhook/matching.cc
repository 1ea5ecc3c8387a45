#include "apiserver/admission/webhook/matching.h"

#include <algorithm>

#include "common/api/object.h"

namespace ck::apiserver::admission::webhook {
namespace {

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::any_of(list.begin(), list.end(), [&](const std::string& s) { return s == "*" || s == value; });
}

bool IsNamespaceResource(const Attributes& a) {
  return a.resource->group.empty() && a.resource->resource == "namespaces";
}

bool ScopeMatches(const Rule& rule, const Attributes& a) {
  if (rule.scope == "*") return true;
  bool cluster = IsNamespaceResource(a) || a.namespace_.empty();
  if (rule.scope == "Namespaced") return !cluster;
  if (rule.scope == "Cluster") return cluster;
  return false;
}

bool ResourceMatches(const Rule& rule, const Attributes& a) {
  for (const std::string& entry : rule.resources) {
    std::string_view res = entry, sub;
    if (auto slash = res.find('/'); slash != std::string_view::npos) {
      sub = res.substr(slash + 1);
      res = res.substr(0, slash);
    }
    bool res_match = res == "*" || res == a.resource->resource;
    bool sub_match = sub == "*" || sub == a.subresource;
    if (res_match && sub_match) return true;
  }
  return false;
}

bool LabelsMatch(const Message* object, const api::LabelSelector& selector) {
  if (object == nullptr) return false;
  const auto* meta = api::FindMeta(*object);
  return meta != nullptr && selector.Matches(meta->labels());
}

// upstream namespace.Matcher.MatchNamespaceSelector.
Result<bool> NamespaceMatches(const Hook& hook, const Attributes& a, const ObjectSource& source) {
  const bool is_namespace = IsNamespaceResource(a);
  if (!is_namespace && a.namespace_.empty()) return true;  // cluster-scoped writes are never exempted
  if (!hook.namespace_selector_error.ok()) {
    return Internal("Internal error occurred: " + hook.namespace_selector_error.message());
  }
  if (hook.namespace_selector.Empty()) return true;
  // A Namespace being written is matched on its new labels: the source does not have them yet.
  if (is_namespace && a.subresource.empty() &&
      (a.operation == Operation::kCreate || a.operation == Operation::kUpdate) && a.object != nullptr) {
    return LabelsMatch(a.object, hook.namespace_selector);
  }
  const std::string& ns = is_namespace ? a.name : a.namespace_;
  ObjectRef namespace_object = source.Get("namespaces", "", ns);
  if (namespace_object == nullptr) {
    return Internal("Internal error occurred: namespaces \"" + ns + "\" not found");
  }
  return LabelsMatch(namespace_object.get(), hook.namespace_selector);
}

}  // namespace

bool IsExemptResource(const ResourceInfo& resource) {
  if (resource.group != "admissionregistration.k8s.io") return false;
  static const char* const kExempt[] = {"validatingwebhookconfigurations", "mutatingwebhookconfigurations",
                                        "validatingadmissionpolicies",     "validatingadmissionpolicybindings",
                                        "mutatingadmissionpolicies",       "mutatingadmissionpolicybindings"};
  return std::any_of(std::begin(kExempt), std::end(kExempt), [&](const char* r) { return resource.resource == r; });
}

bool RuleMatches(const Rule& rule, const Attributes& a) {
  return ScopeMatches(rule, a) && Contains(rule.operations, OperationName(a.operation)) &&
         Contains(rule.api_groups, a.resource->group) && Contains(rule.api_versions, a.resource->version) &&
         ResourceMatches(rule, a);
}

Result<bool> ShouldCallHook(const Hook& hook, const Attributes& a, const ObjectSource& source) {
  // Rules first (cheap); selector errors only count for a webhook whose rules match, as upstream.
  if (!std::any_of(hook.rules.begin(), hook.rules.end(), [&](const Rule& r) { return RuleMatches(r, a); })) {
    return false;
  }
  Result<bool> ns = NamespaceMatches(hook, a, source);
  if (ns.ok() && !*ns) return false;
  bool object_match = true;
  if (hook.object_selector_error.ok() && !hook.object_selector.Empty()) {
    object_match = LabelsMatch(a.object, hook.object_selector) || LabelsMatch(a.old_object, hook.object_selector);
  }
  if (hook.object_selector_error.ok() && !object_match) return false;
  if (!ns.ok()) return ns.status();
  if (!hook.object_selector_error.ok()) {
    return Internal("Internal error occurred: " + hook.object_selector_error.message());
  }
  return true;
}

}  // namespace ck::apiserver::admission::webhook
