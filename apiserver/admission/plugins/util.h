// Small helpers the built-in admission plugins share: which resource a write is about, the typed
// object behind a Message, upstream's admission.NewForbidden wording, and resource-list
// arithmetic on exact quantities. Internal to apiserver/admission/plugins; pure functions.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "apiserver/admission/admission.h"
#include "common/api/resources.h"

namespace ck::apiserver::admission::plugins {

using api::Quantity;
using api::ResourceList;

// True when the write is about `resource` of `group` (the main resource; subresources included).
bool IsResource(const Attributes& a, std::string_view group, std::string_view resource);

// The typed object, or nullptr when the message is of another type.
template <typename T>
T* As(Message* m) { return m == nullptr ? nullptr : dynamic_cast<T*>(m); }
template <typename T>
const T* As(const Message* m) { return m == nullptr ? nullptr : dynamic_cast<const T*>(m); }

// upstream admission.NewForbidden: `<group resource> "<name>" is forbidden: <reason>`; the name is
// the request's, else the object's name or generateName (before the name is generated), else it
// is left out (`pods is forbidden: ...`).
Status ForbiddenFor(const Attributes& a, std::string_view reason);

// "k1=v1,k2=v2" in key order (upstream's prettyPrint of a ResourceList).
std::string PrettyPrint(const ResourceList& list);
// Parses a proto resource list; a bad quantity is Internal naming `what`.
Result<ResourceList> ParseList(const api::ProtoResourceList& list, std::string_view what);

}  // namespace ck::apiserver::admission::plugins
