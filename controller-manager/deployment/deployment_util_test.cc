// Unit tests of the Deployment controller's arithmetic (deployment_util.h), table-driven with
// upstream's numbers (pkg/controller/deployment/util and sync_test.go).
#include "controller-manager/deployment/deployment_util.h"

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/api/object.h"
#include "common/api/testing/builders.h"

namespace ck::controller_manager::deployment {
namespace {

using api::testing::MakeDeployment;
using api::testing::MakeReplicaSet;

intstr::IntOrString Int(int32_t v) {
  intstr::IntOrString o;
  o.set_type(0);
  o.set_intval(v);
  return o;
}
intstr::IntOrString Str(const std::string& v) {
  intstr::IntOrString o;
  o.set_type(1);
  o.set_strval(v);
  return o;
}
// "25%" -> a string value, "3" -> an int value.
intstr::IntOrString Value(const std::string& v) { return v.ends_with('%') || v == "oops" || v == "urg" ? Str(v) : Int(std::stoi(v)); }

appsv1::Deployment Rolling(int32_t replicas, const std::string& surge, const std::string& unavailable) {
  appsv1::Deployment d = MakeDeployment("web").Label("app", "web").Replicas(replicas);
  d.mutable_spec()->mutable_strategy()->set_type(kRollingUpdate);
  *d.mutable_spec()->mutable_strategy()->mutable_rollingupdate()->mutable_maxsurge() = Value(surge);
  *d.mutable_spec()->mutable_strategy()->mutable_rollingupdate()->mutable_maxunavailable() = Value(unavailable);
  return d;
}

ReplicaSetPtr Rs(const std::string& name, int32_t replicas, int64_t created_seconds,
                 std::optional<int32_t> max_replicas = std::nullopt, int32_t available = 0) {
  appsv1::ReplicaSet rs = MakeReplicaSet(name).Label("app", "web").Replicas(replicas);
  rs.mutable_metadata()->set_uid("uid-" + name);
  rs.mutable_metadata()->mutable_creationtimestamp()->set_seconds(created_seconds);
  if (max_replicas) (*rs.mutable_metadata()->mutable_annotations())[kMaxReplicasAnnotation] = std::to_string(*max_replicas);
  rs.mutable_status()->set_availablereplicas(available);
  rs.mutable_status()->set_replicas(replicas);
  return std::make_shared<const appsv1::ReplicaSet>(rs);
}

// Go's arithmetic for percentages, used as an independent reference in the sweeps.
int32_t GoScaled(int32_t percent, int32_t total, bool round_up) {
  double v = static_cast<double>(percent) * static_cast<double>(total) / 100;
  return static_cast<int32_t>(round_up ? std::ceil(v) : std::floor(v));
}

// ---- ResolveFenceposts, MaxSurge, MaxUnavailable ------------------------------------------------

TEST(ResolveFenceposts, UpstreamTable) {
  struct Case {
    std::optional<std::string> surge, unavailable;
    int32_t desired;
    int32_t want_surge, want_unavailable;
    bool want_error;
  };
  // upstream TestResolveFenceposts
  const std::vector<Case> cases = {
      {"0%", "0%", 0, 0, 1, false},   {"39%", "39%", 10, 4, 3, false}, {"oops", "39%", 10, 0, 0, true},
      {"55%", "urg", 10, 0, 0, true}, {std::nullopt, "39%", 10, 0, 3, false},
      {"39%", std::nullopt, 10, 4, 0, false}, {std::nullopt, std::nullopt, 10, 0, 1, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.surge.value_or("nil") + " / " + c.unavailable.value_or("nil") + " of " + std::to_string(c.desired));
    intstr::IntOrString s = c.surge ? Str(*c.surge) : intstr::IntOrString();
    intstr::IntOrString u = c.unavailable ? Str(*c.unavailable) : intstr::IntOrString();
    Result<Fenceposts> f = ResolveFenceposts(c.surge ? &s : nullptr, c.unavailable ? &u : nullptr, c.desired);
    ASSERT_EQ(!f.ok(), c.want_error) << (f.ok() ? "" : f.status().message());
    if (c.want_error) continue;
    EXPECT_EQ(f->max_surge, c.want_surge);
    EXPECT_EQ(f->max_unavailable, c.want_unavailable);
  }
}

TEST(ResolveFenceposts, ErrorNamesThePercentageRule) {
  intstr::IntOrString bad = Str("oops");
  Result<Fenceposts> f = ResolveFenceposts(&bad, nullptr, 10);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "invalid value for IntOrString: invalid type: string is not a percentage");
}

TEST(ResolveFenceposts, HandPickedRollouts) {
  struct Case {
    int32_t replicas;
    std::string surge, unavailable;
    Fenceposts want;
  };
  const std::vector<Case> cases = {
      {10, "25%", "25%", {3, 2}},  // 2.5 up, 2.5 down
      {5, "25%", "25%", {2, 1}},   // 1.25 up, 1.25 down
      {4, "25%", "25%", {1, 1}},   // exact
      {3, "25%", "25%", {1, 0}},   // 0.75 up, 0.75 down
      {1, "25%", "25%", {1, 0}},
      {0, "25%", "25%", {0, 1}},   // both 0: unavailable becomes 1
      {3, "50%", "50%", {2, 1}},
      {7, "100%", "0%", {7, 0}},
      {7, "0%", "100%", {0, 7}},
      {10, "0", "0", {0, 1}},      // ints, both 0
      {10, "2", "3", {2, 3}},
      {10, "0", "3", {0, 3}},
      {2, "0%", "10%", {0, 1}},    // 0.2 rounds down to 0 -> 1
      {20, "10%", "10%", {2, 2}},
      {21, "10%", "10%", {3, 2}},  // 2.1: surge 3, unavailable 2
      {100, "1%", "99%", {1, 99}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::to_string(c.replicas) + " replicas, surge " + c.surge + ", unavailable " + c.unavailable);
    intstr::IntOrString s = Value(c.surge), u = Value(c.unavailable);
    Result<Fenceposts> f = ResolveFenceposts(&s, &u, c.replicas);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(*f, c.want);
  }
}

TEST(ResolveFenceposts, SweepMatchesGoArithmetic) {
  for (int32_t replicas : {0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 13, 17, 25, 50, 99, 100, 101, 333, 1000}) {
    for (int32_t surge : {0, 1, 10, 20, 25, 30, 33, 50, 66, 75, 99, 100}) {
      for (int32_t unavailable : {0, 1, 10, 20, 25, 30, 33, 50, 66, 75, 99, 100}) {
        intstr::IntOrString s = Str(std::to_string(surge) + "%"), u = Str(std::to_string(unavailable) + "%");
        Result<Fenceposts> f = ResolveFenceposts(&s, &u, replicas);
        ASSERT_TRUE(f.ok());
        int32_t want_surge = GoScaled(surge, replicas, true);
        int32_t want_unavailable = GoScaled(unavailable, replicas, false);
        if (want_surge == 0 && want_unavailable == 0) want_unavailable = 1;
        ASSERT_EQ(f->max_surge, want_surge) << replicas << " " << surge << "%";
        ASSERT_EQ(f->max_unavailable, want_unavailable) << replicas << " " << unavailable << "%";
        // And as ints the values pass through unchanged.
        intstr::IntOrString si = Int(surge), ui = Int(unavailable);
        Result<Fenceposts> fi = ResolveFenceposts(&si, &ui, replicas);
        ASSERT_TRUE(fi.ok());
        EXPECT_EQ(fi->max_surge, surge);
        EXPECT_EQ(fi->max_unavailable, surge == 0 && unavailable == 0 ? 1 : unavailable);
      }
    }
  }
}

TEST(MaxUnavailable, UpstreamTable) {
  struct Case {
    std::string name;
    int32_t replicas;
    std::string unavailable;
    bool recreate;
    int32_t want;
  };
  // upstream TestMaxUnavailable (maxSurge 1)
  const std::vector<Case> cases = {
      {"maxUnavailable less than replicas", 10, "5", false, 5},
      {"maxUnavailable equal replicas", 10, "10", false, 10},
      {"maxUnavailable greater than replicas", 5, "10", false, 5},
      {"maxUnavailable with replicas is 0", 0, "10", false, 0},
      {"maxUnavailable with Recreate deployment strategy", 10, "5", true, 0},
      {"maxUnavailable less than replicas with percents", 10, "50%", false, 5},
      {"maxUnavailable equal replicas with percents", 10, "100%", false, 10},
      {"maxUnavailable greater than replicas with percents", 5, "100%", false, 5},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    appsv1::Deployment d = Rolling(c.replicas, "1", c.unavailable);
    if (c.recreate) {
      d.mutable_spec()->mutable_strategy()->set_type(kRecreate);
      d.mutable_spec()->mutable_strategy()->clear_rollingupdate();
    }
    EXPECT_EQ(MaxUnavailable(d), c.want);
    EXPECT_EQ(MinAvailable(d), c.recreate ? 0 : c.replicas - c.want);
  }
}

TEST(MaxSurge, RoundsUpAndIsZeroForRecreate) {
  EXPECT_EQ(MaxSurge(Rolling(10, "25%", "25%")), 3);
  EXPECT_EQ(MaxSurge(Rolling(5, "25%", "25%")), 2);
  EXPECT_EQ(MaxSurge(Rolling(1, "25%", "25%")), 1);
  EXPECT_EQ(MaxSurge(Rolling(10, "4", "0")), 4);
  appsv1::Deployment recreate = Rolling(10, "4", "0");
  recreate.mutable_spec()->mutable_strategy()->set_type(kRecreate);
  EXPECT_EQ(MaxSurge(recreate), 0);
}

TEST(SetDefaults, FillsAppsV1Defaults) {
  appsv1::Deployment d;
  SetDefaults(&d);
  EXPECT_EQ(d.spec().replicas(), 1);
  EXPECT_EQ(d.spec().strategy().type(), kRollingUpdate);
  EXPECT_EQ(d.spec().strategy().rollingupdate().maxsurge().strval(), "25%");
  EXPECT_EQ(d.spec().strategy().rollingupdate().maxunavailable().strval(), "25%");
  EXPECT_EQ(d.spec().revisionhistorylimit(), 10);
  EXPECT_EQ(d.spec().progressdeadlineseconds(), 600);
  // Set values stay.
  appsv1::Deployment r = Rolling(0, "2", "0");
  r.mutable_spec()->set_revisionhistorylimit(0);
  SetDefaults(&r);
  EXPECT_EQ(r.spec().replicas(), 0);
  EXPECT_EQ(r.spec().strategy().rollingupdate().maxsurge().intval(), 2);
  EXPECT_EQ(r.spec().revisionhistorylimit(), 0);
}

// ---- NewRSNewReplicas --------------------------------------------------------------------------

TEST(NewRSNewReplicas, UpstreamTable) {
  struct Case {
    std::string name;
    bool recreate;
    int32_t dep_replicas, new_rs_replicas, max_surge, want;
  };
  // upstream TestNewRSNewReplicas: the other ReplicaSet holds 5 replicas.
  const std::vector<Case> cases = {
      {"can not scale up - to newRSReplicas", false, 1, 5, 1, 5},
      {"scale up - to depReplicas", false, 6, 2, 10, 6},
      {"recreate - to depReplicas", true, 3, 1, 1, 3},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    appsv1::Deployment d = Rolling(c.dep_replicas, std::to_string(c.max_surge), "1");
    if (c.recreate) d.mutable_spec()->mutable_strategy()->set_type(kRecreate);
    ReplicaSetPtr new_rs = Rs("web-new", c.new_rs_replicas, 2);
    Result<int32_t> got = NewRSNewReplicas(d, {Rs("web-old", 5, 1)}, *new_rs);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, c.want);
  }
}

