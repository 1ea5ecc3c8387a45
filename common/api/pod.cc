#include "common/api/pod.h"

#include <chrono>

#include "common/api/conditions.h"
#include "common/api/object.h"
#include "common/api/resources.h"

namespace ck::api {

bool IsPodTerminal(const corev1::Pod& pod) {
  return IsTerminalPhase(pod.status().phase());
}

bool IsPodActive(const corev1::Pod& pod) {
  return !IsPodTerminal(pod) && !pod.metadata().has_deletiontimestamp();
}

bool IsPodReady(const corev1::Pod& pod) { return IsConditionTrue(pod.status().conditions(), "Ready"); }

bool IsPodAvailable(const corev1::Pod& pod, int32_t min_ready_seconds, WallTime now) {
  const corev1::PodCondition* ready = FindCondition(pod.status().conditions(), "Ready");
  if (ready == nullptr || ready->status() != "True") return false;
  if (min_ready_seconds == 0) return true;
  WallTime since = WallTimeOf(ready->lasttransitiontime());
  return !IsZeroTime(ready->lasttransitiontime()) && since + std::chrono::seconds(min_ready_seconds) <= now;
}

std::string ComputePodQOSClass(const corev1::Pod& pod) {
  // Only cpu and memory decide; a request or limit of zero counts as none.
  ResourceList requests, limits;
  bool guaranteed = true;
  auto consider = [&](const corev1::Container& c) {
    for (const auto& [name, q] : c.resources().requests()) {
      if (name != "cpu" && name != "memory") continue;
      Result<Quantity> v = Quantity::Parse(q.string());
      if (!v.ok() || v->Sign() <= 0) continue;
      if (!AddResources(&requests, ResourceList{{name, *v}})) guaranteed = false;
    }
    bool cpu_limit = false, memory_limit = false;
    for (const auto& [name, q] : c.resources().limits()) {
      if (name != "cpu" && name != "memory") continue;
      Result<Quantity> v = Quantity::Parse(q.string());
      if (!v.ok() || v->Sign() <= 0) continue;
      (name == "cpu" ? cpu_limit : memory_limit) = true;
      if (!AddResources(&limits, ResourceList{{name, *v}})) guaranteed = false;
    }
    if (!cpu_limit || !memory_limit) guaranteed = false;
  };
  for (const corev1::Container& c : pod.spec().containers()) consider(c);
  for (const corev1::Container& c : pod.spec().initcontainers()) consider(c);
  if (requests.empty() && limits.empty()) return "BestEffort";
  if (guaranteed) {
    for (const auto& [name, req] : requests) {
      auto it = limits.find(name);
      if (it == limits.end() || it->second.Cmp(req) != 0) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size() == limits.size() ? "Guaranteed" : "Burstable";
}

std::string PodQOSClass(const corev1::Pod& pod) {
  if (!pod.status().qosclass().empty()) return pod.status().qosclass();
  return ComputePodQOSClass(pod);
}

std::map<std::string, std::string> PodFieldSet(const corev1::Pod& pod) {
  return {
      {"metadata.name", pod.metadata().name()},
      {"metadata.namespace", pod.metadata().namespace_()},
      {"spec.nodeName", pod.spec().nodename()},
      {"spec.restartPolicy", pod.spec().restartpolicy()},
      {"spec.schedulerName", pod.spec().schedulername()},
      {"spec.serviceAccountName", pod.spec().serviceaccountname()},
      {"spec.hostNetwork", pod.spec().hostnetwork() ? "true" : "false"},
      {"status.phase", pod.status().phase()},
      {"status.podIP", pod.status().podip()},
      {"status.nominatedNodeName", pod.status().nominatednodename()},
  };
}

}  // namespace ck::api
