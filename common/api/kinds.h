// Kubernetes kinds to protobuf message types: apiVersion "apps/v1" and kind "Deployment" name
// k8s.io.api.apps.v1.Deployment; the core group ("v1") is k8s.io.api.core.v1, and kinds of
// meta.k8s.io (Status, Table, APIResourceList, ...) are found in k8s.io.apimachinery.pkg.apis.meta.
// Thread-safe.
#pragma once

#include <memory>
#include <string_view>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

namespace ck::api {

// The message type of (api_version, kind), or nullptr when Clearkube has no such type.
const google::protobuf::Descriptor* FindKind(std::string_view api_version, std::string_view kind);

// A new, empty object of that type, or nullptr.
std::unique_ptr<google::protobuf::Message> NewObject(std::string_view api_version, std::string_view kind);

// A new, empty message of the full protobuf type name ("k8s.io.api.core.v1.Pod"; what
// ResourceInfo::proto_type holds). CK_CHECKs that the type exists.
std::unique_ptr<google::protobuf::Message> NewMessage(std::string_view type_name);

}  // namespace ck::api
