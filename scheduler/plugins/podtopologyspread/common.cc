#include "scheduler/plugins/podtopologyspread/common.h"

#include <map>

#include "common/base/check.h"

namespace ck::scheduler::plugins::podtopologyspread_internal {
namespace {

const std::string* LookupProtoLabel(const void* labels, std::string_view key) {
  return FindLabel(*static_cast<const Labels*>(labels), key);
}

}  // namespace

const std::string* FindLabel(const Labels& labels, std::string_view key) {
  auto it = labels.find(key);
  return it == labels.end() ? nullptr : &it->second;
}

bool SelectorMatches(const api::LabelSelector& selector, const Labels& labels) {
  return selector.Matches(&labels, LookupProtoLabel);
}

Result<std::vector<Constraint>> FilterConstraints(const ApiConstraints& in, const Labels& pod_labels,
                                                  std::string_view action) {
  std::vector<Constraint> out;
  for (const corev1::TopologySpreadConstraint& c : in) {
    if (c.whenunsatisfiable() != action) continue;
    Result<api::LabelSelector> selector =
        api::LabelSelector::FromProto(c.has_labelselector() ? &c.labelselector() : nullptr);
    if (!selector.ok()) return selector.status();
    Constraint tsc;
    tsc.selector = std::move(selector).value();
    if (c.matchlabelkeys_size() > 0 && !tsc.selector.MatchesNothing()) {
      // mergeLabelSetWithSelector: the pod's values for the listed keys, then the selector's own
      // requirements.
      std::map<std::string, std::string> match_labels;
      for (const std::string& key : c.matchlabelkeys()) {
        if (const std::string* v = FindLabel(pod_labels, key)) match_labels[key] = *v;
      }
      if (!match_labels.empty()) {
        api::LabelSelector merged = api::LabelSelector::FromSet(match_labels);
        for (const api::Requirement& r : tsc.selector.requirements()) {
          Status s = merged.Add(r);
          CK_CHECK(s.ok()) << "a parsed requirement failed to validate again: " << s.message();
        }
        tsc.selector = std::move(merged);
      }
    }
    tsc.max_skew = c.maxskew();
    tsc.topology_key = c.topologykey();
    tsc.is_hostname = tsc.topology_key == kLabelHostname;
    if (c.has_mindomains()) tsc.min_domains = c.mindomains();
    if (c.has_nodeaffinitypolicy()) tsc.honor_node_affinity = c.nodeaffinitypolicy() == kPolicyHonor;
    if (c.has_nodetaintspolicy()) tsc.honor_node_taints = c.nodetaintspolicy() == kPolicyHonor;
    out.push_back(std::move(tsc));
  }
  return out;
}

bool NodeHasAllKeys(const Labels& labels, const std::vector<Constraint>& constraints) {
  for (const Constraint& c : constraints) {
    if (FindLabel(labels, c.topology_key) == nullptr) return false;
  }
  return true;
}

int CountMatchingPods(const std::vector<PodInfoPtr>& pods, const api::LabelSelector& selector,
                      std::string_view ns) {
  if (selector.MatchesNothing()) return 0;
  int count = 0;
  for (const PodInfoPtr& p : pods) {
    const corev1::Pod& pod = *p->pod;
    if (pod.metadata().has_deletiontimestamp() || pod.metadata().namespace_() != ns) continue;
    if (SelectorMatches(selector, pod.metadata().labels())) ++count;
  }
  return count;
}

// ---- NodeIndex ----

void NodeIndex::Reset(size_t n) {
  // At most 2/3 full: short probes, and a table small enough to stay in cache.
  size_t cap = 8;
  while (2 * cap < 3 * n) cap *= 2;
  slots_.assign(cap, Slot{});
  mask_ = cap - 1;
}

size_t NodeIndex::SlotOf(const NodeInfo* node) const {
  // Fibonacci hashing of the address; the low bits are alignment.
  return static_cast<size_t>((reinterpret_cast<uintptr_t>(node) >> 4) * 0x9E3779B97F4A7C15ull >> 20) & mask_;
}

void NodeIndex::Insert(const NodeInfo* node, int32_t row) {
  CK_CHECK(!slots_.empty()) << "NodeIndex::Insert before Reset";
  size_t i = SlotOf(node);
  while (slots_[i].node != nullptr && slots_[i].node != node) i = (i + 1) & mask_;
  slots_[i] = Slot{node, row};
}

int32_t NodeIndex::Find(const NodeInfo* node) const {
  if (slots_.empty()) return -1;
  size_t i = SlotOf(node);
  while (slots_[i].node != nullptr) {
    if (slots_[i].node == node) return slots_[i].row;
    i = (i + 1) & mask_;
  }
  return -1;
}

}  // namespace ck::scheduler::plugins::podtopologyspread_internal
