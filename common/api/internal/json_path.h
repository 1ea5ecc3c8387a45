// PathNode: the position of the JSON value being decoded, as a chain of stack frames
// ("spec.template.spec.containers[0].name"); turned into text only for errors and warnings.
// Internal to common/api.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ck::api::internal {

inline constexpr int kMaxJsonDepth = 1000;

struct PathNode {
  const PathNode* parent;
  std::string_view name;  // a member name or a map key
  int64_t index;          // an array index when >= 0
  bool key;               // name is a map key: written as [name]
};

// "spec.containers[0].resources.limits[cpu]"
std::string PathString(const PathNode* at);

}  // namespace ck::api::internal
