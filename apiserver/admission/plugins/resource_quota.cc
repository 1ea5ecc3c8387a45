#include "apiserver/admission/plugins/resource_quota.h"

#include <algorithm>
#include <set>

#include "apiserver/admission/plugins/util.h"
#include "apiserver/object.h"
#include "common/api/pod.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/base/strings.h"

namespace ck::apiserver::admission::plugins {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;

const Quantity& One() {
  static const Quantity q = Quantity::FromInt(1);
  return q;
}

// Resources a quota on which every container must state (upstream's validationSet).
const std::set<std::string>& MustSpecify() {
  static const std::set<std::string> s = {"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu",
                                          "limits.memory"};
  return s;
}

bool IsExtendedResource(const std::string& name) {
  // Native resources have no domain or the kubernetes.io domain; quota names never count.
  auto slash = name.find('/');
  if (slash == std::string::npos) return false;
  std::string_view domain(name.data(), slash);
  return domain != "kubernetes.io" && !domain.ends_with(".kubernetes.io") && !name.starts_with("requests.");
}

// podComputeUsageHelper: the compute names a pod's (or a container's) requests and limits fill.
ResourceList ComputeUsage(const ResourceList& requests, const ResourceList& limits) {
  ResourceList out;
  out["pods"] = One();
  for (const std::string r : {"cpu", "memory", "ephemeral-storage"}) {
    if (auto it = requests.find(r); it != requests.end()) {
      out[r] = it->second;
      out["requests." + r] = it->second;
    }
    if (auto it = limits.find(r); it != limits.end()) out["limits." + r] = it->second;
  }
  for (const auto& [name, q] : requests) {
    if (name.starts_with("hugepages-")) {
      out[name] = q;
      out["requests." + name] = q;
    } else if (IsExtendedResource(name)) {
      out["requests." + name] = q;
    }
  }
  return out;
}

Result<ResourceList> PodUsage(const corev1::Pod& pod) {
  ResourceList out;
  out["count/pods"] = One();  // every stored pod, terminal or not
  if (api::IsPodTerminal(pod)) return out;  // compute quota ends with the pod's life
  Result<ResourceList> requests = api::PodRequests(pod);
  if (!requests.ok()) return requests.status();
  Result<ResourceList> limits = api::PodLimits(pod);
  if (!limits.ok()) return limits.status();
  for (auto& [k, v] : ComputeUsage(*requests, *limits)) out[k] = v;
  return out;
}

ResourceList ServiceUsage(const corev1::Service& svc) {
  ResourceList out;
  out["count/services"] = One();
  out["services"] = One();
  const std::string& type = svc.spec().type();
  int64_t node_ports = svc.spec().ports_size();
  if (type == "LoadBalancer") {
    out["services.loadbalancers"] = One();
    if (svc.spec().has_allocateloadbalancernodeports() && !svc.spec().allocateloadbalancernodeports()) {
      node_ports = 0;  // only ports that ask for a node port explicitly
      for (const auto& p : svc.spec().ports()) node_ports += p.nodeport() != 0 ? 1 : 0;
    }
  }
  if (type == "NodePort" || type == "LoadBalancer") out["services.nodeports"] = Quantity::FromInt(node_ports);
  return out;
}

Result<ResourceList> ClaimUsage(const corev1::PersistentVolumeClaim& pvc) {
  ResourceList out;
  out["count/persistentvolumeclaims"] = One();
  out["persistentvolumeclaims"] = One();
  std::string cls = pvc.spec().storageclassname();
  if (auto it = pvc.metadata().annotations().find("volume.beta.kubernetes.io/storage-class");
      it != pvc.metadata().annotations().end()) {
    cls = it->second;
  }
  const std::string prefix = cls.empty() ? "" : cls + ".storageclass.storage.k8s.io/";
  if (!prefix.empty()) out[prefix + "persistentvolumeclaims"] = One();
  CK_ASSIGN_OR_RETURN(ResourceList requests, ParseList(pvc.spec().resources().requests(), "requests"));
  if (auto it = requests.find("storage"); it != requests.end()) {
    out["requests.storage"] = it->second;
    if (!prefix.empty()) out[prefix + "requests.storage"] = it->second;
  }
  return out;
}

struct Scope {
  std::string name, op;
  std::vector<std::string> values;
};

// Whether a quota with these scopes tracks `object`.
bool ScopesMatch(const std::vector<Scope>& scopes, const ResourceInfo& resource, const Message& object) {
  if (scopes.empty()) return true;
  const auto* pod = (resource.group.empty() && resource.resource == "pods") ? As<corev1::Pod>(&object) : nullptr;
  if (pod == nullptr) return false;  // scopes only exist for pods
  for (const Scope& s : scopes) {
    bool match = false;
    const bool terminating = pod->spec().has_activedeadlineseconds() && pod->spec().activedeadlineseconds() >= 0;
    if (s.name == "Terminating") {
      match = terminating;
    } else if (s.name == "NotTerminating") {
      match = !terminating;
    } else if (s.name == "BestEffort") {
      match = api::PodQOSClass(*pod) == "BestEffort";
    } else if (s.name == "NotBestEffort") {
      match = api::PodQOSClass(*pod) != "BestEffort";
    } else if (s.name == "PriorityClass") {
      const std::string& cls = pod->spec().priorityclassname();
      const bool listed = std::find(s.values.begin(), s.values.end(), cls) != s.values.end();
      if (s.op == "Exists") match = !cls.empty();
      else if (s.op == "DoesNotExist") match = cls.empty();
      else if (s.op == "In") match = listed;
      else if (s.op == "NotIn") match = !listed;
    }
    if (!match) return false;
  }
  return true;
}

std::vector<Scope> ScopesOf(const corev1::ResourceQuota& q) {
  std::vector<Scope> out;
  for (const auto& s : q.spec().scopes()) out.push_back({s, "Exists", {}});
  for (const auto& e : q.spec().scopeselector().matchexpressions()) {
    out.push_back({e.scopename(), e.operator_(), {e.values().begin(), e.values().end()}});
  }
  return out;
}

// Constraints: every container sets each cpu/memory resource the quota tracks.
std::string MissingRequirements(const corev1::Pod& pod, const ResourceList& hard) {
  std::set<std::string> required;
  for (const auto& [k, v] : hard) {
    if (MustSpecify().contains(k)) required.insert(k);
  }
  if (required.empty()) return "";
  std::map<std::string, std::set<std::string>> missing;  // resource -> container names
  auto visit = [&](const corev1::Container& c) {
    ResourceList requests = api::FromProto(c.resources().requests()).value_or({});
    ResourceList limits = api::FromProto(c.resources().limits()).value_or({});
    ResourceList usage = ComputeUsage(requests, limits);
    for (const auto& r : required) {
      if (!usage.contains(r)) missing[r].insert(c.name());
    }
  };
  for (const auto& c : pod.spec().containers()) visit(c);
  for (const auto& c : pod.spec().initcontainers()) visit(c);
  if (missing.empty()) return "";
  std::string out = "must specify ";
  bool first = true;
  for (const auto& [r, names] : missing) {
    out += (first ? "" : "; ") + r + " for: ";
    first = false;
    bool first_name = true;
    for (const auto& n : names) {
      out += (first_name ? "" : ",") + n;
      first_name = false;
    }
  }
  return out;
}

struct QuotaWrite {
  std::shared_ptr<corev1::ResourceQuota> quota;  // the quota with its new status
  int64_t mod_revision = 0;
  ResourceList changed;  // new used values of the changed resources
};

// A quota and the store revision that version of it was written at: the compare operand.
struct Snapshot {
  ObjectRef holder;
  const corev1::ResourceQuota* quota = nullptr;
  int64_t mod_revision = 0;
};

// The compare operand must not be newer than the version read, or a concurrent writer could slip
// between the read and the compare. Objects from the apiserver's cache carry their revision as
// resourceVersion; otherwise ModRevision is read *before* the object, so a change in between only
// makes the compare fail (a retry), never pass on stale usage. False when the quota is gone.
bool ReadQuota(const ObjectSource& source, const ObjectRef& listed, Snapshot* out) {
  const auto& meta = api::MetaOf(*listed);
  std::optional<int64_t> rv = meta.resourceversion().empty() ? std::nullopt : ParseInt(meta.resourceversion());
  if (rv && *rv > 0) {
    *out = {listed, As<corev1::ResourceQuota>(listed.get()), *rv};
    return true;
  }
  int64_t revision = source.ModRevision("resourcequotas", meta.namespace_(), meta.name());
  ObjectRef obj = source.Get("resourcequotas", meta.namespace_(), meta.name());
  const auto* q = As<corev1::ResourceQuota>(obj.get());
  if (q == nullptr || revision == 0) return false;
  *out = {std::move(obj), q, revision};
  return true;
}

}  // namespace

