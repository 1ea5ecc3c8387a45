#include "apiserver/discovery/discovery.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstdio>

#include "apiserver/discovery/json_builder.h"
#include "apiserver/discovery/media_type.h"
#include "common/api/codec.h"
#include "common/api/proto/apidiscovery_v2.pb.h"
#include "common/api/proto/meta_v1.pb.h"

namespace ck::apiserver::discovery {

namespace {

namespace apid = k8s::io::api::apidiscovery::v2;
namespace metav1 = k8s::io::apimachinery::pkg::apis::meta::v1;

constexpr std::string_view kNotFound = "the server could not find the requested resource";

std::string HexSha256(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  std::string out;
  char buf[3];
  for (unsigned char b : digest) {
    std::snprintf(buf, sizeof buf, "%02X", b);
    out.append(buf, 2);
  }
  return out;
}

// Resources of one group version, sorted by name as upstream lists them.
std::vector<const ResourceInfo*> ResourcesOf(const std::vector<ResourceInfo>& all, std::string_view group,
                                             std::string_view version) {
  std::vector<const ResourceInfo*> out;
  for (const auto& r : all) {
    if (r.group == group && r.version == version) out.push_back(&r);
  }
  std::sort(out.begin(), out.end(),
            [](const ResourceInfo* a, const ResourceInfo* b) { return a->resource < b->resource; });
  return out;
}

std::vector<const SubresourceInfo*> SortedSubresources(const ResourceInfo& r) {
  std::vector<const SubresourceInfo*> out;
  for (const auto& s : r.subresources) out.push_back(&s);
  std::sort(out.begin(), out.end(),
            [](const SubresourceInfo* a, const SubresourceInfo* b) { return a->name < b->name; });
  return out;
}

void SetGvk(metav1::GroupVersionKind* gvk, const std::string& group, const std::string& version,
            const std::string& kind) {
  gvk->set_group(group);
  gvk->set_version(version);
  gvk->set_kind(kind);
}

void FillGroupDiscovery(const std::vector<ResourceInfo>& all, const GroupInfo& g,
                        apid::APIGroupDiscovery* out) {
  out->mutable_metadata();
  if (!g.name.empty()) out->mutable_metadata()->set_name(g.name);
  auto* v = out->add_versions();
  v->set_version(g.version);
  v->set_freshness("Current");
  for (const ResourceInfo* r : ResourcesOf(all, g.name, g.version)) {
    auto* d = v->add_resources();
    d->set_resource(r->resource);
    SetGvk(d->mutable_responsekind(), r->group, r->version, r->kind);
    d->set_scope(r->namespaced ? "Namespaced" : "Cluster");
    d->set_singularresource(r->singular);
    for (const auto& verb : r->verbs) d->add_verbs(verb);
    for (const auto& s : r->short_names) d->add_shortnames(s);
    for (const auto& c : r->categories) d->add_categories(c);
    for (const SubresourceInfo* s : SortedSubresources(*r)) {
      auto* sd = d->add_subresources();
      sd->set_subresource(s->name);
      SetGvk(sd->mutable_responsekind(), s->group, s->version, s->kind);
      for (const auto& verb : s->verbs) sd->add_verbs(verb);
    }
  }
}

Result<std::string> Encode(const google::protobuf::Message& m, std::string_view kind,
                           std::string_view api_version) {
  api::EncodeOptions o;
  o.kind = kind;
  o.api_version = api_version;
  auto r = api::ToJson(m, o);
  if (!r.ok()) return Internal("encoding " + std::string(kind) + ": " + r.status().message());
  return r;
}

std::string VersionJson(const VersionInfo& v) {
  Json j = Json::Object();
  j["major"] = v.major;
  j["minor"] = v.minor;
  j["gitVersion"] = v.git_version;
  j["gitCommit"] = v.git_commit;
  j["gitTreeState"] = v.git_tree_state;
  j["buildDate"] = v.build_date;
  j["goVersion"] = v.go_version;
  j["compiler"] = v.compiler;
  j["platform"] = v.platform;
  return j.Dump();
}

void FillGroupVersion(metav1::GroupVersionForDiscovery* gv, const GroupInfo& g) {
  gv->set_groupversion(g.name + "/" + g.version);
  gv->set_version(g.version);
}

}  // namespace

DiscoveryFormat NegotiateDiscovery(std::string_view accept) {
  for (const MediaRange& m : ParseAccept(accept)) {
    if (m.q <= 0) continue;
    bool json = (m.type == "application" && m.subtype == "json");
    bool wildcard = (m.type == "*" || (m.type == "application" && m.subtype == "*"));
    if (!json && !wildcard) continue;  // protobuf, yaml, text: not served here
    std::string_view as = m.Param("as");
    if (as.empty()) {
      // A bare JSON (or wildcard) range without other selectors accepts the legacy documents.
      if (m.Param("g").empty() && m.Param("v").empty()) return DiscoveryFormat::kLegacy;
      continue;
    }
    if (!json || as != "APIGroupDiscoveryList" || m.Param("g") != "apidiscovery.k8s.io") continue;
    std::string_view v = m.Param("v");
    if (v == "v2") return DiscoveryFormat::kV2;
    if (v == "v2beta1") return DiscoveryFormat::kV2Beta1;
  }
  return DiscoveryFormat::kLegacy;
}

std::string_view DiscoveryContentType(DiscoveryFormat format) {
  switch (format) {
    case DiscoveryFormat::kV2:
      return kContentTypeDiscoveryV2;
    case DiscoveryFormat::kV2Beta1:
      return kContentTypeDiscoveryV2Beta1;
    case DiscoveryFormat::kLegacy:
      break;
  }
  return kContentTypeJson;
}

std::string StorageVersionHash(std::string_view group, std::string_view version, std::string_view kind) {
  std::string gvk = std::string(group) + "/" + std::string(version) + "/" + std::string(kind);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(gvk.data()), gvk.size(), digest);
  unsigned char b64[16];
  int n = EVP_EncodeBlock(b64, digest, 8);
  return std::string(reinterpret_cast<char*>(b64), static_cast<size_t>(n));
}