TEST(NewRSNewReplicas, RollingSteps) {
  struct Case {
    int32_t replicas;
    std::string surge;
    int32_t old_total, new_replicas, want;
  };
  const std::vector<Case> cases = {
      {10, "25%", 10, 0, 3},   // fresh rollout: the surge of 3
      {10, "25%", 8, 3, 5},    // old scaled down by 2: room for 2 more
      {10, "25%", 0, 10, 10},  // done
      {10, "25%", 2, 10, 10},  // never beyond replicas
      {10, "0", 10, 0, 0},     // no surge: must wait for old ones to go
      {10, "0", 8, 0, 2},
      {5, "1", 5, 0, 1},
      {5, "100%", 5, 0, 5},
      {1, "25%", 1, 0, 1},
      {3, "2", 3, 1, 2},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::to_string(c.replicas) + " replicas surge " + c.surge + " old " + std::to_string(c.old_total) +
                 " new " + std::to_string(c.new_replicas));
    appsv1::Deployment d = Rolling(c.replicas, c.surge, "1");
    ReplicaSetPtr new_rs = Rs("web-new", c.new_replicas, 2);
    Result<int32_t> got = NewRSNewReplicas(d, {Rs("web-old", c.old_total, 1), new_rs}, *new_rs);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, c.want);
  }
}

