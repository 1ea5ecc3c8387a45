#include "kubelet/pod/pod_status.h"

#include "common/api/conditions.h"
#include "common/api/object.h"
#include "common/api/pod.h"

namespace ck::kubelet {

namespace {

constexpr char kReadyToStart[] = "PodReadyToStartContainers";
constexpr char kInitialized[] = "Initialized";
constexpr char kReady[] = "Ready";
constexpr char kContainersReady[] = "ContainersReady";
constexpr char kScheduled[] = "PodScheduled";

bool IsKubeletCondition(const std::string& type) {
  return type == kReadyToStart || type == kInitialized || type == kReady || type == kContainersReady ||
         type == kScheduled;
}

// metav1.Time carries whole seconds on the wire; truncating here keeps a status read back from
// the API equal to the one generated (no rewrite after a restart).
void SetSeconds(k8s::io::apimachinery::pkg::apis::meta::v1::Time* t, WallTime when) {
  t->set_seconds(std::chrono::floor<std::chrono::seconds>(when.time_since_epoch()).count());
}

// The newest instance before `latest` (the one lastState reports), or nullptr.
const ContainerStatus* Previous(const std::vector<ContainerStatus>& all, const ContainerStatus* latest) {
  const ContainerStatus* prev = nullptr;
  for (const ContainerStatus& c : all) {
    if (&c == latest || c.name != latest->name) continue;
    if (c.attempt > latest->attempt || (c.attempt == latest->attempt && c.created_at > latest->created_at)) continue;
    if (prev == nullptr || c.attempt > prev->attempt ||
        (c.attempt == prev->attempt && c.created_at > prev->created_at)) {
      prev = &c;
    }
  }
  return prev;
}

void SetTerminated(const ContainerStatus& c, const std::string& container_id, corev1::ContainerState* state) {
  corev1::ContainerStateTerminated* t = state->mutable_terminated();
  t->set_exitcode(c.exit_code);
  t->set_reason(!c.reason.empty() ? c.reason : (c.exit_code == 0 ? "Completed" : "Error"));
  if (!c.message.empty()) t->set_message(c.message);
  SetSeconds(t->mutable_startedat(), c.started_at);
  SetSeconds(t->mutable_finishedat(), c.finished_at);
  t->set_containerid(container_id);
}

struct ContainerContext {
  const PodStatusInput* input;
  const std::map<std::string, const ContainerStatus*>* latest;
  bool init_done = true;
};

corev1::ContainerStatus StatusOf(const corev1::Container& spec, bool init, const ContainerContext& ctx) {
  const PodStatusInput& in = *ctx.input;
  corev1::ContainerStatus out;
  out.set_name(spec.name());
  out.set_image(spec.image());
  out.set_imageid(spec.image());
  out.set_ready(false);
  out.set_started(false);
  out.set_restartcount(0);
  auto waiting = in.waiting.find(spec.name());
  auto it = ctx.latest->find(spec.name());
  const ContainerStatus* c = it == ctx.latest->end() ? nullptr : it->second;
  if (c == nullptr) {
    corev1::ContainerStateWaiting* w = out.mutable_state()->mutable_waiting();
    if (waiting != in.waiting.end()) {
      w->set_reason(waiting->second.reason);
      if (!waiting->second.message.empty()) w->set_message(waiting->second.message);
    } else {
      w->set_reason(init || !ctx.init_done ? "PodInitializing" : "ContainerCreating");
    }
    out.mutable_laststate();
    return out;
  }
  const std::string id = in.runtime_name + "://" + c->id;
  out.set_restartcount(c->attempt);
  if (!c->image.empty()) out.set_image(c->image);
  out.set_imageid(out.image());
  const ContainerStatus* prev = Previous(in.containers, c);
  bool held = waiting != in.waiting.end();
  if (c->state == ContainerState::kExited && held) {
    // Exited and held back (CrashLoopBackOff, a failed restart): waiting, the exit in lastState.
    corev1::ContainerStateWaiting* w = out.mutable_state()->mutable_waiting();
    w->set_reason(waiting->second.reason);
    if (!waiting->second.message.empty()) w->set_message(waiting->second.message);
    SetTerminated(*c, id, out.mutable_laststate());
    out.set_containerid(id);
    return out;
  }
  out.set_containerid(id);
  if (prev != nullptr && prev->state == ContainerState::kExited) {
    SetTerminated(*prev, in.runtime_name + "://" + prev->id, out.mutable_laststate());
  } else {
    out.mutable_laststate();
  }
  switch (c->state) {
    case ContainerState::kRunning: {
      SetSeconds(out.mutable_state()->mutable_running()->mutable_startedat(), c->started_at);
      bool started = !in.probes.startup || in.probes.startup(spec.name()) == ProbeResult::kSuccess;
      out.set_started(started);
      bool ready = started && (!in.probes.readiness || in.probes.readiness(spec.name()) == ProbeResult::kSuccess);
      out.set_ready(!init && ready);
      break;
    }
    case ContainerState::kExited:
      SetTerminated(*c, id, out.mutable_state());
      out.set_ready(init && c->exit_code == 0);  // an init container that succeeded counts as ready
      break;
    default: {
      corev1::ContainerStateWaiting* w = out.mutable_state()->mutable_waiting();
      w->set_reason(held ? waiting->second.reason : "ContainerCreating");
      if (held && !waiting->second.message.empty()) w->set_message(waiting->second.message);
      break;
    }
  }
  return out;
}

corev1::PodCondition MakeCondition(const char* type, bool ok, const std::string& reason = "",
                                   const std::string& message = "") {
  corev1::PodCondition c;
  c.set_type(type);
  c.set_status(ok ? "True" : "False");
  if (!ok && !reason.empty()) c.set_reason(reason);
  if (!ok && !message.empty()) c.set_message(message);
  return c;
}

}  // namespace

std::string PodPhase(const corev1::PodSpec& spec, const corev1::PodStatus& status, bool pod_is_terminal) {
  const std::string policy = spec.restartpolicy().empty() ? "Always" : spec.restartpolicy();
  auto find = [](const auto& list, const std::string& name) -> const corev1::ContainerStatus* {
    for (const auto& s : list) {
      if (s.name() == name) return &s;
    }
    return nullptr;
  };
  int pending_init = 0, failed_init = 0;
  for (const auto& c : spec.initcontainers()) {
    const corev1::ContainerStatus* s = find(status.initcontainerstatuses(), c.name());
    if (s == nullptr || s->state().has_running()) {
      ++pending_init;
    } else if (s->state().has_terminated()) {
      if (s->state().terminated().exitcode() != 0) ++failed_init;
    } else if (s->laststate().has_terminated() && s->laststate().terminated().exitcode() != 0) {
      ++failed_init;
    } else {
      ++pending_init;
    }
  }
  int unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const auto& c : spec.containers()) {
    const corev1::ContainerStatus* s = find(status.containerstatuses(), c.name());
    if (s == nullptr) {
      ++unknown;
    } else if (s->state().has_running()) {
      ++running;
    } else if (s->state().has_terminated()) {
      ++stopped;
      if (s->state().terminated().exitcode() == 0) ++succeeded;
    } else if (s->laststate().has_terminated()) {
      ++stopped;
    } else {
      ++waiting;
    }
  }
  if (failed_init > 0 && policy == "Never") return std::string(api::kPodFailed);
  bool any_regular_started = running + stopped > 0;
  if ((pending_init > 0 && !any_regular_started) || waiting > 0) return std::string(api::kPodPending);
  if (running > 0 && unknown == 0) return std::string(api::kPodRunning);
  if (running == 0 && stopped > 0 && unknown == 0) {
    if (pod_is_terminal) return std::string(stopped == succeeded ? api::kPodSucceeded : api::kPodFailed);
    if (policy == "Always") return std::string(api::kPodRunning);
    if (stopped == succeeded) return std::string(api::kPodSucceeded);
    if (policy == "Never") return std::string(api::kPodFailed);
    return std::string(api::kPodRunning);
  }
  return std::string(api::kPodPending);
}

