// Golden tests against the real kubectl (files made by testdata/make_golden.sh):
//  - kubectl's generators: decoding their JSON and encoding it again gives the same JSON value;
//  - manifests: our YAML-to-JSON equals kubectl's, and decode+encode of kubectl's JSON equals the
//    object as Go prints it after decoding it into Go types;
//  - request bodies: the protobuf body kubectl 1.32 sends decodes to the same object as the JSON
//    body kubectl 1.31 sends for the same command, and encodes back to the same bytes.
// Every object is also run through the reflection codec, which must agree byte for byte with the
// generated one.
#include <algorithm>
#include <filesystem>

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "common/api/codec.h"
#include "common/api/envelope.h"
#include "common/api/internal/decode.h"
#include "common/api/internal/dom_simdjson.h"
#include "common/api/internal/encode.h"
#include "common/api/internal/message_plan.h"
#include "common/api/kinds.h"
#include "common/api/testing/json_compare.h"
#include "common/api/yaml.h"

namespace ck::api {
namespace {

namespace fs = std::filesystem;
using google::protobuf::Message;
using google::protobuf::util::MessageDifferencer;
using testing::JsonDiff;
using testing::ReadFile;
using testing::SplitJsonStream;

std::string GoldenDir() {
  const char* src = std::getenv("CK_SOURCE_DIR");
  return std::string(src != nullptr ? src : ".") + "/common/api/testdata/golden";
}

std::vector<std::string> Files(const std::string& sub, const std::string& suffix) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(GoldenDir() + "/" + sub)) {
    std::string name = e.path().filename().string();
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(name.substr(0, name.size() - suffix.size()));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Read(const std::string& path) {
  Result<std::string> r = ReadFile(path);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : "";
}

// The reflection codec, for the differential checks.
std::string ReflectEncode(const Message& m, std::string_view kind, std::string_view api_version) {
  std::string out;
  internal::JsonWriter w(&out);
  internal::Encoder<internal::JsonWriter> e(w);
  Status s = e.Top(m, internal::PlanFor(m.GetDescriptor()), kind, api_version);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

void ReflectDecode(std::string_view json, Message* m, std::vector<std::string>* problems) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json.data(), json.size());
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(padded).get(root), simdjson::SUCCESS);
  internal::DecodeSettings settings;
  internal::Decoder<internal::SimdJsonDom> d(settings);
  Status s = d.Root(root, m, internal::PlanFor(m->GetDescriptor()));
  ASSERT_TRUE(s.ok()) << s.ToString();
  *problems = d.problems();
}

// Decodes `json` strictly (no unknown or duplicate members), checks that both codecs agree, and
// returns the object re-encoded.
std::unique_ptr<Message> DecodeObject(const std::string& json, TypeMeta* tm, bool strict = true) {
  Result<TypeMeta> peek = PeekTypeMeta(json);
  EXPECT_TRUE(peek.ok()) << peek.status().ToString();
  if (!peek.ok()) return nullptr;
  *tm = *peek;
  std::unique_ptr<Message> m = NewObject(tm->api_version, tm->kind);
  EXPECT_NE(m, nullptr) << "no type for " << tm->api_version << " " << tm->kind;
  if (m == nullptr) return nullptr;
  DecodeOptions o;
  o.field_validation = strict ? FieldValidation::kStrict : FieldValidation::kIgnore;
  Status s = FromJson(json, m.get(), o);
  EXPECT_TRUE(s.ok()) << s.ToString();

  std::unique_ptr<Message> r(m->New());
  std::vector<std::string> problems;
  ReflectDecode(json, r.get(), &problems);
  EXPECT_TRUE(!strict || problems.empty()) << problems[0];
  EXPECT_TRUE(MessageDifferencer::Equals(*m, *r)) << "generated and reflection decoders disagree";
  return m;
}

std::string Encode(const Message& m, const TypeMeta& tm) {
  Result<std::string> out = ToJson(m, {.kind = tm.kind, .api_version = tm.api_version});
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  if (!out.ok()) return "";
  EXPECT_EQ(*out, ReflectEncode(m, tm.kind, tm.api_version)) << "generated and reflection encoders disagree";
  return *out;
}

// ---- kubectl's generators ---------------------------------------------------------------------

class GoldenGenerators : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenGenerators, RoundTripEqualsKubectl) {
  std::string path = GoldenDir() + "/gen/" + GetParam() + ".json";
  std::string expected = Read(path);
  TypeMeta tm;
  std::unique_ptr<Message> m = DecodeObject(expected, &tm);
  ASSERT_NE(m, nullptr);
  std::string got = Encode(*m, tm);
  EXPECT_EQ(JsonDiff(expected, got), "") << Read(GoldenDir() + "/gen/" + GetParam() + ".cmd") << got;
}

INSTANTIATE_TEST_SUITE_P(Kubectl, GoldenGenerators, ::testing::ValuesIn(Files("gen", ".json")),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// ---- Manifests -------------------------------------------------------------------------------

class GoldenManifests : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenManifests, YamlToJsonEqualsKubectl) {
  std::string dir = GoldenDir() + "/manifests/";
  Result<std::vector<std::string>> ours = YamlToJsonDocuments(Read(dir + GetParam() + ".yaml"));
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  Result<std::vector<std::string>> theirs = SplitJsonStream(Read(dir + GetParam() + ".kubectl.json"));
  ASSERT_TRUE(theirs.ok());
  ASSERT_EQ(ours->size(), theirs->size());
  for (size_t i = 0; i < ours->size(); ++i) {
    EXPECT_EQ(JsonDiff((*theirs)[i], (*ours)[i]), "") << "document " << i << ": " << (*ours)[i];
  }
}

