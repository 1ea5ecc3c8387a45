#include "apiserver/discovery/table.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/api/codec.h"
#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/batch_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/rbac_v1.pb.h"

namespace ck::apiserver::discovery {
namespace {

using nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

namespace core = k8s::io::api::core::v1;

// 2024-05-01T12:00:00Z
const WallTime kNow = std::chrono::system_clock::from_time_t(1714564800);

template <typename T>
T Parse(std::string_view text) {
  T m;
  Status s = api::FromJson(text, &m);
  CK_CHECK(s.ok()) << s.ToString() << " in " << std::string(text);
  return m;
}

const ResourceInfo& Res(std::string_view group, std::string_view resource) {
  const ResourceInfo* r = FindResource(group, "v1", resource);
  CK_CHECK(r != nullptr) << std::string(resource);
  return *r;
}

json Table(const ResourceInfo& r, const std::vector<const google::protobuf::Message*>& objects,
           TableOptions options = {}) {
  options.now = kNow;
  auto t = ToTable(r, objects, options);
  CK_CHECK(t.ok()) << t.status().ToString();
  return json::parse(*t);
}

std::vector<std::string> ColumnNames(const json& table) {
  std::vector<std::string> out;
  for (const json& c : table["columnDefinitions"]) {
    out.push_back(c["name"].get<std::string>() + (c["priority"] == 1 ? "*" : ""));
  }
  return out;
}

TEST(HumanDurationTest, MatchesGo) {
  struct Case {
    std::chrono::nanoseconds d;
    std::string want;
  };
  const Case cases[] = {
      {seconds(0), "0s"},
      {std::chrono::milliseconds(-1500), "0s"},  // up to a second of clock skew is "now"
      {seconds(-2), "<invalid>"},
      {seconds(59), "59s"},
      {seconds(119), "119s"},
      {seconds(120), "2m"},
      {minutes(5) + seconds(10), "5m10s"},
      {minutes(9) + seconds(59), "9m59s"},
      {minutes(10) + seconds(30), "10m"},
      {minutes(179), "179m"},
      {hours(3), "3h"},
      {hours(3) + minutes(5), "3h5m"},
      {hours(7) + minutes(59), "7h59m"},
      {hours(8) + minutes(30), "8h"},
      {hours(47), "47h"},
      {hours(48), "2d"},
      {hours(53), "2d5h"},
      {hours(24 * 7 + 23), "7d23h"},
      {hours(24 * 8), "8d"},
      {hours(24 * 394), "394d"},
      {hours(24 * 729), "729d"},
      {hours(24 * 730), "2y"},
      {hours(24 * (365 * 3 + 45)), "3y45d"},
      {hours(24 * 365 * 8), "8y"},
      {hours(24 * (365 * 10 + 100)), "10y"},
  };
  for (const Case& c : cases) EXPECT_EQ(HumanDuration(c.d), c.want) << c.d.count();
}

TEST(NegotiateOutputTest, KubectlHeaders) {
  OutputFormat f = NegotiateOutput(
      "application/json;as=Table;v=v1;g=meta.k8s.io,application/"
      "json;as=Table;v=v1beta1;g=meta.k8s.io,application/json");
  EXPECT_EQ(f.kind, OutputKind::kTable);
  EXPECT_EQ(f.api_version, "meta.k8s.io/v1");
  f = NegotiateOutput("application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json");
  EXPECT_EQ(f.kind, OutputKind::kTable);
  EXPECT_EQ(f.api_version, "meta.k8s.io/v1beta1");
  EXPECT_EQ(NegotiateOutput("application/json").kind, OutputKind::kObject);
  EXPECT_EQ(NegotiateOutput("application/vnd.kubernetes.protobuf,application/json").kind,
            OutputKind::kObject);
  EXPECT_EQ(NegotiateOutput("").kind, OutputKind::kObject);
  EXPECT_EQ(NegotiateOutput("application/json, */*").kind, OutputKind::kObject);
  // Protobuf tables are not served: the JSON one after it is.
  f = NegotiateOutput(
      "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/"
      "json;as=Table;v=v1;g=meta.k8s.io");
  EXPECT_EQ(f.kind, OutputKind::kTable);
  // Garbage collector style metadata-only requests.
  f = NegotiateOutput("application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json");
  EXPECT_EQ(f.kind, OutputKind::kPartialObjectMetadataList);
  EXPECT_EQ(NegotiateOutput("application/json;as=Table;v=v2;g=meta.k8s.io,application/json").kind,
            OutputKind::kObject);
  EXPECT_EQ(NegotiateOutput("application/json;q=0.9,application/json;as=Table;v=v1;g=meta.k8s.io").kind,
            OutputKind::kTable);
}

TEST(IncludeObjectTest, Parses) {
  EXPECT_EQ(*ParseIncludeObject(""), IncludeObject::kMetadata);
  EXPECT_EQ(*ParseIncludeObject("Metadata"), IncludeObject::kMetadata);
  EXPECT_EQ(*ParseIncludeObject("Object"), IncludeObject::kObject);
  EXPECT_EQ(*ParseIncludeObject("None"), IncludeObject::kNone);
  auto bad = ParseIncludeObject("object");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kBadRequest);
}

// Pod STATUS strings in the states kubectl users meet.
TEST(TableTest, PodStatusLikeUpstream) {
  const std::string meta =
      R"("metadata":{"name":"p","namespace":"default","creationTimestamp":"2024-05-01T11:00:00Z"})";
  const std::string two = R"("spec":{"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]})";
  const std::string one = R"("spec":{"containers":[{"name":"a","image":"x"}]})";
  const std::string init =
      R"("spec":{"initContainers":[{"name":"i","image":"x"}],"containers":[{"name":"a","image":"x"}]})";
  struct Case {
    std::string name;
    std::string pod;
    std::string ready, status, restarts;
  };
  const Case cases[] = {
      {"pending, unscheduled", "{" + meta + "," + one + R"(,"status":{"phase":"Pending"}})", "0/1", "Pending",
       "0"},
      {"creating",
       "{" + meta + "," + one +
           R"(,"status":{"phase":"Pending","containerStatuses":[{"name":"a","ready":false,"restartCount":0,
              "state":{"waiting":{"reason":"ContainerCreating"}}}]}})",
       "0/1", "ContainerCreating", "0"},
      {"running",
       "{" + meta + "," + two +
           R"(,"status":{"phase":"Running","containerStatuses":[
              {"name":"a","ready":true,"restartCount":0,"state":{"running":{"startedAt":"2024-05-01T11:00:05Z"}}},
              {"name":"b","ready":true,"restartCount":0,"state":{"running":{"startedAt":"2024-05-01T11:00:05Z"}}}]}})",
       "2/2", "Running", "0"},
      {"one not ready",
       "{" + meta + "," + two +
           R"(,"status":{"phase":"Running","containerStatuses":[
              {"name":"a","ready":true,"restartCount":0,"state":{"running":{}}},
              {"name":"b","ready":false,"restartCount":0,"state":{"running":{}}}]}})",
       "1/2", "Running", "0"},
      {"crash loop",
       "{" + meta + "," + one +
           R"(,"status":{"phase":"Running","containerStatuses":[{"name":"a","ready":false,"restartCount":4,
              "state":{"waiting":{"reason":"CrashLoopBackOff"}},
              "lastState":{"terminated":{"exitCode":1,"reason":"Error","finishedAt":"2024-05-01T11:55:00Z"}}}]}})",
       "0/1", "CrashLoopBackOff", "4 (5m ago)"},
      {"completed",
       "{" + meta + "," + one +
           R"(,"status":{"phase":"Succeeded","containerStatuses":[{"name":"a","ready":false,"restartCount":0,
              "state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}})",
       "0/1", "Completed", "0"},
      {"error exit",
       "{" + meta + "," + one +
           R"(,"status":{"phase":"Failed","containerStatuses":[{"name":"a","ready":false,"restartCount":0,
              "state":{"terminated":{"exitCode":2,"reason":"Error"}}}]}})",
       "0/1", "Error", "0"},
      {"exit code without reason",
       "{" + meta + "," + one +
           R"(,"status":{"phase":"Failed","containerStatuses":[{"name":"a","ready":false,"restartCount":0,
              "state":{"terminated":{"exitCode":3}}}]}})",
       "0/1", "ExitCode:3", "0"},
      {"signal",
       "{" + meta + "," + one +
           R"(,"status":{"phase":"Failed","containerStatuses":[{"name":"a","ready":false,"restartCount":0,
              "state":{"terminated":{"exitCode":137,"signal":9}}}]}})",
       "0/1", "Signal:9", "0"},
      {"completed but one still running",
       "{" + meta + "," + two +
           R"(,"status":{"phase":"Running","conditions":[{"type":"Ready","status":"False"}],"containerStatuses":[
              {"name":"a","ready":false,"restartCount":0,"state":{"terminated":{"exitCode":0,"reason":"Completed"}}},
              {"name":"b","ready":true,"restartCount":0,"state":{"running":{}}}]}})",
       "1/2", "NotReady", "0"},
      {"init waiting",
       "{" + meta + "," + init +
           R"(,"status":{"phase":"Pending","initContainerStatuses":[{"name":"i","ready":false,"restartCount":0,
              "state":{"waiting":{"reason":"PodInitializing"}}}],
              "containerStatuses":[{"name":"a","ready":false,"restartCount":0,"state":{"waiting":{"reason":"PodInitializing"}}}]}})",
       "0/1", "Init:0/1", "0"},
      {"init crash",
       "{" + meta + "," + init +
           R"(,"status":{"phase":"Pending","initContainerStatuses":[{"name":"i","ready":false,"restartCount":2,
              "state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}})",
       "0/1", "Init:CrashLoopBackOff", "2"},
      {"init failed",
       "{" + meta + "," + init +
           R"(,"status":{"phase":"Pending","initContainerStatuses":[{"name":"i","ready":false,"restartCount":0,
              "state":{"terminated":{"exitCode":1}}}]}})",
       "0/1", "Init:ExitCode:1", "0"},
      {"terminating",
       R"({"metadata":{"name":"p","creationTimestamp":"2024-05-01T11:00:00Z",
           "deletionTimestamp":"2024-05-01T12:00:30Z"},)" +
           one +
           R"(,"status":{"phase":"Running","containerStatuses":[{"name":"a","ready":true,"restartCount":0,
              "state":{"running":{}}}]}})",
       "1/1", "Terminating", "0"},
      {"evicted", "{" + meta + "," + one + R"(,"status":{"phase":"Failed","reason":"Evicted"}})", "0/1",
       "Evicted", "0"},
      {"scheduling gated",
       "{" + meta + "," + one +
           R"(,"status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False","reason":"SchedulingGated"}]}})",
       "0/1", "SchedulingGated", "0"},
  };
  for (const Case& c : cases) {
    core::Pod pod = Parse<core::Pod>(c.pod);
    json t = Table(Res("", "pods"), {&pod});
    ASSERT_EQ(t["rows"].size(), 1u) << c.name;
    const json& cells = t["rows"][0]["cells"];
    EXPECT_EQ(cells[0], "p") << c.name;
    EXPECT_EQ(cells[1], c.ready) << c.name;
    EXPECT_EQ(cells[2], c.status) << c.name;
    EXPECT_EQ(cells[3], c.restarts) << c.name;
    EXPECT_EQ(cells[4], "60m") << c.name;
  }
}

