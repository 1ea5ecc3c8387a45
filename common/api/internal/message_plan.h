// MessagePlan: what the JSON codec needs to know about one protobuf message type, computed once
// from its descriptor and cached for the life of the process: each field's JSON name, its Go
// encoding rule ((ck.api.go) option: OMITEMPTY, POINTER, ALWAYS, INLINE, NULLABLE), whether the
// type is one of the special Kubernetes types (metav1.Time, resource.Quantity, intstr.IntOrString,
// runtime.RawExtension, ...), and a hash table from JSON member name to field (inline fields'
// members are promoted into the enclosing message, as Go's `json:",inline"` does).
//
// Threading: PlanFor() is safe from any thread; plans are immutable once returned.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

namespace ck::api::internal {

enum class GoMode : uint8_t { kOmitEmpty = 0, kPointer = 1, kAlways = 2, kInline = 3, kNullable = 4 };

enum class Special : uint8_t {
  kNone,
  kTime,         // meta.v1.Time: RFC 3339 seconds, null when zero
  kMicroTime,    // meta.v1.MicroTime: RFC 3339 with microseconds
  kDuration,     // meta.v1.Duration: Go duration string
  kQuantity,     // resource.Quantity: canonical quantity string
  kIntOrString,  // intstr.IntOrString: JSON number or string
  kRawJson,      // runtime.RawExtension, meta.v1.FieldsV1, apiextensions JSON: embedded JSON
  kStringList,   // ExtraValue, meta.v1.Verbs: a Go []string type
};

enum class Kind : uint8_t {
  kBool, kInt32, kInt64, kUint32, kUint64, kFloat, kDouble, kString, kBytes, kEnum, kMessage
};

struct MessagePlan;

struct FieldPlan {
  const google::protobuf::FieldDescriptor* field = nullptr;
  std::string name;        // JSON member name
  std::string quoted_key;  // `"name":`, ready to append
  GoMode mode = GoMode::kOmitEmpty;
  // Go writes something for this field even when it is unset (ALWAYS, NULLABLE, INLINE).
  bool written_when_unset = false;
  Kind kind = Kind::kString;
  bool repeated = false;
  bool is_map = false;
  const MessagePlan* message = nullptr;  // kind == kMessage: the (element) message type
  // Maps (repeated entries with key = 1, value = 2).
  const google::protobuf::FieldDescriptor* map_key = nullptr;
  const google::protobuf::FieldDescriptor* map_value = nullptr;
  Kind map_value_kind = Kind::kString;
  const MessagePlan* map_value_message = nullptr;
};

// A JSON member name accepted by a message: path[0..depth) are inline fields to step through,
// path[depth] is the field that receives the value.
struct MemberTarget {
  std::string_view name;
  uint32_t slot = 0;  // dense index, for duplicate detection
  uint8_t depth = 0;
  const FieldPlan* path[4] = {};
  const FieldPlan& leaf() const { return *path[depth]; }
};

struct MessagePlan {
  const google::protobuf::Descriptor* descriptor = nullptr;
  // The generated class's reflection (every generated message of a type shares it), looked up
  // once so the codec does not pay for Message::GetReflection() on every nested message.
  const google::protobuf::Reflection* reflection = nullptr;
  Special special = Special::kNone;
  // Accepts "kind"/"apiVersion" members (Go embeds metav1.TypeMeta in object and list types).
  bool accepts_type_meta = false;
  std::vector<FieldPlan> fields;  // in field-number order
  std::vector<MemberTarget> members;
  // Fields of special types, by role (Time: seconds/nanos; IntOrString: type/intVal/strVal; ...).
  const google::protobuf::FieldDescriptor* special_fields[3] = {};

  const MemberTarget* Find(std::string_view name) const {
    uint32_t h = HashName(name) & table_mask;
    while (true) {
      uint16_t idx = table[h];
      if (idx == 0) return nullptr;
      const MemberTarget& m = members[idx - 1];
      if (m.name.size() == name.size() && std::memcmp(m.name.data(), name.data(), name.size()) == 0) return &m;
      h = (h + 1) & table_mask;
    }
  }

  // Cheap and good enough for member names: the length and three of the characters.
  static uint32_t HashName(std::string_view s) {
    if (s.empty()) return 0;
    uint32_t h = static_cast<uint32_t>(s.size()) * 0x9E3779B1u;
    h ^= static_cast<unsigned char>(s[0]) * 0x85EBCA77u;
    h ^= static_cast<unsigned char>(s[s.size() - 1]) * 0xC2B2AE3Du;
    h ^= static_cast<unsigned char>(s[s.size() / 2]) * 0x27D4EB2Fu;
    return h ^ (h >> 15);
  }

  // Open-addressing hash table over `members` (index + 1; 0 = empty).
  std::vector<uint16_t> table;
  uint32_t table_mask = 0;
};

// The plan for `d`, built on first use (together with every type reachable from it).
const MessagePlan& PlanFor(const google::protobuf::Descriptor* d);

}  // namespace ck::api::internal
