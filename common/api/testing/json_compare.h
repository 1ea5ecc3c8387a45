// Test helper: compares two JSON texts as values (member order does not matter, numbers compare
// by value), the way the golden tests compare our output with kubectl's. Also splits a stream of
// concatenated JSON values, as `kubectl -o json` prints several objects.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace ck::api::testing {

// "" when equal, else the first difference: `spec.replicas: 3 != 2`, `metadata.labels: missing "app"`.
std::string JsonDiff(std::string_view expected, std::string_view actual);

// The values of a stream (objects separated by whitespace), each re-written compactly.
Result<std::vector<std::string>> SplitJsonStream(std::string_view stream);

// Reads a whole file; BadRequest naming the path when it cannot.
Result<std::string> ReadFile(const std::string& path);

}  // namespace ck::api::testing
