// Unit tests of the patch engine: tables of original / patch / expected for each patch type (the
// results compared as JSON values), the bodies `kubectl apply` sends, and every malformed case
// with the code and message kube-apiserver answers with.
#include "apiserver/patch/patch.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "apiserver/patch/patch_meta.h"
#include "common/api/proto/admissionregistration_v1.pb.h"
#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/meta_v1.pb.h"
#include "common/api/proto/policy_v1.pb.h"
#include "common/api/proto/proto_files.h"
#include "common/api/testing/json_compare.h"

namespace ck::apiserver::patch {
namespace {

using api::testing::JsonDiff;
using google::protobuf::Descriptor;

const Descriptor* kPod = k8s::io::api::core::v1::Pod::descriptor();
const Descriptor* kNode = k8s::io::api::core::v1::Node::descriptor();
const Descriptor* kService = k8s::io::api::core::v1::Service::descriptor();
const Descriptor* kDeployment = k8s::io::api::apps::v1::Deployment::descriptor();
const Descriptor* kPdb = k8s::io::api::policy::v1::PodDisruptionBudget::descriptor();

struct Case {
  const char* name;
  const char* original;
  const char* patch;
  const char* expected;
};

struct ErrorCase {
  const char* name;
  const char* original;
  const char* patch;
  Code code;
  const char* message;
};

std::string ReadTestdata(const std::string& name) {
  Result<std::string> text = api::testing::ReadFile("apiserver/patch/testdata/" + name);
  CK_CHECK(text.ok()) << text.status().ToString();
  return *text;
}

// ---------------------------------------------------------------------------------------------
// RFC 6902 JSON patch

const Case kJsonPatchCases[] = {
    {"add member", R"({"a":1})", R"([{"op":"add","path":"/b","value":{"c":[1]}}])",
     R"({"a":1,"b":{"c":[1]}})"},
    {"add replaces a member", R"({"a":1})", R"([{"op":"add","path":"/a","value":2}])", R"({"a":2})"},
    {"add inserts at index", R"({"l":[1,3]})", R"([{"op":"add","path":"/l/1","value":2}])",
     R"({"l":[1,2,3]})"},
    {"add at length appends", R"({"l":[1]})", R"([{"op":"add","path":"/l/1","value":2}])", R"({"l":[1,2]})"},
    {"add - appends", R"({"l":[1]})", R"([{"op":"add","path":"/l/-","value":{"x":null}}])",
     R"({"l":[1,{"x":null}]})"},
    {"add negative index counts from the end", R"({"l":[1,2]})", R"([{"op":"add","path":"/l/-1","value":9}])",
     R"({"l":[1,2,9]})"},
    {"add without value adds null", R"({})", R"([{"op":"add","path":"/a"}])", R"({"a":null})"},
    {"add nested", R"({"spec":{"template":{"metadata":{"labels":{}}}}})",
     R"([{"op":"add","path":"/spec/template/metadata/labels/app","value":"web"}])",
     R"({"spec":{"template":{"metadata":{"labels":{"app":"web"}}}}})"},
    {"escaped keys", R"({"a/b":1,"m~n":2})",
     R"([{"op":"replace","path":"/a~1b","value":10},{"op":"remove","path":"/m~0n"},{"op":"add","path":"/~01","value":3}])",
     R"({"a/b":10,"~1":3})"},
    {"empty key", R"({})", R"([{"op":"add","path":"/","value":1}])", R"({"":1})"},
    {"remove member", R"({"a":1,"b":2})", R"([{"op":"remove","path":"/a"}])", R"({"b":2})"},
    {"remove element", R"({"l":[1,2,3]})", R"([{"op":"remove","path":"/l/1"}])", R"({"l":[1,3]})"},
    {"remove last by negative index", R"({"l":[1,2,3]})", R"([{"op":"remove","path":"/l/-1"}])",
     R"({"l":[1,2]})"},
    {"replace member", R"({"spec":{"replicas":3}})",
     R"([{"op":"replace","path":"/spec/replicas","value":5}])", R"({"spec":{"replicas":5}})"},
    {"replace element", R"({"l":["a","b"]})", R"([{"op":"replace","path":"/l/0","value":"z"}])",
     R"({"l":["z","b"]})"},
    {"replace of a missing key adds it (v4)", R"({"a":1})", R"([{"op":"replace","path":"/b","value":2}])",
     R"({"a":1,"b":2})"},
    {"replace whole document", R"({"a":1})", R"([{"op":"replace","path":"","value":{"b":2}}])", R"({"b":2})"},
    {"replace whole document with a scalar is ignored", R"({"a":1})",
     R"([{"op":"replace","path":"","value":3}])", R"({"a":1})"},
    {"move member", R"({"a":{"b":1},"c":2})", R"([{"op":"move","from":"/a/b","path":"/d"}])",
     R"({"a":{},"c":2,"d":1})"},
    {"move element", R"({"l":[1,2,3]})", R"([{"op":"move","from":"/l/0","path":"/l/-"}])",
     R"({"l":[2,3,1]})"},
    {"copy member", R"({"a":{"b":[1]}})", R"([{"op":"copy","from":"/a","path":"/c"}])",
     R"({"a":{"b":[1]},"c":{"b":[1]}})"},
    {"copy from a missing key copies null (v4)", R"({"a":1})", R"([{"op":"copy","from":"/x","path":"/c"}])",
     R"({"a":1,"c":null})"},
    {"test then act", R"({"a":{"b":"x"},"n":1.5})",
     R"([{"op":"test","path":"/a/b","value":"x"},{"op":"test","path":"/n","value":1.5},{"op":"remove","path":"/a"}])",
     R"({"n":1.5})"},
    {"test of an object passes on a superset (v4)", R"({"a":{"x":1}})",
     R"([{"op":"test","path":"/a","value":{"x":1,"y":2}},{"op":"add","path":"/ok","value":true}])",
     R"({"a":{"x":1},"ok":true})"},
    {"test null against a missing key", R"({})",
     R"([{"op":"test","path":"/missing","value":null},{"op":"add","path":"/ok","value":true}])",
     R"({"ok":true})"},
    {"test whole document", R"({"a":[1,{"b":2}]})",
     R"([{"op":"test","path":"","value":{"a":[1,{"b":2}]}},{"op":"add","path":"/ok","value":1}])",
     R"({"a":[1,{"b":2}],"ok":1})"},
    {"null patch changes nothing", R"({"a":1})", "null", R"({"a":1})"},
    {"empty patch changes nothing", R"({"a":1})", "[]", R"({"a":1})"},
    {"first path segment is not checked (v4)", R"({"a":1})", R"([{"op":"add","path":"x/b","value":2}])",
     R"({"a":1,"b":2})"},
    {"repeated keys: last wins", R"({"a":1})", R"([{"op":"add","path":"/a","value":2,"value":3}])",
     R"({"a":3})"},
};

TEST(JsonPatchTest, Table) {
  for (const Case& c : kJsonPatchCases) {
    SCOPED_TRACE(c.name);
    Result<std::string> out = ApplyJsonPatch(c.original, c.patch);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(JsonDiff(c.expected, *out), "") << *out;
  }
}

const ErrorCase kJsonPatchErrors[] = {
    {"truncated", R"({})", R"([{"op":)", Code::kBadRequest, "unexpected end of JSON input"},
    {"bad character", R"({})", R"([{"op":"add",}])", Code::kBadRequest,
     "invalid character '}' looking for beginning of object key string"},
    {"trailing data", R"({})", R"([] x)", Code::kBadRequest, "invalid character 'x' after top-level value"},
    {"object instead of list", R"({})", R"({"op":"add"})", Code::kBadRequest,
     "json: cannot unmarshal object into Go value of type jsonpatch.Patch"},
    {"string operation", R"({})", R"(["add"])", Code::kBadRequest,
     "json: cannot unmarshal string into Go value of type jsonpatch.Operation"},
    {"unknown op", R"({})", R"([{"op":"frob","path":"/a"}])", Code::kInvalid, "Unexpected kind: frob"},
    {"missing op", R"({})", R"([{"path":"/a"}])", Code::kInvalid, "Unexpected kind: unknown"},
    {"null operation", R"({})", R"([null])", Code::kInvalid, "Unexpected kind: unknown"},
    {"test fails", R"({"a":1})", R"([{"op":"test","path":"/a","value":2}])", Code::kInvalid,
     "testing value /a failed: test failed"},
    {"test int against float", R"({"a":1})", R"([{"op":"test","path":"/a","value":1.0}])", Code::kInvalid,
     "testing value /a failed: test failed"},
    {"test of a missing key", R"({})", R"([{"op":"test","path":"/a","value":1}])", Code::kInvalid,
     "testing value /a failed: test failed"},
    {"test of a missing parent", R"({})", R"([{"op":"test","path":"/a/b","value":1}])", Code::kInvalid,
     "test operation does not apply: is missing path: /a/b: missing value"},
    {"add under a missing parent", R"({})", R"([{"op":"add","path":"/x/y","value":1}])", Code::kInvalid,
     "add operation does not apply: doc is missing path: \"/x/y\": missing value"},
    {"add under a scalar", R"({"x":1})", R"([{"op":"add","path":"/x/y","value":1}])", Code::kInvalid,
     "add operation does not apply: doc is missing path: \"/x/y\": missing value"},
    {"add past the end", R"({"l":[1]})", R"([{"op":"add","path":"/l/5","value":1}])", Code::kInvalid,
     "error in add for path: '/l/5': Unable to access invalid index: 5: invalid index referenced"},
    {"add at a bad index", R"({"l":[]})", R"([{"op":"add","path":"/l/x","value":1}])", Code::kInvalid,
     "error in add for path: '/l/x': value was not a proper array index: 'x': strconv.Atoi: parsing \"x\": "
     "invalid syntax"},
    {"add path of the wrong type", R"({})", R"([{"op":"add","path":5,"value":1}])", Code::kInvalid,
     "add operation failed to decode path: missing value"},
    {"add without path", R"({})", R"([{"op":"add","value":1}])", Code::kInvalid,
     "add operation failed to decode path: missing value"},
    {"add at root", R"({})", R"([{"op":"add","path":"","value":1}])", Code::kInvalid,
     "add operation does not apply: doc is missing path: \"\": missing value"},
    {"remove missing key", R"({"a":1})", R"([{"op":"remove","path":"/x"}])", Code::kInvalid,
     "error in remove for path: '/x': Unable to remove nonexistent key: x: missing value"},
    {"remove out of range", R"({"l":[1]})", R"([{"op":"remove","path":"/l/1"}])", Code::kInvalid,
     "error in remove for path: '/l/1': Unable to access invalid index: 1: invalid index referenced"},
    {"remove -", R"({"l":[1]})", R"([{"op":"remove","path":"/l/-"}])", Code::kInvalid,
     "error in remove for path: '/l/-': strconv.Atoi: parsing \"-\": invalid syntax"},
    {"remove huge index", R"({"l":[1]})", R"([{"op":"remove","path":"/l/99999999999999999999"}])",
     Code::kInvalid,
     "error in remove for path: '/l/99999999999999999999': strconv.Atoi: parsing \"99999999999999999999\": "
     "value out of range"},
    {"replace without path", R"({})", R"([{"op":"replace","value":1}])", Code::kInvalid,
     "replace operation failed to decode path: operation missing path field: missing value"},
    {"replace numeric path", R"({})", R"([{"op":"replace","path":1,"value":1}])", Code::kInvalid,
     "replace operation failed to decode path: json: cannot unmarshal number into Go value of type string"},
    {"replace under a missing parent", R"({})", R"([{"op":"replace","path":"/a/b","value":1}])",
     Code::kInvalid, "replace operation does not apply: doc is missing path: /a/b: missing value"},
    {"replace past the end", R"({"l":[]})", R"([{"op":"replace","path":"/l/0","value":1}])", Code::kInvalid,
     "replace operation does not apply: doc is missing key: /l/0: missing value"},
    {"move without from", R"({})", R"([{"op":"move","path":"/a"}])", Code::kInvalid,
     "move operation failed to decode from: operation, missing from field: missing value"},
    {"move from a missing parent", R"({})", R"([{"op":"move","from":"/x/y","path":"/a"}])", Code::kInvalid,
     "move operation does not apply: doc is missing from path: /x/y: missing value"},
    {"move a missing key", R"({})", R"([{"op":"move","from":"/x","path":"/a"}])", Code::kInvalid,
     "error in move for path: 'x': Unable to remove nonexistent key: x: missing value"},
    {"move into itself", R"({"a":{}})", R"([{"op":"move","from":"/a","path":"/a/b"}])", Code::kInvalid,
     "move operation does not apply: doc is missing destination path: /a/b: missing value"},
    {"copy to a missing parent", R"({"a":1})", R"([{"op":"copy","from":"/a","path":"/x/y"}])", Code::kInvalid,
     "copy operation does not apply: doc is missing destination path: /x/y: missing value"},
    {"copy without path", R"({"a":1})", R"([{"op":"copy","from":"/a"}])", Code::kInvalid,
     "copy operation failed to decode path: missing value"},
    {"copy from a bad index", R"({"l":[]})", R"([{"op":"copy","from":"/l/0","path":"/a"}])", Code::kInvalid,
     "error in copy for from: '/l/0': Unable to access invalid index: 0: invalid index referenced"},
    {"document is not JSON", R"({)", R"([])", Code::kInvalid, "unexpected end of JSON input"},
};

TEST(JsonPatchTest, Errors) {
  for (const ErrorCase& c : kJsonPatchErrors) {
    SCOPED_TRACE(c.name);
    Result<std::string> out = ApplyJsonPatch(c.original, c.patch);
    ASSERT_FALSE(out.ok()) << *out;
    EXPECT_EQ(out.status().code(), c.code) << out.status().ToString();
    EXPECT_EQ(out.status().message(), c.message);
  }
}

TEST(JsonPatchTest, OperationLimit) {
  auto patch_of = [](int n) {
    std::string p = "[";
    for (int i = 0; i < n; ++i) p += std::string(i ? "," : "") + R"({"op":"test","path":"/a","value":1})";
    return p + "]";
  };
  Result<std::string> at_limit = ApplyJsonPatch(R"({"a":1})", patch_of(kMaxJsonPatchOperations));
  ASSERT_TRUE(at_limit.ok()) << at_limit.status().ToString();
  Result<std::string> over = ApplyJsonPatch(R"({"a":1})", patch_of(kMaxJsonPatchOperations + 1));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), Code::kRequestEntityTooLarge);
  EXPECT_EQ(over.status().http_status(), 413);
  EXPECT_EQ(over.status().message(), "The allowed maximum operations in a JSON patch is 10000, got 10001");
}

