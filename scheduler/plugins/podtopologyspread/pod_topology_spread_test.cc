// Tests for PodTopologySpread: table-driven filter cases (zones, hostnames, minDomains, node
// inclusion policies, missing labels, matchLabelKeys, terminating pods), preemption's
// AddPod/RemovePod, scoring against hand-computed upstream values, the system and List default
// constraints with a selector deduced from Indexers, args parsing, and a randomized comparison of
// Filter with a straightforward reference of the upstream rule.
#include "scheduler/plugins/podtopologyspread/pod_topology_spread.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/api/proto/apps_v1.pb.h"
#include "common/api/testing/builders.h"
#include "common/base/clock.h"
#include "common/base/random.h"
#include "common/client/cache/indexer.h"
#include "scheduler/framework/parallelizer.h"
#include "scheduler/plugins/podtopologyspread/filtering.h"
#include "scheduler/plugins/podtopologyspread/node_matching.h"
#include "scheduler/plugins/podtopologyspread/scoring.h"

namespace ck::scheduler::plugins {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
namespace appsv1 = ::k8s::io::api::apps::v1;
namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;
using api::testing::MakeNode;
using api::testing::MakePod;
using podtopologyspread_internal::PreFilterState;
using podtopologyspread_internal::PreScoreState;

constexpr char kZone[] = "zone";
constexpr char kNode[] = "node";
constexpr char kHostname[] = "kubernetes.io/hostname";
constexpr char kTopologyZone[] = "topology.kubernetes.io/zone";
constexpr char kHard[] = "DoNotSchedule";
constexpr char kSoft[] = "ScheduleAnyway";

// ---- test doubles and builders ----

class FakeHandle final : public Handle {
 public:
  const Snapshot& snapshot() const override { return snapshot_; }
  const Listers& listers() const override { return listers_; }
  client::ApiClient* api() override { return nullptr; }
  client::EventRecorder* events() override { return nullptr; }
  PodNominator* nominator() override { return nullptr; }
  Clock& clock() override { return clock_; }
  Random& random() override { return random_; }
  Parallelizer& parallelizer() override { return parallelizer_; }
  const std::string& profile_name() const override { return profile_; }
  Verdict RunPreFilterExtensionAddPod(CycleState&, const PodInfo&, const PodInfoPtr&,
                                      const NodeInfo&) override {
    return Verdict::Success();
  }
  Verdict RunPreFilterExtensionRemovePod(CycleState&, const PodInfo&, const PodInfoPtr&,
                                         const NodeInfo&) override {
    return Verdict::Success();
  }
  Verdict RunFilterPluginsWithNominatedPods(CycleState&, const PodInfo&, const NodeInfo&) override {
    return Verdict::Success();
  }

  Snapshot snapshot_;
  Listers listers_;

