#include "common/api/codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <google/protobuf/util/message_differencer.h>

#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/meta_v1.pb.h"
#include "common/api/testdata/codec_test.pb.h"
#include "common/api/time_format.h"

namespace ck::api {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

template <class M>
std::string Encode(const M& m, const EncodeOptions& o = {}) {
  Result<std::string> r = ToJson(m, o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::string();
}

template <class M>
M Decode(std::string_view json, std::vector<std::string>* warnings = nullptr) {
  M m;
  Status s = FromJson(json, &m, {}, warnings);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return m;
}

TEST(CodecModes, EmptyMessageWritesOnlyAlwaysFields) {
  test::Modes m;
  EXPECT_EQ(Encode(m),
            R"({"always":"","alwaysInt":0,"alwaysBool":false,"alwaysMsg":{},"alwaysList":null,)"
            R"("alwaysMap":null,"nullableMsg":null,"nullableStr":null,"alwaysBytes":null,)"
            R"("nested":{"when":null,"tags":null,"inner":{}}})");
}

TEST(CodecModes, OmitEmptyLeavesOutZeroValuesButPointerKeepsThem) {
  test::Modes m;
  m.set_omit("");
  m.set_omitint(0);
  m.set_omitbool(false);
  m.set_ptr(0);
  m.set_ptrstr("");
  std::string json = Encode(m);
  EXPECT_THAT(json, ::testing::Not(HasSubstr("\"omit\"")));
  EXPECT_THAT(json, ::testing::Not(HasSubstr("omitInt")));
  EXPECT_THAT(json, ::testing::Not(HasSubstr("omitBool")));
  EXPECT_THAT(json, HasSubstr(R"("ptr":0,"ptrStr":"")"));
}

TEST(CodecModes, SetMessageWithOmitEmptyIsWrittenEvenWhenEmpty) {
  test::Modes m;
  m.mutable_omitmsg();
  EXPECT_THAT(Encode(m), HasSubstr(R"("omitMsg":{})"));
}

TEST(CodecModes, InlineFieldsArePromotedAndOuterNamesWin) {
  test::Modes m;
  m.mutable_handler()->mutable_exec()->set_a("ls");
  m.mutable_handler()->set_shared("inner");
  m.set_shared("outer");
  std::string json = Encode(m);
  EXPECT_THAT(json, HasSubstr(R"("exec":{"a":"ls"})"));
  EXPECT_THAT(json, ::testing::Not(HasSubstr("handler")));

  test::Modes back = Decode<test::Modes>(R"({"exec":{"a":"ls"},"http":{"b":3},"shared":"x"})");
  EXPECT_EQ(back.handler().exec().a(), "ls");
  EXPECT_EQ(back.handler().http().b(), 3);
  EXPECT_EQ(back.shared(), "x");
  EXPECT_FALSE(back.handler().has_shared());
}

TEST(CodecScalars, RoundTripsEveryScalarKind) {
  test::Scalars m;
  m.set_str("h\xC3\xA9llo \"q\" <b>\n");
  m.set_i32(-7);
  m.set_i64(9007199254740993);  // above 2^53: must stay exact
  m.set_u32(4000000000u);
  m.set_u64(18446744073709551615ull);
  m.set_flag(true);
  m.set_dbl(0.1);
  m.set_flt(1.5f);
  m.set_data(std::string("\x00\xff\x10", 3));
  m.add_strs("a");
  m.add_strs("");
  m.add_ints(1);
  m.add_ints(-2);
  (*m.mutable_labels())["b"] = "2";
  (*m.mutable_labels())["a"] = "1";
  (*m.mutable_blobs())["k"] = "hi";
  (*m.mutable_numbered())[3] = "three";
  m.set_renamed("#/x");
  std::string json = Encode(m);
  EXPECT_THAT(json, HasSubstr(R"({"str":"héllo \"q\" \u003cb\u003e\n","i32":-7,)"));
  EXPECT_THAT(json, HasSubstr(R"("i64":9007199254740993)"));
  EXPECT_THAT(json, HasSubstr(R"("u64":18446744073709551615)"));
  EXPECT_THAT(json, HasSubstr(R"("dbl":0.1,"flt":1.5)"));
  EXPECT_THAT(json, HasSubstr(R"("data":"AP8Q")"));
  EXPECT_THAT(json, HasSubstr(R"("labels":{"a":"1","b":"2"})"));
  EXPECT_THAT(json, HasSubstr(R"("blobs":{"k":"aGk="})"));
  EXPECT_THAT(json, HasSubstr(R"("numbered":{"3":"three"})"));
  EXPECT_THAT(json, HasSubstr(R"("$ref":"#/x")"));
  test::Scalars back = Decode<test::Scalars>(json);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(back, m)) << back.DebugString();
}

TEST(CodecScalars, StringsAreEscapedLikeGo) {
  test::Scalars m;
  static const char kText[] = "<a&b>\"\\\n\t\x01 \xE2\x80\xA8 bad:\xFF end";
  m.set_str(std::string(kText, sizeof kText - 1));
  EXPECT_EQ(Encode(m), R"({"str":"\u003ca\u0026b\u003e\"\\\n\t\u0001 \u2028 bad:\ufffd end"})");
}

TEST(CodecScalars, FloatsUseGoFormat) {
  test::Scalars m;
  m.set_dbl(1e21);
  EXPECT_EQ(Encode(m), R"({"dbl":1e+21})");
  m.set_dbl(1e-7);
  EXPECT_EQ(Encode(m), R"({"dbl":1e-7})");
  m.set_dbl(123456789.0);
  EXPECT_EQ(Encode(m), R"({"dbl":123456789})");
  m.set_dbl(-0.000001);
  EXPECT_EQ(Encode(m), R"({"dbl":-0.000001})");
  m.set_dbl(1.5e-6);
  EXPECT_EQ(Encode(m), R"({"dbl":0.0000015})");
  m.set_dbl(1e19);  // Go's 'f' form: shortest digits, then zeros
  EXPECT_EQ(Encode(m), R"({"dbl":10000000000000000000})");
  m.set_dbl(1.2345e18);
  EXPECT_EQ(Encode(m), R"({"dbl":1234500000000000000})");
  // Beyond the 64-bit integer range the 'e' form keeps the output readable by simdjson.
  m.set_dbl(1e20);
  EXPECT_EQ(Encode(m), R"({"dbl":1e+20})");
  m.set_dbl(-9.322372036854776e18);
  EXPECT_EQ(Encode(m), R"({"dbl":-9.322372036854776e+18})");
  m.set_dbl(-9223372036854775808.0);
  EXPECT_EQ(Encode(m), R"({"dbl":-9.223372036854776e+18})");
  m.set_dbl(1234.5);
  EXPECT_EQ(Encode(m), R"({"dbl":1234.5})");
}

TEST(CodecSpecials, TimesDurationsQuantitiesIntOrString) {
  test::Specials m;
  m.mutable_time()->set_seconds(1704067200);  // 2024-01-01T00:00:00Z
  m.mutable_time()->set_nanos(999);
  m.mutable_micro()->set_seconds(1704067200);
  m.mutable_micro()->set_nanos(123456789);
  m.mutable_dur()->set_duration(5400000000000);
  m.mutable_qty()->set_string("1.5Gi");
  m.mutable_ios()->set_type(1);
  m.mutable_ios()->set_strval("http");
  (*m.mutable_resources())["cpu"].set_string("0.5");
  (*m.mutable_resources())["memory"].set_string("1024Mi");
  std::string json = Encode(m);
  EXPECT_EQ(json,
            R"({"metadata":{"creationTimestamp":null},"time":"2024-01-01T00:00:00Z",)"
            R"("micro":"2024-01-01T00:00:00.123456Z","dur":"1h30m0s","qty":"1536Mi","ios":"http",)"
            R"("alwaysTime":null,"alwaysQty":"0","alwaysIos":0,"alwaysDur":"0s","alwaysRaw":null,)"
            R"("resources":{"cpu":"500m","memory":"1Gi"}})");
  test::Specials back = Decode<test::Specials>(json);
  EXPECT_EQ(back.time().seconds(), 1704067200);
  EXPECT_EQ(back.micro().nanos(), 123456000);
  EXPECT_EQ(back.dur().duration(), 5400000000000);
  EXPECT_EQ(back.qty().string(), "1536Mi");
  EXPECT_EQ(back.ios().type(), 1);
  EXPECT_EQ(back.ios().strval(), "http");
  EXPECT_EQ(back.resources().at("cpu").string(), "500m");
  EXPECT_FALSE(back.has_alwaystime());
  EXPECT_EQ(Encode(back), json);
}

TEST(CodecSpecials, GoZeroTimeIsNull) {
  test::Specials m;
  m.mutable_time()->set_seconds(kGoZeroTimeSeconds);
  EXPECT_THAT(Encode(m), HasSubstr(R"("time":null)"));
}

TEST(CodecSpecials, QuantityAcceptsNumbersAndTrimsStrings) {
  test::Specials m = Decode<test::Specials>(R"({"qty":0.5,"resources":{"a":" 2k ","b":3}})");
  EXPECT_EQ(m.qty().string(), "500m");
  EXPECT_EQ(m.resources().at("a").string(), "2k");
  EXPECT_EQ(m.resources().at("b").string(), "3");
}

TEST(CodecSpecials, IntOrStringNumber) {
  test::Specials m = Decode<test::Specials>(R"({"ios":8080})");
  EXPECT_EQ(m.ios().type(), 0);
  EXPECT_EQ(m.ios().intval(), 8080);
  EXPECT_THAT(Encode(m), HasSubstr(R"("ios":8080)"));
}

TEST(CodecSpecials, RawExtensionKeepsEmbeddedJson) {
  test::Specials m = Decode<test::Specials>(
      R"({"raw":{"kind":"Pod","spec":{"x":[1,2.5,"s",null,true]}},"raws":[1,null,{"a":{}}],)"
      R"("fields":{"f:metadata":{"f:labels":{}}},"verbs":["get","list"]})");
  EXPECT_EQ(m.raw().raw(), R"({"kind":"Pod","spec":{"x":[1,2.5,"s",null,true]}})");
  ASSERT_EQ(m.raws_size(), 3);
  EXPECT_EQ(m.raws(0).raw(), "1");
  EXPECT_EQ(m.raws(1).raw(), "");
  EXPECT_THAT(m.verbs().items(), ElementsAre("get", "list"));
  std::string json = Encode(m);
  EXPECT_THAT(json, HasSubstr(R"("raw":{"kind":"Pod","spec":{"x":[1,2.5,"s",null,true]}})"));
  EXPECT_THAT(json, HasSubstr(R"("raws":[1,null,{"a":{}}])"));
  EXPECT_THAT(json, HasSubstr(R"("fields":{"f:metadata":{"f:labels":{}}})"));
  EXPECT_THAT(json, HasSubstr(R"("verbs":["get","list"])"));
}

TEST(CodecEncode, KindAndApiVersionComeFirst) {
  corev1::ConfigMap cm;
  cm.mutable_metadata()->set_name("c");
  (*cm.mutable_data())["k"] = "v";
  EXPECT_EQ(Encode(cm, {.kind = "ConfigMap", .api_version = "v1"}),
            R"({"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"c","creationTimestamp":null},"data":{"k":"v"}})");
}

TEST(CodecDecode, TypeMetaIsReturnedAndNotUnknown) {
  corev1::ConfigMap cm;
  TypeMeta tm;
  std::vector<std::string> warnings;
  DecodeOptions o;
  o.type_meta = &tm;
  ASSERT_TRUE(FromJson(R"({"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"c"}})", &cm, o, &warnings).ok());
  EXPECT_EQ(tm.kind, "ConfigMap");
  EXPECT_EQ(tm.api_version, "v1");
  EXPECT_TRUE(warnings.empty());
}