Result<ResourceList> QuotaUsage(const ResourceInfo& resource, const Message& object) {
  if (resource.group.empty()) {
    if (const auto* pod = As<corev1::Pod>(&object)) return PodUsage(*pod);
    if (const auto* svc = As<corev1::Service>(&object)) return ServiceUsage(*svc);
    if (const auto* pvc = As<corev1::PersistentVolumeClaim>(&object)) return ClaimUsage(*pvc);
  }
  ResourceList out;
  out["count/" + resource.GroupResource()] = One();
  if (resource.group.empty() && (resource.resource == "configmaps" || resource.resource == "secrets" ||
                                 resource.resource == "resourcequotas" || resource.resource == "replicationcontrollers")) {
    out[resource.resource] = One();
  }
  return out;
}

bool QuotaTracks(const corev1::ResourceQuota& quota, const ResourceInfo& resource, const Message& object) {
  return ScopesMatch(ScopesOf(quota), resource, object);
}

ResourceQuota::ResourceQuota(const ObjectSource& source)
    : source_(source), quotas_(FindResource("", "v1", "resourcequotas")) {
  CK_CHECK(quotas_ != nullptr) << "resourcequotas missing from the resource table";
}

Status ResourceQuota::Validate(const Attributes& a, Context& ctx) {
  bool exceeded = false;
  Status s = Check(a, ctx, &exceeded);
  // The quotas were read from the cache, which may not yet hold a write acknowledged a moment ago
  // (a delete that freed room). A refusal is looked at once more on a consistent read, as upstream
  // keeps the quotas it wrote itself for back-to-back evaluations. A stale admit needs no such
  // care: its transaction's compare on the quota's revision fails and the registry retries.
  if (exceeded && source_.Sync()) s = Check(a, ctx, &exceeded);
  return s;
}

