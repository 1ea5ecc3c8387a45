#include "kubelet/config/static_pods.h"

#include <algorithm>
#include <optional>

#include "common/api/time_format.h"
#include "common/base/check.h"
#include "common/base/log.h"
#include "common/base/strings.h"
#include "common/base/thread.h"
#include "common/client/cache/informer_factory.h"

namespace ck::kubelet {

namespace {

constexpr Duration kFirstRetry = std::chrono::seconds(1);

int64_t RevisionOf(const corev1::Pod& pod) { return ParseInt(pod.metadata().resourceversion()).value_or(0); }

const client::ResourceInfo& Nodes() {
  return client::SharedInformerFactory::ResourceOfMessage(corev1::Node::descriptor()->full_name());
}

}  // namespace

StaticPods::StaticPods(Deps deps)
    : deps_(std::move(deps)),
      source_(deps_.manifest_path, deps_.node_name, *deps_.clock),
      mirrors_client_(*deps_.api) {
  CK_CHECK(deps_.api != nullptr && deps_.clock != nullptr && deps_.update_pod && deps_.delete_pod)
      << "StaticPods needs an ApiClient, a Clock, update_pod and delete_pod";
}

StaticPods::~StaticPods() { Stop(); }

void StaticPods::Start() {
  SyncFiles();
  thread_ = std::thread([this] { Loop(); });
}

void StaticPods::Stop() {
  stopping_ = true;
  wakeup_.Notify();
  if (thread_.joinable()) thread_.join();
}

void StaticPods::SetApiReady() {
  {
    std::lock_guard lock(mu_);
    api_ready_ = true;
  }
  wakeup_.Notify();
}

std::vector<std::string> StaticPods::SyncFiles() {
  FileSource::Snapshot snapshot = source_.Scan();
  std::map<std::string, std::shared_ptr<const corev1::Pod>> next;
  for (auto& pod : snapshot.pods) next[PodFullName(*pod)] = pod;
  std::vector<std::shared_ptr<const corev1::Pod>> updated;
  std::vector<std::string> removed;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, pod] : static_) {
      auto it = next.find(name);
      if (it == next.end() || it->second->metadata().uid() != pod->metadata().uid()) {
        removed.push_back(pod->metadata().uid());
      }
    }
    for (const auto& [name, pod] : next) {
      auto it = static_.find(name);
      if (it == static_.end() || it->second != pod) updated.push_back(pod);
    }
    static_.swap(next);
  }
  // upstream: a changed manifest is a new uid, so the old pod is removed and the new one added.
  for (const std::string& uid : removed) {
    CK_LOG_INFO("Static pod removed from its source", "podUID", uid, "source", source_.path());
    deps_.delete_pod(uid);
  }
  for (const auto& pod : updated) {
    CK_LOG_INFO("Static pod from file", "pod", PodFullName(*pod), "podUID", pod->metadata().uid());
    deps_.update_pod(pod);
  }
  if (!removed.empty() || !updated.empty()) wakeup_.Notify();
  return snapshot.errors;
}

