#include "scheduler/queue/nominator.h"

#include <algorithm>

namespace ck::scheduler::queue {

std::string PodKey(const corev1::Pod& pod) {
  if (!pod.metadata().uid().empty()) return pod.metadata().uid();
  return pod.metadata().namespace_() + "/" + pod.metadata().name();
}

void Nominator::Add(const PodInfoPtr& pod, const std::string* node) {
  // Never more than one entry per pod.
  Delete(*pod->pod);
  std::string target = node != nullptr ? *node : pod->pod->status().nominatednodename();
  if (target.empty()) return;
  std::string key = PodKey(*pod->pod);
  node_of_[key] = target;
  by_node_[target].push_back(pod);
}

void Nominator::Delete(const corev1::Pod& pod) {
  std::string key = PodKey(pod);
  auto it = node_of_.find(key);
  if (it == node_of_.end()) return;
  auto list = by_node_.find(it->second);
  if (list != by_node_.end()) {
    std::erase_if(list->second, [&](const PodInfoPtr& p) { return PodKey(*p->pod) == key; });
    if (list->second.empty()) by_node_.erase(list);
  }
  node_of_.erase(it);
}

void Nominator::Update(const corev1::Pod& old_pod, const PodInfoPtr& new_pod) {
  // Upstream keeps an in-memory nomination only when the update neither adds, changes nor
  // removes status.nominatedNodeName: an update can arrive just after preemption nominated the
  // pod and before the pod's status says so.
  std::string keep;
  if (old_pod.status().nominatednodename().empty() && new_pod->pod->status().nominatednodename().empty()) {
    keep = NodeOf(PodKey(old_pod));
  }
  Delete(old_pod);
  Add(new_pod, keep.empty() ? nullptr : &keep);
}

std::vector<PodInfoPtr> Nominator::PodsForNode(const std::string& node) const {
  auto it = by_node_.find(node);
  if (it == by_node_.end()) return {};
  return it->second;
}

std::string Nominator::NodeOf(const std::string& uid) const {
  auto it = node_of_.find(uid);
  return it == node_of_.end() ? std::string() : it->second;
}

}  // namespace ck::scheduler::queue