 private:
  FakeClock clock_;
  FakeRandom random_;
  Parallelizer parallelizer_{2, "pts-test"};
  std::string profile_ = "default-scheduler";
};

// A spread constraint; `selector` nullopt leaves labelSelector nil, {} gives the empty selector,
// otherwise matchExpressions "key Exists" for each key (the shape upstream's tests use).
corev1::TopologySpreadConstraint Spread(
    int max_skew, std::string key, std::string when,
    std::optional<std::vector<std::string>> exists = std::vector<std::string>{"foo"}) {
  corev1::TopologySpreadConstraint c;
  c.set_maxskew(max_skew);
  c.set_topologykey(std::move(key));
  c.set_whenunsatisfiable(std::move(when));
  if (exists.has_value()) {
    metav1::LabelSelector* s = c.mutable_labelselector();
    for (const std::string& k : *exists) {
      auto* e = s->add_matchexpressions();
      e->set_key(k);
      e->set_operator_("Exists");
    }
  }
  return c;
}

corev1::TopologySpreadConstraint WithMinDomains(corev1::TopologySpreadConstraint c, int n) {
  c.set_mindomains(n);
  return c;
}
corev1::TopologySpreadConstraint WithPolicies(corev1::TopologySpreadConstraint c, std::string affinity,
                                              std::string taints) {
  if (!affinity.empty()) c.set_nodeaffinitypolicy(std::move(affinity));
  if (!taints.empty()) c.set_nodetaintspolicy(std::move(taints));
  return c;
}
corev1::TopologySpreadConstraint WithMatchLabelKeys(corev1::TopologySpreadConstraint c,
                                                    std::vector<std::string> keys) {
  for (auto& k : keys) c.add_matchlabelkeys(std::move(k));
  return c;
}

corev1::Pod WithSpread(corev1::Pod pod, const std::vector<corev1::TopologySpreadConstraint>& cs) {
  for (const auto& c : cs) *pod.mutable_spec()->add_topologyspreadconstraints() = c;
  return pod;
}

// Adds a required node affinity term "key Exists".
corev1::Pod WithRequiredNodeLabel(corev1::Pod pod, const std::string& key) {
  auto* term = pod.mutable_spec()
                   ->mutable_affinity()
                   ->mutable_nodeaffinity()
                   ->mutable_requiredduringschedulingignoredduringexecution()
                   ->add_nodeselectorterms();
  auto* e = term->add_matchexpressions();
  e->set_key(key);
  e->set_operator_("Exists");
  return pod;
}

// A pod labelled foo="" on `node` (the usual "matching" existing pod).
corev1::Pod Existing(const std::string& name, const std::string& node, bool matching = true) {
  auto b = MakePod(name).Uid(name).Node(node);
  if (matching) b.Label("foo", "");
  return b;
}

corev1::Node ZoneNode(const std::string& name, const std::string& zone) {
  return MakeNode(name).Label(kZone, zone).Label(kNode, name);
}

// The four-node cluster of upstream's tests: zone1 = {node-a, node-b}, zone2 = {node-x, node-y}.
std::vector<corev1::Node> FourNodes() {
  return {ZoneNode("node-a", "zone1"), ZoneNode("node-b", "zone1"), ZoneNode("node-x", "zone2"),
          ZoneNode("node-y", "zone2")};
}

std::vector<corev1::Pod> PodsOn(const std::map<std::string, int>& per_node, bool matching = true) {
  std::vector<corev1::Pod> out;
  for (const auto& [node, n] : per_node) {
    for (int i = 0; i < n; ++i)
      out.push_back(Existing("p-" + node + "-" + std::to_string(i), node, matching));
  }
  return out;
}

std::vector<corev1::Pod> Concat(std::vector<corev1::Pod> a, const std::vector<corev1::Pod>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

PodInfoPtr Info(const corev1::Pod& pod) {
  auto r = PodInfo::Create(pod);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return *r;
}

std::unique_ptr<PodTopologySpread> NewPlugin(FakeHandle& h, const std::string& yaml = "") {
  auto plugin = NewPodTopologySpread(yaml.empty() ? YAML::Node() : YAML::Load(yaml), h);
  EXPECT_TRUE(plugin.ok()) << plugin.status().message();
  return std::unique_ptr<PodTopologySpread>(dynamic_cast<PodTopologySpread*>(plugin->release()));
}

// Runs PreFilter then Filter on every node: node -> verdict code.
std::map<std::string, VerdictCode> RunFilter(PodTopologySpread& pl, FakeHandle& h, const corev1::Pod& pod,
                                             CycleState& state) {
  PodInfoPtr info = Info(pod);
  PreFilterResult r;
  Verdict pre = pl.PreFilter(state, *info, h.snapshot_, &r);
  std::map<std::string, VerdictCode> out;
  if (pre.IsSkip()) {
    for (const auto& n : h.snapshot_.List()) out[n->name()] = VerdictCode::kSuccess;
    return out;
  }
  EXPECT_TRUE(pre.IsSuccess()) << pre.String();
  for (const auto& n : h.snapshot_.List()) {
    Verdict v = pl.Filter(state, *info, *n);
    out[n->name()] = v.code();
    if (v.code() == VerdictCode::kUnschedulable) {
      EXPECT_EQ(v.Message(), "node(s) didn't match pod topology spread constraints");
    } else if (v.code() == VerdictCode::kUnschedulableAndUnresolvable) {
      EXPECT_EQ(v.Message(), "node(s) didn't match pod topology spread constraints (missing required label)");
    }
  }
  return out;
}

constexpr VerdictCode kOk = VerdictCode::kSuccess;
constexpr VerdictCode kNo = VerdictCode::kUnschedulable;
constexpr VerdictCode kNever = VerdictCode::kUnschedulableAndUnresolvable;

// ---- Filter ----

struct FilterCase {
  std::string name;
  corev1::Pod pod;
  std::vector<corev1::Node> nodes;
  std::vector<corev1::Pod> existing;
  std::map<std::string, VerdictCode> want;
};

std::vector<FilterCase> FilterCases() {
  auto foo_pod = [] { return MakePod("p").Uid("p").Label("foo", "").Obj(); };
  std::vector<FilterCase> cases;
  cases.push_back({"no existing pods",
                   WithSpread(foo_pod(), {Spread(1, kZone, kHard)}),
                   FourNodes(),
                   {},
                   {{"node-a", kOk}, {"node-b", kOk}, {"node-x", kOk}, {"node-y", kOk}}});
  cases.push_back({"no existing pods, the pod does not match itself",
                   WithSpread(MakePod("p").Uid("p").Label("bar", ""), {Spread(1, kZone, kHard)}),
                   FourNodes(),
                   {},
                   {{"node-a", kOk}, {"node-b", kOk}, {"node-x", kOk}, {"node-y", kOk}}});
  cases.push_back({"existing pods in another namespace are not counted",
                   WithSpread(foo_pod(), {Spread(1, kZone, kHard)}),
                   FourNodes(),
                   {MakePod("o1").Uid("o1").Namespace("other").Label("foo", "").Node("node-a"),
                    MakePod("o2").Uid("o2").Namespace("other").Label("foo", "").Node("node-b")},
                   {{"node-a", kOk}, {"node-b", kOk}, {"node-x", kOk}, {"node-y", kOk}}});
  cases.push_back({"pods spread across zones as 3/3, all nodes fit",
                   WithSpread(foo_pod(), {Spread(1, kZone, kHard)}),
                   FourNodes(),
                   PodsOn({{"node-a", 1}, {"node-b", 2}, {"node-x", 2}, {"node-y", 1}}),
                   {{"node-a", kOk}, {"node-b", kOk}, {"node-x", kOk}, {"node-y", kOk}}});
  cases.push_back({"pods spread across zones as 3/4, only zone1 fits",
                   WithSpread(foo_pod(), {Spread(1, kZone, kHard)}),
                   FourNodes(),
                   PodsOn({{"node-a", 1}, {"node-b", 2}, {"node-x", 2}, {"node-y", 2}}),
                   {{"node-a", kOk}, {"node-b", kOk}, {"node-x", kNo}, {"node-y", kNo}}});
  cases.push_back({"pods that do not match the selector are not counted",
                   WithSpread(foo_pod(), {Spread(1, kZone, kHard)}),
                   FourNodes(),
                   Concat(PodsOn({{"node-a", 1}}), PodsOn({{"node-x", 3}}, /*matching=*/false)),
                   {{"node-a", kNo}, {"node-b", kNo}, {"node-x", kOk}, {"node-y", kOk}}});
  cases.push_back({"terminating pods are not counted",
                   WithSpread(foo_pod(), {Spread(1, kZone, kHard)}),
                   FourNodes(),
                   {MakePod("t1").Uid("t1").Label("foo", "").Node("node-x").DeletionTimestamp(
                        WallTime{} + std::chrono::seconds(5)),
                    MakePod("t2").Uid("t2").Label("foo", "").Node("node-y").DeletionTimestamp(
                        WallTime{} + std::chrono::seconds(5)),
                    Existing("a1", "node-a")},
                   {{"node-a", kNo}, {"node-b", kNo}, {"node-x", kOk}, {"node-y", kOk}}});
  cases.push_back({"node-b lacks the zone label: unresolvable there, and its pods are not counted",
                   WithSpread(foo_pod(), {Spread(1, kZone, kHard)}),
                   {ZoneNode("node-a", "zone1"), MakeNode("node-b").Label(kNode, "node-b"),
                    ZoneNode("node-x", "zone2"), ZoneNode("node-y", "zone2")},
                   PodsOn({{"node-a", 1}, {"node-b", 2}, {"node-x", 1}, {"node-y", 1}}),
                   {{"node-a", kOk}, {"node-b", kNever}, {"node-x", kNo}, {"node-y", kNo}}});
  cases.push_back({"no node has the key: every node is unresolvable",
                   WithSpread(foo_pod(), {Spread(1, "rack", kHard)}),
                   FourNodes(),
                   PodsOn({{"node-a", 1}}),
                   {{"node-a", kNever}, {"node-b", kNever}, {"node-x", kNever}, {"node-y", kNever}}});
  cases.push_back({"pods spread across nodes as 2/1/0/3, only node-x fits",
                   WithSpread(foo_pod(), {Spread(1, kNode, kHard)}),
                   FourNodes(),
                   PodsOn({{"node-a", 2}, {"node-b", 1}, {"node-y", 3}}),
                   {{"node-a", kNo}, {"node-b", kNo}, {"node-x", kOk}, {"node-y", kNo}}});
  cases.push_back({"pods spread across nodes as 2/1/0/3, maxSkew 2: node-b and node-x fit",
                   WithSpread(foo_pod(), {Spread(2, kNode, kHard)}),
                   FourNodes(),
                   PodsOn({{"node-a", 2}, {"node-b", 1}, {"node-y", 3}}),
                   {{"node-a", kNo}, {"node-b", kOk}, {"node-x", kOk}, {"node-y", kNo}}});
  cases.push_back({"the pod does not match itself: 1/0/0/0 fits everywhere",
                   WithSpread(MakePod("p").Uid("p").Label("bar", ""), {Spread(1, kNode, kHard)}),
                   FourNodes(),
                   PodsOn({{"node-a", 1}}),
                   {{"node-a", kOk}, {"node-b", kOk}, {"node-x", kOk}, {"node-y", kOk}}});
  cases.push_back({"two constraints: zones 3/3 and nodes 2/1/0/3: only node-x fits both",
                   WithSpread(foo_pod(), {Spread(1, kZone, kHard), Spread(1, kNode, kHard)}),
                   FourNodes(),
                   PodsOn({{"node-a", 2}, {"node-b", 1}, {"node-y", 3}}),
                   {{"node-a", kNo}, {"node-b", kNo}, {"node-x", kOk}, {"node-y", kNo}}});
  cases.push_back({"two constraints: zones 2/4 and nodes 1/1/1/3: zone1 nodes fit",
                   WithSpread(foo_pod(), {Spread(1, kZone, kHard), Spread(1, kNode, kHard)}),
                   FourNodes(),
                   PodsOn({{"node-a", 1}, {"node-b", 1}, {"node-x", 1}, {"node-y", 3}}),
                   {{"node-a", kOk}, {"node-b", kOk}, {"node-x", kNo}, {"node-y", kNo}}});
  cases.push_back({"ScheduleAnyway constraints do not filter",
                   WithSpread(foo_pod(), {Spread(1, kNode, kSoft)}),
                   FourNodes(),
                   PodsOn({{"node-a", 5}}),
                   {{"node-a", kOk}, {"node-b", kOk}, {"node-x", kOk}, {"node-y", kOk}}});
  // minDomains: 2 zones with 1 pod each; maxSkew 1 admits everything unless the global minimum
  // drops to 0 because fewer than minDomains domains exist.
  cases.push_back({"minDomains 2 with 2 domains keeps the real minimum",
                   WithSpread(foo_pod(), {WithMinDomains(Spread(1, kZone, kHard), 2)}),
                   FourNodes(),
                   PodsOn({{"node-a", 1}, {"node-x", 1}}),
                   {{"node-a", kOk}, {"node-b", kOk}, {"node-x", kOk}, {"node-y", kOk}}});
  cases.push_back({"minDomains 3 with 2 domains: the global minimum is 0",
                   WithSpread(foo_pod(), {WithMinDomains(Spread(1, kZone, kHard), 3)}),
                   FourNodes(),
                   PodsOn({{"node-a", 1}, {"node-x", 1}}),
                   {{"node-a", kNo}, {"node-b", kNo}, {"node-x", kNo}, {"node-y", kNo}}});
  cases.push_back({"minDomains 5 on hostnames with 4 nodes: the global minimum is 0",
                   WithSpread(foo_pod(), {WithMinDomains(Spread(1, kNode, kHard), 5)}),
                   FourNodes(),
                   PodsOn({{"node-a", 1}, {"node-b", 1}, {"node-x", 1}, {"node-y", 1}}),
                   {{"node-a", kNo}, {"node-b", kNo}, {"node-x", kNo}, {"node-y", kNo}}});
  // nodeAffinityPolicy: the pod requires label "ssd" (node-a, node-b). Honor (default) counts only
  // zone1 (1 pod) -> min 1; Ignore also counts zone2 (4 pods) -> zone2 nodes fail.
  {
    std::vector<corev1::Node> nodes = {
        MakeNode("node-a").Label(kZone, "zone1").Label(kNode, "node-a").Label("ssd", ""),
        MakeNode("node-b").Label(kZone, "zone1").Label(kNode, "node-b").Label("ssd", ""),
        ZoneNode("node-x", "zone2"), ZoneNode("node-y", "zone2")};
    auto pods = PodsOn({{"node-a", 1}, {"node-x", 2}, {"node-y", 2}});
    cases.push_back({"nodeAffinityPolicy Honor (default) counts only nodes the pod may use",
                     WithRequiredNodeLabel(WithSpread(foo_pod(), {Spread(1, kZone, kHard)}), "ssd"),
                     nodes,
                     pods,
                     {{"node-a", kOk}, {"node-b", kOk}, {"node-x", kOk}, {"node-y", kOk}}});
    cases.push_back({"nodeAffinityPolicy Ignore counts every node",
                     WithRequiredNodeLabel(
                         WithSpread(foo_pod(), {WithPolicies(Spread(1, kZone, kHard), "Ignore", "")}), "ssd"),
                     nodes,
                     pods,
                     {{"node-a", kOk}, {"node-b", kOk}, {"node-x", kNo}, {"node-y", kNo}}});
    corev1::Pod by_selector =
        WithSpread(MakePod("p").Uid("p").Label("foo", "").NodeSelector("ssd", ""), {Spread(1, kZone, kHard)});
    cases.push_back({"nodeAffinityPolicy Honor applies spec.nodeSelector too",
                     by_selector,
                     nodes,
                     pods,
                     {{"node-a", kOk}, {"node-b", kOk}, {"node-x", kOk}, {"node-y", kOk}}});
  }
  // nodeTaintsPolicy: node-y carries an untolerated NoSchedule taint and no pods; others hold 1.
  {
    std::vector<corev1::Node> nodes = {ZoneNode("node-a", "zone1"), ZoneNode("node-b", "zone1"),
                                       ZoneNode("node-x", "zone2"),
                                       MakeNode("node-y")
                                           .Label(kZone, "zone2")
                                           .Label(kNode, "node-y")
                                           .Taint("dedicated", "gpu", "NoSchedule")};
    auto pods = PodsOn({{"node-a", 1}, {"node-b", 1}, {"node-x", 1}});
    cases.push_back({"nodeTaintsPolicy Ignore (default) counts the tainted empty node: min 0",
                     WithSpread(foo_pod(), {Spread(1, kNode, kHard)}),
                     nodes,
                     pods,
                     {{"node-a", kNo}, {"node-b", kNo}, {"node-x", kNo}, {"node-y", kOk}}});
    cases.push_back({"nodeTaintsPolicy Honor leaves the tainted node out: min 1",
                     WithSpread(foo_pod(), {WithPolicies(Spread(1, kNode, kHard), "", "Honor")}),
                     nodes,
                     pods,
                     {{"node-a", kOk}, {"node-b", kOk}, {"node-x", kOk}, {"node-y", kOk}}});
    corev1::Pod tolerating = WithSpread(
        MakePod("p").Uid("p").Label("foo", "").Toleration("dedicated", "Equal", "gpu", "NoSchedule"),
        {WithPolicies(Spread(1, kNode, kHard), "", "Honor")});
    cases.push_back({"nodeTaintsPolicy Honor with a toleration counts the node again",
                     tolerating,
                     nodes,
                     pods,
                     {{"node-a", kNo}, {"node-b", kNo}, {"node-x", kNo}, {"node-y", kOk}}});
    std::vector<corev1::Node> prefer = nodes;
    prefer[3] = MakeNode("node-y")
                    .Label(kZone, "zone2")
                    .Label(kNode, "node-y")
                    .Taint("dedicated", "gpu", "PreferNoSchedule");
    cases.push_back({"nodeTaintsPolicy Honor ignores PreferNoSchedule taints",
                     WithSpread(foo_pod(), {WithPolicies(Spread(1, kNode, kHard), "", "Honor")}),
                     prefer,
                     pods,
                     {{"node-a", kNo}, {"node-b", kNo}, {"node-x", kNo}, {"node-y", kOk}}});
  }
  // matchLabelKeys: only pods with the incoming pod's "version" count.
  {
    std::vector<corev1::Pod> pods;
    pods.push_back(MakePod("v1-a").Uid("v1-a").Label("foo", "").Label("version", "v1").Node("node-a"));
    pods.push_back(MakePod("v1-b").Uid("v1-b").Label("foo", "").Label("version", "v1").Node("node-a"));
    pods.push_back(MakePod("v2-x").Uid("v2-x").Label("foo", "").Label("version", "v2").Node("node-x"));
    corev1::Pod pod = WithSpread(MakePod("p").Uid("p").Label("foo", "").Label("version", "v2"),
                                 {WithMatchLabelKeys(Spread(1, kZone, kHard), {"version", "absent"})});
    cases.push_back({"matchLabelKeys narrows the selector to the pod's version",
                     pod,
                     FourNodes(),
                     pods,
                     {{"node-a", kOk}, {"node-b", kOk}, {"node-x", kNo}, {"node-y", kNo}}});
    corev1::Pod no_keys =
        WithSpread(MakePod("p").Uid("p").Label("foo", "").Label("version", "v2"), {Spread(1, kZone, kHard)});
    cases.push_back({"without matchLabelKeys every version counts",
                     no_keys,
                     FourNodes(),
                     pods,
                     {{"node-a", kNo}, {"node-b", kNo}, {"node-x", kOk}, {"node-y", kOk}}});
  }
  cases.push_back({"a nil labelSelector counts nothing and never matches the pod",
                   WithSpread(foo_pod(), {Spread(1, kNode, kHard, std::nullopt)}),
                   FourNodes(),
                   PodsOn({{"node-a", 4}}),
                   {{"node-a", kOk}, {"node-b", kOk}, {"node-x", kOk}, {"node-y", kOk}}});
  cases.push_back({"an empty labelSelector counts every pod of the namespace",
                   WithSpread(foo_pod(), {Spread(1, kNode, kHard, std::vector<std::string>{})}),
                   FourNodes(),
                   PodsOn({{"node-a", 1}, {"node-b", 1}, {"node-x", 1}}, /*matching=*/false),
                   {{"node-a", kNo}, {"node-b", kNo}, {"node-x", kNo}, {"node-y", kOk}}});
  return cases;
}

TEST(PodTopologySpreadFilter, Table) {
  for (FilterCase& tc : FilterCases()) {
    SCOPED_TRACE(tc.name);
    FakeHandle h;
    h.snapshot_ = Snapshot::FromObjects(tc.existing, tc.nodes);
    auto pl = NewPlugin(h);
    CycleState state;
    EXPECT_EQ(RunFilter(*pl, h, tc.pod, state), tc.want);
  }
}

TEST(PodTopologySpreadFilter, SkipsPodsWithoutHardConstraints) {
  FakeHandle h;
  h.snapshot_ = Snapshot::FromObjects({}, FourNodes());
  auto pl = NewPlugin(h);
  for (const corev1::Pod& pod :
       {MakePod("plain").Uid("plain").Obj(),
        WithSpread(MakePod("soft").Uid("soft").Label("foo", ""), {Spread(1, kZone, kSoft)})}) {
    CycleState state;
    PreFilterResult r;
    EXPECT_TRUE(pl->PreFilter(state, *Info(pod), h.snapshot_, &r).IsSkip());
  }
}

TEST(PodTopologySpreadFilter, BadSelectorIsAnError) {
  FakeHandle h;
  h.snapshot_ = Snapshot::FromObjects({}, FourNodes());
  auto pl = NewPlugin(h);
  corev1::TopologySpreadConstraint c = Spread(1, kZone, kHard);
  c.mutable_labelselector()->mutable_matchexpressions(0)->set_operator_("Bogus");
  CycleState state;
  PreFilterResult r;
  Verdict v = pl->PreFilter(state, *Info(WithSpread(MakePod("p").Uid("p"), {c})), h.snapshot_, &r);
  EXPECT_TRUE(v.IsError()) << v.String();
}

TEST(PodTopologySpreadFilter, FilterWithoutPreFilterIsAnError) {
  FakeHandle h;
  h.snapshot_ = Snapshot::FromObjects({}, FourNodes());
  auto pl = NewPlugin(h);
  CycleState state;
  EXPECT_TRUE(pl->Filter(state, *Info(MakePod("p").Uid("p")), *h.snapshot_.List()[0]).IsError());
}

TEST(PodTopologySpreadFilter, PreFilterStateHoldsCountsAndCriticalPaths) {
  FakeHandle h;
  h.snapshot_ = Snapshot::FromObjects(PodsOn({{"node-a", 2}, {"node-b", 1}, {"node-y", 3}}), FourNodes());
  auto pl = NewPlugin(h);
  CycleState state;
  PreFilterResult r;
  corev1::Pod pod =
      WithSpread(MakePod("p").Uid("p").Label("foo", ""), {Spread(1, kZone, kHard), Spread(1, kNode, kHard)});
  ASSERT_TRUE(pl->PreFilter(state, *Info(pod), h.snapshot_, &r).IsSuccess());
  const auto* s = state.ReadAs<PreFilterState>("PreFilterPodTopologySpread");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->MatchNumOf(0, "zone1"), 3);
  EXPECT_EQ(s->MatchNumOf(0, "zone2"), 3);
  EXPECT_EQ(s->NumDomains(0), 2);
  EXPECT_EQ(s->MatchNumOf(1, "node-x"), 0);
  EXPECT_EQ(s->MatchNumOf(1, "node-y"), 3);
  EXPECT_EQ(s->NumDomains(1), 4);
  EXPECT_EQ(s->CriticalPath(1, 0), (std::pair<std::string, int32_t>{"node-x", 0}));
  EXPECT_EQ(s->CriticalPath(1, 1).second, 1);
  EXPECT_EQ(s->MinMatchNum(0), 3);
}

// Preemption: AddPod/RemovePod on a clone change its counts and critical paths, not the original.
TEST(PodTopologySpreadFilter, AddPodAndRemovePodUpdateTheState) {
  FakeHandle h;
  h.snapshot_ = Snapshot::FromObjects(PodsOn({{"node-a", 1}, {"node-b", 1}, {"node-x", 1}, {"node-y", 2}}),
                                      FourNodes());
  auto pl = NewPlugin(h);
  CycleState state;
  PreFilterResult r;
  PodInfoPtr pod = Info(
      WithSpread(MakePod("p").Uid("p").Label("foo", ""), {Spread(1, kZone, kHard), Spread(1, kNode, kHard)}));
  ASSERT_TRUE(pl->PreFilter(state, *pod, h.snapshot_, &r).IsSuccess());
  NodeInfo* a = h.snapshot_.Get("node-a");
  NodeInfo* x = h.snapshot_.Get("node-x");
  NodeInfo* y = h.snapshot_.Get("node-y");
  // zones 2/3, nodes 1/1/1/2: zone2 nodes fail (3+1-2 = 2), node-a fits.
  EXPECT_EQ(pl->Filter(state, *pod, *a).code(), kOk);
  EXPECT_EQ(pl->Filter(state, *pod, *x).code(), kNo);

  std::unique_ptr<CycleState> clone = state.Clone();
  // Remove one of node-y's pods: zones 2/2, nodes 1/1/1/1 -> node-x fits on the clone.
  PodInfoPtr victim = h.snapshot_.Get("node-y")->pods()[0];
  ASSERT_TRUE(pl->RemovePod(*clone, *pod, victim, *y).IsSuccess());
  const auto* cs = clone->ReadAs<PreFilterState>("PreFilterPodTopologySpread");
  EXPECT_EQ(cs->MatchNumOf(0, "zone2"), 2);
  EXPECT_EQ(cs->MatchNumOf(1, "node-y"), 1);
  EXPECT_EQ(pl->Filter(*clone, *pod, *x).code(), kOk);
  // The original is untouched.
  const auto* os = state.ReadAs<PreFilterState>("PreFilterPodTopologySpread");
  EXPECT_EQ(os->MatchNumOf(0, "zone2"), 3);
  EXPECT_EQ(pl->Filter(state, *pod, *x).code(), kNo);

  // Add two matching pods to node-a: zones 4/2, node-a 3 -> node-a now fails, node-x fits.
  ASSERT_TRUE(pl->AddPod(*clone, *pod, Info(Existing("n1", "node-a")), *a).IsSuccess());
  ASSERT_TRUE(pl->AddPod(*clone, *pod, Info(Existing("n2", "node-a")), *a).IsSuccess());
  EXPECT_EQ(cs->MatchNumOf(0, "zone1"), 4);
  EXPECT_EQ(cs->MatchNumOf(1, "node-a"), 3);
  EXPECT_EQ(cs->CriticalPath(0, 0), (std::pair<std::string, int32_t>{"zone2", 2}));
  EXPECT_EQ(pl->Filter(*clone, *pod, *a).code(), kNo);
  EXPECT_EQ(pl->Filter(*clone, *pod, *x).code(), kOk);

  // Pods of another namespace or not matching the selector change nothing.
  ASSERT_TRUE(pl->AddPod(*clone, *pod,
                         Info(MakePod("o").Uid("o").Namespace("other").Label("foo", "").Node("node-x")), *x)
                  .IsSuccess());
  ASSERT_TRUE(pl->AddPod(*clone, *pod, Info(Existing("nm", "node-x", false)), *x).IsSuccess());
  EXPECT_EQ(cs->MatchNumOf(0, "zone2"), 2);
}

TEST(PodTopologySpreadFilter, AddPodOnANodeOutsideTheSnapshotAddsADomain) {
  FakeHandle h;
  h.snapshot_ = Snapshot::FromObjects(PodsOn({{"node-a", 1}, {"node-x", 1}}), FourNodes());
  auto pl = NewPlugin(h);
  CycleState state;
  PreFilterResult r;
  PodInfoPtr pod =
      Info(WithSpread(MakePod("p").Uid("p").Label("foo", ""), {WithMinDomains(Spread(1, kZone, kHard), 3)}));
  ASSERT_TRUE(pl->PreFilter(state, *pod, h.snapshot_, &r).IsSuccess());
  // Two domains < minDomains 3: minimum 0, every node fails (1 + 1 - 0 > 1).
  EXPECT_EQ(pl->Filter(state, *pod, *h.snapshot_.Get("node-b")).code(), kNo);
  NodeInfo outside(std::make_shared<const corev1::Node>(ZoneNode("node-z", "zone3")));
  ASSERT_TRUE(pl->AddPod(state, *pod, Info(Existing("z1", "node-z")), outside).IsSuccess());
  const auto* s = state.ReadAs<PreFilterState>("PreFilterPodTopologySpread");
  EXPECT_EQ(s->NumDomains(0), 3);
  EXPECT_EQ(s->MatchNumOf(0, "zone3"), 1);
  // Three domains with 1 each: minimum 1, everything fits, including the new node (looked up by label).
  EXPECT_EQ(pl->Filter(state, *pod, *h.snapshot_.Get("node-b")).code(), kOk);
  EXPECT_EQ(pl->Filter(state, *pod, outside).code(), kOk);
}

// A NodeInfo copy (what preemption filters) gives the same verdicts as the snapshot's own.
TEST(PodTopologySpreadFilter, CopiesOfSnapshotNodesAreLookedUpByLabel) {
  FakeHandle h;
  std::vector<corev1::Node> nodes = FourNodes();
  nodes.push_back(MakeNode("node-nolabel"));
  h.snapshot_ = Snapshot::FromObjects(PodsOn({{"node-a", 2}, {"node-b", 1}, {"node-y", 3}}), nodes);
  auto pl = NewPlugin(h);
  CycleState state;
  PodInfoPtr pod = Info(
      WithSpread(MakePod("p").Uid("p").Label("foo", ""), {Spread(1, kZone, kHard), Spread(1, kNode, kHard)}));
  auto want = RunFilter(*pl, h, *pod->pod, state);
  for (const auto& n : h.snapshot_.List()) {
    std::shared_ptr<NodeInfo> copy = n->Clone();
    EXPECT_EQ(pl->Filter(state, *pod, *copy).code(), want[n->name()]) << n->name();
  }
}

// ---- Score ----

struct ScoreCase {
  std::string name;
  corev1::Pod pod;
  std::vector<corev1::Node> nodes;
  std::vector<corev1::Pod> existing;
  std::vector<std::string> feasible;  // empty: every node
  std::map<std::string, int64_t> want;
  std::map<std::string, int64_t> want_raw = {};  // Score's answers before NormalizeScore (empty: unchecked)
};

// Runs PreScore, Score and NormalizeScore over `feasible`; nullopt when PreScore skipped.
std::optional<std::map<std::string, int64_t>> RunScore(PodTopologySpread& pl, FakeHandle& h,
                                                       const corev1::Pod& pod,
                                                       std::vector<std::string> feasible,
                                                       std::map<std::string, int64_t>* raw = nullptr) {
  if (feasible.empty()) {
    for (const auto& n : h.snapshot_.List()) feasible.push_back(n->name());
  }
  std::vector<const NodeInfo*> nodes;
  for (const auto& name : feasible) nodes.push_back(h.snapshot_.Get(name));
  PodInfoPtr info = Info(pod);
  CycleState state;
  Verdict pre = pl.PreScore(state, *info, nodes);
  if (pre.IsSkip()) return std::nullopt;
  EXPECT_TRUE(pre.IsSuccess()) << pre.String();
  std::vector<NodeScore> scores;
  for (const NodeInfo* n : nodes) {
    int64_t s = -1;
    EXPECT_TRUE(pl.Score(state, *info, *n, &s).IsSuccess());
    if (raw != nullptr) (*raw)[n->name()] = s;
    scores.push_back(NodeScore{n->name(), s});
  }
  EXPECT_TRUE(pl.NormalizeScore(state, *info, scores).IsSuccess());
  std::map<std::string, int64_t> out;
  for (const auto& s : scores) out[s.name] = s.score;
  return out;
}

std::vector<ScoreCase> ScoreCases() {
  auto foo_pod = [] { return MakePod("p").Uid("p").Label("foo", "").Obj(); };
  std::vector<ScoreCase> cases;
  cases.push_back({"no existing pods: every node scores 100",
                   WithSpread(foo_pod(), {Spread(1, kNode, kSoft)}),
                   FourNodes(),
                   {},
                   {},
                   {{"node-a", 100}, {"node-b", 100}, {"node-x", 100}, {"node-y", 100}}});
  cases.push_back({"the same count everywhere: every node scores 100",
                   WithSpread(foo_pod(), {Spread(1, kNode, kSoft)}),
                   FourNodes(),
                   PodsOn({{"node-a", 1}, {"node-b", 1}, {"node-x", 1}, {"node-y", 1}}),
                   {},
                   {{"node-a", 100}, {"node-b", 100}, {"node-x", 100}, {"node-y", 100}}});
  // hostname weight log(4+2): raw a=round(2*1.79)=4, b=2, x=0, y=round(3*1.79)=5;
  // normalized 100*(5+0-s)/5.
  cases.push_back({"one hostname constraint over 4 candidates (2/1/0/3)",
                   WithSpread(foo_pod(), {Spread(1, kNode, kSoft)}),
                   FourNodes(),
                   PodsOn({{"node-a", 2}, {"node-b", 1}, {"node-y", 3}}),
                   {},
                   {{"node-a", 20}, {"node-b", 60}, {"node-x", 100}, {"node-y", 0}},
                   {{"node-a", 4}, {"node-b", 2}, {"node-x", 0}, {"node-y", 5}}});
  // Only node-a and node-y are candidates: weight log(2+2); raw a=round(2*1.386)=3, y=round(4.16)=4;
  // normalized a=100*(4+3-3)/4=100, y=100*3/4=75.
  cases.push_back({"one hostname constraint over 2 of 4 candidates",
                   WithSpread(foo_pod(), {Spread(1, kNode, kSoft)}),
                   FourNodes(),
                   PodsOn({{"node-a", 2}, {"node-b", 1}, {"node-y", 3}}),
                   {"node-a", "node-y"},
                   {{"node-a", 100}, {"node-y", 75}}});
  // zone weight log(2+2)=1.386; zone1 has 3, zone2 4: raw zone1=round(4.16)=4, zone2=round(5.55)=6;
  // normalized zone1=100*(6+4-4)/6=100, zone2=100*4/6=66.
  cases.push_back({"one zone constraint",
                   WithSpread(foo_pod(), {Spread(1, kZone, kSoft)}),
                   FourNodes(),
                   PodsOn({{"node-a", 1}, {"node-b", 2}, {"node-x", 4}}),
                   {},
                   {{"node-a", 100}, {"node-b", 100}, {"node-x", 66}, {"node-y", 66}}});
  // Counting covers every node even when only zone2's node-x is a candidate: zone2 has 4 pods
  // (x=1, y=3); weight log(1+2). raw x = round(4*1.0986 + maxSkew 2 - 1) = round(5.39) = 5 -> 100.
  cases.push_back({"counts include pods on nodes that are not candidates",
                   WithSpread(foo_pod(), {Spread(2, kZone, kSoft)}),
                   FourNodes(),
                   PodsOn({{"node-a", 9}, {"node-x", 1}, {"node-y", 3}}),
                   {"node-x"},
                   {{"node-x", 100}},
                   {{"node-x", 5}}});
  // Two constraints: zone (log 4 = 1.386) and node (log 6 = 1.792), maxSkew 1.
  // zone1 = 3 pods, zone2 = 3 pods; nodes a=2, b=1, x=0, y=3.
  // raw a = 3*1.386 + 2*1.792 = 7.75 -> 8; b = 4.16+1.79 = 5.95 -> 6; x = 4.16 -> 4; y = 4.16+5.38 = 9.53
  // -> 10. normalized: 100*(10+4-s)/10 -> a 60, b 80, x 100, y 40.
  cases.push_back({"zone and hostname constraints",
                   WithSpread(foo_pod(), {Spread(1, kZone, kSoft), Spread(1, kNode, kSoft)}),
                   FourNodes(),
                   PodsOn({{"node-a", 2}, {"node-b", 1}, {"node-y", 3}}),
                   {},
                   {{"node-a", 60}, {"node-b", 80}, {"node-x", 100}, {"node-y", 40}},
                   {{"node-a", 8}, {"node-b", 6}, {"node-x", 4}, {"node-y", 10}}});
  // node-b lacks the zone key: ignored (0). Others: zone1 = {a:1} ... weight log(2+2).
  // raw a = round(1*1.386) = 1, x = round(2*1.386) = 3, y = 3; normalized 100*(3+1-s)/3: a 100, x/y 33.
  cases.push_back({"nodes missing a topology key are ignored and score 0",
                   WithSpread(foo_pod(), {Spread(1, kZone, kSoft)}),
                   {ZoneNode("node-a", "zone1"), MakeNode("node-b").Label(kNode, "node-b"),
                    ZoneNode("node-x", "zone2"), ZoneNode("node-y", "zone2")},
                   PodsOn({{"node-a", 1}, {"node-b", 5}, {"node-x", 2}}),
                   {},
                   {{"node-a", 100}, {"node-b", 0}, {"node-x", 33}, {"node-y", 33}}});
  // nodeTaintsPolicy Honor on zones: node-y (zone2) is tainted and its 5 pods are not counted.
  {
    std::vector<corev1::Node> nodes = {
        ZoneNode("node-a", "zone1"), ZoneNode("node-b", "zone1"), ZoneNode("node-x", "zone2"),
        MakeNode("node-y").Label(kZone, "zone2").Label(kNode, "node-y").Taint("k", "v", "NoExecute")};
    auto pods = PodsOn({{"node-a", 2}, {"node-x", 1}, {"node-y", 5}});
    // Honor: zone1 = 2, zone2 = 1: raw 3, 1 -> a,b 100*(3+1-3)/3 = 33, x,y 100.
    cases.push_back({"nodeTaintsPolicy Honor leaves tainted nodes' pods out",
                     WithSpread(foo_pod(), {WithPolicies(Spread(1, kZone, kSoft), "", "Honor")}),
                     nodes,
                     pods,
                     {"node-a", "node-b", "node-x"},
                     {{"node-a", 33}, {"node-b", 33}, {"node-x", 100}}});
    // Ignore: zone2 = 6: raw zone1 = 3, zone2 = round(8.3) = 8 -> zone1 100*(8+3-3)/8 = 100, zone2 37.
    cases.push_back({"nodeTaintsPolicy Ignore counts them",
                     WithSpread(foo_pod(), {Spread(1, kZone, kSoft)}),
                     nodes,
                     pods,
                     {"node-a", "node-b", "node-x"},
                     {{"node-a", 100}, {"node-b", 100}, {"node-x", 37}}});
  }
  return cases;
}

TEST(PodTopologySpreadScore, Table) {
  for (ScoreCase& tc : ScoreCases()) {
    SCOPED_TRACE(tc.name);
    FakeHandle h;
    h.snapshot_ = Snapshot::FromObjects(tc.existing, tc.nodes);
    auto pl = NewPlugin(h);
    std::map<std::string, int64_t> raw;
    auto got = RunScore(*pl, h, tc.pod, tc.feasible, &raw);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, tc.want);
    if (!tc.want_raw.empty()) {
      EXPECT_EQ(raw, tc.want_raw);
    }
  }
}

