#include "common/client/rest/rest_api_client.h"

#include <string_view>
#include <utility>

#include "common/api/object.h"
#include "common/api/codec.h"
#include "common/api/envelope.h"
#include "common/api/kinds.h"
#include "common/base/log.h"
#include "common/base/strings.h"
#include "common/client/rest/api_errors.h"
#include "common/client/rest/json_stream.h"
#include "common/client/rest/object_decoder.h"
#include "common/client/rest/request_path.h"
#include "common/client/rest/retry.h"
#include "common/metrics/metrics.h"

namespace ck::client {

namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;
using google::protobuf::Descriptor;
using google::protobuf::Message;

namespace {

constexpr std::string_view kJson = "application/json";
constexpr auto kTokenFileRefresh = std::chrono::minutes(1);

bool IsSuccess(int status) { return status >= 200 && status < 300; }

// The expected type of single objects of `resource`.
const Descriptor* ObjectType(const ResourceInfo& resource, bool metadata_only) {
  return metadata_only ? PartialObjectMetadataType() : FindMessageType(resource.proto_type);
}

// The type a subresource answers with (Scale for scale, the resource's own kind for status).
const Descriptor* SubresourceType(const ResourceInfo& resource, const std::string& subresource) {
  if (subresource.empty()) return FindMessageType(resource.proto_type);
  const api::SubresourceInfo* sub = resource.FindSubresource(subresource);
  if (sub == nullptr) return nullptr;  // decoded by the answer's kind
  if (sub->kind == resource.kind && sub->group == resource.group) return FindMessageType(resource.proto_type);
  return api::FindKind(sub->group.empty() ? sub->version : sub->group + "/" + sub->version, sub->kind);
}

std::string NamespaceFor(const ResourceInfo& resource, const std::string& ns, const Message& object) {
  if (!resource.namespaced || !ns.empty()) return ns;
  const auto* meta = api::FindMeta(object);
  return meta != nullptr ? meta->namespace_() : "";
}

// A watch on one HTTP response stream.
class RestWatchStream final : public WatchStream {
 public:
  RestWatchStream(std::unique_ptr<net::ResponseStream> stream, const Descriptor* type,
                  std::chrono::milliseconds idle_limit, std::string what)
      : stream_(std::move(stream)), type_(type), idle_limit_(idle_limit), what_(std::move(what)) {}

  Result<std::optional<WatchEvent>> Next() override {
    while (true) {
      if (stopped_.load()) return Unavailable("stopped");
      if (finished_) return std::optional<WatchEvent>();
      Result<std::optional<std::string_view>> frame = framer_.Next();
      if (!frame.ok()) return Finish(Internal(what_ + ": " + frame.status().message()));
      if (frame->has_value()) return Decode(**frame);
      Result<std::optional<std::string>> chunk = stream_->Next(idle_limit_);
      if (stopped_.load()) return Unavailable("stopped");
      if (!chunk.ok()) {
        if (chunk.status().code() == Code::kTimeout) {
          return Finish(
              Unavailable(what_ + ": no data for " + std::to_string(idle_limit_.count() / 1000) + "s"));
        }
        return Finish(Unavailable(what_ + ": " + chunk.status().message()));
      }
      if (!chunk->has_value()) {
        if (framer_.has_partial()) return Finish(Unavailable(what_ + ": stream ended inside an event"));
        finished_ = true;
        return std::optional<WatchEvent>();
      }
      framer_.Feed(**chunk);
    }
  }

  void Stop() override {
    stopped_.store(true);
    stream_->Cancel();
  }

 private:
  Result<std::optional<WatchEvent>> Finish(Status s) {
    finished_ = true;
    return s;
  }

