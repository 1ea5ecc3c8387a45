#include "controller-manager/controller_manager.h"


#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/base/log.h"
#include "common/base/thread.h"

namespace ck::controller_manager {

namespace {

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
}

Result<client::LeaderElectionTimings> ValidateOptions(const Options& o, const daemon::Profile& profile) {
  CK_RETURN_IF_ERROR(ValidateControllerList(o.controllers));
  if (o.kubeconfig.empty()) return Invalid("--kubeconfig is required");
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
  CK_ASSIGN_OR_RETURN(client::RestConfig config, client::LoadKubeconfig(options.kubeconfig));
  config.qps = options.kube_api_qps;
  config.burst = options.kube_api_burst;
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
  CK_ASSIGN_OR_RETURN(std::unique_ptr<client::RestApiClient> api,
                      client::RestApiClient::New(std::move(config), context.clock(), context.random()));
  return std::unique_ptr<ControllerManager>(
      new ControllerManager(context, options, timings, std::move(api), std::move(root_ca)));
}

ControllerManager::ControllerManager(daemon::Context& context, Options options, client::LeaderElectionTimings timings,
                                     std::unique_ptr<client::RestApiClient> api, std::string root_ca)
    : context_(context),
      options_(std::move(options)),
      timings_(timings),
      identity_(client::NewLeaderIdentity(context.random())),
      api_(std::move(api)),
      informers_(std::make_unique<client::SharedInformerFactory>(*api_, context.clock(), context.random())),
      controller_context_(std::make_unique<ControllerContext>(ControllerContext{
          .api = *api_,
          .informers = *informers_,
          .clock = context.clock(),
          .random = context.random(),
          .metrics = context.metrics(),
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
  CK_ASSIGN_OR_RETURN(elector_, client::LeaderElector::Create(*api_, context_.clock(), std::move(config),
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
}

}  // namespace ck::controller_manager
