#include "controller-manager/daemonset/daemonset_util.h"

#include <charconv>
#include <cmath>

#include <google/protobuf/util/message_differencer.h>

#include "common/api/codec.h"
#include "common/api/object.h"
#include "common/base/check.h"
#include "controller-manager/util/history.h"
#include "scheduler/plugins/tainttoleration/toleration.h"

namespace ck::controller_manager::daemonset {

namespace {

namespace plugins = ::ck::scheduler::plugins;

corev1::Toleration MakeToleration(std::string_view key, std::string_view effect) {
  corev1::Toleration t;
  t.set_key(std::string(key));
  t.set_operator_("Exists");
  t.set_effect(std::string(effect));
  return t;
}

// v1.Toleration.MatchToleration: the same toleration apart from tolerationSeconds.
bool SameToleration(const corev1::Toleration& a, const corev1::Toleration& b) {
  return a.key() == b.key() && a.operator_() == b.operator_() && a.value() == b.value() && a.effect() == b.effect();
}

bool IsNoExecuteTaint(const corev1::Taint& taint) { return taint.effect() == plugins::kTaintEffectNoExecute; }

// strconv.Atoi on the digits of a percentage.
std::optional<int> ParseInt(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  int value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return value;
}

}  // namespace

DaemonSetPlacement::DaemonSetPlacement(const appsv1::DaemonSet& ds)
    : template_node_name_(ds.spec().template_().spec().nodename()) {
  // Upstream builds the would-be pod (NewPod) and asks the scheduler's helpers about it.
  corev1::Pod pod;
  *pod.mutable_spec()->mutable_nodeselector() = ds.spec().template_().spec().nodeselector();
  if (ds.spec().template_().spec().has_affinity()) {
    *pod.mutable_spec()->mutable_affinity() = ds.spec().template_().spec().affinity();
  }
  *pod.mutable_spec()->mutable_tolerations() = ds.spec().template_().spec().tolerations();
  pod.mutable_spec()->set_hostnetwork(ds.spec().template_().spec().hostnetwork());
  AddOrUpdateDaemonPodTolerations(pod.mutable_spec());
  affinity_ = plugins::RequiredNodeAffinity::FromPod(pod);
  tolerations_ = pod.spec().tolerations();
}

NodeVerdict DaemonSetPlacement::Evaluate(const corev1::Node& node) const {
  if (!template_node_name_.empty() && template_node_name_ != node.metadata().name()) return {};
  if (!affinity_.Matches(node)) return {};
  const auto& taints = node.spec().taints();
  if (plugins::FindMatchingUntoleratedTaint(taints, tolerations_, &plugins::IsDoNotScheduleTaint) == nullptr) {
    return {true, true};
  }
  // Scheduled daemon pods keep running while they tolerate every NoExecute taint.
  bool keep = plugins::FindMatchingUntoleratedTaint(taints, tolerations_, &IsNoExecuteTaint) == nullptr;
  return {false, keep};
}

bool AddOrUpdateToleration(corev1::PodSpec* spec, const corev1::Toleration& toleration) {
  bool updated = false;
  for (corev1::Toleration& existing : *spec->mutable_tolerations()) {
    if (!SameToleration(existing, toleration)) continue;
    if (google::protobuf::util::MessageDifferencer::Equals(existing, toleration)) return false;
    existing = toleration;
    updated = true;
  }
  if (!updated) *spec->add_tolerations() = toleration;
  return true;
}

void AddOrUpdateDaemonPodTolerations(corev1::PodSpec* spec) {
  AddOrUpdateToleration(spec, MakeToleration("node.kubernetes.io/not-ready", plugins::kTaintEffectNoExecute));
  AddOrUpdateToleration(spec, MakeToleration("node.kubernetes.io/unreachable", plugins::kTaintEffectNoExecute));
  AddOrUpdateToleration(spec, MakeToleration("node.kubernetes.io/disk-pressure", plugins::kTaintEffectNoSchedule));
  AddOrUpdateToleration(spec, MakeToleration("node.kubernetes.io/memory-pressure", plugins::kTaintEffectNoSchedule));
  AddOrUpdateToleration(spec, MakeToleration("node.kubernetes.io/pid-pressure", plugins::kTaintEffectNoSchedule));
  AddOrUpdateToleration(spec, MakeToleration(plugins::kTaintNodeUnschedulable, plugins::kTaintEffectNoSchedule));
  if (spec->hostnetwork()) {
    AddOrUpdateToleration(spec,
                          MakeToleration("node.kubernetes.io/network-unavailable", plugins::kTaintEffectNoSchedule));
  }
}

corev1::PodTemplateSpec CreatePodTemplate(const corev1::PodTemplateSpec& tmpl, std::optional<int64_t> generation,
                                          const std::string& hash) {
  corev1::PodTemplateSpec out = tmpl;
  AddOrUpdateDaemonPodTolerations(out.mutable_spec());
  auto& labels = *out.mutable_metadata()->mutable_labels();
  if (generation) labels[kPodTemplateGenerationLabel] = std::to_string(*generation);
  if (!hash.empty()) labels[kControllerRevisionHashLabel] = hash;
  return out;
}

void ReplaceDaemonSetPodNodeNameNodeAffinity(corev1::PodSpec* spec, const std::string& node_name) {
  corev1::NodeSelector selector;
  corev1::NodeSelectorRequirement* r = selector.add_nodeselectorterms()->add_matchfields();
  r->set_key(std::string(plugins::kNodeFieldName));
  r->set_operator_("In");
  r->add_values(node_name);
  *spec->mutable_affinity()->mutable_nodeaffinity()->mutable_requiredduringschedulingignoredduringexecution() =
      std::move(selector);
}

Result<std::string> GetTargetNodeName(const corev1::Pod& pod) {
  if (!pod.spec().nodename().empty()) return pod.spec().nodename();
  const std::string who = pod.metadata().namespace_() + "/" + pod.metadata().name();
  const corev1::PodSpec& spec = pod.spec();
  if (!spec.has_affinity() || !spec.affinity().has_nodeaffinity() ||
      !spec.affinity().nodeaffinity().has_requiredduringschedulingignoredduringexecution()) {
    return Invalid("no spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution for pod " + who);
  }
  const auto& terms = spec.affinity().nodeaffinity().requiredduringschedulingignoredduringexecution().nodeselectorterms();
  if (terms.empty()) return Invalid("no nodeSelectorTerms in requiredDuringSchedulingIgnoredDuringExecution of pod " + who);
  for (const corev1::NodeSelectorTerm& term : terms) {
    for (const corev1::NodeSelectorRequirement& r : term.matchfields()) {
      if (r.key() != plugins::kNodeFieldName || r.operator_() != "In") continue;
      if (r.values_size() != 1) {
        return Invalid("the matchFields value of 'metadata.name' is not unique for pod " + who);
      }
      return r.values(0);
    }
  }
  return Invalid("no node name found for pod " + who);
}

Result<std::optional<int64_t>> GetTemplateGeneration(const appsv1::DaemonSet& ds) {
  const auto& annotations = ds.metadata().annotations();
  auto it = annotations.find(kDeprecatedTemplateGenerationAnnotation);
  if (it == annotations.end()) return std::optional<int64_t>();
  int64_t value = 0;
  const std::string& s = it->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    return Invalid("strconv.ParseInt: parsing \"" + s + "\": invalid syntax");
  }
  return std::optional<int64_t>(value);
}

