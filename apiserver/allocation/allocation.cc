#include "apiserver/allocation/allocation.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "apiserver/allocation/service_fields.h"
#include "apiserver/validation/validation.h"
#include "common/base/log.h"

namespace ck::apiserver::allocation {

namespace {

enum class Outcome { kOk, kNotInRange, kAllocated };

// One pool as the store holds it: a key prefix and the offsets of the values under it.
struct Pool {
  std::string_view prefix;
  int64_t size = 0;
  int64_t band = 0;
  int64_t reserved = -1;  // an offset dynamic allocation never hands out (-1: none)
  std::function<std::string(int64_t)> key_of;
  std::function<std::optional<int64_t>(std::string_view suffix)> offset_of;
};

// The keys one write claims and frees. Claims are checked against the store now and guarded by
// a "key absent" compare at commit; frees are checked for ownership when emitted.
class Plan {
 public:
  Plan(store::Store* store, const AllocationConfig& config, Random* random, std::string owner)
      : store_(store), random_(random), owner_(std::move(owner)) {
    ips_.prefix = kIpAllocationPrefix;
    ips_.size = config.cluster_ips.size();
    ips_.band = config.cluster_ips.static_band();
    ips_.reserved = 0;  // the first address is the `kubernetes` Service's
    ips_.key_of = [r = config.cluster_ips](int64_t o) { return IpAllocationKey(FormatIpv4(r.At(o))); };
    ips_.offset_of = [r = config.cluster_ips](std::string_view s) -> std::optional<int64_t> {
      auto ip = ParseIpv4(s);
      return ip ? r.Offset(*ip) : std::nullopt;
    };
    ports_.prefix = kNodePortAllocationPrefix;
    ports_.size = config.node_ports.size();
    ports_.band = config.node_ports.static_band();
    ports_.key_of = [r = config.node_ports](int64_t o) { return NodePortAllocationKey(r.At(o)); };
    ports_.offset_of = [r = config.node_ports](std::string_view s) -> std::optional<int64_t> {
      int32_t port = 0;
      for (char c : s) {
        if (c < '0' || c > '9' || port > 65535) return std::nullopt;
        port = port * 10 + (c - '0');
      }
      return s.empty() ? std::nullopt : r.Offset(port);
    };
    cluster_ips_ = config.cluster_ips;
    node_ports_ = config.node_ports;
  }

  Result<Outcome> ClaimIp(uint32_t ip) {
    auto offset = cluster_ips_.Offset(ip);
    if (!offset) return Outcome::kNotInRange;
    return Claim(ips_, *offset);
  }
  Result<Outcome> ClaimPort(int32_t port) {
    auto offset = node_ports_.Offset(port);
    if (!offset) return Outcome::kNotInRange;
    return Claim(ports_, *offset);
  }
  // nullopt: the range is full.
  Result<std::optional<uint32_t>> NextIp() {
    CK_ASSIGN_OR_RETURN(auto offset, Next(ips_));
    if (!offset) return std::optional<uint32_t>();
    return std::optional<uint32_t>(cluster_ips_.At(*offset));
  }
  Result<std::optional<int32_t>> NextPort() {
    CK_ASSIGN_OR_RETURN(auto offset, Next(ports_));
    if (!offset) return std::optional<int32_t>();
    return std::optional<int32_t>(node_ports_.At(*offset));
  }
  void ReleaseIp(const std::string& ip) {
    if (auto a = ParseIpv4(ip)) released_.insert(IpAllocationKey(FormatIpv4(*a)));
  }
  void ReleasePort(int32_t port) {
    if (port > 0) released_.insert(NodePortAllocationKey(port));
  }

