#include "controller-manager/endpoints/endpointslice_reconciler.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/api/object.h"
#include "common/api/pod.h"
#include "common/base/log.h"
#include "common/client/cache/informer_factory.h"

namespace ck::controller_manager::endpoints {

namespace {

using Labels = std::map<std::string, std::string>;

const client::ResourceInfo& SliceResource() {
  return client::SharedInformerFactory::ResourceOfMessage(discv1::EndpointSlice::descriptor()->full_name());
}

bool IsReservedLabel(const std::string& key) {
  return key == kLabelServiceName || key == kLabelManagedBy || key == kLabelHeadlessService;
}

// Upstream setEndpointSliceLabels: the slice carries the Service's labels (the reserved ones
// aside), the headless label when the Service has no cluster IP, and its own service-name and
// managed-by labels. The bool says whether the Service's labels differ from the slice's.
std::pair<Labels, bool> SliceLabels(const discv1::EndpointSlice& slice, const corev1::Service& service,
                                    const std::string& controller_name) {
  Labels slice_labels, labels;
  for (const auto& [k, v] : slice.metadata().labels()) {
    if (!IsReservedLabel(k)) slice_labels[k] = v;
  }
  for (const auto& [k, v] : service.metadata().labels()) {
    if (!IsReservedLabel(k)) labels[k] = v;
  }
  bool changed = slice_labels != labels;
  if (!IsServiceIPSet(service)) labels[std::string(kLabelHeadlessService)] = "";
  labels[std::string(kLabelServiceName)] = service.metadata().name();
  labels[std::string(kLabelManagedBy)] = controller_name;
  return {labels, changed};
}

void SetLabels(discv1::EndpointSlice* slice, const Labels& labels) {
  auto* out = slice->mutable_metadata()->mutable_labels();
  out->clear();
  for (const auto& [k, v] : labels) (*out)[k] = v;
}

bool OwnedBy(const discv1::EndpointSlice& slice, const corev1::Service& service) {
  for (const auto& ref : slice.metadata().ownerreferences()) {
    if (ref.uid() == service.metadata().uid() && ref.kind() == "Service" && ref.apiversion() == "v1") return true;
  }
  return false;
}

// Upstream getSliceToFill: the slice closest to full once `count` endpoints are added, if any has
// room for all of them.
const discv1::EndpointSlice* SliceToFill(const std::map<std::string, const discv1::EndpointSlice*>& slices,
                                         size_t count, int max) {
  int closest_diff = max;
  const discv1::EndpointSlice* closest = nullptr;
  for (const auto& [name, slice] : slices) {
    int diff = max - static_cast<int>(count) - slice->endpoints_size();
    if (diff >= 0 && diff < closest_diff) {
      closest_diff = diff;
      closest = slice;
      if (diff == 0) break;
    }
  }
  return closest;
}

// Upstream placeholderSliceCompare: namespace, labels, no endpoints, no ports, address type.
bool SamePlaceholder(const discv1::EndpointSlice& a, const discv1::EndpointSlice& b) {
  Labels la(a.metadata().labels().begin(), a.metadata().labels().end());
  Labels lb(b.metadata().labels().begin(), b.metadata().labels().end());
  return a.metadata().namespace_() == b.metadata().namespace_() && la == lb && a.endpoints_size() == 0 &&
         b.endpoints_size() == 0 && a.ports_size() == 0 && b.ports_size() == 0 && a.addresstype() == b.addresstype();
}

bool HasHints(const discv1::EndpointSlice& slice) {
  return std::any_of(slice.endpoints().begin(), slice.endpoints().end(),
                     [](const discv1::Endpoint& e) { return e.has_hints(); });
}

// Upstream utilerrors.NewAggregate: one error as it is, several as "[a, b]".
Status Aggregate(const std::vector<Status>& errors) {
  if (errors.empty()) return Status::Ok();
  if (errors.size() == 1) return errors[0];
  std::string message = "[";
  for (size_t i = 0; i < errors.size(); ++i) message += (i ? ", " : "") + errors[i].message();
  return Status(errors[0].code(), message + "]");
}

void SetTriggerTime(discv1::EndpointSlice* slice, std::optional<api::Timestamp> trigger_time) {
  auto* annotations = slice->mutable_metadata()->mutable_annotations();
  if (trigger_time) {
    (*annotations)[std::string(kAnnotationLastChangeTriggerTime)] = FormatRfc3339Nano(*trigger_time);
  } else {
    annotations->erase(std::string(kAnnotationLastChangeTriggerTime));
  }
}

bool SameOptional(bool has_a, const std::string& a, bool has_b, const std::string& b) {
  return has_a == has_b && (!has_a || a == b);
}
bool SameOptional(bool has_a, bool a, bool has_b, bool b) { return has_a == has_b && (!has_a || a == b); }

std::string PortKey(const discv1::EndpointPort& p) {
  // The API defaults name to "" and protocol to TCP, so an unset field equals its default.
  std::string key = p.name();
  key += '\x1f' + ProtocolOf(p.protocol()) + '\x1f';
  key += p.has_port() ? std::to_string(p.port()) : "-";
  key += '\x1f';
  key += p.has_appprotocol() ? "=" + p.appprotocol() : "-";
  return key;
}

}  // namespace

std::string EndpointIdentity(const discv1::Endpoint& endpoint) {
  std::vector<std::string> addresses(endpoint.addresses().begin(), endpoint.addresses().end());
  std::sort(addresses.begin(), addresses.end());
  std::string key;
  for (const std::string& a : addresses) key += a + ",";
  key += '\x1f' + endpoint.hostname() + '\x1f';
  if (endpoint.has_targetref()) key += endpoint.targetref().namespace_() + "/" + endpoint.targetref().name();
  return key;
}

bool EndpointsEqualBeyondHash(const discv1::Endpoint& a, const discv1::Endpoint& b) {
  if (!SameOptional(a.has_nodename(), a.nodename(), b.has_nodename(), b.nodename())) return false;
  if (!SameOptional(a.has_zone(), a.zone(), b.has_zone(), b.zone())) return false;
  const auto& ca = a.conditions();
  const auto& cb = b.conditions();
  if (!SameOptional(ca.has_ready(), ca.ready(), cb.has_ready(), cb.ready())) return false;
  if (!SameOptional(ca.has_serving(), ca.serving(), cb.has_serving(), cb.serving())) return false;
  if (!SameOptional(ca.has_terminating(), ca.terminating(), cb.has_terminating(), cb.terminating())) return false;
  if (a.has_targetref() != b.has_targetref()) return false;
  if (a.has_targetref()) {
    const auto& ra = a.targetref();
    const auto& rb = b.targetref();
    // The pod's resourceVersion does not matter (upstream semanticIgnoreResourceVersion).
    if (ra.kind() != rb.kind() || ra.namespace_() != rb.namespace_() || ra.name() != rb.name() ||
        ra.uid() != rb.uid() || ra.apiversion() != rb.apiversion() || ra.fieldpath() != rb.fieldpath()) {
      return false;
    }
  }
  return true;
}

std::string PortMapKey(const std::vector<discv1::EndpointPort>& ports) {
  std::vector<std::string> keys;
  for (const auto& p : ports) keys.push_back(PortKey(p));
  std::sort(keys.begin(), keys.end());
  std::string out;
  for (const std::string& k : keys) out += k + '\x1e';
  return out;
}

discv1::Endpoint PodToEndpoint(const corev1::Pod& pod, const corev1::Node* node, const corev1::Service& service,
                               const std::string& address_type) {
  discv1::Endpoint ep;
  for (const std::string& ip : PodIPs(pod)) {
    if (IsIPv6(ip) == (address_type == "IPv6")) ep.add_addresses(ip);
  }
  bool serving = api::IsPodReady(pod);
  bool terminating = pod.metadata().has_deletiontimestamp();
  // A terminating pod is never ready, unless publishNotReadyAddresses says to publish it anyway.
  bool ready = service.spec().publishnotreadyaddresses() || (serving && !terminating);
  ep.mutable_conditions()->set_ready(ready);
  ep.mutable_conditions()->set_serving(serving);
  ep.mutable_conditions()->set_terminating(terminating);
  auto* ref = ep.mutable_targetref();
  ref->set_kind("Pod");
  ref->set_namespace_(pod.metadata().namespace_());
  ref->set_name(pod.metadata().name());
  ref->set_uid(pod.metadata().uid());
  if (!pod.spec().nodename().empty()) ep.set_nodename(pod.spec().nodename());
  if (node != nullptr) {
    auto zone = node->metadata().labels().find(std::string(kLabelTopologyZone));
    if (zone != node->metadata().labels().end() && !zone->second.empty()) ep.set_zone(zone->second);
  }
  if (ShouldSetHostname(pod, service)) ep.set_hostname(pod.spec().hostname());
  return ep;
}

std::vector<discv1::EndpointPort> EndpointPortsFor(const corev1::Service& service, const corev1::Pod& pod) {
  std::vector<discv1::EndpointPort> out;
  // A headless Service may have no ports.
  if (service.spec().ports().empty() && service.spec().clusterip() == "None") return out;
  for (const corev1::ServicePort& sp : service.spec().ports()) {
    std::optional<int32_t> port = FindPort(pod, sp);
    if (!port) {
      CK_VLOG(4, "Failed to find port for service", "service", api::ObjectKey(service.metadata()), "pod",
              pod.metadata().name(), "port", sp.name());
      continue;
    }
    discv1::EndpointPort ep;
    ep.set_name(sp.name());
    ep.set_port(*port);
    ep.set_protocol(ProtocolOf(sp.protocol()));
    if (sp.has_appprotocol()) ep.set_appprotocol(sp.appprotocol());
    out.push_back(std::move(ep));
  }
  return out;
}

std::vector<std::string> AddressTypesForService(const corev1::Service& service) {
  std::set<std::string> types;
  for (const std::string& family : service.spec().ipfamilies()) {
    if (family == "IPv4" || family == "IPv6") types.insert(family);
  }
  if (types.empty()) {
    if (IsServiceIPSet(service)) {
      types.insert(IsIPv6(service.spec().clusterip()) ? "IPv6" : "IPv4");
    } else {
      // Headless without families (an undefaulted Service): assume both until the API says.
      types = {"IPv4", "IPv6"};
    }
  }
  return {types.begin(), types.end()};  // "IPv4" before "IPv6"
}

EndpointSliceReconciler::EndpointSliceReconciler(client::ApiClient& api, client::Lister<corev1::Node> nodes,
                                                 int max_endpoints_per_slice, EndpointSliceTracker& tracker,
                                                 std::string controller_name)
    : api_(api),
      nodes_(nodes),
      max_endpoints_per_slice_(std::max(1, max_endpoints_per_slice)),
      tracker_(tracker),
      controller_name_(std::move(controller_name)) {}

bool EndpointSliceReconciler::ManagedByController(const discv1::EndpointSlice& slice) const {
  auto it = slice.metadata().labels().find(std::string(kLabelManagedBy));
  return it != slice.metadata().labels().end() && it->second == controller_name_;
}

Status EndpointSliceReconciler::Reconcile(const corev1::Service& service, const std::vector<PodPtr>& pods,
                                          const std::vector<SlicePtr>& existing,
                                          std::optional<api::Timestamp> trigger_time) {
  std::vector<std::string> types = AddressTypesForService(service);
  std::map<std::string, std::vector<SlicePtr>> by_type;
  std::vector<SlicePtr> unsupported;
  for (const SlicePtr& slice : existing) {
    if (std::find(types.begin(), types.end(), slice->addresstype()) == types.end()) {
      unsupported.push_back(slice);
    } else {
      by_type[slice->addresstype()].push_back(slice);
    }
  }
  std::vector<Status> errors;
  for (const std::string& type : types) {
    Status s = ReconcileByAddressType(service, pods, by_type[type], trigger_time, type);
    if (!s.ok()) errors.push_back(s);
  }
  // Slices of an address type the Service no longer has.
  for (const SlicePtr& slice : unsupported) {
    Status s = DeleteSlice(service, *slice);
    if (!s.ok()) {
      errors.push_back(s.WithPrefix("error deleting " + slice->metadata().name() + " EndpointSlice for Service " +
                                    api::ObjectKey(service.metadata())));
    }
  }
  return Aggregate(errors);
}

Status EndpointSliceReconciler::ReconcileByAddressType(const corev1::Service& service, const std::vector<PodPtr>& pods,
                                                       const std::vector<SlicePtr>& existing_unsorted,
                                                       std::optional<api::Timestamp> trigger_time,
                                                       const std::string& address_type) {
  std::vector<Status> errors;
  Plan plan;
  std::vector<SlicePtr> existing = existing_unsorted;
  std::sort(existing.begin(), existing.end(),
            [](const SlicePtr& a, const SlicePtr& b) { return a->metadata().name() < b->metadata().name(); });

  // Existing state: the Service's slices by port set; slices of another Service of the same name
  // (an older uid) go.
  std::map<std::string, std::vector<const discv1::EndpointSlice*>> existing_by_ports;
  for (const SlicePtr& slice : existing) {
    if (OwnedBy(*slice, service)) {
      std::vector<discv1::EndpointPort> ports(slice->ports().begin(), slice->ports().end());
      existing_by_ports[PortMapKey(ports)].push_back(slice.get());
    } else {
      plan.remove.push_back(*slice);
    }
  }

  // Desired state: one endpoint per pod, grouped by the ports it resolves to.
  std::map<std::string, std::map<std::string, discv1::Endpoint>> desired_by_ports;
  std::map<std::string, std::vector<discv1::EndpointPort>> ports_by_key;
  for (const PodPtr& pod : pods) {
    if (!ShouldPodBeInEndpoints(*pod, /*include_terminating=*/true)) continue;
    std::vector<discv1::EndpointPort> ports = EndpointPortsFor(service, *pod);
    std::string key = PortMapKey(ports);
    auto& desired = desired_by_ports[key];
    ports_by_key.emplace(key, ports);

    Result<std::shared_ptr<const corev1::Node>> node = nodes_.Get(pod->spec().nodename());
    if (!node.ok() && node.status().code() != Code::kNotFound) return node.status();
    if (!node.ok() && !service.spec().publishnotreadyaddresses()) {
      // Leave the pod out and retry later: a pod bound to a Node that does not exist (yet) must not
      // hold the whole Service back. publishNotReadyAddresses publishes it anyway.
      CK_LOG_INFO("skipping Pod for Service, Node not found", "pod", pod->metadata().name(), "service",
                  api::ObjectKey(service.metadata()), "node", pod->spec().nodename());
      errors.push_back(Unavailable("skipping Pod " + pod->metadata().name() + " for Service " +
                                   api::ObjectKey(service.metadata()) + ": Node " + pod->spec().nodename() +
                                   " Not Found"));
      continue;
    }
    discv1::Endpoint endpoint = PodToEndpoint(*pod, node.ok() ? node->get() : nullptr, service, address_type);
    if (endpoint.addresses_size() > 0) desired.emplace(EndpointIdentity(endpoint), std::move(endpoint));
  }

  for (auto& [key, desired] : desired_by_ports) {
    auto existing_it = existing_by_ports.find(key);
    std::vector<const discv1::EndpointSlice*> slices;
    if (existing_it != existing_by_ports.end()) slices = existing_it->second;
    ReconcileByPortMapping(service, slices, std::move(desired), ports_by_key[key], address_type, &plan);
  }
  // Port sets no pod has any more.
  for (const auto& [key, slices] : existing_by_ports) {
    if (desired_by_ports.count(key)) continue;
    for (const discv1::EndpointSlice* slice : slices) plan.remove.push_back(*slice);
  }

  // A Service with no endpoints of this type keeps one empty placeholder slice.
  if (existing.size() == plan.remove.size() && plan.create.empty()) {
    discv1::EndpointSlice placeholder = NewEndpointSlice(service, {}, address_type);
    if (plan.remove.size() == 1 && SamePlaceholder(plan.remove[0], placeholder)) {
      plan.remove.clear();  // the placeholder is already there
    } else {
      plan.create.push_back(std::move(placeholder));
    }
  }

  Status s = Finalize(service, std::move(plan), trigger_time);
  if (!s.ok()) errors.push_back(s);
  return Aggregate(errors);
}

void EndpointSliceReconciler::ReconcileByPortMapping(const corev1::Service& service,
                                                     const std::vector<const discv1::EndpointSlice*>& existing,
                                                     std::map<std::string, discv1::Endpoint> desired,
                                                     const std::vector<discv1::EndpointPort>& ports,
                                                     const std::string& address_type, Plan* plan) const {
  const int max = max_endpoints_per_slice_;
  std::map<std::string, discv1::EndpointSlice> to_update;          // by name: the new version
  std::map<std::string, const discv1::EndpointSlice*> unchanged;  // by name

  // 1. Keep the endpoints still wanted (in their new version), drop the others.
  for (const discv1::EndpointSlice* slice : existing) {
    std::vector<discv1::Endpoint> kept;
    bool endpoint_updated = false;
    for (const discv1::Endpoint& endpoint : slice->endpoints()) {
      auto it = desired.find(EndpointIdentity(endpoint));
      if (it == desired.end()) continue;
      if (!EndpointsEqualBeyondHash(it->second, endpoint)) endpoint_updated = true;
      kept.push_back(std::move(it->second));
      desired.erase(it);
    }
    auto [labels, labels_changed] = SliceLabels(*slice, service, controller_name_);
    if (endpoint_updated || static_cast<int>(kept.size()) != slice->endpoints_size()) {
      if (kept.empty()) {
        plan->remove.push_back(*slice);
      } else {
        discv1::EndpointSlice next = *slice;
        next.clear_endpoints();
        for (discv1::Endpoint& e : kept) *next.add_endpoints() = std::move(e);
        SetLabels(&next, labels);
        to_update.emplace(slice->metadata().name(), std::move(next));
      }
    } else if (labels_changed) {
      discv1::EndpointSlice next = *slice;
      SetLabels(&next, labels);
      to_update.emplace(slice->metadata().name(), std::move(next));
    } else {
      unchanged.emplace(slice->metadata().name(), slice);
    }
  }

  // 2. New endpoints go first into the slices being written anyway, fullest first.
  if (!desired.empty() && !to_update.empty()) {
    std::vector<discv1::EndpointSlice*> slices;
    for (auto& [name, slice] : to_update) slices.push_back(&slice);
    std::stable_sort(slices.begin(), slices.end(), [](const discv1::EndpointSlice* a, const discv1::EndpointSlice* b) {
      return a->endpoints_size() > b->endpoints_size();
    });
    for (discv1::EndpointSlice* slice : slices) {
      while (!desired.empty() && slice->endpoints_size() < max) {
        *slice->add_endpoints() = std::move(desired.begin()->second);
        desired.erase(desired.begin());
      }
    }
  }

  // 3. The rest fits into the unchanged slice closest to full, or into new slices.
  while (!desired.empty()) {
    const discv1::EndpointSlice* fit = nullptr;
    if (static_cast<int>(desired.size()) < max && !unchanged.empty()) fit = SliceToFill(unchanged, desired.size(), max);
    discv1::EndpointSlice slice = fit != nullptr ? *fit : NewEndpointSlice(service, ports, address_type);
    while (!desired.empty() && slice.endpoints_size() < max) {
      *slice.add_endpoints() = std::move(desired.begin()->second);
      desired.erase(desired.begin());
    }
    if (fit != nullptr) {
      unchanged.erase(slice.metadata().name());
      std::string name = slice.metadata().name();
      to_update.emplace(name, std::move(slice));
    } else {
      plan->create.push_back(std::move(slice));
    }
  }

  // Hints are not set by this controller: slices left with hints get them removed (upstream
  // RemoveHintsFromSlices when topology hints are off).
  for (const auto& [name, slice] : unchanged) {
    if (!HasHints(*slice)) continue;
    discv1::EndpointSlice next = *slice;
    for (auto& e : *next.mutable_endpoints()) e.clear_hints();
    to_update.emplace(name, std::move(next));
  }
  for (auto& [name, slice] : to_update) {
    for (auto& e : *slice.mutable_endpoints()) e.clear_hints();
    plan->update.push_back(std::move(slice));
  }
}

Status EndpointSliceReconciler::Finalize(const corev1::Service& service, Plan plan,
                                         std::optional<api::Timestamp> trigger_time) {
  const std::string& ns = service.metadata().namespace_();
  const std::string service_key = api::ObjectKey(service.metadata());
  // Creates become updates of slices that would otherwise be deleted (same address type, owned by
  // this Service: never a slice of an older Service of the same name).
  for (size_t i = 0; i < plan.remove.size() && !plan.create.empty();) {
    discv1::EndpointSlice& doomed = plan.remove[i];
    discv1::EndpointSlice& slice = plan.create.back();
    if (doomed.addresstype() == slice.addresstype() && OwnedBy(doomed, service)) {
      slice.mutable_metadata()->set_name(doomed.metadata().name());
      plan.update.push_back(std::move(slice));
      plan.create.pop_back();
      plan.remove.erase(plan.remove.begin() + static_cast<ptrdiff_t>(i));
    } else {
      ++i;
    }
  }

  // No new slices for a Service being deleted: they would race the garbage collector.
  if (!service.metadata().has_deletiontimestamp()) {
    for (discv1::EndpointSlice& slice : plan.create) {
      SetTriggerTime(&slice, trigger_time);
      Result<client::ObjectPtr> created = api_.Create(SliceResource(), ns, slice);
      if (!created.ok()) {
        // A terminating namespace refuses creates for good: drop the Service.
        if (created.status().code() == Code::kForbidden &&
            created.status().message().find("terminat") != std::string::npos) {
          return Status::Ok();
        }
        return created.status().WithPrefix("failed to create EndpointSlice for Service " + service_key);
      }
      tracker_.Update(static_cast<const discv1::EndpointSlice&>(**created));
      CK_VLOG(4, "Created EndpointSlice", "service", service_key, "slice",
              api::MetaOf(**created).name());
    }
  }
  for (discv1::EndpointSlice& slice : plan.update) {
    SetTriggerTime(&slice, trigger_time);
    Result<client::ObjectPtr> updated = api_.Update(SliceResource(), ns, slice);
    if (!updated.ok()) {
      return updated.status().WithPrefix("failed to update " + slice.metadata().name() +
                                         " EndpointSlice for Service " + service_key);
    }
    tracker_.Update(static_cast<const discv1::EndpointSlice&>(**updated));
  }
  for (const discv1::EndpointSlice& slice : plan.remove) {
    Status s = DeleteSlice(service, slice);
    if (!s.ok()) {
      return s.WithPrefix("failed to delete " + slice.metadata().name() + " EndpointSlice for Service " + service_key);
    }
  }
  return Status::Ok();
}

Status EndpointSliceReconciler::DeleteSlice(const corev1::Service& service, const discv1::EndpointSlice& slice) {
  Result<client::ObjectPtr> deleted = api_.Delete(SliceResource(), service.metadata().namespace_(),
                                                  slice.metadata().name());
  if (!deleted.ok()) return deleted.status().code() == Code::kNotFound ? Status::Ok() : deleted.status();
  tracker_.ExpectDeletion(slice);
  return Status::Ok();
}

discv1::EndpointSlice EndpointSliceReconciler::NewEndpointSlice(const corev1::Service& service,
                                                                const std::vector<discv1::EndpointPort>& ports,
                                                                const std::string& address_type) const {
  discv1::EndpointSlice slice;
  auto* meta = slice.mutable_metadata();
  meta->set_generatename(service.metadata().name() + "-");
  meta->set_namespace_(service.metadata().namespace_());
  *meta->add_ownerreferences() = api::NewControllerRef(service.metadata(), "v1", "Service");
  for (const auto& p : ports) *slice.add_ports() = p;
  slice.set_addresstype(address_type);
  SetLabels(&slice, SliceLabels(slice, service, controller_name_).first);
  return slice;
}

}  // namespace ck::controller_manager::endpoints
