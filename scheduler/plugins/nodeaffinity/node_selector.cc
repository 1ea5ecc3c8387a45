// Node selector parsing and matching (node_selector.h).
#include "scheduler/plugins/nodeaffinity/node_selector.h"

#include <algorithm>
#include <map>

#include "common/base/strings.h"

namespace ck::scheduler::plugins {

namespace {

// Looks a label up in a node's labels without building a std::string for the key.
const std::string* LookupNodeLabel(const void* labels, std::string_view key) {
  const auto& m = *static_cast<const google::protobuf::Map<std::string, std::string>*>(labels);
  auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

std::string Child(std::string_view path, std::string_view name) {
  if (path.empty()) return std::string(name);
  std::string out(path);
  out += '.';
  out += name;
  return out;
}

std::string Index(std::string_view path, size_t i) { return std::string(path) + "[" + std::to_string(i) + "]"; }

// Go's %#v of a []string, as field.Invalid prints it: []string{"a", "b"}.
std::string GoStringSlice(const google::protobuf::RepeatedPtrField<std::string>& values) {
  std::string out = "[]string{";
  for (int i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    AppendQuoted(out, values[i]);
  }
  return out + "}";
}

std::string Quoted(std::string_view s) {
  std::string out;
  AppendQuoted(out, s);
  return out;
}

std::optional<api::SelectorOp> LabelOperator(std::string_view op) {
  if (op == "In") return api::SelectorOp::kIn;
  if (op == "NotIn") return api::SelectorOp::kNotIn;
  if (op == "Exists") return api::SelectorOp::kExists;
  if (op == "DoesNotExist") return api::SelectorOp::kDoesNotExist;
  if (op == "Gt") return api::SelectorOp::kGreaterThan;
  if (op == "Lt") return api::SelectorOp::kLessThan;
  return std::nullopt;
}

bool IsEmptyTerm(const corev1::NodeSelectorTerm& term) {
  return term.matchexpressions().empty() && term.matchfields().empty();
}

// errors.Flatten(errors.NewAggregate(errs)).Error().
std::string AggregateMessage(const std::vector<std::string>& errs) {
  if (errs.size() == 1) return errs[0];
  return "[" + Join(errs, ", ") + "]";
}

}  // namespace

NodeSelectorTerm::NodeSelectorTerm(const corev1::NodeSelectorTerm& term, std::string_view path) {
  if (!term.matchexpressions().empty()) {
    api::LabelSelector selector;
    const std::string base = Child(path, "matchExpressions");
    for (int i = 0; i < term.matchexpressions().size(); ++i) {
      const corev1::NodeSelectorRequirement& expr = term.matchexpressions(i);
      const std::string p = Index(base, i);
      std::optional<api::SelectorOp> op = LabelOperator(expr.operator_());
      if (!op) {
        errors_.push_back(p + ".operator: Unsupported value: " + Quoted(expr.operator_()));
        continue;
      }
      api::Requirement r{expr.key(), *op, {expr.values().begin(), expr.values().end()}};
      ck::Status s = selector.Add(std::move(r));
      if (!s.ok()) {
        // Add names fields relative to the requirement ("values: ..."); a list of several stays whole.
        errors_.push_back(s.message().starts_with("[") ? p + ": " + s.message() : p + "." + s.message());
      }
    }
    if (errors_.empty()) labels_ = std::move(selector);
  }
  if (!term.matchfields().empty()) {
    const std::string base = Child(path, "matchFields");
    size_t errors_before = errors_.size();
    for (int i = 0; i < term.matchfields().size(); ++i) {
      const corev1::NodeSelectorRequirement& expr = term.matchfields(i);
      const std::string p = Index(base, i);
      const std::string& op = expr.operator_();
      if (op != "In" && op != "NotIn") {
        errors_.push_back(p + ".operator: Unsupported value: " + Quoted(op) + ": supported values: \"In\", \"NotIn\"");
        continue;
      }
      if (expr.values().size() != 1) {
        errors_.push_back(p + ".values: Invalid value: " + GoStringSlice(expr.values()) + ": must have one element");
        continue;
      }
      fields_.push_back(FieldRequirement{expr.key(), op == "In", expr.values(0)});
    }
    if (errors_.size() != errors_before) fields_.clear();
  }
}

bool NodeSelectorTerm::Matches(const corev1::Node& node) const {
  if (!errors_.empty()) return false;
  if (labels_ && !labels_->Matches(&node.metadata().labels(), &LookupNodeLabel)) return false;
  // The only node field is metadata.name; a node without a name has no fields and matchFields
  // are not consulted (upstream checks len(nodeFields) > 0). Other keys read as "".
  const std::string& name = node.metadata().name();
  if (!fields_.empty() && !name.empty()) {
    for (const FieldRequirement& f : fields_) {
      std::string_view value = f.key == kNodeFieldName ? std::string_view(name) : std::string_view();
      if ((value == f.value) != f.equal) return false;
    }
  }
  return true;
}

Result<NodeSelector> NodeSelector::Parse(const corev1::NodeSelector& selector, std::string_view path) {
  NodeSelector out;
  std::vector<std::string> errs;
  const std::string base = Child(path, "nodeSelectorTerms");
  for (int i = 0; i < selector.nodeselectorterms().size(); ++i) {
    const corev1::NodeSelectorTerm& term = selector.nodeselectorterms(i);
    if (IsEmptyTerm(term)) continue;
    NodeSelectorTerm parsed(term, Index(base, i));
    errs.insert(errs.end(), parsed.errors().begin(), parsed.errors().end());
    out.terms_.push_back(std::move(parsed));
  }
  if (!errs.empty()) return Invalid(AggregateMessage(errs));
  return out;
}

NodeSelector NodeSelector::ParseLazy(const corev1::NodeSelector& selector) {
  NodeSelector out;
  for (int i = 0; i < selector.nodeselectorterms().size(); ++i) {
    const corev1::NodeSelectorTerm& term = selector.nodeselectorterms(i);
    if (IsEmptyTerm(term)) continue;
    out.terms_.emplace_back(term, Index("nodeSelectorTerms", i));
  }
  return out;
}

bool NodeSelector::Matches(const corev1::Node& node) const {
  for (const NodeSelectorTerm& term : terms_) {
    if (term.Matches(node)) return true;
  }
  return false;
}

Result<PreferredSchedulingTerms> PreferredSchedulingTerms::Parse(
    const google::protobuf::RepeatedPtrField<corev1::PreferredSchedulingTerm>& terms, std::string_view path) {
  PreferredSchedulingTerms out;
  std::vector<std::string> errs;
  for (int i = 0; i < terms.size(); ++i) {
    const corev1::PreferredSchedulingTerm& t = terms[i];
    if (t.weight() == 0 || IsEmptyTerm(t.preference())) continue;
    NodeSelectorTerm parsed(t.preference(), Index(path, i));
    if (!parsed.errors().empty()) {
      errs.insert(errs.end(), parsed.errors().begin(), parsed.errors().end());
      continue;
    }
    out.terms_.push_back(Weighted{std::move(parsed), t.weight()});
  }
  if (!errs.empty()) return Invalid(AggregateMessage(errs));
  return out;
}

int64_t PreferredSchedulingTerms::Score(const corev1::Node& node) const {
  int64_t score = 0;
  for (const Weighted& w : terms_) {
    if (w.term.Matches(node)) score += w.weight;
  }
  return score;
}

RequiredNodeAffinity RequiredNodeAffinity::FromPod(const corev1::Pod& pod) {
  RequiredNodeAffinity out;
  const corev1::PodSpec& spec = pod.spec();
  if (!spec.nodeselector().empty()) {
    out.node_selector_ = api::LabelSelector::FromSet(
        std::map<std::string, std::string>(spec.nodeselector().begin(), spec.nodeselector().end()));
  }
  if (spec.has_affinity() && spec.affinity().has_nodeaffinity() &&
      spec.affinity().nodeaffinity().has_requiredduringschedulingignoredduringexecution()) {
    out.affinity_ = NodeSelector::ParseLazy(spec.affinity().nodeaffinity().requiredduringschedulingignoredduringexecution());
  }
  return out;
}

bool RequiredNodeAffinity::Matches(const corev1::Node& node) const {
  if (node_selector_ && !node_selector_->Matches(&node.metadata().labels(), &LookupNodeLabel)) return false;
  if (affinity_) return affinity_->Matches(node);
  return true;
}

std::optional<std::set<std::string>> NodeNamesPinnedBy(const corev1::NodeSelector& selector) {
  if (selector.nodeselectorterms().empty()) return std::nullopt;
  std::set<std::string> names;
  for (const corev1::NodeSelectorTerm& term : selector.nodeselectorterms()) {
    std::optional<std::set<std::string>> term_names;
    for (const corev1::NodeSelectorRequirement& r : term.matchfields()) {
      if (r.key() != kNodeFieldName || r.operator_() != "In") continue;
      std::set<std::string> values(r.values().begin(), r.values().end());
      if (!term_names) {
        term_names = std::move(values);
      } else {
        // Requirements of one term are ANDed: only names every one of them allows.
        std::set<std::string> both;
        std::set_intersection(term_names->begin(), term_names->end(), values.begin(), values.end(),
                              std::inserter(both, both.begin()));
        term_names = std::move(both);
      }
    }
    // A term that does not pin metadata.name lets every node through (terms are ORed).
    if (!term_names) return std::nullopt;
    names.insert(term_names->begin(), term_names->end());
  }
  return names;
}

}  // namespace ck::scheduler::plugins
