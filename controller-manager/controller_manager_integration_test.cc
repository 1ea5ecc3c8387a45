// ck-controller-manager (the binary) against a real ck-apiserver: the default ServiceAccount, the
// kube-root-ca.crt ConfigMap and ClusterRole aggregation converge and are repaired; a bad flag
// exits 2 with one line; of two processes only the Lease holder runs controllers, and when it is
// SIGKILLed the other takes over.
#include <gtest/gtest.h>

#include <signal.h>

#include <regex>

#include "common/api/proto/coordination_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/rbac_v1.pb.h"
#include "common/base/check.h"
#include "common/client/rest/config.h"
#include "common/client/rest/rest_api_client.h"
#include "common/client/rest/typed_client.h"
#include "common/net/http_client.h"
#include "tests/testutil/apiserver.h"

namespace ck::controller_manager {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
namespace rbacv1 = ::k8s::io::api::rbac::v1;
namespace coordv1 = ::k8s::io::api::coordination::v1;
using namespace std::chrono_literals;
using testutil::Subprocess;
using testutil::WaitUntil;

// A running ck-controller-manager with the identity and port it logged.
struct Manager {
  std::unique_ptr<Subprocess> proc;
  std::string identity;
  uint16_t port = 0;
  bool Started() const { return proc->Stderr().find("Started controller") != std::string::npos; }
};

class ControllerManagerIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new testutil::ApiServerProcess(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    Result<client::RestConfig> config = client::LoadKubeconfig(server_->admin_kubeconfig());
    CK_CHECK(config.ok()) << config.status().ToString();
    config->qps = 100;
    config->burst = 200;
    auto api = client::RestApiClient::New(*config);
    CK_CHECK(api.ok()) << api.status().ToString();
    api_ = std::move(api).value();
  }

  static std::string Binary() { return testutil::BinDir() + "/ck-controller-manager"; }
  static std::string CaFile() { return server_->dir().File("pki/ca.crt"); }

  Manager StartManager(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {Binary(),
                                     "--kubeconfig=" + server_->admin_kubeconfig(),
                                     "--root-ca-file=" + CaFile(),
                                     "--secure-port=0",
                                     "--bind-address=127.0.0.1",
                                     "--leader-elect-lease-duration=2s",
                                     "--leader-elect-renew-deadline=1s",
                                     "--leader-elect-retry-period=200ms",
                                     "-v=2"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    Manager m;
    m.proc = std::make_unique<Subprocess>(argv);
    std::regex id_re(R"(identity"?[=:]"?([^\s"]+))");
    std::regex port_re(R"(address"?[=:]"?127\.0\.0\.1:(\d+))");
    bool up = WaitUntil([&] {
      std::string err = m.proc->Stderr();
      std::smatch id, port;
      if (std::regex_search(err, id, id_re) && std::regex_search(err, port, port_re)) {
        m.identity = id[1];
        m.port = static_cast<uint16_t>(std::stoi(port[1]));
        return true;
      }
      return !m.proc->running();
    }, 20s);
    EXPECT_TRUE(up && m.port != 0) << m.proc->Stderr();
    return m;
  }

  std::string LeaseHolder() {
    auto lease = client::Client<coordv1::Lease>(*api_).Get("kube-system", "kube-controller-manager");
    return lease.ok() ? (*lease)->spec().holderidentity() : "";
  }

  void CreateNamespace(const std::string& name) {
    corev1::Namespace ns;
    ns.mutable_metadata()->set_name(name);
    ASSERT_TRUE(client::Client<corev1::Namespace>(*api_).Create(ns).ok());
  }
  bool HasDefaultAccount(const std::string& ns) {
    return client::Client<corev1::ServiceAccount>(*api_).Get(ns, "default").ok();
  }

  static testutil::ApiServerProcess* server_;
  std::unique_ptr<client::RestApiClient> api_;
};

testutil::ApiServerProcess* ControllerManagerIntegration::server_ = nullptr;

