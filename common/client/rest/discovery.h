// DiscoveryClient: which resources the server serves, as api::ResourceInfo rows (client-go's
// discovery client), for the clients that walk every kind without knowing it in advance: the
// garbage collector and namespace deletion.
//
// It asks /api and /apis for aggregated discovery (apidiscovery.k8s.io/v2, two requests) and falls
// back to the legacy documents (APIVersions, APIGroupList, then one APIResourceList per
// group-version) when the server answers without the aggregated Content-Type. Subresources
// ("pods/status") are attached to their resource. proto_type / list_proto_type are filled when
// Clearkube has the message type (common/api/kinds.h), so typed decoding works; otherwise they
// stay empty and objects are decoded by kind, or read metadata-only.
// Threading: safe from any thread (each call makes its own requests).
#pragma once

#include <string>
#include <vector>

#include "common/client/api_client.h"
#include "common/client/rest/rest_api_client.h"

namespace ck::client {

class DiscoveryClient {
 public:
  // `client` must outlive this object.
  explicit DiscoveryClient(RestApiClient& client) : client_(client) {}

  // Every served resource (not subresources) of every group-version, core first, then groups in
  // the server's order. A group-version whose document cannot be fetched fails the call, unless
  // `failed` is given: then its name ("metrics.k8s.io/v1beta1") is added there and the rest is
  // returned (client-go's ErrGroupDiscoveryFailed).
  Result<std::vector<ResourceInfo>> ServerResources(std::vector<std::string>* failed = nullptr);

  // The same through the legacy documents only (what kubectl does against servers without
  // aggregated discovery).
  Result<std::vector<ResourceInfo>> LegacyServerResources(std::vector<std::string>* failed = nullptr);

  // "v1", "apps/v1", ... from /api and /apis (legacy documents).
  Result<std::vector<std::string>> ServerGroupVersions();

  // The resources of one group-version ("v1", "apps/v1") from its APIResourceList.
  Result<std::vector<ResourceInfo>> ServerResourcesForGroupVersion(const std::string& group_version);

 private:
  RestApiClient& client_;
};

// The resources that have every one of `verbs` (e.g. {"list", "watch"} for the garbage collector,
// {"list", "deletecollection"} for namespace deletion).
std::vector<ResourceInfo> FilterByVerbs(const std::vector<ResourceInfo>& resources,
                                        const std::vector<std::string>& verbs);

// The resource named "<resource>" in `group` (any version; the first one found), or nullptr.
const ResourceInfo* FindDiscovered(const std::vector<ResourceInfo>& resources, const std::string& group,
                                   const std::string& resource);

}  // namespace ck::client
