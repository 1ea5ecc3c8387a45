// RestApiClient against a scripted HTTP server on loopback: request shape, decoding, Status
// errors, retry and Retry-After timing on a FakeClock, rate limiting, watch framing and Stop,
// the typed client and discovery.
#include "common/client/rest/rest_api_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "common/api/codec.h"
#include "common/api/envelope.h"
#include "common/api/testing/builders.h"
#include "common/client/rest/discovery.h"
#include "common/client/rest/dynamic_client.h"
#include "common/client/rest/typed_client.h"
#include "common/metrics/metrics.h"
#include "common/net/http_server.h"
#include "tests/testutil/testutil.h"

namespace ck::client {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
namespace corev1 = ::k8s::io::api::core::v1;
namespace appsv1 = ::k8s::io::api::apps::v1;
namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;
namespace autoscalingv1 = ::k8s::io::api::autoscaling::v1;

const ResourceInfo& Pods() { return *api::FindResource("", "v1", "pods"); }
const ResourceInfo& Deployments() { return *api::FindResource("apps", "v1", "deployments"); }

struct Reply {
  int status = 200;
  net::Headers headers;
  std::string body;
  bool stream = false;  // chunked: `chunks` are written, then the stream stays open
  std::vector<std::string> chunks;
  bool finish = true;  // end a stream after its chunks
};

// An HTTP server that answers each request with the next scripted reply and records requests.
class ScriptedServer {
 public:
  ScriptedServer() {
    net::HttpServerOptions o;
    o.tls = false;
    server_ = std::make_unique<net::HttpServer>(
        o, [this](net::Request req, std::shared_ptr<net::ResponseWriter> w) {
          Reply reply;
          {
            std::lock_guard lock(mu_);
            requests_.push_back(req);
            if (replies_.empty()) {
              reply.status = 500;
              reply.body = "no scripted reply";
            } else {
              reply = std::move(replies_.front());
              replies_.pop_front();
            }
          }
          if (!reply.stream) {
            if (!reply.headers.Has("Content-Type")) reply.headers.Add("Content-Type", "application/json");
            w->Respond(reply.status, reply.headers, reply.body);
            return;
          }
          net::Headers h = reply.headers;
          h.Add("Content-Type", "application/json");
          w->StartStream(reply.status, h);
          for (std::string& c : reply.chunks) w->Write(std::move(c));
          if (reply.finish) {
            w->Finish();
          } else {
            std::lock_guard lock(mu_);
            open_streams_.push_back(w);
          }
        });
    Status s = server_->Start();
    CK_CHECK(s.ok()) << s.ToString();
  }
  ~ScriptedServer() { server_->Stop(100ms); }

  void Push(Reply r) {
    std::lock_guard lock(mu_);
    replies_.push_back(std::move(r));
  }
  std::vector<net::Request> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  size_t count() const {
    std::lock_guard lock(mu_);
    return requests_.size();
  }
  std::shared_ptr<net::ResponseWriter> open_stream(size_t i) const {
    std::lock_guard lock(mu_);
    return i < open_streams_.size() ? open_streams_[i] : nullptr;
  }
  uint16_t port() const { return server_->port(); }

 private:
  std::unique_ptr<net::HttpServer> server_;
  mutable std::mutex mu_;
  std::deque<Reply> replies_;                                       // guarded by mu_
  std::vector<net::Request> requests_;                              // guarded by mu_
  std::vector<std::shared_ptr<net::ResponseWriter>> open_streams_;  // guarded by mu_
};

std::string StatusJson(int code, const std::string& reason, const std::string& message) {
  return R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":")" + message +
         R"(","reason":")" + reason + R"(","code":)" + std::to_string(code) + "}";
}

std::string PodJson(const std::string& name, const std::string& rv = "5") {
  corev1::Pod pod = api::testing::PodBuilder(name).Namespace("shop").Label("app", "web").Node("node-1");
  pod.mutable_metadata()->set_resourceversion(rv);
  return api::ToJson(pod, {"Pod", "v1"}).value();
}

RestConfig ConfigFor(const ScriptedServer& server) {
  RestConfig c;
  c.server = "http://127.0.0.1:" + std::to_string(server.port());
  c.qps = 0;  // unlimited unless a test sets it
  c.timeout = 10s;
  c.retry.initial_backoff = 0ms;
  c.retry.max_backoff = 0ms;
  c.user_agent = MakeUserAgent("ck-test", "v1.32.0");
  return c;
}

