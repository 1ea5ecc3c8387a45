// Audit events (audit.k8s.io/v1 Event) and the log they are written to (kube-apiserver
// --audit-log-path; "-" is standard output). The apiserver fills plain structs; nothing here
// depends on its server code.
//
// Per request, as upstream's audit filter does (RequestAudit below):
//   Begin (after authentication): the policy decides the level; None -> nothing is logged.
//   RequestReceived event, unless the policy omits that stage;
//   ResponseStarted, for long-running requests (watch) when the response headers go out;
//   ResponseComplete, with responseStatus and, by level, requestObject / responseObject.
// Level Metadata logs who, what and the outcome; Request adds requestObject; RequestResponse adds
// responseObject too. Annotations (authorization.k8s.io/decision, .../reason, admission
// plugins') ride on every event written after they were added.
//
// Threading: AuditLog::Write is safe from any thread; each event is one write(2) of one line
// (lines never interleave), made before Write returns. A RequestAudit belongs to its request.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "apiserver/audit/policy.h"
#include "common/base/clock.h"
#include "common/base/random.h"
#include "common/base/status.h"

namespace ck::apiserver::audit {

inline constexpr char kDecisionAnnotation[] = "authorization.k8s.io/decision";  // "allow" / "forbid"
inline constexpr char kReasonAnnotation[] = "authorization.k8s.io/reason";

struct AuditUser {
  std::string username;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
};

struct ObjectReference {
  std::string resource;
  std::string namespace_;
  std::string name;
  std::string uid;
  std::string api_group;
  std::string api_version;
  std::string resource_version;
  std::string subresource;
};

// The response as metav1.Status: a success carries only the code; a failure also status
// "Failure", its reason and message.
struct ResponseStatus {
  int code = 0;
  std::string status;  // "" or "Failure"
  std::string reason;  // "Forbidden", "NotFound", ...
  std::string message;
};

struct AuditEvent {
  Level level = Level::kMetadata;
  std::string audit_id;
  Stage stage = Stage::kResponseComplete;
  std::string request_uri;
  std::string verb;
  AuditUser user;
  std::optional<AuditUser> impersonated_user;
  std::vector<std::string> source_ips;
  std::string user_agent;
  std::optional<ObjectReference> object_ref;
  std::optional<ResponseStatus> response_status;
  std::string request_object;   // raw JSON; "" = absent
  std::string response_object;  // raw JSON; "" = absent
  WallTime request_received_timestamp;
  WallTime stage_timestamp;
  std::map<std::string, std::string> annotations;
};

// The event as one line of JSON (no newline), members in upstream's order. Raw objects are
// embedded as they are (they must be JSON); fields are left out where upstream omits them.
std::string EncodeEvent(const AuditEvent& event);

// A random RFC 4122 version 4 UUID ("5f0c...-4...-a..."), the shape of upstream's auditID.
std::string NewAuditId(Random& random);

class AuditLog {
 public:
  // Opens `path` for appending (created 0600 when missing); "-" is standard output. NotFound /
  // Internal naming the path when it cannot be opened.
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& path);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends EncodeEvent(event) and a newline in one write. A failed write is counted, never
  // fatal to the request (upstream logs and drops the event).
  void Write(const AuditEvent& event);
  int64_t write_errors() const;

 private:
  AuditLog(int fd, bool owned) : fd_(fd), owned_(owned) {}
  const int fd_;
  const bool owned_;
  mutable std::mutex mu_;
  int64_t write_errors_ = 0;  // guarded by mu_
};

// What the apiserver knows about a request when it starts auditing it (after authentication).
struct AuditRequest {
  std::string request_uri;  // path and query as received
  std::string verb;         // the authorization verb: get, list, watch, create, ...
  AuditUser user;
  std::optional<AuditUser> impersonated_user;  // set when the request impersonated someone
  std::vector<std::string> source_ips;
  std::string user_agent;
  std::optional<ObjectReference> object_ref;  // resource requests
  AuditAttributes attributes;                 // what the policy matches on
  std::optional<WallTime> received;           // when the request arrived (default: Begin's time)
};

// The audit trail of one request. Begin() returns nullptr when the policy level is None, so a
// caller writes `if (audit) audit->...`. Stage events the policy omits are not written.
class RequestAudit {
 public:
  // `log`, `clock` must outlive the returned object. Writes RequestReceived now.
  static std::unique_ptr<RequestAudit> Begin(const Policy& policy, AuditLog& log, Clock& clock, Random& random,
                                             AuditRequest request);

  Level level() const { return level_; }
  const std::string& audit_id() const { return event_.audit_id; }
  void AddAnnotation(const std::string& key, const std::string& value) { event_.annotations[key] = value; }
  // The authorization outcome: decision "allow" or "forbid", and the authorizer's reason.
  void SetAuthorization(bool allowed, const std::string& reason);
  // Sets or completes the object reference (e.g. the name generated on create, the uid).
  void SetObjectRef(const ObjectReference& ref) { event_.object_ref = ref; }
  // Kept only at level Request and above / RequestResponse.
  void SetRequestObject(std::string json);
  void SetResponseObject(std::string json);
  // A long-running request (watch) has sent its response headers.
  void ResponseStarted(int code);
  // The response is complete (for a watch: when it ends). Writes ResponseComplete once.
  void Complete(const ResponseStatus& status);

 private:
  RequestAudit(AuditLog& log, Clock& clock, RuleEvaluation rule, AuditEvent event)
      : log_(log), clock_(clock), level_(rule.level), omit_(std::move(rule.omit_stages)), event_(std::move(event)) {}
  void Emit(Stage stage);

  AuditLog& log_;
  Clock& clock_;
  const Level level_;
  const std::vector<Stage> omit_;
  AuditEvent event_;
  bool completed_ = false;
};

}  // namespace ck::apiserver::audit