TEST(TableTest, PodTableGolden) {
  core::Pod pod = Parse<core::Pod>(R"({
    "metadata":{"name":"web-1","namespace":"default","uid":"u1","resourceVersion":"1007",
                "creationTimestamp":"2024-05-01T11:18:00Z","labels":{"app":"web"}},
    "spec":{"nodeName":"node-1","containers":[{"name":"nginx","image":"nginx"}],
            "readinessGates":[{"conditionType":"example.com/gate"}]},
    "status":{"phase":"Running","podIP":"10.244.0.10","podIPs":[{"ip":"10.244.0.10"}],
      "conditions":[{"type":"example.com/gate","status":"True"}],
      "containerStatuses":[{"name":"nginx","ready":true,"restartCount":0,"image":"nginx","imageID":"",
                            "state":{"running":{"startedAt":"2024-05-01T11:18:05Z"}}}]}})");
  TableOptions o;
  o.resource_version = "1011";
  json t = Table(Res("", "pods"), {&pod}, o);
  EXPECT_EQ(t["kind"], "Table");
  EXPECT_EQ(t["apiVersion"], "meta.k8s.io/v1");
  EXPECT_EQ(t["metadata"], json::parse(R"({"resourceVersion":"1011"})"));
  EXPECT_EQ(ColumnNames(t), (std::vector<std::string>{"Name", "Ready", "Status", "Restarts", "Age", "IP*",
                                                      "Node*", "Nominated Node*", "Readiness Gates*"}));
  EXPECT_EQ(t["columnDefinitions"][0]["format"], "name");
  EXPECT_EQ(t["rows"][0]["cells"],
            json::parse(R"(["web-1","1/1","Running","0","42m","10.244.0.10","node-1","<none>","1/1"])"));
  EXPECT_EQ(t["rows"][0]["object"],
            json::parse(R"({"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1",
      "metadata":{"name":"web-1","namespace":"default","uid":"u1","resourceVersion":"1007",
                  "creationTimestamp":"2024-05-01T11:18:00Z","labels":{"app":"web"}}})"));

  // includeObject=Object: the whole object with its kind; None: no object.
  o.include_object = IncludeObject::kObject;
  t = Table(Res("", "pods"), {&pod}, o);
  EXPECT_EQ(t["rows"][0]["object"]["kind"], "Pod");
  EXPECT_EQ(t["rows"][0]["object"]["apiVersion"], "v1");
  EXPECT_EQ(t["rows"][0]["object"]["spec"]["nodeName"], "node-1");
  o.include_object = IncludeObject::kNone;
  t = Table(Res("", "pods"), {&pod}, o);
  EXPECT_TRUE(!t["rows"][0].contains("object") || t["rows"][0]["object"].is_null());

  // v1beta1 tables carry v1beta1 metadata objects; watch events after the first leave out columns.
  o.include_object = IncludeObject::kMetadata;
  o.api_version = "meta.k8s.io/v1beta1";
  o.column_definitions = false;
  t = Table(Res("", "pods"), {&pod}, o);
  EXPECT_EQ(t["apiVersion"], "meta.k8s.io/v1beta1");
  EXPECT_EQ(t["rows"][0]["object"]["apiVersion"], "meta.k8s.io/v1beta1");
  EXPECT_TRUE(t["columnDefinitions"].is_null() || t["columnDefinitions"].empty());
}