std::unique_ptr<RestApiClient> MakeClient(RestConfig c, Clock& clock = RealClock::Get()) {
  Result<std::unique_ptr<RestApiClient>> client = RestApiClient::New(std::move(c), clock);
  CK_CHECK(client.ok()) << client.status().ToString();
  return std::move(client).value();
}

TEST(RestApiClient, GetSendsUpstreamRequestAndDecodesTheKind) {
  ScriptedServer server;
  server.Push({200, {}, PodJson("web-1")});
  RestConfig c = ConfigFor(server);
  c.bearer_token = "s3cret";
  auto client = MakeClient(c);
  GetOptions o;
  o.resource_version = "0";
  Result<ObjectPtr> pod = client->Get(Pods(), "shop", "web-1", o);
  ASSERT_TRUE(pod.ok()) << pod.status().ToString();
  ASSERT_EQ((*pod)->GetDescriptor(), corev1::Pod::descriptor());
  EXPECT_EQ(static_cast<const corev1::Pod&>(**pod).spec().nodename(), "node-1");
  net::Request req = server.requests().at(0);
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/api/v1/namespaces/shop/pods/web-1?resourceVersion=0");
  EXPECT_EQ(req.headers.Get("Accept"), "application/json");
  EXPECT_EQ(req.headers.Get("Authorization"), "Bearer s3cret");
  EXPECT_THAT(std::string(req.headers.Get("User-Agent")), HasSubstr("ck-test/v1.32.0 (linux/"));
}

TEST(RestApiClient, ErrorAnswersKeepTheReasonAndMessage) {
  ScriptedServer server;
  server.Push({404, {}, StatusJson(404, "NotFound", "pods \\\"x\\\" not found")});
  server.Push({409, {}, StatusJson(409, "Conflict", "the object has been modified")});
  server.Push(
      {422, {}, StatusJson(422, "Invalid", "Pod \\\"x\\\" is invalid: spec.containers: Required value")});
  auto client = MakeClient(ConfigFor(server));
  Status s = client->Get(Pods(), "shop", "x").status();
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "pods \"x\" not found");
  corev1::Pod pod = api::testing::PodBuilder("x").Namespace("shop");
  s = client->Update(Pods(), "shop", pod).status();
  EXPECT_EQ(s.code(), Code::kConflict);
  s = client->Create(Pods(), "shop", pod).status();
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_THAT(s.message(), HasSubstr("spec.containers: Required value"));
  EXPECT_EQ(client->attempts(), 3);  // none of these is retried
}

TEST(RestApiClient, RetryAfterIsHonouredForWritesOnTheClock) {
  ScriptedServer server;
  server.Push({503, {{"Retry-After", "2"}}, StatusJson(503, "ServiceUnavailable", "starting")});
  server.Push({201, {}, PodJson("web-1")});
  FakeClock clock;
  auto client = MakeClient(ConfigFor(server), clock);
  corev1::Pod pod = api::testing::PodBuilder("web-1").Namespace("shop");
  auto result = std::async(std::launch::async, [&] { return client->Create(Pods(), "", pod); });
  ASSERT_TRUE(testutil::WaitUntil([&] { return clock.sleepers() == 1; }, 10s));
  EXPECT_EQ(server.count(), 1u);
  clock.Advance(1999ms);
  EXPECT_EQ(clock.sleepers(), 1);  // not yet: the server asked for two seconds
  EXPECT_EQ(server.count(), 1u);
  clock.Advance(1ms);
  Result<ObjectPtr> created = result.get();
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  std::vector<net::Request> reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].method, "POST");
  EXPECT_EQ(reqs[1].target, "/api/v1/namespaces/shop/pods");
  EXPECT_EQ(reqs[1].body, reqs[0].body);
  EXPECT_EQ(client->retries(), 1);
}

TEST(RestApiClient, RetryAfterGivesUpAfterTenRetries) {
  ScriptedServer server;
  for (int i = 0; i < 11; ++i)
    server.Push({429, {{"Retry-After", "0"}}, StatusJson(429, "TooManyRequests", "slow down")});
  auto client = MakeClient(ConfigFor(server));
  Status s = client->Delete(Pods(), "shop", "web-1").status();
  EXPECT_EQ(s.code(), Code::kTooManyRequests);
  EXPECT_EQ(s.message(), "slow down");
  EXPECT_EQ(server.count(), 11u);
}

