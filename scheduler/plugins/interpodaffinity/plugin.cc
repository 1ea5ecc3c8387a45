// InterPodAffinity: args, events, namespace resolution and the parallel walk shared by PreFilter
// and PreScore (plugin.h). Filtering is in filtering.cc, scoring in scoring.cc.
#include "scheduler/plugins/interpodaffinity/plugin.h"

#include <algorithm>

#include "common/api/proto/core_v1.pb.h"
#include "common/client/cache/indexer.h"

namespace ck::scheduler::plugins {

namespace {

constexpr std::string_view kArgsKind = "InterPodAffinityArgs";
constexpr int64_t kMinHardPodAffinityWeight = 0;
constexpr int64_t kMaxHardPodAffinityWeight = 100;
// Shapes kept per memo cache: a few workloads scheduled at once.
constexpr size_t kMemoShapes = 8;

ck::Status InvalidArgs(std::string_view message) {
  return ck::Status(Code::kInvalid, std::string(kArgsKind) + ": " + std::string(message));
}

}  // namespace

Result<InterPodAffinityArgs> InterPodAffinityArgs::Parse(const PluginArgs& args) {
  InterPodAffinityArgs out;
  if (!args.IsDefined() || args.IsNull()) return out;
  if (!args.IsMap()) return InvalidArgs("args must be a map");
  for (const auto& field : args) {
    const std::string name = field.first.Scalar();
    const YAML::Node& value = field.second;
    if (name == "hardPodAffinityWeight") {
      int64_t weight = 0;
      try {
        weight = value.as<int64_t>();
      } catch (const YAML::Exception&) {
        return InvalidArgs("hardPodAffinityWeight: Invalid value: \"" + value.Scalar() + "\": must be an integer");
      }
      // Upstream ValidateInterPodAffinityArgs.
      if (weight < kMinHardPodAffinityWeight || weight > kMaxHardPodAffinityWeight) {
        return InvalidArgs("hardPodAffinityWeight: Invalid value: " + std::to_string(weight) + ": not in valid range [" +
                           std::to_string(kMinHardPodAffinityWeight) + ", " +
                           std::to_string(kMaxHardPodAffinityWeight) + "]");
      }
      out.hard_pod_affinity_weight = static_cast<int32_t>(weight);
    } else if (name == "ignorePreferredTermsOfExistingPods") {
      try {
        out.ignore_preferred_terms_of_existing_pods = value.as<bool>();
      } catch (const YAML::Exception&) {
        return InvalidArgs("ignorePreferredTermsOfExistingPods: Invalid value: \"" + value.Scalar() +
                           "\": must be a boolean");
      }
    } else if (name == "apiVersion" || name == "kind") {
      continue;
    } else {
      // The config is decoded strictly upstream.
      return InvalidArgs("unknown field \"" + name + "\"");
    }
  }
  return out;
}

InterPodAffinity::InterPodAffinity(InterPodAffinityArgs args, Handle& handle, bool memoize)
    : args_(args),
      handle_(handle),
      memoize_(memoize),
      filter_memos_(kMemoShapes, 3),
      score_memos_(kMemoShapes, 1) {}

std::vector<ClusterEvent> InterPodAffinity::EventsToRegister() const {
  // Upstream: a pod added (may satisfy affinity), deleted (may lift anti-affinity) or relabelled;
  // a node added or relabelled (a new topology domain), or its taints changed (a node that was
  // not ready when added).
  constexpr uint32_t kPodActions = kActionAdd | kActionUpdatePodLabel | kActionDelete;
  constexpr uint32_t kNodeActions = kActionAdd | kActionUpdateNodeLabel | kActionUpdateNodeTaint;
  return {
      // kPod covers assigned pods too (ClusterEvent::Covers).
      ClusterEvent{EventResource::kPod, kPodActions, "PodAdd|UpdatePodLabel|Delete"},
      ClusterEvent{EventResource::kNode, kNodeActions, "NodeAdd|UpdateNodeLabel|UpdateNodeTaint"},
  };
}

void InterPodAffinity::MergeNamespaces(AffinityTerm& term) const {
  if (term.namespace_selector.Empty() || term.namespace_selector.MatchesNothing()) return;
  if (const client::Indexer* namespaces = handle_.listers().namespaces) {
    for (const client::ObjectPtr& object : namespaces->List()) {
      const auto* ns = dynamic_cast<const corev1::Namespace*>(object.get());
      if (ns != nullptr && term.namespace_selector.Matches(ns->metadata().labels())) {
        term.namespaces.insert(ns->metadata().name());
      }
    }
  }
  term.namespace_selector = api::LabelSelector::Nothing();
}

NamespaceLabels InterPodAffinity::NamespaceLabelsOf(const std::string& ns) const {
  NamespaceLabels out;
  const client::Indexer* namespaces = handle_.listers().namespaces;
  if (namespaces == nullptr) return out;
  // Namespaces are cluster-scoped: the key is the name.
  const auto* object = dynamic_cast<const corev1::Namespace*>(namespaces->Get(ns).get());
  if (object == nullptr) return out;
  for (const auto& [k, v] : object->metadata().labels()) out.emplace(k, v);
  return out;
}

size_t InterPodAffinity::Count(MemoCache& memos, const std::string& shape, const NodeList& nodes,
                               const NodeVisit& visit, const std::vector<TopologyPairCounts*>& out) {
  std::lock_guard lock(mu_);
  Parallelizer& parallelizer = handle_.parallelizer();
  if (CountsMemo* memo = memoize_ ? memos.Get(shape) : nullptr) {
    memo->Refresh(parallelizer, nodes, visit, scratch_);
    last_counted_nodes_ = memo->last_recomputed();
    for (size_t i = 0; i < out.size(); ++i) *out[i] = memo->table(i);
    return memo->contributions();
  }
  last_counted_nodes_ = nodes.size();
  const size_t chunks = ParallelVisit(parallelizer, nodes, nullptr, visit, scratch_);
  MergeEmissions(scratch_, chunks, out);
  size_t emissions = 0;
  for (size_t c = 0; c < chunks; ++c) emissions += scratch_[c].size();
  return emissions;
}

Result<std::unique_ptr<Plugin>> NewInterPodAffinity(const PluginArgs& args, Handle& handle) {
  auto parsed = InterPodAffinityArgs::Parse(args);
  if (!parsed.ok()) return parsed.status();
  return std::unique_ptr<Plugin>(std::make_unique<InterPodAffinity>(*parsed, handle));
}

}  // namespace ck::scheduler::plugins