TEST(CodecDecode, UnknownFieldsAreWarnedWithTheirPath) {
  std::vector<std::string> warnings;
  test::Modes m = Decode<test::Modes>(
      R"({"omit":"x","bogus":1,"items":[{"a":"1"},{"zz":2}],"byName":{"k":{"q":1}},"exec":{"nope":true}})", &warnings);
  EXPECT_EQ(m.omit(), "x");
  EXPECT_THAT(warnings, ElementsAre(R"(unknown field "bogus")", R"(unknown field "items[1].zz")",
                                    R"(unknown field "byName[k].q")", R"(unknown field "exec.nope")"));
}

TEST(CodecDecode, StrictRejectsUnknownAndDuplicateFields) {
  test::Modes m;
  DecodeOptions o;
  o.field_validation = FieldValidation::kStrict;
  Status s = FromJson(R"({"omit":"a","omit":"b","nested":{"x":1}})", &m, o);
  EXPECT_EQ(s.code(), Code::kBadRequest);
  EXPECT_EQ(s.message(), R"(strict decoding error: duplicate field "omit", unknown field "nested.x")");
  o.field_validation = FieldValidation::kIgnore;
  std::vector<std::string> warnings;
  ASSERT_TRUE(FromJson(R"({"omit":"a","omit":"b","nested":{"x":1}})", &m, o, &warnings).ok());
  EXPECT_EQ(m.omit(), "b");  // the last duplicate wins
  EXPECT_TRUE(warnings.empty());
}