  // Appends the guards and writes of every claim and free.
  Status Emit(std::vector<store::Compare>* compares, std::vector<store::Op>* ops) {
    for (const auto& key : claimed_) {
      CK_CHECK(!released_.count(key)) << key << " both claimed and freed by one write";
      compares->push_back(store::Compare::NotExists(key));
      ops->push_back(store::Op::Put(key, owner_));
    }
    for (const auto& key : released_) {
      auto kv = store_->Get(key);
      if (!kv.ok()) {
        if (kv.status().code() == Code::kNotFound) continue;  // never recorded (older data); nothing to free
        return kv.status();
      }
      if (!SameOwner(kv->value, owner_)) {
        CK_LOG_WARNING("Not freeing an allocation held by another Service", "key", key, "holder", kv->value,
                       "service", owner_);
        continue;
      }
      compares->push_back(store::Compare::ModRevisionIs(key, kv->mod_revision));
      ops->push_back(store::Op::Delete(key));
    }
    return Status::Ok();
  }

 private:
  Result<bool> Exists(const std::string& key) {
    auto kv = store_->Get(key);
    if (kv.ok()) return true;
    if (kv.status().code() == Code::kNotFound) return false;
    return kv.status();
  }

  Result<Outcome> Claim(const Pool& pool, int64_t offset) {
    std::string key = pool.key_of(offset);
    if (claimed_.count(key)) return Outcome::kAllocated;
    CK_ASSIGN_OR_RETURN(bool exists, Exists(key));
    if (exists) return Outcome::kAllocated;
    claimed_.insert(std::move(key));
    return Outcome::kOk;
  }

  // Random start, then scan (range.h). The first candidate is checked with one read; only when it
  // is taken is the whole pool read.
  Result<std::optional<int64_t>> Next(const Pool& pool) {
    ScanStart start = RandomScanStart(pool.size, pool.band, *random_);
    auto first = start.First(pool.size, pool.band);
    if (!first) return std::optional<int64_t>();
    if (*first != pool.reserved) {
      std::string key = pool.key_of(*first);
      if (!claimed_.count(key)) {
        CK_ASSIGN_OR_RETURN(bool exists, Exists(key));
        if (!exists) {
          claimed_.insert(std::move(key));
          return first;
        }
      }
    }
    std::string prefix(pool.prefix);
    auto all = store_->Range(prefix, store::PrefixEnd(prefix));
    if (!all.ok()) return all.status();
    std::vector<bool> used(static_cast<size_t>(pool.size), false);
    auto mark = [&](std::string_view key) {
      if (!key.starts_with(prefix)) return;
      if (auto o = pool.offset_of(key.substr(prefix.size()))) used[static_cast<size_t>(*o)] = true;
    };
    for (const auto& kv : all->kvs) mark(kv.key);
    for (const auto& key : claimed_) mark(key);
    if (pool.reserved >= 0 && pool.reserved < pool.size) used[static_cast<size_t>(pool.reserved)] = true;
    auto picked = PickFree(pool.size, pool.band, start, [&](int64_t o) { return used[static_cast<size_t>(o)]; });
    if (picked) claimed_.insert(pool.key_of(*picked));
    return picked;
  }

