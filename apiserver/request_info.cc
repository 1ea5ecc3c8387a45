#include "apiserver/request_info.h"

#include "common/base/strings.h"

namespace ck::apiserver {

namespace {

// Verbs for a resource request, as upstream maps HTTP methods.
std::string VerbFor(std::string_view method) {
  if (method == "POST") return "create";
  if (method == "GET" || method == "HEAD") return "get";
  if (method == "PUT") return "update";
  if (method == "PATCH") return "patch";
  if (method == "DELETE") return "delete";
  return ToLower(method);
}

bool IsWatch(const net::Query& q) {
  auto w = q.Get("watch");
  return w && (*w == "true" || *w == "1");
}

}  // namespace

Result<RequestInfo> ParseRequestInfo(std::string_view method, std::string_view path, const net::Query& query) {
  RequestInfo info;
  info.path = std::string(path);
  auto segments = net::SplitPath(path);
  if (!segments) return BadRequest("malformed path \"" + std::string(path) + "\": bad percent-escape");
  auto& s = *segments;
  info.verb = ToLower(method);

  // /api/v1/... and /apis/<group>/<version>/...; everything else is a non-resource URL.
  size_t i = 0;
  if (s.size() >= 2 && s[0] == "api") {
    info.api_prefix = "api";
    info.api_version = s[1];
    i = 2;
  } else if (s.size() >= 3 && s[0] == "apis") {
    info.api_prefix = "apis";
    info.api_group = s[1];
    info.api_version = s[2];
    i = 3;
  } else {
    return info;  // /healthz, /version, /api, /apis, /apis/<group>, /openapi/v3, ...
  }
  if (i >= s.size()) return info;  // discovery of one group/version: /api/v1, /apis/apps/v1

  info.is_resource_request = true;
  info.verb = VerbFor(method);
  std::vector<std::string> parts(s.begin() + static_cast<long>(i), s.end());
  // Deprecated /watch/ prefix paths: /api/v1/watch/namespaces/x/pods.
  bool watch_prefix = false;
  if (!parts.empty() && parts[0] == "watch") {
    watch_prefix = true;
    parts.erase(parts.begin());
    if (parts.empty()) return BadRequest("malformed watch path \"" + std::string(path) + "\"");
  }
  // namespaces/<ns>/<resource>/... ; "namespaces" alone or "namespaces/<name>[/<sub>]" is the
  // namespace object itself (its namespace is its name, as upstream reports it).
  if (parts[0] == "namespaces") {
    if (parts.size() >= 2) {
      info.namespace_ = parts[1];
      // namespaces/<name>/status and /finalize are subresources of the namespace itself.
      if (parts.size() >= 3 && parts[2] != "status" && parts[2] != "finalize") {
        parts.erase(parts.begin(), parts.begin() + 2);
      }
    }
  }
  info.parts = parts;
  info.resource = parts[0];
  if (parts.size() >= 2) info.name = parts[1];
  if (parts.size() >= 3) info.subresource = parts[2];
  if (parts.size() > 3) {
    // Only a few subresources take more segments (proxy paths); keep the rest in `parts`.
    if (info.subresource != "proxy") {
      return BadRequest("the path \"" + std::string(path) + "\" has too many segments");
    }
  }

  if (info.name.empty()) {
    if (info.verb == "get") info.verb = (watch_prefix || IsWatch(query)) ? "watch" : "list";
    if (info.verb == "delete") info.verb = "deletecollection";
  } else if (info.verb == "get" && (watch_prefix || IsWatch(query))) {
    info.verb = "watch";
  }
  return info;
}

}  // namespace ck::apiserver
