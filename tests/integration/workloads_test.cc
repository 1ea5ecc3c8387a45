// The workload controllers end to end: a real ck-apiserver, ck-scheduler and
// ck-controller-manager (teaching profile) on loopback, the real kubectl, and FakeKubelets (in
// this process) playing three nodes that run whatever is bound to them.
//   - Deployment: apply 5 -> 1 ReplicaSet and 5 ready pods; a new image rolls out without ever
//     dropping below replicas - maxUnavailable ready pods (sampled continuously); `kubectl rollout
//     status` succeeds; `rollout undo` returns to the old pod-template-hash; scale to 0 and back;
//     deleting the Deployment lets the garbage collector remove its ReplicaSets and pods.
//   - StatefulSet of 3 comes up in order; DaemonSet covers the nodes it tolerates only.
//   - PodDisruptionBudget minAvailable 2 of 3: one eviction passes, the second is answered 429.
//   - A Job of 20 completions with failing pods respects backoffLimit.
//   - Chaos: the controller-manager is SIGKILLed 10 times during a scale from 0 to 200; no sample
//     ever sees more than 200 pods, and it converges.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "common/api/object.h"
#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/batch_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/policy_v1.pb.h"
#include "common/base/check.h"
#include "common/client/cache/informer_factory.h"
#include "common/client/rest/config.h"
#include "common/client/rest/rest_api_client.h"
#include "tests/testutil/apiserver.h"
#include "tests/testutil/fake_kubelet.h"

