// MakeEnvironment and friends: upstream's kubelet makeEnvironmentVariables
// (pkg/kubelet/kubelet_pods.go), envvars.FromServices and the downward API field and resource
// helpers (pkg/fieldpath, pkg/api/v1/resource).
#include "kubelet/env/environment.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/api/quantity.h"
#include "common/base/strings.h"

namespace ck::kubelet {
namespace {

namespace corev1 = k8s::io::api::core::v1;

// Keeps variables in the order they were first defined; a redefinition replaces the value in place.
class OrderedEnv {
 public:
  void Set(const std::string& name, std::string value) {
    auto [it, inserted] = index_.try_emplace(name, list_.size());
    if (inserted) {
      list_.emplace_back(name, std::move(value));
    } else {
      list_[it->second].second = std::move(value);
    }
  }
  const std::string* Find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &list_[it->second].second;
  }
  EnvList Take() { return std::move(list_); }

 private:
  EnvList list_;
  std::map<std::string, size_t> index_;
};

// validation.IsEnvVarName: [-._a-zA-Z][-._a-zA-Z0-9]*
bool IsEnvVarName(const std::string& s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = c == '-' || c == '.' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// envvars.makeEnvVariableName: upper case, '-' -> '_'.
std::string EnvVariableName(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    if (c == '-') c = '_';
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string ToUpper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

std::string JoinHostPort(const std::string& host, int32_t port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

// v1helper.IsServiceIPSet: a ClusterIP that is neither "" nor "None".
bool IsServiceIPSet(const corev1::Service& svc) {
  return !svc.spec().clusterip().empty() && svc.spec().clusterip() != "None";
}

// envvars.FromServices for one service.
void AppendServiceVars(const corev1::Service& svc, std::map<std::string, std::string>* out) {
  const std::string prefix = EnvVariableName(svc.metadata().name());
  const std::string& ip = svc.spec().clusterip();
  (*out)[prefix + "_SERVICE_HOST"] = ip;
  if (svc.spec().ports_size() == 0) return;
  const std::string port_var = prefix + "_SERVICE_PORT";
  (*out)[port_var] = std::to_string(svc.spec().ports(0).port());
  for (const auto& sp : svc.spec().ports()) {
    if (!sp.name().empty()) (*out)[port_var + "_" + EnvVariableName(sp.name())] = std::to_string(sp.port());
  }
  // Docker link variables; the first port also gets the bare <NAME>_PORT.
  for (int i = 0; i < svc.spec().ports_size(); ++i) {
    const auto& sp = svc.spec().ports(i);
    std::string protocol = sp.protocol().empty() ? "TCP" : sp.protocol();
    std::string lower = ToLower(protocol);
    std::string url = lower + "://" + JoinHostPort(ip, sp.port());
    if (i == 0) (*out)[prefix + "_PORT"] = url;
    std::string pp = prefix + "_PORT_" + std::to_string(sp.port()) + "_" + ToUpper(protocol);
    (*out)[pp] = url;
    (*out)[pp + "_PROTO"] = lower;
    (*out)[pp + "_PORT"] = std::to_string(sp.port());
    (*out)[pp + "_ADDR"] = ip;
  }
}

// kubelet getServiceEnvVarMap: the master service `default/kubernetes` always, the services of
// the pod's namespace when enableServiceLinks.
std::map<std::string, std::string> ServiceEnv(const corev1::Pod& pod, const EnvContext& context) {
  std::map<std::string, std::string> env;
  if (!context.services) return env;
  const std::string& ns = pod.metadata().namespace_();
  bool links = !pod.spec().has_enableservicelinks() || pod.spec().enableservicelinks();
  std::map<std::string, corev1::Service> chosen;
  std::vector<corev1::Service> all = context.services(ns);
  if (ns != "default") {
    for (auto& s : context.services("default")) all.push_back(std::move(s));
  }
  for (const auto& svc : all) {
    if (!IsServiceIPSet(svc)) continue;
    const std::string& name = svc.metadata().name();
    const std::string& sns = svc.metadata().namespace_();
    if (sns == "default" && name == "kubernetes") {
      chosen.try_emplace(name, svc);
    } else if (sns == ns && links) {
      chosen[name] = svc;
    }
  }
  for (const auto& [name, svc] : chosen) AppendServiceVars(svc, &env);
  return env;
}

std::string NotFoundMessage(std::string_view kind, const std::string& name) {
  return std::string(kind) + " \"" + name + "\" not found";
}

// The kubelet's configMap/secret managers answer NotFound as `configmap "x" not found`.
template <typename T>
Result<T> Lookup(const std::function<Result<T>(const std::string&, const std::string&)>& fn, std::string_view kind,
                 const std::string& ns, const std::string& name) {
  if (!fn) return NotFound(NotFoundMessage(kind, name));
  Result<T> r = fn(ns, name);
  if (!r.ok() && r.status().code() == Code::kNotFound) return NotFound(NotFoundMessage(kind, name));
  return r;
}

// fieldpath.FormatMap: sorted `k="v"` lines, Go-quoted values, no trailing newline.
template <typename Map>
std::string FormatMap(const Map& m) {
  std::map<std::string, std::string> sorted(m.begin(), m.end());
  std::string out;
  for (const auto& [k, v] : sorted) {
    if (!out.empty()) out += '\n';
    out += k;
    out += '=';
    AppendQuoted(out, v);
  }
  return out;
}

// `metadata.labels['key']` -> ("metadata.labels", "key").
bool SplitSubscript(const std::string& path, std::string* base, std::string* key) {
  size_t open = path.find("['");
  if (open == std::string::npos || path.size() < open + 4 || path.compare(path.size() - 2, 2, "']") != 0) {
    return false;
  }
  *base = path.substr(0, open);
  *key = path.substr(open + 2, path.size() - open - 4);
  return true;
}

const corev1::Container* FindContainer(const corev1::Pod& pod, const std::string& name) {
  for (const auto& c : pod.spec().containers()) {
    if (c.name() == name) return &c;
  }
  for (const auto& c : pod.spec().initcontainers()) {
    if (c.name() == name) return &c;
  }
  return nullptr;
}

Result<api::Quantity> ParseOrZero(const std::string& s) {
  if (s.empty()) return api::Quantity();
  return api::Quantity::Parse(s);
}

// ceil(a / b) for b > 0.
int64_t CeilDiv(int64_t a, int64_t b) {
  if (b <= 0) return 0;
  int64_t q = a / b;
  if (a % b != 0 && ((a > 0) == (b > 0))) ++q;
  return q;
}

}  // namespace

std::string ExpandVars(std::string_view input,
                       const std::function<std::optional<std::string>(const std::string& name)>& lookup) {
  std::string out;
  out.reserve(input.size());
  size_t checkpoint = 0;
  for (size_t cursor = 0; cursor < input.size(); ++cursor) {
    if (input[cursor] != '$' || cursor + 1 >= input.size()) continue;
    out.append(input.substr(checkpoint, cursor - checkpoint));
    std::string_view rest = input.substr(cursor + 1);
    size_t advance = 1;
    if (rest[0] == '$') {
      out += '$';  // "$$" is an escaped operator
    } else if (rest[0] == '(') {
      size_t close = rest.find(')', 1);
      if (close == std::string_view::npos) {
        out += "$(";  // incomplete reference, copied as written
      } else {
        std::string name(rest.substr(1, close - 1));
        std::optional<std::string> value = lookup ? lookup(name) : std::nullopt;
        out += value ? *value : "$(" + name + ")";
        advance = close + 1;
      }
    } else {
      out += '$';
      out += rest[0];
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  if (checkpoint < input.size()) out.append(input.substr(checkpoint));
  return out;
}

Result<std::string> PodFieldValue(const corev1::Pod& pod, const corev1::ObjectFieldSelector& selector,
                                  const EnvContext& context) {
  const std::string& path = selector.fieldpath();
  const auto& meta = pod.metadata();
  if (path == "metadata.name") return meta.name();
  if (path == "metadata.namespace") return meta.namespace_();
  if (path == "metadata.uid") return meta.uid();
  if (path == "metadata.labels") return FormatMap(meta.labels());
  if (path == "metadata.annotations") return FormatMap(meta.annotations());
  if (path == "spec.nodeName") return pod.spec().nodename().empty() ? context.node_name : pod.spec().nodename();
  if (path == "spec.serviceAccountName") return pod.spec().serviceaccountname();
  if (path == "status.hostIP") return context.host_ip;
  if (path == "status.hostIPs") return context.host_ip;
  if (path == "status.podIP") return context.pod_ip;
  if (path == "status.podIPs") {
    if (context.pod_ips.empty()) return context.pod_ip;
    return Join(context.pod_ips, ",");
  }
  std::string base, key;
  if (SplitSubscript(path, &base, &key)) {
    if (base == "metadata.labels") {
      auto it = meta.labels().find(key);
      return it == meta.labels().end() ? std::string() : it->second;
    }
    if (base == "metadata.annotations") {
      auto it = meta.annotations().find(key);
      return it == meta.annotations().end() ? std::string() : it->second;
    }
  }
  return BadRequest("unsupported fieldPath: " + path);
}

Result<std::string> ContainerResourceValue(const corev1::Pod& pod, const corev1::Container* container,
                                           const corev1::ResourceFieldSelector& selector,
                                           const EnvContext& context) {
  if (!selector.containername().empty()) {
    container = FindContainer(pod, selector.containername());
    if (container == nullptr) return BadRequest("container " + selector.containername() + " not found");
  }
  if (container == nullptr) return BadRequest("resourceFieldRef needs a containerName");
  CK_ASSIGN_OR_RETURN(api::Quantity divisor, ParseOrZero(selector.divisor().string()));
  if (divisor.IsZero()) divisor = api::Quantity::FromInt(1);

  const std::string& res = selector.resource();
  size_t dot = res.find('.');
  std::string kind = dot == std::string::npos ? "" : res.substr(0, dot);
  std::string name = dot == std::string::npos ? "" : res.substr(dot + 1);
  if ((kind != "limits" && kind != "requests") ||
      (name != "cpu" && name != "memory" && name != "ephemeral-storage")) {
    return BadRequest("unsupported container resource : " + res);
  }
  const auto& map = kind == "limits" ? container->resources().limits() : container->resources().requests();
  std::string value;
  auto it = map.find(name);
  if (it != map.end()) {
    value = it->second.string();
  } else if (kind == "limits") {
    // defaultPodLimitsForDownwardAPI: an unset limit is the node's allocatable.
    value = name == "cpu"      ? context.node_allocatable_cpu
            : name == "memory" ? context.node_allocatable_memory
                               : context.node_allocatable_ephemeral_storage;
  }
  CK_ASSIGN_OR_RETURN(api::Quantity q, ParseOrZero(value));
  // convertResourceCPUToString works in millis, memory and storage in whole units; both round up.
  int64_t result = name == "cpu" ? CeilDiv(q.MilliValue(), divisor.MilliValue()) : CeilDiv(q.Value(), divisor.Value());
  return std::to_string(result);
}

Result<EnvList> MakeEnvironment(const corev1::Pod& pod, const corev1::Container& container,
                                const EnvContext& context) {
  const std::string& ns = pod.metadata().namespace_();
  std::map<std::string, corev1::ConfigMap> config_maps;
  std::map<std::string, corev1::Secret> secrets;
  // Returns nullptr (and OK) for an optional object that does not exist.
  auto get_config_map = [&](const std::string& name, bool optional,
                            const corev1::ConfigMap** out) -> Status {
    *out = nullptr;
    auto it = config_maps.find(name);
    if (it == config_maps.end()) {
      Result<corev1::ConfigMap> r = Lookup(context.config_map, "configmap", ns, name);
      if (!r.ok()) {
        if (r.status().code() == Code::kNotFound && optional) return Status::Ok();
        return r.status();
      }
      it = config_maps.emplace(name, std::move(r).value()).first;
    }
    *out = &it->second;
    return Status::Ok();
  };
  auto get_secret = [&](const std::string& name, bool optional, const corev1::Secret** out) -> Status {
    *out = nullptr;
    auto it = secrets.find(name);
    if (it == secrets.end()) {
      Result<corev1::Secret> r = Lookup(context.secret, "secret", ns, name);
      if (!r.ok()) {
        if (r.status().code() == Code::kNotFound && optional) return Status::Ok();
        return r.status();
      }
      it = secrets.emplace(name, std::move(r).value()).first;
    }
    *out = &it->second;
    return Status::Ok();
  };

  OrderedEnv env;
  // envFrom first (keys in sorted order, as a Go map has none); env then overrides.
  for (const auto& from : container.envfrom()) {
    if (from.has_configmapref()) {
      const auto& ref = from.configmapref();
      const corev1::ConfigMap* cm = nullptr;
      CK_RETURN_IF_ERROR(get_config_map(ref.localobjectreference().name(), ref.optional(), &cm));
      if (cm == nullptr) continue;
      std::map<std::string, std::string> data(cm->data().begin(), cm->data().end());
      for (const auto& [k, v] : data) {
        std::string key = from.prefix() + k;
        if (IsEnvVarName(key)) env.Set(key, v);
      }
    } else if (from.has_secretref()) {
      const auto& ref = from.secretref();
      const corev1::Secret* secret = nullptr;
      CK_RETURN_IF_ERROR(get_secret(ref.localobjectreference().name(), ref.optional(), &secret));
      if (secret == nullptr) continue;
      std::map<std::string, std::string> data(secret->data().begin(), secret->data().end());
      for (const auto& [k, v] : data) {
        std::string key = from.prefix() + k;
        if (IsEnvVarName(key)) env.Set(key, v);
      }
    }
  }

  const std::map<std::string, std::string> service_env = ServiceEnv(pod, context);
  auto lookup = [&](const std::string& name) -> std::optional<std::string> {
    if (const std::string* v = env.Find(name)) return *v;
    auto it = service_env.find(name);
    if (it != service_env.end()) return it->second;
    return std::nullopt;
  };

  for (const auto& var : container.env()) {
    std::string value;
    if (!var.value().empty()) {
      value = ExpandVars(var.value(), lookup);
    } else if (var.has_valuefrom()) {
      const auto& from = var.valuefrom();
      if (from.has_fieldref()) {
        CK_ASSIGN_OR_RETURN(value, PodFieldValue(pod, from.fieldref(), context));
      } else if (from.has_resourcefieldref()) {
        CK_ASSIGN_OR_RETURN(value, ContainerResourceValue(pod, &container, from.resourcefieldref(), context));
      } else if (from.has_configmapkeyref()) {
        const auto& ref = from.configmapkeyref();
        const std::string& name = ref.localobjectreference().name();
        const corev1::ConfigMap* cm = nullptr;
        CK_RETURN_IF_ERROR(get_config_map(name, ref.optional(), &cm));
        if (cm == nullptr) continue;
        auto it = cm->data().find(ref.key());
        if (it == cm->data().end()) {
          if (ref.optional()) continue;
          return NotFound("couldn't find key " + ref.key() + " in ConfigMap " + ns + "/" + name);
        }
        value = it->second;
      } else if (from.has_secretkeyref()) {
        const auto& ref = from.secretkeyref();
        const std::string& name = ref.localobjectreference().name();
        const corev1::Secret* secret = nullptr;
        CK_RETURN_IF_ERROR(get_secret(name, ref.optional(), &secret));
        if (secret == nullptr) continue;
        auto it = secret->data().find(ref.key());
        if (it == secret->data().end()) {
          if (ref.optional()) continue;
          return NotFound("couldn't find key " + ref.key() + " in Secret " + ns + "/" + name);
        }
        value = it->second;
      }
    }
    env.Set(var.name(), std::move(value));
  }

  // Service variables last, unless the container defined the same name.
  for (const auto& [k, v] : service_env) {
    if (env.Find(k) == nullptr) env.Set(k, v);
  }
  return env.Take();
}

std::vector<std::string> ExpandContainerCommand(const corev1::Container& container, const EnvList& env) {
  std::map<std::string, std::string> vars;
  for (const auto& [k, v] : env) vars[k] = v;
  auto lookup = [&](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  std::vector<std::string> out;
  for (const auto& c : container.command()) out.push_back(ExpandVars(c, lookup));
  for (const auto& a : container.args()) out.push_back(ExpandVars(a, lookup));
  return out;
}

}  // namespace ck::kubelet
