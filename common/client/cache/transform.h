// Pieces for informer transforms (TransformFunc in reflector.h): a transform keeps a copy of each
// object without the fields its process never reads, and these drop fields so that their memory
// is freed (protobuf's Clear() keeps a repeated field's elements allocated for reuse).
#pragma once

#include <string>

#include "common/api/proto/core_v1.pb.h"

namespace ck::client {

template <typename T>
void DropField(google::protobuf::RepeatedPtrField<T>* field) {
  google::protobuf::RepeatedPtrField<T> empty;
  field->Swap(&empty);
}

inline void DropField(google::protobuf::Map<std::string, std::string>* field) {
  google::protobuf::Map<std::string, std::string> empty;
  field->swap(empty);
}

// Appends to `to`, of each container in `from`, only what placement and controllers read: name,
// resources, ports and restartPolicy (a restartable init container is a sidecar). Nothing else
// is copied (an informer transform runs for every event).
void CopyContainerShapes(const google::protobuf::RepeatedPtrField<::k8s::io::api::core::v1::Container>& from,
                         google::protobuf::RepeatedPtrField<::k8s::io::api::core::v1::Container>* to);

}  // namespace ck::client
