// InterPodAffinity: filter verdicts (affinity and anti-affinity over hostnames, zones and regions,
// existing pods' anti-affinity, the first pod of a self-affine group, namespaces and
// namespaceSelector), AddPod/RemovePod, scores before and after normalization, args, events,
// the topology pair table, and a randomized cross-check of Filter against a direct reading of the
// upstream rules.
#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/api/testing/builders.h"
#include "common/client/cache/indexer.h"
#include "scheduler/plugins/interpodaffinity/fake_handle.h"
#include "scheduler/plugins/interpodaffinity/plugin.h"

namespace ck::scheduler::plugins {
namespace {

using api::testing::MakeNode;
using api::testing::MakePod;

constexpr char kHostname[] = "kubernetes.io/hostname";
constexpr char kZone[] = "topology.kubernetes.io/zone";
constexpr char kRegion[] = "topology.kubernetes.io/region";

// ---- builders for affinity terms ----

struct Expr {
  std::string key;
  std::string op;  // In, NotIn, Exists, DoesNotExist
  std::vector<std::string> values;
};

struct TermSpec {
  std::vector<Expr> selector;  // matchExpressions of labelSelector
  std::string topology_key;
  std::vector<std::string> namespaces;
  std::optional<std::map<std::string, std::string>> namespace_selector;  // matchLabels; {} = all
};

TermSpec AppIn(std::string app, std::string topology_key) { return TermSpec{{{"app", "In", {std::move(app)}}}, std::move(topology_key)}; }

enum class Kind { kAffinity, kAntiAffinity, kPreferredAffinity, kPreferredAntiAffinity };

void FillTerm(corev1::PodAffinityTerm* term, const TermSpec& spec) {
  auto* sel = term->mutable_labelselector();
  for (const Expr& e : spec.selector) {
    auto* req = sel->add_matchexpressions();
    req->set_key(e.key);
    req->set_operator_(e.op);
    for (const auto& v : e.values) req->add_values(v);
  }
  term->set_topologykey(spec.topology_key);
  for (const auto& ns : spec.namespaces) term->add_namespaces(ns);
  if (spec.namespace_selector) {
    auto* ns_sel = term->mutable_namespaceselector();
    for (const auto& [k, v] : *spec.namespace_selector) (*ns_sel->mutable_matchlabels())[k] = v;
  }
}

corev1::Pod With(corev1::Pod pod, Kind kind, const TermSpec& spec, int32_t weight = 1) {
  auto* affinity = pod.mutable_spec()->mutable_affinity();
  switch (kind) {
    case Kind::kAffinity:
      FillTerm(affinity->mutable_podaffinity()->add_requiredduringschedulingignoredduringexecution(), spec);
      break;
    case Kind::kAntiAffinity:
      FillTerm(affinity->mutable_podantiaffinity()->add_requiredduringschedulingignoredduringexecution(), spec);
      break;
    case Kind::kPreferredAffinity: {
      auto* w = affinity->mutable_podaffinity()->add_preferredduringschedulingignoredduringexecution();
      w->set_weight(weight);
      FillTerm(w->mutable_podaffinityterm(), spec);
      break;
    }
    case Kind::kPreferredAntiAffinity: {
      auto* w = affinity->mutable_podantiaffinity()->add_preferredduringschedulingignoredduringexecution();
      w->set_weight(weight);
      FillTerm(w->mutable_podaffinityterm(), spec);
      break;
    }
  }
  return pod;
}

corev1::Pod Pod(std::string name, std::string app, std::string node = "", std::string ns = "default") {
  auto b = MakePod(name).Namespace(std::move(ns)).Uid("uid-" + name);
  if (!app.empty()) b.Label("app", std::move(app));
  if (!node.empty()) b.Node(std::move(node));
  return b;
}

corev1::Node Node(std::string name, std::string region, std::string zone) {
  auto b = MakeNode(name);
  if (!region.empty()) b.Label(kRegion, region);
  if (!zone.empty()) b.Label(kZone, zone);
  return b;
}

// n1, n2, n5 in r1 (n1 and n5 in z1, n2 in z2), n3 in r2/z3, n4 with only its hostname.
std::vector<corev1::Node> StandardNodes() {
  return {Node("n1", "r1", "z1"), Node("n2", "r1", "z2"), Node("n3", "r2", "z3"), Node("n4", "", ""),
          Node("n5", "r1", "z1")};
}

struct Namespace {
  std::string name;
  std::map<std::string, std::string> labels;
};

std::shared_ptr<const corev1::Namespace> MakeNamespace(const Namespace& spec) {
  auto ns = std::make_shared<corev1::Namespace>();
  ns->mutable_metadata()->set_name(spec.name);
  ns->mutable_metadata()->set_resourceversion("1");
  for (const auto& [k, v] : spec.labels) (*ns->mutable_metadata()->mutable_labels())[k] = v;
  return ns;
}

PodInfoPtr Info(const corev1::Pod& pod) {
  auto info = PodInfo::Create(pod);
  EXPECT_TRUE(info.ok()) << info.status().ToString();
  return *info;
}

// A plugin over a snapshot of `pods` on `nodes`, with an optional namespace lister.
class Env {
 public:
  Env(const std::vector<corev1::Pod>& pods, const std::vector<corev1::Node>& nodes,
      std::optional<std::vector<Namespace>> namespaces = std::nullopt, InterPodAffinityArgs args = {}) {
    handle_.set_snapshot(Snapshot::FromObjects(pods, nodes));
    if (namespaces) {
      for (const auto& ns : *namespaces) namespace_indexer_.Add(MakeNamespace(ns));
      handle_.mutable_listers().namespaces = &namespace_indexer_;
    }
    plugin_ = std::make_unique<InterPodAffinity>(args, handle_);
  }

  InterPodAffinity& plugin() { return *plugin_; }
  const Snapshot& snapshot() { return handle_.snapshot(); }
  const NodeInfo& node(const std::string& name) { return *handle_.snapshot().Get(name); }

