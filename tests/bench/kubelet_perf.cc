// kubelet_perf: figures of a running cluster (started by kubelet.bench.sh with `ck up`), through
// the API with the admin kubeconfig.
//   --mode=latency  creates --pods pods (a `sleep` container, process runtime) at --rate pods/s
//                   and prints pod create -> Running (as a watch sees the status) p50/p99/max.
//   --mode=fill     creates --pods pods spread by the scheduler and waits until all are Running
//                   (for the idle CPU/RSS figures the script then reads from /proc).
//   --mode=scale    applies --deployments Deployments of --replicas each (fake runtime) and prints
//                   the time until every pod is Running.
// Usage: kubelet_perf --kubeconfig=F --mode=latency|fill|scale [--pods N] [--rate R]
//                     [--deployments D --replicas N] [--namespace NS]
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/client/cache/informer_factory.h"
#include "common/client/rest/config.h"
#include "common/client/rest/rest_api_client.h"

namespace ck {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
namespace appsv1 = ::k8s::io::api::apps::v1;
using Steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

const client::ResourceInfo& Res(const google::protobuf::Descriptor* d) {
  return client::SharedInformerFactory::ResourceOfMessage(d->full_name());
}

struct Flags {
  std::string kubeconfig;
  std::string mode = "latency";
  std::string ns = "bench";
  int pods = 200;
  double rate = 20;
  int deployments = 30;
  int replicas = 1000;
  std::string sleep_bin = "/bin/sleep";
};

bool Flag(const char* arg, const char* name, std::string* out) {
  size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  *out = arg + n + 1;
  return true;
}

corev1::Pod SleepPod(const Flags& f, const std::string& name) {
  corev1::Pod pod;
  pod.mutable_metadata()->set_name(name);
  (*pod.mutable_metadata()->mutable_labels())["app"] = "bench";
  auto* c = pod.mutable_spec()->add_containers();
  c->set_name("sleep");
  c->set_image("busybox");
  c->add_command(f.sleep_bin);
  c->add_command("3600");
  pod.mutable_spec()->set_terminationgraceperiodseconds(1);
  return pod;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// Watches pods of `ns` and calls `on_running(name)` the first time each is seen Running.
class RunningWatcher {
 public:
  RunningWatcher(client::ApiClient& api, const std::string& ns, std::function<void(const std::string&)> on_running)
      : api_(api), ns_(ns), on_running_(std::move(on_running)) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~RunningWatcher() {
    stop_ = true;
    {
      std::lock_guard lock(mu_);
      if (stream_) stream_->Stop();
    }
    thread_.join();
  }
  int64_t running() const { return count_.load(); }

 private:
  void Loop() {
    std::string rv;
    while (!stop_) {
      if (rv.empty()) {
        auto list = api_.List(Res(corev1::Pod::descriptor()), ns_, {});
        if (!list.ok()) continue;
        for (const auto& o : list->items) Seen(*client::As<corev1::Pod>(o));
        rv = list->resource_version;
      }
      client::ListOptions o;
      o.resource_version = rv;
      o.allow_watch_bookmarks = true;
      auto w = api_.Watch(Res(corev1::Pod::descriptor()), ns_, o);
      if (!w.ok()) continue;
      {
        std::lock_guard lock(mu_);
        stream_ = std::move(*w);
      }
      while (!stop_) {
        auto e = stream_->Next();
        if (!e.ok()) {
          if (e.status().code() == Code::kGone) rv.clear();
          break;
        }
        if (!e->has_value()) break;
        auto pod = client::As<corev1::Pod>((*e)->object);
        if (pod) {
          rv = pod->metadata().resourceversion();
          if ((*e)->type != client::WatchEvent::Type::kBookmark) Seen(*pod);
        }
      }
      std::lock_guard lock(mu_);
      stream_.reset();
    }
  }
  void Seen(const corev1::Pod& pod) {
    if (pod.status().phase() != "Running") return;
    std::lock_guard lock(seen_mu_);
    if (seen_.insert(pod.metadata().name()).second) {
      ++count_;
      on_running_(pod.metadata().name());
    }
  }

  client::ApiClient& api_;
  std::string ns_;
  std::function<void(const std::string&)> on_running_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> count_{0};
  std::mutex mu_;
  std::unique_ptr<client::WatchStream> stream_;
  std::mutex seen_mu_;
  std::set<std::string> seen_;
  std::thread thread_;
};

void EnsureNamespace(client::ApiClient& api, const std::string& ns) {
  corev1::Namespace n;
  n.mutable_metadata()->set_name(ns);
  (void)api.Create(Res(corev1::Namespace::descriptor()), "", n);
  // Pods are admitted once the ServiceAccount controller made the namespace's `default` account.
  auto deadline = Steady::now() + 30s;
  while (!api.Get(Res(corev1::ServiceAccount::descriptor()), ns, "default").ok() && Steady::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
}

int Latency(client::ApiClient& api, const Flags& f) {
  EnsureNamespace(api, f.ns);
  std::mutex mu;
  std::map<std::string, Steady::time_point> sent;
  std::vector<double> ms;
  RunningWatcher watcher(api, f.ns, [&](const std::string& name) {
    auto now = Steady::now();
    std::lock_guard lock(mu);
    auto it = sent.find(name);
    if (it != sent.end()) ms.push_back(std::chrono::duration<double, std::milli>(now - it->second).count());
  });
  auto start = Steady::now();
  auto period = std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(1.0 / f.rate));
  for (int i = 0; i < f.pods; ++i) {
    std::this_thread::sleep_until(start + period * i);
    std::string name = "lat-" + std::to_string(i);
    {
      std::lock_guard lock(mu);
      sent[name] = Steady::now();
    }
    auto created = api.Create(Res(corev1::Pod::descriptor()), f.ns, SleepPod(f, name));
    if (!created.ok()) {
      std::fprintf(stderr, "create %s: %s\n", name.c_str(), created.status().message().c_str());
      return 1;
    }
  }
  auto deadline = Steady::now() + 120s;
  while (watcher.running() < f.pods && Steady::now() < deadline) std::this_thread::sleep_for(50ms);
  std::lock_guard lock(mu);
  std::printf("%-44s %10s\n", "pod create -> Running (process runtime)", "");
  std::printf("  pods %d at %.0f/s, Running: %zu\n", f.pods, f.rate, ms.size());
  std::printf("  p50 %.0f ms   p99 %.0f ms   max %.0f ms   (target p99 <= 300 ms)\n", Percentile(ms, 0.5),
              Percentile(ms, 0.99), Percentile(ms, 1.0));
  return ms.size() == static_cast<size_t>(f.pods) ? 0 : 1;
}

int Fill(client::ApiClient& api, const Flags& f) {
  EnsureNamespace(api, f.ns);
  RunningWatcher watcher(api, f.ns, [](const std::string&) {});
  auto start = Steady::now();
  std::vector<std::thread> workers;
  std::atomic<int> next{0};
  for (int t = 0; t < 8; ++t) {
    workers.emplace_back([&] {
      for (int i = next++; i < f.pods; i = next++) {
        (void)api.Create(Res(corev1::Pod::descriptor()), f.ns, SleepPod(f, "fill-" + std::to_string(i)));
      }
    });
  }
  for (auto& w : workers) w.join();
  auto deadline = Steady::now() + 300s;
  while (watcher.running() < f.pods && Steady::now() < deadline) std::this_thread::sleep_for(100ms);
  std::printf("  %lld of %d pods Running after %.1f s\n", static_cast<long long>(watcher.running()), f.pods,
              std::chrono::duration<double>(Steady::now() - start).count());
  return watcher.running() >= f.pods ? 0 : 1;
}

int Scale(client::ApiClient& api, const Flags& f) {
  EnsureNamespace(api, f.ns);
  RunningWatcher watcher(api, f.ns, [](const std::string&) {});
  const int64_t total = static_cast<int64_t>(f.deployments) * f.replicas;
  auto start = Steady::now();
  for (int d = 0; d < f.deployments; ++d) {
    appsv1::Deployment dep;
    dep.mutable_metadata()->set_name("scale-" + std::to_string(d));
    dep.mutable_spec()->set_replicas(f.replicas);
    (*dep.mutable_spec()->mutable_selector()->mutable_matchlabels())["app"] = "scale-" + std::to_string(d);
    auto* t = dep.mutable_spec()->mutable_template_();
    (*t->mutable_metadata()->mutable_labels())["app"] = "scale-" + std::to_string(d);
    auto* c = t->mutable_spec()->add_containers();
    c->set_name("app");
    c->set_image("registry.example/app:1");
    c->add_command("/bin/true");
    auto created = api.Create(Res(appsv1::Deployment::descriptor()), f.ns, dep);
    if (!created.ok()) {
      std::fprintf(stderr, "create deployment: %s\n", created.status().message().c_str());
      return 1;
    }
  }
  auto deadline = Steady::now() + 1200s;
  int64_t last = -1;
  auto last_print = Steady::now();
  while (watcher.running() < total && Steady::now() < deadline) {
    std::this_thread::sleep_for(200ms);
    if (Steady::now() - last_print > 10s && watcher.running() != last) {
      last = watcher.running();
      last_print = Steady::now();
      std::fprintf(stderr, "  ... %lld Running after %.0f s\n", static_cast<long long>(last),
                   std::chrono::duration<double>(Steady::now() - start).count());
    }
  }
  double secs = std::chrono::duration<double>(Steady::now() - start).count();
  std::printf("  %lld of %lld pods Running after %.1f s (%d Deployments x %d)\n",
              static_cast<long long>(watcher.running()), static_cast<long long>(total), secs, f.deployments,
              f.replicas);
  return watcher.running() >= total ? 0 : 1;
}

}  // namespace
}  // namespace ck

