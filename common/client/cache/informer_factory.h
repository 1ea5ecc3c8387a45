// SharedInformerFactory: one informer per (resource, namespace, label selector, field selector,
// metadata-only) per process, however many controllers ask for it (client-go's
// SharedInformerFactory plus its metadata-only twin). Typed access for every served kind:
//   SharedInformerFactory factory(client, clock, random);
//   auto pods = factory.ForKind<corev1::Pod>();          // same informer on every call
//   pods.AddEventHandler({.on_add = ..., .on_update = ..., .on_delete = ...});
//   factory.Start();
//   factory.WaitForCacheSync(RealClock::Get(), deadline);
//   pods.Lister().Namespace("shop").Get("web-1");
// and metadata-only informers (PartialObjectMetadata) for any api::ResourceInfo, for walkers of
// every kind such as the garbage collector.
// Threading: safe from any thread. Informers live as long as the factory; Shutdown() (or the
// destructor) stops them all.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include "common/api/object.h"
#include "common/client/cache/lister.h"
#include "common/client/cache/meta.h"
#include "common/client/cache/shared_informer.h"

namespace ck::client {

// What makes informers distinct. Fields left empty take the factory's defaults.
struct InformerSpec {
  std::string ns;
  std::string label_selector;
  std::string field_selector;
  // Used only when this call creates the informer (handlers may ask for their own period).
  std::optional<Duration> resync_period;
};

struct FactoryOptions {
  // Namespace, selectors, page size, watch timeout and backoff of every informer (per-informer
  // namespace and selectors come from InformerSpec when set).
  ReflectorOptions defaults;
  Duration default_resync{0};
};

// The handler of a typed informer: the same calls as EventHandler with typed objects. on_delete
// gets the final state, or the last known one when `final_state_unknown` (a tombstone).
template <typename T>
struct TypedEventHandler {
  std::function<void(const std::shared_ptr<const T>& obj, bool is_initial_list)> on_add;
  std::function<void(const std::shared_ptr<const T>& old_obj, const std::shared_ptr<const T>& new_obj)> on_update;
  std::function<void(const std::shared_ptr<const T>& obj, bool final_state_unknown)> on_delete;
};

// A shared informer seen as holding T (a small handle; the factory owns the informer).
template <typename T>
class TypedInformer {
 public:
  explicit TypedInformer(SharedIndexInformer& informer) : informer_(&informer) {}

  SharedIndexInformer& Informer() const { return *informer_; }
  client::Lister<T> Lister() const { return client::Lister<T>(informer_->GetIndexer(), informer_->resource()); }
  bool HasSynced() const { return informer_->HasSynced(); }

  HandlerRegistration AddEventHandler(TypedEventHandler<T> handler) {
    return informer_->AddEventHandler(Untyped(std::move(handler)));
  }
  HandlerRegistration AddEventHandler(TypedEventHandler<T> handler, Duration resync_period) {
    return informer_->AddEventHandler(Untyped(std::move(handler)), resync_period);
  }

 private:
  static std::shared_ptr<const T> Cast(const ObjectPtr& obj) {
    std::shared_ptr<const T> typed = As<T>(obj);
    CK_CHECK(typed != nullptr) << "informer delivered a " << obj->GetDescriptor()->full_name() << ", not a "
                               << T::descriptor()->full_name();
    return typed;
  }
  static EventHandler Untyped(TypedEventHandler<T> h) {
    EventHandler out;
    if (h.on_add) out.on_add = [f = std::move(h.on_add)](const ObjectPtr& obj, bool initial) { f(Cast(obj), initial); };
    if (h.on_update) {
      out.on_update = [f = std::move(h.on_update)](const ObjectPtr& old_obj, const ObjectPtr& new_obj) {
        f(Cast(old_obj), Cast(new_obj));
      };
    }
    if (h.on_delete) {
      out.on_delete = [f = std::move(h.on_delete)](const DeletedObject& deleted) {
        f(Cast(StateOf(deleted)), std::holds_alternative<DeletedFinalStateUnknown>(deleted));
      };
    }
    return out;
  }

  SharedIndexInformer* informer_;
};

class SharedInformerFactory {
 public:
  // `client`, `clock` and `random` must outlive the factory.
  SharedInformerFactory(ApiClient& client, Clock& clock, Random& random, FactoryOptions options = {});
  ~SharedInformerFactory();  // Shutdown()
  SharedInformerFactory(const SharedInformerFactory&) = delete;
  SharedInformerFactory& operator=(const SharedInformerFactory&) = delete;

  // The informer of `resource` with full objects / with PartialObjectMetadata, created on first
  // use. Not started: call Start() (again) after asking for informers.
  SharedIndexInformer& InformerFor(const ResourceInfo& resource, const InformerSpec& spec = {});
  SharedIndexInformer& MetadataInformerFor(const ResourceInfo& resource, const InformerSpec& spec = {});

  // The informer of the kind whose protobuf message is T (any served kind, e.g. corev1::Pod).
  template <typename T>
  TypedInformer<T> ForKind(const InformerSpec& spec = {}) {
    return TypedInformer<T>(InformerFor(ResourceOfMessage(T::descriptor()->full_name()), spec));
  }
  TypedInformer<metav1::PartialObjectMetadata> MetadataFor(const ResourceInfo& resource, const InformerSpec& spec = {}) {
    return TypedInformer<metav1::PartialObjectMetadata>(MetadataInformerFor(resource, spec));
  }

  // Starts every informer not started yet.
  void Start();
  // Waits until every started informer has synced (see client::WaitForCacheSync).
  bool WaitForCacheSync(Clock& clock, MonoTime deadline);
  // Stops every informer; later Start() calls do nothing.
  void Shutdown();
  size_t informer_count() const;

  // The served resource whose objects are the protobuf message `full_name`; CK_CHECK when none.
  static const ResourceInfo& ResourceOfMessage(const std::string& full_name);

 private:
  using Key = std::tuple<std::string, std::string, std::string, std::string, bool>;
  SharedIndexInformer& Informer(const ResourceInfo& resource, const InformerSpec& spec, bool metadata_only);

  ApiClient& client_;
  Clock& clock_;
  Random& random_;
  const FactoryOptions options_;

  mutable std::mutex mu_;
  std::map<Key, std::unique_ptr<SharedIndexInformer>> informers_;  // guarded by mu_
  bool shut_down_ = false;                                         // guarded by mu_
};

}  // namespace ck::client
