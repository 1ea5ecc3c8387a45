#include "kubelet/pod/pod_syncer.h"

#include <algorithm>
#include <optional>
#include <thread>

#include "common/api/object.h"
#include "common/api/pod.h"
#include "common/api/quantity.h"
#include "common/base/log.h"
#include "common/base/strings.h"
#include "common/client/tools/event_recorder.h"
#include "common/net/http_client.h"

namespace ck::kubelet {

namespace {

using std::chrono::seconds;

constexpr seconds kMinimumGracePeriod{2};  // upstream minimumGracePeriodInSeconds

// upstream activeDeadlineHandler's reason and message
constexpr char kDeadlineReason[] = "DeadlineExceeded";
constexpr char kDeadlineMessage[] = "Pod was active on the node longer than the specified deadline";

// How long the pod may still run under spec.activeDeadlineSeconds (counted from status.startTime,
// as upstream's pastActiveDeadline does); nullopt without a deadline or a start time.
std::optional<Duration> ActiveTimeLeft(const corev1::Pod& pod, const corev1::PodStatus& status, WallTime now) {
  if (!pod.spec().has_activedeadlineseconds() || api::IsZeroTime(status.starttime())) return std::nullopt;
  WallTime end = api::WallTimeOf(status.starttime()) + seconds(pod.spec().activedeadlineseconds());
  return std::chrono::duration_cast<Duration>(end - now);
}

const corev1::Container* FindSpec(const corev1::Pod& pod, const std::string& name) {
  for (const auto& c : pod.spec().containers()) {
    if (c.name() == name) return &c;
  }
  for (const auto& c : pod.spec().initcontainers()) {
    if (c.name() == name) return &c;
  }
  return nullptr;
}

// Quantity of resources[name] (requests or limits), or nullopt.
std::optional<api::Quantity> QuantityOf(
    const google::protobuf::Map<std::string, k8s::io::apimachinery::pkg::api::resource::Quantity>& m,
    const std::string& name) {
  auto it = m.find(name);
  if (it == m.end()) return std::nullopt;
  Result<api::Quantity> q = api::Quantity::Parse(it->second.string());
  if (!q.ok()) return std::nullopt;
  return *q;
}

LinuxResources ResourcesOf(const corev1::Container& c) {
  LinuxResources r;
  // Upstream MilliCPUToShares: requests (the apiserver defaults them from limits), min 2.
  std::optional<api::Quantity> cpu_request = QuantityOf(c.resources().requests(), "cpu");
  if (!cpu_request) cpu_request = QuantityOf(c.resources().limits(), "cpu");
  int64_t milli = cpu_request ? cpu_request->MilliValue() : 0;
  r.cpu_shares = std::max<int64_t>(2, milli * 1024 / 1000);
  if (auto cpu_limit = QuantityOf(c.resources().limits(), "cpu")) {
    // Upstream MilliCPUToQuota, with its 1 ms minimum.
    r.cpu_quota_us = std::max<int64_t>(1000, cpu_limit->MilliValue() * r.cpu_period_us / 1000);
  }
  if (auto memory = QuantityOf(c.resources().limits(), "memory")) r.memory_limit_bytes = memory->Value();
  return r;
}

std::string CgroupParent(const corev1::Pod& pod) {
  std::string qos = api::ComputePodQOSClass(pod);
  std::string pod_dir = "pod" + pod.metadata().uid();
  if (qos == "Guaranteed") return "kubepods/" + pod_dir;
  return "kubepods/" + std::string(qos == "Burstable" ? "burstable" : "besteffort") + "/" + pod_dir;
}

int32_t PortOf(const corev1::Container& spec, const k8s::io::apimachinery::pkg::util::intstr::IntOrString& port) {
  if (port.type() == 0) return port.intval();
  for (const auto& p : spec.ports()) {
    if (p.name() == port.strval()) return p.containerport();
  }
  std::optional<int64_t> n = ParseInt(port.strval());
  return n ? static_cast<int32_t>(*n) : 0;
}

}  // namespace

PodSyncer::PodSyncer(PodSyncerDeps deps) : deps_(std::move(deps)) {
  CK_CHECK(deps_.runtime != nullptr && deps_.clock != nullptr && deps_.backoff != nullptr);
}

seconds PodSyncer::GracePeriodOf(const corev1::Pod& pod) {
  if (pod.metadata().has_deletiongraceperiodseconds()) return seconds(pod.metadata().deletiongraceperiodseconds());
  if (pod.spec().has_terminationgraceperiodseconds()) return seconds(pod.spec().terminationgraceperiodseconds());
  return seconds(30);
}

std::string PodSyncer::LogDirectory(const corev1::Pod& pod) const {
  return deps_.root_dir + "/logs/" + pod.metadata().namespace_() + "_" + pod.metadata().name() + "_" +
         pod.metadata().uid();
}

std::vector<ContainerStatus> PodSyncer::ContainersOf(const std::string& uid) {
  std::vector<ContainerStatus> out;
  Result<std::vector<ContainerStatus>> all = deps_.runtime->ListPodContainers(uid);
  if (!all.ok()) {
    CK_LOG_WARNING("ListPodContainers failed", "err", all.status().ToString());
    return out;
  }
  return std::move(*all);
}

PodSyncer::PodState PodSyncer::StateOf(const std::string& uid) {
  {
    std::lock_guard lock(mu_);
    auto it = pods_.find(uid);
    if (it != pods_.end()) return it->second;
  }
  // First sight of the pod in this process (also after a kubelet restart): the network plugin
  // remembers the addresses it handed out.
  PodState fresh;
  if (deps_.network != nullptr) fresh.ips = deps_.network->GetPodNetworkStatus(uid).ips;
  std::lock_guard lock(mu_);
  return pods_.emplace(uid, std::move(fresh)).first->second;
}

void PodSyncer::SaveState(const std::string& uid, const PodState& state) {
  std::lock_guard lock(mu_);
  pods_[uid] = state;
}

void PodSyncer::Event(const corev1::Pod& pod, std::string_view type, std::string_view reason,
                      const std::string& message) {
  if (deps_.events != nullptr) deps_.events->Event(pod, type, reason, message);
}

ProbeView PodSyncer::ProbesOf(const std::string& uid) const {
  ProbeView view;
  ProbeManager* probes = deps_.probes;
  if (probes == nullptr) return view;
  view.readiness = [probes, uid](const std::string& c) { return probes->Readiness(uid, c); };
  view.liveness = [probes, uid](const std::string& c) { return probes->Liveness(uid, c); };
  view.startup = [probes, uid](const std::string& c) { return probes->Startup(uid, c); };
  return view;
}

PodStatusInput PodSyncer::StatusInput(const corev1::Pod& pod, const PodState& state, bool terminating) {
  PodStatusInput in;
  in.containers = ContainersOf(pod.metadata().uid());
  in.probes = ProbesOf(pod.metadata().uid());
  in.pod_ips = state.ips;
  in.host_ip = deps_.host_ip;
  in.sandbox_ready = state.sandbox_ready && !terminating;
  in.waiting = state.waiting;
  in.runtime_name = deps_.runtime->Name();
  in.terminating = terminating;
  return in;
}

PodSandboxConfig PodSyncer::SandboxConfig(const corev1::Pod& pod, const PodState& state) const {
  PodSandboxConfig c;
  c.uid = pod.metadata().uid();
  c.name = pod.metadata().name();
  c.ns = pod.metadata().namespace_();
  c.pod_ip = state.ips.empty() ? "" : state.ips.front();
  c.log_directory = LogDirectory(pod);
  c.cgroup_parent = CgroupParent(pod);
  return c;
}

bool PodSyncer::CreateSandbox(const corev1::Pod& pod, PodState* state) {
  if (pod.spec().hostnetwork()) {
    state->ips = {deps_.host_ip};
  } else if (deps_.network != nullptr) {
    Result<PodNetworkStatus> net =
        deps_.network->SetUpPod({pod.metadata().uid(), pod.metadata().name(), pod.metadata().namespace_()});
    if (!net.ok()) {
      Event(pod, client::kEventWarning, "FailedCreatePodSandBox",
            "Failed to create pod sandbox: " + net.status().message());
      return false;
    }
    state->ips = net->ips;
  }
  Status sandbox = deps_.runtime->RunPodSandbox(SandboxConfig(pod, *state));
  if (!sandbox.ok()) {
    Event(pod, client::kEventWarning, "FailedCreatePodSandBox", "Failed to create pod sandbox: " + sandbox.message());
    return false;
  }
  state->sandbox_ready = true;
  return true;
}

SyncResult PodSyncer::SyncPod(const corev1::Pod& pod) {
  const std::string& uid = pod.metadata().uid();
  PodState state = StateOf(uid);
  SyncResult result;
  const Duration retry = deps_.backoff->initial();

  const seconds grace = pod.spec().has_terminationgraceperiodseconds()
                            ? seconds(pod.spec().terminationgraceperiodseconds())
                            : seconds(30);
  if (api::IsPodTerminal(pod)) {
    // Finished pods keep their last status (podIP included); nothing restarts, and the address
    // goes back to the plugin as upstream tears down a finished pod's sandbox. A container still
    // running (its stop failed when the pod went Failed) is stopped again.
    state.waiting.clear();
    bool killed = false;
    for (const ContainerStatus& c : ContainersOf(uid)) {
      if (!ContainerAlive(c)) continue;
      KillOne(&pod, c, grace, "");
      killed = true;
    }
    if (!state.network_released && deps_.network != nullptr) {
      bool running = false;
      if (killed) {
        for (const ContainerStatus& c : ContainersOf(uid)) running = running || ContainerAlive(c);
      }
      if (!running) {
        Status down = deps_.network->TearDownPod({uid, pod.metadata().name(), pod.metadata().namespace_()});
        if (down.ok()) state.network_released = true;
      }
    }
    SaveState(uid, state);
    result.status = GeneratePodStatus(pod, StatusInput(pod, state, false), deps_.clock->Now());
    return result;
  }
  const std::optional<Duration> time_left = ActiveTimeLeft(pod, pod.status(), deps_.clock->Now());
  if (time_left && *time_left <= Duration::zero()) {
    // Past spec.activeDeadlineSeconds: the pod fails and its containers stop (upstream's
    // activeDeadlineHandler evicts it; the containers get their grace period).
    Event(pod, client::kEventNormal, kDeadlineReason, kDeadlineMessage);
    SyncResult r = TerminatePod(pod, grace);
    r.status.set_phase("Failed");
    r.status.set_reason(kDeadlineReason);
    r.status.set_message(kDeadlineMessage);
    if (!r.stopped) r.requeue_after = retry;
    return r;
  }
  if (deps_.probes != nullptr && !state.probes_added) {
    deps_.probes->AddPod(pod);
    state.probes_added = true;
  }
  if (deps_.volumes != nullptr) {
    Status mounted = deps_.volumes->SetUpPod(pod);
    if (!mounted.ok()) {
      Event(pod, client::kEventWarning, "FailedMount", mounted.message());
      SaveState(uid, state);
      result.status = GeneratePodStatus(pod, StatusInput(pod, state, false), deps_.clock->Now());
      result.requeue_after = retry;
      return result;
    }
  }

  std::vector<ContainerStatus> containers = ContainersOf(uid);
  PodActions actions = ComputePodActions(pod, containers, state.sandbox_ready, ProbesOf(uid), *deps_.backoff,
                                         deps_.clock->Now());
  result.requeue_after = actions.requeue_after;
  state.waiting = actions.waiting;
  if (actions.create_sandbox && !CreateSandbox(pod, &state)) {
    SaveState(uid, state);
    result.status = GeneratePodStatus(pod, StatusInput(pod, state, false), deps_.clock->Now());
    result.requeue_after = retry;
    return result;
  }
  for (const auto& [name, waiting] : actions.waiting) {
    Event(pod, client::kEventWarning, "BackOff",
          "Back-off restarting failed container " + name + " in pod " + PodDescription(pod));
  }
  if (actions.kill_pod) {
    for (const ContainerStatus& c : containers) {
      if (ContainerAlive(c)) KillOne(&pod, c, grace, "");
    }
  }
  for (const ContainerKill& kill : actions.kill) {
    for (const ContainerStatus& c : containers) {
      if (c.id == kill.id) KillOne(&pod, c, grace, kill.message);
    }
  }
  for (const ContainerStart& start : actions.start) StartOne(pod, start, &state, &result.requeue_after);
  SaveState(uid, state);

  PodStatusInput in = StatusInput(pod, state, false);
  RemoveOldInstances(in.containers);
  if (deps_.probes != nullptr) {
    std::vector<RunningContainer> running;
    for (const ContainerStatus& c : in.containers) {
      if (c.state == ContainerState::kRunning) running.push_back({c.name, c.id, c.started_at});
    }
    deps_.probes->UpdatePod(uid, state.ips.empty() ? "" : state.ips.front(), running);
  }
  result.status = GeneratePodStatus(pod, in, deps_.clock->Now());
  // Sync again when the active deadline passes.
  if (std::optional<Duration> left = ActiveTimeLeft(pod, result.status, deps_.clock->Now())) {
    Duration at = std::max<Duration>(*left, std::chrono::milliseconds(100));
    if (result.requeue_after == Duration{0} || at < result.requeue_after) result.requeue_after = at;
  }
  return result;
}

void PodSyncer::StartOne(const corev1::Pod& pod, const ContainerStart& start, PodState* state, Duration* requeue) {
  const corev1::Container& spec =
      start.init ? pod.spec().initcontainers(start.index) : pod.spec().containers(start.index);
  auto fail = [&](const std::string& reason, const std::string& message) {
    state->waiting[spec.name()] = ContainerWaiting{reason, message};
    Event(pod, client::kEventWarning, "Failed", "Error: " + message);
    Duration retry = deps_.backoff->initial();
    if (*requeue == Duration{0} || retry < *requeue) *requeue = retry;
  };
  EnvContext context = deps_.env_context ? deps_.env_context() : EnvContext{};
  context.node_name = deps_.node_name;
  context.host_ip = deps_.host_ip;
  context.pod_ips = state->ips;
  context.pod_ip = state->ips.empty() ? "" : state->ips.front();
  Result<EnvList> env = MakeEnvironment(pod, spec, context);
  if (!env.ok()) return fail("CreateContainerConfigError", env.status().message());
  std::vector<Mount> mounts;
  if (deps_.volumes != nullptr) {
    Result<std::vector<Mount>> m = deps_.volumes->MountsFor(pod, spec);
    if (!m.ok()) return fail("CreateContainerConfigError", m.status().message());
    mounts = std::move(*m);
  }

  ContainerConfig config;
  config.name = spec.name();
  config.image = spec.image();
  config.argv = ExpandContainerCommand(spec, *env);
  config.env = std::move(*env);
  config.working_dir = spec.workingdir();
  config.mounts = std::move(mounts);
  config.resources = ResourcesOf(spec);
  config.attempt = start.attempt;
  config.init = start.init;
  config.stdin_open = spec.stdin();
  config.stdin_once = spec.stdinonce();
  config.tty = spec.tty();
  config.log_path = LogDirectory(pod) + "/" + spec.name() + "/" + std::to_string(start.attempt) + ".log";
  config.termination_message_path = spec.terminationmessagepath();
  config.labels[kLabelPodUid] = pod.metadata().uid();
  config.labels[kLabelPodName] = pod.metadata().name();
  config.labels[kLabelPodNamespace] = pod.metadata().namespace_();
  config.labels[kLabelContainerName] = spec.name();
  config.annotations[kAnnotationContainerHash] = ContainerHash(spec);
  config.annotations[kAnnotationRestartCount] = std::to_string(start.attempt);
  config.annotations[kAnnotationTerminationGracePeriod] = std::to_string(
      pod.spec().has_terminationgraceperiodseconds() ? pod.spec().terminationgraceperiodseconds() : 30);

  // Images are not pulled: process mode runs argv from the host, the fake runtime nothing.
  Event(pod, client::kEventNormal, "Pulled", "Container image \"" + spec.image() + "\" already present on machine");
  Result<std::string> id = deps_.runtime->StartContainer(SandboxConfig(pod, *state), config);
  if (!id.ok()) return fail("CreateContainerError", id.status().message());
  state->waiting.erase(spec.name());
  Event(pod, client::kEventNormal, "Created", "Created container " + spec.name());
  Event(pod, client::kEventNormal, "Started", "Started container " + spec.name());
}

void PodSyncer::RunPreStop(const corev1::Pod& pod, const corev1::Container& spec, const ContainerStatus& c,
                           const std::string& pod_ip, seconds budget) {
  if (!spec.has_lifecycle() || !spec.lifecycle().has_prestop() || budget <= seconds(0)) return;
  const corev1::LifecycleHandler& hook = spec.lifecycle().prestop();
  std::string failure;
  if (hook.has_exec()) {
    std::vector<std::string> argv(hook.exec().command().begin(), hook.exec().command().end());
    Result<ExecResult> r = deps_.runtime->ExecSync(c.id, argv, std::chrono::duration_cast<std::chrono::milliseconds>(budget));
    if (!r.ok()) {
      failure = r.status().message();
    } else if (r->exit_code != 0) {
      failure = "command '" + Join(argv, " ") + "' exited with " + std::to_string(r->exit_code) + ": " + r->output;
    }
  } else if (hook.has_httpget()) {
    const corev1::HTTPGetAction& get = hook.httpget();
    net::HttpClientOptions options;
    options.host = get.host().empty() ? pod_ip : get.host();
    options.port = static_cast<uint16_t>(PortOf(spec, get.port()));
    // HTTPS is TLS without verifying the container's certificate, as upstream's handlers do.
    options.tls = ToLower(get.scheme()) == "https";
    options.tls_config.insecure_skip_verify = true;
    options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(budget);
    net::HttpClient http(options);
    net::ClientRequest request;
    request.target = get.path().empty() ? "/" : get.path();
    for (const auto& h : get.httpheaders()) request.headers.Add(h.name(), h.value());
    Result<net::Response> r = http.Do(request);
    if (!r.ok()) {
      failure = r.status().message();
    } else if (r->status < 200 || r->status >= 400) {
      failure = "HTTP lifecycle hook (" + request.target + ") for Container \"" + spec.name() + "\" in Pod \"" +
                PodDescription(pod) + "\" failed - error: , message: \"" + std::to_string(r->status) + "\"";
    }
  } else if (hook.has_sleep()) {
    deps_.clock->SleepFor(std::min<Duration>(seconds(hook.sleep().seconds()), budget));
  }
  if (!failure.empty()) {
    Event(pod, client::kEventWarning, "FailedPreStopHook",
          "PreStopHook failed: " + failure);
  }
}

void PodSyncer::KillOne(const corev1::Pod* pod, const ContainerStatus& c, seconds grace, const std::string& message) {
  const MonoTime begin = deps_.clock->Monotonic();
  if (pod != nullptr) {
    Event(*pod, client::kEventNormal, "Killing",
          message.empty() ? "Stopping container " + c.name : message);
    if (c.state == ContainerState::kRunning) {
      if (const corev1::Container* spec = FindSpec(*pod, c.name)) {
        PodState state = StateOf(pod->metadata().uid());
        RunPreStop(*pod, *spec, c, state.ips.empty() ? "" : state.ips.front(), grace);
      }
    }
  }
  auto spent = std::chrono::duration_cast<seconds>(deps_.clock->Monotonic() - begin);
  seconds left = std::max(grace - spent, kMinimumGracePeriod);
  Status stopped = deps_.runtime->StopContainer(c.id, left);
  if (!stopped.ok() && stopped.code() != Code::kNotFound) {
    CK_LOG_WARNING("StopContainer failed", "container", c.id, "err", stopped.ToString());
  }
}

void PodSyncer::RemoveOldInstances(const std::vector<ContainerStatus>& containers) {
  // Keep the newest two instances of each container (the current one and the one lastState
  // reports); older exited ones are removed.
  std::map<std::string, std::vector<const ContainerStatus*>> by_name;
  for (const ContainerStatus& c : containers) by_name[c.name].push_back(&c);
  for (auto& [name, list] : by_name) {
    if (list.size() <= 2) continue;
    std::sort(list.begin(), list.end(), [](const ContainerStatus* a, const ContainerStatus* b) {
      return a->attempt != b->attempt ? a->attempt > b->attempt : a->created_at > b->created_at;
    });
    for (size_t i = 2; i < list.size(); ++i) {
      if (list[i]->state == ContainerState::kExited) deps_.runtime->RemoveContainer(list[i]->id).IgnoreError();
    }
  }
}

SyncResult PodSyncer::TerminatePod(const corev1::Pod& pod, seconds grace) {
  const std::string& uid = pod.metadata().uid();
  if (deps_.probes != nullptr) deps_.probes->RemovePod(uid);
  PodState state = StateOf(uid);
  state.probes_added = false;
  state.waiting.clear();
  SaveState(uid, state);
  std::vector<ContainerStatus> alive;
  for (ContainerStatus& c : ContainersOf(uid)) {
    if (ContainerAlive(c)) alive.push_back(std::move(c));
  }
  // Containers stop in parallel, each running its own preStop first (upstream killContainersWithSyncResult).
  std::vector<std::thread> threads;
  for (size_t i = 1; i < alive.size(); ++i) {
    threads.emplace_back([this, &pod, &alive, grace, i] { KillOne(&pod, alive[i], grace, ""); });
  }
  if (!alive.empty()) KillOne(&pod, alive[0], grace, "");
  for (std::thread& t : threads) t.join();
  SyncResult result;
  for (const ContainerStatus& c : ContainersOf(uid)) {
    if (!ContainerAlive(c)) continue;
    CK_LOG_WARNING("Container still running after its stop", "pod", PodDescription(pod), "container", c.name);
    result.stopped = false;
  }
  if (!pod.spec().hostnetwork() && deps_.network != nullptr && state.sandbox_ready && result.stopped) {
    Status down = deps_.network->TearDownPod({uid, pod.metadata().name(), pod.metadata().namespace_()});
    if (!down.ok()) CK_LOG_WARNING("TearDownPod failed", "pod", PodDescription(pod), "err", down.ToString());
  }
  result.status = GeneratePodStatus(pod, StatusInput(pod, state, true), deps_.clock->Now());
  return result;
}

void PodSyncer::CleanupPod(const std::string& uid) {
  if (deps_.probes != nullptr) deps_.probes->RemovePod(uid);
  if (deps_.network != nullptr) {
    Status down = deps_.network->TearDownPod({uid, "", ""});  // idempotent: the address is free
    if (!down.ok()) CK_LOG_WARNING("TearDownPod failed", "pod", uid, "err", down.ToString());
  }
  if (deps_.volumes != nullptr) {
    Status down = deps_.volumes->TearDownPod(uid);
    if (!down.ok()) CK_LOG_WARNING("volume TearDownPod failed", "pod", uid, "err", down.ToString());
  }
  for (const ContainerStatus& c : ContainersOf(uid)) {
    if (ContainerAlive(c)) deps_.runtime->StopContainer(c.id, kMinimumGracePeriod).IgnoreError();
    deps_.runtime->RemoveContainer(c.id).IgnoreError();
  }
  deps_.runtime->RemovePodSandbox(uid).IgnoreError();
  deps_.backoff->ForgetPrefix(uid + "_");
  std::lock_guard lock(mu_);
  pods_.erase(uid);
}

void PodSyncer::CleanupOrphan(const std::string& uid) {
  std::vector<ContainerStatus> containers = ContainersOf(uid);
  std::string name, ns;
  for (const ContainerStatus& c : containers) {
    name = c.pod_name;
    ns = c.pod_namespace;
    if (!ContainerAlive(c)) continue;
    seconds grace(30);
    auto it = c.annotations.find(kAnnotationTerminationGracePeriod);
    if (it != c.annotations.end()) {
      if (std::optional<int64_t> g = ParseInt(it->second)) grace = seconds(*g);
    }
    CK_LOG_INFO("Stopping orphaned container", "pod", ns + "/" + name, "container", c.name);
    KillOne(nullptr, c, grace, "");
  }
  if (deps_.network != nullptr) deps_.network->TearDownPod({uid, name, ns}).IgnoreError();
  CleanupPod(uid);
}

}  // namespace ck::kubelet
