// Node selector matching (node_selector.h): operators, terms ORed, expressions ANDed, matchFields,
// strict and lenient parsing, preferred scores, the pod's required affinity, name pinning.
#include "scheduler/plugins/nodeaffinity/node_selector.h"

#include <gtest/gtest.h>

#include "common/api/testing/builders.h"

namespace ck::scheduler::plugins {
namespace {

using api::testing::MakeNode;
using api::testing::MakePod;

corev1::NodeSelectorRequirement Req(std::string key, std::string op, std::vector<std::string> values = {}) {
  corev1::NodeSelectorRequirement r;
  r.set_key(key);
  r.set_operator_(op);
  for (auto& v : values) r.add_values(v);
  return r;
}

corev1::NodeSelectorTerm Term(std::vector<corev1::NodeSelectorRequirement> exprs,
                              std::vector<corev1::NodeSelectorRequirement> fields = {}) {
  corev1::NodeSelectorTerm t;
  for (auto& r : exprs) *t.add_matchexpressions() = r;
  for (auto& r : fields) *t.add_matchfields() = r;
  return t;
}

corev1::NodeSelector Selector(std::vector<corev1::NodeSelectorTerm> terms) {
  corev1::NodeSelector s;
  for (auto& t : terms) *s.add_nodeselectorterms() = t;
  return s;
}

TEST(NodeSelectorTest, Matches) {
  struct Case {
    const char* name;
    corev1::NodeSelector selector;
    corev1::Node node;
    bool want;
  };
  const corev1::Node node = MakeNode("node-1").Label("foo", "bar").Label("kernel", "206").Label("gpu", "k1");
  const Case cases[] = {
      {"In", Selector({Term({Req("foo", "In", {"baz", "bar"})})}), node, true},
      {"In, other values", Selector({Term({Req("foo", "In", {"baz"})})}), node, false},
      {"In, label absent", Selector({Term({Req("zone", "In", {"a"})})}), node, false},
      {"NotIn", Selector({Term({Req("foo", "NotIn", {"baz"})})}), node, true},
      {"NotIn, value listed", Selector({Term({Req("foo", "NotIn", {"bar"})})}), node, false},
      {"NotIn, label absent", Selector({Term({Req("zone", "NotIn", {"a"})})}), node, true},
      {"Exists", Selector({Term({Req("gpu", "Exists")})}), node, true},
      {"Exists, absent", Selector({Term({Req("tpu", "Exists")})}), node, false},
      {"DoesNotExist", Selector({Term({Req("tpu", "DoesNotExist")})}), node, true},
      {"DoesNotExist, present", Selector({Term({Req("gpu", "DoesNotExist")})}), node, false},
      {"Gt", Selector({Term({Req("kernel", "Gt", {"204"})})}), node, true},
      {"Gt, equal", Selector({Term({Req("kernel", "Gt", {"206"})})}), node, false},
      {"Lt", Selector({Term({Req("kernel", "Lt", {"300"})})}), node, true},
      {"Lt, greater", Selector({Term({Req("kernel", "Lt", {"100"})})}), node, false},
      {"Gt on a non-integer label", Selector({Term({Req("foo", "Gt", {"1"})})}), node, false},
      {"expressions of a term are ANDed",
       Selector({Term({Req("foo", "In", {"bar"}), Req("gpu", "DoesNotExist")})}), node, false},
      {"terms are ORed", Selector({Term({Req("foo", "In", {"nope"})}), Term({Req("gpu", "Exists")})}), node, true},
      {"no terms match nothing", Selector({}), node, false},
      {"an empty term matches nothing", Selector({Term({})}), node, false},
      {"an empty term next to a matching one", Selector({Term({}), Term({Req("foo", "Exists")})}), node, true},
      {"matchFields metadata.name In", Selector({Term({}, {Req("metadata.name", "In", {"node-1"})})}), node, true},
      {"matchFields metadata.name In, other node", Selector({Term({}, {Req("metadata.name", "In", {"node-2"})})}),
       node, false},
      {"matchFields metadata.name NotIn", Selector({Term({}, {Req("metadata.name", "NotIn", {"node-2"})})}), node,
       true},
      {"matchFields unknown field In", Selector({Term({}, {Req("spec.foo", "In", {"x"})})}), node, false},
      {"matchFields unknown field NotIn", Selector({Term({}, {Req("spec.foo", "NotIn", {"x"})})}), node, true},
      {"matchFields AND matchExpressions",
       Selector({Term({Req("foo", "In", {"bar"})}, {Req("metadata.name", "In", {"node-2"})})}), node, false},
      {"matchFields ignored for a node without a name", Selector({Term({}, {Req("metadata.name", "In", {"x"})})}),
       MakeNode(""), true},
      {"bad operator: the term never matches", Selector({Term({Req("foo", "Foo", {"bar"})})}), node, false},
      {"bad term next to a good one", Selector({Term({Req("foo", "In", {})}), Term({Req("foo", "In", {"bar"})})}),
       node, true},
      {"Gt with a non-integer value never matches", Selector({Term({Req("kernel", "Gt", {"x"})})}), node, false},
      {"matchFields with two values never matches",
       Selector({Term({}, {Req("metadata.name", "In", {"node-1", "node-2"})})}), node, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(NodeSelector::ParseLazy(c.selector).Matches(c.node), c.want);
  }
}

TEST(NodeSelectorTest, StrictParseErrors) {
  struct Case {
    const char* name;
    corev1::NodeSelector selector;
    std::string error;  // "" = parses
  };
  const Case cases[] = {
      {"valid", Selector({Term({Req("foo", "In", {"bar"})}, {Req("metadata.name", "NotIn", {"n"})})}), ""},
      {"empty terms are dropped before parsing", Selector({Term({})}), ""},
      {"unknown operator", Selector({Term({Req("foo", "Foo", {"bar"})})}),
       "nodeSelectorTerms[0].matchExpressions[0].operator: Unsupported value: \"Foo\""},
      {"In without values", Selector({Term({}), Term({Req("foo", "In")})}),
       "nodeSelectorTerms[1].matchExpressions[0].values: Invalid value: []string{}: for 'in', 'notin' operators, "
       "values set can't be empty"},
      {"Exists with values", Selector({Term({Req("foo", "Exists", {"x"})})}),
       "nodeSelectorTerms[0].matchExpressions[0].values: Invalid value: values set must be empty for exists and does "
       "not exist"},
      {"Gt with a word", Selector({Term({Req("foo", "Gt", {"x"})})}),
       "nodeSelectorTerms[0].matchExpressions[0].values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the "
       "value must be an integer"},
      {"matchFields Exists", Selector({Term({}, {Req("metadata.name", "Exists")})}),
       "nodeSelectorTerms[0].matchFields[0].operator: Unsupported value: \"Exists\": supported values: \"In\", "
       "\"NotIn\""},
      {"matchFields two values", Selector({Term({}, {Req("metadata.name", "In", {"a", "b"})})}),
       "nodeSelectorTerms[0].matchFields[0].values: Invalid value: []string{\"a\", \"b\"}: must have one element"},
      {"two errors", Selector({Term({Req("a", "Foo")}), Term({}, {Req("metadata.name", "Bar", {"x"})})}),
       "[nodeSelectorTerms[0].matchExpressions[0].operator: Unsupported value: \"Foo\", "
       "nodeSelectorTerms[1].matchFields[0].operator: Unsupported value: \"Bar\": supported values: \"In\", "
       "\"NotIn\"]"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto parsed = NodeSelector::Parse(c.selector);
    if (c.error.empty()) {
      EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    } else {
      ASSERT_FALSE(parsed.ok());
      EXPECT_EQ(parsed.status().code(), Code::kInvalid);
      EXPECT_EQ(parsed.status().message(), c.error);
    }
  }
  auto with_path = NodeSelector::Parse(Selector({Term({Req("foo", "Foo")})}), "spec.x");
  ASSERT_FALSE(with_path.ok());
  EXPECT_EQ(with_path.status().message(), "spec.x.nodeSelectorTerms[0].matchExpressions[0].operator: Unsupported value: \"Foo\"");
}

google::protobuf::RepeatedPtrField<corev1::PreferredSchedulingTerm> Preferred(
    std::vector<std::pair<int32_t, corev1::NodeSelectorTerm>> terms) {
  google::protobuf::RepeatedPtrField<corev1::PreferredSchedulingTerm> out;
  for (auto& [w, t] : terms) {
    corev1::PreferredSchedulingTerm* p = out.Add();
    p->set_weight(w);
    *p->mutable_preference() = t;
  }
  return out;
}

TEST(PreferredSchedulingTermsTest, Score) {
  auto terms = PreferredSchedulingTerms::Parse(Preferred({
      {2, Term({Req("foo", "In", {"bar"})})},
      {4, Term({Req("key", "In", {"value"})})},
      {5, Term({Req("foo", "In", {"bar"}), Req("key", "In", {"value"}), Req("az", "In", {"az1"})})},
      {0, Term({Req("foo", "Exists")})},  // weight 0: dropped
      {7, Term({})},                      // empty: dropped
      {3, Term({}, {Req("metadata.name", "In", {"n5"})})},
  }));
  ASSERT_TRUE(terms.ok()) << terms.status().ToString();
  EXPECT_EQ(terms->Score(MakeNode("n1").Label("foo", "bar")), 2);
  EXPECT_EQ(terms->Score(MakeNode("n2").Label("key", "value")), 4);
  EXPECT_EQ(terms->Score(MakeNode("n3").Label("abc", "def")), 0);
  EXPECT_EQ(terms->Score(MakeNode("n4").Label("foo", "bar").Label("key", "value").Label("az", "az1")), 11);
  EXPECT_EQ(terms->Score(MakeNode("n5").Label("foo", "bar")), 5);

  auto bad = PreferredSchedulingTerms::Parse(Preferred({{1, Term({Req("foo", "In")})}}), "prefs");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "prefs[0].matchExpressions[0].values: Invalid value: []string{}: for 'in', 'notin' operators, values set "
            "can't be empty");
  // A bad term of weight 0 is never looked at.
  EXPECT_TRUE(PreferredSchedulingTerms::Parse(Preferred({{0, Term({Req("foo", "In")})}})).ok());
}

corev1::Pod WithRequired(corev1::Pod pod, corev1::NodeSelector selector) {
  *pod.mutable_spec()->mutable_affinity()->mutable_nodeaffinity()->mutable_requiredduringschedulingignoredduringexecution() =
      selector;
  return pod;
}

TEST(RequiredNodeAffinityTest, NodeSelectorAndAffinity) {
  struct Case {
    const char* name;
    corev1::Pod pod;
    bool has_constraints;
    bool want;  // on node "n" with labels foo=bar, zone=a
  };
  const Case cases[] = {
      {"nothing", MakePod("p"), false, true},
      {"nodeSelector matches", MakePod("p").NodeSelector("foo", "bar"), true, true},
      {"nodeSelector needs every label", MakePod("p").NodeSelector("foo", "bar").NodeSelector("disk", "ssd"), true,
       false},
      {"nodeSelector with another value", MakePod("p").NodeSelector("foo", "baz"), true, false},
      {"affinity matches", WithRequired(MakePod("p"), Selector({Term({Req("zone", "In", {"a", "b"})})})), true, true},
      {"nodeSelector and affinity must both match",
       WithRequired(MakePod("p").NodeSelector("foo", "bar"), Selector({Term({Req("zone", "In", {"b"})})})), true,
       false},
      {"both match", WithRequired(MakePod("p").NodeSelector("foo", "bar"), Selector({Term({Req("zone", "Exists")})})),
       true, true},
      {"required with no terms matches nothing", WithRequired(MakePod("p"), Selector({})), true, false},
  };
  const corev1::Node node = MakeNode("n").Label("foo", "bar").Label("zone", "a");
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RequiredNodeAffinity r = RequiredNodeAffinity::FromPod(c.pod);
    EXPECT_EQ(r.HasConstraints(), c.has_constraints);
    EXPECT_EQ(r.Matches(node), c.want);
  }
}

TEST(NodeNamesPinnedByTest, Narrowing) {
  using Names = std::optional<std::set<std::string>>;
  struct Case {
    const char* name;
    corev1::NodeSelector selector;
    Names want;
  };
  const Case cases[] = {
      {"no terms", Selector({}), std::nullopt},
      {"labels only", Selector({Term({Req("foo", "Exists")})}), std::nullopt},
      {"one term pins two names", Selector({Term({}, {Req("metadata.name", "In", {"n1", "n2"})})}),
       Names(std::set<std::string>{"n1", "n2"})},
      {"terms are unioned",
       Selector({Term({}, {Req("metadata.name", "In", {"n1"})}), Term({}, {Req("metadata.name", "In", {"n3"})})}),
       Names(std::set<std::string>{"n1", "n3"})},
      {"one open term opens everything",
       Selector({Term({}, {Req("metadata.name", "In", {"n1"})}), Term({Req("foo", "Exists")})}), std::nullopt},
      {"requirements of a term intersect",
       Selector({Term({}, {Req("metadata.name", "In", {"n1", "n2"}), Req("metadata.name", "In", {"n2", "n3"})})}),
       Names(std::set<std::string>{"n2"})},
      {"conflicting pins", Selector({Term({}, {Req("metadata.name", "In", {"n1"}), Req("metadata.name", "In", {"n2"})})}),
       Names(std::set<std::string>{})},
      {"NotIn does not pin", Selector({Term({}, {Req("metadata.name", "NotIn", {"n1"})})}), std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(NodeNamesPinnedBy(c.selector), c.want);
  }
}

}  // namespace
}  // namespace ck::scheduler::plugins