TEST(PodTopologySpreadScore, RawScoresFollowTheWeightedFormula) {
  FakeHandle h;
  h.snapshot_ = Snapshot::FromObjects(PodsOn({{"node-a", 2}, {"node-b", 1}, {"node-y", 3}}), FourNodes());
  auto pl = NewPlugin(h);
  std::map<std::string, int64_t> raw;
  ASSERT_TRUE(RunScore(*pl, h,
                       WithSpread(MakePod("p").Uid("p").Label("foo", ""),
                                  {Spread(3, kZone, kSoft), Spread(1, kNode, kSoft)}),
                       {}, &raw)
                  .has_value());
  const double wz = std::log(4.0), wn = std::log(6.0);
  auto expect = [&](int zone_count, int node_count) {
    return static_cast<int64_t>(std::round(zone_count * wz + 2 + node_count * wn));
  };
  EXPECT_EQ(raw["node-a"], expect(3, 2));
  EXPECT_EQ(raw["node-b"], expect(3, 1));
  EXPECT_EQ(raw["node-x"], expect(3, 0));
  EXPECT_EQ(raw["node-y"], expect(3, 3));
}

TEST(PodTopologySpreadScore, SkipsPodsWithoutSoftConstraints) {
  FakeHandle h;
  h.snapshot_ = Snapshot::FromObjects({}, FourNodes());
  auto pl = NewPlugin(h);
  EXPECT_FALSE(
      RunScore(*pl, h, WithSpread(MakePod("p").Uid("p"), {Spread(1, kZone, kHard)}), {}).has_value());
  // System defaults with nothing selecting the pod: no default constraints either.
  EXPECT_FALSE(RunScore(*pl, h, MakePod("q").Uid("q").Label("app", "web"), {}).has_value());
}