TEST(RestApiClient, IdempotentReadsBackOffOn5xxButWritesDoNot) {
  ScriptedServer server;
  for (int i = 0; i < 4; ++i) server.Push({500, {}, StatusJson(500, "InternalError", "boom")});
  auto client = MakeClient(ConfigFor(server));
  Status s = client->List(Pods(), "").status();
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_EQ(server.count(), 4u);  // 1 + max_retries (3)
  server.Push({500, {}, StatusJson(500, "InternalError", "boom")});
  s = client->Patch(Pods(), "shop", "x", PatchType::kMerge, "{}").status();
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_EQ(server.count(), 5u);
}

TEST(RestApiClient, BackoffSleepsOnTheClockThenSucceeds) {
  ScriptedServer server;
  server.Push({502, {}, "bad gateway"});
  server.Push({200, {}, PodJson("web-1")});
  FakeClock clock;
  RestConfig c = ConfigFor(server);
  c.retry.initial_backoff = 1000ms;
  c.retry.max_backoff = 1000ms;
  c.retry.jitter = 0;
  auto client = MakeClient(c, clock);
  auto result = std::async(std::launch::async, [&] { return client->Get(Pods(), "shop", "web-1"); });
  ASSERT_TRUE(testutil::WaitUntil([&] { return clock.sleepers() == 1; }, 10s));
  clock.Advance(999ms);
  EXPECT_EQ(server.count(), 1u);
  clock.Advance(1ms);
  ASSERT_TRUE(result.get().ok());
  EXPECT_EQ(server.count(), 2u);
}

TEST(RestApiClient, ConnectionFailuresAreRetriedForReadsOnly) {
  uint16_t port;
  {
    ScriptedServer gone;
    port = gone.port();
  }
  RestConfig c;
  c.server = "http://127.0.0.1:" + std::to_string(port);
  c.qps = 0;
  c.retry.initial_backoff = 0ms;
  c.retry.max_backoff = 0ms;
  auto client = MakeClient(c);
  Status s = client->Get(Pods(), "shop", "x").status();
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(client->attempts(), 4);
  corev1::Pod pod = api::testing::PodBuilder("x").Namespace("shop");
  s = client->Create(Pods(), "shop", pod).status();
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(client->attempts(), 5);
}

TEST(RestApiClient, TokenBucketThrottlesRequestsAndWatchStarts) {
  ScriptedServer server;
  server.Push({200, {}, PodJson("a")});
  server.Push({200, {}, PodJson("b")});
  server.Push({200, {}, "", true, {}, true});
  FakeClock clock;
  RestConfig c = ConfigFor(server);
  c.qps = 1;
  c.burst = 1;
  auto client = MakeClient(c, clock);
  ASSERT_TRUE(client->Get(Pods(), "shop", "a").ok());  // the bucket starts full
  auto second = std::async(std::launch::async, [&] { return client->Get(Pods(), "shop", "b"); });
  ASSERT_TRUE(testutil::WaitUntil([&] { return clock.sleepers() == 1; }, 10s));
  EXPECT_EQ(server.count(), 1u);
  clock.Advance(1s);
  ASSERT_TRUE(second.get().ok());
  auto watch = std::async(std::launch::async, [&] { return client->Watch(Pods(), "shop", {}); });
  ASSERT_TRUE(testutil::WaitUntil([&] { return clock.sleepers() == 1; }, 10s));
  EXPECT_EQ(server.count(), 2u);
  clock.Advance(1s);
  ASSERT_TRUE(watch.get().ok());
  EXPECT_EQ(server.count(), 3u);
}

std::string Event(const std::string& type, const std::string& object) {
  return R"({"type":")" + type + R"(","object":)" + object + "}\n";
}

TEST(RestApiClient, WatchDecodesEventsSplitAcrossChunks) {
  ScriptedServer server;
  std::string body =
      Event("ADDED", PodJson("a", "10")) + Event("MODIFIED", PodJson("a", "11")) +
      Event("BOOKMARK", R"({"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"12"}})") +
      Event("DELETED", PodJson("a", "13"));
  Reply r;
  r.stream = true;
  for (size_t i = 0; i < body.size(); i += 37) r.chunks.push_back(body.substr(i, 37));
  server.Push(r);
  auto client = MakeClient(ConfigFor(server));
  ListOptions o;
  o.resource_version = "9";
  o.allow_watch_bookmarks = true;
  o.timeout_seconds = 300;
  Client<corev1::Pod> pods(*client);
  Result<std::unique_ptr<TypedWatch<corev1::Pod>>> w = pods.Watch("shop", o);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(server.requests()[0].target,
            "/api/v1/namespaces/shop/"
            "pods?watch=true&resourceVersion=9&timeoutSeconds=300&allowWatchBookmarks=true");
  std::vector<std::pair<WatchEvent::Type, std::string>> got;
  while (true) {
    auto e = (*w)->Next();
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    if (!e->has_value()) break;
    got.emplace_back((*e)->type, (*e)->object->metadata().resourceversion());
  }
  std::vector<std::pair<WatchEvent::Type, std::string>> want = {{WatchEvent::Type::kAdded, "10"},
                                                                {WatchEvent::Type::kModified, "11"},
                                                                {WatchEvent::Type::kBookmark, "12"},
                                                                {WatchEvent::Type::kDeleted, "13"}};
  EXPECT_EQ(got, want);
}

