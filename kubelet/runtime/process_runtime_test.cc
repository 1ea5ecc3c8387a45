// ProcessRuntime with the real ck-shim: containers are host processes in a temp root dir, with a
// cgroup tree in a temp dir (the shim writes the container's pid into it).
#include "kubelet/runtime/process_runtime.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <memory>

#include <gtest/gtest.h>

#include "common/base/strings.h"
#include "kubelet/shim/shim_state.h"
#include "tests/testutil/testutil.h"

namespace ck::kubelet {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testutil::ReadFileOrDie;
using testutil::TempDir;
using testutil::WaitUntil;

constexpr auto kWait = seconds(20);

class ProcessRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(cgroup_root_.path() + "/memory");
    std::filesystem::create_directories(cgroup_root_.path() + "/cpu");
    cgroups_ = std::make_unique<cm::CgroupWriter>(cm::CgroupWriter::Detect(cgroup_root_.path()));
    ASSERT_TRUE(cgroups_->usable());
    pod_.uid = "uid-1";
    pod_.name = "web";
    pod_.ns = "default";
    pod_.pod_ip = "127.0.0.1";
    pod_.log_directory = root_.path() + "/logs/default_web_uid-1";
    pod_.cgroup_parent = "kubepods/burstable/poduid-1";
    runtime_ = NewRuntime();
    ASSERT_TRUE(runtime_->RunPodSandbox(pod_).ok());
  }

  // Whatever a test left running is stopped (by pid, through the runtime), also after a failure.
  void TearDown() override {
    auto rt = NewRuntime();
    auto list = rt->ListContainers();
    if (list.ok()) {
      for (const auto& c : *list) rt->StopContainer(c.id, seconds(0)).IgnoreError();
    }
    rt->RemovePodSandbox(pod_.uid).IgnoreError();
  }

  std::unique_ptr<ProcessRuntime> NewRuntime() {
    return std::make_unique<ProcessRuntime>(root_.path(), testutil::BinDir() + "/ck-shim", RealClock::Get(),
                                            RealRandom::Get(), *cgroups_);
  }

  ContainerConfig Config(const std::string& name, std::vector<std::string> argv) {
    ContainerConfig c;
    c.name = name;
    c.image = "busybox:1.36";
    c.argv = std::move(argv);
    c.env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}, {"GREETING", "hi there"}};
    c.log_path = pod_.log_directory + "/" + name + "/0.log";
    c.labels = {{kLabelPodUid, pod_.uid}, {kLabelContainerName, name}};
    c.annotations = {{kAnnotationContainerHash, "h1"}};
    return c;
  }

  Result<ContainerStatus> Find(ContainerRuntime& rt, const std::string& id) {
    CK_ASSIGN_OR_RETURN(auto list, rt.ListContainers());
    for (auto& c : list) {
      if (c.id == id) return c;
    }
    return NotFound(id);
  }

  bool WaitExited(const std::string& id, ContainerStatus* out = nullptr) {
    return WaitUntil(
        [&] {
          auto s = Find(*runtime_, id);
          if (s.ok() && out) *out = *s;
          return s.ok() && s->state == ContainerState::kExited;
        },
        kWait);
  }

  std::vector<shim::CriLogLine> LogLines(const std::string& path) {
    std::vector<shim::CriLogLine> out;
    if (!std::filesystem::exists(path)) return out;
    const std::string text = ReadFileOrDie(path);
    for (std::string_view l : Split(text, '\n', true)) {
      auto line = shim::ParseCriLogLine(l);
      EXPECT_TRUE(line.has_value()) << "not a CRI log line: " << l;
      if (line) out.push_back(*line);
    }
    return out;
  }

  bool WaitLogLines(const std::string& path, size_t n) {
    return WaitUntil([&] { return LogLines(path).size() >= n; }, kWait);
  }

  // Feeds `input` to the process (then closes its stdin when `close_stdin`) and collects its
  // output until both streams end and exit_fd is readable, within kWait.
  struct Outcome {
    std::string out, err;
    int exit_code = -1;
    bool finished = false;
  };
  Outcome Drive(StreamingProcess& p, std::string input, bool close_stdin = true,
                const std::function<void(const std::string&)>& on_output = nullptr) {
    Outcome o;
    int fds[2] = {p.stdout_fd(), p.stderr_fd()};
    std::string* sinks[2] = {&o.out, &o.err};
    bool exited = false;
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while ((fds[0] >= 0 || fds[1] >= 0 || !exited) && std::chrono::steady_clock::now() < deadline) {
      struct pollfd pf[4];
      int n = 0;
      for (int i = 0; i < 2; ++i) pf[n++] = {fds[i], POLLIN, 0};  // fd -1 is ignored by poll
      pf[n++] = {exited ? -1 : p.exit_fd(), POLLIN, 0};
      pf[n++] = {input.empty() ? -1 : p.stdin_fd(), POLLOUT, 0};
      if (input.empty() && close_stdin && p.stdin_fd() >= 0) p.CloseStdin();
      if (poll(pf, n, 100) < 0) break;
      for (int i = 0; i < 2; ++i) {
        if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[4096];
        ssize_t got = read(fds[i], buf, sizeof buf);
        if (got > 0) {
          sinks[i]->append(buf, got);
          if (on_output) on_output(o.out);
        } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
          fds[i] = -1;  // EOF (a terminal's master reads EIO once the slave side is gone)
        }
      }
      if (pf[2].revents & POLLIN) exited = true;
      if (!input.empty() && (pf[3].revents & POLLOUT)) {
        ssize_t put = write(p.stdin_fd(), input.data(), input.size());
        if (put > 0) input.erase(0, put);
      }
    }
    o.finished = exited && fds[0] < 0 && fds[1] < 0;
    auto code = p.ExitCode();
    if (code.ok()) o.exit_code = *code;
    return o;
  }

  // Reads what the process writes on stdout and stderr until `done(out, err)` holds or kWait passes.
  bool ReadUntil(StreamingProcess& p, std::string* out, std::string* err,
                 const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      struct pollfd pf[2] = {{p.stdout_fd(), POLLIN, 0}, {p.stderr_fd(), POLLIN, 0}};
      poll(pf, 2, 100);
      char buf[4096];
      ssize_t got;
      if ((pf[0].revents & POLLIN) && (got = read(pf[0].fd, buf, sizeof buf)) > 0) out->append(buf, got);
      if ((pf[1].revents & POLLIN) && (got = read(pf[1].fd, buf, sizeof buf)) > 0) err->append(buf, got);
    }
    return true;
  }

  bool WriteAllTo(int fd, std::string data) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (!data.empty() && std::chrono::steady_clock::now() < deadline) {
      ssize_t n = write(fd, data.data(), data.size());
      if (n > 0) data.erase(0, n);
      if (n < 0 && errno != EAGAIN) return false;
      if (n < 0) poll(nullptr, 0, 10);
    }
    return data.empty();
  }

  TempDir root_;
  TempDir cgroup_root_;
  std::unique_ptr<cm::CgroupWriter> cgroups_;
  PodSandboxConfig pod_;
  std::unique_ptr<ProcessRuntime> runtime_;
};

