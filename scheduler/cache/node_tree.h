// NodeTree: the order in which a scheduling cycle visits nodes (upstream internal/cache.nodeTree).
// Nodes are grouped by zone (region + zone labels) and List() interleaves the zones round-robin
// (zone A node 1, zone B node 1, zone C node 1, zone A node 2, ...), so that filtering, which
// starts where the previous cycle stopped and stops after enough feasible nodes, spreads its
// candidates over zones. Zones keep the order in which they first appeared; nodes keep their
// order of arrival inside a zone.
// Threading: not synchronized; the scheduler cache owns one and guards it with its mutex.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "scheduler/framework/types.h"

namespace ck::scheduler {

class NodeTree {
 public:
  // The node's zone key (upstream utilnode.GetZoneKey): region and zone from topology.kubernetes.io/
  // {region,zone}, falling back to failure-domain.beta.kubernetes.io/{region,zone}; "" when the
  // node has neither. Region and zone are joined by ":\0:" so that a colon inside a label value
  // cannot make two different pairs equal.
  static std::string ZoneKey(const corev1::Node& node);

  // Adds the node to its zone. Adding a node the tree already holds updates it: a node whose zone
  // labels changed moves to the end of its new zone; otherwise nothing changes.
  void Add(const corev1::Node& node);
  // Removes the node; false when the tree does not hold it. A zone left empty disappears.
  bool Remove(const std::string& node_name);
  bool Contains(const std::string& node_name) const { return zone_of_.count(node_name) > 0; }

  // All node names, zones interleaved round-robin as described above.
  std::vector<std::string> List() const;
  size_t num_nodes() const { return zone_of_.size(); }
  size_t num_zones() const { return zones_.size(); }

 private:
  void RemoveFromZone(const std::string& zone, const std::string& node_name);

  std::vector<std::string> zones_;                                    // in order of first appearance
  std::unordered_map<std::string, std::vector<std::string>> tree_;    // zone -> node names
  std::unordered_map<std::string, std::string> zone_of_;              // node name -> zone
};

}  // namespace ck::scheduler
