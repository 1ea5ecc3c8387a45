// Resource lists (cpu, memory, ... -> Quantity) and what a pod asks for, with the kubelet's and
// scheduler's rules (k8s.io/component-helpers/resource PodRequests/PodLimits):
//   requests = max(sum over containers + sum over sidecars (init containers with
//              restartPolicy Always), the largest need of any init container while it runs, which is
//              its own request plus the sidecars started before it) + pod overhead;
//   limits follow the same rule, and overhead is added only to resources that have a limit.
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>

#include <google/protobuf/map.h>

#include "common/api/proto/core_v1.pb.h"
#include "common/api/quantity.h"

namespace ck::api {

using ResourceList = std::map<std::string, Quantity>;
namespace corev1 = ::k8s::io::api::core::v1;
using ProtoResourceList = google::protobuf::Map<std::string, ::k8s::io::apimachinery::pkg::api::resource::Quantity>;

// Reads a proto resource list; a quantity that does not parse is BadRequest naming the resource.
Result<ResourceList> FromProto(const ProtoResourceList& list);
void ToProto(const ResourceList& list, ProtoResourceList* out);

// list[name] += q for every entry of `add`; false when a sum overflows the quantity limits.
[[nodiscard]] bool AddResources(ResourceList* list, const ResourceList& add);
// list[name] = max(list[name], q) for every entry of `other`.
void MaxResources(ResourceList* list, const ResourceList& other);

struct PodResourcesOptions {
  bool exclude_overhead = false;
  // Defaults for containers that request nothing of a resource (the scheduler's "non-zero"
  // requests use cpu 100m, memory 200Mi), applied per container before summing.
  ResourceList non_missing_container_requests;
};

// The pod's effective requests and limits, per the rules above. BadRequest for an unparsable
// quantity in the spec.
Result<ResourceList> PodRequests(const corev1::Pod& pod, const PodResourcesOptions& options = {});
Result<ResourceList> PodLimits(const corev1::Pod& pod, const PodResourcesOptions& options = {});

}  // namespace ck::api