TEST_P(GoldenManifests, RoundTripEqualsGo) {
  if (GetParam() == "yaml-features") GTEST_SKIP() << "a YAML conversion check only";
  std::string dir = GoldenDir() + "/manifests/";
  Result<std::vector<std::string>> docs = SplitJsonStream(Read(dir + GetParam() + ".kubectl.json"));
  ASSERT_TRUE(docs.ok());
  // The object as Go prints it: from a `kubectl set ... --local` that changes nothing, or, for
  // kinds without one, the manifest itself (written in Go's form).
  std::vector<std::string> expected = *docs;
  if (fs::exists(dir + GetParam() + ".typed.json")) {
    Result<std::vector<std::string>> typed = SplitJsonStream(Read(dir + GetParam() + ".typed.json"));
    ASSERT_TRUE(typed.ok());
    expected = *typed;
  }
  ASSERT_EQ(expected.size(), docs->size());
  for (size_t i = 0; i < docs->size(); ++i) {
    TypeMeta tm;
    std::unique_ptr<Message> m = DecodeObject((*docs)[i], &tm);
    ASSERT_NE(m, nullptr);
    std::string got = Encode(*m, tm);
    EXPECT_EQ(JsonDiff(expected[i], got), "") << "document " << i << ": " << got;
  }
}

INSTANTIATE_TEST_SUITE_P(Kubectl, GoldenManifests, ::testing::ValuesIn(Files("manifests", ".yaml")),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// ---- Request bodies ------------------------------------------------------------------------------

class GoldenProtobuf : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenProtobuf, ProtobufBodyDecodesToTheJsonObject) {
  std::string dir = GoldenDir() + "/protobuf/";
  std::string pb = Read(dir + GetParam() + ".pb");
  std::string json = Read(dir + GetParam() + ".json");
  Result<ProtobufEnvelope> env = DecodeProtobufEnvelope(pb);
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  std::unique_ptr<Message> from_pb = NewObject(env->api_version, env->kind);
  ASSERT_NE(from_pb, nullptr) << env->api_version << " " << env->kind;
  TypeMeta pb_tm;
  ASSERT_TRUE(DecodeProtobufObject(pb, from_pb.get(), &pb_tm).ok());

  TypeMeta json_tm;
  std::unique_ptr<Message> from_json = DecodeObject(json, &json_tm);
  ASSERT_NE(from_json, nullptr);
  EXPECT_EQ(pb_tm.kind, json_tm.kind);
  EXPECT_EQ(pb_tm.api_version, json_tm.api_version);

  // Same JSON from both (protobuf carries empty strings that JSON leaves out, so compare as JSON).
  EXPECT_EQ(JsonDiff(json, Encode(*from_pb, pb_tm)), "") << Read(dir + GetParam() + ".cmd");
  EXPECT_EQ(JsonDiff(Encode(*from_json, json_tm), Encode(*from_pb, pb_tm)), "");
  // And the envelope is rebuilt byte for byte.
  EXPECT_EQ(EncodeProtobufEnvelope(*from_pb, pb_tm.api_version, pb_tm.kind), pb);
}

INSTANTIATE_TEST_SUITE_P(Kubectl, GoldenProtobuf, ::testing::ValuesIn(Files("protobuf", ".pb")),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// ---- Duplicate members (found by fuzz_json_decode) -----------------------------------------------

TEST(GoldenDifferential, RepeatedMapMembersMergeAndReplaceValues) {
  // Go decodes a repeated map member into the same map: new keys are added, a repeated key gets
  // the new value; a struct value is replaced, not merged.
  std::string json = R"({"kind":"Secret","apiVersion":"v1","metadata":{"name":"s"},
      "data":{"a":"eA==","b":"eQ=="},"data":{"b":null,"c":"eg=="}})";
  TypeMeta tm;
  std::unique_ptr<Message> secret = DecodeObject(json, &tm, /*strict=*/false);
  ASSERT_NE(secret, nullptr);
  EXPECT_EQ(JsonDiff(R"({"kind":"Secret","apiVersion":"v1","metadata":{"name":"s","creationTimestamp":null},
      "data":{"a":"eA==","b":"","c":"eg=="}})", Encode(*secret, tm)), "");

  std::string pod = R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"p"},"spec":{"containers":[
      {"name":"c","resources":{"limits":{"cpu":"1","memory":"1Gi"},"limits":{"cpu":"500m"}}}]}})";
  std::unique_ptr<Message> p = DecodeObject(pod, &tm, /*strict=*/false);
  ASSERT_NE(p, nullptr);
  EXPECT_THAT(Encode(*p, tm), ::testing::HasSubstr(R"("limits":{"cpu":"500m","memory":"1Gi"})"));
}

// ---- The benchmark's pod ------------------------------------------------------------------------

TEST(GoldenBenchPod, RoundTrips) {
  std::string json = Read(GoldenDir() + "/../bench_pod.json");
  TypeMeta tm;
  std::unique_ptr<Message> m = DecodeObject(json, &tm);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(JsonDiff(json, Encode(*m, tm)), "");
}

}  // namespace
}  // namespace ck::api
