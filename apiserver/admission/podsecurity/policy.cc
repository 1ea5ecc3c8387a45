#include "apiserver/admission/podsecurity/policy.h"

#include <algorithm>
#include <charconv>
#include <set>

namespace ck::apiserver::podsecurity {
namespace {

// The fields of a container the checks read; init, regular and ephemeral containers share them.
struct ContainerView {
  const std::string* name;
  const corev1::SecurityContext* sc;  // null when unset
  const google::protobuf::RepeatedPtrField<corev1::ContainerPort>* ports;
};

template <typename C>
ContainerView ViewOf(const C& c) {
  return {&c.name(), c.has_securitycontext() ? &c.securitycontext() : nullptr, &c.ports()};
}

// upstream visitContainers: init containers, containers, ephemeral containers.
std::vector<ContainerView> Containers(const corev1::PodSpec& spec) {
  std::vector<ContainerView> out;
  for (const auto& c : spec.initcontainers()) out.push_back(ViewOf(c));
  for (const auto& c : spec.containers()) out.push_back(ViewOf(c));
  for (const auto& c : spec.ephemeralcontainers()) out.push_back(ViewOf(c.ephemeralcontainercommon()));
  return out;
}

const corev1::PodSecurityContext* PodSc(const corev1::PodSpec& spec) {
  return spec.has_securitycontext() ? &spec.securitycontext() : nullptr;
}

std::string Pluralize(std::string_view one, std::string_view many, size_t n) {
  return std::string(n == 1 ? one : many);
}

std::string JoinQuote(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += "\"" + items[i] + "\"";
  }
  return out;
}

std::string JoinQuote(const std::set<std::string>& items) { return JoinQuote(std::vector<std::string>(items.begin(), items.end())); }

std::string Join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += items[i];
  }
  return out;
}

// "containers "a", "b"" (or "container "a"").
std::string ContainerList(const std::vector<std::string>& names) {
  return Pluralize("container", "containers", names.size()) + " " + JoinQuote(names);
}

bool IsWindowsPod(const corev1::PodSpec& spec) { return spec.has_os() && spec.os().name() == "windows"; }
// Pods in a user namespace (hostUsers: false) get relaxed runAsNonRoot and procMount checks.
bool InUserNamespace(const corev1::PodSpec& spec) { return spec.has_hostusers() && !spec.hostusers(); }

using Check = bool (*)(const metav1::ObjectMeta&, const corev1::PodSpec&, Violation*);

// ---- baseline ----

bool AppArmorProfile(const metav1::ObjectMeta& meta, const corev1::PodSpec& spec, Violation* v) {
  static constexpr std::string_view kPrefix = "container.apparmor.security.beta.kubernetes.io/";
  std::vector<std::string> bad;
  for (const auto& [k, val] : meta.annotations()) {
    if (!k.starts_with(kPrefix)) continue;
    if (val.empty() || val == "runtime/default" || val.starts_with("localhost/")) continue;
    bad.push_back(k + "=\"" + val + "\"");
  }
  std::sort(bad.begin(), bad.end());
  std::vector<std::string> setters;
  if (PodSc(spec) && PodSc(spec)->has_apparmorprofile() && PodSc(spec)->apparmorprofile().type() == "Unconfined") {
    setters.push_back("pod");
  }
  std::vector<std::string> containers;
  for (const auto& c : Containers(spec)) {
    if (c.sc && c.sc->has_apparmorprofile() && c.sc->apparmorprofile().type() == "Unconfined") containers.push_back(*c.name);
  }
  if (!containers.empty()) setters.push_back(ContainerList(containers));
  if (!setters.empty()) {
    bad.push_back(Join(setters, " and ") + " must not set securityContext.appArmorProfile.type to \"Unconfined\"");
  }
  if (bad.empty()) return true;
  *v = {Pluralize("forbidden AppArmor profile", "forbidden AppArmor profiles", bad.size()), Join(bad, ", ")};
  return false;
}

