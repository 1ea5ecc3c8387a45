#include "apiserver/server/api_server.h"

#include "apiserver/server/kubelet_proxy.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <set>

#include "apiserver/discovery/media_type.h"
#include "apiserver/discovery/table.h"
#include "apiserver/patch/patch.h"
#include "apiserver/request_info.h"
#include "apiserver/server/fields.h"
#include "apiserver/server/wire.h"
#include "common/api/codec.h"
#include "common/api/envelope.h"
#include "common/api/field_selector.h"
#include "common/api/label_selector.h"
#include "common/api/pod.h"
#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/authentication_v1.pb.h"
#include "common/api/proto/authorization_v1.pb.h"
#include "common/api/proto/autoscaling_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/policy_v1.pb.h"
#include "common/api/time_format.h"
#include "common/api/yaml.h"
#include "common/base/log.h"
#include "common/base/strings.h"
#include "common/pki/pki.h"

namespace ck::apiserver {
namespace {

namespace corev1 = k8s::io::api::core::v1;
namespace appsv1 = k8s::io::api::apps::v1;
namespace authnv1 = k8s::io::api::authentication::v1;
namespace authzv1 = k8s::io::api::authorization::v1;
namespace autoscalingv1 = k8s::io::api::autoscaling::v1;
namespace policyv1 = k8s::io::api::policy::v1;

constexpr std::string_view kJson = "application/json";

bool IsMutating(std::string_view verb) {
  return verb == "create" || verb == "update" || verb == "patch" || verb == "delete" || verb == "deletecollection";
}

// An integer query parameter; BadRequest naming it otherwise.
Result<int64_t> IntParam(std::string_view s, std::string_view what) {
  std::optional<int64_t> v = ParseInt(s);
  if (!v) return BadRequest("invalid " + std::string(what) + " \"" + std::string(s) + "\": must be an integer");
  return *v;
}

// The Table options of a request whose Accept asks for a Table (kubectl's human-readable output);
// nullopt when it wants the object itself.
Result<std::optional<discovery::TableOptions>> TableRequest(const net::Request& req, const net::Query& q,
                                                           WallTime now) {
  discovery::OutputFormat out = discovery::NegotiateOutput(req.headers.Get("Accept"));
  if (out.kind != discovery::OutputKind::kTable) return std::optional<discovery::TableOptions>();
  discovery::TableOptions to;
  to.now = now;
  to.api_version = out.api_version;
  CK_ASSIGN_OR_RETURN(to.include_object, discovery::ParseIncludeObject(q.GetOr("includeObject", "")));
  return std::optional<discovery::TableOptions>(std::move(to));
}

// Whether the request's Accept asks for PartialObjectMetadata (`want`: the single or the list
// form), with the API version to answer in; nullopt for the object itself. NotAcceptable when it
// asks for the other form (upstream: a list is never answered as a single PartialObjectMetadata).
Result<std::optional<std::string>> MetadataRequest(const net::Request& req, discovery::OutputKind want) {
  discovery::OutputFormat out = discovery::NegotiateOutput(req.headers.Get("Accept"));
  if (out.kind != discovery::OutputKind::kPartialObjectMetadata &&
      out.kind != discovery::OutputKind::kPartialObjectMetadataList) {
    return std::optional<std::string>();
  }
  if (out.kind != want) {
    bool list = want == discovery::OutputKind::kPartialObjectMetadataList;
    return Status(Code::kNotAcceptable, std::string("you requested ") +
                                            (list ? "PartialObjectMetadata, but the requested object is a list"
                                                  : "PartialObjectMetadataList, but the requested object is not a list"));
  }
  return std::optional<std::string>(out.api_version);
}

// PartialObjectMetadata's JSON, written around the object's own metadata (no copy of it).
void AppendPartialObjectMetadata(const Message& object, std::string_view api_version, std::string* out) {
  *out += "{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":";
  AppendJsonString(*out, api_version);
  *out += ",\"metadata\":";
  Status s = api::AppendJson(MetaOf(object), out);
  CK_CHECK(s.ok()) << s.ToString();
  *out += '}';
}

std::string EncodeObject(const ResourceInfo& r, const Message& m) {
  Result<std::string> j = api::ToJson(m, {r.kind, r.GroupVersion()});
  CK_CHECK(j.ok()) << j.status().ToString();
  return std::move(*j);
}

}  // namespace

// One request on its way through the handler chain.
struct ApiServer::Call {
  net::Request req;
  std::shared_ptr<net::ResponseWriter> w;
  net::Query query;
  RequestInfo info;
  UserInfo user;
  const ResourceInfo* resource = nullptr;
  MonoTime start;
  int code = 0;
  bool long_running = false;
  bool mutating = false;
  int64_t revision = 0;  // the resourceVersion the answer carries, for the request log
  std::vector<std::string> warnings;
  WallTime received;
  std::optional<UserInfo> requester;  // set when the request impersonates another user
  std::string authz_decision, authz_reason;
  Status failure = Status::Ok();  // what Fail() answered
  admission::Context adm;  // what admission did, for the request line and the audit log
};

// Admission bound to one request: the user, the operation and the subresource, around the
// registry's write (registry.h WriteAdmission).
class ApiServer::RequestAdmission : public WriteAdmission {
 public:
  RequestAdmission(const ApiServerSecurity& security, Call& c, admission::Operation op)
      : security_(security), c_(c), op_(op) {}

  Status Mutate(const ResourceInfo& r, const Message* old_object, Message* object, ErrorDetails* details) override {
    if (!security_.admission) return Status::Ok();
    admission::Attributes a = AttributesFor(r, old_object, object);
    return WithDetails(security_.admission->Admit(a, c_.adm), r, object, old_object, details);
  }

  Status Validate(const ResourceInfo& r, const Message* old_object, const Message* object,
                  std::vector<store::Compare>* compares, std::vector<store::Op>* ops, ErrorDetails* details) override {
    if (security_.check_escalation && object && r.group == "rbac.authorization.k8s.io") {
      CK_RETURN_IF_ERROR(security_.check_escalation(c_.user, r, *object, old_object, c_.info.namespace_));
    }
    if (!security_.admission) return Status::Ok();
    // Validation may run more than once (a transaction lost to a concurrent quota update): each
    // run starts from the same warnings.
    size_t warnings = c_.adm.warnings.size();
    c_.adm.compares = compares;
    c_.adm.ops = ops;
    admission::Attributes a = AttributesFor(r, old_object, const_cast<Message*>(object));
    Status s = security_.admission->Validate(a, c_.adm);
    c_.adm.compares = nullptr;
    c_.adm.ops = nullptr;
    if (!s.ok()) c_.adm.warnings.resize(std::min(warnings, c_.adm.warnings.size()));
    return WithDetails(s, r, object, old_object, details);
  }

 private:
  admission::Attributes AttributesFor(const ResourceInfo& r, const Message* old_object, Message* object) const {
    admission::Attributes a;
    a.operation = object == nullptr ? admission::Operation::kDelete : op_;
    a.resource = &r;
    a.subresource = c_.info.subresource;
    a.namespace_ = r.namespaced ? c_.info.namespace_ : "";
    const Message* any = object ? object : old_object;
    a.name = any ? MetaOf(*any).name() : c_.info.name;
    if (a.name.empty()) a.name = c_.info.name;
    a.user = &c_.user;
    a.dry_run = c_.query.GetOr("dryRun", "") == "All";
    a.object = object;
    a.old_object = old_object;
    return a;
  }
  // A refusal names the object like upstream's errors (details for kubectl's message).
  static Status WithDetails(Status s, const ResourceInfo& r, const Message* object, const Message* old_object,
                            ErrorDetails* details) {
    if (s.ok() || !details) return s;
    const Message* any = object ? object : old_object;
    if (details->name.empty() && any) details->name = MetaOf(*any).name();
    if (details->group.empty()) details->group = r.group;
    if (details->kind.empty()) details->kind = r.resource;
    return s;
  }

