#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <fstream>

#include "common/pki/pki.h"
#include "common/pki/testing/command.h"

namespace ck::pki {
namespace {

using ck::testing::RunCommand;
using ck::testing::TempDir;
using ::testing::HasSubstr;

// An independent base64 decoder for the test, so the writer's encoder is not checked by itself.
std::string DecodeBase64(const std::string& in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    size_t v = kAlphabet.find(c);
    if (v == std::string::npos) return "<bad base64>";
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

struct Fixture {
  KeyAndCert ca;
  KeyAndCert client;
};

Fixture MakeAdmin() {
  CertSpec ca_spec;
  ca_spec.common_name = "kubernetes-ca";
  auto ca = CreateCA(ca_spec);
  CertSpec spec;
  spec.common_name = "kubernetes-admin";
  spec.organizations = {"system:masters"};
  spec.client_auth = true;
  auto client = IssueCert(spec, ca.value());
  return {ca.value(), client.value()};
}

TEST(Kubeconfig, HasKubeadmLayoutAndEmbeddedData) {
  Fixture f = MakeAdmin();
  std::string text = Kubeconfig("https://127.0.0.1:6443", f.ca.cert_pem, f.client);
  YAML::Node root = YAML::Load(text);
  EXPECT_EQ(root["apiVersion"].as<std::string>(), "v1");
  EXPECT_EQ(root["kind"].as<std::string>(), "Config");
  EXPECT_EQ(root["current-context"].as<std::string>(), "clearkube");
  ASSERT_EQ(root["clusters"].size(), 1u);
  EXPECT_EQ(root["clusters"][0]["name"].as<std::string>(), "clearkube");
  EXPECT_EQ(root["clusters"][0]["cluster"]["server"].as<std::string>(), "https://127.0.0.1:6443");
  EXPECT_EQ(
      DecodeBase64(root["clusters"][0]["cluster"]["certificate-authority-data"].as<std::string>()),
      f.ca.cert_pem);
  ASSERT_EQ(root["contexts"].size(), 1u);
  EXPECT_EQ(root["contexts"][0]["name"].as<std::string>(), "clearkube");
  EXPECT_EQ(root["contexts"][0]["context"]["cluster"].as<std::string>(), "clearkube");
  EXPECT_EQ(root["contexts"][0]["context"]["user"].as<std::string>(), "kubernetes-admin");
  ASSERT_EQ(root["users"].size(), 1u);
  EXPECT_EQ(root["users"][0]["name"].as<std::string>(), "kubernetes-admin");
  EXPECT_EQ(DecodeBase64(root["users"][0]["user"]["client-certificate-data"].as<std::string>()),
            f.client.cert_pem);
  EXPECT_EQ(DecodeBase64(root["users"][0]["user"]["client-key-data"].as<std::string>()),
            f.client.key_pem);
}

TEST(Kubeconfig, RoundTripsThroughParseKubeconfig) {
  Fixture f = MakeAdmin();
  auto parsed = ParseKubeconfig(Kubeconfig("https://apiserver:6443", f.ca.cert_pem, f.client));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->current_context, "clearkube");
  EXPECT_EQ(parsed->server, "https://apiserver:6443");
  EXPECT_EQ(parsed->ca_pem, f.ca.cert_pem);
  EXPECT_EQ(parsed->client.cert_pem, f.client.cert_pem);
  EXPECT_EQ(parsed->client.key_pem, f.client.key_pem);
}

TEST(Kubeconfig, KubectlReadsIt) {
  Fixture f = MakeAdmin();
  TempDir dir;
  std::ofstream(dir.File("k.yaml"))
      << Kubeconfig("https://127.0.0.1:6443", f.ca.cert_pem, f.client);
  auto context = RunCommand({"kubectl", "config", "view", "--kubeconfig", dir.File("k.yaml"),
                             "--raw", "-o", "jsonpath={.current-context}"});
  ASSERT_EQ(context.exit_code, 0) << context.err;
  EXPECT_EQ(context.out, "clearkube");
  auto server = RunCommand({"kubectl", "config", "view", "--kubeconfig", dir.File("k.yaml"),
                            "--minify", "--raw", "-o", "jsonpath={.clusters[0].cluster.server}"});
  ASSERT_EQ(server.exit_code, 0) << server.err;
  EXPECT_EQ(server.out, "https://127.0.0.1:6443");
  auto user = RunCommand({"kubectl", "config", "view", "--kubeconfig", dir.File("k.yaml"),
                          "--minify", "--raw", "-o", "jsonpath={.users[0].user.client-key-data}"});
  ASSERT_EQ(user.exit_code, 0) << user.err;
  EXPECT_EQ(DecodeBase64(user.out), f.client.key_pem);
}

TEST(ParseKubeconfig, ReportsBrokenFiles) {
  Fixture f = MakeAdmin();
  std::string good = Kubeconfig("https://127.0.0.1:6443", f.ca.cert_pem, f.client);
  EXPECT_EQ(ParseKubeconfig("{{{").status().code(), ck::Code::kInvalid);
  EXPECT_EQ(ParseKubeconfig("- a\n- b\n").status().code(), ck::Code::kInvalid);

  YAML::Node no_key = YAML::Load(good);
  no_key["users"][0]["user"].remove("client-key-data");
  auto r = ParseKubeconfig(YAML::Dump(no_key));
  EXPECT_EQ(r.status().code(), ck::Code::kInvalid);
  EXPECT_THAT(r.status().message(), HasSubstr("client-key-data"));

  YAML::Node bad_b64 = YAML::Load(good);
  bad_b64["clusters"][0]["cluster"]["certificate-authority-data"] = "!!!!";
  r = ParseKubeconfig(YAML::Dump(bad_b64));
  EXPECT_EQ(r.status().code(), ck::Code::kInvalid);
  EXPECT_THAT(r.status().message(), HasSubstr("certificate-authority-data"));

  YAML::Node other_context = YAML::Load(good);
  other_context["current-context"] = "elsewhere";
  r = ParseKubeconfig(YAML::Dump(other_context));
  EXPECT_EQ(r.status().code(), ck::Code::kInvalid);
  EXPECT_THAT(r.status().message(), HasSubstr("elsewhere"));
}

}  // namespace
}  // namespace ck::pki
