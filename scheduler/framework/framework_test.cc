// Framework placement and the runner of each extension point, with small fake plugins.
#include "scheduler/framework/framework.h"

#include <gtest/gtest.h>

#include "common/api/testing/builders.h"

namespace ck::scheduler {
namespace {

using api::testing::NodeBuilder;
using api::testing::PodBuilder;

class Sort final : public QueueSortPlugin {
 public:
  std::string_view Name() const override { return "Sort"; }
  bool Less(const QueuedPodInfo& a, const QueuedPodInfo& b) const override { return a.pod_info->priority() > b.pod_info->priority(); }
};

class Binder final : public BindPlugin {
 public:
  std::string_view Name() const override { return "Binder"; }
  Verdict Bind(CycleState&, const PodInfo&, const std::string& node) override {
    bound = node;
    return Verdict::Success();
  }
  std::string bound;
};

// Rejects nodes whose name is in `reject`; scores = the node's label "score"; narrows in PreFilter.
class Fake final : public PreFilterPlugin, public FilterPlugin, public ScorePlugin, public ReservePlugin {
 public:
  explicit Fake(std::string name) : name_(std::move(name)) {}
  std::string_view Name() const override { return name_; }
  Verdict PreFilter(CycleState&, const PodInfo&, const Snapshot&, PreFilterResult* r) override {
    if (skip) return Verdict::Skip();
    if (!only.empty()) r->node_names = only;
    return Verdict::Success();
  }
  Verdict Filter(const CycleState&, const PodInfo&, const NodeInfo& n) const override {
    if (reject.count(n.name()) > 0) return Verdict::Unschedulable("rejected by " + name_);
    return Verdict::Success();
  }
  Verdict Score(const CycleState&, const PodInfo&, const NodeInfo& n, int64_t* s) const override {
    auto it = n.node()->metadata().labels().find("score");
    *s = it == n.node()->metadata().labels().end() ? 0 : std::stoll(it->second);
    return Verdict::Success();
  }
  bool HasNormalizeScore() const override { return normalize; }
  Verdict NormalizeScore(const CycleState&, const PodInfo&, std::vector<NodeScore>& scores) const override {
    for (auto& s : scores) s.score = 100 - s.score;
    return Verdict::Success();
  }
  Verdict Reserve(CycleState&, const PodInfo&, const std::string&) override {
    ++reserved;
    return reserve_verdict;
  }
  void Unreserve(CycleState&, const PodInfo&, const std::string&) override { ++unreserved; }

