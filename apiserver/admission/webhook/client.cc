#include "apiserver/admission/webhook/client.h"

#include <charconv>

#include "common/api/object.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/discovery_v1.pb.h"
#include "common/net/http_client.h"

namespace ck::apiserver::admission::webhook {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
namespace discoveryv1 = ::k8s::io::api::discovery::v1;

// Answers are AdmissionReviews; a patch may carry a whole object, so allow generously.
constexpr size_t kMaxResponseBytes = 16 * 1024 * 1024;

bool IsIpv6(std::string_view host) { return host.find(':') != std::string_view::npos; }

// https://host[:port][/path][?query] (upstream validation allows only https, no user info and no
// fragment).
Result<Endpoint> ParseUrl(const std::string& url) {
  constexpr std::string_view kScheme = "https://";
  if (!std::string_view(url).starts_with(kScheme)) return BadRequest("invalid url \"" + url + "\": scheme must be https");
  std::string_view rest = std::string_view(url).substr(kScheme.size());
  if (rest.find('#') != std::string_view::npos) return BadRequest("invalid url \"" + url + "\": fragments are not permitted");
  size_t path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  Endpoint e;
  e.path = path_start == std::string_view::npos ? "/" : std::string(rest.substr(path_start));
  if (e.path.front() == '?') e.path = "/" + e.path;
  if (authority.find('@') != std::string_view::npos) {
    return BadRequest("invalid url \"" + url + "\": user information is not permitted");
  }
  std::string_view host = authority, port;
  if (authority.starts_with("[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return BadRequest("invalid url \"" + url + "\": bad IPv6 address");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (after.starts_with(":")) port = after.substr(1);
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return BadRequest("invalid url \"" + url + "\": host must be specified");
  e.host = std::string(host);
  e.server_name = e.host;
  if (!port.empty()) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) {
      return BadRequest("invalid url \"" + url + "\": bad port");
    }
    e.port = static_cast<uint16_t>(value);
  }
  return e;
}

bool EndpointReady(const discoveryv1::Endpoint& ep) {
  // An unknown (nil) ready condition counts as ready.
  return !ep.has_conditions() || !ep.conditions().has_ready() || ep.conditions().ready();
}

}  // namespace

std::string Endpoint::Url() const {
  std::string h = IsIpv6(host) ? "[" + host + "]" : host;
  return "https://" + h + ":" + std::to_string(port) + path;
}

WebhookClient::WebhookClient(const ObjectSource& source) : source_(source) {}
WebhookClient::~WebhookClient() = default;

Result<Endpoint> WebhookClient::Resolve(const Hook& hook) {
  if (!hook.service) {
    if (hook.url.empty()) return BadRequest("no url or service in clientConfig");
    return ParseUrl(hook.url);
  }
  const ServiceRef& ref = *hook.service;
  ObjectRef svc_object = source_.Get("services", ref.namespace_, ref.name);
  const auto* svc = dynamic_cast<const corev1::Service*>(svc_object.get());
  if (svc == nullptr) return NotFound("service \"" + ref.name + "\" not found");
  const std::string& type = svc->spec().type();
  if (!type.empty() && type != "ClusterIP" && type != "NodePort" && type != "LoadBalancer") {
    return BadRequest("unsupported service type \"" + type + "\"");
  }
  const corev1::ServicePort* svc_port = nullptr;
  for (const auto& p : svc->spec().ports()) {
    if (p.port() == ref.port) svc_port = &p;
  }
  if (svc_port == nullptr) {
    return Unavailable("no service port " + std::to_string(ref.port) + " found for service \"" + ref.name + "\"");
  }
  // Ready addresses of the slices whose port has the Service port's name.
  std::vector<std::pair<std::string, int32_t>> candidates;
  for (const ObjectRef& o : source_.List("endpointslices.discovery.k8s.io", ref.namespace_)) {
    const auto* slice = dynamic_cast<const discoveryv1::EndpointSlice*>(o.get());
    if (slice == nullptr || slice->addresstype() == "FQDN") continue;
    auto label = slice->metadata().labels().find("kubernetes.io/service-name");
    if (label == slice->metadata().labels().end() || label->second != ref.name) continue;
    for (const auto& port : slice->ports()) {
      if (port.name() != svc_port->name() || !port.has_port()) continue;
      for (const auto& ep : slice->endpoints()) {
        if (!EndpointReady(ep)) continue;
        for (const auto& address : ep.addresses()) candidates.emplace_back(address, port.port());
      }
    }
  }
  if (candidates.empty()) return Unavailable("no endpoints available for service \"" + ref.name + "\"");
  const auto& chosen = candidates[next_endpoint_.fetch_add(1, std::memory_order_relaxed) % candidates.size()];
  Endpoint e;
  e.host = chosen.first;
  e.port = static_cast<uint16_t>(chosen.second);
  e.server_name = ref.name + "." + ref.namespace_ + ".svc";
  e.path = ref.path.empty() ? "/" : ref.path;
  if (e.path.front() != '/') e.path = "/" + e.path;
  return e;
}