// A copy of a scored node (not the pointer PreScore saw) scores the same.
TEST(PodTopologySpreadScore, UnindexedNodesScoreTheSame) {
  FakeHandle h;
  h.snapshot_ = Snapshot::FromObjects(
      PodsOn({{"node-a", 2}, {"node-b", 1}, {"node-y", 3}}),
      {ZoneNode("node-a", "zone1"), ZoneNode("node-b", "zone1"), ZoneNode("node-x", "zone2"),
       ZoneNode("node-y", "zone2"), MakeNode("node-n").Label(kNode, "node-n")});
  auto pl = NewPlugin(h);
  PodInfoPtr pod = Info(
      WithSpread(MakePod("p").Uid("p").Label("foo", ""), {Spread(1, kZone, kSoft), Spread(1, kNode, kSoft)}));
  std::vector<const NodeInfo*> nodes;
  for (const auto& n : h.snapshot_.List()) nodes.push_back(n.get());
  CycleState state;
  ASSERT_TRUE(pl->PreScore(state, *pod, nodes).IsSuccess());
  for (const NodeInfo* n : nodes) {
    int64_t direct = -1, copied = -2;
    ASSERT_TRUE(pl->Score(state, *pod, *n, &direct).IsSuccess());
    ASSERT_TRUE(pl->Score(state, *pod, *n->Clone(), &copied).IsSuccess());
    EXPECT_EQ(direct, copied) << n->name();
  }
}

