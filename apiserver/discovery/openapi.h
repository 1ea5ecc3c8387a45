// OpenAPI v3 documents of ck-apiserver, generated from the protobuf descriptors of the served
// kinds (common/api/proto) and the resource table (apiserver/resources.h).
//
// kubectl reads them for three things (shared/reference/kubectl-api.md §3):
//   - `create -f` / `apply -f` / `replace` / `edit` with default validation: the PATCH operation
//     of the object's GVK must list the `fieldValidation` query parameter, so that kubectl hands
//     validation to the server (?fieldValidation=Strict) instead of failing;
//   - `apply`: the strategic merge patch is computed from the schemas (x-kubernetes-patch-strategy
//     and x-kubernetes-patch-merge-key on list fields: containers by name, ports by containerPort);
//   - `explain`: field names, types and descriptions, found through x-kubernetes-group-version-kind.
// Served paths: /openapi/v3 (the index, each group version with ?hash=<content hash>) and
// /openapi/v3/api/v1, /openapi/v3/apis/<group>/<version>. /openapi/v2 is not served (404).
// Thread-safe: a built OpenApiV3 is immutable.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "apiserver/resources.h"
#include "common/base/clock.h"
#include "common/base/status.h"

namespace ck::apiserver::discovery {

struct OpenApiOptions {
  std::string title = "Kubernetes";
  std::string version = "v1.32.0";  // info.version, as upstream reports its gitVersion
};

// One HTTP answer. status is 200, 301 (the ?hash= is stale: Location names the current one) or
// 304 (If-None-Match matched); body is null for 301 and 304.
struct OpenApiReply {
  int status = 200;
  const std::string* body = nullptr;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // ETag, Cache-Control, Expires, Vary, Location
};

class OpenApiV3 {
 public:
  // Builds the index and one document per group version of `groups`. Fails (Internal) when a
  // resource's proto type is missing from the generated descriptor pool (a table bug).
  static Result<OpenApiV3> Build(const std::vector<ResourceInfo>& resources,
                                 const std::vector<GroupInfo>& groups, const OpenApiOptions& options = {});

  // The reply for `path` ("/openapi/v3" or "/openapi/v3/<gv path>"; one trailing '/' allowed),
  // as upstream's kube-openapi handler answers it:
  //   - a document requested with the current ?hash= is immutable: Cache-Control "public,
  //     immutable", Expires one year after `now`, Vary: Accept;
  //   - a stale hash redirects (301) to the current URL;
  //   - every document carries ETag "\"<hash>\"" and If-None-Match on it gives 304.
  // NotFound for unknown group versions; NotAcceptable when Accept allows no JSON.
  Result<OpenApiReply> Serve(std::string_view path, std::string_view query_hash, std::string_view accept,
                             std::string_view if_none_match, WallTime now) const;

  const std::string& Root() const { return root_; }
  // The document of "api/v1" or "apis/<group>/<version>", nullptr when not served.
  const std::string* Document(std::string_view gv_path) const;
  // Upper-case hex SHA-512 of the document (upstream's hash), "" when not served.
  std::string_view Hash(std::string_view gv_path) const;

 private:
  struct Doc {
    std::string body;
    std::string hash;
  };
  std::string root_;
  std::map<std::string, Doc, std::less<>> docs_;  // by gv path
};

// The OpenAPI schema name of a protobuf message: "k8s.io.api.core.v1.Pod" -> "io.k8s.api.core.v1.Pod".
std::string SchemaName(std::string_view proto_full_name);

}  // namespace ck::apiserver::discovery
