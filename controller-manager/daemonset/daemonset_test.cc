// The DaemonSet controller on FakeApi: node eligibility, pods pinned through node affinity for the
// scheduler, expectations against a lagging cache, rolling updates with maxUnavailable and
// maxSurge (the test plays scheduler and kubelet: it binds pods, marks them ready and finishes
// graceful deletions), OnDelete, failed and duplicate pods, nodes coming and going, status counts
// and revision history. Time moves only through the FakeClock; nothing sleeps.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "common/api/codec.h"
#include "common/api/conditions.h"
#include "common/api/object.h"
#include "common/api/testing/builders.h"
#include "common/client/cache/cache_test_util.h"
#include "common/client/cache/meta.h"
#include "controller-manager/daemonset/daemonset_controller.h"
#include "controller-manager/daemonset/daemonset_util.h"
#include "controller-manager/daemonset/failed_pods_backoff.h"
#include "controller-manager/testing/controller_test_env.h"

namespace ck::controller_manager {
namespace {

namespace appsv1 = ::k8s::io::api::apps::v1;
namespace corev1 = ::k8s::io::api::core::v1;
namespace intstr = ::k8s::io::apimachinery::pkg::util::intstr;
using api::testing::MakeNode;
using api::testing::MakePod;
using client::testing::WaitFor;
using controller_manager::testing::ControllerTestEnv;
using controller_manager::testing::ResourceOf;
using daemonset::NodeVerdict;
using namespace std::chrono_literals;

// ---- Builders ----------------------------------------------------------------------------------

intstr::IntOrString IntOrString(const std::string& v) {
  intstr::IntOrString out;
  if (!v.empty() && v.back() == '%') {
    out.set_type(1);
    out.set_strval(v);
  } else {
    out.set_type(0);
    out.set_intval(std::stoi(v));
  }
  return out;
}

// A DaemonSet as the API server stores it after defaulting: selector app=<name>, one container,
// RollingUpdate with maxUnavailable 1 and maxSurge 0, revisionHistoryLimit 10.
class DaemonSetBuilder {
 public:
  explicit DaemonSetBuilder(std::string name) {
    ds_.mutable_metadata()->set_name(name);
    ds_.mutable_metadata()->set_namespace_("default");
    (*ds_.mutable_spec()->mutable_selector()->mutable_matchlabels())["app"] = name;
    (*ds_.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels())["app"] = name;
    corev1::Container* c = ds_.mutable_spec()->mutable_template_()->mutable_spec()->add_containers();
    c->set_name("main");
    c->set_image("registry.example.com/agent:1");
    MaxUnavailable("1").MaxSurge("0");
    ds_.mutable_spec()->set_revisionhistorylimit(10);
  }
  DaemonSetBuilder& Image(std::string image) {
    Spec()->mutable_containers(0)->set_image(std::move(image));
    return *this;
  }
  DaemonSetBuilder& NodeSelector(std::string k, std::string v) {
    (*Spec()->mutable_nodeselector())[k] = v;
    return *this;
  }
  // A required node affinity term with one matchExpressions requirement.
  DaemonSetBuilder& Affinity(std::string key, std::string op, std::vector<std::string> values) {
    auto* req = Spec()->mutable_affinity()->mutable_nodeaffinity()->mutable_requiredduringschedulingignoredduringexecution();
    auto* r = req->add_nodeselectorterms()->add_matchexpressions();
    r->set_key(std::move(key));
    r->set_operator_(std::move(op));
    for (auto& v : values) r->add_values(v);
    return *this;
  }
  DaemonSetBuilder& Toleration(std::string key, std::string op, std::string value, std::string effect) {
    corev1::Toleration* t = Spec()->add_tolerations();
    t->set_key(std::move(key));
    t->set_operator_(std::move(op));
    t->set_value(std::move(value));
    t->set_effect(std::move(effect));
    return *this;
  }
  DaemonSetBuilder& HostNetwork() {
    Spec()->set_hostnetwork(true);
    return *this;
  }
  DaemonSetBuilder& TemplateNodeName(std::string node) {
    Spec()->set_nodename(std::move(node));
    return *this;
  }
  DaemonSetBuilder& MaxUnavailable(const std::string& v) {
    Strategy()->mutable_rollingupdate()->mutable_maxunavailable()->CopyFrom(IntOrString(v));
    return *this;
  }
  DaemonSetBuilder& MaxSurge(const std::string& v) {
    Strategy()->mutable_rollingupdate()->mutable_maxsurge()->CopyFrom(IntOrString(v));
    return *this;
  }
  DaemonSetBuilder& OnDelete() {
    ds_.mutable_spec()->mutable_updatestrategy()->set_type("OnDelete");
    ds_.mutable_spec()->mutable_updatestrategy()->clear_rollingupdate();
    return *this;
  }
  DaemonSetBuilder& MinReadySeconds(int32_t s) {
    ds_.mutable_spec()->set_minreadyseconds(s);
    return *this;
  }
  DaemonSetBuilder& RevisionHistoryLimit(int32_t n) {
    ds_.mutable_spec()->set_revisionhistorylimit(n);
    return *this;
  }
  const appsv1::DaemonSet& Obj() const { return ds_; }
  operator appsv1::DaemonSet() const { return ds_; }  // NOLINT