TEST(TableTest, CompletedPodRowsCarryConditions) {
  core::Pod pod = Parse<core::Pod>(R"({"metadata":{"name":"j"},"spec":{"containers":[{"name":"a"}]},
      "status":{"phase":"Succeeded"}})");
  json t = Table(Res("", "pods"), {&pod});
  EXPECT_EQ(t["rows"][0]["conditions"],
            json::parse(R"([{"type":"Completed","status":"True","reason":"Completed",
      "message":"The pod has completed successfully."}])"));
  EXPECT_EQ(t["rows"][0]["cells"][4], "<unknown>");  // no creationTimestamp
}

TEST(TableTest, NodeTable) {
  core::Node node = Parse<core::Node>(R"({
    "metadata":{"name":"node-1","creationTimestamp":"2024-04-28T07:00:00Z",
                "labels":{"node-role.kubernetes.io/control-plane":"","kubernetes.io/role":"worker"}},
    "spec":{"unschedulable":true},
    "status":{"conditions":[{"type":"MemoryPressure","status":"False"},{"type":"Ready","status":"True"}],
      "addresses":[{"type":"Hostname","address":"node-1"},{"type":"InternalIP","address":"127.0.1.1"}],
      "nodeInfo":{"kubeletVersion":"v1.32.0","osImage":"Debian GNU/Linux 12","kernelVersion":"6.1.0",
                  "containerRuntimeVersion":""}}})");
  json t = Table(Res("", "nodes"), {&node});
  EXPECT_EQ(ColumnNames(t),
            (std::vector<std::string>{"Name", "Status", "Roles", "Age", "Version", "Internal-IP*",
                                      "External-IP*", "OS-Image*", "Kernel-Version*", "Container-Runtime*"}));
  EXPECT_EQ(t["rows"][0]["cells"],
            json::parse(R"(["node-1","Ready,SchedulingDisabled","control-plane,worker","3d5h",
      "v1.32.0","127.0.1.1","<none>","Debian GNU/Linux 12","6.1.0","<unknown>"])"));
  core::Node bare = Parse<core::Node>(R"({"metadata":{"name":"n2"}})");
  t = Table(Res("", "nodes"), {&bare});
  EXPECT_EQ(t["rows"][0]["cells"][1], "Unknown");
  EXPECT_EQ(t["rows"][0]["cells"][2], "<none>");
}

