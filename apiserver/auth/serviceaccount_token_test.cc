#include "apiserver/auth/serviceaccount_token.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <map>

#include "apiserver/auth/auth_testing.h"
#include "apiserver/auth/base64url.h"
#include "common/base/strings.h"
#include "tests/testutil/testutil.h"

namespace ck::apiserver {
namespace {

using namespace std::chrono_literals;

const std::string& RsaKey() {
  static const std::string k = testing::NewRsaKeyPem();
  return k;
}
const std::string& EcKey() {
  static const std::string k = testing::NewEcKeyPem();
  return k;
}

constexpr int64_t kNow = 1'767'225'600;  // 2026-01-01T00:00:00Z
WallTime At(int64_t s) { return WallTime(std::chrono::seconds(s)); }

ServiceAccountClaims Claims() {
  ServiceAccountClaims c;
  c.subject = "system:serviceaccount:shop:web";
  c.audiences = {"https://kubernetes.default.svc"};
  c.issued_at = c.not_before = kNow;
  c.expiry = kNow + 3600;
  c.jti = "0b7a-jti";
  c.namespace_ = "shop";
  c.service_account_name = "web";
  c.service_account_uid = "sa-uid";
  c.pod = BoundObjectRef{"web-1", "pod-uid"};
  c.node = BoundObjectRef{"node-1", "node-uid"};
  return c;
}

std::unique_ptr<TokenIssuer> Issuer(const std::string& key, std::string iss = "https://ck.local") {
  auto i = TokenIssuer::Create(key, std::move(iss));
  CK_CHECK(i.ok()) << i.status().ToString();
  return std::move(*i);
}

std::unique_ptr<TokenVerifier> Verifier(std::vector<std::string> keys, std::vector<std::string> issuers = {"https://ck.local"}) {
  auto v = TokenVerifier::Create(keys, std::move(issuers), {"https://kubernetes.default.svc"});
  CK_CHECK(v.ok()) << v.status().ToString();
  return std::move(*v);
}

std::vector<std::string> SplitToken(const std::string& t) {
  std::vector<std::string> out;
  for (std::string_view p : Split(t, '.')) out.emplace_back(p);
  return out;
}

// kid computed from sa.pub the way upstream does (SHA-256 over the DER SubjectPublicKeyInfo).
std::string ExpectedKid(const std::string& key_pem) {
  std::string pub = testing::PublicPem(key_pem), b64;
  for (std::string_view line : Split(pub, '\n')) {
    if (!line.empty() && line[0] != '-') b64 += line;
  }
  std::string der;
  CK_CHECK(DecodeBase64(b64, &der));
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(der.data()), der.size(), d);
  return Base64UrlEncode(std::string_view(reinterpret_cast<char*>(d), sizeof d));
}

TEST(Base64Url, RoundTripsAndIsStrict) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\xfd"}) {
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(s)), s);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_FALSE(Base64UrlDecode("Zm9v=").has_value());
  EXPECT_FALSE(Base64UrlDecode("Zm+v").has_value());
  EXPECT_FALSE(Base64UrlDecode("Z").has_value());
  EXPECT_FALSE(Base64UrlDecode("Zh").has_value()) << "non-zero trailing bits";
}

TEST(ServiceAccountToken, Rs256RoundTripWithUpstreamHeaderAndPayload) {
  auto issuer = Issuer(RsaKey());
  EXPECT_EQ(issuer->algorithm(), "RS256");
  EXPECT_EQ(issuer->key_id(), ExpectedKid(RsaKey()));
  Result<std::string> tok = issuer->Issue(Claims());
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  std::vector<std::string> parts = SplitToken(*tok);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(*Base64UrlDecode(parts[0]), R"({"alg":"RS256","kid":")" + ExpectedKid(RsaKey()) + R"("})");
  EXPECT_EQ(*Base64UrlDecode(parts[1]),
            R"({"aud":["https://kubernetes.default.svc"],"exp":1767229200,"iat":1767225600,"iss":"https://ck.local",)"
            R"("jti":"0b7a-jti","kubernetes.io":{"namespace":"shop","node":{"name":"node-1","uid":"node-uid"},)"
            R"("pod":{"name":"web-1","uid":"pod-uid"},"serviceaccount":{"name":"web","uid":"sa-uid"}},)"
            R"("nbf":1767225600,"sub":"system:serviceaccount:shop:web"})");
  EXPECT_EQ(Base64UrlDecode(parts[2])->size(), 256u);

  std::vector<std::string> matched;
  Result<ServiceAccountClaims> c = Verifier({testing::PublicPem(RsaKey())})->Verify(*tok, At(kNow + 10), {}, &matched);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->issuer, "https://ck.local");
  EXPECT_EQ(c->subject, "system:serviceaccount:shop:web");
  EXPECT_EQ(c->namespace_, "shop");
  EXPECT_EQ(c->service_account_uid, "sa-uid");
  ASSERT_TRUE(c->pod.has_value());
  EXPECT_EQ(c->pod->uid, "pod-uid");
  EXPECT_FALSE(c->secret.has_value());
  EXPECT_EQ(c->jti, "0b7a-jti");
  EXPECT_EQ(c->expiry, kNow + 3600);
  EXPECT_EQ(matched, (std::vector<std::string>{"https://kubernetes.default.svc"}));
}

