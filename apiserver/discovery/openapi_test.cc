#include "apiserver/discovery/openapi.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "apiserver/discovery/discovery.h"

namespace ck::apiserver::discovery {
namespace {

using nlohmann::json;

const OpenApiV3& Docs() {
  static const OpenApiV3* docs = [] {
    auto r = OpenApiV3::Build(AllResources(), AllGroups());
    CK_CHECK(r.ok()) << r.status().ToString();
    return new OpenApiV3(std::move(r).value());
  }();
  return *docs;
}

std::string GvPath(const GroupInfo& g) {
  return g.name.empty() ? "api/" + g.version : "apis/" + g.name + "/" + g.version;
}

json Doc(std::string_view gv_path) {
  const std::string* d = Docs().Document(gv_path);
  CK_CHECK(d != nullptr) << std::string(gv_path);
  return json::parse(*d);
}

// Follows allOf[0] / $ref the way kubectl's strategic-merge-patch schema lookup does.
const json& Resolve(const json& doc, const json& schema) {
  const json* s = &schema;
  if (s->contains("allOf")) s = &(*s)["allOf"][0];
  if (s->contains("$ref")) {
    std::string ref = (*s)["$ref"];
    const std::string prefix = "#/components/schemas/";
    CK_CHECK(ref.rfind(prefix, 0) == 0) << ref;
    return doc["components"]["schemas"].at(ref.substr(prefix.size()));
  }
  return *s;
}

TEST(OpenApiTest, RootListsEveryGroupVersionWithItsHash) {
  json root = json::parse(Docs().Root());
  for (const GroupInfo& g : AllGroups()) {
    std::string p = GvPath(g);
    ASSERT_TRUE(root["paths"].contains(p)) << p;
    EXPECT_EQ(root["paths"][p]["serverRelativeURL"],
              "/openapi/v3/" + p + "?hash=" + std::string(Docs().Hash(p)));
    EXPECT_EQ(Docs().Hash(p).size(), 128u);  // SHA-512, upper-case hex
  }
  EXPECT_EQ(root["paths"].size(), AllGroups().size());
}

// kubectl hands validation to the server only if the PATCH operation of the object's GVK lists
// fieldValidation; it looks at the first PATCH it meets for the GVK, so every one must have it.
TEST(OpenApiTest, EveryPatchableKindHasPatchWithFieldValidation) {
  for (const GroupInfo& g : AllGroups()) {
    json doc = Doc(GvPath(g));
    for (const ResourceInfo& r : AllResources()) {
      if (r.group != g.name || r.version != g.version || !r.HasVerb("patch")) continue;
      std::string item =
          "/" + GvPath(g) + (r.namespaced ? "/namespaces/{namespace}/" : "/") + r.resource + "/{name}";
      ASSERT_TRUE(doc["paths"].contains(item)) << item;
      const json& patch = doc["paths"][item]["patch"];
      EXPECT_EQ(patch["x-kubernetes-group-version-kind"],
                json({{"group", r.group}, {"kind", r.kind}, {"version", r.version}}))
          << item;
      int found = 0;
      for (const json& p : patch["parameters"]) {
        if (p["name"] == "fieldValidation" && p["in"] == "query") ++found;
      }
      EXPECT_EQ(found, 1) << item;
      EXPECT_TRUE(patch["requestBody"]["content"].contains("application/strategic-merge-patch+json")) << item;
    }
    for (const auto& [path, item] : doc["paths"].items()) {
      if (!item.contains("patch") || item["patch"]["x-kubernetes-action"] != "patch") continue;
      bool has = false;
      for (const json& p : item["patch"]["parameters"]) has = has || p["name"] == "fieldValidation";
      EXPECT_TRUE(has) << path;
    }
  }
}

TEST(OpenApiTest, EveryKindHasAGvkTaggedSchema) {
  for (const GroupInfo& g : AllGroups()) {
    json doc = Doc(GvPath(g));
    std::set<std::string> tagged;
    for (const auto& [name, schema] : doc["components"]["schemas"].items()) {
      if (!schema.contains("x-kubernetes-group-version-kind")) continue;
      for (const json& gvk : schema["x-kubernetes-group-version-kind"]) {
        tagged.insert(gvk["group"].get<std::string>() + "/" + gvk["version"].get<std::string>() + "/" +
                      gvk["kind"].get<std::string>());
      }
      EXPECT_TRUE(schema["properties"].contains("apiVersion")) << name;
      EXPECT_TRUE(schema["properties"].contains("kind")) << name;
    }
    for (const ResourceInfo& r : AllResources()) {
      if (r.group != g.name || r.version != g.version) continue;
      EXPECT_TRUE(tagged.count(r.group + "/" + r.version + "/" + r.kind)) << r.kind;
      if (!r.list_proto_type.empty()) {
        EXPECT_TRUE(tagged.count(r.group + "/" + r.version + "/" + r.kind + "List")) << r.kind;
      }
    }
  }
}

TEST(OpenApiTest, PodSchemaCarriesMergeKeysAndTypes) {
  json doc = Doc("api/v1");
  const json& schemas = doc["components"]["schemas"];
  ASSERT_TRUE(schemas.contains("io.k8s.api.core.v1.Pod"));
  const json& pod = schemas["io.k8s.api.core.v1.Pod"];
  EXPECT_EQ(pod["x-kubernetes-group-version-kind"],
            json::parse(R"([{"group":"","kind":"Pod","version":"v1"}])"));
  EXPECT_EQ(pod["properties"]["metadata"]["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  const json& spec = Resolve(doc, pod["properties"]["spec"]);
  const json& containers = spec["properties"]["containers"];
  EXPECT_EQ(containers["type"], "array");
  EXPECT_EQ(containers["items"]["allOf"][0]["$ref"], "#/components/schemas/io.k8s.api.core.v1.Container");
  EXPECT_EQ(containers["x-kubernetes-patch-merge-key"], "name");
  EXPECT_EQ(containers["x-kubernetes-patch-strategy"], "merge");
  EXPECT_EQ(containers["x-kubernetes-list-type"], "map");
  EXPECT_EQ(containers["x-kubernetes-list-map-keys"], json::parse(R"(["name"])"));
  EXPECT_EQ(spec["properties"]["volumes"]["x-kubernetes-patch-strategy"], "merge,retainKeys");
  EXPECT_FALSE(spec["properties"]["tolerations"].contains("x-kubernetes-patch-merge-key"));
  EXPECT_NE(std::find(spec["required"].begin(), spec["required"].end(), "containers"),
            spec["required"].end());

  const json& container = schemas["io.k8s.api.core.v1.Container"];
  EXPECT_EQ(container["properties"]["ports"]["x-kubernetes-patch-merge-key"], "containerPort");
  EXPECT_EQ(container["properties"]["ports"]["x-kubernetes-list-map-keys"],
            json::parse(R"(["containerPort","protocol"])"));
  EXPECT_EQ(container["properties"]["env"]["x-kubernetes-patch-merge-key"], "name");
  EXPECT_EQ(container["properties"]["volumeMounts"]["x-kubernetes-patch-merge-key"], "mountPath");
  EXPECT_EQ(container["properties"]["image"]["type"], "string");
  EXPECT_EQ(container["properties"]["args"], json::parse(R"({"type":"array","items":{"type":"string"},
      "description":"Arguments to the entrypoint. The image's CMD is used when empty.","x-kubernetes-list-type":"atomic"})"));
  EXPECT_EQ(container["properties"]["stdin"]["type"], "boolean");
  EXPECT_EQ(container["required"], json::parse(R"(["name"])"));
  EXPECT_FALSE(container["properties"]["name"]["description"].get<std::string>().empty());

  // Maps, int32/int64, the special types.
  const json& resources = schemas["io.k8s.api.core.v1.ResourceRequirements"];
  EXPECT_EQ(resources["properties"]["limits"]["type"], "object");
  EXPECT_EQ(resources["properties"]["limits"]["additionalProperties"]["$ref"],
            "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity");
  EXPECT_EQ(schemas["io.k8s.api.core.v1.ContainerPort"]["properties"]["containerPort"],
            json::parse(R"({"type":"integer","format":"int32"})"));
  EXPECT_EQ(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"]["generation"]["format"],
            "int64");
  EXPECT_EQ(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"]["labels"]
                   ["additionalProperties"],
            json::parse(R"({"type":"string"})"));
  const json& time = schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Time"];
  EXPECT_EQ(time["type"], "string");
  EXPECT_EQ(time["format"], "date-time");
  const json& ios = schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"];
  EXPECT_EQ(ios["x-kubernetes-int-or-string"], true);
  EXPECT_EQ(ios["format"], "int-or-string");
  EXPECT_EQ(schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"]["oneOf"],
            json::parse(R"([{"type":"string"},{"type":"number"}])"));
  EXPECT_EQ(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1"]["type"], "object");
  // Secret data is base64.
  EXPECT_EQ(schemas["io.k8s.api.core.v1.Secret"]["properties"]["data"]["additionalProperties"],
            json::parse(R"({"type":"string","format":"byte"})"));
  // INLINE members are flattened: a Volume has emptyDir next to name.
  const json& volume = schemas["io.k8s.api.core.v1.Volume"];
  EXPECT_TRUE(volume["properties"].contains("emptyDir"));
  EXPECT_TRUE(volume["properties"].contains("hostPath"));
  EXPECT_FALSE(volume["properties"].contains("volumeSource"));
  // Subresource kinds are described where they are served.
  EXPECT_TRUE(schemas.contains("io.k8s.api.policy.v1.Eviction"));
  EXPECT_TRUE(schemas.contains("io.k8s.api.authentication.v1.TokenRequest"));
}

TEST(OpenApiTest, EveryRefResolves) {
  for (const GroupInfo& g : AllGroups()) {
    std::string text = *Docs().Document(GvPath(g));
    json doc = json::parse(text);
    const std::string prefix = "\"$ref\":\"#/components/schemas/";
    for (size_t pos = text.find(prefix); pos != std::string::npos; pos = text.find(prefix, pos + 1)) {
      size_t start = pos + prefix.size();
      std::string name = text.substr(start, text.find('"', start) - start);
      EXPECT_TRUE(doc["components"]["schemas"].contains(name)) << GvPath(g) << ": " << name;
    }
  }
}

TEST(OpenApiTest, DeploymentStrategyRetainsKeysAndScaleIsServed) {
  json doc = Doc("apis/apps/v1");
  const json& schemas = doc["components"]["schemas"];
  const json& spec = schemas["io.k8s.api.apps.v1.DeploymentSpec"];
  EXPECT_EQ(spec["properties"]["strategy"]["x-kubernetes-patch-strategy"], "retainKeys");
  EXPECT_EQ(spec["properties"]["template"]["default"], json::object());
  const json& scale_patch =
      doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"];
  EXPECT_EQ(scale_patch["x-kubernetes-group-version-kind"],
            json::parse(R"({"group":"autoscaling","kind":"Scale","version":"v1"})"));
  EXPECT_EQ(scale_patch["operationId"], "patchAppsV1NamespacedDeploymentScale");
  const json& list = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]["get"];
  EXPECT_EQ(list["operationId"], "listAppsV1NamespacedDeployment");
  EXPECT_EQ(doc["paths"]["/apis/apps/v1/deployments"]["get"]["operationId"],
            "listAppsV1DeploymentForAllNamespaces");
  json core = Doc("api/v1");
  EXPECT_EQ(core["paths"]["/api/v1/nodes/{name}"]["patch"]["operationId"], "patchCoreV1Node");
  EXPECT_EQ(core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/log"]["get"]["operationId"],
            "readCoreV1NamespacedPodLog");
  json rbac = Doc("apis/rbac.authorization.k8s.io/v1");
  EXPECT_EQ(rbac["paths"]["/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}"]["patch"]["tags"][0],
            "rbacAuthorization_v1");
}

TEST(OpenApiTest, ServeCachingAsUpstream) {
  const WallTime now = std::chrono::system_clock::from_time_t(1700000000);  // 2023-11-14 22:13:20 UTC
  std::string hash(Docs().Hash("apis/apps/v1"));

  auto r = Docs().Serve("/openapi/v3", "", "application/json, */*", "", now);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(*r->body, Docs().Root());
  EXPECT_EQ(r->content_type, "application/json");

  r = Docs().Serve("/openapi/v3/apis/apps/v1", hash, "application/json", "", now);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(*r->body, *Docs().Document("apis/apps/v1"));
  std::map<std::string, std::string> h(r->headers.begin(), r->headers.end());
  EXPECT_EQ(h["ETag"], "\"" + hash + "\"");
  EXPECT_EQ(h["Cache-Control"], "public, immutable");
  EXPECT_EQ(h["Expires"], "Thu, 14 Nov 2024 22:13:20 GMT");
  EXPECT_EQ(h["Vary"], "Accept");

  // No hash: no immutable caching, but the ETag still allows revalidation.
  r = Docs().Serve("/openapi/v3/apis/apps/v1", "", "application/json", "", now);
  ASSERT_TRUE(r.ok());
  h = std::map<std::string, std::string>(r->headers.begin(), r->headers.end());
  EXPECT_EQ(h.count("Cache-Control"), 0u);
  EXPECT_EQ(h["ETag"], "\"" + hash + "\"");

  r = Docs().Serve("/openapi/v3/apis/apps/v1", "", "application/json", "\"" + hash + "\"", now);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 304);
  EXPECT_EQ(r->body, nullptr);

  r = Docs().Serve("/openapi/v3/apis/apps/v1", "0123", "application/json", "", now);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 301);
  h = std::map<std::string, std::string>(r->headers.begin(), r->headers.end());
  EXPECT_EQ(h["Location"], "/openapi/v3/apis/apps/v1?hash=" + hash);

  auto nf = Docs().Serve("/openapi/v3/apis/nope/v1", "", "", "", now);
  ASSERT_FALSE(nf.ok());
  EXPECT_EQ(nf.status().code(), Code::kNotFound);
  auto na = Docs().Serve("/openapi/v3/api/v1", "",
                         "application/com.github.proto-openapi.spec.v3@v1.0+protobuf", "", now);
  ASSERT_FALSE(na.ok());
  EXPECT_EQ(na.status().code(), Code::kNotAcceptable);
  EXPECT_FALSE(Docs().Serve("/openapi/v2", "", "", "", now).ok());
}

TEST(OpenApiTest, DescriptionsComeFromProtoComments) {
  json doc = Doc("apis/apps/v1");
  std::string d = doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]["description"];
  EXPECT_FALSE(d.empty());
  json core = Doc("api/v1");
  EXPECT_NE(core["components"]["schemas"]["io.k8s.api.core.v1.Volume"]["description"].get<std::string>().find(
                "volume"),
            std::string::npos);
}

// Writes every document under $CK_DISCOVERY_DUMP_DIR so that they can be served to a real
// kubectl by hand (README.md); skipped otherwise.
TEST(OpenApiTest, DumpForManualCheck) {
  const char* dir = std::getenv("CK_DISCOVERY_DUMP_DIR");
  if (dir == nullptr) GTEST_SKIP() << "CK_DISCOVERY_DUMP_DIR not set";
  auto write = [&](const std::string& rel, const std::string& body) {
    std::filesystem::path p = std::filesystem::path(dir) / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << body;
  };
  write("openapi/v3.root", Docs().Root());
  for (const GroupInfo& g : AllGroups()) write("openapi/v3/" + GvPath(g), *Docs().Document(GvPath(g)));
  auto d = DiscoveryDocuments::Build(AllResources(), AllGroups());
  ASSERT_TRUE(d.ok());
  write("api.v2", d->AggregatedCore(DiscoveryFormat::kV2));
  write("apis.v2", d->AggregatedGroups(DiscoveryFormat::kV2));
  write("api.v2beta1", d->AggregatedCore(DiscoveryFormat::kV2Beta1));
  write("apis.v2beta1", d->AggregatedGroups(DiscoveryFormat::kV2Beta1));
  write("api", d->ApiVersions());
  write("apis", d->ApiGroupList());
  write("version", d->Version());
  for (const GroupInfo& g : AllGroups()) write("legacy/" + GvPath(g), *d->ResourceList(g.name, g.version));
}

}  // namespace
}  // namespace ck::apiserver::discovery