 private:
  testing::FakeHandle handle_;
  client::Indexer namespace_indexer_;
  std::unique_ptr<InterPodAffinity> plugin_;
};

// ---- Filter ----

struct Want {
  VerdictCode code = VerdictCode::kSuccess;
  std::string reason;
};
const Want kPass{};
const Want kAffinityFail{VerdictCode::kUnschedulableAndUnresolvable, "node(s) didn't match pod affinity rules"};
const Want kAntiFail{VerdictCode::kUnschedulable, "node(s) didn't match pod anti-affinity rules"};
const Want kExistingFail{VerdictCode::kUnschedulable, "node(s) didn't satisfy existing pods anti-affinity rules"};

struct FilterCase {
  std::string name;
  corev1::Pod pod;
  std::vector<corev1::Pod> existing;
  std::optional<std::vector<Namespace>> namespaces;  // nullopt: no namespace lister
  bool skip = false;                                 // PreFilter answers Skip
  std::map<std::string, Want> want;                  // node -> verdict (every standard node)
};

std::map<std::string, Want> All(const Want& w) {
  std::map<std::string, Want> out;
  for (const auto& n : StandardNodes()) out[n.metadata().name()] = w;
  return out;
}

std::map<std::string, Want> AllBut(const Want& w, const std::map<std::string, Want>& except) {
  auto out = All(w);
  for (const auto& [k, v] : except) out[k] = v;
  return out;
}

std::vector<FilterCase> FilterCases() {
  const auto web = Pod("web", "web");
  return {
      {"no terms and no existing anti-affinity: Skip", web, {Pod("db-1", "db", "n1")}, std::nullopt, true, {}},
      {"existing anti-affinity that does not match the pod: Skip",
       web,
       {With(Pod("db-1", "db", "n1"), Kind::kAntiAffinity, AppIn("cache", kHostname))},
       std::nullopt,
       true,
       {}},
      {"only preferred terms: Skip",
       With(web, Kind::kPreferredAffinity, AppIn("db", kZone)),
       {Pod("db-1", "db", "n1")},
       std::nullopt,
       true,
       {}},
      {"affinity on region: nodes in the region pass, others and unlabelled fail",
       With(web, Kind::kAffinity, AppIn("db", kRegion)),
       {Pod("db-1", "db", "n1")},
       std::nullopt,
       false,
       {{"n1", kPass}, {"n2", kPass}, {"n3", kAffinityFail}, {"n4", kAffinityFail}, {"n5", kPass}}},
      {"affinity with Exists and NotIn",
       With(web, Kind::kAffinity,
            TermSpec{{{"app", "Exists", {}}, {"tier", "NotIn", {"frontend"}}}, kZone}),
       {Pod("db-1", "db", "n3"), With(Pod("fe", "fe", "n1"), Kind::kPreferredAffinity, AppIn("x", kZone))},
       std::nullopt,
       false,
       // fe has no tier label: NotIn matches a missing label, so fe on n1 (z1) counts too.
       {{"n1", kPass}, {"n2", kAffinityFail}, {"n3", kPass}, {"n4", kAffinityFail}, {"n5", kPass}}},
      {"affinity with DoesNotExist excludes labelled pods",
       With(web, Kind::kAffinity, TermSpec{{{"app", "In", {"db"}}, {"canary", "DoesNotExist", {}}}, kZone}),
       {[] {
          corev1::Pod p = Pod("db-canary", "db", "n1");
          (*p.mutable_metadata()->mutable_labels())["canary"] = "true";
          return p;
        }(),
        Pod("db-2", "db", "n2")},
       std::nullopt,
       false,
       {{"n1", kAffinityFail}, {"n2", kPass}, {"n3", kAffinityFail}, {"n4", kAffinityFail}, {"n5", kAffinityFail}}},
      {"two affinity terms need one pod matching both",
       [&] {
         auto p = With(web, Kind::kAffinity, AppIn("db", kRegion));
         return With(p, Kind::kAffinity, TermSpec{{{"tier", "In", {"cache"}}}, kZone});
       }(),
       {Pod("db-1", "db", "n1"), [] {
          auto p = MakePod("cache-1").Uid("uid-cache-1").Label("tier", "cache").Node("n1");
          return corev1::Pod(p);
        }()},
       std::nullopt,
       false,
       All(kAffinityFail)},
      {"two affinity terms matched by one pod: both domains must hold it",
       [&] {
         auto p = With(web, Kind::kAffinity, AppIn("db", kRegion));
         return With(p, Kind::kAffinity, TermSpec{{{"tier", "In", {"cache"}}}, kZone});
       }(),
       {[] {
          auto p = MakePod("db-cache").Uid("uid-db-cache").Label("app", "db").Label("tier", "cache").Node("n1");
          return corev1::Pod(p);
        }()},
       std::nullopt,
       false,
       // n2 shares the region but not the zone.
       {{"n1", kPass}, {"n2", kAffinityFail}, {"n3", kAffinityFail}, {"n4", kAffinityFail}, {"n5", kPass}}},
      {"affinity ignores pods of another namespace by default",
       With(web, Kind::kAffinity, AppIn("db", kRegion)),
       {Pod("db-1", "db", "n1", "other")},
       std::nullopt,
       false,
       All(kAffinityFail)},
      {"affinity term naming the other namespace",
       With(web, Kind::kAffinity, TermSpec{{{"app", "In", {"db"}}}, kRegion, {"other"}}),
       {Pod("db-1", "db", "n1", "other"), Pod("db-2", "db", "n3", "default")},
       std::nullopt,
       false,
       {{"n1", kPass}, {"n2", kPass}, {"n3", kAffinityFail}, {"n4", kAffinityFail}, {"n5", kPass}}},
      {"namespaceSelector resolved through the namespace lister",
       With(web, Kind::kAffinity, TermSpec{{{"app", "In", {"db"}}}, kRegion, {}, {{{"team", "a"}}}}),
       {Pod("db-1", "db", "n1", "team-a"), Pod("db-2", "db", "n3", "team-b")},
       std::vector<Namespace>{{"team-a", {{"team", "a"}}}, {"team-b", {{"team", "b"}}}, {"default", {}}},
       false,
       {{"n1", kPass}, {"n2", kPass}, {"n3", kAffinityFail}, {"n4", kAffinityFail}, {"n5", kPass}}},
      {"namespaceSelector plus namespaces: either way matches",
       With(web, Kind::kAffinity, TermSpec{{{"app", "In", {"db"}}}, kRegion, {"team-b"}, {{{"team", "a"}}}}),
       {Pod("db-1", "db", "n1", "team-a"), Pod("db-2", "db", "n3", "team-b")},
       std::vector<Namespace>{{"team-a", {{"team", "a"}}}, {"team-b", {{"team", "b"}}}},
       false,
       {{"n1", kPass}, {"n2", kPass}, {"n3", kPass}, {"n4", kAffinityFail}, {"n5", kPass}}},
      {"namespaceSelector without a namespace lister selects no namespace",
       With(web, Kind::kAffinity, TermSpec{{{"app", "In", {"db"}}}, kRegion, {}, {{{"team", "a"}}}}),
       {Pod("db-1", "db", "n1", "team-a")},
       std::nullopt,
       false,
       All(kAffinityFail)},
      {"empty namespaceSelector selects every namespace",
       With(web, Kind::kAffinity, TermSpec{{{"app", "In", {"db"}}}, kRegion, {}, std::map<std::string, std::string>{}}),
       {Pod("db-1", "db", "n3", "elsewhere")},
       std::nullopt,
       false,
       {{"n1", kAffinityFail}, {"n2", kAffinityFail}, {"n3", kPass}, {"n4", kAffinityFail}, {"n5", kAffinityFail}}},
      {"anti-affinity on hostname rejects only the node holding a match",
       With(web, Kind::kAntiAffinity, AppIn("web", kHostname)),
       {Pod("web-1", "web", "n1"), Pod("db-1", "db", "n2")},
       std::nullopt,
       false,
       AllBut(kPass, {{"n1", kAntiFail}})},
      {"anti-affinity on zone: unlabelled nodes pass",
       With(web, Kind::kAntiAffinity, AppIn("web", kZone)),
       {Pod("web-1", "web", "n1")},
       std::nullopt,
       false,
       AllBut(kPass, {{"n1", kAntiFail}, {"n5", kAntiFail}})},
      {"anti-affinity on region",
       With(web, Kind::kAntiAffinity, AppIn("web", kRegion)),
       {Pod("web-1", "web", "n2")},
       std::nullopt,
       false,
       AllBut(kPass, {{"n1", kAntiFail}, {"n2", kAntiFail}, {"n5", kAntiFail}})},
      {"anti-affinity ignores other namespaces",
       With(web, Kind::kAntiAffinity, AppIn("web", kHostname)),
       {Pod("web-1", "web", "n1", "other")},
       std::nullopt,
       false,
       All(kPass)},
      {"existing pod's anti-affinity on hostname",
       web,
       {With(Pod("db-1", "db", "n1"), Kind::kAntiAffinity, AppIn("web", kHostname))},
       std::nullopt,
       false,
       AllBut(kPass, {{"n1", kExistingFail}})},
      {"existing pod's anti-affinity on zone",
       web,
       {With(Pod("db-1", "db", "n5"), Kind::kAntiAffinity, AppIn("web", kZone))},
       std::nullopt,
       false,
       AllBut(kPass, {{"n1", kExistingFail}, {"n5", kExistingFail}})},
      {"existing pod's anti-affinity on a key its node lacks counts nowhere",
       web,
       {With(Pod("db-1", "db", "n4"), Kind::kAntiAffinity, AppIn("web", kZone))},
       std::nullopt,
       true,
       {}},
      {"existing pod's anti-affinity with a namespaceSelector matching the pod's namespace labels",
       Pod("web", "web", "", "prod"),
       {With(Pod("db-1", "db", "n3", "infra"), Kind::kAntiAffinity,
             TermSpec{{{"app", "In", {"web"}}}, kRegion, {}, {{{"env", "prod"}}}})},
       std::vector<Namespace>{{"prod", {{"env", "prod"}}}, {"infra", {}}},
       false,
       AllBut(kPass, {{"n3", kExistingFail}})},
      {"existing pod's anti-affinity with a namespaceSelector not matching: Skip",
       Pod("web", "web", "", "dev"),
       {With(Pod("db-1", "db", "n3", "infra"), Kind::kAntiAffinity,
             TermSpec{{{"app", "In", {"web"}}}, kRegion, {}, {{{"env", "prod"}}}})},
       std::vector<Namespace>{{"dev", {{"env", "dev"}}}, {"infra", {}}},
       true,
       {}},
      {"first pod of a self-affine group may go to any node with the topology label",
       With(web, Kind::kAffinity, AppIn("web", kZone)),
       {Pod("db-1", "db", "n1")},
       std::nullopt,
       false,
       AllBut(kPass, {{"n4", kAffinityFail}})},
      {"self-affinity once a member runs: only its zone",
       With(web, Kind::kAffinity, AppIn("web", kZone)),
       {Pod("web-1", "web", "n3")},
       std::nullopt,
       false,
       AllBut(kAffinityFail, {{"n3", kPass}})},
      {"no first-pod exception when the pod does not match its own terms",
       With(web, Kind::kAffinity, AppIn("db", kZone)),
       {},
       std::nullopt,
       false,
       All(kAffinityFail)},
      {"affinity, anti-affinity and existing anti-affinity together",
       With(With(web, Kind::kAffinity, AppIn("db", kRegion)), Kind::kAntiAffinity, AppIn("web", kHostname)),
       {Pod("db-1", "db", "n1"), Pod("web-1", "web", "n1"),
        With(Pod("cache-1", "cache", "n2"), Kind::kAntiAffinity, AppIn("web", kHostname))},
       std::nullopt,
       false,
       // Affinity is checked first (n3, n4), then the pod's anti-affinity (n1), then existing pods'.
       {{"n1", kAntiFail}, {"n2", kExistingFail}, {"n3", kAffinityFail}, {"n4", kAffinityFail}, {"n5", kPass}}},
  };
}

TEST(InterPodAffinityFilterTest, Table) {
  for (const FilterCase& tc : FilterCases()) {
    SCOPED_TRACE(tc.name);
    auto existing = tc.existing;
    Env env(existing, StandardNodes(), tc.namespaces);
    PodInfoPtr pod = Info(tc.pod);
    CycleState state;
    Verdict pre = env.plugin().PreFilter(state, *pod, env.snapshot(), nullptr);
    if (tc.skip) {
      EXPECT_TRUE(pre.IsSkip()) << pre.String();
      continue;
    }
    ASSERT_TRUE(pre.IsSuccess()) << pre.String();
    ASSERT_EQ(tc.want.size(), StandardNodes().size());
    for (const auto& [node, want] : tc.want) {
      Verdict got = env.plugin().Filter(state, *pod, env.node(node));
      EXPECT_EQ(got.code(), want.code) << node << ": " << got.String();
      if (want.code == VerdictCode::kSuccess) continue;
      EXPECT_EQ(got.reasons(), std::vector<std::string>{want.reason}) << node;
    }
  }
}

TEST(InterPodAffinityFilterTest, FilterWithoutPreFilterIsAnError) {
  Env env({}, StandardNodes());
  PodInfoPtr pod = Info(Pod("web", "web"));
  CycleState state;
  Verdict got = env.plugin().Filter(state, *pod, env.node("n1"));
  EXPECT_TRUE(got.IsError());
  EXPECT_TRUE(env.plugin().AddPod(state, *pod, Info(Pod("x", "x")), env.node("n1")).IsError());
}

// ---- PreFilterExtensions ----

Verdict FilterOn(Env& env, const CycleState& state, const PodInfo& pod, const std::string& node) {
  return env.plugin().Filter(state, pod, env.node(node));
}

TEST(InterPodAffinityExtensionsTest, RemoveAndAddMatchingPodForAntiAffinity) {
  const corev1::Pod web1 = Pod("web-1", "web", "n1");
  Env env({web1}, StandardNodes());
  PodInfoPtr pod = Info(With(Pod("web", "web"), Kind::kAntiAffinity, AppIn("web", kHostname)));
  CycleState state;
  ASSERT_TRUE(env.plugin().PreFilter(state, *pod, env.snapshot(), nullptr).IsSuccess());
  EXPECT_EQ(FilterOn(env, state, *pod, "n1").code(), VerdictCode::kUnschedulable);

  // Preemption's what-if on a clone: without web-1, n1 fits; the original state is untouched.
  std::unique_ptr<CycleState> clone = state.Clone();
  ASSERT_TRUE(env.plugin().RemovePod(*clone, *pod, Info(web1), env.node("n1")).IsSuccess());
  EXPECT_TRUE(FilterOn(env, *clone, *pod, "n1").IsSuccess());
  EXPECT_EQ(FilterOn(env, state, *pod, "n1").code(), VerdictCode::kUnschedulable);

  // A matching pod nominated to n2 blocks n2.
  ASSERT_TRUE(env.plugin().AddPod(*clone, *pod, Info(Pod("web-2", "web", "n2")), env.node("n2")).IsSuccess());
  Verdict n2 = FilterOn(env, *clone, *pod, "n2");
  EXPECT_EQ(n2.code(), VerdictCode::kUnschedulable);
  EXPECT_EQ(n2.reasons(), std::vector<std::string>{"node(s) didn't match pod anti-affinity rules"});
  EXPECT_TRUE(FilterOn(env, state, *pod, "n2").IsSuccess());
}

TEST(InterPodAffinityExtensionsTest, AddAndRemovePodWithAntiAffinityAgainstIncoming) {
  const corev1::Pod db = With(Pod("db-1", "db", "n1"), Kind::kAntiAffinity, AppIn("web", kZone));
  Env env({db}, StandardNodes());
  PodInfoPtr pod = Info(Pod("web", "web"));
  CycleState state;
  ASSERT_TRUE(env.plugin().PreFilter(state, *pod, env.snapshot(), nullptr).IsSuccess());
  EXPECT_EQ(FilterOn(env, state, *pod, "n5").reasons(),
            std::vector<std::string>{"node(s) didn't satisfy existing pods anti-affinity rules"});

  ASSERT_TRUE(env.plugin().RemovePod(state, *pod, Info(db), env.node("n1")).IsSuccess());
  EXPECT_TRUE(FilterOn(env, state, *pod, "n1").IsSuccess());
  EXPECT_TRUE(FilterOn(env, state, *pod, "n5").IsSuccess());

  // The same kind of pod added on n3 (z3) with a hostname term: only n3 is affected.
  const corev1::Pod other = With(Pod("db-2", "db", "n3"), Kind::kAntiAffinity, AppIn("web", kHostname));
  ASSERT_TRUE(env.plugin().AddPod(state, *pod, Info(other), env.node("n3")).IsSuccess());
  EXPECT_EQ(FilterOn(env, state, *pod, "n3").code(), VerdictCode::kUnschedulable);
  EXPECT_TRUE(FilterOn(env, state, *pod, "n2").IsSuccess());
}

TEST(InterPodAffinityExtensionsTest, AffinityCountsFollowAddAndRemove) {
  const corev1::Pod db = Pod("db-1", "db", "n1");
  Env env({db}, StandardNodes());
  PodInfoPtr pod = Info(With(Pod("web", "web"), Kind::kAffinity, AppIn("db", kZone)));
  CycleState state;
  ASSERT_TRUE(env.plugin().PreFilter(state, *pod, env.snapshot(), nullptr).IsSuccess());
  EXPECT_TRUE(FilterOn(env, state, *pod, "n5").IsSuccess());
  EXPECT_EQ(FilterOn(env, state, *pod, "n3").code(), VerdictCode::kUnschedulableAndUnresolvable);

  ASSERT_TRUE(env.plugin().RemovePod(state, *pod, Info(db), env.node("n1")).IsSuccess());
  EXPECT_EQ(FilterOn(env, state, *pod, "n5").code(), VerdictCode::kUnschedulableAndUnresolvable);
  ASSERT_TRUE(env.plugin().AddPod(state, *pod, Info(Pod("db-2", "db", "n3")), env.node("n3")).IsSuccess());
  EXPECT_TRUE(FilterOn(env, state, *pod, "n3").IsSuccess());
  EXPECT_EQ(FilterOn(env, state, *pod, "n1").code(), VerdictCode::kUnschedulableAndUnresolvable);

  auto* s = state.ReadAs<PreFilterState>(kInterPodAffinityPreFilterKey);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->affinity_counts.Get(kZone, "z1"), 0);
  EXPECT_EQ(s->affinity_counts.Get(kZone, "z3"), 1);
  EXPECT_EQ(s->affinity_counts.size(), 1u);
}

// ---- Score ----

struct ScoreCase {
  std::string name;
  corev1::Pod pod;
  std::vector<corev1::Pod> existing;
  InterPodAffinityArgs args;
  std::optional<std::vector<Namespace>> namespaces;
  bool skip = false;
  std::map<std::string, int64_t> raw;         // Score before normalization
  std::map<std::string, int64_t> normalized;  // after NormalizeScore
};

std::vector<ScoreCase> ScoreCases() {
  const auto web = Pod("web", "web");
  InterPodAffinityArgs no_hard;
  no_hard.hard_pod_affinity_weight = 0;
  InterPodAffinityArgs ignore_existing;
  ignore_existing.ignore_preferred_terms_of_existing_pods = true;
  InterPodAffinityArgs hard_five;
  hard_five.hard_pod_affinity_weight = 5;
  return {
      {"preferred affinity on region",
       With(web, Kind::kPreferredAffinity, AppIn("db", kRegion), 5),
       {Pod("db-1", "db", "n1")},
       {},
       std::nullopt,
       false,
       {{"n1", 5}, {"n2", 5}, {"n3", 0}, {"n4", 0}, {"n5", 5}},
       {{"n1", 100}, {"n2", 100}, {"n3", 0}, {"n4", 0}, {"n5", 100}}},
      {"preferred anti-affinity on region",
       With(web, Kind::kPreferredAntiAffinity, AppIn("web", kRegion), 5),
       {Pod("web-1", "web", "n1")},
       {},
       std::nullopt,
       false,
       {{"n1", -5}, {"n2", -5}, {"n3", 0}, {"n4", 0}, {"n5", -5}},
       {{"n1", 0}, {"n2", 0}, {"n3", 100}, {"n4", 100}, {"n5", 0}}},
      {"affinity and anti-affinity weights add up per domain",
       With(With(web, Kind::kPreferredAffinity, AppIn("db", kZone), 8), Kind::kPreferredAntiAffinity,
            AppIn("web", kRegion), 4),
       {Pod("db-1", "db", "n1"), Pod("db-2", "db", "n5"), Pod("web-1", "web", "n3")},
       {},
       std::nullopt,
       false,
       // z1 holds two db pods: 16; r2 holds web: -4. min -4, max 16.
       {{"n1", 16}, {"n2", 0}, {"n3", -4}, {"n4", 0}, {"n5", 16}},
       {{"n1", 100}, {"n2", 20}, {"n3", 0}, {"n4", 20}, {"n5", 100}}},
      {"existing pods' preferred affinity and anti-affinity towards the pod",
       web,
       {With(Pod("db-1", "db", "n1"), Kind::kPreferredAffinity, AppIn("web", kZone), 7),
        With(Pod("cache-1", "cache", "n3"), Kind::kPreferredAntiAffinity, AppIn("web", kRegion), 3)},
       {},
       std::nullopt,
       false,
       {{"n1", 7}, {"n2", 0}, {"n3", -3}, {"n4", 0}, {"n5", 7}},
       {{"n1", 100}, {"n2", 30}, {"n3", 0}, {"n4", 30}, {"n5", 100}}},
      {"existing pod's required affinity counts hardPodAffinityWeight",
       web,
       {With(Pod("db-1", "db", "n3"), Kind::kAffinity, AppIn("web", kRegion))},
       hard_five,
       std::nullopt,
       false,
       {{"n1", 0}, {"n2", 0}, {"n3", 5}, {"n4", 0}, {"n5", 0}},
       {{"n1", 0}, {"n2", 0}, {"n3", 100}, {"n4", 0}, {"n5", 0}}},
      {"hardPodAffinityWeight 0 leaves required terms out: Skip",
       web,
       {With(Pod("db-1", "db", "n3"), Kind::kAffinity, AppIn("web", kRegion))},
       no_hard,
       std::nullopt,
       true,
       {},
       {}},
      {"ignorePreferredTermsOfExistingPods without own preferences: Skip",
       web,
       {With(Pod("db-1", "db", "n1"), Kind::kPreferredAffinity, AppIn("web", kZone), 7)},
       ignore_existing,
       std::nullopt,
       true,
       {},
       {}},
      {"ignorePreferredTermsOfExistingPods with own preferences still counts existing pods' terms",
       With(web, Kind::kPreferredAffinity, AppIn("cache", kZone), 2),
       {With(Pod("db-1", "db", "n1"), Kind::kPreferredAffinity, AppIn("web", kZone), 7),
        Pod("cache-1", "cache", "n2")},
       ignore_existing,
       std::nullopt,
       false,
       {{"n1", 7}, {"n2", 2}, {"n3", 0}, {"n4", 0}, {"n5", 7}},
       {{"n1", 100}, {"n2", 28}, {"n3", 0}, {"n4", 0}, {"n5", 100}}},
      {"preferred term with a namespaceSelector",
       With(web, Kind::kPreferredAffinity, TermSpec{{{"app", "In", {"db"}}}, kHostname, {}, {{{"team", "a"}}}}, 10),
       {Pod("db-1", "db", "n2", "team-a"), Pod("db-2", "db", "n3", "team-b")},
       {},
       std::vector<Namespace>{{"team-a", {{"team", "a"}}}, {"team-b", {{"team", "b"}}}},
       false,
       {{"n1", 0}, {"n2", 10}, {"n3", 0}, {"n4", 0}, {"n5", 0}},
       {{"n1", 0}, {"n2", 100}, {"n3", 0}, {"n4", 0}, {"n5", 0}}},
      {"existing pod's preferred term selecting the pod's namespace by labels",
       Pod("web", "web", "", "prod"),
       {With(Pod("db-1", "db", "n3", "infra"), Kind::kPreferredAffinity,
             TermSpec{{{"app", "In", {"web"}}}, kRegion, {}, {{{"env", "prod"}}}}, 4)},
       {},
       std::vector<Namespace>{{"prod", {{"env", "prod"}}}, {"infra", {}}},
       false,
       {{"n1", 0}, {"n2", 0}, {"n3", 4}, {"n4", 0}, {"n5", 0}},
       {{"n1", 0}, {"n2", 0}, {"n3", 100}, {"n4", 0}, {"n5", 0}}},
      {"nothing matches: Skip",
       With(web, Kind::kPreferredAffinity, AppIn("nothing", kZone), 5),
       {Pod("db-1", "db", "n1")},
       {},
       std::nullopt,
       true,
       {},
       {}},
      {"matches only on a node without the topology label: Skip",
       With(web, Kind::kPreferredAffinity, AppIn("db", kZone), 5),
       {Pod("db-1", "db", "n4")},
       {},
       std::nullopt,
       true,
       {},
       {}},
      {"equal raw scores normalize to 0",
       With(web, Kind::kPreferredAffinity, AppIn("db", kHostname), 5),
       {Pod("db-1", "db", "n1"), Pod("db-2", "db", "n2"), Pod("db-3", "db", "n3"), Pod("db-4", "db", "n4"),
        Pod("db-5", "db", "n5")},
       {},
       std::nullopt,
       false,
       {{"n1", 5}, {"n2", 5}, {"n3", 5}, {"n4", 5}, {"n5", 5}},
       {{"n1", 0}, {"n2", 0}, {"n3", 0}, {"n4", 0}, {"n5", 0}}},
  };
}

TEST(InterPodAffinityScoreTest, Table) {
  for (const ScoreCase& tc : ScoreCases()) {
    SCOPED_TRACE(tc.name);
    Env env(tc.existing, StandardNodes(), tc.namespaces, tc.args);
    PodInfoPtr pod = Info(tc.pod);
    CycleState state;
    std::vector<const NodeInfo*> nodes;
    for (const auto& n : env.snapshot().List()) nodes.push_back(n.get());
    Verdict pre = env.plugin().PreScore(state, *pod, nodes);
    if (tc.skip) {
      EXPECT_TRUE(pre.IsSkip()) << pre.String();
      continue;
    }
    ASSERT_TRUE(pre.IsSuccess()) << pre.String();
    std::vector<NodeScore> scores;
    std::map<std::string, int64_t> raw;
    for (const NodeInfo* n : nodes) {
      int64_t score = -1;
      Verdict v = env.plugin().Score(state, *pod, *n, &score);
      ASSERT_TRUE(v.IsSuccess()) << v.String();
      raw[n->name()] = score;
      scores.push_back(NodeScore{n->name(), score});
    }
    EXPECT_EQ(raw, tc.raw);
    ASSERT_TRUE(env.plugin().NormalizeScore(state, *pod, scores).IsSuccess());
    std::map<std::string, int64_t> normalized;
    for (const auto& s : scores) normalized[s.name] = s.score;
    EXPECT_EQ(normalized, tc.normalized);
  }
}

TEST(InterPodAffinityScoreTest, ScoreWithoutPreScoreIsAnError) {
  Env env({}, StandardNodes());
  PodInfoPtr pod = Info(Pod("web", "web"));
  CycleState state;
  int64_t score = 0;
  EXPECT_TRUE(env.plugin().Score(state, *pod, env.node("n1"), &score).IsError());
  std::vector<NodeScore> scores{{"n1", 3}};
  EXPECT_TRUE(env.plugin().NormalizeScore(state, *pod, scores).IsError());
}

// ---- args, factory, events ----

TEST(InterPodAffinityArgsTest, DefaultsAndValidation) {
  auto defaults = InterPodAffinityArgs::Parse(YAML::Node());
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->hard_pod_affinity_weight, 1);
  EXPECT_FALSE(defaults->ignore_preferred_terms_of_existing_pods);

