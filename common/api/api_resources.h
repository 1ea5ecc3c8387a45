// The table of every resource ck-apiserver serves: group, version, plural, kind, scope, short
// names, categories, verbs, subresources, the protobuf message behind it and where it is stored.
// Discovery, OpenAPI, routing, RBAC defaults and storage in the apiserver, and the typed client in
// common/client, all read this one table, so adding a resource is one row in api_resources.cc.
// Immutable after start-up; safe to read from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ck::api {

struct SubresourceInfo {
  std::string name;                 // "status", "scale", "log", ...
  std::string group, version, kind;  // the object it speaks (autoscaling/v1 Scale for scale)
  std::vector<std::string> verbs;   // e.g. {"get", "patch", "update"}
};

struct ResourceInfo {
  std::string group;        // "" for core
  std::string version;      // "v1"
  std::string resource;     // plural, lower case: "deployments"
  std::string singular;     // "deployment"
  std::string kind;         // "Deployment"
  bool namespaced = true;
  std::vector<std::string> short_names;  // {"deploy"}
  std::vector<std::string> categories;   // {"all"}
  std::vector<std::string> verbs;        // sorted, upstream spelling
  std::vector<SubresourceInfo> subresources;
  std::string proto_type;       // full protobuf name: "k8s.io.api.apps.v1.Deployment"
  std::string list_proto_type;  // "k8s.io.api.apps.v1.DeploymentList" ("" for create-only kinds)
  // Key prefix in the store: objects live at <storage_prefix><namespace>/<name> (namespaced) or
  // <storage_prefix><name>. Empty for resources that are never stored (access reviews, ...).
  std::string storage_prefix;

  std::string GroupVersion() const { return group.empty() ? version : group + "/" + version; }
  // "deployments.apps", "pods" — the name RBAC and error messages use.
  std::string GroupResource() const { return group.empty() ? resource : resource + "." + group; }
  const SubresourceInfo* FindSubresource(std::string_view name) const;
  bool HasVerb(std::string_view verb) const;
};

// Every served resource, core first, then groups in upstream's discovery order (kubectl resolves
// ambiguous names, such as "events", by this order).
const std::vector<ResourceInfo>& AllResources();

// Groups in discovery order, each with its one version ("v1").
struct GroupInfo {
  std::string name;  // "" for core
  std::string version;
};
const std::vector<GroupInfo>& AllGroups();

const ResourceInfo* FindResource(std::string_view group, std::string_view version, std::string_view resource);
const ResourceInfo* FindResourceByKind(std::string_view group, std::string_view version, std::string_view kind);

}  // namespace ck::api
