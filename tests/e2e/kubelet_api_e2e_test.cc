// End to end for the kubelet's API through the apiserver (issue "logs, exec, attach,
// port-forward, cp") on a `ck up` cluster of 3 process-mode nodes, driven by every kubectl on the
// machine: 1.32 through the /usr/bin/kubectl dispatcher and 1.33 speak WebSocket (v5.channel.k8s.io),
// 1.27 and 1.29 speak SPDY/3.1. Per kubectl: logs (all, --tail, -f, --previous), exec with
// stdout/stderr/exit code, exec -i, attach (with and without stdin), port-forward to ck-echo and
// cp both ways. Once: drain honouring a PodDisruptionBudget, a static pod's mirror, the upstream
// Forbidden for a user without pods/exec, and the kubelet's own authentication on its port.
// One cluster serves the whole file (starting it is the slow part); its ports and pod range are
// chosen so that it does not collide with another cluster running on the machine.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/base/strings.h"
#include "tests/testutil/apiserver.h"
#include "tests/testutil/testutil.h"

namespace ck {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testutil::Subprocess;

constexpr char kDispatcher[] = "/usr/bin/kubectl";  // runs kubectl.1.<server minor>: 1.32 here
constexpr char kStreams[] = "streams";              // namespace of the per-kubectl pods

struct Ran {
  int code = -1;
  std::string out, err;
  std::string Both() const { return "exit " + std::to_string(code) + "\nstdout:\n" + out + "\nstderr:\n" + err; }
};

// ---- process handling ----

// Every descendant of `pid` (children first found through /proc/<pid>/task/<tid>/children).
void CollectDescendants(pid_t pid, std::vector<pid_t>* out) {
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "children");
    for (pid_t child; in >> child;) {
      out->push_back(child);
      CollectDescendants(child, out);
    }
  }
}

// Stops a process we started and whatever it started (the dispatcher may run kubectl.1.32 as
// its child), by PID.
void KillTree(Subprocess& p) {
  if (!p.running()) return;
  std::vector<pid_t> pids;
  CollectDescendants(p.pid(), &pids);
  p.Signal(SIGKILL);
  for (pid_t pid : pids) ::kill(pid, SIGKILL);
  p.Wait(10s);
}

// ---- the cluster ----

class Cluster : public ::testing::Environment {
 public:
  void SetUp() override {
    dir_ = std::make_unique<testutil::TempDir>();
    std::set<uint16_t> ports;
    while (ports.size() < 4) ports.insert(testutil::FreePort());
    auto it = ports.begin();
    apiserver_port_ = *it++;
    const uint16_t cm_port = *it++, scheduler_port = *it++;
    kubelet_port_ = *it++;
    // Process mode shares the host's network: a pod range and Service range of its own keep this
    // cluster's pods off another cluster's addresses.
    testutil::CommandResult up = testutil::RunCommand(
        testutil::BinDir() + "/ck up --nodes 3 --profile teaching --detach --state-dir " + state() +
        " --apiserver-port " + std::to_string(apiserver_port_) + " --controller-manager-port " +
        std::to_string(cm_port) + " --scheduler-port " + std::to_string(scheduler_port) + " --kubelet-port " +
        std::to_string(kubelet_port_) + " --cluster-cidr 127.230.0.0/16 --service-cidr 127.98.0.0/16");
    up_ok_ = up.exit_code == 0;
    up_output_ = up.output;
  }
  void TearDown() override {
    testutil::CommandResult down = testutil::RunCommand(testutil::BinDir() + "/ck down --state-dir " + state());
    if (down.exit_code != 0) std::fprintf(stderr, "ck down failed:\n%s\n", down.output.c_str());
    dir_.reset();
  }

  bool up_ok() const { return up_ok_; }
  const std::string& up_output() const { return up_output_; }
  std::string state() const { return dir_->File("cluster"); }
  // A path in the test's own folder (containers see the host's files in process mode).
  std::string File(const std::string& name) const { return dir_->File(name); }
  uint16_t apiserver_port() const { return apiserver_port_; }
  uint16_t kubelet_port() const { return kubelet_port_; }
  std::string admin_kubeconfig() const { return state() + "/admin.kubeconfig"; }

