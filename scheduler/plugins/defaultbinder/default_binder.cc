// DefaultBinder (default_binder.h).
#include "scheduler/plugins/defaultbinder/default_binder.h"

#include "common/api/api_resources.h"
#include "common/base/check.h"
#include "common/base/log.h"
#include "common/client/api_client.h"

namespace ck::scheduler::plugins {

Verdict DefaultBinder::Bind(CycleState& /*state*/, const PodInfo& pod, const std::string& node) {
  client::ApiClient* api = handle_.api();
  if (api == nullptr) return Verdict::Error("DefaultBinder: no API client to bind with");
  static const api::ResourceInfo* const pods = api::FindResource("", "v1", "pods");
  CK_CHECK(pods != nullptr) << "pods is not a served resource";

  CK_VLOG(3, "Attempting to bind pod to node", "pod", pod.Key(), "node", node);
  corev1::Binding binding;
  binding.mutable_metadata()->set_namespace_(pod.ns());
  binding.mutable_metadata()->set_name(pod.name());
  binding.mutable_metadata()->set_uid(pod.uid());
  binding.mutable_target()->set_kind("Node");
  binding.mutable_target()->set_name(node);
  auto answer = api->CreateSubresource(*pods, pod.ns(), pod.name(), "binding", binding);
  if (!answer.ok()) return Verdict::Error(answer.status());
  return Verdict::Success();
}

Result<std::unique_ptr<Plugin>> NewDefaultBinder(const PluginArgs& /*args*/, Handle& handle) {
  return std::unique_ptr<Plugin>(std::make_unique<DefaultBinder>(handle));
}

}  // namespace ck::scheduler::plugins
