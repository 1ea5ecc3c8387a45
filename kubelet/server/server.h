// KubeletServer: the kubelet's API on its HTTPS port (--secure-port, 10250), the routes the
// apiserver proxies pods/log, exec, attach and portforward to (upstream pkg/kubelet/server):
//
//   GET  /containerLogs/{ns}/{pod}/{container}  follow, tailLines, sinceSeconds, sinceTime,
//                                               timestamps, previous, limitBytes
//   GET|POST /exec/{ns}/{pod}[/{uid}]/{container}?command=...&stdin&stdout&stderr&tty
//   GET|POST /attach/{ns}/{pod}[/{uid}]/{container}
//   GET|POST /portForward/{ns}/{pod}[/{uid}]?port=...
//   GET  /pods                                   the pods this node runs (a PodList)
//   GET  /metrics                                the kubelet_* and process metrics (nodes/metrics)
// Upgrades: WebSocket (v5/v4.channel.k8s.io; SPDY/3.1+portforward.k8s.io tunnelled) or SPDY/3.1
// (X-Stream-Protocol-Version), codecs in kubelet/streaming. Every request is authenticated and
// authorized by KubeletAuth (client certificate or TokenReview, then SubjectAccessReview).
//
// Main loop in five lines, per request (one thread each; the I/O thread never blocks):
//   1. authenticate and authorize, 2. find the pod and container (runtime statuses),
//   3. logs: stream the CRI log (kubelet/logs) until done or, with follow, the container exits,
//   4. exec/attach: upgrade, then pump the protocol session <-> the StreamingProcess fds,
//   5. port-forward: upgrade, then pump each stream pair <-> a TCP connection to podIP:port.
// Threading: Register on the daemon's main thread; Stop ends every session and joins.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"
#include "common/client/api_client.h"
#include "common/daemon/daemon.h"
#include "kubelet/runtime/container_runtime.h"
#include "kubelet/server/auth.h"

namespace ck::kubelet {

struct KubeletServerDeps {
  ContainerRuntime* runtime = nullptr;
  client::ApiClient* api = nullptr;  // TokenReview and SubjectAccessReview
  std::string node_name;
  Clock* clock = nullptr;
  // The pods this node runs (apiserver pods and static pods), for lookups and /pods.
  std::function<std::vector<std::shared_ptr<const k8s::io::api::core::v1::Pod>>()> pods;
};

class KubeletServer {
 public:
  explicit KubeletServer(KubeletServerDeps deps);
  ~KubeletServer();  // Stop()

  // Adds the routes (and the kubelet_* metrics) to the daemon's server.
  void Register(daemon::Context& context);
  // Ends every open session (running execs are killed) and waits for their threads.
  void Stop();

  // For tests and the daemon: serves one request (called on the I/O thread; returns at once).
  void Handle(net::Request request, std::shared_ptr<net::ResponseWriter> writer);

 private:
  struct Target;
  void Serve(const net::Request& request, const std::shared_ptr<net::ResponseWriter>& writer);
  void ServeLogs(const Target& t, const net::Request& request, const std::shared_ptr<net::ResponseWriter>& writer);
  void ServeRemoteCommand(const Target& t, const net::Request& request,
                          const std::shared_ptr<net::ResponseWriter>& writer);
  void ServePortForward(const Target& t, const net::Request& request,
                        const std::shared_ptr<net::ResponseWriter>& writer);
  void ServePods(const std::shared_ptr<net::ResponseWriter>& writer);
  std::vector<std::shared_ptr<const k8s::io::api::core::v1::Pod>> Pods() const;

  KubeletServerDeps deps_;
  KubeletAuth auth_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable idle_;
  int active_ = 0;  // request threads running; guarded by mu_
  // Wakes the pump of each open exec/attach/port-forward session (Stop ends them at once).
  std::map<uint64_t, std::function<void()>> wakers_;  // guarded by mu_
  uint64_t next_waker_ = 0;                           // guarded by mu_
  uint64_t AddWaker(std::function<void()> wake);
  void RemoveWaker(uint64_t id);
  metrics::Family<metrics::Counter>* requests_ = nullptr;
  metrics::Registry* metrics_ = nullptr;
};

}  // namespace ck::kubelet
