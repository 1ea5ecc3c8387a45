#include "apiserver/rbac/escalation.h"

#include <algorithm>
#include <set>

#include <google/protobuf/util/message_differencer.h>

#include "apiserver/rbac/rules.h"
#include "common/api/object.h"

namespace ck::apiserver::rbac {
namespace {

std::string ForbiddenPrefix(std::string_view qualified_resource, std::string_view name) {
  return std::string(qualified_resource) + " " + GoQuote(name) + " is forbidden: ";
}

// upstream IsOnlyMutatingGCFields: the new object equals the old one once ownerReferences,
// finalizers and managedFields are taken from the old one.
bool IsOnlyMutatingGCFields(const google::protobuf::Message& obj, const google::protobuf::Message* old) {
  if (old == nullptr || old->GetDescriptor() != obj.GetDescriptor()) return false;
  std::unique_ptr<google::protobuf::Message> copy(obj.New());
  copy->CopyFrom(obj);
  api::metav1::ObjectMeta* meta = api::MutableMetaOf(copy.get());
  const api::metav1::ObjectMeta& old_meta = api::MetaOf(*old);
  *meta->mutable_ownerreferences() = old_meta.ownerreferences();
  *meta->mutable_finalizers() = old_meta.finalizers();
  *meta->mutable_managedfields() = old_meta.managedfields();
  return google::protobuf::util::MessageDifferencer::Equivalent(*copy, *old);
}

bool Allowed(const Authorizer& chain, const UserInfo& user, std::string_view verb, std::string_view resource,
             std::string_view ns, std::string_view name, std::string_view group) {
  Attributes a;
  a.user = &user;
  a.verb = std::string(verb);
  a.resource_request = true;
  a.namespace_ = std::string(ns);
  a.api_group = std::string(group);
  a.api_version = "*";
  a.resource = std::string(resource);
  a.name = std::string(name);
  std::string reason;
  return chain.Authorize(a, &reason) == Decision::kAllow;
}

const std::vector<PolicyRule>& FullAuthority() {
  static const std::vector<PolicyRule> rules = {MakeRule({"*"}, {"*"}, {"*"}), MakeUrlRule({"*"}, {"*"})};
  return rules;
}

Status CheckRole(const RbacAuthorizer& rbac, const Authorizer& chain, const UserInfo& user,
                 const google::protobuf::RepeatedPtrField<PolicyRule>& rules, bool aggregated, bool old_aggregated,
                 std::string_view resource, std::string_view ns, std::string_view name, bool create) {
  std::string qualified = std::string(resource) + "." + std::string(kRbacGroup);
  // upstream RoleEscalationAuthorized: the request's name, which a create does not carry.
  if (Allowed(chain, user, "escalate", resource, ns, create ? "" : name, kRbacGroup)) return Status::Ok();
  Status st = ConfirmNoEscalation(rbac, user, ns, std::vector<PolicyRule>(rules.begin(), rules.end()), qualified, name);
  if (!st.ok()) return st;
  if (aggregated || old_aggregated) {
    // An aggregationRule can gather anything, so it takes every permission.
    if (!ConfirmNoEscalation(rbac, user, ns, FullAuthority(), qualified, name).ok()) {
      return Forbidden(ForbiddenPrefix(qualified, name) + "must have cluster-admin privileges to use the aggregationRule");
    }
  }
  return Status::Ok();
}

Status CheckBinding(const RbacAuthorizer& rbac, const Authorizer& chain, const UserInfo& user,
                    const rbacv1::RoleRef& ref, std::string_view resource, std::string_view ns, std::string_view name) {
  std::string qualified = std::string(resource) + "." + std::string(kRbacGroup);
  // upstream BindingAuthorized: `bind` on the referenced role, in the binding's namespace.
  std::string_view role_resource = ref.kind() == "ClusterRole" ? "clusterroles" : ref.kind() == "Role" ? "roles" : "";
  if (!role_resource.empty() && Allowed(chain, user, "bind", role_resource, ns, ref.name(), ref.apigroup())) {
    return Status::Ok();
  }
  Result<std::vector<PolicyRule>> rules = rbac.GetRoleReferenceRules(ref, ns);
  if (!rules.ok()) return Forbidden(ForbiddenPrefix(qualified, name) + rules.status().message());
  return ConfirmNoEscalation(rbac, user, ns, rules.value(), qualified, name);
}

}  // namespace

bool EscalationAllowed(const UserInfo& user) {
  return std::find(user.groups.begin(), user.groups.end(), kSystemPrivilegedGroup) != user.groups.end();
}

Status ConfirmNoEscalation(const RbacAuthorizer& rbac, const UserInfo& user, std::string_view ns,
                           const std::vector<PolicyRule>& rules, std::string_view qualified_resource,
                           std::string_view name) {
  std::vector<std::string> errors;
  std::vector<PolicyRule> owner = rbac.UserRules(user, ns, &errors);
  std::vector<PolicyRule> missing;
  if (Covers(owner, rules, &missing)) return Status::Ok();
  std::set<std::string> descriptions;  // upstream sorts them (sets.String)
  for (const PolicyRule& r : CompactRules(missing)) descriptions.insert(CompactString(r));
  std::string msg = "user " + GoQuote(user.name) + " (groups=" + GoQuoteList(user.groups) +
                    ") is attempting to grant RBAC permissions not currently held:";
  for (const std::string& d : descriptions) msg += "\n" + d;
  if (!errors.empty()) {
    msg += "; resolution errors: [";
    for (size_t i = 0; i < errors.size(); ++i) msg += (i > 0 ? " " : "") + errors[i];
    msg += "]";
  }
  return Forbidden(ForbiddenPrefix(qualified_resource, name) + msg);
}

Status CheckEscalation(const RbacAuthorizer& rbac, const Authorizer& chain, const UserInfo& user,
                       const google::protobuf::Message& obj, std::string_view ns,
                       const google::protobuf::Message* old) {
  if (EscalationAllowed(user)) return Status::Ok();
  if (IsOnlyMutatingGCFields(obj, old)) return Status::Ok();
  const api::metav1::ObjectMeta* meta = api::FindMeta(obj);
  if (meta == nullptr) return Status::Ok();
  std::string_view namespace_ = ns.empty() ? std::string_view(meta->namespace_()) : ns;
  const std::string& name = meta->name();
  bool create = old == nullptr;

  rbacv1::Role role_scratch;
  rbacv1::ClusterRole cluster_role_scratch, old_cluster_role_scratch;
  rbacv1::RoleBinding binding_scratch;
  rbacv1::ClusterRoleBinding cluster_binding_scratch;
  if (const auto* r = As(obj, &cluster_role_scratch)) {
    const rbacv1::ClusterRole* old_role = old == nullptr ? nullptr : As(*old, &old_cluster_role_scratch);
    bool old_aggregated = old_role != nullptr && old_role->has_aggregationrule();
    return CheckRole(rbac, chain, user, r->rules(), r->has_aggregationrule(), old_aggregated, "clusterroles", "", name,
                     create);
  }
  if (const auto* r = As(obj, &role_scratch)) {
    return CheckRole(rbac, chain, user, r->rules(), false, false, "roles", namespace_, name, create);
  }
  if (const auto* b = As(obj, &cluster_binding_scratch)) {
    return CheckBinding(rbac, chain, user, b->roleref(), "clusterrolebindings", "", name);
  }
  if (const auto* b = As(obj, &binding_scratch)) {
    return CheckBinding(rbac, chain, user, b->roleref(), "rolebindings", namespace_, name);
  }
  return Status::Ok();
}

}  // namespace ck::apiserver::rbac
