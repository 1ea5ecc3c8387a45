// ValidatingAdmissionWebhook: calls every ValidatingWebhookConfiguration webhook that applies to
// a write, all at once (one thread per webhook, as upstream's goroutines), waits for every answer,
// and refuses the write when any of them denied it or failed under failurePolicy Fail. When several
// refuse, the first in calling order (configurations by name, webhooks as listed) is returned —
// upstream returns whichever arrived first; Clearkube picks a deterministic one.
// Errors and Context entries as in dispatcher.h; warnings and audit annotations of all answers are
// recorded in calling order.
// Threading: Validate may run on many threads at once; it blocks until the slowest webhook
// answered or timed out.
#pragma once

#include "apiserver/admission/admission.h"
#include "apiserver/admission/webhook/dispatcher.h"
#include "common/base/random.h"

namespace ck::apiserver::admission::webhook {

class ValidatingWebhookPlugin : public Plugin {
 public:
  // `source` must serve validatingwebhookconfigurations.admissionregistration.k8s.io, namespaces,
  // services and endpointslices.discovery.k8s.io; `random` makes request uids.
  explicit ValidatingWebhookPlugin(const ObjectSource& source, Random& random = RealRandom::Get())
      : dispatcher_(source, HookType::kValidating, random) {}

  std::string_view name() const override { return "ValidatingAdmissionWebhook"; }
  Status Validate(const Attributes& a, Context& ctx) override;

 private:
  Dispatcher dispatcher_;
};

}  // namespace ck::apiserver::admission::webhook
