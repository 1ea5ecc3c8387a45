// NodeAffinity: PreFilter (skip, narrowing, conflicts), Filter (nodeSelector AND required
// affinity, addedAffinity), PreScore/Score/NormalizeScore (preferred weights), and its args.
#include "scheduler/plugins/nodeaffinity/node_affinity.h"

#include <gtest/gtest.h>

#include <map>

#include "common/api/testing/builders.h"
#include "scheduler/plugins/nodeaffinity/normalize_score.h"
#include "scheduler/plugins/testing/fake_handle.h"

namespace ck::scheduler::plugins {
namespace {

using api::testing::MakeNode;
using api::testing::MakePod;

// ---- small builders for affinity ----

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

corev1::Pod Required(corev1::Pod pod, std::vector<corev1::NodeSelectorTerm> terms) {
  auto* ns = pod.mutable_spec()->mutable_affinity()->mutable_nodeaffinity()->mutable_requiredduringschedulingignoredduringexecution();
  for (auto& t : terms) *ns->add_nodeselectorterms() = t;
  return pod;
}

corev1::Pod Preferred(corev1::Pod pod, std::vector<std::pair<int32_t, corev1::NodeSelectorTerm>> terms) {
  auto* na = pod.mutable_spec()->mutable_affinity()->mutable_nodeaffinity();
  for (auto& [w, t] : terms) {
    auto* p = na->add_preferredduringschedulingignoredduringexecution();
    p->set_weight(w);
    *p->mutable_preference() = t;
  }
  return pod;
}

std::unique_ptr<NodeAffinity> Plugin(const std::string& args_yaml = "") {
  auto args = ParseNodeAffinityArgs(args_yaml.empty() ? YAML::Node() : YAML::Load(args_yaml));
  EXPECT_TRUE(args.ok()) << args.status().ToString();
  auto pl = NodeAffinity::Create(*args);
  EXPECT_TRUE(pl.ok()) << pl.status().ToString();
  return std::move(*pl);
}

// PreFilter (when it does not skip or reject) then Filter on `node`.
Verdict PreFilterAndFilter(NodeAffinity& pl, const corev1::Pod& pod, const corev1::Node& node) {
  Snapshot snapshot = Snapshot::FromObjects({}, {node});
  PodInfoPtr pi = *PodInfo::Create(pod);
  CycleState state;
  PreFilterResult r;
  Verdict pre = pl.PreFilter(state, *pi, snapshot, &r);
  if (pre.IsSkip()) return Verdict::Success();  // the framework does not call Filter
  if (!pre.IsSuccess()) return pre;
  return pl.Filter(state, *pi, *snapshot.Get(node.metadata().name()));
}

TEST(NodeAffinityTest, Filter) {
  struct Case {
    const char* name;
    corev1::Pod pod;
    corev1::Node node;
    VerdictCode want;
  };
  const corev1::Node bare = MakeNode("node1");
  const corev1::Node foo_bar = MakeNode("node1").Label("foo", "bar");
  const Case cases[] = {
      {"no selector, no affinity", MakePod("p"), bare, VerdictCode::kSuccess},
      {"nodeSelector, node without labels", MakePod("p").NodeSelector("foo", "bar"), bare,
       VerdictCode::kUnschedulableAndUnresolvable},
      {"nodeSelector matches", MakePod("p").NodeSelector("foo", "bar"), foo_bar, VerdictCode::kSuccess},
      {"nodeSelector matches among more labels", MakePod("p").NodeSelector("foo", "bar"),
       MakeNode("node1").Label("foo", "bar").Label("baz", "blah"), VerdictCode::kSuccess},
      {"nodeSelector with another value", MakePod("p").NodeSelector("foo", "baz"), foo_bar,
       VerdictCode::kUnschedulableAndUnresolvable},
      {"affinity In", Required(MakePod("p"), {Term({Req("foo", "In", {"value1", "bar"})})}), foo_bar,
       VerdictCode::kSuccess},
      {"affinity Gt", Required(MakePod("p"), {Term({Req("kernel-version", "Gt", {"0204"})})}),
       MakeNode("node1").Label("kernel-version", "0206"), VerdictCode::kSuccess},
      {"affinity NotIn", Required(MakePod("p"), {Term({Req("mem-type", "NotIn", {"DDR", "DDR2"})})}),
       MakeNode("node1").Label("mem-type", "DDR3"), VerdictCode::kSuccess},
      {"affinity Exists", Required(MakePod("p"), {Term({Req("GPU", "Exists")})}),
       MakeNode("node1").Label("GPU", "NVIDIA-GRID-K1"), VerdictCode::kSuccess},
      {"one expression of a term fails",
       Required(MakePod("p"), {Term({Req("foo", "In", {"bar"}), Req("GPU", "Exists")})}), foo_bar,
       VerdictCode::kUnschedulableAndUnresolvable},
      {"required with no terms", Required(MakePod("p"), {}), foo_bar, VerdictCode::kUnschedulableAndUnresolvable},
      {"required with an empty term", Required(MakePod("p"), {Term({})}), foo_bar,
       VerdictCode::kUnschedulableAndUnresolvable},
      {"terms are ORed",
       Required(MakePod("p"), {Term({Req("foo", "In", {"nope"})}), Term({Req("foo", "In", {"bar"})})}), foo_bar,
       VerdictCode::kSuccess},
      {"nodeSelector matches, affinity does not",
       Required(MakePod("p").NodeSelector("foo", "bar"), {Term({Req("zone", "Exists")})}), foo_bar,
       VerdictCode::kUnschedulableAndUnresolvable},
      {"affinity matches, nodeSelector does not",
       Required(MakePod("p").NodeSelector("zone", "a"), {Term({Req("foo", "Exists")})}), foo_bar,
       VerdictCode::kUnschedulableAndUnresolvable},
      {"only preferred affinity: no constraint", Preferred(MakePod("p"), {{5, Term({Req("zone", "Exists")})}}), bare,
       VerdictCode::kSuccess},
      {"matchFields names the node", Required(MakePod("p"), {Term({}, {Req("metadata.name", "In", {"node1"})})}), bare,
       VerdictCode::kSuccess},
      {"matchFields names another node", Required(MakePod("p"), {Term({}, {Req("metadata.name", "In", {"node2"})})}),
       bare, VerdictCode::kUnschedulableAndUnresolvable},
      {"matchFields and matchExpressions ANDed",
       Required(MakePod("p"), {Term({Req("foo", "In", {"bar"})}, {Req("metadata.name", "In", {"node1"})})}), bare,
       VerdictCode::kUnschedulableAndUnresolvable},
      {"a term that does not parse never matches (no error)",
       Required(MakePod("p"), {Term({Req("foo", "Foo", {"bar"})})}), foo_bar,
       VerdictCode::kUnschedulableAndUnresolvable},
      {"Gt with a non-integer value never matches", Required(MakePod("p"), {Term({Req("foo", "Gt", {"x"})})}),
       foo_bar, VerdictCode::kUnschedulableAndUnresolvable},
  };
  auto pl = Plugin();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Verdict v = PreFilterAndFilter(*pl, c.pod, c.node);
    EXPECT_EQ(v.code(), c.want) << v.String();
    if (c.want == VerdictCode::kUnschedulableAndUnresolvable) {
      EXPECT_EQ(v.reasons(), std::vector<std::string>{"node(s) didn't match Pod's node affinity/selector"});
    }
    // Without PreFilter's state, Filter works the pod out itself and agrees.
    CycleState empty;
    Snapshot snapshot = Snapshot::FromObjects({}, {c.node});
    EXPECT_EQ(pl->Filter(empty, **PodInfo::Create(c.pod), *snapshot.Get("node1")).code(), c.want);
  }
}

TEST(NodeAffinityTest, PreFilter) {
  using Names = std::optional<std::set<std::string>>;
  struct Case {
    const char* name;
    corev1::Pod pod;
    VerdictCode want;
    Names names;  // nullopt: all nodes
  };
  const Case cases[] = {
      {"nothing to do", MakePod("p"), VerdictCode::kSkip, std::nullopt},
      {"only preferred", Preferred(MakePod("p"), {{1, Term({Req("a", "Exists")})}}), VerdictCode::kSkip, std::nullopt},
      {"nodeSelector", MakePod("p").NodeSelector("a", "b"), VerdictCode::kSuccess, std::nullopt},
      {"labels only", Required(MakePod("p"), {Term({Req("a", "Exists")})}), VerdictCode::kSuccess, std::nullopt},
      {"pinned by name (DaemonSet)", Required(MakePod("p"), {Term({}, {Req("metadata.name", "In", {"n1", "n2"})})}),
       VerdictCode::kSuccess, Names(std::set<std::string>{"n1", "n2"})},
      {"two pinned terms",
       Required(MakePod("p"), {Term({}, {Req("metadata.name", "In", {"n1"})}),
                               Term({}, {Req("metadata.name", "In", {"n2"})})}),
       VerdictCode::kSuccess, Names(std::set<std::string>{"n1", "n2"})},
      {"a pinned and an open term",
       Required(MakePod("p"), {Term({}, {Req("metadata.name", "In", {"n1"})}), Term({Req("a", "Exists")})}),
       VerdictCode::kSuccess, std::nullopt},
      {"intersected pins in one term",
       Required(MakePod("p"), {Term({}, {Req("metadata.name", "In", {"n1", "n2"}),
                                         Req("metadata.name", "In", {"n2", "n3"})})}),
       VerdictCode::kSuccess, Names(std::set<std::string>{"n2"})},
      {"conflicting pins",
       Required(MakePod("p"), {Term({}, {Req("metadata.name", "In", {"n1"}), Req("metadata.name", "In", {"n2"})})}),
       VerdictCode::kUnschedulableAndUnresolvable, std::nullopt},
      {"required with no terms", Required(MakePod("p"), {}), VerdictCode::kSuccess, std::nullopt},
  };
  auto pl = Plugin();
  Snapshot snapshot = Snapshot::FromObjects({}, {MakeNode("n1"), MakeNode("n2"), MakeNode("n3")});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    CycleState state;
    PreFilterResult r;
    Verdict v = pl->PreFilter(state, **PodInfo::Create(c.pod), snapshot, &r);
    EXPECT_EQ(v.code(), c.want) << v.String();
    EXPECT_EQ(r.node_names, c.names);
    if (c.want == VerdictCode::kUnschedulableAndUnresolvable) {
      EXPECT_EQ(v.reasons(), std::vector<std::string>{"pod affinity terms conflict"});
    }
  }
}

