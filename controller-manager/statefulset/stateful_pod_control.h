// StatefulPodControl: how the StatefulSet controller creates, repairs and deletes its pods
// (upstream StatefulPodControl). Pods have fixed names, so a create that finds its pod already
// there fails with AlreadyExists and the caller retries later. Every write is recorded as an
// Event on the set with upstream's words:
//   SuccessfulCreate  "create Pod web-0 in StatefulSet web successful"
//   FailedCreate      "create Pod web-0 in StatefulSet web failed error: <server message>"
//   SuccessfulDelete  "delete Pod web-2 in StatefulSet web successful"   (FailedDelete likewise)
//   SuccessfulUpdate / FailedUpdate for identity and storage repairs.
// PersistentVolumeClaims are not created: a pod refers to its claims by name only.
// Threading: safe from any thread (the client and the recorder are).
#pragma once

#include <string>
#include <string_view>

#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/base/status.h"
#include "common/client/api_client.h"
#include "common/client/tools/event_recorder.h"

namespace ck::controller_manager::statefulset {

namespace appsv1 = ::k8s::io::api::apps::v1;
namespace corev1 = ::k8s::io::api::core::v1;

class StatefulPodControl {
 public:
  StatefulPodControl(client::ApiClient& api, client::EventRecorder recorder)
      : api_(api), recorder_(std::move(recorder)) {}

  // Creates `pod` in the set's namespace. AlreadyExists is returned without an event (upstream
  // sinks it); other failures are recorded as FailedCreate and returned.
  Status CreateStatefulPod(const appsv1::StatefulSet& set, const corev1::Pod& pod);
  // Repairs the identity (labels) and claim volumes of an existing pod when they do not match
  // the set; nothing is written when they do. A conflict re-reads the pod and tries again (up to
  // 5 times, upstream retry.DefaultBackoff's steps).
  Status UpdateStatefulPod(const appsv1::StatefulSet& set, const corev1::Pod& pod);
  // Deletes the pod (with the server's default grace period). NotFound is returned (and
  // recorded as FailedDelete) as upstream does; callers that do not mind ignore it.
  Status DeleteStatefulPod(const appsv1::StatefulSet& set, const corev1::Pod& pod);

 private:
  void RecordPodEvent(std::string_view verb, const appsv1::StatefulSet& set, const std::string& pod_name,
                      const Status& result) const;

  client::ApiClient& api_;
  client::EventRecorder recorder_;
};

}  // namespace ck::controller_manager::statefulset