TEST(NewRSNewReplicas, UnknownStrategyIsAnError) {
  appsv1::Deployment d = Rolling(3, "1", "1");
  d.mutable_spec()->mutable_strategy()->set_type("BlueGreen");
  EXPECT_FALSE(NewRSNewReplicas(d, {}, *Rs("web-new", 0, 1)).ok());
}

// ---- Proportional scaling (upstream sync_test.go TestScale, maxSurge = maxUnavailable = 0) -----

TEST(PlanProportionalScale, UpstreamTable) {
  struct Case {
    std::string name;
    int32_t old_replicas, new_replicas;
    std::vector<int32_t> sizes;  // newest first
    std::vector<int32_t> want;   // same order
  };
  const std::vector<Case> cases = {
      {"proportional scaling: 5 -> 10", 5, 10, {2, 3}, {4, 6}},
      {"proportional scaling: 5 -> 3", 5, 3, {2, 3}, {1, 2}},
      {"proportional scaling: 9 -> 4", 9, 4, {8, 1}, {4, 0}},
      {"proportional scaling: 7 -> 10", 7, 10, {2, 3, 2}, {3, 4, 3}},
      {"proportional scaling: 13 -> 8", 13, 8, {2, 8, 3}, {1, 5, 2}},
      {"leftover distribution: 3 -> 4", 3, 4, {1, 1, 1}, {2, 1, 1}},
      {"leftover distribution: 4 -> 3", 4, 3, {1, 1, 2}, {1, 1, 1}},
      {"scale to zero", 6, 0, {2, 4}, {0, 0}},
      {"leftover distribution: 7 -> 8 with equal shares", 6, 7, {2, 2, 2}, {3, 2, 2}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    appsv1::Deployment d = Rolling(c.new_replicas, "0", "0");
    d.mutable_status()->set_replicas(c.old_replicas);
    ReplicaSets active;
    for (size_t i = 0; i < c.sizes.size(); ++i) {
      // Index 0 is the newest; every one was sized for the old total (max-replicas = old + surge 0).
      active.push_back(Rs("web-" + std::to_string(i), c.sizes[i], 100 - static_cast<int64_t>(i), c.old_replicas));
    }
    ProportionalPlan plan = PlanProportionalScale(d, active);
    std::map<std::string, int32_t> got;
    int32_t total = 0;
    for (const auto& [rs, size] : plan.sizes) {
      got[rs->metadata().name()] = size;
      total += size;
    }
    for (size_t i = 0; i < c.sizes.size(); ++i) EXPECT_EQ(got["web-" + std::to_string(i)], c.want[i]) << "web-" << i;
    EXPECT_EQ(total, c.new_replicas);
    EXPECT_EQ(plan.operation, c.new_replicas > c.old_replicas ? "up" : "down");
  }
}

TEST(PlanProportionalScale, WithSurgeKeepsTheMaximumTotal) {
  // 10 replicas, surge 3 (25%) mid-rollout: old 8, new 5 = 13 = 10 + 3. Scaled to 20 (surge 5):
  // total 25, split 8:5 of 13 -> round(15.38)=15 and round(9.6)=10.
  appsv1::Deployment d = Rolling(20, "25%", "25%");
  ReplicaSets active = {Rs("web-new", 5, 2, 13), Rs("web-old", 8, 1, 13)};
  ProportionalPlan plan = PlanProportionalScale(d, active);
  ASSERT_EQ(plan.sizes.size(), 2u);
  EXPECT_EQ(plan.operation, "up");
  EXPECT_EQ(plan.sizes[0].first->metadata().name(), "web-old");
  EXPECT_EQ(plan.sizes[0].second, 15);
  EXPECT_EQ(plan.sizes[1].second, 10);
}

TEST(GetProportion, BoundsAndFallbacks) {
  appsv1::Deployment d = Rolling(10, "0", "0");
  d.mutable_status()->set_replicas(5);
  // No annotation: falls back to status.replicas (5): 2 * 10 / 5 = 4 -> +2.
  EXPECT_EQ(GetProportion(Rs("a", 2, 1).get(), d, 5, 0), 2);
  // Bounded by what is left to add.
  EXPECT_EQ(GetProportion(Rs("a", 2, 1).get(), d, 5, 4), 1);
  // Nothing for an empty ReplicaSet, nothing to add, or all added.
  EXPECT_EQ(GetProportion(Rs("a", 0, 1).get(), d, 5, 0), 0);
  EXPECT_EQ(GetProportion(Rs("a", 2, 1).get(), d, 0, 0), 0);
  EXPECT_EQ(GetProportion(Rs("a", 2, 1).get(), d, 5, 5), 0);
  EXPECT_EQ(GetProportion(nullptr, d, 5, 0), 0);
  // Scaling to zero takes it all.
  appsv1::Deployment zero = Rolling(0, "0", "0");
  EXPECT_EQ(GetProportion(Rs("a", 3, 1, 10).get(), zero, -7, 0), -3);
  // An annotation of 0 and status 0 give no share rather than a division by zero.
  appsv1::Deployment fresh = Rolling(4, "0", "0");
  EXPECT_EQ(GetProportion(Rs("a", 3, 1, 0).get(), fresh, 1, 0), 0);
}

// ---- New/old ReplicaSets and revisions ----------------------------------------------------------

TEST(FindNewReplicaSet, IgnoresTheHashLabelAndPrefersTheOldest) {
  appsv1::Deployment d = MakeDeployment("web").Label("app", "web").Image("app:2");
  auto with_hash = [&](const std::string& name, const std::string& image, int64_t created) {
    appsv1::ReplicaSet rs = MakeReplicaSet(name).Label("app", "web").Image(image);
    rs.mutable_spec()->mutable_template_()->mutable_spec()->mutable_containers(0)->set_name("web");
    (*rs.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels())[kPodTemplateHashLabel] = name;
    rs.mutable_metadata()->set_uid(name);
    rs.mutable_metadata()->mutable_creationtimestamp()->set_seconds(created);
    return std::make_shared<const appsv1::ReplicaSet>(rs);
  };
  ReplicaSets list = {with_hash("web-b", "app:2", 20), with_hash("web-a", "app:1", 10), with_hash("web-c", "app:2", 15)};
  ReplicaSetPtr found = FindNewReplicaSet(d, list);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->metadata().name(), "web-c");
  ReplicaSets old = FindOldReplicaSets(d, list);
  ASSERT_EQ(old.size(), 2u);
  EXPECT_EQ(old[0]->metadata().name(), "web-b");
  EXPECT_EQ(old[1]->metadata().name(), "web-a");
  d.mutable_spec()->mutable_template_()->mutable_spec()->mutable_containers(0)->set_image("app:3");
  EXPECT_EQ(FindNewReplicaSet(d, list), nullptr);
}

