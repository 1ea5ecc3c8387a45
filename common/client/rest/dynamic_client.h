// DynamicClient: reads any resource, known or only discovered (discovery.h), the way the garbage
// collector and namespace deletion need (client-go's dynamic and metadata clients):
// full objects decoded into the message type of their kind (ResourceInfo::proto_type, or
// common/api/kinds.h NewObject by the answer's kind), or, with metadata_only, every object as a
// meta.v1.PartialObjectMetadata, which works for any kind at all.
// Threading: as safe as the ApiClient underneath.
#pragma once

#include <memory>
#include <string>

#include "common/client/api_client.h"

namespace ck::client {

class DynamicClient {
 public:
  // `api` must outlive this object.
  explicit DynamicClient(ApiClient& api) : api_(api) {}

  // Every object of `resource` in `ns` ("" = all namespaces), read in pages of `page_size`
  // (client-go's pager): the result's resource_version is the first page's, so a watch started
  // from it misses nothing. A continue token that expired mid-way (410) restarts with one
  // unpaginated list, as upstream's pager does.
  Result<ObjectList> ListAll(const ResourceInfo& resource, const std::string& ns, ListOptions options = {},
                             int64_t page_size = 500);

  Result<std::unique_ptr<WatchStream>> Watch(const ResourceInfo& resource, const std::string& ns,
                                             const ListOptions& options) {
    return api_.Watch(resource, ns, options);
  }
  Result<ObjectPtr> Get(const ResourceInfo& resource, const std::string& ns, const std::string& name,
                        const GetOptions& options = {}) {
    return api_.Get(resource, ns, name, options);
  }
  Result<ObjectPtr> Delete(const ResourceInfo& resource, const std::string& ns, const std::string& name,
                           const DeleteOptions& options = {}) {
    return api_.Delete(resource, ns, name, options);
  }

 private:
  ApiClient& api_;
};

}  // namespace ck::client
