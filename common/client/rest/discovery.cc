#include "common/client/rest/discovery.h"

#include <algorithm>

#include "common/api/codec.h"
#include "common/api/kinds.h"
#include "common/api/proto/apidiscovery_v2.pb.h"
#include "common/api/proto/meta_v1.pb.h"
#include "common/client/rest/api_errors.h"

namespace ck::client {

namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;
namespace apidv2 = ::k8s::io::api::apidiscovery::v2;

namespace {

constexpr const char* kAcceptAggregated =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

// GETs `path`: the answer of a 2xx, its error otherwise.
Result<net::Response> Get(RestApiClient& client, const std::string& path, const std::string& accept) {
  RawRequest req;
  req.path = path;
  req.accept = accept;
  CK_ASSIGN_OR_RETURN(net::Response r, client.DoRaw(req));
  if (r.status < 200 || r.status >= 300)
    return StatusFromResponse(r.status, r.body).WithPrefix("GET " + path);
  return r;
}

Status Decode(const std::string& path, const std::string& body, google::protobuf::Message* out) {
  api::DecodeOptions o;
  o.field_validation = api::FieldValidation::kIgnore;
  Status s = api::FromJson(body, out, o);
  if (!s.ok()) return s.WithPrefix("GET " + path);
  return Status::Ok();
}

// GETs `path` as JSON and decodes it into *out.
Status Fetch(RestApiClient& client, const std::string& path, google::protobuf::Message* out) {
  CK_ASSIGN_OR_RETURN(net::Response r, Get(client, path, "application/json"));
  return Decode(path, r.body, out);
}

std::string GroupVersionOf(const std::string& group, const std::string& version) {
  return group.empty() ? version : group + "/" + version;
}

// Fills the message types from the table (or from kinds.h for kinds it does not list).
void FillTypes(ResourceInfo* r) {
  if (const ResourceInfo* known = api::FindResource(r->group, r->version, r->resource)) {
    r->proto_type = known->proto_type;
    r->list_proto_type = known->list_proto_type;
    r->storage_prefix = known->storage_prefix;
    return;
  }
  std::string gv = r->GroupVersion();
  if (const auto* d = api::FindKind(gv, r->kind)) r->proto_type = d->full_name();
  if (const auto* d = api::FindKind(gv, r->kind + "List")) r->list_proto_type = d->full_name();
}

std::vector<std::string> Sorted(const google::protobuf::RepeatedPtrField<std::string>& v) {
  std::vector<std::string> out(v.begin(), v.end());
  std::sort(out.begin(), out.end());
  return out;
}

// The resources of one APIResourceList, subresources attached to their parents.
std::vector<ResourceInfo> FromResourceList(const metav1::APIResourceList& list) {
  std::string group, version = list.groupversion();
  if (size_t slash = version.find('/'); slash != std::string::npos) {
    group = version.substr(0, slash);
    version = version.substr(slash + 1);
  }
  std::vector<ResourceInfo> out;
  for (const metav1::APIResource& a : list.resources()) {
    if (a.name().find('/') != std::string::npos) continue;
    ResourceInfo r;
    r.group = group;
    r.version = version;
    r.resource = a.name();
    r.singular = a.singularname();
    r.kind = a.kind();
    r.namespaced = a.namespaced();
    r.short_names.assign(a.shortnames().begin(), a.shortnames().end());
    r.categories.assign(a.categories().begin(), a.categories().end());
    r.verbs = Sorted(a.verbs().items());
    FillTypes(&r);
    out.push_back(std::move(r));
  }
  for (const metav1::APIResource& a : list.resources()) {
    size_t slash = a.name().find('/');
    if (slash == std::string::npos) continue;
    std::string parent = a.name().substr(0, slash);
    for (ResourceInfo& r : out) {
      if (r.resource != parent) continue;
      api::SubresourceInfo sub;
      sub.name = a.name().substr(slash + 1);
      sub.group = a.has_group() ? a.group() : group;
      sub.version = a.has_version() ? a.version() : version;
      sub.kind = a.kind();
      sub.verbs = Sorted(a.verbs().items());
      r.subresources.push_back(std::move(sub));
    }
  }
  return out;
}

void AppendAggregated(const apidv2::APIGroupDiscoveryList& list, std::vector<ResourceInfo>* out) {
  for (const apidv2::APIGroupDiscovery& g : list.items()) {
    for (const apidv2::APIVersionDiscovery& v : g.versions()) {
      for (const apidv2::APIResourceDiscovery& a : v.resources()) {
        ResourceInfo r;
        r.group = g.metadata().name();
        r.version = v.version();
        r.resource = a.resource();
        r.singular = a.singularresource();
        r.kind = a.responsekind().kind();
        r.namespaced = a.scope() == "Namespaced";
        r.short_names.assign(a.shortnames().begin(), a.shortnames().end());
        r.categories.assign(a.categories().begin(), a.categories().end());
        r.verbs = Sorted(a.verbs());
        for (const apidv2::APISubresourceDiscovery& s : a.subresources()) {
          api::SubresourceInfo sub;
          sub.name = s.subresource();
          sub.group = s.has_responsekind() ? s.responsekind().group() : r.group;
          sub.version = s.has_responsekind() ? s.responsekind().version() : r.version;
          sub.kind = s.has_responsekind() ? s.responsekind().kind() : r.kind;
          sub.verbs = Sorted(s.verbs());
          r.subresources.push_back(std::move(sub));
        }
        FillTypes(&r);
        out->push_back(std::move(r));
      }
    }
  }
}

bool IsAggregated(const std::string& content_type) {
  return content_type.find("as=APIGroupDiscoveryList") != std::string::npos &&
         content_type.find("g=apidiscovery.k8s.io") != std::string::npos;
}

}  // namespace

Result<std::vector<ResourceInfo>> DiscoveryClient::ServerResources(std::vector<std::string>* failed) {
  std::vector<ResourceInfo> out;
  for (const char* root : {"/api", "/apis"}) {
    CK_ASSIGN_OR_RETURN(net::Response r, Get(client_, root, kAcceptAggregated));
    if (!IsAggregated(std::string(r.headers.Get("Content-Type")))) return LegacyServerResources(failed);
    apidv2::APIGroupDiscoveryList list;
    CK_RETURN_IF_ERROR(Decode(root, r.body, &list));
    AppendAggregated(list, &out);
  }
  return out;
}

Result<std::vector<std::string>> DiscoveryClient::ServerGroupVersions() {
  std::vector<std::string> out;
  metav1::APIVersions core;
  CK_RETURN_IF_ERROR(Fetch(client_, "/api", &core));
  out.assign(core.versions().begin(), core.versions().end());
  metav1::APIGroupList groups;
  CK_RETURN_IF_ERROR(Fetch(client_, "/apis", &groups));
  for (const metav1::APIGroup& g : groups.groups()) {
    for (const metav1::GroupVersionForDiscovery& v : g.versions()) {
      out.push_back(v.groupversion().empty() ? GroupVersionOf(g.name(), v.version()) : v.groupversion());
    }
  }
  return out;
}

Result<std::vector<ResourceInfo>> DiscoveryClient::ServerResourcesForGroupVersion(
    const std::string& group_version) {
  std::string path =
      group_version.find('/') == std::string::npos ? "/api/" + group_version : "/apis/" + group_version;
  metav1::APIResourceList list;
  CK_RETURN_IF_ERROR(Fetch(client_, path, &list));
  if (list.groupversion().empty()) list.set_groupversion(group_version);
  return FromResourceList(list);
}

Result<std::vector<ResourceInfo>> DiscoveryClient::LegacyServerResources(std::vector<std::string>* failed) {
  CK_ASSIGN_OR_RETURN(std::vector<std::string> group_versions, ServerGroupVersions());
  std::vector<ResourceInfo> out;
  for (const std::string& gv : group_versions) {
    Result<std::vector<ResourceInfo>> resources = ServerResourcesForGroupVersion(gv);
    if (!resources.ok()) {
      if (failed == nullptr) return resources.status();
      failed->push_back(gv);
      continue;
    }
    for (ResourceInfo& r : *resources) out.push_back(std::move(r));
  }
  return out;
}

std::vector<ResourceInfo> FilterByVerbs(const std::vector<ResourceInfo>& resources,
                                        const std::vector<std::string>& verbs) {
  std::vector<ResourceInfo> out;
  for (const ResourceInfo& r : resources) {
    bool all = std::all_of(verbs.begin(), verbs.end(), [&](const std::string& v) {
      return std::find(r.verbs.begin(), r.verbs.end(), v) != r.verbs.end();
    });
    if (all) out.push_back(r);
  }
  return out;
}

const ResourceInfo* FindDiscovered(const std::vector<ResourceInfo>& resources, const std::string& group,
                                   const std::string& resource) {
  for (const ResourceInfo& r : resources) {
    if (r.group == group && r.resource == resource) return &r;
  }
  return nullptr;
}

}  // namespace ck::client