TEST(ServiceAccountToken, Es256UsesJoseSignatureForm) {
  auto issuer = Issuer(EcKey());
  EXPECT_EQ(issuer->algorithm(), "ES256");
  Result<std::string> tok = issuer->Issue(Claims());
  ASSERT_TRUE(tok.ok());
  std::vector<std::string> parts = SplitToken(*tok);
  EXPECT_EQ(Base64UrlDecode(parts[2])->size(), 64u) << "r||s, 32 bytes each (not DER)";
  // Verified with the private key file too (its public part is used), next to an RSA key.
  auto v = Verifier({testing::PublicPem(RsaKey()), EcKey()});
  EXPECT_EQ(v->key_count(), 2u);
  EXPECT_TRUE(v->Verify(*tok, At(kNow), {}).ok());
}

TEST(ServiceAccountToken, KeysFromCertificatesAndRsaPublicKeyBlocks) {
  pki::KeyAndCert ca = testing::MustCA("sa-signer");
  auto v = TokenVerifier::Create({ca.cert_pem}, {"https://ck.local"}, {});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  auto issuer = Issuer(ca.key_pem);
  EXPECT_TRUE((*v)->Verify(*issuer->Issue(Claims()), At(kNow), {"https://kubernetes.default.svc"}).ok());

  auto bad = TokenVerifier::Create({"not a key"}, {"https://ck.local"}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "service account key #1: data does not contain any valid RSA or ECDSA public keys");
  EXPECT_FALSE(TokenVerifier::Create({RsaKey()}, {}, {}).ok()) << "an issuer is required";
  EXPECT_FALSE(TokenIssuer::Create("garbage", "https://ck.local").ok());
  auto missing = TokenVerifier::FromFiles({"/nonexistent/sa.pub"}, {"x"}, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "--service-account-key-file: cannot read /nonexistent/sa.pub");
}

TEST(ServiceAccountToken, TimesUseUpstreamsSixtySecondLeeway) {
  auto issuer = Issuer(EcKey());
  auto v = Verifier({EcKey()});
  std::string tok = *issuer->Issue(Claims());
  // exp = kNow + 3600; accepted up to exp + 60 s.
  EXPECT_TRUE(v->Verify(tok, At(kNow + 3600 + 60), {}).ok());
  Result<ServiceAccountClaims> r = v->Verify(tok, At(kNow + 3600 + 61), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnauthorized);
  EXPECT_EQ(r.status().message(), "service account token has expired");
  // nbf = iat = kNow; accepted from nbf - 60 s.
  EXPECT_TRUE(v->Verify(tok, At(kNow - 60), {}).ok());
  r = v->Verify(tok, At(kNow - 61), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "service account token is not valid yet");
  // iat in the future with no nbf.
  ServiceAccountClaims c = Claims();
  c.not_before = 0;
  r = v->Verify(*issuer->Issue(c), At(kNow - 61), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "service account token is issued in the future");
  // exp is required.
  c = Claims();
  c.expiry = 0;
  r = v->Verify(*issuer->Issue(c), At(kNow), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "service account token has expired");
}

