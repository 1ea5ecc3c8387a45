// ck up's options, state-folder layout and per-daemon command lines (see cluster_plan.h).

#include "compose/cluster_plan.h"

#include <filesystem>
#include <optional>

#include "common/base/strings.h"
#include "common/pki/pki.h"

namespace ck::launcher {
namespace {

struct Ipv4Cidr {
  uint32_t address = 0;
  int prefix = 0;
};

std::optional<Ipv4Cidr> ParseCidr(const std::string& text) {
  std::vector<std::string_view> parts = Split(text, '/');
  if (parts.size() != 2) return std::nullopt;
  std::vector<std::string_view> octets = Split(parts[0], '.');
  if (octets.size() != 4) return std::nullopt;
  Ipv4Cidr cidr;
  for (std::string_view o : octets) {
    std::optional<int64_t> v = ParseInt(o);
    if (!v || *v < 0 || *v > 255 || o.size() > 3) return std::nullopt;
    cidr.address = cidr.address << 8 | static_cast<uint32_t>(*v);
  }
  std::optional<int64_t> prefix = ParseInt(parts[1]);
  if (!prefix || *prefix < 0 || *prefix > 32) return std::nullopt;
  cidr.prefix = static_cast<int>(*prefix);
  return cidr;
}

// DESIGN.md §6: process mode shares the host's network namespace, so every pod and service
// address must be a loopback address.
Status CheckLoopbackCidr(const char* flag, const std::string& text) {
  std::optional<Ipv4Cidr> cidr = ParseCidr(text);
  if (!cidr) return Invalid(std::string(flag) + ": \"" + text + "\" is not an IPv4 CIDR such as 127.96.0.0/16");
  if (cidr->prefix < 8 || (cidr->address >> 24) != 127) {
    return Invalid(std::string(flag) + ": " + text +
                   " is not a loopback range (process mode shares the host's network, so it needs a "
                   "range inside 127.0.0.0/8)");
  }
  return Status::Ok();
}

Status CheckPort(const char* flag, int port) {
  if (port < 1 || port > 65535) {
    return Invalid(std::string(flag) + ": must be between 1 and 65535, got " + std::to_string(port));
  }
  return Status::Ok();
}

}  // namespace

Status ValidateUpOptions(UpOptions& o) {
  const int max_nodes = o.runtime == "fake" ? kMaxFakeNodes : pki::kMaxNodes;
  if (o.nodes < 0 || o.nodes > max_nodes) {
    return Invalid("--nodes: must be between 0 and " + std::to_string(max_nodes) + ", got " +
                   std::to_string(o.nodes));
  }
  if (o.runtime == "fake" && o.cluster_cidr == UpOptions{}.cluster_cidr) o.cluster_cidr = kFakeClusterCidr;
  if (o.state_dir.empty()) return Invalid("--state-dir: must not be empty");
  if (o.profile != "default" && o.profile != "teaching") {
    return Invalid("--profile: must be default or teaching, got \"" + o.profile + "\"");
  }
  if (o.runtime != "process" && o.runtime != "fake") {
    return Invalid("--runtime: must be process or fake, got \"" + o.runtime + "\"");
  }
  CK_RETURN_IF_ERROR(CheckLoopbackCidr("--service-cidr", o.service_cidr));
  if (Result<std::string> first = pki::FirstServiceIp(o.service_cidr); !first.ok()) {
    return Invalid("--service-cidr: " + first.status().message());
  }
  CK_RETURN_IF_ERROR(CheckLoopbackCidr("--cluster-cidr", o.cluster_cidr));
  std::optional<Ipv4Cidr> cluster = ParseCidr(o.cluster_cidr);
  if (cluster->prefix > kNodeCidrMaskSize ||
      (o.nodes > 0 && (uint64_t{1} << (kNodeCidrMaskSize - cluster->prefix)) < static_cast<uint64_t>(o.nodes))) {
    return Invalid("--cluster-cidr: " + o.cluster_cidr + " has too few /" + std::to_string(kNodeCidrMaskSize) +
                   " node ranges for " + std::to_string(o.nodes) + " nodes");
  }
  CK_RETURN_IF_ERROR(CheckPort("--apiserver-port", o.apiserver_port));
  CK_RETURN_IF_ERROR(CheckPort("--controller-manager-port", o.controller_manager_port));
  CK_RETURN_IF_ERROR(CheckPort("--scheduler-port", o.scheduler_port));
  CK_RETURN_IF_ERROR(CheckPort("--kubelet-port", o.kubelet_port));
  if (o.apiserver_port == o.controller_manager_port || o.apiserver_port == o.scheduler_port ||
      o.controller_manager_port == o.scheduler_port) {
    return Invalid("--apiserver-port, --controller-manager-port and --scheduler-port must differ (all bind 127.0.0.1)");
  }
  if (o.ready_timeout_seconds < 1 || o.ready_timeout_seconds > 3600) {
    return Invalid("--ready-timeout: must be between 1 and 3600 seconds, got " +
                   std::to_string(o.ready_timeout_seconds));
  }
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(o.state_dir, ec);
  if (ec) return Invalid("--state-dir: " + o.state_dir + ": " + ec.message());
  std::string dir = abs.lexically_normal().string();
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir == "/") return Invalid("--state-dir: must not be /");
  o.state_dir = dir;
  return Status::Ok();
}

