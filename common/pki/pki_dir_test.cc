// WritePkiFiles: the folder `ck pki` writes, checked with our own parser and with the openssl and
// kubectl command-line tools.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "common/pki/pki.h"
#include "common/pki/testing/command.h"

namespace ck::pki {
namespace {

using ck::testing::ReadFile;
using ck::testing::RunCommand;
using ck::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    files[entry.path().filename().string()] = ReadFile(entry.path().string());
  }
  return files;
}

std::vector<std::string> Names(const std::map<std::string, std::string>& files) {
  std::vector<std::string> out;
  for (const auto& [name, data] : files) out.push_back(name);
  return out;
}

std::vector<std::string> ExpectedFiles(int nodes) {
  std::vector<std::string> out = {"ca.crt",
                                  "ca.key",
                                  "apiserver.crt",
                                  "apiserver.key",
                                  "apiserver-kubelet-client.crt",
                                  "apiserver-kubelet-client.key",
                                  "sa.key",
                                  "sa.pub",
                                  "admin.kubeconfig",
                                  "scheduler.kubeconfig",
                                  "controller-manager.kubeconfig",
                                  "kube-proxy.kubeconfig"};
  for (int i = 1; i <= nodes; ++i) {
    std::string n = "kubelet-node-" + std::to_string(i);
    out.insert(out.end(), {n + ".crt", n + ".key", n + ".kubeconfig"});
  }
  return out;
}

int ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

class PkiDirTest : public ::testing::Test {
 protected:
  PkiOptions Options(int nodes) {
    PkiOptions options;
    options.dir = dir_.File("pki");
    options.nodes = nodes;
    return options;
  }
  std::string File(const std::string& name) { return dir_.File("pki/" + name); }
  PkiReport Write(const PkiOptions& options) {
    auto report = WritePkiFiles(options);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? report.value() : PkiReport{};
  }
  CertInfo Inspect(const std::string& name) {
    auto info = InspectCert(ReadFile(File(name)));
    EXPECT_TRUE(info.ok()) << name << ": " << info.status().ToString();
    return info.ok() ? info.value() : CertInfo{};
  }

  TempDir dir_;
};

TEST_F(PkiDirTest, WritesExactlyTheDesignedFiles) {
  PkiReport report = Write(Options(3));
  EXPECT_THAT(Names(Snapshot(dir_.File("pki"))), UnorderedElementsAreArray(ExpectedFiles(3)));
  EXPECT_THAT(report.written, UnorderedElementsAreArray(ExpectedFiles(3)));
  EXPECT_THAT(report.kept, IsEmpty());
}

TEST_F(PkiDirTest, EveryCertificateVerifiesWithOpenssl) {
  Write(Options(2));
  std::vector<std::string> certs = {"ca.crt", "apiserver.crt", "apiserver-kubelet-client.crt",
                                    "kubelet-node-1.crt", "kubelet-node-2.crt"};
  // The client certificates inside the kubeconfigs too.
  for (std::string kc : {"admin", "scheduler", "controller-manager", "kube-proxy", "kubelet-node-1",
                         "kubelet-node-2"}) {
    auto parsed = ParseKubeconfig(ReadFile(File(kc + ".kubeconfig")));
    ASSERT_TRUE(parsed.ok()) << kc;
    std::ofstream(dir_.File(kc + "-client.crt")) << parsed->client.cert_pem;
    certs.push_back("../" + kc + "-client.crt");
  }
  for (const std::string& cert : certs) {
    auto r = RunCommand({"openssl", "verify", "-CAfile", File("ca.crt"), File(cert)});
    EXPECT_EQ(r.exit_code, 0) << cert << ": " << r.out << r.err;
    EXPECT_THAT(r.out, HasSubstr(": OK")) << cert;
  }
}

TEST_F(PkiDirTest, CaIsTenYearKubernetesCa) {
  Write(Options(1));
  CertInfo ca = Inspect("ca.crt");
  EXPECT_EQ(ca.subject_cn, "kubernetes-ca");
  EXPECT_TRUE(ca.is_ca);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::hours>(ca.not_after - ca.not_before).count(),
            24 * 3650);
}