  // Starts `kubectl args...` with stdin from `stdin_path`; the caller waits for it or kills it.
  std::unique_ptr<Subprocess> Start(const std::string& kubectl, const std::vector<std::string>& args,
                                    const std::string& stdin_path = "/dev/null",
                                    const std::string& kubeconfig = "") const {
    std::vector<std::string> argv = {"/bin/sh", "-c", "exec \"$@\" < \"$CK_E2E_STDIN\"", "sh", kubectl,
                                     "--kubeconfig=" + (kubeconfig.empty() ? admin_kubeconfig() : kubeconfig),
                                     "--cache-dir=" + dir_->File("kubectl-cache")};
    argv.insert(argv.end(), args.begin(), args.end());
    return std::make_unique<Subprocess>(argv, std::map<std::string, std::string>{{"HOME", dir_->path()},
                                                                               {"CK_E2E_STDIN", stdin_path}});
  }
  // Runs kubectl to completion (killed after `timeout`, then code -1).
  Ran Run(const std::string& kubectl, const std::vector<std::string>& args, const std::string& stdin_path = "/dev/null",
          const std::string& kubeconfig = "", std::chrono::milliseconds timeout = 60s) const {
    std::unique_ptr<Subprocess> p = Start(kubectl, args, stdin_path, kubeconfig);
    std::optional<int> code = p->Wait(timeout);
    if (!code) KillTree(*p);
    Ran r{code.value_or(-1), p->Stdout(), p->Stderr()};
    if (!code) r.err += "\n[killed after " + std::to_string(timeout.count()) + " ms]";
    return r;
  }
  // `kubectl get WHAT -o jsonpath=PATH` with the dispatcher; "" when it fails.
  std::string Get(const std::vector<std::string>& what, const std::string& jsonpath) const {
    std::vector<std::string> args = {"get"};
    args.insert(args.end(), what.begin(), what.end());
    args.push_back("-o=jsonpath=" + jsonpath);
    Ran r = Run(kDispatcher, args);
    return r.code == 0 ? r.out : "";
  }
  std::string Logs() const {
    std::string out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(state() + "/logs", ec)) {
      std::string text = testutil::ReadFileOrDie(e.path().string());
      if (text.size() > 2500) text = text.substr(text.size() - 2500);
      out += "---- " + e.path().string() + " (tail) ----\n" + text + "\n";
    }
    return out;
  }

 private:
  std::unique_ptr<testutil::TempDir> dir_;
  uint16_t apiserver_port_ = 0, kubelet_port_ = 0;
  bool up_ok_ = false;
  std::string up_output_;
};

// gtest owns it; SetUp runs before the first test, TearDown after the last.
Cluster* const g_cluster = static_cast<Cluster*>(::testing::AddGlobalTestEnvironment(new Cluster));

bool WaitFor(const std::function<bool()>& f, std::chrono::milliseconds timeout) {
  return testutil::WaitUntil(f, timeout, 100ms);
}

int ToInt(const std::string& s) {
  try {
    return std::stoi(s);
  } catch (...) {
    return -1;
  }
}

std::string Apply(const std::string& name, const std::string& yaml) {
  std::string path = g_cluster->File(name + ".yaml");
  testutil::WriteFileOrDie(path, yaml);
  Ran r = g_cluster->Run(kDispatcher, {"apply", "-f", path});
  return r.code == 0 ? "" : r.Both();
}

// The numbers of the complete "tick-<n>" lines of `text`, in order.
std::vector<int> Ticks(const std::string& text) {
  std::vector<int> out;
  static const std::regex tick(R"(^tick-(\d+)$)");
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (lines.eof()) break;  // the last line has no newline yet
    std::smatch m;
    if (std::regex_match(line, m, tick)) out.push_back(std::stoi(m[1]));
  }
  return out;
}

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(g_cluster->up_ok()) << "ck up failed:\n" << g_cluster->up_output() << "\n" << g_cluster->Logs();
  }
  void TearDown() override {
    if (HasFailure()) std::fprintf(stderr, "%s\n", g_cluster->Logs().c_str());
  }
};

// ---- per kubectl ----

struct Kubectl {
  std::string path;
  std::string tag;  // in pod names and the test name
};

void PrintTo(const Kubectl& k, std::ostream* os) { *os << k.path; }

const Kubectl kKubectls[] = {
    {kDispatcher, "v132"},
    {"/usr/lib/google-cloud-sdk/bin/kubectl.1.27", "v127"},
    {"/usr/lib/google-cloud-sdk/bin/kubectl.1.29", "v129"},
    {"/usr/lib/google-cloud-sdk/bin/kubectl.1.33", "v133"},
};

std::string Pod(const std::string& name, const std::string& tag, const std::string& spec) {
  return "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "-" + tag + "\n  namespace: " + kStreams +
         "\n  labels: {suite: streams, kind: " + name + "}\nspec:\n  terminationGracePeriodSeconds: 1\n" + spec;
}

