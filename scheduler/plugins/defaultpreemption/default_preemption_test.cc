// DefaultPreemption: victim selection, node choice, PDBs, eligibility, the API calls of the
// preparation step and the candidate limits, against a fake Handle whose Filter is a small
// cpu / pod-count fit check, and a FakeApi holding the pods.
#include "scheduler/plugins/defaultpreemption/default_preemption.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/api/api_resources.h"
#include "common/api/conditions.h"
#include "common/api/object.h"
#include "common/api/proto/policy_v1.pb.h"
#include "common/api/testing/builders.h"
#include "common/base/clock.h"
#include "common/base/random.h"
#include "common/client/cache/indexer.h"
#include "common/client/testing/fake_api.h"
#include "common/client/tools/event_recorder.h"
#include "scheduler/framework/parallelizer.h"
#include "scheduler/framework/snapshot.h"

namespace ck::scheduler::plugins {
namespace {

using api::testing::MakeNode;
using api::testing::MakePod;
using api::testing::PodBuilder;
namespace policyv1 = ::k8s::io::api::policy::v1;

const client::ResourceInfo& Pods() { return *api::FindResource("", "v1", "pods"); }
const client::ResourceInfo& Events() { return *api::FindResource("", "v1", "events"); }

// Returns true as soon as `condition` holds, false if it still does not after `timeout`.
bool WaitFor(const std::function<bool()>& condition,
             std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// Uniform(n) == value % n: a known dry-run offset.
class FixedRandom final : public Random {
 public:
  explicit FixedRandom(uint64_t value) : value_(value) {}
  uint64_t Next() override { return value_; }

 private:
  uint64_t value_;
};

class FakeNominator final : public PodNominator {
 public:
  std::vector<PodInfoPtr> NominatedPodsForNode(const std::string& node) const override {
    std::lock_guard lock(mu_);
    auto it = by_node_.find(node);
    return it == by_node_.end() ? std::vector<PodInfoPtr>{} : it->second;
  }
  void AddNominatedPod(const PodInfoPtr& pod, const std::string& node) override {
    std::lock_guard lock(mu_);
    by_node_[node].push_back(pod);
  }
  void DeleteNominatedPodIfExists(const corev1::Pod& pod) override {
    std::lock_guard lock(mu_);
    for (auto& [node, pods] : by_node_) {
      std::erase_if(pods, [&](const PodInfoPtr& p) { return p->uid() == pod.metadata().uid(); });
    }
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::vector<PodInfoPtr>> by_node_;  // guarded by mu_
};

// The fit check the fake framework runs as its only Filter plugin: cpu and pod count, counting
// nominated pods of equal or higher priority as present (as RunFilterPluginsWithNominatedPods does).
Verdict ResourceFit(const PodInfo& pod, const NodeInfo& node, const PodNominator* nominator) {
  int64_t cpu = node.requested().milli_cpu;
  int64_t pods = static_cast<int64_t>(node.pods().size());
  if (nominator != nullptr) {
    for (const PodInfoPtr& n : nominator->NominatedPodsForNode(node.name())) {
      if (n->priority() < pod.priority() || n->uid() == pod.uid() || node.HasPod(n->uid())) continue;
      cpu += n->requests.milli_cpu;
      ++pods;
    }
  }
  std::vector<std::string> reasons;
  if (pods + 1 > node.allocatable().allowed_pod_number) reasons.push_back("Too many pods");
  if (pod.requests.milli_cpu > 0 && cpu + pod.requests.milli_cpu > node.allocatable().milli_cpu) {
    reasons.push_back("Insufficient cpu");
  }
  if (reasons.empty()) return Verdict::Success();
  return Verdict(VerdictCode::kUnschedulable, std::move(reasons)).WithPlugin("NodeResourcesFit");
}

class FakeHandle final : public Handle {
 public:
  FakeHandle(Snapshot snapshot, Clock& clock, Random& random, client::ApiClient* api, int parallelism)
      : snapshot_(std::move(snapshot)),
        clock_(clock),
        random_(random),
        api_(api),
        parallelizer_(parallelism) {}

  const Snapshot& snapshot() const override { return snapshot_; }
  const Listers& listers() const override { return listers_; }
  client::ApiClient* api() override { return api_; }
  client::EventRecorder* events() override { return events_; }
  PodNominator* nominator() override { return &nominator_; }
  Clock& clock() override { return clock_; }
  Random& random() override { return random_; }
  Parallelizer& parallelizer() override { return parallelizer_; }
  const std::string& profile_name() const override { return profile_; }

  Verdict RunPreFilterExtensionAddPod(CycleState&, const PodInfo&, const PodInfoPtr&,
                                      const NodeInfo&) override {
    ++add_calls;
    return Verdict::Success();
  }
  Verdict RunPreFilterExtensionRemovePod(CycleState&, const PodInfo&, const PodInfoPtr&,
                                         const NodeInfo&) override {
    ++remove_calls;
    return remove_verdict;
  }
  Verdict RunFilterPluginsWithNominatedPods(CycleState&, const PodInfo& pod, const NodeInfo& node) override {
    {
      std::lock_guard lock(mu_);
      filtered_nodes_.insert(node.name());
    }
    return ResourceFit(pod, node, &nominator_);
  }

  std::set<std::string> filtered_nodes() const {
    std::lock_guard lock(mu_);
    return filtered_nodes_;
  }

  Snapshot snapshot_;
  Listers listers_;
  client::EventRecorder* events_ = nullptr;
  FakeNominator nominator_;
  std::atomic<int> add_calls{0};
  std::atomic<int> remove_calls{0};
  Verdict remove_verdict;  // what the RemovePod extension answers

 private:
  Clock& clock_;
  Random& random_;
  client::ApiClient* api_;
  Parallelizer parallelizer_;
  std::string profile_ = "default-scheduler";
  mutable std::mutex mu_;
  std::set<std::string> filtered_nodes_;  // guarded by mu_
};

PodInfoPtr Info(const corev1::Pod& pod) {
  auto info = PodInfo::Create(pod);
  EXPECT_TRUE(info.ok()) << info.status().ToString();
  return *info;
}

std::set<std::string> Names(const std::vector<PodInfoPtr>& pods) {
  std::set<std::string> out;
  for (const auto& p : pods) out.insert(p->name());
  return out;
}

WallTime At(int seconds) { return WallTime{} + std::chrono::seconds(1'700'000'000 + seconds); }

// A bound pod (running since `start` seconds past a fixed epoch when start >= 0).
corev1::Pod Running(PodBuilder b, const std::string& node, int start = -1) {
  corev1::Pod pod = b.Node(node).Phase("Running").Obj();
  if (start >= 0) api::SetTime(pod.mutable_status()->mutable_starttime(), At(start));
  return pod;
}

policyv1::PodDisruptionBudget Pdb(const std::string& name, const std::string& key, const std::string& value,
                                  int32_t allowed, std::vector<std::string> disrupted = {}) {
  policyv1::PodDisruptionBudget pdb;
  pdb.mutable_metadata()->set_name(name);
  pdb.mutable_metadata()->set_namespace_("default");
  (*pdb.mutable_spec()->mutable_selector()->mutable_matchlabels())[key] = value;
  pdb.mutable_status()->set_disruptionsallowed(allowed);
  for (const auto& d : disrupted) (*pdb.mutable_status()->mutable_disruptedpods())[d] = api::MakeTime(At(0));
  return pdb;
}

class DefaultPreemptionTest : public ::testing::Test {
 protected:
  void AddNode(const std::string& name, const std::string& cpu = "2", const std::string& pods = "110") {
    nodes_.push_back(MakeNode(name).Capacity(cpu, "8Gi", pods).Obj());
  }
  // Creates the pod through the API (which gives it a uid) and keeps it for the snapshot.
  corev1::Pod AddPod(const corev1::Pod& pod) {
    auto created = api_.Create(Pods(), pod.metadata().namespace_(), pod);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    corev1::Pod out = static_cast<const corev1::Pod&>(**created);
    pods_.push_back(out);
    return out;
  }
  // A pod only the snapshot has (the API would not keep fields such as a deletionTimestamp on create).
  void AddSnapshotOnlyPod(const corev1::Pod& pod) { snapshot_only_.push_back(pod); }
  void AddPdb(const policyv1::PodDisruptionBudget& pdb) {
    pdbs_.Add(std::make_shared<const policyv1::PodDisruptionBudget>(pdb));
  }
  // The handle sees the pods currently stored in the API (victims keep their deletionTimestamp).
  FakeHandle& Build(int parallelism = 1, Random* random = nullptr) {
    std::vector<corev1::Pod> pods;
    for (const auto& obj : api_.Objects(Pods())) pods.push_back(static_cast<const corev1::Pod&>(*obj));
    pods.insert(pods.end(), snapshot_only_.begin(), snapshot_only_.end());
    handle_ = std::make_unique<FakeHandle>(Snapshot::FromObjects(pods, nodes_), clock_,
                                           random != nullptr ? *random : random_, &api_, parallelism);
    handle_->listers_.pod_disruption_budgets = &pdbs_;
    return *handle_;
  }
  std::unique_ptr<DefaultPreemption> Plugin(const std::string& yaml_args = "") {
    auto made = NewDefaultPreemption(yaml_args.empty() ? YAML::Node() : YAML::Load(yaml_args), *handle_);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    if (!made.ok()) return nullptr;
    std::unique_ptr<ck::scheduler::Plugin> owned = std::move(*made);
    auto* plugin = dynamic_cast<DefaultPreemption*>(owned.get());
    EXPECT_NE(plugin, nullptr);
    std::unique_ptr<DefaultPreemption> out(plugin);
    (void)owned.release();  // now owned by `out`
    return out;
  }
  // What Filter said about every node (only the rejections), as the framework hands PostFilter.
  NodeToVerdict FilterAll(const PodInfo& pod) {
    NodeToVerdict out;
    for (const auto& node : handle_->snapshot().List()) {
      Verdict v = ResourceFit(pod, *node, &handle_->nominator_);
      if (!v.IsSuccess()) out[node->name()] = v;
    }
    return out;
  }
  Verdict Run(DefaultPreemption& plugin, const PodInfo& pod, PostFilterResult* result,
              const NodeToVerdict* filtered = nullptr) {
    CycleState state;
    NodeToVerdict f = filtered != nullptr ? *filtered : FilterAll(pod);
    return plugin.PostFilter(state, pod, f, result);
  }
  // The pod as the API has it now; nullptr when gone.
  std::shared_ptr<const corev1::Pod> Stored(const std::string& name) {
    auto got = api_.Get(Pods(), "default", name);
    if (!got.ok()) return nullptr;
    return std::static_pointer_cast<const corev1::Pod>(*got);
  }
  bool Preempted(const std::string& name) {
    auto pod = Stored(name);
    return pod == nullptr || pod->metadata().has_deletiontimestamp();
  }

  FakeClock clock_;
  FakeRandom random_{7};
  client::FakeApi api_{clock_, random_};
  client::Indexer pdbs_;
  std::vector<corev1::Node> nodes_;
  std::vector<corev1::Pod> pods_;
  std::vector<corev1::Pod> snapshot_only_;
  std::unique_ptr<FakeHandle> handle_;
};

// ---- args ----

TEST(DefaultPreemptionArgsTest, DefaultsParsingAndValidation) {
  struct Case {
    std::string name;
    std::string yaml;  // "" = no args
    int32_t pct = 0;
    int32_t abs = 0;
    std::string error;  // "" = valid
  };
  const std::vector<Case> cases = {
      {"no args: upstream defaults", "", 10, 100, ""},
      {"both set", "minCandidateNodesPercentage: 20\nminCandidateNodesAbsolute: 5", 20, 5, ""},
      {"null keeps the default", "minCandidateNodesPercentage: ~\nminCandidateNodesAbsolute: 7", 10, 7, ""},
      {"typed args header",
       "apiVersion: kubescheduler.config.k8s.io/v1\nkind: DefaultPreemptionArgs\n"
       "minCandidateNodesAbsolute: 0",
       10, 0, ""},
      {"percentage below range", "minCandidateNodesPercentage: -1", 0, 0,
       "DefaultPreemptionArgs: minCandidateNodesPercentage: Invalid value: -1: not in valid range [0, 100]"},
      {"percentage above range", "minCandidateNodesPercentage: 101", 0, 0,
       "DefaultPreemptionArgs: minCandidateNodesPercentage: Invalid value: 101: not in valid range [0, 100]"},
      {"negative absolute", "minCandidateNodesAbsolute: -2", 0, 0,
       "DefaultPreemptionArgs: minCandidateNodesAbsolute: Invalid value: -2: not in valid range [0, inf)"},
      {"both zero", "minCandidateNodesPercentage: 0\nminCandidateNodesAbsolute: 0", 0, 0,
       "DefaultPreemptionArgs: [minCandidateNodesPercentage: Invalid value: 0: cannot be zero at the same "
       "time as "
       "minCandidateNodesAbsolute, minCandidateNodesAbsolute: Invalid value: 0: cannot be zero at the same "
       "time as "
       "minCandidateNodesPercentage]"},
      {"not an integer", "minCandidateNodesAbsolute: lots", 0, 0,
       "DefaultPreemptionArgs: minCandidateNodesAbsolute: Invalid value: \"lots\": must be a 32-bit integer"},
      {"unknown field", "minCandidateNodes: 3", 0, 0,
       "DefaultPreemptionArgs: unknown field \"minCandidateNodes\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto parsed = ParseDefaultPreemptionArgs(c.yaml.empty() ? YAML::Node() : YAML::Load(c.yaml));
    if (c.error.empty()) {
      ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
      EXPECT_EQ(parsed->min_candidate_nodes_percentage, c.pct);
      EXPECT_EQ(parsed->min_candidate_nodes_absolute, c.abs);
    } else {
      ASSERT_FALSE(parsed.ok());
      EXPECT_EQ(parsed.status().code(), Code::kInvalid);
      EXPECT_EQ(parsed.status().message(), c.error);
    }
  }
}

TEST_F(DefaultPreemptionTest, FactoryRefusesBadArgs) {
  Build();
  auto made = NewDefaultPreemption(YAML::Load("minCandidateNodesPercentage: 200"), *handle_);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), Code::kInvalid);
  auto ok = NewDefaultPreemption(YAML::Node(), *handle_);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)->Name(), "DefaultPreemption");
}

TEST_F(DefaultPreemptionTest, CalculateNumCandidates) {
  Build();
  struct Case {
    std::string args;
    int32_t nodes;
    int32_t want;
  };
  const std::vector<Case> cases = {
      {"", 50, 50},     // the absolute floor (100) is more than there are
      {"", 5000, 500},  // 10 %
      {"", 600, 100},   // 10 % is 60, below the floor
      {"minCandidateNodesPercentage: 0\nminCandidateNodesAbsolute: 3", 100, 3},
      {"minCandidateNodesPercentage: 50\nminCandidateNodesAbsolute: 0", 9, 4},
      {"minCandidateNodesPercentage: 100\nminCandidateNodesAbsolute: 0", 7, 7},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args + " / " + std::to_string(c.nodes));
    EXPECT_EQ(Plugin(c.args)->CalculateNumCandidates(c.nodes), c.want);
  }
}

// ---- node choice ----

TEST(PickOneNodeForPreemptionTest, UpstreamOrderOfCriteria) {
  auto victim = [](const std::string& name, int32_t priority, int start) {
    corev1::Pod pod = MakePod(name).Uid(name).Priority(priority).Obj();
    if (start >= 0) api::SetTime(pod.mutable_status()->mutable_starttime(), At(start));
    return Info(pod);
  };
  const WallTime now = At(10'000);
  struct Case {
    std::string name;
    std::vector<Candidate> candidates;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"fewest PDB violations wins over lower priority",
       {{"a", {victim("a1", 1, 0)}, 1}, {"b", {victim("b1", 50, 0)}, 0}},
       "b"},
      {"lowest highest-priority victim",
       {{"a", {victim("a1", 20, 0), victim("a2", 1, 0)}, 0}, {"b", {victim("b1", 10, 0)}, 0}},
       "b"},
      {"smallest sum of priorities",
       {{"a", {victim("a1", 10, 0), victim("a2", 5, 0)}, 0},
        {"b", {victim("b1", 10, 0), victim("b2", 3, 0)}, 0}},
       "b"},
      {"negative priorities: fewer pods still sum smaller",
       {{"a", {victim("a1", -5, 0), victim("a2", -5, 0)}, 0}, {"b", {victim("b1", -5, 0)}, 0}},
       "b"},
      {"fewest victims",
       {{"a", {victim("a1", 10, 0), victim("a2", 0, 0)}, 0}, {"b", {victim("b1", 10, 0)}, 0}},
       "b"},
      {"latest start of the highest-priority victims",
       {{"a", {victim("a1", 10, 100), victim("a2", 10, 50)}, 0},
        {"b", {victim("b1", 10, 300), victim("b2", 10, 60)}, 0}},
       "b"},
      {"a victim that has not started counts as starting now",
       {{"a", {victim("a1", 10, 5000)}, 0}, {"b", {victim("b1", 10, -1)}, 0}},
       "b"},
      {"all equal: the first", {{"a", {victim("a1", 10, 100)}, 0}, {"b", {victim("b1", 10, 100)}, 0}}, "a"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.candidates[PickOneNodeForPreemption(c.candidates, now)].node, c.want);
  }
}

TEST_F(DefaultPreemptionTest, PicksNodeWithLowestPriorityVictimsAndDeletesThemThroughTheApi) {
  AddNode("node-a");
  AddNode("node-b");
  AddNode("node-c");
  AddPod(Running(MakePod("high-a").Priority(50).Cpu("2"), "node-a", 0));
  AddPod(Running(MakePod("low-b").Priority(5).Cpu("2"), "node-b", 0));
  AddPod(Running(MakePod("mid-c").Priority(20).Cpu("2"), "node-c", 0));
  FakeHandle& handle = Build();
  client::EventBroadcaster broadcaster(api_, clock_);
  broadcaster.Start();
  client::EventRecorder recorder = broadcaster.NewRecorder({"default-scheduler", ""});
  handle.events_ = &recorder;

  // Record the order of the writes: the DisruptionTarget patch must come before the delete.
  std::mutex mu;
  std::vector<std::string> writes;
  api_.SetRequestHook([&](const client::FakeApi::Request& r) {
    if (r.verb == client::FakeApi::Verb::kPatch || r.verb == client::FakeApi::Verb::kDelete) {
      std::lock_guard lock(mu);
      writes.push_back(std::string(client::FakeApi::VerbName(r.verb)) + " " + r.name + " " + r.subresource);
    }
    return Status::Ok();
  });

  auto plugin = Plugin();
  PodInfoPtr preemptor = Info(MakePod("important").Uid("uid-important").Priority(100).Cpu("1").Obj());
  PostFilterResult result;
  Verdict v = Run(*plugin, *preemptor, &result);
  ASSERT_TRUE(v.IsSuccess()) << v.String();
  EXPECT_EQ(result.nominated_node_name, "node-b");

  auto victim = Stored("low-b");
  ASSERT_NE(victim, nullptr) << "a bound pod is deleted gracefully and stays while terminating";
  EXPECT_TRUE(victim->metadata().has_deletiontimestamp());
  const corev1::PodCondition* cond = api::FindCondition(victim->status().conditions(), "DisruptionTarget");
  ASSERT_NE(cond, nullptr);
  EXPECT_EQ(cond->status(), "True");
  EXPECT_EQ(cond->reason(), "PreemptionByScheduler");
  EXPECT_EQ(cond->message(), "default-scheduler: preempting to accommodate a higher priority pod");
  EXPECT_FALSE(api::IsZeroTime(cond->lasttransitiontime()));
  EXPECT_FALSE(Preempted("high-a"));
  EXPECT_FALSE(Preempted("mid-c"));
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(writes, (std::vector<std::string>{"patch low-b status", "delete low-b "}));
  }
  api_.SetRequestHook(nullptr);

