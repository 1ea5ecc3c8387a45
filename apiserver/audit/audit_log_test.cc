// Audit events: the JSON shape (parsed back with simdjson), the per-request stages and levels, and
// many threads writing one file (every line whole and valid).
#include "apiserver/audit/audit_log.h"

#include <simdjson.h>

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <thread>

#include "tests/testutil/testutil.h"

namespace ck::apiserver::audit {
namespace {

using simdjson::dom::element;

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string Str(element e, std::string_view pointer) {
  std::string_view s;
  if (e.at_pointer(pointer).get_string().get(s) != simdjson::SUCCESS) return "<missing " + std::string(pointer) + ">";
  return std::string(s);
}
bool Has(element e, std::string_view pointer) {
  element out;
  return e.at_pointer(pointer).get(out) == simdjson::SUCCESS;
}

AuditEvent FullEvent(const FakeClock& clock) {
  AuditEvent e;
  e.level = Level::kRequestResponse;
  e.audit_id = "0b2b5c9e-6d2f-4a7e-9c1d-1f2e3d4c5b6a";
  e.stage = Stage::kResponseComplete;
  e.request_uri = "/api/v1/namespaces/default/pods?fieldManager=kubectl";
  e.verb = "create";
  e.user = {"alice", "42", {"dev", "system:authenticated"}, {{"scopes", {"a", "b"}}}};
  e.impersonated_user = AuditUser{"bob", "", {"qa"}, {}};
  e.source_ips = {"127.0.0.1"};
  e.user_agent = "kubectl/v1.32.0 (linux/amd64)";
  e.object_ref = ObjectReference{.resource = "pods", .namespace_ = "default", .name = "web", .api_version = "v1"};
  e.response_status = ResponseStatus{.code = 403, .status = "Failure", .reason = "Forbidden", .message = "no \"way\""};
  e.request_object = R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"web"}})";
  e.response_object = R"({"kind":"Status","code":403})";
  e.request_received_timestamp = clock.Now();
  e.stage_timestamp = clock.Now() + std::chrono::microseconds(1500);
  e.annotations = {{kDecisionAnnotation, "forbid"}, {kReasonAnnotation, ""}};
  return e;
}

TEST(AuditEventTest, JsonShapeMatchesUpstream) {
  FakeClock clock;
  std::string json = EncodeEvent(FullEvent(clock));
  simdjson::dom::parser parser;
  element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(json.rfind(R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":)", 0), 0u)
      << json;
  EXPECT_EQ(Str(doc, "/stage"), "ResponseComplete");
  EXPECT_EQ(Str(doc, "/requestURI"), "/api/v1/namespaces/default/pods?fieldManager=kubectl");
  EXPECT_EQ(Str(doc, "/verb"), "create");
  EXPECT_EQ(Str(doc, "/user/username"), "alice");
  EXPECT_EQ(Str(doc, "/user/uid"), "42");
  EXPECT_EQ(Str(doc, "/user/groups/1"), "system:authenticated");
  EXPECT_EQ(Str(doc, "/user/extra/scopes/1"), "b");
  EXPECT_EQ(Str(doc, "/impersonatedUser/username"), "bob");
  EXPECT_FALSE(Has(doc, "/impersonatedUser/uid"));  // omitempty
  EXPECT_EQ(Str(doc, "/sourceIPs/0"), "127.0.0.1");
  EXPECT_EQ(Str(doc, "/userAgent"), "kubectl/v1.32.0 (linux/amd64)");
  EXPECT_EQ(Str(doc, "/objectRef/resource"), "pods");
  EXPECT_EQ(Str(doc, "/objectRef/namespace"), "default");
  EXPECT_EQ(Str(doc, "/objectRef/name"), "web");
  EXPECT_EQ(Str(doc, "/objectRef/apiVersion"), "v1");
  EXPECT_FALSE(Has(doc, "/objectRef/apiGroup"));  // core group: omitted
  EXPECT_TRUE(Has(doc, "/responseStatus/metadata"));
  EXPECT_EQ(Str(doc, "/responseStatus/status"), "Failure");
  EXPECT_EQ(Str(doc, "/responseStatus/reason"), "Forbidden");
  EXPECT_EQ(Str(doc, "/responseStatus/message"), "no \"way\"");
  int64_t code = 0;
  EXPECT_EQ(doc.at_pointer("/responseStatus/code").get_int64().get(code), simdjson::SUCCESS);
  EXPECT_EQ(code, 403);
  EXPECT_EQ(Str(doc, "/requestObject/metadata/name"), "web");
  EXPECT_EQ(Str(doc, "/responseObject/kind"), "Status");
  // RFC 3339 with microseconds, UTC.
  std::string received = Str(doc, "/requestReceivedTimestamp");
  std::string stage = Str(doc, "/stageTimestamp");
  EXPECT_EQ(received.size(), 27u) << received;
  EXPECT_EQ(received.back(), 'Z');
  EXPECT_EQ(stage.substr(19), ".001500Z") << stage;
  EXPECT_EQ(Str(doc, "/annotations/authorization.k8s.io~1decision"), "forbid");
}

