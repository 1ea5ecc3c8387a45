#include "apiserver/audit/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/api/time_format.h"
#include "common/base/log.h"
#include "common/base/strings.h"

namespace ck::apiserver::audit {

namespace {

// Writes `"key":` with a leading comma when something came before in the object.
void Key(std::string& out, std::string_view key) {
  if (out.back() != '{') out.push_back(',');
  AppendJsonString(out, key);
  out.push_back(':');
}

void StringMember(std::string& out, std::string_view key, std::string_view value) {
  if (value.empty()) return;  // omitempty
  Key(out, key);
  AppendJsonString(out, value);
}

void StringList(std::string& out, std::string_view key, const std::vector<std::string>& values) {
  if (values.empty()) return;
  Key(out, key);
  out.push_back('[');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out.push_back(',');
    AppendJsonString(out, values[i]);
  }
  out.push_back(']');
}

void User(std::string& out, std::string_view key, const AuditUser& u) {
  Key(out, key);
  out.push_back('{');
  StringMember(out, "username", u.username);
  StringMember(out, "uid", u.uid);
  StringList(out, "groups", u.groups);
  if (!u.extra.empty()) {
    Key(out, "extra");
    out.push_back('{');
    for (const auto& [k, values] : u.extra) {  // std::map: sorted, as Go writes map keys
      if (out.back() != '{') out.push_back(',');
      AppendJsonString(out, k);
      out.append(":[");
      for (size_t i = 0; i < values.size(); ++i) {
        if (i) out.push_back(',');
        AppendJsonString(out, values[i]);
      }
      out.push_back(']');
    }
    out.push_back('}');
  }
  out.push_back('}');
}

void Time(std::string& out, std::string_view key, WallTime t) {
  Key(out, key);
  out.push_back('"');
  api::AppendRfc3339(&out, api::ToTimestamp(t), /*micro=*/true);
  out.push_back('"');
}

}  // namespace

std::string EncodeEvent(const AuditEvent& e) {
  std::string out = R"({"kind":"Event","apiVersion":"audit.k8s.io/v1")";
  out.reserve(512 + e.request_object.size() + e.response_object.size());
  StringMember(out, "level", LevelName(e.level));
  StringMember(out, "auditID", e.audit_id);
  StringMember(out, "stage", StageName(e.stage));
  StringMember(out, "requestURI", e.request_uri);
  StringMember(out, "verb", e.verb);
  User(out, "user", e.user);
  if (e.impersonated_user) User(out, "impersonatedUser", *e.impersonated_user);
  StringList(out, "sourceIPs", e.source_ips);
  StringMember(out, "userAgent", e.user_agent);
  if (e.object_ref) {
    const ObjectReference& r = *e.object_ref;
    Key(out, "objectRef");
    out.push_back('{');
    StringMember(out, "resource", r.resource);
    StringMember(out, "namespace", r.namespace_);
    StringMember(out, "name", r.name);
    StringMember(out, "uid", r.uid);
    StringMember(out, "apiGroup", r.api_group);
    StringMember(out, "apiVersion", r.api_version);
    StringMember(out, "resourceVersion", r.resource_version);
    StringMember(out, "subresource", r.subresource);
    out.push_back('}');
  }
  if (e.response_status) {
    const ResponseStatus& s = *e.response_status;
    Key(out, "responseStatus");
    out.append("{\"metadata\":{}");
    StringMember(out, "status", s.status);
    StringMember(out, "message", s.message);
    StringMember(out, "reason", s.reason);
    if (s.code != 0) {
      Key(out, "code");
      out.append(std::to_string(s.code));
    }
    out.push_back('}');
  }
  if (!e.request_object.empty()) {
    Key(out, "requestObject");
    out.append(e.request_object);
  }
  if (!e.response_object.empty()) {
    Key(out, "responseObject");
    out.append(e.response_object);
  }
  Time(out, "requestReceivedTimestamp", e.request_received_timestamp);
  Time(out, "stageTimestamp", e.stage_timestamp);
  if (!e.annotations.empty()) {
    Key(out, "annotations");
    out.push_back('{');
    for (const auto& [k, v] : e.annotations) {
      if (out.back() != '{') out.push_back(',');
      AppendJsonString(out, k);
      out.push_back(':');
      AppendJsonString(out, v);
    }
    out.push_back('}');
  }
  out.push_back('}');
  return out;
}

