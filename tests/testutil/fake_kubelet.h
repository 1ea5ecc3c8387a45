// FakeKubelets: the node side of the cluster for controller integration tests, in the test
// process, talking to a real ck-apiserver through common/client. For each of its nodes it
// registers the Node (Ready, capacity, labels, taints), renews the node's Lease in
// kube-node-lease, and plays the kubelet for the pods bound to it: a new pod becomes Running and
// Ready (with a pod IP) after `ready_delay`, or ends Succeeded/Failed as `outcome` decides, and a
// pod with a deletionTimestamp is confirmed deleted (grace period 0) as a kubelet does after its
// containers stopped. Nothing runs: this stands in for ck-kubelet --runtime=fake until it exists.
// Threading: the informer thread and `workers` worker threads; the public methods are safe from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "common/client/api_client.h"
#include "common/client/cache/informer_factory.h"

namespace ck::testutil {

struct FakeNode {
  std::string name;
  std::map<std::string, std::string> labels;
  // {key, value, effect}
  std::vector<std::array<std::string, 3>> taints;
  std::string cpu = "8";
  std::string memory = "32Gi";
  std::string pods = "250";
};

class FakeKubelets {
 public:
  // What happens to a pod once it is bound to one of the nodes.
  enum class Outcome { kRunReady, kRunNotReady, kSucceed, kFail, kStayPending };

  struct Options {
    std::chrono::milliseconds ready_delay{0};
    std::chrono::milliseconds lease_renew_interval{1000};
    // Also play the kubelet for pods no scheduler has bound (benchmarks of controllers alone:
    // pods go Running and Ready "as they appear", kwok-style).
    bool adopt_unscheduled = false;
    // Threads writing pod statuses (more for benchmarks that start thousands of pods).
    int workers = 1;
    // Decides a pod's fate; default: Running and Ready.
    std::function<Outcome(const k8s::io::api::core::v1::Pod&)> outcome;
  };

  FakeKubelets(client::ApiClient& api, std::vector<FakeNode> nodes, Options options);
  ~FakeKubelets();  // Stop()

  // Registers the nodes and starts the watchers; returns once the pod informer has synced.
  Status Start();
  void Stop();

  // Stops heartbeats (node status and lease) for `node`: the node looks dead to the controllers.
  void Silence(const std::string& node);
  // Marks a pod not ready (readiness probe failing) or ready again.
  Status SetReady(const std::string& ns, const std::string& name, bool ready);

  int64_t pods_started() const { return started_.load(); }

 private:
  bool Mine(const k8s::io::api::core::v1::Pod& pod) const;
  Status RegisterNode(const FakeNode& node);
  Status Heartbeat(const std::string& node);
  void Enqueue(const std::shared_ptr<const k8s::io::api::core::v1::Pod>& pod);
  void Work();
  void Handle(const std::string& key);
  void LeaseLoop();

  client::ApiClient& api_;
  const std::vector<FakeNode> nodes_;
  const Options options_;
  std::set<std::string> node_names_;
  client::SharedInformerFactory factory_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> started_{0};
  std::atomic<uint32_t> next_ip_{0};

  std::mutex mu_;
  std::condition_variable cv_;        // the pod worker's
  std::condition_variable lease_cv_;  // the lease loop's
  std::multimap<std::chrono::steady_clock::time_point, std::string> due_;  // guarded by mu_
  std::set<std::string> silenced_;                                          // guarded by mu_
  std::set<std::string> done_;  // guarded by mu_: pods already given their outcome
  std::vector<std::thread> workers_;
  std::thread leases_;
};

}  // namespace ck::testutil
