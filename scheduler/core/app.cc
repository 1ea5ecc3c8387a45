// SchedulerApp (app.h).
#include "scheduler/core/app.h"

#include "common/base/log.h"
#include "common/base/thread.h"
#include "common/net/url.h"
#include "scheduler/core/pod_transform.h"
#include "scheduler/plugins/registry.h"

namespace ck::scheduler {

namespace {

// Every informer keeps pods as PodForScheduling leaves them (the scheduler's memory at scale).
client::FactoryOptions InformerOptions() {
  client::FactoryOptions o;
  o.defaults.transform = [](client::ObjectPtr obj) -> client::ObjectPtr {
    if (auto pod = client::As<::k8s::io::api::core::v1::Pod>(obj)) return PodForScheduling(*pod);
    return obj;
  };
  return o;
}

// The value of `key` in a query string ("pod=ns%2Fname&format=text").
std::string QueryValue(const std::string& query, std::string_view key) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t end = query.find('&', pos);
    if (end == std::string::npos) end = query.size();
    std::string_view part(query.data() + pos, end - pos);
    size_t eq = part.find('=');
    if (part.substr(0, eq) == key) {
      auto v = net::PercentDecode(eq == std::string_view::npos ? "" : part.substr(eq + 1), true);
      return v.value_or("");
    }
    pos = end + 1;
  }
  return "";
}

}  // namespace