bool CapabilitiesBaseline(const metav1::ObjectMeta&, const corev1::PodSpec& spec, Violation* v) {
  static const std::set<std::string, std::less<>> kAllowed = {"AUDIT_WRITE", "CHOWN",  "DAC_OVERRIDE", "FOWNER",
                                                              "FSETID",      "KILL",   "MKNOD",        "NET_BIND_SERVICE",
                                                              "SETFCAP",     "SETGID", "SETPCAP",      "SETUID",
                                                              "SYS_CHROOT"};
  std::vector<std::string> bad;
  std::set<std::string> caps;
  for (const auto& c : Containers(spec)) {
    if (!c.sc || !c.sc->has_capabilities()) continue;
    bool ok = true;
    for (const auto& cap : c.sc->capabilities().add()) {
      if (kAllowed.count(cap) == 0) {
        ok = false;
        caps.insert(cap);
      }
    }
    if (!ok) bad.push_back(*c.name);
  }
  if (bad.empty()) return true;
  *v = {"non-default capabilities",
        ContainerList(bad) + " must not include " + JoinQuote(caps) + " in securityContext.capabilities.add"};
  return false;
}

bool HostNamespaces(const metav1::ObjectMeta&, const corev1::PodSpec& spec, Violation* v) {
  std::vector<std::string> set;  // sorted like upstream's set
  if (spec.hostipc()) set.push_back("hostIPC=true");
  if (spec.hostnetwork()) set.push_back("hostNetwork=true");
  if (spec.hostpid()) set.push_back("hostPID=true");
  if (set.empty()) return true;
  *v = {"host namespaces", Join(set, ", ")};
  return false;
}

bool HostPathVolumes(const metav1::ObjectMeta&, const corev1::PodSpec& spec, Violation* v) {
  std::vector<std::string> names;
  for (const auto& vol : spec.volumes()) {
    if (vol.volumesource().has_hostpath()) names.push_back(vol.name());
  }
  if (names.empty()) return true;
  *v = {"hostPath volumes", Pluralize("volume", "volumes", names.size()) + " " + JoinQuote(names)};
  return false;
}

bool HostPorts(const metav1::ObjectMeta&, const corev1::PodSpec& spec, Violation* v) {
  std::vector<std::string> bad;
  std::set<int32_t> ports;
  for (const auto& c : Containers(spec)) {
    bool ok = true;
    for (const auto& p : *c.ports) {
      if (p.hostport() != 0) {
        ok = false;
        ports.insert(p.hostport());
      }
    }
    if (!ok) bad.push_back(*c.name);
  }
  if (bad.empty()) return true;
  // upstream sorts the port numbers as strings.
  std::vector<std::string> port_strings;
  for (int32_t p : ports) port_strings.push_back(std::to_string(p));
  std::sort(port_strings.begin(), port_strings.end());
  *v = {"hostPort", ContainerList(bad) + " " + Pluralize("uses", "use", bad.size()) + " " +
                        Pluralize("hostPort", "hostPorts", port_strings.size()) + " " + Join(port_strings, ", ")};
  return false;
}

bool Privileged(const metav1::ObjectMeta&, const corev1::PodSpec& spec, Violation* v) {
  std::vector<std::string> bad;
  for (const auto& c : Containers(spec)) {
    if (c.sc && c.sc->has_privileged() && c.sc->privileged()) bad.push_back(*c.name);
  }
  if (bad.empty()) return true;
  *v = {"privileged", ContainerList(bad) + " must not set securityContext.privileged=true"};
  return false;
}

bool ProcMount(const metav1::ObjectMeta&, const corev1::PodSpec& spec, Violation* v) {
  if (InUserNamespace(spec)) return true;
  std::vector<std::string> bad;
  std::set<std::string> types;
  for (const auto& c : Containers(spec)) {
    if (c.sc && c.sc->has_procmount() && c.sc->procmount() != "Default") {
      bad.push_back(*c.name);
      types.insert(c.sc->procmount());
    }
  }
  if (bad.empty()) return true;
  *v = {"procMount", ContainerList(bad) + " must not set securityContext.procMount to " + JoinQuote(types)};
  return false;
}

bool SeLinuxOptions(const metav1::ObjectMeta&, const corev1::PodSpec& spec, Violation* v) {
  static const std::set<std::string, std::less<>> kTypes = {"", "container_t", "container_init_t", "container_kvm_t",
                                                            "container_engine_t"};
  std::set<std::string> bad_types;
  bool set_user = false, set_role = false;
  auto valid = [&](const corev1::SELinuxOptions& o) {
    bool ok = true;
    if (kTypes.count(o.type()) == 0) {
      ok = false;
      bad_types.insert(o.type());
    }
    if (!o.user().empty()) ok = false, set_user = true;
    if (!o.role().empty()) ok = false, set_role = true;
    return ok;
  };
  std::vector<std::string> setters;
  if (PodSc(spec) && PodSc(spec)->has_selinuxoptions() && !valid(PodSc(spec)->selinuxoptions())) setters.push_back("pod");
  std::vector<std::string> bad;
  for (const auto& c : Containers(spec)) {
    if (c.sc && c.sc->has_selinuxoptions() && !valid(c.sc->selinuxoptions())) bad.push_back(*c.name);
  }
  if (!bad.empty()) setters.push_back(ContainerList(bad));
  if (setters.empty()) return true;
  std::vector<std::string> data;
  if (!bad_types.empty()) data.push_back(Pluralize("type", "types", bad_types.size()) + " " + JoinQuote(bad_types));
  if (set_user) data.push_back("user may not be set");
  if (set_role) data.push_back("role may not be set");
  *v = {"seLinuxOptions", Join(setters, " and ") + " set forbidden securityContext.seLinuxOptions: " + Join(data, "; ")};
  return false;
}