TEST_F(PkiDirTest, ApiserverCertHasKubeadmNamesPlusOurs) {
  PkiOptions options = Options(1);
  Write(options);
  CertInfo info = Inspect("apiserver.crt");
  EXPECT_EQ(info.subject_cn, "kube-apiserver");
  EXPECT_THAT(info.organizations, IsEmpty());
  EXPECT_EQ(info.issuer_cn, "kubernetes-ca");
  EXPECT_THAT(
      info.dns_names,
      UnorderedElementsAre("kubernetes", "kubernetes.default", "kubernetes.default.svc",
                           "kubernetes.default.svc.cluster.local", "apiserver", "localhost"));
  EXPECT_THAT(info.ip_addresses, UnorderedElementsAre("127.0.0.1", "10.96.0.1"));
  EXPECT_TRUE(info.server_auth);
  EXPECT_FALSE(info.client_auth);
  EXPECT_FALSE(info.is_ca);
  EXPECT_EQ(
      std::chrono::duration_cast<std::chrono::hours>(info.not_after - info.not_before).count(),
      24 * 365);

  auto text = RunCommand({"openssl", "x509", "-noout", "-text", "-in", File("apiserver.crt")});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("Subject: CN = kube-apiserver\n"));
  EXPECT_THAT(text.out, HasSubstr("Issuer: CN = kubernetes-ca\n"));
  EXPECT_THAT(text.out,
              HasSubstr("DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, "
                        "DNS:kubernetes.default.svc.cluster.local, DNS:apiserver, DNS:localhost, "
                        "IP Address:127.0.0.1, IP Address:10.96.0.1\n"));
  EXPECT_THAT(text.out, HasSubstr("TLS Web Server Authentication"));
  EXPECT_THAT(text.out, HasSubstr("CA:FALSE"));
  // openssl's own host and IP checks agree.
  auto host = RunCommand({"openssl", "x509", "-noout", "-checkhost", "kubernetes.default.svc",
                          "-checkip", "10.96.0.1", "-in", File("apiserver.crt")});
  EXPECT_THAT(host.out, HasSubstr("Hostname kubernetes.default.svc does match certificate"));
  EXPECT_THAT(host.out, HasSubstr("IP 10.96.0.1 does match certificate"));
}

TEST_F(PkiDirTest, ServiceCidrPicksTheApiserverServiceIp) {
  PkiOptions options = Options(1);
  options.service_cidr = "127.96.0.0/16";
  Write(options);
  EXPECT_THAT(Inspect("apiserver.crt").ip_addresses,
              UnorderedElementsAre("127.0.0.1", "127.96.0.1"));
}

TEST_F(PkiDirTest, ClientAndNodeCertsCarryTheirIdentities) {
  Write(Options(2));
  CertInfo kubelet_client = Inspect("apiserver-kubelet-client.crt");
  EXPECT_EQ(kubelet_client.subject_cn, "kube-apiserver-kubelet-client");
  EXPECT_THAT(kubelet_client.organizations, ElementsAre("system:masters"));
  EXPECT_TRUE(kubelet_client.client_auth);
  EXPECT_FALSE(kubelet_client.server_auth);

  for (int i = 1; i <= 2; ++i) {
    std::string n = std::to_string(i);
    CertInfo node = Inspect("kubelet-node-" + n + ".crt");
    EXPECT_EQ(node.subject_cn, "system:node:node-" + n);
    EXPECT_THAT(node.organizations, ElementsAre("system:nodes"));
    EXPECT_THAT(node.dns_names, ElementsAre("node-" + n));
    EXPECT_THAT(node.ip_addresses, ElementsAre("127.0.1." + n));
    EXPECT_TRUE(node.server_auth);
    EXPECT_FALSE(node.client_auth);
  }
}

TEST_F(PkiDirTest, KeysMatchCertsAndAreSecret) {
  Write(Options(2));
  for (std::string stem :
       {"ca", "apiserver", "apiserver-kubelet-client", "kubelet-node-1", "kubelet-node-2"}) {
    std::string key = File(stem + ".key"), crt = File(stem + ".crt");
    EXPECT_TRUE(CheckKeyMatchesCert(ReadFile(key), ReadFile(crt)).ok()) << stem;
    // Cross-check with openssl: the public key derived from the key file equals the cert's.
    auto from_key = RunCommand({"openssl", "pkey", "-in", key, "-pubout"});
    auto from_cert = RunCommand({"openssl", "x509", "-in", crt, "-noout", "-pubkey"});
    ASSERT_EQ(from_key.exit_code, 0) << from_key.err;
    ASSERT_EQ(from_cert.exit_code, 0) << from_cert.err;
    EXPECT_EQ(from_key.out, from_cert.out) << stem;
    EXPECT_EQ(ReadFile(key).rfind("-----BEGIN PRIVATE KEY-----", 0), 0u) << stem;
    EXPECT_EQ(ModeOf(key), 0600) << stem;
    EXPECT_EQ(ModeOf(crt), 0644) << stem;
  }
  EXPECT_EQ(ModeOf(File("sa.key")), 0600);
  EXPECT_EQ(ModeOf(File("sa.pub")), 0644);
  for (std::string kc : {"admin", "scheduler", "controller-manager", "kube-proxy", "kubelet-node-1",
                         "kubelet-node-2"}) {
    EXPECT_EQ(ModeOf(File(kc + ".kubeconfig")), 0600) << kc;
  }
}