TEST(NodeAffinityTest, AddedAffinityFilter) {
  auto pl = Plugin(R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions:
      - {key: pool, operator: In, values: [general]}
)");
  const corev1::Node general = MakeNode("node1").Label("pool", "general").Label("foo", "bar");
  const corev1::Node system = MakeNode("node1").Label("pool", "system").Label("foo", "bar");
  // Without its own constraints the pod still gets the profile's: PreFilter does not skip.
  Verdict v = PreFilterAndFilter(*pl, MakePod("p"), system);
  EXPECT_EQ(v.code(), VerdictCode::kUnschedulableAndUnresolvable);
  EXPECT_EQ(v.reasons(), std::vector<std::string>{"node(s) didn't match scheduler-enforced node affinity"});
  EXPECT_TRUE(PreFilterAndFilter(*pl, MakePod("p"), general).IsSuccess());
  // Both the added and the pod's own affinity must hold.
  v = PreFilterAndFilter(*pl, MakePod("p").NodeSelector("foo", "baz"), general);
  EXPECT_EQ(v.reasons(), std::vector<std::string>{"node(s) didn't match Pod's node affinity/selector"});
  EXPECT_TRUE(PreFilterAndFilter(*pl, MakePod("p").NodeSelector("foo", "bar"), general).IsSuccess());
}

