#include "apiserver/server/kubelet_proxy.h"

#include "common/base/strings.h"

namespace ck::apiserver {

namespace v1 = k8s::io::api::core::v1;

namespace {

constexpr char kDefaultContainerAnnotation[] = "kubectl.kubernetes.io/default-container";

std::string NamesOf(const google::protobuf::RepeatedPtrField<v1::Container>& containers) {
  std::string out;
  for (const v1::Container& c : containers) (out.empty() ? out : out += " ") += c.name();
  return out;
}

template <typename Containers>
bool Has(const Containers& containers, std::string_view name) {
  for (const auto& c : containers) {
    if (c.name() == name) return true;
  }
  return false;
}

bool HasEphemeral(const google::protobuf::RepeatedPtrField<v1::EphemeralContainer>& containers, std::string_view name) {
  for (const auto& c : containers) {
    if (c.ephemeralcontainercommon().name() == name) return true;
  }
  return false;
}

// The headers an upgrade needs on the second hop; credentials and impersonation never go on.
bool ForwardedHeader(std::string_view name) {
  static constexpr std::string_view kForward[] = {"Upgrade", "Sec-WebSocket-Key", "Sec-WebSocket-Version",
                                                  "Sec-WebSocket-Protocol", "X-Stream-Protocol-Version",
                                                  "User-Agent", "Accept", "Content-Type"};
  for (std::string_view f : kForward) {
    if (EqualsIgnoreCase(name, f)) return true;
  }
  return false;
}

void AddParam(std::string* q, std::string_view key, std::string_view value) {
  *q += q->empty() ? '?' : '&';
  *q += net::PercentEncode(key);
  *q += '=';
  *q += net::PercentEncode(value);
}

// The kubelet's address (first preferred type the node reports) and port.
Status AddressOf(const v1::Node& node, const std::vector<std::string>& preferred_address_types, KubeletRequest* out) {
  for (const std::string& type : preferred_address_types) {
    for (const v1::NodeAddress& a : node.status().addresses()) {
      if (a.type() == type && !a.address().empty()) {
        out->host = a.address();
        break;
      }
    }
    if (!out->host.empty()) break;
  }
  if (out->host.empty()) {
    return Unavailable("no preferred addresses found; known addresses: node " + node.metadata().name() + " has none usable");
  }
  int32_t port = node.status().daemonendpoints().kubeletendpoint().port();
  out->port = static_cast<uint16_t>(port > 0 && port < 65536 ? port : 10250);
  return Status::Ok();
}

// Request line, Host, the forwarded headers and Connection; the blank line is the caller's.
std::string RequestHead(const std::string& method, const std::string& target, const KubeletRequest& to,
                        const net::Headers& headers) {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: " + to.host + ":" + std::to_string(to.port) + "\r\n";
  for (const auto& [k, v] : headers.entries()) {
    if (ForwardedHeader(k)) r += k + ": " + v + "\r\n";
  }
  r += to.upgrade ? "Connection: Upgrade\r\n" : "Connection: close\r\n";
  return r;
}

}  // namespace

Result<KubeletRequest> BuildNodeProxyRequest(const RequestInfo& info, const std::string& method,
                                             std::string_view raw_query, const net::Headers& headers,
                                             std::string_view body, const v1::Node& node,
                                             const std::vector<std::string>& preferred_address_types) {
  KubeletRequest out;
  CK_RETURN_IF_ERROR(AddressOf(node, preferred_address_types, &out));
  std::string target;
  for (size_t i = 3; i < info.parts.size(); ++i) target += "/" + net::PercentEncode(info.parts[i]);
  if (target.empty() || info.path.ends_with("/")) target += "/";
  if (!raw_query.empty()) target += "?" + std::string(raw_query);
  out.upgrade = !headers.Get("Upgrade").empty();
  out.request = RequestHead(method, target, out, headers);
  if (!body.empty()) out.request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out.request += "\r\n";
  out.request += body;
  return out;
}

Result<std::string> ContainerFor(const v1::Pod& pod, std::string_view requested) {
  const std::string& name = pod.metadata().name();
  if (!requested.empty()) {
    if (Has(pod.spec().containers(), requested) || Has(pod.spec().initcontainers(), requested) ||
        HasEphemeral(pod.spec().ephemeralcontainers(), requested)) {
      return std::string(requested);
    }
    return BadRequest("container " + std::string(requested) + " is not valid for pod " + name);
  }
  if (pod.spec().containers_size() == 1) return pod.spec().containers(0).name();
  if (auto it = pod.metadata().annotations().find(kDefaultContainerAnnotation);
      it != pod.metadata().annotations().end() && Has(pod.spec().containers(), it->second)) {
    return it->second;
  }
  std::string msg = "a container name must be specified for pod " + name + ", choose one of: [" +
                    NamesOf(pod.spec().containers()) + "]";
  if (pod.spec().initcontainers_size() > 0) msg += " or one of the init containers: [" + NamesOf(pod.spec().initcontainers()) + "]";
  return BadRequest(msg);
}

Result<KubeletRequest> BuildKubeletRequest(const RequestInfo& info, const std::string& method, const net::Query& query,
                                           const net::Headers& headers, const v1::Pod& pod, const v1::Node& node,
                                           const std::vector<std::string>& preferred_address_types) {
  const std::string& sub = info.subresource;
  const std::string& name = pod.metadata().name();
  if (pod.spec().nodename().empty()) return BadRequest("pod " + name + " does not have a host assigned");
  const std::string phase = pod.status().phase();
  if ((sub == "exec" || sub == "attach") && (phase == "Succeeded" || phase == "Failed")) {
    return BadRequest("cannot " + sub + " into a container in a completed pod; current phase is " + phase);
  }
  if (sub == "portforward" && (phase == "Succeeded" || phase == "Failed")) {
    return BadRequest("cannot port forward into a completed pod; current phase is " + phase);
  }

  KubeletRequest out;
  CK_RETURN_IF_ERROR(AddressOf(node, preferred_address_types, &out));

  std::string path, q;
  const std::string& ns = pod.metadata().namespace_();
  if (sub == "portforward") {
    path = "/portForward/" + net::PercentEncode(ns) + "/" + net::PercentEncode(name);
    for (std::string_view p : query.GetAll("ports")) AddParam(&q, "port", p);
  } else {
    CK_ASSIGN_OR_RETURN(std::string container, ContainerFor(pod, query.GetOr("container", "")));
    std::string kubelet_sub = sub == "log" ? "containerLogs" : sub;
    path = "/" + kubelet_sub + "/" + net::PercentEncode(ns) + "/" + net::PercentEncode(name) + "/" +
           net::PercentEncode(container);
    if (sub == "log") {
      for (std::string_view key : {"follow", "previous", "timestamps", "sinceSeconds", "sinceTime", "tailLines",
                                   "limitBytes"}) {
        if (auto v = query.Get(key)) AddParam(&q, key, *v);
      }
    } else {
      if (sub == "exec") {
        std::vector<std::string_view> command = query.GetAll("command");
        if (command.empty()) return BadRequest("you must specify at least one command for the container");
        for (std::string_view c : command) AddParam(&q, "command", c);
      }
      for (std::string_view key : {"stdin", "stdout", "stderr", "tty"}) {
        if (auto v = query.Get(key)) AddParam(&q, key, *v);
      }
      const bool any = query.GetOr("stdin", "") == "true" || query.GetOr("stdout", "") == "true" ||
                       query.GetOr("stderr", "") == "true";
      if (!any) return BadRequest("you must specify at least 1 of stdin, stdout, stderr");
    }
  }

  std::string_view upgrade = headers.Get("Upgrade");
  out.upgrade = !upgrade.empty();
  if (sub != "log" && !out.upgrade) {
    return BadRequest("Upgrade request required");
  }
  out.request = RequestHead(method, path + q, out, headers) + "\r\n";
  return out;
}

}  // namespace ck::apiserver
