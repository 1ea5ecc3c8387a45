#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "common/pki/pki.h"
#include "common/pki/testing/command.h"

namespace ck::pki {
namespace {

using ck::testing::RunCommand;
using ck::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

KeyAndCert MakeCa(const std::string& cn = "test-ca") {
  CertSpec spec;
  spec.common_name = cn;
  spec.is_ca = true;
  spec.validity = std::chrono::hours(24 * 3650);
  auto ca = CreateCA(spec);
  EXPECT_TRUE(ca.ok()) << ca.status().ToString();
  return ca.value();
}

CertSpec ServerSpec() {
  CertSpec spec;
  spec.common_name = "kube-apiserver";
  spec.organizations = {"o1", "o2"};
  spec.dns_names = {"kubernetes", "localhost"};
  spec.ip_addresses = {"127.0.0.1", "10.96.0.1"};
  spec.server_auth = true;
  return spec;
}

// `openssl verify -CAfile ca cert` run as a separate tool, so our own checks are not the judge.
ck::testing::CommandResult OpensslVerify(const TempDir& dir, const KeyAndCert& ca,
                                         const std::string& cert_pem) {
  WriteFile(dir.File("ca.pem"), ca.cert_pem);
  WriteFile(dir.File("cert.pem"), cert_pem);
  return RunCommand({"openssl", "verify", "-CAfile", dir.File("ca.pem"), dir.File("cert.pem")});
}

std::string OpensslText(const TempDir& dir, const std::string& cert_pem) {
  WriteFile(dir.File("text.pem"), cert_pem);
  auto r = RunCommand({"openssl", "x509", "-noout", "-text", "-in", dir.File("text.pem")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

TEST(CreateCA, IsSelfSignedCaWithRequestedValidity) {
  KeyAndCert ca = MakeCa("kubernetes-ca");
  auto info = InspectCert(ca.cert_pem);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->subject_cn, "kubernetes-ca");
  EXPECT_EQ(info->issuer_cn, "kubernetes-ca");
  EXPECT_TRUE(info->is_ca);
  auto lifetime = info->not_after - info->not_before;
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::hours>(lifetime).count(), 24 * 3650);
  auto now = std::chrono::system_clock::now();
  EXPECT_LE(info->not_before, now);
  EXPECT_GT(info->not_before, now - std::chrono::minutes(10));
  EXPECT_TRUE(VerifyCert(ca.cert_pem, ca.cert_pem).ok());
  EXPECT_TRUE(CheckKeyMatchesCert(ca.key_pem, ca.cert_pem).ok());
}

TEST(CreateCA, HasCriticalCaConstraintAndKeyIdentifiers) {
  TempDir dir;
  std::string text = OpensslText(dir, MakeCa().cert_pem);
  EXPECT_THAT(text, HasSubstr("X509v3 Basic Constraints: critical\n                CA:TRUE"));
  EXPECT_THAT(text, HasSubstr("X509v3 Key Usage: critical\n                Digital Signature, "
                              "Certificate Sign, CRL Sign"));
  EXPECT_THAT(text, HasSubstr("X509v3 Subject Key Identifier"));
  EXPECT_THAT(text, HasSubstr("X509v3 Authority Key Identifier"));
  EXPECT_THAT(text, HasSubstr("Version: 3 (0x2)"));
  EXPECT_THAT(text, HasSubstr("ecdsa-with-SHA256"));
  EXPECT_THAT(text, HasSubstr("NIST CURVE: P-256"));
}

TEST(IssueCert, ServerCertCarriesNamesAndVerifies) {
  KeyAndCert ca = MakeCa();
  auto leaf = IssueCert(ServerSpec(), ca);
  ASSERT_TRUE(leaf.ok()) << leaf.status().ToString();
  auto info = InspectCert(leaf->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->subject_cn, "kube-apiserver");
  EXPECT_THAT(info->organizations, ElementsAre("o1", "o2"));
  EXPECT_THAT(info->dns_names, ElementsAre("kubernetes", "localhost"));
  EXPECT_THAT(info->ip_addresses, ElementsAre("127.0.0.1", "10.96.0.1"));
  EXPECT_EQ(info->issuer_cn, "test-ca");
  EXPECT_FALSE(info->is_ca);
  EXPECT_TRUE(info->server_auth);
  EXPECT_FALSE(info->client_auth);
  EXPECT_TRUE(VerifyCert(leaf->cert_pem, ca.cert_pem).ok());
  EXPECT_TRUE(CheckKeyMatchesCert(leaf->key_pem, leaf->cert_pem).ok());

  TempDir dir;
  auto verify = OpensslVerify(dir, ca, leaf->cert_pem);
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_THAT(verify.out, HasSubstr(": OK"));

  std::string text = OpensslText(dir, leaf->cert_pem);
  EXPECT_THAT(text, HasSubstr("Subject: O = o1, O = o2, CN = kube-apiserver"));
  EXPECT_THAT(text, HasSubstr("Issuer: CN = test-ca"));
  EXPECT_THAT(text, HasSubstr("X509v3 Basic Constraints: critical\n                CA:FALSE"));
  EXPECT_THAT(text, HasSubstr("X509v3 Key Usage: critical\n                Digital Signature\n"));
  EXPECT_THAT(text, HasSubstr("X509v3 Extended Key Usage: \n                TLS Web Server "
                              "Authentication\n"));
  EXPECT_THAT(text, HasSubstr("DNS:kubernetes, DNS:localhost, IP Address:127.0.0.1, "
                              "IP Address:10.96.0.1"));
  EXPECT_THAT(text, HasSubstr("X509v3 Subject Key Identifier"));
  EXPECT_THAT(text, HasSubstr("X509v3 Authority Key Identifier"));
}

TEST(IssueCert, ClientCertHasClientAuthOnly) {
  KeyAndCert ca = MakeCa();
  CertSpec spec;
  spec.common_name = "system:node:node-1";
  spec.organizations = {"system:nodes"};
  spec.client_auth = true;
  auto leaf = IssueCert(spec, ca);
  ASSERT_TRUE(leaf.ok());
  auto info = InspectCert(leaf->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->client_auth);
  EXPECT_FALSE(info->server_auth);
  EXPECT_TRUE(info->dns_names.empty());
  TempDir dir;
  EXPECT_THAT(
      OpensslText(dir, leaf->cert_pem),
      HasSubstr("X509v3 Extended Key Usage: \n                TLS Web Client Authentication"));
}

TEST(IssueCert, AuthorityKeyIdOfLeafIsSubjectKeyIdOfCa) {
  KeyAndCert ca = MakeCa();
  auto leaf = IssueCert(ServerSpec(), ca);
  ASSERT_TRUE(leaf.ok());
  TempDir dir;
  auto key_id_after = [](const std::string& text, const std::string& header) {
    size_t at = text.find(header);
    EXPECT_NE(at, std::string::npos) << header;
    size_t start = text.find_first_not_of(" \n", text.find('\n', at));
    std::string id = text.substr(start, text.find('\n', start) - start);
    if (id.rfind("keyid:", 0) == 0) id = id.substr(6);
    return id;
  };
  std::string ca_ski = key_id_after(OpensslText(dir, ca.cert_pem), "Subject Key Identifier");
  std::string leaf_aki = key_id_after(OpensslText(dir, leaf->cert_pem), "Authority Key Identifier");
  EXPECT_FALSE(ca_ski.empty());
  EXPECT_EQ(ca_ski, leaf_aki);
}

TEST(IssueCert, SerialsAreRandom128Bit) {
  KeyAndCert ca = MakeCa();
  std::set<std::string> serials;
  for (int i = 0; i < 8; ++i) {
    auto leaf = IssueCert(ServerSpec(), ca);
    ASSERT_TRUE(leaf.ok());
    auto info = InspectCert(leaf->cert_pem);
    ASSERT_TRUE(info.ok());
    EXPECT_LE(info->serial_hex.size(), 32u);  // 128 bits
    EXPECT_GE(info->serial_hex.size(), 16u);  // 8 leading zero bytes in a row: 2^-64
    serials.insert(info->serial_hex);
  }
  EXPECT_EQ(serials.size(), 8u);
}

TEST(IssueCert, ExpiredCertFailsVerification) {
  KeyAndCert ca = MakeCa();
  CertSpec spec = ServerSpec();
  spec.not_before_offset = -std::chrono::hours(48);
  spec.validity = std::chrono::hours(24);
  auto leaf = IssueCert(spec, ca);
  ASSERT_TRUE(leaf.ok());
  auto info = InspectCert(leaf->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_LT(info->not_after, std::chrono::system_clock::now());

  ck::Status ours = VerifyCert(leaf->cert_pem, ca.cert_pem);
  EXPECT_EQ(ours.code(), ck::Code::kInvalid);
  EXPECT_THAT(ours.message(), HasSubstr("expired"));
  TempDir dir;
  auto verify = OpensslVerify(dir, ca, leaf->cert_pem);
  EXPECT_NE(verify.exit_code, 0);
  EXPECT_THAT(verify.out + verify.err, HasSubstr("certificate has expired"));
}

TEST(IssueCert, CertFromAnotherCaFailsVerification) {
  KeyAndCert ca = MakeCa("ca-one");
  KeyAndCert other = MakeCa("ca-two");
  auto leaf = IssueCert(ServerSpec(), other);
  ASSERT_TRUE(leaf.ok());
  EXPECT_FALSE(VerifyCert(leaf->cert_pem, ca.cert_pem).ok());
  TempDir dir;
  EXPECT_NE(OpensslVerify(dir, ca, leaf->cert_pem).exit_code, 0);
}

TEST(IssueCert, RejectsBadSpecs) {
  KeyAndCert ca = MakeCa();
  CertSpec no_cn = ServerSpec();
  no_cn.common_name = "";
  EXPECT_EQ(IssueCert(no_cn, ca).status().code(), ck::Code::kInvalid);
  CertSpec bad_ip = ServerSpec();
  bad_ip.ip_addresses = {"banana"};
  auto r = IssueCert(bad_ip, ca);
  EXPECT_EQ(r.status().code(), ck::Code::kInvalid);
  EXPECT_THAT(r.status().message(), HasSubstr("banana"));
  CertSpec bad_dns = ServerSpec();
  bad_dns.dns_names = {"a,DNS:evil"};
  EXPECT_EQ(IssueCert(bad_dns, ca).status().code(), ck::Code::kInvalid);
  CertSpec zero = ServerSpec();
  zero.validity = std::chrono::seconds(0);
  EXPECT_EQ(IssueCert(zero, ca).status().code(), ck::Code::kInvalid);
}

TEST(IssueCert, RejectsCaWhoseKeyDoesNotMatch) {
  KeyAndCert ca = MakeCa();
  KeyAndCert other = MakeCa();
  auto r = IssueCert(ServerSpec(), KeyAndCert{other.key_pem, ca.cert_pem});
  EXPECT_EQ(r.status().code(), ck::Code::kInvalid);
  EXPECT_THAT(r.status().message(), HasSubstr("does not match"));
  EXPECT_EQ(IssueCert(ServerSpec(), KeyAndCert{"junk", ca.cert_pem}).status().code(),
            ck::Code::kInvalid);
}

TEST(IssueCert, SupportsIpv6Addresses) {
  KeyAndCert ca = MakeCa();
  CertSpec spec = ServerSpec();
  spec.ip_addresses = {"::1", "fd00::1"};
  auto leaf = IssueCert(spec, ca);
  ASSERT_TRUE(leaf.ok()) << leaf.status().ToString();
  EXPECT_THAT(InspectCert(leaf->cert_pem)->ip_addresses, ElementsAre("::1", "fd00::1"));
}

TEST(CreateCAWithKey, NewCertForSameKeyStillVerifiesOldLeaves) {
  KeyAndCert ca = MakeCa("kubernetes-ca");
  auto leaf = IssueCert(ServerSpec(), ca);
  ASSERT_TRUE(leaf.ok());
  CertSpec spec;
  spec.common_name = "kubernetes-ca";
  auto again = CreateCAWithKey(spec, ca.key_pem);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_NE(again->cert_pem, ca.cert_pem);
  EXPECT_TRUE(InspectCert(again->cert_pem)->is_ca);
  EXPECT_TRUE(CheckKeyMatchesCert(ca.key_pem, again->cert_pem).ok());
  EXPECT_TRUE(VerifyCert(leaf->cert_pem, again->cert_pem).ok());
  EXPECT_EQ(CreateCAWithKey(spec, "not a key").status().code(), ck::Code::kInvalid);
}

TEST(Keys, GeneratedKeyIsPkcs8EcP256) {
  auto key = GenerateKeyPem();
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u);
  TempDir dir;
  WriteFile(dir.File("k.pem"), *key);
  auto r = RunCommand({"openssl", "pkey", "-in", dir.File("k.pem"), "-noout", "-text"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("NIST CURVE: P-256"));
}

TEST(Keys, PublicKeyPemMatchesOpenssl) {
  auto key = GenerateKeyPem();
  ASSERT_TRUE(key.ok());
  auto pub = PublicKeyPem(*key);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->rfind("-----BEGIN PUBLIC KEY-----\n", 0), 0u);
  TempDir dir;
  WriteFile(dir.File("k.pem"), *key);
  auto r = RunCommand({"openssl", "pkey", "-in", dir.File("k.pem"), "-pubout"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, *pub);
  EXPECT_EQ(PublicKeyPem("junk").status().code(), ck::Code::kInvalid);
}

TEST(Keys, MismatchedKeyIsReported) {
  KeyAndCert ca = MakeCa();
  auto a = IssueCert(ServerSpec(), ca);
  auto b = IssueCert(ServerSpec(), ca);
  ASSERT_TRUE(a.ok() && b.ok());
  ck::Status s = CheckKeyMatchesCert(a->key_pem, b->cert_pem);
  EXPECT_EQ(s.code(), ck::Code::kInvalid);
  EXPECT_THAT(s.message(), HasSubstr("does not match"));
}

TEST(InspectCert, RejectsNonCertificates) {
  EXPECT_EQ(InspectCert("").status().code(), ck::Code::kInvalid);
  EXPECT_EQ(
      InspectCert("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").status().code(),
      ck::Code::kInvalid);
}

TEST(FirstServiceIp, FirstHostOfTheRange) {
  EXPECT_EQ(FirstServiceIp("10.96.0.0/12").value_or(""), "10.96.0.1");
  EXPECT_EQ(FirstServiceIp("127.96.0.0/16").value_or(""), "127.96.0.1");
  EXPECT_EQ(FirstServiceIp("10.43.0.0/16").value_or(""), "10.43.0.1");
  EXPECT_EQ(FirstServiceIp("192.168.5.0/30").value_or(""), "192.168.5.1");
  // Host bits are dropped, as kube-apiserver does with the range it is given.
  EXPECT_EQ(FirstServiceIp("10.96.7.9/12").value_or(""), "10.96.0.1");
}

TEST(FirstServiceIp, RejectsWhatIsNotAnIpv4Range) {
  for (const char* bad :
       {"banana", "", "10.96.0.0", "10.96.0.0/", "10.96.0.0/abc", "10.96.0/12", "10.96.0.0/33",
        "10.96.0.0/-1", "10.0.0.0/8", "10.96.0.0/31", "300.1.1.1/16", " 10.96.0.0/12"}) {
    auto r = FirstServiceIp(bad);
    EXPECT_EQ(r.status().code(), ck::Code::kInvalid) << bad;
    EXPECT_THAT(r.status().message(), HasSubstr("\"" + std::string(bad) + "\"")) << bad;
  }
  auto v6 = FirstServiceIp("fd00:10:96::/108");
  EXPECT_EQ(v6.status().code(), ck::Code::kInvalid);
  EXPECT_THAT(v6.status().message(), HasSubstr("IPv6"));
}

}  // namespace
}  // namespace ck::pki
