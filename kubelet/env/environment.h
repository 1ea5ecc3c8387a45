// MakeEnvironment: a container's environment as the kubelet builds it: envFrom (configMapRef,
// secretRef with prefix; invalid keys skipped), then env in order with value, $(VAR) expansion
// of earlier variables, fieldRef (metadata.name, metadata.namespace, metadata.uid,
// metadata.labels['k'], metadata.annotations['k'], spec.nodeName, spec.serviceAccountName,
// status.hostIP(s), status.podIP(s)), resourceFieldRef (limits/requests with divisor; unset
// limits fall back to node allocatable), configMapKeyRef and secretKeyRef (optional honoured),
// and the service links (`<SVC>_SERVICE_HOST/PORT`, `..._PORT_<p>_<PROTO>...` and always
// KUBERNETES_SERVICE_HOST/PORT from the `kubernetes` Service in `default`). Also expands $(VAR)
// in command and args (ExpandContainerCommand).
// Threading: pure functions over what the lookups return; lookups may be called from any thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/status.h"

namespace ck::kubelet {

using EnvList = std::vector<std::pair<std::string, std::string>>;

struct EnvContext {
  std::string node_name;
  std::string pod_ip;                      // may be "" (host network or not set up yet)
  std::vector<std::string> pod_ips;
  std::string host_ip;
  std::string node_allocatable_cpu = "0";  // Quantity strings for resourceFieldRef fallbacks
  std::string node_allocatable_memory = "0";
  std::string node_allocatable_ephemeral_storage = "0";
  // Lookups by namespace/name: NotFound when absent.
  std::function<Result<k8s::io::api::core::v1::ConfigMap>(const std::string& ns, const std::string& name)> config_map;
  std::function<Result<k8s::io::api::core::v1::Secret>(const std::string& ns, const std::string& name)> secret;
  // Services visible to the pod for service links: those of the pod's namespace (when
  // enableServiceLinks is not false) plus `default/kubernetes`.
  std::function<std::vector<k8s::io::api::core::v1::Service>(const std::string& ns)> services;
};

// The container's environment, or an error whose message names the missing object or key
// (upstream: `configmap "x" not found`, `couldn't find key k in ConfigMap ns/x`); the pod sync
// reports it as CreateContainerConfigError.
Result<EnvList> MakeEnvironment(const k8s::io::api::core::v1::Pod& pod,
                                const k8s::io::api::core::v1::Container& container, const EnvContext& context);

// command + args with $(VAR) references expanded from `env` ($$ escapes, unknown left as-is).
std::vector<std::string> ExpandContainerCommand(const k8s::io::api::core::v1::Container& container,
                                                const EnvList& env);

// Upstream's $(VAR) expansion (third_party/forked/golang/expansion): `$$` is a literal `$`, a
// reference `lookup` does not know stays as written, an unterminated `$(` is copied.
std::string ExpandVars(std::string_view input,
                       const std::function<std::optional<std::string>(const std::string& name)>& lookup);

// The value of a downward API fieldRef (env or downwardAPI volume): metadata.name, .namespace,
// .uid, .labels, .annotations (the whole map as `k="v"` lines, sorted), .labels['k'],
// .annotations['k'], spec.nodeName, spec.serviceAccountName, status.hostIP(s), status.podIP(s).
// BadRequest `unsupported fieldPath: x` otherwise.
Result<std::string> PodFieldValue(const k8s::io::api::core::v1::Pod& pod,
                                  const k8s::io::api::core::v1::ObjectFieldSelector& selector,
                                  const EnvContext& context);

// The value of a resourceFieldRef for `container` (or the container the selector names):
// limits.cpu/memory/ephemeral-storage (unset limits fall back to node allocatable) and
// requests.*, divided by the divisor (default 1) and rounded up, as upstream.
Result<std::string> ContainerResourceValue(const k8s::io::api::core::v1::Pod& pod,
                                           const k8s::io::api::core::v1::Container* container,
                                           const k8s::io::api::core::v1::ResourceFieldSelector& selector,
                                           const EnvContext& context);

}  // namespace ck::kubelet