TEST(RestApiClient, WatchErrorEventIsGoneAndEndsTheStream) {
  ScriptedServer server;
  Reply r;
  r.stream = true;
  r.chunks = {Event("ADDED", PodJson("a", "10")),
              Event("ERROR", StatusJson(410, "Expired", "too old resource version: 3 (10)"))};
  server.Push(r);
  auto client = MakeClient(ConfigFor(server));
  auto w = client->Watch(Pods(), "", {});
  ASSERT_TRUE(w.ok());
  auto first = (*w)->Next();
  ASSERT_TRUE(first.ok() && first->has_value());
  auto err = (*w)->Next();
  EXPECT_EQ(err.status().code(), Code::kGone);
  EXPECT_EQ(err.status().message(), "too old resource version: 3 (10)");
  auto after = (*w)->Next();
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->has_value());
}

TEST(RestApiClient, WatchStartAnswered410IsGone) {
  ScriptedServer server;
  // Twice: until net::HttpClient::Open reads bodies with a Content-Length, the client asks again
  // with Do() to read the error (rest_api_client.cc).
  server.Push({410, {}, StatusJson(410, "Expired", "too old")});
  server.Push({410, {}, StatusJson(410, "Expired", "too old")});
  auto client = MakeClient(ConfigFor(server));
  Status s = client->Watch(Pods(), "", {}).status();
  EXPECT_EQ(s.code(), Code::kGone) << s.ToString();
  EXPECT_EQ(s.message(), "too old");
}

TEST(RestApiClient, WatchStopFromAnotherThreadUnblocksNext) {
  ScriptedServer server;
  Reply r;
  r.stream = true;
  r.finish = false;
  r.chunks = {Event("ADDED", PodJson("a", "10"))};
  server.Push(r);
  auto client = MakeClient(ConfigFor(server));
  auto w = client->Watch(Pods(), "", {});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Next().ok());
  auto blocked = std::async(std::launch::async, [&] { return (*w)->Next(); });
  (*w)->Stop();
  ASSERT_EQ(blocked.wait_for(10s), std::future_status::ready);
  Result<std::optional<WatchEvent>> e = blocked.get();
  EXPECT_EQ(e.status().code(), Code::kUnavailable);
  EXPECT_EQ(e.status().message(), "stopped");
}

TEST(RestApiClient, WatchStreamCutInsideAnEventIsUnavailable) {
  ScriptedServer server;
  Reply r;
  r.stream = true;
  r.chunks = {R"({"type":"ADDED","object":{"kind":"Pod")"};
  server.Push(r);
  auto client = MakeClient(ConfigFor(server));
  auto w = client->Watch(Pods(), "", {});
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->Next().status().code(), Code::kUnavailable);
}

TEST(RestApiClient, MetadataOnlyAsksForPartialObjectMetadata) {
  ScriptedServer server;
  // A server without PartialObjectMetadata support answers with full objects.
  server.Push({200,
               {},
               R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[)" +
                   PodJson("a") + "]}"});
  server.Push(
      {200, {}, R"({"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"b"}})"});
  Reply r;
  r.stream = true;
  r.chunks = {Event("ADDED", PodJson("c"))};
  server.Push(r);
  auto client = MakeClient(ConfigFor(server));
  ListOptions o;
  o.metadata_only = true;
  Result<ObjectList> list = client->List(Pods(), "shop", o);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->items.size(), 1u);
  EXPECT_EQ(list->items[0]->GetDescriptor(), metav1::PartialObjectMetadata::descriptor());
  EXPECT_EQ(static_cast<const metav1::PartialObjectMetadata&>(*list->items[0]).metadata().labels().at("app"),
            "web");
  GetOptions g;
  g.metadata_only = true;
  Result<ObjectPtr> one = client->Get(Pods(), "shop", "b", g);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ((*one)->GetDescriptor(), metav1::PartialObjectMetadata::descriptor());
  auto w = client->Watch(Pods(), "shop", o);
  ASSERT_TRUE(w.ok());
  auto e = (*w)->Next();
  ASSERT_TRUE(e.ok() && e->has_value());
  EXPECT_EQ((*e)->object->GetDescriptor(), metav1::PartialObjectMetadata::descriptor());
  std::vector<net::Request> reqs = server.requests();
  EXPECT_THAT(std::string(reqs[0].headers.Get("Accept")),
              HasSubstr("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"));
  EXPECT_THAT(std::string(reqs[1].headers.Get("Accept")),
              HasSubstr("application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"));
  EXPECT_THAT(std::string(reqs[2].headers.Get("Accept")),
              HasSubstr("application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"));
}

