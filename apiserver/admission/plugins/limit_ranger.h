// LimitRanger (mutating + validating): upstream's plugin/pkg/admission/limitranger, driven by the
// LimitRange objects of the write's namespace.
// Admit, pod CREATE: first upstream's pod defaulting (a container's request defaults to its limit),
// then every container and init container gets, for each resource it does not set, the limit
// from a type Container item's `default` and the request from its `defaultRequest` (the first
// LimitRange that names a resource wins); the pod is annotated kubernetes.io/limit-ranger
// ("LimitRanger plugin set: cpu, memory request for container app; ...").
// Validate, pod CREATE and PVC CREATE/UPDATE: type Container min/max/maxLimitRequestRatio per
// container, type Pod min/max/maxLimitRequestRatio on the pod's requests and limits
// (api::PodRequests), type PersistentVolumeClaim min/max on spec.resources.requests. A refusal is
// Forbidden with upstream's wording, e.g. `pods "web" is forbidden: maximum cpu usage per
// Container is 1, but limit is 2` (several: "[a, b]").
// LimitRange items are read with upstream's LimitRange defaulting applied (default <- max,
// defaultRequest <- default, then <- min), so objects stored without it behave the same.
// Threading: stateless apart from the source; safe from any thread.
#pragma once

#include "apiserver/admission/admission.h"

namespace ck::apiserver::admission::plugins {

inline constexpr std::string_view kLimitRangerAnnotation = "kubernetes.io/limit-ranger";

class LimitRanger final : public Plugin {
 public:
  explicit LimitRanger(const ObjectSource& source) : source_(source) {}
  std::string_view name() const override { return "LimitRanger"; }
  bool mutating() const override { return true; }
  Status Admit(const Attributes& a, Context& ctx) override;
  Status Validate(const Attributes& a, Context& ctx) override;

 private:
  const ObjectSource& source_;
};

}  // namespace ck::apiserver::admission::plugins