bool ValidSeccomp(const std::string& type) { return type == "RuntimeDefault" || type == "Localhost"; }

// Shared by the baseline and restricted seccomp checks; `require` adds the restricted rule that
// the profile must be set somewhere.
bool Seccomp(const corev1::PodSpec& spec, bool require, Violation* v) {
  std::vector<std::string> setters;
  std::set<std::string> bad_values;
  bool pod_set = false;
  if (PodSc(spec) && PodSc(spec)->has_seccompprofile()) {
    const std::string& t = PodSc(spec)->seccompprofile().type();
    if (!ValidSeccomp(t)) {
      setters.push_back("pod");
      bad_values.insert(t);
    } else {
      pod_set = true;
    }
  }
  std::vector<std::string> explicit_bad, implicit_bad;
  for (const auto& c : Containers(spec)) {
    if (c.sc && c.sc->has_seccompprofile()) {
      if (!ValidSeccomp(c.sc->seccompprofile().type())) {
        explicit_bad.push_back(*c.name);
        bad_values.insert(c.sc->seccompprofile().type());
      }
    } else if (!pod_set) {
      implicit_bad.push_back(*c.name);
    }
  }
  if (!explicit_bad.empty()) setters.push_back(ContainerList(explicit_bad));
  if (!setters.empty()) {
    *v = {"seccompProfile",
          Join(setters, " and ") + " must not set securityContext.seccompProfile.type to " + JoinQuote(bad_values)};
    return false;
  }
  if (require && !implicit_bad.empty()) {
    *v = {"seccompProfile", "pod or " + ContainerList(implicit_bad) +
                                " must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\""};
    return false;
  }
  return true;
}

bool SeccompBaseline(const metav1::ObjectMeta&, const corev1::PodSpec& spec, Violation* v) {
  return Seccomp(spec, /*require=*/false, v);
}

bool Sysctls(const metav1::ObjectMeta&, const corev1::PodSpec& spec, Violation* v) {
  static const std::set<std::string, std::less<>> kSafe = {
      "kernel.shm_rmid_forced",        "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
      "net.ipv4.ping_group_range",     "net.ipv4.ip_unprivileged_port_start", "net.ipv4.ip_local_reserved_ports",
      "net.ipv4.tcp_keepalive_time",   "net.ipv4.tcp_fin_timeout",     "net.ipv4.tcp_keepalive_intvl",
      "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem",            "net.ipv4.tcp_wmem"};
  std::vector<std::string> bad;
  if (PodSc(spec)) {
    for (const auto& s : PodSc(spec)->sysctls()) {
      if (kSafe.count(s.name()) == 0) bad.push_back(s.name());
    }
  }
  if (bad.empty()) return true;
  *v = {"forbidden sysctls", Join(bad, ", ")};
  return false;
}

bool WindowsHostProcess(const metav1::ObjectMeta&, const corev1::PodSpec& spec, Violation* v) {
  std::vector<std::string> setters;
  if (PodSc(spec) && PodSc(spec)->has_windowsoptions() && PodSc(spec)->windowsoptions().has_hostprocess() &&
      PodSc(spec)->windowsoptions().hostprocess()) {
    setters.push_back("pod");
  }
  std::vector<std::string> bad;
  for (const auto& c : Containers(spec)) {
    if (c.sc && c.sc->has_windowsoptions() && c.sc->windowsoptions().has_hostprocess() &&
        c.sc->windowsoptions().hostprocess()) {
      bad.push_back(*c.name);
    }
  }
  if (!bad.empty()) setters.push_back(ContainerList(bad));
  if (setters.empty()) return true;
  *v = {"hostProcess", Join(setters, " and ") + " must not set securityContext.windowsOptions.hostProcess=true"};
  return false;
}

