// admissionregistration.k8s.io/v1: Validating- and MutatingWebhookConfiguration
// (upstream pkg/apis/admissionregistration/validation and apiserver's webhook URL rules).
#include <type_traits>

#include "apiserver/validation/kinds.h"
#include "common/base/strings.h"

namespace ck::apiserver::validation {

namespace {

template <typename T>
using Repeated = google::protobuf::RepeatedPtrField<T>;

struct WebhookOptions {
  bool require_no_side_effects = true;
  bool require_recognized_review_version = true;
  bool require_unique_names = true;
};

bool HasWildcard(const Repeated<std::string>& v) { return std::find(v.begin(), v.end(), "*") != v.end(); }

FieldErrors ValidateResources(const Repeated<std::string>& resources, const Path& path) {
  FieldErrors errs;
  if (resources.empty()) errs.push_back(Required(path));
  std::set<std::string> res_with_wildcard_sub, sub_with_wildcard_res;
  bool double_wildcard = false, single_wildcard = false, resource_without_sub = false;
  for (int i = 0; i < resources.size(); ++i) {
    const std::string& rs = resources.Get(i);
    if (rs.empty()) {
      errs.push_back(Required(path.Index(i)));
      continue;
    }
    if (rs == "*/*") double_wildcard = true;
    if (rs == "*") single_wildcard = true;
    size_t slash = rs.find('/');
    if (slash == std::string::npos) {
      resource_without_sub = rs != "*";
      continue;
    }
    std::string res = rs.substr(0, slash), sub = rs.substr(slash + 1);
    if (res_with_wildcard_sub.count(res)) {
      errs.push_back(Invalid(path.Index(i), Q(rs), "if '" + res + "/*' is present, must not specify " + rs));
    }
    if (sub_with_wildcard_res.count(sub)) {
      errs.push_back(Invalid(path.Index(i), Q(rs), "if '*/" + sub + "' is present, must not specify " + rs));
    }
    if (sub == "*") res_with_wildcard_sub.insert(res);
    if (res == "*") sub_with_wildcard_res.insert(sub);
  }
  if (resources.size() > 1 && double_wildcard) {
    errs.push_back(Invalid(path, GoStrings(resources), "if '*/*' is present, must not specify other resources"));
  }
  if (single_wildcard && resource_without_sub) {
    errs.push_back(Invalid(path, GoStrings(resources), "if '*' is present, must not specify other resources without subresources"));
  }
  return errs;
}

FieldErrors ValidateRuleWithOperations(const admregv1::RuleWithOperations& r, const Path& path) {
  FieldErrors errs;
  if (r.operations().empty()) errs.push_back(Required(path.Child("operations")));
  if (r.operations_size() > 1 && HasWildcard(r.operations())) {
    errs.push_back(Invalid(path.Child("operations"), "[]admissionregistration.OperationType{...}",
                           "if '*' is present, must not specify other operations"));
  }
  const std::vector<std::string> kOps = {"*", "CONNECT", "CREATE", "DELETE", "UPDATE"};
  for (int i = 0; i < r.operations_size(); ++i) {
    if (std::find(kOps.begin(), kOps.end(), r.operations(i)) == kOps.end()) {
      errs.push_back(NotSupported(path.Child("operations").Index(i), Q(r.operations(i)), kOps));
    }
  }
  const auto& rule = r.rule();
  if (rule.apigroups().empty()) errs.push_back(Required(path.Child("apiGroups")));
  if (rule.apigroups_size() > 1 && HasWildcard(rule.apigroups())) {
    errs.push_back(Invalid(path.Child("apiGroups"), GoStrings(rule.apigroups()), "if '*' is present, must not specify other API groups"));
  }
  if (rule.apiversions().empty()) errs.push_back(Required(path.Child("apiVersions")));
  if (rule.apiversions_size() > 1 && HasWildcard(rule.apiversions())) {
    errs.push_back(Invalid(path.Child("apiVersions"), GoStrings(rule.apiversions()), "if '*' is present, must not specify other API versions"));
  }
  for (int i = 0; i < rule.apiversions_size(); ++i) {
    if (rule.apiversions(i).empty()) errs.push_back(Required(path.Child("apiVersions").Index(i)));
  }
  Append(errs, ValidateResources(rule.resources(), path.Child("resources")));
  if (rule.has_scope() && rule.scope() != "*" && rule.scope() != "Cluster" && rule.scope() != "Namespaced") {
    errs.push_back(NotSupported(path.Child("scope"), Q(rule.scope()), {"*", "Cluster", "Namespaced"}));
  }
  return errs;
}

// apiserver's webhook.ValidateWebhookURL with forceHttps.
FieldErrors ValidateWebhookURL(const std::string& url, const Path& path) {
  const std::string form = "; desired format: https://host[/path]";
  FieldErrors errs;
  std::string rest = url;
  std::string scheme;
  size_t colon = rest.find("://");
  if (colon != std::string::npos) {
    scheme = rest.substr(0, colon);
    rest = rest.substr(colon + 3);
  } else {
    rest.clear();  // no authority: url.Parse sees only a path
  }
  std::string fragment, query;
  size_t hash = rest.find('#');
  if (hash != std::string::npos) {
    fragment = rest.substr(hash + 1);
    rest = rest.substr(0, hash);
  }
  size_t qm = rest.find('?');
  if (qm != std::string::npos) {
    query = rest.substr(qm + 1);
    rest = rest.substr(0, qm);
  }
  std::string authority = rest.substr(0, rest.find('/'));
  std::string user;
  size_t at = authority.rfind('@');
  if (at != std::string::npos) {
    user = authority.substr(0, at);
    authority = authority.substr(at + 1);
  }
  if (scheme != "https") errs.push_back(Invalid(path, Q(scheme), "'https' is the only allowed URL scheme" + form));
  if (authority.empty()) errs.push_back(Invalid(path, Q(authority), "host must be specified" + form));
  if (at != std::string::npos) errs.push_back(Invalid(path, Q(user), "user information is not permitted in the URL"));
  if (!fragment.empty()) errs.push_back(Invalid(path, Q(fragment), "fragments are not permitted in the URL"));
  if (!query.empty()) errs.push_back(Invalid(path, Q(query), "query parameters are not permitted in the URL"));
  return errs;
}

FieldErrors ValidateWebhookService(const admregv1::ServiceReference& s, const Path& path) {
  FieldErrors errs;
  if (s.name().empty()) errs.push_back(Required(path.Child("name"), "service name is required"));
  if (s.namespace_().empty()) errs.push_back(Required(path.Child("namespace"), "service namespace is required"));
  int32_t port = s.has_port() ? s.port() : 443;
  Msgs pm = IsValidPortNum(port);
  if (!pm.empty()) errs.push_back(Invalid(path.Child("port"), Num(port), "port is not valid: " + pm[0]));
  if (!s.has_path()) return errs;
  const std::string& p = s.path();
  if (p.empty() || p == "/") return errs;
  if (p == "//") return {Invalid(path.Child("path"), Q(p), "segment[0] may not be empty")};
  if (p[0] != '/') errs.push_back(Invalid(path.Child("path"), Q(p), "must start with a '/'"));
  std::string check = p.substr(1);
  if (!check.empty() && check.back() == '/') check.pop_back();
  size_t start = 0;
  for (int i = 0;; ++i) {
    size_t slash = check.find('/', start);
    std::string step = check.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (step.empty()) {
      errs.push_back(Invalid(path.Child("path"), Q(p), "segment[" + std::to_string(i) + "] may not be empty"));
    } else {
      for (auto& m : IsDNS1123Subdomain(step)) {
        errs.push_back(Invalid(path.Child("path"), Q(p), "segment[" + std::to_string(i) + "]: " + m));
      }
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return errs;
}

FieldErrors ValidateReviewVersions(const Repeated<std::string>& versions, bool require_recognized, const Path& path) {
  FieldErrors errs;
  if (versions.empty()) return {Required(path, "must specify one of v1, v1beta1")};
  std::set<std::string> seen;
  bool accepted = false;
  for (int i = 0; i < versions.size(); ++i) {
    const std::string& v = versions.Get(i);
    if (!seen.insert(v).second) {
      errs.push_back(Invalid(path.Index(i), Q(v), "duplicate version"));
      continue;
    }
    for (auto& m : IsDNS1035Label(v)) errs.push_back(Invalid(path.Index(i), Q(v), m));
    if (v == "v1" || v == "v1beta1") accepted = true;
  }
  if (require_recognized && !accepted) errs.push_back(Invalid(path, GoStrings(versions), "must include at least one of v1, v1beta1"));
  return errs;
}

template <typename Hook>
FieldErrors ValidateWebhook(const Hook& hook, const WebhookOptions& opts, const Path& path) {
  FieldErrors errs;
  Path np = path.Child("name");
  if (hook.name().empty()) {
    errs.push_back(Required(np));
  } else {
    Msgs m = IsDNS1123Subdomain(hook.name());
    if (!m.empty()) {
      std::string joined;
      for (size_t i = 0; i < m.size(); ++i) joined += (i > 0 ? "," : "") + m[i];
      errs.push_back(Invalid(np, Q(hook.name()), joined));
    } else if (std::count(hook.name().begin(), hook.name().end(), '.') < 2) {
      errs.push_back(Invalid(np, Q(hook.name()), "should be a domain with at least three segments separated by dots"));
    }
  }
  for (int i = 0; i < hook.rules_size(); ++i) Append(errs, ValidateRuleWithOperations(hook.rules(i), path.Child("rules").Index(i)));
  if (hook.has_failurepolicy() && hook.failurepolicy() != "Fail" && hook.failurepolicy() != "Ignore") {
    errs.push_back(NotSupported(path.Child("failurePolicy"), Q(hook.failurepolicy()), {"Fail", "Ignore"}));
  }
  if (hook.has_matchpolicy() && hook.matchpolicy() != "Exact" && hook.matchpolicy() != "Equivalent") {
    errs.push_back(NotSupported(path.Child("matchPolicy"), Q(hook.matchpolicy()), {"Equivalent", "Exact"}));
  }
  std::vector<std::string> allowed = opts.require_no_side_effects ? std::vector<std::string>{"None", "NoneOnDryRun"}
                                                                  : std::vector<std::string>{"None", "NoneOnDryRun", "Some", "Unknown"};
  if (!hook.has_sideeffects()) {
    errs.push_back(Required(path.Child("sideEffects"), "must specify one of " + Join(allowed, ", ")));
  } else if (std::find(allowed.begin(), allowed.end(), hook.sideeffects()) == allowed.end()) {
    errs.push_back(NotSupported(path.Child("sideEffects"), Q(hook.sideeffects()), allowed));
  }
  if (hook.has_timeoutseconds() && (hook.timeoutseconds() > 30 || hook.timeoutseconds() < 1)) {
    errs.push_back(Invalid(path.Child("timeoutSeconds"), Num(hook.timeoutseconds()), "the timeout value must be between 1 and 30 seconds"));
  }
  if (hook.has_namespaceselector()) Append(errs, ValidateLabelSelector(&hook.namespaceselector(), path.Child("namespaceSelector")));
  if (hook.has_objectselector()) Append(errs, ValidateLabelSelector(&hook.objectselector(), path.Child("objectSelector")));
  const auto& cc = hook.clientconfig();
  Path cp = path.Child("clientConfig");
  if (cc.has_url() == cc.has_service()) {
    errs.push_back(Required(cp, "exactly one of url or service is required"));
  } else if (cc.has_url()) {
    Append(errs, ValidateWebhookURL(cc.url(), cp.Child("url")));
  } else {
    Append(errs, ValidateWebhookService(cc.service(), cp.Child("service")));
  }
  if (hook.matchconditions_size() > 64) errs.push_back(TooMany(path.Child("matchConditions"), hook.matchconditions_size(), 64));
  std::set<std::string> names;
  for (int i = 0; i < hook.matchconditions_size(); ++i) {
    const auto& mc = hook.matchconditions(i);
    Path mp = path.Child("matchConditions").Index(i);
    if (mc.name().empty()) {
      errs.push_back(Required(mp.Child("name")));
    } else {
      Append(errs, ValidateQualifiedNameField(mc.name(), mp.Child("name")));
      if (!names.insert(mc.name()).second) errs.push_back(Duplicate(mp.Child("name"), Q(mc.name())));
    }
    if (mc.expression().empty()) errs.push_back(Required(mp.Child("expression")));
  }
  return errs;
}

template <typename Config>
WebhookOptions OptionsFor(const Config* old) {
  WebhookOptions opts;
  if (old == nullptr) return opts;
  std::set<std::string> names;
  for (const auto& h : old->webhooks()) {
    if (h.has_sideeffects() && h.sideeffects() != "None" && h.sideeffects() != "NoneOnDryRun") opts.require_no_side_effects = false;
    bool recognized = std::find(h.admissionreviewversions().begin(), h.admissionreviewversions().end(), "v1") !=
                          h.admissionreviewversions().end() ||
                      std::find(h.admissionreviewversions().begin(), h.admissionreviewversions().end(), "v1beta1") !=
                          h.admissionreviewversions().end();
    if (!recognized) opts.require_recognized_review_version = false;
    if (!names.insert(h.name()).second) opts.require_unique_names = false;
  }
  return opts;
}

template <typename Config>
FieldErrors ValidateWebhookConfiguration(const Config& c, const Config* old) {
  Path meta("metadata");
  FieldErrors errs;
  if (old != nullptr) errs = ValidateMetaUpdate(c.metadata(), old->metadata(), meta, false);
  Append(errs, ValidateMeta(c.metadata(), false, NameRule::kDNSSubdomain, meta, false));
  WebhookOptions opts = OptionsFor(old);
  std::set<std::string> names;
  for (int i = 0; i < c.webhooks_size(); ++i) {
    const auto& hook = c.webhooks(i);
    Path hp = Path("webhooks").Index(i);
    Append(errs, ValidateWebhook(hook, opts, hp));
    if constexpr (std::is_same_v<Config, admregv1::MutatingWebhookConfiguration>) {
      if (hook.has_reinvocationpolicy() && hook.reinvocationpolicy() != "Never" && hook.reinvocationpolicy() != "IfNeeded") {
        errs.push_back(NotSupported(hp.Child("reinvocationPolicy"), Q(hook.reinvocationpolicy()), {"IfNeeded", "Never"}));
      }
    }
    Append(errs, ValidateReviewVersions(hook.admissionreviewversions(), opts.require_recognized_review_version,
                                        hp.Child("admissionReviewVersions")));
    if (opts.require_unique_names && !hook.name().empty() && !names.insert(hook.name()).second) {
      errs.push_back(Duplicate(hp.Child("name"), Q(hook.name())));
    }
  }
  return errs;
}

}  // namespace

FieldErrors ValidateValidatingWebhookConfiguration(const admregv1::ValidatingWebhookConfiguration& c,
                                                   const admregv1::ValidatingWebhookConfiguration* old) {
  return ValidateWebhookConfiguration(c, old);
}

FieldErrors ValidateMutatingWebhookConfiguration(const admregv1::MutatingWebhookConfiguration& c,
                                                 const admregv1::MutatingWebhookConfiguration* old) {
  return ValidateWebhookConfiguration(c, old);
}

}  // namespace ck::apiserver::validation
