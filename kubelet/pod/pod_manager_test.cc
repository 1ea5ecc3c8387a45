// End-to-end tests of the pod machinery: PodManager over FakeApi, FakeRuntime, a fake network
// plugin and a fake prober, on a FakeClock. The informer is played by the test (UpdatePod /
// DeletePod with the objects FakeApi holds). Waits are conditions with real-time deadlines.
#include "kubelet/pod/pod_manager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>

#include "common/api/conditions.h"
#include "common/api/testing/builders.h"
#include "common/client/cache/informer_factory.h"
#include "common/client/testing/fake_api.h"
#include "common/client/tools/event_recorder.h"
#include "common/client/workqueue/wait_for_testing.h"
#include "common/net/http_server.h"
#include "kubelet/runtime/fake_runtime.h"
#include "tests/testutil/testutil.h"

namespace ck::kubelet {
namespace {

using namespace std::chrono_literals;
using client::testing::WaitFor;

const client::ResourceInfo& Res(const google::protobuf::Descriptor* d) {
  return client::SharedInformerFactory::ResourceOfMessage(d->full_name());
}

// Records every call, shared with the runtime's observer so that the order is visible.
class CallLog {
 public:
  void Add(const std::string& line) {
    std::lock_guard lock(mu_);
    lines_.push_back(line);
  }
  std::vector<std::string> Lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }
  // Index of the first line starting with `prefix`, or -1.
  int Find(const std::string& prefix) const {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < lines_.size(); ++i) {
      if (lines_[i].rfind(prefix, 0) == 0) return static_cast<int>(i);
    }
    return -1;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

class FakeNetwork final : public NetworkPlugin {
 public:
  explicit FakeNetwork(CallLog& log) : log_(log) {}
  std::string Name() const override { return "fake"; }
  Status SetPodCidr(const std::string&) override { return Status::Ok(); }
  Result<PodNetworkStatus> SetUpPod(const PodNetworkRequest& pod) override {
    std::lock_guard lock(mu_);
    auto& ip = ips_[pod.uid];
    if (ip.empty()) ip = "127.244.1." + std::to_string(++next_);
    log_.Add("network-up " + pod.uid);
    return PodNetworkStatus{{ip}};
  }
  Status TearDownPod(const PodNetworkRequest& pod) override {
    std::lock_guard lock(mu_);
    ips_.erase(pod.uid);
    log_.Add("network-down " + pod.uid);
    return Status::Ok();
  }
  PodNetworkStatus GetPodNetworkStatus(const std::string& uid) override {
    std::lock_guard lock(mu_);
    auto it = ips_.find(uid);
    return it == ips_.end() ? PodNetworkStatus{} : PodNetworkStatus{{it->second}};
  }

 private:
  CallLog& log_;
  std::mutex mu_;
  std::map<std::string, std::string> ips_;
  int next_ = 1;
};

class FakeProber final : public ProbeManager {
 public:
  void AddPod(const corev1::Pod&) override {}
  void RemovePod(const std::string&) override {}
  // Like the real manager, results belong to one container instance: a new id starts clean.
  void UpdatePod(const std::string& uid, const std::string&, const std::vector<RunningContainer>& running) override {
    std::lock_guard lock(mu_);
    for (const auto& c : running) current_[uid + "/" + c.name] = c.id;
  }
  ProbeResult Readiness(const std::string& uid, const std::string& c) const override { return Get(readiness_, uid, c); }
  ProbeResult Liveness(const std::string& uid, const std::string& c) const override {
    std::lock_guard lock(mu_);
    auto failing = failing_liveness_.find(uid + "/" + c);
    auto current = current_.find(uid + "/" + c);
    bool fails = failing != failing_liveness_.end() && current != current_.end() && current->second == failing->second;
    return fails ? ProbeResult::kFailure : ProbeResult::kSuccess;
  }
  ProbeResult Startup(const std::string&, const std::string&) const override { return ProbeResult::kSuccess; }
  void SetReadiness(const std::string& uid, const std::string& c, ProbeResult r) {
    std::lock_guard lock(mu_);
    readiness_[uid + "/" + c] = r;
  }
  // The liveness probe of container instance `id` fails.
  void FailLiveness(const std::string& uid, const std::string& c, const std::string& id) {
    std::lock_guard lock(mu_);
    failing_liveness_[uid + "/" + c] = id;
  }

