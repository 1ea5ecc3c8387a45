// Field selectors on the server: which fields each resource can be selected by (upstream's
// per-kind GetAttrs / field label conversion) and their values for an object.
// Pure functions; thread-safe.
#pragma once

#include <google/protobuf/message.h>

#include <map>
#include <string>
#include <vector>

#include "apiserver/resources.h"
#include "common/api/field_selector.h"
#include "common/base/status.h"

namespace ck::apiserver {

// The selectable field paths of `resource` (metadata.name and metadata.namespace for every kind,
// then the kind's own: spec.nodeName and status.phase for pods, involvedObject.* for events, ...).
const std::vector<std::string>& SelectableFields(const ResourceInfo& resource);

// BadRequest `field label not supported: <field>` for a selector naming another field.
Status CheckFieldSelector(const ResourceInfo& resource, const api::FieldSelector& selector);

// The values of the fields `selector` names, for FieldSelector::Matches (the selector has passed
// CheckFieldSelector). Only those fields are read: this runs for every object a list filters.
std::map<std::string, std::string> FieldSetOf(const google::protobuf::Message& object,
                                              const api::FieldSelector& selector);
}  // namespace ck::apiserver
