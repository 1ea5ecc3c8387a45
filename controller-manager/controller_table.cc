#include "controller-manager/controller_table.h"

#include <algorithm>

#include "controller-manager/controllers/clusterrole_aggregation_controller.h"
#include "controller-manager/controllers/root_ca_publisher.h"
#include "controller-manager/controllers/serviceaccounts_controller.h"
#include "controller-manager/disruption/disruption_controller.h"
#include "controller-manager/resourcequota/resource_quota_controller.h"

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
