// Node registration and status (node_status.h).
#include "kubelet/core/node_status.h"

#include <google/protobuf/util/message_differencer.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "common/api/object.h"
#include "common/api/time_format.h"
#include "common/base/strings.h"

namespace ck::kubelet {

namespace corev1 = ::k8s::io::api::core::v1;

namespace {

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string OsImage() {
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return "Linux";
}

// Keys a kubelet may set on its own Node (NodeRestriction): outside kubernetes.io/k8s.io, or
// one of these.
bool AllowedKubeletLabel(const std::string& key) {
  size_t slash = key.find('/');
  if (slash == std::string::npos) return true;
  std::string prefix = key.substr(0, slash);
  auto in_domain = [&](const std::string& d) {
    return prefix == d || (prefix.size() > d.size() && prefix.compare(prefix.size() - d.size() - 1, std::string::npos,
                                                                      "." + d) == 0);
  };
  if (!in_domain("kubernetes.io") && !in_domain("k8s.io")) return true;
  static const char* kAllowed[] = {"kubernetes.io/hostname",
                                   "kubernetes.io/instance-type",
                                   "kubernetes.io/os",
                                   "kubernetes.io/arch",
                                   "beta.kubernetes.io/instance-type",
                                   "beta.kubernetes.io/os",
                                   "beta.kubernetes.io/arch",
                                   "failure-domain.beta.kubernetes.io/zone",
                                   "failure-domain.beta.kubernetes.io/region",
                                   "topology.kubernetes.io/zone",
                                   "topology.kubernetes.io/region",
                                   "node.kubernetes.io/instance-type"};
  for (const char* a : kAllowed) {
    if (key == a) return true;
  }
  return prefix == "kubelet.kubernetes.io" || prefix == "node.kubernetes.io" ||
         (prefix.size() > 22 && prefix.ends_with(".kubelet.kubernetes.io")) ||
         (prefix.size() > 19 && prefix.ends_with(".node.kubernetes.io"));
}

void SetCondition(corev1::NodeStatus* status, const std::string& type, bool value, const std::string& reason,
                  const std::string& message, WallTime now) {
  corev1::NodeCondition* c = nullptr;
  for (auto& existing : *status->mutable_conditions()) {
    if (existing.type() == type) c = &existing;
  }
  const std::string s = value ? "True" : "False";
  if (c == nullptr) {
    c = status->add_conditions();
    c->set_type(type);
    api::SetTime(c->mutable_lasttransitiontime(), now);
  } else if (c->status() != s) {
    api::SetTime(c->mutable_lasttransitiontime(), now);
  }
  c->set_status(s);
  c->set_reason(reason);
  c->set_message(message);
  api::SetTime(c->mutable_lastheartbeattime(), now);
}

}  // namespace

HostCapacity DetectHostCapacity(const std::string& root_dir) {
  HostCapacity c;
  unsigned cpus = std::thread::hardware_concurrency();
  c.cpu = std::to_string(cpus == 0 ? 1 : cpus);
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit) {
    if (key == "MemTotal:") break;
    kib = 0;
  }
  c.memory = std::to_string(kib) + "Ki";
  struct statvfs vfs{};
  uint64_t bytes = 0;
  if (statvfs(root_dir.empty() ? "/" : root_dir.c_str(), &vfs) == 0) bytes = uint64_t{vfs.f_blocks} * vfs.f_frsize;
  c.ephemeral_storage = std::to_string(bytes / 1024) + "Ki";
  return c;
}

Result<std::vector<corev1::Taint>> ParseTaints(const std::string& flag) {
  std::vector<corev1::Taint> out;
  for (std::string_view part : Split(flag, ',', true)) {
    std::string spec(TrimSpace(part));
    size_t colon = spec.rfind(':');
    if (colon == std::string::npos) {
      return Status(Code::kInvalid, "invalid taint spec \"" + spec + "\": expected key[=value]:effect");
    }
    std::string kv = spec.substr(0, colon);
    std::string effect = spec.substr(colon + 1);
    if (effect != "NoSchedule" && effect != "PreferNoSchedule" && effect != "NoExecute") {
      return Status(Code::kInvalid, "invalid taint effect \"" + effect + "\" in \"" + spec +
                                        "\": must be NoSchedule, PreferNoSchedule or NoExecute");
    }
    corev1::Taint t;
    size_t eq = kv.find('=');
    t.set_key(kv.substr(0, eq));
    if (eq != std::string::npos) t.set_value(kv.substr(eq + 1));
    if (t.key().empty()) return Status(Code::kInvalid, "invalid taint spec \"" + spec + "\": empty key");
    t.set_effect(effect);
    out.push_back(std::move(t));
  }
  return out;
}