// PreScore, Score every node, NormalizeScore: the final scores; nullopt when PreScore skipped.
std::optional<std::map<std::string, int64_t>> Scores(NodeAffinity& pl, const corev1::Pod& pod,
                                                     const std::vector<corev1::Node>& nodes) {
  Snapshot snapshot = Snapshot::FromObjects({}, nodes);
  PodInfoPtr pi = *PodInfo::Create(pod);
  CycleState state;
  std::vector<const NodeInfo*> infos;
  for (const auto& n : snapshot.List()) infos.push_back(n.get());
  Verdict pre = pl.PreScore(state, *pi, infos);
  if (pre.IsSkip()) return std::nullopt;
  EXPECT_TRUE(pre.IsSuccess()) << pre.String();
  std::vector<NodeScore> scores;
  for (const NodeInfo* n : infos) {
    int64_t s = -1;
    EXPECT_TRUE(pl.Score(state, *pi, *n, &s).IsSuccess());
    scores.push_back({n->name(), s});
  }
  EXPECT_TRUE(pl.NormalizeScore(state, *pi, scores).IsSuccess());
  std::map<std::string, int64_t> out;
  for (const NodeScore& s : scores) out[s.name] = s.score;
  return out;
}

TEST(NodeAffinityTest, Score) {
  const corev1::Pod one_term = Preferred(MakePod("p"), {{2, Term({Req("foo", "In", {"bar"})})}});
  const corev1::Pod three_terms =
      Preferred(MakePod("p"), {{2, Term({Req("foo", "In", {"bar"})})},
                               {4, Term({Req("key", "In", {"value"})})},
                               {5, Term({Req("foo", "In", {"bar"}), Req("key", "In", {"value"}), Req("az", "In", {"az1"})})}});
  const corev1::Node n1 = MakeNode("node1").Label("foo", "bar");
  const corev1::Node n2 = MakeNode("node2").Label("key", "value");
  const corev1::Node n3 = MakeNode("node3").Label("az", "az1");
  const corev1::Node n4 = MakeNode("node4").Label("abc", "az11").Label("def", "az22");
  const corev1::Node n5 = MakeNode("node5").Label("foo", "bar").Label("key", "value").Label("az", "az1");
  using Map = std::map<std::string, int64_t>;
  struct Case {
    const char* name;
    corev1::Pod pod;
    std::vector<corev1::Node> nodes;
    std::optional<Map> want;
  };
  const Case cases[] = {
      {"no preferred terms: skipped", MakePod("p"), {n1, n2}, std::nullopt},
      {"no node matches", one_term, {n2, n3, n4}, Map{{"node2", 0}, {"node3", 0}, {"node4", 0}}},
      {"one node matches", one_term, {n1, n2, n3}, Map{{"node1", 100}, {"node2", 0}, {"node3", 0}}},
      // Raw: node1 2, node5 11, node2 4 -> 200/11=18, 100, 400/11=36.
      {"weights add up", three_terms, {n1, n5, n2}, Map{{"node1", 18}, {"node5", 100}, {"node2", 36}}},
      {"weight 0 terms only: not skipped, all 0", Preferred(MakePod("p"), {{0, Term({Req("foo", "Exists")})}}),
       {n1, n2}, Map{{"node1", 0}, {"node2", 0}}},
      {"matchFields in a preferred term", Preferred(MakePod("p"), {{3, Term({}, {Req("metadata.name", "In", {"node3"})})}}),
       {n1, n3}, Map{{"node1", 0}, {"node3", 100}}},
  };
  auto pl = Plugin();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(Scores(*pl, c.pod, c.nodes), c.want);
  }
}