TEST(RestApiClient, DeleteSendsOptionsAndReturnsObjectOrNothing) {
  ScriptedServer server;
  server.Push({200, {}, R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success"})"});
  corev1::Pod terminating = api::testing::PodBuilder("b").Namespace("shop").DeletionTimestamp(WallTime(1s));
  server.Push({200, {}, api::ToJson(terminating, {"Pod", "v1"}).value()});
  server.Push({200, {}, R"({"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]})"});
  auto client = MakeClient(ConfigFor(server));
  DeleteOptions o;
  o.propagation_policy = "Background";
  o.precondition_uid = "u1";
  Result<ObjectPtr> gone = client->Delete(Pods(), "shop", "a", o);
  ASSERT_TRUE(gone.ok()) << gone.status().ToString();
  EXPECT_EQ(*gone, nullptr);
  Result<ObjectPtr> held = client->Delete(Pods(), "shop", "b");
  ASSERT_TRUE(held.ok());
  ASSERT_NE(*held, nullptr);
  EXPECT_TRUE(static_cast<const corev1::Pod&>(**held).metadata().has_deletiontimestamp());
  ListOptions sel;
  sel.label_selector = "app=web";
  EXPECT_TRUE(client->DeleteCollection(Pods(), "shop", sel).ok());
  std::vector<net::Request> reqs = server.requests();
  EXPECT_EQ(reqs[0].method, "DELETE");
  EXPECT_EQ(reqs[0].target, "/api/v1/namespaces/shop/pods/a");
  EXPECT_EQ(
      reqs[0].body,
      R"({"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"u1"},"propagationPolicy":"Background"})");
  EXPECT_EQ(reqs[2].target, "/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb");
}

TEST(RestApiClient, UpdateStatusScaleBindingThroughTheTypedClient) {
  ScriptedServer server;
  server.Push({200, {}, PodJson("web-1", "8")});
  server.Push(
      {200,
       {},
       R"({"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"web","namespace":"shop"},)"
       R"("spec":{"replicas":3},"status":{"replicas":3,"selector":"app=web"}})"});
  server.Push(
      {200,
       {},
       R"({"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"web","namespace":"shop"},)"
       R"("spec":{"replicas":5}})"});
  server.Push(
      {201, {}, R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","code":201})"});
  server.Push({409, {}, StatusJson(409, "Conflict", "pod web-2 is already assigned to node \\\"n\\\"")});
  auto client = MakeClient(ConfigFor(server));
  Client<corev1::Pod> pods(*client);
  Client<appsv1::Deployment> deployments(*client);
  EXPECT_EQ(deployments.resource().resource, "deployments");

  corev1::Pod pod = api::testing::PodBuilder("web-1").Namespace("shop").Phase("Running");
  Result<std::shared_ptr<const corev1::Pod>> updated =
      pods.UpdateStatus(pod, {.field_manager = "ck-kubelet"});
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ((*updated)->metadata().resourceversion(), "8");

  auto scale = deployments.GetScale("shop", "web");
  ASSERT_TRUE(scale.ok()) << scale.status().ToString();
  EXPECT_EQ((*scale)->status().selector(), "app=web");
  autoscalingv1::Scale want = **scale;
  want.mutable_spec()->set_replicas(5);
  auto scaled = deployments.UpdateScale("shop", want);
  ASSERT_TRUE(scaled.ok()) << scaled.status().ToString();
  EXPECT_EQ((*scaled)->spec().replicas(), 5);

  corev1::Binding binding;
  binding.mutable_metadata()->set_name("web-1");
  binding.mutable_metadata()->set_namespace_("shop");
  binding.mutable_target()->set_kind("Node");
  binding.mutable_target()->set_name("node-1");
  EXPECT_TRUE(pods.Bind(binding).ok());
  binding.mutable_metadata()->set_name("web-2");
  EXPECT_EQ(pods.Bind(binding).code(), Code::kConflict);

  std::vector<net::Request> reqs = server.requests();
  EXPECT_EQ(reqs[0].method, "PUT");
  EXPECT_EQ(reqs[0].target, "/api/v1/namespaces/shop/pods/web-1/status?fieldManager=ck-kubelet");
  EXPECT_THAT(reqs[0].body, HasSubstr(R"({"kind":"Pod","apiVersion":"v1",)"));
  EXPECT_EQ(reqs[1].method, "GET");
  EXPECT_EQ(reqs[1].target, "/apis/apps/v1/namespaces/shop/deployments/web/scale");
  EXPECT_EQ(reqs[2].method, "PUT");
  EXPECT_EQ(reqs[2].target, "/apis/apps/v1/namespaces/shop/deployments/web/scale");
  EXPECT_THAT(reqs[2].body, HasSubstr(R"({"kind":"Scale","apiVersion":"autoscaling/v1",)"));
  EXPECT_EQ(reqs[3].method, "POST");
  EXPECT_EQ(reqs[3].target, "/api/v1/namespaces/shop/pods/web-1/binding");
  EXPECT_THAT(reqs[3].body, HasSubstr(R"({"kind":"Binding","apiVersion":"v1",)"));
}