TEST_F(ProcessRuntimeTest, StartsContainerWritesCriLogsAndJoinsCgroup) {
  auto cfg = Config("app", {"sh", "-c", "echo $GREETING; echo oops >&2; sleep 30"});
  auto id = runtime_->StartContainer(pod_, cfg);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->size(), 64u);
  EXPECT_EQ(id->find_first_not_of("0123456789abcdef"), std::string::npos);

  auto status = Find(*runtime_, *id);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state, ContainerState::kRunning);
  EXPECT_GT(status->pid, 0);
  EXPECT_EQ(status->pod_uid, "uid-1");
  EXPECT_EQ(status->pod_name, "web");
  EXPECT_EQ(status->name, "app");
  EXPECT_EQ(status->image, "busybox:1.36");
  EXPECT_EQ(status->log_path, cfg.log_path);
  EXPECT_EQ(status->labels.at(kLabelContainerName), "app");
  EXPECT_EQ(status->annotations.at(kAnnotationContainerHash), "h1");
  EXPECT_GT(status->started_at.time_since_epoch().count(), 0);
  EXPECT_EQ(kill(static_cast<pid_t>(status->pid), 0), 0);

  ASSERT_TRUE(WaitLogLines(cfg.log_path, 2));
  auto lines = LogLines(cfg.log_path);
  ASSERT_EQ(lines.size(), 2u);
  std::map<std::string, std::string> by_stream;
  for (const auto& l : lines) {
    EXPECT_FALSE(l.partial);
    EXPECT_EQ(l.time.back(), 'Z');
    by_stream[l.stream] = l.text;
  }
  EXPECT_EQ(by_stream["stdout"], "hi there");
  EXPECT_EQ(by_stream["stderr"], "oops");

  // The container process joined its cgroup (both v1 hierarchies of the temp tree).
  std::string cg = cgroup_root_.path() + "/memory/kubepods/burstable/poduid-1/" + *id;
  EXPECT_EQ(ReadFileOrDie(cg + "/cgroup.procs"), std::to_string(status->pid));
  EXPECT_TRUE(std::filesystem::exists(runtime_->ContainerDir(pod_.uid, *id) + "/spec.json"));
  EXPECT_TRUE(std::filesystem::exists(runtime_->ContainerDir(pod_.uid, *id) + "/shim.pid"));
}

