// Node selectors (upstream component-helpers scheduling/corev1/nodeaffinity): does a node match
// a pod's spec.nodeSelector and required node affinity, and how much do its preferred terms score?
// NodeAffinity, PodTopologySpread's nodeAffinityPolicy, preemption and the DaemonSet controller
// ask through RequiredNodeAffinity, so they agree on the answer.
//
// Rules, as upstream:
//   - NodeSelectorTerms are ORed; inside a term matchExpressions (over labels) and matchFields
//     (over metadata.name) are ANDed. A term with neither is dropped; a selector with no terms
//     left matches nothing.
//   - matchExpressions operators: In, NotIn, Exists, DoesNotExist, Gt, Lt (integer label values);
//     matchFields: In and NotIn with exactly one value.
//   - A term that does not parse never matches. Strict parsing (Parse) turns it into an error
//     naming the field ("nodeSelectorTerms[0].matchExpressions[0].operator: Unsupported value: \"Foo\"").
// Parse once (PreFilter/PreScore), then Matches/Score per node without allocating.
// Parsed selectors are immutable values; safe to read from many threads.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/repeated_ptr_field.h>

#include "common/api/label_selector.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/base/status.h"

namespace ck::scheduler::plugins {

namespace corev1 = ::k8s::io::api::core::v1;

// The one node field a selector may name (metav1.ObjectNameField).
inline constexpr std::string_view kNodeFieldName = "metadata.name";

// One NodeSelectorTerm, parsed. Parse errors are kept (errors()), and such a term never matches.
class NodeSelectorTerm {
 public:
  // `path` prefixes the field names in errors, e.g. "nodeSelectorTerms[0]".
  NodeSelectorTerm(const corev1::NodeSelectorTerm& term, std::string_view path);

  bool Matches(const corev1::Node& node) const;
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  struct FieldRequirement {
    std::string key;
    bool equal = true;  // In: the field equals value; NotIn: it does not
    std::string value;
  };
  std::optional<api::LabelSelector> labels_;  // nullopt: no matchExpressions
  std::vector<FieldRequirement> fields_;      // empty: no matchFields
  std::vector<std::string> errors_;
};

// A v1.NodeSelector (the required node affinity): true when any term matches.
class NodeSelector {
 public:
  // nodeaffinity.NewNodeSelector: a term that does not parse is kInvalid with every error
  // (upstream's aggregate form "[a, b]" when there are several). `path` prefixes field names.
  static Result<NodeSelector> Parse(const corev1::NodeSelector& selector, std::string_view path = "");
  // nodeaffinity.NewLazyErrorNodeSelector: terms that do not parse are kept and never match (the
  // scheduler's reading of a pod's own affinity, for backwards compatibility).
  static NodeSelector ParseLazy(const corev1::NodeSelector& selector);

  bool Matches(const corev1::Node& node) const;

 private:
  std::vector<NodeSelectorTerm> terms_;
};

// preferredDuringSchedulingIgnoredDuringExecution: the sum of the weights of the terms a node
// matches. Terms of weight 0 and empty terms are dropped.
class PreferredSchedulingTerms {
 public:
  // nodeaffinity.NewPreferredSchedulingTerms: any term that does not parse is kInvalid.
  static Result<PreferredSchedulingTerms> Parse(
      const google::protobuf::RepeatedPtrField<corev1::PreferredSchedulingTerm>& terms, std::string_view path = "");

  int64_t Score(const corev1::Node& node) const;
  bool empty() const { return terms_.empty(); }

 private:
  struct Weighted {
    NodeSelectorTerm term;
    int64_t weight = 0;
  };
  std::vector<Weighted> terms_;
};

// What a pod requires of its node: spec.nodeSelector AND
// affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution (GetRequiredNodeAffinity).
// Parse errors in the pod's terms make those terms never match, as upstream.
class RequiredNodeAffinity {
 public:
  static RequiredNodeAffinity FromPod(const corev1::Pod& pod);

  bool Matches(const corev1::Node& node) const;
  // False when the pod has neither a nodeSelector nor required node affinity (everything matches).
  bool HasConstraints() const { return node_selector_.has_value() || affinity_.has_value(); }

 private:
  std::optional<api::LabelSelector> node_selector_;
  std::optional<NodeSelector> affinity_;
};

// The node names a required node affinity pins through `metadata.name In (...)` matchFields
// (NodeAffinity's PreFilter narrowing): nullopt when some term leaves the name open (every node
// may match); an empty set when the terms pin names that cannot all hold (nothing matches).
std::optional<std::set<std::string>> NodeNamesPinnedBy(const corev1::NodeSelector& selector);

}  // namespace ck::scheduler::plugins
