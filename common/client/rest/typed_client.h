// Client<T>: the typed client of one kind (client-go's clientset, e.g. CoreV1().Pods(ns)) over any
// ApiClient (RestApiClient in daemons, FakeApi in unit tests):
//   Client<corev1::Pod> pods(api);
//   Result<std::shared_ptr<const corev1::Pod>> pod = pods.Get("shop", "web-1");
//   pods.Bind(binding); deployments.UpdateScale("shop", scale);
// The resource is found in the served-resource table by T's protobuf full name
// (ResourceInfo::proto_type); a T that is no served kind stops the process (a programming error).
// Objects come back shared and immutable, as from the ApiClient; errors keep the Kubernetes reason.
// Threading: as safe as the ApiClient underneath (RestApiClient: any thread).
#pragma once

#include <google/protobuf/descriptor.h>

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/api/proto/autoscaling_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/meta_v1.pb.h"
#include "common/api/proto/policy_v1.pb.h"
#include "common/base/check.h"
#include "common/client/api_client.h"

namespace ck::client {

// The served resource whose objects are messages of `type` (the first one in the table when
// several are), or nullptr.
const ResourceInfo* FindResourceForType(const google::protobuf::Descriptor* type);

// `object` as a T, or Internal when it is of another type.
template <typename T>
Result<std::shared_ptr<const T>> ObjectAs(const ObjectPtr& object) {
  if (object == nullptr) return std::shared_ptr<const T>();
  if (object->GetDescriptor() != T::descriptor()) {
    return Internal("expected " + T::descriptor()->full_name() + ", got " +
                    object->GetDescriptor()->full_name());
  }
  return std::static_pointer_cast<const T>(object);
}

template <typename T>
struct TypedList {
  std::vector<std::shared_ptr<const T>> items;
  std::string resource_version;
  std::string continue_token;
};

template <typename T>
struct TypedWatchEvent {
  WatchEvent::Type type = WatchEvent::Type::kAdded;
  std::shared_ptr<const T> object;
};

// A WatchStream whose events carry T. Same contract as WatchStream (api_client.h).
template <typename T>
class TypedWatch {
 public:
  explicit TypedWatch(std::unique_ptr<WatchStream> stream) : stream_(std::move(stream)) {}
  Result<std::optional<TypedWatchEvent<T>>> Next() {
    CK_ASSIGN_OR_RETURN(std::optional<WatchEvent> event, stream_->Next());
    if (!event) return std::optional<TypedWatchEvent<T>>();
    CK_ASSIGN_OR_RETURN(std::shared_ptr<const T> object, ObjectAs<T>(event->object));
    return std::optional<TypedWatchEvent<T>>(TypedWatchEvent<T>{event->type, std::move(object)});
  }
  void Stop() { stream_->Stop(); }

 private:
  std::unique_ptr<WatchStream> stream_;
};

template <typename T>
class Client {
 public:
  using Ptr = std::shared_ptr<const T>;

  explicit Client(ApiClient& api) : api_(api), resource_(FindResourceForType(T::descriptor())) {
    CK_CHECK(resource_ != nullptr) << T::descriptor()->full_name() << " is not a served kind";
  }
  // For a kind served under more than one resource, or a discovered one.
  Client(ApiClient& api, const ResourceInfo& resource) : api_(api), resource_(&resource) {}

  const ResourceInfo& resource() const { return *resource_; }

  Result<Ptr> Get(const std::string& ns, const std::string& name, const GetOptions& options = {}) {
    return Cast(api_.Get(*resource_, ns, name, options));
  }

  // One page (options.limit) or everything.
  Result<TypedList<T>> List(const std::string& ns, const ListOptions& options = {}) {
    CK_ASSIGN_OR_RETURN(ObjectList list, api_.List(*resource_, ns, options));
    TypedList<T> out;
    out.resource_version = std::move(list.resource_version);
    out.continue_token = std::move(list.continue_token);
    out.items.reserve(list.items.size());
    for (ObjectPtr& o : list.items) {
      CK_ASSIGN_OR_RETURN(Ptr item, ObjectAs<T>(o));
      out.items.push_back(std::move(item));
    }
    return out;
  }

  Result<std::unique_ptr<TypedWatch<T>>> Watch(const std::string& ns, const ListOptions& options = {}) {
    CK_ASSIGN_OR_RETURN(std::unique_ptr<WatchStream> stream, api_.Watch(*resource_, ns, options));
    return std::make_unique<TypedWatch<T>>(std::move(stream));
  }