  Result<std::optional<WatchEvent>> Decode(std::string_view text) {
    Result<WatchEnvelope> env = ParseWatchEnvelope(text);
    if (!env.ok()) return Finish(Internal(what_ + ": " + env.status().message()));
    WatchEvent event;
    if (env->type == "ERROR") {
      Result<ObjectPtr> status = DecodeObject(env->object, metav1::Status::descriptor());
      if (!status.ok()) return Finish(Internal(what_ + ": ERROR event: " + status.status().message()));
      Status s = FromApiStatus(static_cast<const metav1::Status&>(**status), 500);
      return Finish(s.ok() ? Internal(what_ + ": ERROR event without an error") : s);
    }
    if (env->type == "ADDED") {
      event.type = WatchEvent::Type::kAdded;
    } else if (env->type == "MODIFIED") {
      event.type = WatchEvent::Type::kModified;
    } else if (env->type == "DELETED") {
      event.type = WatchEvent::Type::kDeleted;
    } else if (env->type == "BOOKMARK") {
      event.type = WatchEvent::Type::kBookmark;
    } else {
      return Finish(Internal(what_ + ": unknown event type \"" + std::string(env->type) + "\""));
    }
    Result<ObjectPtr> object = DecodeObject(env->object, type_);
    if (!object.ok()) return Finish(Internal(what_ + ": " + object.status().message()));
    if (IsApiStatus(**object) && type_ != metav1::Status::descriptor()) {
      return Finish(Internal(what_ + ": a Status in a " + std::string(env->type) + " event"));
    }
    event.object = std::move(object).value();
    return std::optional<WatchEvent>(std::move(event));
  }