namespace ck {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
namespace appsv1 = ::k8s::io::api::apps::v1;
namespace batchv1 = ::k8s::io::api::batch::v1;
namespace policyv1 = ::k8s::io::api::policy::v1;
using namespace std::chrono_literals;
using testutil::Subprocess;
using testutil::WaitUntil;

const client::ResourceInfo& Res(const google::protobuf::Descriptor* d) {
  return client::SharedInformerFactory::ResourceOfMessage(d->full_name());
}

std::string Tail(const std::string& s, size_t n = 4000) { return s.size() > n ? s.substr(s.size() - n) : s; }

bool PodReady(const corev1::Pod& pod) {
  for (const auto& c : pod.status().conditions()) {
    if (c.type() == "Ready") return c.status() == "True";
  }
  return false;
}

class Workloads : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new testutil::ApiServerProcess({"--profile=teaching"});
    Result<client::RestConfig> config = client::LoadKubeconfig(server_->admin_kubeconfig());
    CK_CHECK(config.ok()) << config.status().ToString();
    config->qps = 2000;
    config->burst = 2000;
    auto api = client::RestApiClient::New(*config);
    CK_CHECK(api.ok()) << api.status().ToString();
    api_ = std::move(api).value().release();
    std::vector<testutil::FakeNode> nodes = {{.name = "node-1"}, {.name = "node-2"}, {.name = "node-3"}};
    nodes[2].taints.push_back({"dedicated", "infra", "NoSchedule"});
    testutil::FakeKubelets::Options o;
    o.ready_delay = 300ms;
    o.outcome = [](const corev1::Pod& pod) {
      // Pods of Jobs run to completion; those labelled fail=yes fail.
      if (pod.metadata().labels().count("job-name") || pod.metadata().labels().count("batch.kubernetes.io/job-name")) {
        auto it = pod.metadata().labels().find("fail");
        return it != pod.metadata().labels().end() && it->second == "yes" ? testutil::FakeKubelets::Outcome::kFail
                                                                           : testutil::FakeKubelets::Outcome::kSucceed;
      }
      return testutil::FakeKubelets::Outcome::kRunReady;
    };
    kubelets_ = new testutil::FakeKubelets(*api_, nodes, o);
    Status s = kubelets_->Start();
    CK_CHECK(s.ok()) << s.ToString();
    scheduler_ = new Subprocess({testutil::BinDir() + "/ck-scheduler",
                                 "--kubeconfig=" + server_->dir().File("pki/scheduler.kubeconfig"),
                                 "--bind-address=127.0.0.1", "--secure-port=0", "--leader-elect=false",
                                 "--kube-api-qps=1000", "--kube-api-burst=1000", "--profile=teaching"});
    manager_ = StartManager();
  }
  static void TearDownTestSuite() {
    delete manager_;
    delete scheduler_;
    delete kubelets_;
    delete api_;
    delete server_;
  }
  void TearDown() override {
    if (HasFailure()) {
      std::fprintf(stderr, "---- ck-controller-manager (tail) ----\n%s\n", Tail(manager_->Stderr(), 6000).c_str());
      std::fprintf(stderr, "---- ck-scheduler (tail) ----\n%s\n", Tail(scheduler_->Stderr()).c_str());
    }
  }

  static Subprocess* StartManager() {
    return new Subprocess({testutil::BinDir() + "/ck-controller-manager",
                           "--kubeconfig=" + server_->dir().File("pki/controller-manager.kubeconfig"),
                           "--root-ca-file=" + server_->dir().File("pki/ca.crt"), "--secure-port=0",
                           "--bind-address=127.0.0.1", "--profile=teaching", "--kube-api-qps=1000",
                           "--kube-api-burst=1000", "-v=2"});
  }

  static testutil::CommandResult Kubectl(const std::string& args) {
    std::string cmd = "HOME=" + server_->dir().path() + " KUBECONFIG=" + server_->admin_kubeconfig() +
                      " kubectl --cache-dir " + server_->dir().File("kcache") + " " + args + " 2>&1";
    return testutil::RunCommand(cmd);
  }
  static std::string Apply(const std::string& name, const std::string& yaml) {
    std::string path = server_->dir().File(name + ".yaml");
    testutil::WriteFileOrDie(path, yaml);
    return path;
  }

  static std::vector<std::shared_ptr<const corev1::Pod>> Pods(const std::string& ns, const std::string& selector) {
    client::ListOptions o;
    o.label_selector = selector;
    Result<client::ObjectList> list = api_->List(Res(corev1::Pod::descriptor()), ns, o);
    std::vector<std::shared_ptr<const corev1::Pod>> out;
    if (!list.ok()) return out;
    for (const auto& item : list->items) out.push_back(client::As<corev1::Pod>(item));
    return out;
  }
  static int ReadyPods(const std::string& ns, const std::string& selector) {
    int n = 0;
    for (const auto& p : Pods(ns, selector)) {
      if (!p->metadata().has_deletiontimestamp() && PodReady(*p)) ++n;
    }
    return n;
  }
  template <typename T>
  static std::vector<std::shared_ptr<const T>> ListOf(const std::string& ns, const std::string& selector = "") {
    client::ListOptions o;
    o.label_selector = selector;
    Result<client::ObjectList> list = api_->List(Res(T::descriptor()), ns, o);
    std::vector<std::shared_ptr<const T>> out;
    if (!list.ok()) return out;
    for (const auto& item : list->items) out.push_back(client::As<T>(item));
    return out;
  }
  static void CreateNamespace(const std::string& ns) {
    corev1::Namespace n;
    n.mutable_metadata()->set_name(ns);
    ASSERT_TRUE(api_->Create(Res(corev1::Namespace::descriptor()), "", n).ok());
  }

  static testutil::ApiServerProcess* server_;
  static client::RestApiClient* api_;
  static testutil::FakeKubelets* kubelets_;
  static Subprocess* scheduler_;
  static Subprocess* manager_;
};

testutil::ApiServerProcess* Workloads::server_ = nullptr;
client::RestApiClient* Workloads::api_ = nullptr;
testutil::FakeKubelets* Workloads::kubelets_ = nullptr;
Subprocess* Workloads::scheduler_ = nullptr;
Subprocess* Workloads::manager_ = nullptr;

std::string DeploymentYaml(const std::string& image, int replicas) {
  return R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: roll
spec:
  replicas: )" + std::to_string(replicas) + R"(
  selector:
    matchLabels: {app: web}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 1}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: )" + image + "\n";
}

// The hash label of the ReplicaSet that currently has all the Deployment's replicas.
std::string ActiveHash(const std::vector<std::shared_ptr<const appsv1::ReplicaSet>>& sets, int replicas) {
  for (const auto& rs : sets) {
    if (rs->spec().replicas() == replicas && rs->status().readyreplicas() == replicas) {
      auto it = rs->metadata().labels().find("pod-template-hash");
      if (it != rs->metadata().labels().end()) return it->second;
    }
  }
  return "";
}

