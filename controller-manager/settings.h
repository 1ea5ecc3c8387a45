// ControllerSettings: the tuning every controller reads, from kube-controller-manager's flags of
// the same names (controller_manager.cc registers them) and the daemon's --profile (teaching
// shortens node health timings so a dead node is handled within 30 s). One value, built at
// start-up and read-only afterwards, shared by every controller through ControllerContext.
// Threading: immutable after start-up; read from any thread.
#pragma once

#include <chrono>
#include <string>

#include "common/base/clock.h"

namespace ck::controller_manager {

struct ControllerSettings {
  std::string profile = "default";  // "default" or "teaching"

  // Workers per controller (--concurrent-*-syncs).
  int concurrent_deployment_syncs = 5;
  int concurrent_replicaset_syncs = 5;
  int concurrent_statefulset_syncs = 5;
  int concurrent_daemonset_syncs = 2;
  int concurrent_endpoint_syncs = 5;          // Endpoints
  int concurrent_service_endpoint_syncs = 5;  // EndpointSlices
  int concurrent_job_syncs = 5;
  int concurrent_cron_job_syncs = 5;
  int concurrent_gc_syncs = 20;
  int concurrent_namespace_syncs = 10;
  int concurrent_resource_quota_syncs = 5;
  int concurrent_ttl_after_finished_syncs = 5;

  // Node lifecycle (--node-monitor-period, --node-monitor-grace-period, --node-startup-grace-period,
  // --node-eviction-rate, --secondary-node-eviction-rate, --large-cluster-size-threshold,
  // --unhealthy-zone-threshold). The grace period defaults to the profile's (40 s; teaching 5 s).
  Duration node_monitor_period = std::chrono::seconds(5);
  Duration node_monitor_grace_period = std::chrono::seconds(40);
  Duration node_startup_grace_period = std::chrono::seconds(60);
  double node_eviction_rate = 0.1;             // nodes per second whose pods are evicted
  double secondary_node_eviction_rate = 0.01;  // in an unhealthy zone of a large cluster
  int large_cluster_size_threshold = 50;
  double unhealthy_zone_threshold = 0.55;
  // The tolerationSeconds DefaultTolerationSeconds admission gives pods (300 s; teaching 5 s); the
  // node lifecycle controller uses it for pods without a matching toleration.
  Duration default_toleration_seconds = std::chrono::seconds(300);

  // Node IPAM (--allocate-node-cidrs, --cluster-cidr, --node-cidr-mask-size,
  // --service-cluster-ip-range: the service range is never handed to nodes).
  bool allocate_node_cidrs = false;
  std::string cluster_cidr;  // "" with --allocate-node-cidrs: 10.244.0.0/16
  int node_cidr_mask_size = 24;
  std::string service_cluster_ip_range;

  // EndpointSlices (--max-endpoints-per-slice).
  int max_endpoints_per_slice = 100;

  // Garbage collector (--enable-garbage-collector).
  bool enable_garbage_collector = true;

  // ResourceQuota full resync (--resource-quota-sync-period).
  Duration resource_quota_sync_period = std::chrono::minutes(5);
};

}  // namespace ck::controller_manager
