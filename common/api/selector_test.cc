#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/api/field_selector.h"
#include "common/api/label_selector.h"
#include "common/api/proto/meta_v1.pb.h"

namespace ck::api {
namespace {

using ::testing::HasSubstr;
namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;

// ---- Label selectors: parse and print --------------------------------------------------------

struct Printed {
  const char* in;
  const char* out;
};

class LabelSelectorPrint : public ::testing::TestWithParam<Printed> {};

TEST_P(LabelSelectorPrint, ParsesAndPrintsBack) {
  Result<LabelSelector> s = LabelSelector::Parse(GetParam().in);
  ASSERT_TRUE(s.ok()) << GetParam().in << ": " << s.status().ToString();
  EXPECT_EQ(s->String(), GetParam().out);
  Result<LabelSelector> again = LabelSelector::Parse(s->String());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->requirements(), s->requirements());
}

INSTANTIATE_TEST_SUITE_P(
    Table, LabelSelectorPrint,
    ::testing::Values(Printed{"", ""}, Printed{"x=a", "x=a"}, Printed{"x==a", "x==a"}, Printed{"x!=a", "x!=a"},
                      Printed{"x", "x"}, Printed{"!x", "!x"}, Printed{" x = a ", "x=a"}, Printed{"x=", "x="},
                      Printed{"x in (b,a)", "x in (a,b)"}, Printed{"x notin (a)", "x notin (a)"},
                      Printed{"x in (a,a,b)", "x in (a,b)"}, Printed{"x in ()", "x in ()"},
                      Printed{"x in (,a)", "x in (,a)"}, Printed{"x in (a,,b)", "x in (,a,b)"},
                      Printed{"x>1", "x>1"}, Printed{"x<5", "x<5"}, Printed{"z=c,y,x!=a", "x!=a,y,z=c"},
                      Printed{"example.com/app=web,app.kubernetes.io/name in (api, web)",
                              "app.kubernetes.io/name in (api,web),example.com/app=web"},
                      Printed{"in in (in,notin)", "in in (in,notin)"}, Printed{"!a=b", "a=b"},
                      Printed{"a=b\t,\nc", "a=b,c"}));

// ---- Label selectors: malformed ----------------------------------------------------------------

struct Bad {
  const char* in;
  const char* error;
};

class LabelSelectorMalformed : public ::testing::TestWithParam<Bad> {};

TEST_P(LabelSelectorMalformed, ErrorNamesTheToken) {
  Result<LabelSelector> s = LabelSelector::Parse(GetParam().in);
  ASSERT_FALSE(s.ok()) << GetParam().in << " parsed as " << s->String();
  EXPECT_EQ(s.status().code(), Code::kBadRequest);
  EXPECT_THAT(s.status().message(), HasSubstr(GetParam().error)) << GetParam().in;
}

INSTANTIATE_TEST_SUITE_P(
    Table, LabelSelectorMalformed,
    ::testing::Values(
        Bad{",", "found ',', expected: !, identifier, or 'end of string' (at offset 0)"},
        Bad{"x=a,", "found '', expected: identifier after ',' (at offset 4)"},
        Bad{"x=a,,y", "found ',', expected: identifier after ',' (at offset 4)"},
        Bad{"x=a y", "found 'y', expected: ',' or 'end of string' (at offset 4)"},
        Bad{"x==a==b", "found '==', expected: ',' or 'end of string' (at offset 4)"},
        Bad{"x in a", "unable to parse requirement: found 'a' expected: '(' (at offset 5)"},
        Bad{"x in (a", "found '', expected: ',' or ')' (at offset 7)"},
        Bad{"x in (a b)", "found 'b', expected: ',' or ')' (at offset 8)"},
        Bad{"x in (=)", "found '=', expected: ',', ')' or identifier (at offset 6)"},
        Bad{"x in (a,=)", "found '=', expected: ',', or identifier (at offset 8)"},
        Bad{"x (a)", "found '(', expected: in, notin, =, ==, !=, gt, lt (at offset 2)"},
        Bad{"x=(a)", "unable to parse requirement: found '(', expected: identifier (at offset 2)"},
        Bad{"!", "unable to parse requirement: found '', expected: identifier (at offset 1)"},
        Bad{"=a", "found '=', expected: !, identifier, or 'end of string' (at offset 0)"},
        Bad{"x>a", "values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer (at offset 1)"},
        Bad{"-x=a", "key: Invalid value: \"-x\": name part must consist of alphanumeric characters"},
        Bad{"a/b/c=d", "key: Invalid value: \"a/b/c\": a qualified name must consist of"},
        Bad{"Example.com/x=a", "prefix part a lowercase RFC 1123 subdomain must consist of"},
        Bad{"/x=a", "prefix part must be non-empty (at offset 0)"},
        Bad{"x=a b", "found 'b', expected: ',' or 'end of string' (at offset 4)"},
        Bad{"x<-5", "values[0][x]: Invalid value: \"-5\": a valid label must be"},
        Bad{"x=-a", "values[0][x]: Invalid value: \"-a\": a valid label must be an empty string or consist of"},
        Bad{"x=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "must be no more than 63 characters"},
        Bad{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "name part must be no more than 63 characters"}));

TEST(LabelSelectorMalformed, MessageLooksLikeUpstream) {
  Result<LabelSelector> s = LabelSelector::Parse("x=a,,y");
  EXPECT_EQ(s.status().message(), "found ',', expected: identifier after ',' (at offset 4)");
  s = LabelSelector::Parse("-x");
  EXPECT_EQ(s.status().message(),
            "unable to parse requirement: key: Invalid value: \"-x\": name part must consist of alphanumeric "
            "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  "
            "or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') "
            "(at offset 0)");
}

// ---- Label selectors: evaluation ---------------------------------------------------------------

struct Match {
  const char* selector;
  bool web;  // matches {app: web, tier: front, replicas: 3}
};

class LabelSelectorMatch : public ::testing::TestWithParam<Match> {};

TEST_P(LabelSelectorMatch, Evaluates) {
  std::map<std::string, std::string> labels = {{"app", "web"}, {"tier", "front"}, {"replicas", "3"}};
  Result<LabelSelector> s = LabelSelector::Parse(GetParam().selector);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->Matches(labels), GetParam().web) << GetParam().selector;
  google::protobuf::Map<std::string, std::string> pmap(labels.begin(), labels.end());
  EXPECT_EQ(s->Matches(pmap), GetParam().web) << GetParam().selector;
}

INSTANTIATE_TEST_SUITE_P(
    Table, LabelSelectorMatch,
    ::testing::Values(Match{"", true}, Match{"app=web", true}, Match{"app==web", true}, Match{"app=api", false},
                      Match{"app!=api", true}, Match{"app!=web", false}, Match{"missing!=x", true},
                      Match{"app in (api,web)", true}, Match{"app in (api)", false}, Match{"app notin (api)", true},
                      Match{"app notin (web)", false}, Match{"missing notin (web)", true}, Match{"missing in (web)", false},
                      Match{"app", true}, Match{"missing", false}, Match{"!missing", true}, Match{"!app", false},
                      Match{"replicas>2", true}, Match{"replicas>3", false}, Match{"replicas<4", true},
                      Match{"app>1", false}, Match{"missing<4", false}, Match{"app=web,tier=back", false},
                      Match{"app=web,tier in (front,back),!canary", true}, Match{"tier=", false},
                      Match{"missing=", false}, Match{"missing in ()", false}));

TEST(LabelSelector, EverythingNothingAndExactMatch) {
  EXPECT_TRUE(LabelSelector::Everything().Matches(std::map<std::string, std::string>{}));
  EXPECT_TRUE(LabelSelector::Everything().Empty());
  EXPECT_FALSE(LabelSelector::Nothing().Matches(std::map<std::string, std::string>{}));
  EXPECT_TRUE(LabelSelector::Nothing().MatchesNothing());
  Result<LabelSelector> s = LabelSelector::Parse("a=1,b in (2),c in (3,4),d!=5");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->RequiresExactMatch("a"), "1");
  EXPECT_EQ(s->RequiresExactMatch("b"), "2");
  EXPECT_EQ(s->RequiresExactMatch("c"), std::nullopt);
  EXPECT_EQ(s->RequiresExactMatch("d"), std::nullopt);
  EXPECT_EQ(s->RequiresExactMatch("e"), std::nullopt);
  EXPECT_EQ(LabelSelector::FromSet({{"b", "2"}, {"a", "1"}}).String(), "a=1,b=2");
}