  std::unique_ptr<net::ResponseStream> stream_;
  const Descriptor* type_;
  const std::chrono::milliseconds idle_limit_;
  const std::string what_;
  JsonFramer framer_;
  bool finished_ = false;
  std::atomic<bool> stopped_{false};
};

}  // namespace

struct RestApiClient::Metrics {
  metrics::Family<metrics::Counter>* requests;
  metrics::Family<metrics::Histogram>* duration;
  metrics::Family<metrics::Histogram>* rate_limiter;
  metrics::Family<metrics::Counter>* retries;
};

Result<std::unique_ptr<RestApiClient>> RestApiClient::New(RestConfig config, Clock& clock, Random& random) {
  Result<ServerUrl> url = ParseServerUrl(config.server);
  if (!url.ok()) return url.status();
  return std::unique_ptr<RestApiClient>(new RestApiClient(std::move(config), clock, random));
}

RestApiClient::RestApiClient(RestConfig config, Clock& clock, Random& random)
    : config_(std::move(config)),
      clock_(clock),
      random_(random),
      limiter_(config_.qps, config_.burst, clock) {
  ServerUrl url = ParseServerUrl(config_.server).value();
  path_prefix_ = url.path_prefix;
  user_agent_ = config_.user_agent.empty() ? MakeUserAgent("ck-client", "v1.32.0") : config_.user_agent;
  net::HttpClientOptions o;
  o.host = url.host;
  o.port = url.port;
  o.tls = url.tls;
  o.tls_config.ca_pem = config_.ca_pem;
  o.tls_config.cert_pem = config_.cert_pem;
  o.tls_config.key_pem = config_.key_pem;
  o.tls_config.server_name = config_.tls_server_name;
  o.tls_config.insecure_skip_verify = config_.insecure_skip_tls_verify;
  o.timeout = config_.timeout;
  o.max_idle_connections = config_.max_idle_connections;
  http_ = std::make_unique<net::HttpClient>(o);
  host_label_ = url.host + ":" + std::to_string(url.port);
  if (config_.metrics != nullptr) {
    metrics::Registry& r = *config_.metrics;
    metrics_ = std::make_unique<Metrics>(Metrics{
        &r.CounterFamily("rest_client_requests_total",
                         "Number of HTTP requests, partitioned by status code, method, and host.",
                         {"code", "host", "method"}),
        &r.HistogramFamily("rest_client_request_duration_seconds",
                           "Request latency in seconds. Broken down by verb, and host.", {"verb", "host"}),
        &r.HistogramFamily("rest_client_rate_limiter_duration_seconds",
                           "Client side rate limiter latency in seconds. Broken down by verb, and host.",
                           {"verb", "host"}),
        &r.CounterFamily("rest_client_request_retries_total",
                         "Number of request retries, partitioned by status code, verb, and host.",
                         {"code", "host", "verb"}),
    });
  }
}

RestApiClient::~RestApiClient() = default;

int RestApiClient::connections_opened() const { return http_->connections_opened(); }

std::string RestApiClient::BearerToken() {
  if (config_.bearer_token_file.empty()) return config_.bearer_token;
  std::lock_guard lock(token_mu_);
  MonoTime now = clock_.Monotonic();
  if (!token_read_ || now - token_read_at_ >= kTokenFileRefresh) {
    Result<std::string> content = net::ReadFile(config_.bearer_token_file);
    if (content.ok()) {
      file_token_ = std::string(TrimSpace(*content));
    } else {
      // Keep the last token that could be read (client-go's cachingTokenSource does the same).
      CK_LOG_WARNING("Cannot read the bearer token file", "err", content.status().ToString());
    }
    token_read_ = true;
    token_read_at_ = now;
  }
  return file_token_.empty() ? config_.bearer_token : file_token_;
}

Result<RestApiClient::Sent> RestApiClient::Send(const std::string& method, const std::string& target,
                                                const std::string& accept, const std::string& content_type,
                                                const std::string& body, bool stream) {
  net::ClientRequest req;
  req.method = method;
  req.target = path_prefix_ + target;
  req.body = body;
  req.headers.Add("Accept", accept);
  req.headers.Add("User-Agent", user_agent_);
  if (!content_type.empty()) req.headers.Add("Content-Type", content_type);
  if (std::string token = BearerToken(); !token.empty()) req.headers.Add("Authorization", "Bearer " + token);
  const bool idempotent = method == "GET" || method == "HEAD";
  const std::string verb = stream ? "WATCH" : method;
  RetryState retry_state;
  while (true) {
    MonoTime wait_start = clock_.Monotonic();
    limiter_.Accept();
    MonoTime start = clock_.Monotonic();
    if (metrics_) {
      metrics_->rate_limiter->With({verb, host_label_})
          .Observe(std::chrono::duration<double>(start - wait_start).count());
    }
    ++attempts_;
    Sent sent;
    Status transport;
    if (stream) {
      Result<std::unique_ptr<net::ResponseStream>> s = http_->Open(req);
      if (s.ok()) {
        sent.response.status = (*s)->status();
        sent.response.headers = (*s)->headers();
        if (sent.response.status == 200) {
          sent.stream = std::move(s).value();
        } else {
          // An error answer to a watch: read its (small) Status body.
          while (true) {
            Result<std::optional<std::string>> piece = (*s)->Next(config_.timeout);
            if (!piece.ok() || !piece->has_value()) break;
            sent.response.body += **piece;
          }
        }
      } else {
        transport = s.status();
      }
    } else {
      Result<net::Response> r = http_->Do(req);
      if (r.ok()) {
        sent.response = std::move(r).value();
      } else {
        transport = r.status();
      }
    }
    AttemptOutcome outcome;
    if (!transport.ok()) {
      outcome.connection_failed = transport.code() == Code::kUnavailable;
    } else {
      outcome.http_status = sent.response.status;
      if (sent.response.headers.Has("Retry-After")) {
        outcome.retry_after = ParseRetryAfter(sent.response.headers.Get("Retry-After"));
      }
    }
    std::string code_label = transport.ok() ? std::to_string(sent.response.status) : "<error>";
    if (metrics_) {
      metrics_->requests->With({code_label, host_label_, method}).Inc();
      metrics_->duration->With({verb, host_label_})
          .Observe(std::chrono::duration<double>(clock_.Monotonic() - start).count());
    }
    CK_VLOG(6, "Request", "verb", verb, "url", req.target, "status", code_label, "milliseconds",
            std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Monotonic() - start).count());
    RetryDecision decision = DecideRetry(config_.retry, idempotent, outcome, &retry_state, random_);
    if (!decision.retry) {
      if (!transport.ok()) return transport;
      return sent;
    }
    ++retries_;
    if (metrics_) metrics_->retries->With({code_label, host_label_, verb}).Inc();
    CK_VLOG(2, "Retrying request", "verb", verb, "url", req.target, "status", code_label, "delay_ms",
            std::chrono::duration_cast<std::chrono::milliseconds>(decision.delay).count(), "err",
            transport.ok() ? std::string() : transport.message());
    clock_.SleepFor(decision.delay);
  }
}

