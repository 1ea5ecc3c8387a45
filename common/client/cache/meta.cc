#include "common/client/cache/meta.h"

#include "common/api/object.h"

namespace ck::client {

std::string KeyOf(const google::protobuf::Message& object) {
  const metav1::ObjectMeta* meta = api::FindMeta(object);
  return meta == nullptr ? std::string() : api::ObjectKey(*meta);
}

std::string KeyOf(const ObjectPtr& object) { return object == nullptr ? std::string() : KeyOf(*object); }

const std::string& ResourceVersionOf(const google::protobuf::Message& object) {
  static const std::string kEmpty;
  const metav1::ObjectMeta* meta = api::FindMeta(object);
  return meta == nullptr ? kEmpty : meta->resourceversion();
}

}  // namespace ck::client