TEST(EqualIgnoreHash, LabelOrderAndEmptyFieldsDoNotMatter) {
  corev1::PodTemplateSpec a, b;
  (*a.mutable_metadata()->mutable_labels())["app"] = "web";
  (*a.mutable_metadata()->mutable_labels())["tier"] = "front";
  (*b.mutable_metadata()->mutable_labels())["tier"] = "front";
  (*b.mutable_metadata()->mutable_labels())[kPodTemplateHashLabel] = "5d4f8b7c9";
  (*b.mutable_metadata()->mutable_labels())["app"] = "web";
  a.mutable_spec()->add_containers()->set_image("app:1");
  b.mutable_spec()->add_containers()->set_image("app:1");
  b.mutable_spec()->set_restartpolicy("");  // set but empty, like a decoded zero value
  EXPECT_TRUE(EqualIgnoreHash(a, b));
  (*b.mutable_metadata()->mutable_labels())["app"] = "api";
  EXPECT_FALSE(EqualIgnoreHash(a, b));
}

TEST(FindActiveOrLatest, UpstreamCases) {
  ReplicaSetPtr new_rs = Rs("new", 0, 30), old1 = Rs("old1", 0, 10), old2 = Rs("old2", 0, 20);
  // None active: the new one, else the newest old one.
  EXPECT_EQ(FindActiveOrLatest(new_rs, {old1, old2}), new_rs);
  EXPECT_EQ(FindActiveOrLatest(nullptr, {old1, old2}), old2);
  // Exactly one active.
  ReplicaSetPtr active = Rs("old1", 3, 10);
  EXPECT_EQ(FindActiveOrLatest(new_rs, {active, old2}), active);
  // Several active: none.
  EXPECT_EQ(FindActiveOrLatest(Rs("new", 1, 30), {active, old2}), nullptr);
  EXPECT_EQ(FindActiveOrLatest(nullptr, {}), nullptr);
}