TEST_F(ControllerManagerIntegration, ControllersConvergeAndRepair) {
  Manager m = StartManager();
  ASSERT_TRUE(WaitUntil([&] { return m.Started() && LeaseHolder() == m.identity; }, 30s)) << m.proc->Stderr();

  // serviceaccount-controller: a new namespace gets `default`, and gets it back after a delete.
  CreateNamespace("team-a");
  ASSERT_TRUE(WaitUntil([&] { return HasDefaultAccount("team-a"); }, 20s)) << m.proc->Stderr();
  client::Client<corev1::ServiceAccount> sas(*api_);
  ASSERT_TRUE(sas.Delete("team-a", "default").ok());
  ASSERT_TRUE(WaitUntil([&] { return HasDefaultAccount("team-a"); }, 20s)) << m.proc->Stderr();
  // Namespaces that existed before the manager started have it too.
  EXPECT_TRUE(HasDefaultAccount("kube-system"));

  // root-ca-certificate-publisher-controller: the ConfigMap holds exactly the CA file.
  const std::string ca = testutil::ReadFileOrDie(CaFile());
  client::Client<corev1::ConfigMap> cms(*api_);
  auto published = [&] {
    auto cm = cms.Get("team-a", "kube-root-ca.crt");
    return cm.ok() && (*cm)->data().size() == 1 && (*cm)->data().contains("ca.crt") &&
           (*cm)->data().at("ca.crt") == ca && (*cm)->metadata().annotations().contains("kubernetes.io/description");
  };
  ASSERT_TRUE(WaitUntil(published, 20s)) << m.proc->Stderr();
  auto current = cms.Get("team-a", "kube-root-ca.crt");
  ASSERT_TRUE(current.ok());
  corev1::ConfigMap edited = **current;
  (*edited.mutable_data())["ca.crt"] = "not a CA";
  ASSERT_TRUE(cms.Update(edited).ok());
  ASSERT_TRUE(WaitUntil(published, 20s)) << m.proc->Stderr();
  ASSERT_TRUE(cms.Delete("team-a", "kube-root-ca.crt").ok());
  ASSERT_TRUE(WaitUntil(published, 20s)) << m.proc->Stderr();

  // clusterrole-aggregation-controller: a new labelled role's rules appear in the aggregate.
  client::Client<rbacv1::ClusterRole> roles(*api_);
  rbacv1::ClusterRole agg;
  agg.mutable_metadata()->set_name("monitoring");
  (*agg.mutable_aggregationrule()->add_clusterroleselectors()->mutable_matchlabels())
      ["rbac.example.com/aggregate-to-monitoring"] = "true";
  ASSERT_TRUE(roles.Create(agg).ok());
  rbacv1::ClusterRole endpoints;
  endpoints.mutable_metadata()->set_name("monitoring-endpoints");
  (*endpoints.mutable_metadata()->mutable_labels())["rbac.example.com/aggregate-to-monitoring"] = "true";
  auto* rule = endpoints.add_rules();
  rule->add_apigroups("");
  rule->add_resources("services");
  rule->add_resources("endpoints");
  rule->add_resources("pods");
  rule->add_verbs("get");
  rule->add_verbs("list");
  rule->add_verbs("watch");
  ASSERT_TRUE(roles.Create(endpoints).ok());
  auto aggregated = [&] {
    auto got = roles.Get("", "monitoring");
    return got.ok() && (*got)->rules_size() == 1 && (*got)->rules(0).resources_size() == 3 &&
           (*got)->rules(0).verbs(2) == "watch";
  };
  ASSERT_TRUE(WaitUntil(aggregated, 20s)) << m.proc->Stderr();

  // The daemon scaffold serves /healthz and /metrics on --secure-port.
  net::HttpClientOptions o;
  o.port = m.port;
  o.tls_config.insecure_skip_verify = true;  // the self-signed serving certificate
  net::HttpClient http(o);
  auto h = http.Do({"GET", "/healthz", {}, ""});
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->status, 200) << h->body;
  auto mm = http.Do({"GET", "/metrics", {}, ""});
  ASSERT_TRUE(mm.ok());
  EXPECT_NE(mm->body.find("workqueue_adds_total{name=\"serviceaccount\"}"), std::string::npos);
  EXPECT_NE(mm->body.find("leader_election_master_status"), std::string::npos);

  m.proc->Signal(SIGTERM);
  EXPECT_EQ(m.proc->Wait(20s).value_or(-1), 0) << m.proc->Stderr();
}

TEST_F(ControllerManagerIntegration, BadFlagsExitWithOneLine) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"--kubeconfig=x", "--controllers=*,-nope"},
           {"--kubeconfig=x", "--leader-elect-lease-duration=1s", "--leader-elect-renew-deadline=2s"},
           {"--kubeconfig=x", "--leader-elect-retry-period=soon"},
           {"--no-such-flag"},
       }) {
    args.insert(args.begin(), Binary());
    Subprocess p(args);
    auto rc = p.Wait(10s);
    ASSERT_TRUE(rc.has_value());
    EXPECT_EQ(*rc, 2) << args[1];
    std::string err = p.Stderr();
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    EXPECT_EQ(err.rfind("ck-controller-manager: ", 0), 0u) << err;
  }
  Subprocess p({Binary(), "--kubeconfig=x", "--controllers=*,-nope"});
  ASSERT_TRUE(p.Wait(10s).has_value());
  EXPECT_NE(p.Stderr().find("\"nope\" is not in the list of known controllers"), std::string::npos) << p.Stderr();
}

TEST_F(ControllerManagerIntegration, OnlyTheLeaseHolderLeadsAndTheOtherTakesOver) {
  Manager a = StartManager();
  Manager b = StartManager();
  ASSERT_NE(a.identity, b.identity);
  // One of them takes the lease (after an earlier test's holder expired) and starts controllers.
  std::string holder;
  ASSERT_TRUE(WaitUntil([&] {
    holder = LeaseHolder();
    return (holder == a.identity && a.Started()) || (holder == b.identity && b.Started());
  }, 30s)) << a.proc->Stderr() << b.proc->Stderr();
  Manager& leader = holder == a.identity ? a : b;
  Manager& follower = holder == a.identity ? b : a;
  // The follower keeps campaigning without running anything: the lease stays with the leader
  // through several retry periods.
  CreateNamespace("while-led");
  ASSERT_TRUE(WaitUntil([&] { return HasDefaultAccount("while-led"); }, 20s));
  EXPECT_FALSE(follower.Started()) << follower.proc->Stderr();
  EXPECT_EQ(LeaseHolder(), leader.identity);

  leader.proc->Signal(SIGKILL);
  ASSERT_TRUE(leader.proc->Wait(10s).has_value());
  ASSERT_TRUE(WaitUntil([&] { return LeaseHolder() == follower.identity && follower.Started(); }, 30s))
      << follower.proc->Stderr();
  CreateNamespace("after-failover");
  ASSERT_TRUE(WaitUntil([&] { return HasDefaultAccount("after-failover"); }, 20s)) << follower.proc->Stderr();
  follower.proc->Signal(SIGTERM);
  EXPECT_EQ(follower.proc->Wait(20s).value_or(-1), 0) << follower.proc->Stderr();
}

}  // namespace
}  // namespace ck::controller_manager