// ---- default constraints ----

std::shared_ptr<const corev1::Service> ServiceSelecting(const std::string& name, const std::string& ns,
                                                        std::map<std::string, std::string> selector) {
  auto svc = std::make_shared<corev1::Service>();
  svc->mutable_metadata()->set_name(name);
  svc->mutable_metadata()->set_namespace_(ns);
  for (auto& [k, v] : selector) (*svc->mutable_spec()->mutable_selector())[k] = v;
  return svc;
}

// System defaults: hostname maxSkew 3 and zone maxSkew 5, ScheduleAnyway, selector app=web from
// the Service. Nodes use the well-known labels; node-n has no zone label but still gets hostname
// spreading (system defaults do not require every key).
TEST(PodTopologySpreadDefaults, SystemDefaultsUseTheServiceSelector) {
  FakeHandle h;
  client::Indexer services;
  services.Add(ServiceSelecting("web", "default", {{"app", "web"}}));
  services.Add(ServiceSelecting("other-ns", "other", {{"app", "web"}, {"tier", "x"}}));
  services.Add(ServiceSelecting("no-match", "default", {{"app", "db"}}));
  h.listers_.services = &services;
  auto wk = [](const std::string& name, const std::string& zone) {
    auto b = MakeNode(name).Label(kHostname, name);
    if (!zone.empty()) b.Label(kTopologyZone, zone);
    return corev1::Node(b);
  };
  std::vector<corev1::Pod> pods;
  auto web = [](const std::string& name, const std::string& node) {
    return corev1::Pod(MakePod(name).Uid(name).Label("app", "web").Node(node));
  };
  pods = {web("w1", "n1"), web("w2", "n1"), web("w3", "n2"),
          MakePod("db").Uid("db").Label("app", "db").Node("n3")};
  h.snapshot_ = Snapshot::FromObjects(pods, {wk("n1", "z1"), wk("n2", "z1"), wk("n3", "z2"), wk("nn", "")});
  auto pl = NewPlugin(h);
  ASSERT_TRUE(pl->system_defaulted());
  corev1::Pod pod = MakePod("p").Uid("p").Label("app", "web");

  api::LabelSelector sel = pl->DefaultSelector(pod);
  EXPECT_EQ(sel.String(), "app=web");
  std::map<std::string, int64_t> raw;
  auto got = RunScore(*pl, h, pod, {}, &raw);
  ASSERT_TRUE(got.has_value());
  // Weights: hostname log(4+2); zone domains among candidates z1, z2 and "" (nn) -> log(3+2).
  const double wh = std::log(6.0), wz = std::log(5.0);
  EXPECT_EQ(raw["n1"], static_cast<int64_t>(std::round(2 * wh + 2 + 3 * wz + 4)));
  EXPECT_EQ(raw["n2"], static_cast<int64_t>(std::round(1 * wh + 2 + 3 * wz + 4)));
  EXPECT_EQ(raw["n3"], static_cast<int64_t>(std::round(0 * wh + 2 + 0 * wz + 4)));
  EXPECT_EQ(raw["nn"], static_cast<int64_t>(std::round(0 * wh + 2)));  // no zone label: hostname only
  EXPECT_EQ((*got)["nn"], 100);
  EXPECT_LT((*got)["n1"], (*got)["n2"]);
  // System defaults are all ScheduleAnyway: the filter half skips.
  CycleState state;
  PreFilterResult r;
  EXPECT_TRUE(pl->PreFilter(state, *Info(pod), h.snapshot_, &r).IsSkip());
  // A pod with its own constraints ignores the defaults.
  EXPECT_FALSE(RunScore(*pl, h, WithSpread(pod, {Spread(1, kZone, kHard)}), {}).has_value());
}

