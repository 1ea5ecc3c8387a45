#include "controller-manager/endpoints/endpoints_controller.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <google/protobuf/util/message_differencer.h>

#include "common/api/object.h"
#include "common/api/pod.h"
#include "common/base/log.h"

namespace ck::controller_manager {

namespace endpoints {

namespace {

std::string AddressKey(const corev1::EndpointAddress& a) { return a.ip() + '\x1f' + a.targetref().uid(); }

// Upstream LessEndpointAddress: by IP, then by target uid.
bool LessAddress(const corev1::EndpointAddress& a, const corev1::EndpointAddress& b) {
  if (a.ip() != b.ip()) return a.ip() < b.ip();
  if (!b.has_targetref()) return false;
  if (!a.has_targetref()) return true;
  return a.targetref().uid() < b.targetref().uid();
}

std::string PortKey(const corev1::EndpointPort& p) {
  std::string key = p.name() + '\x1f' + std::to_string(p.port()) + '\x1f' + ProtocolOf(p.protocol()) + '\x1f';
  key += p.has_appprotocol() ? "=" + p.appprotocol() : "-";
  return key;
}

}  // namespace

std::vector<corev1::EndpointSubset> RepackSubsets(const std::vector<corev1::EndpointSubset>& subsets) {
  // Each distinct port (or "no port") -> the addresses offering it and whether each is ready.
  struct PortAddresses {
    std::optional<corev1::EndpointPort> port;  // nullopt: the no-port sentinel
    std::map<std::string, bool> ready;         // by AddressKey
  };
  std::map<std::string, corev1::EndpointAddress> all;  // by AddressKey; the first one seen
  std::map<std::string, PortAddresses> by_port;        // by PortKey ("" for the sentinel)
  auto add = [&](const corev1::EndpointAddress& address, const std::optional<corev1::EndpointPort>& port,
                 bool ready) {
    std::string key = AddressKey(address);
    all.emplace(key, address);
    PortAddresses& entry = by_port[port ? "p" + PortKey(*port) : ""];
    entry.port = port;
    // Not ready wins over ready.
    auto it = entry.ready.find(key);
    if (it == entry.ready.end() || it->second) entry.ready[key] = ready;
  };
  for (const corev1::EndpointSubset& subset : subsets) {
    std::vector<std::optional<corev1::EndpointPort>> ports;
    for (const auto& p : subset.ports()) ports.emplace_back(p);
    if (ports.empty()) ports.emplace_back(std::nullopt);
    for (const auto& port : ports) {
      for (const auto& a : subset.addresses()) add(a, port, true);
      for (const auto& a : subset.notreadyaddresses()) add(a, port, false);
    }
  }

  // Ports offered by exactly the same addresses (with the same readiness) share a subset.
  struct Group {
    const std::map<std::string, bool>* ready = nullptr;
    std::vector<corev1::EndpointPort> ports;
  };
  std::map<std::string, Group> groups;
  for (const auto& [port_key, entry] : by_port) {
    std::string group_key;
    for (const auto& [address, ready] : entry.ready) group_key += address + (ready ? "\x1e" "1" : "\x1e" "0") + '\x1d';
    Group& group = groups[group_key];
    group.ready = &entry.ready;
    if (entry.port) group.ports.push_back(*entry.port);
  }

  std::vector<corev1::EndpointSubset> out;
  for (auto& [key, group] : groups) {
    std::vector<corev1::EndpointAddress> ready, not_ready;
    for (const auto& [address, is_ready] : *group.ready) (is_ready ? ready : not_ready).push_back(all.at(address));
    std::sort(ready.begin(), ready.end(), LessAddress);
    std::sort(not_ready.begin(), not_ready.end(), LessAddress);
    std::sort(group.ports.begin(), group.ports.end(),
              [](const corev1::EndpointPort& a, const corev1::EndpointPort& b) { return PortKey(a) < PortKey(b); });
    corev1::EndpointSubset subset;
    for (auto& a : ready) *subset.add_addresses() = std::move(a);
    for (auto& a : not_ready) *subset.add_notreadyaddresses() = std::move(a);
    for (auto& p : group.ports) *subset.add_ports() = std::move(p);
    out.push_back(std::move(subset));
  }
  return out;
}

bool TruncateEndpoints(corev1::Endpoints* endpoints) {
  int total_ready = 0, total_not_ready = 0;
  for (const auto& subset : endpoints->subsets()) {
    total_ready += subset.addresses_size();
    total_not_ready += subset.notreadyaddresses_size();
  }
  if (total_ready + total_not_ready <= kMaxEndpointsCapacity) return false;

  // Ready addresses are kept first: only when they alone exceed capacity are they cut (and every
  // not-ready address dropped); otherwise not-ready ones fill what capacity is left.
  bool truncate_ready = total_ready > kMaxEndpointsCapacity;
  int max = truncate_ready ? kMaxEndpointsCapacity : kMaxEndpointsCapacity - total_ready;
  int num_total = truncate_ready ? total_ready : total_not_ready;
  int can_be_added = max;
  for (auto& subset : *endpoints->mutable_subsets()) {
    int in_subset = truncate_ready ? subset.addresses_size() : subset.notreadyaddresses_size();
    // Each subset keeps its share, rounded up; the last ones get what is left.
    int to_be_added = static_cast<int>(std::ceil(static_cast<double>(in_subset) / num_total * max));
    to_be_added = std::min(to_be_added, can_be_added);
    if (truncate_ready) {
      while (subset.addresses_size() > to_be_added) subset.mutable_addresses()->RemoveLast();
      subset.clear_notreadyaddresses();
      can_be_added -= subset.addresses_size();
    } else {
      while (subset.notreadyaddresses_size() > to_be_added) subset.mutable_notreadyaddresses()->RemoveLast();
      can_be_added -= subset.notreadyaddresses_size();
    }
  }
  return true;
}

}  // namespace endpoints

namespace {

namespace ep = endpoints;
using google::protobuf::util::MessageDifferencer;

const client::ResourceInfo& EndpointsResource() {
  return client::SharedInformerFactory::ResourceOfMessage(corev1::Endpoints::descriptor()->full_name());
}

// Upstream podToEndpointAddressForService: the pod's IP of the Service's (first) family.
std::optional<corev1::EndpointAddress> PodToEndpointAddress(const corev1::Service& service, const corev1::Pod& pod) {
  bool v6;
  if (!service.spec().ipfamilies().empty()) {
    v6 = service.spec().ipfamilies(0) == "IPv6";
  } else if (ep::IsServiceIPSet(service)) {
    v6 = ep::IsIPv6(service.spec().clusterip());
  } else {
    // Headless without families: the pod's primary IP decides.
    std::vector<std::string> ips = ep::PodIPs(pod);
    v6 = !ips.empty() && ep::IsIPv6(ips[0]);
  }
  for (const std::string& ip : ep::PodIPs(pod)) {
    if (ep::IsIPv6(ip) != v6) continue;
    corev1::EndpointAddress address;
    address.set_ip(ip);
    // Upstream always sets nodeName; a pod with an IP is bound, so it is never empty in practice,
    // and an empty one would not pass validation.
    if (!pod.spec().nodename().empty()) address.set_nodename(pod.spec().nodename());
    auto* ref = address.mutable_targetref();
    ref->set_kind("Pod");
    ref->set_namespace_(pod.metadata().namespace_());
    ref->set_name(pod.metadata().name());
    ref->set_uid(pod.metadata().uid());
    return address;
  }
  return std::nullopt;
}

// One single-address subset, in `addresses` or `notReadyAddresses` (upstream addEndpointSubset).
corev1::EndpointSubset OneAddressSubset(const corev1::Pod& pod, const corev1::EndpointAddress& address,
                                        const corev1::EndpointPort* port, bool tolerate_unready) {
  corev1::EndpointSubset subset;
  if (tolerate_unready || api::IsPodReady(pod)) {
    *subset.add_addresses() = address;
  } else {
    *subset.add_notreadyaddresses() = address;
  }
  if (port != nullptr) *subset.add_ports() = *port;
  return subset;
}

bool SubsetsEqualIgnoringResourceVersion(const google::protobuf::RepeatedPtrField<corev1::EndpointSubset>& current,
                                         const google::protobuf::RepeatedPtrField<corev1::EndpointSubset>& desired) {
  if (current.size() != desired.size()) return false;
  for (int i = 0; i < current.size(); ++i) {
    corev1::EndpointSubset a = current[i];
    corev1::EndpointSubset b = desired[i];
    for (auto* subset : {&a, &b}) {
      for (auto* list : {subset->mutable_addresses(), subset->mutable_notreadyaddresses()}) {
        for (auto& address : *list) {
          if (address.has_targetref()) address.mutable_targetref()->clear_resourceversion();
        }
      }
    }
    if (!MessageDifferencer::Equivalent(a, b)) return false;
  }
  return true;
}

// Upstream capacityAnnotationSetCorrectly, on the truncated form: the over-capacity annotation is
// there exactly when the addresses had to be cut.
bool CapacityAnnotationSetCorrectly(const corev1::Endpoints& current, bool truncated) {
  auto it = current.metadata().annotations().find(std::string(ep::kAnnotationOverCapacity));
  if (!truncated) return it == current.metadata().annotations().end();
  return it != current.metadata().annotations().end() && it->second == "truncated";
}

std::map<std::string, std::string> LabelsOf(const google::protobuf::Map<std::string, std::string>& labels) {
  return {labels.begin(), labels.end()};
}

}  // namespace

EndpointsController::EndpointsController(ControllerContext& context)
    : ManagedController(client::ControllerOptions{.name = "endpoint",
                                                  .workers = context.settings.concurrent_endpoint_syncs,
                                                  .clock = &context.clock,
                                                  .registry = &context.metrics,
                                                  .max_retries = kMaxRetries}),
      api_(context.api),
      services_(context.informers.ForKind<corev1::Service>()),
      pods_(context.informers.ForKind<corev1::Pod>()),
      endpoints_(context.informers.ForKind<corev1::Endpoints>()),
      recorder_(context.Recorder("endpoint-controller")) {
  Handle(services_, client::TypedEventHandler<corev1::Service>{
      .on_add = [this](const auto& svc, bool) { Enqueue(api::ObjectKey(svc->metadata())); },
      .on_update = [this](const auto&, const auto& svc) { Enqueue(api::ObjectKey(svc->metadata())); },
      .on_delete = [this](const auto& svc, bool) { Enqueue(api::ObjectKey(svc->metadata())); },
  });
  Handle(pods_, client::TypedEventHandler<corev1::Pod>{
      .on_add = [this](const auto& pod, bool) { OnPod(*pod); },
      .on_update =
          [this](const auto& old_pod, const auto& pod) {
            for (const std::string& key : ep::ServicesToUpdateOnPodChange(services_.Lister(), *old_pod, *pod)) {
              Enqueue(key);
            }
          },
      .on_delete = [this](const auto& pod, bool) { OnPod(*pod); },
  });
  Handle(endpoints_, client::TypedEventHandler<corev1::Endpoints>{
      // The initial list is upstream's checkLeftoverEndpoints: every Endpoints gets one Sync, which
      // deletes those whose Service is gone. Leader-election records have no Service: skipped.
      .on_add =
          [this](const auto& e, bool is_initial_list) {
            if (!is_initial_list) return;
            if (e->metadata().annotations().contains(std::string(ep::kAnnotationLeaderElection))) return;
            Enqueue(api::ObjectKey(e->metadata()));
          },
      // A deleted Endpoints of a Service that still exists is made again.
      .on_delete = [this](const auto& e, bool) { Enqueue(api::ObjectKey(e->metadata())); },
  });
}

EndpointsController::~EndpointsController() {
  RemoveHandlers();
  Stop();
}

std::vector<client::SharedIndexInformer*> EndpointsController::Informers() const {
  return {&services_.Informer(), &pods_.Informer(), &endpoints_.Informer()};
}

void EndpointsController::OnPod(const corev1::Pod& pod) {
  for (const std::string& key : ep::ServicesForPod(services_.Lister(), pod.metadata().namespace_(), pod.metadata().labels())) {
    Enqueue(key);
  }
}

bool EndpointsController::IsStale(const corev1::Endpoints& endpoints) {
  std::lock_guard<std::mutex> lock(stale_mu_);
  auto it = stale_versions_.find(api::ObjectKey(endpoints.metadata()));
  return it != stale_versions_.end() && it->second == endpoints.metadata().resourceversion();
}

void EndpointsController::MarkStale(const corev1::Endpoints& endpoints) {
  std::lock_guard<std::mutex> lock(stale_mu_);
  stale_versions_[api::ObjectKey(endpoints.metadata())] = endpoints.metadata().resourceversion();
}

void EndpointsController::ForgetStale(const std::string& key) {
  std::lock_guard<std::mutex> lock(stale_mu_);
  stale_versions_.erase(key);
}

Status EndpointsController::Sync(const std::string& key) {
  CK_ASSIGN_OR_RETURN(auto ns_name, api::SplitObjectKey(key));
  const auto& [ns, name] = ns_name;
  Result<std::shared_ptr<const corev1::Service>> service = services_.Lister().Get(ns, name);
  if (!service.ok()) {
    if (service.status().code() != Code::kNotFound) return service.status();
    // The Service is gone: so are its Endpoints.
    Result<client::ObjectPtr> deleted = api_.Delete(EndpointsResource(), ns, name);
    if (!deleted.ok() && deleted.status().code() != Code::kNotFound) return deleted.status();
    trigger_times_.DeleteService(ns, name);
    ForgetStale(key);
    return Status::Ok();
  }
  const corev1::Service& svc = **service;
  // ExternalName Services get no endpoints; the Endpoints of a Service without a selector belong to
  // whoever writes them (the apiserver for `kubernetes`, a user for an external backend).
  if (ep::IsExternalName(svc) || !ep::HasSelector(svc)) return Status::Ok();

  std::vector<std::shared_ptr<const corev1::Pod>> pods = pods_.Lister().Namespace(ns).List(ep::ServiceSelector(svc));
  // Computed on every Sync, so the tracker's state moves on even when nothing is written.
  std::optional<api::Timestamp> trigger_time = trigger_times_.ComputeEndpointLastChangeTriggerTime(svc, pods);

  const bool tolerate_unready = svc.spec().publishnotreadyaddresses();
  std::vector<corev1::EndpointSubset> subsets;
  int ready = 0, not_ready = 0;
  for (const auto& pod : pods) {
    if (!ep::ShouldPodBeInEndpoints(*pod, /*include_terminating=*/tolerate_unready)) continue;
    std::optional<corev1::EndpointAddress> address = PodToEndpointAddress(svc, *pod);
    if (!address) {
      CK_VLOG(2, "Failed to find endpoint for service on pod", "service", key, "pod", pod->metadata().name());
      continue;
    }
    if (ep::ShouldSetHostname(*pod, svc)) address->set_hostname(pod->spec().hostname());
    bool counts_ready = tolerate_unready || api::IsPodReady(*pod);
    if (svc.spec().ports().empty()) {
      // A headless Service may have no ports: the addresses alone.
      if (svc.spec().clusterip() == "None") {
        subsets.push_back(OneAddressSubset(*pod, *address, nullptr, tolerate_unready));
        (counts_ready ? ready : not_ready)++;
      }
      continue;
    }
    for (const corev1::ServicePort& sp : svc.spec().ports()) {
      std::optional<int32_t> port = ep::FindPort(*pod, sp);
      if (!port) {
        CK_VLOG(4, "Failed to find port for service", "service", key, "pod", pod->metadata().name());
        continue;
      }
      corev1::EndpointPort epp;
      if (!sp.name().empty()) epp.set_name(sp.name());
      epp.set_port(*port);
      epp.set_protocol(ep::ProtocolOf(sp.protocol()));
      if (sp.has_appprotocol()) epp.set_appprotocol(sp.appprotocol());
      subsets.push_back(OneAddressSubset(*pod, *address, &epp, tolerate_unready));
      (counts_ready ? ready : not_ready)++;
    }
  }
  subsets = ep::RepackSubsets(subsets);

  // See whether anything changed.
  corev1::Endpoints current;
  Result<std::shared_ptr<const corev1::Endpoints>> cached = endpoints_.Lister().Get(ns, name);
  if (cached.ok()) {
    if (IsStale(**cached)) {
      return Unavailable("endpoints informer cache is out of date, resource version " +
                         (*cached)->metadata().resourceversion() + " already processed for endpoints " + key);
    }
    current = **cached;
  } else if (cached.status().code() != Code::kNotFound) {
    return cached.status();
  } else {
    current.mutable_metadata()->set_name(name);
    current.mutable_metadata()->set_namespace_(ns);
    *current.mutable_metadata()->mutable_labels() = svc.metadata().labels();
  }
  const bool create = current.metadata().resourceversion().empty();
  // What the Endpoints should hold, cut to capacity.
  corev1::Endpoints next = current;
  next.clear_subsets();
  for (auto& subset : subsets) *next.add_subsets() = std::move(subset);
  const bool truncated = ep::TruncateEndpoints(&next);
  // The headless label is the controller's own, not the Service's.
  std::map<std::string, std::string> compare_labels = LabelsOf(current.metadata().labels());
  compare_labels.erase(std::string(ep::kLabelHeadlessService));
  // Upstream compares the untruncated subsets, so Endpoints over capacity are rewritten (to the
  // same content) on every Sync; comparing the truncated form avoids those empty writes.
  if (!create && SubsetsEqualIgnoringResourceVersion(current.subsets(), next.subsets()) &&
      compare_labels == LabelsOf(svc.metadata().labels()) && CapacityAnnotationSetCorrectly(current, truncated)) {
    CK_VLOG(5, "endpoints are equal, skipping update", "service", key);
    return Status::Ok();
  }
  auto* labels = next.mutable_metadata()->mutable_labels();
  *labels = svc.metadata().labels();
  auto* annotations = next.mutable_metadata()->mutable_annotations();
  if (trigger_time) {
    (*annotations)[std::string(ep::kAnnotationLastChangeTriggerTime)] = ep::FormatRfc3339Nano(*trigger_time);
  } else {
    annotations->erase(std::string(ep::kAnnotationLastChangeTriggerTime));
  }
  if (truncated) {
    (*annotations)[std::string(ep::kAnnotationOverCapacity)] = "truncated";
  } else {
    annotations->erase(std::string(ep::kAnnotationOverCapacity));
  }
  if (!ep::IsServiceIPSet(svc)) {
    (*labels)[std::string(ep::kLabelHeadlessService)] = "";
  } else {
    labels->erase(std::string(ep::kLabelHeadlessService));
  }

  CK_VLOG(4, "Update endpoints", "service", key, "readyEndpoints", ready, "notreadyEndpoints", not_ready);
  Result<client::ObjectPtr> written =
      create ? api_.Create(EndpointsResource(), ns, next) : api_.Update(EndpointsResource(), ns, next);
  if (!written.ok()) {
    const Status& s = written.status();
    // A terminating namespace refuses creates for good: drop the Service.
    if (create && s.code() == Code::kForbidden && s.message().find("terminat") != std::string::npos) {
      return Status::Ok();
    }
    if (create) {
      recorder_.Event(next, client::kEventWarning, "FailedToCreateEndpoint",
                      "Failed to create endpoint for service " + key + ": " + s.message());
    } else {
      recorder_.Event(next, client::kEventWarning, "FailedToUpdateEndpoint",
                      "Failed to update endpoint " + key + ": " + s.message());
    }
    return s;
  }
  // Until the cache shows a newer version, the version just replaced means the cache lags.
  if (!create && api::MetaOf(**written).resourceversion() != current.metadata().resourceversion()) MarkStale(current);
  return Status::Ok();
}

}  // namespace ck::controller_manager
