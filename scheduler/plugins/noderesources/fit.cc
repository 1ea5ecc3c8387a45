// NodeResourcesFit (fit.h), following upstream fit.go's fitsRequest: a request r of a resource
// fits when r <= allocatable - requested; resources the pod does not request are not checked;
// an extended resource the node does not have counts as allocatable 0.
#include "scheduler/plugins/noderesources/fit.h"

#include <algorithm>
#include <limits>

#include "common/base/strings.h"

namespace ck::scheduler::plugins {

namespace {

constexpr std::string_view kArgsKind = "NodeResourcesFitArgs";

const std::string& PreFilterStateKey() {
  static const std::string key = "PreFilter" + std::string(NodeResourcesFit::kName);
  return key;
}
const std::string& PreScoreStateKey() {
  static const std::string key = "PreScore" + std::string(NodeResourcesFit::kName);
  return key;
}

// The pod's requests as Filter checks them (upstream preFilterState).
struct FitPreFilterState final : StateData {
  struct Scalar {
    std::string name;
    int64_t quantity = 0;
    std::string reason;  // "Insufficient <name>", built once per cycle rather than per node
  };
  int64_t milli_cpu = 0;
  int64_t memory = 0;
  int64_t ephemeral_storage = 0;
  std::vector<Scalar> scalars;  // non-zero and not ignored
  bool requests_nothing = true;

