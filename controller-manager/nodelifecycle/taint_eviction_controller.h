// TaintEvictionController ("taint-eviction-controller", upstream pkg/controller/tainteviction,
// the NoExecuteTaintManager): deletes the pods bound to a node with NoExecute taints they do not
// tolerate, at once, and those that tolerate every such taint for a limited time when the
// shortest tolerationSeconds has run out; a toleration without tolerationSeconds keeps a pod.
//   node add / NoExecute taints change / delete -> "node:<name>" -> each pod on the node
//   pod add / nodeName or tolerations change / delete -> "pod:<ns>/<name>"
//   pod: not all tolerated -> evict now; else deadline = start + min(tolerationSeconds), where
//        start is when the pod came under the taints: the latest of the taints' timeAdded and
//        the pod's binding (kept from the first evaluation while the pod stays under taints, so a
//        not-ready -> unreachable swap does not restart the clock); due -> evict, else
//        EnqueueAfter(deadline - now) on the clock. Taints gone or tolerated forever -> cancel.
//   evict: Event TaintManagerEviction "Marking for deletion Pod ns/name", the pod condition
//          DisruptionTarget=True (DeletionByTaintManager), then DELETE with the uid as precondition.
// Pods get their not-ready/unreachable tolerations (300 s; teaching 5 s) from the apiserver's
// DefaultTolerationSeconds admission, so nothing here knows about those numbers.
// Threading: see client::Controller; mu_ guards the scheduled evictions.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "controller-manager/controller_table.h"

namespace ck::controller_manager {

namespace corev1 = ::k8s::io::api::core::v1;

class TaintEvictionController final : public ManagedController {
 public:
  static std::string NodeKey(const std::string& name) { return "node:" + name; }
  static std::string PodKey(const std::string& ns, const std::string& name) { return "pod:" + ns + "/" + name; }

  explicit TaintEvictionController(ControllerContext& context, int workers = 4);
  ~TaintEvictionController() override;

  std::vector<client::SharedIndexInformer*> Informers() const override;

  // When the pod "ns/name" is due for eviction, if one is scheduled (for tests and tracing).
  std::optional<WallTime> ScheduledEviction(const std::string& pod_key) const;

 protected:
  Status Sync(const std::string& key) override;

 private:
  struct Scheduled {
    std::string uid;
    WallTime first_seen;              // stands in for a taint without timeAdded
    std::optional<WallTime> start;    // earliest start seen while under taints
    std::optional<WallTime> fire_at;  // the pending eviction
    bool evicted = false;             // marked and deleted
  };

  Status SyncNode(const std::string& name);
  Status SyncPod(const std::string& ns, const std::string& name);
  Status ProcessPod(const corev1::Pod& pod, const corev1::Node* node);
  Status Evict(const corev1::Pod& pod);
  // Drops any scheduled eviction of `pod_key`; emits "Cancelling deletion of Pod" when one was pending.
  void Cancel(const std::string& ns, const std::string& name);

  client::ApiClient& api_;
  Clock& clock_;
  client::EventRecorder recorder_;
  client::TypedInformer<corev1::Node> nodes_;
  client::TypedInformer<corev1::Pod> pods_;

  mutable std::mutex mu_;
  std::map<std::string, Scheduled> scheduled_;  // "ns/name" -> state; guarded by mu_
};

}  // namespace ck::controller_manager
