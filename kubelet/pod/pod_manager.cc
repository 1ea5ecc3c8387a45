#include "kubelet/pod/pod_manager.h"

#include "common/base/check.h"

namespace ck::kubelet {

namespace {

const daemon::Profile& ProfileOf(const PodManager::Deps& deps) {
  CK_CHECK(deps.profile != nullptr) << "PodManager needs a profile";
  return *deps.profile;
}

client::ApiClient& ApiOf(const PodManager::Deps& deps) {
  CK_CHECK(deps.api != nullptr) << "PodManager needs an ApiClient";
  return *deps.api;
}

}  // namespace

PodManager::PodManager(Deps deps)
    : deps_(std::move(deps)),
      backoff_(ProfileOf(deps_).crashloop_backoff_initial, ProfileOf(deps_).crashloop_backoff_max),
      status_(ApiOf(deps_), deps_.mirror_pod_of) {
  CK_CHECK(deps_.runtime != nullptr && deps_.clock != nullptr);
  PodSyncerDeps s;
  s.runtime = deps_.runtime;
  s.network = deps_.network;
  s.probes = deps_.probes;
  s.volumes = deps_.volumes;
  s.events = deps_.events;
  s.clock = deps_.clock;
  s.backoff = &backoff_;
  s.node_name = deps_.node_name;
  s.host_ip = deps_.host_ip;
  s.root_dir = deps_.root_dir;
  s.env_context = deps_.env_context;
  syncer_ = std::make_unique<PodSyncer>(std::move(s));
  workers_ = std::make_unique<PodWorkers>(*syncer_, status_, *deps_.runtime, *deps_.clock, deps_.workers);
}

PodManager::~PodManager() { Stop(); }

void PodManager::Start() { workers_->Start(); }
void PodManager::Stop() { workers_->Stop(); }
void PodManager::UpdatePod(std::shared_ptr<const corev1::Pod> pod) { workers_->UpdatePod(std::move(pod)); }
void PodManager::DeletePod(const std::string& uid) { workers_->ForgetPod(uid); }
void PodManager::SetReadyToRunPods(bool ready) { workers_->SetReadyToRunPods(ready); }
void PodManager::PodChanged(const std::string& uid) { workers_->Trigger(uid); }
void PodManager::Tick() {
  backoff_.GC(deps_.clock->Now());
  workers_->Tick();
}
int PodManager::RunningPodCount() const { return workers_->RunningPodCount(); }

}  // namespace ck::kubelet
