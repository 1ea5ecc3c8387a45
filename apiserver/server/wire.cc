#include "apiserver/server/wire.h"

#include <cctype>
#include <charconv>
#include <cstdio>

#include "common/base/log.h"
#include "common/base/strings.h"

namespace ck::apiserver {

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
    auto member = [&](std::string_view k, std::string_view v) {
      if (v.empty()) return;
      if (!first) out += ',';
      first = false;
      AppendJsonString(out, k);
      out += ':';
      AppendJsonString(out, v);
    };
    member("name", details->name);
    member("group", details->group);
    member("kind", details->kind);
    if (!details->causes.empty()) {
      if (!first) out += ',';
      first = false;
      out += "\"causes\":[";
      for (size_t i = 0; i < details->causes.size(); ++i) {
        const StatusCause& c = details->causes[i];
        if (i) out += ',';
        out += '{';
        bool f2 = true;
        auto m2 = [&](std::string_view k, std::string_view v) {
          if (v.empty()) return;
          if (!f2) out += ',';
          f2 = false;
          AppendJsonString(out, k);
          out += ':';
          AppendJsonString(out, v);
        };
        m2("reason", c.reason);
        m2("message", c.message);
        m2("field", c.field);
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
    for (auto [k, v] : {std::pair<std::string_view, std::string_view>{"name", name}, {"group", group}, {"kind", kind}, {"uid", uid}}) {
      if (v.empty()) continue;
      if (!first) out += ',';
      first = false;
      AppendJsonString(out, k);
      out += ':';
      AppendJsonString(out, v);
    }
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

int64_t ParseRevision(std::string_view rv) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(rv.data(), rv.data() + rv.size(), v);
  return ec == std::errc() && p == rv.data() + rv.size() ? v : 0;
}

namespace {
constexpr std::string_view kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) v |= uint8_t(in[i + 1]) << 8;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : in) {
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad) return std::nullopt;
    size_t k = kB64.find(c);
    if (k == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | uint32_t(k);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xff);
    }
  }
  if (pad > 2 || (in.size() % 4) != 0) return std::nullopt;
  return out;
}

std::string EncodeContinue(int64_t revision, std::string_view last_key) {
  std::string json = "{\"v\":\"meta.k8s.io/v1\",\"rv\":" + std::to_string(revision) + ",\"start\":";
  // The next page starts after the last key: upstream appends "\x00".
  std::string start(last_key);
  start += '\0';
  AppendJsonString(json, start);
  json += '}';
  return Base64Encode(json);
}

Result<ContinueToken> DecodeContinue(std::string_view token, std::string_view prefix) {
  (void)prefix;
  auto bad = [](std::string_view why) { return BadRequest("continue key is not valid: " + std::string(why)); };
  std::optional<std::string> json = Base64Decode(token);
  if (!json) return bad("illegal base64 data");
  // The token is ours: {"v":"meta.k8s.io/v1","rv":N,"start":"..."}; read it back strictly.
  std::string_view s = *json;
  constexpr std::string_view kHead = "{\"v\":\"meta.k8s.io/v1\",\"rv\":";
  if (!s.starts_with(kHead)) return bad("incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
  s.remove_prefix(kHead.size());
  ContinueToken t;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), t.revision);
  if (ec != std::errc() || t.revision <= 0) return bad("incorrect encoded start resourceVersion");
  s.remove_prefix(p - s.data());
  constexpr std::string_view kStart = ",\"start\":\"";
  if (!s.starts_with(kStart) || !s.ends_with("\"}")) return bad("malformed token");
  s.remove_prefix(kStart.size());
  s.remove_suffix(2);
  // Unescape the JSON string (AppendJsonString escapes ", \, control characters as \uXXXX).
  std::string key;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      key += s[i];
      continue;
    }
    if (++i >= s.size()) return bad("malformed token");
    char e = s[i];
    switch (e) {
      case '"': key += '"'; break;
      case '\\': key += '\\'; break;
      case '/': key += '/'; break;
      case 'n': key += '\n'; break;
      case 't': key += '\t'; break;
      case 'r': key += '\r'; break;
      case 'b': key += '\b'; break;
      case 'f': key += '\f'; break;
      case 'u': {
        if (i + 4 >= s.size()) return bad("malformed token");
        unsigned v = 0;
        auto [q, ec2] = std::from_chars(s.data() + i + 1, s.data() + i + 5, v, 16);
        if (ec2 != std::errc() || q != s.data() + i + 5 || v > 0x7f) return bad("malformed token");
        key += char(v);
        i += 4;
        break;
      }
      default:
        return bad("malformed token");
    }
  }
  if (key.empty() || key.back() != '\0') return bad("malformed token");
  key.pop_back();
  if (key.find("..") != std::string::npos || key.starts_with("/")) return bad("invalid start key");
  t.start_after = std::move(key);
  return t;
}

void RecordRequest(const net::Request& req, const RequestInfo& info, const ResourceInfo* resource,
                   const std::string& user, int code, Duration latency, int64_t revision, metrics::Registry& metrics) {
  std::string verb = info.verb;
  for (char& ch : verb) ch = char(std::toupper(static_cast<unsigned char>(ch)));
  if (verb == "PATCH" || verb.empty()) verb = info.verb.empty() ? req.method : "PATCH";
  std::string group = resource ? resource->group : "", version = resource ? resource->version : "";
  std::string res = resource ? resource->resource : "";
  std::string scope = !resource ? "" : !info.namespace_.empty() ? "namespace" : info.name.empty() ? "cluster" : "resource";
  double seconds = std::chrono::duration<double>(latency).count();
  auto& total = metrics.CounterFamily(
      "apiserver_request_total",
      "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, "
      "component, and HTTP response code.",
      {"verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component", "code"});
  auto& duration = metrics.HistogramFamily(
      "apiserver_request_duration_seconds",
      "Response latency distribution in seconds for each verb, dry run value, group, version, resource, "
      "subresource, scope and component.",
      {"verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component"},
      {0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60});
  std::string dry = req.raw_query.find("dryRun=All") != std::string::npos ? "All" : "";
  total.With({verb, dry, group, version, res, info.subresource, scope, "apiserver", std::to_string(code)}).Inc();
  if (verb != "WATCH") {
    duration.With({verb, dry, group, version, res, info.subresource, scope, "apiserver"}).Observe(seconds);
  }
  char ms[32];
  std::snprintf(ms, sizeof ms, "%.3fms", seconds * 1e3);
  CK_VLOG(2, "HTTP", "verb", verb, "URI", req.target, "user", user, "resp", code, "latency", std::string(ms),
          "resourceVersion", revision, "srcIP", req.peer.remote_address);
}

}  // namespace ck::apiserver
