// The authentication chain end to end at the Authenticator: a table of bad credentials that must
// all be 401 (and never anonymous), the good ones with the user each gives, TokenReview
// audiences, and a real TLS server whose handshakes with bad client certificates reach the chain.
#include <gtest/gtest.h>

#include <atomic>
#include <map>

#include "apiserver/auth/auth.h"
#include "apiserver/auth/auth_testing.h"
#include "apiserver/auth/base64url.h"
#include "apiserver/auth/token_request.h"
#include "common/base/strings.h"
#include "common/net/http_client.h"
#include "common/net/http_server.h"

namespace ck::apiserver {
namespace {

using namespace std::chrono_literals;
constexpr char kIssuer[] = "https://kubernetes.default.svc.cluster.local";

struct Fixture {
  pki::KeyAndCert ca = testing::MustCA("kubernetes-ca");
  pki::KeyAndCert other_ca = testing::MustCA("other-ca");
  pki::KeyAndCert alice = testing::MustClientCert(ca, "alice", {"dev", "ops"});
  pki::KeyAndCert self_signed = testing::MustCA("alice");
  pki::KeyAndCert foreign = testing::MustClientCert(other_ca, "alice", {"system:masters"});
  pki::KeyAndCert expired = testing::MustClientCert(ca, "alice", {"system:masters"}, /*expired=*/true);
  pki::KeyAndCert server = [this] {
    pki::CertSpec s;
    s.common_name = "kube-apiserver";
    s.server_auth = true;
    s.ip_addresses = {"127.0.0.1"};
    Result<pki::KeyAndCert> c = pki::IssueCert(s, ca);
    CK_CHECK(c.ok());
    return *c;
  }();
  std::string rsa_key = testing::NewRsaKeyPem();
  std::string ec_key = testing::NewEcKeyPem();
  std::unique_ptr<TokenIssuer> rsa = Issuer(rsa_key);
  std::unique_ptr<TokenIssuer> ec = Issuer(ec_key);
  std::unique_ptr<TokenIssuer> forger = Issuer(testing::NewEcKeyPem());
  FakeClock clock;
  FakeRandom random;
  // The store as the lookup sees it: "<resource>/<ns>/<name>" -> uid.
  std::map<std::string, std::string> objects = {{"serviceaccounts/shop/web", "sa-uid"},
                                                {"serviceaccounts/shop/gone", "gone-uid"},
                                                {"pods/shop/web-1", "pod-uid"}};
  std::unique_ptr<Authenticator> authn;

  Fixture() {
    AuthenticatorOptions o;
    o.token_auth_csv = "file-token,carol,u-carol,\"admins\"\n";
    o.service_account_key_pems = {testing::PublicPem(rsa_key), testing::PublicPem(ec_key)};
    o.service_account_issuers = {kIssuer};
    o.clock = &clock;
    auto a = Authenticator::Create(std::move(o));
    CK_CHECK(a.ok()) << a.status().ToString();
    authn = std::move(*a);
    authn->SetServiceAccountLookup([this](const ServiceAccountClaims& c) {
      return ValidateBoundObjects(c, [this](std::string_view res, std::string_view ns, std::string_view name)
                                         -> std::optional<std::string> {
        auto it = objects.find(std::string(res) + "/" + std::string(ns) + "/" + std::string(name));
        if (it == objects.end()) return std::nullopt;
        return it->second;
      });
    });
  }

  static std::unique_ptr<TokenIssuer> Issuer(const std::string& key) {
    auto i = TokenIssuer::Create(key, kIssuer);
    CK_CHECK(i.ok());
    return std::move(*i);
  }

  // A token as TokenRequest issues it at the fake clock's now.
  std::string Token(const TokenIssuer& issuer, const std::string& sa_name, const std::string& sa_uid,
                    std::vector<std::string> audiences = {}, bool bound_to_pod = false) {
    k8s::io::api::authentication::v1::TokenRequestSpec spec;
    for (auto& a : audiences) spec.add_audiences(a);
    if (bound_to_pod) {
      spec.mutable_boundobjectref()->set_apiversion("v1");
      spec.mutable_boundobjectref()->set_kind("Pod");
      spec.mutable_boundobjectref()->set_name("web-1");
    }
    BoundObjectResolver resolve = [](std::string_view, std::string_view) -> Result<BoundObjectInfo> {
      return BoundObjectInfo{"pod-uid", "web", "node-1", "node-uid"};
    };
    Result<IssuedToken> t = IssueTokenRequest(issuer, {"shop", sa_name, sa_uid}, spec, resolve, clock.Now(),
                                              authn->api_audiences(), Duration::zero(), random);
    CK_CHECK(t.ok()) << t.status().ToString();
    return t->token;
  }