TEST(AuditEventTest, MinimalEventOmitsEmptyFields) {
  AuditEvent e;
  e.level = Level::kMetadata;
  e.audit_id = "x";
  e.stage = Stage::kResponseComplete;
  e.response_status = ResponseStatus{.code = 200};
  std::string json = EncodeEvent(e);
  EXPECT_NE(json.find(R"("user":{})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("responseStatus":{"metadata":{},"code":200})"), std::string::npos) << json;
  for (const char* absent : {"impersonatedUser", "objectRef", "requestObject", "responseObject", "annotations",
                             "sourceIPs", "userAgent"}) {
    EXPECT_EQ(json.find(absent), std::string::npos) << absent << " in " << json;
  }
}

TEST(AuditIdTest, Version4Uuids) {
  FakeRandom random(3);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewAuditId(random);
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[14], '4');
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

class RequestAuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = AuditLog::Open(dir_.File("audit.log"));
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
  }
  std::vector<std::string> Lines() { return ReadLines(dir_.File("audit.log")); }

  AuditRequest PodCreate() {
    AuditRequest r;
    r.request_uri = "/api/v1/namespaces/default/pods";
    r.verb = "create";
    r.user = {"alice", "", {"system:authenticated"}, {}};
    r.source_ips = {"127.0.0.1"};
    r.object_ref = ObjectReference{.resource = "pods", .namespace_ = "default", .api_version = "v1"};
    r.attributes.user = "alice";
    r.attributes.groups = {"system:authenticated"};
    r.attributes.verb = "create";
    r.attributes.resource_request = true;
    r.attributes.namespace_ = "default";
    r.attributes.resource = "pods";
    return r;
  }
  static Policy OneRule(Level level, std::vector<Stage> omit = {}) {
    Policy p;
    p.rules.push_back(PolicyRule{.level = level, .omit_stages = std::move(omit)});
    return p;
  }

  testutil::TempDir dir_;
  FakeClock clock_;
  FakeRandom random_{9};
  std::unique_ptr<AuditLog> log_;
};

TEST_F(RequestAuditTest, StagesAndObjectsFollowTheLevel) {
  simdjson::dom::parser parser;
  // Request: RequestReceived without objects, then ResponseComplete with the request object only.
  Policy request = OneRule(Level::kRequest);
  auto audit = RequestAudit::Begin(request, *log_, clock_, random_, PodCreate());
  ASSERT_NE(audit, nullptr);
  audit->SetAuthorization(true, "RBAC: allowed by ClusterRoleBinding \"admin\"");
  audit->AddAnnotation("pod-security.kubernetes.io/enforce-policy", "baseline:latest");
  audit->SetRequestObject(R"({"kind":"Pod"})");
  audit->SetResponseObject(R"({"kind":"Pod","metadata":{"uid":"u"}})");
  clock_.Advance(std::chrono::milliseconds(3));
  audit->Complete({.code = 201});
  audit->Complete({.code = 500});  // once only
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  element first, second;
  ASSERT_EQ(parser.parse(lines[0]).get(first), simdjson::SUCCESS);
  EXPECT_EQ(Str(first, "/stage"), "RequestReceived");
  EXPECT_EQ(Str(first, "/level"), "Request");
  EXPECT_FALSE(Has(first, "/requestObject"));
  EXPECT_FALSE(Has(first, "/responseStatus"));
  std::string id = Str(first, "/auditID");
  simdjson::dom::parser parser2;
  ASSERT_EQ(parser2.parse(lines[1]).get(second), simdjson::SUCCESS);
  EXPECT_EQ(Str(second, "/stage"), "ResponseComplete");
  EXPECT_EQ(Str(second, "/auditID"), id);
  EXPECT_EQ(Str(second, "/requestObject/kind"), "Pod");
  EXPECT_FALSE(Has(second, "/responseObject"));
  EXPECT_EQ(Str(second, "/annotations/authorization.k8s.io~1decision"), "allow");
  EXPECT_EQ(Str(second, "/annotations/authorization.k8s.io~1reason"), "RBAC: allowed by ClusterRoleBinding \"admin\"");
  EXPECT_EQ(Str(second, "/annotations/pod-security.kubernetes.io~1enforce-policy"), "baseline:latest");
  EXPECT_NE(Str(second, "/stageTimestamp"), Str(second, "/requestReceivedTimestamp"));
}

