#include "scheduler/plugins/podtopologyspread/args.h"

#include <exception>
#include <string_view>
#include <vector>

#include "common/api/label_selector.h"
#include "common/base/strings.h"

namespace ck::scheduler::plugins {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;

constexpr std::string_view kArgsKind = "PodTopologySpreadArgs";

// Upstream field.Error texts: "<path>: Invalid value: <value>: <detail>" and friends.
std::string InvalidValue(const std::string& path, const std::string& value, std::string_view detail) {
  return path + ": Invalid value: " + value + ": " + std::string(detail);
}

Status ArgsError(const std::vector<std::string>& errs) {
  // utilerrors.NewAggregate(...).Error(): one message alone, several as "[a, b]".
  std::string msg = errs.size() == 1 ? errs[0] : "[" + Join(errs, ", ") + "]";
  return Invalid(std::string(kArgsKind) + ": " + msg);
}

// Decodes one defaultConstraints entry; `path` is "defaultConstraints[i]".
Status DecodeConstraint(const YAML::Node& node, const std::string& path,
                        corev1::TopologySpreadConstraint* out) {
  if (!node.IsMap()) return ArgsError({path + ": expected a map"});
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    const std::string field = path + "." + key;
    try {
      if (key == "maxSkew") {
        out->set_maxskew(v.as<int32_t>());
      } else if (key == "topologyKey") {
        out->set_topologykey(v.as<std::string>());
      } else if (key == "whenUnsatisfiable") {
        out->set_whenunsatisfiable(v.as<std::string>());
      } else if (key == "labelSelector") {
        // Any non-null selector is refused by validation; only its presence matters.
        if (!v.IsNull()) out->mutable_labelselector();
      } else if (key == "minDomains") {
        if (!v.IsNull()) out->set_mindomains(v.as<int32_t>());
      } else if (key == "nodeAffinityPolicy") {
        if (!v.IsNull()) out->set_nodeaffinitypolicy(v.as<std::string>());
      } else if (key == "nodeTaintsPolicy") {
        if (!v.IsNull()) out->set_nodetaintspolicy(v.as<std::string>());
      } else if (key == "matchLabelKeys") {
        if (!v.IsNull() && !v.IsSequence()) return ArgsError({field + ": expected a list"});
        for (const auto& k : v) out->add_matchlabelkeys(k.as<std::string>());
      } else {
        return ArgsError({"strict decoding error: unknown field \"" + field + "\""});
      }
    } catch (const std::exception& e) {
      return ArgsError({field + ": cannot decode: " + e.what()});
    }
  }
  return Status::Ok();
}

}  // namespace

Result<PodTopologySpreadArgs> ParsePodTopologySpreadArgs(const PluginArgs& args) {
  PodTopologySpreadArgs out;
  out.defaulting_type.clear();
  if (args.IsDefined() && !args.IsNull()) {
    if (!args.IsMap()) return ArgsError({"expected a map"});
    for (const auto& kv : args) {
      std::string key;
      try {
        key = kv.first.as<std::string>();
        if (key == "kind" || key == "apiVersion") continue;
        if (key == "defaultingType") {
          out.defaulting_type = kv.second.IsNull() ? "" : kv.second.as<std::string>();
        } else if (key == "defaultConstraints") {
          const YAML::Node& list = kv.second;
          if (list.IsNull()) continue;
          if (!list.IsSequence()) return ArgsError({"defaultConstraints: expected a list"});
          for (size_t i = 0; i < list.size(); ++i) {
            CK_RETURN_IF_ERROR(DecodeConstraint(list[i], "defaultConstraints[" + std::to_string(i) + "]",
                                                out.default_constraints.Add()));
          }
        } else {
          return ArgsError({"strict decoding error: unknown field \"" + key + "\""});
        }
      } catch (const std::exception& e) {
        return ArgsError({(key.empty() ? std::string("args") : key) + ": cannot decode: " + e.what()});
      }
    }
  }
  // SetDefaults_PodTopologySpreadArgs (v1).
  if (out.defaulting_type.empty()) out.defaulting_type = std::string(kSystemDefaulting);
  CK_RETURN_IF_ERROR(ValidatePodTopologySpreadArgs(out));
  return out;
}

Status ValidatePodTopologySpreadArgs(const PodTopologySpreadArgs& args) {
  std::vector<std::string> errs;
  if (args.defaulting_type != kSystemDefaulting && args.defaulting_type != kListDefaulting) {
    errs.push_back("defaultingType: Unsupported value: " + JsonString(args.defaulting_type) +
                   ": supported values: \"System\", \"List\"");
  } else if (args.defaulting_type == kSystemDefaulting && !args.default_constraints.empty()) {
    errs.push_back(InvalidValue("defaultingType", JsonString(args.defaulting_type),
                                "when .defaultConstraints are not empty"));
  }
  for (int i = 0; i < args.default_constraints.size(); ++i) {
    const corev1::TopologySpreadConstraint& c = args.default_constraints[i];
    const std::string p = "defaultConstraints[" + std::to_string(i) + "]";
    if (c.maxskew() <= 0) {
      errs.push_back(
          InvalidValue(p + ".maxSkew", std::to_string(c.maxskew()), "not in valid range (0, inf)"));
    }
    if (c.topologykey().empty()) {
      errs.push_back(p + ".topologyKey: Required value: can not be empty");
    } else {
      for (const std::string& m : api::ValidateLabelKey(c.topologykey())) {
        errs.push_back(InvalidValue(p + ".topologyKey", JsonString(c.topologykey()), m));
      }
    }
    const std::string& when = c.whenunsatisfiable();
    if (when.empty()) {
      errs.push_back(p + ".whenUnsatisfiable: Required value: can not be empty");
    } else if (when != "DoNotSchedule" && when != "ScheduleAnyway") {
      errs.push_back(p + ".whenUnsatisfiable: Unsupported value: " + JsonString(when) +
                     ": supported values: \"DoNotSchedule\", \"ScheduleAnyway\"");
    }
    if (c.has_labelselector()) {
      errs.push_back(
          p +
          ".labelSelector: Forbidden: constraint must not define a selector, as they deduced for each pod");
    }
    for (int j = 0; j < i; ++j) {
      const corev1::TopologySpreadConstraint& other = args.default_constraints[j];
      if (c.topologykey() == other.topologykey() && c.whenunsatisfiable() == other.whenunsatisfiable()) {
        errs.push_back(p + ": Duplicate value: " + JsonString("{" + c.topologykey() + ", " + when + "}"));
        break;
      }
    }
  }
  if (errs.empty()) return Status::Ok();
  return ArgsError(errs);
}

}  // namespace ck::scheduler::plugins
