// KubeSchedulerConfiguration parsing and defaulting (config.h).
#include "scheduler/core/config.h"

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <yaml-cpp/yaml.h>

namespace ck::scheduler {

namespace {

constexpr std::string_view kApiVersion = "kubescheduler.config.k8s.io/v1";

Status Bad(const std::string& field, const std::string& what) {
  return Status(Code::kInvalid, "KubeSchedulerConfiguration: " + (field.empty() ? "" : field + ": ") + what);
}

// Fails on a key outside `allowed` (strict decoding).
Status CheckKeys(const YAML::Node& node, const std::string& path, std::initializer_list<std::string_view> allowed) {
  if (!node.IsMap()) return Bad(path, "must be a map");
  for (const auto& kv : node) {
    std::string key = kv.first.as<std::string>();
    bool ok = false;
    for (auto a : allowed) ok = ok || key == a;
    if (!ok) return Bad(path.empty() ? key : path + "." + key, "unknown field \"" + key + "\"");
  }
  return Status::Ok();
}

template <typename T>
Result<T> Scalar(const YAML::Node& node, const std::string& path) {
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    return Bad(path, "cannot read \"" + (node.IsScalar() ? node.Scalar() : std::string("<map or list>")) + "\"");
  }
}

Result<std::vector<PluginRef>> ParsePluginList(const YAML::Node& list, const std::string& path, bool with_weight) {
  std::vector<PluginRef> out;
  if (!list) return out;
  if (!list.IsSequence()) return Bad(path, "must be a list");
  for (size_t i = 0; i < list.size(); ++i) {
    std::string p = path + "[" + std::to_string(i) + "]";
    CK_RETURN_IF_ERROR(CheckKeys(list[i], p, {"name", "weight"}));
    PluginRef ref;
    if (!list[i]["name"]) return Bad(p + ".name", "Required value");
    CK_ASSIGN_OR_RETURN(ref.name, Scalar<std::string>(list[i]["name"], p + ".name"));
    if (list[i]["weight"]) {
      if (!with_weight) return Bad(p + ".weight", "only score and multiPoint plugins have weights");
      CK_ASSIGN_OR_RETURN(ref.weight, Scalar<int32_t>(list[i]["weight"], p + ".weight"));
      if (ref.weight < 0 || ref.weight > 100) return Bad(p + ".weight", "must be in 1..100");
    }
    out.push_back(std::move(ref));
  }
  return out;
}

// Upstream mergePlugins: defaults minus disabled, custom entries replacing defaults in place or
// appended.
std::vector<PluginRef> Merge(const std::vector<PluginRef>& defaults, const std::vector<PluginRef>& enabled,
                             const std::vector<std::string>& disabled) {
  std::set<std::string> off(disabled.begin(), disabled.end());
  std::vector<PluginRef> out;
  std::set<std::string> replaced;
  if (off.count("*") == 0) {
    for (const auto& d : defaults) {
      if (off.count(d.name) > 0) continue;
      auto custom = std::find_if(enabled.begin(), enabled.end(), [&](const PluginRef& e) { return e.name == d.name; });
      if (custom != enabled.end()) {
        out.push_back(*custom);
        replaced.insert(d.name);
      } else {
        out.push_back(d);
      }
    }
  }
  for (const auto& e : enabled) {
    if (replaced.count(e.name) == 0) out.push_back(e);
  }
  return out;
}

Result<ProfileConfig> ParseProfile(const YAML::Node& node, const std::string& path) {
  CK_RETURN_IF_ERROR(CheckKeys(node, path, {"schedulerName", "percentageOfNodesToScore", "plugins", "pluginConfig"}));
  ProfileConfig p;
  if (node["schedulerName"]) {
    CK_ASSIGN_OR_RETURN(p.scheduler_name, Scalar<std::string>(node["schedulerName"], path + ".schedulerName"));
  }
  if (p.scheduler_name.empty()) return Bad(path + ".schedulerName", "Required value");
  if (node["percentageOfNodesToScore"] && !node["percentageOfNodesToScore"].IsNull()) {
    CK_ASSIGN_OR_RETURN(int32_t pct, Scalar<int32_t>(node["percentageOfNodesToScore"], path + ".percentageOfNodesToScore"));
    if (pct < 0 || pct > 100) return Bad(path + ".percentageOfNodesToScore", "Invalid value: " + std::to_string(pct) + ": not in valid range [0-100]");
    p.percentage_of_nodes_to_score = pct;
  }
  std::vector<PluginRef> multi_enabled;
  std::vector<std::string> multi_disabled;
  if (const YAML::Node plugins = node["plugins"]; plugins && !plugins.IsNull()) {
    if (!plugins.IsMap()) return Bad(path + ".plugins", "must be a map");
    for (const auto& kv : plugins) {
      std::string point = kv.first.as<std::string>();
      std::string pp = path + ".plugins." + point;
      bool known = point == "multiPoint" || point == "preEnqueue";
      for (const char* e : kExtensionPoints) known = known || point == e;
      if (!known) return Bad(pp, "unknown field \"" + point + "\"");
      CK_RETURN_IF_ERROR(CheckKeys(kv.second, pp, {"enabled", "disabled"}));
      bool weights = point == "score" || point == "multiPoint";
      CK_ASSIGN_OR_RETURN(auto enabled, ParsePluginList(kv.second["enabled"], pp + ".enabled", weights));
      CK_ASSIGN_OR_RETURN(auto disabled_refs, ParsePluginList(kv.second["disabled"], pp + ".disabled", false));
      std::vector<std::string> disabled;
      for (auto& r : disabled_refs) disabled.push_back(std::move(r.name));
      if (point == "multiPoint") {
        multi_enabled = std::move(enabled);
        multi_disabled = std::move(disabled);
      } else if (point != "preEnqueue") {
        p.points[point] = PluginSetConfig{std::move(enabled), std::move(disabled)};
      }
    }
  }
  p.multi_point = Merge(DefaultMultiPointPlugins(), multi_enabled, multi_disabled);
  if (const YAML::Node cfg = node["pluginConfig"]; cfg && !cfg.IsNull()) {
    if (!cfg.IsSequence()) return Bad(path + ".pluginConfig", "must be a list");
    for (size_t i = 0; i < cfg.size(); ++i) {
      std::string cp = path + ".pluginConfig[" + std::to_string(i) + "]";
      CK_RETURN_IF_ERROR(CheckKeys(cfg[i], cp, {"name", "args"}));
      if (!cfg[i]["name"]) return Bad(cp + ".name", "Required value");
      CK_ASSIGN_OR_RETURN(std::string name, Scalar<std::string>(cfg[i]["name"], cp + ".name"));
      if (p.plugin_args.count(name) > 0) return Bad(cp, "Duplicate value: \"" + name + "\"");
      YAML::Node args = cfg[i]["args"] ? YAML::Clone(cfg[i]["args"]) : YAML::Node();
      // The args' own apiVersion/kind, when given, are accepted and dropped.
      if (args.IsMap()) {
        args.remove("apiVersion");
        args.remove("kind");
      }
      p.plugin_args[name] = args;
    }
  }
  return p;
}

}  // namespace