  // The PeerIdentity common/net gives a handler for a TLS client presenting `cert`, computed with
  // the same verification (chain to the client CA, validity now).
  net::PeerIdentity PeerWith(const pki::KeyAndCert& cert) const {
    net::PeerIdentity p;
    p.tls = true;
    p.client_cert_presented = true;
    Status v = pki::VerifyCert(cert.cert_pem, ca.cert_pem);
    if (!v.ok()) {
      p.client_cert_error = v.message();
      return p;
    }
    p.client_cert_verified = true;
    Result<pki::CertInfo> info = pki::InspectCert(cert.cert_pem);
    CK_CHECK(info.ok());
    p.cert_common_name = info->subject_cn;
    p.cert_organizations = info->organizations;
    return p;
  }
};

Fixture& F() {
  static Fixture* f = new Fixture();
  return *f;
}

net::Request Req(std::optional<net::PeerIdentity> peer, std::string bearer) {
  net::Request r;
  r.method = "GET";
  r.path = "/api/v1/namespaces/shop/pods";
  if (peer) r.peer = *peer;
  if (!bearer.empty()) r.headers.Add("Authorization", "Bearer " + bearer);
  return r;
}

TEST(AuthnNegative, EveryBadCredentialIsUnauthorized) {
  Fixture& f = F();
  const WallTime t0 = f.clock.Now();
  std::string valid_sa = f.Token(*f.ec, "web", "sa-uid");
  // An expired token: issued 1 h 2 min ago for 1 h (past the 60 s leeway). Tokens "from the
  // future" are made by issuing and then moving the verifier's clock back: the fake clock only
  // moves forward, so they are issued with a second clock.
  FakeClock past(t0 - 3600s - 120s);
  FakeClock future(t0 + 300s);
  auto issue_at = [&](FakeClock& c) {
    Result<IssuedToken> t = IssueTokenRequest(*f.rsa, {"shop", "web", "sa-uid"}, {}, nullptr, c.Now(),
                                              f.authn->api_audiences(), Duration::zero(), f.random);
    CK_CHECK(t.ok());
    return t->token;
  };
  std::string expired_jwt = issue_at(past);
  std::string not_yet_valid_jwt = issue_at(future);
  std::string wrong_audience = f.Token(*f.ec, "web", "sa-uid", {"vault"});
  std::string forged = f.Token(*f.forger, "web", "sa-uid");
  std::vector<std::string> p;
  for (std::string_view s : Split(valid_sa, '.')) p.emplace_back(s);
  std::string alg_none = Base64UrlEncode(R"({"alg":"none"})") + "." + p[1] + ".";
  std::string deleted_sa = f.Token(*f.rsa, "gone", "gone-uid");
  f.objects.erase("serviceaccounts/shop/gone");
  std::string recreated_sa = f.Token(*f.rsa, "web", "old-sa-uid");
  std::string deleted_pod = f.Token(*f.rsa, "web", "sa-uid", {}, /*bound_to_pod=*/true);
  f.objects.erase("pods/shop/web-1");

  struct Case {
    std::string name;
    std::optional<net::PeerIdentity> peer;
    std::string bearer;
    std::string reason;  // part of the logged reason
  };
  std::vector<Case> cases = {
      {"self-signed certificate", f.PeerWith(f.self_signed), "", "verifying client certificate failed"},
      {"certificate from another CA", f.PeerWith(f.foreign), "", "verifying client certificate failed"},
      {"expired certificate", f.PeerWith(f.expired), "", "certificate has expired"},
      {"garbage token", std::nullopt, "garbage", "invalid bearer token"},
      {"expired JWT", std::nullopt, expired_jwt, "service account token has expired"},
      {"JWT not yet valid", std::nullopt, not_yet_valid_jwt, "service account token is not valid yet"},
      {"JWT for another audience", std::nullopt, wrong_audience, "token audiences [\"vault\"] is invalid"},
      {"forged signature", std::nullopt, forged, "token signature is invalid"},
      {"alg none", std::nullopt, alg_none, "unexpected signature algorithm \"none\""},
      {"deleted ServiceAccount", std::nullopt, deleted_sa, "serviceaccounts \"gone\" not found"},
      {"recreated ServiceAccount", std::nullopt, recreated_sa, "service account UID (sa-uid) does not match claim"},
      {"deleted bound pod", std::nullopt, deleted_pod, "service account token has been invalidated"},
      {"bad certificate and bad token", f.PeerWith(f.foreign), "garbage", "invalid bearer token"},
  };
  ASSERT_TRUE(f.authn->Authenticate(Req(std::nullopt, valid_sa)).ok()) << "the control token is good";
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string why;
    Result<UserInfo> u = f.authn->Authenticate(Req(c.peer, c.bearer), &why);
    ASSERT_FALSE(u.ok()) << "authenticated as " << u->name;
    EXPECT_EQ(u.status().code(), Code::kUnauthorized);
    EXPECT_EQ(u.status().http_status(), 401);
    EXPECT_EQ(u.status().message(), "Unauthorized");
    EXPECT_NE(why.find(c.reason), std::string::npos) << why;
  }
  f.objects["serviceaccounts/shop/gone"] = "gone-uid";
  f.objects["pods/shop/web-1"] = "pod-uid";
}

TEST(AuthnNegative, NoCredentialsIsAnonymousUnlessDisabled) {
  Fixture& f = F();
  Result<UserInfo> u = f.authn->Authenticate(Req(std::nullopt, ""));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->name, "system:anonymous");
  EXPECT_EQ(u->groups, (std::vector<std::string>{"system:unauthenticated"}));
  EXPECT_EQ(u->authenticated_by, "anonymous");
  // Other Authorization schemes are not ours (upstream's bearer authenticator skips them).
  net::Request basic = Req(std::nullopt, "");
  basic.headers.Add("Authorization", "Basic YWxpY2U6cHc=");
  EXPECT_TRUE(f.authn->Authenticate(basic)->anonymous());