  std::unique_ptr<StateData> Clone() const override { return std::make_unique<FitPreFilterState>(*this); }
};

struct FitPreScoreState final : StateData {
  std::vector<int64_t> pod_requests;  // one per scoring resource
  std::unique_ptr<StateData> Clone() const override { return std::make_unique<FitPreScoreState>(*this); }
};

template <typename IgnoredFn>
FitPreFilterState ComputeState(const PodInfo& pod, IgnoredFn ignored) {
  FitPreFilterState s;
  const Resource& r = pod.requests;
  s.milli_cpu = r.milli_cpu;
  s.memory = r.memory;
  s.ephemeral_storage = r.ephemeral_storage;
  for (const auto& [name, quantity] : r.scalar) {
    if (quantity == 0 || ignored(name)) continue;
    s.scalars.push_back({name, quantity, "Insufficient " + name});
  }
  s.requests_nothing = s.milli_cpu == 0 && s.memory == 0 && s.ephemeral_storage == 0 && s.scalars.empty();
  return s;
}

// Calls sink(resource, reason, requested, used, capacity, unresolvable) for every resource the
// pod lacks on `node`, in upstream's order (pods, cpu, memory, ephemeral-storage, scalars).
template <typename Sink>
void VisitInsufficient(const FitPreFilterState& s, const NodeInfo& node, Sink&& sink) {
  const Resource& alloc = node.allocatable();
  const Resource& used = node.requested();
  const int64_t pods = static_cast<int64_t>(node.pods().size());
  if (pods + 1 > alloc.allowed_pod_number) {
    sink(std::string_view("pods"), std::string_view("Too many pods"), 1, pods, alloc.allowed_pod_number, false);
  }
  if (s.requests_nothing) return;
  if (s.milli_cpu > 0 && s.milli_cpu > alloc.milli_cpu - used.milli_cpu) {
    sink(std::string_view("cpu"), std::string_view("Insufficient cpu"), s.milli_cpu, used.milli_cpu, alloc.milli_cpu,
         s.milli_cpu > alloc.milli_cpu);
  }
  if (s.memory > 0 && s.memory > alloc.memory - used.memory) {
    sink(std::string_view("memory"), std::string_view("Insufficient memory"), s.memory, used.memory, alloc.memory,
         s.memory > alloc.memory);
  }
  if (s.ephemeral_storage > 0 && s.ephemeral_storage > alloc.ephemeral_storage - used.ephemeral_storage) {
    sink(std::string_view("ephemeral-storage"), std::string_view("Insufficient ephemeral-storage"), s.ephemeral_storage,
         used.ephemeral_storage, alloc.ephemeral_storage, s.ephemeral_storage > alloc.ephemeral_storage);
  }
  for (const FitPreFilterState::Scalar& sc : s.scalars) {
    auto a = alloc.scalar.find(sc.name);
    auto u = used.scalar.find(sc.name);
    const int64_t capacity = a == alloc.scalar.end() ? 0 : a->second;
    const int64_t in_use = u == used.scalar.end() ? 0 : u->second;
    if (sc.quantity > capacity - in_use) {
      sink(std::string_view(sc.name), std::string_view(sc.reason), sc.quantity, in_use, capacity, sc.quantity > capacity);
    }
  }
}

ScoringFunction FunctionOf(std::string_view type) {
  if (type == kMostAllocated) return ScoringFunction::kMostAllocated;
  if (type == kRequestedToCapacityRatio) return ScoringFunction::kRequestedToCapacityRatio;
  return ScoringFunction::kLeastAllocated;
}

std::string IndexPath(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

}  // namespace

// ---- args ----

void SetDefaults(NodeResourcesFitArgs* args) {
  if (!args->scoring_strategy) {
    args->scoring_strategy = ScoringStrategy{std::string(kLeastAllocated), DefaultResourceSpecs(), std::nullopt};
  }
  if (args->scoring_strategy->resources.empty()) args->scoring_strategy->resources = DefaultResourceSpecs();
  for (ResourceSpec& r : args->scoring_strategy->resources) {
    if (r.weight == 0) r.weight = 1;
  }
}

ck::Status ValidateNodeResourcesFitArgs(const NodeResourcesFitArgs& args) {
  ArgsErrors errors;
  for (size_t i = 0; i < args.ignored_resources.size(); ++i) {
    for (const std::string& msg : QualifiedNameErrors(args.ignored_resources[i])) {
      errors.Invalid(IndexPath("ignoredResources", i), GoQuote(args.ignored_resources[i]), msg);
    }
  }
  for (size_t i = 0; i < args.ignored_resource_groups.size(); ++i) {
    const std::string& group = args.ignored_resource_groups[i];
    const std::string path = IndexPath("ignoredResourceGroups", i);
    if (group.find('/') != std::string::npos) errors.Invalid(path, GoQuote(group), "resource group name can't contain '/'");
    for (const std::string& msg : QualifiedNameErrors(group)) errors.Invalid(path, GoQuote(group), msg);
  }
  if (args.scoring_strategy) {
    const ScoringStrategy& s = *args.scoring_strategy;
    if (s.type != kLeastAllocated && s.type != kMostAllocated && s.type != kRequestedToCapacityRatio) {
      errors.NotSupported("scoringStrategy.type", GoQuote(s.type),
                          {std::string(kLeastAllocated), std::string(kMostAllocated), std::string(kRequestedToCapacityRatio)});
    }
    for (size_t i = 0; i < s.resources.size(); ++i) {
      const ResourceSpec& r = s.resources[i];
      if (r.weight <= 0 || r.weight > 100) {
        errors.Invalid(IndexPath("scoringStrategy.resources", i) + ".weight", std::to_string(r.weight),
                       "resource weight of " + r.name + " not in valid range (0, 100]");
      }
    }
    if (s.requested_to_capacity_ratio) {
      const std::vector<UtilizationShapePoint>& shape = s.requested_to_capacity_ratio->shape;
      if (shape.empty()) {
        errors.Required("scoringStrategy.shape", "at least one point must be specified");
      } else {
        for (size_t i = 1; i < shape.size(); ++i) {
          if (shape[i - 1].utilization >= shape[i].utilization) {
            errors.Invalid(IndexPath("scoringStrategy.shape", i) + ".utilization", std::to_string(shape[i].utilization),
                           "utilization values must be sorted in increasing order");
            break;
          }
        }
        for (size_t i = 0; i < shape.size(); ++i) {
          if (shape[i].utilization < 0 || shape[i].utilization > kMaxUtilization) {
            errors.Invalid(IndexPath("scoringStrategy.shape", i) + ".utilization", std::to_string(shape[i].utilization),
                           "not in valid range [0, 100]");
          }
          if (shape[i].score < 0 || shape[i].score > kMaxCustomPriorityScore) {
            errors.Invalid(IndexPath("scoringStrategy.shape", i) + ".score", std::to_string(shape[i].score),
                           "not in valid range [0, 10]");
          }
        }
      }
    } else if (s.type == kRequestedToCapacityRatio) {
      // Upstream would dereference a nil param here; a config error is the friendlier answer.
      errors.Required("scoringStrategy.shape", "at least one point must be specified");
    }
  }
  return errors.ToStatus(kArgsKind);
}

Result<NodeResourcesFitArgs> DecodeNodeResourcesFitArgs(const PluginArgs& yaml) {
  NodeResourcesFitArgs args;
  ArgsErrors errors;
  if (yaml.IsDefined() && !yaml.IsNull() &&
      CheckFields(yaml, "", {"apiVersion", "kind", "ignoredResources", "ignoredResourceGroups", "scoringStrategy"},
                  &errors)) {
    args.ignored_resources = DecodeStringList(yaml["ignoredResources"], "ignoredResources", &errors);
    args.ignored_resource_groups = DecodeStringList(yaml["ignoredResourceGroups"], "ignoredResourceGroups", &errors);
    const YAML::Node strategy = yaml["scoringStrategy"];
    if (strategy.IsDefined() && !strategy.IsNull() &&
        CheckFields(strategy, "scoringStrategy", {"type", "resources", "requestedToCapacityRatio"}, &errors)) {
      ScoringStrategy s;
      s.type = DecodeString(strategy["type"], "scoringStrategy.type", &errors).value_or("");
      s.resources = DecodeResourceSpecs(strategy["resources"], "scoringStrategy.resources", &errors);
      const YAML::Node rtc = strategy["requestedToCapacityRatio"];
      if (rtc.IsDefined() && !rtc.IsNull() &&
          CheckFields(rtc, "scoringStrategy.requestedToCapacityRatio", {"shape"}, &errors)) {
        RequestedToCapacityRatioParam param;
        const YAML::Node shape = rtc["shape"];
        const std::string path = "scoringStrategy.requestedToCapacityRatio.shape";
        if (shape.IsDefined() && !shape.IsNull() && !shape.IsSequence()) {
          errors.Invalid(path, "<" + std::string(shape.IsMap() ? "map" : "scalar") + ">", "must be a list");
        } else if (shape.IsSequence()) {
          for (size_t i = 0; i < shape.size(); ++i) {
            const std::string item = IndexPath(path, i);
            if (!CheckFields(shape[i], item, {"utilization", "score"}, &errors)) continue;
            auto in_int32 = [&](const char* field) -> int32_t {
              const std::string p = ChildPath(item, field);
              int64_t v = DecodeInt(shape[i][field], p, &errors).value_or(0);
              if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
                errors.Invalid(p, std::to_string(v), "must fit in 32 bits");
                return 0;
              }
              return static_cast<int32_t>(v);
            };
            UtilizationShapePoint point;
            point.utilization = in_int32("utilization");
            point.score = in_int32("score");
            param.shape.push_back(point);
          }
        }
        s.requested_to_capacity_ratio = std::move(param);
      }
      args.scoring_strategy = std::move(s);
    }
  }
  CK_RETURN_IF_ERROR(errors.ToStatus(kArgsKind));
  SetDefaults(&args);
  CK_RETURN_IF_ERROR(ValidateNodeResourcesFitArgs(args));
  return args;
}

// ---- the plugin ----

std::vector<InsufficientResource> Fits(const PodInfo& pod, const NodeInfo& node) {
  FitPreFilterState s = ComputeState(pod, [](const std::string&) { return false; });
  std::vector<InsufficientResource> out;
  VisitInsufficient(s, node, [&](std::string_view name, std::string_view reason, int64_t requested, int64_t used,
                                 int64_t capacity, bool unresolvable) {
    out.push_back({std::string(name), std::string(reason), requested, used, capacity, unresolvable});
  });
  return out;
}

Result<std::unique_ptr<NodeResourcesFit>> NodeResourcesFit::Create(NodeResourcesFitArgs args) {
  SetDefaults(&args);
  CK_RETURN_IF_ERROR(ValidateNodeResourcesFitArgs(args));
  const ScoringStrategy& s = *args.scoring_strategy;
  std::vector<UtilizationShapePoint> shape;
  if (s.type == kRequestedToCapacityRatio) shape = s.requested_to_capacity_ratio->shape;
  ResourceAllocationScorer scorer(FunctionOf(s.type), s.resources, /*use_requested=*/false, std::move(shape));
  return std::unique_ptr<NodeResourcesFit>(new NodeResourcesFit(std::move(args), std::move(scorer)));
}

NodeResourcesFit::NodeResourcesFit(NodeResourcesFitArgs args, ResourceAllocationScorer scorer)
    : args_(std::move(args)),
      ignored_resources_(args_.ignored_resources.begin(), args_.ignored_resources.end()),
      ignored_resource_groups_(args_.ignored_resource_groups.begin(), args_.ignored_resource_groups.end()),
      scorer_(std::move(scorer)) {}

bool NodeResourcesFit::Ignored(const std::string& resource) const {
  // Only extended resources can be ignored (not hugepages-* or attachable-volumes-*).
  if (!IsExtendedResourceName(resource)) return false;
  if (ignored_resources_.count(resource) > 0) return true;
  if (ignored_resource_groups_.empty()) return false;
  return ignored_resource_groups_.count(std::string_view(resource).substr(0, resource.find('/'))) > 0;
}

Verdict NodeResourcesFit::PreFilter(CycleState& state, const PodInfo& pod, const Snapshot& /*snapshot*/,
                                    PreFilterResult* /*result*/) {
  state.Write(PreFilterStateKey(), std::make_shared<FitPreFilterState>(
                                       ComputeState(pod, [this](const std::string& name) { return Ignored(name); })));
  return Verdict::Success();
}

Verdict NodeResourcesFit::Filter(const CycleState& state, const PodInfo& /*pod*/, const NodeInfo& node) const {
  const auto* s = state.ReadAs<FitPreFilterState>(PreFilterStateKey());
  if (s == nullptr) return Verdict::Error("error reading " + GoQuote(PreFilterStateKey()) + " from cycleState: not found");
  bool fits = true;
  VisitInsufficient(*s, node, [&](std::string_view, std::string_view, int64_t, int64_t, int64_t, bool) { fits = false; });
  if (fits) return Verdict::Success();

  // Rejected: keep every reason; one request larger than the whole node makes preemption pointless.
  std::vector<std::string> reasons;
  VerdictCode code = VerdictCode::kUnschedulable;
  VisitInsufficient(*s, node, [&](std::string_view, std::string_view reason, int64_t, int64_t, int64_t, bool unresolvable) {
    reasons.emplace_back(reason);
    if (unresolvable) code = VerdictCode::kUnschedulableAndUnresolvable;
  });
  return Verdict(code, std::move(reasons));
}

Verdict NodeResourcesFit::PreScore(CycleState& state, const PodInfo& pod, const std::vector<const NodeInfo*>& /*nodes*/) {
  auto s = std::make_shared<FitPreScoreState>();
  s->pod_requests = scorer_.PodRequests(pod);
  state.Write(PreScoreStateKey(), std::move(s));
  return Verdict::Success();
}

Verdict NodeResourcesFit::Score(const CycleState& state, const PodInfo& pod, const NodeInfo& node, int64_t* score) const {
  if (const auto* s = state.ReadAs<FitPreScoreState>(PreScoreStateKey()); s != nullptr) {
    *score = scorer_.Score(node, s->pod_requests);
  } else {
    *score = scorer_.Score(node, scorer_.PodRequests(pod));
  }
  return Verdict::Success();
}

std::vector<ClusterEvent> NodeResourcesFit::EventsToRegister() const {
  const uint32_t pod_actions = kActionDelete | kActionUpdatePodScaleDown;
  // Upstream registers Pod, which also matches assigned pods; ClusterEvent::Covers compares
  // resources exactly, so assigned pods are listed as well.
  return {
      {EventResource::kPod, pod_actions, "Pod/Delete|UpdatePodScaleDown"},
      {EventResource::kAssignedPod, pod_actions, "AssignedPod/Delete|UpdatePodScaleDown"},
      {EventResource::kNode, kActionAdd | kActionUpdateNodeAllocatable, "Node/Add|UpdateNodeAllocatable"},
  };
}

Result<std::unique_ptr<Plugin>> NewNodeResourcesFit(const PluginArgs& args, Handle& /*handle*/) {
  CK_ASSIGN_OR_RETURN(NodeResourcesFitArgs decoded, DecodeNodeResourcesFitArgs(args));
  CK_ASSIGN_OR_RETURN(std::unique_ptr<NodeResourcesFit> plugin, NodeResourcesFit::Create(std::move(decoded)));
  return std::unique_ptr<Plugin>(std::move(plugin));
}

}  // namespace ck::scheduler::plugins
