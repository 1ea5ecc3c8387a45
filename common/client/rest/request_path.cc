#include "common/client/rest/request_path.h"

#include "common/api/codec.h"
#include "common/api/proto/meta_v1.pb.h"
#include "common/base/check.h"
#include "common/net/url.h"

namespace ck::client {

namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;

std::string GroupVersionPath(const ResourceInfo& resource) {
  if (resource.group.empty()) return "/api/" + resource.version;
  return "/apis/" + resource.group + "/" + resource.version;
}

std::string ResourcePath(const ResourceInfo& resource, std::string_view ns, std::string_view name,
                         std::string_view subresource) {
  std::string path = GroupVersionPath(resource);
  if (resource.namespaced && !ns.empty()) {
    path += "/namespaces/";
    path += net::PercentEncode(ns);
  }
  path += '/';
  path += resource.resource;
  if (!name.empty()) {
    path += '/';
    path += net::PercentEncode(name);
    if (!subresource.empty()) {
      path += '/';
      path += subresource;
    }
  }
  return path;
}

QueryBuilder& QueryBuilder::Add(std::string_view key, std::string_view value) {
  query_ += query_.empty() ? '?' : '&';
  query_ += key;
  query_ += '=';
  query_ += net::PercentEncode(value);
  return *this;
}

std::string QueryBuilder::Build() const { return query_; }

std::string ListQuery(const ListOptions& o, bool watch) {
  QueryBuilder q;
  q.AddIf(watch, "watch", "true");
  q.AddIf(!o.label_selector.empty(), "labelSelector", o.label_selector);
  q.AddIf(!o.field_selector.empty(), "fieldSelector", o.field_selector);
  q.AddIf(!o.resource_version.empty(), "resourceVersion", o.resource_version);
  q.AddIf(!o.resource_version_match.empty(), "resourceVersionMatch", o.resource_version_match);
  q.AddIf(o.limit > 0, "limit", std::to_string(o.limit));
  q.AddIf(!o.continue_token.empty(), "continue", o.continue_token);
  q.AddIf(o.timeout_seconds > 0, "timeoutSeconds", std::to_string(o.timeout_seconds));
  q.AddIf(watch && o.allow_watch_bookmarks, "allowWatchBookmarks", "true");
  return q.Build();
}

std::string GetQuery(const GetOptions& o) {
  return QueryBuilder().AddIf(!o.resource_version.empty(), "resourceVersion", o.resource_version).Build();
}

std::string WriteQuery(const WriteOptions& o, bool apply_patch) {
  QueryBuilder q;
  q.AddIf(o.dry_run, "dryRun", "All");
  q.AddIf(!o.field_manager.empty(), "fieldManager", o.field_manager);
  q.AddIf(!o.field_validation.empty(), "fieldValidation", o.field_validation);
  q.AddIf(apply_patch && o.force, "force", "true");
  return q.Build();
}

std::string DeleteOptionsBody(const DeleteOptions& o) {
  metav1::DeleteOptions body;
  if (o.grace_period_seconds) body.set_graceperiodseconds(*o.grace_period_seconds);
  if (!o.propagation_policy.empty()) body.set_propagationpolicy(o.propagation_policy);
  if (!o.precondition_uid.empty()) body.mutable_preconditions()->set_uid(o.precondition_uid);
  if (!o.precondition_resource_version.empty()) {
    body.mutable_preconditions()->set_resourceversion(o.precondition_resource_version);
  }
  if (o.dry_run) body.add_dryrun("All");
  Result<std::string> json = api::ToJson(body, {"DeleteOptions", "v1"});
  CK_CHECK(json.ok()) << json.status().ToString();
  return std::move(json).value();
}

std::string_view PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::kApply:
      return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

}  // namespace ck::client