TEST(PodTopologySpreadDefaults, SelectorFromControllers) {
  FakeHandle h;
  client::Indexer services, rcs, rss, sss;
  services.Add(ServiceSelecting("web", "default", {{"app", "web"}}));
  auto rc = std::make_shared<corev1::ReplicationController>();
  rc->mutable_metadata()->set_name("rc");
  rc->mutable_metadata()->set_namespace_("default");
  (*rc->mutable_spec()->mutable_selector())["rc"] = "1";
  rcs.Add(rc);
  auto rs = std::make_shared<appsv1::ReplicaSet>();
  rs->mutable_metadata()->set_name("rs");
  rs->mutable_metadata()->set_namespace_("default");
  auto* e = rs->mutable_spec()->mutable_selector()->add_matchexpressions();
  e->set_key("track");
  e->set_operator_("In");
  e->add_values("stable");
  rss.Add(rs);
  auto ss = std::make_shared<appsv1::StatefulSet>();
  ss->mutable_metadata()->set_name("ss");
  ss->mutable_metadata()->set_namespace_("default");
  (*ss->mutable_spec()->mutable_selector()->mutable_matchlabels())["ss"] = "db";
  sss.Add(ss);
  h.listers_ = Listers{
      .services = &services, .replication_controllers = &rcs, .replica_sets = &rss, .stateful_sets = &sss};
  auto pl = NewPlugin(h);

  auto base = [] {
    return MakePod("p")
        .Uid("p")
        .Label("app", "web")
        .Label("rc", "1")
        .Label("track", "stable")
        .Label("ss", "db");
  };
  EXPECT_EQ(pl->DefaultSelector(base()).String(), "app=web");
  EXPECT_EQ(pl->DefaultSelector(base().OwnerRef("ReplicationController", "rc", "u1")).String(),
            "app=web,rc=1");
  EXPECT_EQ(pl->DefaultSelector(base().OwnerRef("ReplicaSet", "rs", "u2")).String(),
            "app=web,track in (stable)");
  EXPECT_EQ(pl->DefaultSelector(base().OwnerRef("StatefulSet", "ss", "u3")).String(), "app=web,ss=db");
  // An owner the listers do not know, or a non-controller reference, adds nothing.
  EXPECT_EQ(pl->DefaultSelector(base().OwnerRef("ReplicaSet", "gone", "u4")).String(), "app=web");
  EXPECT_EQ(pl->DefaultSelector(base().OwnerRef("ReplicaSet", "rs", "u5", /*controller=*/false)).String(),
            "app=web");
  // No Service selects a pod of another namespace.
  EXPECT_TRUE(pl->DefaultSelector(base().Namespace("other")).Empty());
}

TEST(PodTopologySpreadDefaults, ListDefaultsFilterWithTheDeducedSelector) {
  FakeHandle h;
  client::Indexer services;
  services.Add(ServiceSelecting("web", "default", {{"app", "web"}}));
  h.listers_.services = &services;
  std::vector<corev1::Node> nodes = FourNodes();
  std::vector<corev1::Pod> pods;
  for (const char* n : {"node-a", "node-a", "node-b"}) {
    std::string name = std::string("w") + std::to_string(pods.size());
    pods.push_back(MakePod(name).Uid(name).Label("app", "web").Node(n));
  }
  h.snapshot_ = Snapshot::FromObjects(pods, nodes);
  auto pl = NewPlugin(h, R"(
defaultingType: List
defaultConstraints:
- maxSkew: 1
  topologyKey: zone
  whenUnsatisfiable: DoNotSchedule
)");
  ASSERT_FALSE(pl->system_defaulted());
  CycleState state;
  // zone1 = 3, zone2 = 0 with selector app=web: only zone2 fits.
  EXPECT_EQ(RunFilter(*pl, h, MakePod("p").Uid("p").Label("app", "web"), state),
            (std::map<std::string, VerdictCode>{
                {"node-a", kNo}, {"node-b", kNo}, {"node-x", kOk}, {"node-y", kOk}}));
  // A pod no Service selects gets no default constraints.
  CycleState state2;
  PreFilterResult r;
  EXPECT_TRUE(
      pl->PreFilter(state2, *Info(MakePod("q").Uid("q").Label("app", "other")), h.snapshot_, &r).IsSkip());
  // List defaults require every key for scoring too: none here are ScheduleAnyway.
  EXPECT_FALSE(RunScore(*pl, h, MakePod("p").Uid("p").Label("app", "web"), {}).has_value());
}

// ---- args ----

TEST(PodTopologySpreadArgsTest, ParsesAndDefaults) {
  auto parsed = ParsePodTopologySpreadArgs(YAML::Node());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->defaulting_type, "System");
  parsed = ParsePodTopologySpreadArgs(YAML::Load(R"(
kind: PodTopologySpreadArgs
apiVersion: kubescheduler.config.k8s.io/v1
defaultingType: List
defaultConstraints:
- {maxSkew: 2, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway, minDomains: 2,
   nodeAffinityPolicy: Ignore, nodeTaintsPolicy: Honor, matchLabelKeys: [version]}
)"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_EQ(parsed->default_constraints.size(), 1);
  const auto& c = parsed->default_constraints[0];
  EXPECT_EQ(c.maxskew(), 2);
  EXPECT_EQ(c.mindomains(), 2);
  EXPECT_EQ(c.nodeaffinitypolicy(), "Ignore");
  EXPECT_EQ(c.nodetaintspolicy(), "Honor");
  EXPECT_EQ(c.matchlabelkeys(0), "version");
  // List with no constraints is valid (no defaults at all).
  EXPECT_TRUE(ParsePodTopologySpreadArgs(YAML::Load("defaultingType: List")).ok());
}