TEST(TableTest, WorkloadTables) {
  auto dep = Parse<k8s::io::api::apps::v1::Deployment>(R"({
    "metadata":{"name":"web","creationTimestamp":"2024-05-01T09:00:00Z"},
    "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"},
            "matchExpressions":[{"key":"tier","operator":"In","values":["b","a"]}]},
      "template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.26"},{"name":"side","image":"busybox"}]}}},
    "status":{"replicas":3,"updatedReplicas":2,"readyReplicas":1,"availableReplicas":1}})");
  json t = Table(Res("apps", "deployments"), {&dep});
  EXPECT_EQ(ColumnNames(t), (std::vector<std::string>{"Name", "Ready", "Up-to-date", "Available", "Age",
                                                      "Containers*", "Images*", "Selector*"}));
  EXPECT_EQ(
      t["rows"][0]["cells"],
      json::parse(R"j(["web","1/3",2,1,"3h","nginx,side","nginx:1.26,busybox","app=web,tier in (a,b)"])j"));

  auto rs = Parse<k8s::io::api::apps::v1::ReplicaSet>(R"({"metadata":{"name":"web-abc"},
    "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"spec":{"containers":[{"name":"c","image":"i"}]}}},
    "status":{"replicas":2,"readyReplicas":1}})");
  t = Table(Res("apps", "replicasets"), {&rs});
  EXPECT_EQ(t["rows"][0]["cells"], json::parse(R"(["web-abc",2,2,1,"<unknown>","c","i","app=web"])"));

  auto ds = Parse<k8s::io::api::apps::v1::DaemonSet>(R"({"metadata":{"name":"agent"},
    "spec":{"selector":{"matchLabels":{"app":"agent"}},
            "template":{"spec":{"nodeSelector":{"kubernetes.io/os":"linux"},"containers":[{"name":"c","image":"i"}]}}},
    "status":{"desiredNumberScheduled":3,"currentNumberScheduled":3,"numberReady":2,"updatedNumberScheduled":3,
              "numberAvailable":2}})");
  t = Table(Res("apps", "daemonsets"), {&ds});
  EXPECT_EQ(t["rows"][0]["cells"],
            json::parse(R"(["agent",3,3,2,3,2,"kubernetes.io/os=linux","<unknown>","c","i","app=agent"])"));

  auto sts = Parse<k8s::io::api::apps::v1::StatefulSet>(R"({"metadata":{"name":"db"},
    "spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"c","image":"i"}]}}},"status":{"readyReplicas":3}})");
  t = Table(Res("apps", "statefulsets"), {&sts});
  EXPECT_EQ(t["rows"][0]["cells"], json::parse(R"(["db","3/3","<unknown>","c","i"])"));

  auto job = Parse<k8s::io::api::batch::v1::Job>(
      R"({"metadata":{"name":"pi","creationTimestamp":"2024-05-01T11:50:00Z"},
    "spec":{"completions":1,"template":{"spec":{"containers":[{"name":"pi","image":"perl"}]}}},
    "status":{"succeeded":1,"startTime":"2024-05-01T11:50:00Z","completionTime":"2024-05-01T11:50:42Z",
              "conditions":[{"type":"Complete","status":"True"}]}})");
  t = Table(Res("batch", "jobs"), {&job});
  EXPECT_EQ(ColumnNames(t), (std::vector<std::string>{"Name", "Status", "Completions", "Duration", "Age",
                                                      "Containers*", "Images*", "Selector*"}));
  EXPECT_EQ(t["rows"][0]["cells"], json::parse(R"(["pi","Complete","1/1","42s","10m","pi","perl",""])"));

  auto cj = Parse<k8s::io::api::batch::v1::CronJob>(R"({"metadata":{"name":"hello"},
    "spec":{"schedule":"*/1 * * * *","jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"i"}]}}}}},
    "status":{"lastScheduleTime":"2024-05-01T11:59:00Z","active":[{"name":"hello-1"}]}})");
  t = Table(Res("batch", "cronjobs"), {&cj});
  EXPECT_EQ(t["rows"][0]["cells"],
            json::parse(R"(["hello","*/1 * * * *","<none>","<unset>",1,"60s","<unknown>","c","i",""])"));
}