  AuthenticatorOptions o;
  o.anonymous = false;
  auto closed = Authenticator::Create(std::move(o));
  ASSERT_TRUE(closed.ok());
  std::string why;
  u = (*closed)->Authenticate(Req(std::nullopt, ""), &why);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().code(), Code::kUnauthorized);
}

TEST(AuthnPositive, EachAuthenticatorNamesItself) {
  Fixture& f = F();
  Result<UserInfo> u = f.authn->Authenticate(Req(f.PeerWith(f.alice), ""));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->name, "alice");
  EXPECT_EQ(u->groups, (std::vector<std::string>{"dev", "ops", "system:authenticated"}));
  EXPECT_EQ(u->authenticated_by, "x509");

  u = f.authn->Authenticate(Req(std::nullopt, "file-token"));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->name, "carol");
  EXPECT_EQ(u->uid, "u-carol");
  EXPECT_EQ(u->groups, (std::vector<std::string>{"admins", "system:authenticated"}));
  EXPECT_EQ(u->authenticated_by, "token-file");

  for (TokenIssuer* issuer : {f.rsa.get(), f.ec.get()}) {
    SCOPED_TRACE(issuer->algorithm());
    u = f.authn->Authenticate(Req(std::nullopt, f.Token(*issuer, "web", "sa-uid", {}, /*bound_to_pod=*/true)));
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->name, "system:serviceaccount:shop:web");
    EXPECT_EQ(u->uid, "sa-uid");
    EXPECT_EQ(u->groups, (std::vector<std::string>{"system:serviceaccounts", "system:serviceaccounts:shop",
                                                    "system:authenticated"}));
    EXPECT_EQ(u->authenticated_by, "serviceaccount");
    EXPECT_EQ(u->extra.at("authentication.kubernetes.io/pod-name"), (std::vector<std::string>{"web-1"}));
    EXPECT_EQ(u->extra.at("authentication.kubernetes.io/pod-uid"), (std::vector<std::string>{"pod-uid"}));
    EXPECT_EQ(u->extra.at("authentication.kubernetes.io/node-name"), (std::vector<std::string>{"node-1"}));
    ASSERT_EQ(u->extra.at("authentication.kubernetes.io/credential-id").size(), 1u);
    EXPECT_EQ(u->extra.at("authentication.kubernetes.io/credential-id")[0].rfind("JTI=", 0), 0u);
  }

  // A verified certificate wins over a token; a certificate that does not verify does not stop a
  // good token (upstream's union authenticator goes on after an error).
  u = f.authn->Authenticate(Req(f.PeerWith(f.alice), "file-token"));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->name, "alice");
  u = f.authn->Authenticate(Req(f.PeerWith(f.foreign), "file-token"));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->name, "carol");

  // A token still valid within the leeway after exp: 1 h + 60 s.
  std::string tok = f.Token(*f.rsa, "web", "sa-uid");
  f.clock.Advance(3600s + 60s);
  EXPECT_TRUE(f.authn->Authenticate(Req(std::nullopt, tok)).ok());
  f.clock.Advance(1s);
  EXPECT_FALSE(f.authn->Authenticate(Req(std::nullopt, tok)).ok());
}