TEST(JsonPatchTest, CopiedBytesAreLimited) {
  const std::string big(1100000, 'x');
  const std::string doc = R"({"s":")" + big + R"("})";
  const std::string copy = R"({"op":"copy","from":"/s","path":"/c"})";
  ASSERT_TRUE(ApplyJsonPatch(doc, "[" + copy + "," + copy + "]").ok());
  Result<std::string> out = ApplyJsonPatch(doc, "[" + copy + "," + copy + "," + copy + "]");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Code::kInvalid);
  EXPECT_EQ(
      out.status().message(),
      "Unable to complete the copy, the accumulated size increase of copy is 3300006, exceeding the limit "
      "3145728");
}

TEST(JsonPatchTest, DepthIsLimited) {
  std::string nested = "1";
  for (int i = 0; i < 600; ++i) nested = R"({"a":)" + nested + "}";
  const std::string doc = R"({"a":)" + nested + "}";
  std::string deep_path;
  for (int i = 0; i < 500; ++i) deep_path += "/a";
  Result<std::string> ok = ApplyJsonPatch(doc, R"([{"op":"copy","from":"/a","path":"/b"}])");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  Result<std::string> deep =
      ApplyJsonPatch(doc, R"([{"op":"copy","from":"/a","path":")" + deep_path + R"("}])");
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.status().code(), Code::kInvalid);
  EXPECT_EQ(deep.status().message(), "exceeded max depth");

  std::string too_deep = "[";
  for (int i = 0; i < 1001; ++i) too_deep += "[";
  Result<std::string> parse = ApplyJsonPatch("{}", too_deep);
  ASSERT_FALSE(parse.ok());
  EXPECT_EQ(parse.status().code(), Code::kBadRequest);
}