// ---- restricted ----

bool AllowPrivilegeEscalation(const metav1::ObjectMeta&, const corev1::PodSpec& spec, Violation* v) {
  if (IsWindowsPod(spec)) return true;
  std::vector<std::string> bad;
  for (const auto& c : Containers(spec)) {
    if (!c.sc || !c.sc->has_allowprivilegeescalation() || c.sc->allowprivilegeescalation()) bad.push_back(*c.name);
  }
  if (bad.empty()) return true;
  *v = {"allowPrivilegeEscalation != false", ContainerList(bad) + " must set securityContext.allowPrivilegeEscalation=false"};
  return false;
}

bool CapabilitiesRestricted(const metav1::ObjectMeta&, const corev1::PodSpec& spec, Violation* v) {
  if (IsWindowsPod(spec)) return true;
  std::vector<std::string> missing_drop, adding;
  std::set<std::string> caps;
  for (const auto& c : Containers(spec)) {
    if (!c.sc || !c.sc->has_capabilities()) {
      missing_drop.push_back(*c.name);
      continue;
    }
    const auto& drop = c.sc->capabilities().drop();
    if (std::find(drop.begin(), drop.end(), "ALL") == drop.end()) missing_drop.push_back(*c.name);
    bool bad = false;
    for (const auto& cap : c.sc->capabilities().add()) {
      if (cap != "NET_BIND_SERVICE") {
        bad = true;
        caps.insert(cap);
      }
    }
    if (bad) adding.push_back(*c.name);
  }
  std::vector<std::string> details;
  if (!missing_drop.empty()) {
    details.push_back(ContainerList(missing_drop) + " must set securityContext.capabilities.drop=[\"ALL\"]");
  }
  if (!adding.empty()) {
    details.push_back(ContainerList(adding) + " must not include " + JoinQuote(caps) +
                      " in securityContext.capabilities.add");
  }
  if (details.empty()) return true;
  *v = {"unrestricted capabilities", Join(details, "; ")};
  return false;
}

bool RestrictedVolumes(const metav1::ObjectMeta&, const corev1::PodSpec& spec, Violation* v) {
  static const std::set<std::string, std::less<>> kAllowed = {
      "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"};
  std::vector<std::string> names;
  std::set<std::string> types;
  for (const auto& vol : spec.volumes()) {
    // The set member of the VolumeSource, by its JSON name (reflection keeps the list complete).
    std::vector<const google::protobuf::FieldDescriptor*> fields;
    vol.volumesource().GetReflection()->ListFields(vol.volumesource(), &fields);
    std::string type = fields.empty() ? "unknown" : fields[0]->json_name();
    if (kAllowed.count(type) > 0) continue;
    names.push_back(vol.name());
    types.insert(type);
  }
  if (names.empty()) return true;
  *v = {"restricted volume types", Pluralize("volume", "volumes", names.size()) + " " + JoinQuote(names) + " " +
                                       Pluralize("uses", "use", names.size()) + " " +
                                       Pluralize("restricted volume type", "restricted volume types", types.size()) +
                                       " " + JoinQuote(types)};
  return false;
}

bool RunAsNonRoot(const metav1::ObjectMeta&, const corev1::PodSpec& spec, Violation* v) {
  if (InUserNamespace(spec)) return true;
  std::vector<std::string> setters;
  bool pod_non_root = false;
  if (PodSc(spec) && PodSc(spec)->has_runasnonroot()) {
    if (!PodSc(spec)->runasnonroot()) {
      setters.push_back("pod");
    } else {
      pod_non_root = true;
    }
  }
  std::vector<std::string> explicit_bad, implicit_bad;
  for (const auto& c : Containers(spec)) {
    if (c.sc && c.sc->has_runasnonroot()) {
      if (!c.sc->runasnonroot()) explicit_bad.push_back(*c.name);
    } else if (!pod_non_root) {
      implicit_bad.push_back(*c.name);
    }
  }
  if (!explicit_bad.empty()) setters.push_back(ContainerList(explicit_bad));
  if (!setters.empty()) {
    *v = {"runAsNonRoot != true", Join(setters, " and ") + " must not set securityContext.runAsNonRoot=false"};
    return false;
  }
  if (!implicit_bad.empty()) {
    *v = {"runAsNonRoot != true", "pod or " + ContainerList(implicit_bad) + " must set securityContext.runAsNonRoot=true"};
    return false;
  }
  return true;
}

