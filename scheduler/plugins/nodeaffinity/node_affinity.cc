// NodeAffinity (node_affinity.h).
#include "scheduler/plugins/nodeaffinity/node_affinity.h"

#include <string>

#include <yaml-cpp/yaml.h>

#include "common/api/codec.h"
#include "common/api/yaml.h"
#include "common/base/strings.h"
#include "scheduler/plugins/nodeaffinity/normalize_score.h"

namespace ck::scheduler::plugins {

namespace {

const std::string kPreFilterStateKey = "PreFilterNodeAffinity";
const std::string kPreScoreStateKey = "PreScoreNodeAffinity";
constexpr std::string_view kArgsKind = "NodeAffinityArgs";

// The parsed required selector is immutable, so clones share it.
struct PreFilterState final : StateData {
  std::shared_ptr<const RequiredNodeAffinity> required;
  std::unique_ptr<StateData> Clone() const override { return std::make_unique<PreFilterState>(*this); }
};

struct PreScoreState final : StateData {
  std::shared_ptr<const PreferredSchedulingTerms> preferred;  // null: the pod has no preferred terms
  std::unique_ptr<StateData> Clone() const override { return std::make_unique<PreScoreState>(*this); }
};

ck::Status ArgsError(std::string message) { return Invalid(std::string(kArgsKind) + ": " + message); }

// The YAML args as JSON, for the API codec. Quoted scalars stay strings; plain ones read as YAML
// reads them (numbers, booleans, null), so `values: ["5"]` is a string and `values: [5]` is not.
void AppendYamlAsJson(const YAML::Node& node, std::string* out) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar: {
      if (node.Tag() != "!") {
        Result<std::string> plain = api::YamlToJson(node.Scalar());
        if (plain.ok()) {
          *out += *plain;
          return;
        }
      }
      AppendJsonString(*out, node.Scalar());
      return;
    }
    case YAML::NodeType::Sequence: {
      *out += '[';
      bool first = true;
      for (const auto& item : node) {
        if (!first) *out += ',';
        first = false;
        AppendYamlAsJson(item, out);
      }
      *out += ']';
      return;
    }
    case YAML::NodeType::Map: {
      *out += '{';
      bool first = true;
      for (const auto& entry : node) {
        if (!first) *out += ',';
        first = false;
        AppendJsonString(*out, entry.first.Scalar());
        *out += ':';
        AppendYamlAsJson(entry.second, out);
      }
      *out += '}';
      return;
    }
    default:
      *out += "null";
  }
}

// The pod's preferred terms, or null when it has none.
Result<std::shared_ptr<const PreferredSchedulingTerms>> PodPreferredTerms(const corev1::Pod& pod) {
  const corev1::PodSpec& spec = pod.spec();
  if (!spec.has_affinity() || !spec.affinity().has_nodeaffinity() ||
      spec.affinity().nodeaffinity().preferredduringschedulingignoredduringexecution().empty()) {
    return std::shared_ptr<const PreferredSchedulingTerms>();
  }
  CK_ASSIGN_OR_RETURN(PreferredSchedulingTerms terms,
                      PreferredSchedulingTerms::Parse(spec.affinity().nodeaffinity().preferredduringschedulingignoredduringexecution()));
  return std::make_shared<const PreferredSchedulingTerms>(std::move(terms));
}

}  // namespace

Result<NodeAffinityArgs> ParseNodeAffinityArgs(const PluginArgs& args) {
  NodeAffinityArgs out;
  if (!args.IsDefined() || args.IsNull()) return out;
  if (!args.IsMap()) return ArgsError("args must be a map");
  try {
    for (const auto& entry : args) {
      const std::string key = entry.first.as<std::string>();
      if (key == "kind" || key == "apiVersion") continue;
      if (key != "addedAffinity") return ArgsError("strict decoding error: unknown field \"" + key + "\"");
      if (entry.second.IsNull()) continue;
      // Through the API codec, so the fields read exactly as in a pod's affinity.
      std::string json;
      AppendYamlAsJson(entry.second, &json);
      corev1::NodeAffinity affinity;
      ck::Status s = api::FromJson(json, &affinity, api::DecodeOptions{.field_validation = api::FieldValidation::kStrict});
      if (!s.ok()) return ArgsError("addedAffinity: " + s.message());
      out.added_affinity = std::move(affinity);
    }
  } catch (const YAML::Exception& e) {
    return ArgsError(std::string("invalid args: ") + e.what());
  }
  if (out.added_affinity) {
    const corev1::NodeAffinity& a = *out.added_affinity;
    if (a.has_requiredduringschedulingignoredduringexecution()) {
      auto parsed = NodeSelector::Parse(a.requiredduringschedulingignoredduringexecution(),
                                        "addedAffinity.requiredDuringSchedulingIgnoredDuringExecution");
      if (!parsed.ok()) return ArgsError(parsed.status().message());
    }
    if (!a.preferredduringschedulingignoredduringexecution().empty()) {
      auto parsed = PreferredSchedulingTerms::Parse(a.preferredduringschedulingignoredduringexecution(),
                                                    "addedAffinity.preferredDuringSchedulingIgnoredDuringExecution");
      if (!parsed.ok()) return ArgsError(parsed.status().message());
    }
  }
  return out;
}