// ---------------------------------------------------------------------------------------------
// RFC 7386 merge patch

const Case kMergePatchCases[] = {
    // RFC 7386 appendix A
    {"A.1", R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
    {"A.2", R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
    {"A.3", R"({"a":"b"})", R"({"a":null})", R"({})"},
    {"A.4", R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
    {"A.5", R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
    {"A.6", R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
    {"A.7", R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
    {"A.8", R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
    {"A.9", R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
    {"A.10", R"({"a":"b"})", R"(["c"])", R"(["c"])"},
    {"A.12", R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
    {"A.13", R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
    {"A.14", R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
    {"labels and replicas", R"({"metadata":{"labels":{"app":"web","tier":"fe"}},"spec":{"replicas":3}})",
     R"({"metadata":{"labels":{"tier":null,"track":"stable"}},"spec":{"replicas":5}})",
     R"({"metadata":{"labels":{"app":"web","track":"stable"}},"spec":{"replicas":5}})"},
    {"lists are replaced", R"({"spec":{"containers":[{"name":"a","image":"x"},{"name":"b"}]}})",
     R"({"spec":{"containers":[{"name":"a","image":"y"}]}})",
     R"({"spec":{"containers":[{"name":"a","image":"y"}]}})"},
    {"nulls inside an added list are pruned from its objects (v4)", R"({})",
     R"({"a":[{"b":null,"c":1},null]})", R"({"a":[{"c":1},null]})"},
    {"null current value counts as missing", R"({"a":null})", R"({"a":{"b":null,"c":1}})",
     R"({"a":{"c":1}})"},
    {"empty patch", R"({"a":1})", R"({})", R"({"a":1})"},
};

TEST(MergePatchTest, Table) {
  for (const Case& c : kMergePatchCases) {
    SCOPED_TRACE(c.name);
    Result<std::string> out = ApplyMergePatch(c.original, c.patch);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(JsonDiff(c.expected, *out), "") << *out;
  }
}

const ErrorCase kMergePatchErrors[] = {
    {"malformed patch", R"({})", R"({"a":)", Code::kBadRequest, "Invalid JSON Patch"},
    {"null patch", R"({})", "null", Code::kBadRequest, "Invalid JSON Patch"},
    {"scalar patch", R"({})", R"("x")", Code::kBadRequest, "Invalid JSON Patch"},
    {"malformed document", R"({)", R"({})", Code::kInternal, "Invalid JSON Document"},
    {"null document", "null", R"({})", Code::kInternal, "Invalid JSON Document"},
};

TEST(MergePatchTest, Errors) {
  for (const ErrorCase& c : kMergePatchErrors) {
    SCOPED_TRACE(c.name);
    Result<std::string> out = ApplyMergePatch(c.original, c.patch);
    ASSERT_FALSE(out.ok()) << *out;
    EXPECT_EQ(out.status().code(), c.code) << out.status().ToString();
    EXPECT_EQ(out.status().message(), c.message);
  }
}

// ---------------------------------------------------------------------------------------------
// Strategic merge patch

struct SmpCase {
  const char* name;
  const Descriptor* type;
  const char* original;
  const char* patch;
  const char* expected;
};

const SmpCase kSmpCases[] = {
    {"labels merge; null deletes", kPod, R"({"metadata":{"labels":{"a":"1","b":"2"}}})",
     R"({"metadata":{"labels":{"b":null,"c":"3"}}})", R"({"metadata":{"labels":{"a":"1","c":"3"}}})"},
    {"containers merge by name", kPod,
     R"({"spec":{"containers":[{"name":"web","image":"nginx:1","ports":[{"containerPort":80}]},{"name":"sidecar","image":"busybox"}]}})",
     R"({"spec":{"containers":[{"name":"web","image":"nginx:2"}]}})",
     R"({"spec":{"containers":[{"name":"web","image":"nginx:2","ports":[{"containerPort":80}]},{"name":"sidecar","image":"busybox"}]}})"},
    // Without $setElementOrder a new element goes before the live ones (mergeSortedSlice takes the
    // patch element whenever the live list cannot order the two).
    {"new container goes first", kPod, R"({"spec":{"containers":[{"name":"web","image":"a"}]}})",
     R"({"spec":{"containers":[{"name":"log","image":"b"}]}})",
     R"({"spec":{"containers":[{"name":"log","image":"b"},{"name":"web","image":"a"}]}})"},
    {"$patch: delete removes a container", kPod,
     R"({"spec":{"containers":[{"name":"web","image":"a"},{"name":"sidecar","image":"b"}]}})",
     R"({"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}})",
     R"({"spec":{"containers":[{"name":"web","image":"a"}]}})"},
    {"$patch: replace replaces the list", kPod,
     R"({"spec":{"containers":[{"name":"web","image":"a"},{"name":"sidecar","image":"b"}]}})",
     R"({"spec":{"containers":[{"name":"only","image":"c"},{"$patch":"replace"}]}})",
     R"({"spec":{"containers":[{"name":"only","image":"c"}]}})"},
    {"env, ports and volumeMounts merge by their keys", kPod,
     R"({"spec":{"containers":[{"name":"web","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],"ports":[{"containerPort":80,"name":"http"}],"volumeMounts":[{"name":"v","mountPath":"/data"}]}]}})",
     R"({"spec":{"containers":[{"name":"web","env":[{"name":"B","value":"20"}],"ports":[{"containerPort":443,"name":"https"}],"volumeMounts":[{"mountPath":"/data","readOnly":true}]}]}})",
     R"({"spec":{"containers":[{"name":"web","env":[{"name":"A","value":"1"},{"name":"B","value":"20"}],"ports":[{"containerPort":443,"name":"https"},{"containerPort":80,"name":"http"}],"volumeMounts":[{"name":"v","mountPath":"/data","readOnly":true}]}]}})"},
    {"envFrom, tolerations and args are replaced", kPod,
     R"({"spec":{"tolerations":[{"key":"a"}],"containers":[{"name":"web","args":["x","y"],"envFrom":[{"prefix":"P"}]}]}})",
     R"({"spec":{"tolerations":[{"key":"b"}],"containers":[{"name":"web","args":["z"],"envFrom":[{"prefix":"Q"}]}]}})",
     R"({"spec":{"tolerations":[{"key":"b"}],"containers":[{"name":"web","args":["z"],"envFrom":[{"prefix":"Q"}]}]}})"},
    {"ephemeral container lists merge through the inlined common part", kPod,
     R"({"spec":{"ephemeralContainers":[{"name":"dbg","env":[{"name":"A","value":"1"}]}]}})",
     R"({"spec":{"ephemeralContainers":[{"name":"dbg","env":[{"name":"B","value":"2"}]}]}})",
     R"({"spec":{"ephemeralContainers":[{"name":"dbg","env":[{"name":"B","value":"2"},{"name":"A","value":"1"}]}]}})"},
    {"finalizers merge as a set", kPod, R"({"metadata":{"finalizers":["a","b"]}})",
     R"({"metadata":{"finalizers":["b","c"]}})", R"({"metadata":{"finalizers":["a","b","c"]}})"},
    {"$deleteFromPrimitiveList/finalizers", kPod, R"({"metadata":{"finalizers":["a","b","c"]}})",
     R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["b","x"]}})",
     R"({"metadata":{"finalizers":["a","c"]}})"},
    {"ownerReferences merge by uid", kPod,
     R"({"metadata":{"ownerReferences":[{"uid":"1","name":"rs-a"},{"uid":"2","name":"rs-b"}]}})",
     R"({"metadata":{"ownerReferences":[{"uid":"2","controller":true}]}})",
     R"({"metadata":{"ownerReferences":[{"uid":"1","name":"rs-a"},{"uid":"2","name":"rs-b","controller":true}]}})"},
    {"status conditions merge by type", kPod,
     R"({"status":{"conditions":[{"type":"Ready","status":"False"},{"type":"PodScheduled","status":"True"}]}})",
     R"({"status":{"conditions":[{"type":"Ready","status":"True"}]}})",
     R"({"status":{"conditions":[{"type":"Ready","status":"True"},{"type":"PodScheduled","status":"True"}]}})"},
    {"node addresses by type, podCIDRs as a set", kNode,
     R"({"spec":{"podCIDRs":["10.0.0.0/24"]},"status":{"addresses":[{"type":"InternalIP","address":"1.1.1.1"},{"type":"Hostname","address":"n1"}]}})",
     R"({"spec":{"podCIDRs":["fd00::/64"]},"status":{"addresses":[{"type":"InternalIP","address":"2.2.2.2"}]}})",
     R"({"spec":{"podCIDRs":["fd00::/64","10.0.0.0/24"]},"status":{"addresses":[{"type":"InternalIP","address":"2.2.2.2"},{"type":"Hostname","address":"n1"}]}})"},
    {"service ports merge by port; selector map merges", kService,
     R"({"spec":{"selector":{"app":"web"},"ports":[{"port":80,"targetPort":8080},{"port":443}]}})",
     R"({"spec":{"selector":{"tier":"fe"},"ports":[{"port":80,"targetPort":9090}]}})",
     R"({"spec":{"selector":{"app":"web","tier":"fe"},"ports":[{"port":80,"targetPort":9090},{"port":443}]}})"},
    {"$retainKeys clears the Deployment strategy", kDeployment,
     R"({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}})",
     R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})",
     R"({"spec":{"strategy":{"type":"Recreate"}}})"},
    {"$retainKeys in a volume switches its source", kPod,
     R"({"spec":{"volumes":[{"name":"v","emptyDir":{}},{"name":"w","emptyDir":{}}]}})",
     R"({"spec":{"volumes":[{"$retainKeys":["configMap","name"],"name":"v","configMap":{"name":"cm"}}]}})",
     R"({"spec":{"volumes":[{"name":"v","configMap":{"name":"cm"}},{"name":"w","emptyDir":{}}]}})"},
    {"$patch: replace on a map", kPod, R"({"metadata":{"labels":{"a":"1","b":"2"}}})",
     R"({"metadata":{"labels":{"$patch":"replace","x":"1"}}})", R"({"metadata":{"labels":{"x":"1"}}})"},
    {"$patch: delete on a map", kDeployment, R"({"spec":{"replicas":1,"strategy":{"type":"Recreate"}}})",
     R"({"spec":{"strategy":{"$patch":"delete"}}})", R"({"spec":{"replicas":1,"strategy":{}}})"},
    {"$patch: replace at the top", kPod, R"({"metadata":{"name":"a"},"spec":{}})",
     R"({"$patch":"replace","metadata":{"name":"b"}})", R"({"metadata":{"name":"b"}})"},
    {"PDB selector has the replace strategy", kPdb, R"({"spec":{"selector":{"matchLabels":{"a":"1"}}}})",
     R"({"spec":{"selector":{"matchLabels":{"b":"2"}}}})",
     R"({"spec":{"selector":{"matchLabels":{"b":"2"}}}})"},
    {"$setElementOrder reorders the live list", kPod,
     R"({"spec":{"containers":[{"name":"a","image":"1"},{"name":"b","image":"2"}]}})",
     R"({"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}]}})",
     R"({"spec":{"containers":[{"name":"b","image":"2"},{"name":"a","image":"1"}]}})"},
    {"$setElementOrder places new items; a server-only item follows the live order", kPod,
     R"({"spec":{"containers":[{"name":"a"},{"name":"server"},{"name":"c"}]}})",
     R"({"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"b"},{"name":"c"}],"containers":[{"name":"b","image":"x"}]}})",
     R"({"spec":{"containers":[{"name":"a"},{"name":"b","image":"x"},{"name":"server"},{"name":"c"}]}})"},
    {"$setElementOrder of a scalar list", kPod, R"({"metadata":{"finalizers":["a","b"]}})",
     R"({"metadata":{"$setElementOrder/finalizers":["c","b","a"],"finalizers":["c"]}})",
     R"({"metadata":{"finalizers":["c","b","a"]}})"},
    {"$setElementOrder for a list only in the patch", kPod, R"({"spec":{}})",
     R"({"spec":{"$setElementOrder/initContainers":[{"name":"i"}],"initContainers":[{"name":"i","image":"x"},{"name":"j","$patch":"delete"}]}})",
     R"({"spec":{"initContainers":[{"name":"i","image":"x"}]}})"},
    {"new values lose directives and nulls", kPod, R"({"spec":{}})",
     R"({"spec":{"nodeSelector":{"a":null,"b":"1"},"initContainers":[{"name":"i","image":"x"},{"name":"gone","$patch":"delete"}]}})",
     R"({"spec":{"nodeSelector":{"b":"1"},"initContainers":[{"name":"i","image":"x"}]}})"},
    {"a value of another type replaces", kPod, R"({"spec":{"hostname":{"x":1},"priority":5}})",
     R"({"spec":{"hostname":"h","priority":5.5}})", R"({"spec":{"hostname":"h","priority":5.5}})"},
    {"unknown keys merge like a merge patch", kPod, R"({"spec":{"x-extra":{"a":1,"l":[1,2]}},"kind":"Pod"})",
     R"({"spec":{"x-extra":{"b":2,"l":[3]}},"kind":"Pod"})",
     R"({"spec":{"x-extra":{"a":1,"b":2,"l":[3]}},"kind":"Pod"})"},
    {"no schema: lists are replaced", nullptr, R"({"spec":{"containers":[{"name":"a"}]}})",
     R"({"spec":{"containers":[{"name":"b"}]}})", R"({"spec":{"containers":[{"name":"b"}]}})"},
    {"null patch changes nothing", kPod, R"({"a":1})", "null", R"({"a":1})"},
    {"webhooks merge by name",
     k8s::io::api::admissionregistration::v1::MutatingWebhookConfiguration::descriptor(),
     R"({"webhooks":[{"name":"a.example.com","sideEffects":"None"},{"name":"b.example.com"}]})",
     R"({"webhooks":[{"name":"a.example.com","timeoutSeconds":5}]})",
     R"({"webhooks":[{"name":"a.example.com","sideEffects":"None","timeoutSeconds":5},{"name":"b.example.com"}]})"},
};

