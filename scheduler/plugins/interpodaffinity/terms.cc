// Term matching without allocation, and shape keys (terms.h).
#include "scheduler/plugins/interpodaffinity/terms.h"

#include <algorithm>
#include <utility>

namespace ck::scheduler::plugins {

namespace {

using ProtoLabels = google::protobuf::Map<std::string, std::string>;

const std::string* ProtoLookup(const void* labels, std::string_view key) {
  const auto& m = *static_cast<const ProtoLabels*>(labels);
  auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

const std::string* MapLookup(const void* labels, std::string_view key) {
  const auto& m = *static_cast<const NamespaceLabels*>(labels);
  auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

}  // namespace

bool TermMatches(const AffinityTerm& term, const corev1::Pod& pod, const NamespaceLabels* ns_labels) {
  if (term.namespaces.count(pod.metadata().namespace_()) == 0) {
    if (term.namespace_selector.MatchesNothing()) return false;
    static const NamespaceLabels kNoLabels;
    if (!term.namespace_selector.Matches(ns_labels != nullptr ? ns_labels : &kNoLabels, &MapLookup)) return false;
  }
  return term.selector.Matches(&pod.metadata().labels(), &ProtoLookup);
}

bool MatchesAllTerms(const std::vector<AffinityTerm>& terms, const corev1::Pod& pod) {
  if (terms.empty()) return false;
  for (const AffinityTerm& t : terms) {
    if (!TermMatches(t, pod, nullptr)) return false;
  }
  return true;
}

const std::string* NodeLabel(const corev1::Node& node, std::string_view key) {
  return ProtoLookup(&node.metadata().labels(), key);
}

namespace {

// Field separators that cannot occur in label keys, values or namespace names.
constexpr char kFieldSep = '\x1f';
constexpr char kItemSep = '\x1e';

void AppendSelector(std::string& out, const api::LabelSelector& selector) {
  if (selector.MatchesNothing()) {
    out += "<nothing>";
  } else if (selector.Empty()) {
    out += "<everything>";
  } else {
    out += selector.String();
  }
}

}  // namespace

void AppendTermShape(std::string& out, const AffinityTerm& term) {
  out += term.topology_key;
  out += kFieldSep;
  AppendSelector(out, term.selector);
  out += kFieldSep;
  for (const std::string& ns : term.namespaces) {
    out += ns;
    out += kItemSep;
  }
  out += kFieldSep;
  AppendSelector(out, term.namespace_selector);
  out += kFieldSep;
}

void AppendPodShape(std::string& out, const corev1::Pod& pod, const NamespaceLabels& ns_labels) {
  out += pod.metadata().namespace_();
  out += kFieldSep;
  std::vector<std::pair<std::string_view, std::string_view>> labels(pod.metadata().labels().begin(),
                                                                     pod.metadata().labels().end());
  std::sort(labels.begin(), labels.end());
  for (const auto& [k, v] : labels) {
    out.append(k).append("=").append(v);
    out += kItemSep;
  }
  out += kFieldSep;
  for (const auto& [k, v] : ns_labels) {
    out.append(k).append("=").append(v);
    out += kItemSep;
  }
  out += kFieldSep;
}

}  // namespace ck::scheduler::plugins