TEST(TableTest, CoreObjectTables) {
  auto svc = Parse<core::Service>(R"({"metadata":{"name":"web"},
    "spec":{"type":"NodePort","clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10"],"selector":{"app":"web"},
            "ports":[{"port":80,"protocol":"TCP","nodePort":30080},{"port":53,"protocol":"UDP"}]}})");
  json t = Table(Res("", "services"), {&svc});
  EXPECT_EQ(ColumnNames(t), (std::vector<std::string>{"Name", "Type", "Cluster-IP", "External-IP", "Port(s)",
                                                      "Age", "Selector*"}));
  EXPECT_EQ(
      t["rows"][0]["cells"],
      json::parse(R"(["web","NodePort","10.96.0.10","<none>","80:30080/TCP,53/UDP","<unknown>","app=web"])"));
  auto lb = Parse<core::Service>(
      R"({"metadata":{"name":"lb"},"spec":{"type":"LoadBalancer","clusterIPs":["10.96.0.11"]}})");
  t = Table(Res("", "services"), {&lb});
  EXPECT_EQ(t["rows"][0]["cells"][3], "<pending>");
  EXPECT_EQ(t["rows"][0]["cells"][4], "<none>");
  EXPECT_EQ(t["rows"][0]["cells"][6], "<none>");

  auto ns =
      Parse<core::Namespace>(R"({"metadata":{"name":"default","creationTimestamp":"2023-03-28T12:00:00Z"},
      "status":{"phase":"Active"}})");
  t = Table(Res("", "namespaces"), {&ns});
  EXPECT_EQ(ColumnNames(t), (std::vector<std::string>{"Name", "Status", "Age"}));
  EXPECT_EQ(t["rows"][0]["cells"], json::parse(R"(["default","Active","400d"])"));

  auto cm = Parse<core::ConfigMap>(
      R"({"metadata":{"name":"cfg"},"data":{"a":"1","b":"2"},"binaryData":{"c":"AA=="}})");
  t = Table(Res("", "configmaps"), {&cm});
  EXPECT_EQ(t["rows"][0]["cells"], json::parse(R"(["cfg",3,"<unknown>"])"));
  auto secret = Parse<core::Secret>(R"({"metadata":{"name":"s"},"type":"Opaque","data":{"k":"dg=="}})");
  t = Table(Res("", "secrets"), {&secret});
  EXPECT_EQ(ColumnNames(t), (std::vector<std::string>{"Name", "Type", "Data", "Age"}));
  EXPECT_EQ(t["rows"][0]["cells"], json::parse(R"(["s","Opaque",1,"<unknown>"])"));

  auto ep = Parse<core::Endpoints>(R"({"metadata":{"name":"web"},"subsets":[{"addresses":[
      {"ip":"10.0.0.1"},{"ip":"10.0.0.2"},{"ip":"10.0.0.3"},{"ip":"10.0.0.4"}],"ports":[{"port":80}]}]})");
  t = Table(Res("", "endpoints"), {&ep});
  EXPECT_EQ(t["rows"][0]["cells"][1], "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...");
  auto none = Parse<core::Endpoints>(R"({"metadata":{"name":"empty"}})");
  t = Table(Res("", "endpoints"), {&none});
  EXPECT_EQ(t["rows"][0]["cells"][1], "<none>");

  auto ev = Parse<core::Event>(R"({"metadata":{"name":"web-1.17c","namespace":"default"},
    "involvedObject":{"kind":"Pod","name":"web-1","fieldPath":"spec.containers{nginx}"},
    "reason":"Pulled","message":"Container image pulled\n","type":"Normal","source":{"component":"kubelet","host":"node-1"},
    "firstTimestamp":"2024-05-01T11:00:00Z","lastTimestamp":"2024-05-01T11:58:00Z","count":3})");
  t = Table(Res("", "events"), {&ev});
  EXPECT_EQ(ColumnNames(t),
            (std::vector<std::string>{"Last Seen", "Type", "Reason", "Object", "Subobject*", "Source*",
                                      "Message", "First Seen*", "Count*", "Name*"}));
  EXPECT_EQ(t["rows"][0]["cells"],
            json::parse(R"(["2m","Normal","Pulled","pod/web-1","spec.containers{nginx}",
      "kubelet, node-1","Container image pulled","60m",3,"web-1.17c"])"));

  auto sa = Parse<core::ServiceAccount>(R"({"metadata":{"name":"default"}})");
  t = Table(Res("", "serviceaccounts"), {&sa});
  EXPECT_EQ(ColumnNames(t), (std::vector<std::string>{"Name", "Age"}));
}