TEST(TokenReview, AudiencesAreMatched) {
  Fixture& f = F();
  EXPECT_EQ(f.authn->api_audiences(), (std::vector<std::string>{kIssuer})) << "default: the issuer";
  std::string tok = f.Token(*f.ec, "web", "sa-uid", {"vault", kIssuer});
  std::vector<std::string> matched;
  Result<UserInfo> u = f.authn->AuthenticateToken(tok, {"vault"}, &matched);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->name, "system:serviceaccount:shop:web");
  EXPECT_EQ(matched, (std::vector<std::string>{"vault"}));
  u = f.authn->AuthenticateToken(tok, {}, &matched);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(matched, (std::vector<std::string>{kIssuer}));
  u = f.authn->AuthenticateToken(tok, {"elsewhere"}, &matched);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().code(), Code::kUnauthorized);
  EXPECT_NE(u.status().message().find("is invalid for the target audiences [\"elsewhere\"]"), std::string::npos);

  // Token-file tokens are for the API audiences only.
  u = f.authn->AuthenticateToken("file-token", {}, &matched);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(matched, (std::vector<std::string>{kIssuer}));
  u = f.authn->AuthenticateToken("file-token", {"vault"}, &matched);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().message(), "invalid bearer token");
  EXPECT_TRUE(f.authn->LookupToken("file-token").has_value());
  EXPECT_FALSE(f.authn->LookupToken("nope").has_value());
}

TEST(AuthenticatorOptions, KeysAndIssuersGoTogether) {
  AuthenticatorOptions o;
  o.service_account_key_pems = {F().ec_key};
  auto a = Authenticator::Create(o);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(), "--service-account-issuer: required when --service-account-key-file is set");
  o.service_account_key_pems.clear();
  o.service_account_issuers = {kIssuer};
  EXPECT_FALSE(Authenticator::Create(o).ok());
  o.service_account_key_files = {"/nonexistent/sa.pub"};
  a = Authenticator::Create(o);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(), "--service-account-key-file: cannot read /nonexistent/sa.pub");
}

// A real TLS server with the client CA: the handshake with each bad certificate completes, the
// handler sees presented=1 verified=0 and the chain answers 401 before the inner handler runs.
TEST(AuthnOverTls, BadClientCertificatesAreUnauthorizedAfterTheHandshake) {
  Fixture& f = F();
  std::atomic<int> inner_calls{0};
  net::HttpServerOptions so;
  so.tls_config.cert_pem = f.server.cert_pem;
  so.tls_config.key_pem = f.server.key_pem;
  so.tls_config.client_ca_pem = f.ca.cert_pem;
  net::HttpServer server(so, [&](net::Request req, std::shared_ptr<net::ResponseWriter> w) {
    std::string peer = std::string("presented=") + (req.peer.client_cert_presented ? "1" : "0") +
                       " verified=" + (req.peer.client_cert_verified ? "1" : "0");
    std::string why;
    Result<UserInfo> u = f.authn->Authenticate(req, &why);
    if (!u.ok()) return w->Respond(401, {{"X-Peer", peer}}, why);
    ++inner_calls;
    w->Respond(200, {{"X-Peer", peer}}, u->name + " via " + u->authenticated_by);
  });
  ASSERT_TRUE(server.Start().ok());
  auto client_with = [&](const pki::KeyAndCert* cert) {
    net::HttpClientOptions o;
    o.port = server.port();
    o.tls_config.ca_pem = f.ca.cert_pem;
    if (cert) {
      o.tls_config.cert_pem = cert->cert_pem;
      o.tls_config.key_pem = cert->key_pem;
    }
    return std::make_unique<net::HttpClient>(o);
  };
  struct Case {
    std::string name;
    const pki::KeyAndCert* cert;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{{"self-signed", &f.self_signed, "verifying client certificate failed"},
                                         {"another CA", &f.foreign, "verifying client certificate failed"},
                                         {"expired", &f.expired, "certificate has expired"}}) {
    SCOPED_TRACE(c.name);
    Result<net::Response> r = client_with(c.cert)->Do({"GET", "/api/v1/pods", {}, ""});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(r->headers.Get("X-Peer"), "presented=1 verified=0");
    EXPECT_NE(r->body.find(c.error), std::string::npos) << r->body;
  }
  EXPECT_EQ(inner_calls.load(), 0);

  Result<net::Response> r = client_with(&f.alice)->Do({"GET", "/api/v1/pods", {}, ""});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->headers.Get("X-Peer"), "presented=1 verified=1");
  EXPECT_EQ(r->body, "alice via x509");
  r = client_with(nullptr)->Do({"GET", "/api/v1/pods", {}, ""});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "system:anonymous via anonymous");
  EXPECT_EQ(inner_calls.load(), 2);
  server.Stop();
}

}  // namespace
}  // namespace ck::apiserver
