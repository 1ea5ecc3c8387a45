#include "controller-manager/controller_table.h"

#include <algorithm>

#include "controller-manager/controllers/clusterrole_aggregation_controller.h"
#include "controller-manager/controllers/root_ca_publisher.h"
#include "controller-manager/controllers/serviceaccounts_controller.h"
#include "controller-manager/cronjob/cronjob_controller.h"
#include "controller-manager/daemonset/daemonset_controller.h"
#include "controller-manager/deployment/deployment_controller.h"
#include "controller-manager/disruption/disruption_controller.h"
#include "controller-manager/endpoints/endpoints_controller.h"
#include "controller-manager/endpoints/endpointslice_controller.h"
#include "controller-manager/garbagecollector/garbage_collector.h"
#include "controller-manager/job/job_controller.h"
#include "controller-manager/job/ttl_after_finished_controller.h"
#include "controller-manager/namespace/namespace_controller.h"
#include "controller-manager/nodeipam/node_ipam_controller.h"
#include "controller-manager/nodelifecycle/node_lifecycle_controller.h"
#include "controller-manager/nodelifecycle/taint_eviction_controller.h"
#include "controller-manager/replicaset/replica_set_controller.h"
#include "controller-manager/resourcequota/resource_quota_controller.h"
#include "controller-manager/statefulset/statefulset_controller.h"

namespace ck::controller_manager {

namespace {

template <typename C>
ControllerConstructor Make() {
  return [](ControllerContext& context) -> Result<std::unique_ptr<ManagedController>> {
    return std::unique_ptr<ManagedController>(std::make_unique<C>(context));
  };
}

bool Names(const ControllerDescriptor& c, std::string_view name) {
  return c.name == name || std::find(c.aliases.begin(), c.aliases.end(), name) != c.aliases.end();
}

}  // namespace

const std::vector<ControllerDescriptor>& KnownControllers() {
  // Names as kube-controller-manager >= 1.28 spells them, with the older names as aliases.
  static const std::vector<ControllerDescriptor> kTable = {
      {"serviceaccount-controller", {"serviceaccount"}, true, Make<ServiceAccountsController>()},
      {"root-ca-certificate-publisher-controller", {"root-ca-cert-publisher"}, true, &RootCaPublisher::New},
      {"clusterrole-aggregation-controller", {"clusterrole-aggregation"}, true,
       Make<ClusterRoleAggregationController>()},
      {"disruption-controller", {"disruption"}, true, Make<DisruptionController>()},
      {"resourcequota-controller", {"resourcequota"}, true, Make<ResourceQuotaController>()},
      {"replicaset-controller", {"replicaset"}, true, Make<ReplicaSetController>()},
      {"garbage-collector-controller", {"garbagecollector"}, true, Make<GarbageCollector>()},
      {"namespace-controller", {"namespace"}, true, Make<NamespaceController>()},
      {"deployment-controller", {"deployment"}, true, Make<DeploymentController>()},
      {"endpoints-controller", {"endpoint"}, true, Make<EndpointsController>()},
      {"endpointslice-controller", {"endpointslice"}, true, Make<EndpointSliceController>()},
      {"statefulset-controller", {"statefulset"}, true, Make<StatefulSetController>()},
      // Node IPAM before node lifecycle, as upstream; taint eviction is its own controller since 1.29.
      {"node-ipam-controller", {"nodeipam"}, true, &NodeIpamController::New},
      {"node-lifecycle-controller", {"nodelifecycle"}, true, Make<NodeLifecycleController>()},
      {"taint-eviction-controller", {}, true, Make<TaintEvictionController>()},
      {"daemonset-controller", {"daemonset"}, true, Make<DaemonSetsController>()},
      {"job-controller", {"job"}, true, Make<JobController>()},
      {"cronjob-controller", {"cronjob"}, true, Make<CronJobController>()},
      {"ttl-after-finished-controller", {"ttl-after-finished"}, true, Make<TtlAfterFinishedController>()},
      // Rows are added above this line, in start order.
  };
  return kTable;
}

Status ValidateControllerList(const std::vector<std::string>& controllers,
                              const std::vector<ControllerDescriptor>& known) {
  for (const std::string& entry : controllers) {
    if (entry == "*") continue;
    std::string_view name = entry;
    if (name.starts_with("-")) name.remove_prefix(1);
    bool found = std::any_of(known.begin(), known.end(), [&](const ControllerDescriptor& c) { return Names(c, name); });
    if (!found) return Invalid("\"" + std::string(name) + "\" is not in the list of known controllers");
  }
  return Status::Ok();
}

bool IsControllerEnabled(const ControllerDescriptor& controller, const std::vector<std::string>& controllers) {
  bool star = false;
  for (const std::string& entry : controllers) {
    if (Names(controller, entry)) return true;
    if (entry.starts_with("-") && Names(controller, std::string_view(entry).substr(1))) return false;
    if (entry == "*") star = true;
  }
  return star && controller.enabled_by_default;
}

}  // namespace ck::controller_manager