TEST(LabelSelector, AddValidatesLikeNewRequirement) {
  LabelSelector s;
  EXPECT_TRUE(s.Add({"app", SelectorOp::kIn, {"a", "b"}}).ok());
  EXPECT_THAT(s.Add({"x", SelectorOp::kIn, {}}).message(), HasSubstr("values set can't be empty"));
  EXPECT_THAT(s.Add({"x", SelectorOp::kEquals, {"a", "b"}}).message(), HasSubstr("requires one single value"));
  EXPECT_THAT(s.Add({"x", SelectorOp::kExists, {"a"}}).message(), HasSubstr("must be empty for exists"));
  EXPECT_EQ(s.String(), "app in (a,b)");
}

// ---- metav1.LabelSelector ---------------------------------------------------------------------

TEST(LabelSelectorProto, MatchLabelsAndExpressions) {
  metav1::LabelSelector ps;
  (*ps.mutable_matchlabels())["app"] = "web";
  auto* e = ps.add_matchexpressions();
  e->set_key("tier");
  e->set_operator_("In");
  e->add_values("front");
  e->add_values("back");
  auto* e2 = ps.add_matchexpressions();
  e2->set_key("canary");
  e2->set_operator_("DoesNotExist");
  Result<LabelSelector> s = LabelSelector::FromProto(&ps);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->String(), "app=web,!canary,tier in (back,front)");
  EXPECT_TRUE(s->Matches(std::map<std::string, std::string>{{"app", "web"}, {"tier", "back"}}));
  EXPECT_FALSE(s->Matches(std::map<std::string, std::string>{{"app", "web"}, {"tier", "back"}, {"canary", "1"}}));
  EXPECT_EQ(FormatLabelSelector(&ps), "app=web,!canary,tier in (back,front)");
}

