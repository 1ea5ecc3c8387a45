// Smaller kinds: PodDisruptionBudget (policy), PriorityClass (scheduling), Lease (coordination),
// EndpointSlice (discovery) and the access reviews (authorization), after upstream's
// pkg/apis/{policy,scheduling,coordination,discovery,authorization}/validation.
#include "apiserver/validation/kinds.h"

namespace ck::apiserver::validation {

// ---- PodDisruptionBudget ----------------------------------------------------------------------

FieldErrors ValidatePodDisruptionBudget(const policyv1::PodDisruptionBudget& pdb, const policyv1::PodDisruptionBudget* old) {
  Path meta("metadata");
  Path spec("spec");
  FieldErrors errs = old == nullptr ? ValidateMeta(pdb.metadata(), true, NameRule::kDNSSubdomain, meta)
                                    : ValidateMetaUpdate(pdb.metadata(), old->metadata(), meta);
  const auto& s = pdb.spec();
  if (s.has_minavailable() && s.has_maxunavailable()) {
    errs.push_back(Invalid(spec, "policy.PodDisruptionBudgetSpec{MinAvailable:" + GoIntOrString(s.minavailable()) +
                                     ", MaxUnavailable:" + GoIntOrString(s.maxunavailable()) + "}",
                           "minAvailable and maxUnavailable cannot be both set"));
  }
  if (s.has_minavailable()) {
    Append(errs, ValidatePositiveIntOrPercent(s.minavailable(), spec.Child("minAvailable")));
    Append(errs, IsNotMoreThan100Percent(s.minavailable(), spec.Child("minAvailable")));
  }
  if (s.has_maxunavailable()) {
    Append(errs, ValidatePositiveIntOrPercent(s.maxunavailable(), spec.Child("maxUnavailable")));
    Append(errs, IsNotMoreThan100Percent(s.maxunavailable(), spec.Child("maxUnavailable")));
  }
  Append(errs, ValidateLabelSelector(s.has_selector() ? &s.selector() : nullptr, spec.Child("selector")));
  if (s.has_unhealthypodevictionpolicy() && s.unhealthypodevictionpolicy() != "AlwaysAllow" &&
      s.unhealthypodevictionpolicy() != "IfHealthyBudget") {
    errs.push_back(NotSupported(spec.Child("unhealthyPodEvictionPolicy"), Q(s.unhealthypodevictionpolicy()),
                                {"AlwaysAllow", "IfHealthyBudget"}));
  }
  return errs;
}

FieldErrors ValidatePodDisruptionBudgetStatusUpdate(const policyv1::PodDisruptionBudget& pdb,
                                                    const policyv1::PodDisruptionBudget& old) {
  FieldErrors errs = ValidateMetaUpdate(pdb.metadata(), old.metadata(), Path("metadata"));
  Path p("status");
  const auto& s = pdb.status();
  Append(errs, ValidateNonnegative(s.disruptionsallowed(), p.Child("disruptionsAllowed")));
  Append(errs, ValidateNonnegative(s.currenthealthy(), p.Child("currentHealthy")));
  Append(errs, ValidateNonnegative(s.desiredhealthy(), p.Child("desiredHealthy")));
  Append(errs, ValidateNonnegative(s.expectedpods(), p.Child("expectedPods")));
  std::set<std::string> types;
  for (int i = 0; i < s.conditions_size(); ++i) {
    const auto& c = s.conditions(i);
    Path cp = p.Child("conditions").Index(i);
    if (!types.insert(c.type()).second) errs.push_back(Duplicate(cp.Child("type"), Q(c.type())));
    Append(errs, ValidateLabelName(c.type(), cp.Child("type")));
    if (c.status() != "True" && c.status() != "False" && c.status() != "Unknown") {
      errs.push_back(NotSupported(cp.Child("status"), Q(c.status()), {"False", "True", "Unknown"}));
    }
    if (c.observedgeneration() < 0) {
      errs.push_back(Invalid(cp.Child("observedGeneration"), Num(c.observedgeneration()), "must be greater than or equal to zero"));
    }
    if (!c.has_lasttransitiontime() || (c.lasttransitiontime().seconds() == 0 && c.lasttransitiontime().nanos() == 0)) {
      errs.push_back(Required(cp.Child("lastTransitionTime"), "must be set"));
    }
    if (c.reason().empty()) errs.push_back(Required(cp.Child("reason"), "must be set"));
  }
  return errs;
}

// ---- PriorityClass ----------------------------------------------------------------------------

FieldErrors ValidatePriorityClass(const schedv1::PriorityClass& pc, const schedv1::PriorityClass* old) {
  Path meta("metadata");
  if (old != nullptr) {
    FieldErrors errs = ValidateMetaUpdate(pc.metadata(), old->metadata(), meta);
    if (pc.value() != old->value()) errs.push_back(Forbidden(Path("value"), "may not be changed in an update."));
    bool same = pc.has_preemptionpolicy() == old->has_preemptionpolicy() && pc.preemptionpolicy() == old->preemptionpolicy();
    Append(errs, ValidateImmutable(same, pc.has_preemptionpolicy() ? Q(pc.preemptionpolicy()) : "null", Path("preemptionPolicy")));
    return errs;
  }
  FieldErrors errs = ValidateMeta(pc.metadata(), false, NameRule::kDNSSubdomain, meta);
  const std::string& name = pc.metadata().name();
  if (name.rfind("system-", 0) == 0) {
    struct Known {
      const char* name;
      int32_t value;
    };
    static const Known kSystem[] = {{"system-node-critical", 2000001000}, {"system-cluster-critical", 2000000000}};
    std::string err = name + " is not a known system priority class";
    bool ok = false;
    for (const auto& k : kSystem) {
      if (name != k.name) continue;
      if (pc.value() != k.value) {
        err = "value of " + name + " PriorityClass must be " + std::to_string(k.value);
      } else if (pc.globaldefault()) {
        err = "globalDefault of " + name + " PriorityClass must be false";
      } else {
        ok = true;
      }
    }
    if (!ok) {
      errs.push_back(Forbidden(meta.Child("name"),
                               "priority class names with 'system-' prefix are reserved for system use only. error: " + err));
    }
  } else if (pc.value() > 1000000000) {
    errs.push_back(Forbidden(Path("value"), "maximum allowed value of a user defined priority is 1000000000"));
  }
  if (pc.has_preemptionpolicy()) {
    const std::string& p = pc.preemptionpolicy();
    if (p.empty()) {
      errs.push_back(Required(Path("preemptionPolicy")));
    } else if (p != "PreemptLowerPriority" && p != "Never") {
      errs.push_back(NotSupported(Path("preemptionPolicy"), Q(p), {"PreemptLowerPriority", "Never"}));
    }
  }
  return errs;
}

// ---- Lease ------------------------------------------------------------------------------------

FieldErrors ValidateLease(const coordv1::Lease& lease, const coordv1::Lease* old) {
  Path meta("metadata");
  FieldErrors errs;
  if (old != nullptr) errs = ValidateMetaUpdate(lease.metadata(), old->metadata(), meta);
  Append(errs, ValidateMeta(lease.metadata(), true, NameRule::kDNSSubdomain, meta));
  const auto& s = lease.spec();
  Path spec("spec");
  if (s.has_leasedurationseconds() && s.leasedurationseconds() <= 0) {
    errs.push_back(Invalid(spec.Child("leaseDurationSeconds"), Num(s.leasedurationseconds()), "must be greater than 0"));
  }
  if (s.has_leasetransitions() && s.leasetransitions() < 0) {
    errs.push_back(Invalid(spec.Child("leaseTransitions"), Num(s.leasetransitions()), "must be greater than or equal to 0"));
  }
  if (s.has_strategy() && !s.strategy().empty() && s.strategy() != "OldestEmulationVersion") {
    errs.push_back(NotSupported(spec.Child("strategy"), Q(s.strategy()), {"OldestEmulationVersion"}));
  }
  if (s.has_preferredholder() && !s.preferredholder().empty() && (!s.has_strategy() || s.strategy().empty())) {
    errs.push_back(Forbidden(spec.Child("preferredHolder"), "may only be specified if `strategy` is defined"));
  }
  return errs;
}

// ---- EndpointSlice ----------------------------------------------------------------------------

namespace {

FieldErrors ValidateSliceAddress(const std::string& address, const std::string& type, const Path& path) {
  FieldErrors errs;
  if (type == "IPv4" || type == "IPv6") {
    IpAddr a;
    if (!ParseIp(address, &a) || a.v6 != (type == "IPv6")) {
      return {Invalid(path, Q(address), type == "IPv4" ? "must be a valid IPv4 address" : "must be a valid IPv6 address")};
    }
    bool unspecified = true;
    for (int i = 0; i < (a.v6 ? 16 : 4); ++i) unspecified = unspecified && a.bytes[i] == 0;
    if (unspecified) errs.push_back(Invalid(path, Q(address), "may not be unspecified (" + address + ")"));
    // Loopback addresses are allowed: process-mode pods live on 127.0.0.0/8 (DESIGN.md §5).
    bool link_local = a.v6 ? (a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80) : (a.bytes[0] == 169 && a.bytes[1] == 254);
    if (link_local) errs.push_back(Invalid(path, Q(address), "may not be in the link-local range (169.254.0.0/16, fe80::/10)"));
  } else if (type == "FQDN") {
    std::string name = address;
    if (name.empty()) return {Required(path)};
    if (name.back() == '.') name.pop_back();
    Msgs m = IsDNS1123Subdomain(name);
    if (!m.empty()) {
      std::string joined;
      for (size_t i = 0; i < m.size(); ++i) joined += (i > 0 ? "," : "") + m[i];
      return {Invalid(path, Q(name), joined)};
    }
    if (name.find('.') == std::string::npos) {
      return {Invalid(path, Q(name), "should be a domain with at least two segments separated by dots")};
    }
  }
  return errs;
}

}  // namespace

FieldErrors ValidateEndpointSlice(const discv1::EndpointSlice& slice, const discv1::EndpointSlice* old) {
  Path meta("metadata");
  FieldErrors errs;
  if (old != nullptr) errs = ValidateMetaUpdate(slice.metadata(), old->metadata(), meta);
  Append(errs, ValidateMeta(slice.metadata(), true, NameRule::kDNSSubdomain, meta));
  Path ep("endpoints");
  if (slice.endpoints_size() > 1000) {
    errs.push_back(TooMany(ep, slice.endpoints_size(), 1000));
  } else {
    for (int i = 0; i < slice.endpoints_size(); ++i) {
      const auto& e = slice.endpoints(i);
      Path p = ep.Index(i);
      Path ap = p.Child("addresses");
      if (e.addresses().empty()) {
        errs.push_back(Required(ap, "must contain at least 1 address"));
      } else if (e.addresses_size() > 100) {
        errs.push_back(TooMany(ap, e.addresses_size(), 100));
      }
      for (int j = 0; j < e.addresses_size(); ++j) Append(errs, ValidateSliceAddress(e.addresses(j), slice.addresstype(), ap.Index(j)));
      if (e.has_nodename()) Append(errs, ValidateNameField(NameRule::kDNSSubdomain, e.nodename(), p.Child("nodeName")));
      if (e.deprecatedtopology_size() > 16) errs.push_back(TooMany(p.Child("deprecatedTopology"), e.deprecatedtopology_size(), 16));
      Append(errs, ValidateLabels(e.deprecatedtopology(), p.Child("deprecatedTopology")));
      if (e.has_hostname()) Append(errs, ValidateDNS1123LabelField(e.hostname(), p.Child("hostname")));
      if (e.has_hints()) {
        Path hp = p.Child("hints").Child("forZones");
        if (e.hints().forzones_size() > 8) errs.push_back(TooMany(hp, e.hints().forzones_size(), 8));
        std::set<std::string> zones;
        for (int j = 0; j < e.hints().forzones_size(); ++j) {
          const std::string& z = e.hints().forzones(j).name();
          if (!zones.insert(z).second) errs.push_back(Duplicate(hp.Index(j), Q(z)));
          Path zp = hp.Index(j).Child("name");
          for (auto& m : IsLabelValue(z)) errs.push_back(Invalid(zp, Q(z), m));
        }
      }
    }
  }
  Path pp("ports");
  if (slice.ports_size() > 20000) {
    errs.push_back(TooMany(pp, slice.ports_size(), 20000));
  } else {
    std::set<std::string> names;
    for (int i = 0; i < slice.ports_size(); ++i) {
      const auto& port = slice.ports(i);
      Path p = pp.Index(i);
      if (!port.name().empty()) Append(errs, ValidateDNS1123LabelField(port.name(), p.Child("name")));
      if (!names.insert(port.name()).second) errs.push_back(Duplicate(p.Child("name"), Q(port.name())));
      if (!port.has_protocol()) {
        errs.push_back(Required(p.Child("protocol")));
      } else if (port.protocol() != "SCTP" && port.protocol() != "TCP" && port.protocol() != "UDP") {
        errs.push_back(NotSupported(p.Child("protocol"), Q(port.protocol()), {"SCTP", "TCP", "UDP"}));
      }
      if (port.has_appprotocol()) Append(errs, ValidateQualifiedNameField(port.appprotocol(), p.Child("appProtocol")));
    }
  }
  if (old == nullptr) {
    const std::string& t = slice.addresstype();
    if (t.empty()) {
      errs.push_back(Required(Path("addressType")));
    } else if (t != "FQDN" && t != "IPv4" && t != "IPv6") {
      errs.push_back(NotSupported(Path("addressType"), Q(t), {"FQDN", "IPv4", "IPv6"}));
    }
  } else {
    Append(errs, ValidateImmutable(slice.addresstype() == old->addresstype(), Q(slice.addresstype()), Path("addressType")));
  }
  return errs;
}

// ---- Access reviews ---------------------------------------------------------------------------

namespace {

FieldErrors ValidateReviewAttributes(bool has_resource, bool has_non_resource, const Path& spec) {
  if (!has_resource && !has_non_resource) {
    return {Required(spec.Child("resourceAttributes"), "exactly one of nonResourceAttributes or resourceAttributes must be specified")};
  }
  if (has_resource && has_non_resource) {
    return {Invalid(spec.Child("nonResourceAttributes"), "&authorization.NonResourceAttributes{...}",
                    "cannot be specified in combination with resourceAttributes")};
  }
  return {};
}

bool MetaEmptyExceptManagedFields(const ObjectMeta& m) {
  ObjectMeta copy = m;
  copy.clear_managedfields();
  copy.clear_creationtimestamp();
  return copy.ByteSizeLong() == 0;
}

}  // namespace

FieldErrors ValidateSubjectAccessReview(const authzv1::SubjectAccessReview& r) {
  Path spec("spec");
  FieldErrors errs = ValidateReviewAttributes(r.spec().has_resourceattributes(), r.spec().has_nonresourceattributes(), spec);
  if (r.spec().user().empty() && r.spec().groups().empty()) {
    errs.push_back(Invalid(spec.Child("user"), Q(r.spec().user()), "at least one of user or group must be specified"));
  }
  if (!MetaEmptyExceptManagedFields(r.metadata())) errs.push_back(Invalid(Path("metadata"), "v1.ObjectMeta{...}", "must be empty"));
  return errs;
}

FieldErrors ValidateSelfSubjectAccessReview(const authzv1::SelfSubjectAccessReview& r) {
  FieldErrors errs = ValidateReviewAttributes(r.spec().has_resourceattributes(), r.spec().has_nonresourceattributes(), Path("spec"));
  if (!MetaEmptyExceptManagedFields(r.metadata())) errs.push_back(Invalid(Path("metadata"), "v1.ObjectMeta{...}", "must be empty"));
  return errs;
}

FieldErrors ValidateLocalSubjectAccessReview(const authzv1::LocalSubjectAccessReview& r) {
  Path spec("spec");
  FieldErrors errs;
  if (r.spec().user().empty() && r.spec().groups().empty()) {
    errs.push_back(Invalid(spec.Child("user"), Q(r.spec().user()), "at least one of user or group must be specified"));
  }
  if (!r.spec().has_resourceattributes() && !r.spec().has_nonresourceattributes()) {
    errs.push_back(Required(spec.Child("resourceAttributes"), "exactly one of nonResourceAttributes or resourceAttributes must be specified"));
  }
  ObjectMeta meta = r.metadata();
  meta.clear_namespace_();
  if (!MetaEmptyExceptManagedFields(meta)) {
    errs.push_back(Invalid(Path("metadata"), "v1.ObjectMeta{...}", "must be empty except for namespace"));
  }
  if (r.spec().has_resourceattributes() && r.spec().resourceattributes().namespace_() != r.metadata().namespace_()) {
    errs.push_back(Invalid(spec.Child("resourceAttributes", "namespace"), Q(r.spec().resourceattributes().namespace_()),
                           "must match metadata.namespace"));
  }
  if (r.spec().has_nonresourceattributes()) {
    errs.push_back(Invalid(spec.Child("nonResourceAttributes"), "&authorization.NonResourceAttributes{...}",
                           "disallowed on this kind of request"));
  }
  return errs;
}

}  // namespace ck::apiserver::validation