 private:
  ProbeResult Get(const std::map<std::string, ProbeResult>& m, const std::string& uid, const std::string& c) const {
    std::lock_guard lock(mu_);
    auto it = m.find(uid + "/" + c);
    return it == m.end() ? ProbeResult::kSuccess : it->second;
  }
  mutable std::mutex mu_;
  std::map<std::string, ProbeResult> readiness_;
  std::map<std::string, std::string> failing_liveness_, current_;
};

class PodManagerTest : public ::testing::Test {
 protected:
  PodManagerTest()
      : api_(clock_),
        runtime_(clock_),
        network_(log_),
        broadcaster_(api_, clock_),
        recorder_(broadcaster_.NewRecorder({"kubelet", "node-1"})) {
    runtime_.SetCallObserver([this](const std::string& line) { log_.Add(line); });
    broadcaster_.Start();
  }
  ~PodManagerTest() override {
    if (pm_) pm_->Stop();
    pm_.reset();
    broadcaster_.Shutdown();
  }

  std::unique_ptr<PodManager> NewManager() {
    PodManager::Deps deps;
    deps.runtime = &runtime_;
    deps.network = &network_;
    deps.probes = &probes_;
    deps.api = &api_;
    deps.events = &recorder_;
    deps.clock = &clock_;
    deps.profile = &daemon::TeachingProfile();
    deps.node_name = "node-1";
    deps.host_ip = "127.0.1.1";
    deps.root_dir = "/nonexistent/node-1";  // only log paths are derived from it (no volumes)
    deps.workers.threads = 2;
    return std::make_unique<PodManager>(std::move(deps));
  }

  void StartManager() {
    pm_ = NewManager();
    pm_->Start();
  }

  // Creates the pod in the API and hands it to the manager, as the informer would.
  std::shared_ptr<const corev1::Pod> CreatePod(corev1::Pod pod) {
    pod.mutable_metadata()->clear_uid();
    auto created = api_.Create(Res(corev1::Pod::descriptor()), "shop", pod);
    EXPECT_TRUE(created.ok()) << created.status().message();
    auto p = client::As<corev1::Pod>(*created);
    pm_->UpdatePod(p);
    return p;
  }

  std::shared_ptr<const corev1::Pod> ApiPod(const std::string& name = "web") {
    auto got = api_.Get(Res(corev1::Pod::descriptor()), "shop", name);
    return got.ok() ? client::As<corev1::Pod>(*got) : nullptr;
  }

  bool PodIs(const std::string& phase, bool ready, int32_t restarts = -1, const std::string& name = "web") {
    auto p = ApiPod(name);
    if (p == nullptr || p->status().phase() != phase) return false;
    if (api::IsConditionTrue(p->status().conditions(), "Ready") != ready) return false;
    if (restarts >= 0 &&
        (p->status().containerstatuses_size() == 0 || p->status().containerstatuses(0).restartcount() != restarts)) {
      return false;
    }
    return true;
  }

  std::string Waiting(const std::string& name = "web") {
    auto p = ApiPod(name);
    if (p == nullptr || p->status().containerstatuses_size() == 0) return "";
    const auto& s = p->status().containerstatuses(0).state();
    return s.has_waiting() ? s.waiting().reason() + ": " + s.waiting().message() : "";
  }

  std::vector<ContainerStatus> Alive() {
    std::vector<ContainerStatus> out;
    Result<std::vector<ContainerStatus>> all = runtime_.ListContainers();
    for (auto& c : *all) {
      if (c.state == ContainerState::kRunning) out.push_back(c);
    }
    return out;
  }

  bool HasEvent(const std::string& reason, const std::string& message) {
    for (const auto& o : api_.Objects(Res(corev1::Event::descriptor()))) {
      auto e = client::As<corev1::Event>(o);
      if (e->reason() == reason && e->message() == message) return true;
    }
    return false;
  }

