#include "kubelet/pod/mirror_pod.h"

#include "common/client/cache/informer_factory.h"

namespace ck::kubelet {

namespace {

const std::string* Annotation(const corev1::Pod& pod, std::string_view key) {
  const auto& a = pod.metadata().annotations();
  auto it = a.find(std::string(key));
  return it == a.end() ? nullptr : &it->second;
}

const client::ResourceInfo& Pods() {
  return client::SharedInformerFactory::ResourceOfMessage(corev1::Pod::descriptor()->full_name());
}

}  // namespace

bool IsStaticPod(const corev1::Pod& pod) {
  const std::string* source = Annotation(pod, kConfigSourceAnnotation);
  return source != nullptr && *source != kApiserverSource;
}

bool IsMirrorPod(const corev1::Pod& pod) { return Annotation(pod, kConfigMirrorAnnotation) != nullptr; }

std::string PodFullName(const corev1::Pod& pod) { return pod.metadata().namespace_() + "/" + pod.metadata().name(); }

std::string ConfigHashOf(const corev1::Pod& pod) {
  const std::string* hash = Annotation(pod, kConfigHashAnnotation);
  return hash != nullptr ? *hash : pod.metadata().uid();
}

bool IsMirrorPodOf(const corev1::Pod& mirror, const corev1::Pod& static_pod) {
  if (PodFullName(mirror) != PodFullName(static_pod)) return false;
  const std::string* hash = Annotation(mirror, kConfigMirrorAnnotation);
  return hash != nullptr && *hash == ConfigHashOf(static_pod);
}

corev1::Pod MakeMirrorPod(const corev1::Pod& static_pod, const std::string& node_name, const std::string& node_uid) {
  corev1::Pod mirror;
  *mirror.mutable_metadata() = static_pod.metadata();
  *mirror.mutable_spec() = static_pod.spec();
  auto* meta = mirror.mutable_metadata();
  meta->clear_uid();
  meta->clear_resourceversion();
  meta->clear_ownerreferences();
  (*meta->mutable_annotations())[std::string(kConfigMirrorAnnotation)] = ConfigHashOf(static_pod);
  auto* owner = meta->add_ownerreferences();
  owner->set_apiversion("v1");
  owner->set_kind("Node");
  owner->set_name(node_name);
  owner->set_uid(node_uid);
  owner->set_controller(true);
  return mirror;
}

MirrorPodClient::MirrorPodClient(client::ApiClient& api) : api_(api) {}

Result<std::shared_ptr<const corev1::Pod>> MirrorPodClient::CreateMirrorPod(const corev1::Pod& static_pod,
                                                                           const std::string& node_name,
                                                                           const std::string& node_uid) {
  corev1::Pod mirror = MakeMirrorPod(static_pod, node_name, node_uid);
  const std::string& ns = mirror.metadata().namespace_();
  Result<client::ObjectPtr> created = api_.Create(Pods(), ns, mirror);
  if (created.ok()) return std::dynamic_pointer_cast<const corev1::Pod>(*created);
  if (created.status().code() != Code::kAlreadyExists) return created.status();
  // Upstream: an existing pod with the same hash is the mirror we wanted.
  Result<client::ObjectPtr> existing = api_.Get(Pods(), ns, mirror.metadata().name());
  if (!existing.ok()) return created.status();
  auto pod = std::dynamic_pointer_cast<const corev1::Pod>(*existing);
  if (pod != nullptr && IsMirrorPodOf(*pod, static_pod)) return pod;
  return created.status();
}

Result<bool> MirrorPodClient::DeleteMirrorPod(const std::string& ns, const std::string& name, const std::string& uid) {
  client::DeleteOptions options;
  options.grace_period_seconds = 0;
  options.precondition_uid = uid;
  Result<client::ObjectPtr> deleted = api_.Delete(Pods(), ns, name, options);
  if (deleted.ok()) return true;
  if (deleted.status().code() == Code::kNotFound || deleted.status().code() == Code::kConflict) return false;
  return deleted.status();
}

}  // namespace ck::kubelet