TEST_F(ProcessRuntimeTest, RestartedRuntimeReadoptsRunningContainerThenStopsIt) {
  auto id = runtime_->StartContainer(pod_, Config("app", {"sh", "-c", "echo hi; sleep 30"}));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto before = Find(*runtime_, *id);
  ASSERT_TRUE(before.ok());

  runtime_.reset();  // the kubelet goes away; nothing of the container lives in this object
  runtime_ = NewRuntime();
  auto list = runtime_->ListContainers();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u) << "no duplicates";
  EXPECT_EQ((*list)[0].id, *id);
  EXPECT_EQ((*list)[0].state, ContainerState::kRunning);
  EXPECT_EQ((*list)[0].pid, before->pid);

  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(runtime_->StopContainer(*id, seconds(30)).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, seconds(10)) << "SIGTERM ends it well before the grace period";
  auto after = Find(*runtime_, *id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->state, ContainerState::kExited);
  EXPECT_EQ(after->exit_code, 143);
  EXPECT_EQ(after->reason, "Error");
  EXPECT_GE(after->finished_at, after->started_at);
  EXPECT_TRUE(runtime_->StopContainer(*id, seconds(1)).ok()) << "stopping an exited container is success";
  EXPECT_EQ(runtime_->StopContainer("0123", seconds(1)).code(), Code::kNotFound);
}

TEST_F(ProcessRuntimeTest, ContainersSurviveAKubeletKilledWithSigkill) {
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  pid_t kubelet = fork();
  ASSERT_GE(kubelet, 0);
  if (kubelet == 0) {
    // A stand-in kubelet: starts a container, says its id, then waits to be killed.
    close(pipefd[0]);
    auto rt = NewRuntime();
    auto id = rt->StartContainer(pod_, Config("app", {"sh", "-c", "echo up; sleep 30"}));
    std::string msg = id.ok() ? *id : "error";
    (void)!write(pipefd[1], msg.data(), msg.size());
    close(pipefd[1]);
    pause();
    _exit(0);
  }
  close(pipefd[1]);
  std::string id;
  char buf[128];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0) id.append(buf, n);
  close(pipefd[0]);
  kill(kubelet, SIGKILL);
  waitpid(kubelet, nullptr, 0);
  ASSERT_EQ(id.size(), 64u) << id;

  auto list = runtime_->ListContainers();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, id);
  EXPECT_EQ((*list)[0].state, ContainerState::kRunning);
  auto state = shim::ReadState(runtime_->ContainerDir(pod_.uid, id));
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(shim::ProcessAlive(static_cast<pid_t>(state->shim_pid), state->shim_start_ticks));
  EXPECT_TRUE(shim::ProcessAlive(static_cast<pid_t>(state->pid), state->pid_start_ticks));
  ASSERT_TRUE(WaitLogLines((*list)[0].log_path, 1));
  EXPECT_EQ(LogLines((*list)[0].log_path)[0].text, "up");
}

