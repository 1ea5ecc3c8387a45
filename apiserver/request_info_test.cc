#include "apiserver/request_info.h"

#include <gtest/gtest.h>

namespace ck::apiserver {
namespace {

struct Case {
  const char* method;
  const char* target;
  bool resource;
  const char* verb;
  const char* group;
  const char* version;
  const char* ns;
  const char* res;
  const char* sub;
  const char* name;
};

TEST(RequestInfoTest, Table) {
  const Case cases[] = {
      {"GET", "/api/v1/namespaces/default/pods", true, "list", "", "v1", "default", "pods", "", ""},
      {"GET", "/api/v1/namespaces/default/pods?watch=true", true, "watch", "", "v1", "default", "pods", "", ""},
      {"GET", "/api/v1/namespaces/default/pods?watch=1&resourceVersion=5", true, "watch", "", "v1", "default", "pods", "", ""},
      {"GET", "/api/v1/namespaces/default/pods?watch=false", true, "list", "", "v1", "default", "pods", "", ""},
      {"GET", "/api/v1/pods", true, "list", "", "v1", "", "pods", "", ""},
      {"GET", "/api/v1/namespaces/default/pods/web", true, "get", "", "v1", "default", "pods", "", "web"},
      {"GET", "/api/v1/namespaces/default/pods/web/log?follow=true", true, "get", "", "v1", "default", "pods", "log", "web"},
      {"POST", "/api/v1/namespaces/default/pods/web/exec?command=ls", true, "create", "", "v1", "default", "pods", "exec", "web"},
      {"POST", "/api/v1/namespaces/default/pods/web/binding", true, "create", "", "v1", "default", "pods", "binding", "web"},
      {"PUT", "/api/v1/namespaces/default/pods/web/status", true, "update", "", "v1", "default", "pods", "status", "web"},
      {"PATCH", "/apis/apps/v1/namespaces/x/deployments/web/scale", true, "patch", "apps", "v1", "x", "deployments", "scale", "web"},
      {"POST", "/apis/apps/v1/namespaces/x/deployments", true, "create", "apps", "v1", "x", "deployments", "", ""},
      {"DELETE", "/api/v1/namespaces/x/pods", true, "deletecollection", "", "v1", "x", "pods", "", ""},
      {"DELETE", "/api/v1/namespaces/x/pods/p", true, "delete", "", "v1", "x", "pods", "", "p"},
      {"GET", "/api/v1/nodes", true, "list", "", "v1", "", "nodes", "", ""},
      {"GET", "/api/v1/nodes/node-1", true, "get", "", "v1", "", "nodes", "", "node-1"},
      {"PATCH", "/api/v1/nodes/node-1/status", true, "patch", "", "v1", "", "nodes", "status", "node-1"},
      // The namespace object itself.
      {"GET", "/api/v1/namespaces", true, "list", "", "v1", "", "namespaces", "", ""},
      {"GET", "/api/v1/namespaces/kube-system", true, "get", "", "v1", "kube-system", "namespaces", "", "kube-system"},
      {"PUT", "/api/v1/namespaces/x/finalize", true, "update", "", "v1", "x", "namespaces", "finalize", "x"},
      {"DELETE", "/api/v1/namespaces/x", true, "delete", "", "v1", "x", "namespaces", "", "x"},
      // Deprecated watch prefix.
      {"GET", "/api/v1/watch/namespaces/x/pods", true, "watch", "", "v1", "x", "pods", "", ""},
      {"GET", "/api/v1/watch/namespaces/x/pods/p", true, "watch", "", "v1", "x", "pods", "", "p"},
      {"POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", true, "create", "authorization.k8s.io", "v1", "", "selfsubjectaccessreviews", "", ""},
      {"POST", "/api/v1/namespaces/kube-system/serviceaccounts/default/token", true, "create", "", "v1", "kube-system", "serviceaccounts", "token", "default"},
      // Non-resource requests.
      {"GET", "/healthz", false, "get", "", "", "", "", "", ""},
      {"GET", "/version", false, "get", "", "", "", "", "", ""},
      {"GET", "/api", false, "get", "", "", "", "", "", ""},
      {"GET", "/apis", false, "get", "", "", "", "", "", ""},
      {"GET", "/apis/apps", false, "get", "", "", "", "", "", ""},
      {"GET", "/api/v1", false, "get", "", "v1", "", "", "", ""},
      {"GET", "/apis/apps/v1", false, "get", "apps", "v1", "", "", "", ""},
      {"GET", "/openapi/v3/apis/apps/v1", false, "get", "", "", "", "", "", ""},
      {"POST", "/metrics", false, "post", "", "", "", "", "", ""},
  };
  for (const auto& c : cases) {
    std::string target = c.target;
    auto q = target.find('?');
    auto query = net::Query::Parse(q == std::string::npos ? "" : target.substr(q + 1));
    ASSERT_TRUE(query);
    auto info = ParseRequestInfo(c.method, target.substr(0, q), *query);
    ASSERT_TRUE(info.ok()) << c.target << ": " << info.status().ToString();
    SCOPED_TRACE(std::string(c.method) + " " + c.target);
    EXPECT_EQ(info->is_resource_request, c.resource);
    EXPECT_EQ(info->verb, c.verb);
    EXPECT_EQ(info->api_group, c.group);
    EXPECT_EQ(info->api_version, c.version);
    EXPECT_EQ(info->namespace_, c.ns);
    EXPECT_EQ(info->resource, c.res);
    EXPECT_EQ(info->subresource, c.sub);
    EXPECT_EQ(info->name, c.name);
  }
}

TEST(RequestInfoTest, Malformed) {
  net::Query q;
  EXPECT_EQ(ParseRequestInfo("GET", "/api/v1/namespaces/%zz/pods", q).status().code(), Code::kBadRequest);
  EXPECT_EQ(ParseRequestInfo("GET", "/api/v1/namespaces/x/pods/p/status/extra", q).status().code(), Code::kBadRequest);
  EXPECT_EQ(ParseRequestInfo("GET", "/api/v1/watch", q).status().code(), Code::kBadRequest);
}

}  // namespace
}  // namespace ck::apiserver
