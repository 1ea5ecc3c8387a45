// API objects as the apiserver handles them: protobuf messages of the kind's type, created by
// type name, with metadata reached through reflection (every kind has `metadata` as field 1).
// Objects in the store are the message's protobuf bytes without a resourceVersion; the
// resourceVersion is the store's mod_revision, set when an object is read (as upstream's etcd3
// storage does).
// Pure helpers; safe from any thread.
#pragma once

#include <google/protobuf/message.h>

#include <memory>
#include <string>
#include <string_view>

#include "apiserver/resources.h"
#include "common/api/kinds.h"
#include "common/api/object.h"
#include "common/api/proto/meta_v1.pb.h"
#include "common/base/status.h"

namespace ck::apiserver {

namespace metav1 = k8s::io::apimachinery::pkg::apis::meta::v1;
using google::protobuf::Message;

using api::MetaOf;
using api::MutableMetaOf;
using api::NewMessage;

// A new, empty message of the kind's type (ResourceInfo::proto_type).
std::unique_ptr<Message> NewObject(const ResourceInfo& resource);
// True if the kind's message has a field named `name` (e.g. "status", "spec").
bool HasField(const Message& object, std::string_view name);

// The store key of an object: <prefix><namespace>/<name> or <prefix><name>.
std::string StorageKey(const ResourceInfo& resource, std::string_view ns, std::string_view name);
// The key prefix of a collection: every object (namespace empty) or those of one namespace.
std::string StoragePrefix(const ResourceInfo& resource, std::string_view ns);

// Stored bytes -> object with metadata.resourceVersion = mod_revision. Internal on bad bytes
// (the key is named in the message).
Result<std::shared_ptr<Message>> DecodeStored(const ResourceInfo& resource, std::string_view key,
                                              std::string_view bytes, int64_t mod_revision);
// Object -> stored bytes (resourceVersion cleared; it is not stored).
std::string EncodeForStorage(const Message& object);

}  // namespace ck::apiserver
