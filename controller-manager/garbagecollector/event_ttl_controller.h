// EventTtlController ("event-ttl-controller", a Clearkube controller with no upstream twin):
// deletes Events (core/v1 and events.k8s.io/v1) once they have not changed for settings.event_ttl.
// kube-apiserver writes every Event with an etcd lease of --event-ttl (1 h) and etcd drops it when
// the lease runs out; Clearkube's store has no leases, so without this controller Events would pile
// up for ever. An Event's age counts from its last occurrence: the newest of lastTimestamp,
// eventTime and series.lastObservedTime (deprecatedLastTimestamp for events.k8s.io), or its
// creationTimestamp when it carries none of them.
//   Event add/update -> key "core/<ns>/<name>" or "events.k8s.io/<ns>/<name>" queued for the
//   moment it expires (the delaying queue runs on context.clock) -> Sync: expired -> DELETE with
//   uid and resourceVersion preconditions (a recurrence that just bumped its count survives);
//   not yet (it was updated) -> queued again for its new expiry.
// Threading: see client::Controller.
#pragma once

#include <string>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/events_v1.pb.h"
#include "controller-manager/controller_table.h"

namespace ck::controller_manager {

class EventTtlController final : public ManagedController {
 public:
  explicit EventTtlController(ControllerContext& context, int workers = 2);
  ~EventTtlController() override;

  std::vector<client::SharedIndexInformer*> Informers() const override;

  // When the event expires: its last occurrence plus `ttl`.
  static WallTime ExpiryOf(const k8s::io::api::core::v1::Event& event, Duration ttl);
  static WallTime ExpiryOf(const k8s::io::api::events::v1::Event& event, Duration ttl);

 protected:
  Status Sync(const std::string& key) override;

 private:
  void Schedule(const std::string& key, WallTime expiry);
  Status Expire(const client::ResourceInfo& resource, const std::string& key, const google::protobuf::Message& event,
                WallTime expiry);

  client::ApiClient& api_;
  Clock& clock_;
  const Duration ttl_;
  client::TypedInformer<k8s::io::api::core::v1::Event> core_events_;
  client::TypedInformer<k8s::io::api::events::v1::Event> events_;
};

}  // namespace ck::controller_manager
