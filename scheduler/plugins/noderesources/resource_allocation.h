// The resource scorer shared by NodeResourcesFit (LeastAllocated, MostAllocated,
// RequestedToCapacityRatio) and NodeResourcesBalancedAllocation (upstream
// noderesources/resource_allocation.go and the *_allocated.go scorers), plus the pieces of args
// both plugins decode: ResourceSpec, shape points, and field errors worded like upstream's
// k8s.io/apimachinery/pkg/util/validation/field.
// A scorer is built once from validated args and is immutable afterwards: Score runs on any
// number of threads at once and allocates nothing.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/base/status.h"
#include "scheduler/framework/types.h"

namespace ck::scheduler::plugins {

// A resource to score and its weight (upstream config.ResourceSpec).
struct ResourceSpec {
  std::string name;
  int64_t weight = 0;
  friend bool operator==(const ResourceSpec&, const ResourceSpec&) = default;
};

// One point of RequestedToCapacityRatio's shape: utilization in [0, 100], score in [0, 10].
struct UtilizationShapePoint {
  int32_t utilization = 0;
  int32_t score = 0;
  friend bool operator==(const UtilizationShapePoint&, const UtilizationShapePoint&) = default;
};

// Shape scores run to 10 (config.MaxCustomPriorityScore) and are scaled to kMaxNodeScore.
inline constexpr int64_t kMaxCustomPriorityScore = 10;
inline constexpr int64_t kMaxUtilization = 100;

// Upstream's default resources: cpu and memory, weight 1 each.
std::vector<ResourceSpec> DefaultResourceSpecs();

enum class ScoringFunction { kLeastAllocated, kMostAllocated, kRequestedToCapacityRatio, kBalancedAllocation };

class ResourceAllocationScorer {
 public:
  // `resources` must be non-empty with positive weights and `shape` (RequestedToCapacityRatio
  // only) non-empty with increasing utilization (the args validation guarantees both).
  // use_requested: compare against NodeInfo::requested and the pod's plain requests
  // (BalancedAllocation); otherwise cpu and memory use the "non-zero" requests (100m / 200Mi for
  // containers that request nothing), as upstream's Fit scorers do.
  ResourceAllocationScorer(ScoringFunction function, std::vector<ResourceSpec> resources, bool use_requested,
                           std::vector<UtilizationShapePoint> shape = {});

  const std::vector<ResourceSpec>& resources() const { return resources_; }

  // The pod's request of each resource, in resources() order (what PreScore stores).
  std::vector<int64_t> PodRequests(const PodInfo& pod) const;
  // True when the pod requests none of the resources.
  static bool IsBestEffort(std::span<const int64_t> pod_requests);

  // The node's score in [0, kMaxNodeScore] for a pod with `pod_requests` (from PodRequests; one
  // entry per resource). Resources the node does not have, and extended resources the pod does
  // not request, take no part.
  int64_t Score(const NodeInfo& node, std::span<const int64_t> pod_requests) const;

 private:
  enum class Slot : uint8_t { kCpu, kMemory, kEphemeralStorage, kScalar };
  struct Entry {
    Slot slot = Slot::kScalar;
    bool scalar_name = false;  // IsScalarResourceName: skipped when the pod does not request it
    std::string name;
    int64_t weight = 0;
  };
  struct Amounts {
    int64_t allocatable = 0;  // 0: the resource takes no part
    int64_t requested = 0;    // on the node, the pod included
  };

  Amounts AllocatableAndRequested(const NodeInfo& node, const Entry& entry, int64_t pod_request) const;
  int64_t BrokenLinear(int64_t utilization) const;
  int64_t BalancedScore(const NodeInfo& node, std::span<const int64_t> pod_requests) const;

  ScoringFunction function_;
  std::vector<ResourceSpec> resources_;
  std::vector<Entry> entries_;
  bool use_requested_;
  std::vector<UtilizationShapePoint> shape_;  // scores already scaled to kMaxNodeScore
};

// ---- args decoding helpers shared by the two plugins ----

// Field errors in upstream's wording, e.g.
//   scoringStrategy.resources[0].weight: Invalid value: 0: resource weight of cpu not in valid range (0, 100]
class ArgsErrors {
 public:
  void Invalid(const std::string& path, const std::string& rendered_value, std::string_view detail);
  void Required(const std::string& path, std::string_view detail);
  void Duplicate(const std::string& path, const std::string& rendered_value);
  void NotSupported(const std::string& path, const std::string& rendered_value,
                    const std::vector<std::string>& supported);
  void UnknownField(const std::string& path);
  bool empty() const { return errors_.empty(); }
  // OK without errors; else kInvalid "<kind>: <error>" or, for several, "<kind>: [<e1>, <e2>]"
  // (upstream's aggregate).
  ck::Status ToStatus(std::string_view kind) const;

 private:
  std::vector<std::string> errors_;
};

// Go's %q of a string (how upstream renders string values in field errors).
std::string GoQuote(std::string_view s);
// "<parent>.<child>" ("<child>" at the root).
std::string ChildPath(const std::string& parent, std::string_view child);

// Reports every key of the map `node` that is not in `known` (strict decoding, as upstream's
// config loader). A node that is not a map is reported as Invalid; false then.
bool CheckFields(const YAML::Node& node, const std::string& path, std::initializer_list<std::string_view> known,
                 ArgsErrors* errors);
std::optional<int64_t> DecodeInt(const YAML::Node& node, const std::string& path, ArgsErrors* errors);
std::optional<std::string> DecodeString(const YAML::Node& node, const std::string& path, ArgsErrors* errors);
std::vector<std::string> DecodeStringList(const YAML::Node& node, const std::string& path, ArgsErrors* errors);
// A list of {name, weight}; a missing weight is 0 (the defaulting turns 0 into 1).
std::vector<ResourceSpec> DecodeResourceSpecs(const YAML::Node& node, const std::string& path, ArgsErrors* errors);

// apimachinery's IsQualifiedName: the messages for each rule `value` breaks (empty when valid).
std::vector<std::string> QualifiedNameErrors(std::string_view value);

}  // namespace ck::scheduler::plugins