TEST(StrategicMergePatchTest, Table) {
  for (const SmpCase& c : kSmpCases) {
    SCOPED_TRACE(c.name);
    Result<std::string> out = ApplyStrategicMergePatch(c.original, c.patch, c.type);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(JsonDiff(c.expected, *out), "") << *out;
  }
}

// The body `kubectl apply` (1.32) sends for a Deployment whose manifest changed the web image and
// env (MODE changed, LOG_LEVEL removed, DEBUG added), dropped the sidecar container and switched
// to the Recreate strategy: $setElementOrder lists, $patch: delete elements and $retainKeys.
TEST(StrategicMergePatchTest, KubectlApplyDeployment) {
  const std::string live = ReadTestdata("deployment.json");
  const std::string patch = ReadTestdata("kubectl_apply_patch.json");
  const std::string expected = ReadTestdata("deployment_applied.json");
  Result<std::string> out = ApplyStrategicMergePatch(live, patch, kDeployment);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(JsonDiff(expected, *out), "") << *out;
  // Applying the same patch again changes nothing more.
  Result<std::string> again = ApplyStrategicMergePatch(*out, patch, kDeployment);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(JsonDiff(expected, *again), "");
}

const char kPodWithWeb[] =
    R"({"metadata":{"finalizers":["a"]},"spec":{"containers":[{"name":"web","image":"a"}]}})";

