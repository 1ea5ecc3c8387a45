// Dispatcher: the part both webhook plugins share — which webhooks apply to a write, one call to
// one webhook with upstream's checks, and failurePolicy.
//
// One call, as upstream's dispatchers do it:
//   1. ShouldCallHook (rules, namespaceSelector, objectSelector) — no match: skipped;
//   2. a dry-run write needs sideEffects None or NoneOnDryRun (Some/Unknown: 400 `admission
//      webhook "x" does not support dry run`, whatever the failurePolicy);
//   3. POST the AdmissionReview; any failure to get a valid answer is a calling failure:
//      failurePolicy Ignore lets the write through (failed open), Fail rejects it with 500
//      `Internal error occurred: failed calling webhook "x": <reason>`;
//   4. allowed: false is a denial (review.h DenialStatus), whatever the failurePolicy.
// Warnings and auditAnnotations of an answer count whether it allowed or denied.
// Threading: Call() may run on many threads at once.
#pragma once

#include <string>
#include <vector>

#include "apiserver/admission/admission.h"
#include "apiserver/admission/webhook/client.h"
#include "apiserver/admission/webhook/hook.h"
#include "apiserver/admission/webhook/matching.h"
#include "common/base/random.h"

namespace ck::apiserver::admission::webhook {

struct HookOutcome {
  enum class Kind { kSkipped, kAllowed, kRejected, kFailedOpen, kFailed };
  Kind kind = Kind::kSkipped;
  // kRejected and kFailed: the error for the client. kFailedOpen: the ignored failure.
  Status status;
  ReviewResponse response;  // kAllowed and kRejected: the webhook's answer
};

class Dispatcher {
 public:
  Dispatcher(const ObjectSource& source, HookType type, Random& random)
      : source_(source), hooks_(source, type), client_(source), random_(random) {}

  // The webhooks of the current configurations, in calling order.
  std::vector<HookRef> Hooks() const { return hooks_.Hooks(); }

  // Whether `hook` applies to write `a` (matching.h ShouldCallHook).
  Result<bool> Applies(const Hook& hook, const Attributes& a) const { return ShouldCallHook(hook, a, source_); }
  // Calls `hook` (which applies) for write `a`: steps 2-4 above.
  HookOutcome Invoke(const Hook& hook, const Attributes& a);
  // Applies + Invoke; kSkipped when the hook does not apply.
  HookOutcome Call(const Hook& hook, const Attributes& a);

  // A calling failure with `reason`, under the hook's failurePolicy (step 3).
  static HookOutcome Failure(const Hook& hook, const std::string& reason);

  // Adds an outcome's warnings and "<webhook>/<key>" audit annotations to ctx; for a failed-open
  // call, the upstream "failed-open.<plugin>.webhook.admission.k8s.io/round_<r>_index_<i>"
  // annotation and a trace line.
  static void Record(const HookOutcome& outcome, const Hook& hook, std::string_view plugin, int round, int index,
                     Context& ctx);

 private:
  const ObjectSource& source_;
  HookSource hooks_;
  WebhookClient client_;
  Random& random_;
};

}  // namespace ck::apiserver::admission::webhook