TEST(PodTopologySpreadArgsTest, ValidationErrorsNameTheField) {
  struct Case {
    std::string yaml;
    std::string want;
  };
  std::vector<Case> cases = {
      {"defaultConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]",
       "PodTopologySpreadArgs: defaultingType: Invalid value: \"System\": when .defaultConstraints are not "
       "empty"},
      {"defaultingType: Foo",
       "PodTopologySpreadArgs: defaultingType: Unsupported value: \"Foo\": supported values: \"System\", "
       "\"List\""},
      {"defaultingType: List\ndefaultConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: "
       "DoNotSchedule, "
       "labelSelector: {matchLabels: {a: b}}}]",
       "PodTopologySpreadArgs: defaultConstraints[0].labelSelector: Forbidden: constraint must not define a "
       "selector, as they "
       "deduced for each pod"},
      {"defaultingType: List\ndefaultConstraints: [{maxSkew: 0, topologyKey: zone, whenUnsatisfiable: "
       "DoNotSchedule}]",
       "PodTopologySpreadArgs: defaultConstraints[0].maxSkew: Invalid value: 0: not in valid range (0, inf)"},
      {"defaultingType: List\ndefaultConstraints: [{maxSkew: 1, whenUnsatisfiable: DoNotSchedule}]",
       "PodTopologySpreadArgs: defaultConstraints[0].topologyKey: Required value: can not be empty"},
      {"defaultingType: List\ndefaultConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: "
       "Sometimes}]",
       "PodTopologySpreadArgs: defaultConstraints[0].whenUnsatisfiable: Unsupported value: \"Sometimes\": "
       "supported values: "
       "\"DoNotSchedule\", \"ScheduleAnyway\""},
      {"defaultingType: List\ndefaultConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: "
       "DoNotSchedule}, "
       "{maxSkew: 3, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]",
       "PodTopologySpreadArgs: defaultConstraints[1]: Duplicate value: \"{zone, DoNotSchedule}\""},
      {"defaultingType: List\ndefaultConstraints: [{maxSkew: 0, topologyKey: zone}]",
       "PodTopologySpreadArgs: [defaultConstraints[0].maxSkew: Invalid value: 0: not in valid range (0, "
       "inf), "
       "defaultConstraints[0].whenUnsatisfiable: Required value: can not be empty]"},
      {"defaultingtype: List",
       "PodTopologySpreadArgs: strict decoding error: unknown field \"defaultingtype\""},
      {"defaultingType: List\ndefaultConstraints: [{maxSkew: many, topologyKey: zone, whenUnsatisfiable: "
       "DoNotSchedule}]",
       "PodTopologySpreadArgs: defaultConstraints[0].maxSkew: cannot decode"},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.yaml);
    auto parsed = ParsePodTopologySpreadArgs(YAML::Load(tc.yaml));
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), Code::kInvalid);
    EXPECT_EQ(parsed.status().message().substr(0, tc.want.size()), tc.want);
  }
  FakeHandle h;
  EXPECT_FALSE(NewPodTopologySpread(YAML::Load("defaultingType: Foo"), h).ok());
}

// ---- events ----

TEST(PodTopologySpreadEvents, RegistersPodAndNodeChanges) {
  FakeHandle h;
  auto pl = NewPlugin(h);
  std::vector<ClusterEvent> events = pl->EventsToRegister();
  auto covered = [&](EventResource r, uint32_t action) {
    ClusterEvent happened{r, action, ""};
    return std::any_of(events.begin(), events.end(),
                       [&](const ClusterEvent& e) { return e.Covers(happened); });
  };
  for (EventResource r : {EventResource::kPod, EventResource::kAssignedPod}) {
    EXPECT_TRUE(covered(r, kActionAdd));
    EXPECT_TRUE(covered(r, kActionDelete));
    EXPECT_TRUE(covered(r, kActionUpdatePodLabel));
    EXPECT_FALSE(covered(r, kActionUpdatePodScaleDown));
  }
  EXPECT_TRUE(covered(EventResource::kNode, kActionAdd));
  EXPECT_TRUE(covered(EventResource::kNode, kActionDelete));
  EXPECT_TRUE(covered(EventResource::kNode, kActionUpdateNodeLabel));
  EXPECT_TRUE(covered(EventResource::kNode, kActionUpdateNodeTaint));
  EXPECT_FALSE(covered(EventResource::kNode, kActionUpdateNodeAllocatable));
  EXPECT_FALSE(covered(EventResource::kService, kActionAdd));
}

// ---- node matching helpers ----

TEST(PodTopologySpreadNodeMatching, RequiredNodeAffinity) {
  using podtopologyspread_internal::RequiredNodeAffinity;
  corev1::Node node = MakeNode("n1").Label("zone", "z1").Label("gen", "5");
  auto with_term = [](std::vector<std::tuple<std::string, std::string, std::vector<std::string>>> exprs,
                      bool fields = false) {
    corev1::Pod pod = MakePod("p");
    auto* term = pod.mutable_spec()
                     ->mutable_affinity()
                     ->mutable_nodeaffinity()
                     ->mutable_requiredduringschedulingignoredduringexecution()
                     ->add_nodeselectorterms();
    for (auto& [k, op, vals] : exprs) {
      auto* e = fields ? term->add_matchfields() : term->add_matchexpressions();
      e->set_key(k);
      e->set_operator_(op);
      for (auto& v : vals) e->add_values(v);
    }
    return pod;
  };
  EXPECT_TRUE(RequiredNodeAffinity(MakePod("p")).Matches(node));
  EXPECT_TRUE(RequiredNodeAffinity(MakePod("p").NodeSelector("zone", "z1")).Matches(node));
  EXPECT_FALSE(RequiredNodeAffinity(MakePod("p").NodeSelector("zone", "z2")).Matches(node));
  EXPECT_TRUE(RequiredNodeAffinity(with_term({{"zone", "In", {"z1", "z2"}}})).Matches(node));
  EXPECT_FALSE(RequiredNodeAffinity(with_term({{"zone", "NotIn", {"z1"}}})).Matches(node));
  EXPECT_TRUE(RequiredNodeAffinity(with_term({{"gen", "Gt", {"4"}}})).Matches(node));
  EXPECT_FALSE(RequiredNodeAffinity(with_term({{"gen", "Lt", {"4"}}})).Matches(node));
  EXPECT_TRUE(RequiredNodeAffinity(with_term({{"gpu", "DoesNotExist", {}}})).Matches(node));
  EXPECT_FALSE(RequiredNodeAffinity(with_term({{"zone", "Bogus", {}}})).Matches(node));
  EXPECT_TRUE(RequiredNodeAffinity(with_term({{"metadata.name", "In", {"n1"}}}, true)).Matches(node));
  EXPECT_FALSE(RequiredNodeAffinity(with_term({{"metadata.name", "NotIn", {"n1"}}}, true)).Matches(node));
  EXPECT_FALSE(RequiredNodeAffinity(with_term({{"metadata.name", "In", {"n1", "n2"}}}, true)).Matches(node));
  // A present but empty required selector matches nothing; an empty term is skipped.
  corev1::Pod empty = MakePod("p");
  empty.mutable_spec()
      ->mutable_affinity()
      ->mutable_nodeaffinity()
      ->mutable_requiredduringschedulingignoredduringexecution();
  EXPECT_FALSE(RequiredNodeAffinity(empty).Matches(node));
  // Terms are ORed: a bad term does not stop a good one.
  corev1::Pod two = with_term({{"zone", "Bogus", {}}});
  auto* good = two.mutable_spec()
                   ->mutable_affinity()
                   ->mutable_nodeaffinity()
                   ->mutable_requiredduringschedulingignoredduringexecution()
                   ->add_nodeselectorterms()
                   ->add_matchexpressions();
  good->set_key("zone");
  good->set_operator_("Exists");
  EXPECT_TRUE(RequiredNodeAffinity(two).Matches(node));
}

TEST(PodTopologySpreadNodeMatching, Taints) {
  using podtopologyspread_internal::HasUntoleratedDoNotScheduleTaint;
  corev1::Node node =
      MakeNode("n").Taint("dedicated", "gpu", "NoSchedule").Taint("soft", "", "PreferNoSchedule");
  auto tolerations = [](corev1::Pod p) { return p.spec().tolerations(); };
  EXPECT_TRUE(HasUntoleratedDoNotScheduleTaint(node, tolerations(MakePod("p"))));
  EXPECT_FALSE(HasUntoleratedDoNotScheduleTaint(
      node, tolerations(MakePod("p").Toleration("dedicated", "Equal", "gpu", "NoSchedule"))));
  EXPECT_FALSE(HasUntoleratedDoNotScheduleTaint(
      node, tolerations(MakePod("p").Toleration("dedicated", "Exists", "", ""))));
  EXPECT_FALSE(
      HasUntoleratedDoNotScheduleTaint(node, tolerations(MakePod("p").Toleration("", "Exists", "", ""))));
  EXPECT_TRUE(HasUntoleratedDoNotScheduleTaint(
      node, tolerations(MakePod("p").Toleration("dedicated", "Equal", "cpu", "NoSchedule"))));
  EXPECT_TRUE(HasUntoleratedDoNotScheduleTaint(
      node, tolerations(MakePod("p").Toleration("dedicated", "Exists", "", "NoExecute"))));
}

TEST(PodTopologySpreadTables, NodeIndexAndValueIntern) {
  using podtopologyspread_internal::NodeIndex;
  using podtopologyspread_internal::ValueIntern;
  std::vector<NodeInfo> infos(500);
  NodeIndex idx;
  idx.Reset(infos.size());
  for (size_t i = 0; i < infos.size(); ++i) idx.Insert(&infos[i], static_cast<int32_t>(i));
  for (size_t i = 0; i < infos.size(); ++i) EXPECT_EQ(idx.Find(&infos[i]), static_cast<int32_t>(i));
  NodeInfo other;
  EXPECT_EQ(idx.Find(&other), -1);

  ValueIntern intern;
  EXPECT_EQ(intern.Intern("zone1"), 0);
  EXPECT_EQ(intern.Intern("zone2"), 1);
  EXPECT_EQ(intern.Intern("zone1"), 0);
  EXPECT_EQ(intern.Find("zone2"), 1);
  EXPECT_EQ(intern.Find("zone3"), -1);
  EXPECT_EQ(intern.Intern(""), 2);
  EXPECT_EQ(intern.Value(1), "zone2");
  EXPECT_EQ(intern.size(), 3u);
}

// ---- node facts kept across cycles ----

