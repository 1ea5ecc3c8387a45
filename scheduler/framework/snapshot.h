// Snapshot: the cluster as one scheduling cycle sees it (upstream internal/cache.Snapshot): every
// node's NodeInfo in a stable order, with the nodes that hold pods with (anti-)affinity listed
// apart so InterPodAffinity need not walk every pod. The cache refreshes it at the start of each
// cycle, copying only the NodeInfos that changed.
// Threading: read-only during a cycle (plugins read it from several threads); the scheduling loop
// updates it between cycles.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "scheduler/framework/types.h"

namespace ck::scheduler {

class Snapshot {
 public:
  Snapshot() = default;
  // For tests and tools: a snapshot of `nodes` with `pods` placed by spec.nodeName (pods naming an
  // unknown node are dropped). Pods whose affinity does not parse stop the caller (CK_CHECK).
  static Snapshot FromObjects(const std::vector<corev1::Pod>& pods, const std::vector<corev1::Node>& nodes);

  // nullptr when the node is not in the snapshot.
  NodeInfo* Get(const std::string& node_name) const;
  const std::vector<std::shared_ptr<NodeInfo>>& List() const { return node_info_list_; }
  const std::vector<std::shared_ptr<NodeInfo>>& HavePodsWithAffinity() const { return have_pods_with_affinity_; }
  const std::vector<std::shared_ptr<NodeInfo>>& HavePodsWithRequiredAntiAffinity() const {
    return have_pods_with_required_anti_affinity_;
  }
  size_t NumNodes() const { return node_info_list_.size(); }
  int64_t generation() const { return generation_; }
  // Bumped each time RebuildLists runs (nodes came, went or moved in the order); lets readers
  // keep per-order data across cycles.
  uint64_t list_version() const { return list_version_; }

  // Writers (the cache's UpdateSnapshot): the map is the truth; RebuildLists recomputes the lists
  // from it in the order of `order` (node names; the cache keeps zones interleaved, as upstream's
  // NodeTree does, so round-robin filtering spreads over zones).
  std::unordered_map<std::string, std::shared_ptr<NodeInfo>>& mutable_map() { return node_info_map_; }
  void RebuildLists(const std::vector<std::string>& order);
  // Recomputes only the affinity lists (when pods with affinity came or went).
  void RebuildAffinityLists();
  void set_generation(int64_t g) { generation_ = g; }

 private:
  std::unordered_map<std::string, std::shared_ptr<NodeInfo>> node_info_map_;
  std::vector<std::shared_ptr<NodeInfo>> node_info_list_;
  std::vector<std::shared_ptr<NodeInfo>> have_pods_with_affinity_;
  std::vector<std::shared_ptr<NodeInfo>> have_pods_with_required_anti_affinity_;
  int64_t generation_ = 0;
  uint64_t list_version_ = 0;
};

}  // namespace ck::scheduler