TEST(Revisions, MaxRevisionSkipsGarbage) {
  auto with_revision = [](const std::string& name, const std::string& revision) {
    appsv1::ReplicaSet rs = MakeReplicaSet(name);
    if (!revision.empty()) (*rs.mutable_metadata()->mutable_annotations())[kRevisionAnnotation] = revision;
    return std::make_shared<const appsv1::ReplicaSet>(rs);
  };
  EXPECT_EQ(MaxRevision({with_revision("a", "3"), with_revision("b", "x"), with_revision("c", ""), nullptr,
                         with_revision("d", "12")}),
            12);
  EXPECT_EQ(MaxRevision({}), 0);
}

TEST(SetNewReplicaSetAnnotations, NewReplicaSetGetsRevisionReplicasAndCopiedAnnotations) {
  appsv1::Deployment d = Rolling(10, "25%", "25%");
  auto& ann = *d.mutable_metadata()->mutable_annotations();
  ann["team"] = "shop";
  ann[kLastAppliedConfigAnnotation] = "{...}";
  ann[kRevisionAnnotation] = "7";
  ann[kDesiredReplicasAnnotation] = "99";
  appsv1::ReplicaSet rs;
  EXPECT_TRUE(SetNewReplicaSetAnnotations(d, &rs, "4", /*exists=*/false));
  const auto& got = rs.metadata().annotations();
  EXPECT_EQ(got.at("team"), "shop");
  EXPECT_FALSE(got.contains(kLastAppliedConfigAnnotation));
  EXPECT_EQ(got.at(kRevisionAnnotation), "4");
  EXPECT_EQ(got.at(kDesiredReplicasAnnotation), "10");
  EXPECT_EQ(got.at(kMaxReplicasAnnotation), "13");
  EXPECT_FALSE(got.contains(kRevisionHistoryAnnotation));
  // Again with the same revision: nothing to change.
  EXPECT_FALSE(SetNewReplicaSetAnnotations(d, &rs, "4", /*exists=*/true));
  // A lower revision never lowers it.
  EXPECT_FALSE(SetNewReplicaSetAnnotations(d, &rs, "3", /*exists=*/true));
  EXPECT_EQ(rs.metadata().annotations().at(kRevisionAnnotation), "4");
}

