// The probe manager: one worker record per (pod, container, probe kind), one scheduler thread
// ("ck-probe-sched") that sleeps on the injected Clock until the next worker is due, and a small
// pool ("ck-probe") that runs the probes, so that 100 pods x 2 probes cost 5 threads, not 200.
// Worker semantics follow upstream's pkg/kubelet/prober/worker.go (doProbe).
#include "kubelet/prober/prober_manager.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "common/api/object.h"
#include "common/base/log.h"
#include "common/base/strings.h"
#include "common/base/thread.h"
#include "common/client/tools/event_recorder.h"
#include "kubelet/env/environment.h"
#include "kubelet/prober/probe_runners.h"
#include "kubelet/runtime/container_runtime.h"

namespace ck::kubelet {
namespace {

namespace corev1 = k8s::io::api::core::v1;

enum class Kind { kStartup, kLiveness, kReadiness };

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kStartup: return "Startup";
    case Kind::kLiveness: return "Liveness";
    case Kind::kReadiness: return "Readiness";
  }
  return "";
}

// Upstream API defaults for unset probe fields.
int32_t OrDefault(int32_t v, int32_t d) { return v > 0 ? v : d; }

struct Worker {
  std::string pod_uid;
  std::string container;
  Kind kind = Kind::kReadiness;
  corev1::Probe probe;
  corev1::Container spec;

  // All below guarded by ProbeManagerImpl::mu_.
  std::string container_id;  // the instance the result belongs to; "" before the first one
  WallTime started_at{};
  bool running = false;
  ProbeResult result = ProbeResult::kUnknown;
  ProbeResult last = ProbeResult::kUnknown;  // last probe outcome and how many times in a row
  int run = 0;
  bool on_hold = false;    // liveness/startup failed: wait for a new container id
  bool in_flight = false;  // a probe is queued or running on the pool
  bool removed = false;
  bool grpc_reported = false;
  uint64_t generation = 0;  // bumped with each new container id; stale outcomes are dropped
  MonoTime next{};
};

struct PodEntry {
  corev1::Pod pod;
  std::string pod_ip;
  std::vector<std::shared_ptr<Worker>> workers;
};

class ProbeManagerImpl final : public ProbeManager {
 public:
  explicit ProbeManagerImpl(Deps deps) : deps_(std::move(deps)), pool_("ck-probe", std::max(1, deps_.probe_threads)) {
    CK_CHECK(deps_.clock != nullptr) << "ProbeManager needs a clock";
    scheduler_ = std::thread([this] { Loop(); });
  }

