// ck-scheduler (the binary) against a real ck-apiserver over TLS, as the system:kube-scheduler
// user: pods are bound through pods/binding with a Scheduled event; a pod that fits nowhere gets
// PodScheduled=False, a FailedScheduling event with upstream's message, and is bound once a node
// that fits appears; /debug/explain shows the decision; a pod for another scheduler is left alone;
// the Lease names the leader; bad flags and configs exit 2 with one line.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "common/api/proto/coordination_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/testing/builders.h"
#include "common/base/check.h"
#include "common/client/rest/config.h"
#include "common/client/rest/rest_api_client.h"
#include "common/client/rest/typed_client.h"
#include "common/net/http_client.h"
#include "tests/testutil/apiserver.h"

namespace ck::scheduler {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
namespace coordv1 = ::k8s::io::api::coordination::v1;
using namespace std::chrono_literals;
using api::testing::NodeBuilder;
using api::testing::PodBuilder;
using testutil::Subprocess;
using testutil::WaitUntil;

class SchedulerIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new testutil::ApiServerProcess(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    auto config = client::LoadKubeconfig(server_->admin_kubeconfig());
    CK_CHECK(config.ok()) << config.status().ToString();
    config->qps = 200;
    config->burst = 400;
    api_ = std::move(client::RestApiClient::New(*config)).value();
  }