TEST_F(ProcessRuntimeTest, GracePeriodEndsWithSigkill) {
  auto cfg = Config("stubborn", {"sh", "-c", "trap 'echo got TERM' TERM; echo ready; while :; do sleep 0.05; done"});
  auto id = runtime_->StartContainer(pod_, cfg);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(WaitLogLines(cfg.log_path, 1));  // the trap is in place
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(runtime_->StopContainer(*id, seconds(1)).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(950));
  auto s = Find(*runtime_, *id);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->state, ContainerState::kExited);
  EXPECT_EQ(s->exit_code, 137);
  EXPECT_EQ(s->reason, "Error");
  // The shell saw SIGTERM first (its sleeps make the shell print "Terminated" on stderr too).
  EXPECT_TRUE(WaitUntil(
      [&] {
        for (const auto& l : LogLines(cfg.log_path)) {
          if (l.stream == "stdout" && l.text == "got TERM") return true;
        }
        return false;
      },
      kWait));
}

// A second delete with a shorter grace period brings the SIGKILL of a stop in flight forward.
TEST_F(ProcessRuntimeTest, ShortenStopBringsTheSigkillForward) {
  auto cfg = Config("stubborn", {"sh", "-c", "trap 'echo got TERM' TERM; echo ready; while :; do sleep 0.05; done"});
  auto id = runtime_->StartContainer(pod_, cfg);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(WaitLogLines(cfg.log_path, 1));  // the trap is in place
  runtime_->ShortenStop(*id, seconds(0));       // no stop in flight: no effect
  auto t0 = std::chrono::steady_clock::now();
  std::thread shorten([&] {
    std::this_thread::sleep_for(milliseconds(300));
    runtime_->ShortenStop(*id, seconds(0));
  });
  Status stopped = runtime_->StopContainer(*id, seconds(30));
  shorten.join();
  ASSERT_TRUE(stopped.ok()) << stopped.ToString();
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, milliseconds(250)) << "the container ignores SIGTERM, so only the SIGKILL ends it";
  EXPECT_LT(took, seconds(5)) << "the 30 s grace period was cut to 0";
  auto s = Find(*runtime_, *id);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->state, ContainerState::kExited);
  EXPECT_EQ(s->exit_code, 137);
}

TEST_F(ProcessRuntimeTest, ExitCodesReasonsAndTerminationMessage) {
  auto ok = runtime_->StartContainer(pod_, Config("ok", {"sh", "-c", "exit 0"}));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  TempDir scratch;
  auto cfg = Config("bad", {"sh", "-c", "printf 'disk on fire' > " + scratch.File("msg") + "; exit 3"});
  cfg.termination_message_path = scratch.File("msg");
  auto bad = runtime_->StartContainer(pod_, cfg);
  ASSERT_TRUE(bad.ok()) << bad.status().ToString();

  ContainerStatus s;
  ASSERT_TRUE(WaitExited(*ok, &s));
  EXPECT_EQ(s.exit_code, 0);
  EXPECT_EQ(s.reason, "Completed");
  EXPECT_EQ(s.pid, 0);
  ASSERT_TRUE(WaitExited(*bad, &s));
  EXPECT_EQ(s.exit_code, 3);
  EXPECT_EQ(s.reason, "Error");
  EXPECT_EQ(s.message, "disk on fire");
  EXPECT_NE(*ok, *bad);
}

TEST_F(ProcessRuntimeTest, StartFailuresSayWhyAndLeaveNothing) {
  auto empty = runtime_->StartContainer(pod_, Config("nocmd", {}));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(),
            "no command specified: in process mode a container runs its command from the host's filesystem; set "
            "command");
  auto missing = runtime_->StartContainer(pod_, Config("missing", {"ck-no-such-program", "--flag"}));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("\"ck-no-such-program\": executable file not found in $PATH"),
            std::string::npos)
      << missing.status().message();
  auto cfg = Config("baddir", {"sh", "-c", "true"});
  cfg.working_dir = "/no/such/dir";
  auto baddir = runtime_->StartContainer(pod_, cfg);
  ASSERT_FALSE(baddir.ok());
  EXPECT_NE(baddir.status().message().find("/no/such/dir"), std::string::npos) << baddir.status().message();

  auto list = runtime_->ListContainers();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
  EXPECT_TRUE(std::filesystem::is_empty(runtime_->PodDir(pod_.uid) + "/containers"));
}

