#include "controller-manager/controller_manager.h"


#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/api/time_format.h"
#include "common/base/log.h"
#include "common/base/thread.h"
#include "controller-manager/util/object_transform.h"

namespace ck::controller_manager {

namespace {

// Every informer keeps pods and events as TransformForControllers leaves them.
client::FactoryOptions InformerOptions() {
  client::FactoryOptions o;
  o.defaults.transform = TransformForControllers;
  return o;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("open " + path + ": no such file or unreadable");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

void RegisterFlags(CLI::App& app, Options* o) {
  app.add_option("--kubeconfig", o->kubeconfig,
                 "Path to kubeconfig file with authorization and master location information.");
  app.add_option("--controllers", o->controllers,
                 "A list of controllers to enable. '*' enables all on-by-default controllers, 'foo' enables the "
                 "controller named 'foo', '-foo' disables the controller named 'foo'.")
      ->delimiter(',');
  app.add_option("--root-ca-file", o->root_ca_file,
                 "If set, this root certificate authority will be included in service account's token secret "
                 "and published as the kube-root-ca.crt ConfigMap in every namespace.");
  app.add_flag("--leader-elect", o->leader_elect,
               "Start a leader election client and gain leadership before executing the main loop (default true; "
               "--leader-elect=false turns it off).");
  app.add_option("--leader-elect-lease-duration", o->leader_elect_lease_duration,
                 "The duration that non-leader candidates will wait after observing a leadership renewal until "
                 "attempting to acquire leadership of a led but unrenewed leader slot.");
  app.add_option("--leader-elect-renew-deadline", o->leader_elect_renew_deadline,
                 "The interval between attempts by the acting master to renew a leadership slot before it stops "
                 "leading.");
  app.add_option("--leader-elect-retry-period", o->leader_elect_retry_period,
                 "The duration the clients should wait between attempting acquisition and renewal of a leadership.");
  app.add_option("--leader-elect-resource-name", o->leader_elect_resource_name,
                 "The name of resource object that is used for locking during leader election.");
  app.add_option("--leader-elect-resource-namespace", o->leader_elect_resource_namespace,
                 "The namespace of resource object that is used for locking during leader election.");
  app.add_option("--leader-elect-resource-lock", o->leader_elect_resource_lock,
                 "The type of resource object that is used for locking during leader election. Supported: 'leases'.");
  app.add_option("--kube-api-qps", o->kube_api_qps, "QPS to use while talking with kubernetes apiserver.")
      ->check(CLI::Range(0.0f, 100000.0f));
  app.add_option("--kube-api-burst", o->kube_api_burst, "Burst to use while talking with kubernetes apiserver.")
      ->check(CLI::Range(0, 100000));

  ControllerSettings& c = o->settings;
  auto workers = [&](const char* flag, int* value, const char* what) {
    app.add_option(flag, *value, std::string("The number of ") + what +
                                     " objects that are allowed to sync concurrently. Larger number = more "
                                     "responsive, but more CPU (and network) load.")
        ->check(CLI::Range(1, 1000));
  };
  workers("--concurrent-deployment-syncs", &c.concurrent_deployment_syncs, "deployment");
  workers("--concurrent-replicaset-syncs", &c.concurrent_replicaset_syncs, "replica set");
  workers("--concurrent-statefulset-syncs", &c.concurrent_statefulset_syncs, "statefulset");
  workers("--concurrent-daemonset-syncs", &c.concurrent_daemonset_syncs, "daemonset");
  workers("--concurrent-endpoint-syncs", &c.concurrent_endpoint_syncs, "endpoint syncing");
  workers("--concurrent-service-endpoint-syncs", &c.concurrent_service_endpoint_syncs, "service endpoint syncing");
  workers("--concurrent-job-syncs", &c.concurrent_job_syncs, "job");
  workers("--concurrent-cron-job-syncs", &c.concurrent_cron_job_syncs, "cron job");
  workers("--concurrent-gc-syncs", &c.concurrent_gc_syncs, "garbage collector worker");
  workers("--concurrent-namespace-syncs", &c.concurrent_namespace_syncs, "namespace");
  workers("--concurrent-resource-quota-syncs", &c.concurrent_resource_quota_syncs, "resource quota");
  workers("--concurrent-ttl-after-finished-syncs", &c.concurrent_ttl_after_finished_syncs, "ttl-after-finished-controller worker");
  app.add_option("--node-monitor-period", o->node_monitor_period,
                 "The period for syncing NodeStatus in cloud-node-lifecycle-controller (default 5s).");
  app.add_option("--node-monitor-grace-period", o->node_monitor_grace_period,
                 "Amount of time which we allow running Node to be unresponsive before marking it unhealthy "
                 "(default from --profile: 40s, teaching 5s).");
  app.add_option("--node-startup-grace-period", o->node_startup_grace_period,
                 "Amount of time which we allow starting Node to be unresponsive before marking it unhealthy "
                 "(default 1m0s).");
  app.add_option("--node-eviction-rate", c.node_eviction_rate,
                 "Number of nodes per second on which pods are deleted in case of node failure when a zone is "
                 "healthy.")
      ->check(CLI::Range(0.0, 1000.0));
  app.add_option("--secondary-node-eviction-rate", c.secondary_node_eviction_rate,
                 "Number of nodes per second on which pods are deleted in case of node failure when a zone is "
                 "unhealthy.")
      ->check(CLI::Range(0.0, 1000.0));
  app.add_option("--large-cluster-size-threshold", c.large_cluster_size_threshold,
                 "Number of nodes from which node-lifecycle-controller treats the cluster as large for the eviction "
                 "logic purposes.")
      ->check(CLI::Range(0, 1000000));
  app.add_option("--unhealthy-zone-threshold", c.unhealthy_zone_threshold,
                 "Fraction of Nodes in a zone which needs to be not Ready (minimum 3) for zone to be treated as "
                 "unhealthy.")
      ->check(CLI::Range(0.0, 1.0));
  app.add_flag("--allocate-node-cidrs", c.allocate_node_cidrs,
               "Should CIDRs for Pods be allocated and set on the cloud provider.");
  app.add_option("--cluster-cidr", c.cluster_cidr, "CIDR Range for Pods in cluster.");
  app.add_option("--node-cidr-mask-size", c.node_cidr_mask_size, "Mask size for node cidr in cluster.")
      ->check(CLI::Range(1, 128));
  app.add_option("--service-cluster-ip-range", c.service_cluster_ip_range,
                 "CIDR Range for Services in cluster. Requires --allocate-node-cidrs to be true");
  app.add_option("--max-endpoints-per-slice", c.max_endpoints_per_slice,
                 "The maximum number of endpoints that will be added to an EndpointSlice.")
      ->check(CLI::Range(1, 1000));
  app.add_flag("--enable-garbage-collector", c.enable_garbage_collector,
               "Enables the generic garbage collector. Must be synced with the corresponding flag of the "
               "kube-apiserver.");
  app.add_option("--resource-quota-sync-period", o->resource_quota_sync_period,
                 "The period for syncing quota usage status in the system (default 5m0s).");
}

Result<ControllerSettings> ResolveSettings(const Options& o, const daemon::Profile& profile) {
  ControllerSettings s = o.settings;
  s.profile = profile.name;
  s.node_monitor_grace_period = profile.node_monitor_grace_period;
  s.default_toleration_seconds = profile.default_toleration_seconds;
  auto duration = [](const char* flag, const std::string& value, Duration* out) -> Status {
    if (value.empty()) return Status::Ok();
    Result<int64_t> nanos = api::ParseGoDuration(value);
    if (!nanos.ok() || *nanos <= 0) {
      return Invalid(std::string(flag) + ": invalid duration \"" + value + "\" (use Go syntax, e.g. 40s, 1m30s)");
    }
    *out = std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(*nanos));
    return Status::Ok();
  };
  CK_RETURN_IF_ERROR(duration("--node-monitor-period", o.node_monitor_period, &s.node_monitor_period));
  CK_RETURN_IF_ERROR(duration("--node-monitor-grace-period", o.node_monitor_grace_period, &s.node_monitor_grace_period));
  CK_RETURN_IF_ERROR(duration("--node-startup-grace-period", o.node_startup_grace_period, &s.node_startup_grace_period));
  CK_RETURN_IF_ERROR(
      duration("--resource-quota-sync-period", o.resource_quota_sync_period, &s.resource_quota_sync_period));
  if (s.allocate_node_cidrs && s.cluster_cidr.empty()) s.cluster_cidr = "10.244.0.0/16";
  return s;
}

Result<client::LeaderElectionTimings> ValidateOptions(const Options& o, const daemon::Profile& profile) {
  CK_RETURN_IF_ERROR(ValidateControllerList(o.controllers));
  if (o.kubeconfig.empty()) return Invalid("--kubeconfig is required");
  CK_RETURN_IF_ERROR(ResolveSettings(o, profile).status());
  if (o.leader_elect_resource_lock != "leases") {
    return Invalid("--leader-elect-resource-lock: only \"leases\" is supported, got \"" +
                   o.leader_elect_resource_lock + "\"");
  }
  client::LeaderElectionTimings defaults{profile.leader_lease_duration, profile.leader_renew_deadline,
                                         profile.leader_retry_period};
  return client::ParseLeaderElectionTimings(o.leader_elect_lease_duration, o.leader_elect_renew_deadline,
                                            o.leader_elect_retry_period, defaults, o.leader_elect);
}

Result<std::unique_ptr<ControllerManager>> ControllerManager::Create(daemon::Context& context, const Options& options) {
  CK_ASSIGN_OR_RETURN(client::LeaderElectionTimings timings, ValidateOptions(options, context.profile()));
  CK_ASSIGN_OR_RETURN(ControllerSettings settings, ResolveSettings(options, context.profile()));
  CK_ASSIGN_OR_RETURN(client::RestConfig config, client::LoadKubeconfig(options.kubeconfig));
  config.qps = options.kube_api_qps;
  config.burst = options.kube_api_burst;
  // Workload controllers create pods 32 at a time (slow-start batches) besides their watches:
  // keep enough idle connections that none of those requests pays a new TLS handshake.
  config.max_idle_connections = 64;
  config.user_agent = client::MakeUserAgent("ck-controller-manager", "v1.32.0");
  config.metrics = &context.metrics();
  std::string root_ca = config.ca_pem;
  if (!options.root_ca_file.empty()) {
    Result<std::string> pem = ReadFile(options.root_ca_file);
    if (!pem.ok()) return Invalid("--root-ca-file: " + pem.status().message());
    if (pem->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      return Invalid("--root-ca-file: " + options.root_ca_file + " holds no PEM certificate");
    }
    root_ca = *pem;
  }
  // Leader election gets a client of its own (upstream: the "leader-election" clientset), so that
  // lease renewals never wait behind the controllers' requests in the QPS limiter.
  client::RestConfig election_config = config;
  election_config.user_agent = client::MakeUserAgent("ck-controller-manager/leader-election", "v1.32.0");
  CK_ASSIGN_OR_RETURN(std::unique_ptr<client::RestApiClient> election_api,
                      client::RestApiClient::New(std::move(election_config), context.clock(), context.random()));
  CK_ASSIGN_OR_RETURN(std::unique_ptr<client::RestApiClient> api,
                      client::RestApiClient::New(std::move(config), context.clock(), context.random()));
  return std::unique_ptr<ControllerManager>(
      new ControllerManager(context, options, timings, std::move(settings), std::move(api), std::move(election_api),
                            std::move(root_ca)));
}

ControllerManager::ControllerManager(daemon::Context& context, Options options, client::LeaderElectionTimings timings,
                                     ControllerSettings settings, std::unique_ptr<client::RestApiClient> api,
                                     std::unique_ptr<client::RestApiClient> election_api, std::string root_ca)
    : context_(context),
      options_(std::move(options)),
      timings_(timings),
      identity_(client::NewLeaderIdentity(context.random())),
      api_(std::move(api)),
      election_api_(std::move(election_api)),
      informers_(std::make_unique<client::SharedInformerFactory>(*api_, context.clock(), context.random(),
                                                                 InformerOptions())),
      events_(std::make_unique<client::EventBroadcaster>(*api_, context.clock(), client::EventBroadcasterOptions{},
                                                         context.random())),
      settings_(std::move(settings)),
      controller_context_(std::make_unique<ControllerContext>(ControllerContext{
          .api = *api_,
          .informers = *informers_,
          .clock = context.clock(),
          .random = context.random(),
          .metrics = context.metrics(),
          .events = *events_,
          .settings = settings_,
          .root_ca_pem = std::move(root_ca),
      })) {}

ControllerManager::~ControllerManager() { Stop(); }

Status ControllerManager::Start() {
  if (!options_.leader_elect) {
    startup_thread_ = std::thread([this] { RunControllers(); });
    return Status::Ok();
  }
  client::LeaderElectionConfig config;
  config.lease_namespace = options_.leader_elect_resource_namespace;
  config.lease_name = options_.leader_elect_resource_name;
  config.identity = identity_;
  config.timings = timings_;
  config.callbacks.on_started_leading = [this] {
    led_ = true;
    CK_LOG_INFO("Started leading", "lease",
                options_.leader_elect_resource_namespace + "/" + options_.leader_elect_resource_name, "identity",
                identity_);
    startup_thread_ = std::thread([this] { RunControllers(); });
  };
  config.callbacks.on_stopped_leading = [this] {
    if (stopping_) return;
    // Upstream exits: another replica now leads, and these informers and workers must not act.
    CK_LOG_ERROR("leaderelection lost", "identity", identity_);
    context_.RequestShutdown(Internal("leaderelection lost"));
  };
  config.callbacks.on_new_leader = [this](const std::string& holder) {
    if (holder != identity_) CK_LOG_INFO("New leader elected", "identity", holder);
  };
  CK_ASSIGN_OR_RETURN(elector_, client::LeaderElector::Create(*election_api_, context_.clock(), std::move(config),
                                                              context_.random(), context_.metrics()));
  CK_LOG_INFO("Attempting to acquire leader lease", "lease",
              options_.leader_elect_resource_namespace + "/" + options_.leader_elect_resource_name, "identity",
              identity_);
  // A leader whose renewals have failed past the renew deadline reports unhealthy until it exits.
  context_.health().AddLiveness("leaderElection", [this]() -> Status {
    if (led_ && !stopping_ && !elector_->IsLeader()) return Unavailable("the leader lease was lost");
    return Status::Ok();
  });
  elector_thread_ = std::thread([this] {
    SetCurrentThreadName("leader-elector");
    elector_->Run();
  });
  return Status::Ok();
}

void ControllerManager::RunControllers() {
  SetCurrentThreadName("cm-startup");
  // Built controllers are owned by the manager from here on: their handlers are on the informers.
  std::vector<ManagedController*> built;
  for (const ControllerDescriptor& descriptor : KnownControllers()) {
    if (!IsControllerEnabled(descriptor, options_.controllers)) {
      CK_LOG_INFO("Warning: controller is disabled", "controller", descriptor.name);
      continue;
    }
    Result<std::unique_ptr<ManagedController>> controller = descriptor.constructor(*controller_context_);
    if (!controller.ok()) {
      context_.RequestShutdown(Internal("error starting controller " + descriptor.name + ": " +
                                        controller.status().message()));
      return;
    }
    built.push_back(controller->get());
    std::lock_guard lock(mu_);
    owned_.push_back(std::move(controller).value());
  }
  events_->Start();
  informers_->Start();
  size_t i = 0;
  for (const ControllerDescriptor& descriptor : KnownControllers()) {
    if (!IsControllerEnabled(descriptor, options_.controllers)) continue;
    if (stopping_) return;
    ManagedController* controller = built[i++];
    Status started =
        controller->Start(controller->Informers(), std::chrono::seconds(options_.cache_sync_timeout_seconds));
    if (!started.ok()) {
      if (!stopping_) {
        context_.RequestShutdown(Internal("error starting controller " + descriptor.name + ": " + started.message()));
      }
      return;
    }
    CK_LOG_INFO("Started controller", "controller", descriptor.name);
    std::lock_guard lock(mu_);
    running_.push_back(descriptor.name);
  }
}

std::vector<std::string> ControllerManager::RunningControllers() const {
  std::lock_guard lock(mu_);
  return running_;
}

void ControllerManager::Stop() {
  if (stopping_.exchange(true)) return;
  if (elector_) elector_->Stop();
  if (elector_thread_.joinable()) elector_thread_.join();
  // Stopped informers end a start-up still waiting for caches.
  informers_->Shutdown();
  if (startup_thread_.joinable()) startup_thread_.join();
  std::lock_guard lock(mu_);
  for (auto& controller : owned_) controller->Stop();
  running_.clear();
  events_->Shutdown();
}

}  // namespace ck::controller_manager