  // Runs the web pod with a 30 s grace period, deletes it through the API and delivers the
  // terminating pod as the informer would; `id` gets its container's id.
  std::shared_ptr<const corev1::Pod> RunThenDelete(std::string* id) {
    corev1::Pod spec = WebPod();
    spec.mutable_spec()->set_terminationgraceperiodseconds(30);
    CreatePod(spec);
    EXPECT_TRUE(WaitFor([&] { return PodIs("Running", true, 0); }));
    *id = Alive().at(0).id;
    auto deleted = api_.Delete(Res(corev1::Pod::descriptor()), "shop", "web");
    EXPECT_TRUE(deleted.ok() && *deleted != nullptr);
    auto terminating = client::As<corev1::Pod>(*deleted);
    pm_->UpdatePod(terminating);
    return terminating;
  }

  static corev1::Pod WebPod() {
    corev1::Pod pod = api::testing::MakePod("web").Namespace("shop").Node("node-1").Container("app");
    pod.mutable_spec()->mutable_containers(0)->add_command("/bin/app");
    return pod;
  }

  FakeClock clock_;
  client::FakeApi api_;
  CallLog log_;
  FakeRuntime runtime_;
  FakeNetwork network_;
  FakeProber probes_;
  client::EventBroadcaster broadcaster_;
  client::EventRecorder recorder_;
  std::unique_ptr<PodManager> pm_;
};

TEST_F(PodManagerTest, PodBecomesRunningAndReady) {
  StartManager();
  auto pod = CreatePod(WebPod());
  const std::string uid = pod->metadata().uid();
  ASSERT_TRUE(WaitFor([&] { return PodIs("Running", true, 0); }));
  auto p = ApiPod();
  EXPECT_EQ(p->status().podip(), "127.244.1.2");
  EXPECT_EQ(p->status().hostip(), "127.0.1.1");
  EXPECT_EQ(p->status().qosclass(), "BestEffort");
  EXPECT_FALSE(api::IsZeroTime(p->status().starttime()));
  const auto& cs = p->status().containerstatuses(0);
  EXPECT_EQ(cs.containerid().rfind("fake://", 0), 0u);
  EXPECT_TRUE(cs.ready());
  EXPECT_TRUE(cs.started());
  EXPECT_TRUE(api::IsConditionTrue(p->status().conditions(), "PodReadyToStartContainers"));
  EXPECT_TRUE(api::IsConditionTrue(p->status().conditions(), "Initialized"));
  EXPECT_TRUE(api::IsConditionTrue(p->status().conditions(), "ContainersReady"));
  EXPECT_TRUE(api::IsConditionTrue(p->status().conditions(), "PodScheduled"));
  EXPECT_EQ(runtime_.starts(), 1);
  EXPECT_TRUE(runtime_.HasSandbox(uid));
  EXPECT_EQ(pm_->RunningPodCount(), 1);
  ASSERT_TRUE(WaitFor([&] {
    return HasEvent("Pulled", "Container image \"registry.example.com/app:1\" already present on machine") &&
           HasEvent("Created", "Created container app") && HasEvent("Started", "Started container app");
  }));

  // Readiness turns false: the Ready condition follows (probe change -> sync).
  probes_.SetReadiness(uid, "app", ProbeResult::kFailure);
  pm_->PodChanged(uid);
  ASSERT_TRUE(WaitFor([&] { return PodIs("Running", false, 0); }));
  // An unchanged status is not written again.
  const int64_t updates = api_.Calls(client::FakeApi::Verb::kUpdate, "pods");
  const int64_t syncs = pm_->workers().syncs();
  pm_->PodChanged(uid);
  ASSERT_TRUE(WaitFor([&] { return pm_->workers().syncs() > syncs && pm_->workers().Idle(); }));
  EXPECT_EQ(api_.Calls(client::FakeApi::Verb::kUpdate, "pods"), updates);
}

TEST_F(PodManagerTest, ExitedContainerRestartsThenCrashLoopBackOff) {
  StartManager();
  auto pod = CreatePod(WebPod());
  const std::string uid = pod->metadata().uid();
  ASSERT_TRUE(WaitFor([&] { return PodIs("Running", true, 0); }));

  // The PLEG relist (every second) notices the exit; the first restart is immediate.
  ASSERT_TRUE(runtime_.Exit(Alive().at(0).id, 1).ok());
  clock_.Advance(1s);
  ASSERT_TRUE(WaitFor([&] { return PodIs("Running", true, 1); }));
  EXPECT_EQ(runtime_.starts(), 2);
  auto p = ApiPod();
  EXPECT_EQ(p->status().containerstatuses(0).laststate().terminated().exitcode(), 1);

  // The second exit waits for the back-off (teaching profile: 1 s).
  ASSERT_TRUE(runtime_.Exit(Alive().at(0).id, 2).ok());
  pm_->PodChanged(uid);
  const std::string expected = "CrashLoopBackOff: back-off 1s restarting failed container=app pod=web_shop(" + uid + ")";
  ASSERT_TRUE(WaitFor([&] { return Waiting() == expected; })) << Waiting();
  EXPECT_EQ(runtime_.starts(), 2);
  EXPECT_EQ(ApiPod()->status().phase(), "Running");
  EXPECT_EQ(ApiPod()->status().containerstatuses(0).laststate().terminated().exitcode(), 2);
  ASSERT_TRUE(WaitFor([&] { return HasEvent("BackOff", "Back-off restarting failed container app in pod web_shop(" + uid + ")"); }));
  clock_.Advance(1s);
  ASSERT_TRUE(WaitFor([&] { return PodIs("Running", true, 2); }));
  EXPECT_EQ(runtime_.starts(), 3);

  // The third exit doubles the back-off to 2 s.
  ASSERT_TRUE(runtime_.Exit(Alive().at(0).id, 2).ok());
  pm_->PodChanged(uid);
  ASSERT_TRUE(WaitFor([&] { return Waiting().find("back-off 2s") != std::string::npos; })) << Waiting();
  clock_.Advance(1s);
  ASSERT_TRUE(WaitFor([&] { return pm_->workers().Idle(); }));
  EXPECT_EQ(runtime_.starts(), 3);
  clock_.Advance(1s);
  ASSERT_TRUE(WaitFor([&] { return PodIs("Running", true, 3); }));
  // Old instances are removed: at most the current one and the one lastState reports.
  EXPECT_LE(runtime_.container_count(), 2u);
}

TEST_F(PodManagerTest, LivenessFailureKillsAndRestarts) {
  StartManager();
  auto pod = CreatePod(WebPod());
  const std::string uid = pod->metadata().uid();
  ASSERT_TRUE(WaitFor([&] { return PodIs("Running", true, 0); }));
  const std::string id = Alive().at(0).id;
  probes_.FailLiveness(uid, "app", id);
  pm_->PodChanged(uid);
  ASSERT_TRUE(WaitFor([&] { return PodIs("Running", true, 1); }));
  clock_.Advance(1s);
  ASSERT_TRUE(WaitFor([&] { return pm_->workers().Idle(); }));
  EXPECT_EQ(runtime_.starts(), 2);
  EXPECT_EQ(runtime_.Inspect(id)->state, ContainerState::kExited);
  ASSERT_TRUE(WaitFor([&] { return HasEvent("Killing", "Container app failed liveness probe, will be restarted"); }));
  EXPECT_EQ(ApiPod()->status().containerstatuses(0).laststate().terminated().exitcode(), 143);
}

TEST_F(PodManagerTest, HttpsPreStopHookIsSentOverTls) {
  testutil::TestPki pki = testutil::MakeTestPki();
  net::HttpServerOptions o;
  o.tls_config.cert_pem = pki.server.cert_pem;
  o.tls_config.key_pem = pki.server.key_pem;
  std::atomic<int> drains{0};
  net::HttpServer server(o, [&](net::Request r, std::shared_ptr<net::ResponseWriter> w) {
    if (r.target == "/drain" && r.headers.Get("X-Why") == "shutdown") ++drains;
    w->Respond(200, {}, "ok");
  });
  ASSERT_TRUE(server.Start().ok());
  StartManager();
  corev1::Pod spec = WebPod();
  auto* get = spec.mutable_spec()->mutable_containers(0)->mutable_lifecycle()->mutable_prestop()->mutable_httpget();
  get->set_scheme("HTTPS");
  get->set_host("127.0.0.1");
  get->mutable_port()->set_intval(server.port());
  get->set_path("/drain");
  auto* h = get->add_httpheaders();
  h->set_name("X-Why");
  h->set_value("shutdown");
  CreatePod(spec);
  ASSERT_TRUE(WaitFor([&] { return PodIs("Running", true, 0); }));
  auto deleted = api_.Delete(Res(corev1::Pod::descriptor()), "shop", "web");
  ASSERT_TRUE(deleted.ok());
  pm_->UpdatePod(client::As<corev1::Pod>(*deleted));
  ASSERT_TRUE(WaitFor([&] { return ApiPod() == nullptr; }));
  EXPECT_EQ(drains.load(), 1);
  EXPECT_FALSE(HasEvent("FailedPreStopHook", ""));
  server.Stop(std::chrono::milliseconds(100));
}

TEST_F(PodManagerTest, ActiveDeadlineFailsThePodAndStopsItsContainers) {
  StartManager();
  corev1::Pod spec = WebPod();
  spec.mutable_spec()->set_activedeadlineseconds(5);
  auto pod = CreatePod(spec);
  ASSERT_TRUE(WaitFor([&] { return PodIs("Running", true, 0); }));
  clock_.Advance(4s);
  ASSERT_TRUE(WaitFor([&] { return pm_->workers().Idle(); }));
  EXPECT_EQ(ApiPod()->status().phase(), "Running");
  EXPECT_EQ(Alive().size(), 1u);

  clock_.Advance(1s);
  ASSERT_TRUE(WaitFor([&] { return ApiPod()->status().phase() == "Failed"; }));
  auto p = ApiPod();
  EXPECT_EQ(p->status().reason(), "DeadlineExceeded");
  EXPECT_EQ(p->status().message(), "Pod was active on the node longer than the specified deadline");
  EXPECT_TRUE(Alive().empty());
  EXPECT_TRUE(p->status().containerstatuses(0).state().has_terminated());
  EXPECT_FALSE(api::IsConditionTrue(p->status().conditions(), "Ready"));
  ASSERT_TRUE(WaitFor([&] { return HasEvent("DeadlineExceeded", "Pod was active on the node longer than the specified deadline"); }));
  // Failed is final: nothing restarts.
  clock_.Advance(2s);
  ASSERT_TRUE(WaitFor([&] { return pm_->workers().Idle(); }));
  EXPECT_EQ(runtime_.starts(), 1);
  EXPECT_EQ(ApiPod()->status().phase(), "Failed");
}

TEST_F(PodManagerTest, GracefulDeletionRunsPreStopThenStopsThenConfirmsWithGraceZero) {
  StartManager();
  corev1::Pod spec = WebPod();
  spec.mutable_spec()->set_terminationgraceperiodseconds(30);
  auto* hook = spec.mutable_spec()->mutable_containers(0)->mutable_lifecycle()->mutable_prestop()->mutable_exec();
  hook->add_command("/bin/drain");
  auto pod = CreatePod(spec);
  const std::string uid = pod->metadata().uid();
  ASSERT_TRUE(WaitFor([&] { return PodIs("Running", true, 0); }));
  const std::string id = Alive().at(0).id;

  // kubectl delete: the API marks the pod terminating (grace 30 s); the informer delivers it.
  auto deleted = api_.Delete(Res(corev1::Pod::descriptor()), "shop", "web");
  ASSERT_TRUE(deleted.ok());
  ASSERT_NE(*deleted, nullptr);
  pm_->UpdatePod(client::As<corev1::Pod>(*deleted));
  // The kubelet confirms with grace 0 once the containers stopped: the pod is gone.
  ASSERT_TRUE(WaitFor([&] { return ApiPod() == nullptr; }));
  int exec = log_.Find("exec " + id + " /bin/drain");
  int stop = log_.Find("stop " + id);
  int down = log_.Find("network-down " + uid);
  ASSERT_GE(exec, 0);
  EXPECT_LT(exec, stop);
  EXPECT_LT(stop, down);
  ASSERT_TRUE(WaitFor([&] { return HasEvent("Killing", "Stopping container app"); }));
  // Resources are released after the confirmation.
  ASSERT_TRUE(WaitFor([&] { return runtime_.container_count() == 0 && !runtime_.HasSandbox(uid); }));
  // The worker marks the pod terminated just after releasing them.
  EXPECT_TRUE(WaitFor([&] { return pm_->RunningPodCount() == 0; }));
  // The informer's delete arrives; nothing is started again.
  pm_->DeletePod(uid);
  clock_.Advance(1s);
  ASSERT_TRUE(WaitFor([&] { return pm_->workers().Idle(); }));
  EXPECT_EQ(runtime_.starts(), 1);
}

// Every stop lasts until ShortenStop is called for its container, as for a container that ignores
// SIGTERM under a long grace period; `stopping` turns true once a stop began.
void StopsLastUntilShortened(FakeRuntime& runtime, std::atomic<bool>& stopping) {
  runtime.SetStopHook([&runtime, &stopping](const std::string& stopped) {
    stopping = true;
    auto give_up = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < give_up) {
      for (const std::string& s : runtime.shortened_stops()) {
        if (s.starts_with(stopped + " ")) return Status::Ok();
      }
      std::this_thread::sleep_for(5ms);
    }
    return Unavailable("the stop was never shortened (test)");
  });
}

// A second `kubectl delete --grace-period=N` with N below the grace in force, on a pod already
// terminating: the stop in flight is told to kill sooner instead of waiting out the first grace.
TEST_F(PodManagerTest, ASecondDeleteWithAShorterGraceShortensTheStopInFlight) {
  StartManager();
  std::atomic<bool> stopping{false};
  StopsLastUntilShortened(runtime_, stopping);
  std::string id;
  auto terminating = RunThenDelete(&id);
  ASSERT_EQ(terminating->metadata().deletiongraceperiodseconds(), 30);
  ASSERT_TRUE(WaitFor([&] { return stopping.load(); }));
  EXPECT_TRUE(runtime_.shortened_stops().empty());
  // The second delete, as the informer delivers it: deletionGracePeriodSeconds 30 -> 0.
  auto forced = std::make_shared<corev1::Pod>(*terminating);
  forced->mutable_metadata()->set_deletiongraceperiodseconds(0);
  pm_->UpdatePod(forced);
  ASSERT_TRUE(WaitFor([&] { return ApiPod() == nullptr; }));
  EXPECT_EQ(runtime_.shortened_stops(), std::vector<std::string>{id + " 0"});
}

// `kubectl delete --grace-period=0 --force`: the pod leaves the API at once; a stop in flight
// kills now.
TEST_F(PodManagerTest, AForceDeleteDuringTerminationKillsNow) {
  StartManager();
  std::atomic<bool> stopping{false};
  StopsLastUntilShortened(runtime_, stopping);
  std::string id;
  auto terminating = RunThenDelete(&id);
  ASSERT_TRUE(WaitFor([&] { return stopping.load(); }));
  pm_->DeletePod(terminating->metadata().uid());  // the informer's delete event
  ASSERT_TRUE(WaitFor([&] { return Alive().empty(); }));
  EXPECT_EQ(runtime_.shortened_stops(), std::vector<std::string>{id + " 0"});
}

TEST_F(PodManagerTest, DeletionIsNotConfirmedWhileAContainerSurvivesItsStop) {
  StartManager();
  std::atomic<bool> stuck{true};
  runtime_.SetStopHook([&](const std::string&) {
    return stuck ? Unavailable("process survived SIGKILL (test)") : Status::Ok();
  });
  corev1::Pod spec = WebPod();
  spec.mutable_spec()->set_terminationgraceperiodseconds(1);
  auto pod = CreatePod(spec);
  ASSERT_TRUE(WaitFor([&] { return PodIs("Running", true, 0); }));
  auto deleted = api_.Delete(Res(corev1::Pod::descriptor()), "shop", "web");
  ASSERT_TRUE(deleted.ok());
  pm_->UpdatePod(client::As<corev1::Pod>(*deleted));
  // Several termination attempts fail to stop the container: the pod stays in the API.
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(2s);
    ASSERT_TRUE(WaitFor([&] { return pm_->workers().Idle(); }));
  }
  EXPECT_NE(ApiPod(), nullptr);
  EXPECT_EQ(Alive().size(), 1u);
  // Once the stop works, the next attempt confirms the deletion.
  stuck = false;
  ASSERT_TRUE(WaitFor([&] {
    clock_.Advance(1s);
    return ApiPod() == nullptr;
  }));
  EXPECT_TRUE(Alive().empty());
}