  store::Store* store_;
  Random* random_;
  std::string owner_;
  ServiceIpRange cluster_ips_;
  NodePortRange node_ports_;
  Pool ips_, ports_;
  std::set<std::string> claimed_, released_;
};

// ---- errors, as upstream's NewInvalid / NewInternalError -------------------------------------

Status InvalidField(const corev1::Service& svc, std::string field, std::string value, std::string detail,
                    ErrorDetails* details) {
  FieldErrors errs{{FieldError::Type::kInvalid, std::move(field), std::move(value), std::move(detail)}};
  return InvalidErrors(svc, errs, details);
}

Status InternalError(const std::string& err, ErrorDetails* details) {
  if (details) {
    *details = {};
    details->causes.push_back({"", err, ""});
  }
  return Internal("Internal error occurred: " + err);
}

std::string IpOutcomeText(Outcome o, const AllocationConfig& config) {
  if (o == Outcome::kNotInRange) {
    return "provided IP is not in the valid range. The range of valid IPs is " + config.cluster_ips.cidr();
  }
  return "provided IP is already allocated";
}

std::string PortOutcomeText(Outcome o, const AllocationConfig& config) {
  if (o == Outcome::kNotInRange) {
    return "provided port is not in the valid range. The range of valid ports is " + config.node_ports.ToString();
  }
  return "provided port is already allocated";
}

// ---- ClusterIPs ---------------------------------------------------------------------------------

// allocClusterIPs: one IPv4 address for a Service that needs one.
Status AllocateClusterIPs(corev1::Service* svc, Plan& plan, const AllocationConfig& config, ErrorDetails* details) {
  auto* s = svc->mutable_spec();
  if (!NeedsClusterIP(*s) || IsHeadless(*s)) return Status::Ok();
  std::string requested = s->clusterips_size() > 0 ? s->clusterips(0) : s->clusterip();
  if (requested.empty()) {
    CK_ASSIGN_OR_RETURN(auto ip, plan.NextIp());
    if (!ip) return InternalError("failed to allocate a serviceIP: range is full", details);
    std::string text = FormatIpv4(*ip);
    s->set_clusterip(text);
    s->clear_clusterips();
    s->add_clusterips(text);
    return Status::Ok();
  }
  auto ip = ParseIpv4(requested);
  if (!ip) return Status::Ok();  // not an IPv4 address: validation reports it
  CK_ASSIGN_OR_RETURN(Outcome o, plan.ClaimIp(*ip));
  if (o == Outcome::kOk) return Status::Ok();
  return InvalidField(*svc, "spec.clusterIPs", GoStrings(s->clusterips()),
                      "failed to allocate IP " + requested + ": " + IpOutcomeText(o, config), details);
}

// updateClusterIPs for a single-stack cluster: allocate when leaving ExternalName, free when
// becoming one; the address itself is immutable (validation).
Status UpdateClusterIPs(corev1::Service* svc, const corev1::Service& old, Plan& plan, const AllocationConfig& config,
                        ErrorDetails* details) {
  const auto& o = old.spec();
  const auto& s = svc->spec();
  if (o.type() == "ExternalName" && s.type() != "ExternalName") return AllocateClusterIPs(svc, plan, config, details);
  if (IsHeadless(o)) return Status::Ok();
  if (o.type() != "ExternalName" && s.type() == "ExternalName") {
    for (const auto& ip : o.clusterips()) plan.ReleaseIp(ip);
  }
  return Status::Ok();
}

// ---- NodePorts ----------------------------------------------------------------------------------

int32_t FindRequestedNodePort(int32_t port, const corev1::ServiceSpec& s) {
  for (const auto& p : s.ports()) {
    if (p.port() == port && p.nodeport() != 0) return p.nodeport();
  }
  return 0;
}

// allocHealthCheckNodePort.
Status AllocateHealthCheckNodePort(corev1::Service* svc, Plan& plan, const AllocationConfig& config,
                                   ErrorDetails* details) {
  auto* s = svc->mutable_spec();
  if (s->healthchecknodeport() != 0) {
    CK_ASSIGN_OR_RETURN(Outcome o, plan.ClaimPort(s->healthchecknodeport()));
    if (o == Outcome::kOk) return Status::Ok();
    return InternalError("failed to allocate requested HealthCheck NodePort " + std::to_string(s->healthchecknodeport()) +
                             ": " + PortOutcomeText(o, config),
                         details);
  }
  CK_ASSIGN_OR_RETURN(auto port, plan.NextPort());
  // Upstream prints the zero it failed to allocate.
  if (!port) return InternalError("failed to allocate a HealthCheck NodePort 0: range is full", details);
  s->set_healthchecknodeport(*port);
  return Status::Ok();
}

// initNodePorts + the health check port, on create. Ports with the same port number share one
// nodePort (a TCP and a UDP port 53 both get 30053).
Status AllocateNodePorts(corev1::Service* svc, Plan& plan, const AllocationConfig& config, ErrorDetails* details) {
  auto* s = svc->mutable_spec();
  if (NeedsNodePort(*s)) {
    std::map<int32_t, int32_t> by_port;  // service port -> its nodePort
    for (int i = 0; i < s->ports_size(); ++i) {
      auto* p = s->mutable_ports(i);
      if (p->nodeport() == 0 && !ShouldAllocateNodePorts(*s)) continue;  // only explicit requests
      std::string field = "spec.ports[" + std::to_string(i) + "].nodePort";
      int32_t allocated = by_port.count(p->port()) ? by_port[p->port()] : 0;
      if (allocated == 0) {
        int32_t requested = FindRequestedNodePort(p->port(), *s);
        if (requested != 0) {
          CK_ASSIGN_OR_RETURN(Outcome o, plan.ClaimPort(requested));
          if (o != Outcome::kOk) {
            return InvalidField(*svc, field, std::to_string(requested), PortOutcomeText(o, config), details);
          }
          p->set_nodeport(requested);
        } else {
          CK_ASSIGN_OR_RETURN(auto next, plan.NextPort());
          if (!next) return InternalError("failed to allocate a nodePort: range is full", details);
          p->set_nodeport(*next);
        }
        by_port[p->port()] = p->nodeport();
      } else if (p->nodeport() != allocated) {
        if (p->nodeport() == 0) {
          p->set_nodeport(allocated);
        } else {
          CK_ASSIGN_OR_RETURN(Outcome o, plan.ClaimPort(p->nodeport()));
          if (o != Outcome::kOk) {
            return InvalidField(*svc, field, std::to_string(p->nodeport()), PortOutcomeText(o, config), details);
          }
        }
      }
    }
  }
  if (NeedsHealthCheckNodePort(*s)) CK_RETURN_IF_ERROR(AllocateHealthCheckNodePort(svc, plan, config, details));
  return Status::Ok();
}

// updateNodePorts: keep the nodePorts the old object held, claim new ones, free dropped ones.
Status UpdateNodePortList(corev1::Service* svc, const corev1::Service& old, Plan& plan, const AllocationConfig& config,
                          ErrorDetails* details) {
  auto* s = svc->mutable_spec();
  // Only a type that needs them ever allocated its nodePorts (an ExternalName may carry stray ones).
  std::vector<int32_t> old_ports = NeedsNodePort(old.spec()) ? NodePortsOf(old.spec()) : std::vector<int32_t>{};
  auto held_before = [&](int32_t port) { return std::find(old_ports.begin(), old_ports.end(), port) != old_ports.end(); };
  std::set<int32_t> claimed_now;
  std::set<std::pair<std::string, int32_t>> seen;  // protocol, nodePort
  for (int i = 0; i < s->ports_size(); ++i) {
    auto* p = s->mutable_ports(i);
    if (p->nodeport() == 0 && !ShouldAllocateNodePorts(*s)) continue;
    if (p->nodeport() != 0) {
      if (!held_before(p->nodeport()) && !claimed_now.count(p->nodeport())) {
        CK_ASSIGN_OR_RETURN(Outcome o, plan.ClaimPort(p->nodeport()));
        if (o != Outcome::kOk) {
          return InvalidField(*svc, "spec.ports[" + std::to_string(i) + "].nodePort", std::to_string(p->nodeport()),
                              PortOutcomeText(o, config), details);
        }
        claimed_now.insert(p->nodeport());
      }
    } else {
      CK_ASSIGN_OR_RETURN(auto next, plan.NextPort());
      if (!next) return InternalError("failed to allocate a nodePort: range is full", details);
      p->set_nodeport(*next);
    }
    if (!seen.insert({p->protocol(), p->nodeport()}).second) {
      // Upstream returns a plain error here (validation would report the duplicate too).
      return Internal("duplicate nodePort: {" + p->protocol() + " " + std::to_string(p->nodeport()) + "}");
    }
  }
  std::vector<int32_t> new_ports = NodePortsOf(*s);
  for (int32_t port : old_ports) {
    if (std::find(new_ports.begin(), new_ports.end(), port) == new_ports.end()) plan.ReleasePort(port);
  }
  return Status::Ok();
}

// txnUpdateNodePorts + updateHealthCheckNodePort.
Status UpdateNodePorts(corev1::Service* svc, const corev1::Service& old, Plan& plan, const AllocationConfig& config,
                       ErrorDetails* details) {
  const auto& o = old.spec();
  const auto& s = svc->spec();
  if (NeedsNodePort(o) && (s.type() == "ExternalName" || s.type() == "ClusterIP")) {
    for (int32_t port : NodePortsOf(o)) plan.ReleasePort(port);
  }
  if (NeedsNodePort(s)) CK_RETURN_IF_ERROR(UpdateNodePortList(svc, old, plan, config, details));
  bool needed = NeedsHealthCheckNodePort(o), needs = NeedsHealthCheckNodePort(svc->spec());
  if (!needed && needs) return AllocateHealthCheckNodePort(svc, plan, config, details);
  if (needed && !needs) plan.ReleasePort(o.healthchecknodeport());
  return Status::Ok();
}

// releaseAllocatedResources.
void ReleaseAll(const corev1::Service& svc, Plan& plan) {
  const auto& s = svc.spec();
  if (NeedsClusterIP(s) && !IsHeadless(s)) {
    for (const auto& ip : s.clusterips()) plan.ReleaseIp(ip);
    if (s.clusterips().empty()) plan.ReleaseIp(s.clusterip());
  }
  if (NeedsNodePort(s)) {
    for (int32_t port : NodePortsOf(s)) plan.ReleasePort(port);
  }
  if (NeedsHealthCheckNodePort(s)) plan.ReleasePort(s.healthchecknodeport());
}

}  // namespace

std::string IpAllocationKey(std::string_view ip) { return std::string(kIpAllocationPrefix) + std::string(ip); }

std::string NodePortAllocationKey(int32_t port) {
  return std::string(kNodePortAllocationPrefix) + std::to_string(port);
}

Result<AllocationConfig> ParseAllocationOptions(const AllocationOptions& options) {
  CK_ASSIGN_OR_RETURN(auto ips, ServiceIpRange::Parse(options.service_cluster_ip_range));
  CK_ASSIGN_OR_RETURN(auto ports, NodePortRange::Parse(options.service_node_port_range));
  return AllocationConfig{ips, ports};
}

std::string KubernetesServiceIP(const AllocationConfig& config) { return FormatIpv4(config.cluster_ips.At(0)); }

ServiceAllocator::ServiceAllocator(store::Store* store, AllocationConfig config, Random* random)
    : store_(store), config_(std::move(config)), random_(random) {}

AllocationHook ServiceAllocator::Hook() {
  return [this](const ResourceInfo& r, const Message* old_object, Message* new_object,
                std::vector<store::Compare>* compares, std::vector<store::Op>* ops, ErrorDetails* details) {
    return Allocate(r, old_object, new_object, compares, ops, details);
  };
}

bool ServiceAllocator::Applies(const ResourceInfo& resource) { return IsServices(resource); }

Status ServiceAllocator::Allocate(const ResourceInfo& r, const Message* old_object, Message* new_object,
                                  std::vector<store::Compare>* compares, std::vector<store::Op>* ops,
                                  ErrorDetails* details) {
  if (!IsServices(r)) return Status::Ok();
  CK_CHECK(old_object || new_object) << "allocation hook called without an object";
  const auto* old = static_cast<const corev1::Service*>(old_object);
  auto* svc = static_cast<corev1::Service*>(new_object);
  Plan plan(store_, config_, random_, OwnerOf(svc ? svc->metadata() : old->metadata()));

  if (!svc) {
    ReleaseAll(*old, plan);
    return plan.Emit(compares, ops);
  }
  if (old) {
    PatchAllocatedValues(svc, *old);
    DropTypeDependentFields(svc, *old);
  }
  CK_RETURN_IF_ERROR(InitIpFamilies(svc, details));
  if (!old) {
    CK_RETURN_IF_ERROR(AllocateClusterIPs(svc, plan, config_, details));
    CK_RETURN_IF_ERROR(AllocateNodePorts(svc, plan, config_, details));
  } else {
    CK_RETURN_IF_ERROR(UpdateClusterIPs(svc, *old, plan, config_, details));
    CK_RETURN_IF_ERROR(UpdateNodePorts(svc, *old, plan, config_, details));
  }
  return plan.Emit(compares, ops);
}

}  // namespace ck::apiserver::allocation
