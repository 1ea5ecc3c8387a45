// End to end on a `ck up` cluster of 3 nodes with the process runtime, driven by the real kubectl
// (issue "pods really run"): a Deployment of ck-echo pods goes Pending -> Running and Ready across
// the nodes and answers on its pod IPs; restarts with CrashLoopBackOff; a failing liveness probe;
// readiness off; a rolling update; graceful deletion with preStop before SIGTERM; a Job. One
// cluster serves every test of the suite (starting it is the slow part).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "tests/testutil/apiserver.h"
#include "tests/testutil/testutil.h"

namespace ck {
namespace {

using namespace std::chrono_literals;
using testutil::CommandResult;

std::string Tail(const std::string& s, size_t n = 3000) { return s.size() > n ? s.substr(s.size() - n) : s; }

int Int(const std::string& s) {
  try {
    return std::stoi(s);
  } catch (...) {
    return -1;
  }
}

std::vector<std::string> Words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// The PIDs of the processes whose environment says POD_NAME=<pod> (the pod's containers; ck-shim
// itself does not carry the container's environment).
std::set<int> ContainerPids(const std::string& pod) {
  std::set<int> out;
  const std::string needle = std::string("POD_NAME=") + pod;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::string name = e.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream in(e.path() / "environ", std::ios::binary);
    if (!in) continue;
    std::string env((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t pos = 0;
    while (pos < env.size()) {
      size_t end = env.find('\0', pos);
      if (end == std::string::npos) end = env.size();
      if (env.compare(pos, end - pos, needle) == 0) {
        out.insert(std::stoi(name));
        break;
      }
      pos = end + 1;
    }
  }
  return out;
}

class ClusterE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testutil::TempDir();
    port_ = testutil::FreePort();
    CommandResult up = Ck("up --nodes 3 --state-dir " + State() + " --profile teaching --detach --apiserver-port " +
                          std::to_string(port_));
    up_output_ = up.output;
    up_ok_ = up.exit_code == 0;
  }
  static void TearDownTestSuite() {
    CommandResult down = Ck("down --state-dir " + State());
    if (down.exit_code != 0) std::fprintf(stderr, "ck down failed:\n%s\n", down.output.c_str());
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(up_ok_) << "ck up failed:\n" << up_output_ << "\n" << Logs(); }
  void TearDown() override {
    if (HasFailure()) std::fprintf(stderr, "%s\n", Logs().c_str());
  }

  static std::string State() { return dir_->File("cluster"); }
  static CommandResult Ck(const std::string& args) {
    return testutil::RunCommand(testutil::BinDir() + "/ck " + args + " 2>&1");
  }
  static CommandResult Kubectl(const std::string& args) {
    std::string cmd = "HOME=" + dir_->path() + " KUBECONFIG=" + State() + "/admin.kubeconfig kubectl --cache-dir " +
                      dir_->File("kcache") + " " + args + " 2>&1";
    return testutil::RunCommand(cmd);
  }
  static std::string Apply(const std::string& name, const std::string& yaml) {
    std::string path = dir_->File(name + ".yaml");
    testutil::WriteFileOrDie(path, yaml);
    return path;
  }
  static std::string Logs() {
    std::string out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(State() + "/logs", ec)) {
      std::string path = e.path().string();
      std::ifstream in(path);
      if (!in) continue;
      std::stringstream ss;
      ss << in.rdbuf();
      out += "---- " + path + " (tail) ----\n" + Tail(ss.str(), 2500) + "\n";
    }
    return out;
  }
  static std::string Echo() { return testutil::BinDir() + "/ck-echo"; }
  // A jsonpath query of one object; "" on error.
  static std::string Get(const std::string& what, const std::string& jsonpath) {
    CommandResult r = Kubectl("get " + what + " -o jsonpath='" + jsonpath + "'");
    return r.exit_code == 0 ? r.output : "";
  }
  static bool WaitFor(const std::function<bool()>& f, std::chrono::milliseconds timeout) {
    return testutil::WaitUntil(f, timeout, 200ms);
  }

