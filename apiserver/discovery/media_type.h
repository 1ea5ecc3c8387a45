// Accept header parsing (RFC 7231 media ranges with parameters) for the content negotiation of
// discovery, OpenAPI and Table replies. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ck::apiserver::discovery {

struct MediaRange {
  std::string type;     // lower case: "application", "*"
  std::string subtype;  // lower case: "json", "vnd.kubernetes.protobuf", "*"
  double q = 1.0;
  std::vector<std::pair<std::string, std::string>> params;  // names lower case, without q

  // The value of parameter `name` (lower case), or "" when absent.
  std::string_view Param(std::string_view name) const;
};

// The ranges of an Accept header in the order a server should try them: by q (highest first),
// then specific before wildcard, then as written. Malformed ranges are skipped; an empty header
// yields nothing.
std::vector<MediaRange> ParseAccept(std::string_view accept);

}  // namespace ck::apiserver::discovery