TEST(SetNewReplicaSetAnnotations, RollbackKeepsRevisionHistory) {
  appsv1::Deployment d = Rolling(3, "1", "0");
  appsv1::ReplicaSet rs;
  (*rs.mutable_metadata()->mutable_annotations())[kRevisionAnnotation] = "1";
  EXPECT_TRUE(SetNewReplicaSetAnnotations(d, &rs, "3", true));
  EXPECT_EQ(rs.metadata().annotations().at(kRevisionAnnotation), "3");
  EXPECT_EQ(rs.metadata().annotations().at(kRevisionHistoryAnnotation), "1");
  EXPECT_TRUE(SetNewReplicaSetAnnotations(d, &rs, "5", true));
  EXPECT_EQ(rs.metadata().annotations().at(kRevisionAnnotation), "5");
  EXPECT_EQ(rs.metadata().annotations().at(kRevisionHistoryAnnotation), "1,3");
  // The history drops its oldest entries to stay within the limit (here 4 characters).
  EXPECT_TRUE(SetNewReplicaSetAnnotations(d, &rs, "6", true, 4));
  EXPECT_EQ(rs.metadata().annotations().at(kRevisionHistoryAnnotation), "3,5");
  // Existing ReplicaSets keep their replica annotations untouched here (scaling writes them).
  EXPECT_FALSE(rs.metadata().annotations().contains(kDesiredReplicasAnnotation));
}