Result<std::unique_ptr<NodeAffinity>> NodeAffinity::Create(const NodeAffinityArgs& args) {
  std::unique_ptr<NodeAffinity> pl(new NodeAffinity());
  if (args.added_affinity) {
    const corev1::NodeAffinity& a = *args.added_affinity;
    if (a.has_requiredduringschedulingignoredduringexecution()) {
      auto parsed = NodeSelector::Parse(a.requiredduringschedulingignoredduringexecution());
      if (!parsed.ok()) {
        return Invalid("parsing addedAffinity.requiredDuringSchedulingIgnoredDuringExecution: " + parsed.status().message());
      }
      pl->added_node_selector_ = std::move(*parsed);
    }
    if (!a.preferredduringschedulingignoredduringexecution().empty()) {
      auto parsed = PreferredSchedulingTerms::Parse(a.preferredduringschedulingignoredduringexecution());
      if (!parsed.ok()) {
        return Invalid("parsing addedAffinity.preferredDuringSchedulingIgnoredDuringExecution: " + parsed.status().message());
      }
      pl->added_preferred_ = std::move(*parsed);
    }
  }
  return pl;
}

std::vector<ClusterEvent> NodeAffinity::EventsToRegister() const {
  // Upstream registers taint changes too, so that a node missed while it was being added is seen.
  return {ClusterEvent{EventResource::kNode, kActionAdd | kActionUpdateNodeLabel | kActionUpdateNodeTaint, "Node"}};
}

Verdict NodeAffinity::PreFilter(CycleState& state, const PodInfo& pod, const Snapshot& /*snapshot*/,
                                PreFilterResult* result) {
  const corev1::PodSpec& spec = pod.pod->spec();
  const corev1::NodeSelector* required = nullptr;
  if (spec.has_affinity() && spec.affinity().has_nodeaffinity() &&
      spec.affinity().nodeaffinity().has_requiredduringschedulingignoredduringexecution()) {
    required = &spec.affinity().nodeaffinity().requiredduringschedulingignoredduringexecution();
  }
  if (required == nullptr && !added_node_selector_ && spec.nodeselector().empty()) return Verdict::Skip();

  auto data = std::make_shared<PreFilterState>();
  data->required = std::make_shared<const RequiredNodeAffinity>(RequiredNodeAffinity::FromPod(*pod.pod));
  state.Write(kPreFilterStateKey, std::move(data));

  if (required == nullptr) return Verdict::Success();
  std::optional<std::set<std::string>> names = NodeNamesPinnedBy(*required);
  if (!names) return Verdict::Success();
  if (names->empty()) return Verdict::UnschedulableAndUnresolvable(std::string(kReasonConflict));
  if (result != nullptr) result->node_names = std::move(*names);
  return Verdict::Success();
}

Verdict NodeAffinity::Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node_info) const {
  const corev1::Node* node = node_info.node();
  if (node == nullptr) return Verdict::Error("node not found");
  if (added_node_selector_ && !added_node_selector_->Matches(*node)) {
    return Verdict::UnschedulableAndUnresolvable(std::string(kReasonEnforced));
  }
  bool match;
  if (const auto* s = state.ReadAs<PreFilterState>(kPreFilterStateKey)) {
    match = s->required->Matches(*node);
  } else {
    // PreFilter did not run (disabled in the profile): parse here, as upstream falls back to.
    match = RequiredNodeAffinity::FromPod(*pod.pod).Matches(*node);
  }
  if (!match) return Verdict::UnschedulableAndUnresolvable(std::string(kReasonPod));
  return Verdict::Success();
}

Verdict NodeAffinity::PreScore(CycleState& state, const PodInfo& pod, const std::vector<const NodeInfo*>& /*nodes*/) {
  auto preferred = PodPreferredTerms(*pod.pod);
  if (!preferred.ok()) return Verdict::Error(preferred.status());
  if (*preferred == nullptr && !added_preferred_) return Verdict::Skip();
  auto data = std::make_shared<PreScoreState>();
  data->preferred = std::move(*preferred);
  state.Write(kPreScoreStateKey, std::move(data));
  return Verdict::Success();
}

Verdict NodeAffinity::Score(const CycleState& state, const PodInfo& pod, const NodeInfo& node_info,
                            int64_t* score) const {
  *score = 0;
  const corev1::Node* node = node_info.node();
  if (node == nullptr) return Verdict::Error("node not found");
  int64_t count = 0;
  if (added_preferred_) count += added_preferred_->Score(*node);
  if (const auto* s = state.ReadAs<PreScoreState>(kPreScoreStateKey)) {
    if (s->preferred) count += s->preferred->Score(*node);
  } else {
    auto preferred = PodPreferredTerms(*pod.pod);
    if (!preferred.ok()) return Verdict::Error(preferred.status());
    if (*preferred) count += (*preferred)->Score(*node);
  }
  *score = count;
  return Verdict::Success();
}

Verdict NodeAffinity::NormalizeScore(const CycleState& /*state*/, const PodInfo& /*pod*/,
                                     std::vector<NodeScore>& scores) const {
  DefaultNormalizeScore(kMaxNodeScore, /*reverse=*/false, scores);
  return Verdict::Success();
}

Result<std::unique_ptr<Plugin>> NewNodeAffinity(const PluginArgs& args, Handle& /*handle*/) {
  CK_ASSIGN_OR_RETURN(NodeAffinityArgs parsed, ParseNodeAffinityArgs(args));
  CK_ASSIGN_OR_RETURN(std::unique_ptr<NodeAffinity> pl, NodeAffinity::Create(parsed));
  return std::unique_ptr<Plugin>(std::move(pl));
}

}  // namespace ck::scheduler::plugins
