#include "apiserver/rbac/rbac_authorizer.h"

#include <algorithm>
#include <mutex>

#include "common/api/object.h"

namespace ck::apiserver::rbac {
namespace {

constexpr std::string_view kServiceAccountPrefix = "system:serviceaccount:";

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;
template <typename V>
using SortedMap = std::map<std::string, V, std::less<>>;

// A RoleBinding (ns != "") or ClusterRoleBinding (ns == "") as the authorizer needs it.
struct Binding {
  std::string name, ns;
  rbacv1::RoleRef ref;
  std::vector<rbacv1::Subject> subjects;
};

// The user name a subject names: User -> its name, ServiceAccount -> its service account user
// name (namespace defaults to the RoleBinding's). "" when the subject cannot match a user by name.
std::string SubjectUser(const rbacv1::Subject& s, std::string_view binding_ns) {
  if (s.kind() == "User") return s.name();
  if (s.kind() == "ServiceAccount") {
    std::string_view ns = s.namespace_().empty() ? binding_ns : std::string_view(s.namespace_());
    if (ns.empty()) return "";
    return std::string(kServiceAccountPrefix) + std::string(ns) + ":" + s.name();
  }
  return "";
}

// upstream appliesToUser; compares in place (this runs for every candidate binding).
bool SubjectApplies(const rbacv1::Subject& s, const UserInfo& user, std::string_view binding_ns) {
  if (s.kind() == "Group") {
    return std::find(user.groups.begin(), user.groups.end(), s.name()) != user.groups.end();
  }
  if (s.kind() == "User") return s.name() == user.name;
  if (s.kind() != "ServiceAccount") return false;
  std::string_view ns = s.namespace_().empty() ? binding_ns : std::string_view(s.namespace_());
  if (ns.empty()) return false;
  std::string_view rest = user.name;  // "system:serviceaccount:<ns>:<name>"
  if (!rest.starts_with(kServiceAccountPrefix)) return false;
  rest.remove_prefix(kServiceAccountPrefix.size());
  if (!rest.starts_with(ns)) return false;
  rest.remove_prefix(ns.size());
  if (!rest.starts_with(':')) return false;
  rest.remove_prefix(1);
  return rest == s.name();
}

std::string DescribeSubject(const rbacv1::Subject& s, std::string_view binding_ns) {
  if (s.kind() == "ServiceAccount") {
    std::string ns = s.namespace_().empty() ? std::string(binding_ns) : s.namespace_();
    return s.kind() + " " + GoQuote(s.name() + "/" + ns);
  }
  return s.kind() + " " + GoQuote(s.name());
}

// upstream clusterRoleBindingDescriber / roleBindingDescriber.
std::string DescribeBinding(const Binding& b, const rbacv1::Subject& s) {
  std::string out = b.ns.empty() ? "ClusterRoleBinding " + GoQuote(b.name) : "RoleBinding " + GoQuote(b.name + "/" + b.ns);
  return out + " of " + b.ref.kind() + " " + GoQuote(b.ref.name()) + " to " + DescribeSubject(s, b.ns);
}

// Bindings by the user names and groups their subjects name.
struct Index {
  StringMap<std::vector<const Binding*>> by_user, by_group;

  static void Erase(StringMap<std::vector<const Binding*>>* m, const std::string& key, const Binding* b) {
    auto it = m->find(key);
    if (it == m->end()) return;
    std::erase(it->second, b);
    if (it->second.empty()) m->erase(it);
  }
  void Add(const Binding* b) {
    for (const rbacv1::Subject& s : b->subjects) {
      if (s.kind() == "Group") {
        by_group[s.name()].push_back(b);
      } else if (std::string user = SubjectUser(s, b->ns); !user.empty()) {
        by_user[user].push_back(b);
      }
    }
  }
  void Remove(const Binding* b) {
    for (const rbacv1::Subject& s : b->subjects) {
      if (s.kind() == "Group") {
        Erase(&by_group, s.name(), b);
      } else if (std::string user = SubjectUser(s, b->ns); !user.empty()) {
        Erase(&by_user, user, b);
      }
    }
  }
  bool empty() const { return by_user.empty() && by_group.empty(); }