Result<std::map<std::string, std::string>> ParseNodeLabels(const std::string& flag) {
  std::map<std::string, std::string> out;
  for (std::string_view part : Split(flag, ',', true)) {
    std::string kv(TrimSpace(part));
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status(Code::kInvalid, "invalid node label \"" + kv + "\": expected key=value");
    }
    std::string key = kv.substr(0, eq);
    if (!AllowedKubeletLabel(key)) {
      return Status(Code::kInvalid, "unknown 'kubernetes.io' or 'k8s.io' label \"" + key +
                                        "\": a kubelet may set only the labels NodeRestriction allows");
    }
    out[key] = kv.substr(eq + 1);
  }
  return out;
}

corev1::Node NewNode(const NodeConfig& config, WallTime now) {
  corev1::Node node;
  auto* meta = node.mutable_metadata();
  meta->set_name(config.name);
  auto& labels = *meta->mutable_labels();
  labels["kubernetes.io/hostname"] = config.name;
  labels["kubernetes.io/os"] = "linux";
  labels["kubernetes.io/arch"] = "amd64";
  labels["beta.kubernetes.io/os"] = "linux";
  labels["beta.kubernetes.io/arch"] = "amd64";
  for (const auto& [k, v] : config.labels) labels[k] = v;
  (*meta->mutable_annotations())["volumes.kubernetes.io/controller-managed-attach-detach"] = "true";
  for (const auto& t : config.taints) node.mutable_spec()->add_taints()->CopyFrom(t);
  if (!config.pod_cidr.empty()) {
    node.mutable_spec()->set_podcidr(config.pod_cidr);
    node.mutable_spec()->add_podcidrs(config.pod_cidr);
  }
  NodeHealth health;
  SetNodeStatus(config, health, now, node.mutable_status());
  return node;
}

void SetNodeStatus(const NodeConfig& config, const NodeHealth& health, WallTime now, corev1::NodeStatus* status) {
  auto set_resources = [&](auto* m) {
    (*m)["cpu"].set_string(config.cpu);
    (*m)["memory"].set_string(config.memory);
    (*m)["ephemeral-storage"].set_string(config.ephemeral_storage);
    (*m)["pods"].set_string(config.pods);
  };
  status->mutable_capacity()->clear();
  status->mutable_allocatable()->clear();
  set_resources(status->mutable_capacity());
  set_resources(status->mutable_allocatable());
  const WallTime t = now;
  SetCondition(status, "MemoryPressure", false, "KubeletHasSufficientMemory", "kubelet has sufficient memory available", t);
  SetCondition(status, "DiskPressure", false, "KubeletHasNoDiskPressure", "kubelet has no disk pressure", t);
  SetCondition(status, "PIDPressure", false, "KubeletHasSufficientPID", "kubelet has sufficient PID available", t);
  std::string why;
  if (!health.runtime_ready) why = "container runtime is down: " + health.runtime_message;
  if (!health.network_ready) {
    why += (why.empty() ? "" : ", ") + std::string("container runtime network not ready: NetworkReady=false "
                                                   "reason:NetworkPluginNotReady message:") +
           health.network_message;
  }
  if (why.empty()) {
    SetCondition(status, "Ready", true, "KubeletReady", "kubelet is posting ready status", t);
  } else {
    SetCondition(status, "Ready", false, "KubeletNotReady", why, t);
  }
  status->clear_addresses();
  auto* ip = status->add_addresses();
  ip->set_type("InternalIP");
  ip->set_address(config.node_ip);
  auto* host = status->add_addresses();
  host->set_type("Hostname");
  host->set_address(config.name);
  status->mutable_daemonendpoints()->mutable_kubeletendpoint()->set_port(config.kubelet_port);
  auto* info = status->mutable_nodeinfo();
  static const std::string machine_id = ReadFirstLine("/etc/machine-id");
  static const std::string boot_id = ReadFirstLine("/proc/sys/kernel/random/boot_id");
  static const std::string os_image = OsImage();
  static const std::string kernel = [] {
    struct utsname u{};
    return uname(&u) == 0 ? std::string(u.release) : std::string("unknown");
  }();
  info->set_machineid(machine_id);
  info->set_systemuuid(machine_id.empty() ? config.name : machine_id);
  info->set_bootid(boot_id);
  info->set_kernelversion(kernel);
  info->set_osimage(os_image);
  info->set_containerruntimeversion(config.runtime_version);
  info->set_kubeletversion("v1.32.0");
  info->set_kubeproxyversion("v1.32.0");
  info->set_operatingsystem("linux");
  info->set_architecture("amd64");
}

bool NodeStatusChanged(const corev1::NodeStatus& current, const corev1::NodeStatus& wanted) {
  corev1::NodeStatus a = current;
  corev1::NodeStatus b = wanted;
  for (auto* s : {&a, &b}) {
    for (auto& c : *s->mutable_conditions()) {
      c.clear_lastheartbeattime();
      c.clear_lasttransitiontime();
    }
  }
  return !google::protobuf::util::MessageDifferencer::Equals(a, b);
}

}  // namespace ck::kubelet
