// KubeletApp (kubelet.h).
#include "kubelet/core/kubelet.h"

#include <unistd.h>

#include <filesystem>

#include "common/api/object.h"
#include "common/api/proto/authentication_v1.pb.h"
#include "common/api/time_format.h"
#include "common/base/log.h"
#include "common/base/strings.h"
#include "common/base/thread.h"
#include "kubelet/config/static_pods.h"
#include "kubelet/core/node_agent.h"
#include "kubelet/env/environment.h"
#include "kubelet/network/loopback_plugin.h"
#include "kubelet/pod/mirror_pod.h"
#include "kubelet/pod/pod_manager.h"
#include "kubelet/prober/prober_manager.h"
#include "kubelet/runtime/fake_runtime.h"
#include "kubelet/runtime/process_runtime.h"
#include "kubelet/volume/volume_manager.h"

namespace ck::kubelet {

namespace corev1 = ::k8s::io::api::core::v1;
namespace authnv1 = ::k8s::io::api::authentication::v1;
namespace fs = std::filesystem;

namespace {

const client::ResourceInfo& Res(const google::protobuf::Descriptor* d) {
  return client::SharedInformerFactory::ResourceOfMessage(d->full_name());
}

std::string ExecutableDir() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : self.parent_path().string();
}

// A GET of one object of kind T by namespace and name (the ConfigMaps and Secrets pods use; the
// Node authorizer allows a kubelet only those of its own pods, so there is no informer to ask).
template <typename T>
std::function<Result<T>(const std::string&, const std::string&)> GetterOf(client::ApiClient* api) {
  return [api](const std::string& ns, const std::string& name) -> Result<T> {
    CK_ASSIGN_OR_RETURN(client::ObjectPtr o, api->Get(Res(T::descriptor()), ns, name));
    return *client::As<T>(o);
  };
}

Duration ParseDurationOr(const std::string& text, Duration fallback) {
  auto parsed = api::ParseGoDuration(text);
  return parsed.ok() ? Duration(*parsed) : fallback;
}

}  // namespace

struct KubeletApp::NodeParts {
  std::unique_ptr<ContainerRuntime> runtime;
  std::unique_ptr<NetworkPlugin> network;
  std::unique_ptr<NodeAgent> agent;
  std::unique_ptr<ProbeManager> probes;
  std::unique_ptr<VolumeManager> volumes;
  std::unique_ptr<client::EventRecorder> events;
  std::unique_ptr<PodManager> pods;
  std::unique_ptr<StaticPods> static_pods;  // null with --fake-nodes (mirror pods then run nowhere)
  MonoTime next_report{};
};

void RegisterFlags(CLI::App& app, Options* o) {
  app.add_option("--kubeconfig", o->kubeconfig,
                 "Path to a kubeconfig file, specifying how to connect to the API server.");
  app.add_option("--hostname-override", o->hostname_override,
                 "If non-empty, will use this string as identification instead of the actual hostname.");
  app.add_option("--node-ip", o->node_ip, "IP address of the node.");
  app.add_option("--healthz-port", o->healthz_port,
                 "The port of the localhost healthz endpoint (set to 0 to disable).")
      ->check(CLI::Range(0, 65535));
  app.add_option("--healthz-bind-address", o->healthz_bind_address,
                 "The IP address for the healthz server to serve on.");
  app.add_option("--root-dir", o->root_dir, "Directory path for managing kubelet files (pods, logs, state).");
  app.add_option("--runtime", o->runtime,
                 "Container runtime: process (child processes under ck-shim) or fake (no processes).")
      ->check(CLI::IsMember({"process", "fake"}));
  app.add_option("--node-labels", o->node_labels,
                 "Labels to add when registering the node in the cluster (key=value pairs separated by ',').");
  app.add_option("--register-with-taints", o->register_with_taints,
                 "Register the node with the given list of taints (comma separated \"<key>=<value>:<effect>\").");
  app.add_option("--pod-cidr", o->pod_cidr,
                 "The CIDR to use for pod IP addresses; by default the node's podCIDR from the controller-manager.");
  app.add_option("--max-pods", o->max_pods, "Number of Pods that can run on this Kubelet.")
      ->check(CLI::Range(1, 100000));
  app.add_option("--kube-api-qps", o->kube_api_qps, "QPS to use while talking with kubernetes apiserver.")
      ->check(CLI::Range(0.0f, 100000.0f));
  app.add_option("--kube-api-burst", o->kube_api_burst, "Burst to use while talking with kubernetes apiserver.")
      ->check(CLI::Range(0, 100000));
  app.add_option("--node-status-report-frequency", o->node_status_report_frequency,
                 "How often the kubelet posts its node status when nothing changed.");
  app.add_option("--shim-path", o->shim_path, "The ck-shim binary (default: next to ck-kubelet).");
  app.add_option("--pod-manifest-path", o->pod_manifest_path,
                 "Path to the directory containing static pod files to run, or the path to a single static pod file. "
                 "Files starting with dots will be ignored.");
  app.add_option("--file-check-frequency", o->file_check_frequency,
                 "Duration between checking config files for new data (Go duration).");
  app.add_option("--fake-nodes", o->fake_nodes,
                 "With --runtime=fake: simulate this many nodes, named <hostname-override>-1 .. -N.")
      ->check(CLI::Range(0, 100000));
  app.add_option("--fake-node-cpu", o->fake_node_cpu, "With --runtime=fake: each node's cpu capacity.");
  app.add_option("--fake-node-memory", o->fake_node_memory, "With --runtime=fake: each node's memory capacity.");
  app.add_option("--fake-start-delay", o->fake_start_delay,
                 "With --runtime=fake: how long a container takes to start (Go duration).");
}

