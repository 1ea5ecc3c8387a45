// The comments written above each message and field in common/api/proto/*.proto, by full name
// ("k8s.io.api.core.v1.Pod", "k8s.io.api.core.v1.Pod.spec"). They become the descriptions of the
// OpenAPI schemas that `kubectl explain` prints.
//
// The generated descriptor pool has no source comments, so the build runs protoc once more with
// --include_source_info and embeds that descriptor set in the library (CMakeLists.txt).
// Thread-safe: the map is built on first use and never changes.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace ck::apiserver::discovery {

// One paragraph per element: comment lines joined with spaces, trimmed.
const std::map<std::string, std::string, std::less<>>& ApiComments();

// The comment of `full_name`, or "" when it has none.
std::string_view ApiComment(std::string_view full_name);

}  // namespace ck::apiserver::discovery