TEST_F(ProcessRuntimeTest, ExecSyncUsesContainerEnvAndWorkingDir) {
  TempDir work;
  auto cfg = Config("app", {"sleep", "30"});
  cfg.working_dir = work.path();
  auto id = runtime_->StartContainer(pod_, cfg);
  ASSERT_TRUE(id.ok()) << id.status().ToString();

  auto r = runtime_->ExecSync(*id, {"sh", "-c", "echo $GREETING; pwd; echo err >&2; exit 7"}, seconds(10));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->output, "hi there\n" + work.path() + "\nerr\n");

  auto big = runtime_->ExecSync(*id, {"sh", "-c", "head -c 50000 /dev/zero | tr '\\0' x"}, seconds(10));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->exit_code, 0);
  EXPECT_EQ(big->output.size(), 10u * 1024) << "output is capped at 10 KiB";

  auto t0 = std::chrono::steady_clock::now();
  auto slow = runtime_->ExecSync(*id, {"sleep", "30"}, milliseconds(200));
  ASSERT_TRUE(slow.ok());
  EXPECT_TRUE(slow->timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, seconds(5));

  EXPECT_FALSE(runtime_->ExecSync(*id, {"ck-no-such-program"}, seconds(1)).ok());
  ASSERT_TRUE(runtime_->StopContainer(*id, seconds(5)).ok());
  EXPECT_EQ(runtime_->ExecSync(*id, {"true"}, seconds(1)).status().code(), Code::kConflict);
}

TEST_F(ProcessRuntimeTest, PartialLinesThroughTheShim) {
  auto cfg = Config("chatty", {"sh", "-c", "head -c 20000 /dev/zero | tr '\\0' x; echo; printf tail"});
  auto id = runtime_->StartContainer(pod_, cfg);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(WaitExited(*id));
  auto lines = LogLines(cfg.log_path);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(lines[0].partial);
  EXPECT_EQ(lines[0].text, std::string(16384, 'x'));
  EXPECT_FALSE(lines[1].partial);
  EXPECT_EQ(lines[1].text, std::string(20000 - 16384, 'x'));
  EXPECT_TRUE(lines[2].partial);
  EXPECT_EQ(lines[2].text, "tail");
}

TEST_F(ProcessRuntimeTest, ShimKilledContainerKeepsRunningAndItsDeathIsRecorded) {
  auto id = runtime_->StartContainer(pod_, Config("app", {"sleep", "30"}));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  const std::string dir = runtime_->ContainerDir(pod_.uid, *id);
  auto state = shim::ReadState(dir);
  ASSERT_TRUE(state.ok());
  ASSERT_EQ(kill(static_cast<pid_t>(state->shim_pid), SIGKILL), 0);
  ASSERT_TRUE(WaitUntil([&] { return !shim::ProcessAlive(static_cast<pid_t>(state->shim_pid), state->shim_start_ticks); },
                        kWait));

  auto s = Find(*runtime_, *id);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->state, ContainerState::kRunning);
  EXPECT_EQ(s->pid, state->pid);

  // The container dies with no shim to see it: reported exited, exit code unknown (137).
  ASSERT_EQ(kill(static_cast<pid_t>(state->pid), SIGKILL), 0);
  ContainerStatus out;
  ASSERT_TRUE(WaitExited(*id, &out));
  EXPECT_EQ(out.exit_code, 137);
  EXPECT_EQ(out.reason, "Error");
  EXPECT_EQ(out.message, kExitedWithoutShimMessage);
  // The verdict is written down, so it does not change on the next list.
  auto again = Find(*runtime_, *id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->finished_at, out.finished_at);
}

