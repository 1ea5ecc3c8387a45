#include "scheduler/plugins/podtopologyspread/node_matching.h"

#include <string_view>

namespace ck::scheduler::plugins::podtopologyspread_internal {
namespace {

const std::string* LookupLabel(const void* labels, std::string_view key) {
  const auto& m = *static_cast<const google::protobuf::Map<std::string, std::string>*>(labels);
  auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

}  // namespace

RequiredNodeAffinity::RequiredNodeAffinity(const corev1::Pod& pod) {
  const corev1::PodSpec& spec = pod.spec();
  node_selector_.assign(spec.nodeselector().begin(), spec.nodeselector().end());
  if (spec.has_affinity() && spec.affinity().has_nodeaffinity() &&
      spec.affinity().nodeaffinity().has_requiredduringschedulingignoredduringexecution()) {
    has_required_ = true;
    for (const corev1::NodeSelectorTerm& term : spec.affinity()
                                                    .nodeaffinity()
                                                    .requiredduringschedulingignoredduringexecution()
                                                    .nodeselectorterms()) {
      // A term with neither expressions nor fields selects nothing.
      if (term.matchexpressions_size() == 0 && term.matchfields_size() == 0) continue;
      terms_.push_back(ParseTerm(term));
    }
  }
}

RequiredNodeAffinity::Term RequiredNodeAffinity::ParseTerm(const corev1::NodeSelectorTerm& term) {
  Term out;
  if (term.matchexpressions_size() > 0) {
    out.has_labels = true;
    for (const corev1::NodeSelectorRequirement& e : term.matchexpressions()) {
      api::Requirement r;
      r.key = e.key();
      const std::string& op = e.operator_();
      if (op == "In")
        r.op = api::SelectorOp::kIn;
      else if (op == "NotIn")
        r.op = api::SelectorOp::kNotIn;
      else if (op == "Exists")
        r.op = api::SelectorOp::kExists;
      else if (op == "DoesNotExist")
        r.op = api::SelectorOp::kDoesNotExist;
      else if (op == "Gt")
        r.op = api::SelectorOp::kGreaterThan;
      else if (op == "Lt")
        r.op = api::SelectorOp::kLessThan;
      else {
        out.parse_error = true;
        return out;
      }
      r.values.assign(e.values().begin(), e.values().end());
      if (!out.labels.Add(std::move(r)).ok()) {
        out.parse_error = true;
        return out;
      }
    }
  }
  if (term.matchfields_size() > 0) {
    out.has_fields = true;
    for (const corev1::NodeSelectorRequirement& e : term.matchfields()) {
      const std::string& op = e.operator_();
      if ((op != "In" && op != "NotIn") || e.values_size() != 1) {
        out.parse_error = true;
        return out;
      }
      out.fields.push_back(FieldRequirement{e.key(), op == "In", e.values(0)});
    }
  }
  return out;
}

bool RequiredNodeAffinity::TermMatches(const Term& term, const corev1::Node& node) {
  if (term.parse_error) return false;
  if (term.has_labels && !term.labels.Matches(&node.metadata().labels(), LookupLabel)) return false;
  // The only node field is metadata.name, present when the name is set.
  const std::string& name = node.metadata().name();
  if (term.has_fields && !name.empty()) {
    for (const FieldRequirement& f : term.fields) {
      static const std::string kEmpty;
      const std::string& have = f.key == "metadata.name" ? name : kEmpty;
      if ((have == f.value) != f.equal) return false;
    }
  }
  return true;
}

bool RequiredNodeAffinity::Matches(const corev1::Node& node) const {
  const auto& labels = node.metadata().labels();
  for (const auto& [key, value] : node_selector_) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  if (!has_required_) return true;
  for (const Term& term : terms_) {
    if (TermMatches(term, node)) return true;
  }
  return false;
}

bool ToleratesTaint(const corev1::Toleration& toleration, const corev1::Taint& taint) {
  if (!toleration.effect().empty() && toleration.effect() != taint.effect()) return false;
  if (!toleration.key().empty() && toleration.key() != taint.key()) return false;
  const std::string& op = toleration.operator_();
  if (op.empty() || op == "Equal") return toleration.value() == taint.value();
  return op == "Exists";
}

bool HasUntoleratedDoNotScheduleTaint(
    const corev1::Node& node, const google::protobuf::RepeatedPtrField<corev1::Toleration>& tolerations) {
  for (const corev1::Taint& taint : node.spec().taints()) {
    if (taint.effect() != "NoSchedule" && taint.effect() != "NoExecute") continue;
    bool tolerated = false;
    for (const corev1::Toleration& t : tolerations) {
      if (ToleratesTaint(t, taint)) {
        tolerated = true;
        break;
      }
    }
    if (!tolerated) return true;
  }
  return false;
}

}  // namespace ck::scheduler::plugins::podtopologyspread_internal
