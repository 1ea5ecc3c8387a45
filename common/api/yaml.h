// YAML manifests to JSON, the way kubectl reads them (sigs.k8s.io/yaml over go-yaml v2):
// YAML 1.1 plain scalars (yes/no/on/off are booleans, 0x1F and 017 integers, 1e3 a float),
// anchors, aliases and merge keys (<<), non-string keys turned into strings, map keys written
// sorted, floats in Go's JSON form. A stream is split on `---`; documents that are empty or null
// are skipped. Input that starts with '{' is read as a stream of JSON objects, as kubectl does.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace ck::api {

// One compact JSON text per non-empty document. Errors are BadRequest and name the place:
// `yaml: line 3, column 5: illegal map value`, `yaml: line 7: unsupported map key`,
// `json: unsupported value: NaN (line 4)`, `document contains excessive aliasing`.
Result<std::vector<std::string>> YamlToJsonDocuments(std::string_view yaml);

// Exactly one document (BadRequest when there are none or several).
Result<std::string> YamlToJson(std::string_view yaml);

}  // namespace ck::api