TEST_F(Workloads, DeploymentRollsOutUndoesScalesAndIsCollected) {
  CreateNamespace("roll");
  auto r = Kubectl("apply -f " + Apply("web1", DeploymentYaml("registry.example.com/web:1", 5)));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(WaitUntil([] { return ReadyPods("roll", "app=web") == 5; }, 60s, 50ms))
      << "ready: " << ReadyPods("roll", "app=web");
  auto sets = ListOf<appsv1::ReplicaSet>("roll");
  ASSERT_EQ(sets.size(), 1u);
  const std::string first_hash = sets[0]->metadata().labels().at("pod-template-hash");
  EXPECT_EQ(sets[0]->metadata().name(), "web-" + first_hash);
  EXPECT_EQ(Pods("roll", "app=web").size(), 5u);

  // A new image: sample the ready pods continuously while the rollout runs.
  std::atomic<bool> sampling{true};
  std::atomic<int> min_ready{1000}, samples{0};
  std::thread sampler([&] {
    while (sampling) {
      int ready = ReadyPods("roll", "app=web");
      if (ready < min_ready) min_ready = ready;
      ++samples;
      std::this_thread::sleep_for(10ms);
    }
  });
  r = Kubectl("apply -f " + Apply("web2", DeploymentYaml("registry.example.com/web:2", 5)));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = Kubectl("rollout status deployment/web -n roll --timeout=90s");
  sampling = false;
  sampler.join();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("successfully rolled out"), std::string::npos) << r.output;
  EXPECT_GE(min_ready.load(), 4) << "ready pods dropped below replicas - maxUnavailable";
  EXPECT_GT(samples.load(), 10);
  std::string second_hash;
  ASSERT_TRUE(WaitUntil(
      [&] {
        second_hash = ActiveHash(ListOf<appsv1::ReplicaSet>("roll"), 5);
        return !second_hash.empty() && second_hash != first_hash;
      },
      30s, 50ms));
  for (const auto& p : Pods("roll", "app=web")) {
    if (!p->metadata().has_deletiontimestamp()) {
      EXPECT_EQ(p->spec().containers(0).image(), "registry.example.com/web:2") << p->metadata().name();
    }
  }

  // Undo: back to the first template, hence the first ReplicaSet and its hash.
  r = Kubectl("rollout undo deployment/web -n roll");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = Kubectl("rollout status deployment/web -n roll --timeout=90s");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(WaitUntil([&] { return ActiveHash(ListOf<appsv1::ReplicaSet>("roll"), 5) == first_hash; }, 30s, 50ms));
  EXPECT_EQ(ListOf<appsv1::ReplicaSet>("roll").size(), 2u);

  // Scale to zero and back.
  r = Kubectl("scale deployment/web -n roll --replicas=0");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(WaitUntil([] { return Pods("roll", "app=web").empty(); }, 60s, 50ms));
  r = Kubectl("scale deployment/web -n roll --replicas=5");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(WaitUntil([] { return ReadyPods("roll", "app=web") == 5; }, 60s, 50ms));

  // Deleting the Deployment: the garbage collector removes the ReplicaSets and their pods.
  r = Kubectl("delete deployment web -n roll");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(WaitUntil([] { return ListOf<appsv1::ReplicaSet>("roll").empty() && Pods("roll", "app=web").empty(); },
                        60s, 50ms))
      << "replicasets: " << ListOf<appsv1::ReplicaSet>("roll").size() << ", pods: " << Pods("roll", "app=web").size();
}