  // ---- for the kill tests ----
  static int Pid(const std::string& component) {
    std::ifstream in(State() + "/run/" + component + ".pid");
    int pid = 0;
    in >> pid;
    return pid;
  }
  static bool Alive(int pid) { return pid > 0 && ::kill(pid, 0) == 0; }
  // kill -9 a daemon by its recorded PID and waits until the supervisor runs a new one.
  static void KillAndWaitForRestart(const std::string& component) {
    int old_pid = Pid(component);
    ASSERT_TRUE(Alive(old_pid)) << component << " is not running (pid " << old_pid << ")";
    ASSERT_EQ(::kill(old_pid, SIGKILL), 0);
    ASSERT_TRUE(WaitFor([&] { return Pid(component) != old_pid && Alive(Pid(component)); }, 30s))
        << "the supervisor did not restart " << component << "\n" << Ck("status --state-dir " + State()).output;
  }
  struct PodInfo {
    std::string name, node, restarts;
  };
  static std::vector<PodInfo> Pods(const std::string& ns, const std::string& selector) {
    CommandResult r = Kubectl("get pods -n " + ns + " -l " + selector +
                              " -o jsonpath='{range .items[*]}{.metadata.name} {.spec.nodeName} "
                              "{.status.containerStatuses[0].restartCount} {.metadata.deletionTimestamp}{\"\\n\"}{end}'");
    std::vector<PodInfo> out;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
      auto w = Words(line);
      if (w.size() == 3) out.push_back({w[0], w[1], w[2]});  // terminating pods have a 4th word
    }
    return out;
  }
  static bool ReadyReplicas(const std::string& ns, const std::string& name, int want) {
    return Get("deployment " + name + " -n " + ns, "{.status.readyReplicas}/{.status.updatedReplicas}/{.status.replicas}") ==
           std::to_string(want) + "/" + std::to_string(want) + "/" + std::to_string(want);
  }

  static testutil::TempDir* dir_;
  static uint16_t port_;
  static bool up_ok_;
  static std::string up_output_;
};

testutil::TempDir* ClusterE2E::dir_ = nullptr;
uint16_t ClusterE2E::port_ = 0;
bool ClusterE2E::up_ok_ = false;
std::string ClusterE2E::up_output_;

std::string EchoDeployment(const std::string& ns, const std::string& echo, int replicas, const std::string& extra_env) {
  return R"(apiVersion: v1
kind: Namespace
metadata:
  name: )" + ns + R"(
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
  namespace: )" + ns + R"(
spec:
  replicas: )" + std::to_string(replicas) + R"(
  strategy:
    rollingUpdate: {maxSurge: 2, maxUnavailable: 1}
  selector:
    matchLabels: {app: echo}
  template:
    metadata:
      labels: {app: echo}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: echo
        image: clearkube/ck-echo:1
        command: [")" + echo + R"("]
        env:
        - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: PORT, value: "8080"}
)" + extra_env + R"(        ports:
        - {name: http, containerPort: 8080}
        readinessProbe:
          httpGet: {path: /ready, port: http}
          periodSeconds: 1
          failureThreshold: 1
)";
}

TEST_F(ClusterE2E, UpPrintsTheKubeconfigLineAndThreeNodesAreReadyInThreeZones) {
  EXPECT_NE(up_output_.find("export KUBECONFIG=" + State() + "/admin.kubeconfig"), std::string::npos) << up_output_;
  CommandResult r = Kubectl("get nodes -L topology.kubernetes.io/zone --no-headers");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* n : {"node-1", "node-2", "node-3"}) EXPECT_NE(r.output.find(n), std::string::npos) << r.output;
  std::set<std::string> zones;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    auto w = Words(line);
    if (w.size() >= 6) {
      EXPECT_EQ(w[1], "Ready") << line;
      zones.insert(w.back());
    }
  }
  EXPECT_EQ(zones.size(), 3u) << r.output;
  EXPECT_EQ(Get("node node-2", "{.status.addresses[0].address}"), "127.0.1.2");
}