  ~ProbeManagerImpl() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    wakeup_.Notify();
    scheduler_.join();
    // pool_'s destructor then runs what is queued (each task returns at once) and joins.
  }

  void AddPod(const corev1::Pod& pod) override {
    const std::string& uid = pod.metadata().uid();
    std::lock_guard<std::mutex> lock(mu_);
    auto emplaced = pods_.try_emplace(uid);
    auto it = emplaced.first;
    it->second.pod = pod;  // keeps deletionTimestamp current
    if (!emplaced.second) return;
    auto add = [&](const corev1::Container& c, Kind kind, const corev1::Probe& probe) {
      auto w = std::make_shared<Worker>();
      w->pod_uid = uid;
      w->container = c.name();
      w->kind = kind;
      w->probe = probe;
      w->spec = c;
      it->second.workers.push_back(std::move(w));
    };
    for (const auto& c : pod.spec().containers()) {
      if (c.has_startupprobe()) add(c, Kind::kStartup, c.startupprobe());
      if (c.has_livenessprobe()) add(c, Kind::kLiveness, c.livenessprobe());
      if (c.has_readinessprobe()) add(c, Kind::kReadiness, c.readinessprobe());
    }
    // Restartable init containers (sidecars) are probed like containers, as upstream.
    for (const auto& c : pod.spec().initcontainers()) {
      if (c.restartpolicy() != "Always") continue;
      if (c.has_startupprobe()) add(c, Kind::kStartup, c.startupprobe());
      if (c.has_livenessprobe()) add(c, Kind::kLiveness, c.livenessprobe());
      if (c.has_readinessprobe()) add(c, Kind::kReadiness, c.readinessprobe());
    }
  }

  void RemovePod(const std::string& pod_uid) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pods_.find(pod_uid);
    if (it == pods_.end()) return;
    for (auto& w : it->second.workers) w->removed = true;
    pods_.erase(it);
  }

  void UpdatePod(const std::string& pod_uid, const std::string& pod_ip,
                 const std::vector<RunningContainer>& running) override {
    bool changed = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = pods_.find(pod_uid);
      if (it == pods_.end()) return;
      it->second.pod_ip = pod_ip;
      const MonoTime mono_now = deps_.clock->Monotonic();
      const WallTime wall_now = deps_.clock->Now();
      for (auto& w : it->second.workers) {
        const RunningContainer* rc = nullptr;
        for (const auto& r : running) {
          if (r.name == w->container && !r.id.empty()) rc = &r;
        }
        if (rc == nullptr) {
          // Not running: not ready and not started (upstream sets Failure when State.Running is nil).
          w->running = false;
          if (!w->container_id.empty() && w->kind != Kind::kLiveness && w->result != ProbeResult::kFailure) {
            w->result = ProbeResult::kFailure;
            changed = true;
          }
          continue;
        }
        w->running = true;
        if (rc->id == w->container_id) continue;
        // A new instance: its results start over and probing resumes.
        if (w->result != ProbeResult::kUnknown) changed = true;
        w->container_id = rc->id;
        w->started_at = rc->started_at;
        w->result = ProbeResult::kUnknown;
        w->last = ProbeResult::kUnknown;
        w->run = 0;
        w->on_hold = false;
        ++w->generation;
        // initialDelaySeconds counts from the container's start.
        auto ready_at = rc->started_at + std::chrono::seconds(w->probe.initialdelayseconds());
        w->next = mono_now + std::max<Duration>(Duration::zero(), ready_at - wall_now);
      }
    }
    wakeup_.Notify();
    if (changed && deps_.on_change) deps_.on_change(pod_uid);
  }

  ProbeResult Readiness(const std::string& pod_uid, const std::string& container) const override {
    return Get(pod_uid, container, Kind::kReadiness);
  }
  ProbeResult Liveness(const std::string& pod_uid, const std::string& container) const override {
    return Get(pod_uid, container, Kind::kLiveness);
  }
  ProbeResult Startup(const std::string& pod_uid, const std::string& container) const override {
    return Get(pod_uid, container, Kind::kStartup);
  }

 private:
  ProbeResult Get(const std::string& pod_uid, const std::string& container, Kind kind) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pods_.find(pod_uid);
    if (it == pods_.end()) return ProbeResult::kSuccess;
    for (const auto& w : it->second.workers) {
      if (w->container == container && w->kind == kind) return w->result;
    }
    return ProbeResult::kSuccess;
  }

  // Liveness and readiness wait for the container's startup probe (if any) to succeed.
  bool StartedLocked(const PodEntry& pod, const Worker& w) const {
    for (const auto& other : pod.workers) {
      if (other->container == w.container && other->kind == Kind::kStartup) {
        return other->result == ProbeResult::kSuccess;
      }
    }
    return true;
  }

  void Loop() {
    SetCurrentThreadName("ck-probe-sched");
    for (;;) {
      std::vector<std::shared_ptr<Worker>> due;
      MonoTime wake;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return;
        const MonoTime now = deps_.clock->Monotonic();
        wake = now + std::chrono::hours(1);
        for (auto& [uid, pod] : pods_) {
          for (auto& w : pod.workers) {
            if (!w->running || w->container_id.empty() || w->on_hold || w->in_flight) continue;
            // A started container needs no more startup probes (upstream keeps the worker idle).
            if (w->kind == Kind::kStartup && w->result == ProbeResult::kSuccess) continue;
            if (w->kind != Kind::kStartup && !StartedLocked(pod, *w)) continue;
            if (w->next <= now) {
              w->in_flight = true;
              due.push_back(w);
            } else {
              wake = std::min(wake, w->next);
            }
          }
        }
      }
      for (auto& w : due) pool_.Post([this, w] { RunProbe(w); });
      if (!due.empty()) continue;
      deps_.clock->WaitUntil(wakeup_, wake);
    }
  }

  // What one probe needs, copied under mu_ so that it runs without the lock.
  struct Snapshot {
    corev1::Pod pod;
    std::string pod_ip;
    std::string container_id;
    uint64_t generation = 0;
    bool deleting = false;
  };

  void RunProbe(const std::shared_ptr<Worker>& w) {
    Snapshot snap;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = pods_.find(w->pod_uid);
      if (stopping_ || w->removed || it == pods_.end()) {
        w->in_flight = false;
        return;
      }
      snap.pod = it->second.pod;
      snap.pod_ip = it->second.pod_ip;
      snap.container_id = w->container_id;
      snap.generation = w->generation;
      snap.deleting = snap.pod.metadata().has_deletiontimestamp();
    }
    const MonoTime started = deps_.clock->Monotonic();
    ProbeOutcome outcome;
    bool grpc = false;
    if (snap.deleting && w->kind != Kind::kReadiness) {
      // Graceful shutdown: liveness and startup stop failing a container that is being stopped.
      outcome = {ProbeOutcome::kSuccess, ""};
    } else {
      outcome = Execute(*w, snap, &grpc);
    }

    bool changed = false;
    bool report = true;
    {
      std::lock_guard<std::mutex> lock(mu_);
      w->in_flight = false;
      if (w->removed || w->generation != snap.generation) {
        report = false;
      } else {
        const int32_t period = OrDefault(w->probe.periodseconds(), 10);
        w->next = started + std::chrono::seconds(period);
        if (grpc) {
          report = !w->grpc_reported;
          w->grpc_reported = true;
        }
        if (outcome.verdict != ProbeOutcome::kError) {
          ProbeResult r = outcome.verdict == ProbeOutcome::kFailure ? ProbeResult::kFailure : ProbeResult::kSuccess;
          if (w->last == r) {
            ++w->run;
          } else {
            w->last = r;
            w->run = 1;
          }
          // successThreshold applies to readiness only; liveness and startup must be 1.
          const int32_t success_threshold = w->kind == Kind::kReadiness ? OrDefault(w->probe.successthreshold(), 1) : 1;
          const int32_t failure_threshold = OrDefault(w->probe.failurethreshold(), 3);
          bool below = (r == ProbeResult::kFailure && w->run < failure_threshold) ||
                       (r == ProbeResult::kSuccess && w->run < success_threshold);
          if (!below) {
            changed = w->result != r;
            w->result = r;
            if (r == ProbeResult::kFailure && w->kind != Kind::kReadiness) {
              // The container will be restarted: stop probing until a new container id appears.
              w->on_hold = true;
              w->run = 0;
            }
          }
        }
      }
    }
    if (report) RecordEvent(*w, snap.pod, outcome);
    if (changed) {
      CK_VLOG(1, "Probe result changed", "pod", api::ObjectKey(snap.pod.metadata()), "container", w->container,
              "probe", KindName(w->kind), "failed", outcome.verdict == ProbeOutcome::kFailure);
      if (deps_.on_change) deps_.on_change(w->pod_uid);
    }
    if (deps_.on_probe_done) deps_.on_probe_done();
    wakeup_.Notify();
  }

  ProbeOutcome Execute(const Worker& w, const Snapshot& snap, bool* grpc) {
    const auto& handler = w.probe.handler();
    const std::chrono::milliseconds timeout = std::chrono::seconds(OrDefault(w.probe.timeoutseconds(), 1));
    if (handler.has_exec()) {
      if (deps_.runtime == nullptr) return {ProbeOutcome::kError, "no container runtime"};
      // ExpandContainerCommandOnlyStatic: $(VAR) from the container's literal env values only.
      std::map<std::string, std::string> vars;
      for (const auto& e : w.spec.env()) {
        if (!e.has_valuefrom()) vars[e.name()] = e.value();
      }
      auto lookup = [&](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
      };
      std::vector<std::string> argv;
      for (const auto& a : handler.exec().command()) argv.push_back(ExpandVars(a, lookup));
      Result<ExecResult> r = deps_.runtime->ExecSync(snap.container_id, argv, timeout);
      if (!r.ok()) return {ProbeOutcome::kError, r.status().message()};
      if (r->timed_out) return {ProbeOutcome::kFailure, "command \"" + Join(argv, " ") + "\" timed out"};
      return {r->exit_code == 0 ? ProbeOutcome::kSuccess : ProbeOutcome::kFailure, r->output};
    }
    if (handler.has_httpget()) {
      const auto& a = handler.httpget();
      Result<int> port = ResolveContainerPort(a.port(), w.spec);
      if (!port.ok()) return {ProbeOutcome::kError, port.status().message()};
      HttpProbeTarget t;
      t.scheme = a.scheme().empty() ? "http" : ToLower(a.scheme());
      t.host = a.host().empty() ? snap.pod_ip : a.host();
      t.port = *port;
      t.path = a.path();
      for (const auto& h : a.httpheaders()) t.headers.emplace_back(h.name(), h.value());
      t.loopback_only = deps_.loopback_only;
      return DoHttpProbe(t, timeout);
    }
    if (handler.has_tcpsocket()) {
      const auto& a = handler.tcpsocket();
      Result<int> port = ResolveContainerPort(a.port(), w.spec);
      if (!port.ok()) return {ProbeOutcome::kError, port.status().message()};
      return DoTcpProbe(a.host().empty() ? snap.pod_ip : a.host(), *port, timeout, deps_.loopback_only);
    }
    if (handler.has_grpc()) {
      *grpc = true;
      return {ProbeOutcome::kFailure, "grpc probes are not supported"};
    }
    return {ProbeOutcome::kError, "missing probe handler for " + w.container};
  }

  void RecordEvent(const Worker& w, const corev1::Pod& pod, const ProbeOutcome& outcome) {
    if (outcome.verdict == ProbeOutcome::kSuccess) return;
    std::string reason = "Unhealthy";
    std::string message;
    switch (outcome.verdict) {
      case ProbeOutcome::kFailure:
        message = std::string(KindName(w.kind)) + " probe failed: " + outcome.output;
        break;
      case ProbeOutcome::kError:
        message = std::string(KindName(w.kind)) + " probe errored: " + outcome.output;
        break;
      case ProbeOutcome::kWarning:
        reason = "ProbeWarning";
        message = std::string(KindName(w.kind)) + " probe warning: " + outcome.output;
        break;
      case ProbeOutcome::kSuccess:
        break;
    }
    CK_VLOG(1, "Probe did not succeed", "pod", api::ObjectKey(pod.metadata()), "container", w.container,
            "msg", message);
    if (deps_.events == nullptr) return;
    Result<corev1::ObjectReference> ref = client::EventRecorder::ReferenceTo(pod);
    if (!ref.ok()) return;
    // Events about a container point at it, as upstream's container references do.
    ref->set_fieldpath("spec.containers{" + w.container + "}");
    deps_.events->Event(*ref, client::kEventWarning, reason, message);
  }

  const Deps deps_;
  mutable std::mutex mu_;
  std::map<std::string, PodEntry> pods_;  // guarded by mu_; by pod uid
  bool stopping_ = false;                 // guarded by mu_
  Wakeup wakeup_;
  ThreadPool pool_;
  std::thread scheduler_;
};

}  // namespace

std::unique_ptr<ProbeManager> NewProbeManager(ProbeManager::Deps deps) {
  return std::make_unique<ProbeManagerImpl>(std::move(deps));
}

}  // namespace ck::kubelet
