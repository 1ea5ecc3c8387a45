// The pure parts of `ck up` and its helpers: option validation, each daemon's command line,
// the restart backoff, run records, node readiness parsing, and the process checks that guard
// every kill by PID (against real child processes), including StopContainersUnder.

#include "compose/cluster_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/pki/testing/command.h"
#include "compose/probe.h"
#include "compose/processes.h"
#include "compose/restart_backoff.h"
#include "compose/run_state.h"

namespace ck::launcher {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
namespace fs = std::filesystem;
using ms = std::chrono::milliseconds;

UpOptions Valid() {
  UpOptions o;
  o.nodes = 3;
  o.state_dir = "/tmp/ck-cluster";
  return o;
}

std::string InvalidMessage(UpOptions o) {
  Status s = ValidateUpOptions(o);
  return s.ok() ? "ok" : s.message();
}

TEST(ValidateUpOptions, AcceptsDefaultsAndMakesTheFolderAbsolute) {
  UpOptions o = Valid();
  o.state_dir = "rel/dir/";
  ASSERT_TRUE(ValidateUpOptions(o).ok());
  EXPECT_EQ(o.state_dir, (fs::current_path() / "rel/dir").string());
  UpOptions zero = Valid();
  zero.nodes = 0;  // control plane only
  EXPECT_TRUE(ValidateUpOptions(zero).ok());
}

TEST(ValidateUpOptions, RejectsBadValuesWithOneLineNamingTheFlag) {
  auto with = [](auto change) {
    UpOptions o = Valid();
    change(o);
    return InvalidMessage(o);
  };
  EXPECT_EQ(with([](UpOptions& o) { o.nodes = -1; }), "--nodes: must be between 0 and 250, got -1");
  EXPECT_EQ(with([](UpOptions& o) { o.nodes = 251; }), "--nodes: must be between 0 and 250, got 251");
  EXPECT_EQ(with([](UpOptions& o) { o.profile = "fast"; }), "--profile: must be default or teaching, got \"fast\"");
  EXPECT_EQ(with([](UpOptions& o) { o.runtime = "crun"; }), "--runtime: must be process or fake, got \"crun\"");
  EXPECT_EQ(with([](UpOptions& o) { o.state_dir = ""; }), "--state-dir: must not be empty");
  EXPECT_EQ(with([](UpOptions& o) { o.state_dir = "/"; }), "--state-dir: must not be /");
  EXPECT_EQ(with([](UpOptions& o) { o.apiserver_port = 0; }), "--apiserver-port: must be between 1 and 65535, got 0");
  EXPECT_EQ(with([](UpOptions& o) { o.kubelet_port = 70000; }), "--kubelet-port: must be between 1 and 65535, got 70000");
  EXPECT_THAT(with([](UpOptions& o) { o.scheduler_port = o.apiserver_port; }), HasSubstr("must differ"));
  EXPECT_EQ(with([](UpOptions& o) { o.ready_timeout_seconds = 0; }),
            "--ready-timeout: must be between 1 and 3600 seconds, got 0");
}

// DESIGN.md §6: process mode shares the host's network, so only loopback ranges.
TEST(ValidateUpOptions, RefusesNonLoopbackCidrs) {
  auto with = [](auto change) {
    UpOptions o = Valid();
    change(o);
    return InvalidMessage(o);
  };
  EXPECT_THAT(with([](UpOptions& o) { o.cluster_cidr = "10.244.0.0/16"; }),
              HasSubstr("--cluster-cidr: 10.244.0.0/16 is not a loopback range"));
  EXPECT_THAT(with([](UpOptions& o) { o.service_cidr = "10.96.0.0/12"; }),
              HasSubstr("--service-cidr: 10.96.0.0/12 is not a loopback range"));
  // A /7 reaches past 127.0.0.0/8.
  EXPECT_THAT(with([](UpOptions& o) { o.cluster_cidr = "126.0.0.0/7"; }), HasSubstr("not a loopback range"));
  EXPECT_EQ(with([](UpOptions& o) { o.cluster_cidr = "banana"; }),
            "--cluster-cidr: \"banana\" is not an IPv4 CIDR such as 127.96.0.0/16");
  EXPECT_EQ(with([](UpOptions& o) { o.service_cidr = "127.96.0.300/16"; }),
            "--service-cidr: \"127.96.0.300/16\" is not an IPv4 CIDR such as 127.96.0.0/16");
  EXPECT_THAT(with([](UpOptions& o) { o.service_cidr = "127.96.0.0/8"; }), HasSubstr("--service-cidr: "));
  // Each node needs a /24 of the pod range.
  EXPECT_THAT(with([](UpOptions& o) { o.cluster_cidr = "127.244.0.0/25"; }), HasSubstr("too few /24 node ranges"));
  EXPECT_THAT(with([](UpOptions& o) { o.cluster_cidr = "127.244.0.0/23"; }),
              HasSubstr("127.244.0.0/23 has too few /24 node ranges for 3 nodes"));
  EXPECT_EQ(with([](UpOptions& o) { o.cluster_cidr = "127.244.0.0/22"; }), "ok");
}

std::vector<ComponentSpec> Plan(int nodes, std::string profile = "teaching") {
  UpOptions o = Valid();
  o.nodes = nodes;
  o.profile = std::move(profile);
  o.state_dir = "/s";
  EXPECT_TRUE(ValidateUpOptions(o).ok());
  return BuildComponents(o);
}

TEST(BuildComponents, StartOrderNamesAndLogs) {
  std::vector<ComponentSpec> specs = Plan(4);
  std::vector<std::string> names;
  for (const ComponentSpec& s : specs) names.push_back(s.name);
  EXPECT_THAT(names, ElementsAre("apiserver", "controller-manager", "scheduler", "kubelet-node-1", "kubelet-node-2",
                                 "kubelet-node-3", "kubelet-node-4"));
  EXPECT_EQ(specs[0].start_group, 0);
  EXPECT_EQ(specs[1].start_group, 1);
  EXPECT_EQ(specs[2].start_group, 1);
  EXPECT_EQ(specs[3].start_group, 2);
  EXPECT_EQ(specs[0].log_file, "/s/logs/apiserver.log");
  EXPECT_EQ(specs[4].log_file, "/s/logs/kubelet-node-2.log");
  EXPECT_EQ(Plan(0).size(), 3u);
}

TEST(BuildComponents, ApiserverCommandLine) {
  ComponentSpec api = Plan(1)[0];
  EXPECT_EQ(api.binary, "ck-apiserver");
  EXPECT_EQ(api.readiness, Readiness::kHealthz);
  EXPECT_EQ(api.health_path, "/readyz");
  EXPECT_EQ(api.port, 6443);
  for (const char* flag :
       {"--bind-address=127.0.0.1", "--secure-port=6443", "--tls-cert-file=/s/apiserver.crt",
        "--tls-private-key-file=/s/apiserver.key", "--client-ca-file=/s/ca.crt", "--storage-dir=/s/store",
        "--service-account-key-file=/s/sa.pub", "--service-account-signing-key-file=/s/sa.key",
        "--service-cluster-ip-range=127.96.0.0/16", "--profile=teaching"}) {
    EXPECT_THAT(api.args, Contains(flag));
  }
}

TEST(BuildComponents, ControllerManagerAndSchedulerCommandLines) {
  std::vector<ComponentSpec> specs = Plan(1, "default");
  const ComponentSpec& cm = specs[1];
  EXPECT_EQ(cm.binary, "ck-controller-manager");
  EXPECT_EQ(cm.port, 10257);
  EXPECT_EQ(cm.health_path, "/healthz");
  for (const char* flag : {"--kubeconfig=/s/controller-manager.kubeconfig", "--root-ca-file=/s/ca.crt",
                           "--allocate-node-cidrs", "--cluster-cidr=127.244.0.0/16", "--node-cidr-mask-size=24",
                           "--service-cluster-ip-range=127.96.0.0/16", "--secure-port=10257",
                           "--tls-cert-file=/s/controller-manager-serving.crt", "--profile=default"}) {
    EXPECT_THAT(cm.args, Contains(flag));
  }
  const ComponentSpec& sched = specs[2];
  EXPECT_EQ(sched.binary, "ck-scheduler");
  EXPECT_EQ(sched.port, 10259);
  for (const char* flag : {"--kubeconfig=/s/scheduler.kubeconfig", "--bind-address=127.0.0.1", "--secure-port=10259",
                           "--tls-cert-file=/s/scheduler-serving.crt", "--profile=default"}) {
    EXPECT_THAT(sched.args, Contains(flag));
  }
}

TEST(BuildComponents, KubeletCommandLinesCycleZonesAndUseNodeIps) {
  std::vector<ComponentSpec> specs = Plan(4);
  const ComponentSpec& k2 = specs[4];
  EXPECT_EQ(k2.binary, "ck-kubelet");
  EXPECT_EQ(k2.readiness, Readiness::kNodeReady);
  EXPECT_EQ(k2.node_name, "node-2");
  EXPECT_EQ(k2.host, "127.0.1.2");
  EXPECT_EQ(k2.port, 10250);
  EXPECT_THAT(k2.args, ElementsAre("--kubeconfig=/s/kubelet-node-2.kubeconfig", "--hostname-override=node-2",
                                   "--node-ip=127.0.1.2", "--root-dir=/s/nodes/node-2", "--runtime=process",
                                   "--profile=teaching", "--node-labels=topology.kubernetes.io/zone=zone-b",
                                   "--pod-manifest-path=/s/nodes/node-2/manifests", "--file-check-frequency=1s",
                                   "--bind-address=127.0.1.2", "--secure-port=10250",
                                   "--tls-cert-file=/s/kubelet-node-2.crt",
                                   "--tls-private-key-file=/s/kubelet-node-2.key", "--client-ca-file=/s/ca.crt",
                                   "--healthz-bind-address=127.0.1.2"));
  EXPECT_THAT(specs[3].args, Contains("--node-labels=topology.kubernetes.io/zone=zone-a"));
  EXPECT_THAT(specs[5].args, Contains("--node-labels=topology.kubernetes.io/zone=zone-c"));
  EXPECT_THAT(specs[6].args, Contains("--node-labels=topology.kubernetes.io/zone=zone-a"));
}

TEST(BuildComponents, PortOverridesReachEveryFlagAndCheck) {
  UpOptions o = Valid();
  o.state_dir = "/s";
  o.nodes = 1;
  o.runtime = "fake";
  o.apiserver_port = 16443;
  o.controller_manager_port = 16444;
  o.scheduler_port = 16445;
  o.kubelet_port = 16450;
  ASSERT_TRUE(ValidateUpOptions(o).ok());
  std::vector<ComponentSpec> specs = BuildComponents(o);
  EXPECT_THAT(specs[0].args, Contains("--secure-port=16443"));
  EXPECT_EQ(specs[1].port, 16444);
  EXPECT_THAT(specs[1].args, Contains("--secure-port=16444"));
  EXPECT_THAT(specs[2].args, Contains("--secure-port=16445"));
  EXPECT_THAT(specs[3].args, Contains("--secure-port=16450"));
  EXPECT_THAT(specs[3].args, Contains("--runtime=fake"));
}

TEST(BinaryOf, KnownComponentsOnly) {
  EXPECT_EQ(BinaryOf("apiserver"), "ck-apiserver");
  EXPECT_EQ(BinaryOf("controller-manager"), "ck-controller-manager");
  EXPECT_EQ(BinaryOf("scheduler"), "ck-scheduler");
  EXPECT_EQ(BinaryOf("kubelet-node-12"), "ck-kubelet");
  EXPECT_EQ(BinaryOf("supervisor"), "ck");
  for (const char* bad : {"kubelet-node-0", "kubelet-node-251", "kubelet-node-01", "kubelet-node-", "etcd", ""}) {
    EXPECT_EQ(BinaryOf(bad), "") << bad;
  }
}

TEST(RestartBackoff, DoublesFromOneSecondToThirty) {
  RestartBackoff b;
  std::vector<int64_t> delays;
  for (int i = 0; i < 8; ++i) delays.push_back(b.OnExit(ms(100)).count());
  EXPECT_THAT(delays, ElementsAre(1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000));
}

TEST(RestartBackoff, ResetsAfterSixtySecondsUp) {
  RestartBackoff b;
  EXPECT_EQ(b.OnExit(ms(10)).count(), 1000);
  EXPECT_EQ(b.OnExit(ms(10)).count(), 2000);
  EXPECT_EQ(b.OnExit(ms(59'999)).count(), 4000);  // not quite healthy long enough
  EXPECT_EQ(b.OnExit(ms(60'000)).count(), 1000);  // healthy for 60 s: back to the start
  EXPECT_EQ(b.OnExit(ms(10)).count(), 2000);
  b.Reset();
  EXPECT_EQ(b.OnExit(ms(10)).count(), 1000);
}

TEST(RunState, RecordRoundTripAndUptime) {
  ck::testing::TempDir dir;
  ComponentRecord r;
  r.state = "backoff";
  r.pid = 4242;
  r.restarts = 3;
  r.started_unix_ms = 1'700'000'000'123;
  r.last_exit = "killed by signal 9 (Killed)";
  ASSERT_TRUE(WriteRecord(dir.File("x.state"), r).ok());
  std::optional<ComponentRecord> back = ReadRecord(dir.File("x.state"));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->state, "backoff");
  EXPECT_EQ(back->pid, 4242);
  EXPECT_EQ(back->restarts, 3);
  EXPECT_EQ(back->started_unix_ms, 1'700'000'000'123);
  EXPECT_EQ(back->last_exit, "killed by signal 9 (Killed)");
  EXPECT_FALSE(ReadRecord(dir.File("missing.state")));
  EXPECT_EQ(FormatUptime(5), "5s");
  EXPECT_EQ(FormatUptime(192), "3m12s");
  EXPECT_EQ(FormatUptime(7500), "2h05m");
  EXPECT_EQ(FormatUptime(3 * 86400 + 4 * 3600 + 5), "3d04h");
}

TEST(ParseNodeReadiness, ReadsTheReadyCondition) {
  Result<std::map<std::string, bool>> r = ParseNodeReadiness(R"({"kind":"NodeList","items":[
    {"metadata":{"name":"node-1"},"status":{"conditions":[{"type":"MemoryPressure","status":"False"},
                                                         {"type":"Ready","status":"True"}]}},
    {"metadata":{"name":"node-2"},"status":{"conditions":[{"type":"Ready","status":"Unknown"}]}},
    {"metadata":{"name":"node-3"},"status":{}}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (std::map<std::string, bool>{{"node-1", true}, {"node-2", false}, {"node-3", false}}));
  EXPECT_TRUE(ParseNodeReadiness(R"({"items":[]})")->empty());
  EXPECT_FALSE(ParseNodeReadiness("{\"items\": [").ok());
}

bool WaitUntil(const std::function<bool()>& cond, ms timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(ms(5));
  }
  return true;
}

TEST(Processes, SpawnLogsAndIsFoundOnlyByBinaryAndStateFolder) {
  ck::testing::TempDir dir;
  std::string state = dir.File("state");
  fs::create_directories(state);
  // argv: /bin/sh -c SCRIPT <state>/x  ($0 names a path inside the state folder)
  Result<pid_t> pid = Spawn("/bin/sh", {"-c", "echo hello from $0; exec sleep 60", state + "/x"}, dir.File("sh.log"));
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  ASSERT_TRUE(WaitUntil([&] { return ck::testing::ReadFile(dir.File("sh.log")).find("hello from " + state) != std::string::npos; },
                        ms(10'000)));
  std::string log = ck::testing::ReadFile(dir.File("sh.log"));
  EXPECT_THAT(log, HasSubstr("==== ck: starting /bin/sh -c"));
  EXPECT_THAT(log, HasSubstr("hello from " + state + "/x"));
  EXPECT_EQ(getpgid(*pid), *pid);  // its own process group: a Ctrl-C reaches only the supervisor
  // After exec, argv[0] is "sleep" and the state path is still an argument.
  ASSERT_TRUE(WaitUntil([&] { return !ReadCmdline(*pid).empty() && ReadCmdline(*pid)[0] == "sleep"; }, ms(10'000)));
  EXPECT_FALSE(IsOurProcess(*pid, "sleep", state));  // "sleep 60" names no state path
  EXPECT_FALSE(IsOurProcess(*pid, "sh", state));
  EXPECT_TRUE(StopProcess(*pid, ms(5000)));
  EXPECT_FALSE(ProcessAlive(*pid));

  Result<pid_t> p3 = Spawn("/bin/sh", {"-c", "while :; do sleep 1; done", "--root-dir=" + state + "/nodes/n1"},
                           dir.File("loop.log"));
  ASSERT_TRUE(p3.ok());
  EXPECT_TRUE(WaitUntil([&] { return IsOurProcess(*p3, "sh", state); }, ms(10'000)));
  EXPECT_FALSE(IsOurProcess(*p3, "ck-kubelet", state));
  EXPECT_FALSE(IsOurProcess(*p3, "sh", dir.File("other")));
  EXPECT_FALSE(IsOurProcess(*p3, "sh", state + "/nodes/n1/deeper"));
  EXPECT_TRUE(StopProcess(*p3, ms(5000)));
  EXPECT_FALSE(IsOurProcess(*p3, "sh", state));

  EXPECT_FALSE(Spawn(dir.File("no-such-binary"), {}, dir.File("x.log")).ok());
}

TEST(Processes, StopContainersUnderStopsVerifiedShimsAndTheirContainers) {
  ck::testing::TempDir dir;
  std::string state = dir.File("state");
  std::string c1 = state + "/nodes/node-1/pods/uid-1/containers/c1";
  std::string c2 = state + "/nodes/node-2/pods/uid-2/containers/c2";
  fs::create_directories(c1);
  fs::create_directories(c2);
  // A stand-in ck-shim: a shell named ck-shim whose child (the "container") is recorded in
  // state.json, as the process runtime does.
  fs::create_directories(dir.File("bin"));
  fs::create_symlink("/bin/sh", dir.File("bin/ck-shim"));
  // argv as ProcessRuntime starts it: ck-shim --state-dir=<container dir>; no start ticks recorded,
  // so the container is recognised as the shim's child.
  std::string script = "d=${0#--state-dir=}; sleep 300 & "
                       "echo \"{\\\"phase\\\": \\\"running\\\", \\\"shim_pid\\\": $$, \\\"pid\\\": $!}\" > $d/state.json.tmp && "
                       "mv $d/state.json.tmp $d/state.json; echo $$ > $d/shim.pid; wait";
  Result<pid_t> shim = Spawn(dir.File("bin/ck-shim"), {"-c", script, "--state-dir=" + c1}, dir.File("shim.log"));
  ASSERT_TRUE(shim.ok()) << shim.status().ToString();
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(c1 + "/shim.pid"); }, ms(10'000)));
  std::optional<std::string> json = ReadWholeFile(c1 + "/state.json");
  ASSERT_TRUE(json);
  pid_t container = static_cast<pid_t>(std::stoi(json->substr(json->find("\"pid\":") + 6)));
  ASSERT_TRUE(ProcessAlive(container));

  // c2 records a pid whose start time is not the recorded one (a reused pid): left alone.
  Result<pid_t> stranger = Spawn("/bin/sleep", {"300"}, dir.File("stranger.log"));
  ASSERT_TRUE(stranger.ok());
  {
    std::ofstream(c2 + "/state.json") << "{\"phase\": \"running\", \"shim_pid\": " << *stranger << ", \"pid\": "
                                      << *stranger << ", \"pid_start_ticks\": 1}";
  }
  // c3: an orphaned container (its shim is gone) whose start time matches: stopped.
  std::string c3 = state + "/nodes/node-2/pods/uid-3/containers/c3";
  fs::create_directories(c3);
  Result<pid_t> orphan = Spawn("/bin/sleep", {"300"}, dir.File("orphan.log"));
  ASSERT_TRUE(orphan.ok());
  std::string stat = *ReadWholeFile("/proc/" + std::to_string(*orphan) + "/stat");
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string ticks;
  for (int i = 3; i <= 22; ++i) fields >> ticks;
  {
    std::ofstream(c3 + "/state.json") << "{\"phase\": \"running\", \"shim_pid\": 0, \"pid\": " << *orphan
                                      << ", \"pid_start_ticks\": " << ticks << "}";
  }

  std::ostringstream log;
  int stopped = StopContainersUnder(state + "/nodes", ms(5000), log);
  EXPECT_EQ(stopped, 3) << log.str();
  EXPECT_FALSE(ProcessAlive(*orphan));
  EXPECT_FALSE(ProcessAlive(*shim));
  EXPECT_TRUE(WaitUntil([&] { return !ProcessAlive(container); }, ms(10'000)));
  EXPECT_TRUE(ProcessAlive(*stranger)) << log.str();
  EXPECT_THAT(log.str(), HasSubstr("left alone"));
  EXPECT_TRUE(StopProcess(*stranger, ms(5000)));
  EXPECT_EQ(StopContainersUnder(dir.File("nothing-here"), ms(100), log), 0);
}

}  // namespace
}  // namespace ck::launcher
