#include "controller-manager/statefulset/stateful_pod_control.h"

#include <cctype>

#include "common/base/log.h"
#include "common/client/cache/informer_factory.h"
#include "controller-manager/statefulset/stateful_set_utils.h"

namespace ck::controller_manager::statefulset {

namespace {

const client::ResourceInfo& Pods() {
  static const client::ResourceInfo& r =
      client::SharedInformerFactory::ResourceOfMessage(corev1::Pod::descriptor()->full_name());
  return r;
}

constexpr int kUpdateAttempts = 5;

}  // namespace

Status StatefulPodControl::CreateStatefulPod(const appsv1::StatefulSet& set, const corev1::Pod& pod) {
  Result<client::ObjectPtr> created = api_.Create(Pods(), set.metadata().namespace_(), pod);
  if (created.status().code() == Code::kAlreadyExists) return created.status();
  RecordPodEvent("create", set, pod.metadata().name(), created.status());
  if (created.ok()) CK_VLOG(2, "Created StatefulSet pod", "statefulSet", set.metadata().name(), "pod", pod.metadata().name());
  return created.status();
}

Status StatefulPodControl::UpdateStatefulPod(const appsv1::StatefulSet& set, const corev1::Pod& pod) {
  corev1::Pod current = pod;
  bool attempted = false;
  Status result;
  for (int attempt = 0; attempt < kUpdateAttempts; ++attempt) {
    bool consistent = true;
    if (!IdentityMatches(set, current)) {
      UpdateIdentity(set, &current);
      consistent = false;
    }
    if (!StorageMatches(set, current)) {
      UpdateStorage(set, &current);
      consistent = false;
    }
    if (consistent) {
      result = Status::Ok();
      break;
    }
    attempted = true;
    Result<client::ObjectPtr> updated = api_.Update(Pods(), set.metadata().namespace_(), current);
    result = updated.status();
    if (updated.ok() || updated.status().code() != Code::kConflict) break;
    Result<client::ObjectPtr> fresh = api_.Get(Pods(), set.metadata().namespace_(), current.metadata().name());
    if (!fresh.ok()) break;
    current = static_cast<const corev1::Pod&>(**fresh);
  }
  if (attempted) RecordPodEvent("update", set, current.metadata().name(), result);
  return result;
}

Status StatefulPodControl::DeleteStatefulPod(const appsv1::StatefulSet& set, const corev1::Pod& pod) {
  Result<client::ObjectPtr> deleted = api_.Delete(Pods(), set.metadata().namespace_(), pod.metadata().name());
  RecordPodEvent("delete", set, pod.metadata().name(), deleted.status());
  return deleted.status();
}

void StatefulPodControl::RecordPodEvent(std::string_view verb, const appsv1::StatefulSet& set,
                                        const std::string& pod_name, const Status& result) const {
  std::string title(verb);
  if (!title.empty()) title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(title[0])));
  std::string what = std::string(verb) + " Pod " + pod_name + " in StatefulSet " + set.metadata().name();
  if (result.ok()) {
    recorder_.Event(set, client::kEventNormal, "Successful" + title, what + " successful");
  } else {
    recorder_.Event(set, client::kEventWarning, "Failed" + title, what + " failed error: " + result.message());
  }
}

}  // namespace ck::controller_manager::statefulset
