// The apiserver's side of the kubelet API: pods/log, pods/exec, pods/attach and pods/portforward
// are answered by the pod's node's kubelet (its HTTPS port, 10250), as upstream's pod registry
// does (LogLocation, ExecLocation, AttachLocation, PortForwardLocation).
//
// BuildKubeletRequest picks the container, the kubelet's address and the kubelet path, and
// writes the request the kubelet receives. The REST layer (api_server.cc) hands it to
// net::ResponseWriter::Proxy, which splices an upgraded connection (WebSocket or SPDY) or relays
// a log stream, and never forwards the client's bytes after a refused upgrade.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "apiserver/request_info.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/base/status.h"
#include "common/net/http.h"
#include "common/net/url.h"

namespace ck::apiserver {

// Upstream's --kubelet-preferred-address-types default.
inline const std::vector<std::string> kDefaultKubeletAddressTypes = {"Hostname", "InternalDNS", "InternalIP",
                                                                     "ExternalDNS", "ExternalIP"};

struct KubeletRequest {
  std::string host;     // the node address chosen
  uint16_t port = 0;    // status.daemonEndpoints.kubeletEndpoint.port (10250 when unset)
  std::string request;  // request line, headers and blank line, as the kubelet gets them
  bool upgrade = false; // the client asked for a WebSocket or SPDY upgrade
};

// `subresource` is log, exec, attach or portforward. Errors are the upstream messages: BadRequest
// when the container must be named or does not exist, when the pod has no node yet or has
// completed (exec/attach), NotFound-style Unavailable when the node has no usable address.
Result<KubeletRequest> BuildKubeletRequest(const RequestInfo& info, const std::string& method,
                                           const net::Query& query, const net::Headers& headers,
                                           const k8s::io::api::core::v1::Pod& pod,
                                           const k8s::io::api::core::v1::Node& node,
                                           const std::vector<std::string>& preferred_address_types);

// GET|POST|... /api/v1/nodes/{name}/proxy/{path}: the request the node's kubelet gets for
// /{path} (upstream's node proxy; `kubectl get --raw /api/v1/nodes/node-1/proxy/pods`). The body,
// if any, goes along; upgrade headers too (an exec through the node proxy).
Result<KubeletRequest> BuildNodeProxyRequest(const RequestInfo& info, const std::string& method,
                                             std::string_view raw_query, const net::Headers& headers,
                                             std::string_view body, const k8s::io::api::core::v1::Node& node,
                                             const std::vector<std::string>& preferred_address_types);

// The container a request means: `requested` when set (it must exist), else the pod's only
// container or its kubectl.kubernetes.io/default-container annotation.
Result<std::string> ContainerFor(const k8s::io::api::core::v1::Pod& pod, std::string_view requested);

}  // namespace ck::apiserver