TEST(RestApiClient, ProtobufRequestBodies) {
  ScriptedServer server;
  server.Push({201, {}, PodJson("web-1")});
  RestConfig c = ConfigFor(server);
  c.body_encoding = BodyEncoding::kProtobuf;
  auto client = MakeClient(c);
  corev1::Pod pod = api::testing::PodBuilder("web-1").Namespace("shop");
  ASSERT_TRUE(client->Create(Pods(), "shop", pod).ok());
  net::Request req = server.requests().at(0);
  EXPECT_EQ(req.headers.Get("Content-Type"), "application/vnd.kubernetes.protobuf");
  corev1::Pod sent;
  api::TypeMeta type;
  ASSERT_TRUE(api::DecodeProtobufObject(req.body, &sent, &type).ok());
  EXPECT_EQ(type.kind, "Pod");
  EXPECT_EQ(type.api_version, "v1");
  EXPECT_EQ(sent.metadata().name(), "web-1");
}

TEST(RestApiClient, TokenFileIsReadAgainAfterAMinute) {
  ScriptedServer server;
  for (int i = 0; i < 3; ++i) server.Push({200, {}, PodJson("a")});
  testutil::TempDir dir;
  testutil::WriteFileOrDie(dir.File("token"), "first\n");
  FakeClock clock;
  RestConfig c = ConfigFor(server);
  c.bearer_token_file = dir.File("token");
  auto client = MakeClient(c, clock);
  ASSERT_TRUE(client->Get(Pods(), "shop", "a").ok());
  testutil::WriteFileOrDie(dir.File("token"), "second\n");
  ASSERT_TRUE(client->Get(Pods(), "shop", "a").ok());
  clock.Advance(61s);
  ASSERT_TRUE(client->Get(Pods(), "shop", "a").ok());
  std::vector<net::Request> reqs = server.requests();
  EXPECT_EQ(reqs[0].headers.Get("Authorization"), "Bearer first");
  EXPECT_EQ(reqs[1].headers.Get("Authorization"), "Bearer first");
  EXPECT_EQ(reqs[2].headers.Get("Authorization"), "Bearer second");
}

TEST(RestApiClient, RequestMetricsUseUpstreamNames) {
  ScriptedServer server;
  server.Push({503, {{"Retry-After", "0"}}, StatusJson(503, "ServiceUnavailable", "x")});
  server.Push({200, {}, PodJson("a")});
  metrics::Registry registry;
  RestConfig c = ConfigFor(server);
  c.metrics = &registry;
  auto client = MakeClient(c);
  ASSERT_TRUE(client->Get(Pods(), "shop", "a").ok());
  std::string text = registry.Render();
  std::string host = "127.0.0.1:" + std::to_string(server.port());
  EXPECT_THAT(text,
              HasSubstr("rest_client_requests_total{code=\"200\",host=\"" + host + "\",method=\"GET\"} 1"));
  EXPECT_THAT(text,
              HasSubstr("rest_client_requests_total{code=\"503\",host=\"" + host + "\",method=\"GET\"} 1"));
  EXPECT_THAT(text, HasSubstr("rest_client_request_retries_total{code=\"503\",host=\"" + host +
                              "\",verb=\"GET\"} 1"));
  EXPECT_THAT(text,
              HasSubstr("rest_client_request_duration_seconds_count{verb=\"GET\",host=\"" + host + "\"} 2"));
  EXPECT_THAT(text, HasSubstr("rest_client_rate_limiter_duration_seconds_count"));
}

