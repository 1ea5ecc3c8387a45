// PodInfo, NodeInfo and their parts (types.h), with upstream framework/types.go's rules.
#include "scheduler/framework/types.h"

#include <algorithm>
#include <atomic>

#include "common/api/resources.h"

namespace ck::scheduler {

namespace {

constexpr std::string_view kResourceCpu = "cpu";
constexpr std::string_view kResourceMemory = "memory";
constexpr std::string_view kResourceEphemeralStorage = "ephemeral-storage";
constexpr std::string_view kResourcePods = "pods";

Resource FromResourceList(const api::ResourceList& list) {
  Resource r;
  for (const auto& [name, q] : list) {
    if (name == kResourceCpu) {
      r.milli_cpu = q.MilliValue();
    } else if (name == kResourcePods) {
      r.allowed_pod_number = q.Value();
    } else {
      r.Set(name, q.Value());
    }
  }
  return r;
}

std::vector<HostPort> HostPortsOf(const corev1::Pod& pod) {
  std::vector<HostPort> out;
  auto add = [&](const corev1::Container& c) {
    for (const auto& p : c.ports()) {
      if (p.hostport() <= 0) continue;
      out.push_back(HostPort{p.hostip().empty() ? "0.0.0.0" : p.hostip(), p.protocol().empty() ? "TCP" : p.protocol(),
                             p.hostport()});
    }
  };
  // Sidecars (restartable init containers) run beside the containers and hold their ports.
  for (const auto& c : pod.spec().initcontainers()) {
    if (c.restartpolicy() == "Always") add(c);
  }
  for (const auto& c : pod.spec().containers()) add(c);
  return out;
}

Result<AffinityTerm> ParseTerm(const corev1::Pod& pod, const corev1::PodAffinityTerm& term) {
  AffinityTerm out;
  out.topology_key = term.topologykey();
  auto selector = api::LabelSelector::FromProto(term.has_labelselector() ? &term.labelselector() : nullptr);
  if (!selector.ok()) return selector.status();
  out.selector = std::move(*selector);
  // Neither namespaces nor a namespaceSelector: the pod's own namespace (GetNamespacesFromPodAffinityTerm).
  if (term.namespaces().empty() && !term.has_namespaceselector()) {
    out.namespaces.insert(pod.metadata().namespace_());
  } else {
    out.namespaces.insert(term.namespaces().begin(), term.namespaces().end());
  }
  auto ns_selector = api::LabelSelector::FromProto(term.has_namespaceselector() ? &term.namespaceselector() : nullptr);
  if (!ns_selector.ok()) return ns_selector.status();
  out.namespace_selector = std::move(*ns_selector);
  return out;
}

template <typename Terms>
Result<std::vector<AffinityTerm>> ParseTerms(const corev1::Pod& pod, const Terms& terms) {
  std::vector<AffinityTerm> out;
  out.reserve(terms.size());
  for (const auto& t : terms) {
    auto parsed = ParseTerm(pod, t);
    if (!parsed.ok()) return parsed.status();
    out.push_back(std::move(*parsed));
  }
  return out;
}

template <typename Terms>
Result<std::vector<WeightedAffinityTerm>> ParseWeightedTerms(const corev1::Pod& pod, const Terms& terms) {
  std::vector<WeightedAffinityTerm> out;
  out.reserve(terms.size());
  for (const auto& t : terms) {
    auto parsed = ParseTerm(pod, t.podaffinityterm());
    if (!parsed.ok()) return parsed.status();
    out.push_back(WeightedAffinityTerm{std::move(*parsed), t.weight()});
  }
  return out;
}

std::atomic<int64_t> generation_counter{0};

}  // namespace

int64_t NextGeneration() { return generation_counter.fetch_add(1, std::memory_order_relaxed) + 1; }

void Resource::Add(const Resource& other) {
  milli_cpu += other.milli_cpu;
  memory += other.memory;
  ephemeral_storage += other.ephemeral_storage;
  allowed_pod_number += other.allowed_pod_number;
  for (const auto& [name, v] : other.scalar) scalar[name] += v;
}

void Resource::Sub(const Resource& other) {
  auto sub = [](int64_t& a, int64_t b) { a = std::max<int64_t>(0, a - b); };
  sub(milli_cpu, other.milli_cpu);
  sub(memory, other.memory);
  sub(ephemeral_storage, other.ephemeral_storage);
  sub(allowed_pod_number, other.allowed_pod_number);
  for (const auto& [name, v] : other.scalar) {
    auto it = scalar.find(name);
    if (it != scalar.end()) sub(it->second, v);
  }
}

int64_t Resource::Get(std::string_view name) const {
  if (name == kResourceCpu) return milli_cpu;
  if (name == kResourceMemory) return memory;
  if (name == kResourceEphemeralStorage) return ephemeral_storage;
  if (name == kResourcePods) return allowed_pod_number;
  auto it = scalar.find(std::string(name));
  return it == scalar.end() ? 0 : it->second;
}

void Resource::Set(std::string_view name, int64_t value) {
  if (name == kResourceCpu) {
    milli_cpu = value;
  } else if (name == kResourceMemory) {
    memory = value;
  } else if (name == kResourceEphemeralStorage) {
    ephemeral_storage = value;
  } else if (name == kResourcePods) {
    allowed_pod_number = value;
  } else if (IsScalarResourceName(name)) {
    scalar[std::string(name)] = value;
  }
}

Resource Resource::FromProto(
    const google::protobuf::Map<std::string, ::k8s::io::apimachinery::pkg::api::resource::Quantity>& list) {
  auto parsed = api::FromProto(list);
  if (!parsed.ok()) return Resource{};
  return FromResourceList(*parsed);
}

bool IsExtendedResourceName(std::string_view name) {
  // A domain-prefixed name outside kubernetes.io/ (v1helper.IsExtendedResourceName), not requests.*.
  auto slash = name.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view domain = name.substr(0, slash);
  if (domain == "kubernetes.io" || domain.ends_with(".kubernetes.io")) return false;
  return !name.starts_with("requests.");
}

bool IsScalarResourceName(std::string_view name) {
  return IsExtendedResourceName(name) || name.starts_with("hugepages-") || name.starts_with("attachable-volumes-");
}

bool AffinityTerm::Matches(const corev1::Pod& pod, const std::map<std::string, std::string>* ns_labels) const {
  static const std::map<std::string, std::string> kNoLabels;
  if (namespaces.count(pod.metadata().namespace_()) > 0 || namespace_selector.Matches(ns_labels ? *ns_labels : kNoLabels)) {
    return selector.Matches(pod.metadata().labels());
  }
  return false;
}

void HostPortInfo::Add(const HostPort& p) { ++ports_[p.ip][{p.protocol, p.port}]; }

void HostPortInfo::Remove(const HostPort& p) {
  auto ip = ports_.find(p.ip);
  if (ip == ports_.end()) return;
  auto it = ip->second.find({p.protocol, p.port});
  if (it == ip->second.end()) return;
  if (--it->second <= 0) ip->second.erase(it);
  if (ip->second.empty()) ports_.erase(ip);
}

bool HostPortInfo::CheckConflict(const HostPort& p) const {
  const std::pair<std::string, int32_t> key{p.protocol, p.port};
  if (p.ip == "0.0.0.0") {
    for (const auto& [ip, set] : ports_) {
      if (set.count(key) > 0) return true;
    }
    return false;
  }
  for (const std::string& ip : {p.ip, std::string("0.0.0.0")}) {
    auto it = ports_.find(ip);
    if (it != ports_.end() && it->second.count(key) > 0) return true;
  }
  return false;
}

size_t HostPortInfo::size() const {
  size_t n = 0;
  for (const auto& [ip, set] : ports_) n += set.size();
  return n;
}

Result<PodInfoPtr> PodInfo::Create(PodPtr pod) {
  auto info = std::make_shared<PodInfo>();
  const corev1::Pod& p = *pod;
  auto requests = api::PodRequests(p);
  if (!requests.ok()) return requests.status();
  info->requests = FromResourceList(*requests);
  api::PodResourcesOptions non_zero;
  non_zero.non_missing_container_requests = {
      {"cpu", api::Quantity::FromMilli(kDefaultMilliCpuRequest)},
      {"memory", api::Quantity::FromInt(kDefaultMemoryRequest, api::Quantity::Format::kBinarySI)}};
  auto nz = api::PodRequests(p, non_zero);
  if (!nz.ok()) return nz.status();
  info->non_zero_requests = FromResourceList(*nz);
  info->host_ports = HostPortsOf(p);
  if (p.spec().has_affinity()) {
    const auto& a = p.spec().affinity();
    auto fail = [&](const ck::Status& s) {
      return ck::Status(Code::kBadRequest, "pod " + p.metadata().namespace_() + "/" + p.metadata().name() +
                                               " has an invalid affinity term: " + s.message());
    };
    if (a.has_podaffinity()) {
      auto req = ParseTerms(p, a.podaffinity().requiredduringschedulingignoredduringexecution());
      if (!req.ok()) return fail(req.status());
      info->required_affinity_terms = std::move(*req);
      auto pref = ParseWeightedTerms(p, a.podaffinity().preferredduringschedulingignoredduringexecution());
      if (!pref.ok()) return fail(pref.status());
      info->preferred_affinity_terms = std::move(*pref);
    }
    if (a.has_podantiaffinity()) {
      auto req = ParseTerms(p, a.podantiaffinity().requiredduringschedulingignoredduringexecution());
      if (!req.ok()) return fail(req.status());
      info->required_anti_affinity_terms = std::move(*req);
      auto pref = ParseWeightedTerms(p, a.podantiaffinity().preferredduringschedulingignoredduringexecution());
      if (!pref.ok()) return fail(pref.status());
      info->preferred_anti_affinity_terms = std::move(*pref);
    }
  }
  info->pod = std::move(pod);
  return PodInfoPtr(std::move(info));
}

Result<PodInfoPtr> PodInfo::Create(const corev1::Pod& pod) { return Create(std::make_shared<const corev1::Pod>(pod)); }

std::string PodInfo::Key() const { return ns() + "/" + name(); }

const std::string& NodeInfo::name() const {
  static const std::string kEmpty;
  return node_ ? node_->metadata().name() : kEmpty;
}

void NodeInfo::SetNode(NodePtr node) {
  node_ = std::move(node);
  allocatable_ = node_ ? Resource::FromProto(node_->status().allocatable()) : Resource{};
  generation_ = NextGeneration();
}

void NodeInfo::AddPod(PodInfoPtr pod) {
  requested_.Add(pod->requests);
  non_zero_requested_.Add(pod->non_zero_requests);
  for (const auto& p : pod->host_ports) used_ports_.Add(p);
  bool affinity = !pod->required_affinity_terms.empty() || !pod->required_anti_affinity_terms.empty() ||
                  !pod->preferred_affinity_terms.empty() || !pod->preferred_anti_affinity_terms.empty();
  if (affinity) pods_with_affinity_.push_back(pod);
  if (!pod->required_anti_affinity_terms.empty()) pods_with_required_anti_affinity_.push_back(pod);
  pods_.push_back(std::move(pod));
  generation_ = NextGeneration();
}

namespace {
bool EraseByUid(std::vector<PodInfoPtr>& list, const std::string& uid) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i]->uid() == uid) {
      // Order does not matter: swap with the last (upstream removeFromSlice).
      list[i] = std::move(list.back());
      list.pop_back();
      return true;
    }
  }
  return false;
}
}  // namespace

ck::Status NodeInfo::RemovePod(const std::string& uid) {
  PodInfoPtr found;
  for (const auto& p : pods_) {
    if (p->uid() == uid) {
      found = p;
      break;
    }
  }
  if (!found) return ck::Status(Code::kNotFound, "no pod with uid " + uid + " on node " + name());
  EraseByUid(pods_with_affinity_, uid);
  EraseByUid(pods_with_required_anti_affinity_, uid);
  EraseByUid(pods_, uid);
  requested_.Sub(found->requests);
  non_zero_requested_.Sub(found->non_zero_requests);
  for (const auto& p : found->host_ports) used_ports_.Remove(p);
  generation_ = NextGeneration();
  return ck::Status::Ok();
}

bool NodeInfo::HasPod(const std::string& uid) const {
  return std::any_of(pods_.begin(), pods_.end(), [&](const PodInfoPtr& p) { return p->uid() == uid; });
}

}  // namespace ck::scheduler
