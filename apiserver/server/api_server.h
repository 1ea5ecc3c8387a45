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
#include <functional>
#include <condition_variable>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "apiserver/admission/admission.h"
#include "apiserver/allocation/allocation.h"
#include "apiserver/auth/auth.h"
#include "apiserver/discovery/discovery.h"
#include "apiserver/discovery/openapi.h"
#include "apiserver/event_ttl.h"
#include "apiserver/registry.h"
#include "apiserver/server/kubelet_proxy.h"
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
  // upstream --event-ttl: Events are deleted this long after they last occurred (event_ttl.h);
  // zero keeps them.
  Duration event_ttl = std::chrono::hours(1);
  // How pods/log, exec, attach and portforward reach a node's kubelet: the client TLS context
  // (--kubelet-client-certificate/-key, --kubelet-certificate-authority); nullptr answers 503.
  std::shared_ptr<net::ClientTlsContext> kubelet_tls;
  std::vector<std::string> kubelet_preferred_address_types = {"Hostname", "InternalDNS", "InternalIP", "ExternalDNS",
                                                              "ExternalIP"};
};

// The security steps main.cc plugs in (apiserver/auth, rbac, node, admission, audit); each may be
// empty. Plain functions keep the REST layer free of how each step is built.
struct ApiServerSecurity {
  // Impersonate-* headers: the user the request acts as (the requester when there are none);
  // Forbidden when the requester may not impersonate.
  std::function<Result<UserInfo>(const UserInfo& requester, const net::Headers& headers)> impersonate;
  // Admission of every write (mutating built-ins and webhooks, validating built-ins and webhooks).
  const admission::Chain* admission = nullptr;
  // Role and binding writes: Forbidden unless the user holds what the object grants (or may
  // escalate / bind), upstream's RBAC escalation prevention.
  // `old` is null on create.
  std::function<Status(const UserInfo& user, const ResourceInfo& r, const Message& object, const Message* old,
                       const std::string& ns)>
      check_escalation;
  // SelfSubjectRulesReview: the rules `user` holds in `ns`.
  std::function<void(const UserInfo& user, const std::string& ns, Message* subject_rules_review_status)> rules_for;
  // TokenReview: the token's user and the audiences it matched; Unauthorized when it is not valid.
  std::function<Result<UserInfo>(std::string_view token, const std::vector<std::string>& audiences,
                                 std::vector<std::string>* matched)>
      review_token;
  // TokenRequest (serviceaccounts/<name>/token): fills the request's status from its spec for the
  // ServiceAccount `service_account`; Invalid / NotFound like upstream.
  std::function<Status(const Message& service_account, Message* token_request)> issue_token;
  // One call per finished request (the audit log).
  std::function<void(const struct AuditRecord&)> audit;
};

// What the audit log and the -v=2 request line are told about one finished request.
struct AuditRecord {
  const net::Request* request = nullptr;
  const RequestInfo* info = nullptr;
  const ResourceInfo* resource = nullptr;
  const UserInfo* user = nullptr;       // who the request acted as
  const UserInfo* requester = nullptr;  // who sent it, when impersonating (else null)
  std::string authorization_decision;   // "allow" / "forbid" / "" (not reached)
  std::string authorization_reason;
  const admission::Context* admission = nullptr;
  int code = 0;
  const Status* failure = nullptr;  // the error answered, when code >= 400
  std::string_view response_body;  // JSON (objects, Status), empty for streams
  WallTime received;
  WallTime finished;
};

class ApiServer {
 public:
  ApiServer(ApiServerOptions options, store::Store* store, const Authenticator* authn, const Authorizer* authz,
            Clock* clock, Random* random, metrics::Registry* metrics);
  ~ApiServer();  // Stop()s

  Registry& registry() { return *registry_; }
  WatchCache& cache() { return *cache_; }

  // Before Start().
  void SetSecurity(ApiServerSecurity security) { security_ = std::move(security); }
  // Keeps `sink` told of every object under `prefix` (ADDED for what exists at Start(), then each
  // change), e.g. the RBAC and Node authorizers' indexes. Before Start().
  void AddFeed(std::string prefix, WatchSink sink) { feeds_.push_back({std::move(prefix), std::move(sink)}); }
  // Objects created at first start besides the namespaces and the `kubernetes` Service (the default
  // RBAC policy, the system PriorityClasses); existing objects are left as they are. Before Start().
  void AddBootstrapObjects(std::vector<std::unique_ptr<Message>> objects) {
    for (auto& o : objects) bootstrap_objects_.push_back(std::move(o));
  }

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
  void RequestToken(Call& c);
  void ProxyToKubelet(Call& c);  // pods/log|exec|attach|portforward, nodes/proxy
  void RelayToKubelet(Call& c, KubeletRequest request);
  class RequestAdmission;
  // Admission of a subresource's own object (Binding, Eviction, TokenRequest): CREATE.
  Status AdmitSubresourceObject(Call& c, Message* object);
  void Finish(Call& c, int status, std::string body, std::string content_type = "application/json");
  void Fail(Call& c, const Status& s, const ErrorDetails* details = nullptr);
  // The request line, metrics and audit record of a finished request.
  void Done(Call& c, int code, std::string_view body, int64_t revision);
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
  std::unique_ptr<EventTtl> event_ttl_;
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

  ApiServerSecurity security_;
  std::vector<std::pair<std::string, WatchSink>> feeds_;
  std::vector<std::unique_ptr<CacheWatch>> feed_watches_;
  std::vector<std::unique_ptr<Message>> bootstrap_objects_;
};

}  // namespace ck::apiserver
