// PrioritySort (upstream plugins/queuesort): the order of the active queue. A pod with a higher
// spec.priority (absent: 0) comes first; among equal priorities, the one queued earlier
// (QueuedPodInfo::timestamp). The only QueueSort plugin; every profile must use the same one.
// No args. Threading: stateless; Less is safe from any thread.
#pragma once

#include <memory>
#include <string_view>

#include "scheduler/framework/interface.h"
#include "scheduler/framework/registry.h"

namespace ck::scheduler::plugins {

class PrioritySort final : public QueueSortPlugin {
 public:
  static constexpr std::string_view kName = "PrioritySort";

  std::string_view Name() const override { return kName; }
  bool Less(const QueuedPodInfo& a, const QueuedPodInfo& b) const override;
};

Result<std::unique_ptr<Plugin>> NewPrioritySort(const PluginArgs& args, Handle& handle);

}  // namespace ck::scheduler::plugins
