// Static and mirror pods (upstream kubelet/types pod_update.go and kubelet/pod/mirror_client.go).
// A static pod comes from a local source (a manifest file); the kubelet runs it itself and keeps
// a mirror pod in the API server so that the cluster sees it: the same spec, annotated
// kubernetes.io/config.mirror=<config hash>, owned by the Node. The kubelet never runs a mirror
// pod; the static pod's status is written to its mirror.
// MirrorPodClient creates and deletes mirror pods through an ApiClient.
// Threading: the helpers are pure; MirrorPodClient is safe from any thread (stateless).
#pragma once

#include <string>
#include <string_view>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/status.h"
#include "common/client/api_client.h"

namespace ck::kubelet {

namespace corev1 = ::k8s::io::api::core::v1;

// Annotations the kubelet's config sources set (upstream kubetypes).
inline constexpr std::string_view kConfigSourceAnnotation = "kubernetes.io/config.source";
inline constexpr std::string_view kConfigMirrorAnnotation = "kubernetes.io/config.mirror";
inline constexpr std::string_view kConfigFirstSeenAnnotation = "kubernetes.io/config.seen";
inline constexpr std::string_view kConfigHashAnnotation = "kubernetes.io/config.hash";
// Values of kubernetes.io/config.source.
inline constexpr std::string_view kFileSource = "file";
inline constexpr std::string_view kApiserverSource = "api";

// A pod from a source other than the API server (config.source set and not "api").
bool IsStaticPod(const corev1::Pod& pod);
// A pod carrying the config.mirror annotation.
bool IsMirrorPod(const corev1::Pod& pod);
// "<namespace>/<name>" (upstream kubecontainer.GetPodFullName spells it name_namespace; the key
// only has to be the same for a static pod and its mirror).
std::string PodFullName(const corev1::Pod& pod);
// The static pod's config hash (its uid when the annotation is missing).
std::string ConfigHashOf(const corev1::Pod& pod);
// upstream IsMirrorPodOf: same full name and config.mirror equal to the static pod's hash.
bool IsMirrorPodOf(const corev1::Pod& mirror, const corev1::Pod& static_pod);
// The mirror pod to create for `static_pod`: its metadata and spec without uid, resourceVersion
// and status, annotated config.mirror=<hash>, with one controller owner reference to the Node
// (apiVersion v1, kind Node, `node_name`, `node_uid`).
corev1::Pod MakeMirrorPod(const corev1::Pod& static_pod, const std::string& node_name, const std::string& node_uid);

class MirrorPodClient {
 public:
  // `api` must outlive the client.
  explicit MirrorPodClient(client::ApiClient& api);

  // Creates the mirror pod of `static_pod`. OK when created, or when a pod of that name with the
  // same config.mirror hash exists already (upstream treats that as done); the error otherwise
  // (AlreadyExists when another pod holds the name).
  Result<std::shared_ptr<const corev1::Pod>> CreateMirrorPod(const corev1::Pod& static_pod,
                                                            const std::string& node_name,
                                                            const std::string& node_uid);
  // DELETE with gracePeriodSeconds=0 and, when `uid` is not empty, the uid precondition (upstream
  // DeleteMirrorPod). True when deleted; false when it was gone already or is another pod now.
  Result<bool> DeleteMirrorPod(const std::string& ns, const std::string& name, const std::string& uid);

 private:
  client::ApiClient& api_;
};

}  // namespace ck::kubelet
