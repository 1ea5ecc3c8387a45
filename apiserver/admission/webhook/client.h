// WebhookClient: sends one AdmissionReview to one webhook over HTTPS and returns its checked answer.
//
// Where: clientConfig.url, or clientConfig.service resolved like kube-apiserver's endpoint
// routing — the Service's port (default 443) names a port of the Service's EndpointSlices
// (label kubernetes.io/service-name), and one ready address is picked (round robin); the TLS
// server name is then "<service>.<namespace>.svc". The server certificate must chain to
// clientConfig.caBundle (system roots when empty). The request is `POST <path>?timeout=<n>s`.
// Timeout: timeoutSeconds bounds the connect, the TLS handshake, the send and the wait for the
// answer (each; common/net's HttpClient has no single deadline) — a webhook that accepts but never
// answers fails after timeoutSeconds.
// Connections are pooled per (address, server name, caBundle, timeout) and reused (keep-alive).
// Threading: Call() may run on many threads at once; the pool is guarded by a mutex.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <variant>

#include "apiserver/admission/admission.h"
#include "apiserver/admission/webhook/hook.h"
#include "apiserver/admission/webhook/review.h"

namespace ck::net {
class HttpClient;
}

namespace ck::apiserver::admission::webhook {

// Where a webhook is reached.
struct Endpoint {
  std::string host;         // address or DNS name to connect to
  uint16_t port = 443;
  std::string server_name;  // TLS SNI and certificate name
  std::string path;         // "/mutate" (with its query, if the url had one)
  std::string Url() const;  // "https://10.0.0.5:8443/mutate", for messages
};

// A failed call, before or without a usable answer. `reason` is upstream's wording after
// `failed calling webhook "<name>": `, e.g. `failed to call webhook: Post "https://...": context
// deadline exceeded`.
struct CallFailure {
  std::string reason;
};

class WebhookClient {
 public:
  explicit WebhookClient(const ObjectSource& source);
  ~WebhookClient();

  // Resolves where `hook` is served. Errors name the cause (`service "x" not found`,
  // `no endpoints available for service "x"`, `invalid url ...`).
  Result<Endpoint> Resolve(const Hook& hook);

  // POSTs `body` (an AdmissionReview) and verifies the answer against `uid`. A failure of any
  // kind (resolution, connect, TLS, timeout, non-2xx, malformed or mismatched answer) is returned
  // as a CallFailure; the caller applies failurePolicy.
  std::variant<ReviewResponse, CallFailure> Call(const Hook& hook, const std::string& uid, const std::string& body);

 private:
  std::shared_ptr<net::HttpClient> ClientFor(const Hook& hook, const Endpoint& endpoint);

  const ObjectSource& source_;
  std::atomic<uint64_t> next_endpoint_{0};
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<net::HttpClient>> clients_;  // guarded by mu_
};

}  // namespace ck::apiserver::admission::webhook
