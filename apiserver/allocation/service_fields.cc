#include "apiserver/allocation/service_fields.h"

#include <algorithm>
#include <map>
#include <set>

#include "apiserver/allocation/range.h"

namespace ck::apiserver::allocation {

namespace {

std::string Quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

bool SameStrings(const google::protobuf::RepeatedPtrField<std::string>& a,
                 const google::protobuf::RepeatedPtrField<std::string>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

bool NeedsExternalTrafficPolicy(const corev1::ServiceSpec& s) { return NeedsNodePort(s); }

std::string_view PolicyOf(const corev1::ServiceSpec& s) {
  return s.has_ipfamilypolicy() ? std::string_view(s.ipfamilypolicy()) : std::string_view();
}

}  // namespace

bool IsServices(const ResourceInfo& r) { return r.group.empty() && r.resource == "services"; }

bool NeedsClusterIP(const corev1::ServiceSpec& s) { return s.type() != "ExternalName"; }

bool IsHeadless(const corev1::ServiceSpec& s) {
  return s.clusterips_size() > 0 ? s.clusterips(0) == "None" : s.clusterip() == "None";
}

bool NeedsNodePort(const corev1::ServiceSpec& s) { return s.type() == "NodePort" || s.type() == "LoadBalancer"; }

bool NeedsHealthCheckNodePort(const corev1::ServiceSpec& s) {
  return s.type() == "LoadBalancer" && s.externaltrafficpolicy() == "Local";
}

bool ShouldAllocateNodePorts(const corev1::ServiceSpec& s) {
  if (s.type() == "NodePort") return true;
  if (s.type() == "LoadBalancer") return !s.has_allocateloadbalancernodeports() || s.allocateloadbalancernodeports();
  return false;
}

std::vector<int32_t> NodePortsOf(const corev1::ServiceSpec& s) {
  std::vector<int32_t> out;
  for (const auto& p : s.ports()) {
    if (p.nodeport() != 0) out.push_back(p.nodeport());
  }
  return out;
}

std::string OwnerOf(const metav1::ObjectMeta& meta) {
  std::string out = meta.namespace_() + "/" + meta.name();
  if (!meta.uid().empty()) out += "/" + meta.uid();
  return out;
}

bool SameOwner(std::string_view a, std::string_view b) {
  auto split = [](std::string_view v) {
    size_t first = v.find('/');
    size_t second = first == std::string_view::npos ? std::string_view::npos : v.find('/', first + 1);
    std::string_view name = second == std::string_view::npos ? v : v.substr(0, second);
    std::string_view uid = second == std::string_view::npos ? std::string_view() : v.substr(second + 1);
    return std::pair(name, uid);
  };
  auto [name_a, uid_a] = split(a);
  auto [name_b, uid_b] = split(b);
  return name_a == name_b && (uid_a.empty() || uid_b.empty() || uid_a == uid_b);
}

std::string GoStrings(const google::protobuf::RepeatedPtrField<std::string>& values) {
  if (values.empty()) return "[]string(nil)";
  std::string out = "[]string{";
  for (int i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    out += Quoted(values.Get(i));
  }
  return out + "}";
}

Status InvalidErrors(const corev1::Service& svc, const FieldErrors& errors, ErrorDetails* details) {
  if (details) {
    *details = {};
    details->name = svc.metadata().name();
    details->kind = "Service";
    for (const auto& e : errors) details->causes.push_back({e.Reason(), e.Message(), e.field});
  }
  return Invalid(InvalidMessage("Service", svc.metadata().name(), errors));
}

Status InitIpFamilies(corev1::Service* svc, ErrorDetails* details) {
  auto* s = svc->mutable_spec();
  if (!NeedsClusterIP(*s)) return Status::Ok();
  bool headless_selectorless = IsHeadless(*s) && s->selector().empty();
  if (!s->has_ipfamilypolicy()) s->set_ipfamilypolicy(headless_selectorless ? "RequireDualStack" : "SingleStack");
  const std::string policy = s->ipfamilypolicy();
  FieldErrors errs;
  if (policy == "SingleStack") {
    if (s->clusterips_size() == 2) {
      errs.push_back({FieldError::Type::kInvalid, "spec.ipFamilyPolicy", Quoted(policy),
                      "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"});
    }
    if (s->ipfamilies_size() == 2) {
      errs.push_back({FieldError::Type::kInvalid, "spec.ipFamilyPolicy", Quoted(policy),
                      "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"});
    }
  }
  // Infer ipFamilies[] from clusterIPs[]; an address that is neither family is left to validation.
  for (int i = 0; i < s->clusterips_size(); ++i) {
    const std::string& ip = s->clusterips(i);
    if (ip == "None") break;
    if (i < s->ipfamilies_size()) continue;
    if (ParseIpv4(ip)) {
      s->add_ipfamilies("IPv4");
    } else if (ip.find(':') != std::string::npos) {
      errs.push_back({FieldError::Type::kInvalid, "spec.clusterIPs[" + std::to_string(i) + "]",
                      GoStrings(s->clusterips()), "IPv6 is not configured on this cluster"});
    }
  }
  if (!errs.empty()) return InvalidErrors(*svc, errs, details);

  // A headless Service without selector may carry both families on any cluster.
  if (headless_selectorless) {
    if (s->ipfamilies().empty()) s->add_ipfamilies("IPv4");
    if (s->ipfamilies_size() < 2 && policy != "SingleStack") {
      s->add_ipfamilies(s->ipfamilies(0) == "IPv4" ? "IPv6" : "IPv4");
    }
    return Status::Ok();
  }
  if (policy == "RequireDualStack") {
    errs.push_back({FieldError::Type::kInvalid, "spec.ipFamilyPolicy", Quoted(policy),
                    "this cluster is not configured for dual-stack services"});
  }
  for (int i = 0; i < s->ipfamilies_size(); ++i) {
    // Only IPv6 is a real family we lack; other values are validation's to report.
    if (s->ipfamilies(i) == "IPv6") {
      errs.push_back({FieldError::Type::kInvalid, "spec.ipFamilies[" + std::to_string(i) + "]",
                      Quoted(s->ipfamilies(i)), "not configured on this cluster"});
    }
  }
  if (!errs.empty()) return InvalidErrors(*svc, errs, details);
  if (s->ipfamilies().empty()) s->add_ipfamilies("IPv4");
  return Status::Ok();
}

void PatchAllocatedValues(corev1::Service* svc, const corev1::Service& old) {
  auto* s = svc->mutable_spec();
  const auto& o = old.spec();
  if (NeedsClusterIP(o) && NeedsClusterIP(*s)) {
    if (s->clusterip().empty()) s->set_clusterip(o.clusterip());
    if (s->clusterips().empty() && !o.clusterips().empty()) *s->mutable_clusterips() = o.clusterips();
  }
  if (NeedsNodePort(o) && NeedsNodePort(*s)) {
    // nodePorts both objects hold cannot be patched into another port.
    std::vector<int32_t> old_ports = NodePortsOf(o), new_ports = NodePortsOf(*s);
    std::set<int32_t> used;
    for (int32_t p : old_ports) {
      if (std::find(new_ports.begin(), new_ports.end(), p) != new_ports.end()) used.insert(p);
    }
    std::map<std::string, int32_t> by_name;
    for (const auto& p : o.ports()) by_name[p.name()] = p.nodeport();
    for (auto& p : *s->mutable_ports()) {
      if (p.nodeport() != 0) continue;
      auto it = by_name.find(p.name());
      if (it != by_name.end() && !used.count(it->second)) p.set_nodeport(it->second);
    }
  }
  if (NeedsHealthCheckNodePort(o) && NeedsHealthCheckNodePort(*s) && s->healthchecknodeport() == 0) {
    s->set_healthchecknodeport(o.healthchecknodeport());
  }
}

void DropTypeDependentFields(corev1::Service* svc, const corev1::Service& old) {
  auto* s = svc->mutable_spec();
  const auto& o = old.spec();
  if (NeedsClusterIP(o) && !NeedsClusterIP(*s)) {
    if (o.clusterip() == s->clusterip() && SameStrings(o.clusterips(), s->clusterips())) {
      s->clear_clusterip();
      s->clear_clusterips();
    }
    if (SameStrings(o.ipfamilies(), s->ipfamilies())) s->clear_ipfamilies();
    if (PolicyOf(o) == PolicyOf(*s)) s->clear_ipfamilypolicy();
  }
  if (NeedsNodePort(o) && !NeedsNodePort(*s)) {
    // "The same" means no net-new nodePort: users may drop or move ports.
    std::vector<int32_t> old_ports = NodePortsOf(o);
    bool same = true;
    for (int32_t p : NodePortsOf(*s)) same = same && std::find(old_ports.begin(), old_ports.end(), p) != old_ports.end();
    if (same) {
      for (auto& p : *s->mutable_ports()) p.clear_nodeport();
    }
  }
  if (NeedsHealthCheckNodePort(o) && !NeedsHealthCheckNodePort(*s) && o.healthchecknodeport() == s->healthchecknodeport()) {
    s->clear_healthchecknodeport();
  }
  if (o.type() == "LoadBalancer" && s->type() != "LoadBalancer") {
    if (o.has_allocateloadbalancernodeports() && s->has_allocateloadbalancernodeports() &&
        o.allocateloadbalancernodeports() == s->allocateloadbalancernodeports()) {
      s->clear_allocateloadbalancernodeports();
    }
    if (o.has_loadbalancerclass() == s->has_loadbalancerclass() && o.loadbalancerclass() == s->loadbalancerclass()) {
      s->clear_loadbalancerclass();
    }
  }
  if (NeedsExternalTrafficPolicy(o) && !NeedsExternalTrafficPolicy(*s) &&
      o.externaltrafficpolicy() == s->externaltrafficpolicy()) {
    s->clear_externaltrafficpolicy();
  }
  if (s->type() != "LoadBalancer" && svc->status().loadbalancer().ingress_size() > 0) {
    svc->mutable_status()->mutable_loadbalancer()->clear_ingress();
  }
}

}  // namespace ck::apiserver::allocation
