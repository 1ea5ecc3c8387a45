// ck-controller-manager's start-up (kube-controller-manager's Run): flags with upstream names,
// one RestApiClient from --kubeconfig, one SharedInformerFactory, and the controllers of the
// table (controller_table.h) that --controllers enables, started only while this process holds
// the `kube-system/kube-controller-manager` Lease (--leader-elect, default true). Losing the lease
// ends the process with exit code 1, as upstream ("leaderelection lost"); a supervisor restarts it.
//   Start(): client -> factory -> elector thread -> on lead: build controllers, start factory,
//            wait for caches, start workers -> Stop(): elector, informers, workers.
// Threading: Start/Stop from the daemon's start function and shutdown hook; the elector and the
// controller start-up each run on their own named thread.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/client/rest/rest_api_client.h"
#include "common/client/tools/leader_election.h"
#include "common/daemon/daemon.h"
#include "controller-manager/controller_table.h"

namespace ck::controller_manager {

struct Options {
  std::string kubeconfig;
  std::vector<std::string> controllers = {"*"};
  std::string root_ca_file;
  bool leader_elect = true;
  // Go durations ("15s"); empty takes the --profile's value (default 15s / 10s / 2s).
  std::string leader_elect_lease_duration;
  std::string leader_elect_renew_deadline;
  std::string leader_elect_retry_period;
  std::string leader_elect_resource_name = "kube-controller-manager";
  std::string leader_elect_resource_namespace = "kube-system";
  std::string leader_elect_resource_lock = "leases";
  float kube_api_qps = 20;  // upstream kube-controller-manager defaults
  int kube_api_burst = 30;
  // Time a controller waits for its informers' first list before start-up fails.
  int cache_sync_timeout_seconds = 120;
  // The controllers' tuning flags (--concurrent-*-syncs, node lifecycle, IPAM, ...). Durations
  // are Go strings parsed by ValidateOptions into `settings`; empty takes the profile's value.
  ControllerSettings settings;
  std::string node_monitor_period;
  std::string node_monitor_grace_period;
  std::string node_startup_grace_period;
  std::string resource_quota_sync_period;
};

// Adds the flags above to `app`, writing into `options` (which must outlive parsing).
void RegisterFlags(CLI::App& app, Options* options);

// Checks what CLI11 cannot: the --controllers names, the durations and their order, the lock
// type, that --kubeconfig is set. Invalid with one readable line. `profile` supplies the default
// timings.
Result<client::LeaderElectionTimings> ValidateOptions(const Options& options, const daemon::Profile& profile);

// The controllers' settings: `options.settings` with the duration flags parsed and the profile's
// defaults filled in (node monitor grace period, default toleration seconds, event TTL).
Result<ControllerSettings> ResolveSettings(const Options& options, const daemon::Profile& profile);

class ControllerManager {
 public:
  // Reads the kubeconfig and --root-ca-file and builds the client; starts nothing.
  static Result<std::unique_ptr<ControllerManager>> Create(daemon::Context& context, const Options& options);
  ~ControllerManager();  // Stop()

  // Starts leader election (or, without it, the controllers) and returns at once.
  Status Start();
  // Stops campaigning or leading, the informers and every controller. Idempotent.
  void Stop();

  // The names of the controllers running now (empty while not leading).
  std::vector<std::string> RunningControllers() const;
  const std::string& identity() const { return identity_; }

 private:
  ControllerManager(daemon::Context& context, Options options, client::LeaderElectionTimings timings,
                    ControllerSettings settings, std::unique_ptr<client::RestApiClient> api,
                    std::unique_ptr<client::RestApiClient> election_api, std::string root_ca);
  // Builds, syncs and starts the enabled controllers (the start-up thread).
  void RunControllers();

  daemon::Context& context_;
  const Options options_;
  const client::LeaderElectionTimings timings_;
  const std::string identity_;
  std::unique_ptr<client::RestApiClient> api_;
  std::unique_ptr<client::RestApiClient> election_api_;  // the Lease's own client and rate limiter
  std::unique_ptr<client::SharedInformerFactory> informers_;
  std::unique_ptr<client::EventBroadcaster> events_;
  const ControllerSettings settings_;
  std::unique_ptr<ControllerContext> controller_context_;
  std::unique_ptr<client::LeaderElector> elector_;
  std::thread elector_thread_;
  std::thread startup_thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> led_{false};

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<ManagedController>> owned_;  // guarded by mu_; built, started or not
  std::vector<std::string> running_;                        // guarded by mu_; names of started ones
};

}  // namespace ck::controller_manager