  auto set = InterPodAffinityArgs::Parse(YAML::Load(
      "apiVersion: kubescheduler.config.k8s.io/v1\nkind: InterPodAffinityArgs\n"
      "hardPodAffinityWeight: 100\nignorePreferredTermsOfExistingPods: true\n"));
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->hard_pod_affinity_weight, 100);
  EXPECT_TRUE(set->ignore_preferred_terms_of_existing_pods);

  struct Bad {
    std::string yaml;
    std::string message;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"hardPodAffinityWeight: 101",
            "InterPodAffinityArgs: hardPodAffinityWeight: Invalid value: 101: not in valid range [0, 100]"},
           {"hardPodAffinityWeight: -1",
            "InterPodAffinityArgs: hardPodAffinityWeight: Invalid value: -1: not in valid range [0, 100]"},
           {"hardPodAffinityWeight: heavy",
            "InterPodAffinityArgs: hardPodAffinityWeight: Invalid value: \"heavy\": must be an integer"},
           {"ignorePreferredTermsOfExistingPods: maybe",
            "InterPodAffinityArgs: ignorePreferredTermsOfExistingPods: Invalid value: \"maybe\": must be a boolean"},
           {"hardPodAfinityWeight: 2", "InterPodAffinityArgs: unknown field \"hardPodAfinityWeight\""},
       }) {
    auto parsed = InterPodAffinityArgs::Parse(YAML::Load(bad.yaml));
    ASSERT_FALSE(parsed.ok()) << bad.yaml;
    EXPECT_EQ(parsed.status().code(), Code::kInvalid);
    EXPECT_EQ(parsed.status().message(), bad.message);
  }
}

