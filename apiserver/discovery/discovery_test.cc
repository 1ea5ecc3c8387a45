#include "apiserver/discovery/discovery.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "apiserver/discovery/media_type.h"

namespace ck::apiserver::discovery {
namespace {

using nlohmann::json;

// The Accept headers kubectl sends, as recorded from kubectl 1.27 ... 1.33 against a recording
// server (shared/reference/kubectl_probe_server.py).
constexpr std::string_view kAcceptKubectl127To129 =
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
constexpr std::string_view kAcceptKubectl130To133 =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
constexpr std::string_view kAcceptLegacyGroupVersion = "application/json, */*";

TEST(NegotiateDiscoveryTest, KubectlHeaders) {
  struct Case {
    std::string_view accept;
    DiscoveryFormat want;
  };
  const Case cases[] = {
      {kAcceptKubectl127To129, DiscoveryFormat::kV2Beta1},    // kubectl 1.27, 1.28, 1.29
      {kAcceptKubectl130To133, DiscoveryFormat::kV2},         // kubectl 1.30 ... 1.33
      {kAcceptLegacyGroupVersion, DiscoveryFormat::kLegacy},  // legacy per-GV fetches
      {"application/json", DiscoveryFormat::kLegacy},         // -o json, curl
      {"", DiscoveryFormat::kLegacy},
      {"*/*", DiscoveryFormat::kLegacy},
      // Protobuf first (client-go with protobuf content config): skipped, the JSON v2 range wins.
      {"application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
       "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
       DiscoveryFormat::kV2},
      // Unknown versions are skipped.
      {"application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList,application/json",
       DiscoveryFormat::kLegacy},
      // q ordering beats position.
      {"application/json;q=0.5,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
       DiscoveryFormat::kV2Beta1},
      {"application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0,application/json",
       DiscoveryFormat::kLegacy},
      // Spaces and parameter order do not matter.
      {"application/json; as=APIGroupDiscoveryList; v=v2; g=apidiscovery.k8s.io", DiscoveryFormat::kV2},
      // Only protobuf: nothing we serve; legacy JSON is the fallback.
      {"application/vnd.kubernetes.protobuf", DiscoveryFormat::kLegacy},
      // A Table request is not a discovery format.
      {"application/json;as=Table;v=v1;g=meta.k8s.io,application/json", DiscoveryFormat::kLegacy},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(NegotiateDiscovery(c.accept), c.want) << c.accept;
  }
}

TEST(NegotiateDiscoveryTest, ContentTypes) {
  EXPECT_EQ(DiscoveryContentType(DiscoveryFormat::kV2),
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  EXPECT_EQ(DiscoveryContentType(DiscoveryFormat::kV2Beta1),
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList");
  EXPECT_EQ(DiscoveryContentType(DiscoveryFormat::kLegacy), "application/json");
}

TEST(ParseAcceptTest, OrdersByQualityThenSpecificity) {
  auto ranges = ParseAccept("*/*;q=0.8, text/plain;q=0.9, application/json ;v=1, bad, application/*");
  ASSERT_EQ(ranges.size(), 4u);
  EXPECT_EQ(ranges[0].subtype, "json");
  EXPECT_EQ(ranges[0].Param("v"), "1");
  EXPECT_EQ(ranges[1].subtype, "*");
  EXPECT_EQ(ranges[2].subtype, "plain");
  EXPECT_EQ(ranges[3].type, "*");
  EXPECT_TRUE(ParseAccept("").empty());
}

// A small table: golden documents stay readable.
std::vector<ResourceInfo> SmallTable() {
  ResourceInfo pods;
  pods.group = "";
  pods.version = "v1";
  pods.resource = "pods";
  pods.singular = "pod";
  pods.kind = "Pod";
  pods.short_names = {"po"};
  pods.categories = {"all"};
  pods.verbs = {"create", "delete", "get", "list"};
  pods.subresources = {{"status", "", "v1", "Pod", {"get", "patch"}},
                       {"eviction", "policy", "v1", "Eviction", {"create"}}};
  pods.proto_type = "k8s.io.api.core.v1.Pod";
  pods.list_proto_type = "k8s.io.api.core.v1.PodList";
  pods.storage_prefix = "/registry/pods/";
  ResourceInfo nodes = pods;
  nodes.resource = "nodes";
  nodes.singular = "node";
  nodes.kind = "Node";
  nodes.namespaced = false;
  nodes.short_names = {"no"};
  nodes.categories = {};
  nodes.subresources = {};
  nodes.proto_type = "k8s.io.api.core.v1.Node";
  nodes.list_proto_type = "k8s.io.api.core.v1.NodeList";
  nodes.storage_prefix = "/registry/minions/";
  ResourceInfo deploy;
  deploy.group = "apps";
  deploy.version = "v1";
  deploy.resource = "deployments";
  deploy.singular = "deployment";
  deploy.kind = "Deployment";
  deploy.short_names = {"deploy"};
  deploy.categories = {"all"};
  deploy.verbs = {"get", "patch"};
  deploy.subresources = {{"scale", "autoscaling", "v1", "Scale", {"get", "patch", "update"}}};
  deploy.proto_type = "k8s.io.api.apps.v1.Deployment";
  deploy.list_proto_type = "k8s.io.api.apps.v1.DeploymentList";
  return {nodes, pods, deploy};
}

std::vector<GroupInfo> SmallGroups() { return {{"", "v1"}, {"apps", "v1"}}; }

DiscoveryDocuments BuildSmall() {
  DiscoveryOptions o;
  o.server_address = "127.0.0.1:6443";
  auto d = DiscoveryDocuments::Build(SmallTable(), SmallGroups(), o);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return std::move(d).value();
}

TEST(DiscoveryDocumentsTest, AggregatedCoreGolden) {
  DiscoveryDocuments d = BuildSmall();
  json want = json::parse(R"({
    "kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {},
    "items": [{
      "metadata": {"creationTimestamp": null},
      "versions": [{"version": "v1", "freshness": "Current", "resources": [
        {"resource": "nodes", "responseKind": {"group": "", "version": "v1", "kind": "Node"},
         "scope": "Cluster", "singularResource": "node", "verbs": ["create", "delete", "get", "list"],
         "shortNames": ["no"]},
        {"resource": "pods", "responseKind": {"group": "", "version": "v1", "kind": "Pod"},
         "scope": "Namespaced", "singularResource": "pod", "verbs": ["create", "delete", "get", "list"],
         "shortNames": ["po"], "categories": ["all"],
         "subresources": [
           {"subresource": "eviction", "responseKind": {"group": "policy", "version": "v1", "kind": "Eviction"},
            "verbs": ["create"]},
           {"subresource": "status", "responseKind": {"group": "", "version": "v1", "kind": "Pod"},
            "verbs": ["get", "patch"]}]}]}]}]})");
  EXPECT_EQ(json::parse(d.AggregatedCore(DiscoveryFormat::kV2)), want);
  want["apiVersion"] = "apidiscovery.k8s.io/v2beta1";
  EXPECT_EQ(json::parse(d.AggregatedCore(DiscoveryFormat::kV2Beta1)), want);
}

TEST(DiscoveryDocumentsTest, AggregatedGroupsGolden) {
  DiscoveryDocuments d = BuildSmall();
  json want = json::parse(R"({
    "kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {},
    "items": [{
      "metadata": {"name": "apps", "creationTimestamp": null},
      "versions": [{"version": "v1", "freshness": "Current", "resources": [
        {"resource": "deployments", "responseKind": {"group": "apps", "version": "v1", "kind": "Deployment"},
         "scope": "Namespaced", "singularResource": "deployment", "verbs": ["get", "patch"],
         "shortNames": ["deploy"], "categories": ["all"],
         "subresources": [
           {"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
            "verbs": ["get", "patch", "update"]}]}]}]}]})");
  EXPECT_EQ(json::parse(d.AggregatedGroups(DiscoveryFormat::kV2)), want);
}

TEST(DiscoveryDocumentsTest, LegacyGolden) {
  DiscoveryDocuments d = BuildSmall();
  EXPECT_EQ(json::parse(d.ApiVersions()), json::parse(R"({"kind": "APIVersions", "versions": ["v1"],
      "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]})"));
  EXPECT_EQ(json::parse(d.ApiGroupList()), json::parse(R"({"kind": "APIGroupList", "apiVersion": "v1",
      "groups": [{"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
                  "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}]})"));
  ASSERT_NE(d.ApiGroup("apps"), nullptr);
  EXPECT_EQ(json::parse(*d.ApiGroup("apps")), json::parse(R"({"kind": "APIGroup", "apiVersion": "v1",
      "name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
      "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}})"));
  ASSERT_NE(d.ResourceList("", "v1"), nullptr);
  EXPECT_EQ(json::parse(*d.ResourceList("", "v1")), json::parse(R"({
    "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1", "resources": [
      {"name": "nodes", "singularName": "node", "namespaced": false, "kind": "Node",
       "verbs": ["create", "delete", "get", "list"], "shortNames": ["no"], "storageVersionHash": "XwShjMxG9Fs="},
      {"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod",
       "verbs": ["create", "delete", "get", "list"], "shortNames": ["po"], "categories": ["all"],
       "storageVersionHash": "xPOwRZ+Yhw8="},
      {"name": "pods/eviction", "singularName": "", "namespaced": true, "group": "policy", "version": "v1",
       "kind": "Eviction", "verbs": ["create"]},
      {"name": "pods/status", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get", "patch"]}]})"));
  ASSERT_NE(d.ResourceList("apps", "v1"), nullptr);
  EXPECT_EQ(json::parse(*d.ResourceList("apps", "v1")), json::parse(R"({
    "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "apps/v1", "resources": [
      {"name": "deployments", "singularName": "deployment", "namespaced": true, "kind": "Deployment",
       "verbs": ["get", "patch"], "shortNames": ["deploy"], "categories": ["all"]},
      {"name": "deployments/scale", "singularName": "", "namespaced": true, "group": "autoscaling",
       "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]}]})"));
  EXPECT_EQ(d.ResourceList("apps", "v2"), nullptr);
  EXPECT_EQ(d.ApiGroup("batch"), nullptr);
}

TEST(DiscoveryDocumentsTest, StorageVersionHashMatchesUpstream) {
  // Values a real 1.32 apiserver reports.
  EXPECT_EQ(StorageVersionHash("", "v1", "Pod"), "xPOwRZ+Yhw8=");
  EXPECT_EQ(StorageVersionHash("apps", "v1", "Deployment"), "8aSe+NMegvE=");
}

TEST(DiscoveryDocumentsTest, ServeNegotiatesAndRoutes) {
  DiscoveryDocuments d = BuildSmall();
  auto r = d.Serve("/api", kAcceptKubectl130To133);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->content_type, kContentTypeDiscoveryV2);
  EXPECT_EQ(*r->body, d.AggregatedCore(DiscoveryFormat::kV2));
  EXPECT_FALSE(r->etag.empty());

  std::string v2_etag(r->etag);
  r = d.Serve("/api", kAcceptKubectl127To129);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->etag, v2_etag);  // caches must not hand a v2 body to a v2beta1 client

  r = d.Serve("/apis/", kAcceptKubectl127To129);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->content_type, kContentTypeDiscoveryV2Beta1);
  EXPECT_EQ(json::parse(*r->body)["apiVersion"], "apidiscovery.k8s.io/v2beta1");

  r = d.Serve("/apis", "application/json");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->content_type, "application/json");
  EXPECT_EQ(json::parse(*r->body)["kind"], "APIGroupList");
  EXPECT_TRUE(r->etag.empty());

  r = d.Serve("/api/v1", kAcceptLegacyGroupVersion);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(json::parse(*r->body)["kind"], "APIResourceList");
  r = d.Serve("/apis/apps/v1", "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(json::parse(*r->body)["groupVersion"], "apps/v1");
  r = d.Serve("/apis/apps", "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(json::parse(*r->body)["kind"], "APIGroup");

  r = d.Serve("/version", "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(json::parse(*r->body), json::parse(R"({"major": "1", "minor": "32", "gitVersion": "v1.32.0",
      "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
      "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23.0", "compiler": "gc", "platform": "linux/amd64"})"));

  for (std::string_view bad :
       {"/apis/batch", "/apis/apps/v2", "/api/v2", "/apis/apps/v1/deployments", "/apix", "/"}) {
    auto nf = d.Serve(bad, "");
    ASSERT_FALSE(nf.ok()) << bad;
    EXPECT_EQ(nf.status().code(), Code::kNotFound) << bad;
  }
}

// The real table: kubectl's needs (shared/reference/kubectl-api.md §2) are all there.
TEST(DiscoveryDocumentsTest, RealTableHasWhatKubectlNeeds) {
  auto d = DiscoveryDocuments::Build(AllResources(), AllGroups());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  json core = json::parse(d->AggregatedCore(DiscoveryFormat::kV2));
  ASSERT_EQ(core["items"].size(), 1u);
  std::map<std::string, json> core_resources;
  for (const json& r : core["items"][0]["versions"][0]["resources"]) core_resources[r["resource"]] = r;
  for (const char* name : {"pods", "nodes", "namespaces", "services", "events", "configmaps", "secrets",
                           "serviceaccounts", "endpoints"}) {
    ASSERT_TRUE(core_resources.count(name)) << name;
    EXPECT_FALSE(core_resources[name]["verbs"].empty()) << name;
  }
  EXPECT_EQ(core_resources["pods"]["shortNames"], json::parse(R"(["po"])"));
  EXPECT_EQ(core_resources["pods"]["categories"], json::parse(R"(["all"])"));
  EXPECT_EQ(core_resources["namespaces"]["scope"], "Cluster");
  EXPECT_EQ(core_resources["services"]["shortNames"], json::parse(R"(["svc"])"));

  json groups = json::parse(d->AggregatedGroups(DiscoveryFormat::kV2));
  std::vector<std::string> names;
  for (const json& g : groups["items"]) names.push_back(g["metadata"]["name"]);
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names[0], "apps");  // upstream order: apps first, events.k8s.io after core
  std::map<std::string, json> apps;
  for (const json& r : groups["items"][0]["versions"][0]["resources"]) apps[r["resource"]] = r;
  EXPECT_EQ(apps["deployments"]["shortNames"], json::parse(R"(["deploy"])"));

  json rl = json::parse(*d->ResourceList("", "v1"));
  bool saw_log = false, saw_eviction = false;
  for (const json& r : rl["resources"]) {
    if (r["name"] == "pods/log") {
      saw_log = true;
      EXPECT_FALSE(r.contains("group"));
    }
    if (r["name"] == "pods/eviction") {
      saw_eviction = true;
      EXPECT_EQ(r["group"], "policy");
    }
  }
  EXPECT_TRUE(saw_log);
  EXPECT_TRUE(saw_eviction);
  ASSERT_NE(d->ResourceList("authorization.k8s.io", "v1"), nullptr);  // kubectl auth can-i reads it
}

}  // namespace
}  // namespace ck::apiserver::discovery