bool RunAsUser(const metav1::ObjectMeta&, const corev1::PodSpec& spec, Violation* v) {
  std::vector<std::string> setters;
  if (PodSc(spec) && PodSc(spec)->has_runasuser() && PodSc(spec)->runasuser() == 0) setters.push_back("pod");
  std::vector<std::string> bad;
  for (const auto& c : Containers(spec)) {
    if (c.sc && c.sc->has_runasuser() && c.sc->runasuser() == 0) bad.push_back(*c.name);
  }
  if (!bad.empty()) setters.push_back(ContainerList(bad));
  if (setters.empty()) return true;
  *v = {"runAsUser=0", Join(setters, " and ") + " must not set runAsUser=0"};
  return false;
}

bool SeccompRestricted(const metav1::ObjectMeta&, const corev1::PodSpec& spec, Violation* v) {
  if (IsWindowsPod(spec)) return true;
  return Seccomp(spec, /*require=*/true, v);
}

struct CheckEntry {
  Level level;
  Check check;
  bool overridden_by_restricted;  // replaced by a stricter restricted check at that level
};

// Baseline checks in upstream id order, then restricted checks in id order.
constexpr CheckEntry kChecks[] = {
    {Level::kBaseline, AppArmorProfile, false},
    {Level::kBaseline, CapabilitiesBaseline, true},
    {Level::kBaseline, HostNamespaces, false},
    {Level::kBaseline, HostPathVolumes, true},
    {Level::kBaseline, HostPorts, false},
    {Level::kBaseline, Privileged, false},
    {Level::kBaseline, ProcMount, false},
    {Level::kBaseline, SeLinuxOptions, false},
    {Level::kBaseline, SeccompBaseline, true},
    {Level::kBaseline, Sysctls, false},
    {Level::kBaseline, WindowsHostProcess, false},
    {Level::kRestricted, AllowPrivilegeEscalation, false},
    {Level::kRestricted, CapabilitiesRestricted, false},
    {Level::kRestricted, RestrictedVolumes, false},
    {Level::kRestricted, RunAsNonRoot, false},
    {Level::kRestricted, RunAsUser, false},
    {Level::kRestricted, SeccompRestricted, false},
};

}  // namespace

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kPrivileged: return "privileged";
    case Level::kBaseline: return "baseline";
    case Level::kRestricted: return "restricted";
  }
  return "privileged";
}

std::string LevelVersion::String() const { return std::string(LevelName(level)) + ":" + version; }

Result<Level> ParseLevel(std::string_view value) {
  if (value == "privileged") return Level::kPrivileged;
  if (value == "baseline") return Level::kBaseline;
  if (value == "restricted") return Level::kRestricted;
  return BadRequest("must be one of privileged, baseline, restricted");
}

Result<std::string> ParseVersion(std::string_view value) {
  if (value == "latest") return std::string(value);
  const std::string_view bad = "must be 'latest' or of the form 'v1.x'";
  if (!value.starts_with("v1.") || value.size() == 3) return BadRequest(std::string(bad));
  std::string_view minor = value.substr(3);
  int n = 0;
  auto [ptr, ec] = std::from_chars(minor.data(), minor.data() + minor.size(), n);
  if (ec != std::errc() || ptr != minor.data() + minor.size() || n < 0) return BadRequest(std::string(bad));
  return std::string(value);
}

std::vector<Violation> CheckPod(Level level, const metav1::ObjectMeta& meta, const corev1::PodSpec& spec) {
  std::vector<Violation> out;
  if (level == Level::kPrivileged) return out;
  for (const auto& entry : kChecks) {
    if (entry.level == Level::kRestricted && level != Level::kRestricted) continue;
    if (entry.overridden_by_restricted && level == Level::kRestricted) continue;
    Violation v;
    if (!entry.check(meta, spec, &v)) out.push_back(std::move(v));
  }
  return out;
}

std::string FormatViolations(const std::vector<Violation>& violations) {
  std::string out;
  for (size_t i = 0; i < violations.size(); ++i) {
    if (i > 0) out += ", ";
    out += violations[i].reason;
    if (!violations[i].detail.empty()) out += " (" + violations[i].detail + ")";
  }
  return out;
}

std::string FormatReasons(const std::vector<Violation>& violations) {
  std::vector<std::string> reasons;
  for (const auto& v : violations) reasons.push_back(v.reason);
  return Join(reasons, ", ");
}

}  // namespace ck::apiserver::podsecurity