int main(int argc, char** argv) {
  ck::Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string v;
    if (ck::Flag(argv[i], "--kubeconfig", &f.kubeconfig) || ck::Flag(argv[i], "--mode", &f.mode) ||
        ck::Flag(argv[i], "--namespace", &f.ns) || ck::Flag(argv[i], "--sleep", &f.sleep_bin)) {
      continue;
    } else if (ck::Flag(argv[i], "--pods", &v)) {
      f.pods = std::stoi(v);
    } else if (ck::Flag(argv[i], "--rate", &v)) {
      f.rate = std::stod(v);
    } else if (ck::Flag(argv[i], "--deployments", &v)) {
      f.deployments = std::stoi(v);
    } else if (ck::Flag(argv[i], "--replicas", &v)) {
      f.replicas = std::stoi(v);
    } else {
      std::fprintf(stderr, "kubelet_perf: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  auto config = ck::client::LoadKubeconfig(f.kubeconfig);
  if (!config.ok()) {
    std::fprintf(stderr, "kubelet_perf: %s\n", config.status().message().c_str());
    return 2;
  }
  config->qps = 5000;
  config->burst = 5000;
  auto api = ck::client::RestApiClient::New(*config);
  if (!api.ok()) {
    std::fprintf(stderr, "kubelet_perf: %s\n", api.status().message().c_str());
    return 2;
  }
  if (f.mode == "latency") return ck::Latency(**api, f);
  if (f.mode == "fill") return ck::Fill(**api, f);
  if (f.mode == "scale") return ck::Scale(**api, f);
  std::fprintf(stderr, "kubelet_perf: --mode must be latency, fill or scale\n");
  return 2;
}
