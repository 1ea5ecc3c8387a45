// RequestInfo: what a request is about, read off its method, path and query the way upstream's
// RequestInfoFactory reads it. Authorization, admission, audit and the REST handlers all start
// from it.
//
//   GET    /api/v1/namespaces/default/pods?watch=true  -> verb "watch", resource "pods"
//   POST   /apis/apps/v1/namespaces/x/deployments      -> verb "create"
//   PUT    /apis/apps/v1/namespaces/x/deployments/web/scale -> verb "update", subresource "scale"
//   DELETE /api/v1/namespaces/x/pods                   -> verb "deletecollection"
//   GET    /healthz, /version, /apis                   -> non-resource request, verb "get"
// Pure function of its inputs; no state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "common/net/url.h"

namespace ck::apiserver {

struct RequestInfo {
  bool is_resource_request = false;
  std::string path;          // as received, without the query
  std::string verb;          // get list watch create update patch delete deletecollection (lower case)
                             // for non-resource requests: the lower-case HTTP method (get, post, ...)
  std::string api_prefix;    // "api" or "apis"
  std::string api_group;     // "" for the core group
  std::string api_version;   // "v1"
  std::string namespace_;    // "" for cluster-scoped requests
  std::string resource;      // "pods"
  std::string subresource;   // "status", "scale", "log", "exec", ... or ""
  std::string name;          // "" for collection requests
  std::vector<std::string> parts;  // resource path segments after the group/version
};

// Parses a request. Fails with BadRequest for a malformed path (bad percent escape) or query.
// `query` is the parsed query string (watch=true / watch=1 turns list and get into watch).
Result<RequestInfo> ParseRequestInfo(std::string_view method, std::string_view path, const net::Query& query);

}  // namespace ck::apiserver
