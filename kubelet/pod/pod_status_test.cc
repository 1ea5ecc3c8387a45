#include "kubelet/pod/pod_status.h"

#include <gtest/gtest.h>

#include "common/api/conditions.h"
#include "common/api/object.h"
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
  return pod;
}

ContainerStatus C(const std::string& name, ContainerState state, int32_t attempt = 0, int32_t exit_code = 0) {
  ContainerStatus c;
  c.id = name + std::to_string(attempt);
  c.pod_uid = "uid-1";
  c.name = name;
  c.attempt = attempt;
  c.state = state;
  c.created_at = kT0 - 100s + std::chrono::seconds(attempt * 10);
  c.started_at = c.created_at + 1s;
  if (state == ContainerState::kExited) {
    c.finished_at = c.started_at + 5s;
    c.exit_code = exit_code;
    c.reason = exit_code == 0 ? "Completed" : "Error";
  }
  c.image = "registry.example.com/app:1";
  return c;
}

constexpr auto kRun = ContainerState::kRunning;
constexpr auto kExit = ContainerState::kExited;
constexpr auto kNew = ContainerState::kCreated;

std::string Cond(const corev1::PodStatus& s, const std::string& type) {
  const corev1::PodCondition* c = api::FindCondition(s.conditions(), type);
  if (c == nullptr) return "absent";
  std::string out = c->status();
  if (!c->reason().empty()) out += "/" + c->reason();
  return out;
}

std::string StateOf(const corev1::ContainerStatus& s) {
  if (s.state().has_running()) return "running";
  if (s.state().has_terminated()) return "terminated:" + std::to_string(s.state().terminated().exitcode());
  if (s.state().has_waiting()) return "waiting:" + s.state().waiting().reason();
  return "none";
}

struct Case {
  std::string name;
  corev1::Pod pod;
  std::vector<ContainerStatus> containers;
  std::map<std::string, ProbeResult> readiness;
  std::map<std::string, ContainerWaiting> waiting;
  bool terminating = false;
  // Expectations.
  std::string phase;
  std::string ready;        // Ready condition "True" / "False/Reason"
  std::string initialized;  // Initialized condition
  std::vector<std::string> states;       // containerStatuses, "name=state"
  std::vector<std::string> init_states;  // initContainerStatuses
};