TEST_F(PodManagerTest, RestartedManagerReadoptsWithoutDuplicateStarts) {
  StartManager();
  auto pod = CreatePod(WebPod());
  ASSERT_TRUE(WaitFor([&] { return PodIs("Running", true, 0); }));
  ASSERT_TRUE(runtime_.Exit(Alive().at(0).id, 1).ok());
  clock_.Advance(1s);
  ASSERT_TRUE(WaitFor([&] { return PodIs("Running", true, 1); }));
  EXPECT_EQ(runtime_.starts(), 2);
  const std::string id = Alive().at(0).id;

  // The kubelet restarts: a new manager over the same runtime, fed by a fresh informer.
  pm_->Stop();
  pm_.reset();
  StartManager();
  pm_->UpdatePod(ApiPod());
  pm_->SetReadyToRunPods(true);
  clock_.Advance(1s);
  ASSERT_TRUE(WaitFor([&] { return pm_->workers().syncs() >= 1 && pm_->workers().Idle(); }));
  clock_.Advance(1s);
  ASSERT_TRUE(WaitFor([&] { return pm_->workers().Idle(); }));
  EXPECT_EQ(runtime_.starts(), 2);
  ASSERT_EQ(Alive().size(), 1u);
  EXPECT_EQ(Alive().at(0).id, id);
  EXPECT_TRUE(PodIs("Running", true, 1));
}

