// Lister<T>: typed, read-only views of an informer's cache (client-go's generated listers):
//   Lister<corev1::Pod> pods = factory.ForKind<corev1::Pod>().Lister();
//   pods.List(selector); pods.Get("shop", "web-1"); pods.Namespace("shop").List();
// Objects come back as std::shared_ptr<const T> sharing ownership with the cache: cheap to hand
// out, never to be mutated (copy first: MutableCopy). A missing object is NotFound with upstream's
// message (`pod "web-1" not found`).
// Threading: safe from any thread; a lister is a small value that must not outlive its informer.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/api/label_selector.h"
#include "common/client/cache/indexer.h"
#include "common/client/cache/meta.h"

namespace ck::client {

namespace internal {
// The cached objects in `ns` ("" = all) whose labels match `selector`; uses the namespace and
// labels indexes when the indexer has them.
std::vector<ObjectPtr> ListMatching(const Indexer& indexer, std::string_view ns, const api::LabelSelector& selector);
// NotFound `<resource>[.<group>] "<name>" not found`, as listers say it.
Status ListerNotFound(const ResourceInfo& resource, std::string_view name);
}  // namespace internal

template <typename T>
std::vector<std::shared_ptr<const T>> CastAll(const std::vector<ObjectPtr>& objects) {
  std::vector<std::shared_ptr<const T>> out;
  out.reserve(objects.size());
  for (const ObjectPtr& object : objects) {
    std::shared_ptr<const T> typed = As<T>(object);
    CK_CHECK(typed != nullptr) << "cache holds a " << object->GetDescriptor()->full_name() << ", not a "
                               << T::descriptor()->full_name();
    out.push_back(std::move(typed));
  }
  return out;
}

template <typename T>
class NamespaceLister {
 public:
  NamespaceLister(const Indexer& indexer, const ResourceInfo& resource, std::string ns)
      : indexer_(&indexer), resource_(&resource), ns_(std::move(ns)) {}

  std::vector<std::shared_ptr<const T>> List(const api::LabelSelector& selector = {}) const {
    return CastAll<T>(internal::ListMatching(*indexer_, ns_, selector));
  }
  Result<std::shared_ptr<const T>> Get(std::string_view name) const {
    ObjectPtr object = indexer_->Get(ns_, name);
    if (object == nullptr) return internal::ListerNotFound(*resource_, name);
    return CastAll<T>({object})[0];
  }

 private:
  const Indexer* indexer_;
  const ResourceInfo* resource_;
  std::string ns_;
};

template <typename T>
class Lister {
 public:
  Lister(const Indexer& indexer, const ResourceInfo& resource) : indexer_(&indexer), resource_(&resource) {}

  // Every cached object (of every namespace) whose labels match.
  std::vector<std::shared_ptr<const T>> List(const api::LabelSelector& selector = {}) const {
    return CastAll<T>(internal::ListMatching(*indexer_, "", selector));
  }
  // A namespaced object by namespace and name, or a cluster-scoped one with ns = "".
  Result<std::shared_ptr<const T>> Get(std::string_view ns, std::string_view name) const {
    ObjectPtr object = indexer_->Get(ns, name);
    if (object == nullptr) return internal::ListerNotFound(*resource_, name);
    return CastAll<T>({object})[0];
  }
  // A cluster-scoped object by name.
  Result<std::shared_ptr<const T>> Get(std::string_view name) const { return Get("", name); }
  NamespaceLister<T> Namespace(std::string ns) const { return NamespaceLister<T>(*indexer_, *resource_, std::move(ns)); }
  // The objects whose index `index_name` has `value` (e.g. pods by spec.nodeName); NotFound for an
  // unknown index.
  Result<std::vector<std::shared_ptr<const T>>> ByIndex(std::string_view index_name, std::string_view value) const {
    CK_ASSIGN_OR_RETURN(std::vector<ObjectPtr> objects, indexer_->ByIndex(index_name, value));
    return CastAll<T>(objects);
  }
  const Indexer& indexer() const { return *indexer_; }

 private:
  const Indexer* indexer_;
  const ResourceInfo* resource_;
};

}  // namespace ck::client