  // The bindings naming the user or one of its groups, by name, each once.
  std::vector<const Binding*> Candidates(const UserInfo& user) const {
    std::vector<const Binding*> out;
    auto add = [&](const StringMap<std::vector<const Binding*>>& m, std::string_view key) {
      auto it = m.find(key);
      if (it != m.end()) out.insert(out.end(), it->second.begin(), it->second.end());
    };
    add(by_user, user.name);
    for (const std::string& g : user.groups) add(by_group, g);
    std::sort(out.begin(), out.end(), [](const Binding* a, const Binding* b) { return a->name < b->name; });
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }
};

std::vector<PolicyRule> RulesOf(const google::protobuf::RepeatedPtrField<PolicyRule>& rules) {
  return std::vector<PolicyRule>(rules.begin(), rules.end());
}

std::string AggregateErrors(const std::vector<std::string>& errors) {
  // utilerrors.NewAggregate: one message alone, several as "[a, b]" (duplicates once).
  std::vector<std::string> unique;
  for (const std::string& e : errors) {
    if (std::find(unique.begin(), unique.end(), e) == unique.end()) unique.push_back(e);
  }
  if (unique.size() == 1) return unique[0];
  std::string out = "[";
  for (size_t i = 0; i < unique.size(); ++i) out += (i > 0 ? ", " : "") + unique[i];
  return out + "]";
}

}  // namespace

struct RbacAuthorizer::State {
  SortedMap<std::vector<PolicyRule>> cluster_roles;
  SortedMap<SortedMap<std::vector<PolicyRule>>> roles;  // namespace -> name -> rules
  SortedMap<std::unique_ptr<Binding>> cluster_bindings;
  SortedMap<SortedMap<std::unique_ptr<Binding>>> role_bindings;  // namespace -> name -> binding
  Index cluster_index;
  StringMap<Index> ns_index;

  // The role a binding points at, or the lister's NotFound text in *error.
  const std::vector<PolicyRule>* Resolve(const rbacv1::RoleRef& ref, std::string_view ns, std::string* error) const {
    if (ref.kind() == "ClusterRole") {
      auto it = cluster_roles.find(ref.name());
      if (it != cluster_roles.end()) return &it->second;
      *error = "clusterrole.rbac.authorization.k8s.io " + GoQuote(ref.name()) + " not found";
      return nullptr;
    }
    if (ref.kind() == "Role") {
      auto nsit = roles.find(ns);
      if (nsit != roles.end()) {
        auto it = nsit->second.find(ref.name());
        if (it != nsit->second.end()) return &it->second;
      }
      *error = "role.rbac.authorization.k8s.io " + GoQuote(ref.name()) + " not found";
      return nullptr;
    }
    *error = "unsupported role reference kind: " + GoQuote(ref.kind());
    return nullptr;
  }