TEST(InterPodAffinityArgsTest, Factory) {
  testing::FakeHandle handle;
  auto plugin = NewInterPodAffinity(YAML::Load("hardPodAffinityWeight: 7"), handle);
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
  auto* ipa = dynamic_cast<InterPodAffinity*>(plugin->get());
  ASSERT_NE(ipa, nullptr);
  EXPECT_EQ(ipa->Name(), "InterPodAffinity");
  EXPECT_EQ(ipa->args().hard_pod_affinity_weight, 7);
  EXPECT_FALSE(NewInterPodAffinity(YAML::Load("hardPodAffinityWeight: 700"), handle).ok());
}

TEST(InterPodAffinityEventsTest, PodAndNodeChanges) {
  testing::FakeHandle handle;
  InterPodAffinity plugin({}, handle);
  auto covered = [&](EventResource r, uint32_t action) {
    for (const ClusterEvent& e : plugin.EventsToRegister()) {
      if (e.Covers(ClusterEvent{r, action, ""})) return true;
    }
    return false;
  };
  EXPECT_TRUE(covered(EventResource::kAssignedPod, kActionAdd));
  EXPECT_TRUE(covered(EventResource::kAssignedPod, kActionDelete));
  EXPECT_TRUE(covered(EventResource::kAssignedPod, kActionUpdatePodLabel));
  EXPECT_TRUE(covered(EventResource::kPod, kActionDelete));
  EXPECT_TRUE(covered(EventResource::kNode, kActionAdd));
  EXPECT_TRUE(covered(EventResource::kNode, kActionUpdateNodeLabel));
  EXPECT_TRUE(covered(EventResource::kNode, kActionUpdateNodeTaint));
  EXPECT_FALSE(covered(EventResource::kNode, kActionUpdateNodeAllocatable));
  EXPECT_FALSE(covered(EventResource::kAssignedPod, kActionUpdatePodScaleDown));
  EXPECT_FALSE(covered(EventResource::kNode, kActionDelete));
}

