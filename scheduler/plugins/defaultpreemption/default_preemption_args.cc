// DefaultPreemptionArgs parsing and validation (default_preemption_args.h).
#include "scheduler/plugins/defaultpreemption/default_preemption_args.h"

#include <limits>
#include <string>
#include <vector>

#include "common/base/strings.h"

namespace ck::scheduler::plugins {

namespace {

constexpr std::string_view kArgsKind = "DefaultPreemptionArgs";
constexpr std::string_view kPercentageField = "minCandidateNodesPercentage";
constexpr std::string_view kAbsoluteField = "minCandidateNodesAbsolute";

Status InvalidArgs(std::string message) { return Invalid(std::string(kArgsKind) + ": " + message); }

// Upstream field.Invalid(path, value, detail).Error().
std::string FieldInvalid(std::string_view field, const std::string& value, std::string_view detail) {
  return std::string(field) + ": Invalid value: " + value + ": " + std::string(detail);
}

// A field present with a YAML null keeps its default, as a nil pointer does upstream.
Status ReadInt32(const YAML::Node& value, std::string_view field, int32_t* out) {
  if (value.IsNull()) return Status::Ok();
  if (!value.IsScalar()) return InvalidArgs(std::string(field) + ": Invalid value: must be an integer");
  const std::string& text = value.Scalar();
  std::optional<int64_t> parsed = ParseInt(text);
  if (!parsed.has_value() || *parsed < std::numeric_limits<int32_t>::min() ||
      *parsed > std::numeric_limits<int32_t>::max()) {
    return InvalidArgs(FieldInvalid(field, JsonString(text), "must be a 32-bit integer"));
  }
  *out = static_cast<int32_t>(*parsed);
  return Status::Ok();
}

}  // namespace

Result<DefaultPreemptionArgs> ParseDefaultPreemptionArgs(const PluginArgs& args) {
  DefaultPreemptionArgs out;
  if (!args.IsDefined() || args.IsNull()) return out;
  if (!args.IsMap()) return InvalidArgs("args must be a map");
  for (const auto& item : args) {
    const std::string key = item.first.IsScalar() ? item.first.Scalar() : std::string();
    Status st;
    if (key == kPercentageField) {
      st = ReadInt32(item.second, kPercentageField, &out.min_candidate_nodes_percentage);
    } else if (key == kAbsoluteField) {
      st = ReadInt32(item.second, kAbsoluteField, &out.min_candidate_nodes_absolute);
    } else if (key == "apiVersion" || key == "kind") {
      continue;  // the typed args' TypeMeta
    } else {
      return InvalidArgs("unknown field " + JsonString(key));
    }
    if (!st.ok()) return st;
  }
  Status valid = ValidateDefaultPreemptionArgs(out);
  if (!valid.ok()) return valid;
  return out;
}

Status ValidateDefaultPreemptionArgs(const DefaultPreemptionArgs& args) {
  std::vector<std::string> errs;
  const int32_t pct = args.min_candidate_nodes_percentage;
  const int32_t abs = args.min_candidate_nodes_absolute;
  if (pct < 0 || pct > 100)
    errs.push_back(FieldInvalid(kPercentageField, std::to_string(pct), "not in valid range [0, 100]"));
  if (abs < 0)
    errs.push_back(FieldInvalid(kAbsoluteField, std::to_string(abs), "not in valid range [0, inf)"));
  if (pct == 0 && abs == 0) {
    errs.push_back(FieldInvalid(kPercentageField, std::to_string(pct),
                                "cannot be zero at the same time as minCandidateNodesAbsolute"));
    errs.push_back(FieldInvalid(kAbsoluteField, std::to_string(abs),
                                "cannot be zero at the same time as minCandidateNodesPercentage"));
  }
  if (errs.empty()) return Status::Ok();
  // utilerrors.Aggregate: one error as is, several as "[a, b]".
  if (errs.size() == 1) return InvalidArgs(errs[0]);
  return InvalidArgs("[" + Join(errs, ", ") + "]");
}

}  // namespace ck::scheduler::plugins