std::shared_ptr<net::HttpClient> WebhookClient::ClientFor(const Hook& hook, const Endpoint& endpoint) {
  std::string key = endpoint.host + "\n" + std::to_string(endpoint.port) + "\n" + endpoint.server_name + "\n" +
                    std::to_string(hook.timeout.count()) + "\n" + hook.ca_pem;
  std::lock_guard lock(mu_);
  auto it = clients_.find(key);
  if (it != clients_.end()) return it->second;
  if (clients_.size() >= 256) clients_.clear();  // bounded: configurations come and go
  net::HttpClientOptions o;
  o.host = endpoint.host;
  o.port = endpoint.port;
  o.tls = true;
  o.tls_config.ca_pem = hook.ca_pem;
  o.tls_config.server_name = endpoint.server_name;
  o.timeout = hook.timeout;
  o.max_idle_connections = 4;
  o.max_response_bytes = kMaxResponseBytes;
  auto client = std::make_shared<net::HttpClient>(o);
  clients_.emplace(std::move(key), client);
  return client;
}

std::variant<ReviewResponse, CallFailure> WebhookClient::Call(const Hook& hook, const std::string& uid,
                                                             const std::string& body) {
  Result<Endpoint> endpoint = Resolve(hook);
  if (!endpoint.ok()) return CallFailure{"could not get REST client: " + endpoint.status().message()};
  // Upstream tells the webhook its deadline in the query.
  std::string target = endpoint->path + (endpoint->path.find('?') == std::string::npos ? "?" : "&") +
                       "timeout=" + std::to_string(hook.timeout.count()) + "s";
  Endpoint shown = *endpoint;
  shown.path = target;
  const std::string post = "Post \"" + shown.Url() + "\": ";
  net::ClientRequest request;
  request.method = "POST";
  request.target = target;
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json, */*"}};
  request.body = body;
  Result<net::Response> response = ClientFor(hook, *endpoint)->Do(request);
  if (!response.ok()) {
    // Go's net/http reports a request that ran out of time as the context's deadline.
    std::string why = response.status().code() == Code::kTimeout ? "context deadline exceeded" : response.status().message();
    return CallFailure{"failed to call webhook: " + post + why};
  }
  if (response->status < 200 || response->status > 299) {
    return CallFailure{"failed to call webhook: the server responded with the status code " +
                       std::to_string(response->status) + " but did not return more information"};
  }
  Result<ReviewResponse> verified = VerifyReviewResponse(response->body, uid, hook.type == HookType::kMutating);
  if (!verified.ok()) return CallFailure{"received invalid webhook response: " + verified.status().message()};
  return std::move(verified).value();
}

}  // namespace ck::apiserver::admission::webhook
