// ck-apiserver over HTTPS, as clients see it. Watches: three clients see every one of 1,000 writes in order;
// a client resuming from an old resourceVersion gets exactly the rest; one resuming from a
// version older than the watch cache's history gets upstream's 410 Expired ERROR event.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "common/api/time_format.h"
#include "common/base/clock.h"
#include "tests/testutil/apiserver.h"

namespace ck {
namespace {

struct Event {
  std::string type, name;
  int64_t rv = 0;
};

// Reads watch events (one JSON object per line) until `want` arrived or the stream ends.
std::vector<Event> ReadEvents(net::ResponseStream& s, size_t want, std::string* raw = nullptr) {
  static const std::regex kEvent(R"re(^\{"type":"([A-Z]+)","object":\{"kind":"[A-Za-z]+","apiVersion":"[^"]+","metadata":\{"name":"([^"]*)".*?"resourceVersion":"([0-9]+)")re");
  std::vector<Event> out;
  std::string buf;
  while (out.size() < want) {
    Result<std::optional<std::string>> chunk = s.Next(std::chrono::seconds(20));
    if (!chunk.ok() || !chunk->has_value()) break;
    buf += **chunk;
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      if (raw) *raw += line + "\n";
      std::smatch m;
      if (std::regex_search(line, m, kEvent)) {
        out.push_back({m[1], m[2], std::stoll(m[3])});
      } else {
        out.push_back({"UNPARSED", line, 0});
      }
    }
  }
  return out;
}

net::ClientRequest Json(std::string method, std::string target, std::string body = "") {
  net::ClientRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  r.headers.Add("Content-Type", "application/json");
  return r;
}

TEST(ApiServerWatch, ThreeWatchersSeeThousandWritesInOrderResumeAndExpire) {
  testutil::ApiServerProcess server({"--default-watch-cache-size=600"});
  auto client = server.Client();
  Result<net::Response> ns = client->Do(Json("POST", "/api/v1/namespaces", R"({"metadata":{"name":"w"}})"));
  ASSERT_TRUE(ns.ok() && ns->status == 201) << (ns.ok() ? ns->body : ns.status().ToString());
  Result<net::Response> list = client->Do(Json("GET", "/api/v1/namespaces/w/configmaps"));
  ASSERT_TRUE(list.ok() && list->status == 200);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(list->body, m, std::regex(R"re("resourceVersion":"([0-9]+)")re")));
  std::string rv0 = m[1];

