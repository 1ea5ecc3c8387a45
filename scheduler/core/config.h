// The scheduler's configuration file: the KubeSchedulerConfiguration subset of
// kubescheduler.config.k8s.io/v1 that ck-scheduler honours (--config), with upstream's defaults:
//   parallelism, percentageOfNodesToScore, podInitialBackoffSeconds, podMaxBackoffSeconds,
//   clientConnection {kubeconfig, qps, burst}, leaderElection {leaderElect, leaseDuration,
//   renewDeadline, retryPeriod, resourceLock, resourceName, resourceNamespace},
//   profiles[] {schedulerName, percentageOfNodesToScore, plugins {<point>: {enabled, disabled}},
//   pluginConfig [{name, args}]}.
// Plugins merge as upstream: the default multiPoint set, minus what `disabled` names ("*" = all),
// plus the profile's `enabled` entries (an entry naming a default plugin replaces it in place).
// Unknown fields are an error (upstream decodes strictly), naming the field.
// Plain values; not synchronized.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "common/daemon/profile.h"
#include "scheduler/framework/framework.h"

namespace ck::scheduler {

struct ClientConnectionConfig {
  std::string kubeconfig;
  float qps = 50;  // upstream defaults
  int32_t burst = 100;
};

struct LeaderElectionConfig {
  bool leader_elect = true;
  std::string lease_duration;  // Go durations; "" = the --profile's value
  std::string renew_deadline;
  std::string retry_period;
  std::string resource_lock = "leases";
  std::string resource_name = "kube-scheduler";
  std::string resource_namespace = "kube-system";
};

struct SchedulerConfig {
  // Threads for Filter and Score. Upstream's default is 16; on a small machine more threads than
  // CPUs only add hand-offs, so the default here is the number of CPUs (at least 1).
  int32_t parallelism = 0;
  std::optional<int32_t> percentage_of_nodes_to_score;
  // Seconds; unset takes the --profile's values (1 s / 10 s, teaching 0.2 s / 2 s).
  std::optional<double> pod_initial_backoff_seconds;
  std::optional<double> pod_max_backoff_seconds;
  ClientConnectionConfig client_connection;
  LeaderElectionConfig leader_election;
  std::vector<ProfileConfig> profiles;
};

// Upstream's default multiPoint plugins (v1), minus the volume, image and gate plugins
// Clearkube does not have, with their score weights.
std::vector<PluginRef> DefaultMultiPointPlugins();

// One default profile ("default-scheduler") and upstream's other defaults.
SchedulerConfig DefaultSchedulerConfig();

// Parses a KubeSchedulerConfiguration document. Invalid with one readable line naming the field:
//   `KubeSchedulerConfiguration: profiles[0].plugins.score.enabled[1].weight: must be in 1..100`
Result<SchedulerConfig> ParseSchedulerConfig(std::string_view yaml);
// Reads and parses the file; NotFound / Invalid naming the path.
Result<SchedulerConfig> LoadSchedulerConfig(const std::string& path);

}  // namespace ck::scheduler