struct SmpErrorCase {
  const char* name;
  const char* original;
  const char* patch;
  Code code;
  const char* message;
};

const SmpErrorCase kSmpErrors[] = {
    {"truncated", kPodWithWeb, R"({"spec":)", Code::kBadRequest, "unexpected end of JSON input"},
    {"bad character", kPodWithWeb, R"({"spec" 1})", Code::kBadRequest,
     "invalid character '1' after object key"},
    {"bad literal", kPodWithWeb, R"({"spec":nul})", Code::kBadRequest,
     "invalid character '}' in literal null (expecting 'l')"},
    {"list body", kPodWithWeb, R"([])", Code::kBadRequest,
     "json: cannot unmarshal array into Go value of type map[string]interface {}"},
    {"string body", kPodWithWeb, R"("x")", Code::kBadRequest,
     "json: cannot unmarshal string into Go value of type map[string]interface {}"},
    {"unknown $patch on a map", kPodWithWeb, R"({"metadata":{"$patch":"frob"}})", Code::kInternal,
     "unknown patch type: frob in map: map[$patch:frob]"},
    {"$patch: merge on a map", kPodWithWeb, R"({"spec":{"$patch":"merge","hostname":"h"}})", Code::kInternal,
     "unknown patch type: merge in map: map[$patch:merge hostname:h]"},
    {"non-string $patch", kPodWithWeb, R"({"spec":{"$patch":1}})", Code::kInternal,
     "unknown patch type: %!s(int64=1) in map: map[$patch:1]"},
    {"unknown $patch in a list", kPodWithWeb, R"({"spec":{"containers":[{"name":"web","$patch":"frob"}]}})",
     Code::kInternal, "unknown patch type: frob in map: map[$patch:frob name:web]"},
    {"$patch: merge in a list", kPodWithWeb, R"({"spec":{"containers":[{"name":"web","$patch":"merge"}]}})",
     Code::kInternal, "merging lists cannot yet be specified in the patch"},
    {"merge key missing", kPodWithWeb, R"({"spec":{"containers":[{"image":"x"}]}})", Code::kInternal,
     "map: map[image:x] does not contain declared merge key: name"},
    {"merge key missing in a delete", kPodWithWeb, R"({"spec":{"containers":[{"$patch":"delete"}]}})",
     Code::kInternal, "map: map[$patch:delete] does not contain declared merge key: name"},
    {"$retainKeys not a list", kPodWithWeb, R"({"spec":{"$retainKeys":"x"}})", Code::kBadRequest,
     "invalid patch format of retainKeys"},
    {"key outside $retainKeys", kPodWithWeb, R"({"spec":{"$retainKeys":["hostname"],"subdomain":"s"}})",
     Code::kBadRequest, "invalid patch format of retainKeys"},
    {"malformed $setElementOrder key", kPodWithWeb, R"({"spec":{"$setElementOrderX/containers":[]}})",
     Code::kBadRequest, "invalid patch format of setElementOrder list"},
    {"$setElementOrder not a list", kPodWithWeb, R"({"spec":{"$setElementOrder/containers":"x"}})",
     Code::kInternal, "expected a []interface {}, but received a string"},
    {"$setElementOrder against a map", kPodWithWeb, R"({"$setElementOrder/spec":[]})", Code::kInternal,
     "expected a []interface {}, but received a map[string]interface {}"},
    {"$setElementOrder of a non-list field", kPodWithWeb, R"({"$setElementOrder/status":[]})",
     Code::kInternal, "expected slice or array type, but got: struct"},
    {"patch list out of $setElementOrder", kPodWithWeb,
     R"({"spec":{"$setElementOrder/containers":[{"name":"web"}],"containers":[{"name":"x","image":"i"}]}})",
     Code::kInternal,
     "the order in patch list:\n[map[image:i name:x]]\n doesn't match $setElementOrder "
     "list:\n[map[name:web]]"},
    {"malformed $deleteFromPrimitiveList key", kPodWithWeb,
     R"({"metadata":{"$deleteFromPrimitiveList":["a"]}})", Code::kBadRequest,
     "invalid patch format of primitive list"},
    {"list element types differ", kPodWithWeb, R"({"metadata":{"finalizers":[1]}})", Code::kInternal,
     "list element types are not identical: [[a] [1]]"},
    {"lists of lists", R"({"metadata":{"finalizers":[["x"]]}})", R"({"metadata":{"finalizers":[["y"]]}})",
     Code::kInvalid, "lists of lists are not supported"},
    {"merge list of maps without a key", R"({"metadata":{"finalizers":[{"a":1}]}})",
     R"({"metadata":{"finalizers":[{"b":1}]}})", Code::kInternal,
     "cannot merge lists without merge key for string"},
    {"malformed document", R"({)", R"({})", Code::kBadRequest, "invalid JSON document"},
};