Result<std::string> RestApiClient::EncodeBody(const ResourceInfo& resource, const std::string& subresource,
                                              const Message& object, std::string* content_type) const {
  std::string kind = resource.kind;
  std::string api_version = resource.GroupVersion();
  if (const api::SubresourceInfo* sub =
          subresource.empty() ? nullptr : resource.FindSubresource(subresource)) {
    kind = sub->kind;
    api_version = sub->group.empty() ? sub->version : sub->group + "/" + sub->version;
  }
  if (config_.body_encoding == BodyEncoding::kProtobuf) {
    *content_type = std::string(api::kProtobufContentType);
    return api::EncodeProtobufEnvelope(object, api_version, kind);
  }
  *content_type = std::string(kJson);
  return api::ToJson(object, {kind, api_version});
}

namespace {

// The object of a successful answer, or the answer's error.
Result<ObjectPtr> ObjectAnswer(const net::Response& r, const Descriptor* type) {
  if (!IsSuccess(r.status)) return StatusFromResponse(r.status, r.body);
  return DecodeObject(r.body, type);
}

}  // namespace

Result<ObjectPtr> RestApiClient::Get(const ResourceInfo& resource, const std::string& ns,
                                     const std::string& name, const GetOptions& options) {
  if (!options.subresource.empty()) return GetSubresource(resource, ns, name, options.subresource, options);
  std::string target = ResourcePath(resource, ns, name) + GetQuery(options);
  CK_ASSIGN_OR_RETURN(
      Sent sent,
      Send("GET", target, std::string(options.metadata_only ? kAcceptMetadata : kJson), "", "", false));
  return ObjectAnswer(sent.response, ObjectType(resource, options.metadata_only));
}

Result<ObjectPtr> RestApiClient::GetSubresource(const ResourceInfo& resource, const std::string& ns,
                                                const std::string& name, const std::string& subresource,
                                                const GetOptions& options) {
  std::string target = ResourcePath(resource, ns, name, subresource) + GetQuery(options);
  CK_ASSIGN_OR_RETURN(Sent sent, Send("GET", target, std::string(kJson), "", "", false));
  return ObjectAnswer(sent.response, SubresourceType(resource, subresource));
}

Result<ObjectList> RestApiClient::List(const ResourceInfo& resource, const std::string& ns,
                                       const ListOptions& options) {
  std::string target = ResourcePath(resource, ns) + ListQuery(options, false);
  CK_ASSIGN_OR_RETURN(
      Sent sent,
      Send("GET", target, std::string(options.metadata_only ? kAcceptMetadataList : kJson), "", "", false));
  if (!IsSuccess(sent.response.status)) return StatusFromResponse(sent.response.status, sent.response.body);
  const Descriptor* list_type =
      options.metadata_only ? PartialObjectMetadataListType() : FindMessageType(resource.list_proto_type);
  return DecodeList(sent.response.body, list_type);
}

Result<std::unique_ptr<WatchStream>> RestApiClient::Watch(const ResourceInfo& resource, const std::string& ns,
                                                          const ListOptions& options) {
  std::string target = ResourcePath(resource, ns) + ListQuery(options, true);
  CK_ASSIGN_OR_RETURN(
      Sent sent,
      Send("GET", target, std::string(options.metadata_only ? kAcceptMetadata : kJson), "", "", true));
  if (!sent.stream) return StatusFromResponse(sent.response.status, sent.response.body);
  std::chrono::milliseconds idle{0};
  if (options.timeout_seconds > 0) idle = std::chrono::seconds(options.timeout_seconds + 30);
  return std::unique_ptr<WatchStream>(
      std::make_unique<RestWatchStream>(std::move(sent.stream), ObjectType(resource, options.metadata_only),
                                        idle, "watch " + resource.GroupResource()));
}