TEST_F(PodManagerTest, OrphanedContainersAreRemovedAfterTheInformerSynced) {
  PodSandboxConfig ghost{"ghost-uid", "ghost", "shop", "", "", ""};
  ContainerConfig c;
  c.name = "app";
  c.annotations[kAnnotationTerminationGracePeriod] = "5";
  ASSERT_TRUE(runtime_.RunPodSandbox(ghost).ok());
  ASSERT_TRUE(runtime_.StartContainer(ghost, c).ok());
  StartManager();
  auto pod = CreatePod(WebPod());
  ASSERT_TRUE(WaitFor([&] { return PodIs("Running", true, 0); }));
  clock_.Advance(1s);
  ASSERT_TRUE(WaitFor([&] { return pm_->workers().Idle(); }));
  EXPECT_TRUE(runtime_.HasSandbox("ghost-uid"));  // not before the informer synced
  pm_->SetReadyToRunPods(true);
  clock_.Advance(1s);
  ASSERT_TRUE(WaitFor([&] { return !runtime_.HasSandbox("ghost-uid"); }));
  ASSERT_TRUE(WaitFor([&] { return pm_->workers().Idle(); }));
  EXPECT_EQ(runtime_.container_count(), 1u);  // the known pod's container stays
  EXPECT_TRUE(runtime_.HasSandbox(pod->metadata().uid()));
}