std::string NewAuditId(Random& random) {
  uint64_t a = random.Next(), b = random.Next();
  a = (a & ~0xf000ull) | 0x4000ull;                         // version 4
  b = (b & 0x3fffffffffffffffull) | 0x8000000000000000ull;  // RFC 4122 variant
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffull));
  return buf;
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path) {
  if (path == "-") return std::unique_ptr<AuditLog>(new AuditLog(STDOUT_FILENO, false));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    std::string what = "audit log " + path + ": " + std::strerror(err);
    return err == ENOENT ? NotFound(what) : Internal(what);
  }
  return std::unique_ptr<AuditLog>(new AuditLog(fd, true));
}

AuditLog::~AuditLog() {
  if (owned_) ::close(fd_);
}

void AuditLog::Write(const AuditEvent& event) {
  std::string line = EncodeEvent(event);
  line.push_back('\n');
  // The mutex keeps lines whole on pipes and stdout too (O_APPEND alone covers regular files).
  std::lock_guard lock(mu_);
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ++write_errors_;
      CK_LOG_ERROR("Error writing audit event", "auditID", event.audit_id, "err", std::strerror(errno));
      return;
    }
    done += static_cast<size_t>(n);
  }
}

int64_t AuditLog::write_errors() const {
  std::lock_guard lock(mu_);
  return write_errors_;
}

std::unique_ptr<RequestAudit> RequestAudit::Begin(const Policy& policy, AuditLog& log, Clock& clock, Random& random,
                                                  AuditRequest request) {
  RuleEvaluation rule = EvaluatePolicyRule(policy, request.attributes);
  if (rule.level == Level::kNone) return nullptr;
  AuditEvent event;
  event.level = rule.level;
  event.audit_id = NewAuditId(random);
  event.request_uri = std::move(request.request_uri);
  event.verb = std::move(request.verb);
  event.user = std::move(request.user);
  event.impersonated_user = std::move(request.impersonated_user);
  event.source_ips = std::move(request.source_ips);
  event.user_agent = std::move(request.user_agent);
  event.object_ref = std::move(request.object_ref);
  event.request_received_timestamp = request.received.value_or(clock.Now());
  std::unique_ptr<RequestAudit> audit(new RequestAudit(log, clock, std::move(rule), std::move(event)));
  audit->Emit(Stage::kRequestReceived);
  return audit;
}

void RequestAudit::SetAuthorization(bool allowed, const std::string& reason) {
  event_.annotations[kDecisionAnnotation] = allowed ? "allow" : "forbid";
  if (!reason.empty()) event_.annotations[kReasonAnnotation] = reason;
}

void RequestAudit::SetRequestObject(std::string json) {
  if (LevelAtLeast(level_, Level::kRequest)) event_.request_object = std::move(json);
}

void RequestAudit::SetResponseObject(std::string json) {
  if (LevelAtLeast(level_, Level::kRequestResponse)) event_.response_object = std::move(json);
}

void RequestAudit::ResponseStarted(int code) {
  event_.response_status = ResponseStatus{.code = code};
  Emit(Stage::kResponseStarted);
}

void RequestAudit::Complete(const ResponseStatus& status) {
  if (completed_) return;
  completed_ = true;
  event_.response_status = status;
  Emit(Stage::kResponseComplete);
}

void RequestAudit::Emit(Stage stage) {
  if (std::find(omit_.begin(), omit_.end(), stage) != omit_.end()) return;
  event_.stage = stage;
  event_.stage_timestamp = clock_.Now();
  // Objects are attached by the handler after RequestReceived; they belong to the final stage.
  if (stage != Stage::kResponseComplete && stage != Stage::kPanic) {
    AuditEvent early = event_;
    early.request_object.clear();
    early.response_object.clear();
    log_.Write(early);
    return;
  }
  log_.Write(event_);
}

}  // namespace ck::apiserver::audit
