// BuildKubeletRequest and ContainerFor: which container, which node address and port, how the
// pods/log|exec|attach|portforward query becomes the kubelet's, upstream's refusals, and which
// client headers go on to the kubelet (never credentials or impersonation).
#include "apiserver/server/kubelet_proxy.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ck::apiserver {
namespace {

namespace v1 = k8s::io::api::core::v1;

v1::Pod MakePod(const std::vector<std::string>& containers, const std::vector<std::string>& init = {}) {
  v1::Pod p;
  p.mutable_metadata()->set_name("web");
  p.mutable_metadata()->set_namespace_("default");
  p.mutable_spec()->set_nodename("node-1");
  p.mutable_status()->set_phase("Running");
  for (const std::string& c : containers) p.mutable_spec()->add_containers()->set_name(c);
  for (const std::string& c : init) p.mutable_spec()->add_initcontainers()->set_name(c);
  return p;
}

v1::Node MakeNode() {
  v1::Node n;
  n.mutable_metadata()->set_name("node-1");
  auto add = [&](const std::string& type, const std::string& address) {
    auto* a = n.mutable_status()->add_addresses();
    a->set_type(type);
    a->set_address(address);
  };
  add("InternalIP", "10.0.0.7");
  add("ExternalIP", "203.0.113.7");
  add("Hostname", "node-1.example");
  return n;
}

RequestInfo Info(const std::string& subresource) {
  RequestInfo i;
  i.is_resource_request = true;
  i.api_prefix = "api";
  i.api_version = "v1";
  i.namespace_ = "default";
  i.resource = "pods";
  i.name = "web";
  i.subresource = subresource;
  return i;
}

net::Query Q(std::string_view raw) {
  std::optional<net::Query> q = net::Query::Parse(raw);
  EXPECT_TRUE(q.has_value()) << raw;
  return q ? *q : net::Query();
}

net::Headers WebSocketHeaders() {
  return net::Headers{{"Connection", "Upgrade"},
                      {"Upgrade", "websocket"},
                      {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                      {"Sec-WebSocket-Version", "13"},
                      {"Sec-WebSocket-Protocol", "v5.channel.k8s.io"}};
}

// The request line's target, split into path and parsed query.
struct Target {
  std::string method, path;
  net::Query query;
};
Target TargetOf(const std::string& request) {
  const std::string line = request.substr(0, request.find("\r\n"));
  const size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  EXPECT_EQ(line.substr(sp2), " HTTP/1.1");
  const std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const size_t qm = target.find('?');
  Target t;
  t.method = line.substr(0, sp1);
  t.path = target.substr(0, qm);
  if (qm != std::string::npos) t.query = Q(target.substr(qm + 1));
  return t;
}

std::vector<std::string> Strings(const std::vector<std::string_view>& v) { return {v.begin(), v.end()}; }

Result<KubeletRequest> Build(const std::string& sub, std::string_view query, const net::Headers& headers,
                             const v1::Pod& pod, const v1::Node& node = MakeNode(),
                             const std::vector<std::string>& types = kDefaultKubeletAddressTypes,
                             const std::string& method = "GET") {
  return BuildKubeletRequest(Info(sub), method, Q(query), headers, pod, node, types);
}

// ---- ContainerFor ----

TEST(ContainerForTest, SingleContainerNeedsNoName) {
  Result<std::string> c = ContainerFor(MakePod({"app"}), "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(*c, "app");
}

TEST(ContainerForTest, NamedContainerMustExistAmongAllKinds) {
  v1::Pod pod = MakePod({"a", "b"}, {"init"});
  pod.mutable_spec()->add_ephemeralcontainers()->mutable_ephemeralcontainercommon()->set_name("debugger");
  for (const char* name : {"a", "b", "init", "debugger"}) {
    Result<std::string> c = ContainerFor(pod, name);
    ASSERT_TRUE(c.ok()) << name << ": " << c.status().ToString();
    EXPECT_EQ(*c, name);
  }
  Result<std::string> bad = ContainerFor(pod, "nope");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kBadRequest);
  EXPECT_EQ(bad.status().message(), "container nope is not valid for pod web");
}

TEST(ContainerForTest, SeveralContainersNeedANameOrTheDefaultAnnotation) {
  v1::Pod pod = MakePod({"a", "b"});
  Result<std::string> c = ContainerFor(pod, "");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kBadRequest);
  EXPECT_EQ(c.status().message(), "a container name must be specified for pod web, choose one of: [a b]");

  v1::Pod with_init = MakePod({"a", "b"}, {"setup"});
  EXPECT_EQ(ContainerFor(with_init, "").status().message(),
            "a container name must be specified for pod web, choose one of: [a b] or one of the init containers: [setup]");

  (*pod.mutable_metadata()->mutable_annotations())["kubectl.kubernetes.io/default-container"] = "b";
  c = ContainerFor(pod, "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(*c, "b");
  // An explicit name wins over the annotation.
  EXPECT_EQ(*ContainerFor(pod, "a"), "a");
  // An annotation naming no container is ignored.
  (*pod.mutable_metadata()->mutable_annotations())["kubectl.kubernetes.io/default-container"] = "gone";
  EXPECT_EQ(ContainerFor(pod, "").status().message(),
            "a container name must be specified for pod web, choose one of: [a b]");
}

// ---- Address and port ----

TEST(BuildKubeletRequestTest, AddressFollowsThePreferredTypes) {
  v1::Pod pod = MakePod({"app"});
  Result<KubeletRequest> r = Build("log", "", {}, pod);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->host, "node-1.example");  // Hostname comes first by default

  r = Build("log", "", {}, pod, MakeNode(), {"InternalIP", "Hostname"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->host, "10.0.0.7");
  r = Build("log", "", {}, pod, MakeNode(), {"InternalDNS", "ExternalIP"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->host, "203.0.113.7");
  EXPECT_NE(r->request.find("\r\nHost: 203.0.113.7:10250\r\n"), std::string::npos) << r->request;

  r = Build("log", "", {}, pod, MakeNode(), {"InternalDNS"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("no preferred addresses found"), std::string::npos) << r.status().message();

  // An address of a preferred type that is empty is skipped.
  v1::Node node = MakeNode();
  node.mutable_status()->mutable_addresses(2)->set_address("");
  r = Build("log", "", {}, pod, node);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->host, "10.0.0.7");
}

TEST(BuildKubeletRequestTest, PortIs10250UnlessTheNodeSaysOtherwise) {
  v1::Pod pod = MakePod({"app"});
  Result<KubeletRequest> r = Build("log", "", {}, pod);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->port, 10250);
  v1::Node node = MakeNode();
  node.mutable_status()->mutable_daemonendpoints()->mutable_kubeletendpoint()->set_port(10350);
  r = Build("log", "", {}, pod, node);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->port, 10350);
  EXPECT_NE(r->request.find("\r\nHost: node-1.example:10350\r\n"), std::string::npos) << r->request;
}

// ---- Query mapping ----

TEST(BuildKubeletRequestTest, ExecQueryBecomesTheKubeletsExecPath) {
  v1::Pod pod = MakePod({"app", "side"});
  Result<KubeletRequest> r =
      Build("exec", "container=side&command=sh&command=-c&command=echo%20a%26b&stdin=true&stdout=true&stderr=false&tty=true&pretty=1",
            WebSocketHeaders(), pod);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->upgrade);
  Target t = TargetOf(r->request);
  EXPECT_EQ(t.method, "GET");
  EXPECT_EQ(t.path, "/exec/default/web/side");
  EXPECT_EQ(Strings(t.query.GetAll("command")), (std::vector<std::string>{"sh", "-c", "echo a&b"}));
  EXPECT_EQ(t.query.GetOr("stdin", ""), "true");
  EXPECT_EQ(t.query.GetOr("stdout", ""), "true");
  EXPECT_EQ(t.query.GetOr("stderr", ""), "false");
  EXPECT_EQ(t.query.GetOr("tty", ""), "true");
  EXPECT_FALSE(t.query.Has("container"));
  EXPECT_FALSE(t.query.Has("pretty"));

