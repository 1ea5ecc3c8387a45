#include "common/client/cache/lister.h"

namespace ck::client::internal {

std::vector<ObjectPtr> ListMatching(const Indexer& indexer, std::string_view ns, const api::LabelSelector& selector) {
  if (selector.MatchesNothing()) return {};
  std::vector<ObjectPtr> candidates;
  bool narrowed = false;
  if (!ns.empty()) {
    Result<std::vector<ObjectPtr>> in_ns = indexer.ByIndex(kNamespaceIndex, ns);
    if (in_ns.ok()) {
      candidates = std::move(in_ns).value();
      narrowed = true;
    }
  }
  if (!narrowed) {
    // A required label value narrows the scan to that label's index entry.
    for (const api::Requirement& r : selector.requirements()) {
      std::optional<std::string> value = selector.RequiresExactMatch(r.key);
      if (!value) continue;
      Result<std::vector<ObjectPtr>> labeled = indexer.ByIndex(kLabelsIndex, r.key + "=" + *value);
      if (labeled.ok()) {
        candidates = std::move(labeled).value();
        narrowed = true;
        break;
      }
    }
  }
  if (!narrowed) candidates = indexer.List();
  if (selector.Empty() && ns.empty()) return candidates;
  std::vector<ObjectPtr> out;
  out.reserve(candidates.size());
  for (ObjectPtr& object : candidates) {
    const metav1::ObjectMeta* meta = api::FindMeta(*object);
    if (meta == nullptr) continue;
    if (!ns.empty() && meta->namespace_() != ns) continue;
    if (!selector.Empty() && !selector.Matches(meta->labels())) continue;
    out.push_back(std::move(object));
  }
  return out;
}

Status ListerNotFound(const ResourceInfo& resource, std::string_view name) {
  std::string what = resource.singular.empty() ? resource.resource : resource.singular;
  if (!resource.group.empty()) what += "." + resource.group;
  return NotFound(what + " \"" + std::string(name) + "\" not found");
}

}  // namespace ck::client::internal