TEST(StrategicMergePatchTest, Errors) {
  for (const SmpErrorCase& c : kSmpErrors) {
    SCOPED_TRACE(c.name);
    Result<std::string> out = ApplyStrategicMergePatch(c.original, c.patch, kPod);
    ASSERT_FALSE(out.ok()) << *out;
    EXPECT_EQ(out.status().code(), c.code) << out.status().ToString();
    EXPECT_EQ(out.status().message(), c.message);
  }
}

// ---------------------------------------------------------------------------------------------
// JSON reading and writing (shared by the three engines)

TEST(JsonTextTest, WritesWhatItReads) {
  // A merge patch of {} re-writes the document: escapes, UTF-8 and numbers survive.
  const char* doc =
      R"({"s":"a\"b\\c\n\t\u0001/\u00e9 é 😀","i":-9223372036854775808,"u":18446744073709551615,"f":1.5,"e":1e21,"z":0.0})";
  Result<std::string> out = ApplyMergePatch(doc, "{}");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(
      *out,
      R"({"s":"a\"b\\c\n\t\u0001/é é 😀","i":-9223372036854775808,"u":18446744073709551615,"f":1.5,"e":1e21,"z":0.0})");
}

TEST(JsonTextTest, GoDecoderFacts) {
  // Repeated keys: the last one wins, at the first one's place.
  Result<std::string> dup = ApplyMergePatch(R"({"a":1,"b":2,"a":{"x":3}})", "{}");
  ASSERT_TRUE(dup.ok());
  EXPECT_EQ(*dup, R"({"a":{"x":3},"b":2})");
  // An escaped lone low surrogate decodes to U+FFFD, as in Go.
  Result<std::string> lone = ApplyMergePatch(R"({"s":"\udc00x"})", "{}");
  ASSERT_TRUE(lone.ok());
  EXPECT_EQ(*lone, "{\"s\":\"\xEF\xBF\xBDx\"}");
  // A number beyond float64, invalid UTF-8 and a raw NUL are malformed bodies.
  const struct {
    std::string body;
    const char* message;
  } kBad[] = {
      {R"({"a":1e999})", "json: cannot unmarshal number 1e999 into Go value of type float64"},
      {"{\"a\":\"\xC3\x28\"}", "invalid UTF-8 in string"},
      {std::string("{\"a\":1}\0", 8), "invalid character '\\x00' looking for beginning of value"},
  };
  for (const auto& b : kBad) {
    SCOPED_TRACE(b.message);
    Result<std::string> out = ApplyStrategicMergePatch("{}", b.body, kPod);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), Code::kBadRequest);
    EXPECT_EQ(out.status().message(), b.message);
  }
}

