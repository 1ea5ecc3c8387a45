#include "kubelet/pod/status_manager.h"

#include <google/protobuf/util/message_differencer.h>

#include "common/api/conditions.h"
#include "common/api/pod.h"
#include "common/base/log.h"
#include "common/base/strings.h"
#include "common/client/cache/informer_factory.h"
#include "kubelet/pod/mirror_pod.h"
#include "kubelet/pod/pod_status.h"

namespace ck::kubelet {

namespace {

constexpr int kMaxTries = 4;

int64_t RevisionOf(const corev1::Pod& pod) { return ParseInt(pod.metadata().resourceversion()).value_or(0); }

bool KubeletCondition(const std::string& type) {
  return type == "PodReadyToStartContainers" || type == "Initialized" || type == "Ready" ||
         type == "ContainersReady" || type == "PodScheduled";
}

// Upstream's mergePodStatus: `mine` with the kubelet's own conditions from it and every other
// writer's (readiness gates, DisruptionTarget, ...) as `stored` has them.
corev1::PodStatus MergeConditions(const corev1::PodStatus& stored, corev1::PodStatus mine) {
  google::protobuf::RepeatedPtrField<corev1::PodCondition> merged;
  for (const auto& c : mine.conditions()) {
    if (KubeletCondition(c.type())) *merged.Add() = c;
  }
  for (const auto& c : stored.conditions()) {
    if (!KubeletCondition(c.type())) *merged.Add() = c;
  }
  mine.mutable_conditions()->Swap(&merged);
  return mine;
}

}  // namespace

StatusManager::StatusManager(client::ApiClient& api, MirrorResolver mirror_of)
    : api_(api),
      mirror_of_(std::move(mirror_of)),
      pods_(client::SharedInformerFactory::ResourceOfMessage(corev1::Pod::descriptor()->full_name())) {}

Status StatusManager::SetPodStatus(const corev1::Pod& pod, corev1::PodStatus status) {
  const std::string& uid = pod.metadata().uid();
  corev1::Pod object = pod;
  if (IsStaticPod(pod)) {
    // Upstream status manager: a static pod's status is its mirror pod's; none yet, none written.
    std::shared_ptr<const corev1::Pod> mirror = mirror_of_ ? mirror_of_(pod) : nullptr;
    if (mirror == nullptr || mirror->metadata().has_deletiontimestamp()) return Status::Ok();
    object = *mirror;
  }
  const std::string target_uid = object.metadata().uid();
  {
    std::lock_guard lock(mu_);
    auto it = last_.find(uid);
    const bool same_target = it != last_.end() && it->second.target_uid == target_uid;
    const corev1::PodStatus& current = same_target ? it->second.status : object.status();
    KeepTerminalPhase(current, &status);
    KeepTerminalPhase(object.status(), &status);
    if (google::protobuf::util::MessageDifferencer::Equivalent(current, status)) return Status::Ok();
    if (same_target && it->second.resource_version > RevisionOf(object)) {
      object.mutable_metadata()->set_resourceversion(std::to_string(it->second.resource_version));
    }
  }
  for (int attempt = 0; attempt < kMaxTries; ++attempt) {
    // After a conflict `object` is the API's latest: the conditions other writers set there since
    // stay (upstream mergePodStatus).
    if (attempt > 0) status = MergeConditions(object.status(), std::move(status));
    *object.mutable_status() = status;
    Result<client::ObjectPtr> written = api_.Update(pods_, pod.metadata().namespace_(), object, "status");
    if (written.ok()) {
      const auto* fresh = dynamic_cast<const corev1::Pod*>(written->get());
      std::lock_guard lock(mu_);
      last_[uid] = Entry{status, fresh != nullptr ? RevisionOf(*fresh) : 0, target_uid};
      ++writes_;
      return Status::Ok();
    }
    if (written.status().code() == Code::kNotFound) return Status::Ok();  // deleted: dropped
    if (written.status().code() != Code::kConflict) return written.status();
    Result<client::ObjectPtr> latest = api_.Get(pods_, object.metadata().namespace_(), object.metadata().name());
    if (!latest.ok()) return latest.status().code() == Code::kNotFound ? Status::Ok() : latest.status();
    const auto* fresh = dynamic_cast<const corev1::Pod*>(latest->get());
    if (fresh == nullptr || fresh->metadata().uid() != target_uid) return Status::Ok();  // another pod now
    KeepTerminalPhase(fresh->status(), &status);
    object = *fresh;
  }
  return Conflict("status of pod " + pod.metadata().namespace_() + "/" + pod.metadata().name() +
                  " still conflicting after retries");
}

Status StatusManager::DeletePod(const corev1::Pod& pod) {
  client::DeleteOptions options;
  options.grace_period_seconds = 0;
  options.precondition_uid = pod.metadata().uid();
  Result<client::ObjectPtr> deleted = api_.Delete(pods_, pod.metadata().namespace_(), pod.metadata().name(), options);
  if (deleted.ok() || deleted.status().code() == Code::kNotFound || deleted.status().code() == Code::kConflict) {
    return Status::Ok();
  }
  return deleted.status();
}

void StatusManager::MergeLastWritten(corev1::Pod* pod) const {
  std::lock_guard lock(mu_);
  auto it = last_.find(pod->metadata().uid());
  if (it == last_.end() || it->second.resource_version <= RevisionOf(*pod)) return;
  const corev1::PodStatus& mine = it->second.status;
  corev1::PodStatus* status = pod->mutable_status();
  KeepTerminalPhase(mine, status);
  if (!api::IsTerminalPhase(status->phase())) status->set_phase(mine.phase());
  if (api::IsZeroTime(status->starttime())) *status->mutable_starttime() = mine.starttime();
  *status->mutable_conditions() = MergeConditions(*status, mine).conditions();
}

void StatusManager::ForgetPod(const std::string& uid) {
  std::lock_guard lock(mu_);
  last_.erase(uid);
}

std::optional<corev1::PodStatus> StatusManager::LastWritten(const std::string& uid) const {
  std::lock_guard lock(mu_);
  auto it = last_.find(uid);
  if (it == last_.end()) return std::nullopt;
  return it->second.status;
}

int64_t StatusManager::writes() const {
  std::lock_guard lock(mu_);
  return writes_;
}

}  // namespace ck::kubelet