  constexpr int kWrites = 1000;
  std::vector<std::unique_ptr<net::HttpClient>> clients;
  std::vector<std::unique_ptr<net::ResponseStream>> streams;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(server.Client());
    Result<std::unique_ptr<net::ResponseStream>> s =
        clients.back()->Open(Json("GET", "/api/v1/namespaces/w/configmaps?watch=true&resourceVersion=" + rv0));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_EQ((*s)->status(), 200);
    streams.push_back(std::move(*s));
  }
  std::vector<std::vector<Event>> seen(3);
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&, i] { seen[i] = ReadEvents(*streams[i], kWrites); });
  }
  // 400 creates, 400 updates, 200 deletes, from 4 writers at once.
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      auto c = server.Client();
      for (int k = t; k < 400; k += 4) {
        std::string name = "cm-" + std::to_string(k);
        auto r = c->Do(Json("POST", "/api/v1/namespaces/w/configmaps", R"({"metadata":{"name":")" + name + R"("}})"));
        if (!r.ok() || r->status != 201) ++failures;
        r = c->Do(Json("PUT", "/api/v1/namespaces/w/configmaps/" + name,
                       R"({"metadata":{"name":")" + name + R"("},"data":{"v":"1"}})"));
        if (!r.ok() || r->status != 200) ++failures;
        if (k % 2 == 0) {
          r = c->Do(Json("DELETE", "/api/v1/namespaces/w/configmaps/" + name));
          if (!r.ok() || r->status != 200) ++failures;
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  for (auto& r : readers) r.join();
  EXPECT_EQ(failures.load(), 0);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(seen[i].size(), size_t(kWrites)) << "watcher " << i;
    int added = 0, modified = 0, deleted = 0;
    for (size_t k = 0; k < seen[i].size(); ++k) {
      if (k > 0) {
        ASSERT_GT(seen[i][k].rv, seen[i][k - 1].rv) << "watcher " << i << " event " << k;
      }
      added += seen[i][k].type == "ADDED";
      modified += seen[i][k].type == "MODIFIED";
      deleted += seen[i][k].type == "DELETED";
      if (i > 0) {
        EXPECT_EQ(seen[i][k].rv, seen[0][k].rv);
        EXPECT_EQ(seen[i][k].name, seen[0][k].name);
      }
    }
    EXPECT_EQ(added, 400);
    EXPECT_EQ(modified, 400);
    EXPECT_EQ(deleted, 200);
  }
  for (auto& s : streams) s->Cancel();

  // Resuming from the 700th event's version gives exactly the 300 after it.
  int64_t resume = seen[0][699].rv;
  auto c = server.Client();
  Result<std::unique_ptr<net::ResponseStream>> s =
      c->Open(Json("GET", "/api/v1/namespaces/w/configmaps?watch=true&resourceVersion=" + std::to_string(resume)));
  ASSERT_TRUE(s.ok());
  std::vector<Event> rest = ReadEvents(**s, 300);
  ASSERT_EQ(rest.size(), 300u);
  for (size_t k = 0; k < rest.size(); ++k) EXPECT_EQ(rest[k].rv, seen[0][700 + k].rv);
  (*s)->Cancel();

  // The first version is older than the 600 events the cache keeps: 200, then ERROR 410 Expired.
  Result<std::unique_ptr<net::ResponseStream>> old =
      c->Open(Json("GET", "/api/v1/namespaces/w/configmaps?watch=true&resourceVersion=" + rv0));
  ASSERT_TRUE(old.ok());
  EXPECT_EQ((*old)->status(), 200);
  std::string raw;
  std::vector<Event> expired = ReadEvents(**old, 1, &raw);
  EXPECT_THAT(raw, ::testing::HasSubstr(R"("type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: )" + rv0));
  EXPECT_THAT(raw, ::testing::HasSubstr(R"("reason":"Expired","code":410})"));
}

}  // namespace
}  // namespace ck