std::vector<PluginRef> DefaultMultiPointPlugins() {
  return {{"PrioritySort", 0},
          {"NodeUnschedulable", 0},
          {"NodeName", 0},
          {"TaintToleration", 3},
          {"NodeAffinity", 2},
          {"NodePorts", 0},
          {"NodeResourcesFit", 1},
          {"PodTopologySpread", 2},
          {"InterPodAffinity", 2},
          {"DefaultPreemption", 0},
          {"NodeResourcesBalancedAllocation", 1},
          {"DefaultBinder", 0}};
}

SchedulerConfig DefaultSchedulerConfig() {
  SchedulerConfig c;
  c.parallelism = std::max(1u, std::thread::hardware_concurrency());
  ProfileConfig p;
  p.multi_point = DefaultMultiPointPlugins();
  c.profiles.push_back(std::move(p));
  return c;
}

Result<SchedulerConfig> ParseSchedulerConfig(std::string_view yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return Bad("", std::string("not valid YAML: ") + e.what());
  }
  if (!root.IsMap()) return Bad("", "the document must be a map");
  CK_RETURN_IF_ERROR(CheckKeys(root, "", {"apiVersion", "kind", "parallelism", "percentageOfNodesToScore",
                                          "podInitialBackoffSeconds", "podMaxBackoffSeconds", "clientConnection",
                                          "leaderElection", "profiles", "enableProfiling",
                                          "enableContentionProfiling", "delayCacheUntilActive"}));
  std::string api_version = root["apiVersion"] ? root["apiVersion"].as<std::string>() : "";
  std::string kind = root["kind"] ? root["kind"].as<std::string>() : "";
  if (kind != "KubeSchedulerConfiguration") return Bad("kind", "must be KubeSchedulerConfiguration, not \"" + kind + "\"");
  if (api_version != kApiVersion) {
    return Bad("apiVersion", "no kind \"KubeSchedulerConfiguration\" is registered for version \"" + api_version +
                                 "\" (supported: " + std::string(kApiVersion) + ")");
  }
  SchedulerConfig c = DefaultSchedulerConfig();
  c.profiles.clear();
  if (root["parallelism"]) {
    CK_ASSIGN_OR_RETURN(c.parallelism, Scalar<int32_t>(root["parallelism"], "parallelism"));
    if (c.parallelism <= 0) return Bad("parallelism", "Invalid value: " + std::to_string(c.parallelism) + ": should be an integer greater than 0");
  }
  if (root["percentageOfNodesToScore"] && !root["percentageOfNodesToScore"].IsNull()) {
    CK_ASSIGN_OR_RETURN(int32_t pct, Scalar<int32_t>(root["percentageOfNodesToScore"], "percentageOfNodesToScore"));
    if (pct < 0 || pct > 100) return Bad("percentageOfNodesToScore", "Invalid value: " + std::to_string(pct) + ": not in valid range [0-100]");
    c.percentage_of_nodes_to_score = pct;
  }
  if (root["podInitialBackoffSeconds"]) {
    CK_ASSIGN_OR_RETURN(double v, Scalar<double>(root["podInitialBackoffSeconds"], "podInitialBackoffSeconds"));
    if (v <= 0) return Bad("podInitialBackoffSeconds", "must be greater than 0");
    c.pod_initial_backoff_seconds = v;
  }
  if (root["podMaxBackoffSeconds"]) {
    CK_ASSIGN_OR_RETURN(double v, Scalar<double>(root["podMaxBackoffSeconds"], "podMaxBackoffSeconds"));
    c.pod_max_backoff_seconds = v;
  }
  if (c.pod_initial_backoff_seconds && c.pod_max_backoff_seconds && *c.pod_max_backoff_seconds < *c.pod_initial_backoff_seconds) {
    return Bad("podMaxBackoffSeconds", "must be greater than or equal to podInitialBackoffSeconds");
  }
  if (const YAML::Node cc = root["clientConnection"]; cc) {
    CK_RETURN_IF_ERROR(CheckKeys(cc, "clientConnection", {"kubeconfig", "qps", "burst", "contentType", "acceptContentTypes"}));
    if (cc["kubeconfig"]) {
    CK_ASSIGN_OR_RETURN(c.client_connection.kubeconfig, Scalar<std::string>(cc["kubeconfig"], "clientConnection.kubeconfig"));
  }
    if (cc["qps"]) {
    CK_ASSIGN_OR_RETURN(c.client_connection.qps, Scalar<float>(cc["qps"], "clientConnection.qps"));
  }
    if (cc["burst"]) {
    CK_ASSIGN_OR_RETURN(c.client_connection.burst, Scalar<int32_t>(cc["burst"], "clientConnection.burst"));
  }
  }
  if (const YAML::Node le = root["leaderElection"]; le) {
    CK_RETURN_IF_ERROR(CheckKeys(le, "leaderElection", {"leaderElect", "leaseDuration", "renewDeadline", "retryPeriod",
                                                        "resourceLock", "resourceName", "resourceNamespace"}));
    auto& l = c.leader_election;
    if (le["leaderElect"]) {
    CK_ASSIGN_OR_RETURN(l.leader_elect, Scalar<bool>(le["leaderElect"], "leaderElection.leaderElect"));
  }
    if (le["leaseDuration"]) {
    CK_ASSIGN_OR_RETURN(l.lease_duration, Scalar<std::string>(le["leaseDuration"], "leaderElection.leaseDuration"));
  }
    if (le["renewDeadline"]) {
    CK_ASSIGN_OR_RETURN(l.renew_deadline, Scalar<std::string>(le["renewDeadline"], "leaderElection.renewDeadline"));
  }
    if (le["retryPeriod"]) {
    CK_ASSIGN_OR_RETURN(l.retry_period, Scalar<std::string>(le["retryPeriod"], "leaderElection.retryPeriod"));
  }
    if (le["resourceLock"]) {
    CK_ASSIGN_OR_RETURN(l.resource_lock, Scalar<std::string>(le["resourceLock"], "leaderElection.resourceLock"));
  }
    if (le["resourceName"]) {
    CK_ASSIGN_OR_RETURN(l.resource_name, Scalar<std::string>(le["resourceName"], "leaderElection.resourceName"));
  }
    if (le["resourceNamespace"]) {
    CK_ASSIGN_OR_RETURN(l.resource_namespace, Scalar<std::string>(le["resourceNamespace"], "leaderElection.resourceNamespace"));
  }
  }
  if (const YAML::Node profiles = root["profiles"]; profiles && !profiles.IsNull()) {
    if (!profiles.IsSequence()) return Bad("profiles", "must be a list");
    std::set<std::string> names;
    for (size_t i = 0; i < profiles.size(); ++i) {
      CK_ASSIGN_OR_RETURN(ProfileConfig p, ParseProfile(profiles[i], "profiles[" + std::to_string(i) + "]"));
      if (!names.insert(p.scheduler_name).second) {
        return Bad("profiles[" + std::to_string(i) + "].schedulerName", "Duplicate value: \"" + p.scheduler_name + "\"");
      }
      c.profiles.push_back(std::move(p));
    }
  }
  if (c.profiles.empty()) c.profiles = DefaultSchedulerConfig().profiles;
  return c;
}

Result<SchedulerConfig> LoadSchedulerConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status(Code::kNotFound, "cannot read --config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto parsed = ParseSchedulerConfig(ss.str());
  if (!parsed.ok()) return Status(parsed.status().code(), path + ": " + parsed.status().message());
  return parsed;
}

}  // namespace ck::scheduler
