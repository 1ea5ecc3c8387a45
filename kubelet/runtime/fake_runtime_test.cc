#include "kubelet/runtime/fake_runtime.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <thread>

namespace ck::kubelet {
namespace {

using namespace std::chrono_literals;

PodSandboxConfig Pod(const std::string& uid) { return {uid, "web-" + uid, "shop", "127.244.0.2", "", ""}; }

ContainerConfig Container(const std::string& name, int32_t attempt = 0) {
  ContainerConfig c;
  c.name = name;
  c.image = "registry.example.com/app:1";
  c.argv = {"/bin/app"};
  c.attempt = attempt;
  c.labels[kLabelPodUid] = "u1";
  c.labels["extra"] = "x";
  c.annotations[kAnnotationContainerHash] = "1234";
  c.annotations[kAnnotationRestartCount] = std::to_string(attempt);
  return c;
}

ContainerStatus Only(FakeRuntime& rt) {
  auto list = rt.ListContainers();
  EXPECT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);
  return list->empty() ? ContainerStatus{} : list->front();
}

TEST(FakeRuntimeTest, StartsRunningAfterTheDelay) {
  FakeClock clock;
  FakeRuntime rt(clock, {.start_delay = 2s});
  ASSERT_TRUE(rt.RunPodSandbox(Pod("u1")).ok());
  auto id = rt.StartContainer(Pod("u1"), Container("app"));
  ASSERT_TRUE(id.ok());
  ContainerStatus s = Only(rt);
  EXPECT_EQ(s.state, ContainerState::kCreated);
  EXPECT_EQ(s.pod_uid, "u1");
  EXPECT_EQ(s.pod_name, "web-u1");
  EXPECT_EQ(s.pod_namespace, "shop");
  EXPECT_EQ(s.labels.at(kLabelContainerName), "app");
  EXPECT_EQ(s.labels.at("extra"), "x");
  EXPECT_EQ(s.annotations.at(kAnnotationContainerHash), "1234");
  EXPECT_EQ(s.pid, 0);
  clock.Advance(2s);
  s = Only(rt);
  EXPECT_EQ(s.state, ContainerState::kRunning);
  EXPECT_EQ(s.started_at, s.created_at + 2s);
  EXPECT_GT(s.pid, 0);
  EXPECT_EQ(rt.starts(), 1);
}

TEST(FakeRuntimeTest, ExitAndStopAndRemove) {
  FakeClock clock;
  FakeRuntime rt(clock);
  auto a = rt.StartContainer(Pod("u1"), Container("a"));
  auto b = rt.StartContainer(Pod("u1"), Container("b"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  clock.Advance(1s);
  ASSERT_TRUE(rt.Exit(*a, 3, "boom").ok());
  auto sa = rt.Inspect(*a);
  ASSERT_TRUE(sa.ok());
  EXPECT_EQ(sa->state, ContainerState::kExited);
  EXPECT_EQ(sa->exit_code, 3);
  EXPECT_EQ(sa->reason, "Error");
  EXPECT_EQ(sa->message, "boom");
  EXPECT_EQ(sa->finished_at, clock.Now());
  ASSERT_TRUE(rt.StopContainer(*b, 30s).ok());
  auto sb = rt.Inspect(*b);
  EXPECT_EQ(sb->state, ContainerState::kExited);
  EXPECT_EQ(sb->exit_code, 143);
  ASSERT_TRUE(rt.StopContainer(*b, 30s).ok());  // already exited: success
  EXPECT_EQ(rt.StopContainer("nope", 1s).code(), Code::kNotFound);
  EXPECT_EQ(rt.Exit("nope", 1).code(), Code::kNotFound);
  ASSERT_TRUE(rt.RemoveContainer(*a).ok());
  EXPECT_EQ(rt.container_count(), 1u);
  ASSERT_TRUE(rt.RemovePodSandbox("u1").ok());
  EXPECT_EQ(rt.container_count(), 0u);
  EXPECT_FALSE(rt.HasSandbox("u1"));
}

TEST(FakeRuntimeTest, OutcomeFunctionEndsContainersOnTheClock) {
  FakeClock clock;
  FakeRuntime rt(clock, {.start_delay = 1s});
  rt.SetOutcome([](const PodSandboxConfig&, const ContainerConfig& c) {
    FakeRuntime::Outcome o;
    if (c.name == "job") o.exit_after = 5s;
    if (c.name == "crash") {
      o.exit_after = 0s;
      o.exit_code = 1;
    }
    return o;
  });
  auto job = rt.StartContainer(Pod("u1"), Container("job"));
  auto crash = rt.StartContainer(Pod("u1"), Container("crash"));
  auto server = rt.StartContainer(Pod("u1"), Container("server"));
  clock.Advance(1s);
  EXPECT_EQ(rt.Inspect(*job)->state, ContainerState::kRunning);
  EXPECT_EQ(rt.Inspect(*crash)->state, ContainerState::kExited);
  EXPECT_EQ(rt.Inspect(*crash)->exit_code, 1);
  clock.Advance(5s);
  auto j = rt.Inspect(*job);
  EXPECT_EQ(j->state, ContainerState::kExited);
  EXPECT_EQ(j->exit_code, 0);
  EXPECT_EQ(j->reason, "Completed");
  EXPECT_EQ(j->finished_at, j->started_at + 5s);
  EXPECT_EQ(rt.Inspect(*server)->state, ContainerState::kRunning);
}

TEST(FakeRuntimeTest, StartHookRefusesAndExecAnswers) {
  FakeClock clock;
  FakeRuntime rt(clock);
  rt.SetStartHook([](const PodSandboxConfig&, const ContainerConfig& c) {
    return c.argv.empty() ? Invalid("no command") : Status::Ok();
  });
  ContainerConfig none = Container("none");
  none.argv.clear();
  EXPECT_EQ(rt.StartContainer(Pod("u1"), none).status().code(), Code::kInvalid);
  EXPECT_EQ(rt.container_count(), 0u);
  auto id = rt.StartContainer(Pod("u1"), Container("app"));
  ASSERT_TRUE(id.ok());
  auto r = rt.ExecSync(*id, {"true"}, 1s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0);
  rt.SetExec([](const ContainerStatus& c, const std::vector<std::string>& argv, std::chrono::milliseconds) {
    return ExecResult{argv[0] == "fail" ? 1 : 0, c.name + ":" + argv[0], false};
  });
  r = rt.ExecSync(*id, {"fail"}, 1s);
  EXPECT_EQ(r->exit_code, 1);
  EXPECT_EQ(r->output, "app:fail");
  ASSERT_TRUE(rt.StopContainer(*id, 1s).ok());
  EXPECT_FALSE(rt.ExecSync(*id, {"true"}, 1s).ok());
}

TEST(FakeRuntimeTest, ObserverSeesCallsAndThreadsAreSafe) {
  FakeClock clock;
  FakeRuntime rt(clock);
  std::mutex mu;
  std::vector<std::string> calls;
  rt.SetCallObserver([&](const std::string& line) {
    std::lock_guard lock(mu);
    calls.push_back(line);
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        auto id = rt.StartContainer(Pod("u" + std::to_string(t)), Container("c" + std::to_string(i)));
        ASSERT_TRUE(id.ok());
        ASSERT_TRUE(rt.ListContainers().ok());
        ASSERT_TRUE(rt.StopContainer(*id, 0s).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(rt.container_count(), 400u);
  EXPECT_EQ(rt.starts(), 400);
  std::lock_guard lock(mu);
  EXPECT_EQ(calls.size(), 800u);
}

}  // namespace
}  // namespace ck::kubelet

namespace ck::kubelet {
namespace {

long RssKiB() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  long pages = 0, rss = 0;
  if (f != nullptr) {
    if (std::fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    std::fclose(f);
  }
  return rss * 4;
}

// The scale run's shape: 1,000 fake nodes x 30 pods in one process. Prints the memory a
// container costs; the bound keeps a regression (env or argv kept per container) visible.
TEST(FakeRuntimeScaleTest, ThirtyThousandContainersStaySmall) {
  FakeClock clock;
  const long before = RssKiB();
  std::vector<std::unique_ptr<FakeRuntime>> nodes;
  for (int n = 0; n < 1000; ++n) {
    nodes.push_back(std::make_unique<FakeRuntime>(clock));
    for (int p = 0; p < 30; ++p) {
      PodSandboxConfig pod{"uid-" + std::to_string(n) + "-" + std::to_string(p), "web-" + std::to_string(p), "shop",
                           "", "", ""};
      ContainerConfig c = Container("app");
      c.argv = {"/bin/app", "--flag"};
      c.env.assign(20, {"SOME_VARIABLE", "some value"});
      c.log_path = "/var/lib/ck/logs/shop_" + pod.name + "_" + pod.uid + "/app/0.log";
      ASSERT_TRUE(nodes.back()->RunPodSandbox(pod).ok());
      ASSERT_TRUE(nodes.back()->StartContainer(pod, c).ok());
    }
  }
  const long per_container_bytes = (RssKiB() - before) * 1024 / 30000;
  std::printf("[fake-runtime-scale] 30000 containers: %ld bytes each\n", per_container_bytes);
  EXPECT_LT(per_container_bytes, 2048);
  auto list = nodes[0]->ListContainers();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 30u);
}

TEST(FakeRuntimeTest, ExecAndAttachSayTheFakeRuntimeRunsNoProcesses) {
  FakeClock clock;
  FakeRuntime rt(clock, {});
  auto exec = rt.Exec("c1", ExecRequest{.argv = {"sh"}});
  ASSERT_FALSE(exec.ok());
  EXPECT_EQ(exec.status().code(), Code::kMethodNotAllowed);
  EXPECT_NE(exec.status().message().find("runs no processes"), std::string::npos);
  auto attach = rt.Attach("c1", true, false);
  ASSERT_FALSE(attach.ok());
  EXPECT_EQ(attach.status().code(), Code::kMethodNotAllowed);
}

}  // namespace
}  // namespace ck::kubelet
