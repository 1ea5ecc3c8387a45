// Prints ProcessRuntime's costs with the real ck-shim: StartContainer p50/p99, ListContainers
// with N containers, StopContainer (SIGTERM honoured). Usage: process_runtime_bench [N] (default 50);
// finds ck-shim next to itself.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "kubelet/runtime/process_runtime.h"

namespace {

double Ms(std::chrono::steady_clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ck::kubelet;
  const int n = argc > 1 ? std::atoi(argv[1]) : 50;
  const std::string shim = std::filesystem::path(std::filesystem::canonical("/proc/self/exe")).parent_path() / "ck-shim";
  char tmpl[] = "/tmp/ck-bench-XXXXXX";
  const std::string root = mkdtemp(tmpl);
  auto cgroups = ck::kubelet::cm::CgroupWriter::Disabled("bench");
  ProcessRuntime rt(root, shim, ck::RealClock::Get(), ck::RealRandom::Get(), cgroups);
  PodSandboxConfig pod{"bench-uid", "bench", "default", "127.0.0.1", root + "/logs/default_bench_bench-uid", ""};
  if (!rt.RunPodSandbox(pod).ok()) return 1;

  std::vector<double> start_ms, stop_ms;
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    ContainerConfig c;
    c.name = "c" + std::to_string(i);
    c.argv = {"/bin/sleep", "300"};
    c.log_path = pod.log_directory + "/" + c.name + "/0.log";
    auto t0 = std::chrono::steady_clock::now();
    auto id = rt.StartContainer(pod, c);
    start_ms.push_back(Ms(std::chrono::steady_clock::now() - t0));
    if (!id.ok()) {
      std::fprintf(stderr, "start failed: %s\n", id.status().ToString().c_str());
      break;
    }
    ids.push_back(*id);
  }
  auto t0 = std::chrono::steady_clock::now();
  auto list = rt.ListContainers();
  double list_ms = Ms(std::chrono::steady_clock::now() - t0);
  for (const auto& id : ids) {
    auto t1 = std::chrono::steady_clock::now();
    rt.StopContainer(id, std::chrono::seconds(10)).IgnoreError();
    stop_ms.push_back(Ms(std::chrono::steady_clock::now() - t1));
  }
  rt.RemovePodSandbox(pod.uid).IgnoreError();
  std::filesystem::remove_all(root);
  if (start_ms.empty() || stop_ms.empty()) return 1;
  std::printf("process runtime, %d containers: StartContainer p50 %.1f ms p99 %.1f ms; ListContainers %.1f ms "
              "(%zu listed); StopContainer p50 %.1f ms p99 %.1f ms\n",
              n, Pct(start_ms, 0.5), Pct(start_ms, 0.99), list_ms, list.ok() ? list->size() : 0, Pct(stop_ms, 0.5),
              Pct(stop_ms, 0.99));
  return 0;
}