// Five pods per kubectl, so no test sees another's input or output: `lines` prints four lines
// and sleeps, `ticker` prints tick-<n> every 200 ms, `crash` prints a marker and exits 1,
// `reader` echoes its stdin, `echo` is ck-echo.
std::string StreamPods(const std::string& tag) {
  const std::string counter = g_cluster->File("crash-" + tag + ".count");
  return Pod("lines", tag, R"(  containers:
  - name: main
    image: busybox
    command: ["/bin/sh", "-c", "echo line-1; echo line-2; echo line-3; echo line-4; exec sleep 3600"]
)") + Pod("ticker", tag, R"(  containers:
  - name: main
    image: busybox
    command: ["/bin/sh", "-c", "i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.2; done"]
)") + Pod("crash", tag, R"(  restartPolicy: Always
  containers:
  - name: main
    image: busybox
    command: ["/bin/sh", "-c", "n=$(cat )" + counter + R"( 2>/dev/null || echo 0); n=$((n+1)); echo $n > )" +
                                 counter + R"(; echo crash-marker-)" + tag + R"( attempt-$n; exit 1"]
)") + Pod("reader", tag, R"(  containers:
  - name: main
    image: busybox
    stdin: true
    command: ["/bin/sh", "-c", "while read l; do echo got:$l; done"]
)") + Pod("echo", tag, R"(  containers:
  - name: echo
    image: clearkube/ck-echo:1
    command: ["ck-echo"]
    env:
    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: PORT, value: "8080"}
    ports:
    - {name: http, containerPort: 8080}
    readinessProbe:
      httpGet: {path: /ready, port: http}
      periodSeconds: 1
)");
}

class KubectlStreams : public ClusterTest, public ::testing::WithParamInterface<Kubectl> {
 protected:
  static void SetUpTestSuite() {
    if (!g_cluster->up_ok()) return;
    // ServiceAccount admission rejects pods until the namespace's "default" ServiceAccount exists.
    setup_error_ = Apply("streams-namespace", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " +
                                                  std::string(kStreams) + "\n");
    if (!setup_error_.empty()) return;
    if (!WaitFor([] { return g_cluster->Get({"serviceaccount", "default", "-n", kStreams}, "{.metadata.name}") == "default"; },
                 30s)) {
      setup_error_ = "no default ServiceAccount in namespace " + std::string(kStreams);
      return;
    }
    std::string yaml;
    for (const Kubectl& k : kKubectls) yaml += StreamPods(k.tag);
    setup_error_ = Apply("streams", yaml);
    if (!setup_error_.empty()) return;
    // Everything but the crashing pods must be Ready (ck-echo by its readiness probe).
    Ran r = g_cluster->Run(kDispatcher, {"wait", "pods", "-n", kStreams, "-l", "suite=streams,kind!=crash",
                                         "--for=condition=Ready", "--timeout=90s"},
                           "/dev/null", "", 100s);
    if (r.code != 0) setup_error_ = r.Both() + g_cluster->Run(kDispatcher, {"get", "pods", "-A", "-o", "wide"}).out;
  }
  // The drain test needs node-2 free of pods without a controller.
  static void TearDownTestSuite() {
    if (!g_cluster->up_ok()) return;
    Ran r = g_cluster->Run(kDispatcher, {"delete", "pods", "--all", "-n", kStreams, "--grace-period=1", "--timeout=60s"});
    if (r.code != 0) std::fprintf(stderr, "deleting the stream pods failed: %s\n", r.Both().c_str());
  }
  void SetUp() override {
    ClusterTest::SetUp();
    ASSERT_EQ(setup_error_, "") << "the pods did not start";
  }

  const std::string& kubectl() const { return GetParam().path; }
  std::string PodName(const std::string& kind) const { return kind + "-" + GetParam().tag; }
  Ran Run(std::vector<std::string> args, const std::string& stdin_path = "/dev/null") const {
    args.insert(args.begin(), {"-n", kStreams});
    return g_cluster->Run(kubectl(), args, stdin_path);
  }
  std::unique_ptr<Subprocess> Start(std::vector<std::string> args, const std::string& stdin_path = "/dev/null") const {
    args.insert(args.begin(), {"-n", kStreams});
    return g_cluster->Start(kubectl(), args, stdin_path);
  }
  std::string Get(const std::string& pod, const std::string& jsonpath) const {
    return g_cluster->Get({"pod", pod, "-n", kStreams}, jsonpath);
  }

