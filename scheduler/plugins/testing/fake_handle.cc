// FakeHandle and FakePodNominator (fake_handle.h).
#include "scheduler/plugins/testing/fake_handle.h"

#include <algorithm>
#include <iterator>
#include <set>

namespace ck::scheduler::testing {

// ---- FakePodNominator ----

std::vector<PodInfoPtr> FakePodNominator::NominatedPodsForNode(const std::string& node) const {
  std::lock_guard lock(mu_);
  auto it = by_node_.find(node);
  return it == by_node_.end() ? std::vector<PodInfoPtr>() : it->second;
}

void FakePodNominator::AddNominatedPod(const PodInfoPtr& pod, const std::string& node) {
  std::lock_guard lock(mu_);
  RemoveLocked(pod->uid());
  if (node.empty()) return;
  by_node_[node].push_back(pod);
  node_of_[pod->uid()] = node;
}

void FakePodNominator::DeleteNominatedPodIfExists(const corev1::Pod& pod) {
  std::lock_guard lock(mu_);
  RemoveLocked(pod.metadata().uid());
}

std::string FakePodNominator::NominatedNodeOf(const std::string& uid) const {
  std::lock_guard lock(mu_);
  auto it = node_of_.find(uid);
  return it == node_of_.end() ? "" : it->second;
}

void FakePodNominator::RemoveLocked(const std::string& uid) {
  auto it = node_of_.find(uid);
  if (it == node_of_.end()) return;
  std::vector<PodInfoPtr>& pods = by_node_[it->second];
  pods.erase(std::remove_if(pods.begin(), pods.end(), [&](const PodInfoPtr& p) { return p->uid() == uid; }),
             pods.end());
  if (pods.empty()) by_node_.erase(it->second);
  node_of_.erase(it);
}

// ---- FakeHandle ----

FakeHandle::FakeHandle() = default;

FakeHandle::FakeHandle(Snapshot snapshot) : snapshot_(std::move(snapshot)) {}

Verdict FakeHandle::RunPreFilterExtensionAddPod(CycleState& state, const PodInfo& pod, const PodInfoPtr& other,
                                                const NodeInfo& node) {
  for (PreFilterPlugin* pl : pre_filter_plugins_) {
    if (!pl->HasPreFilterExtensions() || state.skip_filter_plugins.count(pl->Name()) > 0) continue;
    Verdict v = pl->AddPod(state, pod, other, node);
    if (!v.IsSuccess()) {
      return Verdict::Error("running AddPod on PreFilter plugin \"" + std::string(pl->Name()) + "\": " + v.Message())
          .WithPlugin(pl->Name());
    }
  }
  return Verdict::Success();
}

Verdict FakeHandle::RunPreFilterExtensionRemovePod(CycleState& state, const PodInfo& pod, const PodInfoPtr& other,
                                                   const NodeInfo& node) {
  for (PreFilterPlugin* pl : pre_filter_plugins_) {
    if (!pl->HasPreFilterExtensions() || state.skip_filter_plugins.count(pl->Name()) > 0) continue;
    Verdict v = pl->RemovePod(state, pod, other, node);
    if (!v.IsSuccess()) {
      return Verdict::Error("running RemovePod on PreFilter plugin \"" + std::string(pl->Name()) + "\": " + v.Message())
          .WithPlugin(pl->Name());
    }
  }
  return Verdict::Success();
}

Verdict FakeHandle::RunFilterPluginsWithNominatedPods(CycleState& state, const PodInfo& pod, const NodeInfo& node) {
  // Pass 1: the nominated pods that the pod must yield to (equal or higher priority) count as
  // running on the node. Pass 2 (only when pass 1 passed with such pods): without them, because
  // some filters (pod affinity) may only pass thanks to them.
  std::unique_ptr<CycleState> state_with;
  std::shared_ptr<NodeInfo> node_with;
  for (const PodInfoPtr& p : nominator_.NominatedPodsForNode(node.name())) {
    if (p->priority() < pod.priority() || p->uid() == pod.uid()) continue;
    if (!node_with) {
      node_with = node.Clone();
      state_with = state.Clone();
    }
    node_with->AddPod(p);
    Verdict v = RunPreFilterExtensionAddPod(*state_with, pod, p, *node_with);
    if (!v.IsSuccess()) return v;
  }
  Verdict v = node_with ? RunFilterPlugins(*state_with, pod, *node_with) : RunFilterPlugins(state, pod, node);
  if (!node_with || !v.IsSuccess()) return v;
  return RunFilterPlugins(state, pod, node);
}

Verdict FakeHandle::RunPreFilterPlugins(CycleState& state, const PodInfo& pod, PreFilterResult* result) {
  PreFilterResult merged;
  for (PreFilterPlugin* pl : pre_filter_plugins_) {
    PreFilterResult r;
    Verdict v = pl->PreFilter(state, pod, snapshot_, &r);
    if (v.IsSkip()) {
      state.skip_filter_plugins.insert(std::string(pl->Name()));
      continue;
    }
    if (!v.IsSuccess()) {
      if (!v.IsRejected()) v = Verdict::Error(v.Message());
      return v.WithPlugin(pl->Name());
    }
    if (r.AllNodes()) continue;
    if (merged.AllNodes()) {
      merged = std::move(r);
    } else {
      std::set<std::string> both;
      std::set_intersection(merged.node_names->begin(), merged.node_names->end(), r.node_names->begin(),
                            r.node_names->end(), std::inserter(both, both.begin()));
      merged.node_names = std::move(both);
    }
  }
  if (result != nullptr) *result = std::move(merged);
  return Verdict::Success();
}

Verdict FakeHandle::RunFilterPlugins(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const {
  for (const FilterPlugin* pl : filter_plugins_) {
    if (state.skip_filter_plugins.count(pl->Name()) > 0) continue;
    Verdict v = pl->Filter(state, pod, node);
    if (v.IsSuccess()) continue;
    if (!v.IsRejected()) v = Verdict::Error(v.Message());
    return v.WithPlugin(pl->Name());
  }
  return Verdict::Success();
}

std::vector<std::string> FakeHandle::FeasibleNodes(CycleState& state, const PodInfo& pod,
                                                   const PreFilterResult& narrowed, NodeToVerdict* rejected) {
  std::vector<std::string> feasible;
  for (const auto& node : snapshot_.List()) {
    if (!narrowed.AllNodes() && narrowed.node_names->count(node->name()) == 0) continue;
    Verdict v = RunFilterPluginsWithNominatedPods(state, pod, *node);
    if (v.IsSuccess()) {
      feasible.push_back(node->name());
    } else if (rejected != nullptr) {
      (*rejected)[node->name()] = std::move(v);
    }
  }
  return feasible;
}

}  // namespace ck::scheduler::testing