Status StaticPods::SyncMirrorPods() {
  std::map<std::string, std::shared_ptr<const corev1::Pod>> statics, mirrors;
  {
    std::lock_guard lock(mu_);
    if (!api_ready_) return Status::Ok();
    statics = static_;
    mirrors = mirrors_;
  }
  Status first = Status::Ok();
  auto note = [&first](Status s) {
    if (first.ok()) first = std::move(s);
  };
  auto forget = [this](const std::string& name, const std::string& uid) {
    std::lock_guard lock(mu_);
    auto it = mirrors_.find(name);
    if (it != mirrors_.end() && it->second->metadata().uid() == uid) mirrors_.erase(it);
  };
  std::optional<Result<std::string>> node_uid;  // read once, when a mirror must be created
  for (const auto& [name, pod] : statics) {
    auto m = mirrors.find(name);
    if (m != mirrors.end()) {
      const corev1::Pod& mirror = *m->second;
      const bool deleting = mirror.metadata().has_deletiontimestamp();
      if (!deleting && IsMirrorPodOf(mirror, *pod)) continue;
      // upstream syncPod: a mirror that differs from the static pod is removed and created again.
      CK_LOG_INFO("Deleting mirror pod because it is outdated", "pod", name, "deleting", deleting);
      Result<bool> deleted = mirrors_client_.DeleteMirrorPod(mirror.metadata().namespace_(),
                                                             mirror.metadata().name(), mirror.metadata().uid());
      if (!deleted.ok()) {
        note(deleted.status());
        continue;
      }
      forget(name, mirror.metadata().uid());
    }
    if (!node_uid) {
      Result<client::ObjectPtr> node = deps_.api->Get(Nodes(), "", deps_.node_name);
      if (!node.ok()) {
        node_uid = node.status();
      } else if (const auto* n = dynamic_cast<const corev1::Node*>(node->get());
                 n != nullptr && n->metadata().has_deletiontimestamp()) {
        node_uid = Status(Code::kUnavailable, "node " + deps_.node_name + " is being deleted");
      } else {
        node_uid = n != nullptr ? n->metadata().uid() : std::string();
      }
    }
    if (!node_uid->ok()) {
      note(Status(node_uid->status().code(), "mirror pod " + name + " not created: " + node_uid->status().message()));
      continue;
    }
    Result<std::shared_ptr<const corev1::Pod>> created = mirrors_client_.CreateMirrorPod(*pod, deps_.node_name, **node_uid);
    if (!created.ok()) {
      note(Status(created.status().code(), "mirror pod " + name + ": " + created.status().message()));
      continue;
    }
    CK_LOG_INFO("Created mirror pod", "pod", name, "uid", (*created)->metadata().uid());
    OnMirrorPod(*created);
  }
  for (const auto& [name, mirror] : mirrors) {
    if (statics.count(name) > 0) continue;
    // upstream HandlePodCleanups: an orphaned mirror pod (its static pod is gone) is deleted.
    CK_LOG_INFO("Deleting orphaned mirror pod", "pod", name);
    Result<bool> deleted = mirrors_client_.DeleteMirrorPod(mirror->metadata().namespace_(),
                                                           mirror->metadata().name(), mirror->metadata().uid());
    if (!deleted.ok()) {
      note(deleted.status());
      continue;
    }
    forget(name, mirror->metadata().uid());
  }
  return first;
}

void StaticPods::OnMirrorPod(std::shared_ptr<const corev1::Pod> mirror) {
  const std::string name = PodFullName(*mirror);
  std::string wake_uid;
  {
    std::lock_guard lock(mu_);
    auto& current = mirrors_[name];
    if (current != nullptr && RevisionOf(*mirror) < RevisionOf(*current)) return;  // older news
    const bool new_mirror = current == nullptr || current->metadata().uid() != mirror->metadata().uid();
    current = mirror;
    auto s = static_.find(name);
    if (new_mirror && s != static_.end() && IsMirrorPodOf(*mirror, *s->second)) wake_uid = s->second->metadata().uid();
  }
  wakeup_.Notify();
  // A new mirror has no status yet: the static pod's worker writes it.
  if (!wake_uid.empty() && deps_.pod_changed) deps_.pod_changed(wake_uid);
}

void StaticPods::OnMirrorPodDeleted(const corev1::Pod& mirror) {
  {
    std::lock_guard lock(mu_);
    auto it = mirrors_.find(PodFullName(mirror));
    if (it != mirrors_.end() && it->second->metadata().uid() == mirror.metadata().uid()) mirrors_.erase(it);
  }
  wakeup_.Notify();
}

std::shared_ptr<const corev1::Pod> StaticPods::MirrorPodOf(const corev1::Pod& static_pod) const {
  std::lock_guard lock(mu_);
  auto it = mirrors_.find(PodFullName(static_pod));
  if (it == mirrors_.end() || it->second->metadata().has_deletiontimestamp()) return nullptr;
  return IsMirrorPodOf(*it->second, static_pod) ? it->second : nullptr;
}

std::vector<std::shared_ptr<const corev1::Pod>> StaticPods::StaticPodList() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<const corev1::Pod>> out;
  for (const auto& [name, pod] : static_) out.push_back(pod);
  return out;
}

void StaticPods::Loop() {
  SetCurrentThreadName("ck-static-pods");
  Clock& clock = *deps_.clock;
  const Duration period = std::max<Duration>(deps_.file_check_frequency, std::chrono::milliseconds(100));
  MonoTime next_scan = clock.Monotonic() + period;
  Duration retry{0};
  while (!stopping_) {
    MonoTime now = clock.Monotonic();
    if (now >= next_scan) {
      SyncFiles();
      next_scan = now + period;
    }
    MonoTime next = next_scan;
    Status s = SyncMirrorPods();
    if (!s.ok()) {
      retry = retry == Duration{0} ? kFirstRetry : std::min<Duration>(retry * 2, period);
      CK_LOG_WARNING("Mirror pods not in sync, will retry", "err", s.message(), "after", api::FormatGoDuration(retry.count()));
      next = std::min(next, now + retry);
    } else {
      retry = Duration{0};
    }
    if (stopping_) return;
    clock.WaitUntil(wakeup_, next);
  }
}

}  // namespace ck::kubelet