std::string ZoneOf(int node_index) {
  static const char* const kZones[] = {"zone-a", "zone-b", "zone-c"};
  return kZones[(node_index - 1) % 3];
}

std::string BinaryOf(const std::string& component) {
  if (component == "supervisor") return "ck";
  if (component == "apiserver" || component == "controller-manager" || component == "scheduler") {
    return "ck-" + component;
  }
  if (component == "kubelet-fake") return "ck-kubelet";
  if (component.starts_with("kubelet-node-")) {
    std::optional<int64_t> i = ParseInt(std::string_view(component).substr(13));
    if (i && *i >= 1 && *i <= pki::kMaxNodes && component == "kubelet-" + pki::NodeName(static_cast<int>(*i))) {
      return "ck-kubelet";
    }
  }
  return "";
}

bool NodesReady(const ComponentSpec& spec, const std::map<std::string, bool>& nodes) {
  auto ready = [&](const std::string& name) {
    auto it = nodes.find(name);
    return it != nodes.end() && it->second;
  };
  if (spec.node_count == 0) return ready(spec.node_name);
  for (int i = 1; i <= spec.node_count; ++i) {
    if (!ready(pki::NodeName(i))) return false;
  }
  return true;
}

std::vector<ComponentSpec> BuildComponents(const UpOptions& o) {
  StateLayout d{o.state_dir};
  std::string profile = "--profile=" + o.profile;
  std::vector<ComponentSpec> specs;

  ComponentSpec api;
  api.name = "apiserver";
  api.binary = "ck-apiserver";
  api.port = o.apiserver_port;
  api.args = {"--bind-address=127.0.0.1",
              "--secure-port=" + std::to_string(o.apiserver_port),
              "--advertise-address=127.0.0.1",
              "--tls-cert-file=" + d.File("apiserver.crt"),
              "--tls-private-key-file=" + d.File("apiserver.key"),
              "--client-ca-file=" + d.File("ca.crt"),
              "--storage-dir=" + d.File("store"),
              "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
              "--service-account-key-file=" + d.File("sa.pub"),
              "--service-account-signing-key-file=" + d.File("sa.key"),
              "--service-cluster-ip-range=" + o.service_cidr,
              // pods/log, exec, attach, portforward: the apiserver calls each node's kubelet.
              "--kubelet-client-certificate=" + d.File("apiserver-kubelet-client.crt"),
              "--kubelet-client-key=" + d.File("apiserver-kubelet-client.key"),
              "--kubelet-certificate-authority=" + d.File("ca.crt"),
              // Node names do not resolve on this machine; their InternalIP (127.0.1.<i>) does.
              "--kubelet-preferred-address-types=InternalIP,Hostname",
              profile};
  specs.push_back(api);

  ComponentSpec cm;
  cm.name = "controller-manager";
  cm.binary = "ck-controller-manager";
  cm.port = o.controller_manager_port;
  cm.health_path = "/healthz";
  cm.start_group = 1;
  cm.args = {"--kubeconfig=" + d.File("controller-manager.kubeconfig"),
             "--bind-address=127.0.0.1",
             "--secure-port=" + std::to_string(o.controller_manager_port),
             "--tls-cert-file=" + d.File("controller-manager-serving.crt"),
             "--tls-private-key-file=" + d.File("controller-manager-serving.key"),
             "--root-ca-file=" + d.File("ca.crt"),
             "--allocate-node-cidrs",
             "--cluster-cidr=" + o.cluster_cidr,
             "--node-cidr-mask-size=" + std::to_string(kNodeCidrMaskSize),
             "--service-cluster-ip-range=" + o.service_cidr,
             // Upstream's 20 QPS is sized for a shared apiserver; on one machine the start-up
             // burst of 21 controllers would make a new node wait seconds for its podCIDR.
             "--kube-api-qps=200",
             "--kube-api-burst=400",
             profile};
  // The teaching profile notices a dead node 5 s after its last heartbeat; checking every second
  // (upstream 5 s) keeps "pods recreated elsewhere" within about 15 s.
  if (o.profile == "teaching") cm.args.push_back("--node-monitor-period=1s");
  specs.push_back(cm);

  ComponentSpec sched;
  sched.name = "scheduler";
  sched.binary = "ck-scheduler";
  sched.port = o.scheduler_port;
  sched.health_path = "/healthz";
  sched.start_group = 1;
  sched.args = {"--kubeconfig=" + d.File("scheduler.kubeconfig"),
                "--bind-address=127.0.0.1",
                "--secure-port=" + std::to_string(o.scheduler_port),
                "--tls-cert-file=" + d.File("scheduler-serving.crt"),
                "--tls-private-key-file=" + d.File("scheduler-serving.key"),
                // Each binding is one request: upstream's 50 QPS caps scheduling at 50 pods/s.
                "--kube-api-qps=500",
                "--kube-api-burst=1000",
                profile};
  specs.push_back(sched);

  // Node i's kubelet: its IP, root dir, serving certificate and Node readiness.
  auto kubelet = [&](int i, std::string name, std::string kubeconfig, std::vector<std::string> identity,
                     std::vector<std::string> extra) {
    const std::string node = pki::NodeName(i);
    const std::string ip = pki::NodeIp(i);
    ComponentSpec k;
    k.name = std::move(name);
    k.binary = "ck-kubelet";
    k.readiness = Readiness::kNodeReady;
    k.node_name = node;
    k.host = ip;
    k.port = o.kubelet_port;
    k.start_group = 2;
    k.args = {"--kubeconfig=" + kubeconfig};
    k.args.insert(k.args.end(), identity.begin(), identity.end());
    k.args.insert(k.args.end(), {"--node-ip=" + ip, "--root-dir=" + d.NodeRoot(i), "--runtime=" + o.runtime, profile});
    k.args.insert(k.args.end(), extra.begin(), extra.end());
    k.args.insert(k.args.end(), {"--bind-address=" + ip, "--secure-port=" + std::to_string(o.kubelet_port),
                                 "--tls-cert-file=" + d.File("kubelet-" + node + ".crt"),
                                 "--tls-private-key-file=" + d.File("kubelet-" + node + ".key"),
                                 "--client-ca-file=" + d.File("ca.crt"),
                                 // Every node's healthz (10248) on its own IP: they share one machine.
                                 "--healthz-bind-address=" + ip});
    return k;
  };
  if (o.runtime == "fake" && o.nodes > 0) {
    // One process plays every node (--fake-nodes): node-1 .. node-N, with the admin identity
    // (one node's certificate may write only its own Node under the Node authorizer).
    // It plays N kubelets, each with upstream's 50 QPS of its own.
    ComponentSpec k = kubelet(1, "kubelet-fake", d.File("admin.kubeconfig"),
                              {"--hostname-override=node", "--fake-nodes=" + std::to_string(o.nodes)},
                              {"--kube-api-qps=5000", "--kube-api-burst=5000"});
    k.node_count = o.nodes;
    specs.push_back(k);
  } else if (o.runtime != "fake") {
    for (int i = 1; i <= o.nodes; ++i) {
      const std::string node = pki::NodeName(i);
      specs.push_back(kubelet(i, "kubelet-" + node, d.File("kubelet-" + node + ".kubeconfig"),
                              {"--hostname-override=" + node},
                              {"--node-labels=topology.kubernetes.io/zone=" + ZoneOf(i),
                               // Static pods: manifests dropped here run on this node (mirror pods in the API).
                               "--pod-manifest-path=" + d.NodeRoot(i) + "/manifests",
                               "--file-check-frequency=" + std::string(o.profile == "teaching" ? "1s" : "20s")}));
    }
  }
  for (ComponentSpec& s : specs) s.log_file = d.Log(s.name);
  return specs;
}

}  // namespace ck::launcher