TEST(CodecDecode, DuplicateListReplacesInsteadOfAppending) {
  test::Scalars m = Decode<test::Scalars>(R"({"strs":["a","b"],"strs":["c"]})");
  EXPECT_THAT(m.strs(), ElementsAre("c"));
}

TEST(CodecDecode, NullLeavesFieldsUnset) {
  test::Modes m = Decode<test::Modes>(R"({"omit":null,"omitMsg":null,"alwaysList":null,"items":[null]})");
  EXPECT_FALSE(m.has_omit());
  EXPECT_FALSE(m.has_omitmsg());
  EXPECT_EQ(m.items_size(), 1);
}

TEST(CodecDecode, NamesAreCaseSensitive) {
  std::vector<std::string> warnings;
  test::Modes m = Decode<test::Modes>(R"({"Omit":"x"})", &warnings);
  EXPECT_FALSE(m.has_omit());
  EXPECT_THAT(warnings, ElementsAre(R"(unknown field "Omit")"));
}

struct BadCase {
  const char* json;
  const char* error;
};

class CodecDecodeErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(CodecDecodeErrors, SayWhatAndWhere) {
  test::Specials specials;
  test::Scalars scalars;
  google::protobuf::Message* target = std::string_view(GetParam().json).find("SPECIAL") != std::string_view::npos
                                          ? static_cast<google::protobuf::Message*>(&specials)
                                          : &scalars;
  std::string json = GetParam().json;
  if (size_t p = json.find("SPECIAL"); p != std::string::npos) json.erase(p, 7);
  Status s = FromJson(json, target);
  EXPECT_EQ(s.code(), Code::kBadRequest) << json;
  EXPECT_THAT(s.message(), HasSubstr(GetParam().error)) << json;
}