TEST(JsonTextTest, ErrorsPrintValuesLikeGo) {
  Result<std::string> out = ApplyStrategicMergePatch(
      kPodWithWeb,
      R"({"spec":{"containers":[{"a":1000000.0,"b":0.5,"c":1e-7,"d":123456.0,"e":true,"f":null,"g":[1,"s",{"k":-2.5e30}]}]}})",
      kPod);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(
      out.status().message(),
      "map: map[a:1e+06 b:0.5 c:1e-07 d:123456 e:true f:<nil> g:[1 s map[k:-2.5e+30]]] does not contain "
      "declared merge key: name");
}

// ---------------------------------------------------------------------------------------------
// The tag table

TEST(PatchMetaTest, TagsAtDepth) {
  Schema deployment = SchemaFor(kDeployment);
  FieldMeta spec = LookupField(deployment, "spec");
  ASSERT_TRUE(spec.found);
  FieldMeta strategy = LookupField(spec.schema, "strategy");
  EXPECT_TRUE(strategy.tags.retain_keys);
  FieldMeta tmpl = LookupField(spec.schema, "template");
  FieldMeta pod_spec = LookupField(tmpl.schema, "spec");
  FieldMeta containers = LookupField(pod_spec.schema, "containers");
  EXPECT_TRUE(containers.repeated);
  EXPECT_EQ(containers.tags.strategy, PatchStrategy::kMerge);
  EXPECT_EQ(containers.tags.merge_key, "name");
  FieldMeta volume_mounts = LookupField(containers.schema, "volumeMounts");
  EXPECT_EQ(volume_mounts.tags.merge_key, "mountPath");
  FieldMeta env_from = LookupField(containers.schema, "envFrom");
  EXPECT_TRUE(env_from.found);
  EXPECT_EQ(env_from.tags.strategy, PatchStrategy::kNone);
  // Maps: every key has the value type, no tags.
  FieldMeta labels = LookupField(LookupField(deployment, "metadata").schema, "labels");
  EXPECT_EQ(labels.go_kind, "map");
  FieldMeta label = LookupField(labels.schema, "any-key");
  EXPECT_TRUE(label.found);
  EXPECT_EQ(label.go_kind, "string");
  // INLINE members are found by their own names (Volume.volumeSource, Probe.handler).
  FieldMeta volumes = LookupField(pod_spec.schema, "volumes");
  EXPECT_TRUE(volumes.tags.retain_keys);
  EXPECT_TRUE(LookupField(volumes.schema, "configMap").found);
  EXPECT_FALSE(LookupField(volumes.schema, "volumeSource").found);
  // Opaque types (quantities, times) have no schema below them.
  FieldMeta resources = LookupField(containers.schema, "resources");
  FieldMeta limits = LookupField(resources.schema, "limits");
  EXPECT_FALSE(LookupField(limits.schema, "cpu").schema.known());
}