TEST(TableTest, OtherGroups) {
  auto rb = Parse<k8s::io::api::rbac::v1::RoleBinding>(R"({"metadata":{"name":"rb"},
    "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},
    "subjects":[{"kind":"User","name":"alice"},{"kind":"ServiceAccount","name":"sa","namespace":"ns"},
                {"kind":"Group","name":"devs"}]})");
  json t = Table(Res("rbac.authorization.k8s.io", "rolebindings"), {&rb});
  EXPECT_EQ(t["rows"][0]["cells"],
            json::parse(R"(["rb","ClusterRole/view","<unknown>","alice","devs","ns:sa"])"));
  auto role = Parse<k8s::io::api::rbac::v1::ClusterRole>(R"({"metadata":{"name":"view",
      "creationTimestamp":"2024-05-01T10:00:00Z"}})");
  t = Table(Res("rbac.authorization.k8s.io", "clusterroles"), {&role});
  EXPECT_EQ(t["columnDefinitions"][1]["type"], "date");
  EXPECT_EQ(t["rows"][0]["cells"], json::parse(R"(["view","2024-05-01T10:00:00Z"])"));
}

TEST(TableTest, GenericFallbackAndTypeMismatch) {
  // A kind without an upstream printer here gets NAME AGE.
  const ResourceInfo& pvc = Res("", "persistentvolumeclaims");
  auto claim = Parse<core::PersistentVolumeClaim>(
      R"({"metadata":{"name":"data","creationTimestamp":"2024-05-01T11:59:30Z"}})");
  json t = Table(pvc, {&claim});
  EXPECT_EQ(ColumnNames(t), (std::vector<std::string>{"Name", "Age"}));
  EXPECT_EQ(t["rows"][0]["cells"], json::parse(R"(["data","30s"])"));

  core::Pod pod;
  TableOptions o;
  o.now = kNow;
  auto bad = ToTable(pvc, {&pod}, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kBadRequest);

  // Every resource of the table has columns, and every printer fills each of them.
  for (const ResourceInfo& r : AllResources()) EXPECT_FALSE(TableColumns(r).empty()) << r.resource;
  t = Table(Res("", "pods"), {});
  EXPECT_TRUE(t["rows"].is_null() || t["rows"].empty());
}

