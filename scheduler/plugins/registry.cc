// BuiltinRegistry (registry.h).
#include "scheduler/plugins/registry.h"

#include "scheduler/plugins/defaultbinder/default_binder.h"
#include "scheduler/plugins/defaultpreemption/default_preemption.h"
#include "scheduler/plugins/interpodaffinity/plugin.h"
#include "scheduler/plugins/nodeaffinity/node_affinity.h"
#include "scheduler/plugins/nodename/node_name.h"
#include "scheduler/plugins/nodeports/node_ports.h"
#include "scheduler/plugins/noderesources/balanced_allocation.h"
#include "scheduler/plugins/noderesources/fit.h"
#include "scheduler/plugins/nodeunschedulable/node_unschedulable.h"
#include "scheduler/plugins/podtopologyspread/pod_topology_spread.h"
#include "scheduler/plugins/queuesort/priority_sort.h"
#include "scheduler/plugins/tainttoleration/taint_toleration.h"

namespace ck::scheduler {

const Registry& BuiltinRegistry() {
  using namespace plugins;  // NOLINT: the factories
  static const Registry* registry = new Registry{
      {"PrioritySort", NewPrioritySort},
      {"NodeUnschedulable", NewNodeUnschedulable},
      {"NodeName", NewNodeName},
      {"TaintToleration", NewTaintToleration},
      {"NodeAffinity", NewNodeAffinity},
      {"NodePorts", NewNodePorts},
      {"NodeResourcesFit", NewNodeResourcesFit},
      {"NodeResourcesBalancedAllocation", NewNodeResourcesBalancedAllocation},
      {"PodTopologySpread", NewPodTopologySpread},
      {"InterPodAffinity", NewInterPodAffinity},
      {"DefaultPreemption", NewDefaultPreemption},
      {"DefaultBinder", NewDefaultBinder},
  };
  return *registry;
}

}  // namespace ck::scheduler
