// TtlAfterFinishedController ("ttl-after-finished-controller", alias "ttl-after-finished"):
// deletes a finished Job (Complete or Failed) spec.ttlSecondsAfterFinished seconds after the
// lastTransitionTime of its finished condition, as upstream pkg/controller/ttlafterfinished
// does: a Job whose TTL has not expired is requeued for the moment it does (a timer on the
// injected clock); an expired one is checked again with a fresh GET (the TTL may have changed)
// and deleted with its uid as precondition and, as upstream, propagationPolicy Foreground, so
// that the garbage collector deletes its pods first.
//   Job add/update (finished, with a TTL, not being deleted) -> key "ns/name" -> Sync(key)
// Threading: see client::Controller.
#pragma once

#include <string>
#include <vector>

#include "common/api/proto/batch_v1.pb.h"
#include "controller-manager/controller_table.h"

namespace ck::controller_manager {

class TtlAfterFinishedController final : public ManagedController {
 public:
  // Workers: settings.concurrent_ttl_after_finished_syncs. `propagation_policy` is what the
  // delete asks for (upstream: "Foreground").
  explicit TtlAfterFinishedController(ControllerContext& context, std::string propagation_policy = "Foreground");
  ~TtlAfterFinishedController() override;

  std::vector<client::SharedIndexInformer*> Informers() const override;

 protected:
  Status Sync(const std::string& key) override;

 private:
  // Whether `job`'s TTL has expired at the clock's now; when it will expire later, requeues
  // its key for then. Error when the finish time is missing.
  Result<bool> Expired(const k8s::io::api::batch::v1::Job& job);
  void OnJob(const k8s::io::api::batch::v1::Job& job);

  client::ApiClient& api_;
  Clock& clock_;
  const std::string propagation_policy_;
  client::TypedInformer<k8s::io::api::batch::v1::Job> jobs_;
};

}  // namespace ck::controller_manager