INSTANTIATE_TEST_SUITE_P(
    All, CodecDecodeErrors,
    ::testing::Values(
        BadCase{R"({"str":)", "(at offset 7)"},
        BadCase{R"({"str":"a"} x)", "(at offset 12)"},
        BadCase{R"([1])", "cannot unmarshal array into Go value of type Scalars"},
        BadCase{R"({"str":1})", "cannot unmarshal number into Go struct field Scalars.str of type string"},
        BadCase{R"({"i32":1.5})", "cannot unmarshal number 1.5 into Go struct field Scalars.i32 of type int32"},
        BadCase{R"({"i32":2147483648})", "number 2147483648 into Go struct field Scalars.i32 of type int32"},
        BadCase{R"({"u32":-1})", "number -1 into Go struct field Scalars.u32 of type uint32"},
        BadCase{R"({"i64":"5"})", "cannot unmarshal string into Go struct field Scalars.i64 of type int64"},
        BadCase{R"({"flag":"true"})", "of type bool"},
        BadCase{R"({"strs":"a"})", "cannot unmarshal string into Go struct field Scalars.strs of type slice"},
        BadCase{R"({"strs":["a",2]})", "cannot unmarshal number into Go struct field Scalars.strs[1] of type string"},
        BadCase{R"({"labels":{"a":1}})", "Go struct field Scalars.labels[a] of type string"},
        BadCase{R"({"data":"!!"})", "data: illegal base64 data at input byte 0"},
        BadCase{R"({"numbered":{"x":"y"}})", "numbered[x]: map key is not an integer"},
        BadCase{R"(SPECIAL{"qty":"1.5x"})", "qty: quantity \"1.5x\""},
        BadCase{R"(SPECIAL{"resources":{"cpu":"abc"}})", "resources[cpu]: quantity \"abc\""},
        BadCase{R"(SPECIAL{"time":"2024-13-01T00:00:00Z"})", "time: parsing time \"2024-13-01T00:00:00Z\" as RFC 3339: month out of range"},
        BadCase{R"(SPECIAL{"time":5})", "cannot unmarshal number into Go struct field Specials.time of type string"},
        BadCase{R"(SPECIAL{"dur":"5d"})", "dur: time: unknown unit \"d\" in duration \"5d\""},
        BadCase{R"(SPECIAL{"ios":1.5})", "number 1.5 into Go struct field Specials.ios of type int32"},
        BadCase{R"(SPECIAL{"ios":true})", "cannot unmarshal bool into Go struct field Specials.ios of type intstr.IntOrString"},
        BadCase{R"(SPECIAL{"metadata":[]})", "cannot unmarshal array into Go struct field Specials.metadata of type ObjectMeta"}));

