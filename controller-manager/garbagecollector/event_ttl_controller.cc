#include "controller-manager/garbagecollector/event_ttl_controller.h"

#include <algorithm>

#include "common/api/object.h"
#include "common/base/log.h"

namespace ck::controller_manager {

namespace corev1 = ::k8s::io::api::core::v1;
namespace eventsv1 = ::k8s::io::api::events::v1;
namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;

namespace {

constexpr char kCorePrefix[] = "core/";
constexpr char kEventsPrefix[] = "events.k8s.io/";

// The later of `t` and `when` (an unset time does not count).
void Newest(WallTime* t, const metav1::Time& when) {
  if (!api::IsZeroTime(when)) *t = std::max(*t, api::WallTimeOf(when));
}
void Newest(WallTime* t, const metav1::MicroTime& when) {
  if ((when.has_seconds() || when.has_nanos()) && when.seconds() != api::kGoZeroTimeSeconds) {
    *t = std::max(*t, api::FromTimestamp(api::Timestamp{when.seconds(), when.nanos()}));
  }
}

}  // namespace

WallTime EventTtlController::ExpiryOf(const corev1::Event& event, Duration ttl) {
  WallTime last{};
  Newest(&last, event.lasttimestamp());
  Newest(&last, event.eventtime());
  if (event.has_series()) Newest(&last, event.series().lastobservedtime());
  if (last == WallTime{}) Newest(&last, event.metadata().creationtimestamp());
  return last + std::chrono::duration_cast<WallTime::duration>(ttl);
}

WallTime EventTtlController::ExpiryOf(const eventsv1::Event& event, Duration ttl) {
  WallTime last{};
  Newest(&last, event.deprecatedlasttimestamp());
  Newest(&last, event.eventtime());
  if (event.has_series()) Newest(&last, event.series().lastobservedtime());
  if (last == WallTime{}) Newest(&last, event.metadata().creationtimestamp());
  return last + std::chrono::duration_cast<WallTime::duration>(ttl);
}

EventTtlController::EventTtlController(ControllerContext& context, int workers)
    : ManagedController(client::ControllerOptions{.name = "event_ttl",
                                                  .workers = workers,
                                                  .clock = &context.clock,
                                                  .registry = &context.metrics}),
      api_(context.api),
      clock_(context.clock),
      ttl_(context.settings.event_ttl),
      core_events_(context.informers.ForKind<corev1::Event>()),
      events_(context.informers.ForKind<eventsv1::Event>()) {
  Handle(core_events_, client::TypedEventHandler<corev1::Event>{
      .on_add = [this](const auto& e, bool) {
        Schedule(kCorePrefix + api::ObjectKey(e->metadata()), ExpiryOf(*e, ttl_));
      },
      .on_update = [this](const auto&, const auto& e) {
        Schedule(kCorePrefix + api::ObjectKey(e->metadata()), ExpiryOf(*e, ttl_));
      },
  });
  Handle(events_, client::TypedEventHandler<eventsv1::Event>{
      .on_add = [this](const auto& e, bool) {
        Schedule(kEventsPrefix + api::ObjectKey(e->metadata()), ExpiryOf(*e, ttl_));
      },
      .on_update = [this](const auto&, const auto& e) {
        Schedule(kEventsPrefix + api::ObjectKey(e->metadata()), ExpiryOf(*e, ttl_));
      },
  });
}

EventTtlController::~EventTtlController() {
  RemoveHandlers();
  Stop();
}

std::vector<client::SharedIndexInformer*> EventTtlController::Informers() const {
  return {&core_events_.Informer(), &events_.Informer()};
}

void EventTtlController::Schedule(const std::string& key, WallTime expiry) {
  Duration wait = std::chrono::duration_cast<Duration>(expiry - clock_.Now());
  if (wait <= Duration::zero()) {
    Enqueue(key);
  } else {
    EnqueueAfter(key, wait);
  }
}

Status EventTtlController::Sync(const std::string& key) {
  std::string_view k = key;
  const bool core = k.starts_with(kCorePrefix);
  if (!core && !k.starts_with(kEventsPrefix)) return Status::Ok();
  k.remove_prefix(core ? sizeof(kCorePrefix) - 1 : sizeof(kEventsPrefix) - 1);
  CK_ASSIGN_OR_RETURN(auto ns_name, api::SplitObjectKey(k));
  const auto& [ns, name] = ns_name;
  if (core) {
    Result<std::shared_ptr<const corev1::Event>> e = core_events_.Lister().Get(ns, name);
    if (!e.ok()) return e.status().code() == Code::kNotFound ? Status::Ok() : e.status();
    return Expire(core_events_.Informer().resource(), key, **e, ExpiryOf(**e, ttl_));
  }
  Result<std::shared_ptr<const eventsv1::Event>> e = events_.Lister().Get(ns, name);
  if (!e.ok()) return e.status().code() == Code::kNotFound ? Status::Ok() : e.status();
  return Expire(events_.Informer().resource(), key, **e, ExpiryOf(**e, ttl_));
}

Status EventTtlController::Expire(const client::ResourceInfo& resource, const std::string& key,
                                  const google::protobuf::Message& event, WallTime expiry) {
  if (clock_.Now() < expiry) {
    Schedule(key, expiry);  // it recurred since it was queued
    return Status::Ok();
  }
  const metav1::ObjectMeta& meta = api::MetaOf(event);
  client::DeleteOptions options;
  options.precondition_uid = meta.uid();
  options.precondition_resource_version = meta.resourceversion();
  Result<client::ObjectPtr> deleted = api_.Delete(resource, meta.namespace_(), meta.name(), options);
  if (deleted.ok()) {
    CK_VLOG(4, "Deleted expired event", "event", api::ObjectKey(meta), "resource", resource.GroupResource());
    return Status::Ok();
  }
  // Gone already, or changed since the cache saw it: its update event schedules it again.
  if (deleted.status().code() == Code::kNotFound || deleted.status().code() == Code::kConflict) return Status::Ok();
  return deleted.status();
}

}  // namespace ck::controller_manager
