// Node selector matching (node_selector.h): operators, terms ORed, expressions ANDed, matchFields,
// strict and lenient parsing, preferred scores, the pod's required affinity, name pinning.
#include "scheduler/plugins/nodeaffinity/node_selector.h"

#include <gtest/gtest.h>

#include "common/api/testing/builders.h"

namespace ck::scheduler::plugins {
namespace {

using api::testing::MakeNode;
using api::testing::MakePod;

corev1::NodeSelectorRequirement SelectorReq(std::string key, std::string op, std::vector<std::string> values = {}) {
  corev1::NodeSelectorRequirement r;
  r.set_key(key);
  r.set_operator_(op);
  for (auto& v : values) r.add_values(v);
  return r;
}

corev1::NodeSelectorTerm SelectorTerm(std::vector<corev1::NodeSelectorRequirement> exprs,
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
      {"In", Selector({SelectorTerm({SelectorReq("foo", "In", {"baz", "bar"})})}), node, true},
      {"In, other values", Selector({SelectorTerm({SelectorReq("foo", "In", {"baz"})})}), node, false},
      {"In, label absent", Selector({SelectorTerm({SelectorReq("zone", "In", {"a"})})}), node, false},
      {"NotIn", Selector({SelectorTerm({SelectorReq("foo", "NotIn", {"baz"})})}), node, true},
      {"NotIn, value listed", Selector({SelectorTerm({SelectorReq("foo", "NotIn", {"bar"})})}), node, false},
      {"NotIn, label absent", Selector({SelectorTerm({SelectorReq("zone", "NotIn", {"a"})})}), node, true},
      {"Exists", Selector({SelectorTerm({SelectorReq("gpu", "Exists")})}), node, true},
      {"Exists, absent", Selector({SelectorTerm({SelectorReq("tpu", "Exists")})}), node, false},
      {"DoesNotExist", Selector({SelectorTerm({SelectorReq("tpu", "DoesNotExist")})}), node, true},
      {"DoesNotExist, present", Selector({SelectorTerm({SelectorReq("gpu", "DoesNotExist")})}), node, false},
      {"Gt", Selector({SelectorTerm({SelectorReq("kernel", "Gt", {"204"})})}), node, true},
      {"Gt, equal", Selector({SelectorTerm({SelectorReq("kernel", "Gt", {"206"})})}), node, false},
      {"Lt", Selector({SelectorTerm({SelectorReq("kernel", "Lt", {"300"})})}), node, true},
      {"Lt, greater", Selector({SelectorTerm({SelectorReq("kernel", "Lt", {"100"})})}), node, false},
      {"Gt on a non-integer label", Selector({SelectorTerm({SelectorReq("foo", "Gt", {"1"})})}), node, false},
      {"expressions of a term are ANDed",
       Selector({SelectorTerm({SelectorReq("foo", "In", {"bar"}), SelectorReq("gpu", "DoesNotExist")})}), node, false},
      {"terms are ORed", Selector({SelectorTerm({SelectorReq("foo", "In", {"nope"})}), SelectorTerm({SelectorReq("gpu", "Exists")})}), node, true},
      {"no terms match nothing", Selector({}), node, false},
      {"an empty term matches nothing", Selector({SelectorTerm({})}), node, false},
      {"an empty term next to a matching one", Selector({SelectorTerm({}), SelectorTerm({SelectorReq("foo", "Exists")})}), node, true},
      {"matchFields metadata.name In", Selector({SelectorTerm({}, {SelectorReq("metadata.name", "In", {"node-1"})})}), node, true},
      {"matchFields metadata.name In, other node", Selector({SelectorTerm({}, {SelectorReq("metadata.name", "In", {"node-2"})})}),
       node, false},
      {"matchFields metadata.name NotIn", Selector({SelectorTerm({}, {SelectorReq("metadata.name", "NotIn", {"node-2"})})}), node,
       true},
      {"matchFields unknown field In", Selector({SelectorTerm({}, {SelectorReq("spec.foo", "In", {"x"})})}), node, false},
      {"matchFields unknown field NotIn", Selector({SelectorTerm({}, {SelectorReq("spec.foo", "NotIn", {"x"})})}), node, true},
      {"matchFields AND matchExpressions",
       Selector({SelectorTerm({SelectorReq("foo", "In", {"bar"})}, {SelectorReq("metadata.name", "In", {"node-2"})})}), node, false},
      {"matchFields ignored for a node without a name", Selector({SelectorTerm({}, {SelectorReq("metadata.name", "In", {"x"})})}),
       MakeNode(""), true},
      {"bad operator: the term never matches", Selector({SelectorTerm({SelectorReq("foo", "Foo", {"bar"})})}), node, false},
      {"bad term next to a good one", Selector({SelectorTerm({SelectorReq("foo", "In", {})}), SelectorTerm({SelectorReq("foo", "In", {"bar"})})}),
       node, true},
      {"Gt with a non-integer value never matches", Selector({SelectorTerm({SelectorReq("kernel", "Gt", {"x"})})}), node, false},
      {"matchFields with two values never matches",
       Selector({SelectorTerm({}, {SelectorReq("metadata.name", "In", {"node-1", "node-2"})})}), node, false},
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
      {"valid", Selector({SelectorTerm({SelectorReq("foo", "In", {"bar"})}, {SelectorReq("metadata.name", "NotIn", {"n"})})}), ""},
      {"empty terms are dropped before parsing", Selector({SelectorTerm({})}), ""},
      {"unknown operator", Selector({SelectorTerm({SelectorReq("foo", "Foo", {"bar"})})}),
       "nodeSelectorTerms[0].matchExpressions[0].operator: Unsupported value: \"Foo\""},
      {"In without values", Selector({SelectorTerm({}), SelectorTerm({SelectorReq("foo", "In")})}),
       "nodeSelectorTerms[1].matchExpressions[0].values: Invalid value: []string{}: for 'in', 'notin' operators, "
       "values set can't be empty"},
      {"Exists with values", Selector({SelectorTerm({SelectorReq("foo", "Exists", {"x"})})}),
       "nodeSelectorTerms[0].matchExpressions[0].values: Invalid value: values set must be empty for exists and does "
       "not exist"},
      {"Gt with a word", Selector({SelectorTerm({SelectorReq("foo", "Gt", {"x"})})}),
       "nodeSelectorTerms[0].matchExpressions[0].values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the "
       "value must be an integer"},
      {"matchFields Exists", Selector({SelectorTerm({}, {SelectorReq("metadata.name", "Exists")})}),
       "nodeSelectorTerms[0].matchFields[0].operator: Unsupported value: \"Exists\": supported values: \"In\", "
       "\"NotIn\""},
      {"matchFields two values", Selector({SelectorTerm({}, {SelectorReq("metadata.name", "In", {"a", "b"})})}),
       "nodeSelectorTerms[0].matchFields[0].values: Invalid value: []string{\"a\", \"b\"}: must have one element"},
      {"two errors", Selector({SelectorTerm({SelectorReq("a", "Foo")}), SelectorTerm({}, {SelectorReq("metadata.name", "Bar", {"x"})})}),
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
  auto with_path = NodeSelector::Parse(Selector({SelectorTerm({SelectorReq("foo", "Foo")})}), "spec.x");
  ASSERT_FALSE(with_path.ok());
  EXPECT_EQ(with_path.status().message(), "spec.x.nodeSelectorTerms[0].matchExpressions[0].operator: Unsupported value: \"Foo\"");
}

google::protobuf::RepeatedPtrField<corev1::PreferredSchedulingTerm> SelectorPreferred(
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
  auto terms = PreferredSchedulingTerms::Parse(SelectorPreferred({
      {2, SelectorTerm({SelectorReq("foo", "In", {"bar"})})},
      {4, SelectorTerm({SelectorReq("key", "In", {"value"})})},
      {5, SelectorTerm({SelectorReq("foo", "In", {"bar"}), SelectorReq("key", "In", {"value"}), SelectorReq("az", "In", {"az1"})})},
      {0, SelectorTerm({SelectorReq("foo", "Exists")})},  // weight 0: dropped
      {7, SelectorTerm({})},                      // empty: dropped
      {3, SelectorTerm({}, {SelectorReq("metadata.name", "In", {"n5"})})},
  }));
  ASSERT_TRUE(terms.ok()) << terms.status().ToString();
  EXPECT_EQ(terms->Score(MakeNode("n1").Label("foo", "bar")), 2);
  EXPECT_EQ(terms->Score(MakeNode("n2").Label("key", "value")), 4);
  EXPECT_EQ(terms->Score(MakeNode("n3").Label("abc", "def")), 0);
  EXPECT_EQ(terms->Score(MakeNode("n4").Label("foo", "bar").Label("key", "value").Label("az", "az1")), 11);
  EXPECT_EQ(terms->Score(MakeNode("n5").Label("foo", "bar")), 5);

  auto bad = PreferredSchedulingTerms::Parse(SelectorPreferred({{1, SelectorTerm({SelectorReq("foo", "In")})}}), "prefs");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "prefs[0].matchExpressions[0].values: Invalid value: []string{}: for 'in', 'notin' operators, values set "
            "can't be empty");
  // A bad term of weight 0 is never looked at.
  EXPECT_TRUE(PreferredSchedulingTerms::Parse(SelectorPreferred({{0, SelectorTerm({SelectorReq("foo", "In")})}})).ok());
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
      {"affinity matches", WithRequired(MakePod("p"), Selector({SelectorTerm({SelectorReq("zone", "In", {"a", "b"})})})), true, true},
      {"nodeSelector and affinity must both match",
       WithRequired(MakePod("p").NodeSelector("foo", "bar"), Selector({SelectorTerm({SelectorReq("zone", "In", {"b"})})})), true,
       false},
      {"both match", WithRequired(MakePod("p").NodeSelector("foo", "bar"), Selector({SelectorTerm({SelectorReq("zone", "Exists")})})),
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
      {"labels only", Selector({SelectorTerm({SelectorReq("foo", "Exists")})}), std::nullopt},
      {"one term pins two names", Selector({SelectorTerm({}, {SelectorReq("metadata.name", "In", {"n1", "n2"})})}),
       Names(std::set<std::string>{"n1", "n2"})},
      {"terms are unioned",
       Selector({SelectorTerm({}, {SelectorReq("metadata.name", "In", {"n1"})}), SelectorTerm({}, {SelectorReq("metadata.name", "In", {"n3"})})}),
       Names(std::set<std::string>{"n1", "n3"})},
      {"one open term opens everything",
       Selector({SelectorTerm({}, {SelectorReq("metadata.name", "In", {"n1"})}), SelectorTerm({SelectorReq("foo", "Exists")})}), std::nullopt},
      {"requirements of a term intersect",
       Selector({SelectorTerm({}, {SelectorReq("metadata.name", "In", {"n1", "n2"}), SelectorReq("metadata.name", "In", {"n2", "n3"})})}),
       Names(std::set<std::string>{"n2"})},
      {"conflicting pins", Selector({SelectorTerm({}, {SelectorReq("metadata.name", "In", {"n1"}), SelectorReq("metadata.name", "In", {"n2"})})}),
       Names(std::set<std::string>{})},
      {"NotIn does not pin", Selector({SelectorTerm({}, {SelectorReq("metadata.name", "NotIn", {"n1"})})}), std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(NodeNamesPinnedBy(c.selector), c.want);
  }
}

}  // namespace
}  // namespace ck::scheduler::plugins
