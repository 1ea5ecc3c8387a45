#include "common/client/cache/informer_factory.h"

#include "common/base/log.h"

namespace ck::client {

SharedInformerFactory::SharedInformerFactory(ApiClient& client, Clock& clock, Random& random, FactoryOptions options)
    : client_(client), clock_(clock), random_(random), options_(std::move(options)) {}

SharedInformerFactory::~SharedInformerFactory() { Shutdown(); }

const ResourceInfo& SharedInformerFactory::ResourceOfMessage(const std::string& full_name) {
  for (const ResourceInfo& r : api::AllResources()) {
    if (r.proto_type == full_name && !r.list_proto_type.empty()) return r;
  }
  CK_CHECK(false) << "no served resource holds " << full_name;
  __builtin_unreachable();
}

SharedIndexInformer& SharedInformerFactory::InformerFor(const ResourceInfo& resource, const InformerSpec& spec) {
  return Informer(resource, spec, false);
}

SharedIndexInformer& SharedInformerFactory::MetadataInformerFor(const ResourceInfo& resource,
                                                               const InformerSpec& spec) {
  return Informer(resource, spec, true);
}

SharedIndexInformer& SharedInformerFactory::Informer(const ResourceInfo& resource, const InformerSpec& spec,
                                                     bool metadata_only) {
  InformerOptions o;
  o.list_watch = options_.defaults;
  if (!spec.ns.empty()) o.list_watch.ns = spec.ns;
  if (!resource.namespaced) o.list_watch.ns.clear();
  if (!spec.label_selector.empty()) o.list_watch.label_selector = spec.label_selector;
  if (!spec.field_selector.empty()) o.list_watch.field_selector = spec.field_selector;
  o.list_watch.metadata_only = metadata_only;
  o.resync_period = spec.resync_period.value_or(options_.default_resync);
  Key key{resource.GroupResource(), o.list_watch.ns, o.list_watch.label_selector, o.list_watch.field_selector,
          metadata_only};

  std::lock_guard lock(mu_);
  auto it = informers_.find(key);
  if (it != informers_.end()) return *it->second;
  auto informer = std::make_unique<SharedIndexInformer>(client_, resource, clock_, random_, std::move(o));
  SharedIndexInformer& ref = *informer;
  informers_.emplace(std::move(key), std::move(informer));
  return ref;
}

void SharedInformerFactory::Start() {
  std::lock_guard lock(mu_);
  if (shut_down_) return;
  for (auto& [key, informer] : informers_) informer->Start();
}

bool SharedInformerFactory::WaitForCacheSync(Clock& clock, MonoTime deadline) {
  std::vector<SharedIndexInformer*> started;
  {
    std::lock_guard lock(mu_);
    for (auto& [key, informer] : informers_) {
      if (informer->IsStarted()) started.push_back(informer.get());
    }
  }
  return client::WaitForCacheSync(started, clock, deadline);
}

void SharedInformerFactory::Shutdown() {
  std::vector<SharedIndexInformer*> informers;
  {
    std::lock_guard lock(mu_);
    shut_down_ = true;
    for (auto& [key, informer] : informers_) informers.push_back(informer.get());
  }
  // Outside mu_: a handler being joined may still ask the factory for an informer.
  for (SharedIndexInformer* informer : informers) informer->Stop();
}

size_t SharedInformerFactory::informer_count() const {
  std::lock_guard lock(mu_);
  return informers_.size();
}

}  // namespace ck::client