TEST(CodecDecode, NulBytesAreRejectedWithTheirOffset) {
  test::Scalars m;
  Status s = FromJson(std::string_view("{\"str\":\"a\"}\0", 12), &m);
  EXPECT_EQ(s.code(), Code::kBadRequest);
  EXPECT_THAT(s.message(), HasSubstr("invalid character '\\x00' after top-level value (at offset 11)"));
}

TEST(CodecDecode, DeepNestingIsRejectedNotCrashed) {
  std::string deep(200000, '[');
  test::Specials m;
  Status s = FromJson("{\"raw\":" + deep, &m);
  EXPECT_EQ(s.code(), Code::kBadRequest);
  auto nested = [](int n) { return std::string(n, '[') + std::string(n, ']'); };
  s = FromJson("{\"raw\":" + nested(2000) + "}", &m);
  EXPECT_EQ(s.code(), Code::kBadRequest);
  EXPECT_THAT(s.message(), HasSubstr("too deep"));
  s = FromJson("{\"raw\":" + nested(1010) + "}", &m);  // within the parser's limit, beyond the codec's
  EXPECT_EQ(s.code(), Code::kBadRequest);
  EXPECT_THAT(s.message(), HasSubstr("raw: exceeded max depth"));
  EXPECT_TRUE(FromJson("{\"raw\":" + nested(900) + "}", &m).ok());
}

TEST(CodecDecode, RecursiveTypes) {
  test::Tree t = Decode<test::Tree>(R"({"name":"a","children":[{"name":"b","children":[{"name":"c"}]}]})");
  EXPECT_EQ(t.children(0).children(0).name(), "c");
  EXPECT_EQ(Encode(t), R"({"name":"a","children":[{"name":"b","children":[{"name":"c"}]}]})");
}

TEST(CodecPeek, ReadsKindAndApiVersion) {
  Result<TypeMeta> tm = PeekTypeMeta(R"({"apiVersion":"apps/v1","kind":"Deployment","spec":{}})");
  ASSERT_TRUE(tm.ok());
  EXPECT_EQ(tm->kind, "Deployment");
  EXPECT_EQ(tm->api_version, "apps/v1");
  EXPECT_FALSE(PeekTypeMeta("[").ok());
}

}  // namespace
}  // namespace ck::api
