// networking.k8s.io/v1: Ingress, IngressClass, NetworkPolicy (upstream pkg/apis/networking/validation).
#include "apiserver/validation/kinds.h"

namespace ck::apiserver::validation {

namespace {

template <typename T>
using Repeated = google::protobuf::RepeatedPtrField<T>;

FieldErrors ValidateNetworkPolicyPort(const netv1::NetworkPolicyPort& port, const Path& path) {
  FieldErrors errs;
  if (port.has_protocol() && port.protocol() != "TCP" && port.protocol() != "UDP" && port.protocol() != "SCTP") {
    errs.push_back(NotSupported(path.Child("protocol"), Q(port.protocol()), {"TCP", "UDP", "SCTP"}));
  }
  if (port.has_port()) {
    if (!IsStr(port.port())) {
      for (auto& m : IsValidPortNum(port.port().intval())) errs.push_back(Invalid(path.Child("port"), Num(port.port().intval()), m));
      if (port.has_endport()) {
        if (port.endport() < port.port().intval()) {
          errs.push_back(Invalid(path.Child("endPort"), Num(port.endport()), "must be greater than or equal to `port`"));
        }
        for (auto& m : IsValidPortNum(port.endport())) errs.push_back(Invalid(path.Child("endPort"), Num(port.endport()), m));
      }
    } else {
      if (port.has_endport()) {
        errs.push_back(Invalid(path.Child("endPort"), Num(port.endport()), "may not be specified when `port` is non-numeric"));
      }
      for (auto& m : IsValidPortName(port.port().strval())) errs.push_back(Invalid(path.Child("port"), Q(port.port().strval()), m));
    }
  } else if (port.has_endport()) {
    errs.push_back(Invalid(path.Child("endPort"), Num(port.endport()), "may not be specified when `port` is not specified"));
  }
  return errs;
}

FieldErrors ValidateIPBlock(const netv1::IPBlock& b, const Path& path) {
  if (b.cidr().empty()) return {Required(path.Child("cidr"))};
  FieldErrors errs = ValidateCIDRField(b.cidr(), path.Child("cidr"));
  IpAddr net;
  int bits = 0;
  if (!ParseCidr(b.cidr(), &net, &bits)) return errs;
  for (int i = 0; i < b.except_size(); ++i) {
    Path ep = path.Child("except").Index(i);
    FieldErrors e = ValidateCIDRField(b.except(i), ep);
    if (!e.empty()) {
      Append(errs, std::move(e));
      continue;
    }
    IpAddr ex;
    int ex_bits = 0;
    ParseCidr(b.except(i), &ex, &ex_bits);
    bool contains = ex.v6 == net.v6;
    for (int bit = 0; contains && bit < bits; ++bit) {
      int byte = bit / 8, mask = 0x80 >> (bit % 8);
      contains = (ex.bytes[byte] & mask) == (net.bytes[byte] & mask);
    }
    if (!contains || bits >= ex_bits) errs.push_back(Invalid(ep, Q(b.except(i)), "must be a strict subset of `cidr`"));
  }
  return errs;
}

FieldErrors ValidateNetworkPolicyPeer(const netv1::NetworkPolicyPeer& peer, const Path& path) {
  FieldErrors errs;
  int n = 0;
  if (peer.has_podselector()) {
    ++n;
    Append(errs, ValidateLabelSelector(&peer.podselector(), path.Child("podSelector")));
  }
  if (peer.has_namespaceselector()) {
    ++n;
    Append(errs, ValidateLabelSelector(&peer.namespaceselector(), path.Child("namespaceSelector")));
  }
  if (peer.has_ipblock()) {
    ++n;
    Append(errs, ValidateIPBlock(peer.ipblock(), path.Child("ipBlock")));
  }
  if (n == 0) {
    errs.push_back(Required(path, "must specify a peer"));
  } else if (n > 1 && peer.has_ipblock()) {
    errs.push_back(Forbidden(path, "may not specify both ipBlock and another peer"));
  }
  return errs;
}

}  // namespace

FieldErrors ValidateNetworkPolicy(const netv1::NetworkPolicy& np, const netv1::NetworkPolicy* old) {
  Path meta("metadata");
  Path spec("spec");
  FieldErrors errs = old == nullptr ? ValidateMeta(np.metadata(), true, NameRule::kDNSSubdomain, meta)
                                    : ValidateMetaUpdate(np.metadata(), old->metadata(), meta);
  const auto& s = np.spec();
  Append(errs, ValidateLabelSelector(&s.podselector(), spec.Child("podSelector")));
  for (int i = 0; i < s.ingress_size(); ++i) {
    Path ip = spec.Child("ingress").Index(i);
    for (int j = 0; j < s.ingress(i).ports_size(); ++j) Append(errs, ValidateNetworkPolicyPort(s.ingress(i).ports(j), ip.Child("ports").Index(j)));
    for (int j = 0; j < s.ingress(i).from_size(); ++j) Append(errs, ValidateNetworkPolicyPeer(s.ingress(i).from(j), ip.Child("from").Index(j)));
  }
  for (int i = 0; i < s.egress_size(); ++i) {
    Path ep = spec.Child("egress").Index(i);
    for (int j = 0; j < s.egress(i).ports_size(); ++j) Append(errs, ValidateNetworkPolicyPort(s.egress(i).ports(j), ep.Child("ports").Index(j)));
    for (int j = 0; j < s.egress(i).to_size(); ++j) Append(errs, ValidateNetworkPolicyPeer(s.egress(i).to(j), ep.Child("to").Index(j)));
  }
  if (s.policytypes_size() > 2) {
    errs.push_back(Invalid(spec.Child("policyTypes"), "&" + GoStrings(s.policytypes()), "may not specify more than two policyTypes"));
    return errs;
  }
  for (int i = 0; i < s.policytypes_size(); ++i) {
    if (s.policytypes(i) != "Ingress" && s.policytypes(i) != "Egress") {
      errs.push_back(NotSupported(spec.Child("policyTypes").Index(i), Q(s.policytypes(i)), {"Ingress", "Egress"}));
    }
  }
  return errs;
}

namespace {

struct IngressOptions {
  bool allow_invalid_secret_name = false;
};

FieldErrors ValidateTypedLocalObjectReference(const corev1::TypedLocalObjectReference& r, const Path& path) {
  FieldErrors errs;
  if (r.has_apigroup()) Append(errs, ValidateDNS1123SubdomainField(r.apigroup(), path.Child("apiGroup")));
  if (r.kind().empty()) {
    errs.push_back(Required(path.Child("kind")));
  } else {
    Append(errs, ValidateNameField(NameRule::kPathSegment, r.kind(), path.Child("kind")));
  }
  if (r.name().empty()) {
    errs.push_back(Required(path.Child("name")));
  } else {
    Append(errs, ValidateNameField(NameRule::kPathSegment, r.name(), path.Child("name")));
  }
  return errs;
}

FieldErrors ValidateIngressBackend(const netv1::IngressBackend& b, const Path& path) {
  FieldErrors errs;
  if (b.has_resource() && b.has_service()) return {Invalid(path, Q(""), "cannot set both resource and service backends")};
  if (b.has_resource()) return ValidateTypedLocalObjectReference(b.resource(), path.Child("resource"));
  if (!b.has_service()) return {Invalid(path, Q(""), "resource or service backend is required")};
  const auto& svc = b.service();
  Path sp = path.Child("service");
  if (svc.name().empty()) {
    errs.push_back(Required(sp.Child("name")));
  } else {
    Append(errs, ValidateNameField(NameRule::kDNS1035Label, svc.name(), sp.Child("name")));
  }
  bool has_name = !svc.port().name().empty();
  bool has_number = svc.port().number() != 0;
  if (has_name && has_number) {
    errs.push_back(Invalid(path, Q(""), "cannot set both port name & port number"));
  } else if (has_name) {
    for (auto& m : IsValidPortName(svc.port().name())) errs.push_back(Invalid(sp.Child("port", "name"), Q(svc.port().name()), m));
  } else if (has_number) {
    for (auto& m : IsValidPortNum(svc.port().number())) errs.push_back(Invalid(sp.Child("port", "number"), Num(svc.port().number()), m));
  } else {
    errs.push_back(Required(path, "port name or number is required"));
  }
  return errs;
}

FieldErrors ValidateHTTPIngressPath(const netv1::HTTPIngressPath& p, const Path& path) {
  FieldErrors errs;
  if (!p.has_pathtype()) return {Required(path.Child("pathType"), "pathType must be specified")};
  const std::string& t = p.pathtype();
  const std::string& v = p.path();
  if (t == "Exact" || t == "Prefix") {
    if (v.empty() || v[0] != '/') errs.push_back(Invalid(path.Child("path"), Q(v), "must be an absolute path"));
    if (!v.empty()) {
      for (const char* seq : {"//", "/./", "/../", "%2f", "%2F"}) {
        if (v.find(seq) != std::string::npos) errs.push_back(Invalid(path.Child("path"), Q(v), std::string("must not contain '") + seq + "'"));
      }
      for (const char* suffix : {"/..", "/."}) {
        std::string_view sv(v), su(suffix);
        if (sv.size() >= su.size() && sv.substr(sv.size() - su.size()) == su) {
          errs.push_back(Invalid(path.Child("path"), Q(v), std::string("cannot end with '") + suffix + "'"));
        }
      }
    }
  } else if (t == "ImplementationSpecific") {
    if (!v.empty() && v[0] != '/') errs.push_back(Invalid(path.Child("path"), Q(v), "must be an absolute path"));
  } else {
    errs.push_back(NotSupported(path.Child("pathType"), Q(t), {"Exact", "ImplementationSpecific", "Prefix"}));
  }
  Append(errs, ValidateIngressBackend(p.backend(), path.Child("backend")));
  return errs;
}

FieldErrors ValidateIngressSpec(const netv1::IngressSpec& spec, const Path& path, const IngressOptions& opts) {
  FieldErrors errs;
  if (spec.rules().empty() && !spec.has_defaultbackend()) {
    errs.push_back(Invalid(path, "[]networking.IngressRule(nil)", "either `defaultBackend` or `rules` must be specified"));
  }
  if (spec.has_defaultbackend()) Append(errs, ValidateIngressBackend(spec.defaultbackend(), path.Child("defaultBackend")));
  for (int i = 0; i < spec.rules_size(); ++i) {
    const auto& rule = spec.rules(i);
    Path rp = path.Child("rules").Index(i);
    if (!rule.host().empty()) {
      if (ParseIp(rule.host(), nullptr)) errs.push_back(Invalid(rp.Child("host"), Q(rule.host()), "must be a DNS name, not an IP address"));
      if (rule.host().find('*') != std::string::npos) {
        for (auto& m : IsWildcardDNS1123Subdomain(rule.host())) errs.push_back(Invalid(rp.Child("host"), Q(rule.host()), m));
      } else {
        Append(errs, ValidateDNS1123SubdomainField(rule.host(), rp.Child("host")));
      }
    }
    if (rule.ingressrulevalue().has_http()) {
      const auto& http = rule.ingressrulevalue().http();
      Path hp = rp.Child("http");
      if (http.paths().empty()) errs.push_back(Required(hp.Child("paths")));
      for (int j = 0; j < http.paths_size(); ++j) Append(errs, ValidateHTTPIngressPath(http.paths(j), hp.Child("paths").Index(j)));
    }
  }
  for (int i = 0; i < spec.tls_size(); ++i) {
    const auto& tls = spec.tls(i);
    Path tp = path.Child("tls").Index(i);
    for (int j = 0; j < tls.hosts_size(); ++j) {
      const std::string& host = tls.hosts(j);
      if (host.find('*') != std::string::npos) {
        for (auto& m : IsWildcardDNS1123Subdomain(host)) errs.push_back(Invalid(tp.Child("hosts").Index(j), Q(host), m));
      } else {
        Append(errs, ValidateDNS1123SubdomainField(host, tp.Child("hosts").Index(j)));
      }
    }
    if (!opts.allow_invalid_secret_name && !tls.secretname().empty()) {
      Append(errs, ValidateNameField(NameRule::kDNSSubdomain, tls.secretname(), tp.Child("secretName")));
    }
  }
  if (spec.has_ingressclassname()) {
    Append(errs, ValidateNameField(NameRule::kDNSSubdomain, spec.ingressclassname(), path.Child("ingressClassName")));
  }
  return errs;
}

}  // namespace

FieldErrors ValidateIngress(const netv1::Ingress& ing, const netv1::Ingress* old) {
  Path meta("metadata");
  IngressOptions opts;
  FieldErrors errs;
  if (old != nullptr) {
    errs = ValidateMetaUpdate(ing.metadata(), old->metadata(), meta);
    for (const auto& tls : old->spec().tls()) {
      if (!tls.secretname().empty() && !ValidateName(NameRule::kDNSSubdomain, tls.secretname(), false).empty()) {
        opts.allow_invalid_secret_name = true;
      }
    }
  }
  Append(errs, ValidateMeta(ing.metadata(), true, NameRule::kDNSSubdomain, meta));
  Append(errs, ValidateIngressSpec(ing.spec(), Path("spec"), opts));
  if (old == nullptr) {
    auto it = ing.metadata().annotations().find("kubernetes.io/ingress.class");
    if (it != ing.metadata().annotations().end() && ing.spec().has_ingressclassname() && it->second != ing.spec().ingressclassname()) {
      errs.push_back(Invalid(Path("annotations").Child("kubernetes.io/ingress.class"), Q(it->second),
                             "must match `ingressClassName` when both are specified"));
    }
  }
  return errs;
}

FieldErrors ValidateIngressStatusUpdate(const netv1::Ingress& ing, const netv1::Ingress& old) {
  FieldErrors errs = ValidateMetaUpdate(ing.metadata(), old.metadata(), Path("metadata"));
  Path ip = Path("status").Child("loadBalancer").Child("ingress");
  std::set<std::string> existing;
  for (const auto& in : old.status().loadbalancer().ingress()) existing.insert(in.ip());
  for (int i = 0; i < ing.status().loadbalancer().ingress_size(); ++i) {
    const auto& in = ing.status().loadbalancer().ingress(i);
    Path p = ip.Index(i);
    if (!in.ip().empty() && !existing.count(in.ip())) Append(errs, ValidateIPField(in.ip(), p.Child("ip")));
    if (!in.hostname().empty()) {
      Append(errs, ValidateDNS1123SubdomainField(in.hostname(), p.Child("hostname")));
      if (ParseIp(in.hostname(), nullptr)) errs.push_back(Invalid(p.Child("hostname"), Q(in.hostname()), "must be a DNS name, not an IP address"));
    }
  }
  return errs;
}

FieldErrors ValidateIngressClass(const netv1::IngressClass& ic, const netv1::IngressClass* old) {
  Path meta("metadata");
  Path spec("spec");
  FieldErrors errs;
  if (old != nullptr) {
    errs = ValidateMetaUpdate(ic.metadata(), old->metadata(), meta);
    Append(errs, ValidateImmutable(ic.spec().controller() == old->spec().controller(), Q(ic.spec().controller()),
                                   spec.Child("controller")));
  }
  Append(errs, ValidateMeta(ic.metadata(), false, NameRule::kDNSSubdomain, meta));
  const std::string& c = ic.spec().controller();
  Path cp = spec.Child("controller");
  if (c.empty()) {
    errs.push_back(Required(cp));
  } else {
    if (c.size() > 250) errs.push_back(TooLong(cp, 250));
    size_t slash = c.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == c.size()) {
      errs.push_back(Invalid(cp, Q(c), "must be a domain-prefixed path (such as \"acme.io/foo\")"));
    } else {
      std::string host = c.substr(0, slash), rest = c.substr(slash + 1);
      for (auto& m : IsDNS1123Subdomain(host)) errs.push_back(Invalid(cp, Q(host), m));
      bool ok = true;
      for (char ch : rest) {
        if (!std::isalnum(static_cast<unsigned char>(ch)) && std::string_view("/-._~%!$&'()*+,;=:").find(ch) == std::string_view::npos) {
          ok = false;
        }
      }
      if (!ok) errs.push_back(Invalid(cp, Q(rest), RegexError("Invalid path", "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+", {})));
    }
  }
  if (ic.spec().has_parameters()) {
    const auto& p = ic.spec().parameters();
    Path pp = spec.Child("parameters");
    if (p.has_apigroup()) Append(errs, ValidateDNS1123SubdomainField(p.apigroup(), pp.Child("apiGroup")));
    if (p.kind().empty()) {
      errs.push_back(Required(pp.Child("kind")));
    } else {
      Append(errs, ValidateNameField(NameRule::kPathSegment, p.kind(), pp.Child("kind")));
    }
    if (p.name().empty()) {
      errs.push_back(Required(pp.Child("name")));
    } else {
      Append(errs, ValidateNameField(NameRule::kPathSegment, p.name(), pp.Child("name")));
    }
    if (!p.has_scope()) {
      errs.push_back(Required(pp.Child("scope")));
    } else if (p.scope() != "Cluster" && p.scope() != "Namespace") {
      errs.push_back(NotSupported(pp.Child("scope"), Q(p.scope()), {"Cluster", "Namespace"}));
    } else if (p.scope() == "Namespace") {
      if (!p.has_namespace_()) {
        errs.push_back(Required(pp.Child("namespace"), "`parameters.scope` is set to 'Namespace'"));
      } else {
        Append(errs, ValidateNameField(NameRule::kDNSLabel, p.namespace_(), pp.Child("namespace")));
      }
    } else if (p.has_namespace_()) {
      errs.push_back(Forbidden(pp.Child("namespace"), "`parameters.scope` is set to 'Cluster'"));
    }
  }
  return errs;
}

}  // namespace ck::apiserver::validation
