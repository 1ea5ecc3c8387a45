// Upstream REST paths and query strings for an api::ResourceInfo, as client-go builds them:
//   /api/v1/namespaces/shop/pods/web/status        core group, namespaced, subresource
//   /apis/apps/v1/deployments?labelSelector=...     all namespaces
//   /apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Aadmin   cluster scope
// plus the DeleteOptions body. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/client/api_client.h"

namespace ck::client {

// "/api/v1" for the core group, "/apis/<group>/<version>" otherwise.
std::string GroupVersionPath(const ResourceInfo& resource);

// The collection (empty name) or object path. `ns` is ignored for cluster-scoped resources and
// means "all namespaces" when empty. Segments are percent-encoded.
std::string ResourcePath(const ResourceInfo& resource, std::string_view ns, std::string_view name = "",
                         std::string_view subresource = "");

// Builds "?k=v&k2=v2" (empty when nothing was added), values percent-encoded, in the order added.
class QueryBuilder {
 public:
  QueryBuilder& Add(std::string_view key, std::string_view value);
  QueryBuilder& AddIf(bool condition, std::string_view key, std::string_view value) {
    return condition ? Add(key, value) : *this;
  }
  std::string Build() const;
  bool empty() const { return query_.empty(); }

 private:
  std::string query_;
};

// labelSelector, fieldSelector, resourceVersion, resourceVersionMatch, limit, continue,
// timeoutSeconds, allowWatchBookmarks (watch only), and watch=true first for a watch.
std::string ListQuery(const ListOptions& options, bool watch);
std::string GetQuery(const GetOptions& options);
// dryRun=All, fieldManager, fieldValidation, and force=true (apply patches only).
std::string WriteQuery(const WriteOptions& options, bool apply_patch = false);

// The body of DELETE: {"kind":"DeleteOptions","apiVersion":"v1", gracePeriodSeconds,
// propagationPolicy, preconditions {uid, resourceVersion}, dryRun ["All"]}.
std::string DeleteOptionsBody(const DeleteOptions& options);

// Content-Type of a patch body.
std::string_view PatchContentType(PatchType type);

// Accept headers of metadata-only requests (apimachinery's PartialObjectMetadata negotiation).
inline constexpr std::string_view kAcceptMetadata =
    "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";
inline constexpr std::string_view kAcceptMetadataList =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

}  // namespace ck::client