TEST(ServiceAccountToken, AudiencesMustIntersect) {
  auto issuer = Issuer(EcKey());
  auto v = Verifier({EcKey()});
  ServiceAccountClaims c = Claims();
  c.audiences = {"vault", "https://kubernetes.default.svc"};
  std::string tok = *issuer->Issue(c);
  std::vector<std::string> matched;
  ASSERT_TRUE(v->Verify(tok, At(kNow), {"vault", "other"}, &matched).ok());
  EXPECT_EQ(matched, (std::vector<std::string>{"vault"}));
  c.audiences = {"vault"};
  Result<ServiceAccountClaims> r = v->Verify(*issuer->Issue(c), At(kNow), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            R"(token audiences ["vault"] is invalid for the target audiences ["https://kubernetes.default.svc"])");
  // No aud at all: the API audiences (upstream's rule for tokens without audiences).
  c.audiences.clear();
  EXPECT_TRUE(v->Verify(*issuer->Issue(c), At(kNow), {}).ok());
}

TEST(ServiceAccountToken, RejectsForgedTamperedNoneAndMismatchedAlgorithms) {
  auto v = Verifier({testing::PublicPem(RsaKey()), testing::PublicPem(EcKey())});
  std::string good = *Issuer(RsaKey())->Issue(Claims());
  std::vector<std::string> p = SplitToken(good);
  auto expect_unauthorized = [&](const std::string& token, const std::string& message) {
    Result<ServiceAccountClaims> r = v->Verify(token, At(kNow), {});
    ASSERT_FALSE(r.ok()) << token;
    EXPECT_EQ(r.status().code(), Code::kUnauthorized);
    EXPECT_EQ(r.status().message(), message) << token;
  };
  // Signed by a key the verifier does not hold.
  expect_unauthorized(*Issuer(testing::NewEcKeyPem())->Issue(Claims()), "token signature is invalid (no ES256 key verifies it)");
  // Payload changed after signing.
  ServiceAccountClaims other = Claims();
  other.service_account_name = "admin";
  std::string other_payload = SplitToken(*Issuer(RsaKey())->Issue(other))[1];
  expect_unauthorized(p[0] + "." + other_payload + "." + p[2], "token signature is invalid (no RS256 key verifies it)");
  // alg none, with and without a signature.
  std::string none = Base64UrlEncode(R"({"alg":"none","typ":"JWT"})");
  expect_unauthorized(none + "." + p[1] + ".",
                      "unexpected signature algorithm \"none\"; expected one of [RS256 ES256 ES384 ES512]");
  expect_unauthorized(none + "." + p[1] + "." + p[2],
                      "unexpected signature algorithm \"none\"; expected one of [RS256 ES256 ES384 ES512]");
  // HS256 keyed with the public key (the classic confusion attack).
  expect_unauthorized(Base64UrlEncode(R"({"alg":"HS256"})") + "." + p[1] + "." + p[2],
                      "unexpected signature algorithm \"HS256\"; expected one of [RS256 ES256 ES384 ES512]");
  // An RS256 signature presented as ES256.
  expect_unauthorized(Base64UrlEncode(R"({"alg":"ES256"})") + "." + p[1] + "." + p[2],
                      "token signature is invalid (no ES256 key verifies it)");
  // Malformed shapes.
  expect_unauthorized("garbage", "token is malformed: not a JWS in compact form");
  expect_unauthorized(p[0] + "." + p[1], "token is malformed: not a JWS in compact form");
  expect_unauthorized(p[0] + "." + p[1] + "." + p[2] + ".x", "token is malformed: not a JWS in compact form");
  expect_unauthorized("e30." + p[1] + "." + p[2], "token is malformed: no alg in the header");
  expect_unauthorized(p[0] + ".!!." + p[2], "token is malformed: the payload is not base64url JSON");
  expect_unauthorized(p[0] + "." + Base64UrlEncode(R"({"iss":"https://ck.local","exp":"soon"})") + "." + p[2],
                      "token is malformed: claims have the wrong types");
  expect_unauthorized(Base64UrlEncode(R"({"alg":"RS256","crit":["exp"]})") + "." + p[1] + "." + p[2],
                      "token uses unsupported critical header parameters");
  // Another issuer.
  std::string foreign = *Issuer(RsaKey(), "https://elsewhere")->Issue(Claims());
  EXPECT_FALSE(v->HasAcceptedIssuer(foreign));
  EXPECT_TRUE(v->HasAcceptedIssuer(good));
  EXPECT_FALSE(v->HasAcceptedIssuer("garbage"));
  expect_unauthorized(foreign, "token issuer \"https://elsewhere\" is not accepted");
}

TEST(ServiceAccountToken, BoundObjectsMustStillExistWithTheSameUid) {
  std::map<std::string, std::string> objects = {{"serviceaccounts/shop/web", "sa-uid"},
                                                {"pods/shop/web-1", "pod-uid"},
                                                {"secrets/shop/s", "secret-uid"},
                                                {"nodes//node-1", "node-uid"}};
  ObjectUidLookup lookup = [&](std::string_view res, std::string_view ns, std::string_view name) -> std::optional<std::string> {
    auto it = objects.find(std::string(res) + "/" + std::string(ns) + "/" + std::string(name));
    if (it == objects.end()) return std::nullopt;
    return it->second;
  };
  ServiceAccountClaims c = Claims();
  EXPECT_TRUE(ValidateBoundObjects(c, lookup).ok());
  objects["pods/shop/web-1"] = "pod-uid-2";
  EXPECT_EQ(ValidateBoundObjects(c, lookup).message(), "pod UID (pod-uid-2) does not match service account pod ref claim (pod-uid)");
  objects.erase("pods/shop/web-1");
  EXPECT_EQ(ValidateBoundObjects(c, lookup).message(), "service account token has been invalidated");
  c.pod.reset();  // node-bound token: the node is checked
  EXPECT_TRUE(ValidateBoundObjects(c, lookup).ok());
  objects.erase("nodes//node-1");
  EXPECT_EQ(ValidateBoundObjects(c, lookup).message(), "service account token has been invalidated");
  c.node.reset();
  c.secret = BoundObjectRef{"s", "other"};
  EXPECT_EQ(ValidateBoundObjects(c, lookup).message(),
            "secret UID (secret-uid) does not match service account secret ref claim (other)");
  c.secret.reset();
  objects["serviceaccounts/shop/web"] = "sa-uid-2";
  Status s = ValidateBoundObjects(c, lookup);
  EXPECT_EQ(s.code(), Code::kUnauthorized);
  EXPECT_EQ(s.message(), "service account UID (sa-uid-2) does not match claim (sa-uid)");
  objects.erase("serviceaccounts/shop/web");
  EXPECT_EQ(ValidateBoundObjects(c, lookup).message(), "serviceaccounts \"web\" not found");
}

// DER INTEGER of a big-endian unsigned value (minimal, with a 0x00 when the top bit is set).
std::string DerInteger(std::string v) {
  size_t i = 0;
  while (i + 1 < v.size() && v[i] == 0) ++i;
  v = v.substr(i);
  if (uint8_t(v[0]) & 0x80) v.insert(v.begin(), '\0');
  return std::string("\x02") + char(v.size()) + v;
}

// An independent check of the wire format: the openssl command verifies our RS256 signature as
// is, and our ES256 r||s once re-encoded as DER by hand.
TEST(ServiceAccountToken, OpenSslCommandVerifiesBothAlgorithms) {
  testutil::TempDir dir;
  for (const std::string* key : {&RsaKey(), &EcKey()}) {
    std::string tok = *Issuer(*key)->Issue(Claims());
    std::vector<std::string> p = SplitToken(tok);
    std::string sig = *Base64UrlDecode(p[2]);
    if (key == &EcKey()) {
      ASSERT_EQ(sig.size(), 64u);
      std::string body = DerInteger(sig.substr(0, 32)) + DerInteger(sig.substr(32));
      sig = std::string("\x30") + char(body.size()) + body;
    }
    testutil::WriteFileOrDie(dir.File("pub.pem"), testing::PublicPem(*key));
    testutil::WriteFileOrDie(dir.File("input"), p[0] + "." + p[1]);
    testutil::WriteFileOrDie(dir.File("sig"), sig);
    testutil::CommandResult r = testutil::RunCommand("openssl dgst -sha256 -verify " + dir.File("pub.pem") +
                                                     " -signature " + dir.File("sig") + " " + dir.File("input"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("Verified OK"), std::string::npos) << r.output;
  }
}

TEST(ServiceAccountToken, UsernameSplitting) {
  std::string ns, name;
  EXPECT_TRUE(SplitServiceAccountUsername("system:serviceaccount:shop:web", &ns, &name));
  EXPECT_EQ(ns, "shop");
  EXPECT_EQ(name, "web");
  EXPECT_FALSE(SplitServiceAccountUsername("system:serviceaccount:shop", &ns, &name));
  EXPECT_FALSE(SplitServiceAccountUsername("system:serviceaccount::web", &ns, &name));
  EXPECT_FALSE(SplitServiceAccountUsername("system:serviceaccount:a:b:c", &ns, &name));
  EXPECT_FALSE(SplitServiceAccountUsername("alice", &ns, &name));
  EXPECT_EQ(ServiceAccountUsername("a", "b"), "system:serviceaccount:a:b");
}

}  // namespace
}  // namespace ck::apiserver
