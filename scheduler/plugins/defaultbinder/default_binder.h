// DefaultBinder (upstream plugins/defaultbinder): binds a pod the way every scheduler must, by
// POSTing a core/v1 Binding (target: the chosen Node) to the pod's `binding` subresource through
// the Handle's API client. The apiserver sets spec.nodeName and the PodScheduled condition; a pod
// that is already bound or gone makes the call fail, and the failure comes back as an Error
// verdict carrying the server's message (the scheduler then forgets the assumed pod and retries).
// No args. Threading: Bind runs on the pod's binding thread; several pods may bind at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "scheduler/framework/interface.h"
#include "scheduler/framework/registry.h"

namespace ck::scheduler::plugins {

class DefaultBinder final : public BindPlugin {
 public:
  static constexpr std::string_view kName = "DefaultBinder";

  // `handle` (its api()) must outlive the plugin.
  explicit DefaultBinder(Handle& handle) : handle_(handle) {}

  std::string_view Name() const override { return kName; }
  // Success once the server accepted the binding; Error with the server's message otherwise, or
  // when the handle has no API client.
  Verdict Bind(CycleState& state, const PodInfo& pod, const std::string& node) override;

 private:
  Handle& handle_;
};

Result<std::unique_ptr<Plugin>> NewDefaultBinder(const PluginArgs& args, Handle& handle);

}  // namespace ck::scheduler::plugins