  std::string name_;
  bool skip = false;
  bool normalize = false;
  std::set<std::string> only;
  std::set<std::string> reject;
  int reserved = 0, unreserved = 0;
  Verdict reserve_verdict;
};

struct Fixture {
  Fake* a = nullptr;
  Fake* b = nullptr;
  Binder* binder = nullptr;
  Registry registry;
  Fixture() {
    registry = {
        {"Sort", [](const PluginArgs&, Handle&) -> Result<std::unique_ptr<Plugin>> { return std::unique_ptr<Plugin>(new Sort()); }},
        {"Binder", [this](const PluginArgs&, Handle&) -> Result<std::unique_ptr<Plugin>> {
           auto p = std::make_unique<Binder>();
           binder = p.get();
           return std::unique_ptr<Plugin>(std::move(p));
         }},
        {"A", [this](const PluginArgs& args, Handle&) -> Result<std::unique_ptr<Plugin>> {
           if (args && args["bad"]) return Status(Code::kInvalid, "bad: not allowed");
           auto p = std::make_unique<Fake>("A");
           a = p.get();
           return std::unique_ptr<Plugin>(std::move(p));
         }},
        {"B", [this](const PluginArgs&, Handle&) -> Result<std::unique_ptr<Plugin>> {
           auto p = std::make_unique<Fake>("B");
           b = p.get();
           return std::unique_ptr<Plugin>(std::move(p));
         }},
    };
  }
  ProfileConfig Profile() const {
    ProfileConfig p;
    p.multi_point = {{"Sort", 0}, {"A", 2}, {"B", 0}, {"Binder", 0}};
    return p;
  }
};

TEST(FrameworkTest, MultiPointPlacesEachPluginAtEveryPointItImplements) {
  Fixture f;
  auto fwk = Framework::Create(f.registry, f.Profile(), {});
  ASSERT_TRUE(fwk.ok()) << fwk.status().message();
  auto plugins = (*fwk)->ListPlugins();
  EXPECT_EQ(plugins["queueSort"], std::vector<std::string>{"Sort"});
  EXPECT_EQ(plugins["filter"], (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(plugins["score"], (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(plugins["bind"], std::vector<std::string>{"Binder"});
  EXPECT_EQ((*fwk)->ScorePluginNames()[0].second, 2);
  EXPECT_EQ((*fwk)->ScorePluginNames()[1].second, 1);
}

TEST(FrameworkTest, PointConfigDisablesAndReorders) {
  Fixture f;
  ProfileConfig p = f.Profile();
  p.points["score"] = PluginSetConfig{{{"B", 5}}, {"*"}};
  p.points["filter"] = PluginSetConfig{{}, {"A"}};
  auto fwk = Framework::Create(f.registry, p, {});
  ASSERT_TRUE(fwk.ok()) << fwk.status().message();
  auto plugins = (*fwk)->ListPlugins();
  EXPECT_EQ(plugins["score"], std::vector<std::string>{"B"});
  EXPECT_EQ((*fwk)->ScorePluginNames()[0].second, 5);
  EXPECT_EQ(plugins["filter"], std::vector<std::string>{"B"});
}

TEST(FrameworkTest, BadProfilesAreInvalidWithReadableMessages) {
  Fixture f;
  struct Case {
    std::string name;
    std::function<void(ProfileConfig&)> edit;
    std::string message;
  };
  std::vector<Case> cases = {
      {"unknown plugin", [](ProfileConfig& p) { p.multi_point.push_back({"Nope", 0}); }, "plugin \"Nope\" does not exist"},
      {"no queue sort", [](ProfileConfig& p) { p.multi_point.erase(p.multi_point.begin()); }, "no queueSort plugin"},
      {"no binder", [](ProfileConfig& p) { p.multi_point.pop_back(); }, "at least one bind plugin"},
      {"weight", [](ProfileConfig& p) { p.points["score"] = PluginSetConfig{{{"A", 101}}, {}}; }, "out of range 1-100"},
      {"wrong point", [](ProfileConfig& p) { p.points["bind"] = PluginSetConfig{{{"A", 0}}, {}}; }, "does not extend bind"},
      {"bad args", [](ProfileConfig& p) { p.plugin_args["A"] = YAML::Load("{bad: 1}"); }, "bad: not allowed"},
      {"args for unknown", [](ProfileConfig& p) { p.plugin_args["Zed"] = YAML::Load("{}"); }, "pluginConfig"},
  };
  for (const auto& c : cases) {
    ProfileConfig p = f.Profile();
    c.edit(p);
    auto fwk = Framework::Create(f.registry, p, {});
    ASSERT_FALSE(fwk.ok()) << c.name;
    EXPECT_EQ(fwk.status().code(), Code::kInvalid) << c.name;
    EXPECT_NE(fwk.status().message().find(c.message), std::string::npos) << c.name << ": " << fwk.status().message();
  }
}

TEST(FrameworkTest, PreFilterSkipAndNarrowing) {
  Fixture f;
  auto fwk = std::move(Framework::Create(f.registry, f.Profile(), {})).value();
  auto pod = *PodInfo::Create(PodBuilder("p").Uid("u1").Obj());
  {
    CycleState state;
    f.a->skip = true;
    PreFilterResult r;
    EXPECT_TRUE(fwk->RunPreFilterPlugins(state, *pod, &r).IsSuccess());
    EXPECT_EQ(state.skip_filter_plugins.count("A"), 1u);
    EXPECT_TRUE(r.AllNodes());
  }
  {
    CycleState state;
    f.a->skip = false;
    f.a->only = {"n1", "n2"};
    f.b->only = {"n2", "n3"};
    PreFilterResult r;
    EXPECT_TRUE(fwk->RunPreFilterPlugins(state, *pod, &r).IsSuccess());
    EXPECT_EQ(*r.node_names, std::set<std::string>{"n2"});
  }
  {
    CycleState state;
    f.b->only = {"n3"};
    PreFilterResult r;
    Verdict v = fwk->RunPreFilterPlugins(state, *pod, &r);
    EXPECT_EQ(v.code(), VerdictCode::kUnschedulableAndUnresolvable);
    EXPECT_EQ(v.Message(), "node(s) didn't satisfy plugin(s) [A B] simultaneously");
  }
}

TEST(FrameworkTest, FilterStopsAtFirstRejectionAndNamesThePlugin) {
  Fixture f;
  auto fwk = std::move(Framework::Create(f.registry, f.Profile(), {})).value();
  auto pod = *PodInfo::Create(PodBuilder("p").Uid("u1").Obj());
  NodeInfo n1(std::make_shared<const corev1::Node>(NodeBuilder("n1").Obj()));
  f.a->reject = {"n1"};
  f.b->reject = {"n1"};
  CycleState state;
  Verdict v = fwk->RunFilterPlugins(state, *pod, n1);
  EXPECT_EQ(v.plugin(), "A");
  EXPECT_EQ(v.Message(), "rejected by A");
  state.skip_filter_plugins.insert("A");
  EXPECT_EQ(fwk->RunFilterPlugins(state, *pod, n1).plugin(), "B");
}

TEST(FrameworkTest, ScoresAreNormalizedThenWeighted) {
  Fixture f;
  auto fwk = std::move(Framework::Create(f.registry, f.Profile(), {})).value();
  f.b->normalize = true;
  auto pod = *PodInfo::Create(PodBuilder("p").Uid("u1").Obj());
  NodeInfo n1(std::make_shared<const corev1::Node>(NodeBuilder("n1").Label("score", "10").Obj()));
  NodeInfo n2(std::make_shared<const corev1::Node>(NodeBuilder("n2").Label("score", "70").Obj()));
  CycleState state;
  std::vector<NodePluginScores> out;
  ASSERT_TRUE(fwk->RunScorePlugins(state, *pod, {&n1, &n2}, &out).IsSuccess());
  ASSERT_EQ(out.size(), 2u);
  // A: raw x weight 2; B: normalized 100 - raw, weight 1.
  EXPECT_EQ(out[0].scores, (std::vector<int64_t>{20, 90}));
  EXPECT_EQ(out[0].total, 110);
  EXPECT_EQ(out[1].scores, (std::vector<int64_t>{140, 30}));
  EXPECT_EQ(out[1].total, 170);

  NodeInfo bad(std::make_shared<const corev1::Node>(NodeBuilder("n3").Label("score", "170").Obj()));
  Verdict v = fwk->RunScorePlugins(state, *pod, {&bad}, &out);
  EXPECT_TRUE(v.IsError());
  EXPECT_NE(v.Message().find("invalid score 170"), std::string::npos) << v.Message();
}

TEST(FrameworkTest, ReserveFailureAndUnreserveInReverse) {
  Fixture f;
  auto fwk = std::move(Framework::Create(f.registry, f.Profile(), {})).value();
  auto pod = *PodInfo::Create(PodBuilder("p").Uid("u1").Obj());
  CycleState state;
  f.b->reserve_verdict = Verdict::Unschedulable("no room");
  Verdict v = fwk->RunReservePluginsReserve(state, *pod, "n1");
  EXPECT_EQ(v.plugin(), "B");
  fwk->RunReservePluginsUnreserve(state, *pod, "n1");
  EXPECT_EQ(f.a->unreserved, 1);
  EXPECT_EQ(f.b->unreserved, 1);
  EXPECT_TRUE(fwk->RunBindPlugins(state, *pod, "n9").IsSuccess());
  EXPECT_EQ(f.binder->bound, "n9");
}

TEST(FrameworkTest, NumFeasibleNodesToFindFollowsUpstreamRule) {
  EXPECT_EQ(NumFeasibleNodesToFind(std::nullopt, 50), 50);
  EXPECT_EQ(NumFeasibleNodesToFind(std::nullopt, 100), 100);
  EXPECT_EQ(NumFeasibleNodesToFind(std::nullopt, 500), 230);    // 50 - 4 = 46 %
  EXPECT_EQ(NumFeasibleNodesToFind(std::nullopt, 5000), 500);   // 50 - 40 = 10 %
  EXPECT_EQ(NumFeasibleNodesToFind(std::nullopt, 6000), 300);   // floor 5 %
  EXPECT_EQ(NumFeasibleNodesToFind(std::nullopt, 1000), 420);   // 42 %
  EXPECT_EQ(NumFeasibleNodesToFind(10, 500), 100);              // at least 100
  EXPECT_EQ(NumFeasibleNodesToFind(100, 5000), 5000);
  EXPECT_EQ(NumFeasibleNodesToFind(0, 5000), 500);              // 0 = adaptive
}

TEST(ParallelizerTest, CoversEveryIndexOnceAndStopsEarly) {
  Parallelizer p(2);
  std::vector<std::atomic<int>> hits(1000);
  p.Until(1000, [&](size_t i) { hits[i]++; });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  std::atomic<bool> stop{false};
  std::atomic<int> done{0};
  p.Until(100000, [&](size_t) {
    if (++done >= 10) stop = true;
  }, &stop);
  EXPECT_LT(done.load(), 100000);
}

}  // namespace
}  // namespace ck::scheduler
