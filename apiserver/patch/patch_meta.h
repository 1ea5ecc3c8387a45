// Strategic-merge-patch metadata of the built-in types: upstream's `patchStrategy` and
// `patchMergeKey` struct tags, keyed by proto field, and the descriptor walk that finds the tag of
// a JSON key at any depth of an object.
//
// A Schema stands for the Go type of one JSON object in the document: a message (its fields by
// JSON name, with INLINE members promoted), a map field (every key has the map's value type), or
// nothing known (unknown fields, RawExtension, ...), where every list is replaced and every object
// merged key by key. Immutable tables; safe from any thread.
#pragma once

#include <google/protobuf/descriptor.h>

#include <string_view>
#include <vector>

namespace ck::apiserver::patch {

enum class PatchStrategy { kNone, kMerge, kReplace };

// The struct tags of one field: `patchStrategy:"merge,retainKeys" patchMergeKey:"name"`.
struct FieldPatchTags {
  PatchStrategy strategy = PatchStrategy::kNone;
  bool retain_keys = false;    // "retainKeys" in patchStrategy (used by clients building patches)
  std::string_view merge_key;  // "" for lists of scalars merged as sets (finalizers)
};

// The tags of `field` ("k8s.io.api.core.v1.PodSpec.containers" -> {merge, "name"}), or nullptr
// when upstream has none (the list or object is replaced / merged key by key).
const FieldPatchTags* LookupPatchTags(const google::protobuf::FieldDescriptor* field);

// The full names of every tagged field ("k8s.io.api.core.v1.PodSpec.containers", ...).
std::vector<std::string_view> TaggedFieldNames();

// The JSON name of a field as the codec writes it.
std::string_view JsonName(const google::protobuf::FieldDescriptor* field);

struct Schema {
  const google::protobuf::Descriptor* message = nullptr;         // a JSON object of this message
  const google::protobuf::FieldDescriptor* map_value = nullptr;  // a map: each key holds this
  bool known() const { return message != nullptr || map_value != nullptr; }
};

// What the schema says about one key of an object.
struct FieldMeta {
  Schema schema;             // the value's schema; for a list, the schema of its elements
  FieldPatchTags tags;       // empty for unknown keys and map entries
  bool found = false;        // the key is a field of the message (or an entry of a map)
  bool repeated = false;     // the field is a list
  std::string_view go_kind;  // reflect.Kind of the value (of the elements for a list): "struct", "string"...
};

// The schema of a top-level object of message type `type` (nullptr: nothing known).
Schema SchemaFor(const google::protobuf::Descriptor* type);

// Looks `key` up in `schema`: a message field by JSON name (searching INLINE members), or an entry
// of a map. Unknown keys come back with found == false and an empty schema.
FieldMeta LookupField(const Schema& schema, std::string_view key);

// reflect.Kind of the Go type behind `schema`: "struct", "map", or "" when unknown.
std::string_view SchemaKind(const Schema& schema);

}  // namespace ck::apiserver::patch