TEST_F(PodManagerTest, JobPodsEndSucceededOrFailedAndAreNotRestarted) {
  runtime_.SetOutcome([](const PodSandboxConfig& pod, const ContainerConfig&) {
    FakeRuntime::Outcome o;
    o.exit_after = 2s;
    o.exit_code = pod.name == "ok" ? 0 : 3;
    return o;
  });
  StartManager();
  for (const std::string name : {"ok", "bad"}) {
    corev1::Pod pod = WebPod();
    pod.mutable_metadata()->set_name(name);
    pod.mutable_spec()->set_restartpolicy("Never");
    CreatePod(pod);
  }
  ASSERT_TRUE(WaitFor([&] { return PodIs("Running", true, 0, "ok") && PodIs("Running", true, 0, "bad"); }));
  clock_.Advance(1s);
  clock_.Advance(1s);
  ASSERT_TRUE(WaitFor([&] { return PodIs("Succeeded", false, 0, "ok") && PodIs("Failed", false, 0, "bad"); }));
  auto ok = ApiPod("ok");
  EXPECT_EQ(api::FindCondition(ok->status().conditions(), "Ready")->reason(), "PodCompleted");
  EXPECT_EQ(ok->status().containerstatuses(0).state().terminated().reason(), "Completed");
  EXPECT_EQ(ApiPod("bad")->status().containerstatuses(0).state().terminated().exitcode(), 3);
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(1s);
    ASSERT_TRUE(WaitFor([&] { return pm_->workers().Idle(); }));
  }
  EXPECT_EQ(runtime_.starts(), 2);
  EXPECT_EQ(pm_->RunningPodCount(), 0);
}

}  // namespace
}  // namespace ck::kubelet