TEST(GeneratePodStatusTest, Table) {
  const std::vector<Case> cases = {
      {.name = "new pod: Pending, ContainerCreating",
       .pod = PodWith("", {}, {"app"}),
       .phase = "Pending",
       .ready = "False/ContainersNotReady",
       .initialized = "True",
       .states = {"app=waiting:ContainerCreating"}},
      {.name = "created, not running yet",
       .pod = PodWith("", {}, {"app"}),
       .containers = {C("app", kNew)},
       .phase = "Pending",
       .ready = "False/ContainersNotReady",
       .initialized = "True",
       .states = {"app=waiting:ContainerCreating"}},
      {.name = "running and ready",
       .pod = PodWith("", {}, {"app"}),
       .containers = {C("app", kRun)},
       .phase = "Running",
       .ready = "True",
       .initialized = "True",
       .states = {"app=running"}},
      {.name = "running, readiness not yet known",
       .pod = PodWith("", {}, {"app"}),
       .containers = {C("app", kRun)},
       .readiness = {{"app", ProbeResult::kUnknown}},
       .phase = "Running",
       .ready = "False/ContainersNotReady",
       .initialized = "True",
       .states = {"app=running"}},
      {.name = "init container running: PodInitializing",
       .pod = PodWith("Always", {"init0", "init1"}, {"app"}),
       .containers = {C("init0", kRun)},
       .phase = "Pending",
       .ready = "False/ContainersNotReady",
       .initialized = "False/ContainersNotInitialized",
       .states = {"app=waiting:PodInitializing"},
       .init_states = {"init0=running", "init1=waiting:PodInitializing"}},
      {.name = "init containers done: app starting",
       .pod = PodWith("Always", {"init0"}, {"app"}),
       .containers = {C("init0", kExit, 0, 0)},
       .phase = "Pending",
       .ready = "False/ContainersNotReady",
       .initialized = "True",
       .states = {"app=waiting:ContainerCreating"},
       .init_states = {"init0=terminated:0"}},
      {.name = "init failure with Never: Failed",
       .pod = PodWith("Never", {"init0"}, {"app"}),
       .containers = {C("init0", kExit, 0, 1)},
       .phase = "Failed",
       .ready = "False/ContainersNotReady",
       .initialized = "False/ContainersNotInitialized",
       .states = {"app=waiting:PodInitializing"},
       .init_states = {"init0=terminated:1"}},
      {.name = "init failure in back-off with OnFailure: Pending",
       .pod = PodWith("OnFailure", {"init0"}, {"app"}),
       .containers = {C("init0", kExit, 1, 1)},
       .waiting = {{"init0", {"CrashLoopBackOff", "back-off 10s"}}},
       .phase = "Pending",
       .ready = "False/ContainersNotReady",
       .initialized = "False/ContainersNotInitialized",
       .states = {"app=waiting:PodInitializing"},
       .init_states = {"init0=waiting:CrashLoopBackOff"}},
      {.name = "CrashLoopBackOff with Always: Running",
       .pod = PodWith("Always", {}, {"app"}),
       .containers = {C("app", kExit, 2, 1), C("app", kExit, 1, 1)},
       .waiting = {{"app", {"CrashLoopBackOff", "back-off 20s restarting failed container=app pod=web_shop(uid-1)"}}},
       .phase = "Running",
       .ready = "False/ContainersNotReady",
       .initialized = "True",
       .states = {"app=waiting:CrashLoopBackOff"}},
      {.name = "Job: Never, exit 0: Succeeded",
       .pod = PodWith("Never", {}, {"app"}),
       .containers = {C("app", kExit, 0, 0)},
       .phase = "Succeeded",
       .ready = "False/PodCompleted",
       .initialized = "True",
       .states = {"app=terminated:0"}},
      {.name = "Job: Never, exit 1: Failed",
       .pod = PodWith("Never", {}, {"app"}),
       .containers = {C("app", kExit, 0, 1)},
       .phase = "Failed",
       .ready = "False/ContainersNotReady",
       .initialized = "True",
       .states = {"app=terminated:1"}},
      {.name = "Job: OnFailure, all exit 0: Succeeded",
       .pod = PodWith("OnFailure", {}, {"a", "b"}),
       .containers = {C("a", kExit, 0, 0), C("b", kExit, 3, 0)},
       .phase = "Succeeded",
       .ready = "False/PodCompleted",
       .initialized = "True",
       .states = {"a=terminated:0", "b=terminated:0"}},
      {.name = "OnFailure, one failed and restarting: Running",
       .pod = PodWith("OnFailure", {}, {"a", "b"}),
       .containers = {C("a", kExit, 0, 0), C("b", kExit, 0, 1)},
       .phase = "Running",
       .ready = "False/ContainersNotReady",
       .initialized = "True",
       .states = {"a=terminated:0", "b=terminated:1"}},
      {.name = "Always, stopped for deletion: Failed (terminal)",
       .pod = PodWith("Always", {}, {"app"}),
       .containers = {C("app", kExit, 0, 143)},
       .terminating = true,
       .phase = "Failed",
       .ready = "False/ContainersNotReady",
       .initialized = "True",
       .states = {"app=terminated:143"}},
      {.name = "CreateContainerConfigError",
       .pod = PodWith("Always", {}, {"app"}),
       .waiting = {{"app", {"CreateContainerConfigError", "configmap \"cfg\" not found"}}},
       .phase = "Pending",
       .ready = "False/ContainersNotReady",
       .initialized = "True",
       .states = {"app=waiting:CreateContainerConfigError"}},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    PodStatusInput in;
    in.containers = tc.containers;
    in.probes.readiness = [&](const std::string& n) {
      auto it = tc.readiness.find(n);
      return it == tc.readiness.end() ? ProbeResult::kSuccess : it->second;
    };
    in.probes.startup = [](const std::string&) { return ProbeResult::kSuccess; };
    in.pod_ips = {"127.244.1.5"};
    in.host_ip = "127.0.1.1";
    in.sandbox_ready = true;
    in.waiting = tc.waiting;
    in.terminating = tc.terminating;
    corev1::PodStatus s = GeneratePodStatus(tc.pod, in, kT0);
    EXPECT_EQ(s.phase(), tc.phase);
    EXPECT_EQ(Cond(s, "Ready"), tc.ready);
    EXPECT_EQ(Cond(s, "ContainersReady"), tc.ready);
    EXPECT_EQ(Cond(s, "Initialized"), tc.initialized);
    EXPECT_EQ(Cond(s, "PodScheduled"), "True");
    EXPECT_EQ(Cond(s, "PodReadyToStartContainers"), "True");
    std::vector<std::string> states, init_states;
    for (const auto& c : s.containerstatuses()) states.push_back(c.name() + "=" + StateOf(c));
    for (const auto& c : s.initcontainerstatuses()) init_states.push_back(c.name() + "=" + StateOf(c));
    EXPECT_EQ(states, tc.states);
    EXPECT_EQ(init_states, tc.init_states);
    EXPECT_EQ(s.podip(), "127.244.1.5");
    ASSERT_EQ(s.podips_size(), 1);
    EXPECT_EQ(s.hostip(), "127.0.1.1");
    ASSERT_EQ(s.hostips_size(), 1);
    EXPECT_EQ(s.qosclass(), "BestEffort");
    EXPECT_EQ(api::WallTimeOf(s.starttime()), kT0);
  }
}