 private:
  corev1::PodSpec* Spec() { return ds_.mutable_spec()->mutable_template_()->mutable_spec(); }
  appsv1::DaemonSetUpdateStrategy* Strategy() {
    auto* s = ds_.mutable_spec()->mutable_updatestrategy();
    s->set_type("RollingUpdate");
    return s;
  }
  appsv1::DaemonSet ds_;
};
DaemonSetBuilder MakeDaemonSet(std::string name) { return DaemonSetBuilder(std::move(name)); }

std::string Label(const corev1::Pod& pod, const std::string& key) {
  auto it = pod.metadata().labels().find(key);
  return it == pod.metadata().labels().end() ? "" : it->second;
}
std::string TargetNode(const corev1::Pod& pod) {
  Result<std::string> n = daemonset::GetTargetNodeName(pod);
  return n.ok() ? *n : "";
}

// ---- Pure rules --------------------------------------------------------------------------------

TEST(DaemonSetEligibilityTest, NodeShouldRunDaemonPod) {
  struct Case {
    std::string name;
    appsv1::DaemonSet ds;
    corev1::Node node;
    NodeVerdict want;
  };
  const NodeVerdict kRun{true, true}, kNever{false, false}, kKeepOnly{false, true};
  std::vector<Case> cases = {
      {"plain node", MakeDaemonSet("ds"), MakeNode("n"), kRun},
      {"nodeSelector matches", MakeDaemonSet("ds").NodeSelector("role", "edge"), MakeNode("n").Label("role", "edge"),
       kRun},
      {"nodeSelector does not match", MakeDaemonSet("ds").NodeSelector("role", "edge"),
       MakeNode("n").Label("role", "core"), kNever},
      {"nodeSelector label missing", MakeDaemonSet("ds").NodeSelector("role", "edge"), MakeNode("n"), kNever},
      {"affinity In matches", MakeDaemonSet("ds").Affinity("zone", "In", {"a", "b"}), MakeNode("n").Label("zone", "b"),
       kRun},
      {"affinity In does not match", MakeDaemonSet("ds").Affinity("zone", "In", {"a"}),
       MakeNode("n").Label("zone", "c"), kNever},
      {"affinity NotIn excludes", MakeDaemonSet("ds").Affinity("zone", "NotIn", {"a"}),
       MakeNode("n").Label("zone", "a"), kNever},
      {"affinity DoesNotExist", MakeDaemonSet("ds").Affinity("gpu", "DoesNotExist", {}), MakeNode("n"), kRun},
      {"affinity that does not parse never matches", MakeDaemonSet("ds").Affinity("zone", "Foo", {"a"}),
       MakeNode("n").Label("zone", "a"), kNever},
      {"untolerated NoSchedule taint: keep, do not start", MakeDaemonSet("ds"),
       MakeNode("n").Taint("dedicated", "db", "NoSchedule"), kKeepOnly},
      {"untolerated NoExecute taint: neither", MakeDaemonSet("ds"), MakeNode("n").Taint("dedicated", "db", "NoExecute"),
       kNever},
      {"PreferNoSchedule taint is ignored", MakeDaemonSet("ds"),
       MakeNode("n").Taint("dedicated", "db", "PreferNoSchedule"), kRun},
      {"NoSchedule tolerated by Equal", MakeDaemonSet("ds").Toleration("dedicated", "Equal", "db", "NoSchedule"),
       MakeNode("n").Taint("dedicated", "db", "NoSchedule"), kRun},
      {"toleration with another value", MakeDaemonSet("ds").Toleration("dedicated", "Equal", "web", "NoSchedule"),
       MakeNode("n").Taint("dedicated", "db", "NoSchedule"), kKeepOnly},
      {"NoExecute tolerated by Exists", MakeDaemonSet("ds").Toleration("dedicated", "Exists", "", ""),
       MakeNode("n").Taint("dedicated", "db", "NoExecute"), kRun},
      {"unschedulable node still runs daemon pods", MakeDaemonSet("ds"), MakeNode("n").Unschedulable(), kRun},
      {"unschedulable taint tolerated automatically", MakeDaemonSet("ds"),
       MakeNode("n").Unschedulable().Taint("node.kubernetes.io/unschedulable", "", "NoSchedule"), kRun},
      {"not-ready NoExecute tolerated automatically", MakeDaemonSet("ds"),
       MakeNode("n").Taint("node.kubernetes.io/not-ready", "", "NoExecute"), kRun},
      {"unreachable NoExecute tolerated automatically", MakeDaemonSet("ds"),
       MakeNode("n").Taint("node.kubernetes.io/unreachable", "", "NoExecute"), kRun},
      {"disk-pressure tolerated automatically", MakeDaemonSet("ds"),
       MakeNode("n").Taint("node.kubernetes.io/disk-pressure", "", "NoSchedule"), kRun},
      {"memory-pressure tolerated automatically", MakeDaemonSet("ds"),
       MakeNode("n").Taint("node.kubernetes.io/memory-pressure", "", "NoSchedule"), kRun},
      {"pid-pressure tolerated automatically", MakeDaemonSet("ds"),
       MakeNode("n").Taint("node.kubernetes.io/pid-pressure", "", "NoSchedule"), kRun},
      {"network-unavailable: not tolerated without hostNetwork", MakeDaemonSet("ds"),
       MakeNode("n").Taint("node.kubernetes.io/network-unavailable", "", "NoSchedule"), kKeepOnly},
      {"network-unavailable: tolerated with hostNetwork", MakeDaemonSet("ds").HostNetwork(),
       MakeNode("n").Taint("node.kubernetes.io/network-unavailable", "", "NoSchedule"), kRun},
      {"not-ready NoSchedule is not covered by the NoExecute toleration", MakeDaemonSet("ds"),
       MakeNode("n").Taint("node.kubernetes.io/not-ready", "", "NoSchedule"), kKeepOnly},
      {"template nodeName names this node", MakeDaemonSet("ds").TemplateNodeName("n"), MakeNode("n"), kRun},
      {"template nodeName names another node", MakeDaemonSet("ds").TemplateNodeName("other"), MakeNode("n"), kNever},
      {"resources are not checked", MakeDaemonSet("ds"), MakeNode("n").Capacity("0", "0", "0"), kRun},
  };
  for (const Case& c : cases) {
    NodeVerdict got = daemonset::NodeShouldRunDaemonPod(c.node, c.ds);
    EXPECT_EQ(got.should_run, c.want.should_run) << c.name;
    EXPECT_EQ(got.should_continue_running, c.want.should_continue_running) << c.name;
  }
}

TEST(DaemonSetUtilTest, NodeAffinityReplacesRequiredTermsAndKeepsTheRest) {
  corev1::PodSpec spec;
  daemonset::ReplaceDaemonSetPodNodeNameNodeAffinity(&spec, "node-1");
  const auto& req = spec.affinity().nodeaffinity().requiredduringschedulingignoredduringexecution();
  ASSERT_EQ(req.nodeselectorterms_size(), 1);
  ASSERT_EQ(req.nodeselectorterms(0).matchfields_size(), 1);
  EXPECT_EQ(req.nodeselectorterms(0).matchfields(0).key(), "metadata.name");
  EXPECT_EQ(req.nodeselectorterms(0).matchfields(0).operator_(), "In");
  EXPECT_EQ(req.nodeselectorterms(0).matchfields(0).values(0), "node-1");

  corev1::PodSpec with = daemonset::CreatePodTemplate(MakeDaemonSet("ds").Affinity("zone", "In", {"a"}).Obj().spec().template_(),
                                                   std::nullopt, "")
                             .spec();
  auto* na = with.mutable_affinity()->mutable_nodeaffinity();
  na->add_preferredduringschedulingignoredduringexecution()->set_weight(5);
  na->mutable_requiredduringschedulingignoredduringexecution()->add_nodeselectorterms()->add_matchfields()->set_key(
      "metadata.name");
  daemonset::ReplaceDaemonSetPodNodeNameNodeAffinity(&with, "node-2");
  const auto& r2 = with.affinity().nodeaffinity().requiredduringschedulingignoredduringexecution();
  ASSERT_EQ(r2.nodeselectorterms_size(), 1);
  EXPECT_EQ(r2.nodeselectorterms(0).matchexpressions_size(), 0);
  EXPECT_EQ(r2.nodeselectorterms(0).matchfields(0).values(0), "node-2");
  EXPECT_EQ(with.affinity().nodeaffinity().preferredduringschedulingignoredduringexecution_size(), 1);

  corev1::Pod pod;
  *pod.mutable_spec() = with;
  EXPECT_EQ(TargetNode(pod), "node-2");
  pod.mutable_spec()->set_nodename("node-9");
  EXPECT_EQ(TargetNode(pod), "node-9");
  EXPECT_FALSE(daemonset::GetTargetNodeName(corev1::Pod()).ok());
}

TEST(DaemonSetUtilTest, DaemonTolerationsAreAddedOnceAndReplaceTheirNamesakes) {
  corev1::PodSpec spec;
  corev1::Toleration* own = spec.add_tolerations();
  own->set_key("node.kubernetes.io/not-ready");
  own->set_operator_("Exists");
  own->set_effect("NoExecute");
  own->set_tolerationseconds(300);
  daemonset::AddOrUpdateDaemonPodTolerations(&spec);
  daemonset::AddOrUpdateDaemonPodTolerations(&spec);
  ASSERT_EQ(spec.tolerations_size(), 6);
  EXPECT_EQ(spec.tolerations(0).key(), "node.kubernetes.io/not-ready");
  EXPECT_FALSE(spec.tolerations(0).has_tolerationseconds()) << "daemon pods are never evicted for not-ready";
  std::set<std::string> keys;
  for (const auto& t : spec.tolerations()) keys.insert(t.key() + ":" + t.effect());
  EXPECT_EQ(keys, (std::set<std::string>{"node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/unreachable:NoExecute",
                                         "node.kubernetes.io/disk-pressure:NoSchedule",
                                         "node.kubernetes.io/memory-pressure:NoSchedule",
                                         "node.kubernetes.io/pid-pressure:NoSchedule",
                                         "node.kubernetes.io/unschedulable:NoSchedule"}));
  spec.set_hostnetwork(true);
  daemonset::AddOrUpdateDaemonPodTolerations(&spec);
  EXPECT_EQ(spec.tolerations_size(), 7);
}

TEST(DaemonSetUtilTest, ScaledIntOrPercent) {
  struct Case {
    std::string value;
    int total;
    int want;
  };
  for (const Case& c : std::vector<Case>{{"1", 10, 1}, {"0", 10, 0}, {"25%", 10, 3}, {"50%", 4, 2}, {"34%", 3, 2},
                                         {"100%", 7, 7}, {"0%", 7, 0}, {"10%", 0, 0}}) {
    intstr::IntOrString v = IntOrString(c.value);
    Result<int> got = daemonset::ScaledValueFromIntOrPercent(&v, c.total, true);
    ASSERT_TRUE(got.ok()) << c.value;
    EXPECT_EQ(*got, c.want) << c.value << " of " << c.total;
  }
  intstr::IntOrString bad;
  bad.set_type(1);
  bad.set_strval("abc");
  EXPECT_EQ(daemonset::ScaledValueFromIntOrPercent(&bad, 3, true).status().message(),
            "invalid value for IntOrString: invalid type: string is not a percentage");
  bad.set_strval("x%");
  EXPECT_FALSE(daemonset::ScaledValueFromIntOrPercent(&bad, 3, true).ok());
  EXPECT_FALSE(daemonset::ScaledValueFromIntOrPercent(nullptr, 3, true).ok());

  EXPECT_EQ(*daemonset::SurgeCount(MakeDaemonSet("ds").MaxSurge("50%"), 3), 2);
  EXPECT_EQ(*daemonset::UnavailableCount(MakeDaemonSet("ds").MaxUnavailable("2"), 3), 2);
  EXPECT_EQ(*daemonset::SurgeCount(MakeDaemonSet("ds").OnDelete(), 3), 0);
  EXPECT_EQ(*daemonset::UnavailableCount(MakeDaemonSet("ds").OnDelete(), 3), 0);
  EXPECT_TRUE(daemonset::AllowsSurge(MakeDaemonSet("ds").MaxSurge("1")));
  EXPECT_FALSE(daemonset::AllowsSurge(MakeDaemonSet("ds")));
}

TEST(DaemonSetUtilTest, RevisionDataIsATemplateReplacingPatch) {
  appsv1::DaemonSet ds = MakeDaemonSet("ds");
  Result<std::string> data = daemonset::RevisionData(ds);
  ASSERT_TRUE(data.ok());
  Result<std::string> tmpl = api::ToJson(ds.spec().template_());
  ASSERT_TRUE(tmpl.ok());
  EXPECT_EQ(*data, R"({"spec":{"template":)" + tmpl->substr(0, tmpl->size() - 1) + R"(,"$patch":"replace"}}})");
  EXPECT_NE(*daemonset::RevisionData(MakeDaemonSet("ds").Image("other")), *data);

  // Revisions are matched byte for byte: the data must come back from the wire unchanged.
  appsv1::ControllerRevision revision;
  revision.mutable_metadata()->set_name("ds-1");
  revision.mutable_data()->set_raw(*data);
  Result<std::string> wire = api::ToJson(revision, {.kind = "ControllerRevision", .api_version = "apps/v1"});
  ASSERT_TRUE(wire.ok());
  appsv1::ControllerRevision back;
  ASSERT_TRUE(api::FromJson(*wire, &back).ok());
  EXPECT_EQ(back.data().raw(), *data);
}

TEST(DaemonSetUtilTest, PodUpdatedByHashOrAnnotatedGeneration) {
  corev1::Pod pod = MakePod("p").Label(kControllerRevisionHashLabel, "abc").Label("pod-template-generation", "3");
  EXPECT_TRUE(daemonset::IsPodUpdated(pod, "abc", std::nullopt));
  EXPECT_FALSE(daemonset::IsPodUpdated(pod, "xyz", std::nullopt));
  EXPECT_TRUE(daemonset::IsPodUpdated(pod, "xyz", 3));
  EXPECT_FALSE(daemonset::IsPodUpdated(pod, "xyz", 4));

  appsv1::DaemonSet ds = MakeDaemonSet("ds");
  ds.mutable_metadata()->set_generation(2);
  EXPECT_EQ(daemonset::PodTemplateGenerationLabelValue(ds), 2);
  (*ds.mutable_metadata()->mutable_annotations())["deprecated.daemonset.template.generation"] = "7";
  EXPECT_EQ(daemonset::PodTemplateGenerationLabelValue(ds), 7);
  EXPECT_EQ(**daemonset::GetTemplateGeneration(ds), 7);
  (*ds.mutable_metadata()->mutable_annotations())["deprecated.daemonset.template.generation"] = "x";
  EXPECT_FALSE(daemonset::GetTemplateGeneration(ds).ok());
}

TEST(DaemonSetUtilTest, FailedPodsBackoffDoublesAndExpires) {
  FakeClock clock;
  daemonset::FailedPodsBackoff backoff(clock);
  EXPECT_FALSE(backoff.IsInBackOffSinceUpdate("k"));
  backoff.Next("k");
  EXPECT_EQ(backoff.Get("k"), 1s);
  EXPECT_TRUE(backoff.IsInBackOffSinceUpdate("k"));
  clock.Advance(1s);
  EXPECT_FALSE(backoff.IsInBackOffSinceUpdate("k"));
  backoff.Next("k");
  EXPECT_EQ(backoff.Get("k"), 2s);
  for (int i = 0; i < 20; ++i) backoff.Next("k");
  EXPECT_EQ(backoff.Get("k"), 15min);
  clock.Advance(31min);
  EXPECT_FALSE(backoff.IsInBackOffSinceUpdate("k"));
  backoff.GC();
  EXPECT_EQ(backoff.size(), 0u);
}

// ---- The controller ----------------------------------------------------------------------------

class DaemonSetControllerTest : public ::testing::Test {
 protected:
  void Start() {
    controller_ = std::make_unique<DaemonSetsController>(env_.context);
    env_.StartInformers(controller_->Informers());
  }
  void StartWorkers() {
    controller_ = std::make_unique<DaemonSetsController>(env_.context);
    env_.Start(*controller_);
  }

