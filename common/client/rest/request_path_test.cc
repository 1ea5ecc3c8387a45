#include "common/client/rest/request_path.h"

#include <gtest/gtest.h>

#include "common/api/api_resources.h"

namespace ck::client {
namespace {

const ResourceInfo& R(std::string_view group, std::string_view resource) {
  for (const ResourceInfo& r : api::AllResources()) {
    if (r.group == group && r.resource == resource) return r;
  }
  ADD_FAILURE() << "no resource " << resource << "." << group;
  static ResourceInfo none;
  return none;
}

TEST(ResourcePath, CoreNamespacedObjectAndSubresource) {
  const ResourceInfo& pods = R("", "pods");
  EXPECT_EQ(ResourcePath(pods, "shop", "web-1"), "/api/v1/namespaces/shop/pods/web-1");
  EXPECT_EQ(ResourcePath(pods, "shop", "web-1", "status"), "/api/v1/namespaces/shop/pods/web-1/status");
  EXPECT_EQ(ResourcePath(pods, "shop", "web-1", "binding"), "/api/v1/namespaces/shop/pods/web-1/binding");
  EXPECT_EQ(ResourcePath(pods, "shop"), "/api/v1/namespaces/shop/pods");
}

TEST(ResourcePath, AllNamespacesIsTheBareCollection) {
  EXPECT_EQ(ResourcePath(R("", "pods"), ""), "/api/v1/pods");
  EXPECT_EQ(ResourcePath(R("apps", "deployments"), ""), "/apis/apps/v1/deployments");
}

TEST(ResourcePath, NamedGroups) {
  EXPECT_EQ(ResourcePath(R("apps", "deployments"), "shop", "web", "scale"),
            "/apis/apps/v1/namespaces/shop/deployments/web/scale");
  EXPECT_EQ(ResourcePath(R("coordination.k8s.io", "leases"), "kube-system", "ck-scheduler"),
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/ck-scheduler");
}

TEST(ResourcePath, ClusterScopeIgnoresTheNamespace) {
  EXPECT_EQ(ResourcePath(R("", "nodes"), "shop", "node-1"), "/api/v1/nodes/node-1");
  EXPECT_EQ(ResourcePath(R("", "namespaces"), "", "shop", "finalize"), "/api/v1/namespaces/shop/finalize");
  EXPECT_EQ(ResourcePath(R("rbac.authorization.k8s.io", "clusterroles"), "", "system:admin"),
            "/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Aadmin");
}

TEST(ListQuery, EveryOptionInOrderAndEscaped) {
  ListOptions o;
  o.label_selector = "app=web,tier in (a,b)";
  o.field_selector = "spec.nodeName=node-1";
  o.resource_version = "42";
  o.resource_version_match = "NotOlderThan";
  o.limit = 500;
  o.continue_token = "eyJ2IjoxfQ==";
  o.timeout_seconds = 300;
  o.allow_watch_bookmarks = true;
  EXPECT_EQ(ListQuery(o, false),
            "?labelSelector=app%3Dweb%2Ctier%20in%20%28a%2Cb%29&fieldSelector=spec.nodeName%3Dnode-1"
            "&resourceVersion=42&resourceVersionMatch=NotOlderThan&limit=500&continue=eyJ2IjoxfQ%3D%3D"
            "&timeoutSeconds=300");
  ListOptions w;
  w.resource_version = "7";
  w.allow_watch_bookmarks = true;
  w.timeout_seconds = 60;
  EXPECT_EQ(ListQuery(w, true), "?watch=true&resourceVersion=7&timeoutSeconds=60&allowWatchBookmarks=true");
  EXPECT_EQ(ListQuery(ListOptions{}, false), "");
}

TEST(WriteQuery, DryRunManagerValidationForce) {
  WriteOptions o;
  o.dry_run = true;
  o.field_manager = "ck-scheduler";
  o.field_validation = "Strict";
  o.force = true;
  EXPECT_EQ(WriteQuery(o), "?dryRun=All&fieldManager=ck-scheduler&fieldValidation=Strict");
  EXPECT_EQ(WriteQuery(o, /*apply_patch=*/true),
            "?dryRun=All&fieldManager=ck-scheduler&fieldValidation=Strict&force=true");
  EXPECT_EQ(WriteQuery(WriteOptions{}), "");
  GetOptions g;
  g.resource_version = "0";
  EXPECT_EQ(GetQuery(g), "?resourceVersion=0");
}

TEST(DeleteOptionsBody, CarriesGracePolicyPreconditionsDryRun) {
  DeleteOptions o;
  o.grace_period_seconds = 0;
  o.propagation_policy = "Foreground";
  o.precondition_uid = "u-1";
  o.precondition_resource_version = "9";
  o.dry_run = true;
  EXPECT_EQ(
      DeleteOptionsBody(o),
      R"({"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0,)"
      R"("preconditions":{"uid":"u-1","resourceVersion":"9"},"propagationPolicy":"Foreground","dryRun":["All"]})");
  EXPECT_EQ(DeleteOptionsBody(DeleteOptions{}), R"({"kind":"DeleteOptions","apiVersion":"v1"})");
}

TEST(PatchContentType, UpstreamMediaTypes) {
  EXPECT_EQ(PatchContentType(PatchType::kJson), "application/json-patch+json");
  EXPECT_EQ(PatchContentType(PatchType::kMerge), "application/merge-patch+json");
  EXPECT_EQ(PatchContentType(PatchType::kStrategicMerge), "application/strategic-merge-patch+json");
  EXPECT_EQ(PatchContentType(PatchType::kApply), "application/apply-patch+yaml");
}

}  // namespace
}  // namespace ck::client