TEST(NodeAffinityTest, ScoreWithAddedAffinity) {
  auto pl = Plugin(R"(
addedAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
  - weight: 5
    preference:
      matchExpressions:
      - {key: foo, operator: In, values: [bar]}
)");
  const corev1::Node n1 = MakeNode("node1").Label("foo", "bar");
  const corev1::Node n2 = MakeNode("node2").Label("key", "value");
  const corev1::Node n5 = MakeNode("node5").Label("foo", "bar").Label("key", "value");
  // A pod without preferred terms is still scored by the added ones.
  EXPECT_EQ(Scores(*pl, MakePod("p"), {n1, n2}), (std::map<std::string, int64_t>{{"node1", 100}, {"node2", 0}}));
  // Added 5 + the pod's 10: node1 5, node2 10, node5 15 -> 33, 66, 100.
  corev1::Pod pod = Preferred(MakePod("p"), {{10, Term({Req("key", "In", {"value"})})}});
  EXPECT_EQ(Scores(*pl, pod, {n1, n2, n5}),
            (std::map<std::string, int64_t>{{"node1", 33}, {"node2", 66}, {"node5", 100}}));
}

TEST(NodeAffinityTest, PreScoreErrorOnBadPreferredTerm) {
  auto pl = Plugin();
  PodInfoPtr pod = *PodInfo::Create(Preferred(MakePod("p"), {{1, Term({Req("foo", "Foo")})}}));
  CycleState state;
  Verdict v = pl->PreScore(state, *pod, {});
  EXPECT_TRUE(v.IsError());
  EXPECT_EQ(v.Message(), "[0].matchExpressions[0].operator: Unsupported value: \"Foo\"");
}