TEST_F(PkiDirTest, ServiceAccountKeyPairIsEcP256) {
  Write(Options(1));
  auto text = RunCommand({"openssl", "pkey", "-in", File("sa.key"), "-noout", "-text"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("NIST CURVE: P-256"));
  auto pub = RunCommand({"openssl", "pkey", "-in", File("sa.key"), "-pubout"});
  ASSERT_EQ(pub.exit_code, 0) << pub.err;
  EXPECT_EQ(pub.out, ReadFile(File("sa.pub")));
  EXPECT_EQ(ReadFile(File("sa.pub")).rfind("-----BEGIN PUBLIC KEY-----", 0), 0u);
}

TEST_F(PkiDirTest, KubeconfigsCarryEachComponentIdentity) {
  PkiOptions options = Options(2);
  options.server = "https://apiserver:6443";
  Write(options);
  struct Want {
    std::string file, cn;
    std::vector<std::string> orgs;
  };
  std::vector<Want> wants = {
      {"admin", "kubernetes-admin", {"system:masters"}},
      {"scheduler", "system:kube-scheduler", {}},
      {"controller-manager", "system:kube-controller-manager", {}},
      {"kube-proxy", "system:kube-proxy", {}},
      {"kubelet-node-1", "system:node:node-1", {"system:nodes"}},
      {"kubelet-node-2", "system:node:node-2", {"system:nodes"}},
  };
  const std::string ca_pem = ReadFile(File("ca.crt"));
  for (const Want& want : wants) {
    SCOPED_TRACE(want.file);
    std::string path = File(want.file + ".kubeconfig");
    // Read with yaml-cpp directly, the way any client would.
    YAML::Node root = YAML::LoadFile(path);
    EXPECT_EQ(root["current-context"].as<std::string>(), "clearkube");
    EXPECT_EQ(root["contexts"][0]["name"].as<std::string>(), "clearkube");
    EXPECT_EQ(root["clusters"][0]["name"].as<std::string>(), "clearkube");
    EXPECT_EQ(root["clusters"][0]["cluster"]["server"].as<std::string>(), "https://apiserver:6443");
    EXPECT_TRUE(root["users"][0]["user"]["client-certificate-data"].IsScalar());

    auto parsed = ParseKubeconfig(ReadFile(path));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->ca_pem, ca_pem);
    auto info = InspectCert(parsed->client.cert_pem);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->subject_cn, want.cn);
    EXPECT_THAT(info->organizations, ElementsAreArray(want.orgs));
    EXPECT_TRUE(info->client_auth);
    EXPECT_FALSE(info->server_auth);
    EXPECT_TRUE(CheckKeyMatchesCert(parsed->client.key_pem, parsed->client.cert_pem).ok());
    EXPECT_TRUE(VerifyCert(parsed->client.cert_pem, ca_pem).ok());

    auto context = RunCommand({"kubectl", "config", "view", "--kubeconfig", path, "--raw", "-o",
                               "jsonpath={.current-context}"});
    EXPECT_EQ(context.exit_code, 0) << context.err;
    EXPECT_EQ(context.out, "clearkube");
  }
}

TEST_F(PkiDirTest, RerunKeepsEveryFileByteForByte) {
  PkiOptions options = Options(2);
  Write(options);
  auto before = Snapshot(dir_.File("pki"));
  PkiReport again = Write(options);
  EXPECT_THAT(again.written, IsEmpty());
  EXPECT_THAT(again.kept, UnorderedElementsAreArray(ExpectedFiles(2)));
  EXPECT_EQ(Snapshot(dir_.File("pki")), before);
}

