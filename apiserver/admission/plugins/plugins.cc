#include "apiserver/admission/plugins/plugins.h"

#include "apiserver/admission/plugins/limit_ranger.h"
#include "apiserver/admission/plugins/namespace_lifecycle.h"
#include "apiserver/admission/plugins/resource_quota.h"
#include "apiserver/admission/plugins/service_account.h"

namespace ck::apiserver::admission::plugins {

const std::vector<std::string_view>& BuiltinPluginNames() {
  static const std::vector<std::string_view> names = {"NamespaceLifecycle", "LimitRanger", "ServiceAccount",
                                                      "Priority", "DefaultTolerationSeconds", "ResourceQuota"};
  return names;
}

const std::vector<std::string_view>& RecommendedPluginOrder() {
  static const std::vector<std::string_view> order = {
      "NamespaceLifecycle", "LimitRanger", "ServiceAccount", "NodeRestriction", "PodSecurity", "Priority",
      "DefaultTolerationSeconds", "MutatingAdmissionWebhook", "ValidatingAdmissionWebhook", "ResourceQuota"};
  return order;
}

Result<std::unique_ptr<Plugin>> NewBuiltinPlugin(std::string_view name, const PluginDeps& deps) {
  if (name == "DefaultTolerationSeconds") {
    return std::unique_ptr<Plugin>(std::make_unique<DefaultTolerationSeconds>(deps.default_toleration_seconds));
  }
  auto source = [&]() -> const ObjectSource& {
    CK_CHECK(deps.source != nullptr) << "admission plugin " << name << " needs PluginDeps::source";
    return *deps.source;
  };
  if (name == "NamespaceLifecycle") return std::unique_ptr<Plugin>(std::make_unique<NamespaceLifecycle>(source()));
  if (name == "LimitRanger") return std::unique_ptr<Plugin>(std::make_unique<LimitRanger>(source()));
  if (name == "Priority") return std::unique_ptr<Plugin>(std::make_unique<Priority>(source()));
  if (name == "ResourceQuota") return std::unique_ptr<Plugin>(std::make_unique<ResourceQuota>(source()));
  if (name == "ServiceAccount") {
    CK_CHECK(deps.random != nullptr) << "admission plugin ServiceAccount needs PluginDeps::random";
    return std::unique_ptr<Plugin>(std::make_unique<ServiceAccountAdmission>(source(), *deps.random));
  }
  return NotFound("admission plugin \"" + std::string(name) + "\" is not built in here");
}

}  // namespace ck::apiserver::admission::plugins