TEST_F(ProcessRuntimeTest, RemoveKeepsLogsUntilThePodGoes) {
  auto cfg = Config("app", {"sh", "-c", "echo bye"});
  auto id = runtime_->StartContainer(pod_, cfg);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(WaitExited(*id));
  const std::string cg = cgroup_root_.path() + "/memory/kubepods/burstable/poduid-1";
  EXPECT_TRUE(std::filesystem::exists(cg + "/" + *id));
  ASSERT_TRUE(runtime_->RemoveContainer(*id).ok());
  EXPECT_FALSE(std::filesystem::exists(runtime_->ContainerDir(pod_.uid, *id)));
  EXPECT_FALSE(std::filesystem::exists(cg + "/" + *id));
  EXPECT_TRUE(std::filesystem::exists(cfg.log_path)) << "logs stay";
  EXPECT_TRUE(runtime_->ListContainers()->empty());
  EXPECT_EQ(runtime_->RemoveContainer(*id).code(), Code::kNotFound);

  ASSERT_TRUE(runtime_->RemovePodSandbox(pod_.uid).ok());
  EXPECT_FALSE(std::filesystem::exists(runtime_->PodDir(pod_.uid)));
  EXPECT_FALSE(std::filesystem::exists(cg));
  EXPECT_FALSE(std::filesystem::exists(pod_.log_directory));
  EXPECT_TRUE(runtime_->RemovePodSandbox(pod_.uid).ok()) << "removing again is success";
}

TEST_F(ProcessRuntimeTest, VolumesAreBindMountedPrivatelyWhenRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "bind mounts need root; as non-root the shim skips them (see README)";
  TempDir volume, host;
  testutil::WriteFileOrDie(volume.File("f"), "mounted");
  const std::string target = host.path() + "/not/there/data";
  auto cfg = Config("app", {"sh", "-c", "cat " + target + "/f; echo; touch " + target +
                                            "/g 2>/dev/null && echo writable || echo readonly; sleep 30"});
  cfg.mounts = {{volume.path(), target, /*read_only=*/true}};
  auto id = runtime_->StartContainer(pod_, cfg);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(WaitLogLines(cfg.log_path, 2));
  auto lines = LogLines(cfg.log_path);
  EXPECT_EQ(lines[0].text, "mounted");
  EXPECT_EQ(lines[1].text, "readonly");
  EXPECT_FALSE(std::filesystem::exists(volume.File("g")));
  // The mount is private to the container: the host sees the empty mountpoint.
  EXPECT_TRUE(std::filesystem::is_directory(target));
  EXPECT_FALSE(std::filesystem::exists(target + "/f"));
  // An exec joins the container's mount namespace.
  auto r = runtime_->ExecSync(*id, {"cat", target + "/f"}, seconds(10));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->output, "mounted");
  auto s = Find(*runtime_, *id);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->annotations.count(kAnnotationMountsSkipped), 0u);

  ASSERT_TRUE(runtime_->StopContainer(*id, seconds(5)).ok());
  ASSERT_TRUE(runtime_->RemovePodSandbox(pod_.uid).ok());
  // The directories the shim created are gone (rmdir only), what existed before stays.
  EXPECT_FALSE(std::filesystem::exists(host.path() + "/not"));
  EXPECT_TRUE(std::filesystem::exists(host.path()));
  EXPECT_TRUE(std::filesystem::exists(volume.File("f")));
}

TEST_F(ProcessRuntimeTest, MountsAreSkippedAndReportedWhenNotRoot) {
  if (geteuid() == 0) GTEST_SKIP() << "runs as non-root only (as root the mounts are made)";
  TempDir volume;
  auto cfg = Config("app", {"sleep", "30"});
  cfg.mounts = {{volume.path(), "/ck-test-mount", false}};
  auto id = runtime_->StartContainer(pod_, cfg);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto s = Find(*runtime_, *id);
  ASSERT_TRUE(s.ok());
  EXPECT_NE(s->annotations[kAnnotationMountsSkipped].find("not running as root"), std::string::npos);
}

