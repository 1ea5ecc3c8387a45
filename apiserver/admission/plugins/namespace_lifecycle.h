// NamespaceLifecycle (validating): upstream's plugin/pkg/admission/namespace/lifecycle.
//  - a write into a namespace that does not exist fails with NotFound `namespaces "x" not found`;
//  - a create in a namespace being terminated (deletionTimestamp set or status.phase Terminating)
//    fails with Forbidden `unable to create new content in namespace x because it is being
//    terminated`;
//  - the immortal namespaces default, kube-system and kube-public cannot be deleted.
// Deletes of namespaced objects, cluster-scoped resources, Namespace objects themselves (except
// the delete rule) and LocalSubjectAccessReviews are always let through.
// Threading: stateless apart from the source; safe from any thread.
#pragma once

#include "apiserver/admission/admission.h"

namespace ck::apiserver::admission::plugins {

class NamespaceLifecycle final : public Plugin {
 public:
  explicit NamespaceLifecycle(const ObjectSource& source) : source_(source) {}
  std::string_view name() const override { return "NamespaceLifecycle"; }
  Status Validate(const Attributes& a, Context& ctx) override;

 private:
  const ObjectSource& source_;
};

}  // namespace ck::apiserver::admission::plugins
