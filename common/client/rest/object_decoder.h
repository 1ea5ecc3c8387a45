// Decoding the API server's JSON answers into shared, immutable protobuf objects: one object, a
// list (whose items become separate ObjectPtrs without copying), or a watch event's object.
//
// The expected message type comes from the resource table (ResourceInfo::proto_type); when it is
// unknown (a discovered resource), or the body is of another kind (a Status where an object was
// expected), the body's own kind/apiVersion picks the type (common/api/kinds.h). Members the
// type does not know are ignored, as client-go ignores them, so a newer server's fields do no
// harm; decoding a full object into PartialObjectMetadata keeps just its metadata.
// Pure functions; thread-safe.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/api/proto/meta_v1.pb.h"
#include "common/base/status.h"
#include "common/client/api_client.h"

namespace ck::client {

// The generated message type named `full_name` ("k8s.io.api.core.v1.Pod"), or nullptr.
const google::protobuf::Descriptor* FindMessageType(std::string_view full_name);
const google::protobuf::Descriptor* PartialObjectMetadataType();
const google::protobuf::Descriptor* PartialObjectMetadataListType();

// A new, empty message of `type` (which must be a generated type).
std::unique_ptr<google::protobuf::Message> NewMessage(const google::protobuf::Descriptor* type);

// Decodes one object. `expected` may be nullptr (decode by the body's kind). A body of kind
// Status is returned as a meta.v1.Status message whatever was expected. BadRequest when the body
// does not parse or names a kind without a type here.
Result<ObjectPtr> DecodeObject(std::string_view json, const google::protobuf::Descriptor* expected);

// Decodes a list: `list_type` is the list message (PodList, PartialObjectMetadataList) or nullptr
// to decode each item by its kind (or the list's kind without "List").
Result<ObjectList> DecodeList(std::string_view json, const google::protobuf::Descriptor* list_type);

// True when `object` is a meta.v1.Status.
bool IsApiStatus(const google::protobuf::Message& object);

}  // namespace ck::client
