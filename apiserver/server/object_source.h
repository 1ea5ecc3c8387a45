// CacheObjectSource: admission's read access to cluster state (admission::ObjectSource), answered
// from the watch cache as it is (no consistent read: like upstream's admission plugins, which read
// informers), except that a Get that misses is asked again after the cache caught up with the
// store (upstream's live-lookup fallback: a ServiceAccount created a moment ago is found). Resources are named "<plural>" for the core group and "<plural>.<group>" otherwise.
// Threading: safe from any thread (the cache is).
#pragma once

#include "apiserver/admission/admission.h"
#include "apiserver/watch_cache.h"

namespace ck::apiserver {

class CacheObjectSource : public admission::ObjectSource {
 public:
  explicit CacheObjectSource(WatchCache* cache) : cache_(cache) {}
  admission::ObjectRef Get(std::string_view resource, std::string_view ns, std::string_view name) const override;
  std::vector<admission::ObjectRef> List(std::string_view resource, std::string_view ns) const override;
  int64_t ModRevision(std::string_view resource, std::string_view ns, std::string_view name) const override;
  bool Sync() const override { return cache_->Sync().ok(); }

  // "pods" -> the pods resource; "leases.coordination.k8s.io" -> leases. nullptr if unknown.
  static const ResourceInfo* Resolve(std::string_view resource);

 private:
  WatchCache* cache_;
};

}  // namespace ck::apiserver
