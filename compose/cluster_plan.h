// What `ck up` starts, as data: the validated options of `ck up`, the files of a cluster's state
// folder, and one ComponentSpec (binary, argv, log file, how to tell it is ready) per daemon, in
// start order. Pure functions with no I/O, so the command line of every daemon is unit-tested.
// The supervisor (supervisor.h) turns the specs into processes; status/stop/start/down read the
// same layout from other invocations.
// Threading: stateless; safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace ck::launcher {

// The flags of `ck up`, after parsing.
struct UpOptions {
  int nodes = 1;                              // 0 = control plane only
  std::string state_dir;                      // absolute after ValidateUpOptions
  std::string profile = "default";            // default | teaching
  std::string runtime = "process";            // process | fake
  bool no_restart = false;
  bool detach = false;
  // Process mode shares the host's network namespace: both ranges must stay in 127.0.0.0/8.
  std::string service_cidr = "127.96.0.0/16";
  std::string cluster_cidr = "127.244.0.0/16";
  int apiserver_port = 6443;                  // on 127.0.0.1
  int controller_manager_port = 10257;        // on 127.0.0.1
  int scheduler_port = 10259;                 // on 127.0.0.1
  int kubelet_port = 10250;                   // on each node's IP 127.0.1.<i>
  int ready_timeout_seconds = 60;             // per component
};

inline constexpr int kNodeCidrMaskSize = 24;
// The fake runtime simulates up to this many nodes in one ck-kubelet; their podCIDRs come from
// kFakeClusterCidr unless --cluster-cidr says otherwise (its addresses are never bound).
inline constexpr int kMaxFakeNodes = 5000;
inline constexpr char kFakeClusterCidr[] = "127.128.0.0/9";

// OK, or Invalid with one line naming the flag ("--nodes: must be between 0 and 250, got 300",
// "--cluster-cidr: 10.244.0.0/16 is not a loopback range (process mode needs 127.0.0.0/8; ...)").
// Makes state_dir absolute (relative to the current directory) on success.
Status ValidateUpOptions(UpOptions& options);

// The files of a cluster's state folder DIR.
struct StateLayout {
  std::string dir;
  std::string File(const std::string& name) const { return dir + "/" + name; }
  std::string LogDir() const { return dir + "/logs"; }
  std::string RunDir() const { return dir + "/run"; }
  std::string Log(const std::string& component) const { return LogDir() + "/" + component + ".log"; }
  // The PID of a running daemon; written by the supervisor, removed when the daemon is gone.
  std::string PidFile(const std::string& component) const { return RunDir() + "/" + component + ".pid"; }
  // The supervisor's view of a daemon (state, pid, restarts, start time), key=value lines.
  std::string StateFile(const std::string& component) const { return RunDir() + "/" + component + ".state"; }
  // `ck stop` creates it: keep the daemon stopped while it exists. `ck start` removes it.
  std::string StoppedMarker(const std::string& component) const { return RunDir() + "/" + component + ".stopped"; }
  // `ck start` creates it: start the daemon now even if it exited under --no-restart.
  std::string StartRequest(const std::string& component) const { return RunDir() + "/" + component + ".start"; }
  // Component names in start order, one a line; written by `ck up`.
  std::string ComponentsFile() const { return RunDir() + "/components"; }
  // How to reach the cluster: key=value lines (apiserver_port, ports of the others), by `ck up`.
  std::string ClusterFile() const { return RunDir() + "/cluster"; }
  std::string SupervisorPidFile() const { return dir + "/ck.pid"; }
  std::string SupervisorLog() const { return LogDir() + "/ck.log"; }
  std::string AdminKubeconfig() const { return dir + "/admin.kubeconfig"; }
  std::string NodeRoot(int i) const { return dir + "/nodes/node-" + std::to_string(i); }
  std::string NodesDir() const { return dir + "/nodes"; }
};

// How the launcher decides that a daemon is ready.
enum class Readiness {
  kHealthz,    // GET https://<host>:<port><path> answers 200, verified with the cluster CA
  kNodeReady,  // the Node named node_name has condition Ready=True in the API
};

struct ComponentSpec {
  std::string name;     // apiserver, controller-manager, scheduler, kubelet-node-<i>
  std::string binary;   // ck-apiserver, ... (file name; the supervisor finds it in the bin dir)
  std::vector<std::string> args;  // without argv[0]
  std::string log_file;
  Readiness readiness = Readiness::kHealthz;
  std::string host = "127.0.0.1";  // where its HTTPS health endpoints listen
  int port = 0;
  std::string health_path = "/readyz";
  std::string node_name;  // kNodeReady only
  int node_count = 0;     // kNodeReady with the fake runtime: node-1 .. node-<node_count> all Ready
  int start_group = 0;    // 0 apiserver, 1 controller-manager and scheduler, 2 kubelets
};

// The daemons of the cluster in start order: apiserver, controller-manager, scheduler, then
// kubelet-node-1..N. `options` must have passed ValidateUpOptions.
std::vector<ComponentSpec> BuildComponents(const UpOptions& options);

// Whether the node(s) a kNodeReady component registers are Ready in `nodes` (name -> Ready).
bool NodesReady(const ComponentSpec& spec, const std::map<std::string, bool>& nodes);

// The binary that runs `component` ("kubelet-node-3" -> "ck-kubelet"; "supervisor" -> "ck").
// Empty for a name that is no component of a ck cluster.
std::string BinaryOf(const std::string& component);

// Zone of node i (1-based): zone-a, zone-b, zone-c, zone-a, ...
std::string ZoneOf(int node_index);

}  // namespace ck::launcher
