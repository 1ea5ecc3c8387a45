// Which webhooks a write is sent to, with upstream's rules (k8s.io/apiserver admission webhook
// predicates): a webhook is called when one of its rules matches the operation, group, version,
// resource/subresource and scope, AND its namespaceSelector matches the labels of the write's
// namespace, AND its objectSelector matches the labels of the new or the old object.
//
// - "*" matches every operation, group and version; "*" matches every main resource, "*/*" every
//   resource and subresource, "pods/*" pods and all its subresources, "*/status" every status.
// - Scope "Namespaced" matches namespaced writes, "Cluster" cluster-scoped ones; a Namespace
//   itself counts as cluster-scoped.
// - namespaceSelector: cluster-scoped writes (except Namespaces) always match; a Namespace being
//   created or updated is matched on its own new labels, any other write on the labels its
//   namespace has in the ObjectSource.
// - Webhook configurations (and admission policies) are never sent to webhooks, so a broken
//   webhook can always be removed.
// matchPolicy is treated as Exact: Clearkube serves one version per resource, so Equivalent adds
// nothing. matchConditions (CEL) are not evaluated.
// Pure functions over their arguments; thread-safe.
#pragma once

#include "apiserver/admission/admission.h"
#include "apiserver/admission/webhook/hook.h"

namespace ck::apiserver::admission::webhook {

// Writes of admissionregistration.k8s.io's own configuration resources.
bool IsExemptResource(const ResourceInfo& resource);

bool RuleMatches(const Rule& rule, const Attributes& a);

// True when `hook` applies to the write. Errors (upstream's, returned only when a rule matches):
// Internal `Internal error occurred: namespaces "x" not found` when the namespace is missing from
// the source, Internal with the parse error for a selector that does not parse.
Result<bool> ShouldCallHook(const Hook& hook, const Attributes& a, const ObjectSource& source);

}  // namespace ck::apiserver::admission::webhook