TEST_F(Workloads, StatefulSetComesUpInOrder) {
  CreateNamespace("sts");
  // Record, as each pod appears, whether the pod before it was already ready.
  client::SharedInformerFactory factory(*api_, RealClock::Get(), RealRandom::Get());
  auto pods = factory.ForKind<corev1::Pod>();
  std::mutex mu;
  std::vector<std::string> order;
  std::vector<std::string> early;  // pods created before their predecessor was ready
  pods.AddEventHandler(client::TypedEventHandler<corev1::Pod>{
      .on_add =
          [&](const auto& pod, bool) {
            if (pod->metadata().namespace_() != "sts") return;
            std::lock_guard lock(mu);
            order.push_back(pod->metadata().name());
            const std::string& name = pod->metadata().name();
            int ordinal = name.back() - '0';
            if (ordinal > 0) {
              auto prev = pods.Lister().Get("sts", "db-" + std::to_string(ordinal - 1));
              if (!prev.ok() || !PodReady(**prev)) early.push_back(name);
            }
          },
  });
  factory.Start();
  ASSERT_TRUE(WaitUntil([&] { return pods.Informer().HasSynced(); }, 30s));
  auto r = Kubectl("apply -f " + Apply("db", R"(apiVersion: v1
kind: Service
metadata: {name: db, namespace: sts}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{port: 5432}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: sts}
spec:
  serviceName: db
  replicas: 3
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers: [{name: db, image: registry.example.com/db:1}]
)"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(WaitUntil([] { return ReadyPods("sts", "app=db") == 3; }, 60s, 50ms));
  factory.Shutdown();
  std::lock_guard lock(mu);
  EXPECT_EQ(order, (std::vector<std::string>{"db-0", "db-1", "db-2"}));
  EXPECT_TRUE(early.empty()) << early.size() << " pods were created before their predecessor was ready";
  auto db1 = Pods("sts", "statefulset.kubernetes.io/pod-name=db-1");
  ASSERT_EQ(db1.size(), 1u);
  EXPECT_EQ(db1[0]->spec().hostname(), "db-1");
  EXPECT_EQ(db1[0]->spec().subdomain(), "db");
  r = Kubectl("rollout status statefulset/db -n sts --timeout=60s");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(Workloads, DaemonSetCoversEveryEligibleNodeOnly) {
  CreateNamespace("ds");
  auto r = Kubectl("apply -f " + Apply("agent", R"(apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: ds}
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers: [{name: agent, image: registry.example.com/agent:1}]
)"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(WaitUntil([] { return ReadyPods("ds", "app=agent") == 2; }, 60s, 50ms))
      << "ready: " << ReadyPods("ds", "app=agent");
  std::set<std::string> nodes;
  for (const auto& p : Pods("ds", "app=agent")) nodes.insert(p->spec().nodename());
  EXPECT_EQ(nodes, (std::set<std::string>{"node-1", "node-2"}));  // node-3 is tainted dedicated=infra
  auto ds = ListOf<appsv1::DaemonSet>("ds");
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_TRUE(WaitUntil(
      [] {
        auto d = ListOf<appsv1::DaemonSet>("ds");
        return d.size() == 1 && d[0]->status().desirednumberscheduled() == 2 && d[0]->status().numberready() == 2;
      },
      30s, 50ms));
  r = Kubectl("rollout status daemonset/agent -n ds --timeout=60s");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // Stays put: no pod lands on the tainted node, none is added later.
  EXPECT_EQ(Pods("ds", "app=agent").size(), 2u);
}

TEST_F(Workloads, DisruptionBudgetLetsOneEvictionThroughAndRefusesTheNext) {
  CreateNamespace("pdb");
  auto r = Kubectl("apply -f " + Apply("api", R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: pdb}
spec:
  replicas: 3
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers: [{name: api, image: registry.example.com/api:1}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: api, namespace: pdb}
spec:
  minAvailable: 2
  selector:
    matchLabels: {app: api}
)"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(WaitUntil([] { return ReadyPods("pdb", "app=api") == 3; }, 60s, 50ms));
  ASSERT_TRUE(WaitUntil(
      [] {
        auto b = ListOf<policyv1::PodDisruptionBudget>("pdb");
        return b.size() == 1 && b[0]->status().disruptionsallowed() == 1 && b[0]->status().currenthealthy() == 3;
      },
      30s, 50ms));
  auto pods = Pods("pdb", "app=api");
  ASSERT_EQ(pods.size(), 3u);
  policyv1::Eviction eviction;
  eviction.mutable_metadata()->set_name(pods[0]->metadata().name());
  eviction.mutable_metadata()->set_namespace_("pdb");
  auto first = api_->CreateSubresource(Res(corev1::Pod::descriptor()), "pdb", pods[0]->metadata().name(), "eviction",
                                       eviction);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  eviction.mutable_metadata()->set_name(pods[1]->metadata().name());
  auto second = api_->CreateSubresource(Res(corev1::Pod::descriptor()), "pdb", pods[1]->metadata().name(), "eviction",
                                        eviction);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kTooManyRequests) << second.status().ToString();
  EXPECT_NE(second.status().message().find("Cannot evict pod as it would violate the pod's disruption budget."),
            std::string::npos)
      << second.status().ToString();
  // The second pod is still there; the first is gone and replaced.
  EXPECT_TRUE(api_->Get(Res(corev1::Pod::descriptor()), "pdb", pods[1]->metadata().name()).ok());
  EXPECT_TRUE(WaitUntil([] { return ReadyPods("pdb", "app=api") == 3; }, 60s, 50ms));
}

TEST_F(Workloads, JobRespectsBackoffLimit) {
  CreateNamespace("jobs");
  // 20 completions, 5 at a time, all succeed.
  auto r = Kubectl("apply -f " + Apply("jobs", R"(apiVersion: batch/v1
kind: Job
metadata: {name: batch, namespace: jobs}
spec:
  completions: 20
  parallelism: 5
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: work, image: registry.example.com/work:1}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: flaky, namespace: jobs}
spec:
  completions: 20
  parallelism: 5
  backoffLimit: 1
  template:
    metadata:
      labels: {fail: "yes"}
    spec:
      restartPolicy: Never
      containers: [{name: work, image: registry.example.com/work:1}]
)"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto condition = [](const std::string& name, const std::string& type) {
    auto jobs = ListOf<batchv1::Job>("jobs");
    for (const auto& j : jobs) {
      if (j->metadata().name() != name) continue;
      for (const auto& c : j->status().conditions()) {
        if (c.type() == type && c.status() == "True") return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(WaitUntil([&] { return condition("batch", "Complete"); }, 90s, 100ms));
  for (const auto& j : ListOf<batchv1::Job>("jobs")) {
    if (j->metadata().name() == "batch") {
      EXPECT_EQ(j->status().succeeded(), 20);
      EXPECT_EQ(j->status().failed(), 0);
    }
  }
  ASSERT_TRUE(WaitUntil([&] { return condition("flaky", "Failed"); }, 90s, 100ms));
  for (const auto& j : ListOf<batchv1::Job>("jobs")) {
    if (j->metadata().name() != "flaky") continue;
    // backoffLimit 1: the job fails at the second failed pod; the other pods of the first wave
    // may have failed too before it noticed, but no new pod starts after the limit.
    EXPECT_GE(j->status().failed(), 2);
    EXPECT_LE(j->status().failed(), 5);
    bool backoff = false;
    for (const auto& c : j->status().conditions()) {
      if (c.type() == "Failed") backoff = c.reason() == "BackoffLimitExceeded";
    }
    EXPECT_TRUE(backoff);
    EXPECT_EQ(j->status().active(), 0);
  }
}

TEST_F(Workloads, ScaleSurvivesControllerManagerKills) {
  CreateNamespace("chaos");
  auto r = Kubectl("apply -f " + Apply("big", R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: big, namespace: chaos}
spec:
  replicas: 0
  selector:
    matchLabels: {app: big}
  template:
    metadata:
      labels: {app: big}
    spec:
      containers: [{name: big, image: registry.example.com/big:1}]
)"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::atomic<bool> sampling{true};
  std::atomic<int> max_pods{0};
  std::thread sampler([&] {
    while (sampling) {
      int n = static_cast<int>(Pods("chaos", "app=big").size());
      if (n > max_pods) max_pods = n;
      std::this_thread::sleep_for(20ms);
    }
  });
  r = Kubectl("scale deployment/big -n chaos --replicas=200");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::mt19937 rng(20261127);
  for (int kill = 0; kill < 10; ++kill) {
    // Let the manager lead and work for a random while, then SIGKILL it and start a new one.
    ASSERT_TRUE(WaitUntil([] { return manager_->Stderr().find("Started controller") != std::string::npos; }, 30s, 20ms))
        << Tail(manager_->Stderr());
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 900));
    manager_->Signal(SIGKILL);
    (void)manager_->Wait(10s);
    delete manager_;
    manager_ = StartManager();
  }
  EXPECT_TRUE(WaitUntil([] { return ReadyPods("chaos", "app=big") == 200; }, 120s, 100ms))
      << "ready: " << ReadyPods("chaos", "app=big");
  sampling = false;
  sampler.join();
  EXPECT_LE(max_pods.load(), 200) << "more pods than replicas existed at some point";
  EXPECT_EQ(Pods("chaos", "app=big").size(), 200u);
}

}  // namespace
}  // namespace ck
