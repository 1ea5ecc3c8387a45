// Explains why a JSON text is malformed, in Go's words and with the byte offset:
//   "invalid character '}' looking for beginning of object key string (at offset 12)".
// simdjson (the parser) only says that a document is bad, not where; this slower scanner runs
// only on that failure path. Internal to common/api. Pure function.
#pragma once

#include <string>
#include <string_view>

namespace ck::api::internal {

// The first problem in `json`, or `fallback` when the scanner finds none (a limit of the parser
// rather than bad syntax, e.g. nesting deeper than it supports).
std::string DescribeJsonSyntaxError(std::string_view json, std::string_view fallback);

}  // namespace ck::api::internal