Result<DiscoveryDocuments> DiscoveryDocuments::Build(const std::vector<ResourceInfo>& resources,
                                                     const std::vector<GroupInfo>& groups,
                                                     const DiscoveryOptions& options) {
  DiscoveryDocuments d;

  // Aggregated: /api holds the core group only, /apis every other group in table order.
  apid::APIGroupDiscoveryList core, named;
  core.mutable_metadata();
  named.mutable_metadata();
  for (const GroupInfo& g : groups) {
    FillGroupDiscovery(resources, g, g.name.empty() ? core.add_items() : named.add_items());
  }
  CK_ASSIGN_OR_RETURN(d.agg_core_v2_.body, Encode(core, "APIGroupDiscoveryList", "apidiscovery.k8s.io/v2"));
  CK_ASSIGN_OR_RETURN(d.agg_core_v2beta1_.body,
                      Encode(core, "APIGroupDiscoveryList", "apidiscovery.k8s.io/v2beta1"));
  CK_ASSIGN_OR_RETURN(d.agg_groups_v2_.body,
                      Encode(named, "APIGroupDiscoveryList", "apidiscovery.k8s.io/v2"));
  CK_ASSIGN_OR_RETURN(d.agg_groups_v2beta1_.body,
                      Encode(named, "APIGroupDiscoveryList", "apidiscovery.k8s.io/v2beta1"));
  // A tag per body, so that a cache never mixes the two versions.
  for (Tagged* t : {&d.agg_core_v2_, &d.agg_core_v2beta1_, &d.agg_groups_v2_, &d.agg_groups_v2beta1_}) {
    t->etag = "\"" + HexSha256(t->body) + "\"";
  }

  // Legacy /api: APIVersions (upstream writes no apiVersion here).
  metav1::APIVersions versions;
  for (const GroupInfo& g : groups) {
    if (g.name.empty()) versions.add_versions(g.version);
  }
  auto* addr = versions.add_serveraddressbyclientcidrs();
  addr->set_clientcidr("0.0.0.0/0");
  addr->set_serveraddress(options.server_address);
  CK_ASSIGN_OR_RETURN(d.api_versions_, Encode(versions, "APIVersions", ""));

  // Legacy /apis and /apis/<g>.
  metav1::APIGroupList group_list;
  for (const GroupInfo& g : groups) {
    if (g.name.empty()) continue;
    metav1::APIGroup* ag = group_list.add_groups();
    ag->set_name(g.name);
    FillGroupVersion(ag->add_versions(), g);
    FillGroupVersion(ag->mutable_preferredversion(), g);
    CK_ASSIGN_OR_RETURN(d.api_groups_[g.name], Encode(*ag, "APIGroup", "v1"));
  }
  CK_ASSIGN_OR_RETURN(d.api_group_list_, Encode(group_list, "APIGroupList", "v1"));

  // Legacy /api/v1 and /apis/<g>/<v>: resources, then each one's subresources as "pods/status".
  for (const GroupInfo& g : groups) {
    metav1::APIResourceList list;
    std::string gv = g.name.empty() ? g.version : g.name + "/" + g.version;
    list.set_groupversion(gv);
    for (const ResourceInfo* r : ResourcesOf(resources, g.name, g.version)) {
      metav1::APIResource* ar = list.add_resources();
      ar->set_name(r->resource);
      ar->set_singularname(r->singular);
      ar->set_namespaced(r->namespaced);
      ar->set_kind(r->kind);
      for (const auto& verb : r->verbs) ar->mutable_verbs()->add_items(verb);
      for (const auto& s : r->short_names) ar->add_shortnames(s);
      for (const auto& c : r->categories) ar->add_categories(c);
      if (!r->storage_prefix.empty())
        ar->set_storageversionhash(StorageVersionHash(r->group, r->version, r->kind));
      for (const SubresourceInfo* s : SortedSubresources(*r)) {
        metav1::APIResource* sr = list.add_resources();
        sr->set_name(r->resource + "/" + s->name);
        sr->set_singularname("");
        sr->set_namespaced(r->namespaced);
        if (s->group != r->group || s->version != r->version) {
          sr->set_group(s->group);
          sr->set_version(s->version);
        }
        sr->set_kind(s->kind);
        for (const auto& verb : s->verbs) sr->mutable_verbs()->add_items(verb);
      }
    }
    CK_ASSIGN_OR_RETURN(d.resource_lists_[gv], Encode(list, "APIResourceList", "v1"));
  }

  d.version_ = VersionJson(options.version);
  return d;
}