  // One `Preempted` event about the victim.
  ASSERT_TRUE(WaitFor([&] { return api_.Objects(Events()).size() == 1; }));
  const auto& event = static_cast<const corev1::Event&>(*api_.Objects(Events())[0]);
  EXPECT_EQ(event.reason(), "Preempted");
  EXPECT_EQ(event.type(), "Normal");
  EXPECT_EQ(event.message(), "Preempted by pod uid-important on node node-b");
  EXPECT_EQ(event.involvedobject().name(), "low-b");
  EXPECT_EQ(event.involvedobject().uid(), victim->metadata().uid());
  broadcaster.Shutdown();
}

TEST_F(DefaultPreemptionTest, ReprievesAsManyVictimsAsPossible) {
  AddNode("node-1", "3");
  AddPod(Running(MakePod("p1").Priority(1).Cpu("1"), "node-1", 0));
  AddPod(Running(MakePod("p2").Priority(2).Cpu("1"), "node-1", 0));
  AddPod(Running(MakePod("p3").Priority(3).Cpu("1"), "node-1", 0));
  AddPod(Running(MakePod("equal").Priority(10).Cpu("0"), "node-1", 0));  // not lower: never a victim
  FakeHandle& handle = Build();
  auto plugin = Plugin();

  struct Case {
    std::string cpu;
    std::set<std::string> victims;
  };
  for (const Case& c : std::vector<Case>{{"1", {"p1"}}, {"2", {"p1", "p2"}}, {"3", {"p1", "p2", "p3"}}}) {
    SCOPED_TRACE("preemptor cpu " + c.cpu);
    PodInfoPtr preemptor = Info(MakePod("big").Uid("big").Priority(10).Cpu(c.cpu).Obj());
    CycleState state;
    auto node = handle.snapshot().Get("node-1")->Clone();
    std::vector<PodInfoPtr> victims;
    int64_t violations = -1;
    Verdict v =
        plugin->SelectVictimsOnNode(state, *preemptor, *node, {}, clock_.Now(), &victims, &violations);
    ASSERT_TRUE(v.IsSuccess()) << v.String();
    EXPECT_EQ(Names(victims), c.victims);
    EXPECT_EQ(violations, 0);
    // Victims are listed most important first.
    for (size_t i = 1; i < victims.size(); ++i) EXPECT_GT(victims[i - 1]->priority(), victims[i]->priority());
    // The clone is left as the pod would find it: the victims gone, the others back.
    EXPECT_EQ(node->pods().size(), 4 - victims.size());
    EXPECT_EQ(handle.snapshot().Get("node-1")->pods().size(), 4u) << "the snapshot itself is not touched";
  }

  // Through PostFilter: only p1 is deleted.
  PodInfoPtr preemptor = Info(MakePod("big").Uid("big").Priority(10).Cpu("1").Obj());
  PostFilterResult result;
  Verdict v = Run(*plugin, *preemptor, &result);
  ASSERT_TRUE(v.IsSuccess()) << v.String();
  EXPECT_EQ(result.nominated_node_name, "node-1");
  EXPECT_TRUE(Preempted("p1"));
  EXPECT_FALSE(Preempted("p2"));
  EXPECT_FALSE(Preempted("p3"));
  EXPECT_FALSE(Preempted("equal"));
}

TEST_F(DefaultPreemptionTest, EqualPriorityVictimsThatStartedEarlierAreKept) {
  AddNode("node-1", "2");
  AddPod(Running(MakePod("old").Priority(1).Cpu("1"), "node-1", 10));
  AddPod(Running(MakePod("young").Priority(1).Cpu("1"), "node-1", 500));
  Build();
  auto plugin = Plugin();
  PodInfoPtr preemptor = Info(MakePod("big").Uid("big").Priority(10).Cpu("1").Obj());
  PostFilterResult result;
  ASSERT_TRUE(Run(*plugin, *preemptor, &result).IsSuccess());
  EXPECT_FALSE(Preempted("old"));
  EXPECT_TRUE(Preempted("young"));
}

// ---- PodDisruptionBudgets ----

TEST_F(DefaultPreemptionTest, PdbProtectedPodIsReprievedFirst) {
  AddNode("node-1", "2");
  // Without a PDB "db" (lower priority) would be the victim.
  AddPod(Running(MakePod("db").Priority(1).Label("app", "db").Cpu("1"), "node-1", 0));
  AddPod(Running(MakePod("web").Priority(2).Label("app", "web").Cpu("1"), "node-1", 0));
  FakeHandle& handle = Build();
  auto plugin = Plugin();
  PodInfoPtr preemptor = Info(MakePod("big").Uid("big").Priority(10).Cpu("1").Obj());

  auto select = [&](const std::vector<PdbInfo>& pdbs, int64_t* violations) {
    CycleState state;
    auto node = handle.snapshot().Get("node-1")->Clone();
    std::vector<PodInfoPtr> victims;
    Verdict v =
        plugin->SelectVictimsOnNode(state, *preemptor, *node, pdbs, clock_.Now(), &victims, violations);
    EXPECT_TRUE(v.IsSuccess()) << v.String();
    return Names(victims);
  };
  int64_t violations = -1;
  EXPECT_EQ(select({}, &violations), std::set<std::string>{"db"});
  EXPECT_EQ(violations, 0);

  AddPdb(Pdb("db-pdb", "app", "db", 0));
  EXPECT_EQ(select(PdbsFromLister(&pdbs_), &violations), std::set<std::string>{"web"});
  EXPECT_EQ(violations, 0);

  // When both must go, the PDB is violated and counted.
  PodInfoPtr huge = Info(MakePod("huge").Uid("huge").Priority(10).Cpu("2").Obj());
  CycleState state;
  auto node = handle.snapshot().Get("node-1")->Clone();
  std::vector<PodInfoPtr> victims;
  ASSERT_TRUE(plugin
                  ->SelectVictimsOnNode(state, *huge, *node, PdbsFromLister(&pdbs_), clock_.Now(), &victims,
                                        &violations)
                  .IsSuccess());
  EXPECT_EQ(Names(victims), (std::set<std::string>{"db", "web"}));
  EXPECT_EQ(violations, 1);
  EXPECT_EQ(victims.front()->name(), "web") << "victims stay most important first";

  // Through PostFilter the lister is read: "web" goes, "db" stays.
  PostFilterResult result;
  ASSERT_TRUE(Run(*plugin, *preemptor, &result).IsSuccess());
  EXPECT_FALSE(Preempted("db"));
  EXPECT_TRUE(Preempted("web"));
}

TEST(FilterPodsWithPdbViolationTest, BudgetsAreSpentInOrder) {
  auto pod = [](const std::string& name, const std::string& app, const std::string& ns = "default") {
    return Info(MakePod(name).Uid(name).Namespace(ns).Label("app", app).Obj());
  };
  client::Indexer lister;
  auto add = [&](policyv1::PodDisruptionBudget pdb) {
    lister.Add(std::make_shared<const policyv1::PodDisruptionBudget>(std::move(pdb)));
  };
  add(Pdb("web", "app", "web", 1));
  add(Pdb("db", "app", "db", 0, {"db-0"}));  // db-0's eviction is already counted
  policyv1::PodDisruptionBudget empty = Pdb("everything", "app", "x", 0);
  empty.mutable_spec()->mutable_selector()->clear_matchlabels();  // an empty selector matches nothing
  add(empty);
  std::vector<PdbInfo> pdbs = PdbsFromLister(&lister);
  EXPECT_EQ(pdbs.size(), 2u);

  std::vector<PodInfoPtr> pods = {pod("web-0", "web"),
                                  pod("web-1", "web"),
                                  pod("db-0", "db"),
                                  pod("db-1", "db"),
                                  pod("other-ns", "web", "kube-system"),
                                  pod("cache", "cache"),
                                  Info(MakePod("unlabelled").Uid("u").Obj())};
  std::vector<PodInfoPtr> violating, non_violating;
  FilterPodsWithPdbViolation(pods, pdbs, &violating, &non_violating);
  std::vector<std::string> v, nv;
  for (const auto& p : violating) v.push_back(p->name());
  for (const auto& p : non_violating) nv.push_back(p->name());
  EXPECT_EQ(v, (std::vector<std::string>{"web-1", "db-1"}));
  EXPECT_EQ(nv, (std::vector<std::string>{"web-0", "db-0", "other-ns", "cache", "unlabelled"}));
}

TEST_F(DefaultPreemptionTest, PrefersNodeWithoutPdbViolations) {
  AddNode("node-pdb", "1");
  AddNode("node-free", "1");
  AddPod(Running(MakePod("guarded").Priority(1).Label("app", "db").Cpu("1"), "node-pdb", 0));
  AddPod(Running(MakePod("unguarded").Priority(9).Label("app", "web").Cpu("1"), "node-free", 0));
  AddPdb(Pdb("db-pdb", "app", "db", 0));
  Build();
  auto plugin = Plugin();
  PodInfoPtr preemptor = Info(MakePod("big").Uid("big").Priority(10).Cpu("1").Obj());
  PostFilterResult result;
  ASSERT_TRUE(Run(*plugin, *preemptor, &result).IsSuccess());
  EXPECT_EQ(result.nominated_node_name, "node-free");
  EXPECT_FALSE(Preempted("guarded"));
  EXPECT_TRUE(Preempted("unguarded"));
}

// ---- eligibility and failures ----

TEST_F(DefaultPreemptionTest, PreemptionPolicyNeverIsNotEligible) {
  AddNode("node-1", "1");
  AddPod(Running(MakePod("low").Priority(1).Cpu("1"), "node-1", 0));
  Build();
  auto plugin = Plugin();
  corev1::Pod pod = MakePod("polite").Uid("polite").Priority(100).Cpu("1").Obj();
  pod.mutable_spec()->set_preemptionpolicy("Never");
  PodInfoPtr preemptor = Info(pod);
  api_.ResetCalls();
  PostFilterResult result;
  Verdict v = Run(*plugin, *preemptor, &result);
  EXPECT_EQ(v.code(), VerdictCode::kUnschedulable);
  EXPECT_EQ(v.Message(), "preemption: not eligible due to preemptionPolicy=Never.");
  EXPECT_EQ(result.nominated_node_name, "");
  EXPECT_EQ(api_.Calls(client::FakeApi::Verb::kDelete), 0);
  EXPECT_FALSE(Preempted("low"));
  // PreemptLowerPriority (the default) is eligible.
  pod.mutable_spec()->set_preemptionpolicy("PreemptLowerPriority");
  EXPECT_TRUE(Run(*plugin, *Info(pod), &result).IsSuccess());
}

TEST_F(DefaultPreemptionTest, NothingToPreemptSummarizesLikeUpstream) {
  AddNode("node-1", "1");
  AddNode("node-2", "1");
  AddNode("node-3", "1");
  AddPod(Running(MakePod("same").Priority(100).Cpu("1"), "node-1", 0));
  AddPod(Running(MakePod("higher").Priority(200).Cpu("1"), "node-2", 0));
  AddPod(Running(MakePod("low").Priority(1).Cpu("1"), "node-3", 0));
  Build();
  auto plugin = Plugin();
  PodInfoPtr preemptor = Info(MakePod("p").Uid("p").Priority(100).Cpu("1").Obj());
  // node-2 and node-3 were UnschedulableAndUnresolvable for some other plugin: not candidates,
  // even though node-3 has a lower-priority pod.
  NodeToVerdict filtered = FilterAll(*preemptor);
  filtered["node-2"] =
      Verdict::UnschedulableAndUnresolvable("node(s) didn't match Pod's node affinity/selector");
  filtered["node-3"] =
      Verdict::UnschedulableAndUnresolvable("node(s) didn't match Pod's node affinity/selector");
  api_.ResetCalls();
  PostFilterResult result;
  result.nominated_node_name = "stale";
  Verdict v = Run(*plugin, *preemptor, &result, &filtered);
  EXPECT_EQ(v.code(), VerdictCode::kUnschedulable);
  EXPECT_EQ(v.Message(),
            "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, "
            "2 Preemption is not helpful for scheduling.");
  EXPECT_EQ(result.nominated_node_name, "");
  EXPECT_EQ(api_.Calls(client::FakeApi::Verb::kDelete), 0);
  EXPECT_FALSE(Preempted("low"));

  // No node was Unschedulable at all: every node counts as "not helpful".
  NodeToVerdict unresolvable;
  for (const auto& n : {"node-1", "node-2", "node-3"})
    unresolvable[n] = Verdict::UnschedulableAndUnresolvable("x");
  v = Run(*plugin, *preemptor, &result, &unresolvable);
  EXPECT_EQ(v.Message(), "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.");
}

TEST_F(DefaultPreemptionTest, NodeTooSmallEvenWithoutVictimsKeepsFilterReasons) {
  AddNode("small-1", "1");
  AddNode("small-2", "1", "1");
  AddPod(Running(MakePod("low-1").Priority(1).Cpu("500m"), "small-1", 0));
  AddPod(Running(MakePod("low-2").Priority(1).Cpu("500m"), "small-2", 0));
  Build();
  auto plugin = Plugin();
  PodInfoPtr preemptor = Info(MakePod("huge").Uid("huge").Priority(100).Cpu("4").Obj());
  PostFilterResult result;
  Verdict v = Run(*plugin, *preemptor, &result);
  EXPECT_EQ(v.code(), VerdictCode::kUnschedulable);
  EXPECT_EQ(v.Message(), "preemption: 0/2 nodes are available: 2 Insufficient cpu.");
  EXPECT_FALSE(Preempted("low-1"));
  EXPECT_FALSE(Preempted("low-2"));
}

TEST_F(DefaultPreemptionTest, TerminatingVictimOnNominatedNodeMeansWait) {
  AddNode("node-1", "2");
  AddPod(Running(MakePod("low-1").Priority(1).Cpu("1"), "node-1", 0));
  AddPod(Running(MakePod("low-2").Priority(1).Cpu("1"), "node-1", 0));
  Build();
  auto plugin = Plugin();
  corev1::Pod pod = MakePod("big").Uid("big").Priority(10).Cpu("1").Obj();
  PostFilterResult result;
  ASSERT_TRUE(Run(*plugin, *Info(pod), &result).IsSuccess());
  ASSERT_EQ(result.nominated_node_name, "node-1");

  // Next cycle: the victim is still terminating (deletionTimestamp + DisruptionTarget) and the pod
  // is nominated there. It must not preempt more.
  Build();
  plugin = Plugin();
  pod.mutable_status()->set_nominatednodename("node-1");
  PodInfoPtr nominated = Info(pod);
  NodeToVerdict filtered = FilterAll(*nominated);
  ASSERT_TRUE(filtered.count("node-1"));
  api_.ResetCalls();
  Verdict v = Run(*plugin, *nominated, &result, &filtered);
  EXPECT_EQ(v.code(), VerdictCode::kUnschedulable);
  EXPECT_EQ(v.Message(), "preemption: not eligible due to a terminating pod on the nominated node.");
  EXPECT_EQ(api_.Calls(client::FakeApi::Verb::kDelete), 0);

  // Unless Filter says the nominated node can never work: then it may preempt elsewhere.
  std::string reason;
  NodeToVerdict unresolvable = filtered;
  unresolvable["node-1"] = Verdict::UnschedulableAndUnresolvable("node(s) had untolerated taint {a: b}");
  EXPECT_TRUE(plugin->PodEligibleToPreemptOthers(pod, unresolvable, &reason));
  // A pod of equal priority is not held back by the terminating victim.
  pod.mutable_spec()->set_priority(1);
  EXPECT_TRUE(plugin->PodEligibleToPreemptOthers(pod, filtered, &reason));
  // Nominated elsewhere: node-1's victims do not matter.
  pod.mutable_spec()->set_priority(10);
  pod.mutable_status()->set_nominatednodename("node-other");
  EXPECT_TRUE(plugin->PodEligibleToPreemptOthers(pod, filtered, &reason));
}

TEST_F(DefaultPreemptionTest, PodTerminatingForAnotherReasonDoesNotBlock) {
  AddNode("node-1", "1");
  // Being deleted, but not by the scheduler (no DisruptionTarget/PreemptionByScheduler condition).
  AddSnapshotOnlyPod(Running(
      MakePod("evicted").Uid("evicted").Priority(1).Cpu("500m").DeletionTimestamp(At(0)), "node-1", 0));
  corev1::Pod by_kubelet = Running(
      MakePod("drained").Uid("drained").Priority(1).Cpu("500m").DeletionTimestamp(At(0)), "node-1", 0);
  corev1::PodCondition* c = by_kubelet.mutable_status()->add_conditions();
  c->set_type("DisruptionTarget");
  c->set_status("True");
  c->set_reason("TerminationByKubelet");
  AddSnapshotOnlyPod(by_kubelet);
  Build();
  auto plugin = Plugin();
  corev1::Pod pod = MakePod("big").Uid("big").Priority(10).Cpu("1").Obj();
  pod.mutable_status()->set_nominatednodename("node-1");
  std::string reason;
  EXPECT_TRUE(plugin->PodEligibleToPreemptOthers(pod, FilterAll(*Info(pod)), &reason)) << reason;
}

// ---- the preparation step ----

TEST_F(DefaultPreemptionTest, ClearsNominationsOfLowerPriorityPodsOnTheNode) {
  AddNode("node-1", "2");
  AddPod(Running(MakePod("victim").Priority(1).Cpu("2"), "node-1", 0));
  corev1::Pod low = MakePod("nominated-low").Priority(5).Cpu("0").Obj();
  low.mutable_status()->set_nominatednodename("node-1");
  low = AddPod(low);
  corev1::Pod high = MakePod("nominated-high").Priority(500).Cpu("0").Obj();
  high.mutable_status()->set_nominatednodename("node-1");
  high = AddPod(high);
  FakeHandle& handle = Build();
  handle.nominator_.AddNominatedPod(Info(low), "node-1");
  handle.nominator_.AddNominatedPod(Info(high), "node-1");
  auto plugin = Plugin();
  PodInfoPtr preemptor = Info(MakePod("big").Uid("big").Priority(10).Cpu("1").Obj());
  PostFilterResult result;
  Verdict v = Run(*plugin, *preemptor, &result);
  ASSERT_TRUE(v.IsSuccess()) << v.String();
  EXPECT_TRUE(Preempted("victim"));
  EXPECT_EQ(Stored("nominated-low")->status().nominatednodename(), "");
  EXPECT_EQ(Stored("nominated-high")->status().nominatednodename(), "node-1");
}

TEST_F(DefaultPreemptionTest, VictimAlreadyTerminatingGetsNoSecondCall) {
  AddNode("node-1", "2");
  AddSnapshotOnlyPod(
      Running(MakePod("going").Uid("going").Priority(1).Cpu("1").DeletionTimestamp(At(0)), "node-1", 0));
  AddPod(Running(MakePod("staying").Priority(1).Cpu("1"), "node-1", 100));
  Build();
  auto plugin = Plugin();
  PodInfoPtr preemptor = Info(MakePod("big").Uid("big").Priority(10).Cpu("2").Obj());
  api_.ResetCalls();
  PostFilterResult result;
  ASSERT_TRUE(Run(*plugin, *preemptor, &result).IsSuccess());
  EXPECT_EQ(result.nominated_node_name, "node-1");
  EXPECT_EQ(api_.Calls(client::FakeApi::Verb::kDelete), 1);
  EXPECT_EQ(api_.Calls(client::FakeApi::Verb::kPatch), 1);
  EXPECT_TRUE(Preempted("staying"));
}

TEST_F(DefaultPreemptionTest, ApiFailuresAreErrorsExceptNotFound) {
  AddNode("node-1", "1");
  AddPod(Running(MakePod("victim").Priority(1).Cpu("1"), "node-1", 0));
  Build();
  auto plugin = Plugin();
  PodInfoPtr preemptor = Info(MakePod("big").Uid("big").Priority(10).Cpu("1").Obj());
  PostFilterResult result;

  api_.FailNext(client::FakeApi::Verb::kDelete, Unavailable("etcd is down"));
  Verdict v = Run(*plugin, *preemptor, &result);
  EXPECT_TRUE(v.IsError());
  EXPECT_EQ(v.Message(), "preemption: etcd is down");
  EXPECT_EQ(result.nominated_node_name, "");

  api_.FailNext(client::FakeApi::Verb::kPatch, Forbidden("no"));
  v = Run(*plugin, *preemptor, &result);
  EXPECT_TRUE(v.IsError());

  // The victim went away meanwhile: that is what preemption wanted.
  api_.FailNext(client::FakeApi::Verb::kPatch, NotFound("pods \"victim\" not found"));
  api_.ResetCalls();
  v = Run(*plugin, *preemptor, &result);
  EXPECT_TRUE(v.IsSuccess()) << v.String();
  EXPECT_EQ(result.nominated_node_name, "node-1");
  EXPECT_EQ(api_.Calls(client::FakeApi::Verb::kDelete), 0);
}

TEST_F(DefaultPreemptionTest, PreFilterExtensionFailureIsAnError) {
  AddNode("node-1", "1");
  AddPod(Running(MakePod("victim").Priority(1).Cpu("1"), "node-1", 0));
  FakeHandle& handle = Build();
  handle.remove_verdict = Verdict::Error("state broke");
  auto plugin = Plugin();
  PodInfoPtr preemptor = Info(MakePod("big").Uid("big").Priority(10).Cpu("1").Obj());
  PostFilterResult result;
  Verdict v = Run(*plugin, *preemptor, &result);
  EXPECT_TRUE(v.IsError());
  EXPECT_EQ(v.Message(), "preemption: state broke");
  EXPECT_FALSE(Preempted("victim"));
}

// ---- candidate limits ----

TEST_F(DefaultPreemptionTest, DryRunStopsAtTheCandidateLimitFromTheRandomOffset) {
  for (int i = 0; i < 10; ++i) {
    const std::string node = "node-" + std::to_string(i);
    AddNode(node, "1");
    AddPod(Running(MakePod("low-" + std::to_string(i)).Priority(1).Cpu("1"), node, 0));
  }
  PodInfoPtr preemptor = Info(MakePod("big").Uid("big").Priority(10).Cpu("1").Obj());

  FixedRandom offset(7);
  FakeHandle& handle = Build(1, &offset);
  auto limited = Plugin("minCandidateNodesPercentage: 0\nminCandidateNodesAbsolute: 3");
  PostFilterResult result;
  ASSERT_TRUE(Run(*limited, *preemptor, &result).IsSuccess());
  EXPECT_EQ(handle.filtered_nodes(), (std::set<std::string>{"node-7", "node-8", "node-9"}));
  // All three are equal: the first one found.
  EXPECT_EQ(result.nominated_node_name, "node-7");
  EXPECT_TRUE(Preempted("low-7"));

  // Defaults (100 nodes at least): every potential node is tried.
  FakeHandle& all = Build(1, &offset);
  auto unlimited = Plugin();
  ASSERT_TRUE(Run(*unlimited, *preemptor, &result).IsSuccess());
  EXPECT_EQ(all.filtered_nodes().size(), 10u);
}

TEST_F(DefaultPreemptionTest, DryRunGoesOnUntilACandidateViolatesNoPdb) {
  for (int i = 0; i < 5; ++i) {
    const std::string node = "node-" + std::to_string(i);
    AddNode(node, "1");
    AddPod(Running(
        MakePod("pod-" + std::to_string(i)).Priority(1).Label("app", i == 2 ? "free" : "guarded").Cpu("1"),
        node, 0));
  }
  AddPdb(Pdb("guard", "app", "guarded", 0));
  PodInfoPtr preemptor = Info(MakePod("big").Uid("big").Priority(10).Cpu("1").Obj());
  FixedRandom offset(3);
  FakeHandle& handle = Build(1, &offset);
  auto plugin = Plugin("minCandidateNodesPercentage: 0\nminCandidateNodesAbsolute: 1");
  PostFilterResult result;
  ASSERT_TRUE(Run(*plugin, *preemptor, &result).IsSuccess());
  // From node-3: node-3, node-4, node-0, node-1 violate the PDB; node-2 does not and ends the run.
  EXPECT_EQ(handle.filtered_nodes().size(), 5u);
  EXPECT_EQ(result.nominated_node_name, "node-2");
  EXPECT_TRUE(Preempted("pod-2"));
  EXPECT_FALSE(Preempted("pod-3"));
}

TEST_F(DefaultPreemptionTest, ParallelDryRunChoosesTheSameNode) {
  for (int i = 0; i < 40; ++i) {
    const std::string node = "node-" + std::to_string(i);
    AddNode(node, "2");
    // node-17 alone has a victim of the lowest priority.
    AddPod(Running(MakePod("pod-" + std::to_string(i)).Priority(i == 17 ? 1 : 5).Cpu("2"), node, 0));
  }
  PodInfoPtr preemptor = Info(MakePod("big").Uid("big").Priority(10).Cpu("1").Obj());
  FakeHandle& handle = Build(2);
  auto plugin = Plugin();
  PostFilterResult result;
  ASSERT_TRUE(Run(*plugin, *preemptor, &result).IsSuccess());
  EXPECT_EQ(result.nominated_node_name, "node-17");
  EXPECT_EQ(handle.filtered_nodes().size(), 40u);
  EXPECT_TRUE(Preempted("pod-17"));
  EXPECT_EQ(api_.Calls(client::FakeApi::Verb::kDelete), 1);
}

TEST_F(DefaultPreemptionTest, UsesTheFreshestPreemptorFromTheLister) {
  AddNode("node-1", "2");
  AddPod(Running(MakePod("low-1").Priority(1).Cpu("1"), "node-1", 0));
  AddPod(Running(MakePod("low-2").Priority(1).Cpu("1"), "node-1", 0));
  Build();
  auto plugin = Plugin();
  corev1::Pod pod = MakePod("big").Uid("big").Priority(10).Cpu("1").Obj();
  PostFilterResult result;
  ASSERT_TRUE(Run(*plugin, *Info(pod), &result).IsSuccess());

  // The queued copy has no nomination, the informer's copy does: the informer's counts.
  Build();
  plugin = Plugin();
  client::Indexer pods;
  corev1::Pod fresh = pod;
  fresh.mutable_status()->set_nominatednodename("node-1");
  pods.Add(std::make_shared<const corev1::Pod>(fresh));
  handle_->listers_.pods = &pods;
  Verdict v = Run(*plugin, *Info(pod), &result);
  EXPECT_EQ(v.Message(), "preemption: not eligible due to a terminating pod on the nominated node.");
}

}  // namespace
}  // namespace ck::scheduler::plugins