TEST_F(ProcessRuntimeTest, ExecStreamsStdinStdoutStderrAndTheExitCode) {
  TempDir work;
  auto cfg = Config("app", {"sleep", "30"});
  cfg.working_dir = work.path();
  auto id = runtime_->StartContainer(pod_, cfg);
  ASSERT_TRUE(id.ok()) << id.status().ToString();

  auto cat = runtime_->Exec(*id, ExecRequest{.argv = {"cat"}, .stdin = true});
  ASSERT_TRUE(cat.ok()) << cat.status().ToString();
  EXPECT_EQ((*cat)->stderr_fd() >= 0, true);
  std::string input;
  for (int i = 0; i < 20000; ++i) input += "line " + std::to_string(i) + "\n";  // > a pipe's buffer
  Outcome o = Drive(**cat, input);
  EXPECT_TRUE(o.finished);
  EXPECT_EQ(o.out, input);
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(o.exit_code, 0);

  auto sh = runtime_->Exec(*id, ExecRequest{.argv = {"sh", "-c", "echo $GREETING; pwd; echo oops >&2; exit 3"}});
  ASSERT_TRUE(sh.ok());
  EXPECT_EQ((*sh)->stdin_fd(), -1);
  o = Drive(**sh, "");
  EXPECT_TRUE(o.finished);
  EXPECT_EQ(o.out, "hi there\n" + work.path() + "\n");
  EXPECT_EQ(o.err, "oops\n");
  EXPECT_EQ(o.exit_code, 3);

  auto killed = runtime_->Exec(*id, ExecRequest{.argv = {"sh", "-c", "kill -9 $$"}});
  ASSERT_TRUE(killed.ok());
  EXPECT_EQ(Drive(**killed, "").exit_code, 128 + 9);
}

TEST_F(ProcessRuntimeTest, ExecOfAMissingCommandExits127WithRuncsMessage) {
  auto id = runtime_->StartContainer(pod_, Config("app", {"sleep", "30"}));
  ASSERT_TRUE(id.ok());
  auto p = runtime_->Exec(*id, ExecRequest{.argv = {"ck-no-such-program"}});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  Outcome o = Drive(**p, "");
  EXPECT_EQ(o.exit_code, 127);
  EXPECT_EQ(o.err, "exec: \"ck-no-such-program\": executable file not found in $PATH\n");
  TempDir dir;
  testutil::WriteFileOrDie(dir.File("script"), "#!/bin/sh\n");
  auto not_exec = runtime_->Exec(*id, ExecRequest{.argv = {dir.File("script")}});
  ASSERT_TRUE(not_exec.ok());
  EXPECT_EQ(Drive(**not_exec, "").exit_code, 126);
}

TEST_F(ProcessRuntimeTest, ExecWithATerminal) {
  auto id = runtime_->StartContainer(pod_, Config("app", {"sleep", "30"}));
  ASSERT_TRUE(id.ok());
  auto p = runtime_->Exec(*id, ExecRequest{.argv = {"sh", "-c", "read l; stty size; echo \"term=$TERM\"; "
                                                                "[ -t 0 ] && [ -t 2 ] && echo all-ttys; exit 5"},
                                           .stdin = true,
                                           .tty = true});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->stderr_fd(), -1);
  ASSERT_TRUE((*p)->Resize(100, 40).ok());
  Outcome o = Drive(**p, "go\n", /*close_stdin=*/false);
  EXPECT_TRUE(o.finished);
  EXPECT_NE(o.out.find("40 100\r\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("term=xterm\r\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("all-ttys"), std::string::npos) << o.out;
  EXPECT_EQ(o.exit_code, 5);
}

TEST_F(ProcessRuntimeTest, ExecEndsWithItsOwnerAndNeedsARunningContainer) {
  auto id = runtime_->StartContainer(pod_, Config("app", {"sleep", "30"}));
  ASSERT_TRUE(id.ok());
  auto p = runtime_->Exec(*id, ExecRequest{.argv = {"sleep", "30"}});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->ExitCode().status().code(), Code::kUnavailable);
  auto t0 = std::chrono::steady_clock::now();
  p->reset();  // SIGKILL and reap
  EXPECT_LT(std::chrono::steady_clock::now() - t0, seconds(5));

  EXPECT_EQ(runtime_->Exec("no-such-id", ExecRequest{.argv = {"true"}}).status().code(), Code::kNotFound);
  EXPECT_EQ(runtime_->Exec(*id, ExecRequest{}).status().code(), Code::kInvalid);
  ASSERT_TRUE(runtime_->StopContainer(*id, seconds(5)).ok());
  EXPECT_EQ(runtime_->Exec(*id, ExecRequest{.argv = {"true"}}).status().code(), Code::kConflict);
  EXPECT_EQ(runtime_->Attach(*id, false, false).status().code(), Code::kConflict);
}

