#include "kubelet/pod/pod_actions.h"

#include <gtest/gtest.h>

#include "common/api/testing/builders.h"

namespace ck::kubelet {
namespace {

using namespace std::chrono_literals;
using api::testing::MakePod;

const WallTime kT0 = FakeClock().Now();

corev1::Pod PodWith(const std::string& policy, std::vector<std::string> init, std::vector<std::string> regular) {
  auto b = MakePod("web").Namespace("shop").Uid("uid-1").Node("node-1");
  for (const auto& n : init) b.InitContainer(n);
  for (const auto& n : regular) b.Container(n);
  corev1::Pod pod = b;
  if (!policy.empty()) pod.mutable_spec()->set_restartpolicy(policy);
  for (auto& c : *pod.mutable_spec()->mutable_containers()) c.add_command("/bin/app");
  return pod;
}

const corev1::Container& Spec(const corev1::Pod& pod, const std::string& name) {
  for (const auto& c : pod.spec().initcontainers()) {
    if (c.name() == name) return c;
  }
  for (const auto& c : pod.spec().containers()) {
    if (c.name() == name) return c;
  }
  CK_CHECK(false) << "no container " << name;
  return pod.spec().containers(0);
}

// A runtime container of the pod, with the current spec's hash unless told otherwise.
ContainerStatus C(const corev1::Pod& pod, const std::string& name, ContainerState state, int32_t attempt = 0,
                  int32_t exit_code = 0, std::string hash = "") {
  ContainerStatus c;
  c.id = name + "-" + std::to_string(attempt);
  c.pod_uid = pod.metadata().uid();
  c.name = name;
  c.attempt = attempt;
  c.state = state;
  c.created_at = kT0 - 10s;
  c.started_at = kT0 - 9s;
  if (state == ContainerState::kExited) c.finished_at = kT0 - 1s;
  c.exit_code = exit_code;
  c.annotations[kAnnotationContainerHash] = hash.empty() ? ContainerHash(Spec(pod, name)) : hash;
  return c;
}

constexpr auto kRun = ContainerState::kRunning;
constexpr auto kExit = ContainerState::kExited;

struct Case {
  std::string name;
  corev1::Pod pod;
  std::vector<std::function<ContainerStatus(const corev1::Pod&)>> containers;
  bool sandbox_ready = true;
  std::map<std::string, ProbeResult> liveness;
  std::map<std::string, ProbeResult> startup;
  // Expectations.
  bool create_sandbox = false;
  bool kill_pod = false;
  std::vector<std::string> kill;   // "name: message"
  std::vector<std::string> start;  // "name#attempt" (init containers "init:name#attempt")
};

std::function<ContainerStatus(const corev1::Pod&)> Ctr(std::string name, ContainerState state, int32_t attempt = 0,
                                                        int32_t exit_code = 0, std::string hash = "") {
  return [=](const corev1::Pod& pod) { return C(pod, name, state, attempt, exit_code, hash); };
}

TEST(ComputePodActionsTest, Table) {
  const std::vector<Case> cases = {
      {.name = "new pod: sandbox, then its containers",
       .pod = PodWith("", {}, {"app", "side"}),
       .sandbox_ready = false,
       .create_sandbox = true,
       .start = {"app#0", "side#0"}},
      {.name = "running: nothing to do", .pod = PodWith("", {}, {"app"}), .containers = {Ctr("app", kRun)}},
      {.name = "Always restarts a clean exit",
       .pod = PodWith("Always", {}, {"app"}),
       .containers = {Ctr("app", kExit, 0, 0)},
       .start = {"app#1"}},
      {.name = "OnFailure keeps a clean exit",
       .pod = PodWith("OnFailure", {}, {"app"}),
       .containers = {Ctr("app", kExit, 0, 0)}},
      {.name = "OnFailure restarts a failure",
       .pod = PodWith("OnFailure", {}, {"app"}),
       .containers = {Ctr("app", kExit, 3, 2)},
       .start = {"app#4"}},
      {.name = "Never keeps a failure", .pod = PodWith("Never", {}, {"app"}), .containers = {Ctr("app", kExit, 0, 1)}},
      {.name = "init containers: only the first starts",
       .pod = PodWith("Always", {"init0", "init1"}, {"app"}),
       .start = {"init:init0#0"}},
      {.name = "init container running: wait",
       .pod = PodWith("Always", {"init0", "init1"}, {"app"}),
       .containers = {Ctr("init0", kRun)}},
      {.name = "init0 succeeded: init1 next",
       .pod = PodWith("Always", {"init0", "init1"}, {"app"}),
       .containers = {Ctr("init0", kExit, 0, 0)},
       .start = {"init:init1#0"}},
      {.name = "all init containers succeeded: regular containers start",
       .pod = PodWith("Always", {"init0", "init1"}, {"app"}),
       .containers = {Ctr("init0", kExit, 0, 0), Ctr("init1", kExit, 0, 0)},
       .start = {"app#0"}},
      {.name = "failed init container restarts (OnFailure)",
       .pod = PodWith("OnFailure", {"init0"}, {"app"}),
       .containers = {Ctr("init0", kExit, 1, 1)},
       .start = {"init:init0#2"}},
      {.name = "failed init container with Never fails the pod",
       .pod = PodWith("Never", {"init0"}, {"app"}),
       .containers = {Ctr("init0", kExit, 0, 1)},
       .kill_pod = true},
      {.name = "spec hash changed: kill and restart (even with Never)",
       .pod = PodWith("Never", {}, {"app"}),
       .containers = {Ctr("app", kRun, 0, 0, "0000000000000000")},
       .kill = {"app: Container app definition changed, will be restarted"},
       .start = {"app#1"}},
      {.name = "liveness failure: kill and restart",
       .pod = PodWith("Always", {}, {"app"}),
       .containers = {Ctr("app", kRun, 2)},
       .liveness = {{"app", ProbeResult::kFailure}},
       .kill = {"app: Container app failed liveness probe, will be restarted"},
       .start = {"app#3"}},
      {.name = "liveness failure with Never: kill only",
       .pod = PodWith("Never", {}, {"app"}),
       .containers = {Ctr("app", kRun)},
       .liveness = {{"app", ProbeResult::kFailure}},
       .kill = {"app: Container app failed liveness probe"}},
      {.name = "liveness unknown: nothing",
       .pod = PodWith("Always", {}, {"app"}),
       .containers = {Ctr("app", kRun)},
       .liveness = {{"app", ProbeResult::kUnknown}}},
      {.name = "startup failure past threshold: kill and restart",
       .pod = PodWith("Always", {}, {"app"}),
       .containers = {Ctr("app", kRun)},
       .startup = {{"app", ProbeResult::kFailure}},
       .kill = {"app: Container app failed startup probe, will be restarted"},
       .start = {"app#1"}},
      {.name = "a running container the spec does not name is stopped",
       .pod = PodWith("Always", {}, {"app"}),
       .containers = {Ctr("app", kRun),
                      [](const corev1::Pod& pod) {
                        ContainerStatus c = C(pod, "app", kRun);
                        c.name = "old";
                        c.id = "old-0";
                        return c;
                      }},
       .kill = {"old: Container old is not in the pod spec"}},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    std::vector<ContainerStatus> containers;
    for (const auto& make : tc.containers) containers.push_back(make(tc.pod));
    ProbeView probes;
    probes.liveness = [&](const std::string& n) {
      auto it = tc.liveness.find(n);
      return it == tc.liveness.end() ? ProbeResult::kSuccess : it->second;
    };
    probes.startup = [&](const std::string& n) {
      auto it = tc.startup.find(n);
      return it == tc.startup.end() ? ProbeResult::kSuccess : it->second;
    };
    CrashLoopBackoff backoff(10s, 300s);
    PodActions a = ComputePodActions(tc.pod, containers, tc.sandbox_ready, probes, backoff, kT0);
    EXPECT_EQ(a.create_sandbox, tc.create_sandbox);
    EXPECT_EQ(a.kill_pod, tc.kill_pod);
    std::vector<std::string> kill, start;
    for (const auto& k : a.kill) kill.push_back(k.name + ": " + k.message);
    for (const auto& s : a.start) {
      start.push_back((s.init ? "init:" : "") + s.name + "#" + std::to_string(s.attempt));
    }
    EXPECT_EQ(kill, tc.kill);
    EXPECT_EQ(start, tc.start);
    EXPECT_TRUE(a.waiting.empty());
  }
}

TEST(ComputePodActionsTest, CrashLoopBackOffDoublesToTheCapAndResetsAfterStableRun) {
  FakeClock clock;
  CrashLoopBackoff backoff(10s, 300s);
  corev1::Pod pod = PodWith("Always", {}, {"app"});
  const std::string hash = ContainerHash(pod.spec().containers(0));
  int32_t attempt = 0;
  auto crashed = [&](int32_t a) {
    ContainerStatus c = C(pod, "app", kExit, a, 1);
    c.started_at = clock.Now() - 1s;
    c.finished_at = clock.Now();
    return std::vector<ContainerStatus>{c};
  };
  // The first restart is immediate (upstream records the delay the next crash waits).
  PodActions a = ComputePodActions(pod, crashed(attempt), true, {}, backoff, clock.Now());
  ASSERT_EQ(a.start.size(), 1u);
  EXPECT_EQ(a.start[0].attempt, 1);
  ++attempt;
  clock.Advance(1s);
  const std::vector<std::pair<Duration, std::string>> expected = {
      {10s, "10s"}, {20s, "20s"}, {40s, "40s"}, {80s, "1m20s"}, {160s, "2m40s"}, {300s, "5m0s"}, {300s, "5m0s"}};
  for (const auto& [delay, text] : expected) {
    SCOPED_TRACE(text);
    std::vector<ContainerStatus> now_crashed = crashed(attempt);
    a = ComputePodActions(pod, now_crashed, true, {}, backoff, clock.Now());
    EXPECT_TRUE(a.start.empty());
    ASSERT_EQ(a.waiting.count("app"), 1u);
    EXPECT_EQ(a.waiting["app"].reason, "CrashLoopBackOff");
    EXPECT_EQ(a.waiting["app"].message,
              "back-off " + text + " restarting failed container=app pod=web_shop(uid-1)");
    EXPECT_EQ(a.requeue_after, delay);
    clock.Advance(delay - 1ms);
    a = ComputePodActions(pod, now_crashed, true, {}, backoff, clock.Now());
    EXPECT_TRUE(a.start.empty());
    EXPECT_EQ(a.requeue_after, Duration(1ms));
    clock.Advance(1ms);
    a = ComputePodActions(pod, now_crashed, true, {}, backoff, clock.Now());
    ASSERT_EQ(a.start.size(), 1u);
    EXPECT_EQ(a.start[0].attempt, attempt + 1);
    ++attempt;
    clock.Advance(1s);  // it runs for a second and crashes again
  }
  // Ran for more than 2 * max (10 min): stable, the back-off starts over.
  clock.Advance(11min);
  a = ComputePodActions(pod, crashed(attempt), true, {}, backoff, clock.Now());
  ASSERT_EQ(a.start.size(), 1u);
  ++attempt;
  clock.Advance(1s);
  a = ComputePodActions(pod, crashed(attempt), true, {}, backoff, clock.Now());
  ASSERT_EQ(a.waiting.count("app"), 1u);
  EXPECT_EQ(a.requeue_after, Duration(10s));
  EXPECT_EQ(backoff.Get(BackoffKey(pod, pod.spec().containers(0))), Duration(10s));
  backoff.GC(clock.Now() + 601s);
  EXPECT_EQ(backoff.Get(BackoffKey(pod, pod.spec().containers(0))), Duration(0));
  (void)hash;
}

TEST(ComputePodActionsTest, TeachingProfileBackoffCapsAtTenSeconds) {
  FakeClock clock;
  CrashLoopBackoff backoff(1s, 10s);
  corev1::Pod pod = PodWith("OnFailure", {}, {"app"});
  std::vector<Duration> seen;
  for (int attempt = 0; attempt < 7; ++attempt) {
    ContainerStatus c = C(pod, "app", kExit, attempt, 2);
    c.finished_at = clock.Now();
    PodActions a = ComputePodActions(pod, {c}, true, {}, backoff, clock.Now());
    if (a.start.empty()) {
      seen.push_back(a.requeue_after);
      clock.Advance(a.requeue_after);
      a = ComputePodActions(pod, {c}, true, {}, backoff, clock.Now());
    }
    ASSERT_EQ(a.start.size(), 1u);
    clock.Advance(500ms);
  }
  EXPECT_EQ(seen, (std::vector<Duration>{1s, 2s, 4s, 8s, 10s, 10s}));
}

TEST(ContainerHashTest, ChangesWithTheSpec) {
  corev1::Pod pod = PodWith("", {}, {"app"});
  corev1::Container c = pod.spec().containers(0);
  const std::string h = ContainerHash(c);
  EXPECT_EQ(h.size(), 16u);
  EXPECT_EQ(h, ContainerHash(c));
  c.set_image("registry.example.com/app:2");
  EXPECT_NE(h, ContainerHash(c));
  EXPECT_EQ(PodDescription(pod), "web_shop(uid-1)");
}

}  // namespace
}  // namespace ck::kubelet