TEST(LabelSelectorProto, NilIsNothingEmptyIsEverything) {
  Result<LabelSelector> nil = LabelSelector::FromProto(nullptr);
  ASSERT_TRUE(nil.ok());
  EXPECT_FALSE(nil->Matches(std::map<std::string, std::string>{}));
  metav1::LabelSelector empty;
  Result<LabelSelector> all = LabelSelector::FromProto(&empty);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->Matches(std::map<std::string, std::string>{{"x", "y"}}));
  EXPECT_EQ(FormatLabelSelector(&empty), "<none>");
}

TEST(LabelSelectorProto, InvalidOperatorsAndValues) {
  metav1::LabelSelector ps;
  auto* e = ps.add_matchexpressions();
  e->set_key("tier");
  e->set_operator_("Equals");
  EXPECT_EQ(LabelSelector::FromProto(&ps).status().message(), "\"Equals\" is not a valid label selector operator");
  EXPECT_EQ(FormatLabelSelector(&ps), "<error>");
  e->set_operator_("In");
  EXPECT_THAT(LabelSelector::FromProto(&ps).status().message(), HasSubstr("values set can't be empty"));
  e->set_operator_("Exists");
  e->add_values("x");
  EXPECT_THAT(LabelSelector::FromProto(&ps).status().message(), HasSubstr("must be empty"));
}

// ---- Field selectors ---------------------------------------------------------------------------