TEST_F(PkiDirTest, RerunWithMoreNodesAddsOnlyTheNewNodes) {
  Write(Options(2));
  auto before = Snapshot(dir_.File("pki"));
  PkiReport report = Write(Options(4));
  EXPECT_THAT(report.written,
              UnorderedElementsAre("kubelet-node-3.crt", "kubelet-node-3.key",
                                   "kubelet-node-3.kubeconfig", "kubelet-node-4.crt",
                                   "kubelet-node-4.key", "kubelet-node-4.kubeconfig"));
  auto after = Snapshot(dir_.File("pki"));
  EXPECT_THAT(Names(after), UnorderedElementsAreArray(ExpectedFiles(4)));
  for (const auto& [name, data] : before) EXPECT_EQ(after[name], data) << name;
  EXPECT_EQ(Inspect("kubelet-node-4.crt").ip_addresses, std::vector<std::string>{"127.0.1.4"});
  auto r = RunCommand({"openssl", "verify", "-CAfile", File("ca.crt"), File("kubelet-node-4.crt")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(PkiDirTest, RerunWithAnotherServerRewritesOnlyKubeconfigs) {
  Write(Options(1));
  auto before = Snapshot(dir_.File("pki"));
  PkiOptions options = Options(1);
  options.server = "https://127.0.0.1:7443";
  PkiReport report = Write(options);
  EXPECT_THAT(report.written,
              UnorderedElementsAre("admin.kubeconfig", "scheduler.kubeconfig",
                                   "controller-manager.kubeconfig", "kube-proxy.kubeconfig",
                                   "kubelet-node-1.kubeconfig"));
  EXPECT_EQ(ReadFile(File("ca.key")), before["ca.key"]);
  EXPECT_EQ(ReadFile(File("apiserver.crt")), before["apiserver.crt"]);
  EXPECT_EQ(ParseKubeconfig(ReadFile(File("admin.kubeconfig")))->server, "https://127.0.0.1:7443");
}

TEST_F(PkiDirTest, RerunWithAnotherServiceCidrReissuesOnlyTheApiserverCert) {
  Write(Options(1));
  auto before = Snapshot(dir_.File("pki"));
  PkiOptions options = Options(1);
  options.service_cidr = "10.43.0.0/16";
  PkiReport report = Write(options);
  EXPECT_THAT(report.written, UnorderedElementsAre("apiserver.crt", "apiserver.key"));
  EXPECT_THAT(Inspect("apiserver.crt").ip_addresses,
              UnorderedElementsAre("127.0.0.1", "10.43.0.1"));
  EXPECT_EQ(ReadFile(File("ca.crt")), before["ca.crt"]);
}

TEST_F(PkiDirTest, BrokenOrForeignLeafFilesAreReissued) {
  Write(Options(1));
  auto before = Snapshot(dir_.File("pki"));
  std::ofstream(File("apiserver.crt"), std::ios::trunc) << "garbage";
  std::filesystem::remove(File("kubelet-node-1.key"));
  std::filesystem::remove(File("scheduler.kubeconfig"));
  // A kubeconfig whose client certificate comes from another CA.
  CertSpec other_ca_spec;
  other_ca_spec.common_name = "other-ca";
  auto other_ca = CreateCA(other_ca_spec);
  CertSpec admin;
  admin.common_name = "kubernetes-admin";
  admin.organizations = {"system:masters"};
  admin.client_auth = true;
  auto foreign = IssueCert(admin, other_ca.value());
  std::ofstream(File("admin.kubeconfig"), std::ios::trunc)
      << Kubeconfig("https://127.0.0.1:6443", before["ca.crt"], foreign.value());

  PkiReport report = Write(Options(1));
  EXPECT_THAT(report.written, UnorderedElementsAre("apiserver.crt", "apiserver.key",
                                                   "kubelet-node-1.crt", "kubelet-node-1.key",
                                                   "scheduler.kubeconfig", "admin.kubeconfig"));
  EXPECT_EQ(ReadFile(File("ca.crt")), before["ca.crt"]);
  EXPECT_TRUE(VerifyCert(ReadFile(File("apiserver.crt")), before["ca.crt"]).ok());
  auto admin_now = ParseKubeconfig(ReadFile(File("admin.kubeconfig")));
  ASSERT_TRUE(admin_now.ok());
  EXPECT_TRUE(VerifyCert(admin_now->client.cert_pem, before["ca.crt"]).ok());
}

TEST_F(PkiDirTest, ExpiredLeafIsReissued) {
  Write(Options(1));
  KeyAndCert ca{ReadFile(File("ca.key")), ReadFile(File("ca.crt"))};
  CertSpec spec;
  spec.common_name = "kube-apiserver-kubelet-client";
  spec.organizations = {"system:masters"};
  spec.client_auth = true;
  spec.not_before_offset = -std::chrono::hours(48);
  spec.validity = std::chrono::hours(24);
  auto expired = IssueCert(spec, ca);
  ASSERT_TRUE(expired.ok());
  std::ofstream(File("apiserver-kubelet-client.crt"), std::ios::trunc) << expired->cert_pem;
  std::ofstream(File("apiserver-kubelet-client.key"), std::ios::trunc) << expired->key_pem;
  auto stale = RunCommand(
      {"openssl", "verify", "-CAfile", File("ca.crt"), File("apiserver-kubelet-client.crt")});
  EXPECT_NE(stale.exit_code, 0);

  PkiReport report = Write(Options(1));
  EXPECT_THAT(report.written,
              UnorderedElementsAre("apiserver-kubelet-client.crt", "apiserver-kubelet-client.key"));
  auto fresh = RunCommand(
      {"openssl", "verify", "-CAfile", File("ca.crt"), File("apiserver-kubelet-client.crt")});
  EXPECT_EQ(fresh.exit_code, 0) << fresh.out << fresh.err;
}

TEST_F(PkiDirTest, KeptKeysAreMadeSecretAgain) {
  Write(Options(1));
  ASSERT_EQ(chmod(File("apiserver.key").c_str(), 0644), 0);
  ASSERT_EQ(chmod(File("ca.key").c_str(), 0640), 0);
  ASSERT_EQ(chmod(File("admin.kubeconfig").c_str(), 0666), 0);
  PkiReport report = Write(Options(1));
  EXPECT_THAT(report.written, IsEmpty());
  EXPECT_EQ(ModeOf(File("apiserver.key")), 0600);
  EXPECT_EQ(ModeOf(File("ca.key")), 0600);
  EXPECT_EQ(ModeOf(File("admin.kubeconfig")), 0600);
}

TEST_F(PkiDirTest, LostCaCertIsRemadeForTheSameKey) {
  Write(Options(1));
  auto before = Snapshot(dir_.File("pki"));
  std::filesystem::remove(File("ca.crt"));
  PkiReport report = Write(Options(1));
  // Kubeconfigs embed ca.crt, so they follow it; certificates the key signed stay.
  EXPECT_THAT(report.written,
              UnorderedElementsAre("ca.crt", "admin.kubeconfig", "scheduler.kubeconfig",
                                   "controller-manager.kubeconfig", "kube-proxy.kubeconfig",
                                   "kubelet-node-1.kubeconfig"));
  EXPECT_EQ(ReadFile(File("ca.key")), before["ca.key"]);
  EXPECT_EQ(ReadFile(File("apiserver.crt")), before["apiserver.crt"]);
  EXPECT_EQ(ParseKubeconfig(ReadFile(File("admin.kubeconfig")))->ca_pem, ReadFile(File("ca.crt")));
  // Everything the key signed before still verifies against the new ca.crt.
  auto r = RunCommand({"openssl", "verify", "-CAfile", File("ca.crt"), File("apiserver.crt")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(PkiDirTest, CaCertWithoutKeyIsRefusedAndNothingIsWritten) {
  Write(Options(1));
  std::filesystem::remove(File("ca.key"));
  std::filesystem::remove(File("apiserver.crt"));
  auto before = Snapshot(dir_.File("pki"));
  auto r = WritePkiFiles(Options(1));
  EXPECT_EQ(r.status().code(), ck::Code::kConflict);
  EXPECT_THAT(r.status().message(), HasSubstr("ca.crt exists without ca.key"));
  EXPECT_EQ(Snapshot(dir_.File("pki")), before);
}

TEST_F(PkiDirTest, MismatchedCaPairIsRefused) {
  Write(Options(1));
  auto other = GenerateKeyPem();
  ASSERT_TRUE(other.ok());
  std::ofstream(File("ca.key"), std::ios::trunc) << *other;
  auto before = Snapshot(dir_.File("pki"));
  auto r = WritePkiFiles(Options(1));
  EXPECT_EQ(r.status().code(), ck::Code::kConflict);
  EXPECT_THAT(r.status().message(), HasSubstr("does not match"));
  EXPECT_EQ(Snapshot(dir_.File("pki")), before);
}

TEST_F(PkiDirTest, ServiceAccountKeyIsNeverRotated) {
  Write(Options(1));
  std::string sa_key = ReadFile(File("sa.key"));
  std::string sa_pub = ReadFile(File("sa.pub"));
  std::filesystem::remove(File("sa.pub"));
  PkiReport report = Write(Options(1));
  EXPECT_THAT(report.written, ElementsAre("sa.pub"));
  EXPECT_EQ(ReadFile(File("sa.key")), sa_key);
  EXPECT_EQ(ReadFile(File("sa.pub")), sa_pub);

  std::ofstream(File("sa.key"), std::ios::trunc) << "not a key";
  auto r = WritePkiFiles(Options(1));
  EXPECT_EQ(r.status().code(), ck::Code::kConflict);
  EXPECT_THAT(r.status().message(), HasSubstr("sa.key"));
  EXPECT_EQ(ReadFile(File("sa.key")), "not a key");
}

TEST_F(PkiDirTest, BringYourOwnCaIsUsed) {
  std::filesystem::create_directories(dir_.File("pki"));
  CertSpec spec;
  spec.common_name = "my-own-ca";
  auto ca = CreateCA(spec);
  ASSERT_TRUE(ca.ok());
  std::ofstream(File("ca.crt")) << ca->cert_pem;
  std::ofstream(File("ca.key")) << ca->key_pem;
  PkiReport report = Write(Options(1));
  EXPECT_THAT(report.kept, UnorderedElementsAre("ca.crt", "ca.key"));
  EXPECT_EQ(Inspect("apiserver.crt").issuer_cn, "my-own-ca");
  EXPECT_EQ(ModeOf(File("ca.key")), 0600);
}

TEST_F(PkiDirTest, LeavesNoTemporaryFiles) {
  Write(Options(2));
  Write(Options(3));
  for (const auto& name : Names(Snapshot(dir_.File("pki")))) {
    EXPECT_EQ(name.find(".tmp"), std::string::npos) << name;
  }
}

TEST(ValidatePkiOptions, OneReadableLinePerProblem) {
  PkiOptions good;
  good.dir = "/tmp/x";
  EXPECT_TRUE(ValidatePkiOptions(good).ok());

  auto message = [&](auto mutate) {
    PkiOptions o = good;
    mutate(o);
    ck::Status s = ValidatePkiOptions(o);
    EXPECT_EQ(s.code(), ck::Code::kInvalid);
    EXPECT_EQ(s.message().find('\n'), std::string::npos);
    return s.message();
  };
  EXPECT_EQ(message([](PkiOptions& o) { o.dir = ""; }), "--dir: is required");
  EXPECT_EQ(message([](PkiOptions& o) { o.nodes = 0; }),
            "--nodes: must be between 1 and 250, got 0");
  EXPECT_EQ(message([](PkiOptions& o) { o.nodes = 251; }),
            "--nodes: must be between 1 and 250, got 251");
  EXPECT_EQ(message([](PkiOptions& o) { o.service_cidr = "banana"; }),
            "--service-cidr: \"banana\" is not an IPv4 CIDR such as 10.96.0.0/12");
  EXPECT_THAT(message([](PkiOptions& o) { o.server = "http://127.0.0.1:6443"; }),
              HasSubstr("--server: must be an https:// URL"));
  EXPECT_THAT(message([](PkiOptions& o) { o.server = "https://a b"; }), HasSubstr("--server"));

  PkiOptions edge = good;
  edge.nodes = 250;
  EXPECT_TRUE(ValidatePkiOptions(edge).ok());
}

TEST(WritePki, InvalidOptionsWriteNothing) {
  TempDir dir;
  PkiOptions options;
  options.dir = dir.File("pki");
  options.nodes = 0;
  EXPECT_EQ(WritePki(options).code(), ck::Code::kInvalid);
  EXPECT_FALSE(std::filesystem::exists(options.dir));
}

TEST(WritePki, UnwritableDirIsAnError) {
  TempDir dir;
  std::ofstream(dir.File("file")) << "x";
  PkiOptions options;
  options.dir = dir.File("file/pki");
  ck::Status s = WritePki(options);
  EXPECT_EQ(s.code(), ck::Code::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr(options.dir));
}

}  // namespace
}  // namespace ck::pki