TEST(NodeAffinityTest, DefaultNormalizeScore) {
  struct Case {
    const char* name;
    std::vector<int64_t> raw;
    bool reverse;
    std::vector<int64_t> want;
  };
  const Case cases[] = {
      {"scaled to the largest", {1, 2, 4}, false, {25, 50, 100}},
      {"reversed", {1, 2, 4}, true, {75, 50, 0}},
      {"all zero", {0, 0}, false, {0, 0}},
      {"all zero reversed", {0, 0}, true, {100, 100}},
      {"integer division", {1, 3}, false, {33, 100}},
      {"empty", {}, true, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<NodeScore> scores;
    for (size_t i = 0; i < c.raw.size(); ++i) scores.push_back({"n" + std::to_string(i), c.raw[i]});
    DefaultNormalizeScore(kMaxNodeScore, c.reverse, scores);
    std::vector<int64_t> got;
    for (const NodeScore& s : scores) got.push_back(s.score);
    EXPECT_EQ(got, c.want);
  }
}

TEST(NodeAffinityArgsTest, Parse) {
  struct Case {
    const char* name;
    std::string yaml;
    std::string error;  // "" = valid
  };
  const Case cases[] = {
      {"no args", "", ""},
      {"empty map", "{}", ""},
      {"kind and apiVersion are accepted", "{kind: NodeAffinityArgs, apiVersion: kubescheduler.config.k8s.io/v1}", ""},
      {"valid required and preferred", R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions:
      - {key: kernel, operator: Gt, values: ["5"]}
      matchFields:
      - {key: metadata.name, operator: NotIn, values: [node-9]}
  preferredDuringSchedulingIgnoredDuringExecution:
  - weight: 3
    preference:
      matchExpressions:
      - {key: zone, operator: In, values: [a, b]}
)",
       ""},
      {"unknown field", "{addedAffinityy: {}}", "NodeAffinityArgs: strict decoding error: unknown field \"addedAffinityy\""},
      {"not a map", "[1, 2]", "NodeAffinityArgs: args must be a map"},
      {"bad operator", R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions:
      - {key: foo, operator: Foo, values: [bar]}
)",
       "NodeAffinityArgs: addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]."
       "matchExpressions[0].operator: Unsupported value: \"Foo\""},
      {"bad preferred matchFields", R"(
addedAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
  - weight: 1
    preference:
      matchFields:
      - {key: metadata.name, operator: Exists}
)",
       "NodeAffinityArgs: addedAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].matchFields[0].operator: "
       "Unsupported value: \"Exists\": supported values: \"In\", \"NotIn\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto parsed = ParseNodeAffinityArgs(c.yaml.empty() ? YAML::Node() : YAML::Load(c.yaml));
    if (c.error.empty()) {
      EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    } else {
      ASSERT_FALSE(parsed.ok());
      EXPECT_EQ(parsed.status().code(), Code::kInvalid);
      EXPECT_EQ(parsed.status().message(), c.error);
    }
  }
}

TEST(NodeAffinityArgsTest, FieldsReadLikeAPodsAffinity) {
  auto parsed = ParseNodeAffinityArgs(YAML::Load(R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions:
      - {key: "kernel", operator: "Gt", values: ["5"]}
)"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_TRUE(parsed->added_affinity.has_value());
  const auto& req = parsed->added_affinity->requiredduringschedulingignoredduringexecution();
  ASSERT_EQ(req.nodeselectorterms_size(), 1);
  const auto& e = req.nodeselectorterms(0).matchexpressions(0);
  EXPECT_EQ(e.key(), "kernel");
  EXPECT_EQ(e.operator_(), "Gt");
  ASSERT_EQ(e.values_size(), 1);
  EXPECT_EQ(e.values(0), "5");
  // An unknown field inside the affinity is refused, as upstream's strict decoding does.
  auto strict = ParseNodeAffinityArgs(YAML::Load("{addedAffinity: {requiredDuringScheduling: {}}}"));
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find("unknown field"), std::string::npos) << strict.status().message();
}

TEST(NodeAffinityTest, EventsAndFactory) {
  testing::FakeHandle handle;
  auto pl = NewNodeAffinity(YAML::Node(), handle);
  ASSERT_TRUE(pl.ok());
  EXPECT_EQ((*pl)->Name(), "NodeAffinity");
  auto events = dynamic_cast<EnqueueExtensions*>(pl->get())->EventsToRegister();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].Covers(ClusterEvent{EventResource::kNode, kActionUpdateNodeLabel, ""}));
  EXPECT_TRUE(events[0].Covers(ClusterEvent{EventResource::kNode, kActionAdd, ""}));
  EXPECT_FALSE(events[0].Covers(ClusterEvent{EventResource::kAssignedPod, kActionDelete, ""}));
  auto bad = NewNodeAffinity(YAML::Load("{addedAffinity: {requiredDuringSchedulingIgnoredDuringExecution: "
                                        "{nodeSelectorTerms: [{matchExpressions: [{key: a, operator: In}]}]}}}"),
                             handle);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalid);
}

}  // namespace
}  // namespace ck::scheduler::plugins