TEST_F(ProcessRuntimeTest, AttachSeesNewOutputAndWritesStdin) {
  auto cfg = Config("echoer", {"sh", "-c", "echo started; while read l; do echo \"got $l\"; echo \"err $l\" >&2; done; "
                                            "echo never"});
  cfg.stdin_open = true;
  auto id = runtime_->StartContainer(pod_, cfg);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(WaitLogLines(cfg.log_path, 1));

  auto a = runtime_->Attach(*id, true, false);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_GE((*a)->stdin_fd(), 0);
  ASSERT_TRUE(WriteAllTo((*a)->stdin_fd(), "one\n"));
  std::string out, err;
  ASSERT_TRUE(ReadUntil(**a, &out, &err, [&] { return out == "got one\n" && err == "err one\n"; }))
      << out << "|" << err;
  // Without stdinOnce, an attacher closing its stdin does not close the container's.
  (*a)->CloseStdin();
  a->reset();

  auto b = runtime_->Attach(*id, true, false);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(WriteAllTo((*b)->stdin_fd(), "two\n"));
  out.clear();
  err.clear();
  // Both lines of "two" must be through before the next attach, or that attacher sees the late one.
  ASSERT_TRUE(ReadUntil(**b, &out, &err, [&] { return out == "got two\n" && err == "err two\n"; }))
      << out << "|" << err;
  EXPECT_EQ(Find(*runtime_, *id)->state, ContainerState::kRunning);

  // tty asked of a container without one: one output stream.
  auto c = runtime_->Attach(*id, false, true);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->stderr_fd(), -1);
  EXPECT_EQ((*c)->stdin_fd(), -1);
  ASSERT_TRUE(WriteAllTo((*b)->stdin_fd(), "three\n"));
  out.clear();
  // The shim reads the container's stdout and stderr pipes separately, so the two lines may be
  // logged in either order.
  ASSERT_TRUE(ReadUntil(**c, &out, &err, [&] {
    return out == "got three\nerr three\n" || out == "err three\ngot three\n";
  })) << out;
}

TEST_F(ProcessRuntimeTest, AttachStdinOnceClosesTheContainersStdinAndReportsTheExit) {
  auto cfg = Config("reader", {"sh", "-c", "cat; echo eof-seen; exit 4"});
  cfg.stdin_open = true;
  cfg.stdin_once = true;
  auto id = runtime_->StartContainer(pod_, cfg);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto a = runtime_->Attach(*id, true, false);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  Outcome o = Drive(**a, "payload\n");  // then CloseStdin
  EXPECT_TRUE(o.finished);
  EXPECT_EQ(o.out, "payload\neof-seen\n");
  EXPECT_EQ(o.exit_code, 4);
  ContainerStatus st;
  ASSERT_TRUE(WaitExited(*id, &st));
  EXPECT_EQ(st.exit_code, 4);
}

TEST_F(ProcessRuntimeTest, AttachStdinNeedsStdinInTheSpec) {
  auto id = runtime_->StartContainer(pod_, Config("app", {"sleep", "30"}));
  ASSERT_TRUE(id.ok());
  auto a = runtime_->Attach(*id, true, false);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), Code::kBadRequest);
  EXPECT_NE(a.status().message().find("does not have stdin enabled"), std::string::npos) << a.status().message();
  auto out_only = runtime_->Attach(*id, false, false);
  ASSERT_TRUE(out_only.ok());
  EXPECT_EQ((*out_only)->stdin_fd(), -1);
}

}  // namespace
}  // namespace ck::kubelet
