// Object metadata of any API message, the way client-go's meta.Accessor reads it: every kind
// (and PartialObjectMetadata) carries an ObjectMeta in its `metadata` field, found by reflection
// once per message type and cached. Caches, reflectors and listers key objects by
// api::ObjectKey ("namespace/name", or "name" when cluster-scoped).
// Threading: safe from any thread; the returned pointers live as long as the message.
#pragma once

#include <string>

#include <google/protobuf/message.h>

#include "common/api/object.h"
#include "common/client/api_client.h"

namespace ck::client {

namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;

// "namespace/name" or "name"; "" for a message without ObjectMeta.
std::string KeyOf(const google::protobuf::Message& object);
std::string KeyOf(const ObjectPtr& object);

// metadata.resourceVersion ("" when absent).
const std::string& ResourceVersionOf(const google::protobuf::Message& object);

// A copy of `object` ready to change (objects in caches are shared and never mutated).
template <typename T>
std::unique_ptr<T> MutableCopy(const T& object) {
  auto copy = std::make_unique<T>();
  copy->CopyFrom(object);
  return copy;
}

// The typed view of a shared object: shares ownership with `object`; nullptr when `object` is
// null or not a T.
template <typename T>
std::shared_ptr<const T> As(const ObjectPtr& object) {
  if (object == nullptr) return nullptr;
  const T* typed = google::protobuf::DynamicCastToGenerated<T>(object.get());
  if (typed == nullptr) return nullptr;
  return std::shared_ptr<const T>(object, typed);
}

}  // namespace ck::client