  static std::string setup_error_;
};

std::string KubectlStreams::setup_error_;

TEST_P(KubectlStreams, KubectlIsTheVersionItIsNamedFor) {
  // v132 -> "v1.32." (the dispatcher picks its kubectl by the server's minor version).
  const std::string want = "\"gitVersion\": \"v1." + GetParam().tag.substr(2) + ".";
  Ran r = Run({"version", "-o", "json"});
  ASSERT_EQ(r.code, 0) << r.Both();
  size_t client = r.out.find("\"clientVersion\"");
  ASSERT_NE(client, std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(want, client), r.out.find("\"gitVersion\"", client)) << want << " in\n" << r.out;
}

TEST_P(KubectlStreams, LogsPrintsEveryLineAndTailTheLastOnes) {
  const std::string pod = PodName("lines");
  Ran r;
  ASSERT_TRUE(WaitFor([&] { return (r = Run({"logs", pod})).out == "line-1\nline-2\nline-3\nline-4\n"; }, 10s))
      << r.Both();
  EXPECT_EQ(r.code, 0);
  r = Run({"logs", pod, "--tail=2"});
  EXPECT_EQ(r.code, 0) << r.Both();
  EXPECT_EQ(r.out, "line-3\nline-4\n") << r.Both();
  r = Run({"logs", pod, "-c", "main", "--tail=1"});
  EXPECT_EQ(r.out, "line-4\n") << r.Both();
}

TEST_P(KubectlStreams, LogsFollowShowsLinesAsTheyAreWritten) {
  std::unique_ptr<Subprocess> follow = Start({"logs", "-f", PodName("ticker")});
  std::vector<int> seen;
  ASSERT_TRUE(WaitFor([&] { return !(seen = Ticks(follow->Stdout())).empty(); }, 10s))
      << follow->Stdout() << follow->Stderr();
  const int n = seen.back();
  // The container writes a line every 200 ms; with the stream flowing, the next one shows within 2 s.
  EXPECT_TRUE(WaitFor([&] { return Ticks(follow->Stdout()).back() >= n + 1; }, 2s))
      << "line " << n + 1 << " did not arrive:\n" << follow->Stdout() << follow->Stderr();
  EXPECT_TRUE(WaitFor([&] { return Ticks(follow->Stdout()).back() >= n + 3; }, 3s)) << follow->Stdout();
  EXPECT_TRUE(follow->running()) << "kubectl logs -f ended:\n" << follow->Stderr();
  KillTree(*follow);
  seen = Ticks(follow->Stdout());
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], static_cast<int>(i) + 1) << "lines missing or repeated";
}

TEST_P(KubectlStreams, LogsPreviousShowsTheContainerBeforeTheRestart) {
  const std::string pod = PodName("crash");
  ASSERT_TRUE(WaitFor([&] { return ToInt(Get(pod, "{.status.containerStatuses[0].restartCount}")) >= 1; }, 40s))
      << g_cluster->Run(kDispatcher, {"describe", "pod", "-n", kStreams, pod}).out;
  const int before = ToInt(Get(pod, "{.status.containerStatuses[0].restartCount}"));
  Ran r = Run({"logs", pod, "--previous"});
  const int after = ToInt(Get(pod, "{.status.containerStatuses[0].restartCount}"));
  ASSERT_EQ(r.code, 0) << r.Both();
  const std::string marker = "crash-marker-" + GetParam().tag + " attempt-";
  EXPECT_THAT(r.out, HasSubstr(marker)) << r.Both();
  // Attempt k writes "attempt-k"; after R restarts the previous container is attempt R.
  if (before == after) {
    EXPECT_EQ(r.out, marker + std::to_string(before) + "\n") << "restartCount " << before;
  }

  // A container that never restarted has no previous log (upstream's message).
  r = Run({"logs", PodName("lines"), "--previous"});
  EXPECT_NE(r.code, 0) << r.Both();
  EXPECT_THAT(r.err, HasSubstr("previous terminated container \"main\" in pod \"" + PodName("lines") + "\" not found"))
      << r.Both();
}

