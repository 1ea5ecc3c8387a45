#include "common/client/rest/typed_client.h"

namespace ck::client {

// Stored resources first: "bindings" (create-only) and pods/binding share core/v1 Binding.
const ResourceInfo* FindResourceForType(const google::protobuf::Descriptor* type) {
  for (const ResourceInfo& r : api::AllResources()) {
    if (r.proto_type == type->full_name() && !r.storage_prefix.empty()) return &r;
  }
  for (const ResourceInfo& r : api::AllResources()) {
    if (r.proto_type == type->full_name()) return &r;
  }
  return nullptr;
}

}  // namespace ck::client
