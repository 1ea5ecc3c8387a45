// PodControl: how workload controllers create and delete their pods (upstream RealPodControl):
// a pod built from the owner's template, named `<owner>-<random suffix>` through generateName
// (or a fixed name for StatefulSets), with the owner's controller reference, written through the
// API client; each result is recorded as an Event on the owner with upstream's reasons
// (SuccessfulCreate "Created pod: web-7d9f-x2k4q", FailedCreate "Error creating: ...",
// SuccessfulDelete "Deleted pod: ...", FailedDelete "Error deleting: ...").
// Threading: safe from any thread (the client and the recorder are).
#pragma once

#include <memory>
#include <string>

#include <google/protobuf/message.h>

#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/meta_v1.pb.h"
#include "common/base/status.h"
#include "common/client/api_client.h"
#include "common/client/tools/event_recorder.h"

namespace ck::controller_manager {

namespace corev1 = ::k8s::io::api::core::v1;
namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;

// Upstream GetPodFromTemplate: labels, annotations, finalizers and spec from `tmpl`,
// generateName "<owner name>-" (upstream trims a long prefix to fit 63 characters), the
// controller reference as the only ownerReference.
corev1::Pod PodFromTemplate(const corev1::PodTemplateSpec& tmpl, const std::string& owner_name,
                            const metav1::OwnerReference& controller_ref);

class PodControl {
 public:
  PodControl(client::ApiClient& api, client::EventRecorder recorder) : api_(api), recorder_(std::move(recorder)) {}

  // Creates `pod` (already built, e.g. by PodFromTemplate) in `ns` and records the event on
  // `owner`. Returns the created pod, or the API's error (also recorded as FailedCreate, except
  // when the namespace is terminating, as upstream).
  Result<std::shared_ptr<const corev1::Pod>> CreatePod(const std::string& ns, const corev1::Pod& pod,
                                                       const google::protobuf::Message& owner);
  // Creates a pod from `tmpl` (PodFromTemplate) controlled by `owner`.
  Result<std::shared_ptr<const corev1::Pod>> CreatePodFromTemplate(const std::string& ns,
                                                                   const corev1::PodTemplateSpec& tmpl,
                                                                   const google::protobuf::Message& owner);
  // Deletes the pod (precondition: its uid when not empty). NotFound counts as success: it
  // is gone, and the caller's expectation is lowered by the informer's delete event anyway.
  Status DeletePod(const std::string& ns, const std::string& name, const std::string& uid,
                   const google::protobuf::Message& owner);
  // Strategic-merge patch of a pod.
  Status PatchPod(const std::string& ns, const std::string& name, const std::string& patch);

  const client::EventRecorder& recorder() const { return recorder_; }

 private:
  client::ApiClient& api_;
  client::EventRecorder recorder_;
};

}  // namespace ck::controller_manager
