// KubeletAuth: who may call the kubelet's API and what they may do, delegated to the apiserver
// as upstream's kubelet does (--authentication-token-webhook, --authorization-mode=Webhook).
//
// - Authentication: a client certificate verified against --client-ca-file (user = CN, groups =
//   O), else a bearer token checked by a TokenReview (results cached 2 min, upstream's
//   --authentication-token-webhook-cache-ttl). Neither: 401.
// - Authorization: a SubjectAccessReview for verb (from the HTTP method) on nodes/<subresource>
//   named after this node; /stats -> stats, /metrics -> metrics, /logs -> log, /spec -> spec,
//   everything else (exec, attach, portForward, containerLogs, pods) -> proxy. Allowed answers
//   are cached 5 min, denials 30 s (upstream's webhook cache TTLs).
// Threading: safe from any thread; Authenticate/Authorize block on the apiserver on a cache miss.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/base/status.h"
#include "common/client/api_client.h"
#include "common/net/http.h"

namespace ck::kubelet {

struct KubeletUser {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
};

class KubeletAuth {
 public:
  KubeletAuth(client::ApiClient* api, std::string node_name, Clock* clock);

  // Unauthorized("Unauthorized") when the request carries no usable credentials.
  Result<KubeletUser> Authenticate(const net::Request& request);
  // Forbidden with upstream's text: "Forbidden (user=U, verb=V, resource=nodes, subresource=S)".
  Status Authorize(const KubeletUser& user, const net::Request& request);

  static std::string VerbOf(std::string_view method);
  static std::string SubresourceOf(std::string_view path);

 private:
  struct CachedUser {
    MonoTime expires;
    bool ok = false;
    KubeletUser user;
  };
  struct CachedDecision {
    MonoTime expires;
    bool allowed = false;
  };

  client::ApiClient* api_;
  const std::string node_name_;
  Clock* clock_;
  std::mutex mu_;
  std::map<std::string, CachedUser> tokens_;        // guarded by mu_
  std::map<std::string, CachedDecision> decisions_;  // guarded by mu_
};

}  // namespace ck::kubelet
