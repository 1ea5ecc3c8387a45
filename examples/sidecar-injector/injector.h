// The sidecar injector's decision, apart from HTTP: given an AdmissionReview (admission.k8s.io/v1)
// for a pod, answer allowed, with a JSONPatch that appends a metrics sidecar container and marks
// the pod `sidecar-injector/injected: "true"` when the pod is annotated `monitoring: "true"`.
// Pods without the annotation, pods already injected (the mark, or a container with the sidecar's
// name) and objects that are not pods are allowed unchanged. The injector never denies.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/status.h"

namespace ck::examples::sidecar {

inline constexpr std::string_view kMonitoringAnnotation = "monitoring";
inline constexpr std::string_view kInjectedAnnotation = "sidecar-injector/injected";

struct SidecarOptions {
  std::string name = "metrics-sidecar";
  std::string image = "busybox:1.36";
  int port = 9102;  // the sidecar serves GET /metrics here
};

// The container added to monitored pods: busybox httpd serving a one-line /metrics page.
k8s::io::api::core::v1::Container SidecarContainer(const SidecarOptions& options);

// The JSONPatch for `pod`, or "" when nothing is to be injected.
Result<std::string> SidecarPatch(const k8s::io::api::core::v1::Pod& pod, const SidecarOptions& options);

// The AdmissionReview answer (JSON) for an AdmissionReview request body. BadRequest when the body
// is not an AdmissionReview with a request.
Result<std::string> Review(std::string_view body, const SidecarOptions& options);

}  // namespace ck::examples::sidecar
