#include "common/api/resources.h"

namespace ck::api {
namespace {

bool IsSidecar(const corev1::Container& c) { return c.has_restartpolicy() && c.restartpolicy() == "Always"; }

enum class Which { kRequests, kLimits };

Result<ResourceList> ContainerList(const corev1::Container& c, Which which, const PodResourcesOptions& o) {
  const ProtoResourceList& proto = which == Which::kRequests ? c.resources().requests() : c.resources().limits();
  CK_ASSIGN_OR_RETURN(ResourceList list, FromProto(proto));
  if (which == Which::kRequests) {
    for (const auto& [name, q] : o.non_missing_container_requests) {
      if (list.count(name) == 0) list[name] = q;
    }
  }
  return list;
}

Status Overflow() { return BadRequest("resource sum exceeds the quantity range"); }

Result<ResourceList> Aggregate(const corev1::Pod& pod, Which which, const PodResourcesOptions& o) {
  ResourceList total;
  for (const corev1::Container& c : pod.spec().containers()) {
    CK_ASSIGN_OR_RETURN(ResourceList list, ContainerList(c, which, o));
    if (!AddResources(&total, list)) return Overflow();
  }
  // While init container i runs, the pod needs its resources plus those of the sidecars started
  // before it; sidecars keep running, so they also add to the total.
  ResourceList sidecars, init_max;
  for (const corev1::Container& c : pod.spec().initcontainers()) {
    CK_ASSIGN_OR_RETURN(ResourceList list, ContainerList(c, which, o));
    ResourceList need;
    if (IsSidecar(c)) {
      if (!AddResources(&total, list) || !AddResources(&sidecars, list)) return Overflow();
      need = sidecars;
    } else {
      need = list;
      if (!AddResources(&need, sidecars)) return Overflow();
    }
    MaxResources(&init_max, need);
  }
  MaxResources(&total, init_max);
  return total;
}

}  // namespace

Result<ResourceList> FromProto(const ProtoResourceList& list) {
  ResourceList out;
  for (const auto& [name, q] : list) {
    Result<Quantity> parsed = q.string().empty() ? Result<Quantity>(Quantity()) : Quantity::Parse(q.string());
    if (!parsed.ok()) return BadRequest(name + ": " + parsed.status().message());
    out.emplace(name, std::move(parsed).value());
  }
  return out;
}

void ToProto(const ResourceList& list, ProtoResourceList* out) {
  out->clear();
  for (const auto& [name, q] : list) (*out)[name].set_string(q.String());
}

bool AddResources(ResourceList* list, const ResourceList& add) {
  for (const auto& [name, q] : add) {
    auto it = list->find(name);
    if (it == list->end()) {
      list->emplace(name, q);
    } else if (!it->second.Add(q)) {
      return false;
    }
  }
  return true;
}

void MaxResources(ResourceList* list, const ResourceList& other) {
  for (const auto& [name, q] : other) {
    auto it = list->find(name);
    if (it == list->end() || q.Cmp(it->second) > 0) (*list)[name] = q;
  }
}

Result<ResourceList> PodRequests(const corev1::Pod& pod, const PodResourcesOptions& options) {
  CK_ASSIGN_OR_RETURN(ResourceList requests, Aggregate(pod, Which::kRequests, options));
  if (!options.exclude_overhead && pod.spec().overhead_size() > 0) {
    CK_ASSIGN_OR_RETURN(ResourceList overhead, FromProto(pod.spec().overhead()));
    if (!AddResources(&requests, overhead)) return Overflow();
  }
  return requests;
}

Result<ResourceList> PodLimits(const corev1::Pod& pod, const PodResourcesOptions& options) {
  CK_ASSIGN_OR_RETURN(ResourceList limits, Aggregate(pod, Which::kLimits, options));
  if (!options.exclude_overhead && pod.spec().overhead_size() > 0) {
    CK_ASSIGN_OR_RETURN(ResourceList overhead, FromProto(pod.spec().overhead()));
    for (const auto& [name, q] : overhead) {
      auto it = limits.find(name);
      if (it != limits.end() && !it->second.Add(q)) return Overflow();  // only resources with a limit
    }
  }
  return limits;
}

}  // namespace ck::api