class FieldSelectorPrint : public ::testing::TestWithParam<Printed> {};

TEST_P(FieldSelectorPrint, ParsesAndPrintsBack) {
  Result<FieldSelector> s = FieldSelector::Parse(GetParam().in);
  ASSERT_TRUE(s.ok()) << GetParam().in << ": " << s.status().ToString();
  EXPECT_EQ(s->String(), GetParam().out);
  Result<FieldSelector> again = FieldSelector::Parse(s->String());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->terms(), s->terms());
}

INSTANTIATE_TEST_SUITE_P(
    Table, FieldSelectorPrint,
    ::testing::Values(Printed{"", ""}, Printed{"a=b", "a=b"}, Printed{"a==b", "a=b"}, Printed{"a!=b", "a!=b"},
                      Printed{"metadata.name=web,spec.nodeName=", "metadata.name=web,spec.nodeName="},
                      Printed{"z=1,a=2", "a=2,z=1"}, Printed{"a=b,,c=d", "a=b,c=d"},
                      Printed{"a=x\\,y\\=z\\\\", "a=x\\,y\\=z\\\\"}, Printed{"a!=", "a!="}));

class FieldSelectorMalformed : public ::testing::TestWithParam<Bad> {};

TEST_P(FieldSelectorMalformed, ErrorNamesTheTerm) {
  Result<FieldSelector> s = FieldSelector::Parse(GetParam().in);
  ASSERT_FALSE(s.ok()) << GetParam().in << " parsed as " << s->String();
  EXPECT_EQ(s.status().code(), Code::kBadRequest);
  EXPECT_THAT(s.status().message(), HasSubstr(GetParam().error)) << GetParam().in;
}

INSTANTIATE_TEST_SUITE_P(
    Table, FieldSelectorMalformed,
    ::testing::Values(Bad{"a", "invalid selector: 'a'; can't understand 'a' (at offset 0)"},
                      Bad{"x=1,b", "invalid selector: 'x=1,b'; can't understand 'b' (at offset 4)"},
                      Bad{"a=b=c", "invalid field selector: unescaped character in value: = (at offset 3)"},
                      Bad{"a=b,c=d\\", "invalid field selector: invalid escape sequence: \\ (at offset 7)"},
                      Bad{"a=b\\x", "invalid field selector: invalid escape sequence: \\x (at offset 3)"},
                      Bad{"a\\=b=c", "unescaped character in value: = (at offset 4)"}));

TEST(FieldSelector, Matches) {
  std::map<std::string, std::string> pod = {{"metadata.name", "web-1"}, {"spec.nodeName", "node-2"}, {"status.phase", "Running"}};
  auto matches = [&](const char* s) {
    Result<FieldSelector> f = FieldSelector::Parse(s);
    EXPECT_TRUE(f.ok()) << s;
    return f.ok() && f->Matches(pod);
  };
  EXPECT_TRUE(matches(""));
  EXPECT_TRUE(matches("spec.nodeName=node-2"));
  EXPECT_TRUE(matches("spec.nodeName=node-2,status.phase!=Failed"));
  EXPECT_FALSE(matches("spec.nodeName=node-1"));
  EXPECT_FALSE(matches("status.phase!=Running"));
  EXPECT_TRUE(matches("spec.schedulerName="));  // a missing field is ""
  EXPECT_FALSE(matches("spec.schedulerName!="));
  Result<FieldSelector> f = FieldSelector::Parse("status.phase!=Failed,spec.nodeName=node-2");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->RequiresExactMatch("spec.nodeName"), "node-2");
  EXPECT_EQ(f->RequiresExactMatch("status.phase"), std::nullopt);
  EXPECT_EQ(FieldSelector::OneTermEqual("metadata.name", "a,b").String(), "metadata.name=a\\,b");
  EXPECT_EQ(EscapeFieldSelectorValue("a\\b=c,d"), "a\\\\b\\=c\\,d");
}

}  // namespace
}  // namespace ck::api
