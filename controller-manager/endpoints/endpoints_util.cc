#include "controller-manager/endpoints/endpoints_util.h"

#include <map>

#include "common/api/object.h"
#include "common/api/pod.h"

namespace ck::controller_manager::endpoints {

namespace {

bool Before(const api::Timestamp& a, const api::Timestamp& b) {
  return a.seconds != b.seconds ? a.seconds < b.seconds : a.nanos < b.nanos;
}

// An unset metav1.Time (or Go's zero time) is no trigger time.
std::optional<api::Timestamp> TimeOf(const ::k8s::io::apimachinery::pkg::apis::meta::v1::Time& t) {
  if (api::IsZeroTime(t)) return std::nullopt;
  return api::TimestampOf(t);
}

// Upstream getPodTriggerTime: the Ready condition's lastTransitionTime.
std::optional<api::Timestamp> PodTriggerTime(const corev1::Pod& pod) {
  for (const corev1::PodCondition& c : pod.status().conditions()) {
    if (c.type() == "Ready") return TimeOf(c.lasttransitiontime());
  }
  return std::nullopt;
}

bool SameDeletionTimestamp(const corev1::Pod& a, const corev1::Pod& b) {
  const auto& x = a.metadata();
  const auto& y = b.metadata();
  if (x.has_deletiontimestamp() != y.has_deletiontimestamp()) return false;
  return !x.has_deletiontimestamp() || api::TimestampOf(x.deletiontimestamp()) == api::TimestampOf(y.deletiontimestamp());
}

// Upstream podEndpointsChanged: {endpoints may change, Service membership may change}.
std::pair<bool, bool> PodEndpointsChanged(const corev1::Pod& old_pod, const corev1::Pod& new_pod) {
  std::map<std::string, std::string> old_labels(old_pod.metadata().labels().begin(), old_pod.metadata().labels().end());
  std::map<std::string, std::string> new_labels(new_pod.metadata().labels().begin(), new_pod.metadata().labels().end());
  bool labels_changed = old_labels != new_labels || old_pod.spec().hostname() != new_pod.spec().hostname() ||
                        old_pod.spec().subdomain() != new_pod.spec().subdomain();
  if (!SameDeletionTimestamp(old_pod, new_pod)) return {true, labels_changed};
  if (api::IsPodReady(old_pod) != api::IsPodReady(new_pod)) return {true, labels_changed};
  if (PodIPs(old_pod) != PodIPs(new_pod)) return {true, labels_changed};
  // Name, namespace and uid are immutable; nodeName is set before the pod has an IP.
  return {false, labels_changed};
}

}  // namespace

bool HasSelector(const corev1::Service& service) { return !service.spec().selector().empty(); }

bool IsExternalName(const corev1::Service& service) { return service.spec().type() == "ExternalName"; }

api::LabelSelector ServiceSelector(const corev1::Service& service) {
  std::map<std::string, std::string> set(service.spec().selector().begin(), service.spec().selector().end());
  return api::LabelSelector::FromSet(set);
}

bool IsServiceIPSet(const corev1::Service& service) {
  return !service.spec().clusterip().empty() && service.spec().clusterip() != "None";
}

bool ShouldPodBeInEndpoints(const corev1::Pod& pod, bool include_terminating) {
  if (api::IsPodTerminal(pod)) return false;
  if (pod.status().podip().empty() && pod.status().podips().empty()) return false;
  if (!include_terminating && pod.metadata().has_deletiontimestamp()) return false;
  return true;
}

bool ShouldSetHostname(const corev1::Pod& pod, const corev1::Service& service) {
  return !pod.spec().hostname().empty() && pod.spec().subdomain() == service.metadata().name() &&
         service.metadata().namespace_() == pod.metadata().namespace_();
}

bool IsIPv6(std::string_view ip) { return ip.find(':') != std::string_view::npos; }

std::vector<std::string> PodIPs(const corev1::Pod& pod) {
  std::vector<std::string> out;
  for (const corev1::PodIP& ip : pod.status().podips()) out.push_back(ip.ip());
  if (out.empty() && !pod.status().podip().empty()) out.push_back(pod.status().podip());
  return out;
}

std::string ProtocolOf(const std::string& protocol) { return protocol.empty() ? "TCP" : protocol; }

std::optional<int32_t> FindPort(const corev1::Pod& pod, const corev1::ServicePort& service_port) {
  const auto& target = service_port.targetport();
  if (target.type() == 1) {
    const std::string protocol = ProtocolOf(service_port.protocol());
    auto find_in = [&](const corev1::Container& c) -> std::optional<int32_t> {
      for (const corev1::ContainerPort& p : c.ports()) {
        if (p.name() == target.strval() && ProtocolOf(p.protocol()) == protocol) return p.containerport();
      }
      return std::nullopt;
    };
    for (const corev1::Container& c : pod.spec().containers()) {
      if (auto port = find_in(c)) return port;
    }
    // Sidecars: init containers with restartPolicy Always.
    for (const corev1::Container& c : pod.spec().initcontainers()) {
      if (c.restartpolicy() != "Always") continue;
      if (auto port = find_in(c)) return port;
    }
    return std::nullopt;
  }
  // The API defaults an unset targetPort to the service port.
  return target.intval() != 0 ? target.intval() : service_port.port();
}

std::set<std::string> ServicesForPod(const client::Lister<corev1::Service>& services, const std::string& ns,
                                     const google::protobuf::Map<std::string, std::string>& labels) {
  std::set<std::string> out;
  for (const auto& service : services.Namespace(ns).List()) {
    // A Service without a selector selects nothing, not everything.
    if (!HasSelector(*service)) continue;
    if (ServiceSelector(*service).Matches(labels)) out.insert(api::ObjectKey(service->metadata()));
  }
  return out;
}

std::set<std::string> ServicesToUpdateOnPodChange(const client::Lister<corev1::Service>& services,
                                                  const corev1::Pod& old_pod, const corev1::Pod& new_pod) {
  // A resync: the service informer's own resync covers it.
  if (old_pod.metadata().resourceversion() == new_pod.metadata().resourceversion()) return {};
  auto [pod_changed, labels_changed] = PodEndpointsChanged(old_pod, new_pod);
  if (!pod_changed && !labels_changed) return {};
  const std::string& ns = new_pod.metadata().namespace_();
  std::set<std::string> now = ServicesForPod(services, ns, new_pod.metadata().labels());
  if (!labels_changed) return now;
  std::set<std::string> before = ServicesForPod(services, ns, old_pod.metadata().labels());
  std::set<std::string> out;
  if (pod_changed) {
    out = now;
    out.insert(before.begin(), before.end());
    return out;
  }
  // Only the labels changed: the Services the pod joined or left.
  for (const std::string& key : now) {
    if (!before.count(key)) out.insert(key);
  }
  for (const std::string& key : before) {
    if (!now.count(key)) out.insert(key);
  }
  return out;
}

std::string FormatRfc3339Nano(api::Timestamp t) {
  std::string whole = api::FormatRfc3339(api::Timestamp{t.seconds, 0});
  if (t.nanos <= 0 || t.nanos >= 1'000'000'000) return whole;
  std::string frac = std::to_string(t.nanos);
  frac.insert(0, 9 - frac.size(), '0');
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  // "2024-05-01T12:00:00Z" -> "2024-05-01T12:00:00.5Z"
  whole.insert(whole.size() - 1, "." + frac);
  return whole;
}

std::optional<api::Timestamp> TriggerTimeTracker::ComputeEndpointLastChangeTriggerTime(
    const corev1::Service& service, const std::vector<std::shared_ptr<const corev1::Pod>>& pods) {
  const std::string key = api::ObjectKey(service.metadata());
  ServiceState previous;
  bool was_known = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = states_.find(key);
    if (it != states_.end()) {
      previous = it->second;
      was_known = true;
    }
  }
  std::optional<api::Timestamp> min_changed;
  auto consider = [&](const api::Timestamp& t) {
    if (!min_changed || Before(t, *min_changed)) min_changed = t;
  };
  ServiceState next;
  for (const auto& pod : pods) {
    std::optional<api::Timestamp> t = PodTriggerTime(*pod);
    if (!t) continue;
    next.last_pod_trigger_times[pod->metadata().name()] = *t;
    auto it = previous.last_pod_trigger_times.find(pod->metadata().name());
    if (it == previous.last_pod_trigger_times.end() || Before(it->second, *t)) consider(*t);
  }
  std::optional<api::Timestamp> service_time = TimeOf(service.metadata().creationtimestamp());
  if (service_time) {
    next.last_service_trigger_time = *service_time;
    if (Before(previous.last_service_trigger_time, *service_time)) consider(*service_time);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    states_[key] = std::move(next);
  }
  // A Service seen for the first time: its creation is what triggered the endpoints.
  if (!was_known) return service_time;
  return min_changed;
}

void TriggerTimeTracker::DeleteService(const std::string& ns, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  states_.erase(api::ObjectKey(ns, name));
}

}  // namespace ck::controller_manager::endpoints
