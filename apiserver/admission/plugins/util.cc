#include "apiserver/admission/plugins/util.h"

#include "common/api/object.h"

namespace ck::apiserver::admission::plugins {

bool IsResource(const Attributes& a, std::string_view group, std::string_view resource) {
  return a.resource != nullptr && a.resource->group == group && a.resource->resource == resource;
}

Status ForbiddenFor(const Attributes& a, std::string_view reason) {
  std::string name = a.name;
  if (name.empty() && a.object != nullptr) {
    if (const auto* meta = api::FindMeta(*a.object)) name = meta->name().empty() ? meta->generatename() : meta->name();
  }
  std::string resource = a.resource != nullptr ? a.resource->GroupResource() : "";
  std::string message;
  if (resource.empty()) {
    message = "forbidden: ";
  } else if (name.empty()) {
    message = resource + " is forbidden: ";
  } else {
    message = resource + " \"" + name + "\" is forbidden: ";
  }
  message += reason;
  return Forbidden(std::move(message));
}

std::string PrettyPrint(const ResourceList& list) {
  std::string out;
  for (const auto& [name, q] : list) {  // std::map: key order
    if (!out.empty()) out += ",";
    out += name + "=" + q.String();
  }
  return out;
}

Result<ResourceList> ParseList(const api::ProtoResourceList& list, std::string_view what) {
  Result<ResourceList> parsed = api::FromProto(list);
  if (!parsed.ok()) return Internal(std::string(what) + ": " + parsed.status().message());
  return parsed;
}

}  // namespace ck::apiserver::admission::plugins