TEST(DiscoveryClient, AggregatedDocuments) {
  ScriptedServer server;
  const char* kType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
  server.Push(
      {200,
       {{"Content-Type", kType}},
       R"({"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/v2","metadata":{},"items":[)"
       R"({"metadata":{},"versions":[{"version":"v1","resources":[)"
       R"({"resource":"pods","responseKind":{"group":"","version":"v1","kind":"Pod"},"scope":"Namespaced",)"
       R"("singularResource":"pod","shortNames":["po"],"categories":["all"],"verbs":["watch","list","get"],)"
       R"("subresources":[{"subresource":"status","responseKind":{"group":"","version":"v1","kind":"Pod"},"verbs":["get"]}]},)"
       R"({"resource":"nodes","responseKind":{"group":"","version":"v1","kind":"Node"},"scope":"Cluster","verbs":["get"]}]}]}]})"});
  server.Push(
      {200,
       {{"Content-Type", kType}},
       R"({"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/v2","metadata":{},"items":[)"
       R"({"metadata":{"name":"example.com"},"versions":[{"version":"v1","resources":[)"
       R"({"resource":"widgets","responseKind":{"group":"example.com","version":"v1","kind":"Widget"},)"
       R"("scope":"Namespaced","verbs":["list","watch"]}]}]}]})"});
  auto client = MakeClient(ConfigFor(server));
  DiscoveryClient discovery(*client);
  Result<std::vector<ResourceInfo>> all = discovery.ServerResources();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  const ResourceInfo* pods = FindDiscovered(*all, "", "pods");
  ASSERT_NE(pods, nullptr);
  EXPECT_TRUE(pods->namespaced);
  EXPECT_EQ(pods->kind, "Pod");
  EXPECT_EQ(pods->verbs, (std::vector<std::string>{"get", "list", "watch"}));
  EXPECT_EQ(pods->short_names, std::vector<std::string>{"po"});
  EXPECT_EQ(pods->proto_type, "k8s.io.api.core.v1.Pod");
  EXPECT_EQ(pods->list_proto_type, "k8s.io.api.core.v1.PodList");
  ASSERT_EQ(pods->subresources.size(), 1u);
  EXPECT_EQ(pods->subresources[0].name, "status");
  EXPECT_FALSE(FindDiscovered(*all, "", "nodes")->namespaced);
  const ResourceInfo* widgets = FindDiscovered(*all, "example.com", "widgets");
  ASSERT_NE(widgets, nullptr);
  EXPECT_EQ(widgets->proto_type, "");  // no type here: read by kind or metadata-only
  EXPECT_EQ(FilterByVerbs(*all, {"list", "watch"}).size(), 2u);
  std::vector<net::Request> reqs = server.requests();
  EXPECT_EQ(reqs[0].target, "/api");
  EXPECT_EQ(reqs[1].target, "/apis");
  EXPECT_THAT(std::string(reqs[0].headers.Get("Accept")), HasSubstr("as=APIGroupDiscoveryList"));
}

TEST(DiscoveryClient, LegacyDocumentsWhenAggregationIsNotOffered) {
  ScriptedServer server;
  server.Push(
      {200,
       {},
       R"({"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[]})"});  // /api, aggregated
                                                                                         // ask
  server.Push(
      {200, {}, R"({"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[]})"});  // /api
  server.Push(
      {200,
       {},
       R"({"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],"preferredVersion":{"groupVersion":"apps/v1","version":"v1"}}]})"});
  server.Push(
      {200,
       {},
       R"({"kind":"APIResourceList","apiVersion":"v1","groupVersion":"v1","resources":[)"
       R"({"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["get","list"]},)"
       R"({"name":"pods/status","singularName":"","namespaced":true,"kind":"Pod","verbs":["get"]}]})"});
  server.Push(
      {200,
       {},
       R"({"kind":"APIResourceList","apiVersion":"v1","groupVersion":"apps/v1","resources":[)"
       R"({"name":"deployments","singularName":"deployment","namespaced":true,"kind":"Deployment","verbs":["list"],"shortNames":["deploy"]},)"
       R"({"name":"deployments/scale","singularName":"","namespaced":true,"group":"autoscaling","version":"v1","kind":"Scale","verbs":["get","update"]}]})"});
  auto client = MakeClient(ConfigFor(server));
  DiscoveryClient discovery(*client);
  Result<std::vector<ResourceInfo>> all = discovery.ServerResources();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  const ResourceInfo* deployments = FindDiscovered(*all, "apps", "deployments");
  ASSERT_NE(deployments, nullptr);
  EXPECT_EQ(deployments->short_names, std::vector<std::string>{"deploy"});
  ASSERT_EQ(deployments->subresources.size(), 1u);
  EXPECT_EQ(deployments->subresources[0].group, "autoscaling");
  EXPECT_EQ(deployments->subresources[0].kind, "Scale");
  EXPECT_EQ(deployments->proto_type, "k8s.io.api.apps.v1.Deployment");
  std::vector<net::Request> reqs = server.requests();
  ASSERT_EQ(reqs.size(), 5u);
  EXPECT_EQ(reqs[3].target, "/api/v1");
  EXPECT_EQ(reqs[4].target, "/apis/apps/v1");
}

