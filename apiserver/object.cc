#include "apiserver/object.h"

#include <google/protobuf/descriptor.h>

#include "common/base/check.h"

namespace ck::apiserver {

std::unique_ptr<Message> NewObject(const ResourceInfo& resource) { return NewMessage(resource.proto_type); }

bool HasField(const Message& object, std::string_view name) {
  return object.GetDescriptor()->FindFieldByName(std::string(name)) != nullptr;
}

std::string StorageKey(const ResourceInfo& resource, std::string_view ns, std::string_view name) {
  std::string key = resource.storage_prefix;
  if (resource.namespaced) {
    key += ns;
    key += '/';
  }
  key += name;
  return key;
}

std::string StoragePrefix(const ResourceInfo& resource, std::string_view ns) {
  std::string key = resource.storage_prefix;
  if (resource.namespaced && !ns.empty()) {
    key += ns;
    key += '/';
  }
  return key;
}

Result<std::shared_ptr<Message>> DecodeStored(const ResourceInfo& resource, std::string_view key,
                                              std::string_view bytes, int64_t mod_revision) {
  std::shared_ptr<Message> object = NewObject(resource);
  if (!object->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Internal("stored object at " + std::string(key) + " does not decode as " + resource.proto_type);
  }
  MutableMetaOf(object.get())->set_resourceversion(std::to_string(mod_revision));
  return object;
}

std::string EncodeForStorage(const Message& object) {
  if (!MetaOf(object).has_resourceversion()) return object.SerializeAsString();
  std::unique_ptr<Message> copy(object.New());
  copy->CopyFrom(object);
  MutableMetaOf(copy.get())->clear_resourceversion();
  return copy->SerializeAsString();
}

}  // namespace ck::apiserver
