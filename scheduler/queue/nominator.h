// Nominator: pods that preemption nominated to a node, by node (upstream queue's nominator). A
// nominated pod is expected to run on its node once its victims are gone, so Filter counts it as
// already there for pods of lower or equal priority. Nominations come from preemption
// (Add with a node) and from pods whose status.nominatedNodeName is set (Add without one), and
// follow pod updates and deletions.
// Threading: not synchronized; the scheduling queue (scheduling_queue.h) owns one and guards it
// with its mutex.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include "scheduler/framework/types.h"

namespace ck::scheduler::queue {

class Nominator {
 public:
  // Records `pod`'s nomination, replacing any earlier one. With `node` nullptr the node is the
  // pod's status.nominatedNodeName (none: the pod ends up not nominated); with "" the nomination
  // is cleared.
  void Add(const PodInfoPtr& pod, const std::string* node);

  // Removes the pod's nomination (by uid); nothing when it has none.
  void Delete(const corev1::Pod& pod);

  // Keeps the nomination in step with an update (upstream UpdateNominatedPod): the new version
  // replaces the old; when neither version carries status.nominatedNodeName, a nomination made
  // in memory (by preemption, not yet written to the pod) is kept.
  void Update(const corev1::Pod& old_pod, const PodInfoPtr& new_pod);

  // The pods nominated to `node`, in nomination order.
  std::vector<PodInfoPtr> PodsForNode(const std::string& node) const;
  // The node `uid` is nominated to, or "".
  std::string NodeOf(const std::string& uid) const;
  // Number of nominated pods.
  size_t size() const { return node_of_.size(); }

 private:
  std::unordered_map<std::string, std::vector<PodInfoPtr>> by_node_;  // node -> pods
  std::unordered_map<std::string, std::string> node_of_;              // pod key -> node
};

// The key the queue and the nominator use for a pod: its uid, or "ns/name" when it has none.
std::string PodKey(const corev1::Pod& pod);

}  // namespace ck::scheduler::queue