TEST(PatchMetaTest, EveryTaggedFieldExists) {
  // Each table entry must name a real field with a real merge key, or the tag would never apply.
  ASSERT_FALSE(api::AllApiProtoFiles().empty());  // links every generated file into the pool
  const google::protobuf::DescriptorPool* pool = google::protobuf::DescriptorPool::generated_pool();
  std::vector<std::string_view> names = TaggedFieldNames();
  EXPECT_GE(names.size(), 45u);
  for (std::string_view name_view : names) {
    const std::string name(name_view);
    const google::protobuf::FieldDescriptor* fd = pool->FindFieldByName(name);
    ASSERT_NE(fd, nullptr) << name;
    const FieldPatchTags* tags = LookupPatchTags(fd);
    ASSERT_NE(tags, nullptr) << name;
    EXPECT_TRUE(fd->is_repeated() || tags->strategy != PatchStrategy::kMerge) << name;
    if (!tags->merge_key.empty()) {
      ASSERT_EQ(fd->type(), google::protobuf::FieldDescriptor::TYPE_MESSAGE) << name;
      Schema element{fd->message_type(), nullptr};
      EXPECT_TRUE(LookupField(element, tags->merge_key).found) << name << " has no field " << tags->merge_key;
    }
  }
}

}  // namespace
}  // namespace ck::apiserver::patch
