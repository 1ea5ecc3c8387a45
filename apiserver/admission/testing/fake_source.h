// FakeObjectSource: an in-memory admission::ObjectSource for plugin tests. Objects are added as
// protobuf messages under "<plural>[.<group>]" (the same names the apiserver's source uses);
// each Put bumps a revision so ModRevision behaves like the store's.
// Threading: guarded by one mutex; safe from many threads.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "apiserver/admission/admission.h"
#include "common/api/object.h"

namespace ck::apiserver::admission::testing {

class FakeObjectSource : public ObjectSource {
 public:
  // Stores a copy of `object` (namespace and name from its metadata); returns its revision.
  int64_t Put(std::string_view resource, const Message& object) {
    std::shared_ptr<Message> copy(object.New());
    copy->CopyFrom(object);
    const auto& meta = api::MetaOf(*copy);
    std::lock_guard lock(mu_);
    ++revision_;
    objects_[{std::string(resource), meta.namespace_(), meta.name()}] = {std::move(copy), revision_};
    return revision_;
  }
  void Remove(std::string_view resource, std::string_view ns, std::string_view name) {
    std::lock_guard lock(mu_);
    objects_.erase({std::string(resource), std::string(ns), std::string(name)});
  }

  ObjectRef Get(std::string_view resource, std::string_view ns, std::string_view name) const override {
    std::lock_guard lock(mu_);
    auto it = objects_.find({std::string(resource), std::string(ns), std::string(name)});
    return it == objects_.end() ? nullptr : it->second.first;
  }
  std::vector<ObjectRef> List(std::string_view resource, std::string_view ns) const override {
    std::lock_guard lock(mu_);
    std::vector<ObjectRef> out;
    for (const auto& [key, value] : objects_) {
      if (std::get<0>(key) == resource && (ns.empty() || std::get<1>(key) == ns)) out.push_back(value.first);
    }
    return out;
  }
  int64_t ModRevision(std::string_view resource, std::string_view ns, std::string_view name) const override {
    std::lock_guard lock(mu_);
    auto it = objects_.find({std::string(resource), std::string(ns), std::string(name)});
    return it == objects_.end() ? 0 : it->second.second;
  }

 private:
  mutable std::mutex mu_;
  int64_t revision_ = 0;
  std::map<std::tuple<std::string, std::string, std::string>, std::pair<ObjectRef, int64_t>> objects_;
};

}  // namespace ck::apiserver::admission::testing