// ---- the topology pair table ----

TEST(TopologyPairCountsTest, CountsKeysAndCopies) {
  TopologyPairCounts counts;
  EXPECT_EQ(counts.Get("zone", "a"), 0);
  auto zone = counts.InternKey("zone");
  auto host = counts.InternKey("host");
  EXPECT_EQ(counts.InternKey("zone"), zone);
  EXPECT_EQ(counts.FindKey("rack"), TopologyPairCounts::kNoKey);
  counts.Add(zone, "a", 2);
  counts.Add(host, "a", 1);  // same value, other key: another pair
  EXPECT_EQ(counts.Get(zone, "a"), 2);
  EXPECT_EQ(counts.Get(host, "a"), 1);
  EXPECT_EQ(counts.size(), 2u);
  counts.Add(zone, "a", -2);
  EXPECT_EQ(counts.Get(zone, "a"), 0);
  EXPECT_EQ(counts.size(), 1u);
  counts.Add(zone, "a", 1);
  EXPECT_EQ(counts.size(), 2u);

  // Enough pairs to grow the table several times; a copy is independent.
  for (int i = 0; i < 5000; ++i) counts.Add(host, "node-" + std::to_string(i), i % 3 + 1);
  TopologyPairCounts copy = counts;
  copy.Add(host, "node-7", 10);
  for (int i = 0; i < 5000; i += 97) EXPECT_EQ(counts.Get(host, "node-" + std::to_string(i)), i % 3 + 1);
  EXPECT_EQ(copy.Get(host, "node-7"), 7 % 3 + 1 + 10);
  EXPECT_EQ(counts.Get(host, "node-5000"), 0);
  EXPECT_EQ(counts.size(), 5002u);
  size_t seen = 0;
  counts.ForEach([&](std::string_view, std::string_view, int64_t c) {
    EXPECT_NE(c, 0);
    ++seen;
  });
  EXPECT_EQ(seen, 5002u);
}

