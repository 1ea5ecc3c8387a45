#include "common/api/yaml.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ck::api {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string One(std::string_view yaml) {
  Result<std::string> r = YamlToJson(yaml);
  EXPECT_TRUE(r.ok()) << yaml << ": " << r.status().ToString();
  return r.ok() ? *r : "";
}

struct Scalar {
  const char* yaml;
  const char* json;
};

class YamlScalars : public ::testing::TestWithParam<Scalar> {};

TEST_P(YamlScalars, ResolveLikeGoYamlV2) { EXPECT_EQ(One(std::string("v: ") + GetParam().yaml), std::string("{\"v\":") + GetParam().json + "}"); }

INSTANTIATE_TEST_SUITE_P(
    Table, YamlScalars,
    ::testing::Values(Scalar{"yes", "true"}, Scalar{"No", "false"}, Scalar{"ON", "true"}, Scalar{"off", "false"},
                      Scalar{"y", "true"}, Scalar{"n", "false"}, Scalar{"True", "true"}, Scalar{"~", "null"},
                      Scalar{"", "null"}, Scalar{"Null", "null"}, Scalar{"42", "42"}, Scalar{"-7", "-7"},
                      Scalar{"+5", "5"}, Scalar{"0x1F", "31"}, Scalar{"0o17", "15"}, Scalar{"017", "15"},
                      Scalar{"0b101", "5"}, Scalar{"1_000", "1000"}, Scalar{"08", "8"}, Scalar{"1e3", "1000"},
                      Scalar{".5", "0.5"}, Scalar{"1.50", "1.5"}, Scalar{"6.02e23", "6.02e+23"},
                      Scalar{"-1.5e-7", "-1.5e-7"}, Scalar{"1e21", "1e+21"},
                      Scalar{"9223372036854775807", "9223372036854775807"},
                      Scalar{"18446744073709551615", "18446744073709551615"},
                      Scalar{"1e400", "\"1e400\""}, Scalar{"-9322372036854775808", "-9.322372036854776e+18"}, Scalar{"1e", "\"1e\""}, Scalar{"0x", "\"0x\""},
                      Scalar{"1.2.3", "\"1.2.3\""}, Scalar{"2024-01-01", "\"2024-01-01\""}, Scalar{"1:30", "\"1:30\""},
                      Scalar{"[-, +, .]", "[\"-\",\"+\",\".\"]"}, Scalar{"\"yes\"", "\"yes\""}, Scalar{"'017'", "\"017\""},
                      Scalar{"!!str 5", "\"5\""}, Scalar{"!!float 5", "5"}, Scalar{"!!int \"7\"", "7"},
                      Scalar{"!custom text", "\"text\""}, Scalar{"\"a\\tb\\u00e9\"", "\"a\\tbé\""},
                      Scalar{"<b>", "\"\\u003cb\\u003e\""}));

TEST(Yaml, DocumentsAndEmptyOnes) {
  Result<std::vector<std::string>> docs = YamlToJsonDocuments("---\n# only a comment\n---\na: 1\n---\n---\nnull\n---\nb: [x]\n...\n");
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  EXPECT_THAT(*docs, ElementsAre("{\"a\":1}", "{\"b\":[\"x\"]}"));
  EXPECT_THAT(*YamlToJsonDocuments(""), ElementsAre());
  EXPECT_THAT(YamlToJson("a: 1\n---\nb: 2\n").status().message(), HasSubstr("found 2"));
}

TEST(Yaml, SeparatorsAreKubectls) {
  // A stray flow indicator used to make yaml-cpp's LoadAll loop forever (found by fuzz_yaml).
  EXPECT_TRUE(YamlToJsonDocuments(",").ok());
  EXPECT_TRUE(YamlToJsonDocuments("a: 1\n---\n,\n---\nb: 2\n").ok());
  EXPECT_THAT(YamlToJsonDocuments("a: 1\n--- !tag\nb: 2\n").status().message(),
              HasSubstr("line 2: invalid document separator: --- !tag"));
  EXPECT_THAT(*YamlToJsonDocuments("a: 1\n---   # next\nb: 2\n"), ElementsAre("{\"a\":1}", "{\"b\":2}"));
  EXPECT_THAT(YamlToJsonDocuments("a: 1\n---\nb: [1\n").status().message(), HasSubstr("yaml: line 4, column 1: end of sequence flow not found"));
}