TEST_F(ClusterE2E, DeploymentOfSixEchoPodsRunsReadyAcrossNodesAndAnswersOnPodIps) {
  testutil::Subprocess watch({"/bin/sh", "-c",
                              "HOME=" + dir_->path() + " KUBECONFIG=" + State() +
                                  "/admin.kubeconfig exec kubectl get pods -n web -o wide -w"});
  CommandResult r = Kubectl("apply -f " + Apply("web", EchoDeployment("web", Echo(), 6, "")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = Kubectl("rollout status deployment/echo -n web --timeout=60s");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = Kubectl("wait pods -n web -l app=echo --for=condition=Ready --timeout=30s");
  ASSERT_EQ(r.exit_code, 0) << r.output;

  r = Kubectl("get pods -n web -l app=echo -o jsonpath='{range .items[*]}{.metadata.name} {.status.podIP} "
              "{.spec.nodeName} {.status.phase}{\"\\n\"}{end}'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::set<std::string> nodes, ips;
  int pods = 0;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    auto w = Words(line);
    if (w.size() != 4) continue;
    ++pods;
    EXPECT_EQ(w[3], "Running");
    EXPECT_TRUE(w[1].rfind("127.244.", 0) == 0) << "pod IP " << w[1] << " is not from the loopback podCIDRs";
    ips.insert(w[1]);
    nodes.insert(w[2]);
    // Each pod answers on its own IP with its own name.
    CommandResult curl = testutil::RunCommand("curl -s --max-time 5 http://" + w[1] + ":8080/");
    EXPECT_EQ(curl.exit_code, 0) << curl.output;
    EXPECT_NE(curl.output.find(w[0]), std::string::npos) << "pod " << w[0] << " at " << w[1] << " said " << curl.output;
  }
  EXPECT_EQ(pods, 6);
  EXPECT_EQ(ips.size(), 6u);
  EXPECT_GE(nodes.size(), 2u) << "the scheduler spreads a Deployment's pods over the nodes";

  // `kubectl get pods -w` saw the pods go from Pending/ContainerCreating to Running 1/1.
  const std::regex running_ready(R"(\b1/1\s+Running\b)");
  ASSERT_TRUE(WaitFor([&] { return std::regex_search(watch.Stdout(), running_ready); }, 10s)) << watch.Stdout();
  std::string seen = watch.Stdout();
  EXPECT_TRUE(seen.find("Pending") != std::string::npos || seen.find("ContainerCreating") != std::string::npos)
      << seen;
  EXPECT_NE(seen.find("0/1"), std::string::npos) << seen;

  // Status details a user reads.
  std::string pod = Words(r.output).at(0);
  EXPECT_EQ(Get("pod " + pod + " -n web", "{.status.qosClass}"), "BestEffort");
  EXPECT_EQ(Get("pod " + pod + " -n web", "{.status.conditions[?(@.type==\"Ready\")].status}"), "True");
  EXPECT_EQ(Get("pod " + pod + " -n web", "{.status.containerStatuses[0].started}"), "true");
  EXPECT_NE(Get("pod " + pod + " -n web", "{.status.containerStatuses[0].containerID}").find("process://"),
            std::string::npos);
  CommandResult events = Kubectl("get events -n web --field-selector involvedObject.name=" + pod);
  for (const char* reason : {"Scheduled", "Pulled", "Created", "Started"}) {
    EXPECT_NE(events.output.find(reason), std::string::npos) << events.output;
  }

  // Readiness off -> Ready false (and back).
  std::string ip = Get("pod " + pod + " -n web", "{.status.podIP}");
  ASSERT_EQ(testutil::RunCommand("curl -s --max-time 5 http://" + ip + ":8080/fail-readiness").exit_code, 0);
  EXPECT_TRUE(WaitFor([&] { return Get("pod " + pod + " -n web", "{.status.containerStatuses[0].ready}") == "false"; },
                      15s));
  EXPECT_EQ(Get("pod " + pod + " -n web", "{.status.conditions[?(@.type==\"Ready\")].status}"), "False");
  ASSERT_EQ(testutil::RunCommand("curl -s --max-time 5 http://" + ip + ":8080/pass-readiness").exit_code, 0);
  EXPECT_TRUE(WaitFor([&] { return Get("pod " + pod + " -n web", "{.status.containerStatuses[0].ready}") == "true"; },
                      15s));

  // A rolling update completes.
  r = Kubectl("set env deployment/echo -n web GREETING=v2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = Kubectl("rollout status deployment/echo -n web --timeout=90s");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Get("deployment echo -n web", "{.status.updatedReplicas}/{.status.readyReplicas}"), "6/6");
  watch.Signal(SIGTERM);
}

TEST_F(ClusterE2E, ExitingContainerRestartsIntoCrashLoopBackOff) {
  CommandResult r = Kubectl("apply -f " + Apply("crash", R"(apiVersion: v1
kind: Pod
metadata:
  name: crasher
  namespace: default
spec:
  containers:
  - name: main
    image: busybox
    command: ["/bin/sh", "-c", "echo crashing; exit 3"]
)"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(WaitFor([&] { return Int(Get("pod crasher", "{.status.containerStatuses[0].restartCount}")) >= 2; }, 30s))
      << Kubectl("describe pod crasher").output;
  EXPECT_TRUE(WaitFor([&] { return Kubectl("get pod crasher").output.find("CrashLoopBackOff") != std::string::npos; },
                      20s))
      << Kubectl("get pod crasher -o yaml").output;
  EXPECT_EQ(Get("pod crasher", "{.status.containerStatuses[0].lastState.terminated.exitCode}"), "3");
  CommandResult events = Kubectl("get events --field-selector involvedObject.name=crasher");
  EXPECT_NE(events.output.find("BackOff"), std::string::npos) << events.output;
  EXPECT_NE(events.output.find("Back-off restarting failed container main"), std::string::npos) << events.output;
  Kubectl("delete pod crasher --wait=false");
}

TEST_F(ClusterE2E, FailingLivenessProbeRestartsTheContainer) {
  CommandResult r = Kubectl("apply -f " + Apply("live", R"(apiVersion: v1
kind: Pod
metadata:
  name: unhealthy
  namespace: default
spec:
  containers:
  - name: main
    image: busybox
    command: ["/bin/sh", "-c", "sleep 300"]
    livenessProbe:
      exec: {command: ["/bin/sh", "-c", "exit 1"]}
      periodSeconds: 1
      failureThreshold: 2
)"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(WaitFor([&] { return Int(Get("pod unhealthy", "{.status.containerStatuses[0].restartCount}")) >= 1; }, 30s))
      << Kubectl("describe pod unhealthy").output;
  CommandResult events = Kubectl("get events --field-selector involvedObject.name=unhealthy");
  EXPECT_NE(events.output.find("Unhealthy"), std::string::npos) << events.output;
  EXPECT_NE(events.output.find("Liveness probe failed"), std::string::npos) << events.output;
  EXPECT_NE(events.output.find("failed liveness probe, will be restarted"), std::string::npos) << events.output;
  Kubectl("delete pod unhealthy --wait=false");
}

TEST_F(ClusterE2E, DeleteRunsPreStopBeforeSigtermWithinTheGracePeriod) {
  // The app records when it sees SIGTERM, the preStop hook when it runs (nanoseconds, into files
  // of the test's own folder); the kubelet must run the hook first, then signal.
  std::string prestop = dir_->File("prestop-at");
  std::string sigterm = dir_->File("sigterm-at");
  CommandResult r = Kubectl("apply -f " + Apply("graceful", R"(apiVersion: v1
kind: Pod
metadata:
  name: graceful
  namespace: default
spec:
  terminationGracePeriodSeconds: 10
  containers:
  - name: app
    image: busybox
    command: ["/bin/sh", "-c", "trap 'date +%s%N > )" + sigterm + R"(; exit 0' TERM; echo started; while true; do sleep 0.1; done"]
    lifecycle:
      preStop:
        exec: {command: ["/bin/sh", "-c", "date +%s%N > )" + prestop + R"(; sleep 0.5"]}
)"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(WaitFor([&] { return Get("pod graceful", "{.status.phase}") == "Running"; }, 30s));
  auto t0 = std::chrono::steady_clock::now();
  r = Kubectl("delete pod graceful --timeout=30s");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_NE(Kubectl("get pod graceful").exit_code, 0) << "the kubelet confirmed the deletion";
  EXPECT_LT(secs, 10.0) << "the app exited on SIGTERM, well before the grace period ran out";
  ASSERT_TRUE(std::filesystem::exists(prestop)) << "preStop hook did not run";
  ASSERT_TRUE(std::filesystem::exists(sigterm)) << "the app never saw SIGTERM";
  long long prestop_ns = std::stoll(testutil::ReadFileOrDie(prestop));
  long long sigterm_ns = std::stoll(testutil::ReadFileOrDie(sigterm));
  EXPECT_LE(prestop_ns, sigterm_ns) << "preStop must run before SIGTERM";
  EXPECT_GE(sigterm_ns - prestop_ns, 400'000'000LL) << "SIGTERM came before the hook finished";
  CommandResult events = Kubectl("get events --field-selector involvedObject.name=graceful");
  EXPECT_NE(events.output.find("Killing"), std::string::npos) << events.output;
}

TEST_F(ClusterE2E, JobRunsToCompletion) {
  CommandResult r = Kubectl("apply -f " + Apply("job", R"(apiVersion: batch/v1
kind: Job
metadata:
  name: count
  namespace: default
spec:
  completions: 3
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: count
        image: busybox
        command: ["/bin/sh", "-c", "echo counted $POD_NAME"]
        env:
        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
)"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = Kubectl("wait job/count --for=condition=Complete --timeout=60s");
  ASSERT_EQ(r.exit_code, 0) << r.output << Kubectl("describe job count").output;
  EXPECT_EQ(Get("job count", "{.status.succeeded}"), "3");
  std::string pod = Words(Kubectl("get pods -l job-name=count -o name").output).at(0);
  EXPECT_EQ(Get(pod, "{.status.phase}"), "Succeeded");
  EXPECT_EQ(Get(pod, "{.status.containerStatuses[0].state.terminated.reason}"), "Completed");
}

TEST_F(ClusterE2E, AContainerWithoutCommandFailsWithAClearReason) {
  CommandResult r = Kubectl("run nocmd --image=nginx --restart=Never");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(WaitFor([&] {
    return Get("pod nocmd", "{.status.containerStatuses[0].state.waiting.reason}") == "CreateContainerError";
  }, 30s)) << Kubectl("get pod nocmd -o yaml").output;
  EXPECT_NE(Get("pod nocmd", "{.status.containerStatuses[0].state.waiting.message}").find("command"),
            std::string::npos);
  Kubectl("delete pod nocmd --wait=false");
}

// ---- Kill tests (they disturb the cluster, so they run last, in this order) ----



TEST_F(ClusterE2E, SigkilledKubeletLeavesItsContainersRunningAndReadoptsThem) {
  CommandResult r = Kubectl("apply -f " + Apply("steady", EchoDeployment("steady", Echo(), 6, "")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(WaitFor([&] { return ReadyReplicas("steady", "echo", 6); }, 60s)) << Kubectl("get pods -A -o wide").output;
  auto pods = Pods("steady", "app=echo");
  ASSERT_EQ(pods.size(), 6u);
  const std::string node = pods[0].node;
  std::map<std::string, std::set<int>> before;
  std::map<std::string, std::string> restarts;
  for (const auto& p : pods) {
    if (p.node != node) continue;
    before[p.name] = ContainerPids(p.name);
    restarts[p.name] = p.restarts;
    ASSERT_EQ(before[p.name].size(), 1u) << p.name;
  }
  KillAndWaitForRestart("kubelet-" + node);
  // Right after the kill, and after the new kubelet synced, the same single process runs per pod.
  for (const auto& [name, pids] : before) EXPECT_EQ(ContainerPids(name), pids) << name;
  // A new pod pinned to the node runs: the restarted kubelet is syncing pods again.
  r = Kubectl("run probe-after-restart --image=busybox --restart=Never --overrides='{\"spec\":{\"nodeName\":\"" + node +
              "\"}}' --command -- /bin/sleep 300");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(WaitFor([&] { return Get("pod probe-after-restart", "{.status.phase}") == "Running"; }, 30s));
  for (const auto& [name, pids] : before) {
    EXPECT_EQ(ContainerPids(name), pids) << "pod " << name << " got a duplicate or restarted container";
    EXPECT_EQ(Get("pod " + name + " -n steady", "{.status.containerStatuses[0].restartCount}"), restarts[name]);
    EXPECT_EQ(Get("pod " + name + " -n steady", "{.status.containerStatuses[0].ready}"), "true");
  }
  Kubectl("delete pod probe-after-restart --wait=false");
}

TEST_F(ClusterE2E, KillingSchedulerControllerManagerAndApiserverDuringAScaleUpConverges) {
  ASSERT_TRUE(WaitFor([&] { return ReadyReplicas("steady", "echo", 6); }, 60s));
  CommandResult r = Kubectl("scale deployment/echo -n steady --replicas=15");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  KillAndWaitForRestart("scheduler");
  KillAndWaitForRestart("controller-manager");
  KillAndWaitForRestart("apiserver");
  ASSERT_TRUE(WaitFor([&] { return ReadyReplicas("steady", "echo", 15); }, 120s))
      << Kubectl("get pods -n steady -o wide").output;
  EXPECT_EQ(Pods("steady", "app=echo").size(), 15u);
  // Nothing acknowledged before the kills is lost.
  EXPECT_EQ(Kubectl("get deployment echo -n web").exit_code, 0);
  EXPECT_EQ(Kubectl("get job count").exit_code, 0);
}

TEST_F(ClusterE2E, StoppedKubeletsNodeGoesNotReadyAndItsPodsAreRecreatedElsewhereWithin15s) {
  ASSERT_TRUE(WaitFor([&] { return ReadyReplicas("steady", "echo", 15); }, 60s));
  std::map<std::string, int> per_node;
  for (const auto& p : Pods("steady", "app=echo")) ++per_node[p.node];
  std::string victim = std::max_element(per_node.begin(), per_node.end(),
                                        [](const auto& a, const auto& b) { return a.second < b.second; })->first;
  auto t0 = std::chrono::steady_clock::now();
  CommandResult r = Ck("stop --state-dir " + State() + " kubelet-" + victim);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto moved = [&] {
    auto pods = Pods("steady", "app=echo");
    if (pods.size() != 15) return false;
    for (const auto& p : pods) {
      if (p.node == victim) return false;
    }
    return ReadyReplicas("steady", "echo", 15);
  };
  bool ok = WaitFor(moved, 60s);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("node %s stopped -> %d pods Ready elsewhere after %.1f s\n", victim.c_str(), 15, secs);
  ASSERT_TRUE(ok) << Kubectl("get pods -n steady -o wide").output << Kubectl("get nodes").output;
  EXPECT_NE(Get("node " + victim, "{.status.conditions[?(@.type==\"Ready\")].status}"), "True");
  EXPECT_LE(secs, 15.0) << "the teaching profile handles a dead node within 15 s";
  r = Ck("start --state-dir " + State() + " kubelet-" + victim);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(WaitFor([&] { return Get("node " + victim, "{.status.conditions[?(@.type==\"Ready\")].status}") == "True"; },
                      30s));
}

}  // namespace
}  // namespace ck