  template <typename T>
  bool CacheMatches() {
    std::map<std::string, std::string> want, have;
    for (const auto& o : env_.api.Objects(ResourceOf(T::descriptor()))) want[client::KeyOf(o)] = client::ResourceVersionOf(*o);
    for (const auto& o : env_.factory.ForKind<T>().Lister().List()) have[client::KeyOf(*o)] = client::ResourceVersionOf(*o);
    return want == have;
  }
  // The informers show what the API holds and every create and delete was counted down.
  void Settle(const std::string& key = "default/ds") {
    ASSERT_TRUE(WaitFor([&] {
      auto [adds, dels] = controller_->PendingExpectations(key);
      return CacheMatches<corev1::Pod>() && CacheMatches<corev1::Node>() && CacheMatches<appsv1::DaemonSet>() &&
             CacheMatches<appsv1::ControllerRevision>() && adds <= 0 && dels <= 0;
    }));
  }
  void Sync(const std::string& key = "default/ds") {
    Settle(key);
    Status s = controller_->SyncForTesting(key);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::vector<corev1::Pod> Pods() { return env_.List<corev1::Pod>("default"); }
  std::vector<corev1::Pod> LivePods() {
    std::vector<corev1::Pod> out;
    for (auto& p : Pods()) {
      if (!p.metadata().has_deletiontimestamp()) out.push_back(p);
    }
    return out;
  }
  std::map<std::string, int> LivePodsPerNode() {
    std::map<std::string, int> out;
    for (auto& p : LivePods()) ++out[TargetNode(p)];
    return out;
  }
  appsv1::DaemonSet GetDs(const std::string& name = "ds") { return *env_.Get<appsv1::DaemonSet>("default", name); }
  std::vector<appsv1::ControllerRevision> Revisions() { return env_.List<appsv1::ControllerRevision>("default"); }
  std::string CurrentHash() {
    std::vector<appsv1::ControllerRevision> revs = Revisions();
    auto newest = std::max_element(revs.begin(), revs.end(),
                                   [](const auto& a, const auto& b) { return a.revision() < b.revision(); });
    return newest == revs.end() ? "" : newest->metadata().labels().at(kControllerRevisionHashLabel);
  }

  // Plays the scheduler: binds every pending pod to the node its affinity names.
  void BindPending() {
    for (const corev1::Pod& p : LivePods()) {
      if (!p.spec().nodename().empty()) continue;
      corev1::Binding b;
      b.mutable_metadata()->set_name(p.metadata().name());
      b.mutable_target()->set_kind("Node");
      b.mutable_target()->set_name(TargetNode(p));
      ASSERT_TRUE(env_.api.CreateSubresource(ResourceOf(corev1::Pod::descriptor()), "default", p.metadata().name(),
                                             "binding", b)
                      .ok());
    }
  }
  // Plays the kubelet: a pod's phase and readiness.
  void SetPodStatus(const std::string& name, const std::string& phase, bool ready) {
    corev1::Pod p = *env_.Get<corev1::Pod>("default", name);
    p.mutable_status()->set_phase(phase);
    p.mutable_status()->clear_conditions();
    if (ready) {
      corev1::PodCondition* c = p.mutable_status()->add_conditions();
      c->set_type("Ready");
      c->set_status("True");
      api::SetTime(c->mutable_lasttransitiontime(), env_.clock.Now());
    }
    ASSERT_TRUE(env_.api.Update(ResourceOf(corev1::Pod::descriptor()), "default", p, "status").ok());
  }
  void ReadyAllBound() {
    for (const corev1::Pod& p : LivePods()) {
      if (!p.spec().nodename().empty() && !api::IsConditionTrue(p.status().conditions(), "Ready")) {
        SetPodStatus(p.metadata().name(), "Running", true);
      }
    }
  }
  // Plays the kubelet: pods being deleted gracefully finish.
  void FinishTerminating() {
    for (const corev1::Pod& p : Pods()) {
      if (!p.metadata().has_deletiontimestamp()) continue;
      client::DeleteOptions o;
      o.grace_period_seconds = 0;
      ASSERT_TRUE(env_.api.Delete(ResourceOf(corev1::Pod::descriptor()), "default", p.metadata().name(), o).ok());
    }
  }
  void UpdateDs(const std::function<void(appsv1::DaemonSet*)>& edit, const std::string& name = "ds") {
    appsv1::DaemonSet ds = GetDs(name);
    edit(&ds);
    ASSERT_TRUE(env_.api.Update(ResourceOf(appsv1::DaemonSet::descriptor()), "default", ds).ok());
  }
  void SetImage(const std::string& image) {
    UpdateDs([&](appsv1::DaemonSet* ds) {
      ds->mutable_spec()->mutable_template_()->mutable_spec()->mutable_containers(0)->set_image(image);
    });
  }
  void RelabelNode(const std::string& node, const std::string& key, const std::string& value) {
    corev1::Node n = *env_.Get<corev1::Node>("", node);
    if (value.empty()) {
      n.mutable_metadata()->mutable_labels()->erase(key);
    } else {
      (*n.mutable_metadata()->mutable_labels())[key] = value;
    }
    ASSERT_TRUE(env_.api.Update(ResourceOf(corev1::Node::descriptor()), "", n).ok());
  }
  void AddNodes(int n, const std::string& label_value = "") {
    for (int i = 1; i <= n; ++i) {
      auto node = MakeNode("node-" + std::to_string(i));
      if (!label_value.empty()) node.Label("role", label_value);
      env_.Create(corev1::Node(node));
    }
  }

  ControllerTestEnv env_;
  std::unique_ptr<DaemonSetsController> controller_;
};

TEST_F(DaemonSetControllerTest, CreatesOnePodPerEligibleNodePinnedThroughNodeAffinity) {
  env_.Create(corev1::Node(MakeNode("node-1")));
  env_.Create(corev1::Node(MakeNode("node-2").Taint("dedicated", "db", "NoSchedule")));
  env_.Create(corev1::Node(MakeNode("node-3").Unschedulable().Taint("node.kubernetes.io/unschedulable", "", "NoSchedule")));
  appsv1::DaemonSet ds = env_.Create(appsv1::DaemonSet(MakeDaemonSet("ds")));
  Start();
  Sync();

  std::vector<corev1::Pod> pods = Pods();
  ASSERT_EQ(pods.size(), 2u);
  std::vector<appsv1::ControllerRevision> revs = Revisions();
  ASSERT_EQ(revs.size(), 1u);
  const std::string hash = revs[0].metadata().labels().at(kControllerRevisionHashLabel);
  EXPECT_EQ(revs[0].metadata().name(), "ds-" + hash);
  EXPECT_EQ(revs[0].revision(), 1);
  EXPECT_TRUE(api::IsControlledBy(revs[0].metadata(), ds.metadata().uid()));
  EXPECT_TRUE(revs[0].data().raw().starts_with(R"({"spec":{"template":{)"));
  EXPECT_TRUE(revs[0].data().raw().ends_with(R"("$patch":"replace"}}})"));

  std::set<std::string> nodes;
  for (const corev1::Pod& p : pods) {
    nodes.insert(TargetNode(p));
    EXPECT_TRUE(p.spec().nodename().empty()) << "the scheduler binds daemon pods";
    const auto& terms = p.spec().affinity().nodeaffinity().requiredduringschedulingignoredduringexecution().nodeselectorterms();
    ASSERT_EQ(terms.size(), 1);
    EXPECT_EQ(terms[0].matchfields(0).key(), "metadata.name");
    EXPECT_TRUE(p.metadata().generatename().starts_with("ds-"));
    EXPECT_EQ(Label(p, "app"), "ds");
    EXPECT_EQ(Label(p, kControllerRevisionHashLabel), hash);
    EXPECT_EQ(Label(p, "pod-template-generation"), "1");
    EXPECT_TRUE(api::IsControlledBy(p.metadata(), ds.metadata().uid()));
    EXPECT_GE(p.spec().tolerations_size(), 6) << "daemon tolerations";
  }
  EXPECT_EQ(nodes, (std::set<std::string>{"node-1", "node-3"}));

  Sync();  // observes its creates; nothing more to do
  EXPECT_EQ(Pods().size(), 2u);
  appsv1::DaemonSet got = GetDs();
  EXPECT_EQ(got.status().desirednumberscheduled(), 2);
  EXPECT_EQ(got.status().currentnumberscheduled(), 2);
  EXPECT_EQ(got.status().updatednumberscheduled(), 2);
  EXPECT_EQ(got.status().numberunavailable(), 2);
  EXPECT_EQ(got.status().observedgeneration(), got.metadata().generation());
  ASSERT_TRUE(WaitFor([&] { return env_.Events("SuccessfulCreate").size() == 2; }));
  for (const auto& e : env_.Events("SuccessfulCreate")) {
    EXPECT_TRUE(e.message().starts_with("Created pod: ds-")) << e.message();
    EXPECT_EQ(e.source().component(), "daemonset-controller");
    EXPECT_EQ(e.involvedobject().kind(), "DaemonSet");
  }
}

TEST_F(DaemonSetControllerTest, SelectingAllIsRefused) {
  env_.Create(corev1::Node(MakeNode("node-1")));
  appsv1::DaemonSet ds = MakeDaemonSet("ds");
  ds.mutable_spec()->mutable_selector()->clear_matchlabels();
  env_.Create(ds);
  Start();
  Sync();
  EXPECT_TRUE(Pods().empty());
  ASSERT_TRUE(WaitFor([&] { return env_.Events("SelectingAll").size() == 1; }));
  EXPECT_EQ(env_.Events("SelectingAll")[0].message(),
            "This daemon set is selecting all pods. A non-empty selector is required.");
}

// The controller writes to one API and reads from informers over another, which sees the
// controller's pods only when the test copies them: a cache that lags as long as the test wants.
TEST(DaemonSetExpectationsTest, LaggingCacheNeverCreatesTwice) {
  FakeClock clock;
  FakeRandom random{7};
  metrics::Registry registry;
  client::FakeApi server(clock, random);
  client::FakeApi cache_source(clock, random);
  client::SharedInformerFactory factory(cache_source, clock, random);
  client::EventBroadcaster events(server, clock, client::EventBroadcasterOptions{}, random);
  events.Start();
  ControllerSettings settings;
  ControllerContext context{server, factory, clock, random, registry, events, settings, ""};
  const auto& pods_r = ResourceOf(corev1::Pod::descriptor());
  for (client::FakeApi* api : {&server, &cache_source}) {
    for (const char* n : {"node-1", "node-2"}) ASSERT_TRUE(api->Create(ResourceOf(corev1::Node::descriptor()), "", corev1::Node(MakeNode(n))).ok());
  }
  ASSERT_TRUE(server.Create(ResourceOf(appsv1::DaemonSet::descriptor()), "default", appsv1::DaemonSet(MakeDaemonSet("ds"))).ok());
  ASSERT_TRUE(
      cache_source.Create(ResourceOf(appsv1::DaemonSet::descriptor()), "default", appsv1::DaemonSet(MakeDaemonSet("ds"))).ok());
  {
    DaemonSetsController c(context);
    factory.Start();
    for (auto* informer : c.Informers()) ASSERT_TRUE(WaitFor([&] { return informer->HasSynced(); }));

    ASSERT_TRUE(c.SyncForTesting("default/ds").ok());
    EXPECT_EQ(server.Objects(pods_r).size(), 2u);
    EXPECT_EQ(c.PendingExpectations("default/ds"), std::make_pair(2, 0));
    // The cache has not seen the pods: without expectations this sync would create two more.
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.SyncForTesting("default/ds").ok());
    EXPECT_EQ(server.Objects(pods_r).size(), 2u);
    EXPECT_EQ(server.Calls(client::FakeApi::Verb::kCreate, "pods"), 2);

    // The creates reach the cache: counted down, and the next sync sees both pods.
    for (const auto& pod : server.Objects(pods_r)) {
      corev1::Pod copy = static_cast<const corev1::Pod&>(*pod);
      copy.mutable_metadata()->clear_resourceversion();
      copy.mutable_metadata()->clear_uid();
      ASSERT_TRUE(cache_source.Create(pods_r, "default", copy).ok());
    }
    ASSERT_TRUE(WaitFor([&] {
      auto [adds, dels] = c.PendingExpectations("default/ds");
      return adds <= 0 && dels <= 0;
    }));
    ASSERT_TRUE(WaitFor([&] { return factory.ForKind<corev1::Pod>().Lister().List().size() == 2; }));
    ASSERT_TRUE(c.SyncForTesting("default/ds").ok());
    EXPECT_EQ(server.Calls(client::FakeApi::Verb::kCreate, "pods"), 2);

    // Unobserved expectations expire after five minutes (a lost watch event must not block).
    ASSERT_TRUE(cache_source.Create(ResourceOf(corev1::Node::descriptor()), "", corev1::Node(MakeNode("node-3"))).ok());
    ASSERT_TRUE(server.Create(ResourceOf(corev1::Node::descriptor()), "", corev1::Node(MakeNode("node-3"))).ok());
    ASSERT_TRUE(WaitFor([&] { return factory.ForKind<corev1::Node>().Lister().List().size() == 3; }));
    ASSERT_TRUE(c.SyncForTesting("default/ds").ok());
    EXPECT_EQ(server.Calls(client::FakeApi::Verb::kCreate, "pods"), 3);
    ASSERT_TRUE(c.SyncForTesting("default/ds").ok());
    EXPECT_EQ(server.Calls(client::FakeApi::Verb::kCreate, "pods"), 3);
    clock.Advance(ControllerExpectations::kDefaultTtl + 1s);
    ASSERT_TRUE(c.SyncForTesting("default/ds").ok());
    EXPECT_EQ(server.Calls(client::FakeApi::Verb::kCreate, "pods"), 4);
  }
  events.Shutdown();
  factory.Shutdown();
}

TEST_F(DaemonSetControllerTest, FailedCreateLowersExpectationsAndSkipsTheRestOfTheSlowStart) {
  AddNodes(5);
  env_.Create(appsv1::DaemonSet(MakeDaemonSet("ds")));
  Start();
  // Batches of 1, 2, 2: the second batch fails, the third is never tried.
  int creates = 0;
  env_.api.SetRequestHook([&](const client::FakeApi::Request& r) -> Status {
    if (r.verb != client::FakeApi::Verb::kCreate || r.resource != "pods") return Status::Ok();
    return ++creates >= 2 ? Forbidden("exceeded quota: compute") : Status::Ok();
  });
  Settle();
  Status s = controller_->SyncForTesting("default/ds");
  EXPECT_EQ(s.code(), Code::kForbidden);
  EXPECT_EQ(creates, 3);
  EXPECT_EQ(Pods().size(), 1u);
  env_.api.SetRequestHook(nullptr);
  Settle();  // the failed and skipped creates are not waited for
  Sync();
  EXPECT_EQ(Pods().size(), 5u);
  // Identical messages: the recorder counts them on one Event.
  ASSERT_TRUE(WaitFor([&] {
    int32_t total = 0;
    for (const auto& e : env_.Events("FailedCreate")) total += e.count();
    return total == 2;
  }));
}

struct RollingCase {
  std::string name;
  int nodes;
  std::string max_unavailable;
  int per_step;  // old pods replaced at once
};

class DaemonSetRollingUpdateTest : public DaemonSetControllerTest,
                                   public ::testing::WithParamInterface<RollingCase> {};

TEST_P(DaemonSetRollingUpdateTest, ReplacesAtMostMaxUnavailableAtATime) {
  const RollingCase& c = GetParam();
  AddNodes(c.nodes);
  env_.Create(appsv1::DaemonSet(MakeDaemonSet("ds").MaxUnavailable(c.max_unavailable)));
  Start();
  Sync();
  BindPending();
  ReadyAllBound();
  const std::string old_hash = CurrentHash();
  SetImage("registry.example.com/agent:2");
  Sync();
  const std::string new_hash = CurrentHash();
  ASSERT_NE(new_hash, old_hash);

  int remaining = c.nodes;
  for (int step = 0; remaining > 0; ++step) {
    ASSERT_LT(step, c.nodes + 1) << "no progress";
    // Deleted this step: the old pods now terminating.
    int deleting = 0;
    for (const corev1::Pod& p : Pods()) {
      if (p.metadata().has_deletiontimestamp() && Label(p, kControllerRevisionHashLabel) == old_hash) ++deleting;
    }
    EXPECT_EQ(deleting, std::min(c.per_step, remaining)) << "step " << step;
    remaining -= deleting;
    FinishTerminating();
    Sync();  // Manage creates the successors
    std::vector<corev1::Pod> live = LivePods();
    EXPECT_EQ(live.size(), static_cast<size_t>(c.nodes));
    BindPending();
    Sync();  // new pods are not ready yet: no further deletion
    for (const corev1::Pod& p : Pods()) EXPECT_FALSE(p.metadata().has_deletiontimestamp()) << "step " << step;
    ReadyAllBound();
    Sync();
  }
  for (const corev1::Pod& p : Pods()) EXPECT_EQ(Label(p, kControllerRevisionHashLabel), new_hash);
  Sync();
  appsv1::DaemonSet ds = GetDs();
  EXPECT_EQ(ds.status().updatednumberscheduled(), c.nodes);
  EXPECT_EQ(ds.status().numberavailable(), c.nodes);
  EXPECT_EQ(ds.status().numberunavailable(), 0);
}

INSTANTIATE_TEST_SUITE_P(Steps, DaemonSetRollingUpdateTest,
                         ::testing::Values(RollingCase{"one_at_a_time", 3, "1", 1}, RollingCase{"two", 4, "2", 2},
                                           RollingCase{"half", 4, "50%", 2}, RollingCase{"rounded_up", 3, "34%", 2},
                                           RollingCase{"zero_means_one", 3, "0", 1}, RollingCase{"all", 3, "100%", 3}),
                         [](const ::testing::TestParamInfo<RollingCase>& info) { return info.param.name; });

TEST_F(DaemonSetControllerTest, UnavailableOldPodIsReplacedBeyondTheBudget) {
  AddNodes(3);
  env_.Create(appsv1::DaemonSet(MakeDaemonSet("ds").MaxUnavailable("1")));
  Start();
  Sync();
  BindPending();
  ReadyAllBound();
  // node-1's old pod is not ready: it is replaced at once, and it uses up the one unavailable pod
  // allowed, so no ready pod goes with it.
  for (const corev1::Pod& p : Pods()) {
    if (TargetNode(p) == "node-1") SetPodStatus(p.metadata().name(), "Running", false);
  }
  SetImage("registry.example.com/agent:2");
  Sync();
  int deleting = 0;
  for (const corev1::Pod& p : Pods()) deleting += p.metadata().has_deletiontimestamp() ? 1 : 0;
  EXPECT_EQ(deleting, 1);
  for (const corev1::Pod& p : Pods()) EXPECT_EQ(p.metadata().has_deletiontimestamp(), TargetNode(p) == "node-1");
}

TEST_F(DaemonSetControllerTest, SurgeStartsTheNewPodBeforeDeletingTheOldOne) {
  AddNodes(3);
  env_.Create(appsv1::DaemonSet(MakeDaemonSet("ds").MaxSurge("1").MaxUnavailable("0")));
  Start();
  Sync();
  BindPending();
  ReadyAllBound();
  const std::string old_hash = CurrentHash();
  SetImage("registry.example.com/agent:2");
  Sync();
  const std::string new_hash = CurrentHash();

  // Invariant of maxUnavailable 0: every node keeps a ready pod until the update is done.
  auto every_node_has_a_ready_pod = [&] {
    std::map<std::string, bool> ready;
    for (const corev1::Pod& p : LivePods()) {
      ready[TargetNode(p)] = ready[TargetNode(p)] || api::IsConditionTrue(p.status().conditions(), "Ready");
    }
    return ready.size() == 3 && std::all_of(ready.begin(), ready.end(), [](const auto& kv) { return kv.second; });
  };
  std::vector<std::string> order;
  for (int step = 0; step < 3; ++step) {
    // One new pod at a time, next to the old one.
    std::map<std::string, int> per_node = LivePodsPerNode();
    std::vector<std::string> surged;
    for (const auto& [node, n] : per_node) {
      if (n == 2) surged.push_back(node);
    }
    ASSERT_EQ(surged.size(), 1u) << "step " << step;
    order.push_back(surged[0]);
    EXPECT_TRUE(every_node_has_a_ready_pod()) << "step " << step;
    BindPending();
    Sync();  // the new pod is not available yet: nothing else happens
    EXPECT_EQ(LivePodsPerNode(), per_node) << "step " << step;
    ReadyAllBound();
    Sync();  // available: the old pod goes, the next node surges
    EXPECT_TRUE(every_node_has_a_ready_pod()) << "step " << step;
    FinishTerminating();
    Settle();
    if (step < 2) Sync();
  }
  EXPECT_EQ(order, (std::vector<std::string>{"node-1", "node-2", "node-3"}));
  Sync();
  for (const corev1::Pod& p : Pods()) EXPECT_EQ(Label(p, kControllerRevisionHashLabel), new_hash);
  EXPECT_EQ(LivePodsPerNode(), (std::map<std::string, int>{{"node-1", 1}, {"node-2", 1}, {"node-3", 1}}));
  EXPECT_NE(old_hash, new_hash);
}

TEST_F(DaemonSetControllerTest, SurgeReplacesAnUnreadyOldPodAtOnce) {
  AddNodes(2);
  env_.Create(appsv1::DaemonSet(MakeDaemonSet("ds").MaxSurge("1").MaxUnavailable("0")));
  Start();
  Sync();
  BindPending();
  ReadyAllBound();
  for (const corev1::Pod& p : Pods()) {
    if (TargetNode(p) == "node-2") SetPodStatus(p.metadata().name(), "Running", false);
  }
  SetImage("registry.example.com/agent:2");
  Sync();
  // node-2's old pod is not available: its replacement does not count against maxSurge.
  EXPECT_EQ(LivePodsPerNode(), (std::map<std::string, int>{{"node-1", 2}, {"node-2", 2}}));
  BindPending();
  Sync();
  // Manage: the unready old pod next to a new one goes at once.
  int deleting = 0;
  for (const corev1::Pod& p : Pods()) {
    if (p.metadata().has_deletiontimestamp()) {
      ++deleting;
      EXPECT_EQ(TargetNode(p), "node-2");
    }
  }
  EXPECT_EQ(deleting, 1);
}

TEST_F(DaemonSetControllerTest, OnDeleteWaitsForTheUser) {
  AddNodes(2);
  env_.Create(appsv1::DaemonSet(MakeDaemonSet("ds").OnDelete()));
  Start();
  Sync();
  BindPending();
  ReadyAllBound();
  SetImage("registry.example.com/agent:2");
  Sync();
  Sync();
  for (const corev1::Pod& p : Pods()) EXPECT_FALSE(p.metadata().has_deletiontimestamp());
  EXPECT_EQ(GetDs().status().updatednumberscheduled(), 0);
  // The user deletes one: its successor has the new template.
  std::string victim = Pods()[0].metadata().name();
  client::DeleteOptions now;
  now.grace_period_seconds = 0;
  ASSERT_TRUE(env_.api.Delete(ResourceOf(corev1::Pod::descriptor()), "default", victim, now).ok());
  Sync();
  Sync();
  EXPECT_EQ(Pods().size(), 2u);
  EXPECT_EQ(GetDs().status().updatednumberscheduled(), 1);
  int fresh = 0;
  for (const corev1::Pod& p : Pods()) fresh += Label(p, kControllerRevisionHashLabel) == CurrentHash() ? 1 : 0;
  EXPECT_EQ(fresh, 1);
}

TEST_F(DaemonSetControllerTest, DuplicatePodsOnANodeKeepTheOldest) {
  AddNodes(1);
  appsv1::DaemonSet ds = env_.Create(appsv1::DaemonSet(MakeDaemonSet("ds").OnDelete()));
  for (const char* name : {"ds-old", "ds-new"}) {
    env_.Create(corev1::Pod(MakePod(name).Label("app", "ds").OwnerRef("DaemonSet", "ds", ds.metadata().uid())
                                .Node("node-1").Phase("Running")));
    env_.clock.Advance(1s);
  }
  Start();
  Sync();
  std::map<std::string, bool> deleting;
  for (const corev1::Pod& p : Pods()) deleting[p.metadata().name()] = p.metadata().has_deletiontimestamp();
  EXPECT_EQ(deleting, (std::map<std::string, bool>{{"ds-new", true}, {"ds-old", false}}));
  ASSERT_TRUE(WaitFor([&] { return env_.Events("SuccessfulDelete").size() == 1; }));
  EXPECT_EQ(env_.Events("SuccessfulDelete")[0].message(), "Deleted pod: ds-new");
}

TEST_F(DaemonSetControllerTest, OrphanOnItsNodeIsAdoptedNotDuplicated) {
  AddNodes(2);
  appsv1::DaemonSet ds = env_.Create(appsv1::DaemonSet(MakeDaemonSet("ds")));
  env_.Create(corev1::Pod(MakePod("orphan").Label("app", "ds").Node("node-1").Ready()));
  Start();
  Sync();
  EXPECT_EQ(LivePodsPerNode(), (std::map<std::string, int>{{"node-1", 1}, {"node-2", 1}}));
  corev1::Pod orphan = *env_.Get<corev1::Pod>("default", "orphan");
  EXPECT_TRUE(api::IsControlledBy(orphan.metadata(), ds.metadata().uid()));
}

TEST_F(DaemonSetControllerTest, FailedPodsAreDeletedWithBackoff) {
  AddNodes(1);
  env_.Create(appsv1::DaemonSet(MakeDaemonSet("ds")));
  Start();
  Sync();
  BindPending();
  auto fail_current = [&] {
    std::vector<corev1::Pod> live = LivePods();
    ASSERT_EQ(live.size(), 1u);
    SetPodStatus(live[0].metadata().name(), "Failed", false);
  };
  fail_current();
  Sync();  // deleted (a failed pod goes at once) ...
  EXPECT_TRUE(Pods().empty());
  ASSERT_TRUE(WaitFor([&] { return env_.Events("FailedDaemonPod").size() == 1; }));
  EXPECT_TRUE(env_.Events("FailedDaemonPod")[0].message().starts_with("Found failed daemon pod default/ds-"));
  EXPECT_TRUE(env_.Events("FailedDaemonPod")[0].message().ends_with(" on node node-1, will try to kill it"));
  Sync();  // ... and replaced
  EXPECT_EQ(Pods().size(), 1u);
  BindPending();
  fail_current();
  Sync();  // within the 1 s backoff: kept
  EXPECT_EQ(Pods().size(), 1u);
  env_.clock.Advance(1s);
  Sync();
  EXPECT_TRUE(Pods().empty());
  Sync();
  BindPending();
  fail_current();
  env_.clock.Advance(1s);
  Sync();  // the backoff doubled to 2 s
  EXPECT_EQ(Pods().size(), 1u);
  env_.clock.Advance(1s);
  Sync();
  EXPECT_TRUE(Pods().empty());
}

TEST_F(DaemonSetControllerTest, SucceededPodsAreReplaced) {
  AddNodes(1);
  env_.Create(appsv1::DaemonSet(MakeDaemonSet("ds")));
  Start();
  Sync();
  BindPending();
  SetPodStatus(LivePods()[0].metadata().name(), "Succeeded", false);
  Sync();
  EXPECT_TRUE(Pods().empty());
  ASSERT_TRUE(WaitFor([&] { return env_.Events("SucceededDaemonPod").size() == 1; }));
  Sync();
  EXPECT_EQ(Pods().size(), 1u);
}

TEST_F(DaemonSetControllerTest, NodesComingGoingAndChangingLabels) {
  env_.Create(corev1::Node(MakeNode("node-1").Label("role", "edge")));
  env_.Create(appsv1::DaemonSet(MakeDaemonSet("ds").NodeSelector("role", "edge")));
  StartWorkers();
  auto per_node = [&] { return LivePodsPerNode(); };
  ASSERT_TRUE(WaitFor([&] { return per_node() == std::map<std::string, int>{{"node-1", 1}}; }));

  // Added: a pod for the new node.
  env_.Create(corev1::Node(MakeNode("node-2").Label("role", "edge")));
  ASSERT_TRUE(WaitFor([&] { return per_node() == std::map<std::string, int>{{"node-1", 1}, {"node-2", 1}}; }));
  ASSERT_TRUE(WaitFor([&] { return GetDs().status().desirednumberscheduled() == 2; }));

  // Not eligible, then labelled: a pod appears; unlabelled: it goes.
  env_.Create(corev1::Node(MakeNode("node-3")));
  RelabelNode("node-3", "role", "edge");
  ASSERT_TRUE(WaitFor([&] { return per_node().contains("node-3"); }));
  RelabelNode("node-3", "role", "");
  ASSERT_TRUE(WaitFor([&] { return !per_node().contains("node-3"); }));

  // A new untolerated NoExecute taint evicts the daemon pod too.
  corev1::Node n2 = *env_.Get<corev1::Node>("", "node-2");
  corev1::Taint* t = n2.mutable_spec()->add_taints();
  t->set_key("maintenance");
  t->set_effect("NoExecute");
  ASSERT_TRUE(env_.api.Update(ResourceOf(corev1::Node::descriptor()), "", n2).ok());
  ASSERT_TRUE(WaitFor([&] { return per_node() == std::map<std::string, int>{{"node-1", 1}}; }));

  // Removed: its pending pod (never bound) is deleted and the counts drop.
  env_.Create(corev1::Node(MakeNode("node-4").Label("role", "edge")));
  ASSERT_TRUE(WaitFor([&] { return per_node().contains("node-4"); }));
  ASSERT_TRUE(env_.api.Delete(ResourceOf(corev1::Node::descriptor()), "", "node-4").ok());
  ASSERT_TRUE(WaitFor([&] { return !per_node().contains("node-4"); }));
  ASSERT_TRUE(WaitFor([&] {
    appsv1::DaemonSet ds = GetDs();
    return ds.status().desirednumberscheduled() == 1 && ds.status().currentnumberscheduled() == 1;
  }));
  controller_->Stop();
}

struct StatusCase {
  std::string name;
  int nodes;
  int ready;
  int min_ready_seconds;
  int elapsed_seconds;
  int relabelled;  // nodes that stop matching the selector after their pod started
  int desired, current, want_ready, available, unavailable, misscheduled, updated;
};

class DaemonSetStatusTest : public DaemonSetControllerTest, public ::testing::WithParamInterface<StatusCase> {};

TEST_P(DaemonSetStatusTest, Counts) {
  const StatusCase& c = GetParam();
  AddNodes(c.nodes, "worker");
  env_.Create(appsv1::DaemonSet(MakeDaemonSet("ds").NodeSelector("role", "worker").MinReadySeconds(c.min_ready_seconds)));
  Start();
  Sync();
  BindPending();
  for (int i = 0; i < c.ready; ++i) {
    for (const corev1::Pod& p : LivePods()) {
      if (TargetNode(p) == "node-" + std::to_string(i + 1)) SetPodStatus(p.metadata().name(), "Running", true);
    }
  }
  env_.clock.Advance(std::chrono::seconds(c.elapsed_seconds));
  for (int i = 0; i < c.relabelled; ++i) RelabelNode("node-" + std::to_string(c.nodes - i), "role", "other");
  Sync();
  Sync();
  appsv1::DaemonSetStatus s = GetDs().status();
  EXPECT_EQ(s.desirednumberscheduled(), c.desired);
  EXPECT_EQ(s.currentnumberscheduled(), c.current);
  EXPECT_EQ(s.numberready(), c.want_ready);
  EXPECT_EQ(s.numberavailable(), c.available);
  EXPECT_EQ(s.numberunavailable(), c.unavailable);
  EXPECT_EQ(s.numbermisscheduled(), c.misscheduled);
  EXPECT_EQ(s.updatednumberscheduled(), c.updated);
  EXPECT_EQ(s.observedgeneration(), GetDs().metadata().generation());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DaemonSetStatusTest,
    ::testing::Values(
        //          name                 nodes ready minRdy elapsed relab  des cur rdy avl unav mis upd
        StatusCase{"all_ready", 3, 3, 0, 0, 0, 3, 3, 3, 3, 0, 0, 3},
        StatusCase{"one_ready", 3, 1, 0, 0, 0, 3, 3, 1, 1, 2, 0, 3},
        StatusCase{"min_ready_not_elapsed", 2, 2, 10, 5, 0, 2, 2, 2, 0, 2, 0, 2},
        StatusCase{"min_ready_elapsed", 2, 2, 10, 11, 0, 2, 2, 2, 2, 0, 0, 2},
        StatusCase{"misscheduled", 3, 3, 0, 0, 1, 2, 2, 2, 2, 0, 1, 2},
        StatusCase{"no_nodes", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
    [](const ::testing::TestParamInfo<StatusCase>& info) { return info.param.name; });

TEST_F(DaemonSetControllerTest, RevisionHistoryIsTrimmedAndRollbackReusesTheRevision) {
  env_.Create(appsv1::DaemonSet(MakeDaemonSet("ds").RevisionHistoryLimit(1)));
  Start();
  Sync();
  for (int v = 2; v <= 4; ++v) {
    SetImage("registry.example.com/agent:" + std::to_string(v));
    Sync();
  }
  std::vector<appsv1::ControllerRevision> revs = Revisions();
  ASSERT_EQ(revs.size(), 2u) << "the current revision and one old one";
  std::map<int64_t, std::string> by_number;
  for (const auto& r : revs) by_number[r.revision()] = r.metadata().name();
  ASSERT_TRUE(by_number.contains(4));
  ASSERT_TRUE(by_number.contains(3));
  const std::string v3 = by_number[3];

  SetImage("registry.example.com/agent:3");  // back to the previous template
  Sync();
  revs = Revisions();
  ASSERT_EQ(revs.size(), 2u);
  for (const auto& r : revs) {
    if (r.metadata().name() == v3) {
      EXPECT_EQ(r.revision(), 5) << "the old revision becomes the newest";
    }
  }
  EXPECT_EQ("ds-" + CurrentHash(), v3);
}

TEST_F(DaemonSetControllerTest, LivePodsKeepTheirRevision) {
  AddNodes(1);
  env_.Create(appsv1::DaemonSet(MakeDaemonSet("ds").RevisionHistoryLimit(0).OnDelete()));
  Start();
  Sync();
  const std::string first = CurrentHash();
  SetImage("registry.example.com/agent:2");
  Sync();
  Sync();
  std::set<std::string> hashes;
  for (const auto& r : Revisions()) hashes.insert(r.metadata().labels().at(kControllerRevisionHashLabel));
  EXPECT_TRUE(hashes.contains(first)) << "the running pod still uses it";
  EXPECT_EQ(hashes.size(), 2u);
}

TEST_F(DaemonSetControllerTest, HashCollisionBumpsCollisionCount) {
  appsv1::DaemonSet ds = env_.Create(appsv1::DaemonSet(MakeDaemonSet("ds")));
  // Someone else's revision already has the name the controller would pick.
  std::map<std::string, std::string> labels = {{"app", "ds"}};
  appsv1::ControllerRevision wanted = NewControllerRevision(ds, *daemonset::RevisionData(ds), labels, 1, std::nullopt);
  appsv1::ControllerRevision squatter;
  squatter.mutable_metadata()->set_name("ds-" + HashControllerRevision(wanted, 0));
  squatter.mutable_metadata()->set_namespace_("default");
  (*squatter.mutable_metadata()->mutable_labels())["other"] = "x";
  squatter.mutable_data()->set_raw(R"({"spec":{}})");
  squatter.set_revision(1);
  env_.Create(squatter);
  Start();
  Sync();
  Sync();
  EXPECT_EQ(GetDs().status().collisioncount(), 1);
  int owned = 0;
  for (const auto& r : Revisions()) owned += api::IsControlledBy(r.metadata(), ds.metadata().uid()) ? 1 : 0;
  EXPECT_EQ(owned, 1);
}

}  // namespace
}  // namespace ck::controller_manager