  // SPDY clients POST; the method goes on unchanged.
  r = Build("exec", "command=ls&stdout=true", net::Headers{{"Connection", "Upgrade"}, {"Upgrade", "SPDY/3.1"}}, MakePod({"app"}),
            MakeNode(), kDefaultKubeletAddressTypes, "POST");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  t = TargetOf(r->request);
  EXPECT_EQ(t.method, "POST");
  EXPECT_EQ(t.path, "/exec/default/web/app");
  EXPECT_EQ(Strings(t.query.GetAll("command")), std::vector<std::string>{"ls"});
}

TEST(BuildKubeletRequestTest, ExecNeedsACommandAndAStream) {
  Result<KubeletRequest> r = Build("exec", "stdout=true", WebSocketHeaders(), MakePod({"app"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kBadRequest);
  EXPECT_EQ(r.status().message(), "you must specify at least one command for the container");
  r = Build("exec", "command=ls", WebSocketHeaders(), MakePod({"app"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "you must specify at least 1 of stdin, stdout, stderr");
}

TEST(BuildKubeletRequestTest, AttachKeepsItsStreamFlags) {
  Result<KubeletRequest> r = Build("attach", "stdin=true&stdout=true&tty=true", WebSocketHeaders(), MakePod({"app"}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Target t = TargetOf(r->request);
  EXPECT_EQ(t.path, "/attach/default/web/app");
  EXPECT_EQ(t.query.GetOr("stdin", ""), "true");
  EXPECT_EQ(t.query.GetOr("tty", ""), "true");
  EXPECT_FALSE(t.query.Has("command"));
}

TEST(BuildKubeletRequestTest, LogQueryBecomesContainerLogs) {
  v1::Pod pod = MakePod({"app", "side"});
  Result<KubeletRequest> r = Build("log",
                                   "container=side&follow=true&previous=true&timestamps=true&sinceSeconds=10"
                                   "&sinceTime=2026-01-01T00%3A00%3A00Z&tailLines=5&limitBytes=100&pretty=true&insecureSkipTLSVerifyBackend=true",
                                   net::Headers{{"Accept", "*/*"}}, pod);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->upgrade);
  Target t = TargetOf(r->request);
  EXPECT_EQ(t.path, "/containerLogs/default/web/side");
  EXPECT_EQ(t.query.GetOr("follow", ""), "true");
  EXPECT_EQ(t.query.GetOr("previous", ""), "true");
  EXPECT_EQ(t.query.GetOr("timestamps", ""), "true");
  EXPECT_EQ(t.query.GetOr("sinceSeconds", ""), "10");
  EXPECT_EQ(t.query.GetOr("sinceTime", ""), "2026-01-01T00:00:00Z");
  EXPECT_EQ(t.query.GetOr("tailLines", ""), "5");
  EXPECT_EQ(t.query.GetOr("limitBytes", ""), "100");
  EXPECT_EQ(t.query.entries().size(), 7u);
  EXPECT_NE(r->request.find("\r\nConnection: close\r\n"), std::string::npos) << r->request;
  EXPECT_NE(r->request.find("\r\nAccept: */*\r\n"), std::string::npos) << r->request;
  EXPECT_TRUE(r->request.ends_with("\r\n\r\n"));

  // No options: no query at all; several containers and no name: upstream's error.
  r = Build("log", "", {}, MakePod({"app"}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(TargetOf(r->request).path, "/containerLogs/default/web/app");
  EXPECT_EQ(r->request.find('?'), std::string::npos) << r->request;
  r = Build("log", "", {}, pod);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "a container name must be specified for pod web, choose one of: [app side]");
  r = Build("log", "container=nope", {}, pod);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "container nope is not valid for pod web");
}

TEST(BuildKubeletRequestTest, PortForwardPortsBecomePort) {
  Result<KubeletRequest> r = Build("portforward", "ports=8080&ports=9090",
                                   net::Headers{{"Connection", "Upgrade"}, {"Upgrade", "SPDY/3.1"},
                                                {"X-Stream-Protocol-Version", "portforward.k8s.io"}},
                                   MakePod({"a", "b"}), MakeNode(), kDefaultKubeletAddressTypes, "POST");
  ASSERT_TRUE(r.ok()) << r.status().ToString();  // no container needed, even with several
  Target t = TargetOf(r->request);
  EXPECT_EQ(t.path, "/portForward/default/web");
  EXPECT_EQ(Strings(t.query.GetAll("port")), (std::vector<std::string>{"8080", "9090"}));
  EXPECT_FALSE(t.query.Has("ports"));
}

// ---- Refusals ----

TEST(BuildKubeletRequestTest, StreamsWithoutAnUpgradeAreBadRequest) {
  for (const char* sub : {"exec", "attach", "portforward"}) {
    Result<KubeletRequest> r = Build(sub, "command=ls&stdout=true&ports=80", net::Headers{{"Accept", "*/*"}}, MakePod({"app"}));
    ASSERT_FALSE(r.ok()) << sub;
    EXPECT_EQ(r.status().code(), Code::kBadRequest) << sub;
    EXPECT_EQ(r.status().message(), "Upgrade request required") << sub;
  }
}

TEST(BuildKubeletRequestTest, CompletedPodsRefuseExecAttachAndPortForwardButNotLogs) {
  v1::Pod pod = MakePod({"app"});
  pod.mutable_status()->set_phase("Succeeded");
  Result<KubeletRequest> r = Build("exec", "command=ls&stdout=true", WebSocketHeaders(), pod);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kBadRequest);
  EXPECT_EQ(r.status().message(), "cannot exec into a container in a completed pod; current phase is Succeeded");
  pod.mutable_status()->set_phase("Failed");
  r = Build("attach", "stdout=true", WebSocketHeaders(), pod);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "cannot attach into a container in a completed pod; current phase is Failed");
  r = Build("portforward", "ports=80", WebSocketHeaders(), pod);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "cannot port forward into a completed pod; current phase is Failed");
  EXPECT_TRUE(Build("log", "", {}, pod).ok());
}

TEST(BuildKubeletRequestTest, PodWithoutANodeIsBadRequest) {
  v1::Pod pod = MakePod({"app"});
  pod.mutable_spec()->clear_nodename();
  for (const char* sub : {"exec", "attach", "portforward", "log"}) {
    Result<KubeletRequest> r = Build(sub, "command=ls&stdout=true", WebSocketHeaders(), pod, v1::Node());
    ASSERT_FALSE(r.ok()) << sub;
    EXPECT_EQ(r.status().code(), Code::kBadRequest) << sub;
    EXPECT_EQ(r.status().message(), "pod web does not have a host assigned") << sub;
  }
}

// ---- Headers ----

TEST(BuildKubeletRequestTest, CredentialsNeverGoOnButStreamNegotiationDoes) {
  net::Headers h = WebSocketHeaders();
  h.Add("Authorization", "Bearer secret-token");
  h.Add("Impersonate-User", "system:admin");
  h.Add("Impersonate-Group", "system:masters");
  h.Add("Impersonate-Uid", "1");
  h.Add("Impersonate-Extra-scopes", "all");
  h.Add("Cookie", "session=1");
  h.Add("Proxy-Authorization", "Basic eDp5");
  h.Add("X-Remote-User", "someone");
  h.Add("X-Forwarded-For", "192.0.2.1");
  h.Add("X-Stream-Protocol-Version", "v4.channel.k8s.io");
  h.Add("User-Agent", "kubectl/v1.33.0");
  Result<KubeletRequest> r = Build("exec", "command=ls&stdout=true", h, MakePod({"app"}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string& req = r->request;
  for (const char* secret : {"secret-token", "Authorization", "Impersonate", "system:admin", "system:masters", "Cookie",
                             "X-Remote-User", "someone", "X-Forwarded-For", "eDp5"}) {
    EXPECT_EQ(req.find(secret), std::string::npos) << secret << " was forwarded:\n" << req;
  }
  for (const char* line : {"\r\nUpgrade: websocket\r\n", "\r\nConnection: Upgrade\r\n",
                           "\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "\r\nSec-WebSocket-Version: 13\r\n",
                           "\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n",
                           "\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n", "\r\nUser-Agent: kubectl/v1.33.0\r\n",
                           "\r\nHost: node-1.example:10250\r\n"}) {
    EXPECT_NE(req.find(line), std::string::npos) << line << " missing:\n" << req;
  }
  // The client's own Connection header is replaced, not repeated.
  size_t connections = 0;
  for (size_t at = req.find("\r\nConnection:"); at != std::string::npos; at = req.find("\r\nConnection:", at + 1)) {
    ++connections;
  }
  EXPECT_EQ(connections, 1u) << req;
  EXPECT_TRUE(req.ends_with("\r\n\r\n"));

  // Several X-Stream-Protocol-Version values (SPDY clients send one per version) all go on.
  net::Headers spdy{{"Connection", "Upgrade"}, {"Upgrade", "SPDY/3.1"}, {"X-Stream-Protocol-Version", "v4.channel.k8s.io"},
                    {"X-Stream-Protocol-Version", "v3.channel.k8s.io"}, {"Authorization", "Bearer t"}};
  r = Build("exec", "command=ls&stdout=true", spdy, MakePod({"app"}), MakeNode(), kDefaultKubeletAddressTypes, "POST");
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->request.find("X-Stream-Protocol-Version: v4.channel.k8s.io\r\nX-Stream-Protocol-Version: v3.channel.k8s.io\r\n"),
            std::string::npos)
      << r->request;
  EXPECT_EQ(r->request.find("Bearer"), std::string::npos) << r->request;
}

// ---- BuildNodeProxyRequest ----

TEST(BuildNodeProxyRequestTest, TheRestOfThePathGoesToTheKubeletWithQueryAndBody) {
  RequestInfo i;
  i.is_resource_request = true;
  i.resource = "nodes";
  i.name = "node-1";
  i.subresource = "proxy";
  i.path = "/api/v1/nodes/node-1/proxy/containerLogs/default/web/main";
  i.parts = {"nodes", "node-1", "proxy", "containerLogs", "default", "web", "main"};
  net::Headers h{{"Authorization", "Bearer secret"}, {"User-Agent", "kubectl"}};
  Result<KubeletRequest> r = BuildNodeProxyRequest(i, "POST", "tailLines=2", h, "body!", MakeNode(),
                                                   {"InternalIP"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->host, "10.0.0.7");
  EXPECT_FALSE(r->upgrade);
  EXPECT_TRUE(r->request.starts_with("POST /containerLogs/default/web/main?tailLines=2 HTTP/1.1\r\n")) << r->request;
  EXPECT_NE(r->request.find("\r\nContent-Length: 5\r\n\r\nbody!"), std::string::npos) << r->request;
  EXPECT_NE(r->request.find("User-Agent: kubectl\r\n"), std::string::npos);
  EXPECT_EQ(r->request.find("Authorization"), std::string::npos);

  i.parts = {"nodes", "node-1", "proxy"};
  i.path = "/api/v1/nodes/node-1/proxy";
  r = BuildNodeProxyRequest(i, "GET", "", net::Headers{}, "", MakeNode(), {"InternalIP"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->request.starts_with("GET / HTTP/1.1\r\n")) << r->request;
}

}  // namespace
}  // namespace ck::apiserver
