// Static pod manifests: one file's bytes -> the static pod the kubelet runs (upstream
// pkg/kubelet/config common.go tryDecodeSinglePod + applyDefaults). A manifest is one Pod in YAML
// or JSON (kind Pod, apiVersion v1). It gets the API server's pod defaulting, then the kubelet's:
//   metadata.uid          MD5 of "host:<node>", "file:<path>" and the defaulted pod (hex), unless set
//   metadata.name         "<name>-<node>" (node name lower-cased)
//   metadata.namespace    "default" when empty
//   spec.nodeName         the node
//   annotations           kubernetes.io/config.hash=<uid>, kubernetes.io/config.source=file
//   tolerations           {operator: Exists, effect: NoExecute} (static pods survive node taints)
//   status.phase          Pending
// and is then validated as the API server would validate its creation. The uid is stable across
// kubelet restarts and changes when the manifest's content (not its layout) changes.
// kubernetes.io/config.seen is the file source's to set (file_source.h): it is not part of the hash.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"
#include "common/base/status.h"

namespace ck::kubelet {

namespace corev1 = ::k8s::io::api::core::v1;

// Parses and defaults one manifest read from `path` for node `node_name`. Errors are Invalid and
// say what is wrong: `couldn't parse as pod: yaml: line 3: ...`, `kind "Deployment" is not a Pod`,
// `invalid pod: Pod "web-node-1" is invalid: spec.containers: Required value`.
Result<corev1::Pod> ParseStaticPod(std::string_view data, const std::string& path, const std::string& node_name);

// Go's time.RFC3339Nano in UTC: "2024-05-01T12:00:00.1234Z" (trailing zeros of the fraction dropped).
std::string FormatRfc3339Nano(WallTime t);

}  // namespace ck::kubelet
