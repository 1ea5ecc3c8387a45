// controller_perf: the Deployment and ReplicaSet controllers at scale, end to end through the API.
// Starts a ck-apiserver and a ck-controller-manager (from CK_BIN_DIR; --kube-api-qps/-burst
// 5000, as a large cluster would configure it), plays the kubelet for every pod in this process
// (pods go Running and Ready as they appear, kwok-style, no scheduler involved), then:
//   1. applies a Deployment of N replicas (default 1,000) and times create -> N pods exist;
//   2. changes its image and times the rolling update -> every replica updated and available
//      (25% surge / 25% unavailable, the upstream defaults);
//   3. prints the controller-manager's CPU seconds and peak RSS over both phases.
// Usage: controller_perf [--replicas N] [--runs K]
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
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
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const client::ResourceInfo& Res(const google::protobuf::Descriptor* d) {
  return client::SharedInformerFactory::ResourceOfMessage(d->full_name());
}

// utime + stime of a process, in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = all.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(all.substr(close + 2));
  std::string f;
  long utime = 0, stime = 0;
  for (int i = 3; fields >> f; ++i) {
    if (i == 14) utime = std::stol(f);
    if (i == 15) {
      stime = std::stol(f);
      break;
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A /proc/<pid>/status field in MiB (VmRSS, VmHWM).
double StatusMiB(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024.0;
  }
  return 0;
}

appsv1::Deployment MakeDeployment(int replicas, const std::string& image) {
  appsv1::Deployment d;
  d.mutable_metadata()->set_name("scale");
  d.mutable_metadata()->set_namespace_("default");
  d.mutable_spec()->set_replicas(replicas);
  (*d.mutable_spec()->mutable_selector()->mutable_matchlabels())["app"] = "scale";
  (*d.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels())["app"] = "scale";
  auto* c = d.mutable_spec()->mutable_template_()->mutable_spec()->add_containers();
  c->set_name("app");
  c->set_image(image);
  return d;
}

struct Run {
  double create_s = 0;
  double rollout_s = 0;
  double cpu_s = 0;
  double rss_mib = 0;
  double hwm_mib = 0;
};

Run RunOnce(int replicas) {
  testutil::ApiServerProcess server;
  Result<client::RestConfig> config = client::LoadKubeconfig(server.admin_kubeconfig());
  CK_CHECK(config.ok()) << config.status().ToString();
  config->qps = 5000;
  config->burst = 5000;
  auto api = client::RestApiClient::New(*config);
  CK_CHECK(api.ok()) << api.status().ToString();

  testutil::FakeKubelets::Options o;
  o.adopt_unscheduled = true;
  o.workers = 8;
  testutil::FakeKubelets kubelets(**api, {}, o);
  CK_CHECK(kubelets.Start().ok());

  testutil::Subprocess manager({testutil::BinDir() + "/ck-controller-manager",
                                "--kubeconfig=" + server.dir().File("pki/controller-manager.kubeconfig"),
                                "--root-ca-file=" + server.dir().File("pki/ca.crt"), "--secure-port=0",
                                "--bind-address=127.0.0.1", "--leader-elect=false", "--kube-api-qps=5000",
                                "--kube-api-burst=5000",
                                "--controllers=deployment-controller,replicaset-controller,garbage-collector-controller"});
  CK_CHECK(testutil::WaitUntil([&] { return manager.Stderr().find("Started controller") != std::string::npos; }, 60s))
      << manager.Stderr();
  std::this_thread::sleep_for(500ms);  // every controller's informers synced
  const double cpu0 = CpuSeconds(manager.pid());

  // Count pods from a watch (an informer), not by listing, so the measurement does not load the server.
  client::SharedInformerFactory factory(**api, RealClock::Get(), RealRandom::Get());
  auto pods = factory.ForKind<corev1::Pod>();
  auto deployments = factory.ForKind<appsv1::Deployment>();
  factory.Start();
  CK_CHECK(testutil::WaitUntil([&] { return pods.Informer().HasSynced() && deployments.Informer().HasSynced(); }, 30s));

  Run run;
  auto start = Clock::now();
  CK_CHECK((*api)->Create(Res(appsv1::Deployment::descriptor()), "default", MakeDeployment(replicas, "app:1")).ok());
  CK_CHECK(testutil::WaitUntil([&] { return static_cast<int>(pods.Lister().List().size()) >= replicas; }, 120s, 1ms))
      << "pods: " << pods.Lister().List().size() << "\n" << manager.Stderr();
  run.create_s = std::chrono::duration<double>(Clock::now() - start).count();
  CK_CHECK(testutil::WaitUntil(
      [&] {
        auto d = deployments.Lister().Get("default", "scale");
        return d.ok() && (*d)->status().availablereplicas() == replicas && (*d)->status().updatedreplicas() == replicas;
      },
      180s, 5ms))
      << manager.Stderr();

  // The rolling update: a new image, pods ready as they appear.
  auto current = deployments.Lister().Get("default", "scale");
  appsv1::Deployment next = **current;
  next.mutable_spec()->mutable_template_()->mutable_spec()->mutable_containers(0)->set_image("app:2");
  start = Clock::now();
  auto updated = (*api)->Update(Res(appsv1::Deployment::descriptor()), "default", next);
  CK_CHECK(updated.ok());
  // The generation of the new template: the informer may still hold the old object, whose
  // status already says "all updated" for the old generation.
  const int64_t generation = static_cast<const appsv1::Deployment&>(**updated).metadata().generation();
  CK_CHECK(generation > next.metadata().generation()) << "generation " << generation;
  CK_CHECK(testutil::WaitUntil(
      [&] {
        auto d = deployments.Lister().Get("default", "scale");
        if (!d.ok()) return false;
        const auto& st = (*d)->status();
        return st.observedgeneration() >= generation && st.updatedreplicas() == replicas &&
               st.availablereplicas() == replicas && st.replicas() == replicas;
      },
      300s, 5ms))
      << manager.Stderr();
  run.rollout_s = std::chrono::duration<double>(Clock::now() - start).count();
  run.cpu_s = CpuSeconds(manager.pid()) - cpu0;
  run.rss_mib = StatusMiB(manager.pid(), "VmRSS");
  run.hwm_mib = StatusMiB(manager.pid(), "VmHWM");
  factory.Shutdown();
  kubelets.Stop();
  manager.Signal(SIGTERM);
  (void)manager.Wait(20s);
  return run;
}

}  // namespace
}  // namespace ck

int main(int argc, char** argv) {
  int replicas = 1000, runs = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--replicas" && i + 1 < argc) {
      replicas = std::atoi(argv[++i]);
    } else if (a == "--runs" && i + 1 < argc) {
      runs = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "controller_perf: unknown argument %s (use --replicas N --runs K)\n", a.c_str());
      return 2;
    }
  }
  std::printf("%-28s %10s %10s %10s %10s %10s\n", "deployment", "create s", "rollout s", "cm cpu s", "cm rss", "cm peak");
  for (int r = 0; r < runs; ++r) {
    ck::Run run = ck::RunOnce(replicas);
    std::printf("%-28s %10.2f %10.2f %10.2f %8.0fMi %8.0fMi\n", (std::to_string(replicas) + " replicas").c_str(),
                run.create_s, run.rollout_s, run.cpu_s, run.rss_mib, run.hwm_mib);
    std::fflush(stdout);
  }
  std::printf("targets: create <= 2 s, rolling update <= 10 s (apply to all replicas updated and available)\n");
  return 0;
}
