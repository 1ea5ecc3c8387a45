// How the launcher asks a daemon whether it is ready: HTTPS GETs to its health endpoints,
// verified with the cluster CA and sent with the admin client certificate, and the Nodes' Ready
// condition read from the apiserver (GET /api/v1/nodes). Used by `ck up`, `ck start` and
// `ck status`.
// Threading: one Prober per thread (it caches one connection pool per host:port).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "common/base/status.h"
#include "common/net/http_client.h"
#include "compose/cluster_plan.h"

namespace ck::launcher {

struct ProbeResponse {
  int status = 0;
  std::string body;
};

class Prober {
 public:
  // Reads the CA and the admin credentials from `admin_kubeconfig`. Fails (Invalid/NotFound)
  // when it cannot be read.
  static Result<std::unique_ptr<Prober>> Create(const std::string& admin_kubeconfig, int apiserver_port,
                                                std::chrono::milliseconds timeout);

  // GET https://host:port/target.
  Result<ProbeResponse> Get(const std::string& host, int port, const std::string& target);
  // Node name -> Ready condition is True, for every Node the apiserver has.
  Result<std::map<std::string, bool>> NodeReadiness();
  // One check of `spec` as ComponentSpec::readiness says (a kNodeReady check lists the Nodes).
  bool Ready(const ComponentSpec& spec);

 private:
  Prober(net::TlsClientConfig tls, int apiserver_port, std::chrono::milliseconds timeout)
      : tls_(std::move(tls)), apiserver_port_(apiserver_port), timeout_(timeout) {}
  net::HttpClient& ClientFor(const std::string& host, int port);

  net::TlsClientConfig tls_;
  int apiserver_port_;
  std::chrono::milliseconds timeout_;
  std::map<std::string, std::unique_ptr<net::HttpClient>> clients_;
};

// Node name -> Ready=True from the JSON of a NodeList. Invalid when it does not parse.
Result<std::map<std::string, bool>> ParseNodeReadiness(const std::string& node_list_json);

}  // namespace ck::launcher
