// Integration: the built `ck` binary (build/bin/ck, found through CK_BIN_DIR) writes a PKI folder
// that the openssl and kubectl command-line tools accept, keeps its CA across runs, and fails bad
// input with one line on stderr.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "common/pki/pki.h"
#include "common/pki/testing/command.h"

namespace ck {
namespace {

using ck::testing::BackgroundProcess;
using ck::testing::CommandResult;
using ck::testing::Lines;
using ck::testing::ReadFile;
using ck::testing::RunCommand;
using ck::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

std::string CkPath() {
  const char* bin = std::getenv("CK_BIN_DIR");
  return std::string(bin != nullptr ? bin : "build/bin") + "/ck";
}

CommandResult Ck(std::vector<std::string> args) {
  args.insert(args.begin(), CkPath());
  return RunCommand(args);
}

std::string DecodeBase64(const std::string& in) {
  auto r = RunCommand({"sh", "-c", "printf %s \"$0\" | base64 -d", in});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

class CkPkiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(CkPath())) << CkPath() << " is not built";
  }
  std::string Dir() { return dir_.File("pki"); }
  std::string File(const std::string& name) { return dir_.File("pki/" + name); }

  TempDir dir_;
};

TEST_F(CkPkiTest, WritesAPkiThatOpensslAndKubectlAccept) {
  CommandResult r = Ck({"pki", "--dir", Dir(), "--nodes", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");

  for (const char* cert : {"ca.crt", "apiserver.crt", "apiserver-kubelet-client.crt",
                           "kubelet-node-1.crt", "kubelet-node-2.crt"}) {
    CommandResult v = RunCommand({"openssl", "verify", "-CAfile", File("ca.crt"), File(cert)});
    EXPECT_EQ(v.exit_code, 0) << cert << ": " << v.out << v.err;
  }
  CommandResult text =
      RunCommand({"openssl", "x509", "-noout", "-text", "-in", File("apiserver.crt")});
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_THAT(text.out,
              HasSubstr("DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, "
                        "DNS:kubernetes.default.svc.cluster.local, DNS:apiserver, DNS:localhost, "
                        "IP Address:127.0.0.1, IP Address:10.96.0.1"));
  CommandResult node = RunCommand({"openssl", "x509", "-noout", "-subject", "-ext",
                                   "subjectAltName", "-in", File("kubelet-node-2.crt")});
  EXPECT_THAT(node.out, HasSubstr("subject=O = system:nodes, CN = system:node:node-2"));
  EXPECT_THAT(node.out, HasSubstr("DNS:node-2, IP Address:127.0.1.2"));

  for (const char* kc : {"admin", "scheduler", "controller-manager", "kube-proxy", "kubelet-node-1",
                         "kubelet-node-2"}) {
    std::string path = File(std::string(kc) + ".kubeconfig");
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << path;
    CommandResult context = RunCommand({"kubectl", "config", "view", "--kubeconfig", path, "--raw",
                                        "-o", "jsonpath={.current-context}"});
    EXPECT_EQ(context.exit_code, 0) << context.err;
    EXPECT_EQ(context.out, "clearkube") << kc;
    YAML::Node root = YAML::LoadFile(path);
    EXPECT_EQ(root["clusters"][0]["cluster"]["server"].as<std::string>(), "https://127.0.0.1:6443");
    EXPECT_EQ(DecodeBase64(
                  root["clusters"][0]["cluster"]["certificate-authority-data"].as<std::string>()),
              ReadFile(File("ca.crt")));
  }
  // The admin's client certificate from the kubeconfig, checked by openssl as a separate file.
  YAML::Node admin = YAML::LoadFile(File("admin.kubeconfig"));
  std::string admin_crt = dir_.File("admin.crt");
  {
    std::ofstream f(admin_crt);
    f << DecodeBase64(admin["users"][0]["user"]["client-certificate-data"].as<std::string>());
  }
  CommandResult v = RunCommand({"openssl", "verify", "-CAfile", File("ca.crt"), admin_crt});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  CommandResult subject = RunCommand({"openssl", "x509", "-noout", "-subject", "-in", admin_crt});
  EXPECT_THAT(subject.out, HasSubstr("subject=O = system:masters, CN = kubernetes-admin"));
}

TEST_F(CkPkiTest, RerunKeepsTheCaAndMoreNodesAddFiles) {
  ASSERT_EQ(Ck({"pki", "--dir", Dir(), "--nodes", "1"}).exit_code, 0);
  std::string ca_crt = ReadFile(File("ca.crt")), ca_key = ReadFile(File("ca.key"));
  std::string apiserver = ReadFile(File("apiserver.crt"));

  CommandResult again = Ck({"pki", "--dir", Dir(), "--nodes", "1"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("0 written"));
  EXPECT_EQ(ReadFile(File("ca.crt")), ca_crt);
  EXPECT_EQ(ReadFile(File("ca.key")), ca_key);

  CommandResult more = Ck({"pki", "--dir", Dir(), "--nodes", "3"});
  ASSERT_EQ(more.exit_code, 0) << more.err;
  EXPECT_EQ(ReadFile(File("ca.crt")), ca_crt);
  EXPECT_EQ(ReadFile(File("apiserver.crt")), apiserver);
  std::vector<std::string> written;
  for (const std::string& line : Lines(more.out)) {
    if (line.starts_with("  written  ")) written.push_back(line.substr(11));
  }
  EXPECT_THAT(written, UnorderedElementsAre("kubelet-node-2.crt", "kubelet-node-2.key",
                                            "kubelet-node-2.kubeconfig", "kubelet-node-3.crt",
                                            "kubelet-node-3.key", "kubelet-node-3.kubeconfig"));
  CommandResult v =
      RunCommand({"openssl", "verify", "-CAfile", File("ca.crt"), File("kubelet-node-3.crt")});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST_F(CkPkiTest, KeyFilesAreSecretAndMatchTheirCerts) {
  ASSERT_EQ(Ck({"pki", "--dir", Dir(), "--nodes", "1"}).exit_code, 0);
  for (const char* stem : {"ca", "apiserver", "apiserver-kubelet-client", "kubelet-node-1"}) {
    std::string key = File(std::string(stem) + ".key"), crt = File(std::string(stem) + ".crt");
    struct stat st;
    ASSERT_EQ(stat(key.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << key;
    CommandResult from_key = RunCommand({"openssl", "pkey", "-in", key, "-pubout"});
    CommandResult from_cert = RunCommand({"openssl", "x509", "-in", crt, "-noout", "-pubkey"});
    EXPECT_EQ(from_key.exit_code, 0);
    EXPECT_EQ(from_key.out, from_cert.out) << stem;
  }
  struct stat st;
  ASSERT_EQ(stat(File("sa.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  CommandResult pub = RunCommand({"openssl", "pkey", "-in", File("sa.key"), "-pubout"});
  EXPECT_EQ(pub.out, ReadFile(File("sa.pub")));
}

// Each bad invocation exits non-zero, prints nothing on stdout and exactly one line on stderr.
TEST_F(CkPkiTest, BadInputIsOneLineAndNonZero) {
  struct Case {
    std::vector<std::string> args;
    std::string line_prefix;
  };
  std::vector<Case> cases = {
      {{"pki"}, "ck pki: --dir is required"},
      {{"pki", "--dir", Dir(), "--nodes", "0"}, "ck pki: --nodes: must be between 1 and 250"},
      {{"pki", "--dir", Dir(), "--service-cidr", "banana"}, "ck pki: --service-cidr: \"banana\""},
      {{"pki", "--dir", Dir(), "--service-cidr", "fd00::/108"}, "ck pki: --service-cidr:"},
      {{"pki", "--dir", Dir(), "--nodes"}, "ck pki: --nodes"},
      {{"pki", "--dir", Dir(), "--frobnicate"}, "ck pki: "},
      {{"frobnicate"}, "ck: unknown command \"frobnicate\""},
      {{}, "ck: a command is required"},
  };
  for (const Case& c : cases) {
    CommandResult r = Ck(c.args);
    std::string shown = "ck";
    for (const std::string& a : c.args) shown += " " + a;
    EXPECT_NE(r.exit_code, 0) << shown;
    EXPECT_EQ(r.out, "") << shown;
    std::vector<std::string> lines = Lines(r.err);
    ASSERT_EQ(lines.size(), 1u) << shown << "\n" << r.err;
    EXPECT_THAT(lines[0], StartsWith(c.line_prefix)) << shown;
  }
  EXPECT_FALSE(std::filesystem::exists(Dir()));  // nothing was written by any of them
}

TEST_F(CkPkiTest, ARefusedCaExitsNonZeroAndKeepsFiles) {
  ASSERT_EQ(Ck({"pki", "--dir", Dir()}).exit_code, 0);
  std::filesystem::remove(File("ca.key"));
  std::string ca_crt = ReadFile(File("ca.crt"));
  CommandResult r = Ck({"pki", "--dir", Dir()});
  EXPECT_EQ(r.exit_code, 1);
  ASSERT_EQ(Lines(r.err).size(), 1u) << r.err;
  EXPECT_THAT(r.err, HasSubstr("ca.crt exists without ca.key"));
  EXPECT_EQ(ReadFile(File("ca.crt")), ca_crt);
  EXPECT_FALSE(std::filesystem::exists(File("ca.key")));
}

// kubectl run against a local test server: never through a proxy from the environment.
CommandResult Kubectl(const std::string& kubeconfig, const std::string& server,
                      const std::string& tls_server_name = "") {
  std::vector<std::string> args = {"kubectl", "--kubeconfig",      kubeconfig, "--server",
                                   server,    "--request-timeout", "20s"};
  if (!tls_server_name.empty()) args.push_back("--tls-server-name=" + tls_server_name);
  args.insert(args.end(), {"get", "--raw", "/"});
  return RunCommand(args, {"HTTPS_PROXY=", "https_proxy=", "HTTP_PROXY=", "http_proxy="});
}

// An `openssl s_server` on `address`:0 with a serving certificate from the PKI folder, requiring
// a client certificate from ca.crt. Returns the port, or 0 if the server did not start.
int StartServer(BackgroundProcess& server) {
  std::string out = server.WaitForOutput("ACCEPT", std::chrono::seconds(20));
  std::smatch m;
  if (!std::regex_search(out, m, std::regex("ACCEPT [0-9.]+:([0-9]+)"))) return 0;
  return std::stoi(m[1]);
}

std::vector<std::string> ServerArgs(const std::string& dir, const std::string& stem,
                                    const std::string& address) {
  return {"openssl",
          "s_server",
          "-accept",
          address + ":0",
          "-cert",
          dir + "/" + stem + ".crt",
          "-key",
          dir + "/" + stem + ".key",
          "-CAfile",
          dir + "/ca.crt",
          "-Verify",
          "1",
          "-verify_return_error",
          "-www"};
}

// The files work in real mutual TLS: kubectl (Go's TLS stack) trusts the serving certificates
// through certificate-authority-data and presents its client certificate, which an OpenSSL server
// verifies against ca.crt.
TEST_F(CkPkiTest, KubectlAndOpensslCompleteMutualTls) {
  ASSERT_EQ(Ck({"pki", "--dir", Dir(), "--nodes", "1"}).exit_code, 0);

  BackgroundProcess apiserver(ServerArgs(Dir(), "apiserver", "127.0.0.1"));
  int port = StartServer(apiserver);
  ASSERT_NE(port, 0) << apiserver.Output();
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    for (const std::string kc : {"admin", "scheduler", "kubelet-node-1"}) {
      CommandResult r =
          Kubectl(File(kc + ".kubeconfig"), "https://" + host + ":" + std::to_string(port));
      EXPECT_EQ(r.exit_code, 0) << kc << " -> " << host << ": " << r.err;
      EXPECT_THAT(r.out, HasSubstr("s_server")) << kc << " -> " << host;
    }
  }

  // The kubelet's serving certificate is valid for its own node IP, and only for its names.
  BackgroundProcess kubelet(ServerArgs(Dir(), "kubelet-node-1", "127.0.1.1"));
  int kubelet_port = StartServer(kubelet);
  ASSERT_NE(kubelet_port, 0) << kubelet.Output();
  CommandResult ok =
      Kubectl(File("admin.kubeconfig"), "https://127.0.1.1:" + std::to_string(kubelet_port));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  CommandResult by_name = Kubectl(File("admin.kubeconfig"),
                                  "https://127.0.1.1:" + std::to_string(kubelet_port), "node-1");
  EXPECT_EQ(by_name.exit_code, 0) << by_name.err;
  CommandResult wrong_name = Kubectl(File("admin.kubeconfig"),
                                     "https://127.0.1.1:" + std::to_string(kubelet_port), "node-2");
  EXPECT_NE(wrong_name.exit_code, 0);
  EXPECT_THAT(wrong_name.err, HasSubstr("certificate is valid for node-1, not node-2"));

  // A kubeconfig from another cluster's CA is refused.
  TempDir other;
  ASSERT_EQ(Ck({"pki", "--dir", other.path()}).exit_code, 0);
  CommandResult foreign =
      Kubectl(other.File("admin.kubeconfig"), "https://127.0.0.1:" + std::to_string(port));
  EXPECT_NE(foreign.exit_code, 0);
  EXPECT_THAT(foreign.err, HasSubstr("certificate signed by unknown authority"));
}

}  // namespace
}  // namespace ck