Status ResourceQuota::Check(const Attributes& a, Context& ctx, bool* exceeded) const {
  *exceeded = false;
  if (a.resource == nullptr || a.namespace_.empty() || !a.resource->namespaced) return Status::Ok();
  if (!a.subresource.empty() && a.subresource != "status") return Status::Ok();
  const Message* now = a.object;
  const Message* before = a.old_object;
  switch (a.operation) {
    case Operation::kCreate: before = nullptr; break;
    case Operation::kUpdate: break;
    case Operation::kDelete: now = nullptr; break;
    case Operation::kConnect: return Status::Ok();
  }
  if (now == nullptr && before == nullptr) return Status::Ok();

  std::vector<ObjectRef> listed = source_.List("resourcequotas", a.namespace_);
  if (listed.empty()) return Status::Ok();
  std::vector<Snapshot> quotas;
  for (const ObjectRef& obj : listed) {
    const auto* q = As<corev1::ResourceQuota>(obj.get());
    if (q == nullptr) continue;
    // A deleted quota is not written back in the transaction that deletes it.
    if (a.operation == Operation::kDelete && IsResource(a, "", "resourcequotas") && q->metadata().name() == a.name) continue;
    Snapshot snap;
    if (ReadQuota(source_, obj, &snap)) quotas.push_back(std::move(snap));
  }
  std::sort(quotas.begin(), quotas.end(), [](const Snapshot& x, const Snapshot& y) {
    return x.quota->metadata().name() < y.quota->metadata().name();
  });

  std::optional<ResourceList> new_usage, old_usage;  // computed on first need
  auto usage_of = [&](const Message* m, std::optional<ResourceList>* cache) -> Result<ResourceList> {
    if (!cache->has_value()) {
      Result<ResourceList> u = QuotaUsage(*a.resource, *m);
      if (!u.ok()) return ForbiddenFor(a, u.status().message());
      *cache = std::move(u).value();
    }
    return **cache;
  };
  const auto* new_pod = IsResource(a, "", "pods") && a.operation == Operation::kCreate ? As<corev1::Pod>(now) : nullptr;

  std::vector<QuotaWrite> writes;
  for (const Snapshot& snap : quotas) {
    const corev1::ResourceQuota* q = snap.quota;
    const std::string& qname = q->metadata().name();
    CK_ASSIGN_OR_RETURN(ResourceList hard, ParseList(q->spec().hard(), "resourcequota " + qname));
    if (hard.empty()) continue;
    CK_ASSIGN_OR_RETURN(ResourceList used, ParseList(q->status().used(), "resourcequota " + qname));
    const std::vector<Scope> scopes = ScopesOf(*q);
    ResourceList add, sub;
    if (now != nullptr && ScopesMatch(scopes, *a.resource, *now)) {
      CK_ASSIGN_OR_RETURN(add, usage_of(now, &new_usage));
      if (new_pod != nullptr) {
        std::string missing = MissingRequirements(*new_pod, hard);
        if (!missing.empty()) return ForbiddenFor(a, "failed quota: " + qname + ": " + missing);
      }
    }
    if (before != nullptr && ScopesMatch(scopes, *a.resource, *before)) {
      CK_ASSIGN_OR_RETURN(sub, usage_of(before, &old_usage));
    }
    ResourceList requested, exceeded_requested, exceeded_used, exceeded_hard, changed;
    for (const auto& [name, limit] : hard) {
      auto ia = add.find(name);
      auto is = sub.find(name);
      if (ia == add.end() && is == sub.end()) continue;
      Quantity delta = ia != add.end() ? ia->second : Quantity();
      if (is != sub.end() && !delta.Sub(is->second)) return Internal("quota arithmetic overflow on " + name);
      if (delta.IsZero()) continue;
      Quantity current = used.contains(name) ? used.at(name) : Quantity();
      Quantity next = current;
      if (!next.Add(delta)) return ForbiddenFor(a, "quota arithmetic overflow on " + name);
      if (next.Sign() < 0) next = Quantity();  // a recount by the controller is the truth; never below 0
      if (delta.Sign() > 0 && limit < next) {
        exceeded_requested[name] = delta;
        exceeded_used[name] = current;
        exceeded_hard[name] = limit;
      }
      changed[name] = next;
    }
    if (!exceeded_requested.empty()) {
      *exceeded = true;
      return ForbiddenFor(a, "exceeded quota: " + qname + ", requested: " + PrettyPrint(exceeded_requested) +
                                 ", used: " + PrettyPrint(exceeded_used) + ", limited: " + PrettyPrint(exceeded_hard));
    }
    if (changed.empty()) continue;
    auto updated = std::make_shared<corev1::ResourceQuota>(*q);
    *updated->mutable_status()->mutable_hard() = q->spec().hard();
    auto* used_proto = updated->mutable_status()->mutable_used();
    for (const auto& [name, value] : changed) (*used_proto)[name].set_string(value.String());
    for (const auto& [name, limit] : hard) {
      if (!used_proto->contains(name)) (*used_proto)[name].set_string("0");
    }
    writes.push_back({std::move(updated), snap.mod_revision, std::move(changed)});
  }

  for (const QuotaWrite& w : writes) {
    const std::string& qname = w.quota->metadata().name();
    ctx.trace.push_back("ResourceQuota: " + qname + " used " + PrettyPrint(w.changed) +
                        (a.dry_run || ctx.compares == nullptr ? " (not written)" : ""));
    if (a.dry_run || ctx.compares == nullptr || ctx.ops == nullptr) continue;
    std::string key = StorageKey(*quotas_, a.namespace_, qname);
    ctx.compares->push_back(store::Compare::ModRevisionIs(key, w.mod_revision));
    ctx.ops->push_back(store::Op::Put(std::move(key), EncodeForStorage(*w.quota)));
  }
  return Status::Ok();
}

}  // namespace ck::apiserver::admission::plugins
