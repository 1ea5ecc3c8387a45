// PrioritySort (priority_sort.h).
#include "scheduler/plugins/queuesort/priority_sort.h"

namespace ck::scheduler::plugins {

bool PrioritySort::Less(const QueuedPodInfo& a, const QueuedPodInfo& b) const {
  const int32_t pa = a.pod_info->priority();
  const int32_t pb = b.pod_info->priority();
  return pa > pb || (pa == pb && a.timestamp < b.timestamp);
}

Result<std::unique_ptr<Plugin>> NewPrioritySort(const PluginArgs& /*args*/, Handle& /*handle*/) {
  return std::unique_ptr<Plugin>(std::make_unique<PrioritySort>());
}

}  // namespace ck::scheduler::plugins
