// Discovery documents of ck-apiserver: what kubectl reads first to learn which resources exist.
//
// Built once at start-up from the resource table (apiserver/resources.h) and served as
// ready-made JSON strings:
//   /api, /apis          aggregated discovery (apidiscovery.k8s.io v2 or v2beta1, by Accept) or
//                        the legacy APIVersions / APIGroupList;
//   /api/v1, /apis/g/v   legacy APIResourceList (kubectl auth can-i reads these directly);
//   /apis/g              APIGroup;
//   /version             version.Info (minor "32", so gcloud's kubectl dispatcher picks 1.32).
// The aggregated reply must carry the exact Content-Type of the version it holds: kubectl
// ignores an aggregated body sent as plain application/json, and kubectl <= 1.29 understands
// only v2beta1 (shared/reference/kubectl-api.md §2, trap 3).
// Thread-safe: a built DiscoveryDocuments is immutable.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/resources.h"
#include "common/base/status.h"

namespace ck::apiserver::discovery {

enum class DiscoveryFormat {
  kLegacy,   // APIVersions / APIGroupList, Content-Type application/json
  kV2,       // APIGroupDiscoveryList, apidiscovery.k8s.io/v2
  kV2Beta1,  // APIGroupDiscoveryList, apidiscovery.k8s.io/v2beta1
};

inline constexpr std::string_view kContentTypeJson = "application/json";
inline constexpr std::string_view kContentTypeDiscoveryV2 =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
inline constexpr std::string_view kContentTypeDiscoveryV2Beta1 =
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

// Picks the reply format for /api and /apis from the request's Accept header, as upstream's
// content negotiation does: media ranges are tried in order of q (then position); the first one
// we can serve wins. JSON aggregated ranges with v=v2 or v=v2beta1 give that version; plain
// application/json, application/*, */* (and an empty or unparsable header) give kLegacy; ranges
// we cannot serve (protobuf, q=0, unknown versions) are skipped.
DiscoveryFormat NegotiateDiscovery(std::string_view accept);

// The Content-Type to answer with for `format`.
std::string_view DiscoveryContentType(DiscoveryFormat format);

// The fields of upstream's version.Info, as `GET /version` returns them.
struct VersionInfo {
  std::string major = "1";
  std::string minor = "32";
  std::string git_version = "v1.32.0";
  std::string git_commit = "0000000000000000000000000000000000000000";
  std::string git_tree_state = "clean";
  std::string build_date = "2025-01-01T00:00:00Z";
  std::string go_version = "go1.23.0";
  std::string compiler = "gc";
  std::string platform = "linux/amd64";
};

struct DiscoveryOptions {
  // serverAddressByClientCIDRs of APIVersions ("0.0.0.0/0" -> this address).
  std::string server_address = "127.0.0.1:6443";
  VersionInfo version;
};

// One discovery reply: the body and its Content-Type. `etag` is set for the aggregated documents
// (upstream sends one and answers If-None-Match with 304); empty otherwise.
struct DiscoveryReply {
  const std::string* body = nullptr;
  std::string_view content_type;
  std::string_view etag;
};

class DiscoveryDocuments {
 public:
  // Builds every document. Fails (Internal) only if the JSON codec rejects a message, which is a
  // bug; the resource table is trusted (it is code).
  static Result<DiscoveryDocuments> Build(const std::vector<ResourceInfo>& resources,
                                          const std::vector<GroupInfo>& groups,
                                          const DiscoveryOptions& options = {});

  // The reply for a discovery path (query string already removed; one trailing '/' allowed):
  // "/api", "/apis", "/api/v1", "/apis/<g>", "/apis/<g>/<v>", "/version". NotFound (with
  // upstream's message "the server could not find the requested resource") for anything else,
  // including unknown groups and versions. The pointers stay valid for the life of *this.
  Result<DiscoveryReply> Serve(std::string_view path, std::string_view accept) const;

  // The documents one by one (tests, tools).
  const std::string& AggregatedCore(DiscoveryFormat format) const;    // /api, format != kLegacy
  const std::string& AggregatedGroups(DiscoveryFormat format) const;  // /apis, format != kLegacy
  const std::string& ApiVersions() const { return api_versions_; }
  const std::string& ApiGroupList() const { return api_group_list_; }
  const std::string& Version() const { return version_; }
  // nullptr when the group (or group version) is not served. Core is group "".
  const std::string* ApiGroup(std::string_view group) const;
  const std::string* ResourceList(std::string_view group, std::string_view version) const;

 private:
  struct Tagged {
    std::string body;
    std::string etag;  // "\"<hex sha256 of body>\""
  };
  const Tagged& Aggregated(bool core, DiscoveryFormat format) const;
  Tagged agg_core_v2_, agg_core_v2beta1_, agg_groups_v2_, agg_groups_v2beta1_;
  std::string api_versions_, api_group_list_, version_;
  std::map<std::string, std::string, std::less<>> api_groups_;      // group -> APIGroup
  std::map<std::string, std::string, std::less<>> resource_lists_;  // "g/v" or "v1" -> list
};

// upstream's storageVersionHash: base64 of the first 8 bytes of sha256("<group>/<version>/<kind>").
std::string StorageVersionHash(std::string_view group, std::string_view version, std::string_view kind);

}  // namespace ck::apiserver::discovery
