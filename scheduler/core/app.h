// ck-scheduler's start-up (upstream cmd/kube-scheduler app): flags with kube-scheduler's names,
// the KubeSchedulerConfiguration from --config (flags given on the command line win over it, as
// upstream's deprecated flags do), one RestApiClient, one SharedInformerFactory, the Scheduler,
// and leader election on the `kube-system/kube-scheduler` Lease (default on). Losing the lease
// ends the process with exit code 1 ("leaderelection lost"), as upstream.
//   Start(): config -> client -> informers -> scheduler handlers -> /debug/explain route
//            -> elector (or directly) -> on lead: start informers, wait for caches, Run().
// Threading: Start/Stop from the daemon's start function and shutdown hook.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>

#include "common/client/rest/rest_api_client.h"
#include "common/client/tools/event_recorder.h"
#include "common/client/tools/leader_election.h"
#include "common/daemon/daemon.h"
#include "scheduler/core/config.h"
#include "scheduler/core/scheduler.h"

namespace ck::scheduler {

struct AppOptions {
  std::string config_file;  // --config
  std::string kubeconfig;   // --kubeconfig (overrides clientConnection.kubeconfig)
  // Unset flags leave the configuration's values.
  bool leader_elect = true;
  const CLI::Option* leader_elect_flag = nullptr;  // set by RegisterFlags; counted when given
  std::string leader_elect_lease_duration;
  std::string leader_elect_renew_deadline;
  std::string leader_elect_retry_period;
  std::string leader_elect_resource_name;
  std::string leader_elect_resource_namespace;
  std::string leader_elect_resource_lock;
  std::optional<float> kube_api_qps;
  std::optional<int> kube_api_burst;
  int binding_threads = 64;
  int cache_sync_timeout_seconds = 120;
};

void RegisterFlags(CLI::App& app, AppOptions* options);

// The configuration the flags and --config describe, validated. Invalid with one readable line.
Result<SchedulerConfig> ResolveConfig(const AppOptions& options);

class SchedulerApp {
 public:
  static Result<std::unique_ptr<SchedulerApp>> Create(daemon::Context& context, const AppOptions& options);
  ~SchedulerApp();  // Stop()

  Status Start();
  void Stop();
  Scheduler& scheduler() { return *scheduler_; }

 private:
  SchedulerApp(daemon::Context& context, AppOptions options, SchedulerConfig config,
               client::LeaderElectionTimings timings, std::unique_ptr<client::RestApiClient> api);
  void RunScheduler();

  daemon::Context& context_;
  const AppOptions options_;
  const SchedulerConfig config_;
  const client::LeaderElectionTimings timings_;
  const std::string identity_;
  std::unique_ptr<client::RestApiClient> api_;
  std::unique_ptr<client::SharedInformerFactory> informers_;
  std::unique_ptr<client::EventBroadcaster> broadcaster_;
  std::unique_ptr<client::EventRecorder> recorder_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<client::LeaderElector> elector_;
  std::thread elector_thread_;
  std::thread startup_thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> led_{false};
};

}  // namespace ck::scheduler