  // The namespace is the object's metadata.namespace (or `ns` when given).
  Result<Ptr> Create(const T& object, const WriteOptions& options = {}) {
    return Cast(api_.Create(*resource_, object.metadata().namespace_(), object, options));
  }
  // PUT of the whole object (metadata.resourceVersion set: optimistic concurrency, 409 on a stale one).
  Result<Ptr> Update(const T& object, const WriteOptions& options = {}) {
    return Cast(api_.Update(*resource_, object.metadata().namespace_(), object, "", options));
  }
  Result<Ptr> UpdateStatus(const T& object, const WriteOptions& options = {}) {
    return Cast(api_.Update(*resource_, object.metadata().namespace_(), object, "status", options));
  }
  Result<Ptr> Patch(const std::string& ns, const std::string& name, PatchType type, const std::string& body,
                    const WriteOptions& options = {}) {
    return Cast(api_.Patch(*resource_, ns, name, type, body, "", options));
  }
  Result<Ptr> PatchStatus(const std::string& ns, const std::string& name, PatchType type,
                          const std::string& body, const WriteOptions& options = {}) {
    return Cast(api_.Patch(*resource_, ns, name, type, body, "status", options));
  }
  // The object as the server left it (deletionTimestamp set while finalizers or a grace period
  // hold it), or nullptr when it is gone.
  Result<Ptr> Delete(const std::string& ns, const std::string& name, const DeleteOptions& options = {}) {
    return Cast(api_.Delete(*resource_, ns, name, options));
  }
  Status DeleteCollection(const std::string& ns, const ListOptions& list_options = {},
                          const DeleteOptions& options = {}) {
    return api_.DeleteCollection(*resource_, ns, list_options, options);
  }

  // pods/binding: assigns the pod binding.metadata.name to binding.target.name (the scheduler).
  Status Bind(const ::k8s::io::api::core::v1::Binding& binding,
              const WriteOptions& options = {}) requires std::is_same_v<T, ::k8s::io::api::core::v1::Pod> {
    return StatusOnly(api_.CreateSubresource(*resource_, binding.metadata().namespace_(),
                                             binding.metadata().name(), "binding", binding, options));
  }
  // pods/eviction: deletes the pod unless a PodDisruptionBudget forbids it (429).
  Status Evict(const ::k8s::io::api::policy::v1::Eviction& eviction,
               const WriteOptions& options = {}) requires std::is_same_v<T, ::k8s::io::api::core::v1::Pod> {
    return StatusOnly(api_.CreateSubresource(*resource_, eviction.metadata().namespace_(),
                                             eviction.metadata().name(), "eviction", eviction, options));
  }

  // The scale subresource (autoscaling/v1 Scale) of kinds that have one.
  Result<std::shared_ptr<const ::k8s::io::api::autoscaling::v1::Scale>> GetScale(const std::string& ns,
                                                                                 const std::string& name) {
    CK_ASSIGN_OR_RETURN(ObjectPtr o, api_.Get(*resource_, ns, name, GetOptions{.subresource = "scale"}));
    return ObjectAs<::k8s::io::api::autoscaling::v1::Scale>(o);
  }
  Result<std::shared_ptr<const ::k8s::io::api::autoscaling::v1::Scale>> PatchScale(
      const std::string& ns, const std::string& name, PatchType type, const std::string& body,
      const WriteOptions& options = {}) {
    CK_ASSIGN_OR_RETURN(ObjectPtr o, api_.Patch(*resource_, ns, name, type, body, "scale", options));
    return ObjectAs<::k8s::io::api::autoscaling::v1::Scale>(o);
  }
  Result<std::shared_ptr<const ::k8s::io::api::autoscaling::v1::Scale>> UpdateScale(
      const std::string& ns, const ::k8s::io::api::autoscaling::v1::Scale& scale,
      const WriteOptions& options = {}) {
    CK_ASSIGN_OR_RETURN(ObjectPtr o, api_.Update(*resource_, ns, scale, "scale", options));
    return ObjectAs<::k8s::io::api::autoscaling::v1::Scale>(o);
  }

 private:
  static Result<Ptr> Cast(Result<ObjectPtr> r) {
    if (!r.ok()) return r.status();
    return ObjectAs<T>(*r);
  }
  static Status StatusOnly(const Result<ObjectPtr>& r) { return r.status(); }

  ApiClient& api_;
  const ResourceInfo* resource_;
};

}  // namespace ck::client
