// Term matching for InterPodAffinity without allocation: AffinityTerm::Matches with label lookups
// that go through string_view (protobuf and std::map heterogeneous find), plus node label lookup.
// Upstream framework.AffinityTerm.Matches: the pod's namespace is in `namespaces` or its
// namespace's labels match `namespace_selector`, and the pod's labels match `selector`.
// Pure functions; safe from any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "scheduler/framework/types.h"

namespace ck::scheduler::plugins {

// A namespace's labels (upstream labels.Set), searchable by string_view.
using NamespaceLabels = std::map<std::string, std::string, std::less<>>;

// True when `pod` matches `term`; `ns_labels` are the labels of the pod's namespace (nullptr:
// none, so a namespaceSelector can only match when it is empty).
bool TermMatches(const AffinityTerm& term, const corev1::Pod& pod, const NamespaceLabels* ns_labels);

// True when `pod` matches every term (false for no terms): upstream podMatchesAllAffinityTerms,
// used for the incoming pod's terms whose namespaceSelector is already merged into namespaces.
bool MatchesAllTerms(const std::vector<AffinityTerm>& terms, const corev1::Pod& pod);

// The node's value for label `key`, or nullptr.
const std::string* NodeLabel(const corev1::Node& node, std::string_view key);

// Shape keys (counts_memo.h): an unambiguous rendering of what a term match depends on.
// The term's topology key, selector, namespaces and namespaceSelector.
void AppendTermShape(std::string& out, const AffinityTerm& term);
// The pod's namespace and labels (sorted) and its namespace's labels.
void AppendPodShape(std::string& out, const corev1::Pod& pod, const NamespaceLabels& ns_labels);

}  // namespace ck::scheduler::plugins
