// PodTopologySpreadArgs (kubescheduler.config.k8s.io/v1): the cluster-level default spread
// constraints, applied to pods that declare none of their own.
//   defaultingType: System (the default) -> maxSkew 3 on kubernetes.io/hostname and maxSkew 5 on
//                   topology.kubernetes.io/zone, both ScheduleAnyway;
//                   List -> exactly `defaultConstraints` (none when the list is empty).
//   defaultConstraints: TopologySpreadConstraints without labelSelector (the selector is deduced
//                   per pod from the Services, ReplicationControllers, ReplicaSets and
//                   StatefulSets that select it).
// Parsed from the profile's pluginConfig args (YAML, upstream field names) and validated like
// upstream's ValidatePodTopologySpreadArgs. Plain values; not synchronized.
#pragma once

#include <google/protobuf/repeated_ptr_field.h>

#include <string>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/status.h"
#include "scheduler/framework/registry.h"

namespace ck::scheduler::plugins {

inline constexpr std::string_view kSystemDefaulting = "System";
inline constexpr std::string_view kListDefaulting = "List";

struct PodTopologySpreadArgs {
  google::protobuf::RepeatedPtrField<::k8s::io::api::core::v1::TopologySpreadConstraint> default_constraints;
  std::string defaulting_type = std::string(kSystemDefaulting);
};

// Reads `args` (Null: all defaults), applies the defaults and validates. kInvalid with every
// problem, each naming its field, e.g.
//   "PodTopologySpreadArgs: defaultConstraints[0].labelSelector: Forbidden: constraint must not
//    define a selector, as they deduced for each pod"
// Unknown fields are refused as upstream's strict decoding does.
Result<PodTopologySpreadArgs> ParsePodTopologySpreadArgs(const PluginArgs& args);

// ValidatePodTopologySpreadArgs on already decoded args: OK or kInvalid as above.
Status ValidatePodTopologySpreadArgs(const PodTopologySpreadArgs& args);

}  // namespace ck::scheduler::plugins