TEST(DiscoveryClient, AFailingGroupVersionCanBeSkipped) {
  ScriptedServer server;
  auto push_roots = [&] {
    server.Push({200, {}, R"({"kind":"APIVersions","versions":["v1"]})"});
    server.Push(
        {200,
         {},
         R"({"kind":"APIGroupList","groups":[{"name":"metrics.k8s.io","versions":[{"groupVersion":"metrics.k8s.io/v1beta1","version":"v1beta1"}]}]})"});
  };
  push_roots();
  server.Push(
      {200,
       {},
       R"({"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"pods","namespaced":true,"kind":"Pod","verbs":["get"]}]})"});
  server.Push({404, {}, ""});
  auto client = MakeClient(ConfigFor(server));
  DiscoveryClient discovery(*client);
  std::vector<std::string> failed;
  Result<std::vector<ResourceInfo>> all = discovery.LegacyServerResources(&failed);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->size(), 1u);
  EXPECT_EQ(failed, std::vector<std::string>{"metrics.k8s.io/v1beta1"});
  push_roots();
  server.Push({200, {}, R"({"kind":"APIResourceList","groupVersion":"v1","resources":[]})"});
  server.Push({404, {}, ""});
  EXPECT_EQ(discovery.LegacyServerResources().status().code(), Code::kNotFound);
}

TEST(DynamicClient, ListAllFollowsContinueTokensAndRestartsOnExpiry) {
  ScriptedServer server;
  auto page = [](const std::vector<std::string>& names, const std::string& rv, const std::string& cont) {
    std::string s = R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":")" + rv + "\"";
    if (!cont.empty()) s += R"(,"continue":")" + cont + "\"";
    s += R"(},"items":[)";
    for (size_t i = 0; i < names.size(); ++i) s += (i ? "," : "") + PodJson(names[i]);
    return s + "]}";
  };
  server.Push({200, {}, page({"a", "b"}, "100", "t1")});
  server.Push({200, {}, page({"c"}, "100", "")});
  server.Push({200, {}, page({"a"}, "200", "t2")});
  server.Push({410, {}, StatusJson(410, "Expired", "continue token too old")});
  server.Push({200, {}, page({"a", "b", "c", "d"}, "300", "")});
  auto client = MakeClient(ConfigFor(server));
  DynamicClient dynamic(*client);
  Result<ObjectList> all = dynamic.ListAll(Pods(), "shop", {}, 2);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->items.size(), 3u);
  EXPECT_EQ(all->resource_version, "100");
  Result<ObjectList> restarted = dynamic.ListAll(Pods(), "shop", {}, 2);
  ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
  EXPECT_EQ(restarted->items.size(), 4u);
  EXPECT_EQ(restarted->resource_version, "300");
  std::vector<net::Request> reqs = server.requests();
  EXPECT_EQ(reqs[0].target, "/api/v1/namespaces/shop/pods?limit=2");
  EXPECT_EQ(reqs[1].target, "/api/v1/namespaces/shop/pods?limit=2&continue=t1");
  EXPECT_EQ(reqs[4].target, "/api/v1/namespaces/shop/pods");
}

TEST(DynamicClient, UnknownKindsAreReadByKind) {
  ScriptedServer server;
  server.Push(
      {200,
       {},
       R"({"kind":"DeploymentList","apiVersion":"apps/v1","metadata":{"resourceVersion":"4"},"items":[{"metadata":{"name":"d"}}]})"});
  auto client = MakeClient(ConfigFor(server));
  ResourceInfo discovered = Deployments();
  discovered.proto_type.clear();
  discovered.list_proto_type.clear();
  Result<ObjectList> list = DynamicClient(*client).ListAll(discovered, "");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->items.size(), 1u);
  EXPECT_EQ(list->items[0]->GetDescriptor(), appsv1::Deployment::descriptor());
}

}  // namespace
}  // namespace ck::client