std::optional<int64_t> PodTemplateGenerationLabelValue(const appsv1::DaemonSet& ds) {
  Result<std::optional<int64_t>> annotated = GetTemplateGeneration(ds);
  if (annotated.ok() && annotated->has_value()) return *annotated;
  if (ds.metadata().generation() > 0) return ds.metadata().generation();
  return std::nullopt;
}

bool IsPodUpdated(const corev1::Pod& pod, const std::string& hash, std::optional<int64_t> template_generation) {
  const auto& labels = pod.metadata().labels();
  if (template_generation) {
    auto it = labels.find(kPodTemplateGenerationLabel);
    if (it != labels.end() && it->second == std::to_string(*template_generation)) return true;
  }
  if (hash.empty()) return false;
  auto it = labels.find(kControllerRevisionHashLabel);
  return it != labels.end() && it->second == hash;
}

Result<int> ScaledValueFromIntOrPercent(const intstr::IntOrString* value, int total, bool round_up) {
  if (value == nullptr) return Invalid("nil value for IntOrString");
  if (value->type() != 1) return value->intval();
  std::string_view s = value->strval();
  if (!s.ends_with('%')) return Invalid("invalid value for IntOrString: invalid type: string is not a percentage");
  std::optional<int> percent = ParseInt(s.substr(0, s.size() - 1));
  if (!percent) {
    return Invalid("invalid value for IntOrString: invalid value \"" + value->strval() + "\": strconv.Atoi: parsing \"" +
                   std::string(s.substr(0, s.size() - 1)) + "\": invalid syntax");
  }
  double scaled = static_cast<double>(*percent) * static_cast<double>(total) / 100.0;
  return static_cast<int>(round_up ? std::ceil(scaled) : std::floor(scaled));
}