void RegisterFlags(CLI::App& app, AppOptions* o) {
  app.add_option("--config", o->config_file, "The path to the configuration file.");
  app.add_option("--kubeconfig", o->kubeconfig,
                 "Path to kubeconfig file with authorization and master location information (overrides "
                 "clientConnection.kubeconfig).");
  o->leader_elect_flag = app.add_flag(
      "--leader-elect", o->leader_elect,
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
  app.add_option("--binding-threads", o->binding_threads,
                 "Pods bound through the API at the same time (each binding is one API round trip).")
      ->check(CLI::Range(1, 256));
}

Result<SchedulerConfig> ResolveConfig(const AppOptions& o) {
  SchedulerConfig c = DefaultSchedulerConfig();
  if (!o.config_file.empty()) {
    auto loaded = LoadSchedulerConfig(o.config_file);
    if (!loaded.ok()) return Status(Code::kInvalid, loaded.status().message());
    c = std::move(*loaded);
  }
  if (!o.kubeconfig.empty()) c.client_connection.kubeconfig = o.kubeconfig;
  if (c.client_connection.kubeconfig.empty()) {
    return Status(Code::kInvalid, "no kubeconfig: set --kubeconfig or clientConnection.kubeconfig in --config");
  }
  auto& le = c.leader_election;
  if (o.leader_elect_flag != nullptr && o.leader_elect_flag->count() > 0) le.leader_elect = o.leader_elect;
  if (!o.leader_elect_lease_duration.empty()) le.lease_duration = o.leader_elect_lease_duration;
  if (!o.leader_elect_renew_deadline.empty()) le.renew_deadline = o.leader_elect_renew_deadline;
  if (!o.leader_elect_retry_period.empty()) le.retry_period = o.leader_elect_retry_period;
  if (!o.leader_elect_resource_name.empty()) le.resource_name = o.leader_elect_resource_name;
  if (!o.leader_elect_resource_namespace.empty()) le.resource_namespace = o.leader_elect_resource_namespace;
  if (!o.leader_elect_resource_lock.empty()) le.resource_lock = o.leader_elect_resource_lock;
  if (le.resource_lock != "leases") {
    return Status(Code::kInvalid, "--leader-elect-resource-lock: only \"leases\" is supported, got \"" + le.resource_lock + "\"");
  }
  if (o.kube_api_qps) c.client_connection.qps = *o.kube_api_qps;
  if (o.kube_api_burst) c.client_connection.burst = *o.kube_api_burst;
  return c;
}

Result<std::unique_ptr<SchedulerApp>> SchedulerApp::Create(daemon::Context& context, const AppOptions& options) {
  CK_ASSIGN_OR_RETURN(SchedulerConfig config, ResolveConfig(options));
  const daemon::Profile& p = context.profile();
  CK_ASSIGN_OR_RETURN(client::LeaderElectionTimings timings,
                      client::ParseLeaderElectionTimings(
                          config.leader_election.lease_duration, config.leader_election.renew_deadline,
                          config.leader_election.retry_period,
                          {p.leader_lease_duration, p.leader_renew_deadline, p.leader_retry_period},
                          config.leader_election.leader_elect));
  CK_ASSIGN_OR_RETURN(client::RestConfig rest, client::LoadKubeconfig(config.client_connection.kubeconfig));
  rest.qps = config.client_connection.qps;
  rest.burst = config.client_connection.burst;
  rest.user_agent = client::MakeUserAgent("ck-scheduler", "v1.32.0");
  rest.metrics = &context.metrics();
  CK_ASSIGN_OR_RETURN(std::unique_ptr<client::RestApiClient> api,
                      client::RestApiClient::New(std::move(rest), context.clock(), context.random()));
  std::unique_ptr<SchedulerApp> app(new SchedulerApp(context, options, std::move(config), timings, std::move(api)));

  app->broadcaster_ = std::make_unique<client::EventBroadcaster>(*app->api_, context.clock(),
                                                                 client::EventBroadcasterOptions{}, context.random());
  app->recorder_ = std::make_unique<client::EventRecorder>(app->broadcaster_->NewRecorder({"default-scheduler", ""}));
  SchedulerDeps deps;
  deps.api = app->api_.get();
  deps.informers = app->informers_.get();
  deps.clock = &context.clock();
  deps.random = &context.random();
  deps.metrics = &context.metrics();
  deps.events = app->recorder_.get();
  SchedulerOptions so;
  so.binding_threads = options.binding_threads;
  CK_ASSIGN_OR_RETURN(app->scheduler_, Scheduler::Create(BuiltinRegistry(), app->config_, p, deps, so));
  app->scheduler_->AddEventHandlers();
  Scheduler* s = app->scheduler_.get();
  context.Handle("/debug/explain", [s](net::Request req, std::shared_ptr<net::ResponseWriter> w) {
    std::string pod = QueryValue(req.raw_query, "pod");
    bool text = QueryValue(req.raw_query, "format") == "text";
    if (pod.empty()) {
      std::string body = "usage: /debug/explain?pod=<namespace>/<name>[&format=text]\nrecent pods:\n";
      for (const auto& k : s->explain_store().Keys(50)) body += "  " + k + "\n";
      w->Respond(400, net::Headers{{"Content-Type", "text/plain; charset=utf-8"}}, body);
      return;
    }
    auto out = s->Explain(pod, text);
    if (!out.ok()) {
      w->Respond(404, net::Headers{{"Content-Type", "text/plain; charset=utf-8"}}, out.status().message() + "\n");
      return;
    }
    w->Respond(200, net::Headers{{"Content-Type", text ? "text/plain; charset=utf-8" : "application/json"}}, *out);
  });
  return app;
}

SchedulerApp::SchedulerApp(daemon::Context& context, AppOptions options, SchedulerConfig config,
                           client::LeaderElectionTimings timings, std::unique_ptr<client::RestApiClient> api)
    : context_(context),
      options_(std::move(options)),
      config_(std::move(config)),
      timings_(timings),
      identity_(client::NewLeaderIdentity(context.random())),
      api_(std::move(api)),
      informers_(std::make_unique<client::SharedInformerFactory>(*api_, context.clock(), context.random(),
                                                                 InformerOptions())) {}

SchedulerApp::~SchedulerApp() { Stop(); }

Status SchedulerApp::Start() {
  broadcaster_->Start();
  if (!config_.leader_election.leader_elect) {
    startup_thread_ = std::thread([this] { RunScheduler(); });
    return Status::Ok();
  }
  const auto& le = config_.leader_election;
  client::LeaderElectionConfig config;
  config.lease_namespace = le.resource_namespace;
  config.lease_name = le.resource_name;
  config.identity = identity_;
  config.timings = timings_;
  config.callbacks.on_started_leading = [this] {
    led_ = true;
    CK_LOG_INFO("Started leading", "lease", config_.leader_election.resource_namespace + "/" +
                                                config_.leader_election.resource_name, "identity", identity_);
    startup_thread_ = std::thread([this] { RunScheduler(); });
  };
  config.callbacks.on_stopped_leading = [this] {
    if (stopping_) return;
    CK_LOG_ERROR("leaderelection lost", "identity", identity_);
    context_.RequestShutdown(Status(Code::kInternal, "leaderelection lost"));
  };
  config.callbacks.on_new_leader = [this](const std::string& holder) {
    if (holder != identity_) CK_LOG_INFO("New leader elected", "identity", holder);
  };
  CK_ASSIGN_OR_RETURN(elector_, client::LeaderElector::Create(*api_, context_.clock(), std::move(config),
                                                              context_.random(), context_.metrics()));
  CK_LOG_INFO("Attempting to acquire leader lease", "lease", le.resource_namespace + "/" + le.resource_name,
              "identity", identity_);
  context_.health().AddLiveness("leaderElection", [this]() -> Status {
    if (led_ && !stopping_ && !elector_->IsLeader()) return Status(Code::kUnavailable, "the leader lease was lost");
    return Status::Ok();
  });
  elector_thread_ = std::thread([this] {
    SetCurrentThreadName("leader-elector");
    elector_->Run();
  });
  return Status::Ok();
}

void SchedulerApp::RunScheduler() {
  SetCurrentThreadName("sched-startup");
  informers_->Start();
  MonoTime deadline = context_.clock().Monotonic() + std::chrono::seconds(options_.cache_sync_timeout_seconds);
  if (!informers_->WaitForCacheSync(context_.clock(), deadline)) {
    if (!stopping_) context_.RequestShutdown(Status(Code::kUnavailable, "timed out waiting for the scheduler's caches to sync"));
    return;
  }
  if (stopping_) return;
  CK_LOG_INFO("Scheduler caches synced; starting the scheduling loop");
  scheduler_->Run();
}

void SchedulerApp::Stop() {
  if (stopping_.exchange(true)) return;
  if (elector_) elector_->Stop();
  if (elector_thread_.joinable()) elector_thread_.join();
  informers_->Shutdown();
  if (startup_thread_.joinable()) startup_thread_.join();
  if (scheduler_) scheduler_->Stop();
  if (broadcaster_) broadcaster_->Shutdown();
}

}  // namespace ck::scheduler