// Writes sample tables next to the documents of openapi_test's dump, for a check with kubectl.
TEST(TableTest, DumpForManualCheck) {
  const char* dir = std::getenv("CK_DISCOVERY_DUMP_DIR");
  if (dir == nullptr) GTEST_SKIP() << "CK_DISCOVERY_DUMP_DIR not set";
  core::Pod a = Parse<core::Pod>(R"({"metadata":{"name":"web-1","namespace":"default","labels":{"app":"web"},
      "creationTimestamp":"2024-05-01T11:00:00Z"},"spec":{"nodeName":"node-1","containers":[{"name":"c"}]},
      "status":{"phase":"Running","podIPs":[{"ip":"10.244.0.10"}],"containerStatuses":[{"name":"c","ready":true,
      "restartCount":4,"state":{"running":{}},"lastState":{"terminated":{"exitCode":1,"finishedAt":"2024-05-01T11:55:00Z"}}}]}})");
  core::Pod b = Parse<core::Pod>(
      R"({"metadata":{"name":"job-x","namespace":"batch","creationTimestamp":"2024-04-29T11:00:00Z"},
      "spec":{"containers":[{"name":"c"}]},"status":{"phase":"Succeeded","containerStatuses":[{"name":"c",
      "state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}})");
  TableOptions o;
  o.now = std::chrono::system_clock::now();
  o.resource_version = "1011";
  auto t = ToTable(Res("", "pods"), {&a, &b}, o);
  ASSERT_TRUE(t.ok());
  std::filesystem::create_directories(std::filesystem::path(dir) / "tables");
  std::ofstream(std::filesystem::path(dir) / "tables" / "pods") << *t;
}

}  // namespace
}  // namespace ck::apiserver::discovery