Status ValidateOptions(const Options& o) {
  if (o.kubeconfig.empty()) return Status(Code::kInvalid, "--kubeconfig is required");
  if (o.fake_nodes > 0 && o.runtime != "fake") return Status(Code::kInvalid, "--fake-nodes needs --runtime=fake");
  if (o.fake_nodes > 0 && !o.pod_manifest_path.empty()) {
    return Status(Code::kInvalid, "--pod-manifest-path is not supported with --fake-nodes");
  }
  for (const auto* d : {&o.node_status_report_frequency, &o.fake_start_delay, &o.file_check_frequency}) {
    if (auto p = api::ParseGoDuration(*d); !p.ok()) return Status(Code::kInvalid, "invalid duration \"" + *d + "\"");
  }
  if (auto t = ParseTaints(o.register_with_taints); !t.ok()) return Status(Code::kInvalid, "--register-with-taints: " + t.status().message());
  if (auto l = ParseNodeLabels(o.node_labels); !l.ok()) return Status(Code::kInvalid, "--node-labels: " + l.status().message());
  if (!o.pod_cidr.empty()) {
    auto c = ParseIpv4Cidr(o.pod_cidr);
    if (!c.ok()) return Status(Code::kInvalid, "--pod-cidr: " + c.status().message());
    if (o.runtime == "process" && (c->first >> 24) != 127) {
      return Status(Code::kInvalid, "--pod-cidr " + o.pod_cidr + " is outside 127.0.0.0/8: process mode needs loopback pod addresses");
    }
  }
  if (o.runtime == "process") {
    auto ip = ParseIpv4Cidr(o.node_ip + "/32");
    if (!ip.ok() || (ip->first >> 24) != 127) {
      return Status(Code::kInvalid, "--node-ip " + o.node_ip + " is not a loopback address: process mode keeps every node inside 127.0.0.0/8");
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<KubeletApp>> KubeletApp::Create(daemon::Context& context, const Options& options) {
  CK_RETURN_IF_ERROR(ValidateOptions(options));
  CK_ASSIGN_OR_RETURN(client::RestConfig rest, client::LoadKubeconfig(options.kubeconfig));
  rest.qps = options.kube_api_qps;
  rest.burst = options.kube_api_burst;
  rest.user_agent = client::MakeUserAgent("ck-kubelet", "v1.32.0");
  rest.metrics = &context.metrics();
  CK_ASSIGN_OR_RETURN(std::unique_ptr<client::RestApiClient> api,
                      client::RestApiClient::New(std::move(rest), context.clock(), context.random()));
  std::unique_ptr<KubeletApp> app(new KubeletApp(context, options, std::move(api)));
  CK_RETURN_IF_ERROR(app->BuildNodes());
  return app;
}

KubeletApp::KubeletApp(daemon::Context& context, Options options, std::unique_ptr<client::RestApiClient> api)
    : context_(context), options_(std::move(options)), api_(std::move(api)) {
  informers_ = std::make_unique<client::SharedInformerFactory>(*api_, context.clock(), context.random());
  broadcaster_ = std::make_unique<client::EventBroadcaster>(*api_, context.clock(), client::EventBroadcasterOptions{},
                                                            context.random());
}

KubeletApp::~KubeletApp() { Stop(); }

Status KubeletApp::BuildNodes() {
  std::string base = options_.hostname_override;
  if (base.empty()) {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    base = ToLower(host);
  }
  const bool fake = options_.runtime == "fake";
  std::vector<std::string> names;
  if (options_.fake_nodes > 0) {
    for (int i = 1; i <= options_.fake_nodes; ++i) names.push_back(base + "-" + std::to_string(i));
  } else {
    names.push_back(base);
  }
  CK_ASSIGN_OR_RETURN(auto labels, ParseNodeLabels(options_.node_labels));
  CK_ASSIGN_OR_RETURN(auto taints, ParseTaints(options_.register_with_taints));
  HostCapacity host = DetectHostCapacity(options_.root_dir);
  std::error_code ec;
  fs::create_directories(options_.root_dir, ec);
  if (ec) return Status(Code::kInvalid, "--root-dir " + options_.root_dir + ": " + ec.message());

  if (names.size() > 1) shared_pool_ = std::make_unique<ThreadPool>("pod-workers", 4);
  if (!fake) {
    cgroups_ = std::make_unique<cm::CgroupWriter>(cm::CgroupWriter::Detect());
    if (!cgroups_->usable()) {
      CK_LOG_WARNING("cpu and memory limits will not be enforced", "err", cgroups_->status().message());
    }
  }
  const Duration start_delay = ParseDurationOr(options_.fake_start_delay, Duration(0));
  for (const std::string& name : names) {
    auto parts = std::make_unique<NodeParts>();
    const std::string node_root = options_.fake_nodes > 0 ? options_.root_dir + "/" + name : options_.root_dir;
    if (fake) {
      FakeRuntime::Options fo;
      fo.start_delay = start_delay;
      parts->runtime = std::make_unique<FakeRuntime>(context_.clock(), fo);
      parts->network = std::make_unique<LoopbackNetworkPlugin>("", false);
    } else {
      std::string shim = options_.shim_path.empty() ? ExecutableDir() + "/ck-shim" : options_.shim_path;
      if (access(shim.c_str(), X_OK) != 0) {
        return Status(Code::kInvalid, "ck-shim not found at " + shim + " (set --shim-path)");
      }
      parts->runtime = std::make_unique<ProcessRuntime>(node_root, shim, context_.clock(), context_.random(), *cgroups_);
      parts->network = std::make_unique<LoopbackNetworkPlugin>(node_root + "/network/ips", true);
    }
    NodeConfig config;
    config.name = name;
    config.node_ip = options_.node_ip;
    config.labels = labels;
    config.taints = taints;
    config.cpu = fake ? options_.fake_node_cpu : host.cpu;
    config.memory = fake ? options_.fake_node_memory : host.memory;
    config.ephemeral_storage = host.ephemeral_storage;
    config.pods = std::to_string(options_.max_pods);
    config.runtime_version = parts->runtime->Name() + "://" + parts->runtime->Version();
    config.pod_cidr = options_.pod_cidr;
    // The kubelet API port the apiserver dials (status.daemonEndpoints.kubeletEndpoint).
    if (context_.common_flags().secure_port > 0) config.kubelet_port = context_.common_flags().secure_port;
    parts->agent = std::make_unique<NodeAgent>(*api_, context_.clock(), config, *parts->network, nullptr);
    parts->events = std::make_unique<client::EventRecorder>(broadcaster_->NewRecorder({"kubelet", name}));
    NodeParts* raw = parts.get();
    if (!fake) {
      // The fake runtime runs no probes (kwok-style: statuses follow the spec).
      ProbeManager::Deps pd;
      pd.runtime = parts->runtime.get();
      pd.clock = &context_.clock();
      pd.events = parts->events.get();
      pd.on_change = [raw](const std::string& uid) {
        if (raw->pods) raw->pods->PodChanged(uid);
      };
      parts->probes = NewProbeManager(std::move(pd));
      VolumeDeps vd;
      vd.root_dir = node_root;
      vd.clock = &context_.clock();
      client::ApiClient* api = api_.get();
      vd.config_map = GetterOf<corev1::ConfigMap>(api);
      vd.secret = GetterOf<corev1::Secret>(api);
      vd.request_token = [api](const std::string& ns, const std::string& sa,
                               const authnv1::TokenRequest& request) -> Result<authnv1::TokenRequest> {
        CK_ASSIGN_OR_RETURN(client::ObjectPtr o, api->CreateSubresource(Res(corev1::ServiceAccount::descriptor()), ns,
                                                                        sa, "token", request));
        return *client::As<authnv1::TokenRequest>(o);
      };
      vd.node_allocatable_cpu = config.cpu;
      vd.node_allocatable_memory = config.memory;
      parts->volumes = std::make_unique<VolumeManager>(std::move(vd));
    }
    PodManager::Deps deps;
    deps.runtime = parts->runtime.get();
    deps.network = parts->network.get();
    deps.probes = parts->probes.get();
    deps.volumes = parts->volumes.get();
    deps.api = api_.get();
    deps.events = parts->events.get();
    deps.clock = &context_.clock();
    deps.profile = &context_.profile();
    deps.node_name = name;
    deps.host_ip = options_.node_ip;
    deps.root_dir = node_root;
    if (shared_pool_) {
      deps.workers.pool = shared_pool_.get();
      deps.workers.own_timer_thread = false;
    }
    client::SharedInformerFactory* informers = informers_.get();
    client::ApiClient* api = api_.get();
    deps.env_context = [informers, api, config]() {
      EnvContext c;
      c.node_name = config.name;
      c.host_ip = config.node_ip;
      c.node_allocatable_cpu = config.cpu;
      c.node_allocatable_memory = config.memory;
      c.node_allocatable_ephemeral_storage = config.ephemeral_storage;
      c.config_map = GetterOf<corev1::ConfigMap>(api);
      c.secret = GetterOf<corev1::Secret>(api);
      c.services = [informers](const std::string& ns) {
        std::vector<corev1::Service> out;
        auto lister = informers->ForKind<corev1::Service>().Lister();
        for (const auto& s : lister.Namespace(ns).List()) out.push_back(*s);
        if (ns != "default") {
          if (auto k = lister.Namespace("default").Get("kubernetes"); k.ok()) out.push_back(**k);
        }
        return out;
      };
      return c;
    };
    deps.mirror_pod_of = [raw](const corev1::Pod& pod) -> std::shared_ptr<const corev1::Pod> {
      return raw->static_pods ? raw->static_pods->MirrorPodOf(pod) : nullptr;
    };
    parts->pods = std::make_unique<PodManager>(std::move(deps));
    if (options_.fake_nodes == 0) {
      // Also without --pod-manifest-path: mirror pods left from an earlier run are deleted.
      StaticPods::Deps sd;
      sd.api = api_.get();
      sd.clock = &context_.clock();
      sd.node_name = name;
      sd.manifest_path = options_.pod_manifest_path;
      sd.file_check_frequency = ParseDurationOr(options_.file_check_frequency, std::chrono::seconds(20));
      sd.update_pod = [raw](std::shared_ptr<const corev1::Pod> pod) { raw->pods->UpdatePod(std::move(pod)); };
      sd.delete_pod = [raw](const std::string& uid) { raw->pods->DeletePod(uid); };
      sd.pod_changed = [raw](const std::string& uid) { raw->pods->PodChanged(uid); };
      parts->static_pods = std::make_unique<StaticPods>(std::move(sd));
    }
    nodes_[name] = std::move(parts);
  }
  return Status::Ok();
}

KubeletApp::NodeParts* KubeletApp::NodeFor(const std::string& name) {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : it->second.get();
}

Status KubeletApp::Start() {
  broadcaster_->Start();
  if (options_.healthz_port > 0) {
    net::HttpServerOptions ho;
    ho.bind_address = options_.healthz_bind_address;
    ho.port = static_cast<uint16_t>(options_.healthz_port);
    ho.tls = false;
    ho.thread_name = "healthz";
    healthz_ = std::make_unique<net::HttpServer>(ho, [this](net::Request r, std::shared_ptr<net::ResponseWriter> w) {
      if (r.path != "/healthz" && !r.path.starts_with("/healthz/")) {
        w->Respond(404, net::Headers{{"Content-Type", "text/plain"}}, "404 page not found\n");
        return;
      }
      net::Response resp = context_.health().Serve(r.path, r.raw_query);
      w->Respond(resp.status, std::move(resp.headers), std::move(resp.body));
    });
    // As upstream, a healthz port that cannot be bound is logged, not fatal.
    if (Status s = healthz_->Start(); !s.ok()) {
      CK_LOG_WARNING("Failed to start healthz server", "err", s.message());
      healthz_.reset();
    }
  }
  const bool many = nodes_.size() > 1;
  const std::string only = nodes_.begin()->first;
  client::InformerSpec pod_spec;
  pod_spec.field_selector = many ? "spec.nodeName!=" : "spec.nodeName=" + only;
  auto pods = informers_->ForKind<corev1::Pod>(pod_spec);
  // Mirror pods are the API's view of static pods: they go to StaticPods, never run themselves.
  auto route = [this](const std::shared_ptr<const corev1::Pod>& pod) {
    NodeParts* n = NodeFor(pod->spec().nodename());
    if (n == nullptr) return;
    if (!IsMirrorPod(*pod)) {
      n->pods->UpdatePod(pod);
    } else if (n->static_pods) {
      n->static_pods->OnMirrorPod(pod);
    }
  };
  pod_handler_ = pods.AddEventHandler(client::TypedEventHandler<corev1::Pod>{
      .on_add = [route](const auto& pod, bool) { route(pod); },
      .on_update = [route](const auto&, const auto& pod) { route(pod); },
      .on_delete =
          [this](const auto& pod, bool) {
            NodeParts* n = NodeFor(pod->spec().nodename());
            if (n == nullptr) return;
            if (!IsMirrorPod(*pod)) {
              n->pods->DeletePod(pod->metadata().uid());
            } else if (n->static_pods) {
              n->static_pods->OnMirrorPodDeleted(*pod);
            }
          },
  });
  if (!many) {
    // The kubelet API serves the node's pods: the informer's (mirror pods stand for static pods,
    // which come from their file source instead).
    NodeParts* n = nodes_.begin()->second.get();
    KubeletServerDeps sd;
    sd.runtime = n->runtime.get();
    sd.api = api_.get();
    sd.node_name = only;
    sd.clock = &context_.clock();
    sd.pods = [lister = pods.Lister(), n] {
      std::vector<std::shared_ptr<const corev1::Pod>> out;
      for (auto& p : lister.List()) {
        if (!IsMirrorPod(*p)) out.push_back(std::move(p));
      }
      if (n->static_pods) {
        for (auto& p : n->static_pods->StaticPodList()) out.push_back(std::move(p));
      }
      return out;
    };
    server_ = std::make_unique<KubeletServer>(std::move(sd));
    server_->Register(context_);
  }
  client::InformerSpec node_spec;
  if (!many) node_spec.field_selector = "metadata.name=" + only;
  auto nodes = informers_->ForKind<corev1::Node>(node_spec);
  auto on_node = [this](const std::shared_ptr<const corev1::Node>& node) {
    if (NodeParts* n = NodeFor(node->metadata().name())) {
      std::string before = n->agent->pod_cidr();
      n->agent->OnNode(node);
      if (n->agent->pod_cidr() != before) heartbeat_wakeup_.Notify();  // report Ready at once
    }
  };
  nodes.AddEventHandler(client::TypedEventHandler<corev1::Node>{
      .on_add = [on_node](const auto& node, bool) { on_node(node); },
      .on_update = [on_node](const auto&, const auto& node) { on_node(node); },
  });
  informers_->ForKind<corev1::Service>();
  for (auto& [name, n] : nodes_) {
    n->pods->Start();
    // Static pods run from their files before (and without) the API server.
    if (n->static_pods) n->static_pods->Start();
  }
  if (shared_pool_) tick_thread_ = std::thread([this] { TickLoop(); });
  run_thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void KubeletApp::Run() {
  SetCurrentThreadName("kubelet-start");
  // Register every node, retrying while the apiserver is not there yet (upstream retries forever
  // with a 7 s cap; we keep trying every 200 ms .. 5 s).
  Duration wait = std::chrono::milliseconds(200);
  std::vector<NodeParts*> parts;
  std::vector<std::string> names;
  for (auto& [name, n] : nodes_) {
    parts.push_back(n.get());
    names.push_back(name);
  }
  while (!stopping_) {
    // Many simulated nodes register in parallel (each is its own kubelet upstream).
    std::atomic<size_t> next{0};
    std::atomic<bool> all_ok{true};
    auto worker = [&] {
      for (size_t i = next++; i < parts.size() && !stopping_; i = next++) {
        if (parts[i]->agent->registered()) continue;
        Status s = parts[i]->agent->Register();
        if (!s.ok()) {
          all_ok = false;
          CK_LOG_WARNING("Unable to register node with API server", "node", names[i], "err", s.message());
        }
      }
    };
    std::vector<std::thread> threads;
    for (size_t t = 1; t < std::min<size_t>(8, parts.size()); ++t) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();
    const bool all = all_ok;
    if (all) break;
    context_.clock().WaitUntil(heartbeat_wakeup_stop_, context_.clock().Monotonic() + wait);
    wait = std::min<Duration>(wait * 2, std::chrono::seconds(5));
  }
  if (stopping_) return;
  if (cgroups_ && !cgroups_->usable()) {
    // Upstream refuses to start without cgroups; process mode runs on, and says so on the Node.
    for (auto& [name, n] : nodes_) {
      corev1::Node ref;
      ref.mutable_metadata()->set_name(name);
      ref.mutable_metadata()->set_uid(name);
      n->events->Event(ref, client::kEventWarning, "CgroupsUnavailable",
                       "cpu and memory limits are not enforced on this node: " + cgroups_->status().message());
    }
  }
  heartbeat_thread_ = std::thread([this] { Heartbeats(); });
  informers_->Start();
  MonoTime deadline = context_.clock().Monotonic() + std::chrono::minutes(5);
  if (!informers_->WaitForCacheSync(context_.clock(), deadline)) {
    if (!stopping_) context_.RequestShutdown(Status(Code::kUnavailable, "timed out waiting for the kubelet's caches to sync"));
    return;
  }
  // The store has synced; the handler may still be delivering the initial list. Until it has,
  // a running container whose pod was not delivered yet would look like an orphan.
  while (!stopping_ && !pod_handler_.HasSynced()) {
    context_.clock().WaitUntil(heartbeat_wakeup_stop_, context_.clock().Monotonic() + std::chrono::milliseconds(10));
  }
  if (stopping_) return;
  synced_ = true;
  for (auto& [name, n] : nodes_) {
    n->pods->SetReadyToRunPods(true);
    if (n->static_pods) n->static_pods->SetApiReady();
  }
  CK_LOG_INFO("Kubelet caches synced; pods are being synced", "nodes", nodes_.size());
}

void KubeletApp::Heartbeats() {
  SetCurrentThreadName("kubelet-heartbeat");
  const Duration renew = context_.profile().node_lease_renew_interval;
  const Duration report = ParseDurationOr(options_.node_status_report_frequency, std::chrono::minutes(5));
  MonoTime next_lease = context_.clock().Monotonic();
  // Registration just reported every node's status.
  for (auto& [name, n] : nodes_) n->next_report = next_lease + report;
  while (!stopping_) {
    MonoTime now = context_.clock().Monotonic();
    const bool lease_due = now >= next_lease;
    for (auto& [name, n] : nodes_) {
      if (stopping_) return;
      const bool report_due = now >= n->next_report;
      Status s = n->agent->SyncStatus(report_due);
      if (s.ok() && report_due) n->next_report = now + report;
      if (!s.ok()) CK_LOG_WARNING("Error updating node status, will retry", "node", name, "err", s.message());
      if (lease_due) {
        Status l = n->agent->RenewLease();
        if (!l.ok()) CK_LOG_WARNING("Failed to update lease", "node", name, "err", l.message());
      }
    }
    if (lease_due) next_lease = now + renew;
    context_.clock().WaitUntil(heartbeat_wakeup_, next_lease);
  }
}

void KubeletApp::TickLoop() {
  SetCurrentThreadName("kubelet-tick");
  while (!stopping_) {
    MonoTime next = context_.clock().Monotonic() + std::chrono::seconds(1);
    for (auto& [name, n] : nodes_) {
      if (stopping_) return;
      n->pods->Tick();
    }
    context_.clock().WaitUntil(tick_wakeup_, next);
  }
}

void KubeletApp::Stop() {
  if (stopping_.exchange(true)) return;
  if (server_) server_->Stop();
  if (healthz_) healthz_->Stop();
  heartbeat_wakeup_.Notify();
  heartbeat_wakeup_stop_.Notify();
  tick_wakeup_.Notify();
  if (tick_thread_.joinable()) tick_thread_.join();
  informers_->Shutdown();  // ends a WaitForCacheSync in Run()
  if (run_thread_.joinable()) run_thread_.join();
  if (heartbeat_thread_.joinable()) heartbeat_thread_.join();
  for (auto& [name, n] : nodes_) {
    if (n->static_pods) n->static_pods->Stop();
    n->pods->Stop();
    n->probes.reset();  // its threads call into pods and events: gone before they are
  }
  if (broadcaster_) broadcaster_->Shutdown();
}

}  // namespace ck::kubelet
