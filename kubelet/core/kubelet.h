// KubeletApp: ck-kubelet's start-up and wiring (upstream's kubelet.Run). For each node it runs
// (one, or --fake-nodes=N simulated nodes in one process): a NodeAgent (registration, status,
// Lease), a NetworkPlugin, a ProbeManager, a VolumeManager and a PodManager over the node's
// ContainerRuntime. Informers: the node's pods (field selector spec.nodeName=<node>; fake mode:
// every bound pod, routed by nodeName), its Node object (for the podCIDR) and Services (for the
// service-link variables). One heartbeat thread renews every node's Lease and reports status.
// Static pods (--pod-manifest-path) come from StaticPods (kubelet/config), which also keeps their
// mirror pods; the pod informer's mirror pods go there, never to the PodManager.
//
// Main loop in five lines:
//   1. register the Node (retry until the apiserver answers), 2. start informers and wait for sync,
//   3. pods flow informer -> PodManager (one worker per pod; PLEG relist every second),
//   4. heartbeat: Lease every renew interval, node status on change or every report period,
//   5. on shutdown stop the workers; containers keep running (process mode) for the next start.
// Threading: Start/Stop from the daemon's main thread; informer callbacks on informer threads.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "CLI/CLI.hpp"
#include "common/base/clock.h"
#include "common/base/thread.h"
#include "common/client/cache/informer_factory.h"
#include "common/client/rest/rest_api_client.h"
#include "common/client/tools/event_recorder.h"
#include "common/daemon/daemon.h"
#include "kubelet/cm/cgroup_writer.h"
#include "kubelet/server/server.h"

namespace ck::kubelet {

struct Options {
  std::string kubeconfig;
  std::string hostname_override;
  std::string node_ip = "127.0.0.1";
  std::string root_dir = "/var/lib/kubelet";
  std::string runtime = "process";     // process | fake
  std::string node_labels;
  std::string register_with_taints;
  std::string pod_cidr;
  int32_t max_pods = 110;
  float kube_api_qps = 50;
  int32_t kube_api_burst = 100;
  std::string node_status_report_frequency = "5m";
  std::string shim_path;               // default: ck-shim next to this executable
  // Static pods (kubelet/config): a directory of Pod manifests or one file; "" none.
  std::string pod_manifest_path;
  std::string file_check_frequency = "20s";
  // Plain-HTTP /healthz (upstream --healthz-port, --healthz-bind-address); port 0 disables it.
  int32_t healthz_port = 10248;
  std::string healthz_bind_address = "127.0.0.1";
  // Fake runtime.
  int32_t fake_nodes = 0;              // 0: one node named --hostname-override
  std::string fake_node_cpu = "32";
  std::string fake_node_memory = "256Gi";
  std::string fake_start_delay = "0s";
};

void RegisterFlags(CLI::App& app, Options* options);
// What CLI11 cannot check: one readable message.
Status ValidateOptions(const Options& options);

class KubeletApp {
 public:
  static Result<std::unique_ptr<KubeletApp>> Create(daemon::Context& context, const Options& options);
  ~KubeletApp();

  Status Start();
  void Stop();

 private:
  struct NodeParts;
  KubeletApp(daemon::Context& context, Options options, std::unique_ptr<client::RestApiClient> api);
  Status BuildNodes();
  void Run();
  void Heartbeats();
  void TickLoop();  // --fake-nodes: drives every PodManager's relist and resyncs from one thread
  NodeParts* NodeFor(const std::string& name);

  daemon::Context& context_;
  const Options options_;
  std::unique_ptr<client::RestApiClient> api_;
  std::unique_ptr<client::SharedInformerFactory> informers_;
  std::unique_ptr<client::EventBroadcaster> broadcaster_;
  std::unique_ptr<cm::CgroupWriter> cgroups_;  // process mode: resource limits
  std::unique_ptr<KubeletServer> server_;      // the kubelet API (one node, process mode)
  std::unique_ptr<net::HttpServer> healthz_;   // --healthz-port
  std::unique_ptr<ThreadPool> shared_pool_;     // --fake-nodes: one pool for every node's pod workers
  std::map<std::string, std::unique_ptr<NodeParts>> nodes_;  // fixed after BuildNodes
  client::HandlerRegistration pod_handler_;  // its HasSynced: every listed pod was delivered
  std::atomic<bool> stopping_{false};
  std::atomic<bool> synced_{false};
  Wakeup heartbeat_wakeup_;
  Wakeup heartbeat_wakeup_stop_;  // the start-up thread's waits; notified by Stop()
  std::thread run_thread_;
  std::thread heartbeat_thread_;
  std::thread tick_thread_;
  Wakeup tick_wakeup_;
};

}  // namespace ck::kubelet