// ---- randomized cross-check against a direct reading of the rules ----

// Upstream's Filter rules evaluated straight from the pods, with the framework's own
// AffinityTerm::Matches and namespace labels looked up per pod (no counts, no merging).
class Reference {
 public:
  Reference(const std::vector<corev1::Pod>& pods, const std::vector<corev1::Node>& nodes,
            const std::map<std::string, std::map<std::string, std::string>>& ns_labels)
      : ns_labels_(ns_labels) {
    for (const auto& n : nodes) nodes_[n.metadata().name()] = &n;
    for (const auto& p : pods) {
      if (nodes_.count(p.spec().nodename())) placed_.push_back({Info(p), nodes_[p.spec().nodename()]});
    }
  }

  VerdictCode Filter(const PodInfo& pod, const corev1::Node& node) const {
    // Required affinity.
    const auto& aff = pod.required_affinity_terms;
    if (!aff.empty()) {
      for (const auto& t : aff) {
        if (!Label(node, t.topology_key)) return VerdictCode::kUnschedulableAndUnresolvable;
      }
      bool all_terms_ok = true;
      for (const auto& t : aff) {
        bool found = false;
        for (const auto& [p, n] : placed_) {
          if (MatchesAll(aff, *p->pod) && Same(*n, node, t.topology_key)) found = true;
        }
        if (!found) all_terms_ok = false;
      }
      if (!all_terms_ok) {
        bool any_match = false;  // a pod matching all terms on a node with one of the keys
        for (const auto& [p, n] : placed_) {
          if (!MatchesAll(aff, *p->pod)) continue;
          for (const auto& t : aff) {
            if (Label(*n, t.topology_key)) any_match = true;
          }
        }
        if (any_match || !MatchesAll(aff, *pod.pod)) return VerdictCode::kUnschedulableAndUnresolvable;
      }
    }
    // Required anti-affinity of the pod.
    for (const auto& t : pod.required_anti_affinity_terms) {
      for (const auto& [p, n] : placed_) {
        if (Matches(t, *p->pod) && Same(*n, node, t.topology_key)) return VerdictCode::kUnschedulable;
      }
    }
    // Existing pods' required anti-affinity.
    for (const auto& [p, n] : placed_) {
      for (const auto& t : p->required_anti_affinity_terms) {
        if (Matches(t, *pod.pod) && Same(*n, node, t.topology_key)) return VerdictCode::kUnschedulable;
      }
    }
    return VerdictCode::kSuccess;
  }

