// The plugin registry's shape (upstream frameworkruntime.Registry): a name and a factory per
// plugin. The one table of built-in plugins is scheduler/plugins/registry.cc (STYLE.md #7: an
// explicit table, no self-registering statics). A factory gets the plugin's `args` from the
// KubeSchedulerConfiguration (`pluginConfig[].args`, a YAML map; Null when none was given: the
// plugin applies upstream's defaults) and the framework Handle, which outlives the plugin.
// Bad args are kInvalid with a message naming the field, e.g.
//   "NodeResourcesFitArgs: scoringStrategy.type: Unsupported value: \"Foo\"".
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/base/status.h"
#include "scheduler/framework/interface.h"

namespace ck::scheduler {

using PluginArgs = YAML::Node;
using PluginFactory = std::function<Result<std::unique_ptr<Plugin>>(const PluginArgs& args, Handle& handle)>;

struct RegistryEntry {
  std::string name;
  PluginFactory factory;
};

using Registry = std::vector<RegistryEntry>;

}  // namespace ck::scheduler