TEST(GeneratePodStatusTest, ContainerDetails) {
  corev1::Pod pod = PodWith("Always", {}, {"app"});
  PodStatusInput in;
  in.runtime_name = "process";
  ContainerStatus current = C("app", kRun, 2);
  ContainerStatus previous = C("app", kExit, 1, 137);
  previous.message = "killed";
  in.containers = {previous, current};
  in.sandbox_ready = true;
  corev1::PodStatus s = GeneratePodStatus(pod, in, kT0);
  ASSERT_EQ(s.containerstatuses_size(), 1);
  const corev1::ContainerStatus& c = s.containerstatuses(0);
  EXPECT_EQ(c.containerid(), "process://app2");
  EXPECT_EQ(c.restartcount(), 2);
  EXPECT_TRUE(c.ready());
  EXPECT_TRUE(c.started());
  EXPECT_EQ(c.image(), "registry.example.com/app:1");
  EXPECT_EQ(c.imageid(), "registry.example.com/app:1");
  EXPECT_EQ(api::WallTimeOf(c.state().running().startedat()), current.started_at);
  ASSERT_TRUE(c.laststate().has_terminated());
  const auto& t = c.laststate().terminated();
  EXPECT_EQ(t.exitcode(), 137);
  EXPECT_EQ(t.reason(), "Error");
  EXPECT_EQ(t.message(), "killed");
  EXPECT_EQ(t.containerid(), "process://app1");
  EXPECT_EQ(api::WallTimeOf(t.startedat()), previous.started_at);
  EXPECT_EQ(api::WallTimeOf(t.finishedat()), previous.finished_at);

  // CrashLoopBackOff: the exit moves to lastState, the waiting state carries the message.
  ContainerStatus crashed = C("app", kExit, 3, 1);
  in.containers = {current, crashed};
  in.waiting["app"] = {"CrashLoopBackOff", "back-off 40s restarting failed container=app pod=web_shop(uid-1)"};
  s = GeneratePodStatus(pod, in, kT0);
  const corev1::ContainerStatus& w = s.containerstatuses(0);
  EXPECT_EQ(w.state().waiting().reason(), "CrashLoopBackOff");
  EXPECT_EQ(w.state().waiting().message(), "back-off 40s restarting failed container=app pod=web_shop(uid-1)");
  EXPECT_EQ(w.laststate().terminated().exitcode(), 1);
  EXPECT_EQ(w.laststate().terminated().containerid(), "process://app3");
  EXPECT_EQ(w.restartcount(), 3);
  EXPECT_FALSE(w.ready());
  EXPECT_FALSE(w.started());

  // Startup probe not yet succeeded: not started, not ready.
  in.containers = {current};
  in.waiting.clear();
  in.probes.startup = [](const std::string&) { return ProbeResult::kUnknown; };
  s = GeneratePodStatus(pod, in, kT0);
  EXPECT_FALSE(s.containerstatuses(0).started());
  EXPECT_FALSE(s.containerstatuses(0).ready());
}

