// Node inclusion checks PodTopologySpread needs for nodeAffinityPolicy / nodeTaintsPolicy:
// "does this node match the pod's nodeSelector and required node affinity"
// (component-helpers nodeaffinity.GetRequiredNodeAffinity(pod).Match) and "does the pod tolerate
// every NoSchedule/NoExecute taint of this node" (v1helper.FindMatchingUntoleratedTaint with
// DoNotScheduleTaintsFilterFunc). Private to this plugin; the NodeAffinity and TaintToleration
// plugins have their own copies until the shared helpers exist.
// Threading: a RequiredNodeAffinity is immutable once built and may be read from many threads.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/api/label_selector.h"
#include "common/api/proto/core_v1.pb.h"

namespace ck::scheduler::plugins::podtopologyspread_internal {

namespace corev1 = ::k8s::io::api::core::v1;

class RequiredNodeAffinity {
 public:
  // Matches every node.
  RequiredNodeAffinity() = default;
  // The pod's spec.nodeSelector (every pair must be a node label) AND its
  // requiredDuringSchedulingIgnoredDuringExecution terms (ORed; an empty term or one that does not
  // parse matches nothing; a present selector with no terms matches nothing).
  explicit RequiredNodeAffinity(const corev1::Pod& pod);

  bool Matches(const corev1::Node& node) const;
  // True when the pod constrains nothing (Matches is then always true).
  bool MatchesEverything() const { return node_selector_.empty() && !has_required_; }

 private:
  struct FieldRequirement {
    std::string key;
    bool equal = true;  // In (==) or NotIn (!=)
    std::string value;
  };
  struct Term {
    bool parse_error = false;
    bool has_labels = false;  // matchExpressions given
    api::LabelSelector labels;
    bool has_fields = false;  // matchFields given
    std::vector<FieldRequirement> fields;
  };
  static Term ParseTerm(const corev1::NodeSelectorTerm& term);
  static bool TermMatches(const Term& term, const corev1::Node& node);

  std::vector<std::pair<std::string, std::string>> node_selector_;
  bool has_required_ = false;
  std::vector<Term> terms_;  // non-empty terms, in order
};

// Toleration.ToleratesTaint: effect and key match when set on the toleration; operator "" or
// "Equal" compares values, "Exists" matches any value, anything else matches nothing.
bool ToleratesTaint(const corev1::Toleration& toleration, const corev1::Taint& taint);

// True when `node` has a NoSchedule or NoExecute taint none of `tolerations` tolerates.
bool HasUntoleratedDoNotScheduleTaint(
    const corev1::Node& node, const google::protobuf::RepeatedPtrField<corev1::Toleration>& tolerations);

}  // namespace ck::scheduler::plugins::podtopologyspread_internal
