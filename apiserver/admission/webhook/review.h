// AdmissionReview (admission.k8s.io/v1) on the wire: the request body a webhook receives, the
// checks on its answer, and the Status a denial becomes — all with upstream's texts.
//
// The request carries the write's kind and resource (and the same as requestKind/requestResource:
// one version per resource, so they never differ), subResource, name, namespace, operation,
// userInfo, the new and old objects as Kubernetes JSON with apiVersion/kind, dryRun and the
// operation's options (CreateOptions/UpdateOptions/DeleteOptions).
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/admission/admission.h"
#include "common/api/object.h"
#include "common/base/random.h"

namespace ck::apiserver::admission::webhook {

// A random RFC 4122 version-4 UUID: the request's uid, which the answer must echo.
std::string NewUid(Random& random);

// The JSON body of the AdmissionReview sent for write `a`. Fails (Internal) only when an object
// does not encode.
Result<std::string> BuildReviewRequest(const Attributes& a, std::string_view uid);

// What a webhook answered (response of an AdmissionReview), after VerifyReviewResponse's checks.
struct ReviewResponse {
  bool allowed = false;
  std::optional<api::metav1::Status> status;  // response.status
  std::string patch;                          // decoded from base64
  std::string patch_type;                     // "JSONPatch" when patch is set
  std::vector<std::string> warnings;
  std::map<std::string, std::string> audit_annotations;
};

// Decodes and checks the webhook's answer as upstream's VerifyAdmissionResponse does. The error
// message is the reason only ("expected response.uid=\"a\", got \"b\"", "webhook response was
// absent", "validating webhook may not return response.patch", ...); the caller prefixes it.
Result<ReviewResponse> VerifyReviewResponse(std::string_view body, std::string_view uid, bool mutating);

// The error of a denial (upstream webhookerrors.ToStatusErr): code from response.status (below
// 400 becomes 400), message `admission webhook "<name>" denied the request: <message>` (or the
// reason, or "without explanation").
Status DenialStatus(std::string_view webhook, const std::optional<api::metav1::Status>& status);

// The Code for an HTTP status a webhook chose: the exact one where Clearkube has it, otherwise
// BadRequest for 4xx and Internal for 5xx.
Code CodeForHttpStatus(int http_status);

}  // namespace ck::apiserver::admission::webhook