 private:
  static const std::string* Label(const corev1::Node& n, const std::string& key) {
    auto it = n.metadata().labels().find(key);
    return it == n.metadata().labels().end() ? nullptr : &it->second;
  }
  static bool Same(const corev1::Node& a, const corev1::Node& b, const std::string& key) {
    const std::string* va = Label(a, key);
    const std::string* vb = Label(b, key);
    return va && vb && *va == *vb;
  }
  bool Matches(const AffinityTerm& t, const corev1::Pod& p) const {
    auto it = ns_labels_.find(p.metadata().namespace_());
    return t.Matches(p, it == ns_labels_.end() ? nullptr : &it->second);
  }
  bool MatchesAll(const std::vector<AffinityTerm>& terms, const corev1::Pod& p) const {
    for (const auto& t : terms) {
      if (!Matches(t, p)) return false;
    }
    return !terms.empty();
  }

  std::map<std::string, std::map<std::string, std::string>> ns_labels_;
  std::map<std::string, const corev1::Node*> nodes_;
  std::vector<std::pair<PodInfoPtr, const corev1::Node*>> placed_;
};

TEST(InterPodAffinityFilterTest, RandomClustersAgreeWithReference) {
  std::mt19937 rng(20240607);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const std::vector<std::string> apps = {"a", "b", "c"};
  const std::vector<std::string> nss = {"ns1", "ns2", "ns3"};
  const std::map<std::string, std::map<std::string, std::string>> ns_labels = {
      {"ns1", {{"team", "x"}}}, {"ns2", {{"team", "y"}}}, {"ns3", {{"team", "x"}, {"env", "prod"}}}};
  std::vector<Namespace> namespaces;
  for (const auto& [name, labels] : ns_labels) namespaces.push_back({name, labels});
  const std::vector<std::string> keys = {kHostname, kZone, kRegion};

  auto random_term = [&]() {
    TermSpec spec;
    spec.topology_key = keys[pick(3)];
    int shape = pick(4);
    if (shape == 0) spec.selector = {{"app", "In", {apps[pick(3)]}}};
    if (shape == 1) spec.selector = {{"app", "NotIn", {apps[pick(3)]}}};
    if (shape == 2) spec.selector = {{"app", "In", {apps[pick(3)], apps[pick(3)]}}};
    if (shape == 3) spec.selector = {{"app", "Exists", {}}};
    int ns_shape = pick(4);
    if (ns_shape == 1) spec.namespaces = {nss[pick(3)]};
    if (ns_shape == 2) spec.namespace_selector = std::map<std::string, std::string>{{"team", pick(2) ? "x" : "y"}};
    if (ns_shape == 3) spec.namespace_selector = std::map<std::string, std::string>{};
    return spec;
  };
  auto random_pod = [&](const std::string& name, const std::string& node, int max_terms) {
    corev1::Pod p = Pod(name, apps[pick(3)], node, nss[pick(3)]);
    int terms = pick(max_terms + 1);
    for (int i = 0; i < terms; ++i) p = With(p, pick(2) ? Kind::kAntiAffinity : Kind::kAffinity, random_term());
    return p;
  };

  int checked = 0;
  for (int round = 0; round < 60; ++round) {
    std::vector<corev1::Node> nodes;
    for (int i = 0; i < 12; ++i) {
      auto b = MakeNode("m" + std::to_string(i));
      if (pick(5) != 0) b.Label(kZone, "z" + std::to_string(pick(3)));
      if (pick(5) != 0) b.Label(kRegion, "r" + std::to_string(pick(2)));
      nodes.push_back(b);
    }
    std::vector<corev1::Pod> pods;
    for (int i = 0; i < 15; ++i) {
      // Existing pods carry only anti-affinity (their affinity does not matter to Filter).
      corev1::Pod p = Pod("p" + std::to_string(i), apps[pick(3)], nodes[pick(12)].metadata().name(), nss[pick(3)]);
      if (pick(3) == 0) p = With(p, Kind::kAntiAffinity, random_term());
      pods.push_back(p);
    }
    Env env(pods, nodes, namespaces);
    Reference ref(pods, nodes, ns_labels);
    for (int k = 0; k < 8; ++k) {
      PodInfoPtr pod = Info(random_pod("incoming", "", 2));
      CycleState state;
      Verdict pre = env.plugin().PreFilter(state, *pod, env.snapshot(), nullptr);
      ASSERT_FALSE(pre.IsError()) << pre.String();
      for (const auto& n : nodes) {
        VerdictCode want = ref.Filter(*pod, n);
        VerdictCode got = pre.IsSkip() ? VerdictCode::kSuccess
                                       : env.plugin().Filter(state, *pod, env.node(n.metadata().name())).code();
        ASSERT_EQ(got, want) << "round " << round << " pod " << k << " node " << n.metadata().name() << "\n"
                             << pod->pod->DebugString();
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 60 * 8 * 12);
}

// ---- memoized counts across cycles ----

std::map<std::string, int64_t> Contents(const TopologyPairCounts& t) {
  std::map<std::string, int64_t> out;
  t.ForEach([&](std::string_view k, std::string_view v, int64_t c) { out[std::string(k) + "=" + std::string(v)] = c; });
  return out;
}

TEST(InterPodAffinityMemoTest, RepeatedShapeRecountsOnlyChangedNodes) {
  std::vector<corev1::Node> nodes;
  std::vector<std::string> order;
  for (int i = 0; i < 100; ++i) {
    nodes.push_back(Node("h" + std::to_string(i), "r" + std::to_string(i % 2), "z" + std::to_string(i % 4)));
    order.push_back("h" + std::to_string(i));
  }
  std::vector<corev1::Pod> pods;
  for (int i = 0; i < 40; ++i) {
    pods.push_back(With(Pod("web-" + std::to_string(i), "web", "h" + std::to_string(i)), Kind::kAntiAffinity,
                        AppIn("web", kHostname)));
  }
  testing::FakeHandle handle;
  handle.set_snapshot(Snapshot::FromObjects(pods, nodes));
  InterPodAffinity plugin({}, handle);
  PodInfoPtr pod = Info(With(Pod("web", "web"), Kind::kAntiAffinity, AppIn("web", kHostname)));

  auto cycle = [&](CycleState& state) {
    Verdict v = plugin.PreFilter(state, *pod, handle.snapshot(), nullptr);
    ASSERT_TRUE(v.IsSuccess()) << v.String();
  };
  {
    CycleState state;
    cycle(state);  // first sighting: a plain walk
    EXPECT_EQ(plugin.last_counted_nodes(), 100u);
  }
  {
    CycleState state;
    cycle(state);  // second: the memo is built
    EXPECT_EQ(plugin.last_counted_nodes(), 100u);
    EXPECT_EQ(plugin.Filter(state, *pod, *handle.snapshot().Get("h50")).code(), VerdictCode::kSuccess);
  }
  // The previous pod was bound to h50: only that node is recounted, and it now repels.
  handle.mutable_snapshot().Get("h50")->AddPod(
      Info(With(Pod("web-50", "web", "h50"), Kind::kAntiAffinity, AppIn("web", kHostname))));
  handle.mutable_snapshot().RebuildAffinityLists();
  {
    CycleState state;
    cycle(state);
    EXPECT_EQ(plugin.last_counted_nodes(), 1u);
    EXPECT_EQ(plugin.Filter(state, *pod, *handle.snapshot().Get("h50")).code(), VerdictCode::kUnschedulable);
    EXPECT_EQ(plugin.Filter(state, *pod, *handle.snapshot().Get("h51")).code(), VerdictCode::kSuccess);
    auto* s = state.ReadAs<PreFilterState>(kInterPodAffinityPreFilterKey);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->anti_affinity_counts.size(), 41u);
    EXPECT_EQ(s->existing_anti_affinity_counts.size(), 41u);
  }
  // A node leaves: its pod no longer counts.
  ASSERT_TRUE(handle.mutable_snapshot().mutable_map().erase("h3") == 1);
  order.erase(std::find(order.begin(), order.end(), "h3"));
  handle.mutable_snapshot().RebuildLists(order);
  {
    CycleState state;
    cycle(state);
    EXPECT_EQ(plugin.last_counted_nodes(), 0u);
    auto* s = state.ReadAs<PreFilterState>(kInterPodAffinityPreFilterKey);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->anti_affinity_counts.Get(kHostname, "h3"), 0);
    EXPECT_EQ(s->anti_affinity_counts.size(), 40u);
  }
}