TEST(GeneratePodStatusTest, TransitionTimesMoveOnlyWithTheStatus) {
  corev1::Pod pod = PodWith("Always", {}, {"app"});
  pod.mutable_spec()->mutable_containers(0)->mutable_resources()->mutable_requests()->operator[]("cpu").set_string("100m");
  PodStatusInput in;
  in.sandbox_ready = true;
  in.containers = {C("app", kRun)};
  in.probes.readiness = [](const std::string&) { return ProbeResult::kUnknown; };
  corev1::PodStatus first = GeneratePodStatus(pod, in, kT0);
  EXPECT_EQ(first.qosclass(), "Burstable");
  *pod.mutable_status() = first;
  // Later, nothing changed: every lastTransitionTime and startTime stays.
  corev1::PodStatus second = GeneratePodStatus(pod, in, kT0 + 30s);
  for (const auto& c : second.conditions()) {
    EXPECT_EQ(api::WallTimeOf(c.lasttransitiontime()), kT0) << c.type();
  }
  EXPECT_EQ(api::WallTimeOf(second.starttime()), kT0);
  // Readiness turns: Ready and ContainersReady move, the others stay.
  *pod.mutable_status() = second;
  in.probes.readiness = [](const std::string&) { return ProbeResult::kSuccess; };
  corev1::PodStatus third = GeneratePodStatus(pod, in, kT0 + 60s);
  for (const auto& c : third.conditions()) {
    bool moved = c.type() == "Ready" || c.type() == "ContainersReady";
    EXPECT_EQ(api::WallTimeOf(c.lasttransitiontime()), moved ? kT0 + 60s : kT0) << c.type();
  }
  // A condition another component owns is kept.
  corev1::PodCondition* other = pod.mutable_status()->add_conditions();
  other->set_type("DisruptionTarget");
  other->set_status("True");
  EXPECT_EQ(Cond(GeneratePodStatus(pod, in, kT0 + 90s), "DisruptionTarget"), "True");
}

TEST(GeneratePodStatusTest, TerminalPhaseNeverMovesBack) {
  corev1::Pod pod = PodWith("Never", {}, {"app"});
  pod.mutable_status()->set_phase("Succeeded");
  PodStatusInput in;  // the runtime lost the containers (e.g. removed)
  corev1::PodStatus s = GeneratePodStatus(pod, in, kT0);
  EXPECT_EQ(s.phase(), "Succeeded");
}

TEST(GeneratePodStatusTest, TerminalPodKeepsTheReasonThatEndedIt) {
  corev1::Pod pod = PodWith("Always", {}, {"app"});
  pod.mutable_status()->set_phase("Failed");
  pod.mutable_status()->set_reason("DeadlineExceeded");
  pod.mutable_status()->set_message("Pod was active on the node longer than the specified deadline");
  PodStatusInput in;
  in.sandbox_ready = true;
  in.containers = {C("app", kRun)};  // its stop has not been seen yet
  corev1::PodStatus s = GeneratePodStatus(pod, in, kT0);
  EXPECT_EQ(s.phase(), "Failed");
  EXPECT_EQ(s.reason(), "DeadlineExceeded");
  EXPECT_EQ(s.message(), "Pod was active on the node longer than the specified deadline");
  corev1::Pod plain = PodWith("Never", {}, {"app"});
  plain.mutable_status()->set_phase("Succeeded");
  EXPECT_FALSE(GeneratePodStatus(plain, in, kT0).has_reason());
}

TEST(GeneratePodStatusTest, ReadinessGates) {
  corev1::Pod pod = PodWith("Always", {}, {"app"});
  pod.mutable_spec()->add_readinessgates()->set_conditiontype("example.com/lb");
  PodStatusInput in;
  in.sandbox_ready = true;
  in.containers = {C("app", kRun)};
  EXPECT_EQ(Cond(GeneratePodStatus(pod, in, kT0), "Ready"), "False/ReadinessGatesNotReady");
  EXPECT_EQ(Cond(GeneratePodStatus(pod, in, kT0), "ContainersReady"), "True");
  corev1::PodCondition* gate = pod.mutable_status()->add_conditions();
  gate->set_type("example.com/lb");
  gate->set_status("True");
  EXPECT_EQ(Cond(GeneratePodStatus(pod, in, kT0), "Ready"), "True");
}

}  // namespace
}  // namespace ck::kubelet