const DiscoveryDocuments::Tagged& DiscoveryDocuments::Aggregated(bool core, DiscoveryFormat format) const {
  CK_CHECK(format != DiscoveryFormat::kLegacy);
  if (core) return format == DiscoveryFormat::kV2 ? agg_core_v2_ : agg_core_v2beta1_;
  return format == DiscoveryFormat::kV2 ? agg_groups_v2_ : agg_groups_v2beta1_;
}

const std::string& DiscoveryDocuments::AggregatedCore(DiscoveryFormat format) const {
  return Aggregated(true, format).body;
}

const std::string& DiscoveryDocuments::AggregatedGroups(DiscoveryFormat format) const {
  return Aggregated(false, format).body;
}

const std::string* DiscoveryDocuments::ApiGroup(std::string_view group) const {
  auto it = api_groups_.find(group);
  return it == api_groups_.end() ? nullptr : &it->second;
}

const std::string* DiscoveryDocuments::ResourceList(std::string_view group, std::string_view version) const {
  std::string gv = group.empty() ? std::string(version) : std::string(group) + "/" + std::string(version);
  auto it = resource_lists_.find(gv);
  return it == resource_lists_.end() ? nullptr : &it->second;
}

Result<DiscoveryReply> DiscoveryDocuments::Serve(std::string_view path, std::string_view accept) const {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  DiscoveryReply reply;
  reply.content_type = kContentTypeJson;
  if (path == "/version") {
    reply.body = &version_;
    return reply;
  }
  if (path == "/api" || path == "/apis") {
    bool core = path == "/api";
    DiscoveryFormat f = NegotiateDiscovery(accept);
    if (f == DiscoveryFormat::kLegacy) {
      reply.body = core ? &api_versions_ : &api_group_list_;
    } else {
      const Tagged& t = Aggregated(core, f);
      reply.body = &t.body;
      reply.content_type = DiscoveryContentType(f);
      reply.etag = t.etag;
    }
    return reply;
  }
  if (path.substr(0, 5) == "/api/") {
    reply.body = ResourceList("", path.substr(5));
    if (reply.body != nullptr) return reply;
    return NotFound(std::string(kNotFound));
  }
  if (path.substr(0, 6) == "/apis/") {
    std::string_view rest = path.substr(6);
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) {
      reply.body = ApiGroup(rest);
    } else if (rest.find('/', slash + 1) == std::string_view::npos && slash > 0) {
      reply.body = ResourceList(rest.substr(0, slash), rest.substr(slash + 1));
    }
    if (reply.body != nullptr) return reply;
  }
  return NotFound(std::string(kNotFound));
}

}  // namespace ck::apiserver::discovery
