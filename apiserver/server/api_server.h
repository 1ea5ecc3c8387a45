// ApiServer: the Kubernetes REST API of ck-apiserver, between the HTTPS server and the
// registry / watch cache. One request goes through
//
//   authenticate -> non-resource paths (/version, discovery, /openapi/v3)
//   -> request info -> authorize -> resource lookup -> the verb's handler -> Status on error
//
// Handlers run on a worker pool (a store write blocks until it is durable); a watch registers a
// cache watch whose sink writes each event to the chunked response, and a reaper thread ends
// watches whose client left, whose timeoutSeconds passed or whose reader fell too far behind.
// Responses are JSON (kubectl accepts JSON for every request); request bodies may be JSON, YAML
// or the Kubernetes protobuf envelope. Tables are served for `as=Table` Accept headers.
// Threading: Serve() is called on I/O threads and never blocks; everything else is internal.
#pragma once

#include <atomic>
#include <condition_variable>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "apiserver/allocation/allocation.h"
#include "apiserver/auth/auth.h"
#include "apiserver/discovery/discovery.h"
#include "apiserver/discovery/openapi.h"
#include "apiserver/registry.h"
#include "apiserver/server/wire.h"
#include "apiserver/watch_cache.h"
#include "common/base/clock.h"
#include "common/base/random.h"
#include "common/base/thread.h"
#include "common/metrics/metrics.h"
#include "common/net/http_server.h"
#include "store/store.h"

namespace ck::apiserver {

struct ApiServerOptions {
  // The address and port clients reach this server at (the `kubernetes` Endpoints, discovery's
  // serverAddressByClientCIDRs).
  std::string advertise_address = "127.0.0.1";
  int secure_port = 6443;
  std::string service_cluster_ip_range = "10.96.0.0/12";
  std::string service_node_port_range = "30000-32767";
  // upstream --max-requests-inflight / --max-mutating-requests-inflight: more at once get 429.
  int max_requests_inflight = 400;
  int max_mutating_requests_inflight = 200;
  // Watches one user may hold open at once (429 beyond).
  int max_watches_per_user = 2000;
  // A watch whose client has this many bytes not yet read is ended (the client re-lists).
  size_t watch_max_buffered_bytes = 16 << 20;
  int worker_threads = 16;
  // Events the watch cache keeps for watches that resume from an older resourceVersion (one
  // history for all resources; upstream's --default-watch-cache-size is per resource).
  size_t watch_cache_size = 100'000;
  Duration bookmark_interval = std::chrono::seconds(60);
};

class ApiServer {
 public:
  ApiServer(ApiServerOptions options, store::Store* store, const Authenticator* authn, const Authorizer* authz,
            Clock* clock, Random* random, metrics::Registry* metrics);
  ~ApiServer();  // Stop()s

  Registry& registry() { return *registry_; }
  WatchCache& cache() { return *cache_; }

  // Repairs the Service allocations, loads the watch cache, builds discovery and OpenAPI, and
  // creates the namespaces default, kube-system, kube-public, kube-node-lease and the
  // `kubernetes` Service and Endpoints. BadRequest for a bad service range.
  Status Start();
  // Ends every watch and waits for queued requests.
  void Stop();

  // The HTTP handler for everything that is not a health or metrics path.
  void Serve(net::Request request, std::shared_ptr<net::ResponseWriter> writer);

 private:
  struct Call;
  struct ActiveWatch;
  void Handle(Call& c);
  void HandleNonResource(Call& c);
  void HandleResource(Call& c);
  void Get(Call& c);
  void List(Call& c);
  void Watch(Call& c);
  void Create(Call& c);
  void Update(Call& c);
  void Patch(Call& c);
  void Delete(Call& c);
  void DeleteCollection(Call& c);
  void Scale(Call& c);
  void Bind(Call& c);
  void Evict(Call& c);
  void Review(Call& c);
  void Finish(Call& c, int status, std::string body, std::string content_type = "application/json");
  void Fail(Call& c, const Status& s, const ErrorDetails* details = nullptr);
  Status Bootstrap();
  void ReaperLoop();
  void UpdateStorageGauges();

  ApiServerOptions options_;
  store::Store* store_;
  const Authenticator* authn_;
  const Authorizer* authz_;
  Clock* clock_;
  Random* random_;
  metrics::Registry* metrics_;
  RequestRecorder recorder_;
  metrics::Family<metrics::Gauge>* inflight_;
  metrics::Family<metrics::Gauge>* longrunning_;
  metrics::Family<metrics::Counter>* watch_events_;
  metrics::Family<metrics::Gauge>* storage_objects_;
  std::unique_ptr<WatchCache> cache_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<allocation::ServiceAllocator> allocator_;
  std::optional<discovery::DiscoveryDocuments> discovery_;
  std::optional<discovery::OpenApiV3> openapi_;
  std::unique_ptr<ThreadPool> workers_;

  std::atomic<int> inflight_readonly_{0}, inflight_mutating_{0};
  std::mutex watches_mu_;
  std::condition_variable watches_cv_;
  std::list<std::shared_ptr<ActiveWatch>> watches_;  // guarded by watches_mu_
  std::map<std::string, int> watches_per_user_;       // guarded by watches_mu_
  bool stopping_ = false;                             // guarded by watches_mu_
  std::thread reaper_;
};

}  // namespace ck::apiserver