namespace ck {
namespace {

std::string Field(const std::string& body, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(body, m, std::regex("\"" + name + "\":\"?([^\",}]*)"))) return "";
  return m[1];
}

// --event-ttl: an Event goes that long after its last occurrence (both Event APIs); other objects
// stay. A bad duration is one readable line and exit 2.
TEST(ApiServerEvents, EventsGoEventTtlAfterTheyLastOccurred) {
  testutil::ApiServerProcess server({"--event-ttl=2s"});
  auto client = server.Client();
  // The wall clock now (the apiserver runs on the real clock).
  const api::Timestamp t = api::ToTimestamp(RealClock::Get().Now());
  const std::string now = api::FormatRfc3339(t), now_micro = api::FormatRfc3339Micro(t);
  Result<net::Response> core = client->Do(Json("POST", "/api/v1/namespaces/default/events",
      R"({"metadata":{"name":"e1"},"involvedObject":{"kind":"Pod","name":"p","namespace":"default"},)"
      R"("reason":"Test","message":"m","type":"Normal","lastTimestamp":")" + now + R"("})"));
  ASSERT_TRUE(core.ok() && core->status == 201) << (core.ok() ? core->body : core.status().ToString());
  Result<net::Response> v1 = client->Do(Json("POST", "/apis/events.k8s.io/v1/namespaces/default/events",
      R"({"metadata":{"name":"e2"},"regarding":{"kind":"Pod","name":"p","namespace":"default"},)"
      R"("reason":"Test","note":"m","type":"Normal","action":"Testing","reportingController":"test",)"
      R"("reportingInstance":"test-1","eventTime":")" + now_micro + R"("})"));
  ASSERT_TRUE(v1.ok() && v1->status == 201) << (v1.ok() ? v1->body : v1.status().ToString());
  Result<net::Response> cm = client->Do(Json("POST", "/api/v1/namespaces/default/configmaps", R"({"metadata":{"name":"stays"}})"));
  ASSERT_TRUE(cm.ok() && cm->status == 201);
  auto status = [&](const std::string& path) {
    Result<net::Response> r = client->Do(Json("GET", path));
    return r.ok() ? r->status : 0;
  };
  EXPECT_EQ(status("/api/v1/namespaces/default/events/e1"), 200);
  EXPECT_EQ(status("/apis/events.k8s.io/v1/namespaces/default/events/e2"), 200);
  EXPECT_TRUE(testutil::WaitUntil([&] {
    return status("/api/v1/namespaces/default/events/e1") == 404 &&
           status("/apis/events.k8s.io/v1/namespaces/default/events/e2") == 404;
  }, std::chrono::seconds(15), std::chrono::milliseconds(100)));
  EXPECT_EQ(status("/api/v1/namespaces/default/configmaps/stays"), 200);

  testutil::Subprocess bad({testutil::BinDir() + "/ck-apiserver", "--storage-dir=/nonexistent", "--event-ttl=soon"});
  EXPECT_EQ(bad.Wait(std::chrono::seconds(10)), std::optional<int>(2));
  EXPECT_NE(bad.Stderr().find("--event-ttl: not a duration: \"soon\""), std::string::npos) << bad.Stderr();
}

TEST(ApiServerList, PaginatesWithContinueAndAnExpiredTokenIs410) {
  testutil::ApiServerProcess server({"--default-watch-cache-size=200"});
  auto c = server.Client();
  ASSERT_EQ(c->Do(Json("POST", "/api/v1/namespaces", R"({"metadata":{"name":"p"}})"))->status, 201);
  for (int i = 0; i < 5; ++i) {
    auto r = c->Do(Json("POST", "/api/v1/namespaces/p/configmaps", R"({"metadata":{"name":"c)" + std::to_string(i) + R"("}})"));
    ASSERT_EQ(r->status, 201) << r->body;
  }
  std::vector<std::string> names;
  std::string token, first_token;
  int pages = 0;
  do {
    std::string target = "/api/v1/namespaces/p/configmaps?limit=2" + (token.empty() ? "" : "&continue=" + token);
    auto r = c->Do(Json("GET", target));
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << r->body;
    static const std::regex kName(R"re("name":"(c[0-9])")re");
    for (std::sregex_iterator it(r->body.begin(), r->body.end(), kName), end; it != end; ++it) {
      names.push_back((*it)[1]);
    }
    token = Field(r->body, "continue");
    if (pages == 0) {
      first_token = token;
      EXPECT_EQ(Field(r->body, "remainingItemCount"), "3");
    }
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(names, (std::vector<std::string>{"c0", "c1", "c2", "c3", "c4"}));

  auto bad = c->Do(Json("GET", "/api/v1/namespaces/p/configmaps?limit=2&continue=bm90LWEtdG9rZW4="));
  EXPECT_EQ(bad->status, 400) << bad->body;
  EXPECT_THAT(bad->body, ::testing::HasSubstr("continue key is not valid"));

  // Once the cache's history no longer reaches the token's version, the token has expired.
  for (int i = 0; i < 250; ++i) {
    auto r = c->Do(Json("PUT", "/api/v1/namespaces/p/configmaps/c0", R"({"metadata":{"name":"c0"},"data":{"i":")" + std::to_string(i) + R"("}})"));
    ASSERT_EQ(r->status, 200) << r->body;
  }
  auto expired = c->Do(Json("GET", "/api/v1/namespaces/p/configmaps?limit=2&continue=" + first_token));
  EXPECT_EQ(expired->status, 410) << expired->body;
  EXPECT_THAT(expired->body, ::testing::HasSubstr(R"("reason":"Expired")"));
  EXPECT_THAT(expired->body, ::testing::HasSubstr("The provided continue parameter is too old"));
}

// Every page of a paginated list comes from the first page's snapshot: changes made between
// pages are not seen, and every page reports the same resourceVersion.
TEST(ApiServerList, ContinuePagesComeFromTheFirstPagesSnapshot) {
  testutil::ApiServerProcess server;
  auto c = server.Client();
  ASSERT_EQ(c->Do(Json("POST", "/api/v1/namespaces", R"({"metadata":{"name":"p"}})"))->status, 201);
  for (int i = 0; i < 5; ++i) {
    auto r = c->Do(Json("POST", "/api/v1/namespaces/p/configmaps", R"({"metadata":{"name":"c)" + std::to_string(i) + R"("}})"));
    ASSERT_EQ(r->status, 201) << r->body;
  }
  auto first = c->Do(Json("GET", "/api/v1/namespaces/p/configmaps?limit=2"));
  ASSERT_EQ(first->status, 200) << first->body;
  std::string rv = Field(first->body, "resourceVersion");
  std::string token = Field(first->body, "continue");
  ASSERT_FALSE(token.empty());

  ASSERT_EQ(c->Do(Json("PUT", "/api/v1/namespaces/p/configmaps/c3", R"({"metadata":{"name":"c3"},"data":{"new":"yes"}})"))->status, 200);
  ASSERT_EQ(c->Do(Json("DELETE", "/api/v1/namespaces/p/configmaps/c4"))->status, 200);
  ASSERT_EQ(c->Do(Json("POST", "/api/v1/namespaces/p/configmaps", R"({"metadata":{"name":"c5"}})"))->status, 201);

  std::string rest;
  int pages = 0;
  while (!token.empty() && pages < 5) {
    auto r = c->Do(Json("GET", "/api/v1/namespaces/p/configmaps?limit=2&continue=" + token));
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(Field(r->body, "resourceVersion"), rv) << r->body;
    rest += r->body;
    token = Field(r->body, "continue");
    ++pages;
  }
  EXPECT_EQ(pages, 2);
  EXPECT_THAT(rest, ::testing::HasSubstr(R"("name":"c3")"));
  EXPECT_THAT(rest, ::testing::HasSubstr(R"("name":"c4")"));
  EXPECT_THAT(rest, ::testing::Not(::testing::HasSubstr(R"("new":"yes")")));
  EXPECT_THAT(rest, ::testing::Not(::testing::HasSubstr(R"("name":"c5")")));

  // A fresh list sees the changes.
  auto now = c->Do(Json("GET", "/api/v1/namespaces/p/configmaps"));
  EXPECT_THAT(now->body, ::testing::HasSubstr(R"("new":"yes")"));
  EXPECT_THAT(now->body, ::testing::HasSubstr(R"("name":"c5")"));
  EXPECT_THAT(now->body, ::testing::Not(::testing::HasSubstr(R"("name":"c4")")));
}

// Metadata-only clients (client-go's metadata informers: the garbage collector, namespace
// deletion) ask for PartialObjectMetadata and get only each object's metadata.
TEST(ApiServerList, PartialObjectMetadataForGetListAndWatch) {
  testutil::ApiServerProcess server;
  auto c = server.Client();
  ASSERT_EQ(c->Do(Json("POST", "/api/v1/namespaces/default/configmaps",
                       R"({"metadata":{"name":"m","labels":{"a":"b"}},"data":{"big":"payload"}})"))->status,
            201);
  auto as = [](std::string method, std::string target, std::string what) {
    net::ClientRequest r = Json(std::move(method), std::move(target));
    r.headers.Set("Accept", "application/json;as=" + what + ";g=meta.k8s.io;v=v1,application/json");
    return r;
  };
  auto one = c->Do(as("GET", "/api/v1/namespaces/default/configmaps/m", "PartialObjectMetadata"));
  ASSERT_EQ(one->status, 200) << one->body;
  EXPECT_THAT(one->body, ::testing::StartsWith(R"({"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"m")"));
  EXPECT_THAT(one->body, ::testing::HasSubstr(R"("labels":{"a":"b"})"));
  EXPECT_THAT(one->body, ::testing::Not(::testing::HasSubstr("payload")));

  auto list = c->Do(as("GET", "/api/v1/namespaces/default/configmaps", "PartialObjectMetadataList"));
  ASSERT_EQ(list->status, 200) << list->body;
  EXPECT_THAT(list->body, ::testing::StartsWith(R"({"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":")"));
  EXPECT_THAT(list->body, ::testing::HasSubstr(R"("items":[{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"m")"));
  EXPECT_THAT(list->body, ::testing::Not(::testing::HasSubstr("payload")));

  auto wrong = c->Do(as("GET", "/api/v1/namespaces/default/configmaps", "PartialObjectMetadata"));
  EXPECT_EQ(wrong->status, 406) << wrong->body;

  auto stream = c->Open(as("GET", "/api/v1/namespaces/default/configmaps?watch=1", "PartialObjectMetadata"));
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  ASSERT_EQ((*stream)->status(), 200);
  std::string events;
  while (events.find('\n') == std::string::npos) {
    auto piece = (*stream)->Next(std::chrono::seconds(10));
    ASSERT_TRUE(piece.ok() && piece->has_value());
    events += **piece;
  }
  EXPECT_THAT(events, ::testing::StartsWith(R"({"type":"ADDED","object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"m")"));
  EXPECT_THAT(events, ::testing::Not(::testing::HasSubstr("payload")));
  (*stream)->Cancel();
}

TEST(ApiServerErrors, StatusBodiesForBadRequests) {
  testutil::ApiServerProcess server;
  auto c = server.Client();
  auto r = c->Do(Json("POST", "/api/v1/namespaces/default/configmaps", "{not json"));
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_THAT(r->body, ::testing::HasSubstr(R"("kind":"Status")"));
  net::ClientRequest xml = Json("POST", "/api/v1/namespaces/default/configmaps", "<x/>");
  xml.headers.Set("Content-Type", "application/xml");
  r = c->Do(xml);
  EXPECT_EQ(r->status, 415) << r->body;
  EXPECT_THAT(r->body, ::testing::HasSubstr(R"("reason":"UnsupportedMediaType")"));
  r = c->Do(Json("GET", "/api/v1/namespaces/default/pods?fieldSelector=spec.foo%3Dx"));
  EXPECT_EQ(r->status, 400);
  EXPECT_THAT(r->body, ::testing::HasSubstr("field label not supported: spec.foo"));
  r = c->Do(Json("GET", "/api/v1/namespaces/default/pods?labelSelector=a%20in%20(b"));
  EXPECT_EQ(r->status, 400) << r->body;
  r = c->Do(Json("POST", "/api/v1/namespaces/nope/configmaps", R"({"metadata":{"name":"x"}})"));
  EXPECT_EQ(r->status, 404);
  EXPECT_THAT(r->body, ::testing::HasSubstr(R"(namespaces \"nope\" not found)"));
  r = c->Do(Json("GET", "/apis/nosuch.group/v1/things"));
  EXPECT_EQ(r->status, 404);
  r = c->Do(Json("PUT", "/api/v1/namespaces/default/configmaps/a", R"({"metadata":{"name":"b"}})"));
  EXPECT_EQ(r->status, 400);
  EXPECT_THAT(r->body, ::testing::HasSubstr("does not match the name on the URL"));
  // A stale resourceVersion is a 409 Conflict.
  ASSERT_EQ(c->Do(Json("POST", "/api/v1/namespaces/default/configmaps", R"({"metadata":{"name":"cc"}})"))->status, 201);
  ASSERT_EQ(c->Do(Json("PUT", "/api/v1/namespaces/default/configmaps/cc", R"({"metadata":{"name":"cc"},"data":{"a":"1"}})"))->status, 200);
  r = c->Do(Json("PUT", "/api/v1/namespaces/default/configmaps/cc", R"({"metadata":{"name":"cc","resourceVersion":"1"},"data":{"a":"2"}})"));
  EXPECT_EQ(r->status, 409) << r->body;
  EXPECT_THAT(r->body, ::testing::HasSubstr("the object has been modified"));
  // Anonymous callers reach /version and the health paths only.
  net::HttpClientOptions o;
  o.port = server.port();
  o.tls_config.ca_pem = testutil::ReadFileOrDie(server.dir().File("pki/ca.crt"));
  net::HttpClient anon(o);
  EXPECT_EQ(anon.Do(Json("GET", "/version"))->status, 200);
  EXPECT_EQ(anon.Do(Json("GET", "/readyz"))->status, 200);
  r = anon.Do(Json("GET", "/api/v1/namespaces"));
  EXPECT_EQ(r->status, 401);
  EXPECT_THAT(r->body, ::testing::HasSubstr(R"("reason":"Unauthorized")"));
  // Metrics with upstream names.
  r = c->Do(Json("GET", "/metrics"));
  EXPECT_EQ(r->status, 200);
  for (const char* m : {"apiserver_request_total{", "apiserver_request_duration_seconds_bucket{",
                        "apiserver_current_inflight_requests{"}) {
    EXPECT_THAT(r->body, ::testing::HasSubstr(m));
  }
}

}  // namespace
}  // namespace ck
