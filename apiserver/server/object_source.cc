#include "apiserver/server/object_source.h"

#include "apiserver/object.h"

namespace ck::apiserver {

const ResourceInfo* CacheObjectSource::Resolve(std::string_view resource) {
  std::string_view plural = resource, group;
  if (size_t dot = resource.find('.'); dot != std::string_view::npos) {
    plural = resource.substr(0, dot);
    group = resource.substr(dot + 1);
  }
  for (const ResourceInfo& r : AllResources()) {
    if (r.resource == plural && r.group == group && !r.storage_prefix.empty()) return &r;
  }
  return nullptr;
}

admission::ObjectRef CacheObjectSource::Get(std::string_view resource, std::string_view ns,
                                            std::string_view name) const {
  const ResourceInfo* r = Resolve(resource);
  if (!r) return nullptr;
  std::string key = StorageKey(*r, r->namespaced ? ns : "", name);
  ObjectPtr o = cache_->Get(key);
  if (!o && cache_->Sync().ok()) o = cache_->Get(key);  // a miss is checked once more, consistently
  return o ? o->object() : nullptr;
}

std::vector<admission::ObjectRef> CacheObjectSource::List(std::string_view resource, std::string_view ns) const {
  std::vector<admission::ObjectRef> out;
  const ResourceInfo* r = Resolve(resource);
  if (!r) return out;
  WatchCache::ListResult lr = cache_->List(StoragePrefix(*r, r->namespaced ? ns : ""), nullptr, 0);
  out.reserve(lr.objects.size());
  for (const ObjectPtr& o : lr.objects) out.push_back(o->object());
  return out;
}

int64_t CacheObjectSource::ModRevision(std::string_view resource, std::string_view ns, std::string_view name) const {
  const ResourceInfo* r = Resolve(resource);
  if (!r) return 0;
  ObjectPtr o = cache_->Get(StorageKey(*r, r->namespaced ? ns : "", name));
  return o ? o->revision() : 0;
}

}  // namespace ck::apiserver