corev1::PodStatus GeneratePodStatus(const corev1::Pod& pod, const PodStatusInput& input, WallTime now) {
  const corev1::PodStatus& old = pod.status();
  corev1::PodStatus out;
  auto latest = LatestByName(input.containers);

  ContainerContext ctx{&input, &latest, true};
  for (const auto& c : pod.spec().initcontainers()) {
    auto it = latest.find(c.name());
    if (it == latest.end() || it->second->state != ContainerState::kExited || it->second->exit_code != 0) {
      ctx.init_done = false;
    }
  }
  std::vector<std::string> not_initialized, not_ready;
  for (const auto& c : pod.spec().initcontainers()) {
    *out.add_initcontainerstatuses() = StatusOf(c, true, ctx);
    if (!out.initcontainerstatuses().rbegin()->ready()) not_initialized.push_back(c.name());
  }
  for (const auto& c : pod.spec().containers()) {
    *out.add_containerstatuses() = StatusOf(c, false, ctx);
    if (!out.containerstatuses().rbegin()->ready()) not_ready.push_back(c.name());
  }

  if (api::IsPodTerminal(pod)) {
    KeepTerminalPhase(old, &out);
  } else {
    out.set_phase(PodPhase(pod.spec(), out, input.terminating));
  }
  const bool completed = out.phase() == api::kPodSucceeded;

  // Conditions, in upstream's order; lastTransitionTime kept while the status stays.
  auto join = [](const std::vector<std::string>& names) {
    std::string s = "[";
    for (size_t i = 0; i < names.size(); ++i) s += (i ? " " : "") + names[i];
    return s + "]";
  };
  std::vector<corev1::PodCondition> conditions;
  conditions.push_back(MakeCondition(kReadyToStart, input.sandbox_ready));
  conditions.push_back(MakeCondition(kInitialized, not_initialized.empty(), "ContainersNotInitialized",
                                     "containers with incomplete status: " + join(not_initialized)));
  corev1::PodCondition containers_ready =
      completed ? MakeCondition(kContainersReady, false, "PodCompleted")
                : MakeCondition(kContainersReady, not_ready.empty(), "ContainersNotReady",
                                "containers with unready status: " + join(not_ready));
  corev1::PodCondition ready = containers_ready;
  ready.set_type(kReady);
  if (ready.status() == "True") {
    for (const auto& gate : pod.spec().readinessgates()) {
      const corev1::PodCondition* c = api::FindCondition(old.conditions(), gate.conditiontype());
      if (c == nullptr) {
        ready = MakeCondition(kReady, false, "ReadinessGatesNotReady",
                              "corresponding condition of pod readiness gate \"" + gate.conditiontype() +
                                  "\" does not exist.");
        break;
      }
      if (c->status() != "True") {
        ready = MakeCondition(kReady, false, "ReadinessGatesNotReady",
                              "the status of pod readiness gate \"" + gate.conditiontype() + "\" is not \"True\", but " +
                                  c->status());
        break;
      }
    }
  }
  conditions.push_back(ready);
  conditions.push_back(containers_ready);
  conditions.push_back(MakeCondition(kScheduled, true));
  for (corev1::PodCondition& c : conditions) {
    const corev1::PodCondition* prev = api::FindCondition(old.conditions(), c.type());
    if (prev != nullptr && prev->status() == c.status() && !api::IsZeroTime(prev->lasttransitiontime())) {
      *c.mutable_lasttransitiontime() = prev->lasttransitiontime();
    } else {
      SetSeconds(c.mutable_lasttransitiontime(), now);
    }
    c.mutable_lastprobetime();
    *out.add_conditions() = std::move(c);
  }
  for (const auto& c : old.conditions()) {
    if (!IsKubeletCondition(c.type())) *out.add_conditions() = c;
  }

  if (!input.host_ip.empty()) {
    out.set_hostip(input.host_ip);
    out.add_hostips()->set_ip(input.host_ip);
  }
  if (!input.pod_ips.empty()) {
    out.set_podip(input.pod_ips.front());
    for (const auto& ip : input.pod_ips) out.add_podips()->set_ip(ip);
  }
  if (!api::IsZeroTime(old.starttime())) {
    *out.mutable_starttime() = old.starttime();
  } else {
    SetSeconds(out.mutable_starttime(), now);
  }
  out.set_qosclass(api::ComputePodQOSClass(pod));
  return out;
}

void KeepTerminalPhase(const corev1::PodStatus& from, corev1::PodStatus* status) {
  if (!api::IsTerminalPhase(from.phase()) || api::IsTerminalPhase(status->phase())) return;
  status->set_phase(from.phase());
  if (from.has_reason()) status->set_reason(from.reason());
  if (from.has_message()) status->set_message(from.message());
}

}  // namespace ck::kubelet