TEST(IsSaturated, NeedsSizeAnnotationAndAvailability) {
  appsv1::Deployment d = Rolling(3, "1", "0");
  appsv1::ReplicaSet rs = *Rs("web-new", 3, 1, 4, 3);
  EXPECT_FALSE(IsSaturated(d, &rs));  // no desired-replicas annotation
  (*rs.mutable_metadata()->mutable_annotations())[kDesiredReplicasAnnotation] = "3";
  EXPECT_TRUE(IsSaturated(d, &rs));
  rs.mutable_status()->set_availablereplicas(2);
  EXPECT_FALSE(IsSaturated(d, &rs));
  EXPECT_FALSE(IsSaturated(d, nullptr));
}

TEST(SortByRevision, LowestFirstThenOldest) {
  auto rs = [](const std::string& name, const std::string& revision, int64_t created) {
    appsv1::ReplicaSet r = MakeReplicaSet(name);
    (*r.mutable_metadata()->mutable_annotations())[kRevisionAnnotation] = revision;
    r.mutable_metadata()->mutable_creationtimestamp()->set_seconds(created);
    return std::make_shared<const appsv1::ReplicaSet>(r);
  };
  ReplicaSets list = {rs("c", "10", 1), rs("a", "2", 5), rs("b", "2", 3), rs("d", "9", 9)};
  SortByRevision(&list);
  std::vector<std::string> names;
  for (const auto& r : list) names.push_back(r->metadata().name());
  EXPECT_EQ(names, (std::vector<std::string>{"b", "a", "d", "c"}));
}

// ---- Conditions and status ---------------------------------------------------------------------

TEST(Conditions, SetKeepsTransitionTimeForSameStatus) {
  const WallTime t0 = WallTime{} + std::chrono::seconds(1000);
  const WallTime t1 = t0 + std::chrono::seconds(60);
  appsv1::DeploymentStatus status;
  SetCondition(&status, NewCondition(kProgressing, "True", kNewReplicaSetReason, "Created", t0));
  SetCondition(&status, NewCondition(kAvailable, "False", kMinimumReplicasUnavailable, "no", t0));
  // Same status and reason: unchanged.
  SetCondition(&status, NewCondition(kProgressing, "True", kNewReplicaSetReason, "other message", t1));
  EXPECT_EQ(GetCondition(status, kProgressing)->message(), "Created");
  // Same status, new reason: moves to the end, keeps lastTransitionTime, new lastUpdateTime.
  SetCondition(&status, NewCondition(kProgressing, "True", kReplicaSetUpdatedReason, "progressing", t1));
  ASSERT_EQ(status.conditions_size(), 2);
  EXPECT_EQ(status.conditions(1).type(), kProgressing);
  EXPECT_EQ(status.conditions(1).lasttransitiontime().seconds(), 1000);
  EXPECT_EQ(status.conditions(1).lastupdatetime().seconds(), 1060);
  // New status: both times move.
  SetCondition(&status, NewCondition(kProgressing, "False", kTimedOutReason, "timed out", t1));
  EXPECT_EQ(GetCondition(status, kProgressing)->lasttransitiontime().seconds(), 1060);
  RemoveCondition(&status, kProgressing);
  EXPECT_EQ(GetCondition(status, kProgressing), nullptr);
}

