#include "kubelet/pod/pod_actions.h"

#include <cstdio>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "common/api/time_format.h"

namespace ck::kubelet {

bool ContainerAlive(const ContainerStatus& c) {
  return c.state == ContainerState::kRunning || c.state == ContainerState::kCreated;
}

std::string ContainerHash(const corev1::Container& container) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    container.SerializeToCodedStream(&out);
  }
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string PodDescription(const corev1::Pod& pod) {
  return pod.metadata().name() + "_" + pod.metadata().namespace_() + "(" + pod.metadata().uid() + ")";
}

std::string BackoffKey(const corev1::Pod& pod, const corev1::Container& container) {
  return pod.metadata().uid() + "_" + pod.metadata().name() + "_" + pod.metadata().namespace_() + "_" +
         container.name() + "_" + ContainerHash(container);
}

// ---- CrashLoopBackoff -----------------------------------------------------------------------

bool CrashLoopBackoff::InBackOffSince(const std::string& key, WallTime finished_at, WallTime now) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  if (finished_at - it->second.last_update > 2 * max_) return false;  // stable: expired
  return now - finished_at < it->second.delay;
}

void CrashLoopBackoff::Next(const std::string& key, WallTime finished_at) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || finished_at - it->second.last_update > 2 * max_) {
    entries_[key] = Entry{initial_, finished_at};
    return;
  }
  it->second.delay = std::min<Duration>(it->second.delay * 2, max_);
  it->second.last_update = finished_at;
}

Duration CrashLoopBackoff::Get(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  return it == entries_.end() ? Duration{0} : it->second.delay;
}

void CrashLoopBackoff::GC(WallTime now) {
  std::lock_guard lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = now - it->second.last_update > 2 * max_ ? entries_.erase(it) : std::next(it);
  }
}

void CrashLoopBackoff::ForgetPrefix(const std::string& prefix) {
  std::lock_guard lock(mu_);
  for (auto it = entries_.lower_bound(prefix); it != entries_.end() && it->first.starts_with(prefix);) {
    it = entries_.erase(it);
  }
}

// ---- ComputePodActions ------------------------------------------------------------------------

std::map<std::string, const ContainerStatus*> LatestByName(const std::vector<ContainerStatus>& containers) {
  std::map<std::string, const ContainerStatus*> latest;
  for (const ContainerStatus& c : containers) {
    const ContainerStatus*& slot = latest[c.name];
    if (slot == nullptr || c.attempt > slot->attempt ||
        (c.attempt == slot->attempt && c.created_at > slot->created_at)) {
      slot = &c;
    }
  }
  return latest;
}

namespace {

bool ShouldRestart(const std::string& policy, const ContainerStatus& c) {
  if (policy == "Never") return false;
  if (policy == "OnFailure") return c.exit_code != 0;
  return true;  // Always (the default)
}

// Decides the restart of an exited container: starts it, or holds it in CrashLoopBackOff
// (upstream doBackOff).
void RestartOrBackOff(const corev1::Pod& pod, const corev1::Container& spec, const ContainerStatus& last,
                      ContainerStart start, CrashLoopBackoff& backoff, WallTime now, PodActions* actions) {
  const std::string key = BackoffKey(pod, spec);
  if (backoff.InBackOffSince(key, last.finished_at, now)) {
    Duration delay = backoff.Get(key);
    actions->waiting[spec.name()] = ContainerWaiting{
        "CrashLoopBackOff", "back-off " + api::FormatGoDuration(delay.count()) +
                                " restarting failed container=" + spec.name() + " pod=" + PodDescription(pod)};
    Duration left = delay - (now - last.finished_at);
    if (actions->requeue_after == Duration{0} || left < actions->requeue_after) actions->requeue_after = left;
    return;
  }
  backoff.Next(key, last.finished_at);
  actions->start.push_back(std::move(start));
}

}  // namespace

PodActions ComputePodActions(const corev1::Pod& pod, const std::vector<ContainerStatus>& containers,
                             bool sandbox_ready, const ProbeView& probes, CrashLoopBackoff& backoff, WallTime now) {
  PodActions actions;
  actions.create_sandbox = !sandbox_ready;
  const std::string policy = pod.spec().restartpolicy().empty() ? "Always" : pod.spec().restartpolicy();
  auto latest = LatestByName(containers);

  // Running containers the spec no longer names are stopped.
  for (const ContainerStatus& c : containers) {
    if (!ContainerAlive(c)) continue;
    bool known = false;
    for (const auto& s : pod.spec().initcontainers()) known = known || s.name() == c.name;
    for (const auto& s : pod.spec().containers()) known = known || s.name() == c.name;
    if (!known || latest[c.name] != &c) {
      actions.kill.push_back({c.id, c.name, "Container " + c.name + " is not in the pod spec"});
    }
  }

  // Init containers, one at a time, in order.
  for (int i = 0; i < pod.spec().initcontainers_size(); ++i) {
    const corev1::Container& spec = pod.spec().initcontainers(i);
    auto it = latest.find(spec.name());
    if (it == latest.end()) {
      actions.start.push_back({spec.name(), i, true, 0});
      return actions;
    }
    const ContainerStatus& c = *it->second;
    if (ContainerAlive(c)) return actions;  // wait for it
    if (c.exit_code == 0) continue;
    // Failed: restartPolicy Never fails the pod; otherwise it runs again (an init container
    // restarts for Always and OnFailure alike).
    if (policy == "Never") {
      actions.kill_pod = true;
      return actions;
    }
    RestartOrBackOff(pod, spec, c, {spec.name(), i, true, c.attempt + 1}, backoff, now, &actions);
    return actions;
  }

  // Regular containers.
  for (int i = 0; i < pod.spec().containers_size(); ++i) {
    const corev1::Container& spec = pod.spec().containers(i);
    auto it = latest.find(spec.name());
    if (it == latest.end()) {
      actions.start.push_back({spec.name(), i, false, 0});
      continue;
    }
    const ContainerStatus& c = *it->second;
    if (ContainerAlive(c)) {
      std::string message;
      bool restart = policy != "Never";
      auto hash = c.annotations.find(kAnnotationContainerHash);
      if (hash != c.annotations.end() && hash->second != ContainerHash(spec)) {
        message = "Container " + spec.name() + " definition changed, will be restarted";
        restart = true;
      } else if (c.state == ContainerState::kRunning && probes.liveness &&
                 probes.liveness(spec.name()) == ProbeResult::kFailure) {
        message = "Container " + spec.name() + " failed liveness probe, will be restarted";
      } else if (c.state == ContainerState::kRunning && probes.startup &&
                 probes.startup(spec.name()) == ProbeResult::kFailure) {
        message = "Container " + spec.name() + " failed startup probe, will be restarted";
      } else {
        continue;
      }
      if (!restart) message = message.substr(0, message.find(", will be restarted"));
      actions.kill.push_back({c.id, spec.name(), message});
      if (restart) actions.start.push_back({spec.name(), i, false, c.attempt + 1});
      continue;
    }
    if (!ShouldRestart(policy, c)) continue;
    RestartOrBackOff(pod, spec, c, {spec.name(), i, false, c.attempt + 1}, backoff, now, &actions);
  }
  return actions;
}

}  // namespace ck::kubelet
