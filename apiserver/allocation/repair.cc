// RepairAllocations: upstream's ipallocator and portallocator repair controllers, over keys.
// Upstream waits for a leak to show up in several runs because its allocations are not written
// with the Service; ours are, so one consistent read is enough to act.
#include <map>

#include "apiserver/allocation/allocation.h"
#include "apiserver/allocation/service_fields.h"
#include "apiserver/object.h"
#include "common/base/log.h"

namespace ck::apiserver::allocation {

namespace {

// The Service that holds a value, as read at the repair's revision.
struct Holder {
  std::string owner;        // OwnerOf(metadata)
  std::string service_key;  // its store key, to guard fixes made on its behalf
  int64_t service_revision = 0;
};

class Repair {
 public:
  Repair(store::Store* store, const AllocationConfig& config) : store_(store), config_(config) {}

  Result<RepairReport> Run() {
    const ResourceInfo* services = FindResource("", "v1", "services");
    CK_CHECK(services != nullptr) << "services missing from the resource table";
    auto svcs = store_->Range(services->storage_prefix, store::PrefixEnd(services->storage_prefix));
    if (!svcs.ok()) return svcs.status().WithPrefix("repairing service allocations");
    for (std::string_view prefix : {kIpAllocationPrefix, kNodePortAllocationPrefix}) {
      std::string p(prefix);
      auto keys = store_->Range(p, store::PrefixEnd(p), svcs->revision);
      if (!keys.ok()) return keys.status().WithPrefix("repairing service allocations");
      for (auto& kv : keys->kvs) actual_.emplace(kv.key, std::move(kv));
    }
    report_.allocations = static_cast<int64_t>(actual_.size());

    for (const auto& kv : svcs->kvs) {
      auto obj = DecodeStored(*services, kv.key, kv.value, kv.mod_revision);
      if (!obj.ok()) {
        CK_LOG_ERROR("Cannot read a Service while repairing allocations", "key", kv.key, "err", obj.status().message());
        continue;
      }
      ++report_.services;
      Collect(static_cast<const corev1::Service&>(**obj), kv.key, kv.mod_revision);
    }

    for (const auto& [key, kv] : actual_) {
      auto held = wanted_.find(key);
      if (held == wanted_.end()) {
        CK_LOG_WARNING("Deleting a leaked allocation: no Service holds it", "key", key, "was", kv.value);
        Fix({store::Compare::ModRevisionIs(key, kv.mod_revision)}, store::Op::Delete(key), &report_.deleted);
      } else if (!SameOwner(kv.value, held->second.owner)) {
        CK_LOG_WARNING("Pointing an allocation at the Service that holds it", "key", key, "was", kv.value, "service",
                       held->second.owner);
        Fix({store::Compare::ModRevisionIs(key, kv.mod_revision),
             store::Compare::ModRevisionIs(held->second.service_key, held->second.service_revision)},
            store::Op::Put(key, held->second.owner), &report_.reassigned);
      }
    }
    for (const auto& [key, held] : wanted_) {
      if (actual_.count(key)) continue;
      CK_LOG_WARNING("Re-creating a missing allocation", "key", key, "service", held.owner);
      Fix({store::Compare::NotExists(key), store::Compare::ModRevisionIs(held.service_key, held.service_revision)},
          store::Op::Put(key, held.owner), &report_.created);
    }
    CK_LOG_INFO("Service allocations repaired", "services", report_.services, "allocations", report_.allocations,
                "created", report_.created, "deleted", report_.deleted, "reassigned", report_.reassigned,
                "duplicates", report_.duplicates, "out_of_range", report_.out_of_range, "skipped", report_.skipped);
    if (!failure_.ok()) return failure_;
    return report_;
  }

 private:
  void Collect(const corev1::Service& svc, const std::string& key, int64_t revision) {
    const auto& s = svc.spec();
    Holder holder{OwnerOf(svc.metadata()), key, revision};
    if (NeedsClusterIP(s) && !IsHeadless(s)) {
      auto ips = s.clusterips();
      if (ips.empty() && !s.clusterip().empty()) *ips.Add() = s.clusterip();
      for (const auto& text : ips) {
        auto ip = ParseIpv4(text);
        if (!ip) continue;  // IPv6 or garbage: nothing this cluster allocates
        if (!config_.cluster_ips.Offset(*ip)) {
          ++report_.out_of_range;
          CK_LOG_WARNING("Cluster IP is not within the configured service range; please recreate the Service",
                         "service", holder.owner, "ip", text, "range", config_.cluster_ips.cidr());
        }
        Want(IpAllocationKey(FormatIpv4(*ip)), holder, "cluster IP " + text);
      }
    }
    std::vector<int32_t> ports = NeedsNodePort(s) ? NodePortsOf(s) : std::vector<int32_t>{};
    if (NeedsHealthCheckNodePort(s) && s.healthchecknodeport() > 0) ports.push_back(s.healthchecknodeport());
    for (int32_t port : ports) {
      if (!config_.node_ports.Offset(port)) {
        ++report_.out_of_range;
        CK_LOG_WARNING("Node port is not within the configured port range; please recreate the Service", "service",
                       holder.owner, "port", port, "range", config_.node_ports.ToString());
      }
      Want(NodePortAllocationKey(port), holder, "node port " + std::to_string(port));
    }
  }

  // Records that `holder` uses the value behind `key`. Two Services with one value is a conflict
  // only a user can resolve; the key's current owner keeps it (else the first Service read).
  void Want(const std::string& key, const Holder& holder, const std::string& what) {
    auto [it, inserted] = wanted_.emplace(key, holder);
    if (inserted || SameOwner(it->second.owner, holder.owner)) return;
    ++report_.duplicates;
    CK_LOG_ERROR("Value assigned to more than one Service; please recreate one of them", "value", what, "service",
                 holder.owner, "also", it->second.owner);
    auto current = actual_.find(key);
    if (current != actual_.end() && SameOwner(current->second.value, holder.owner)) it->second = holder;
  }

  void Fix(std::vector<store::Compare> guard, store::Op op, int64_t* counter) {
    auto txn = store_->Txn(std::move(guard), {std::move(op)}, {});
    if (!txn.ok()) {
      CK_LOG_ERROR("Allocation repair write failed", "err", txn.status().message());
      if (failure_.ok()) failure_ = txn.status().WithPrefix("repairing service allocations");
      return;
    }
    if (txn->succeeded) {
      ++*counter;
    } else {
      ++report_.skipped;  // the Service or the key changed since the read; the next pass looks again
    }
  }

  store::Store* store_;
  const AllocationConfig& config_;
  std::map<std::string, store::KeyValue> actual_;  // allocation key -> its key-value
  std::map<std::string, Holder> wanted_;           // allocation key -> the Service holding the value
  RepairReport report_;
  Status failure_;
};

}  // namespace

Result<RepairReport> RepairAllocations(store::Store* store, const AllocationConfig& config) {
  return Repair(store, config).Run();
}

}  // namespace ck::apiserver::allocation
