// core/v1 kinds other than Pod: Service, ConfigMap, Secret, Namespace, Node, Endpoints, Event
// (core and events.k8s.io), LimitRange, ResourceQuota, ServiceAccount, PersistentVolumeClaim
// (upstream pkg/apis/core/validation).
#include <cstdio>

#include <simdjson.h>

#include "apiserver/validation/kinds.h"
#include "common/api/quantity.h"

namespace ck::apiserver::validation {

namespace {

using ck::api::Quantity;

constexpr int64_t kMaxSecretSize = 1024 * 1024;
const std::vector<std::string> kPortProtocols = {"SCTP", "TCP", "UDP"};

template <typename T>
using Repeated = google::protobuf::RepeatedPtrField<T>;

// ValidateNonSpecialIP, except that loopback addresses are allowed: in process mode every pod
// and service address of a Clearkube cluster is a loopback address (DESIGN.md §5).
FieldErrors ValidateEndpointIP(const std::string& ip, const Path& path) {
  IpAddr a;
  if (!ParseIp(ip, &a)) return {Invalid(path, Q(ip), "must be a valid IP address")};
  FieldErrors errs;
  bool unspecified = true;
  for (int i = 0; i < (a.v6 ? 16 : 4); ++i) unspecified = unspecified && a.bytes[i] == 0;
  if (unspecified) errs.push_back(Invalid(path, Q(ip), "may not be unspecified (" + ip + ")"));
  bool link_local = a.v6 ? (a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80) : (a.bytes[0] == 169 && a.bytes[1] == 254);
  if (link_local) errs.push_back(Invalid(path, Q(ip), "may not be in the link-local range (169.254.0.0/16, fe80::/10)"));
  bool ll_multicast = a.v6 ? (a.bytes[0] == 0xff && (a.bytes[1] & 0x0f) == 0x02) : (a.bytes[0] == 224 && a.bytes[1] == 0 && a.bytes[2] == 0);
  if (ll_multicast) errs.push_back(Invalid(path, Q(ip), "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"));
  return errs;
}

// ---- Service ----------------------------------------------------------------------------------

bool IsHeadless(const corev1::ServiceSpec& s) { return s.clusterips_size() == 1 && s.clusterips(0) == "None"; }

bool ExternallyAccessible(const corev1::ServiceSpec& s) {
  return s.type() == "LoadBalancer" || s.type() == "NodePort" || (s.type() == "ClusterIP" && !s.externalips().empty());
}

bool NeedsHealthCheck(const corev1::ServiceSpec& s) {
  return s.type() == "LoadBalancer" && s.externaltrafficpolicy() == "Local";
}

std::string GoServicePortKey(const std::string& protocol, int32_t port) {
  return "core.ServicePort{Name:\"\", Protocol:" + Q(protocol) + ", AppProtocol:(*string)(nil), Port:" + Num(port) +
         ", TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}";
}

std::string OptStr(bool has, const std::string& v) { return has ? Q(v) : "null"; }

FieldErrors ValidateClusterIPFields(const corev1::ServiceSpec& s) {
  if (s.type() == "ExternalName") return {};
  FieldErrors errs;
  Path spec("spec");
  Path ips = spec.Child("clusterIPs");
  if (!s.clusterip().empty()) {
    if (s.clusterips().empty()) {
      errs.push_back(Required(ips));
    } else if (s.clusterips(0) != s.clusterip()) {
      errs.push_back(Invalid(ips, GoStrings(s.clusterips()), "first value must match `clusterIP`"));
    }
  } else if (!s.clusterips().empty()) {
    errs.push_back(Invalid(ips, GoStrings(s.clusterips()), "must be empty when `clusterIP` is not specified"));
  }
  std::set<std::string> seen;
  for (int i = 0; i < s.ipfamilies_size(); ++i) {
    const std::string& f = s.ipfamilies(i);
    if (f != "IPv4" && f != "IPv6") errs.push_back(NotSupported(spec.Child("ipFamilies").Index(i), Q(f), {"IPv4", "IPv6"}));
    if (!seen.insert(f).second) errs.push_back(Duplicate(spec.Child("ipFamilies").Index(i), Q(f)));
  }
  if (s.has_ipfamilypolicy() && s.ipfamilypolicy() != "SingleStack" && s.ipfamilypolicy() != "PreferDualStack" &&
      s.ipfamilypolicy() != "RequireDualStack") {
    errs.push_back(NotSupported(spec.Child("ipFamilyPolicy"), Q(s.ipfamilypolicy()),
                                {"PreferDualStack", "RequireDualStack", "SingleStack"}));
  }
  bool invalid_ips = false;
  for (int i = 0; i < s.clusterips_size(); ++i) {
    const std::string& ip = s.clusterips(i);
    if (i == 0 && ip == "None") {
      if (s.clusterips_size() > 1) {
        invalid_ips = true;
        errs.push_back(Invalid(ips, GoStrings(s.clusterips()), "'None' must be the first and only value"));
      }
      continue;
    }
    FieldErrors e = ValidateIPField(ip, ips.Index(i));
    invalid_ips = invalid_ips || !e.empty();
    Append(errs, std::move(e));
  }
  if (s.clusterips_size() > 2) errs.push_back(Invalid(ips, GoStrings(s.clusterips()), "may only hold up to 2 values"));
  if (invalid_ips) return errs;
  if (s.clusterips_size() > 1) {
    IpAddr a, b;
    ParseIp(s.clusterips(0), &a);
    ParseIp(s.clusterips(1), &b);
    if (a.v6 == b.v6 || s.clusterips_size() > 2) {
      errs.push_back(Invalid(ips, GoStrings(s.clusterips()), "may specify no more than one IP for each IP family"));
    }
  }
  if (!IsHeadless(s) && !s.clusterips().empty() && !s.ipfamilies().empty()) {
    for (int i = 0; i < s.clusterips_size() && i < s.ipfamilies_size(); ++i) {
      IpAddr a;
      ParseIp(s.clusterips(i), &a);
      if (s.ipfamilies(i) == "IPv4" && a.v6) {
        errs.push_back(Invalid(ips.Index(i), Q(s.clusterips(i)), "expected an IPv4 value as indicated by `ipFamilies[" + std::to_string(i) + "]`"));
      }
      if (s.ipfamilies(i) == "IPv6" && !a.v6) {
        errs.push_back(Invalid(ips.Index(i), Q(s.clusterips(i)), "expected an IPv6 value as indicated by `ipFamilies[" + std::to_string(i) + "]`"));
      }
    }
  }
  return errs;
}

FieldErrors ValidateServiceSpec(const corev1::Service& svc) {
  FieldErrors errs;
  const auto& s = svc.spec();
  Path spec("spec");
  bool headless = IsHeadless(s);
  if (s.ports().empty() && !headless && s.type() != "ExternalName") errs.push_back(Required(spec.Child("ports")));
  if (s.type() == "LoadBalancer" && headless) {
    errs.push_back(Invalid(spec.Child("clusterIPs").Index(0), Q(s.clusterips(0)), "may not be set to 'None' for LoadBalancer services"));
  } else if (s.type() == "NodePort" && headless) {
    errs.push_back(Invalid(spec.Child("clusterIPs").Index(0), Q(s.clusterips(0)), "may not be set to 'None' for NodePort services"));
  } else if (s.type() == "ExternalName") {
    if (!s.clusterips().empty()) errs.push_back(Forbidden(spec.Child("clusterIPs"), "may not be set for ExternalName services"));
    if (!s.ipfamilies().empty()) errs.push_back(Forbidden(spec.Child("ipFamilies"), "may not be set for ExternalName services"));
    if (s.has_ipfamilypolicy()) errs.push_back(Forbidden(spec.Child("ipFamilyPolicy"), "may not be set for ExternalName services"));
    std::string cname = s.externalname();
    if (!cname.empty() && cname.back() == '.') cname.pop_back();
    if (!cname.empty()) {
      Append(errs, ValidateDNS1123SubdomainField(cname, spec.Child("externalName")));
    } else {
      errs.push_back(Required(spec.Child("externalName")));
    }
  }
  std::set<std::string> names;
  for (int i = 0; i < s.ports_size(); ++i) {
    const auto& sp = s.ports(i);
    Path pp = spec.Child("ports").Index(i);
    if (s.ports_size() > 1 && sp.name().empty()) {
      errs.push_back(Required(pp.Child("name")));
    } else if (!sp.name().empty()) {
      Append(errs, ValidateDNS1123LabelField(sp.name(), pp.Child("name")));
      if (!names.insert(sp.name()).second) errs.push_back(Duplicate(pp.Child("name"), Q(sp.name())));
    }
    for (auto& m : IsValidPortNum(sp.port())) errs.push_back(Invalid(pp.Child("port"), Num(sp.port()), m));
    if (sp.protocol().empty()) {
      errs.push_back(Required(pp.Child("protocol")));
    } else if (std::find(kPortProtocols.begin(), kPortProtocols.end(), sp.protocol()) == kPortProtocols.end()) {
      errs.push_back(NotSupported(pp.Child("protocol"), Q(sp.protocol()), kPortProtocols));
    }
    const auto& tp = sp.targetport();
    if (!IsStr(tp)) {
      for (auto& m : IsValidPortNum(tp.intval())) errs.push_back(Invalid(pp.Child("targetPort"), Num(tp.intval()), m));
    } else {
      for (auto& m : IsValidPortName(tp.strval())) errs.push_back(Invalid(pp.Child("targetPort"), Q(tp.strval()), m));
    }
    if (sp.has_appprotocol()) Append(errs, ValidateQualifiedNameField(sp.appprotocol(), pp.Child("appProtocol")));
    if (sp.nodeport() != 0) {
      for (auto& m : IsValidPortNum(sp.nodeport())) errs.push_back(Invalid(pp.Child("nodePort"), Num(sp.nodeport()), m));
    }
  }
  Append(errs, ValidateLabels(s.selector(), spec.Child("selector")));
  if (s.sessionaffinity().empty()) {
    errs.push_back(Required(spec.Child("sessionAffinity")));
  } else if (s.sessionaffinity() != "ClientIP" && s.sessionaffinity() != "None") {
    errs.push_back(NotSupported(spec.Child("sessionAffinity"), Q(s.sessionaffinity()), {"ClientIP", "None"}));
  }
  Path sac = spec.Child("sessionAffinityConfig");
  if (s.sessionaffinity() == "ClientIP") {
    if (!s.has_sessionaffinityconfig()) {
      errs.push_back(Required(sac, "when session affinity type is ClientIP"));
    } else if (!s.sessionaffinityconfig().has_clientip()) {
      errs.push_back(Required(sac.Child("clientIP"), "when session affinity type is ClientIP"));
    } else if (!s.sessionaffinityconfig().clientip().has_timeoutseconds()) {
      errs.push_back(Required(sac.Child("clientIP").Child("timeoutSeconds"), "when session affinity type is ClientIP"));
    } else {
      int32_t t = s.sessionaffinityconfig().clientip().timeoutseconds();
      if (t <= 0 || t > 86400) {
        errs.push_back(Invalid(sac.Child("clientIP").Child("timeoutSeconds"), Num(t), "must be greater than 0 and less than 86400"));
      }
    }
  } else if (s.sessionaffinity() == "None" && s.has_sessionaffinityconfig()) {
    errs.push_back(Forbidden(sac, "must not be set when session affinity is None"));
  }
  Append(errs, ValidateClusterIPFields(s));
  for (int i = 0; i < s.externalips_size(); ++i) {
    Path ip = spec.Child("externalIPs").Index(i);
    FieldErrors e = ValidateIPField(s.externalips(i), ip);
    if (e.empty()) e = ValidateEndpointIP(s.externalips(i), ip);
    Append(errs, std::move(e));
  }
  const std::vector<std::string> kTypes = {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"};
  if (s.type().empty()) {
    errs.push_back(Required(spec.Child("type")));
  } else if (std::find(kTypes.begin(), kTypes.end(), s.type()) == kTypes.end()) {
    errs.push_back(NotSupported(spec.Child("type"), Q(s.type()), kTypes));
  }
  if (s.type() == "ClusterIP") {
    for (int i = 0; i < s.ports_size(); ++i) {
      if (s.ports(i).nodeport() != 0) {
        errs.push_back(Forbidden(spec.Child("ports").Index(i).Child("nodePort"), "may not be used when `type` is 'ClusterIP'"));
      }
    }
  }
  std::set<std::string> node_ports, ports;
  for (int i = 0; i < s.ports_size(); ++i) {
    const auto& p = s.ports(i);
    if (p.nodeport() != 0 && !node_ports.insert(p.protocol() + "/" + std::to_string(p.nodeport())).second) {
      errs.push_back(Duplicate(spec.Child("ports").Index(i).Child("nodePort"), Num(p.nodeport())));
    }
  }
  for (int i = 0; i < s.ports_size(); ++i) {
    const auto& p = s.ports(i);
    if (!ports.insert(p.protocol() + "/" + std::to_string(p.port())).second) {
      errs.push_back(Duplicate(spec.Child("ports").Index(i), GoServicePortKey(p.protocol(), p.port())));
    }
  }
  if (!s.loadbalancersourceranges().empty()) {
    Path fp = spec.Child("LoadBalancerSourceRanges");
    if (s.type() != "LoadBalancer") errs.push_back(Forbidden(fp, "may only be used when `type` is 'LoadBalancer'"));
    for (int i = 0; i < s.loadbalancersourceranges_size(); ++i) {
      std::string v = s.loadbalancersourceranges(i);
      size_t b = v.find_first_not_of(" \t"), e = v.find_last_not_of(" \t");
      v = b == std::string::npos ? "" : v.substr(b, e - b + 1);
      Append(errs, ValidateCIDRField(v, fp.Index(i)));
    }
  }
  if (s.has_allocateloadbalancernodeports() && s.type() != "LoadBalancer") {
    errs.push_back(Forbidden(spec.Child("allocateLoadBalancerNodePorts"), "may only be used when `type` is 'LoadBalancer'"));
  }
  if (s.type() == "LoadBalancer" && !s.has_allocateloadbalancernodeports()) {
    errs.push_back(Required(Path("allocateLoadBalancerNodePorts")));
  }
  if (s.has_loadbalancerclass()) {
    if (s.type() == "LoadBalancer") {
      Append(errs, ValidateQualifiedNameField(s.loadbalancerclass(), spec.Child("loadBalancerClass")));
    } else {
      errs.push_back(Forbidden(spec.Child("loadBalancerClass"), "may only be used when `type` is 'LoadBalancer'"));
    }
  }
  if (!ExternallyAccessible(s)) {
    if (!s.externaltrafficpolicy().empty()) {
      errs.push_back(Invalid(spec.Child("externalTrafficPolicy"), Q(s.externaltrafficpolicy()),
                             "may only be set for externally-accessible services"));
    }
  } else if (s.externaltrafficpolicy().empty()) {
    errs.push_back(Required(spec.Child("externalTrafficPolicy")));
  } else if (s.externaltrafficpolicy() != "Cluster" && s.externaltrafficpolicy() != "Local") {
    errs.push_back(NotSupported(spec.Child("externalTrafficPolicy"), Q(s.externaltrafficpolicy()), {"Cluster", "Local"}));
  }
  if (!NeedsHealthCheck(s)) {
    if (s.healthchecknodeport() != 0) {
      errs.push_back(Invalid(spec.Child("healthCheckNodePort"), Num(s.healthchecknodeport()),
                             "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
    }
  } else if (s.healthchecknodeport() == 0) {
    errs.push_back(Required(spec.Child("healthCheckNodePort")));
  } else {
    for (auto& m : IsValidPortNum(s.healthchecknodeport())) {
      errs.push_back(Invalid(spec.Child("healthCheckNodePort"), Num(s.healthchecknodeport()), m));
    }
  }
  if (!s.has_internaltrafficpolicy()) {
    if (s.type() == "NodePort" || s.type() == "LoadBalancer" || s.type() == "ClusterIP") {
      errs.push_back(Required(spec.Child("internalTrafficPolicy")));
    }
  } else if (s.internaltrafficpolicy() != "Cluster" && s.internaltrafficpolicy() != "Local") {
    errs.push_back(NotSupported(spec.Child("internalTrafficPolicy"), Q(s.internaltrafficpolicy()), {"Cluster", "Local"}));
  }
  if (s.has_trafficdistribution() && s.trafficdistribution() != "PreferClose") {
    errs.push_back(NotSupported(spec.Child("trafficDistribution"), Q(s.trafficdistribution()), {"PreferClose"}));
  }
  return errs;
}

FieldErrors ValidateServiceUpdateRules(const corev1::ServiceSpec& s, const corev1::ServiceSpec& o) {
  FieldErrors errs;
  Path spec("spec");
  if (s.type() != "ExternalName" && o.type() != "ExternalName") {
    bool new_headless = IsHeadless(s), old_headless = IsHeadless(o);
    if (!(old_headless && new_headless)) {
      Path ips = spec.Child("clusterIPs");
      if (o.clusterips_size() == s.clusterips_size()) {
        for (int i = 0; i < o.clusterips_size(); ++i) {
          if (o.clusterips(i) != s.clusterips(i)) errs.push_back(Invalid(ips.Index(i), GoStrings(s.clusterips()), "may not change once set"));
        }
      } else if (o.clusterips_size() > s.clusterips_size()) {
        if (s.clusterips().empty()) errs.push_back(Invalid(ips.Index(0), GoStrings(s.clusterips()), "primary clusterIP can not be unset"));
        if (!s.clusterips().empty() && s.clusterips(0) != o.clusterips(0)) {
          errs.push_back(Invalid(ips.Index(0), GoStrings(s.clusterips()), "may not change once set"));
        }
        if (s.clusterips_size() == 1 && (!s.has_ipfamilypolicy() || s.ipfamilypolicy() != "SingleStack")) {
          errs.push_back(Invalid(spec.Child("ipFamilyPolicy"), OptStr(s.has_ipfamilypolicy(), s.ipfamilypolicy()),
                                 "must be set to 'SingleStack' when releasing the secondary clusterIP"));
        }
      } else if (!o.clusterips().empty() && s.clusterips(0) != o.clusterips(0)) {
        errs.push_back(Invalid(ips.Index(0), GoStrings(s.clusterips()), "may not change once set"));
      }
    }
    if (new_headless == old_headless && !new_headless) {
      Path fam = spec.Child("ipFamilies");
      if (o.ipfamilies_size() == s.ipfamilies_size()) {
        for (int i = 0; i < o.ipfamilies_size(); ++i) {
          if (o.ipfamilies(i) != s.ipfamilies(i)) errs.push_back(Invalid(fam.Index(0), GoStrings(s.ipfamilies()), "may not change once set"));
        }
      } else if (o.ipfamilies_size() > s.ipfamilies_size()) {
        if (s.clusterips().empty()) errs.push_back(Invalid(fam.Index(0), GoStrings(s.ipfamilies()), "primary ipFamily can not be unset"));
        if (!s.ipfamilies().empty() && s.ipfamilies(0) != o.ipfamilies(0)) {
          errs.push_back(Invalid(fam.Index(0), GoStrings(s.clusterips()), "may not change once set"));
        }
        if (s.ipfamilies_size() == 1 && (!s.has_ipfamilypolicy() || s.ipfamilypolicy() != "SingleStack")) {
          errs.push_back(Invalid(spec.Child("ipFamilyPolicy"), OptStr(s.has_ipfamilypolicy(), s.ipfamilypolicy()),
                                 "must be set to 'SingleStack' when releasing the secondary ipFamily"));
        }
      } else if (!o.ipfamilies().empty() && !s.ipfamilies().empty() && s.ipfamilies(0) != o.ipfamilies(0)) {
        errs.push_back(Invalid(fam.Index(0), GoStrings(s.clusterips()), "may not change once set"));
      }
    }
  }
  if (s.type() == "LoadBalancer" && o.type() == "LoadBalancer" &&
      (s.has_loadbalancerclass() != o.has_loadbalancerclass() || s.loadbalancerclass() != o.loadbalancerclass())) {
    errs.push_back(Invalid(spec.Child("loadBalancerClass"), OptStr(s.has_loadbalancerclass(), s.loadbalancerclass()),
                           "may not change once set"));
  }
  if (NeedsHealthCheck(o) && NeedsHealthCheck(s) && s.healthchecknodeport() != o.healthchecknodeport()) {
    errs.push_back(Forbidden(spec.Child("healthCheckNodePort"), "field is immutable"));
  }
  return errs;
}

}  // namespace

FieldErrors ValidateService(const corev1::Service& svc, const corev1::Service* old) {
  Path meta("metadata");
  FieldErrors errs;
  if (old != nullptr) {
    errs = ValidateMetaUpdate(svc.metadata(), old->metadata(), meta);
    Append(errs, ValidateServiceUpdateRules(svc.spec(), old->spec()));
  }
  Append(errs, ValidateMeta(svc.metadata(), true, NameRule::kDNS1035Label, meta));
  const auto& ann = svc.metadata().annotations();
  auto hints = ann.find("service.kubernetes.io/topology-aware-hints");
  auto mode = ann.find("service.kubernetes.io/topology-mode");
  if (hints != ann.end() && mode != ann.end() && hints->second != mode->second) {
    errs.push_back(Invalid(meta.Child("annotations").Key("service.kubernetes.io/topology-mode"), Q(mode->second),
                           "must match annotations[service.kubernetes.io/topology-aware-hints] when both are specified"));
  }
  Append(errs, ValidateServiceSpec(svc));
  return errs;
}

FieldErrors ValidateServiceStatusUpdate(const corev1::Service& svc, const corev1::Service& old) {
  FieldErrors errs = ValidateMetaUpdate(svc.metadata(), old.metadata(), Path("metadata"));
  Path ingress = Path("status").Child("loadBalancer").Child("ingress");
  const auto& lb = svc.status().loadbalancer();
  if (svc.spec().type() != "LoadBalancer" && !lb.ingress().empty()) {
    errs.push_back(Forbidden(ingress, "may only be used when `spec.type` is 'LoadBalancer'"));
    return errs;
  }
  for (int i = 0; i < lb.ingress_size(); ++i) {
    const auto& in = lb.ingress(i);
    Path p = ingress.Index(i);
    if (!in.ip().empty()) Append(errs, ValidateIPField(in.ip(), p.Child("ip")));
    if (!in.has_ipmode()) {
      if (!in.ip().empty()) errs.push_back(Required(p.Child("ipMode"), "must be specified when `ip` is set"));
    } else if (in.ip().empty()) {
      errs.push_back(Forbidden(p.Child("ipMode"), "may not be specified when `ip` is not set"));
    } else if (in.ipmode() != "Proxy" && in.ipmode() != "VIP") {
      errs.push_back(NotSupported(p.Child("ipMode"), Q(in.ipmode()), {"Proxy", "VIP"}));
    }
    if (!in.hostname().empty()) {
      Append(errs, ValidateDNS1123SubdomainField(in.hostname(), p.Child("hostname")));
      if (ParseIp(in.hostname(), nullptr)) {
        errs.push_back(Invalid(p.Child("hostname"), Q(in.hostname()), "must be a DNS name, not an IP address"));
      }
    }
  }
  return errs;
}

// ---- ConfigMap / Secret -----------------------------------------------------------------------

FieldErrors ValidateConfigMap(const corev1::ConfigMap& cm, const corev1::ConfigMap* old) {
  FieldErrors errs;
  if (old != nullptr) {
    errs = ValidateMetaUpdate(cm.metadata(), old->metadata(), Path("metadata"));
    if (old->has_immutable() && old->immutable()) {
      const char* kDetail = "field is immutable when `immutable` is set";
      if (!cm.has_immutable() || !cm.immutable()) errs.push_back(Forbidden(Path("immutable"), kDetail));
      std::map<std::string, std::string> a(cm.data().begin(), cm.data().end()), b(old->data().begin(), old->data().end());
      if (a != b) errs.push_back(Forbidden(Path("data"), kDetail));
      std::map<std::string, std::string> c(cm.binarydata().begin(), cm.binarydata().end());
      std::map<std::string, std::string> d(old->binarydata().begin(), old->binarydata().end());
      if (c != d) errs.push_back(Forbidden(Path("binaryData"), kDetail));
    }
  }
  Append(errs, ValidateMeta(cm.metadata(), true, NameRule::kDNSSubdomain, Path("metadata")));
  int64_t total = 0;
  for (const auto& key : SortedKeys(cm.data())) {
    Path p = Path("data").Key(key);
    for (auto& m : IsConfigMapKey(key)) errs.push_back(Invalid(p, Q(key), m));
    if (cm.binarydata().count(key)) errs.push_back(Invalid(p, Q(key), "duplicate of key present in binaryData"));
    total += static_cast<int64_t>(cm.data().at(key).size());
  }
  for (const auto& key : SortedKeys(cm.binarydata())) {
    for (auto& m : IsConfigMapKey(key)) errs.push_back(Invalid(Path("binaryData").Key(key), Q(key), m));
    total += static_cast<int64_t>(cm.binarydata().at(key).size());
  }
  if (total > kMaxSecretSize) errs.push_back(TooLong(Path(""), kMaxSecretSize));
  return errs;
}

namespace {

// Go's json.Unmarshal into map[string]interface{}: the error text of the common failures.
std::string JsonObjectError(const std::string& data) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  auto err = parser.parse(data).get(doc);
  if (err) return data.empty() ? "unexpected end of JSON input" : std::string("invalid JSON: ") + simdjson::error_message(err);
  if (!doc.is_object()) {
    std::string kind = doc.is_array() ? "array" : doc.is_string() ? "string" : doc.is_bool() ? "bool" : doc.is_null() ? "" : "number";
    if (kind.empty()) return "";
    return "json: cannot unmarshal " + kind + " into Go value of type map[string]interface {}";
  }
  return "";
}

}  // namespace

FieldErrors ValidateSecret(const corev1::Secret& s, const corev1::Secret* old) {
  FieldErrors errs;
  Path data("data");
  if (old != nullptr) {
    errs = ValidateMetaUpdate(s.metadata(), old->metadata(), Path("metadata"));
    Append(errs, ValidateImmutable(s.type() == old->type(), Q(s.type()), Path("type")));
    if (old->has_immutable() && old->immutable()) {
      const char* kDetail = "field is immutable when `immutable` is set";
      if (!s.has_immutable() || !s.immutable()) errs.push_back(Forbidden(Path("immutable"), kDetail));
      std::map<std::string, std::string> a(s.data().begin(), s.data().end()), b(old->data().begin(), old->data().end());
      if (a != b) errs.push_back(Forbidden(data, kDetail));
    }
  }
  Append(errs, ValidateMeta(s.metadata(), true, NameRule::kDNSSubdomain, Path("metadata")));
  int64_t total = 0;
  for (const auto& key : SortedKeys(s.data())) {
    for (auto& m : IsConfigMapKey(key)) errs.push_back(Invalid(data.Key(key), Q(key), m));
    total += static_cast<int64_t>(s.data().at(key).size());
  }
  if (total > kMaxSecretSize) errs.push_back(TooLong(data, kMaxSecretSize));
  const std::string& type = s.type();
  auto has = [&](const char* k) { return s.data().count(k) > 0; };
  if (type == "kubernetes.io/service-account-token") {
    auto it = s.metadata().annotations().find("kubernetes.io/service-account.name");
    if (it == s.metadata().annotations().end() || it->second.empty()) {
      errs.push_back(Required(Path("metadata").Child("annotations").Key("kubernetes.io/service-account.name")));
    }
  } else if (type == "kubernetes.io/dockercfg" || type == "kubernetes.io/dockerconfigjson") {
    const char* key = type == "kubernetes.io/dockercfg" ? ".dockercfg" : ".dockerconfigjson";
    if (!has(key)) {
      errs.push_back(Required(data.Key(key)));
    } else {
      std::string e = JsonObjectError(s.data().at(key));
      if (!e.empty()) errs.push_back(Invalid(data.Key(key), Q("<secret contents redacted>"), e));
    }
  } else if (type == "kubernetes.io/basic-auth") {
    if (!has("username") && !has("password")) {
      errs.push_back(Required(data.Key("username")));
      errs.push_back(Required(data.Key("password")));
    }
  } else if (type == "kubernetes.io/ssh-auth") {
    if (!has("ssh-privatekey") || s.data().at("ssh-privatekey").empty()) errs.push_back(Required(data.Key("ssh-privatekey")));
  } else if (type == "kubernetes.io/tls") {
    if (!has("tls.crt")) errs.push_back(Required(data.Key("tls.crt")));
    if (!has("tls.key")) errs.push_back(Required(data.Key("tls.key")));
  }
  return errs;
}

// ---- Namespace / ServiceAccount ---------------------------------------------------------------

namespace {

FieldErrors ValidateNamespaceFinalizer(const std::string& f, const Path& path) {
  FieldErrors errs = ValidateQualifiedNameField(f, path);
  if (f.find('/') == std::string::npos && f != "kubernetes" && f != "orphan" && f != "foregroundDeletion") {
    errs.push_back(Invalid(path, Q(f), "name is neither a standard finalizer name nor is it fully qualified"));
  }
  return errs;
}

}  // namespace

FieldErrors ValidateNamespace(const corev1::Namespace& ns, const corev1::Namespace* old) {
  if (old != nullptr) return ValidateMetaUpdate(ns.metadata(), old->metadata(), Path("metadata"));
  FieldErrors errs = ValidateMeta(ns.metadata(), false, NameRule::kDNSLabel, Path("metadata"));
  for (const auto& f : ns.spec().finalizers()) Append(errs, ValidateNamespaceFinalizer(f, Path("spec").Child("finalizers")));
  return errs;
}

FieldErrors ValidateNamespaceStatusUpdate(const corev1::Namespace& ns, const corev1::Namespace& old) {
  FieldErrors errs = ValidateMetaUpdate(ns.metadata(), old.metadata(), Path("metadata"));
  Path phase = Path("status").Child("Phase");
  if (!ns.metadata().has_deletiontimestamp()) {
    if (ns.status().phase() != "Active") {
      errs.push_back(Invalid(phase, Q(ns.status().phase()), "may only be 'Active' if `deletionTimestamp` is empty"));
    }
  } else if (ns.status().phase() != "Terminating") {
    errs.push_back(Invalid(phase, Q(ns.status().phase()), "may only be 'Terminating' if `deletionTimestamp` is not empty"));
  }
  return errs;
}

FieldErrors ValidateServiceAccount(const corev1::ServiceAccount& sa, const corev1::ServiceAccount* old) {
  FieldErrors errs;
  if (old != nullptr) errs = ValidateMetaUpdate(sa.metadata(), old->metadata(), Path("metadata"));
  Append(errs, ValidateMeta(sa.metadata(), true, NameRule::kDNSSubdomain, Path("metadata")));
  return errs;
}

// ---- Node -------------------------------------------------------------------------------------

namespace {

FieldErrors ValidateTaints(const Repeated<corev1::Taint>& taints, const Path& path) {
  FieldErrors errs;
  std::set<std::string> unique;
  for (int i = 0; i < taints.size(); ++i) {
    const auto& t = taints.Get(i);
    Path p = path.Index(i);
    Append(errs, ValidateLabelName(t.key(), p.Child("key")));
    Msgs m = IsLabelValue(t.value());
    if (!m.empty()) {
      std::string joined;
      for (size_t j = 0; j < m.size(); ++j) joined += (j > 0 ? ";" : "") + m[j];
      errs.push_back(Invalid(p.Child("value"), Q(t.value()), joined));
    }
    if (t.effect().empty()) {
      errs.push_back(Required(p.Child("effect")));
    } else if (t.effect() != "NoSchedule" && t.effect() != "PreferNoSchedule" && t.effect() != "NoExecute") {
      errs.push_back(NotSupported(p.Child("effect"), Q(t.effect()), {"NoSchedule", "PreferNoSchedule", "NoExecute"}));
    }
    if (!unique.insert(t.effect() + "\n" + t.key()).second) {
      FieldError dup = Duplicate(p, "core.Taint{Key:" + Q(t.key()) + ", Value:" + Q(t.value()) + ", Effect:" + Q(t.effect()) +
                                        ", TimeAdded:(*v1.Time)(nil)}");
      dup.detail = "taints must be unique by key and effect pair";
      errs.push_back(std::move(dup));
    }
  }
  return errs;
}

FieldErrors ValidateNodeResources(const corev1::Node& node) {
  FieldErrors errs;
  for (const auto& k : SortedKeys(node.status().capacity())) {
    Append(errs, ValidateResourceQuantityValue(k, node.status().capacity().at(k).string(), Path("status").Child("capacity").Child(k)));
  }
  for (const auto& k : SortedKeys(node.status().allocatable())) {
    Append(errs, ValidateResourceQuantityValue(k, node.status().allocatable().at(k).string(),
                                               Path("status").Child("allocatable").Child(k)));
  }
  return errs;
}

FieldErrors ValidatePodCIDRs(const corev1::Node& node) {
  FieldErrors errs;
  const auto& cidrs = node.spec().podcidrs();
  Path p = Path("spec").Child("podCIDRs");
  for (int i = 0; i < cidrs.size(); ++i) Append(errs, ValidateCIDRField(cidrs.Get(i), p.Index(i)));
  if (cidrs.size() > 1 && errs.empty()) {
    IpAddr a, b;
    ParseCidr(cidrs.Get(0), &a, nullptr);
    ParseCidr(cidrs.Get(1), &b, nullptr);
    if (a.v6 == b.v6 || cidrs.size() > 2) errs.push_back(Invalid(p, GoStrings(cidrs), "may specify no more than one CIDR for each IP family"));
    std::set<std::string> seen;
    for (int i = 0; i < cidrs.size(); ++i) {
      if (!seen.insert(cidrs.Get(i)).second) errs.push_back(Duplicate(p.Index(i), Q(cidrs.Get(i))));
    }
  }
  return errs;
}

}  // namespace

FieldErrors ValidateNode(const corev1::Node& node, const corev1::Node* old) {
  Path meta("metadata");
  if (old == nullptr) {
    FieldErrors errs = ValidateMeta(node.metadata(), false, NameRule::kDNSSubdomain, meta);
    Append(errs, ValidateTaints(node.spec().taints(), meta.Child("taints")));
    Append(errs, ValidateNodeResources(node));
    Append(errs, ValidatePodCIDRs(node));
    return errs;
  }
  FieldErrors errs = ValidateMetaUpdate(node.metadata(), old->metadata(), meta);
  Append(errs, ValidateNodeResources(node));
  std::set<std::string> addresses;
  for (int i = 0; i < node.status().addresses_size(); ++i) {
    const auto& a = node.status().addresses(i);
    if (!addresses.insert(a.type() + "\n" + a.address()).second) {
      errs.push_back(Duplicate(Path("status").Child("addresses").Index(i),
                               "core.NodeAddress{Type:" + Q(a.type()) + ", Address:" + Q(a.address()) + "}"));
    }
  }
  const auto& old_cidrs = old->spec().podcidrs();
  if (!old_cidrs.empty()) {
    const char* kDetail = "node updates may not change podCIDR except from \"\" to valid";
    if (old_cidrs.size() != node.spec().podcidrs_size()) {
      errs.push_back(Forbidden(Path("spec").Child("podCIDRs"), kDetail));
    } else {
      for (int i = 0; i < old_cidrs.size(); ++i) {
        if (old_cidrs.Get(i) != node.spec().podcidrs(i)) errs.push_back(Forbidden(Path("spec").Child("podCIDRs"), kDetail));
      }
    }
  }
  if (!old->spec().providerid().empty() && old->spec().providerid() != node.spec().providerid()) {
    errs.push_back(Forbidden(Path("spec").Child("providerID"), "node updates may not change providerID except from \"\" to valid"));
  }
  Append(errs, ValidateTaints(node.spec().taints(), meta.Child("taints")));
  if (node.spec().externalid() != old->spec().externalid()) errs.push_back(Forbidden(Path("spec").Child("externalID"), "may not be updated"));
  return errs;
}

FieldErrors ValidateNodeStatusUpdate(const corev1::Node& node, const corev1::Node& old) { return ValidateNode(node, &old); }

// ---- Endpoints --------------------------------------------------------------------------------

FieldErrors ValidateEndpoints(const corev1::Endpoints& ep, const corev1::Endpoints* old) {
  FieldErrors errs;
  if (old != nullptr) errs = ValidateMetaUpdate(ep.metadata(), old->metadata(), Path("metadata"));
  Append(errs, ValidateMeta(ep.metadata(), true, NameRule::kDNSSubdomain, Path("metadata")));
  Path subsets("subsets");
  for (int i = 0; i < ep.subsets_size(); ++i) {
    const auto& ss = ep.subsets(i);
    Path sp = subsets.Index(i);
    if (ss.addresses().empty() && ss.notreadyaddresses().empty()) {
      errs.push_back(Required(sp, "must specify `addresses` or `notReadyAddresses`"));
    }
    auto address = [&](const corev1::EndpointAddress& a, const Path& p) {
      Append(errs, ValidateIPField(a.ip(), p.Child("ip")));
      if (!a.hostname().empty()) Append(errs, ValidateDNS1123LabelField(a.hostname(), p.Child("hostname")));
      if (a.has_nodename()) Append(errs, ValidateNameField(NameRule::kDNSSubdomain, a.nodename(), p.Child("nodeName")));
      if (ParseIp(a.ip(), nullptr)) Append(errs, ValidateEndpointIP(a.ip(), p.Child("ip")));
    };
    for (int j = 0; j < ss.addresses_size(); ++j) address(ss.addresses(j), sp.Child("addresses").Index(j));
    for (int j = 0; j < ss.notreadyaddresses_size(); ++j) address(ss.notreadyaddresses(j), sp.Child("notReadyAddresses").Index(j));
    for (int j = 0; j < ss.ports_size(); ++j) {
      const auto& port = ss.ports(j);
      Path pp = sp.Child("ports").Index(j);
      if (ss.ports_size() > 1 && port.name().empty()) {
        errs.push_back(Required(pp.Child("name")));
      } else if (!port.name().empty()) {
        Append(errs, ValidateDNS1123LabelField(port.name(), pp.Child("name")));
      }
      for (auto& m : IsValidPortNum(port.port())) errs.push_back(Invalid(pp.Child("port"), Num(port.port()), m));
      if (port.protocol().empty()) {
        errs.push_back(Required(pp.Child("protocol")));
      } else if (std::find(kPortProtocols.begin(), kPortProtocols.end(), port.protocol()) == kPortProtocols.end()) {
        errs.push_back(NotSupported(pp.Child("protocol"), Q(port.protocol()), kPortProtocols));
      }
      if (port.has_appprotocol()) Append(errs, ValidateQualifiedNameField(port.appprotocol(), pp.Child("appProtocol")));
    }
  }
  return errs;
}

// ---- Events -----------------------------------------------------------------------------------

namespace {

// The fields of core/v1 and events.k8s.io/v1 Events under upstream's internal names.
struct EventView {
  const ObjectMeta* meta;
  const corev1::ObjectReference* involved;
  std::string reason, message, type, action, reporting_controller, reporting_instance;
  bool has_event_time = false;
  bool has_series = false;
  int32_t series_count = 0;
  bool series_has_last_observed = false;
  bool has_first = false, has_last = false;
  int32_t count = 0;
  std::string source_component, source_host;
};

template <typename T>
bool NonZero(bool has, const T& t) {
  return has && (t.seconds() != 0 || t.nanos() != 0);
}

FieldErrors LegacyValidateEvent(const EventView& ev, bool core_v1) {
  FieldErrors errs;
  const std::string& ns = ev.meta->namespace_();
  const std::string rc_field = core_v1 ? "reportingComponent" : "reportingController";
  Path inv_ns = Path("involvedObject").Child("namespace");
  if (!ev.has_event_time) {
    if (ev.involved->namespace_().empty()) {
      if (!ns.empty() && ns != "default") errs.push_back(Invalid(inv_ns, Q(ev.involved->namespace_()), "does not match event.namespace"));
    } else if (ns != ev.involved->namespace_()) {
      errs.push_back(Invalid(inv_ns, Q(ev.involved->namespace_()), "does not match event.namespace"));
    }
  } else {
    if (ev.involved->namespace_().empty() && ns != "default" && ns != "kube-system") {
      errs.push_back(Invalid(inv_ns, Q(ev.involved->namespace_()), "does not match event.namespace"));
    }
    if (ev.reporting_controller.empty()) errs.push_back(Required(Path(rc_field)));
    Append(errs, ValidateQualifiedNameField(ev.reporting_controller, Path(rc_field)));
    if (ev.reporting_instance.empty()) errs.push_back(Required(Path("reportingInstance")));
    if (ev.reporting_instance.size() > 128) errs.push_back(Invalid(Path("reportingInstance"), Q(""), "can have at most 128 characters"));
    if (ev.action.empty()) errs.push_back(Required(Path("action")));
    if (ev.action.size() > 128) errs.push_back(Invalid(Path("action"), Q(""), "can have at most 128 characters"));
    if (ev.reason.empty()) errs.push_back(Required(Path("reason")));
    if (ev.reason.size() > 128) errs.push_back(Invalid(Path("reason"), Q(""), "can have at most 128 characters"));
    if (ev.message.size() > 1024) errs.push_back(Invalid(Path("message"), Q(""), "can have at most 1024 characters"));
  }
  for (auto& m : IsDNS1123Subdomain(ns)) errs.push_back(Invalid(Path("namespace"), Q(ns), m));
  return errs;
}

FieldErrors ValidateEventSeries(const EventView& ev) {
  FieldErrors errs;
  if (!ev.has_series) return errs;
  if (ev.series_count < 2) errs.push_back(Invalid(Path("series.count"), Q(""), "should be at least 2"));
  if (!ev.series_has_last_observed) errs.push_back(Required(Path("series.lastObservedTime")));
  return errs;
}

}  // namespace

FieldErrors ValidateCoreEvent(const corev1::Event& e, const corev1::Event* old) {
  EventView ev;
  ev.meta = &e.metadata();
  ev.involved = &e.involvedobject();
  ev.reason = e.reason();
  ev.message = e.message();
  ev.action = e.action();
  ev.reporting_controller = e.reportingcomponent();
  ev.reporting_instance = e.reportinginstance();
  ev.has_event_time = NonZero(e.has_eventtime(), e.eventtime());
  // The core/v1 API only runs upstream's legacy checks (plus a name, which storage needs).
  FieldErrors errs;
  if (e.metadata().name().empty() && e.metadata().generatename().empty()) {
    errs.push_back(Required(Path("metadata").Child("name"), "name or generateName is required"));
  }
  Append(errs, LegacyValidateEvent(ev, true));
  (void)old;
  return errs;
}

FieldErrors ValidateEventsV1Event(const eventsv1::Event& e, const eventsv1::Event* old) {
  EventView ev;
  ev.meta = &e.metadata();
  ev.involved = &e.regarding();
  ev.reason = e.reason();
  ev.message = e.note();
  ev.type = e.type();
  ev.action = e.action();
  ev.reporting_controller = e.reportingcontroller();
  ev.reporting_instance = e.reportinginstance();
  ev.has_event_time = NonZero(e.has_eventtime(), e.eventtime());
  ev.has_series = e.has_series();
  ev.series_count = e.series().count();
  ev.series_has_last_observed = NonZero(e.series().has_lastobservedtime(), e.series().lastobservedtime());
  FieldErrors errs = LegacyValidateEvent(ev, false);
  if (old == nullptr) {
    Append(errs, ValidateMeta(e.metadata(), true, NameRule::kDNSSubdomain, Path("metadata")));
    Append(errs, ValidateEventSeries(ev));
    if (!ev.has_event_time) errs.push_back(Required(Path("eventTime")));
    if (e.type() != "Normal" && e.type() != "Warning") errs.push_back(Invalid(Path("type"), Q(""), "has invalid value: " + e.type()));
    if (NonZero(e.has_deprecatedfirsttimestamp(), e.deprecatedfirsttimestamp())) {
      errs.push_back(Invalid(Path("deprecatedFirstTimestamp"), Q(""), "needs to be unset"));
    }
    if (NonZero(e.has_deprecatedlasttimestamp(), e.deprecatedlasttimestamp())) {
      errs.push_back(Invalid(Path("deprecatedLastTimestamp"), Q(""), "needs to be unset"));
    }
    if (e.deprecatedcount() != 0) errs.push_back(Invalid(Path("deprecatedCount"), Q(""), "needs to be unset"));
    if (!e.deprecatedsource().component().empty() || !e.deprecatedsource().host().empty()) {
      errs.push_back(Invalid(Path("deprecatedSource"), Q(""), "needs to be unset"));
    }
    return errs;
  }
  Append(errs, ValidateMetaUpdate(e.metadata(), old->metadata(), Path("metadata")));
  if (!SameMessage(e.series(), old->series()) || e.has_series() != old->has_series()) {
    Append(errs, ValidateEventSeries(ev));
  }
  auto immutable = [&](bool equal, std::string value, const char* name) { Append(errs, ValidateImmutable(equal, std::move(value), Path(name))); };
  immutable(SameMessage(e.regarding(), old->regarding()), "core.ObjectReference{...}", "involvedObject");
  immutable(e.reason() == old->reason(), Q(e.reason()), "reason");
  immutable(e.note() == old->note(), Q(e.note()), "message");
  immutable(SameMessage(e.deprecatedsource(), old->deprecatedsource()), "core.EventSource{...}", "source");
  immutable(e.deprecatedcount() == old->deprecatedcount(), Num(e.deprecatedcount()), "count");
  immutable(e.type() == old->type(), Q(e.type()), "type");
  return errs;
}

// ---- LimitRange / ResourceQuota ---------------------------------------------------------------

namespace {

bool IsStandardQuotaResourceName(const std::string& name) {
  static const std::set<std::string> kQuota = {
      "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.storage",
      "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods", "services",
      "replicationcontrollers", "resourcequotas", "secrets", "persistentvolumeclaims", "configmaps",
      "services.nodeports", "services.loadbalancers"};
  return kQuota.count(name) > 0 || name.rfind("requests.hugepages-", 0) == 0;
}

FieldErrors ValidateResourceNameGeneric(const std::string& name, const Path& path, bool container, bool quota) {
  FieldErrors errs = ValidateQualifiedNameField(name, path);
  if (!errs.empty()) return errs;
  bool prefixed = name.find('/') != std::string::npos;
  static const std::set<std::string> kStandard = {
      "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage",
      "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods", "services", "replicationcontrollers",
      "resourcequotas", "secrets", "persistentvolumeclaims", "storage", "requests.storage", "services.nodeports",
      "services.loadbalancers", "configmaps"};
  if (!prefixed && !kStandard.count(name) && !IsHugePageResourceName(name) && name.rfind("requests.hugepages-", 0) != 0 &&
      name.rfind("limits.hugepages-", 0) != 0) {
    errs.push_back(Invalid(path, Q(name), "must be a standard resource type or fully qualified"));
    return errs;
  }
  if (container) {
    if (!prefixed) {
      if (name != "cpu" && name != "memory" && name != "ephemeral-storage" && !IsHugePageResourceName(name)) {
        errs.push_back(Invalid(path, Q(name), "must be a standard resource for containers"));
      }
    } else if (!IsNativeResource(name) && !IsExtendedResourceName(name)) {
      errs.push_back(Invalid(path, Q(name), "doesn't follow extended resource name standard"));
    }
  }
  if (quota && !prefixed && !IsStandardQuotaResourceName(name)) {
    errs.push_back(Invalid(path, Q(name), "must be a standard resource for quota"));
  }
  return errs;
}

std::optional<Quantity> ParseQ(const std::string& s) {
  auto q = Quantity::Parse(s);
  if (!q.ok()) return std::nullopt;
  return *q;
}

}  // namespace

FieldErrors ValidateLimitRange(const corev1::LimitRange& lr, const corev1::LimitRange* old) {
  FieldErrors errs;
  if (old != nullptr) errs = ValidateMetaUpdate(lr.metadata(), old->metadata(), Path("metadata"));
  Append(errs, ValidateMeta(lr.metadata(), true, NameRule::kDNSSubdomain, Path("metadata")));
  Path limits = Path("spec").Child("limits");
  std::set<std::string> types;
  for (int i = 0; i < lr.spec().limits_size(); ++i) {
    const auto& item = lr.spec().limits(i);
    Path ip = limits.Index(i);
    const std::string& type = item.type();
    FieldErrors type_errs = ValidateQualifiedNameField(type, ip.Child("type"));
    if (type_errs.empty() && type.find('/') == std::string::npos && type != "Pod" && type != "Container" &&
        type != "PersistentVolumeClaim") {
      type_errs.push_back(Invalid(ip.Child("type"), Q(type), "must be a standard limit type or fully qualified"));
    }
    Append(errs, std::move(type_errs));
    if (!types.insert(type).second) errs.push_back(Duplicate(ip.Child("type"), Q(type)));
    bool container = type == "Pod" || type == "Container";
    std::set<std::string> keys;
    auto names = [&](const google::protobuf::Map<std::string, k8s::io::apimachinery::pkg::api::resource::Quantity>& m,
                     const char* field) {
      for (const auto& k : SortedKeys(m)) {
        Append(errs, ValidateResourceNameGeneric(k, ip.Child(field).Key(k), container, false));
        keys.insert(k);
      }
    };
    names(item.max(), "max");
    names(item.min(), "min");
    if (type == "Pod") {
      if (!item.default_().empty()) errs.push_back(Forbidden(ip.Child("default"), "may not be specified when `type` is 'Pod'"));
      if (!item.defaultrequest().empty()) errs.push_back(Forbidden(ip.Child("defaultRequest"), "may not be specified when `type` is 'Pod'"));
    } else {
      names(item.default_(), "default");
      names(item.defaultrequest(), "defaultRequest");
    }
    if (type == "PersistentVolumeClaim" && !item.min().count("storage") && !item.max().count("storage")) {
      errs.push_back(Required(ip.Child("limits"), "either minimum or maximum storage value is required, but neither was provided"));
    }
    names(item.maxlimitrequestratio(), "maxLimitRequestRatio");
    for (const auto& k : keys) {
      auto get = [&](const auto& m) -> std::optional<Quantity> {
        auto it = m.find(k);
        if (it == m.end()) return std::nullopt;
        return ParseQ(it->second.string());
      };
      auto mn = get(item.min()), mx = get(item.max());
      auto def = type == "Pod" ? std::nullopt : get(item.default_());
      auto defreq = type == "Pod" ? std::nullopt : get(item.defaultrequest());
      auto ratio = get(item.maxlimitrequestratio());
      if (mn && mx && mn->Cmp(*mx) > 0) {
        errs.push_back(Invalid(ip.Child("min").Key(k), mn->String(), "min value " + mn->String() + " is greater than max value " + mx->String()));
      }
      if (defreq && mn && mn->Cmp(*defreq) > 0) {
        errs.push_back(Invalid(ip.Child("defaultRequest").Key(k), defreq->String(),
                               "min value " + mn->String() + " is greater than default request value " + defreq->String()));
      }
      if (defreq && mx && defreq->Cmp(*mx) > 0) {
        errs.push_back(Invalid(ip.Child("defaultRequest").Key(k), defreq->String(),
                               "default request value " + defreq->String() + " is greater than max value " + mx->String()));
      }
      if (defreq && def && defreq->Cmp(*def) > 0) {
        errs.push_back(Invalid(ip.Child("defaultRequest").Key(k), defreq->String(),
                               "default request value " + defreq->String() + " is greater than default limit value " + def->String()));
      }
      if (def && mn && mn->Cmp(*def) > 0) {
        errs.push_back(Invalid(ip.Child("default").Key(k), mn->String(),
                               "min value " + mn->String() + " is greater than default value " + def->String()));
      }
      if (def && mx && def->Cmp(*mx) > 0) {
        errs.push_back(Invalid(ip.Child("default").Key(k), mx->String(),
                               "default value " + def->String() + " is greater than max value " + mx->String()));
      }
      if (ratio && ratio->Cmp(Quantity::FromInt(1)) < 0) {
        errs.push_back(Invalid(ip.Child("maxLimitRequestRatio").Key(k), ratio->String(), "ratio " + ratio->String() + " is less than 1"));
      }
      if (ratio && mn && mx && mn->MilliValue() > 0) {
        double limit = static_cast<double>(mx->MilliValue()) / static_cast<double>(mn->MilliValue());
        double r = static_cast<double>(ratio->MilliValue()) / 1000.0;
        if (r > limit) {
          char buf[64];
          std::snprintf(buf, sizeof(buf), "%f", limit);
          errs.push_back(Invalid(ip.Child("maxLimitRequestRatio").Key(k), ratio->String(),
                                 "ratio " + ratio->String() + " is greater than max/min = " + buf));
        }
      }
      bool overcommit = IsNativeResource(k) && !IsHugePageResourceName(k);
      if (!overcommit && def && defreq && def->Cmp(*defreq) != 0) {
        errs.push_back(Invalid(ip.Child("defaultRequest").Key(k), defreq->String(),
                               "default value " + def->String() + " must equal to defaultRequest value " + defreq->String() + " in " + k));
      }
    }
  }
  return errs;
}

namespace {

FieldErrors ValidateQuotaResources(const google::protobuf::Map<std::string, k8s::io::apimachinery::pkg::api::resource::Quantity>& m,
                                   const Path& path) {
  FieldErrors errs;
  for (const auto& k : SortedKeys(m)) {
    Path p = path.Key(k);
    Append(errs, ValidateResourceNameGeneric(k, p, false, true));
    Append(errs, ValidateResourceQuantityValue(k, m.at(k).string(), p));
  }
  return errs;
}

bool ScopeValidForResource(const std::string& scope, const std::string& resource) {
  static const std::set<std::string> kPodCompute = {"pods", "cpu", "memory", "requests.cpu", "requests.memory",
                                                    "limits.cpu", "limits.memory", "ephemeral-storage",
                                                    "requests.ephemeral-storage", "limits.ephemeral-storage"};
  if (scope == "BestEffort" || scope == "CrossNamespacePodAffinity") return resource == "pods";
  if (scope == "Terminating" || scope == "NotTerminating" || scope == "NotBestEffort" || scope == "PriorityClass") {
    return kPodCompute.count(resource) > 0 || resource.rfind("requests.hugepages-", 0) == 0;
  }
  return true;
}

bool IsStandardScope(const std::string& s) {
  return s == "Terminating" || s == "NotTerminating" || s == "BestEffort" || s == "NotBestEffort" || s == "PriorityClass" ||
         s == "CrossNamespacePodAffinity";
}

std::string GoScopes(const Repeated<std::string>& scopes) {
  if (scopes.empty()) return "[]core.ResourceQuotaScope(nil)";
  std::string out = "[]core.ResourceQuotaScope{";
  for (int i = 0; i < scopes.size(); ++i) out += (i > 0 ? ", " : "") + Q(scopes.Get(i));
  return out + "}";
}

FieldErrors ValidateQuotaSpec(const corev1::ResourceQuotaSpec& spec, const Path& path) {
  FieldErrors errs = ValidateQuotaResources(spec.hard(), path.Child("hard"));
  Path sp = path.Child("scopes");
  std::set<std::string> scopes;
  for (const auto& scope : spec.scopes()) {
    if (!IsStandardScope(scope)) errs.push_back(Invalid(sp, GoScopes(spec.scopes()), "unsupported scope"));
    for (const auto& k : SortedKeys(spec.hard())) {
      if (IsStandardQuotaResourceName(k) && !ScopeValidForResource(scope, k)) {
        errs.push_back(Invalid(sp, GoScopes(spec.scopes()), "unsupported scope applied to resource"));
      }
    }
    scopes.insert(scope);
  }
  if ((scopes.count("BestEffort") && scopes.count("NotBestEffort")) || (scopes.count("Terminating") && scopes.count("NotTerminating"))) {
    errs.push_back(Invalid(sp, GoScopes(spec.scopes()), "conflicting scopes"));
  }
  if (spec.has_scopeselector()) {
    Path mp = path.Child("scopeSelector").Child("matchExpressions");
    std::set<std::string> selected;
    for (const auto& req : spec.scopeselector().matchexpressions()) {
      if (!IsStandardScope(req.scopename())) errs.push_back(Invalid(mp.Child("scopeName"), Q(req.scopename()), "unsupported scope"));
      bool exists_only = req.scopename() == "BestEffort" || req.scopename() == "NotBestEffort" || req.scopename() == "Terminating" ||
                         req.scopename() == "NotTerminating" || req.scopename() == "CrossNamespacePodAffinity";
      if (exists_only && req.operator_() != "Exists") {
        errs.push_back(Invalid(mp.Child("operator"), Q(req.operator_()),
                               "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, "
                               "ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or "
                               "ResourceQuotaScopeCrossNamespacePodAffinity"));
      }
      if (req.operator_() == "In" || req.operator_() == "NotIn") {
        if (req.values().empty()) {
          errs.push_back(Required(mp.Child("values"), "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
        }
      } else if (req.operator_() == "Exists" || req.operator_() == "DoesNotExist") {
        if (!req.values().empty()) {
          errs.push_back(Invalid(mp.Child("values"), GoStrings(req.values()),
                                 "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"));
        }
      } else {
        errs.push_back(Invalid(mp.Child("operator"), Q(req.operator_()), "not a valid selector operator"));
      }
      selected.insert(req.scopename());
    }
    if ((selected.count("BestEffort") && selected.count("NotBestEffort")) ||
        (selected.count("Terminating") && selected.count("NotTerminating"))) {
      errs.push_back(Invalid(mp, GoScopes(spec.scopes()), "conflicting scopes"));
    }
  }
  return errs;
}

}  // namespace

FieldErrors ValidateResourceQuota(const corev1::ResourceQuota& rq, const corev1::ResourceQuota* old) {
  Path meta("metadata");
  if (old == nullptr) {
    FieldErrors errs = ValidateMeta(rq.metadata(), true, NameRule::kDNSSubdomain, meta);
    Append(errs, ValidateQuotaSpec(rq.spec(), Path("spec")));
    Append(errs, ValidateQuotaResources(rq.status().hard(), Path("status").Child("hard")));
    Append(errs, ValidateQuotaResources(rq.status().used(), Path("status").Child("used")));
    return errs;
  }
  FieldErrors errs = ValidateMetaUpdate(rq.metadata(), old->metadata(), meta);
  Append(errs, ValidateQuotaSpec(rq.spec(), Path("spec")));
  std::set<std::string> a(rq.spec().scopes().begin(), rq.spec().scopes().end());
  std::set<std::string> b(old->spec().scopes().begin(), old->spec().scopes().end());
  if (a != b) errs.push_back(Invalid(Path("spec").Child("scopes"), GoScopes(rq.spec().scopes()), "field is immutable"));
  return errs;
}

FieldErrors ValidateResourceQuotaStatusUpdate(const corev1::ResourceQuota& rq, const corev1::ResourceQuota& old) {
  FieldErrors errs = ValidateMetaUpdate(rq.metadata(), old.metadata(), Path("metadata"));
  if (rq.metadata().resourceversion().empty()) errs.push_back(Required(Path("resourceVersion")));
  Append(errs, ValidateQuotaResources(rq.status().hard(), Path("status").Child("hard")));
  Append(errs, ValidateQuotaResources(rq.status().used(), Path("status").Child("used")));
  return errs;
}

// ---- PersistentVolumeClaim --------------------------------------------------------------------

namespace {

FieldErrors ValidatePVCSpec(const corev1::PersistentVolumeClaimSpec& spec, const Path& path) {
  FieldErrors errs;
  if (spec.accessmodes().empty()) errs.push_back(Required(path.Child("accessModes"), "at least 1 access mode is required"));
  const std::vector<std::string> kModes = {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"};
  bool rwop = false;
  for (const auto& m : spec.accessmodes()) {
    if (std::find(kModes.begin(), kModes.end(), m) == kModes.end()) {
      errs.push_back(NotSupported(path.Child("accessModes"), Q(m), kModes));
    }
    rwop = rwop || m == "ReadWriteOncePod";
  }
  if (rwop && spec.accessmodes_size() > 1) {
    errs.push_back(Forbidden(path.Child("accessModes"), "may not use ReadWriteOncePod with other access modes"));
  }
  Append(errs, ValidateLabelSelector(spec.has_selector() ? &spec.selector() : nullptr, path.Child("selector")));
  Path storage = path.Child("resources").Key("storage");
  auto it = spec.resources().requests().find("storage");
  if (it == spec.resources().requests().end()) {
    errs.push_back(Required(storage));
  } else {
    auto q = Quantity::Parse(it->second.string());
    if (!q.ok()) {
      errs.push_back(Invalid(storage, Q(it->second.string()), q.status().message()));
    } else if (q->Sign() < 0) {
      errs.push_back(Invalid(storage, Q(q->String()), "must be greater than or equal to 0"));
    } else if (q->IsZero()) {
      errs.push_back(Invalid(storage, Q(q->String()), "must be greater than zero"));
    }
  }
  if (spec.has_storageclassname() && !spec.storageclassname().empty()) {
    Append(errs, ValidateNameField(NameRule::kDNSSubdomain, spec.storageclassname(), path.Child("storageClassName")));
  }
  if (spec.has_volumemode() && spec.volumemode() != "Block" && spec.volumemode() != "Filesystem") {
    errs.push_back(NotSupported(path.Child("volumeMode"), Q(spec.volumemode()), {"Block", "Filesystem"}));
  }
  return errs;
}

}  // namespace

FieldErrors ValidatePersistentVolumeClaim(const corev1::PersistentVolumeClaim& pvc, const corev1::PersistentVolumeClaim* old) {
  FieldErrors errs;
  if (old != nullptr) errs = ValidateMetaUpdate(pvc.metadata(), old->metadata(), Path("metadata"));
  Append(errs, ValidateMeta(pvc.metadata(), true, NameRule::kDNSSubdomain, Path("metadata")));
  Append(errs, ValidatePVCSpec(pvc.spec(), Path("spec")));
  if (old == nullptr) return errs;
  corev1::PersistentVolumeClaimSpec a = pvc.spec(), b = old->spec();
  if (b.volumename().empty()) b.set_volumename(a.volumename());  // volumeName may be set once
  if (pvc.status().phase() == "Bound") {
    (*a.mutable_resources()->mutable_requests())["storage"] = b.resources().requests().count("storage")
                                                                  ? b.resources().requests().at("storage")
                                                                  : k8s::io::apimachinery::pkg::api::resource::Quantity();
    if (!b.resources().requests().count("storage")) a.mutable_resources()->mutable_requests()->erase("storage");
  }
  if (!SameMessage(a, b)) {
    errs.push_back(Forbidden(Path("spec"), "spec is immutable after creation except resources.requests and "
                                           "volumeAttributesClassName for bound claims\n"));
  }
  auto size = [](const corev1::PersistentVolumeClaimSpec& s) -> std::optional<Quantity> {
    auto it = s.resources().requests().find("storage");
    return it == s.resources().requests().end() ? std::nullopt : ParseQ(it->second.string());
  };
  auto new_size = size(pvc.spec()), old_size = size(old->spec());
  if (new_size && old_size && new_size->Cmp(*old_size) < 0) {
    auto cap = old->status().capacity().find("storage");
    auto status_size = cap == old->status().capacity().end() ? std::nullopt : ParseQ(cap->second.string());
    if (!status_size || new_size->Cmp(*status_size) <= 0) {
      errs.push_back(Forbidden(Path("spec").Child("resources", "requests").Child("storage"), "field can not be less than status.capacity"));
    }
  }
  return errs;
}

FieldErrors ValidatePersistentVolumeClaimStatusUpdate(const corev1::PersistentVolumeClaim& pvc,
                                                      const corev1::PersistentVolumeClaim& old) {
  FieldErrors errs = ValidateMetaUpdate(pvc.metadata(), old.metadata(), Path("metadata"));
  if (pvc.metadata().resourceversion().empty()) errs.push_back(Required(Path("resourceVersion")));
  if (pvc.spec().accessmodes().empty()) errs.push_back(Required(Path("Spec").Child("accessModes")));
  for (const auto& k : SortedKeys(pvc.status().capacity())) {
    auto q = ParseQ(pvc.status().capacity().at(k).string());
    if (q && q->Value() < 0) {
      errs.push_back(Invalid(Path("status").Child("capacity").Key(k), Num(q->Value()), "must be a valid resource quantity"));
    }
  }
  return errs;
}

}  // namespace ck::apiserver::validation