Result<int> SurgeCount(const appsv1::DaemonSet& ds, int number_to_schedule) {
  const appsv1::DaemonSetUpdateStrategy& s = ds.spec().updatestrategy();
  if (s.type() != kRollingUpdateStrategy || !s.has_rollingupdate()) return 0;
  if (!s.rollingupdate().has_maxsurge()) return 0;  // surge not requested
  return ScaledValueFromIntOrPercent(&s.rollingupdate().maxsurge(), number_to_schedule, true);
}

Result<int> UnavailableCount(const appsv1::DaemonSet& ds, int number_to_schedule) {
  const appsv1::DaemonSetUpdateStrategy& s = ds.spec().updatestrategy();
  if (s.type() != kRollingUpdateStrategy || !s.has_rollingupdate()) return 0;
  const auto& r = s.rollingupdate();
  return ScaledValueFromIntOrPercent(r.has_maxunavailable() ? &r.maxunavailable() : nullptr, number_to_schedule, true);
}

bool AllowsSurge(const appsv1::DaemonSet& ds) {
  Result<int> surge = SurgeCount(ds, 1);
  return surge.ok() && *surge > 0;
}

Result<std::string> RevisionData(const appsv1::DaemonSet& ds) {
  CK_ASSIGN_OR_RETURN(std::string tmpl, api::ToJson(ds.spec().template_()));
  CK_CHECK(tmpl.size() >= 2 && tmpl.front() == '{' && tmpl.back() == '}') << "template JSON is not an object";
  std::string out = R"({"spec":{"template":)";
  out.append(tmpl, 0, tmpl.size() - 1);
  if (tmpl.size() > 2) out += ',';
  out += R"("$patch":"replace"}}})";
  return out;
}

bool PodBefore(const corev1::Pod& a, const corev1::Pod& b) {
  const bool a_bound = !a.spec().nodename().empty();
  const bool b_bound = !b.spec().nodename().empty();
  if (a_bound != b_bound) return a_bound;
  api::Timestamp ta = api::TimestampOf(a.metadata().creationtimestamp());
  api::Timestamp tb = api::TimestampOf(b.metadata().creationtimestamp());
  if (ta == tb) return a.metadata().name() < b.metadata().name();
  return ta.seconds != tb.seconds ? ta.seconds < tb.seconds : ta.nanos < tb.nanos;
}

}  // namespace ck::controller_manager::daemonset