  // upstream VisitRulesFor: ClusterRoleBindings, then the RoleBindings of `ns`. The visitor
  // returns false to stop.
  template <typename Visitor>
  void Visit(const UserInfo& user, std::string_view ns, Visitor&& visit) const {
    auto walk = [&](const Index& index) {
      for (const Binding* b : index.Candidates(user)) {
        const rbacv1::Subject* subject = nullptr;
        for (const rbacv1::Subject& s : b->subjects) {
          if (SubjectApplies(s, user, b->ns)) {
            subject = &s;
            break;
          }
        }
        if (subject == nullptr) continue;  // indexed under a user/group this user only shares by name
        std::string error;
        const std::vector<PolicyRule>* rules = Resolve(b->ref, b->ns, &error);
        if (!visit(*b, *subject, rules, error)) return false;
      }
      return true;
    };
    if (!walk(cluster_index)) return;
    if (ns.empty()) return;
    auto it = ns_index.find(ns);
    if (it != ns_index.end()) walk(it->second);
  }
};

RbacAuthorizer::RbacAuthorizer() : state_(std::make_unique<State>()) {}
RbacAuthorizer::~RbacAuthorizer() = default;

bool RbacAuthorizer::Upsert(const google::protobuf::Message& obj) {
  rbacv1::Role role_scratch;
  rbacv1::ClusterRole cluster_role_scratch;
  rbacv1::RoleBinding binding_scratch;
  rbacv1::ClusterRoleBinding cluster_binding_scratch;
  std::unique_lock lock(mu_);
  State& s = *state_;
  if (const auto* r = As(obj, &cluster_role_scratch)) {
    s.cluster_roles[r->metadata().name()] = RulesOf(r->rules());
    return true;
  }
  if (const auto* r = As(obj, &role_scratch)) {
    s.roles[r->metadata().namespace_()][r->metadata().name()] = RulesOf(r->rules());
    return true;
  }
  auto make = [](const auto& src, std::string ns) {
    auto b = std::make_unique<Binding>();
    b->name = src.metadata().name();
    b->ns = std::move(ns);
    b->ref = src.roleref();
    b->subjects.assign(src.subjects().begin(), src.subjects().end());
    return b;
  };
  if (const auto* rb = As(obj, &cluster_binding_scratch)) {
    std::unique_ptr<Binding>& slot = s.cluster_bindings[rb->metadata().name()];
    if (slot) s.cluster_index.Remove(slot.get());
    slot = make(*rb, "");
    s.cluster_index.Add(slot.get());
    return true;
  }
  if (const auto* rb = As(obj, &binding_scratch)) {
    const std::string& ns = rb->metadata().namespace_();
    std::unique_ptr<Binding>& slot = s.role_bindings[ns][rb->metadata().name()];
    Index& index = s.ns_index[ns];
    if (slot) index.Remove(slot.get());
    slot = make(*rb, ns);
    index.Add(slot.get());
    return true;
  }
  return false;
}

void RbacAuthorizer::Remove(std::string_view kind, std::string_view ns, std::string_view name) {
  std::unique_lock lock(mu_);
  State& s = *state_;
  if (kind == "ClusterRole") {
    if (auto it = s.cluster_roles.find(name); it != s.cluster_roles.end()) s.cluster_roles.erase(it);
  } else if (kind == "Role") {
    auto nsit = s.roles.find(ns);
    if (nsit == s.roles.end()) return;
    if (auto it = nsit->second.find(name); it != nsit->second.end()) nsit->second.erase(it);
    if (nsit->second.empty()) s.roles.erase(nsit);
  } else if (kind == "ClusterRoleBinding") {
    auto it = s.cluster_bindings.find(name);
    if (it == s.cluster_bindings.end()) return;
    s.cluster_index.Remove(it->second.get());
    s.cluster_bindings.erase(it);
  } else if (kind == "RoleBinding") {
    auto nsit = s.role_bindings.find(ns);
    if (nsit == s.role_bindings.end()) return;
    auto it = nsit->second.find(name);
    if (it == nsit->second.end()) return;
    auto idx = s.ns_index.find(ns);
    CK_CHECK(idx != s.ns_index.end()) << "RoleBinding " << name << " has no index for namespace " << ns;
    idx->second.Remove(it->second.get());
    if (idx->second.empty()) s.ns_index.erase(idx);
    nsit->second.erase(it);
    if (nsit->second.empty()) s.role_bindings.erase(nsit);
  }
}

Decision RbacAuthorizer::Authorize(const Attributes& a, std::string* reason) const {
  if (a.user == nullptr) return Decision::kNoOpinion;
  std::shared_lock lock(mu_);
  std::vector<std::string> errors;
  bool allowed = false;
  state_->Visit(*a.user, a.namespace_,
                [&](const Binding& b, const rbacv1::Subject& subject, const std::vector<PolicyRule>* rules,
                    const std::string& error) {
                  if (rules == nullptr) {
                    errors.push_back(error);
                    return true;
                  }
                  for (const PolicyRule& rule : *rules) {
                    if (RuleAllows(a, rule)) {
                      allowed = true;
                      if (reason != nullptr) *reason = "RBAC: allowed by " + DescribeBinding(b, subject);
                      return false;
                    }
                  }
                  return true;
                });
  if (allowed) return Decision::kAllow;
  if (reason != nullptr) *reason = errors.empty() ? "" : "RBAC: " + AggregateErrors(errors);
  return Decision::kNoOpinion;
}

std::vector<PolicyRule> RbacAuthorizer::UserRules(const UserInfo& user, std::string_view ns,
                                                  std::vector<std::string>* errors) const {
  std::shared_lock lock(mu_);
  std::vector<PolicyRule> out;
  state_->Visit(user, ns,
                [&](const Binding&, const rbacv1::Subject&, const std::vector<PolicyRule>* rules, const std::string& error) {
                  if (rules == nullptr) {
                    if (errors != nullptr) errors->push_back(error);
                  } else {
                    out.insert(out.end(), rules->begin(), rules->end());
                  }
                  return true;
                });
  return out;
}

RulesReview RbacAuthorizer::RulesFor(const UserInfo& user, std::string_view ns) const {
  std::vector<std::string> errors;
  RulesReview review;
  for (PolicyRule& rule : UserRules(user, ns, &errors)) {
    if (!rule.resources().empty()) {
      PolicyRule r = rule;
      r.clear_nonresourceurls();
      review.resource_rules.push_back(std::move(r));
    }
    if (!rule.nonresourceurls().empty()) {
      PolicyRule r;
      *r.mutable_verbs() = rule.verbs();
      *r.mutable_nonresourceurls() = rule.nonresourceurls();
      review.non_resource_rules.push_back(std::move(r));
    }
  }
  if (!errors.empty()) review.evaluation_error = AggregateErrors(errors);
  return review;
}

Result<std::vector<PolicyRule>> RbacAuthorizer::GetRoleReferenceRules(const rbacv1::RoleRef& ref,
                                                                      std::string_view binding_ns) const {
  std::shared_lock lock(mu_);
  std::string error;
  const std::vector<PolicyRule>* rules = state_->Resolve(ref, binding_ns, &error);
  if (rules == nullptr) return NotFound(error);
  return *rules;
}

size_t RbacAuthorizer::binding_count() const {
  std::shared_lock lock(mu_);
  size_t n = state_->cluster_bindings.size();
  for (const auto& [ns, m] : state_->role_bindings) n += m.size();
  return n;
}

size_t RbacAuthorizer::role_count() const {
  std::shared_lock lock(mu_);
  size_t n = state_->cluster_roles.size();
  for (const auto& [ns, m] : state_->roles) n += m.size();
  return n;
}

}  // namespace ck::apiserver::rbac
