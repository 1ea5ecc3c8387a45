#include "apiserver/server/wire.h"

#include <cctype>
#include <charconv>
#include <cstdio>

#include <simdjson.h>

#include "common/base/log.h"
#include "common/base/strings.h"

namespace ck::apiserver {

namespace {

// Appends `"key":"value"` to a JSON object being written, with a comma unless it is the first
// member; empty values are left out (omitempty).
void Member(std::string& out, bool& first, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  if (!first) out += ',';
  first = false;
  AppendJsonString(out, key);
  out += ':';
  AppendJsonString(out, value);
}

}  // namespace

std::string StatusJson(const Status& status, const ErrorDetails* details) {
  std::string out = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)";
  AppendJsonString(out, status.message());
  out += ",\"reason\":";
  AppendJsonString(out, ReasonOf(status.code()));
  bool has_details = details && (!details->name.empty() || !details->group.empty() || !details->kind.empty() ||
                                 !details->causes.empty() || details->retry_after_seconds > 0);
  if (has_details) {
    out += ",\"details\":{";
    bool first = true;
    Member(out, first, "name", details->name);
    Member(out, first, "group", details->group);
    Member(out, first, "kind", details->kind);
    if (!details->causes.empty()) {
      if (!first) out += ',';
      first = false;
      out += "\"causes\":[";
      for (size_t i = 0; i < details->causes.size(); ++i) {
        const StatusCause& c = details->causes[i];
        out += i ? ",{" : "{";
        bool first_field = true;
        Member(out, first_field, "reason", c.reason);
        Member(out, first_field, "message", c.message);
        Member(out, first_field, "field", c.field);
        out += '}';
      }
      out += ']';
    }
    if (details->retry_after_seconds > 0) {
      if (!first) out += ',';
      out += "\"retryAfterSeconds\":" + std::to_string(details->retry_after_seconds);
    }
    out += '}';
  }
  out += ",\"code\":" + std::to_string(HttpStatusOf(status.code())) + "}";
  return out;
}

std::string SuccessStatusJson(std::string_view name, std::string_view group, std::string_view kind, std::string_view uid) {
  std::string out = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success")";
  if (!name.empty() || !kind.empty()) {
    out += ",\"details\":{";
    bool first = true;
    Member(out, first, "name", name);
    Member(out, first, "group", group);
    Member(out, first, "kind", kind);
    Member(out, first, "uid", uid);
    out += '}';
  }
  out += '}';
  return out;
}

std::string QuoteWarning(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n' || c == '\r') {
      out += ' ';
      continue;
    }
    out += c;
  }
  out += '"';
  return out;
}

int64_t ParseRevision(std::string_view rv) { return ParseInt(rv).value_or(0); }

std::string EncodeContinue(int64_t revision, std::string_view last_key) {
  std::string json = "{\"v\":\"meta.k8s.io/v1\",\"rv\":" + std::to_string(revision) + ",\"start\":";
  // The next page starts after the last key: upstream appends "\x00".
  std::string start(last_key);
  start += '\0';
  AppendJsonString(json, start);
  json += '}';
  return Base64Encode(json);
}

Status ContinueExpired() {
  return Gone(
      "The provided continue parameter is too old to display a consistent list result. You can start a new list "
      "without the continue parameter, or use the continue token in this response to retrieve the remainder of the "
      "results. Continuing with the provided token results in an inconsistent list - objects that were created, "
      "modified, or deleted between the time the first chunk was returned and now may show up in the list.");
}

Result<ContinueToken> DecodeContinue(std::string_view token) {
  auto bad = [](std::string_view why) { return BadRequest("continue key is not valid: " + std::string(why)); };
  std::string json;
  if (!DecodeBase64(token, &json)) return bad("illegal base64 data");
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(json).get_object().get(obj) != simdjson::SUCCESS) return bad("malformed token");
  std::string_view version, start;
  int64_t rv = 0;
  if (obj["v"].get_string().get(version) != simdjson::SUCCESS || version != "meta.k8s.io/v1") {
    return bad("incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
  }
  if (obj["rv"].get_int64().get(rv) != simdjson::SUCCESS || rv <= 0) return bad("incorrect encoded start resourceVersion");
  if (obj["start"].get_string().get(start) != simdjson::SUCCESS || start.empty() || start.back() != '\0') {
    return bad("malformed token");
  }
  start.remove_suffix(1);
  if (start.find("..") != std::string_view::npos || start.starts_with("/")) return bad("invalid start key");
  return ContinueToken{rv, std::string(start)};
}

RequestRecorder::RequestRecorder(metrics::Registry& metrics)
    : total_(&metrics.CounterFamily(
          "apiserver_request_total",
          "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, "
          "component, and HTTP response code.",
          {"verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component", "code"})),
      duration_(&metrics.HistogramFamily(
          "apiserver_request_duration_seconds",
          "Response latency distribution in seconds for each verb, dry run value, group, version, resource, "
          "subresource, scope and component.",
          {"verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component"},
          {0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60})) {}

void RequestRecorder::Record(const net::Request& req, const RequestInfo& info, const ResourceInfo* resource,
                             const std::string& user, int code, Duration latency, int64_t revision,
                             const RequestSteps* steps) {
  std::string verb = info.verb;
  for (char& ch : verb) ch = char(std::toupper(static_cast<unsigned char>(ch)));
  if (verb.empty()) verb = req.method;
  std::string group = resource ? resource->group : "", version = resource ? resource->version : "";
  std::string res = resource ? resource->resource : "";
  std::string scope = !resource ? "" : !info.namespace_.empty() ? "namespace" : info.name.empty() ? "cluster" : "resource";
  double seconds = std::chrono::duration<double>(latency).count();
  std::string dry = req.raw_query.find("dryRun=All") != std::string::npos ? "All" : "";
  total_->With({verb, dry, group, version, res, info.subresource, scope, "apiserver", std::to_string(code)}).Inc();
  if (verb != "WATCH") {
    duration_->With({verb, dry, group, version, res, info.subresource, scope, "apiserver"}).Observe(seconds);
  }
  char ms[32];
  std::snprintf(ms, sizeof ms, "%.3fms", seconds * 1e3);
  if (!log::V(2)) return;
  static const RequestSteps kNone;
  const RequestSteps& st = steps ? *steps : kNone;
  CK_VLOG(2, "HTTP", "verb", verb, "URI", req.target, "user", user, "groups", st.groups, "authn", st.authenticated_by,
          "impersonatedBy", st.impersonated_by, "authz", st.authorization, "authzReason", st.authorization_reason,
          "admission", st.admission, "resourceVersion", revision, "resp", code, "latency", std::string(ms), "srcIP",
          req.peer.remote_address);
}

}  // namespace ck::apiserver