TEST(CalculateStatus, CountsAndAvailability) {
  appsv1::Deployment d = Rolling(10, "25%", "25%");  // minAvailable 8
  d.mutable_metadata()->set_generation(4);
  d.mutable_status()->set_collisioncount(2);
  auto rs = [](const std::string& name, int32_t spec, int32_t replicas, int32_t ready, int32_t available) {
    appsv1::ReplicaSet r = MakeReplicaSet(name).Replicas(spec);
    r.mutable_status()->set_replicas(replicas);
    r.mutable_status()->set_readyreplicas(ready);
    r.mutable_status()->set_availablereplicas(available);
    return std::make_shared<const appsv1::ReplicaSet>(r);
  };
  ReplicaSetPtr new_rs = rs("new", 5, 4, 3, 2);
  ReplicaSets all = {rs("old", 8, 8, 8, 6), new_rs};
  const WallTime now = WallTime{} + std::chrono::seconds(5000);
  appsv1::DeploymentStatus s = CalculateStatus(all, new_rs, d, now);
  EXPECT_EQ(s.observedgeneration(), 4);
  EXPECT_EQ(s.replicas(), 12);
  EXPECT_EQ(s.updatedreplicas(), 4);
  EXPECT_EQ(s.readyreplicas(), 11);
  EXPECT_EQ(s.availablereplicas(), 8);
  EXPECT_EQ(s.unavailablereplicas(), 5);  // 13 wanted in total, 8 available
  EXPECT_EQ(s.collisioncount(), 2);
  const appsv1::DeploymentCondition* available = GetCondition(s, kAvailable);
  ASSERT_NE(available, nullptr);
  EXPECT_EQ(available->status(), "True");
  EXPECT_EQ(available->reason(), kMinimumReplicasAvailable);
  EXPECT_EQ(available->message(), "Deployment has minimum availability.");

  ReplicaSets fewer = {rs("old", 8, 8, 8, 5), new_rs};  // 7 available < 8
  appsv1::DeploymentStatus u = CalculateStatus(fewer, new_rs, d, now);
  EXPECT_EQ(GetCondition(u, kAvailable)->status(), "False");
  EXPECT_EQ(GetCondition(u, kAvailable)->reason(), kMinimumReplicasUnavailable);
  EXPECT_EQ(GetCondition(u, kAvailable)->message(), "Deployment does not have minimum availability.");
  // More available than wanted (scaling down) is not negative unavailability.
  ReplicaSets surplus = {rs("only", 2, 4, 4, 4)};
  EXPECT_EQ(CalculateStatus(surplus, surplus[0], d, now).unavailablereplicas(), 0);
}

TEST(StatusEqual, UnsetEqualsZero) {
  appsv1::DeploymentStatus a, b;
  a.set_replicas(0);
  a.set_observedgeneration(0);
  EXPECT_TRUE(StatusEqual(a, b));
  b.set_replicas(1);
  EXPECT_FALSE(StatusEqual(a, b));
}

TEST(Progress, CompleteProgressingTimedOut) {
  appsv1::Deployment d = Rolling(3, "1", "0");
  d.mutable_metadata()->set_generation(2);
  d.mutable_spec()->set_progressdeadlineseconds(600);
  appsv1::DeploymentStatus s;
  s.set_observedgeneration(2);
  s.set_replicas(3);
  s.set_updatedreplicas(3);
  s.set_availablereplicas(3);
  EXPECT_TRUE(DeploymentComplete(d, s));
  s.set_observedgeneration(1);
  EXPECT_FALSE(DeploymentComplete(d, s));

  d.mutable_status()->set_replicas(4);
  d.mutable_status()->set_updatedreplicas(1);
  appsv1::DeploymentStatus more = d.status();
  EXPECT_FALSE(DeploymentProgressing(d, more));
  more.set_updatedreplicas(2);
  EXPECT_TRUE(DeploymentProgressing(d, more));
  more = d.status();
  more.set_replicas(3);  // one old replica fewer
  EXPECT_TRUE(DeploymentProgressing(d, more));

  const WallTime t0 = WallTime{} + std::chrono::seconds(10000);
  appsv1::DeploymentStatus p;
  SetCondition(&p, NewCondition(kProgressing, "True", kReplicaSetUpdatedReason, "x", t0));
  EXPECT_FALSE(DeploymentTimedOut(d, p, t0 + std::chrono::seconds(600)));  // not before the deadline
  EXPECT_TRUE(DeploymentTimedOut(d, p, t0 + std::chrono::seconds(601)));
  d.mutable_spec()->set_progressdeadlineseconds(std::numeric_limits<int32_t>::max());
  EXPECT_FALSE(DeploymentTimedOut(d, p, t0 + std::chrono::hours(1000)));
  d.mutable_spec()->set_progressdeadlineseconds(600);
  appsv1::DeploymentStatus done;
  SetCondition(&done, NewCondition(kProgressing, "True", kNewReplicaSetAvailableReason, "x", t0));
  EXPECT_FALSE(DeploymentTimedOut(d, done, t0 + std::chrono::hours(1)));
}

}  // namespace
}  // namespace ck::controller_manager::deployment