  const ApiServerSecurity& security_;
  Call& c_;
  admission::Operation op_;
};

struct ApiServer::ActiveWatch {
  std::unique_ptr<CacheWatch> watch;
  std::shared_ptr<net::ResponseWriter> writer;
  std::string user;
  MonoTime deadline = MonoTime::max();
  std::atomic<bool> ended{false};
};

ApiServer::ApiServer(ApiServerOptions options, store::Store* store, const Authenticator* authn,
                     const Authorizer* authz, Clock* clock, Random* random, metrics::Registry* metrics)
    : options_(std::move(options)),
      store_(store),
      authn_(authn),
      authz_(authz),
      clock_(clock),
      random_(random),
      metrics_(metrics),
      recorder_(*metrics),
      inflight_(&metrics->GaugeFamily(
          "apiserver_current_inflight_requests",
          "Maximal number of currently used inflight request limit of this apiserver per request kind in last second.",
          {"request_kind"})),
      longrunning_(&metrics->GaugeFamily("apiserver_longrunning_requests",
                                         "Gauge of all active long-running apiserver requests broken out by verb, "
                                         "group, version, resource, scope and component.",
                                         {"verb", "group", "version", "resource", "subresource", "scope", "component"})),
      watch_events_(&metrics->CounterFamily("apiserver_watch_events_total", "Number of events sent in watch clients",
                                            {"group", "version", "kind"})),
      storage_objects_(&metrics->GaugeFamily("apiserver_storage_objects",
                                             "Number of stored objects at the time of last check split by kind.",
                                             {"resource"})) {
  WatchCacheOptions wo;
  wo.clock = clock_;
  wo.bookmark_interval = options_.bookmark_interval;
  wo.history_events = options_.watch_cache_size;
  cache_ = std::make_unique<WatchCache>(store_, wo);
  registry_ = std::make_unique<Registry>(store_, cache_.get(), clock_, random_);
}

ApiServer::~ApiServer() { Stop(); }

Status ApiServer::Start() {
  allocation::AllocationOptions ao;
  ao.service_cluster_ip_range = options_.service_cluster_ip_range;
  ao.service_node_port_range = options_.service_node_port_range;
  CK_ASSIGN_OR_RETURN(allocation::AllocationConfig ac, allocation::ParseAllocationOptions(ao));
  // After a crash every address and port a Service holds has its key, and no key is leaked.
  CK_ASSIGN_OR_RETURN(allocation::RepairReport repair, allocation::RepairAllocations(store_, ac));
  if (repair.created + repair.deleted + repair.reassigned > 0) {
    CK_LOG_WARNING("Repaired Service allocations", "created", repair.created, "deleted", repair.deleted, "reassigned",
                   repair.reassigned);
  }
  allocator_ = std::make_unique<allocation::ServiceAllocator>(store_, std::move(ac), random_);
  registry_->SetAllocationHook(allocator_->Hook(), allocation::ServiceAllocator::Applies);
  CK_RETURN_IF_ERROR(cache_->Start());
  discovery::DiscoveryOptions dopt;
  dopt.server_address = options_.advertise_address + ":" + std::to_string(options_.secure_port);
  CK_ASSIGN_OR_RETURN(discovery::DiscoveryDocuments docs,
                      discovery::DiscoveryDocuments::Build(AllResources(), AllGroups(), dopt));
  discovery_.emplace(std::move(docs));
  CK_ASSIGN_OR_RETURN(discovery::OpenApiV3 oa, discovery::OpenApiV3::Build(AllResources(), AllGroups()));
  openapi_.emplace(std::move(oa));
  workers_ = std::make_unique<ThreadPool>("ck-api-worker", options_.worker_threads);
  CK_RETURN_IF_ERROR(Bootstrap());
  // The authorizers' indexes follow the cache from here on (they start with what Bootstrap wrote).
  for (auto& [prefix, sink] : feeds_) {
    CacheWatchOptions fo;
    fo.prefix = prefix;
    fo.send_initial = true;
    CK_ASSIGN_OR_RETURN(std::unique_ptr<CacheWatch> w, cache_->Watch(fo, sink));
    feed_watches_.push_back(std::move(w));
  }
  event_ttl_ = std::make_unique<EventTtl>(cache_.get(), store_, clock_, options_.event_ttl);
  CK_RETURN_IF_ERROR(event_ttl_->Start());
  reaper_ = std::thread([this] { ReaperLoop(); });
  metrics_->GaugeFunc("apiserver_current_inflight_requests_total", "Requests being served now (all kinds)",
                      [this] { return double(inflight_readonly_.load() + inflight_mutating_.load()); });
  return Status::Ok();
}

void ApiServer::Stop() {
  {
    std::lock_guard<std::mutex> l(watches_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  watches_cv_.notify_all();
  if (reaper_.joinable()) reaper_.join();
  std::list<std::shared_ptr<ActiveWatch>> rest;
  {
    std::lock_guard<std::mutex> l(watches_mu_);
    rest.swap(watches_);
  }
  for (auto& aw : rest) {
    aw->watch.reset();
    aw->writer->Finish();
  }
  feed_watches_.clear();
  if (event_ttl_) event_ttl_->Stop();
  workers_.reset();
}

// ---- bootstrap -----------------------------------------------------------------------------------

Status ApiServer::Bootstrap() {
  // Objects that exist are left as they are (a restart, or a user changed them).
  auto create = [&](const ResourceInfo& r, const std::string& ns, std::unique_ptr<Message> obj) -> Status {
    if (registry_->Get(r, ns, MetaOf(*obj).name()).ok()) return Status::Ok();
    Result<std::shared_ptr<const Message>> got = registry_->Create(r, ns, std::move(obj), {});
    if (!got.ok() && got.status().code() != Code::kAlreadyExists) return got.status();
    return Status::Ok();
  };
  const ResourceInfo* namespaces = FindResource("", "v1", "namespaces");
  for (const char* name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    auto ns = std::make_unique<corev1::Namespace>();
    ns->mutable_metadata()->set_name(name);
    CK_RETURN_IF_ERROR(create(*namespaces, "", std::move(ns)));
  }
  CK_ASSIGN_OR_RETURN(std::string ip, pki::FirstServiceIp(options_.service_cluster_ip_range));
  auto svc = std::make_unique<corev1::Service>();
  svc->mutable_metadata()->set_name("kubernetes");
  svc->mutable_metadata()->set_namespace_("default");
  (*svc->mutable_metadata()->mutable_labels())["component"] = "apiserver";
  (*svc->mutable_metadata()->mutable_labels())["provider"] = "kubernetes";
  svc->mutable_spec()->set_type("ClusterIP");
  svc->mutable_spec()->set_clusterip(ip);
  svc->mutable_spec()->add_clusterips(ip);
  svc->mutable_spec()->set_sessionaffinity("None");
  auto* port = svc->mutable_spec()->add_ports();
  port->set_name("https");
  port->set_protocol("TCP");
  port->set_port(443);
  port->mutable_targetport()->set_intval(options_.secure_port);
  CK_RETURN_IF_ERROR(create(*FindResource("", "v1", "services"), "default", std::move(svc)));

  // The Endpoints always name this server (upstream's endpoint reconciler): rewritten when the
  // address or port changed since the last start.
  const ResourceInfo& endpoints = *FindResource("", "v1", "endpoints");
  auto desired = std::make_unique<corev1::Endpoints>();
  desired->mutable_metadata()->set_name("kubernetes");
  desired->mutable_metadata()->set_namespace_("default");
  (*desired->mutable_metadata()->mutable_labels())["endpointslice.kubernetes.io/skip-mirror"] = "true";
  auto* subset = desired->add_subsets();
  subset->add_addresses()->set_ip(options_.advertise_address);
  auto* ep = subset->add_ports();
  ep->set_name("https");
  ep->set_port(options_.secure_port);
  ep->set_protocol("TCP");
  Result<std::shared_ptr<const Message>> current = registry_->Get(endpoints, "default", "kubernetes");
  if (!current.ok()) {
    CK_RETURN_IF_ERROR(create(endpoints, "default", std::move(desired)));
  } else {
    const auto& cur = static_cast<const corev1::Endpoints&>(**current);
    if (cur.subsets_size() != 1 || cur.subsets(0).SerializeAsString() != desired->subsets(0).SerializeAsString()) {
      corev1::EndpointSubset want = desired->subsets(0);
      Result<std::shared_ptr<const Message>> u = registry_->GuaranteedUpdate(
          endpoints, "default", "kubernetes",
          [&](Message* m) {
            auto* e = static_cast<corev1::Endpoints*>(m);
            e->clear_subsets();
            *e->add_subsets() = want;
            return Status::Ok();
          },
          {});
      if (!u.ok()) return u.status();
    }
  }
  // The default RBAC policy and the system PriorityClasses (upstream's bootstrap controllers).
  for (std::unique_ptr<Message>& o : bootstrap_objects_) {
    std::string type(o->GetDescriptor()->full_name());
    const ResourceInfo* r = nullptr;
    for (const ResourceInfo& ri : AllResources()) {
      if (ri.proto_type == type && !ri.storage_prefix.empty()) r = &ri;
    }
    if (r == nullptr) return Internal("no resource stores " + type);
    std::string ns = MetaOf(*o).namespace_();
    CK_RETURN_IF_ERROR(create(*r, ns, std::move(o)));
  }
  bootstrap_objects_.clear();
  return Status::Ok();
}

// ---- entry ---------------------------------------------------------------------------------------

void ApiServer::Serve(net::Request request, std::shared_ptr<net::ResponseWriter> writer) {
  auto c = std::make_shared<Call>();
  c->req = std::move(request);
  c->w = std::move(writer);
  c->start = clock_->Monotonic();
  c->received = clock_->Now();
  workers_->Post([this, c] { Handle(*c); });
}

void ApiServer::Handle(Call& c) {
  std::optional<net::Query> q = net::Query::Parse(c.req.raw_query);
  if (!q) return Fail(c, BadRequest("malformed query string: invalid percent escape"));
  c.query = std::move(*q);

  std::string why;
  Result<UserInfo> user = authn_->Authenticate(c.req, &why);
  if (!user.ok()) {
    CK_VLOG(1, "Unable to authenticate the request", "err", why, "srcIP", c.req.peer.remote_address);
    return Fail(c, user.status());
  }
  c.user = std::move(*user);
  if (security_.impersonate && !c.user.anonymous()) {
    bool asks = false;
    for (const auto& h : c.req.headers.entries()) {
      if (h.first.size() >= 12 && EqualsIgnoreCase(std::string_view(h.first).substr(0, 12), "Impersonate-")) asks = true;
    }
    if (asks) {
      Result<UserInfo> as = security_.impersonate(c.user, c.req.headers);
      if (!as.ok()) return Fail(c, as.status());
      c.requester = std::move(c.user);
      c.user = std::move(*as);
    }
  }

  Result<RequestInfo> info = ParseRequestInfo(c.req.method, c.req.path, c.query);
  if (!info.ok()) return Fail(c, info.status());
  c.info = std::move(*info);

  // Anonymous callers reach only the unauthenticated endpoints (health paths are served by the
  // daemon scaffold before this handler).
  if (c.user.anonymous()) {
    std::string_view p = c.req.path;
    if (p != "/version" && p != "/version/") return Fail(c, Unauthorized("Unauthorized"));
  }

  Attributes attrs = AttributesOf(c.user, c.info);
  // A list or watch of one object by name (fieldSelector=metadata.name=x, how kubelets watch a
  // secret) is authorized as that name, as upstream's RequestInfo does.
  if ((c.info.verb == "list" || c.info.verb == "watch") && c.info.name.empty()) {
    if (auto fs = c.query.Get("fieldSelector"); fs && fs->starts_with("metadata.name=") &&
                                                 fs->find(',') == std::string_view::npos) {
      attrs.name = std::string(fs->substr(std::string_view("metadata.name=").size()));
    }
  }
  std::string reason;
  if (!c.user.anonymous()) {
    bool allowed = authz_->Authorize(attrs, &reason) == Decision::kAllow;
    c.authz_decision = allowed ? "allow" : "forbid";
    c.authz_reason = reason;
  }
  if (!c.user.anonymous() && c.authz_decision != "allow") {
    ErrorDetails d;
    d.name = c.info.name;
    d.group = c.info.api_group;
    d.kind = c.info.resource;
    return Fail(c, Forbidden(ForbiddenMessage(attrs, reason)), c.info.is_resource_request ? &d : nullptr);
  }

  // A WebSocket GET of exec, attach or portforward runs a command as surely as the POST does:
  // it needs "create" as well (upstream's AuthorizePodWebsocketUpgradeCreatePermission).
  if (!c.user.anonymous() && c.info.verb == "get" && c.info.resource == "pods" &&
      (c.info.subresource == "exec" || c.info.subresource == "attach" || c.info.subresource == "portforward")) {
    Attributes create = attrs;
    create.verb = "create";
    if (authz_->Authorize(create, &reason) != Decision::kAllow) {
      c.authz_decision = "forbid";
      c.authz_reason = reason;
      ErrorDetails d;
      d.name = c.info.name;
      d.kind = c.info.resource;
      return Fail(c, Forbidden(ForbiddenMessage(create, reason)), &d);
    }
  }

  c.mutating = IsMutating(c.info.verb);
  c.long_running = c.info.verb == "watch" || c.info.subresource == "log" || c.info.subresource == "exec" ||
                   c.info.subresource == "attach" || c.info.subresource == "portforward";
  if (!c.long_running) {
    std::atomic<int>& counter = c.mutating ? inflight_mutating_ : inflight_readonly_;
    int limit = c.mutating ? options_.max_mutating_requests_inflight : options_.max_requests_inflight;
    if (counter.fetch_add(1) >= limit) {
      counter.fetch_sub(1);
      ErrorDetails d;
      d.retry_after_seconds = 1;
      return Fail(c, TooManyRequests("Too many requests, please try again later."), &d);
    }
    inflight_->With({c.mutating ? "mutating" : "readOnly"}).Inc();
  }
  if (c.info.is_resource_request) {
    HandleResource(c);
  } else {
    HandleNonResource(c);
  }
  if (!c.long_running) {
    (c.mutating ? inflight_mutating_ : inflight_readonly_).fetch_sub(1);
    inflight_->With({c.mutating ? "mutating" : "readOnly"}).Dec();
  }
}

void ApiServer::Finish(Call& c, int status, std::string body, std::string content_type) {
  net::Headers h{{"Content-Type", std::move(content_type)}, {"Cache-Control", "no-cache, private"}};
  for (const std::string& w : c.warnings) h.Add("Warning", "299 - " + QuoteWarning(w));
  for (const std::string& w : c.adm.warnings) h.Add("Warning", "299 - " + QuoteWarning(w));
  c.code = status;
  std::string kept = security_.audit ? body : std::string();
  c.w->Respond(status, std::move(h), std::move(body));
  Done(c, status, kept, c.revision);
}

void ApiServer::Fail(Call& c, const Status& s, const ErrorDetails* details) {
  net::Headers h{{"Content-Type", std::string(kJson)}, {"Cache-Control", "no-cache, private"}};
  if (details && details->retry_after_seconds > 0) h.Add("Retry-After", std::to_string(details->retry_after_seconds));
  for (const std::string& w : c.adm.warnings) h.Add("Warning", "299 - " + QuoteWarning(w));
  int code = HttpStatusOf(s.code());
  c.code = code;
  c.failure = s;
  std::string body = StatusJson(s, details);
  std::string kept = security_.audit ? body : std::string();
  c.w->Respond(code, std::move(h), std::move(body));
  Done(c, code, kept, c.revision);
}

void ApiServer::Done(Call& c, int code, std::string_view body, int64_t revision) {
  Duration latency = clock_->Monotonic() - c.start;
  if (log::V(2)) {
    std::string groups, admission;
    for (const std::string& g : c.user.groups) (groups.empty() ? groups : groups += ",") += g;
    for (const std::string& t : c.adm.trace) (admission.empty() ? admission : admission += "; ") += t;
    RequestSteps st;
    st.groups = groups;
    st.authenticated_by = c.requester ? c.requester->authenticated_by : c.user.authenticated_by;
    if (c.requester) st.impersonated_by = c.requester->name;
    st.authorization = c.authz_decision;
    st.authorization_reason = c.authz_reason;
    st.admission = admission;
    recorder_.Record(c.req, c.info, c.resource, c.user.name, code, latency, revision, &st);
  } else {
    recorder_.Record(c.req, c.info, c.resource, c.user.name, code, latency, revision);
  }
  if (security_.audit) {
    AuditRecord a;
    a.request = &c.req;
    a.info = &c.info;
    a.resource = c.resource;
    a.user = &c.user;
    a.requester = c.requester ? &*c.requester : nullptr;
    a.authorization_decision = c.authz_decision;
    a.authorization_reason = c.authz_reason;
    a.admission = &c.adm;
    a.code = code;
    if (!c.failure.ok()) a.failure = &c.failure;
    a.response_body = body;
    a.received = c.received;
    a.finished = clock_->Now();
    security_.audit(a);
  }
}

// ---- non-resource paths --------------------------------------------------------------------------

void ApiServer::HandleNonResource(Call& c) {
  std::string_view path = c.req.path;
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  std::string_view accept = c.req.headers.Get("Accept");
  if (c.req.method != "GET" && c.req.method != "HEAD") {
    return Fail(c, Status(Code::kMethodNotAllowed, "the server does not allow this method on the requested resource"));
  }
  if (path == "/version" || path == "/api" || path == "/apis" || path.starts_with("/api/") ||
      path.starts_with("/apis/")) {
    Result<discovery::DiscoveryReply> r = discovery_->Serve(path, accept);
    if (!r.ok()) return Fail(c, r.status());
    if (!r->etag.empty() && c.req.headers.Get("If-None-Match") == r->etag) {
      c.code = 304;
      c.w->Respond(304, net::Headers{{"ETag", std::string(r->etag)}}, "");
      Done(c, 304, "", 0);
      return;
    }
    net::Headers h{{"Content-Type", std::string(r->content_type)}, {"Cache-Control", "no-cache, private"}};
    if (!r->etag.empty()) h.Add("ETag", std::string(r->etag));
    c.code = 200;
    c.w->Respond(200, std::move(h), *r->body);
    Done(c, 200, "", 0);
    return;
  }
  if (path == "/openapi/v3" || path.starts_with("/openapi/v3/")) {
    Result<discovery::OpenApiReply> r = openapi_->Serve(path, c.query.GetOr("hash", ""), accept,
                                                        c.req.headers.Get("If-None-Match"), clock_->Now());
    if (!r.ok()) return Fail(c, r.status());
    net::Headers h;
    if (r->body) h.Add("Content-Type", r->content_type);
    for (auto& [k, v] : r->headers) h.Add(k, v);
    c.code = r->status;
    c.w->Respond(r->status, std::move(h), r->body ? *r->body : std::string());
    Done(c, r->status, "", 0);
    return;
  }
  Fail(c, NotFound("the server could not find the requested resource"));
}

// ---- resources -----------------------------------------------------------------------------------

void ApiServer::HandleResource(Call& c) {
  const RequestInfo& i = c.info;
  c.resource = FindResource(i.api_group, i.api_version, i.resource);
  if (c.resource == nullptr) return Fail(c, NotFound("the server could not find the requested resource"));
  const ResourceInfo& r = *c.resource;
  if (!r.namespaced && !i.namespace_.empty() && !(i.resource == "namespaces")) {
    return Fail(c, NotFound("the server could not find the requested resource"));
  }
  if (!i.subresource.empty()) {
    const SubresourceInfo* sub = r.FindSubresource(i.subresource);
    if (sub == nullptr) return Fail(c, NotFound("the server could not find the requested resource"));
    std::string verb = i.verb;
    if (std::find(sub->verbs.begin(), sub->verbs.end(), verb) == sub->verbs.end()) {
      return Fail(c, Status(Code::kMethodNotAllowed, "the server does not allow this method on the requested resource"));
    }
    if (i.subresource == "scale") return Scale(c);
    if (i.subresource == "binding") return Bind(c);
    if (i.subresource == "eviction") return Evict(c);
    if (i.subresource == "token") return RequestToken(c);
    if (i.subresource == "finalize" && i.verb == "update") return Update(c);  // namespaces
    if (i.subresource == "status") {
      if (i.verb == "get") return Get(c);
      if (i.verb == "update") return Update(c);
      if (i.verb == "patch") return Patch(c);
    }
    if (r.resource == "pods" && (i.subresource == "log" || i.subresource == "exec" || i.subresource == "attach" ||
                                 i.subresource == "portforward")) {
      return ProxyToKubelet(c);
    }
    if (r.resource == "nodes" && i.subresource == "proxy") return ProxyToKubelet(c);
    // proxy (pods, services): not served.
    ErrorDetails d;
    d.name = i.name;
    d.kind = r.resource;
    return Fail(c, Unavailable("the " + i.subresource + " subresource is not served by this apiserver"), &d);
  }
  if (!r.HasVerb(i.verb) && !(i.verb == "watch" && r.HasVerb("watch"))) {
    return Fail(c, Status(Code::kMethodNotAllowed, "the server does not allow this method on the requested resource"));
  }
  if (r.storage_prefix.empty()) {
    if (i.verb == "create") return Review(c);
    return Fail(c, Status(Code::kMethodNotAllowed, "the server does not allow this method on the requested resource"));
  }
  if (i.verb == "get") return Get(c);
  if (i.verb == "list") return List(c);
  if (i.verb == "watch") return Watch(c);
  if (i.verb == "create") return Create(c);
  if (i.verb == "update") return Update(c);
  if (i.verb == "patch") return Patch(c);
  if (i.verb == "delete") return Delete(c);
  if (i.verb == "deletecollection") return DeleteCollection(c);
  Fail(c, Status(Code::kMethodNotAllowed, "the server does not allow this method on the requested resource"));
}

namespace {

// The object's namespace in the URL: namespaces are named by the path itself.
std::string NamespaceOf(const RequestInfo& i, const ResourceInfo& r) { return r.namespaced ? i.namespace_ : ""; }

struct Selectors {
  api::LabelSelector labels;
  api::FieldSelector fields;
};

Result<Selectors> ParseSelectors(const net::Query& q, const ResourceInfo& r) {
  Selectors s;
  if (auto l = q.Get("labelSelector"); l && !l->empty()) {
    CK_ASSIGN_OR_RETURN(s.labels, api::LabelSelector::Parse(*l));
  }
  if (auto f = q.Get("fieldSelector"); f && !f->empty()) {
    CK_ASSIGN_OR_RETURN(s.fields, api::FieldSelector::Parse(*f));
    CK_RETURN_IF_ERROR(CheckFieldSelector(r, s.fields));
  }
  return s;
}

ObjectFilter FilterOf(const Selectors& s) {
  if (s.labels.Empty() && s.fields.Empty()) return nullptr;
  return [s](const CachedObject& o) {
    if (!s.labels.Empty() && !o.MatchesLabels(s.labels)) return false;
    if (!s.fields.Empty() && !s.fields.Matches(FieldSetOf(*o.object(), s.fields))) return false;
    return true;
  };
}

// The body's media type without parameters; a missing Content-Type is JSON (kubectl's scale PUT).
std::string BodyType(const net::Request& req) {
  std::string_view ct = req.headers.Get("Content-Type");
  size_t semi = ct.find(';');
  if (semi != std::string_view::npos) ct = ct.substr(0, semi);
  std::string t = ToLower(TrimSpace(ct));
  return t.empty() ? std::string(kJson) : t;
}

Result<api::FieldValidation> FieldValidationOf(const net::Query& q) {
  std::string_view v = q.GetOr("fieldValidation", "");
  if (v.empty() || v == "Warn") return api::FieldValidation::kWarn;
  if (v == "Strict") return api::FieldValidation::kStrict;
  if (v == "Ignore") return api::FieldValidation::kIgnore;
  return BadRequest("fieldValidation: Unsupported value: \"" + std::string(v) +
                    "\": supported values: \"Ignore\", \"Strict\", \"Warn\"");
}

Result<bool> DryRunOf(const net::Query& q) {
  std::vector<std::string_view> all = q.GetAll("dryRun");
  for (std::string_view v : all) {
    if (v != "All") {
      return Invalid("dryRun: Unsupported value: \"" + std::string(v) + "\": supported values: \"All\"");
    }
  }
  return !all.empty();
}

}  // namespace

namespace {

// Decodes a request body of the resource's kind (or `type` for subresources) into `out`.
Status DecodeBody(const net::Request& req, const net::Query& q, std::string_view expect_kind,
                         std::string_view expect_api_version, Message* out, std::vector<std::string>* warnings) {
  std::string type = BodyType(req);
  api::TypeMeta tm;
  if (type == kJson || type == "application/yaml" || type == "application/apply-patch+yaml") {
    std::string json;
    std::string_view body = req.body;
    if (type != kJson) {
      CK_ASSIGN_OR_RETURN(json, api::YamlToJson(body));
      body = json;
    }
    CK_ASSIGN_OR_RETURN(api::FieldValidation fv, FieldValidationOf(q));
    api::DecodeOptions o;
    o.field_validation = fv;
    o.type_meta = &tm;
    Status s = api::FromJson(body, out, o, warnings);
    if (!s.ok()) {
      if (fv == api::FieldValidation::kStrict && s.code() == Code::kBadRequest &&
          s.message().find("unknown field") != std::string::npos) {
        return BadRequest("strict decoding error: " + s.message());
      }
      return s;
    }
  } else if (type == api::kProtobufContentType) {
    CK_RETURN_IF_ERROR(api::DecodeProtobufObject(req.body, out, &tm));
  } else {
    return Status(Code::kUnsupportedMediaType,
                  "the body of the request was in an unknown format - accepted media types include: "
                  "application/json, application/yaml, application/vnd.kubernetes.protobuf");
  }
  if (!tm.kind.empty() && tm.kind != expect_kind) {
    return BadRequest("the kind in the data (" + tm.kind + ") does not match the expected kind (" +
                      std::string(expect_kind) + ")");
  }
  if (!tm.api_version.empty() && tm.api_version != expect_api_version) {
    return BadRequest("the API version in the data (" + tm.api_version + ") does not match the expected API version (" +
                      std::string(expect_api_version) + ")");
  }
  return Status::Ok();
}

}  // namespace

void ApiServer::ProxyToKubelet(Call& c) {
  const RequestInfo& i = c.info;
  ErrorDetails d;
  d.name = i.name;
  d.kind = i.resource;
  if (!options_.kubelet_tls) {
    return Fail(c, Unavailable("the " + i.subresource +
                               " subresource needs the kubelet client credentials (--kubelet-client-certificate, "
                               "--kubelet-client-key)"),
                &d);
  }
  if (i.resource == "nodes") {
    ErrorDetails nd;
    Result<std::shared_ptr<const Message>> n = registry_->Get(*c.resource, "", i.name, &nd);
    if (!n.ok()) return Fail(c, n.status(), &nd);
    Result<KubeletRequest> kr = BuildNodeProxyRequest(i, c.req.method, c.req.raw_query, c.req.headers, c.req.body,
                                                      static_cast<const k8s::io::api::core::v1::Node&>(**n),
                                                      options_.kubelet_preferred_address_types);
    if (!kr.ok()) return Fail(c, kr.status(), &d);
    return RelayToKubelet(c, std::move(*kr));
  }
  ErrorDetails pd;
  Result<std::shared_ptr<const Message>> pod = registry_->Get(*c.resource, i.namespace_, i.name, &pd);
  if (!pod.ok()) return Fail(c, pod.status(), &pd);
  const auto& p = static_cast<const k8s::io::api::core::v1::Pod&>(**pod);
  k8s::io::api::core::v1::Node empty_node;
  const k8s::io::api::core::v1::Node* node = &empty_node;
  std::shared_ptr<const Message> node_obj;
  if (!p.spec().nodename().empty()) {
    ErrorDetails nd;
    Result<std::shared_ptr<const Message>> n = registry_->Get(*FindResource("", "v1", "nodes"), "", p.spec().nodename(), &nd);
    if (!n.ok()) return Fail(c, n.status(), &nd);
    node_obj = *n;
    node = static_cast<const k8s::io::api::core::v1::Node*>(node_obj.get());
  }
  Result<KubeletRequest> kr =
      BuildKubeletRequest(i, c.req.method, c.query, c.req.headers, p, *node, options_.kubelet_preferred_address_types);
  if (!kr.ok()) return Fail(c, kr.status(), &d);
  RelayToKubelet(c, std::move(*kr));
}

void ApiServer::RelayToKubelet(Call& c, KubeletRequest kr) {
  const RequestInfo& i = c.info;
  net::ProxyTarget t;
  t.host = kr.host;
  t.port = kr.port;
  t.tls = options_.kubelet_tls;
  t.request = std::move(kr.request);
  t.on_error = [name = i.name, kind = i.resource](const Status& why, int* status, net::Headers* headers, std::string* body) {
    ErrorDetails ed;
    ed.name = name;
    ed.kind = kind;
    Status s = Unavailable(why.message());
    *status = HttpStatusOf(s.code());
    *headers = net::Headers{{"Content-Type", "application/json"}};
    *body = StatusJson(s, &ed);
  };
  auto call = std::make_shared<Call>(c);
  t.on_response = [this, call](int status) { Done(*call, status, "", 0); };
  c.w->Proxy(std::move(t));
}

void ApiServer::Get(Call& c) {
  const ResourceInfo& r = *c.resource;
  ErrorDetails d;
  Result<std::shared_ptr<const Message>> obj = registry_->Get(r, NamespaceOf(c.info, r), c.info.name, &d);
  if (!obj.ok()) return Fail(c, obj.status(), &d);
  c.revision = ParseRevision(MetaOf(**obj).resourceversion());
  Result<std::optional<discovery::TableOptions>> table = TableRequest(c.req, c.query, clock_->Now());
  if (!table.ok()) return Fail(c, table.status());
  if (*table) {
    discovery::TableOptions& to = **table;
    to.resource_version = MetaOf(**obj).resourceversion();
    Result<std::string> t = discovery::ToTable(r, {obj->get()}, to);
    if (!t.ok()) return Fail(c, t.status());
    return Finish(c, 200, std::move(*t));
  }
  Result<std::optional<std::string>> partial = MetadataRequest(c.req, discovery::OutputKind::kPartialObjectMetadata);
  if (!partial.ok()) return Fail(c, partial.status());
  if (*partial) {
    std::string body;
    AppendPartialObjectMetadata(**obj, **partial, &body);
    return Finish(c, 200, std::move(body));
  }
  Finish(c, 200, EncodeObject(r, **obj));
}

void ApiServer::List(Call& c) {
  const ResourceInfo& r = *c.resource;
  Result<Selectors> sel = ParseSelectors(c.query, r);
  if (!sel.ok()) return Fail(c, sel.status());
  int64_t limit = 0;
  if (auto l = c.query.Get("limit"); l && !l->empty()) {
    Result<int64_t> v = IntParam(*l, "limit");
    if (!v.ok()) return Fail(c, v.status());
    limit = std::max<int64_t>(0, *v);
  }
  std::string prefix = StoragePrefix(r, NamespaceOf(c.info, r));
  std::string after;
  int64_t continue_revision = 0;
  if (auto token = c.query.Get("continue"); token && !token->empty()) {
    Result<ContinueToken> t = DecodeContinue(*token);
    if (!t.ok()) return Fail(c, t.status());
    if (t->revision < cache_->oldest_resumable_revision()) return Fail(c, ContinueExpired());
    after = prefix + t->start_after;
    continue_revision = t->revision;
  }
  // resourceVersion "" is a consistent read; "0" is any state the cache has; N is "not older than N".
  std::string_view rv = c.query.GetOr("resourceVersion", "");
  if (rv.empty()) {
    Status s = cache_->Sync();
    if (!s.ok()) return Fail(c, s);
  } else if (rv != "0") {
    Result<int64_t> n = IntParam(rv, "resourceVersion");
    if (!n.ok()) return Fail(c, n.status());
    Status s = cache_->WaitFor(*n, std::chrono::seconds(3));
    if (!s.ok()) return Fail(c, Timeout("Too large resource version: " + std::string(rv) + ", current: " +
                                        std::to_string(cache_->revision())));
  }
  WatchCache::ListResult lr;
  if (continue_revision > 0 && continue_revision != cache_->revision()) {
    // The next page of a list comes from the first page's snapshot.
    Result<WatchCache::ListResult> at = cache_->ListAt(continue_revision, prefix, FilterOf(*sel), limit, after);
    if (!at.ok()) {
      if (at.status().code() == Code::kGone) return Fail(c, ContinueExpired());
      return Fail(c, at.status());
    }
    lr = std::move(at).value();
  } else {
    lr = cache_->List(prefix, FilterOf(*sel), limit, after);
  }
  c.revision = lr.revision;
  std::string cont;
  if (lr.more && !lr.objects.empty()) {
    cont = EncodeContinue(lr.revision, std::string_view(lr.objects.back()->key()).substr(prefix.size()));
  }
  Result<std::optional<discovery::TableOptions>> table = TableRequest(c.req, c.query, clock_->Now());
  if (!table.ok()) return Fail(c, table.status());
  if (*table) {
    discovery::TableOptions& to = **table;
    to.resource_version = std::to_string(lr.revision);
    to.continue_token = cont;
    std::vector<std::shared_ptr<const Message>> held;
    std::vector<const Message*> objs;
    held.reserve(lr.objects.size());
    objs.reserve(lr.objects.size());
    for (const ObjectPtr& o : lr.objects) objs.push_back(held.emplace_back(o->object()).get());
    Result<std::string> t = discovery::ToTable(r, objs, to);
    if (!t.ok()) return Fail(c, t.status());
    return Finish(c, 200, std::move(*t));
  }
  Result<std::optional<std::string>> partial =
      MetadataRequest(c.req, discovery::OutputKind::kPartialObjectMetadataList);
  if (!partial.ok()) return Fail(c, partial.status());
  std::string body;
  if (*partial) {
    body += "{\"kind\":\"PartialObjectMetadataList\",\"apiVersion\":";
    AppendJsonString(body, **partial);
    body += ",\"metadata\":{\"resourceVersion\":\"";
  } else {
    size_t guess = 128;
    for (const ObjectPtr& o : lr.objects) guess += o->Json().size() + 1;
    body.reserve(guess);
    body += "{\"kind\":\"";
    body += r.kind;
    body += "List\",\"apiVersion\":\"";
    body += r.GroupVersion();
    body += "\",\"metadata\":{\"resourceVersion\":\"";
  }
  body += std::to_string(lr.revision);
  body += '"';
  if (!cont.empty()) {
    body += ",\"continue\":\"";
    body += cont;
    body += '"';
    if (lr.remaining >= 0) {
      body += ",\"remainingItemCount\":";
      body += std::to_string(lr.remaining);
    }
  }
  body += "},\"items\":[";
  for (size_t k = 0; k < lr.objects.size(); ++k) {
    if (k) body += ',';
    if (*partial) {
      AppendPartialObjectMetadata(*lr.objects[k]->object(), **partial, &body);
    } else {
      body += lr.objects[k]->Json();
    }
  }
  body += "]}";
  Finish(c, 200, std::move(body));
}

void ApiServer::Watch(Call& c) {
  const ResourceInfo& r = *c.resource;
  Result<Selectors> sel = ParseSelectors(c.query, r);
  if (!sel.ok()) return Fail(c, sel.status());
  // A watch on one object (GET .../pods/x?watch=1) is a watch with metadata.name=x.
  if (!c.info.name.empty()) {
    std::string only = api::FieldSelector::OneTermEqual("metadata.name", c.info.name).String();
    Result<api::FieldSelector> merged =
        api::FieldSelector::Parse(sel->fields.Empty() ? only : sel->fields.String() + "," + only);
    if (!merged.ok()) return Fail(c, merged.status());
    sel->fields = std::move(*merged);
  }
  Duration timeout = Duration::max();
  if (auto t = c.query.Get("timeoutSeconds"); t && !t->empty()) {
    Result<int64_t> v = IntParam(*t, "timeoutSeconds");
    if (!v.ok()) return Fail(c, v.status());
    if (*v > 0) timeout = std::chrono::seconds(*v);
  }
  {
    std::lock_guard<std::mutex> l(watches_mu_);
    if (watches_per_user_[c.user.name] >= options_.max_watches_per_user) {
      ErrorDetails d;
      d.retry_after_seconds = 1;
      return Fail(c, TooManyRequests("too many watches open for user \"" + c.user.name + "\" (at most " +
                                     std::to_string(options_.max_watches_per_user) + ")"),
                  &d);
    }
  }
  CacheWatchOptions wo;
  wo.prefix = StoragePrefix(r, NamespaceOf(c.info, r));
  wo.filter = FilterOf(*sel);
  wo.bookmarks = c.query.GetOr("allowWatchBookmarks", "") == "true";
  std::string_view rv = c.query.GetOr("resourceVersion", "");
  if (rv.empty() || rv == "0") {
    wo.send_initial = true;
  } else {
    Result<int64_t> n = IntParam(rv, "resourceVersion");
    if (!n.ok()) return Fail(c, n.status());
    wo.from_revision = *n;
  }
  Result<std::optional<discovery::TableOptions>> table_request = TableRequest(c.req, c.query, clock_->Now());
  if (!table_request.ok()) return Fail(c, table_request.status());
  bool table = table_request->has_value();
  discovery::TableOptions to = table ? **table_request : discovery::TableOptions();
  Result<std::optional<std::string>> partial_request =
      MetadataRequest(c.req, discovery::OutputKind::kPartialObjectMetadata);
  if (!partial_request.ok()) return Fail(c, partial_request.status());
  std::optional<std::string> partial = *partial_request;

  auto aw = std::make_shared<ActiveWatch>();
  aw->writer = c.w;
  aw->user = c.user.name;
  if (timeout != Duration::max()) aw->deadline = clock_->Monotonic() + timeout;
  c.w->StartStream(200, net::Headers{{"Content-Type", std::string(kJson)}, {"Cache-Control", "no-cache, private"}});
  c.code = 200;
  Done(c, 200, "", 0);

  metrics::Counter* events = &watch_events_->With({r.group, r.version, r.kind});
  std::weak_ptr<ActiveWatch> weak = aw;
  auto first_table = std::make_shared<bool>(true);
  const ResourceInfo* rp = &r;
  Clock* clock = clock_;
  size_t max_buffered = options_.watch_max_buffered_bytes;
  WatchSink sink = [weak, table, to, partial, first_table, rp, clock, events,
                    max_buffered](const CacheEvent& e) mutable {
    std::shared_ptr<ActiveWatch> a = weak.lock();
    if (!a || a->ended.load()) return false;
    if (a->writer->Closed() || a->writer->BufferedBytes() > max_buffered) {
      a->ended = true;
      return false;
    }
    std::string line = "{\"type\":\"";
    line += WatchEventTypeName(e.type);
    line += "\",\"object\":";
    if (e.type == WatchEventType::kBookmark) {
      if (partial) {
        line += "{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"" + *partial;
      } else {
        line += "{\"kind\":\"" + rp->kind + "\",\"apiVersion\":\"" + rp->GroupVersion();
      }
      line += "\",\"metadata\":{\"resourceVersion\":\"" + std::to_string(e.revision) + "\"}}";
    } else if (partial) {
      AppendPartialObjectMetadata(*e.object->object(), *partial, &line);
    } else if (table) {
      to.now = clock->Now();
      to.column_definitions = *first_table;
      to.resource_version = std::to_string(e.revision);
      *first_table = false;
      std::shared_ptr<const Message> obj = e.object->object();
      Result<std::string> t = discovery::ToTable(*rp, {obj.get()}, to);
      if (!t.ok()) return false;
      line += *t;
    } else {
      line += e.object->Json();
    }
    line += "}\n";
    events->Inc();
    if (!a->writer->Write(std::move(line))) {
      a->ended = true;
      return false;
    }
    return true;
  };

  if (!wo.send_initial && wo.from_revision < cache_->oldest_resumable_revision()) {
    // As upstream: 200, then one ERROR event with a 410 Expired Status, then the end.
    std::string line = "{\"type\":\"ERROR\",\"object\":" +
                       StatusJson(Gone("too old resource version: " + std::to_string(wo.from_revision) + " (" +
                                       std::to_string(cache_->oldest_resumable_revision()) + ")"),
                                  nullptr) +
                       "}\n";
    c.w->Write(std::move(line));
    c.w->Finish();
    return;
  }
  Result<std::unique_ptr<CacheWatch>> cw = cache_->Watch(std::move(wo), std::move(sink));
  if (!cw.ok()) {
    std::string line = "{\"type\":\"ERROR\",\"object\":" + StatusJson(cw.status(), nullptr) + "}\n";
    c.w->Write(std::move(line));
    c.w->Finish();
    return;
  }
  aw->watch = std::move(*cw);
  {
    std::lock_guard<std::mutex> l(watches_mu_);
    if (stopping_) {
      aw->watch.reset();
      c.w->Finish();
      return;
    }
    watches_.push_back(aw);
    ++watches_per_user_[aw->user];
  }
  std::string scope = r.namespaced && !c.info.namespace_.empty() ? "namespace" : "cluster";
  metrics::Gauge* longrunning = &longrunning_->With({"WATCH", r.group, r.version, r.resource, "", scope, "apiserver"});
  longrunning->Inc();
  c.w->OnClose([this, weak, longrunning] {
    if (auto a = weak.lock()) a->ended = true;
    longrunning->Dec();
    watches_cv_.notify_all();
  });
}

void ApiServer::ReaperLoop() {
  auto last_gauges = clock_->Monotonic() - std::chrono::hours(1);
  std::unique_lock<std::mutex> l(watches_mu_);
  while (!stopping_) {
    watches_cv_.wait_for(l, std::chrono::milliseconds(200));
    if (stopping_) break;
    MonoTime now = clock_->Monotonic();
    std::vector<std::shared_ptr<ActiveWatch>> done;
    for (auto it = watches_.begin(); it != watches_.end();) {
      ActiveWatch& a = **it;
      if (a.ended.load() || a.writer->Closed() || now >= a.deadline) {
        done.push_back(*it);
        if (--watches_per_user_[a.user] <= 0) watches_per_user_.erase(a.user);
        it = watches_.erase(it);
      } else {
        ++it;
      }
    }
    bool gauges = now - last_gauges >= std::chrono::seconds(5);
    l.unlock();
    for (auto& a : done) {
      a->ended = true;
      a->watch.reset();  // no sink call runs after this
      a->writer->Finish();
    }
    if (gauges) {
      UpdateStorageGauges();
      last_gauges = now;
    }
    l.lock();
  }
}

void ApiServer::UpdateStorageGauges() {
  auto& g = *storage_objects_;
  for (const ResourceInfo& r : AllResources()) {
    if (r.storage_prefix.empty()) continue;
    // Two resources may share a prefix (events); each counts it once.
    WatchCache::ListResult lr = cache_->List(r.storage_prefix, nullptr, 0);
    g.With({r.GroupResource()}).Set(double(lr.objects.size()));
  }
}

void ApiServer::Create(Call& c) {
  const ResourceInfo& r = *c.resource;
  std::unique_ptr<Message> obj = NewObject(r);
  Status s = DecodeBody(c.req, c.query, r.kind, r.GroupVersion(), obj.get(), &c.warnings);
  if (!s.ok()) return Fail(c, s);
  Result<bool> dry = DryRunOf(c.query);
  if (!dry.ok()) return Fail(c, dry.status());
  std::string ns = NamespaceOf(c.info, r);
  metav1::ObjectMeta* meta = MutableMetaOf(obj.get());
  if (r.namespaced) {
    if (meta->has_namespace_() && !meta->namespace_().empty() && meta->namespace_() != ns) {
      return Fail(c, BadRequest("the namespace of the provided object does not match the namespace sent on the request"));
    }
    // NamespaceLifecycle: the namespace must exist and not be terminating. Like upstream's
    // admission plugin this reads the cache as it is (no consistent read, which would wait for
    // every concurrent write); only a miss is checked again consistently.
    const ResourceInfo& namespaces = *FindResource("", "v1", "namespaces");
    ObjectPtr cached = cache_->Get(StorageKey(namespaces, "", ns));
    std::shared_ptr<const Message> nsobj = cached ? cached->object() : nullptr;
    if (!nsobj) {
      ErrorDetails d;
      Result<std::shared_ptr<const Message>> fresh = registry_->Get(namespaces, "", ns, &d);
      if (!fresh.ok()) return Fail(c, fresh.status(), &d);
      nsobj = *fresh;
    }
    if (MetaOf(*nsobj).has_deletiontimestamp()) {
      return Fail(c, Forbidden(r.GroupResource() + " \"" + meta->name() + "\" is forbidden: unable to create new content in namespace " +
                               ns + " because it is being terminated"));
    }
  }
  RequestAdmission adm(security_, c, admission::Operation::kCreate);
  WriteOptions wo;
  wo.dry_run = *dry;
  wo.admission = &adm;
  ErrorDetails d;
  Result<std::shared_ptr<const Message>> got = registry_->Create(r, ns, std::move(obj), wo, &d);
  if (!got.ok()) return Fail(c, got.status(), &d);
  c.revision = ParseRevision(MetaOf(**got).resourceversion());
  Finish(c, 201, EncodeObject(r, **got));
}

void ApiServer::Update(Call& c) {
  const ResourceInfo& r = *c.resource;
  std::unique_ptr<Message> obj = NewObject(r);
  Status s = DecodeBody(c.req, c.query, r.kind, r.GroupVersion(), obj.get(), &c.warnings);
  if (!s.ok()) return Fail(c, s);
  Result<bool> dry = DryRunOf(c.query);
  if (!dry.ok()) return Fail(c, dry.status());
  std::string ns = NamespaceOf(c.info, r);
  const metav1::ObjectMeta& meta = MetaOf(*obj);
  if (meta.name() != c.info.name) {
    return Fail(c, BadRequest("the name of the object (" + meta.name() + ") does not match the name on the URL (" +
                              c.info.name + ")"));
  }
  if (r.namespaced && !meta.namespace_().empty() && meta.namespace_() != ns) {
    return Fail(c, BadRequest("the namespace of the provided object does not match the namespace sent on the request"));
  }
  RequestAdmission adm(security_, c, admission::Operation::kUpdate);
  WriteOptions wo;
  wo.dry_run = *dry;
  wo.subresource = c.info.subresource;
  wo.admission = &adm;
  ErrorDetails d;
  Result<std::shared_ptr<const Message>> got = registry_->Update(r, ns, c.info.name, std::move(obj), wo, &d);
  if (!got.ok()) return Fail(c, got.status(), &d);
  c.revision = ParseRevision(MetaOf(**got).resourceversion());
  Finish(c, 200, EncodeObject(r, **got));
}

namespace {

enum class PatchType { kJson, kMerge, kStrategic, kApply };

Result<PatchType> PatchTypeOf(const net::Request& req) {
  std::string t = BodyType(req);
  if (t == "application/json-patch+json") return PatchType::kJson;
  if (t == "application/merge-patch+json") return PatchType::kMerge;
  if (t == "application/strategic-merge-patch+json") return PatchType::kStrategic;
  if (t == "application/apply-patch+yaml") return PatchType::kApply;
  return Status(Code::kUnsupportedMediaType,
                "the body of the request was in an unknown format - accepted media types include: "
                "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, "
                "application/strategic-merge-patch+json");
}

// Applies a patch to the JSON of `current` and decodes the result into `out`.
Status ApplyPatch(PatchType type, std::string_view patch_body, const Message& current,
                  std::string_view kind, std::string_view api_version, api::FieldValidation fv, Message* out,
                  std::vector<std::string>* warnings) {
  Result<std::string> cur = api::ToJson(current, {kind, api_version});
  if (!cur.ok()) return cur.status();
  Result<std::string> patched = std::string();
  switch (type) {
    case PatchType::kJson:
      patched = patch::ApplyJsonPatch(*cur, patch_body);
      break;
    case PatchType::kMerge:
      patched = patch::ApplyMergePatch(*cur, patch_body);
      break;
    case PatchType::kStrategic:
      patched = patch::ApplyStrategicMergePatch(*cur, patch_body, current.GetDescriptor());
      break;
    case PatchType::kApply: {
      // Server-side apply, first form: the applied configuration is merged into the live object
      // with the strategic rules (no managedFields or conflict detection yet).
      Result<std::string> json = api::YamlToJson(patch_body);
      if (!json.ok()) return json.status();
      patched = patch::ApplyStrategicMergePatch(*cur, *json, current.GetDescriptor());
      break;
    }
  }
  if (!patched.ok()) return patched.status();
  out->Clear();
  api::DecodeOptions o;
  o.field_validation = fv;
  api::TypeMeta tm;
  o.type_meta = &tm;
  Status s = api::FromJson(*patched, out, o, warnings);
  if (!s.ok()) {
    if (fv == api::FieldValidation::kStrict && s.code() == Code::kBadRequest) {
      return BadRequest("strict decoding error: " + s.message());
    }
    return s;
  }
  if (!tm.kind.empty() && tm.kind != kind) {
    return BadRequest("the kind in the patched object (" + tm.kind + ") does not match the expected kind (" +
                      std::string(kind) + ")");
  }
  return Status::Ok();
}

}  // namespace

void ApiServer::Patch(Call& c) {
  const ResourceInfo& r = *c.resource;
  Result<PatchType> type = PatchTypeOf(c.req);
  if (!type.ok()) return Fail(c, type.status());
  Result<api::FieldValidation> fv = FieldValidationOf(c.query);
  if (!fv.ok()) return Fail(c, fv.status());
  Result<bool> dry = DryRunOf(c.query);
  if (!dry.ok()) return Fail(c, dry.status());
  std::string ns = NamespaceOf(c.info, r);
  RequestAdmission adm(security_, c, admission::Operation::kUpdate);
  WriteOptions wo;
  wo.dry_run = *dry;
  wo.subresource = c.info.subresource;
  wo.admission = &adm;
  ErrorDetails d;
  std::vector<std::string> warnings;
  Result<std::shared_ptr<const Message>> got = registry_->GuaranteedUpdate(
      r, ns, c.info.name,
      [&](Message* obj) -> Status {
        warnings.clear();
        std::unique_ptr<Message> next(obj->New());
        std::string rv = MetaOf(*obj).resourceversion();
        CK_RETURN_IF_ERROR(ApplyPatch(*type, c.req.body, *obj, r.kind, r.GroupVersion(), *fv, next.get(), &warnings));
        const metav1::ObjectMeta& m = MetaOf(*next);
        if (m.name() != c.info.name) {
          return Invalid("metadata.name: Invalid value: \"" + m.name() + "\": field is immutable");
        }
        // A resourceVersion in the patch is a precondition; without one the patch applies to
        // whatever is current.
        if (!m.resourceversion().empty() && m.resourceversion() != rv) {
          return Registry::ConflictError(r, c.info.name, &d);
        }
        obj->CopyFrom(*next);
        MutableMetaOf(obj)->set_resourceversion(rv);
        return Status::Ok();
      },
      wo, &d);
  if (!got.ok() && got.status().code() == Code::kNotFound && *type == PatchType::kApply && c.info.subresource.empty()) {
    // Server-side apply creates what does not exist.
    std::unique_ptr<Message> obj = NewObject(r);
    net::Request as_create = c.req;
    as_create.headers.Set("Content-Type", "application/yaml");
    Status s = DecodeBody(as_create, c.query, r.kind, r.GroupVersion(), obj.get(), &c.warnings);
    if (!s.ok()) return Fail(c, s);
    ErrorDetails cd;
    RequestAdmission cadm(security_, c, admission::Operation::kCreate);
    wo.admission = &cadm;
    got = registry_->Create(r, ns, std::move(obj), wo, &cd);
    if (!got.ok()) return Fail(c, got.status(), &cd);
    c.revision = ParseRevision(MetaOf(**got).resourceversion());
    return Finish(c, 201, EncodeObject(r, **got));
  }
  if (!got.ok()) return Fail(c, got.status(), &d);
  for (auto& w : warnings) c.warnings.push_back(std::move(w));
  c.revision = ParseRevision(MetaOf(**got).resourceversion());
  Finish(c, 200, EncodeObject(r, **got));
}

namespace {

Result<DeleteOptions> DeleteOptionsOf(const net::Request& req, const net::Query& q) {
  DeleteOptions o;
  metav1::DeleteOptions body;
  if (!req.body.empty()) {
    std::string t = BodyType(req);
    if (t == api::kProtobufContentType) {
      CK_RETURN_IF_ERROR(api::DecodeProtobufObject(req.body, &body));
    } else {
      api::DecodeOptions dopt;
      dopt.field_validation = api::FieldValidation::kIgnore;
      CK_RETURN_IF_ERROR(api::FromJson(req.body, &body, dopt));
    }
  }
  if (body.has_graceperiodseconds()) o.grace_period_seconds = body.graceperiodseconds();
  if (body.has_propagationpolicy()) o.propagation_policy = body.propagationpolicy();
  if (body.has_orphandependents() && o.propagation_policy.empty()) {
    o.propagation_policy = body.orphandependents() ? "Orphan" : "Background";
  }
  if (body.has_preconditions()) {
    if (body.preconditions().has_uid()) o.precondition_uid = body.preconditions().uid();
    if (body.preconditions().has_resourceversion()) o.precondition_resource_version = body.preconditions().resourceversion();
  }
  for (const std::string& d : body.dryrun()) {
    if (d != "All") return Invalid("dryRun: Unsupported value: \"" + d + "\": supported values: \"All\"");
    o.dry_run = true;
  }
  if (auto g = q.Get("gracePeriodSeconds"); g && !g->empty()) {
    CK_ASSIGN_OR_RETURN(int64_t v, IntParam(*g, "gracePeriodSeconds"));
    o.grace_period_seconds = v;
  }
  if (auto p = q.Get("propagationPolicy"); p && !p->empty()) o.propagation_policy = std::string(*p);
  if (auto p = q.Get("orphanDependents"); p && !p->empty() && o.propagation_policy.empty()) {
    o.propagation_policy = *p == "true" ? "Orphan" : "Background";
  }
  CK_ASSIGN_OR_RETURN(bool dry, DryRunOf(q));
  o.dry_run = o.dry_run || dry;
  if (!o.propagation_policy.empty() && o.propagation_policy != "Orphan" && o.propagation_policy != "Background" &&
      o.propagation_policy != "Foreground") {
    return Invalid("propagationPolicy: Unsupported value: \"" + o.propagation_policy +
                   "\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"");
  }
  if (o.grace_period_seconds && *o.grace_period_seconds < 0) o.grace_period_seconds = 0;
  return o;
}

}  // namespace

void ApiServer::Delete(Call& c) {
  const ResourceInfo& r = *c.resource;
  Result<DeleteOptions> o = DeleteOptionsOf(c.req, c.query);
  if (!o.ok()) return Fail(c, o.status());
  RequestAdmission adm(security_, c, admission::Operation::kDelete);
  o->admission = &adm;
  ErrorDetails d;
  Result<DeleteResult> res = registry_->Delete(r, NamespaceOf(c.info, r), c.info.name, *o, &d);
  if (!res.ok()) return Fail(c, res.status(), &d);
  const metav1::ObjectMeta& meta = MetaOf(*res->object);
  c.revision = ParseRevision(meta.resourceversion());
  // Upstream answers with the object for kinds whose storage returns it (pods, services,
  // namespaces, ...) and while it is still terminating; otherwise with a Success Status.
  static const std::set<std::string> kReturnsObject = {"pods", "services", "serviceaccounts", "namespaces"};
  if (!res->deleted || (r.group.empty() && kReturnsObject.count(r.resource))) {
    return Finish(c, 200, EncodeObject(r, *res->object));
  }
  Finish(c, 200, SuccessStatusJson(meta.name(), r.group, r.resource, meta.uid()));
}

void ApiServer::DeleteCollection(Call& c) {
  const ResourceInfo& r = *c.resource;
  Result<Selectors> sel = ParseSelectors(c.query, r);
  if (!sel.ok()) return Fail(c, sel.status());
  Result<DeleteOptions> o = DeleteOptionsOf(c.req, c.query);
  if (!o.ok()) return Fail(c, o.status());
  Status s = cache_->Sync();
  if (!s.ok()) return Fail(c, s);
  std::string ns = NamespaceOf(c.info, r);
  WatchCache::ListResult lr = cache_->List(StoragePrefix(r, ns), FilterOf(*sel), 0);
  std::string items;
  for (const ObjectPtr& obj : lr.objects) {
    ErrorDetails d;
    RequestAdmission adm(security_, c, admission::Operation::kDelete);
    DeleteOptions one = *o;
    one.admission = &adm;
    Result<DeleteResult> res =
        registry_->Delete(r, std::string(obj->namespace_()), std::string(obj->name()), one, &d);
    if (!res.ok()) {
      if (res.status().code() == Code::kNotFound) continue;
      return Fail(c, res.status(), &d);
    }
    if (!items.empty()) items += ',';
    items += EncodeObject(r, *res->object);
  }
  c.revision = cache_->revision();
  Finish(c, 200, "{\"kind\":\"" + r.kind + "List\",\"apiVersion\":\"" + r.GroupVersion() +
                     "\",\"metadata\":{\"resourceVersion\":\"" + std::to_string(c.revision) + "\"},\"items\":[" + items +
                     "]}");
}

// ---- subresources --------------------------------------------------------------------------------

namespace {

// The replicas field of a scalable kind's spec/status, and its selector, by reflection (the
// three scalable kinds share field names).
struct ScaleView {
  int32_t spec_replicas = 0;
  int32_t status_replicas = 0;
  std::string selector;
};

ScaleView ScaleViewOf(const Message& obj) {
  ScaleView v;
  const auto* d = obj.GetDescriptor();
  const auto* r = obj.GetReflection();
  const auto* spec_f = d->FindFieldByName("spec");
  const auto* status_f = d->FindFieldByName("status");
  const Message& spec = r->GetMessage(obj, spec_f);
  const Message& status = r->GetMessage(obj, status_f);
  const auto* rep = spec.GetDescriptor()->FindFieldByName("replicas");
  v.spec_replicas = spec.GetReflection()->HasField(spec, rep) ? spec.GetReflection()->GetInt32(spec, rep) : 1;
  const auto* srep = status.GetDescriptor()->FindFieldByName("replicas");
  v.status_replicas = status.GetReflection()->GetInt32(status, srep);
  const auto* sel_f = spec.GetDescriptor()->FindFieldByName("selector");
  if (sel_f && sel_f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE &&
      spec.GetReflection()->HasField(spec, sel_f)) {
    const auto& sel = static_cast<const metav1::LabelSelector&>(spec.GetReflection()->GetMessage(spec, sel_f));
    v.selector = api::FormatLabelSelector(&sel);
  }
  return v;
}

void SetSpecReplicas(Message* obj, int32_t n) {
  const auto* spec_f = obj->GetDescriptor()->FindFieldByName("spec");
  Message* spec = obj->GetReflection()->MutableMessage(obj, spec_f);
  spec->GetReflection()->SetInt32(spec, spec->GetDescriptor()->FindFieldByName("replicas"), n);
}

autoscalingv1::Scale ScaleOf(const Message& obj) {
  autoscalingv1::Scale s;
  const metav1::ObjectMeta& m = MetaOf(obj);
  s.mutable_metadata()->set_name(m.name());
  s.mutable_metadata()->set_namespace_(m.namespace_());
  s.mutable_metadata()->set_uid(m.uid());
  s.mutable_metadata()->set_resourceversion(m.resourceversion());
  *s.mutable_metadata()->mutable_creationtimestamp() = m.creationtimestamp();
  ScaleView v = ScaleViewOf(obj);
  s.mutable_spec()->set_replicas(v.spec_replicas);
  s.mutable_status()->set_replicas(v.status_replicas);
  if (!v.selector.empty()) s.mutable_status()->set_selector(v.selector);
  return s;
}

}  // namespace

void ApiServer::Scale(Call& c) {
  const ResourceInfo& r = *c.resource;
  std::string ns = NamespaceOf(c.info, r);
  const std::string kind = "Scale", gv = "autoscaling/v1";
  auto encode = [&](const autoscalingv1::Scale& s) {
    Result<std::string> j = api::ToJson(s, {kind, gv});
    CK_CHECK(j.ok());
    return std::move(*j);
  };
  ErrorDetails d;
  if (c.info.verb == "get") {
    Result<std::shared_ptr<const Message>> obj = registry_->Get(r, ns, c.info.name, &d);
    if (!obj.ok()) return Fail(c, obj.status(), &d);
    return Finish(c, 200, encode(ScaleOf(**obj)));
  }
  Result<bool> dry = DryRunOf(c.query);
  if (!dry.ok()) return Fail(c, dry.status());
  Result<api::FieldValidation> fv = FieldValidationOf(c.query);
  if (!fv.ok()) return Fail(c, fv.status());
  std::optional<PatchType> ptype;
  autoscalingv1::Scale put;
  if (c.info.verb == "patch") {
    Result<PatchType> t = PatchTypeOf(c.req);
    if (!t.ok()) return Fail(c, t.status());
    ptype = *t;
  } else {
    Status s = DecodeBody(c.req, c.query, kind, gv, &put, &c.warnings);
    if (!s.ok()) return Fail(c, s);
    if (put.metadata().name() != c.info.name) {
      return Fail(c, BadRequest("the name of the object (" + put.metadata().name() + ") does not match the name on the URL (" +
                                c.info.name + ")"));
    }
  }
  // Admission sees the scaled object itself (upstream shows webhooks the Scale).
  RequestAdmission adm(security_, c, admission::Operation::kUpdate);
  WriteOptions wo;
  wo.dry_run = *dry;
  wo.admission = &adm;
  Result<std::shared_ptr<const Message>> got = registry_->GuaranteedUpdate(
      r, ns, c.info.name,
      [&](Message* obj) -> Status {
        autoscalingv1::Scale current = ScaleOf(*obj);
        autoscalingv1::Scale desired;
        if (ptype) {
          CK_RETURN_IF_ERROR(ApplyPatch(*ptype, c.req.body, current, kind, gv, *fv, &desired, &c.warnings));
        } else {
          desired = put;
        }
        if (!desired.metadata().resourceversion().empty() &&
            desired.metadata().resourceversion() != current.metadata().resourceversion()) {
          return Registry::ConflictError(r, c.info.name, &d);
        }
        if (desired.spec().replicas() < 0) {
          d.name = c.info.name;
          d.kind = "Scale";
          d.group = "autoscaling";
          d.causes.push_back({"FieldValueInvalid", "Invalid value: " + std::to_string(desired.spec().replicas()) +
                                                       ": must be greater than or equal to 0",
                              "spec.replicas"});
          return Invalid("Scale.autoscaling \"" + c.info.name + "\" is invalid: spec.replicas: Invalid value: " +
                         std::to_string(desired.spec().replicas()) + ": must be greater than or equal to 0");
        }
        SetSpecReplicas(obj, desired.spec().replicas());
        return Status::Ok();
      },
      wo, &d);
  if (!got.ok()) return Fail(c, got.status(), &d);
  c.revision = ParseRevision(MetaOf(**got).resourceversion());
  Finish(c, 200, encode(ScaleOf(**got)));
}

Status ApiServer::AdmitSubresourceObject(Call& c, Message* object) {
  if (!security_.admission) return Status::Ok();
  admission::Attributes a;
  a.operation = admission::Operation::kCreate;
  a.resource = c.resource;
  a.subresource = c.info.subresource;
  a.namespace_ = c.info.namespace_;
  a.name = c.info.name;
  a.user = &c.user;
  a.dry_run = c.query.GetOr("dryRun", "") == "All";
  a.object = object;
  CK_RETURN_IF_ERROR(security_.admission->Admit(a, c.adm));
  return security_.admission->Validate(a, c.adm);
}

void ApiServer::Bind(Call& c) {
  const ResourceInfo& r = *c.resource;  // pods
  corev1::Binding b;
  Status s = DecodeBody(c.req, c.query, "Binding", "v1", &b, &c.warnings);
  if (!s.ok()) return Fail(c, s);
  std::string ns = NamespaceOf(c.info, r);
  if (!b.metadata().namespace_().empty() && b.metadata().namespace_() != ns) {
    return Fail(c, BadRequest("the namespace of the provided object does not match the namespace sent on the request"));
  }
  std::string node = b.target().name();
  if (node.empty()) {
    ErrorDetails d;
    d.name = b.metadata().name();
    d.kind = "Binding";
    d.causes.push_back({"FieldValueRequired", "Required value", "target.name"});
    return Fail(c, Invalid("Binding \"" + b.metadata().name() + "\" is invalid: target.name: Required value"), &d);
  }
  Result<bool> dry = DryRunOf(c.query);
  if (!dry.ok()) return Fail(c, dry.status());
  if (Status a = AdmitSubresourceObject(c, &b); !a.ok()) return Fail(c, a);
  WriteOptions wo;
  wo.dry_run = *dry;
  wo.subresource = "binding";
  ErrorDetails d;
  Result<std::shared_ptr<const Message>> got = registry_->GuaranteedUpdate(
      r, ns, c.info.name,
      [&](Message* m) -> Status {
        auto* pod = static_cast<corev1::Pod*>(m);
        if (pod->metadata().has_deletiontimestamp()) {
          return Conflict("Operation cannot be fulfilled on pods/binding \"" + c.info.name + "\": pod " + c.info.name +
                          " is being deleted, cannot be assigned to a host");
        }
        if (!pod->spec().nodename().empty()) {
          return Conflict("Operation cannot be fulfilled on pods/binding \"" + c.info.name + "\": pod " + c.info.name +
                          " is already assigned to node \"" + pod->spec().nodename() + "\"");
        }
        if (!b.metadata().uid().empty() && b.metadata().uid() != pod->metadata().uid()) {
          return Conflict("Operation cannot be fulfilled on pods/binding \"" + c.info.name +
                          "\": Precondition failed: UID in precondition: " + b.metadata().uid() +
                          ", UID in object meta: " + pod->metadata().uid());
        }
        pod->mutable_spec()->set_nodename(node);
        for (const auto& [k, v] : b.metadata().annotations()) (*pod->mutable_metadata()->mutable_annotations())[k] = v;
        // PodScheduled=True, as upstream's binding storage sets it.
        auto* conds = pod->mutable_status()->mutable_conditions();
        corev1::PodCondition* cond = nullptr;
        for (auto& pc : *conds) {
          if (pc.type() == "PodScheduled") cond = &pc;
        }
        if (cond == nullptr) cond = pod->mutable_status()->add_conditions();
        cond->set_type("PodScheduled");
        cond->set_status("True");
        cond->clear_reason();
        cond->clear_message();
        api::Timestamp now = api::ToTimestamp(clock_->Now());
        cond->mutable_lasttransitiontime()->set_seconds(now.seconds);
        return Status::Ok();
      },
      wo, &d);
  if (!got.ok()) return Fail(c, got.status(), &d);
  c.revision = ParseRevision(MetaOf(**got).resourceversion());
  Finish(c, 201, SuccessStatusJson("", "", "", ""));
}

namespace {

// The eviction subresource's PodDisruptionBudget rule (upstream eviction REST): a pod that is not
// running yet, has finished or is already being deleted is evicted without a budget; otherwise the
// one budget selecting it must allow a disruption, which the eviction takes (disruptionsAllowed
// minus one, the pod recorded in disruptedPods for the disruption controller) in the same step.
// OK: delete the pod. 429 when the budget is exhausted or not yet observed, 500 when two budgets
// select the pod. A concurrent change of the budget is retried on fresh state.
Status EnforceDisruptionBudget(Registry& registry, WatchCache& cache, Clock& clock, const ResourceInfo& pods,
                               const ResourceInfo* budgets, const std::string& ns, const std::string& name,
                               bool dry_run, ErrorDetails* details) {
  if (budgets == nullptr) return Status::Ok();
  for (int attempt = 0;; ++attempt) {
    Result<std::shared_ptr<const Message>> got = registry.Get(pods, ns, name, details);
    if (!got.ok()) return got.status();
    const auto& pod = static_cast<const corev1::Pod&>(**got);
    const std::string& phase = pod.status().phase();
    if (phase == "Succeeded" || phase == "Failed" || phase == "Pending" || pod.metadata().has_deletiontimestamp()) {
      return Status::Ok();
    }
    CK_RETURN_IF_ERROR(cache.Sync());
    WatchCache::ListResult lr = cache.List(StoragePrefix(*budgets, ns), nullptr, 0);
    std::vector<std::shared_ptr<const Message>> held;
    std::vector<const policyv1::PodDisruptionBudget*> matching;
    for (const auto& obj : lr.objects) {
      const auto& pdb = static_cast<const policyv1::PodDisruptionBudget&>(*held.emplace_back(obj->object()));
      if (!pdb.spec().has_selector()) continue;  // a nil selector selects nothing
      Result<api::LabelSelector> sel = api::LabelSelector::FromProto(&pdb.spec().selector());
      if (sel.ok() && sel->Matches(pod.metadata().labels())) matching.push_back(&pdb);
    }
    if (matching.empty()) return Status::Ok();
    if (matching.size() > 1) {
      return Internal("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
    }
    const policyv1::PodDisruptionBudget& pdb = *matching[0];
    const auto& st = pdb.status();
    if (!api::IsPodReady(pod)) {
      // unhealthyPodEvictionPolicy: AlwaysAllow evicts unready pods freely; IfHealthyBudget (the
      // default) only while the budget is met.
      if (pdb.spec().unhealthypodevictionpolicy() == "AlwaysAllow") return Status::Ok();
      if (st.currenthealthy() >= st.desiredhealthy() && st.desiredhealthy() > 0) return Status::Ok();
    }
    auto refuse = [&](std::string cause) {
      details->causes.push_back(StatusCause{"DisruptionBudget", std::move(cause), ""});
      return TooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.");
    };
    if (st.observedgeneration() < pdb.metadata().generation()) {
      return refuse("The disruption budget " + pdb.metadata().name() + " is still being processed by the server.");
    }
    if (st.disruptionsallowed() < 0) return Forbidden("pdb disruptions allowed is negative");
    if (st.disruptedpods_size() > 2000) {
      return Forbidden("DisruptedPods map too big - too many evictions not confirmed by PDB controller");
    }
    if (st.disruptionsallowed() == 0) {
      return refuse("The disruption budget " + pdb.metadata().name() + " needs " +
                    std::to_string(st.desiredhealthy()) + " healthy pods and has " +
                    std::to_string(st.currenthealthy()) + " currently");
    }
    if (dry_run) return Status::Ok();
    auto next = std::make_unique<policyv1::PodDisruptionBudget>(pdb);
    next->mutable_status()->set_disruptionsallowed(st.disruptionsallowed() - 1);
    api::Timestamp now = api::ToTimestamp(clock.Now());
    auto& when = (*next->mutable_status()->mutable_disruptedpods())[pod.metadata().name()];
    when.set_seconds(now.seconds);
    ErrorDetails ud;
    WriteOptions wo;
    wo.subresource = "status";
    Result<std::shared_ptr<const Message>> updated =
        registry.Update(*budgets, ns, pdb.metadata().name(), std::move(next), wo, &ud);
    if (updated.ok()) return Status::Ok();
    if (updated.status().code() != Code::kConflict || attempt >= 10) return updated.status();
  }
}

}  // namespace

void ApiServer::Evict(Call& c) {
  const ResourceInfo& r = *c.resource;  // pods
  policyv1::Eviction e;
  Status s = DecodeBody(c.req, c.query, "Eviction", "policy/v1", &e, &c.warnings);
  if (!s.ok()) return Fail(c, s);
  DeleteOptions o;
  if (e.has_deleteoptions()) {
    if (e.deleteoptions().has_graceperiodseconds()) o.grace_period_seconds = e.deleteoptions().graceperiodseconds();
    if (e.deleteoptions().has_preconditions() && e.deleteoptions().preconditions().has_uid()) {
      o.precondition_uid = e.deleteoptions().preconditions().uid();
    }
  }
  Result<bool> dry = DryRunOf(c.query);
  if (!dry.ok()) return Fail(c, dry.status());
  o.dry_run = *dry;
  if (Status a = AdmitSubresourceObject(c, &e); !a.ok()) return Fail(c, a);
  RequestAdmission adm(security_, c, admission::Operation::kDelete);
  o.admission = &adm;
  ErrorDetails d;
  if (Status b = EnforceDisruptionBudget(*registry_, *cache_, *clock_, r, FindResource("policy", "v1", "poddisruptionbudgets"),
                                         NamespaceOf(c.info, r), c.info.name, o.dry_run, &d);
      !b.ok()) {
    return Fail(c, b, &d);
  }
  Result<DeleteResult> res = registry_->Delete(r, NamespaceOf(c.info, r), c.info.name, o, &d);
  if (!res.ok()) return Fail(c, res.status(), &d);
  Finish(c, 201, SuccessStatusJson("", "", "", ""));
}

void ApiServer::RequestToken(Call& c) {
  const ResourceInfo& r = *c.resource;  // serviceaccounts
  authnv1::TokenRequest tr;
  Status s = DecodeBody(c.req, c.query, "TokenRequest", "authentication.k8s.io/v1", &tr, &c.warnings);
  if (!s.ok()) return Fail(c, s);
  if (!security_.issue_token) {
    return Fail(c, Status(Code::kNotFound, "the server could not find the requested resource (service account tokens need --service-account-signing-key-file)"));
  }
  ErrorDetails d;
  Result<std::shared_ptr<const Message>> sa = registry_->Get(r, c.info.namespace_, c.info.name, &d);
  if (!sa.ok()) return Fail(c, sa.status(), &d);
  tr.mutable_metadata()->set_name(c.info.name);
  tr.mutable_metadata()->set_namespace_(c.info.namespace_);
  if (Status a = AdmitSubresourceObject(c, &tr); !a.ok()) return Fail(c, a);
  if (Status t = security_.issue_token(**sa, &tr); !t.ok()) {
    ErrorDetails td;
    td.name = c.info.name;
    td.group = "authentication.k8s.io";
    td.kind = "TokenRequest";
    return Fail(c, t, &td);
  }
  Result<std::string> j = api::ToJson(tr, {"TokenRequest", "authentication.k8s.io/v1"});
  CK_CHECK(j.ok());
  Finish(c, 201, std::move(*j));
}

void ApiServer::Review(Call& c) {
  const ResourceInfo& r = *c.resource;
  std::unique_ptr<Message> obj = NewObject(r);
  Status s = DecodeBody(c.req, c.query, r.kind, r.GroupVersion(), obj.get(), &c.warnings);
  if (!s.ok()) return Fail(c, s);
  auto decide = [&](const UserInfo& user, const authzv1::ResourceAttributes* ra, const authzv1::NonResourceAttributes* na,
                    authzv1::SubjectAccessReviewStatus* st) {
    Attributes a;
    a.user = &user;
    if (ra) {
      a.resource_request = true;
      a.verb = ra->verb();
      a.namespace_ = ra->namespace_();
      a.api_group = ra->group();
      a.api_version = ra->version();
      a.resource = ra->resource();
      a.subresource = ra->subresource();
      a.name = ra->name();
    } else if (na) {
      a.verb = na->verb();
      a.path = na->path();
    }
    std::string reason;
    Decision dec = authz_->Authorize(a, &reason);
    st->set_allowed(dec == Decision::kAllow);
    if (dec == Decision::kDeny) st->set_denied(true);
    if (!reason.empty()) st->set_reason(reason);
  };
  if (r.resource == "selfsubjectaccessreviews") {
    auto* rv = static_cast<authzv1::SelfSubjectAccessReview*>(obj.get());
    decide(c.user, rv->spec().has_resourceattributes() ? &rv->spec().resourceattributes() : nullptr,
           rv->spec().has_nonresourceattributes() ? &rv->spec().nonresourceattributes() : nullptr, rv->mutable_status());
  } else if (r.resource == "subjectaccessreviews" || r.resource == "localsubjectaccessreviews") {
    auto* spec = static_cast<authzv1::SubjectAccessReviewSpec*>(
        obj->GetReflection()->MutableMessage(obj.get(), obj->GetDescriptor()->FindFieldByName("spec")));
    auto* status = static_cast<authzv1::SubjectAccessReviewStatus*>(
        obj->GetReflection()->MutableMessage(obj.get(), obj->GetDescriptor()->FindFieldByName("status")));
    if (r.resource == "localsubjectaccessreviews" && spec->has_resourceattributes() &&
        spec->resourceattributes().namespace_() != c.info.namespace_) {
      return Fail(c, BadRequest("spec.resourceAttributes.namespace must match namespace: " + c.info.namespace_));
    }
    UserInfo subject;
    subject.name = spec->user();
    subject.uid = spec->uid();
    subject.groups.assign(spec->groups().begin(), spec->groups().end());
    decide(subject, spec->has_resourceattributes() ? &spec->resourceattributes() : nullptr,
           spec->has_nonresourceattributes() ? &spec->nonresourceattributes() : nullptr, status);
  } else if (r.resource == "selfsubjectrulesreviews") {
    auto* rv = static_cast<authzv1::SelfSubjectRulesReview*>(obj.get());
    if (security_.rules_for) {
      security_.rules_for(c.user, rv->spec().namespace_(), rv->mutable_status());
    } else {
      // Without RBAC the rules can be listed exactly for the built-in modes: everything
      // (AlwaysAllow) or nothing.
      Attributes probe;
      probe.user = &c.user;
      probe.resource_request = true;
      probe.verb = "*";
      probe.namespace_ = rv->spec().namespace_();
      probe.resource = "*";
      std::string reason;
      if (authz_->Authorize(probe, &reason) == Decision::kAllow) {
        auto* rr = rv->mutable_status()->add_resourcerules();
        rr->add_verbs("*");
        rr->add_apigroups("*");
        rr->add_resources("*");
        auto* nr = rv->mutable_status()->add_nonresourcerules();
        nr->add_verbs("*");
        nr->add_nonresourceurls("*");
      }
      rv->mutable_status()->set_incomplete(false);
    }
  } else if (r.resource == "selfsubjectreviews") {
    auto* rv = static_cast<authnv1::SelfSubjectReview*>(obj.get());
    auto* ui = rv->mutable_status()->mutable_userinfo();
    ui->set_username(c.user.name);
    if (!c.user.uid.empty()) ui->set_uid(c.user.uid);
    for (const std::string& g : c.user.groups) ui->add_groups(g);
    for (const auto& [k, vs] : c.user.extra) {
      auto& ev = (*ui->mutable_extra())[k];
      for (const std::string& v : vs) ev.add_items(v);
    }
  } else if (r.resource == "tokenreviews") {
    auto* rv = static_cast<authnv1::TokenReview*>(obj.get());
    std::vector<std::string> audiences(rv->spec().audiences().begin(), rv->spec().audiences().end());
    std::vector<std::string> matched;
    Result<UserInfo> u = Status(Code::kUnauthorized, "invalid bearer token");
    if (security_.review_token) {
      u = security_.review_token(rv->spec().token(), audiences, &matched);
    } else if (std::optional<UserInfo> found = authn_->LookupToken(rv->spec().token())) {
      u = *found;
      matched = audiences;
    }
    if (u.ok()) {
      rv->mutable_status()->set_authenticated(true);
      auto* ui = rv->mutable_status()->mutable_user();
      ui->set_username(u->name);
      if (!u->uid.empty()) ui->set_uid(u->uid);
      for (const std::string& g : u->groups) ui->add_groups(g);
      for (const auto& [k, vs] : u->extra) {
        auto& ev = (*ui->mutable_extra())[k];
        for (const std::string& v : vs) ev.add_items(v);
      }
      for (const std::string& a : matched) rv->mutable_status()->add_audiences(a);
    } else {
      rv->mutable_status()->set_authenticated(false);
      rv->mutable_status()->set_error(u.status().message());
    }
  } else {
    return Fail(c, Status(Code::kMethodNotAllowed, "the server does not allow this method on the requested resource"));
  }
  Finish(c, 201, EncodeObject(r, *obj));
}

}  // namespace ck::apiserver
