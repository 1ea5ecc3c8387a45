// The Kubernetes API proto files of Clearkube (common/api/proto/*.proto) as file descriptors of
// the generated pool. The codec walks these to map kinds to messages.
//
// Calling AllApiProtoFiles() also guarantees that every generated file is linked in: the linker
// drops a static-library member that nothing references, and its messages would then be missing
// from DescriptorPool::generated_pool() when looked up by name.
// Thread-safe: the list is built once, on first call, and never changes.
#ifndef CK_COMMON_API_PROTO_PROTO_FILES_H_
#define CK_COMMON_API_PROTO_PROTO_FILES_H_

#include <vector>

#include <google/protobuf/descriptor.h>

namespace ck::api {

// The 21 files, options.proto first, then in dependency order (meta before core before apps).
const std::vector<const google::protobuf::FileDescriptor*>& AllApiProtoFiles();

}  // namespace ck::api

#endif  // CK_COMMON_API_PROTO_PROTO_FILES_H_
