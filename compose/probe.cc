// HTTPS readiness checks (see probe.h).

#include "compose/probe.h"

#include <yaml-cpp/yaml.h>

#include "common/pki/pki.h"
#include "compose/processes.h"

namespace ck::launcher {

Result<std::unique_ptr<Prober>> Prober::Create(const std::string& admin_kubeconfig, int apiserver_port,
                                               std::chrono::milliseconds timeout) {
  std::optional<std::string> yaml = ReadWholeFile(admin_kubeconfig);
  if (!yaml) return NotFound(admin_kubeconfig + ": cannot be read");
  CK_ASSIGN_OR_RETURN(pki::KubeconfigData kc, pki::ParseKubeconfig(*yaml));
  net::TlsClientConfig tls;
  tls.ca_pem = kc.ca_pem;
  tls.cert_pem = kc.client.cert_pem;
  tls.key_pem = kc.client.key_pem;
  return std::unique_ptr<Prober>(new Prober(std::move(tls), apiserver_port, timeout));
}

net::HttpClient& Prober::ClientFor(const std::string& host, int port) {
  std::string key = host + ":" + std::to_string(port);
  auto it = clients_.find(key);
  if (it == clients_.end()) {
    net::HttpClientOptions o;
    o.host = host;
    o.port = static_cast<uint16_t>(port);
    o.tls_config = tls_;
    o.timeout = timeout_;
    o.max_idle_connections = 2;
    it = clients_.emplace(key, std::make_unique<net::HttpClient>(o)).first;
  }
  return *it->second;
}

Result<ProbeResponse> Prober::Get(const std::string& host, int port, const std::string& target) {
  net::ClientRequest req;
  req.target = target;
  CK_ASSIGN_OR_RETURN(net::Response r, ClientFor(host, port).Do(req));
  return ProbeResponse{r.status, r.body};
}

Result<std::map<std::string, bool>> ParseNodeReadiness(const std::string& json) {
  std::map<std::string, bool> ready;
  try {
    YAML::Node list = YAML::Load(json);
    for (const YAML::Node& node : list["items"]) {
      std::string name = node["metadata"]["name"].as<std::string>("");
      bool is_ready = false;
      for (const YAML::Node& c : node["status"]["conditions"]) {
        if (c["type"].as<std::string>("") == "Ready") is_ready = c["status"].as<std::string>("") == "True";
      }
      if (!name.empty()) ready[name] = is_ready;
    }
  } catch (const YAML::Exception& e) {
    return Invalid(std::string("NodeList does not parse: ") + e.what());
  }
  return ready;
}

Result<std::map<std::string, bool>> Prober::NodeReadiness() {
  CK_ASSIGN_OR_RETURN(ProbeResponse r, Get("127.0.0.1", apiserver_port_, "/api/v1/nodes"));
  if (r.status != 200) return Unavailable("GET /api/v1/nodes: HTTP " + std::to_string(r.status));
  return ParseNodeReadiness(r.body);
}

bool Prober::Ready(const ComponentSpec& spec) {
  if (spec.readiness == Readiness::kNodeReady) {
    Result<std::map<std::string, bool>> nodes = NodeReadiness();
    if (!nodes.ok()) return false;
    return NodesReady(spec, *nodes);
  }
  Result<ProbeResponse> r = Get(spec.host, spec.port, spec.health_path);
  return r.ok() && r->status == 200;
}

}  // namespace ck::launcher
