// The table of generated JSON codecs (from ck-api-jsongen), keyed by message descriptor.
// codec.cc uses a generated codec when the type has one and the reflection codec otherwise (test
// messages, types added without regenerating). Thread-safe: built once, then read-only.
#pragma once

#include <unordered_map>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "common/api/internal/json_runtime.h"

namespace ck::api::internal {

struct GeneratedCodec {
  // The generated class's reflection: a message is handled only when it is of that class.
  const google::protobuf::Reflection* reflection = nullptr;
  // Writes the members of the message (no braces): the caller opens the object.
  void (*encode_fields)(const google::protobuf::Message&, JsonWriter&) = nullptr;
  // Reads a top-level JSON object into the message.
  Status (*decode)(JsonValue, google::protobuf::Message*, DecodeContext&) = nullptr;
};

class GeneratedCodecTable {
 public:
  void Add(const google::protobuf::Descriptor* d, void (*encode_fields)(const google::protobuf::Message&, JsonWriter&),
           Status (*decode)(JsonValue, google::protobuf::Message*, DecodeContext&)) {
    GeneratedCodec c;
    c.reflection = google::protobuf::MessageFactory::generated_factory()->GetPrototype(d)->GetReflection();
    c.encode_fields = encode_fields;
    c.decode = decode;
    table_[d] = c;
  }
  const GeneratedCodec* Find(const google::protobuf::Descriptor* d) const {
    auto it = table_.find(d);
    return it == table_.end() ? nullptr : &it->second;
  }
  size_t size() const { return table_.size(); }

 private:
  std::unordered_map<const google::protobuf::Descriptor*, GeneratedCodec> table_;
};

// Generated (registry.json.cc): adds every generated codec.
void RegisterGeneratedCodecs(GeneratedCodecTable* table);

// The process-wide table, built on first use; nullptr for a type without generated code.
const GeneratedCodec* FindGeneratedCodec(const google::protobuf::Descriptor* d);

}  // namespace ck::api::internal