Result<ObjectPtr> RestApiClient::Create(const ResourceInfo& resource, const std::string& ns,
                                        const Message& object, const WriteOptions& options) {
  std::string namespace_name = NamespaceFor(resource, ns, object);
  if (resource.namespaced && namespace_name.empty()) {
    return BadRequest("create " + resource.GroupResource() + ": no namespace");
  }
  std::string content_type;
  CK_ASSIGN_OR_RETURN(std::string body, EncodeBody(resource, "", object, &content_type));
  std::string target = ResourcePath(resource, namespace_name) + WriteQuery(options);
  CK_ASSIGN_OR_RETURN(Sent sent, Send("POST", target, std::string(kJson), content_type, body, false));
  return ObjectAnswer(sent.response, FindMessageType(resource.proto_type));
}

Result<ObjectPtr> RestApiClient::Update(const ResourceInfo& resource, const std::string& ns,
                                        const Message& object, const std::string& subresource,
                                        const WriteOptions& options) {
  const auto* meta = api::FindMeta(object);
  if (meta == nullptr || meta->name().empty()) {
    return BadRequest("update " + resource.GroupResource() + ": the object has no metadata.name");
  }
  std::string content_type;
  CK_ASSIGN_OR_RETURN(std::string body, EncodeBody(resource, subresource, object, &content_type));
  std::string target = ResourcePath(resource, NamespaceFor(resource, ns, object), meta->name(), subresource) +
                       WriteQuery(options);
  CK_ASSIGN_OR_RETURN(Sent sent, Send("PUT", target, std::string(kJson), content_type, body, false));
  return ObjectAnswer(sent.response, SubresourceType(resource, subresource));
}

Result<ObjectPtr> RestApiClient::Patch(const ResourceInfo& resource, const std::string& ns,
                                       const std::string& name, PatchType type, const std::string& body,
                                       const std::string& subresource, const WriteOptions& options) {
  std::string target =
      ResourcePath(resource, ns, name, subresource) + WriteQuery(options, type == PatchType::kApply);
  CK_ASSIGN_OR_RETURN(
      Sent sent, Send("PATCH", target, std::string(kJson), std::string(PatchContentType(type)), body, false));
  return ObjectAnswer(sent.response, SubresourceType(resource, subresource));
}

Result<ObjectPtr> RestApiClient::CreateSubresource(const ResourceInfo& resource, const std::string& ns,
                                                   const std::string& name, const std::string& subresource,
                                                   const Message& object, const WriteOptions& options) {
  std::string content_type;
  CK_ASSIGN_OR_RETURN(std::string body, EncodeBody(resource, subresource, object, &content_type));
  std::string target = ResourcePath(resource, ns, name, subresource) + WriteQuery(options);
  CK_ASSIGN_OR_RETURN(Sent sent, Send("POST", target, std::string(kJson), content_type, body, false));
  // Binding and eviction answer with a Status, token with a TokenRequest: decode by kind.
  return ObjectAnswer(sent.response, nullptr);
}

Result<ObjectPtr> RestApiClient::Delete(const ResourceInfo& resource, const std::string& ns,
                                        const std::string& name, const DeleteOptions& options) {
  std::string target = ResourcePath(resource, ns, name);
  CK_ASSIGN_OR_RETURN(Sent sent, Send("DELETE", target, std::string(kJson), std::string(kJson),
                                      DeleteOptionsBody(options), false));
  CK_ASSIGN_OR_RETURN(ObjectPtr object, ObjectAnswer(sent.response, FindMessageType(resource.proto_type)));
  if (IsApiStatus(*object)) return ObjectPtr();
  return object;
}

Status RestApiClient::DeleteCollection(const ResourceInfo& resource, const std::string& ns,
                                       const ListOptions& list_options, const DeleteOptions& options) {
  std::string target = ResourcePath(resource, ns) + ListQuery(list_options, false);
  Result<Sent> sent =
      Send("DELETE", target, std::string(kJson), std::string(kJson), DeleteOptionsBody(options), false);
  if (!sent.ok()) return sent.status();
  if (!IsSuccess(sent->response.status))
    return StatusFromResponse(sent->response.status, sent->response.body);
  return Status::Ok();
}

Result<net::Response> RestApiClient::DoRaw(const RawRequest& request) {
  CK_ASSIGN_OR_RETURN(Sent sent, Send(request.method, request.path, request.accept, request.content_type,
                                      request.body, false));
  return std::move(sent.response);
}

}  // namespace ck::client