TEST_F(RequestAuditTest, OmittedStagesNoneLevelAndWatches) {
  // None: nothing at all.
  EXPECT_EQ(RequestAudit::Begin(OneRule(Level::kNone), *log_, clock_, random_, PodCreate()), nullptr);
  EXPECT_EQ(RequestAudit::Begin(Policy{}, *log_, clock_, random_, PodCreate()), nullptr);
  EXPECT_TRUE(Lines().empty());

  // Metadata with RequestReceived omitted: a watch writes ResponseStarted and ResponseComplete,
  // and no objects.
  Policy metadata = OneRule(Level::kMetadata, {Stage::kRequestReceived});
  AuditRequest watch = PodCreate();
  watch.verb = watch.attributes.verb = "watch";
  auto audit = RequestAudit::Begin(metadata, *log_, clock_, random_, watch);
  ASSERT_NE(audit, nullptr);
  audit->SetRequestObject(R"({"kind":"Pod"})");
  audit->SetResponseObject(R"({"kind":"Pod"})");
  audit->ResponseStarted(200);
  audit->Complete({.code = 200});
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find(R"("stage":"ResponseStarted")"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(R"("responseStatus":{"metadata":{},"code":200})"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find(R"("stage":"ResponseComplete")"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[1].find("requestObject"), std::string::npos) << lines[1];

  // RequestResponse keeps both objects.
  auto full = RequestAudit::Begin(OneRule(Level::kRequestResponse), *log_, clock_, random_, PodCreate());
  full->SetRequestObject(R"({"a":1})");
  full->SetResponseObject(R"({"b":2})");
  full->Complete({.code = 201});
  lines = Lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_NE(lines[3].find(R"("requestObject":{"a":1},"responseObject":{"b":2})"), std::string::npos) << lines[3];
}

TEST_F(RequestAuditTest, ManyThreadsEveryLineWholeAndValid) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      FakeRandom random(100 + t);
      for (int i = 0; i < kPerThread; ++i) {
        AuditEvent e = FullEvent(clock_);
        e.audit_id = NewAuditId(random);
        // Bodies of different sizes, some larger than a pipe buffer.
        e.request_object = R"({"data":")" + std::string(static_cast<size_t>((i * 97) % 9000), 'x') + R"("})";
        log_->Write(e);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kPerThread));
  simdjson::dom::parser parser;
  std::set<std::string> ids;
  for (const std::string& line : lines) {
    element doc;
    ASSERT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << line.substr(0, 200);
    ids.insert(Str(doc, "/auditID"));
  }
  EXPECT_EQ(ids.size(), lines.size());
  EXPECT_EQ(log_->write_errors(), 0);
}

TEST(AuditLogTest, OpenFailsWithTheReason) {
  auto log = AuditLog::Open("/nonexistent-dir/audit.log");
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), Code::kNotFound);
  EXPECT_NE(log.status().message().find("/nonexistent-dir/audit.log"), std::string::npos);
}

}  // namespace
}  // namespace ck::apiserver::audit
