// The small wire pieces of ck-apiserver's REST layer: Status bodies, warnings, continue tokens,
// resource versions, and the per-request log line and metrics.
// Pure functions except RequestRecorder (which writes a log line and updates metrics); thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "apiserver/registry.h"
#include "apiserver/request_info.h"
#include "apiserver/resources.h"
#include "common/base/clock.h"
#include "common/metrics/metrics.h"
#include "common/net/http.h"

namespace ck::apiserver {

// A meta/v1 Status for a failed call, upstream's member order:
// {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":...,"reason":...,
//  "details":{"name","group","kind","causes":[...],"retryAfterSeconds"},"code":N}
std::string StatusJson(const Status& status, const ErrorDetails* details);
// The Success Status of a delete: {"status":"Success","details":{"name","group","kind","uid"}}.
std::string SuccessStatusJson(std::string_view name, std::string_view group, std::string_view kind, std::string_view uid);

// A Warning header's text (the part after `299 - `): a quoted string, as RFC 7234 wants.
std::string QuoteWarning(std::string_view text);

// metadata.resourceVersion as a revision (0 when empty or not a number).
int64_t ParseRevision(std::string_view rv);

// The continue token of a paged list: the revision of the first page and the last key returned
// (relative to the list's prefix), base64 of {"v":"meta.k8s.io/v1","rv":N,"start":"<key>\u0000"}
// as upstream's etcd3 storage writes it.
struct ContinueToken {
  int64_t revision = 0;
  std::string start_after;
};
std::string EncodeContinue(int64_t revision, std::string_view last_key);
// BadRequest (`continue key is not valid: ...`) for anything we did not write.
Result<ContinueToken> DecodeContinue(std::string_view token);
// 410 Expired with upstream's message, for a token older than the history that can serve it.
Status ContinueExpired();

// The steps one request went through, for the -v=2 request line (each may be empty).
struct RequestSteps {
  std::string_view groups;          // "system:masters,system:authenticated"
  std::string_view authenticated_by;  // "x509", "token-file", "serviceaccount", "anonymous"
  std::string_view impersonated_by;   // the requester when impersonating
  std::string_view authorization;     // "allow" / "forbid"
  std::string_view authorization_reason;  // the binding and role that allowed it
  std::string_view admission;         // "ServiceAccount: ...; LimitRanger: ..." (plugins that changed or refused)
};

// One log line per request (verb, path, user and how it was authenticated, the authorization
// decision and why, what admission changed, the stored revision, code, latency) at -v=2 and above,
// and the apiserver_request_total / apiserver_request_duration_seconds metrics. Thread-safe.
class RequestRecorder {
 public:
  explicit RequestRecorder(metrics::Registry& metrics);
  void Record(const net::Request& req, const RequestInfo& info, const ResourceInfo* resource, const std::string& user,
              int code, Duration latency, int64_t revision, const RequestSteps* steps = nullptr);

 private:
  metrics::Family<metrics::Counter>* total_;
  metrics::Family<metrics::Histogram>* duration_;
};

}  // namespace ck::apiserver
