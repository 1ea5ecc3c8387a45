#include "apiserver/admission/plugins/namespace_lifecycle.h"

#include "apiserver/admission/plugins/util.h"
#include "common/api/object.h"
#include "common/api/proto/core_v1.pb.h"

namespace ck::apiserver::admission::plugins {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;

bool IsImmortal(std::string_view ns) { return ns == "default" || ns == "kube-system" || ns == "kube-public"; }

}  // namespace

Status NamespaceLifecycle::Validate(const Attributes& a, Context& ctx) {
  if (a.resource == nullptr) return Status::Ok();
  const bool is_namespace = IsResource(a, "", "namespaces");
  if (is_namespace && a.operation == Operation::kDelete && a.subresource.empty() && IsImmortal(a.name)) {
    return ForbiddenFor(a, "this namespace may not be deleted");
  }
  if (a.namespace_.empty() || !a.resource->namespaced || is_namespace) return Status::Ok();
  // Deleting content is always allowed (the namespace controller empties terminating namespaces).
  if (a.operation == Operation::kDelete) return Status::Ok();
  // Access reviews: answering "namespace not found" would leak whether it exists.
  if (IsResource(a, "authorization.k8s.io", "localsubjectaccessreviews")) return Status::Ok();

  ObjectRef obj = source_.Get("namespaces", "", a.namespace_);
  const auto* ns = As<corev1::Namespace>(obj.get());
  if (ns == nullptr) return NotFound("namespaces \"" + a.namespace_ + "\" not found");
  if (a.operation != Operation::kCreate) return Status::Ok();
  const bool terminating = ns->status().phase() == "Terminating" || (ns->metadata().has_deletiontimestamp() && !api::IsZeroTime(ns->metadata().deletiontimestamp()));
  if (!terminating) return Status::Ok();
  (void)ctx;
  return ForbiddenFor(a, "unable to create new content in namespace " + a.namespace_ +
                             " because it is being terminated");
}

}  // namespace ck::apiserver::admission::plugins
