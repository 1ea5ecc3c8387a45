#include "common/client/rest/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/pki/pki.h"
#include "tests/testutil/testutil.h"

namespace ck::client {
namespace {

using ::testing::HasSubstr;

TEST(LoadKubeconfig, InlineDataAsCkPkiWritesIt) {
  testutil::TestPki pki = testutil::MakeTestPki();
  testutil::TempDir dir;
  testutil::WriteFileOrDie(dir.File("admin.kubeconfig"),
                           pki::Kubeconfig("https://127.0.0.1:6443", pki.ca.cert_pem, pki.client));
  Result<RestConfig> c = LoadKubeconfig(dir.File("admin.kubeconfig"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://127.0.0.1:6443");
  EXPECT_EQ(c->ca_pem, pki.ca.cert_pem);
  EXPECT_EQ(c->cert_pem, pki.client.cert_pem);
  EXPECT_EQ(c->key_pem, pki.client.key_pem);
  EXPECT_TRUE(c->bearer_token.empty());
  EXPECT_EQ(c->qps, 5);
  EXPECT_EQ(c->burst, 10);
}

TEST(LoadKubeconfig, FilePathsRelativeToTheKubeconfigAndContextSelection) {
  testutil::TestPki pki = testutil::MakeTestPki();
  testutil::TempDir dir;
  testutil::WriteFileOrDie(dir.File("ca.crt"), pki.ca.cert_pem);
  testutil::WriteFileOrDie(dir.File("client.crt"), pki.client.cert_pem);
  testutil::WriteFileOrDie(dir.File("client.key"), pki.client.key_pem);
  testutil::WriteFileOrDie(dir.File("token"), "file-token\n");
  testutil::WriteFileOrDie(dir.File("config"), R"(apiVersion: v1
kind: Config
clusters:
- name: one
  cluster:
    server: https://127.0.0.1:7443
    certificate-authority: ca.crt
    tls-server-name: kubernetes
- name: two
  cluster:
    server: https://[::1]:8443/prefix/
    insecure-skip-tls-verify: true
users:
- name: cert
  user:
    client-certificate: client.crt
    client-key: )" + dir.File("client.key") + R"(
- name: tok
  user:
    token: s3cret
- name: tokfile
  user:
    tokenFile: token
contexts:
- name: a
  context: {cluster: one, user: cert}
- name: b
  context: {cluster: two, user: tok}
- name: c
  context: {cluster: one, user: tokfile}
current-context: a
)");
  Result<RestConfig> a = LoadKubeconfig(dir.File("config"));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->server, "https://127.0.0.1:7443");
  EXPECT_EQ(a->ca_pem, pki.ca.cert_pem);
  EXPECT_EQ(a->cert_pem, pki.client.cert_pem);
  EXPECT_EQ(a->key_pem, pki.client.key_pem);
  EXPECT_EQ(a->tls_server_name, "kubernetes");

  Result<RestConfig> b = LoadKubeconfig(dir.File("config"), "b");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->server, "https://[::1]:8443/prefix/");
  EXPECT_TRUE(b->insecure_skip_tls_verify);
  EXPECT_EQ(b->bearer_token, "s3cret");
  EXPECT_TRUE(b->cert_pem.empty());

  Result<RestConfig> c = LoadKubeconfig(dir.File("config"), "c");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->bearer_token_file, dir.File("token"));
}

TEST(LoadKubeconfig, ErrorsNameTheFileAndTheProblem) {
  testutil::TempDir dir;
  auto load = [&](const std::string& yaml) {
    testutil::WriteFileOrDie(dir.File("k"), yaml);
    return LoadKubeconfig(dir.File("k")).status();
  };
  Status s = load("current-context: x\ncontexts: []\n");
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_THAT(s.message(), HasSubstr("kubeconfig " + dir.File("k") + ": context \"x\" not found"));
  s = load(
      "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
      "clusters:\n- name: c\n  cluster: {server: https://h:1}\n");
  EXPECT_THAT(s.message(), HasSubstr("user \"u\" not found"));
  s = load(
      "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
      "clusters:\n- name: c\n  cluster: {server: https://h:1, certificate-authority-data: '%%%'}\n");
  EXPECT_THAT(s.message(), HasSubstr("certificate-authority-data: not base64"));
  s = load(
      "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
      "clusters:\n- name: c\n  cluster: {server: https://h:1}\n"
      "users:\n- name: u\n  user:\n    exec: {command: aws}\n");
  EXPECT_THAT(s.message(), HasSubstr("not supported"));
  s = load(
      "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
      "clusters:\n- name: c\n  cluster: {server: https://h:1, certificate-authority: missing.crt}\n");
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("missing.crt"));
  s = load(
      "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
      "clusters:\n- name: c\n  cluster: {server: ftp://h:1}\n");
  EXPECT_THAT(s.message(), HasSubstr("scheme"));
  s = load("{ not yaml");
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(LoadKubeconfig(dir.File("absent")).status().code(), Code::kNotFound);
}

TEST(ParseServerUrl, SchemesHostsPortsAndPrefixes) {
  Result<ServerUrl> u = ParseServerUrl("https://127.0.0.1:6443");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 6443);
  EXPECT_EQ(u->path_prefix, "");
  u = ParseServerUrl("http://localhost/k8s/");
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->path_prefix, "/k8s");
  u = ParseServerUrl("https://[::1]:8443");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(ParseServerUrl("https://api.example.com")->port, 443);
  EXPECT_FALSE(ParseServerUrl("127.0.0.1:6443").ok());
  EXPECT_FALSE(ParseServerUrl("https://:6443").ok());
  EXPECT_FALSE(ParseServerUrl("https://h:99999").ok());
  EXPECT_FALSE(ParseServerUrl("https://h:").ok());
}

TEST(MakeUserAgent, ClientGoShape) {
  EXPECT_THAT(MakeUserAgent("ck-scheduler", "v1.32.0"),
              ::testing::MatchesRegex(R"(ck-scheduler/v1\.32\.0 \(linux/[a-z0-9]+\) clearkube)"));
}

}  // namespace
}  // namespace ck::client