// One plugin over several cycles: counts follow pods added to and removed from a node, a node's
// relabelling, and a reordered node list; a state of an earlier cycle keeps its own answers.
TEST(PodTopologySpreadCache, CyclesSeeNodeChanges) {
  FakeHandle h;
  h.snapshot_ = Snapshot::FromObjects(PodsOn({{"node-a", 1}, {"node-x", 1}}), FourNodes());
  auto pl = NewPlugin(h);
  PodInfoPtr pod = Info(
      WithSpread(MakePod("p").Uid("p").Label("foo", ""), {Spread(1, kZone, kHard), Spread(1, kNode, kHard)}));
  auto prefilter = [&](CycleState& state) {
    PreFilterResult r;
    EXPECT_TRUE(pl->PreFilter(state, *pod, h.snapshot_, &r).IsSuccess());
    return state.ReadAs<PreFilterState>("PreFilterPodTopologySpread");
  };
  CycleState c1;
  const auto* s1 = prefilter(c1);
  EXPECT_EQ(s1->MatchNumOf(0, "zone1"), 1);
  EXPECT_EQ(s1->MatchNumOf(1, "node-x"), 1);
  EXPECT_EQ(pl->Filter(c1, *pod, *h.snapshot_.Get("node-b")).code(), kOk);

  // Two more matching pods on node-x.
  h.snapshot_.Get("node-x")->AddPod(Info(Existing("x2", "node-x")));
  h.snapshot_.Get("node-x")->AddPod(Info(Existing("x3", "node-x")));
  CycleState c2;
  const auto* s2 = prefilter(c2);
  EXPECT_EQ(s2->MatchNumOf(0, "zone2"), 3);
  EXPECT_EQ(s2->MatchNumOf(1, "node-x"), 3);
  EXPECT_EQ(pl->Filter(c2, *pod, *h.snapshot_.Get("node-y")).code(), kNo);  // zone2: 3 + 1 - 1 > 1
  // The first cycle's state still answers from its own counts.
  EXPECT_EQ(s1->MatchNumOf(0, "zone2"), 1);
  EXPECT_EQ(pl->Filter(c1, *pod, *h.snapshot_.Get("node-y")).code(), kOk);

  // One of them goes; node-y moves to zone1 and node-b loses its zone label.
  ASSERT_TRUE(h.snapshot_.Get("node-x")->RemovePod("x3").ok());
  h.snapshot_.Get("node-y")->SetNode(std::make_shared<const corev1::Node>(ZoneNode("node-y", "zone1")));
  h.snapshot_.Get("node-b")->SetNode(
      std::make_shared<const corev1::Node>(MakeNode("node-b").Label(kNode, "node-b")));
  CycleState c3;
  const auto* s3 = prefilter(c3);
  EXPECT_EQ(s3->MatchNumOf(0, "zone1"), 1);  // node-a
  EXPECT_EQ(s3->MatchNumOf(0, "zone2"), 2);  // node-x
  EXPECT_EQ(s3->NumDomains(1), 3);           // node-b lacks a key: not counted
  EXPECT_EQ(pl->Filter(c3, *pod, *h.snapshot_.Get("node-b")).code(), kNever);
  EXPECT_EQ(pl->Filter(c3, *pod, *h.snapshot_.Get("node-y")).code(), kOk);

  // The same nodes in another order.
  h.snapshot_.RebuildLists({"node-y", "node-x", "node-b", "node-a"});
  CycleState c4;
  const auto* s4 = prefilter(c4);
  EXPECT_EQ(s4->MatchNumOf(0, "zone2"), 2);
  EXPECT_EQ(s4->MatchNumOf(1, "node-a"), 1);
  for (const auto& n : h.snapshot_.List()) {
    EXPECT_EQ(pl->Filter(c4, *pod, *n).code(), pl->Filter(c3, *pod, *n).code()) << n->name();
  }
}

TEST(PodTopologySpreadCache, ScoresFollowNodeChanges) {
  FakeHandle h;
  h.snapshot_ = Snapshot::FromObjects(PodsOn({{"node-a", 2}, {"node-b", 1}, {"node-y", 3}}), FourNodes());
  auto pl = NewPlugin(h);
  corev1::Pod pod = WithSpread(MakePod("p").Uid("p").Label("foo", ""), {Spread(1, kNode, kSoft)});
  EXPECT_EQ(*RunScore(*pl, h, pod, {}),
            (std::map<std::string, int64_t>{{"node-a", 20}, {"node-b", 60}, {"node-x", 100}, {"node-y", 0}}));
  // node-x gets 3 pods, node-y loses them: now x and y swap places.
  for (const char* uid : {"p-node-y-0", "p-node-y-1", "p-node-y-2"})
    ASSERT_TRUE(h.snapshot_.Get("node-y")->RemovePod(uid).ok());
  for (const char* name : {"x0", "x1", "x2"})
    h.snapshot_.Get("node-x")->AddPod(Info(Existing(name, "node-x")));
  EXPECT_EQ(*RunScore(*pl, h, pod, {}),
            (std::map<std::string, int64_t>{{"node-a", 20}, {"node-b", 60}, {"node-x", 0}, {"node-y", 100}}));
}

// ---- randomized comparison with a reference of upstream's filter rule ----

// Upstream's Filter, written plainly over maps (one hard constraint, default policies apart from
// the ones the test sets).
std::map<std::string, VerdictCode> ReferenceFilter(const corev1::Pod& pod,
                                                   const std::vector<corev1::Node>& nodes,
                                                   const std::vector<corev1::Pod>& existing) {
  const auto& c = pod.spec().topologyspreadconstraints(0);
  const std::string key = c.topologykey();
  const int min_domains = c.has_mindomains() ? c.mindomains() : 1;
  const bool honor_taints = c.nodetaintspolicy() == "Honor";
  auto matches = [&](const corev1::Pod& p) { return p.metadata().labels().count("foo") > 0; };
  std::map<std::string, int> counts;
  for (const auto& n : nodes) {
    auto it = n.metadata().labels().find(key);
    if (it == n.metadata().labels().end()) continue;
    if (honor_taints &&
        podtopologyspread_internal::HasUntoleratedDoNotScheduleTaint(n, pod.spec().tolerations()))
      continue;
    int cnt = 0;
    for (const auto& p : existing) {
      if (p.spec().nodename() == n.metadata().name() && !p.metadata().has_deletiontimestamp() &&
          p.metadata().namespace_() == pod.metadata().namespace_() && matches(p)) {
        ++cnt;
      }
    }
    counts[it->second] += cnt;
  }
  int min = std::numeric_limits<int>::max();
  for (const auto& [v, n] : counts) min = std::min(min, n);
  if (static_cast<int>(counts.size()) < min_domains) min = 0;
  std::map<std::string, VerdictCode> out;
  for (const auto& n : nodes) {
    auto it = n.metadata().labels().find(key);
    if (it == n.metadata().labels().end()) {
      out[n.metadata().name()] = kNever;
      continue;
    }
    auto cit = counts.find(it->second);
    const int64_t skew =
        static_cast<int64_t>(cit == counts.end() ? 0 : cit->second) + (matches(pod) ? 1 : 0) - min;
    out[n.metadata().name()] = skew > c.maxskew() ? kNo : kOk;
  }
  return out;
}

TEST(PodTopologySpreadFilter, AgreesWithTheReferenceOnRandomClusters) {
  std::mt19937 rng(7);
  FakeHandle h;
  auto pl = NewPlugin(h);
  for (int round = 0; round < 200; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    // Every tenth cluster is big enough for the parallel recount.
    const int num_nodes =
        round % 10 == 9 ? 300 + static_cast<int>(rng() % 200) : 1 + static_cast<int>(rng() % 12);
    std::vector<corev1::Node> nodes;
    for (int i = 0; i < num_nodes; ++i) {
      auto b = MakeNode("n" + std::to_string(i));
      if (rng() % 8 != 0) b.Label(kZone, "z" + std::to_string(rng() % 4));
      if (rng() % 8 != 0) b.Label(kNode, "n" + std::to_string(i));
      if (rng() % 5 == 0) b.Taint("t", "v", rng() % 2 ? "NoSchedule" : "NoExecute");
      nodes.push_back(b);
    }
    std::vector<corev1::Pod> pods;
    const int num_pods = static_cast<int>(rng() % (3 * num_nodes + 10));
    for (int i = 0; i < num_pods; ++i) {
      std::string name = "e" + std::to_string(i);
      auto b = MakePod(name).Uid(name).Node("n" + std::to_string(rng() % num_nodes));
      if (rng() % 3 != 0) b.Label("foo", "");
      if (rng() % 7 == 0) b.Namespace("other");
      if (rng() % 9 == 0) b.DeletionTimestamp(WallTime{} + std::chrono::seconds(1));
      pods.push_back(b);
    }
    auto c = Spread(1 + static_cast<int>(rng() % 3), rng() % 2 ? kZone : kNode, kHard);
    if (rng() % 3 == 0) c.set_mindomains(1 + static_cast<int>(rng() % 5));
    if (rng() % 2 == 0) c.set_nodetaintspolicy("Honor");
    auto pb = MakePod("p").Uid("p");
    if (rng() % 4 != 0) pb.Label("foo", "");
    if (rng() % 3 == 0) pb.Toleration("t", "Exists", "", "");
    corev1::Pod pod = WithSpread(pb, {c});

    // One plugin for every round: its node cache must notice each new snapshot.
    h.snapshot_ = Snapshot::FromObjects(pods, nodes);
    CycleState state;
    EXPECT_EQ(RunFilter(*pl, h, pod, state), ReferenceFilter(pod, nodes, pods));
  }
}

}  // namespace
}  // namespace ck::scheduler::plugins
