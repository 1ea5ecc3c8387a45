// MutatingAdmissionWebhook: calls the webhooks of every MutatingWebhookConfiguration, one after
// the other in upstream order (configurations by name, webhooks as listed), each seeing the object
// as the previous one patched it. An answer's JSONPatch (response.patchType "JSONPatch") is applied
// to the object's Kubernetes JSON and the result replaces the object in place.
//
// Reinvocation (reinvocationPolicy IfNeeded), simplified to the webhooks of this plugin: when a
// webhook changes the object, every IfNeeded webhook called before it is called once more, in
// order, after the first pass. Changes by built-in plugins that run later do not reinvoke webhooks.
// Errors: a denial is the webhook's Status; a calling failure under failurePolicy Fail is 500
// `Internal error occurred: failed calling webhook "x": ...`; a patch that does not apply is 500
// `Internal error occurred: ...` whatever the failurePolicy (upstream).
// Context: trace `MutatingAdmissionWebhook: <webhook> patched (<n> ops)`; audit annotations
// `mutation.webhook.admission.k8s.io/round_<r>_index_<i>` = {"configuration","webhook","mutated"}
// for each webhook called, the webhook's own ones as `<webhook>/<key>`; warnings as answered.
// Threading: Admit may run on many threads at once.
#pragma once

#include "apiserver/admission/admission.h"
#include "apiserver/admission/webhook/dispatcher.h"
#include "common/base/random.h"

namespace ck::apiserver::admission::webhook {

class MutatingWebhookPlugin : public Plugin {
 public:
  // `source` must serve mutatingwebhookconfigurations.admissionregistration.k8s.io, namespaces,
  // services and endpointslices.discovery.k8s.io; `random` makes request uids.
  explicit MutatingWebhookPlugin(const ObjectSource& source, Random& random = RealRandom::Get())
      : dispatcher_(source, HookType::kMutating, random) {}

  std::string_view name() const override { return "MutatingAdmissionWebhook"; }
  bool mutating() const override { return true; }
  bool validating() const override { return false; }
  Status Admit(const Attributes& a, Context& ctx) override;

 private:
  // Calls one webhook and applies its patch. Sets *changed when the object changed.
  Status CallOne(const Hook& hook, const Attributes& a, int round, int index, Context& ctx, bool* called, bool* changed);
  Dispatcher dispatcher_;
};

}  // namespace ck::apiserver::admission::webhook
