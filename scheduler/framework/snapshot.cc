// Snapshot (snapshot.h).
#include "scheduler/framework/snapshot.h"

#include "common/base/check.h"

namespace ck::scheduler {

Snapshot Snapshot::FromObjects(const std::vector<corev1::Pod>& pods, const std::vector<corev1::Node>& nodes) {
  Snapshot s;
  std::vector<std::string> order;
  for (const auto& n : nodes) {
    auto info = std::make_shared<NodeInfo>(std::make_shared<const corev1::Node>(n));
    order.push_back(n.metadata().name());
    s.node_info_map_[n.metadata().name()] = std::move(info);
  }
  for (const auto& p : pods) {
    auto it = s.node_info_map_.find(p.spec().nodename());
    if (it == s.node_info_map_.end()) continue;
    auto info = PodInfo::Create(p);
    CK_CHECK(info.ok()) << info.status().message();
    it->second->AddPod(std::move(*info));
  }
  s.RebuildLists(order);
  return s;
}

NodeInfo* Snapshot::Get(const std::string& node_name) const {
  auto it = node_info_map_.find(node_name);
  return it == node_info_map_.end() ? nullptr : it->second.get();
}

void Snapshot::RebuildLists(const std::vector<std::string>& order) {
  ++list_version_;
  node_info_list_.clear();
  node_info_list_.reserve(order.size());
  for (const auto& name : order) {
    auto it = node_info_map_.find(name);
    if (it != node_info_map_.end() && it->second->node() != nullptr) node_info_list_.push_back(it->second);
  }
  RebuildAffinityLists();
}

void Snapshot::RebuildAffinityLists() {
  have_pods_with_affinity_.clear();
  have_pods_with_required_anti_affinity_.clear();
  for (const auto& n : node_info_list_) {
    if (!n->pods_with_affinity().empty()) have_pods_with_affinity_.push_back(n);
    if (!n->pods_with_required_anti_affinity().empty()) have_pods_with_required_anti_affinity_.push_back(n);
  }
}

}  // namespace ck::scheduler