TEST(Yaml, KeysAreStringsAndSorted) {
  EXPECT_EQ(One("b: 1\na: 2\n1: int\n2.5: float\ntrue: bool\n1000000: big\n"),
            "{\"1\":\"int\",\"1000000\":\"big\",\"2.5\":\"float\",\"a\":2,\"b\":1,\"true\":\"bool\"}");
  EXPECT_EQ(One("1e6: a\n0.0001: b\n"), "{\"0.0001\":\"b\",\"1e+06\":\"a\"}");  // Go's 'g' format of float32
  EXPECT_EQ(One("1e300: big\n"), "{\".inf\":\"big\"}");  // found by fuzz_yaml: +Inf as float32
}

TEST(Yaml, UnsupportedKeys) {
  EXPECT_THAT(YamlToJson("? [a]\n: x\n").status().message(), HasSubstr("unsupported map key (line 1)"));
  EXPECT_THAT(YamlToJson("~: x\n").status().message(), HasSubstr("unsupported map key"));
  // go-yaml v2 reads the keys y and n as booleans.
  EXPECT_EQ(One("y: 1\nn: 2\n"), "{\"false\":2,\"true\":1}");
}

TEST(Yaml, DuplicateKeysLastWins) { EXPECT_EQ(One("a: 1\na: 2\n"), "{\"a\":2}"); }

TEST(Yaml, AnchorsAliasesAndMergeKeys) {
  EXPECT_EQ(One("base: &b {p: 1, q: 2}\nref: *b\n"), "{\"base\":{\"p\":1,\"q\":2},\"ref\":{\"p\":1,\"q\":2}}");
  // go-yaml v2 assigns merged keys where `<<` stands: later keys win.
  EXPECT_EQ(One("a: &a {p: 1, q: 1}\nm:\n  p: 0\n  <<: *a\n  q: 2\n"), "{\"a\":{\"p\":1,\"q\":1},\"m\":{\"p\":1,\"q\":2}}");
  EXPECT_EQ(One("a: &a {x: 1}\nb: &b {x: 2, z: 3}\nm:\n  <<: [*a, *b]\n"),
            "{\"a\":{\"x\":1},\"b\":{\"x\":2,\"z\":3},\"m\":{\"x\":1,\"z\":3}}");
  EXPECT_THAT(YamlToJson("m:\n  <<: 5\n").status().message(), HasSubstr("map merge requires map or sequence of maps"));
}

TEST(Yaml, BlockScalars) {
  EXPECT_EQ(One("a: |\n  x\n   y\nb: >-\n  p\n  q\n"), "{\"a\":\"x\\n y\\n\",\"b\":\"p q\"}");
}

TEST(Yaml, ErrorsSayWhere) {
  Result<std::string> r = YamlToJson("a: 1\nb: [1, 2\n");
  EXPECT_EQ(r.status().code(), Code::kBadRequest);
  EXPECT_THAT(r.status().message(), HasSubstr("yaml: line"));
  EXPECT_THAT(YamlToJson("a:\n\tb: 1\n").status().message(), HasSubstr("line 2"));
  EXPECT_THAT(YamlToJson("a: .nan\n").status().message(), HasSubstr("json: unsupported value: NaN (line 1)"));
  EXPECT_THAT(YamlToJson("a:\n  - .inf\n").status().message(), HasSubstr("+Inf (line 2)"));
  EXPECT_THAT(YamlToJson("a: !!int x\n").status().message(), HasSubstr("cannot decode `x` as a !!int"));
  EXPECT_THAT(YamlToJson("a: !!bool 1\n").status().message(), HasSubstr("as a !!bool"));
}

TEST(Yaml, AliasBombIsRefused) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'k'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
    prev = c;
  }
  Result<std::string> r = YamlToJson(bomb);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("excessive aliasing"));
}

TEST(Yaml, DeepNestingIsRefusedNotCrashed) {
  std::string deep = "a: " + std::string(3000, '[') + std::string(3000, ']') + "\n";
  EXPECT_FALSE(YamlToJson(deep).ok());
}

TEST(Yaml, JsonInputIsAJsonStream) {
  Result<std::vector<std::string>> docs = YamlToJsonDocuments(" {\"kind\": \"A\", \"n\": 1.0}\n{\"kind\":\"B\"} null ");
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  EXPECT_THAT(*docs, ElementsAre("{\"kind\":\"A\",\"n\":1}", "{\"kind\":\"B\"}"));
  // A YAML flow mapping also starts with '{'.
  EXPECT_EQ(One("{a: yes, b: [1, two]}"), "{\"a\":true,\"b\":[1,\"two\"]}");
}

}  // namespace
}  // namespace ck::api
