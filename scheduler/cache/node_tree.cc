// NodeTree (node_tree.h).
#include "scheduler/cache/node_tree.h"

#include <algorithm>

#include "common/base/check.h"

namespace ck::scheduler {

namespace {

constexpr std::string_view kLabelTopologyZone = "topology.kubernetes.io/zone";
constexpr std::string_view kLabelTopologyRegion = "topology.kubernetes.io/region";
constexpr std::string_view kLabelFailureDomainBetaZone = "failure-domain.beta.kubernetes.io/zone";
constexpr std::string_view kLabelFailureDomainBetaRegion = "failure-domain.beta.kubernetes.io/region";

// The value of `primary`, else of `fallback`, else "".
std::string LabelOr(const corev1::Node& node, std::string_view primary, std::string_view fallback) {
  const auto& labels = node.metadata().labels();
  auto it = labels.find(std::string(primary));
  if (it != labels.end()) return it->second;
  it = labels.find(std::string(fallback));
  return it != labels.end() ? it->second : std::string();
}

}  // namespace

std::string NodeTree::ZoneKey(const corev1::Node& node) {
  std::string zone = LabelOr(node, kLabelTopologyZone, kLabelFailureDomainBetaZone);
  std::string region = LabelOr(node, kLabelTopologyRegion, kLabelFailureDomainBetaRegion);
  if (zone.empty() && region.empty()) return std::string();
  std::string key = std::move(region);
  key.append(":\0:", 3);
  key.append(zone);
  return key;
}

void NodeTree::Add(const corev1::Node& node) {
  const std::string& name = node.metadata().name();
  std::string zone = ZoneKey(node);
  auto known = zone_of_.find(name);
  if (known != zone_of_.end()) {
    if (known->second == zone) return;
    RemoveFromZone(known->second, name);
    known->second = zone;
  } else {
    zone_of_.emplace(name, zone);
  }
  auto [it, inserted] = tree_.try_emplace(zone);
  if (inserted) zones_.push_back(zone);
  it->second.push_back(name);
}

bool NodeTree::Remove(const std::string& node_name) {
  auto known = zone_of_.find(node_name);
  if (known == zone_of_.end()) return false;
  RemoveFromZone(known->second, node_name);
  zone_of_.erase(known);
  return true;
}

void NodeTree::RemoveFromZone(const std::string& zone, const std::string& node_name) {
  auto it = tree_.find(zone);
  if (it == tree_.end()) return;
  auto& names = it->second;
  // Order-preserving erase: the interleaving must not reshuffle the other nodes of the zone.
  names.erase(std::remove(names.begin(), names.end(), node_name), names.end());
  if (names.empty()) {
    tree_.erase(it);
    zones_.erase(std::remove(zones_.begin(), zones_.end(), zone), zones_.end());
  }
}

std::vector<std::string> NodeTree::List() const {
  std::vector<std::string> out;
  out.reserve(zone_of_.size());
  std::vector<const std::vector<std::string>*> zones;
  zones.reserve(zones_.size());
  for (const auto& z : zones_) zones.push_back(&tree_.at(z));
  for (size_t index = 0; out.size() < zone_of_.size(); ++index) {
    const size_t before = out.size();
    for (const auto* names : zones) {
      if (index < names->size()) out.push_back((*names)[index]);
    }
    CK_CHECK(out.size() > before) << "node tree lost nodes: " << zone_of_.size() << " known, " << out.size() << " listed";
  }
  return out;
}

}  // namespace ck::scheduler