TEST_P(KubectlStreams, ExecSeparatesStdoutAndStderrAndExitsWithTheCommandsCode) {
  Ran r = Run({"exec", PodName("lines"), "--", "sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.code, 3) << r.Both();
  EXPECT_EQ(r.out, "out\n") << r.Both();
  EXPECT_THAT(r.err, HasSubstr("err\n")) << r.Both();
  EXPECT_THAT(r.err, HasSubstr("command terminated with exit code 3")) << r.Both();

  r = Run({"exec", PodName("lines"), "--", "sh", "-c", "echo $POD_NAME-ok"});
  EXPECT_EQ(r.code, 0) << r.Both();
  EXPECT_EQ(r.err, "") << r.Both();
}

TEST_P(KubectlStreams, ExecWithStdinPassesItToTheCommand) {
  const std::string in = g_cluster->File("stdin-" + GetParam().tag);
  testutil::WriteFileOrDie(in, "hello\n");
  Ran r = Run({"exec", "-i", PodName("lines"), "--", "cat"}, in);
  EXPECT_EQ(r.code, 0) << r.Both();
  EXPECT_EQ(r.out, "hello\n") << r.Both();
}

TEST_P(KubectlStreams, AttachWithStdinReachesTheRunningContainer) {
  // kubectl reads a FIFO we hold open (O_RDWR never blocks), so it sees no EOF while attached.
  const std::string fifo = g_cluster->File("attach-" + GetParam().tag + ".fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int fd = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::unique_ptr<Subprocess> attach = Start({"attach", "-i", PodName("reader")}, fifo);
  ASSERT_EQ(::write(fd, "x1\n", 3), 3);
  EXPECT_TRUE(WaitFor([&] { return attach->Stdout().find("got:x1\n") != std::string::npos; }, 15s))
      << attach->Stdout() << attach->Stderr();
  ASSERT_EQ(::write(fd, "x2\n", 3), 3);
  EXPECT_TRUE(WaitFor([&] { return attach->Stdout().find("got:x2\n") != std::string::npos; }, 5s))
      << attach->Stdout() << attach->Stderr();
  EXPECT_TRUE(attach->running()) << attach->Stderr();
  KillTree(*attach);
  ::close(fd);
}

TEST_P(KubectlStreams, AttachShowsTheOutputWrittenAfterItAttached) {
  const std::string pod = PodName("ticker");
  std::vector<int> before = Ticks(Run({"logs", pod, "--tail=1"}).out);
  ASSERT_EQ(before.size(), 1u);
  std::unique_ptr<Subprocess> attach = Start({"attach", pod});
  std::vector<int> seen;
  ASSERT_TRUE(WaitFor([&] { return (seen = Ticks(attach->Stdout())).size() >= 3; }, 10s))
      << attach->Stdout() << attach->Stderr();
  EXPECT_GT(seen.front(), before.front()) << "attach replayed old output";
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_EQ(seen[i], seen[i - 1] + 1);
  EXPECT_TRUE(attach->running()) << attach->Stderr();
  KillTree(*attach);
}

TEST_P(KubectlStreams, PortForwardCarriesHttpToCkEcho) {
  const std::string pod = PodName("echo");
  const std::string port = std::to_string(testutil::FreePort());
  std::unique_ptr<Subprocess> forward = Start({"port-forward", "pod/" + pod, port + ":8080"});
  ASSERT_TRUE(WaitFor([&] { return forward->Stdout().find("Forwarding from 127.0.0.1:" + port) != std::string::npos; },
                      15s))
      << forward->Stdout() << forward->Stderr();
  // Two requests, two connections: each is its own stream pair.
  for (int i = 0; i < 2; ++i) {
    testutil::CommandResult curl = testutil::RunCommand("curl -sS --max-time 10 http://127.0.0.1:" + port + "/");
    EXPECT_EQ(curl.exit_code, 0) << curl.output << forward->Stderr();
    EXPECT_EQ(curl.output, pod + "\n") << forward->Stdout() << forward->Stderr();
  }
  EXPECT_THAT(forward->Stdout(), HasSubstr("Handling connection for " + port));
  EXPECT_TRUE(forward->running()) << forward->Stderr();
  KillTree(*forward);
}

TEST_P(KubectlStreams, CpCopiesAFileIntoAndOutOfAPod) {
  const std::string& tag = GetParam().tag;
  const std::string local = g_cluster->File("cp-source-" + tag);
  const std::string in_pod = g_cluster->File("cp-in-pod-" + tag);
  const std::string back = g_cluster->File("cp-back-" + tag);
  std::string content = "first line " + tag + "\n";
  for (int i = 0; i < 3000; ++i) content += std::to_string(i * 7919 % 104729) + (i % 10 == 9 ? "\n" : " ");
  testutil::WriteFileOrDie(local, content);

  Ran r = Run({"cp", local, PodName("lines") + ":" + in_pod});
  ASSERT_EQ(r.code, 0) << r.Both();
  // Process mode: the container's filesystem is the host's.
  ASSERT_TRUE(std::filesystem::exists(in_pod)) << r.Both();
  EXPECT_EQ(testutil::ReadFileOrDie(in_pod), content);

  r = Run({"cp", PodName("lines") + ":" + in_pod, back});
  ASSERT_EQ(r.code, 0) << r.Both();
  ASSERT_TRUE(std::filesystem::exists(back)) << r.Both();
  EXPECT_EQ(testutil::ReadFileOrDie(back), content);
}

INSTANTIATE_TEST_SUITE_P(EveryKubectl, KubectlStreams, ::testing::ValuesIn(kKubectls),
                         [](const ::testing::TestParamInfo<Kubectl>& info) { return info.param.tag; });

// ---- once, with the dispatcher ----

class ClusterOperations : public ClusterTest {
 protected:
  // A ServiceAccount `viewer` bound to the `view` ClusterRole and a token for it.
  static std::string ViewerToken() {
    Ran sa = g_cluster->Run(kDispatcher, {"create", "serviceaccount", "viewer"});
    EXPECT_TRUE(sa.code == 0 || sa.err.find("already exists") != std::string::npos) << sa.Both();
    Ran rb = g_cluster->Run(kDispatcher, {"create", "rolebinding", "viewer-view", "--clusterrole=view",
                                          "--serviceaccount=default:viewer"});
    EXPECT_TRUE(rb.code == 0 || rb.err.find("already exists") != std::string::npos) << rb.Both();
    Ran token = g_cluster->Run(kDispatcher, {"create", "token", "viewer"});
    EXPECT_EQ(token.code, 0) << token.Both();
    std::string t = token.out;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
    return t;
  }
  // A kubeconfig that authenticates with a bearer token only (no client certificate).
  static std::string TokenKubeconfig(const std::string& token) {
    std::string path = g_cluster->File("viewer.kubeconfig");
    testutil::WriteFileOrDie(path, "apiVersion: v1\nkind: Config\nclusters:\n- name: ck\n  cluster:\n    server: https://127.0.0.1:" +
                                       std::to_string(g_cluster->apiserver_port()) +
                                       "\n    certificate-authority: " + g_cluster->state() + "/ca.crt\nusers:\n"
                                       "- name: viewer\n  user:\n    token: " + token +
                                       "\ncontexts:\n- name: viewer\n  context: {cluster: ck, user: viewer, "
                                       "namespace: default}\ncurrent-context: viewer\n");
    return path;
  }
  // HTTP status and body of a GET to node-1's kubelet; `auth` holds curl's credential flags.
  static std::pair<std::string, std::string> KubeletGet(const std::string& path, const std::string& auth) {
    const std::string body = g_cluster->File("kubelet-body");
    std::filesystem::remove(body);
    testutil::CommandResult r = testutil::RunCommand(
        "curl -sS --max-time 10 -o " + body + " -w '%{http_code}' --cacert " + g_cluster->state() + "/ca.crt " +
        auth + " https://127.0.1.1:" + std::to_string(g_cluster->kubelet_port()) + path);
    return {r.output, std::filesystem::exists(body) ? testutil::ReadFileOrDie(body) : ""};
  }
  static bool RunningPod(const std::string& name, const std::string& body) {
    return Apply(name, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name +
                           "\n  namespace: default\nspec:\n  terminationGracePeriodSeconds: 1\n" + body)
               .empty() &&
           WaitFor([&] { return g_cluster->Get({"pod", name}, "{.status.phase}") == "Running"; }, 30s);
  }
  static std::string Unique() { return std::filesystem::path(g_cluster->File("")).parent_path().filename().string(); }
};

TEST_F(ClusterOperations, KubeletApiAuthenticatesAndAuthorizesItsCallers) {
  auto [code, body] = KubeletGet("/pods", "");
  EXPECT_EQ(code, "401") << body;

  const std::string token = ViewerToken();
  ASSERT_FALSE(token.empty());
  std::tie(code, body) = KubeletGet("/pods", "-H 'Authorization: Bearer " + token + "'");
  EXPECT_EQ(code, "403") << body;
  EXPECT_THAT(body, HasSubstr("Forbidden (user=system:serviceaccount:default:viewer, verb=get, resource=nodes, "
                              "subresource=proxy)"));

  // The admin identity (CN kubernetes-admin, O system:masters) lives only in admin.kubeconfig.
  const std::string crt = g_cluster->File("admin-client.crt"), key = g_cluster->File("admin-client.key");
  for (const auto& [field, path] : {std::pair{"client-certificate-data", crt}, std::pair{"client-key-data", key}}) {
    Ran r = g_cluster->Run(kDispatcher, {"config", "view", "--raw", "-o", "jsonpath={.users[0].user." + std::string(field) + "}"});
    std::string pem;
    ASSERT_TRUE(r.code == 0 && DecodeBase64(r.out, &pem)) << r.Both();
    testutil::WriteFileOrDie(path, pem);
  }
  std::tie(code, body) = KubeletGet("/pods", "--cert " + crt + " --key " + key);
  EXPECT_EQ(code, "200") << body;
  EXPECT_THAT(body, HasSubstr(R"("kind":"PodList")"));
  // The same API through the apiserver's node proxy, as the apiserver-kubelet-client identity.
  Ran r = g_cluster->Run(kDispatcher, {"get", "--raw", "/api/v1/nodes/node-1/proxy/pods"});
  EXPECT_EQ(r.code, 0) << r.Both();
  EXPECT_THAT(r.out, HasSubstr(R"("kind":"PodList")"));
  r = g_cluster->Run(kDispatcher, {"get", "--raw", "/api/v1/nodes/node-1/proxy/metrics"});
  EXPECT_THAT(r.out, HasSubstr(R"(kubelet_node_name{node="node-1"} 1)")) << r.Both();
}

TEST_F(ClusterOperations, AUserWithoutPodsExecGetsTheUpstreamForbidden) {
  ASSERT_TRUE(RunningPod("exec-target", R"(  containers:
  - name: main
    image: busybox
    command: ["/bin/sh", "-c", "exec sleep 3600"]
)"));
  const std::string kubeconfig = TokenKubeconfig(ViewerToken());
  // The viewer may read the pod but not exec into it, with every kubectl (WebSocket and SPDY).
  Ran get = g_cluster->Run(kDispatcher, {"get", "pod", "exec-target", "-o", "name"}, "/dev/null", kubeconfig);
  EXPECT_EQ(get.code, 0) << get.Both();
  for (const Kubectl& k : kKubectls) {
    Ran r = g_cluster->Run(k.path, {"exec", "exec-target", "--", "true"}, "/dev/null", kubeconfig);
    EXPECT_EQ(r.code, 1) << k.path << "\n" << r.Both();
    EXPECT_THAT(r.err, HasSubstr("Error from server (Forbidden): pods \"exec-target\" is forbidden: User "
                                 "\"system:serviceaccount:default:viewer\" cannot create resource \"pods/exec\" in "
                                 "API group \"\" in the namespace \"default\""))
        << k.path << "\n" << r.Both();
  }
  g_cluster->Run(kDispatcher, {"delete", "pod", "exec-target", "--grace-period=1"});
}

TEST_F(ClusterOperations, StaticPodAppearsAsAMirrorPodAndGoesWithItsManifest) {
  const std::string manifests = g_cluster->state() + "/nodes/node-1/manifests";
  std::filesystem::create_directories(manifests);
  const std::string marker = "static-marker-" + Unique();
  const std::string manifest = manifests + "/static-web.yaml";
  testutil::WriteFileOrDie(manifest, R"(apiVersion: v1
kind: Pod
metadata:
  name: static-web
  namespace: default
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: ["/bin/sh", "-c", "echo )" + marker + R"(; exec sleep 3600"]
)");
  const std::string mirror = "static-web-node-1";
  ASSERT_TRUE(WaitFor([&] { return g_cluster->Get({"pod", mirror}, "{.status.phase}") == "Running"; }, 30s))
      << g_cluster->Run(kDispatcher, {"get", "pods", "-A", "-o", "wide"}).out;
  EXPECT_NE(g_cluster->Get({"pod", mirror}, R"({.metadata.annotations.kubernetes\.io/config\.mirror})"), "");
  EXPECT_EQ(g_cluster->Get({"pod", mirror}, "{.spec.nodeName}"), "node-1");
  Ran logs;
  EXPECT_TRUE(WaitFor([&] { return (logs = g_cluster->Run(kDispatcher, {"logs", mirror})).out == marker + "\n"; }, 10s))
      << logs.Both();

  std::filesystem::remove(manifest);
  EXPECT_TRUE(WaitFor(
      [&] {
        Ran r = g_cluster->Run(kDispatcher, {"get", "pod", mirror});
        return r.code != 0 && r.err.find("NotFound") != std::string::npos;
      },
      30s))
      << g_cluster->Run(kDispatcher, {"get", "pod", mirror, "-o", "yaml"}).out;
}

// Last: it cordons and drains node-2.
TEST_F(ClusterOperations, DrainWaitsForThePodDisruptionBudgetThenEvicts) {
  auto run = [](const std::vector<std::string>& args) { return g_cluster->Run(kDispatcher, args); };
  // Pods one per node (anti-affinity), on node-1 and node-2 while node-3 is cordoned.
  ASSERT_EQ(run({"cordon", "node-3"}).code, 0);
  std::string err = Apply("guarded", R"(apiVersion: v1
kind: Namespace
metadata:
  name: drain
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: guarded
  namespace: drain
spec:
  replicas: 2
  selector:
    matchLabels: {app: guarded}
  template:
    metadata:
      labels: {app: guarded}
    spec:
      terminationGracePeriodSeconds: 1
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: guarded}}
            topologyKey: kubernetes.io/hostname
      containers:
      - name: main
        image: busybox
        command: ["/bin/sh", "-c", "exec sleep 3600"]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: guarded
  namespace: drain
spec:
  minAvailable: 2
  selector:
    matchLabels: {app: guarded}
)");
  ASSERT_EQ(err, "");
  auto ready = [&](int n) {
    return g_cluster->Get({"deployment", "guarded", "-n", "drain"}, "{.status.readyReplicas}") == std::to_string(n);
  };
  ASSERT_TRUE(WaitFor([&] { return ready(2); }, 30s)) << run({"get", "pods", "-n", "drain", "-o", "wide"}).out;
  ASSERT_EQ(run({"uncordon", "node-3"}).code, 0);
  auto pods_on = [&](const std::string& node) {
    return g_cluster->Get({"pods", "-n", "drain", "--field-selector", "spec.nodeName=" + node},
                          "{range .items[*]}{.metadata.name} {end}");
  };
  const std::string victim = pods_on("node-2");
  ASSERT_NE(victim, "") << run({"get", "pods", "-n", "drain", "-o", "wide"}).out;
  ASSERT_TRUE(WaitFor([&] { return g_cluster->Get({"pdb", "guarded", "-n", "drain"}, "{.status.currentHealthy}") == "2"; },
                      15s));
  EXPECT_EQ(g_cluster->Get({"pdb", "guarded", "-n", "drain"}, "{.status.disruptionsAllowed}"), "0");

  std::unique_ptr<Subprocess> drain = g_cluster->Start(
      kDispatcher, {"drain", "node-2", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=60s"});
  const std::string refused = "Cannot evict pod as it would violate the pod's disruption budget";
  ASSERT_TRUE(WaitFor([&] { return (drain->Stdout() + drain->Stderr()).find(refused) != std::string::npos; }, 20s))
      << drain->Stdout() << drain->Stderr();
  EXPECT_EQ(g_cluster->Get({"node", "node-2"}, "{.spec.unschedulable}"), "true");
  // Refused: the pod is still there and not terminating.
  EXPECT_EQ(pods_on("node-2"), victim);
  EXPECT_EQ(g_cluster->Get({"pods", "-n", "drain", "--field-selector", "spec.nodeName=node-2"},
                           "{.items[0].metadata.deletionTimestamp}"),
            "");
  EXPECT_TRUE(drain->running()) << drain->Stdout() << drain->Stderr();

  // A third replica (on node-3, the only node left for it) lets the budget allow one eviction.
  ASSERT_EQ(run({"scale", "deployment/guarded", "-n", "drain", "--replicas=3"}).code, 0);
  std::optional<int> code = drain->Wait(60s);
  if (!code) KillTree(*drain);
  ASSERT_EQ(code, std::optional<int>(0)) << drain->Stdout() << drain->Stderr();
  EXPECT_THAT(drain->Stdout(), HasSubstr("evicted"));
  EXPECT_THAT(drain->Stdout(), HasSubstr("node/node-2 drained"));
  EXPECT_EQ(pods_on("node-2"), "") << "the pod must end up off node-2";
  EXPECT_NE(run({"get", "pod", "-n", "drain", victim.substr(0, victim.find(' '))}).code, 0);

  ASSERT_EQ(run({"uncordon", "node-2"}).code, 0);
  EXPECT_EQ(g_cluster->Get({"node", "node-2"}, "{.spec.unschedulable}"), "");
  run({"delete", "namespace", "drain", "--wait=false"});
}

}  // namespace
}  // namespace ck