// Applies one random change to the snapshot, as the cache would between cycles.
void MutateCluster(Snapshot& snapshot, std::vector<std::string>& order, std::mt19937& rng, int step,
                   const std::function<corev1::Pod(const std::string&, const std::string&)>& make_pod) {
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  const std::string& node = order[pick(order.size())];
  NodeInfo* info = snapshot.Get(node);
  switch (pick(5)) {
    case 0:
    case 1:  // a pod is bound
      info->AddPod(Info(make_pod("new-" + std::to_string(step), node)));
      break;
    case 2:  // a pod goes away
      if (!info->pods().empty()) {
        ASSERT_TRUE(info->RemovePod(info->pods()[pick(info->pods().size())]->uid()).ok());
      }
      break;
    case 3: {  // a node is relabelled (moves zone)
      auto changed = std::make_shared<corev1::Node>(*info->node());
      (*changed->mutable_metadata()->mutable_labels())[kZone] = "z" + std::to_string(pick(4));
      info->SetNode(std::move(changed));
      break;
    }
    case 4: {  // a node leaves and a new one joins
      snapshot.mutable_map().erase(node);
      order.erase(std::find(order.begin(), order.end(), node));
      const std::string added = "late-" + std::to_string(step);
      snapshot.mutable_map()[added] =
          std::make_shared<NodeInfo>(std::make_shared<const corev1::Node>(Node(added, "r1", "z" + std::to_string(pick(4)))));
      order.push_back(added);
      break;
    }
  }
  snapshot.RebuildLists(order);
}

TEST(InterPodAffinityMemoTest, MemoAgreesWithPlainCountsThroughClusterChanges) {
  std::mt19937 rng(7);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const std::vector<std::string> apps = {"a", "b", "c"};
  const std::vector<std::string> keys = {kHostname, kZone, kRegion};
  auto term = [&]() { return AppIn(apps[pick(3)], keys[pick(3)]); };
  auto make_pod = [&](const std::string& name, const std::string& node) {
    corev1::Pod p = Pod(name, apps[pick(3)], node);
    switch (pick(6)) {
      case 0: p = With(p, Kind::kAntiAffinity, term()); break;
      case 1: p = With(p, Kind::kAffinity, term()); break;
      case 2: p = With(p, Kind::kPreferredAffinity, term(), 1 + pick(10)); break;
      case 3: p = With(p, Kind::kPreferredAntiAffinity, term(), 1 + pick(10)); break;
      default: break;
    }
    return p;
  };

  // Enough nodes for the walks to go parallel.
  std::vector<corev1::Node> nodes;
  std::vector<std::string> order;
  for (int i = 0; i < 200; ++i) {
    nodes.push_back(Node("k" + std::to_string(i), "r" + std::to_string(i % 3), "z" + std::to_string(i % 5)));
    order.push_back("k" + std::to_string(i));
  }
  std::vector<corev1::Pod> pods;
  for (int i = 0; i < 300; ++i) pods.push_back(make_pod("p" + std::to_string(i), order[pick(200)]));

  testing::FakeHandle handle;
  handle.set_snapshot(Snapshot::FromObjects(pods, nodes));
  InterPodAffinity memo(InterPodAffinityArgs{}, handle, true);
  InterPodAffinity plain(InterPodAffinityArgs{}, handle, false);

  // A few shapes that come back every step, so their memos live through the changes.
  std::vector<PodInfoPtr> shapes = {
      Info(With(Pod("s1", "a"), Kind::kAntiAffinity, AppIn("a", kHostname))),
      Info(With(With(Pod("s2", "b"), Kind::kAffinity, AppIn("c", kZone)), Kind::kAntiAffinity, AppIn("b", kRegion))),
      Info(Pod("s3", "c")),
      Info(With(Pod("s4", "a"), Kind::kPreferredAffinity, AppIn("b", kZone), 5)),
  };
  size_t memo_counted = 0, plain_counted = 0;
  for (int step = 0; step < 40; ++step) {
    for (const PodInfoPtr& pod : shapes) {
      SCOPED_TRACE("step " + std::to_string(step) + " pod " + pod->name());
      CycleState a, b;
      Verdict va = memo.PreFilter(a, *pod, handle.snapshot(), nullptr);
      memo_counted += memo.last_counted_nodes();
      Verdict vb = plain.PreFilter(b, *pod, handle.snapshot(), nullptr);
      plain_counted += plain.last_counted_nodes();
      ASSERT_EQ(va.code(), vb.code());
      if (va.IsSuccess()) {
        auto* sa = a.ReadAs<PreFilterState>(kInterPodAffinityPreFilterKey);
        auto* sb = b.ReadAs<PreFilterState>(kInterPodAffinityPreFilterKey);
        EXPECT_EQ(Contents(sa->existing_anti_affinity_counts), Contents(sb->existing_anti_affinity_counts));
        EXPECT_EQ(Contents(sa->affinity_counts), Contents(sb->affinity_counts));
        EXPECT_EQ(Contents(sa->anti_affinity_counts), Contents(sb->anti_affinity_counts));
        for (const auto& n : handle.snapshot().List()) {
          ASSERT_EQ(memo.Filter(a, *pod, *n).code(), plain.Filter(b, *pod, *n).code()) << n->name();
        }
      }
      std::vector<const NodeInfo*> list;
      for (const auto& n : handle.snapshot().List()) list.push_back(n.get());
      Verdict pa = memo.PreScore(a, *pod, list);
      Verdict pb = plain.PreScore(b, *pod, list);
      ASSERT_EQ(pa.code(), pb.code());
      if (pa.IsSuccess()) {
        for (const NodeInfo* n : list) {
          int64_t x = 0, y = 0;
          ASSERT_TRUE(memo.Score(a, *pod, *n, &x).IsSuccess());
          ASSERT_TRUE(plain.Score(b, *pod, *n, &y).IsSuccess());
          ASSERT_EQ(x, y) << n->name();
        }
      }
    }
    MutateCluster(handle.mutable_snapshot(), order, rng, step, make_pod);
    if (HasFatalFailure()) return;
  }
  // The memo recounted a small part of what the plain walks did.
  EXPECT_LT(memo_counted * 5, plain_counted);
}

}  // namespace
}  // namespace ck::scheduler::plugins