  std::unique_ptr<Subprocess> StartScheduler(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {testutil::BinDir() + "/ck-scheduler",
                                     "--kubeconfig=" + server_->dir().File("pki/scheduler.kubeconfig"),
                                     "--secure-port=0",
                                     "--bind-address=127.0.0.1",
                                     "--profile=teaching",
                                     "-v=2"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto proc = std::make_unique<Subprocess>(argv);
    std::regex port_re(R"(address"?[=:]"?127\.0\.0\.1:(\d+))");
    bool up = WaitUntil([&] {
      std::smatch m;
      std::string err = proc->Stderr();
      if (std::regex_search(err, m, port_re)) {
        port_ = static_cast<uint16_t>(std::stoi(m[1]));
        return err.find("starting the scheduling loop") != std::string::npos;
      }
      return !proc->running();
    }, 30s);
    EXPECT_TRUE(up && proc->running()) << proc->Stderr();
    return proc;
  }

  void CreateNode(const std::string& name, const std::string& cpu, const std::string& memory) {
    corev1::Node node = NodeBuilder(name).Capacity(cpu, memory).Ready().Label("kubernetes.io/hostname", name).Obj();
    auto made = client::Client<corev1::Node>(*api_).Create(node);
    ASSERT_TRUE(made.ok()) << made.status().ToString();
  }

  void CreatePod(const corev1::Pod& pod) {
    auto made = client::Client<corev1::Pod>(*api_).Create(pod);
    ASSERT_TRUE(made.ok()) << made.status().ToString();
  }

  std::shared_ptr<const corev1::Pod> GetPod(const std::string& ns, const std::string& name) {
    auto p = client::Client<corev1::Pod>(*api_).Get(ns, name);
    return p.ok() ? *p : nullptr;
  }

  std::string NodeOf(const std::string& ns, const std::string& name) {
    auto p = GetPod(ns, name);
    return p ? p->spec().nodename() : "";
  }

  // The message of the first event with `reason` about pod ns/name ("" when none).
  std::string EventMessage(const std::string& ns, const std::string& name, const std::string& reason) {
    client::ListOptions opts;
    opts.field_selector = "involvedObject.name=" + name;
    auto list = client::Client<corev1::Event>(*api_).List(ns, opts);
    if (!list.ok()) return "";
    for (const auto& e : list->items) {
      if (e->reason() == reason) return e->message();
    }
    return "";
  }

  std::pair<int, std::string> Debug(const std::string& target) {
    net::HttpClientOptions o;
    o.port = port_;
    // The scheduler serves a self-signed certificate made at start-up, as kube-scheduler does.
    o.tls_config.insecure_skip_verify = true;
    net::HttpClient client(o);
    net::ClientRequest req;
    req.target = target;
    auto resp = client.Do(req);
    if (!resp.ok()) return {0, resp.status().message()};
    return {resp->status, resp->body};
  }

  static testutil::ApiServerProcess* server_;
  std::unique_ptr<client::RestApiClient> api_;
  uint16_t port_ = 0;
};

testutil::ApiServerProcess* SchedulerIntegration::server_ = nullptr;

TEST_F(SchedulerIntegration, BindsExplainsAndRetriesWhenANodeFits) {
  auto sched = StartScheduler();
  // The Lease names this process once it leads.
  ASSERT_TRUE(WaitUntil([&] {
    auto lease = client::Client<coordv1::Lease>(*api_).Get("kube-system", "kube-scheduler");
    return lease.ok() && !(*lease)->spec().holderidentity().empty();
  }, 20s));

  CreateNode("node-1", "2", "4Gi");
  CreateNode("node-2", "4", "8Gi");
  CreatePod(PodBuilder("web-1").Namespace("default").Cpu("500m").Memory("256Mi").Obj());
  ASSERT_TRUE(WaitUntil([&] { return !NodeOf("default", "web-1").empty(); }, 20s)) << sched->Stderr();
  std::string node = NodeOf("default", "web-1");
  // LeastAllocated prefers the larger, emptier node.
  EXPECT_EQ(node, "node-2");
  ASSERT_TRUE(WaitUntil([&] { return !EventMessage("default", "web-1", "Scheduled").empty(); }, 20s));
  EXPECT_EQ(EventMessage("default", "web-1", "Scheduled"), "Successfully assigned default/web-1 to node-2");

  auto [code, json] = Debug("/debug/explain?pod=default%2Fweb-1");
  EXPECT_EQ(code, 200) << json;
  EXPECT_NE(json.find("\"result\":\"Scheduled\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"node\":\"node-2\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"NodeResourcesFit\""), std::string::npos) << json;
  auto [tcode, text] = Debug("/debug/explain?pod=default/web-1&format=text");
  EXPECT_EQ(tcode, 200);
  EXPECT_NE(text.find("SCORE (weighted)"), std::string::npos) << text;
  EXPECT_EQ(Debug("/debug/explain?pod=default/nope").first, 404);

  // Too big for both nodes: FailedScheduling with upstream's message, PodScheduled=False.
  CreatePod(PodBuilder("big").Namespace("default").Cpu("6").Obj());
  ASSERT_TRUE(WaitUntil([&] { return !EventMessage("default", "big", "FailedScheduling").empty(); }, 20s)) << sched->Stderr();
  EXPECT_EQ(EventMessage("default", "big", "FailedScheduling"),
            // The request exceeds every node's allocatable, so evicting would not help; upstream's
            // message ends in two periods (the plugin's and the joiner's).
            "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 Preemption is "
            "not helpful for scheduling..");
  ASSERT_TRUE(WaitUntil([&] {
    auto p = GetPod("default", "big");
    for (const auto& c : p->status().conditions()) {
      if (c.type() == "PodScheduled") return c.status() == "False" && c.reason() == "Unschedulable";
    }
    return false;
  }, 20s));
  auto [bcode, bjson] = Debug("/debug/explain?pod=default/big");
  EXPECT_NE(bjson.find("\"reason\":\"Insufficient cpu\""), std::string::npos) << bjson;
  // A node that fits arrives: the NodeAdd event moves the pod back and it is bound there.
  CreateNode("node-3", "8", "16Gi");
  ASSERT_TRUE(WaitUntil([&] { return NodeOf("default", "big") == "node-3"; }, 20s)) << sched->Stderr();

  // Another scheduler's pod is not ours.
  CreatePod(PodBuilder("other").Namespace("default").Container("main").SchedulerName("my-scheduler").Obj());
  CreatePod(PodBuilder("after").Namespace("default").Container("main").Obj());
  ASSERT_TRUE(WaitUntil([&] { return !NodeOf("default", "after").empty(); }, 20s));
  EXPECT_EQ(NodeOf("default", "other"), "");

  // The metrics name the attempts.
  auto [mcode, metrics] = Debug("/metrics");
  EXPECT_NE(metrics.find("scheduler_schedule_attempts_total{result=\"scheduled\",profile=\"default-scheduler\"}"), std::string::npos)
      << metrics.substr(0, 2000);
  EXPECT_NE(metrics.find("scheduler_pending_pods"), std::string::npos);
  EXPECT_NE(metrics.find("scheduler_scheduling_attempt_duration_seconds_bucket"), std::string::npos);
}

TEST_F(SchedulerIntegration, BadFlagsAndConfigsExitWithOneLine) {
  testutil::TempDir dir;
  std::ofstream(dir.File("bad.yaml")) << "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
                                         "profiles:\n- schedulerName: x\n  plugins:\n    score:\n      enabled:\n"
                                         "      - {name: NodeResourcesFit, weight: 500}\n";
  std::ofstream(dir.File("unknown.yaml")) << "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
                                             "profiles:\n- schedulerName: x\n  plugins:\n    filter:\n      enabled:\n"
                                             "      - {name: NoSuchPlugin}\n";
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::string kc = "--kubeconfig=" + server_->admin_kubeconfig();
  std::vector<Case> cases = {
      {{kc, "--config=" + dir.File("bad.yaml")}, "weight: must be in 1..100"},
      {{kc, "--config=" + dir.File("missing.yaml")}, "cannot read --config file"},
      {{kc, "--leader-elect-lease-duration=abc"}, "--leader-elect-lease-duration: time: invalid duration"},
      {{}, "no kubeconfig"},
      {{kc, "--no-such-flag"}, "no-such-flag"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {testutil::BinDir() + "/ck-scheduler", "--secure-port=0"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    Subprocess p(argv);
    auto rc = p.Wait(20s);
    ASSERT_TRUE(rc.has_value()) << c.message;
    EXPECT_NE(*rc, 0) << c.message;
    std::string err = p.Stderr();
    EXPECT_NE(err.find(c.message), std::string::npos) << err;
    EXPECT_LE(std::count(err.begin(), err.end(), '\n'), 2) << err;
  }
  // A plugin that does not exist fails at start-up with a readable line.
  Subprocess p({testutil::BinDir() + "/ck-scheduler", "--secure-port=0", kc, "--config=" + dir.File("unknown.yaml")});
  auto rc = p.Wait(20s);
  ASSERT_TRUE(rc.has_value());
  EXPECT_NE(*rc, 0);
  EXPECT_NE(p.Stderr().find("NoSuchPlugin"), std::string::npos) << p.Stderr();
  EXPECT_NE(p.Stderr().find("does not exist"), std::string::npos) << p.Stderr();
}

}  // namespace
}  // namespace ck::scheduler
