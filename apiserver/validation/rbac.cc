// rbac.authorization.k8s.io/v1: Role, ClusterRole, RoleBinding, ClusterRoleBinding
// (upstream pkg/apis/rbac/validation). Names are path segments, not DNS names.
#include "apiserver/validation/kinds.h"

namespace ck::apiserver::validation {

namespace {

constexpr const char* kRbacGroup = "rbac.authorization.k8s.io";

template <typename T>
using Repeated = google::protobuf::RepeatedPtrField<T>;

FieldErrors ValidatePolicyRule(const rbacv1::PolicyRule& rule, bool namespaced, const Path& path) {
  FieldErrors errs;
  if (rule.verbs().empty()) errs.push_back(Required(path.Child("verbs"), "verbs must contain at least one value"));
  if (!rule.nonresourceurls().empty()) {
    if (namespaced) {
      errs.push_back(Invalid(path.Child("nonResourceURLs"), GoStrings(rule.nonresourceurls()),
                             "namespaced rules cannot apply to non-resource URLs"));
    }
    if (!rule.apigroups().empty() || !rule.resources().empty() || !rule.resourcenames().empty()) {
      errs.push_back(Invalid(path.Child("nonResourceURLs"), GoStrings(rule.nonresourceurls()),
                             "rules cannot apply to both regular resources and non-resource URLs"));
    }
    return errs;
  }
  if (rule.apigroups().empty()) errs.push_back(Required(path.Child("apiGroups"), "resource rules must supply at least one api group"));
  if (rule.resources().empty()) errs.push_back(Required(path.Child("resources"), "resource rules must supply at least one resource"));
  return errs;
}

FieldErrors ValidateRules(const Repeated<rbacv1::PolicyRule>& rules, bool namespaced) {
  FieldErrors errs;
  for (int i = 0; i < rules.size(); ++i) Append(errs, ValidatePolicyRule(rules.Get(i), namespaced, Path("rules").Index(i)));
  return errs;
}

FieldErrors ValidateSubject(const rbacv1::Subject& s, bool namespaced, const Path& path) {
  FieldErrors errs;
  if (s.name().empty()) errs.push_back(Required(path.Child("name")));
  if (s.kind() == "ServiceAccount") {
    if (!s.name().empty()) Append(errs, ValidateNameField(NameRule::kDNSSubdomain, s.name(), path.Child("name")));
    if (!s.apigroup().empty()) errs.push_back(NotSupported(path.Child("apiGroup"), Q(s.apigroup()), {""}));
    if (!namespaced && s.namespace_().empty()) errs.push_back(Required(path.Child("namespace")));
  } else if (s.kind() == "User" || s.kind() == "Group") {
    if (s.apigroup() != kRbacGroup) errs.push_back(NotSupported(path.Child("apiGroup"), Q(s.apigroup()), {kRbacGroup}));
  } else {
    errs.push_back(NotSupported(path.Child("kind"), Q(s.kind()), {"ServiceAccount", "User", "Group"}));
  }
  return errs;
}

std::string GoRoleRef(const rbacv1::RoleRef& r) {
  return "rbac.RoleRef{APIGroup:" + Q(r.apigroup()) + ", Kind:" + Q(r.kind()) + ", Name:" + Q(r.name()) + "}";
}

FieldErrors ValidateBinding(const ObjectMeta& meta, const rbacv1::RoleRef& ref, const Repeated<rbacv1::Subject>& subjects,
                            bool namespaced, const ObjectMeta* old_meta, const rbacv1::RoleRef* old_ref) {
  FieldErrors errs = ValidateMeta(meta, namespaced, NameRule::kPathSegment, Path("metadata"));
  Path rp("roleRef");
  if (ref.apigroup() != kRbacGroup) errs.push_back(NotSupported(rp.Child("apiGroup"), Q(ref.apigroup()), {kRbacGroup}));
  if (namespaced) {
    if (ref.kind() != "Role" && ref.kind() != "ClusterRole") {
      errs.push_back(NotSupported(rp.Child("kind"), Q(ref.kind()), {"Role", "ClusterRole"}));
    }
  } else if (ref.kind() != "ClusterRole") {
    errs.push_back(NotSupported(rp.Child("kind"), Q(ref.kind()), {"ClusterRole"}));
  }
  if (ref.name().empty()) {
    errs.push_back(Required(rp.Child("name")));
  } else {
    Append(errs, ValidateNameField(NameRule::kPathSegment, ref.name(), rp.Child("name")));
  }
  for (int i = 0; i < subjects.size(); ++i) Append(errs, ValidateSubject(subjects.Get(i), namespaced, Path("subjects").Index(i)));
  if (old_meta != nullptr) {
    Append(errs, ValidateMetaUpdate(meta, *old_meta, Path("metadata")));
    if (!SameMessage(ref, *old_ref)) errs.push_back(Invalid(rp, GoRoleRef(ref), "cannot change roleRef"));
  }
  return errs;
}

}  // namespace

FieldErrors ValidateRole(const rbacv1::Role& r, const rbacv1::Role* old) {
  FieldErrors errs = ValidateMeta(r.metadata(), true, NameRule::kPathSegment, Path("metadata"));
  Append(errs, ValidateRules(r.rules(), true));
  if (old != nullptr) Append(errs, ValidateMetaUpdate(r.metadata(), old->metadata(), Path("metadata")));
  return errs;
}

FieldErrors ValidateClusterRole(const rbacv1::ClusterRole& r, const rbacv1::ClusterRole* old) {
  FieldErrors errs = ValidateMeta(r.metadata(), false, NameRule::kPathSegment, Path("metadata"));
  Append(errs, ValidateRules(r.rules(), false));
  if (r.has_aggregationrule()) {
    Path sp = Path("aggregationRule").Child("clusterRoleSelectors");
    if (r.aggregationrule().clusterroleselectors().empty()) {
      errs.push_back(Required(sp, "at least one clusterRoleSelector required if aggregationRule is non-nil"));
    }
    for (int i = 0; i < r.aggregationrule().clusterroleselectors_size(); ++i) {
      const auto& sel = r.aggregationrule().clusterroleselectors(i);
      Append(errs, ValidateLabelSelector(&sel, sp.Index(i)));
      if (!Selector::From(&sel)) errs.push_back(Invalid(sp.Index(i), GoLabelSelector(sel), "invalid label selector."));
    }
  }
  if (old != nullptr) Append(errs, ValidateMetaUpdate(r.metadata(), old->metadata(), Path("metadata")));
  return errs;
}

FieldErrors ValidateRoleBinding(const rbacv1::RoleBinding& b, const rbacv1::RoleBinding* old) {
  return ValidateBinding(b.metadata(), b.roleref(), b.subjects(), true, old ? &old->metadata() : nullptr,
                         old ? &old->roleref() : nullptr);
}

FieldErrors ValidateClusterRoleBinding(const rbacv1::ClusterRoleBinding& b, const rbacv1::ClusterRoleBinding* old) {
  return ValidateBinding(b.metadata(), b.roleref(), b.subjects(), false, old ? &old->metadata() : nullptr,
                         old ? &old->roleref() : nullptr);
}

}  // namespace ck::apiserver::validation
