#include "apiserver/auth/token_request.h"

#include <gtest/gtest.h>

#include "apiserver/auth/auth_testing.h"

namespace ck::apiserver {
namespace {

using namespace std::chrono_literals;
namespace authnv1 = k8s::io::api::authentication::v1;

class TokenRequestTest : public ::testing::Test {
 protected:
  Result<IssuedToken> Issue(const authnv1::TokenRequestSpec& spec, Duration max = Duration::zero(),
                            BoundObjectResolver resolve = nullptr) {
    return IssueTokenRequest(*issuer_, sa_, spec, resolve, clock_.Now(), {"https://ck.local"}, max, random_);
  }

  // The claims of a token issued here, read back through a verifier.
  ServiceAccountClaims ClaimsOf(const std::string& token) {
    auto v = TokenVerifier::Create({issuer_pub_}, {"https://ck.local"}, {"https://ck.local"});
    CK_CHECK(v.ok());
    Result<ServiceAccountClaims> c = (*v)->Verify(token, clock_.Now(), {"https://ck.local", "vault"});
    CK_CHECK(c.ok()) << c.status().ToString();
    return *c;
  }

  void SetUp() override {
    issuer_key_ = testing::NewEcKeyPem();
    issuer_pub_ = testing::PublicPem(issuer_key_);
    auto i = TokenIssuer::Create(issuer_key_, "https://ck.local");
    CK_CHECK(i.ok());
    issuer_ = std::move(*i);
  }

  std::string issuer_key_, issuer_pub_;
  std::unique_ptr<TokenIssuer> issuer_;
  ServiceAccountIdentity sa_{"shop", "web", "sa-uid"};
  FakeClock clock_;
  FakeRandom random_;
};

int64_t Unix(WallTime t) { return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count(); }

TEST_F(TokenRequestTest, DefaultsToOneHourAndTheApiAudiences) {
  Result<IssuedToken> t = Issue(authnv1::TokenRequestSpec());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->expiration_seconds, 3600);
  EXPECT_EQ(t->expiration_timestamp, clock_.Now() + 3600s);
  EXPECT_EQ(t->audiences, (std::vector<std::string>{"https://ck.local"}));
  EXPECT_TRUE(t->warnings.empty());
  ServiceAccountClaims c = ClaimsOf(t->token);
  EXPECT_EQ(c.subject, "system:serviceaccount:shop:web");
  EXPECT_EQ(c.issued_at, Unix(clock_.Now()));
  EXPECT_EQ(c.not_before, Unix(clock_.Now()));
  EXPECT_EQ(c.expiry, Unix(clock_.Now()) + 3600);
  EXPECT_EQ(c.service_account_uid, "sa-uid");
  EXPECT_EQ(c.jti, t->jti);
  EXPECT_EQ(c.jti.size(), 36u);
  EXPECT_EQ(c.jti[14], '4') << "a version 4 UUID";
  EXPECT_FALSE(c.pod || c.secret || c.node);
}

TEST_F(TokenRequestTest, MinimumIsTenMinutesWithUpstreamsMessage) {
  authnv1::TokenRequestSpec spec;
  spec.set_expirationseconds(599);
  Result<IssuedToken> t = Issue(spec);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Code::kInvalid);
  EXPECT_EQ(t.status().message(),
            "TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid value: 599: may not "
            "specify a duration less than 10 minutes");
  spec.set_expirationseconds(600);
  t = Issue(spec);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->expiration_timestamp, clock_.Now() + 600s);
  EXPECT_EQ(ClaimsOf(t->token).expiry, Unix(clock_.Now()) + 600);
  spec.set_expirationseconds((int64_t(1) << 32) + 1);
  t = Issue(spec);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("may not specify a duration larger than 2^32 seconds"), std::string::npos);
}

TEST_F(TokenRequestTest, MaxExpirationShortensWithAWarning) {
  authnv1::TokenRequestSpec spec;
  spec.set_expirationseconds(86400);
  spec.add_audiences("vault");
  Result<IssuedToken> t = Issue(spec, 7200s);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->expiration_seconds, 7200);
  EXPECT_EQ(t->warnings, (std::vector<std::string>{"requested expiration of 86400 seconds shortened to 7200 seconds"}));
  EXPECT_EQ(t->audiences, (std::vector<std::string>{"vault"}));
  EXPECT_EQ(ClaimsOf(t->token).audiences, (std::vector<std::string>{"vault"}));
}

TEST_F(TokenRequestTest, BoundObjectsPodSecretNodeOnly) {
  std::vector<std::string> asked;
  BoundObjectResolver resolve = [&](std::string_view kind, std::string_view name) -> Result<BoundObjectInfo> {
    asked.push_back(std::string(kind) + "/" + std::string(name));
    if (name == "missing") return NotFound("pods \"missing\" not found");
    BoundObjectInfo info;
    info.uid = std::string(name) + "-uid";
    info.service_account_name = name == "other-pod" ? "default" : "web";
    if (kind == "Pod") {
      info.node_name = "node-1";
      info.node_uid = "node-uid";
    }
    return info;
  };
  authnv1::TokenRequestSpec spec;
  auto* ref = spec.mutable_boundobjectref();
  ref->set_apiversion("v1");
  ref->set_kind("Pod");
  ref->set_name("web-1");
  Result<IssuedToken> t = Issue(spec, Duration::zero(), resolve);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ServiceAccountClaims c = ClaimsOf(t->token);
  ASSERT_TRUE(c.pod && c.node);
  EXPECT_EQ(c.pod->uid, "web-1-uid");
  EXPECT_EQ(c.node->name, "node-1");
  EXPECT_EQ(c.node->uid, "node-uid");

  ref->set_uid("stale");
  t = Issue(spec, Duration::zero(), resolve);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Code::kConflict);
  EXPECT_EQ(t.status().message(),
            "Operation cannot be fulfilled on Pod \"web-1\": the UID in the bound object reference (stale) does not "
            "match the UID in record. The object might have been deleted and then recreated");
  ref->clear_uid();

  ref->set_name("other-pod");
  t = Issue(spec, Duration::zero(), resolve);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Code::kBadRequest);
  EXPECT_EQ(t.status().message(),
            "cannot bind token for serviceaccount \"web\" to pod running with different serviceaccount name.");

  ref->set_name("missing");
  t = Issue(spec, Duration::zero(), resolve);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Code::kNotFound);

  ref->set_kind("Secret");
  ref->set_name("s1");
  t = Issue(spec, Duration::zero(), resolve);
  ASSERT_TRUE(t.ok());
  c = ClaimsOf(t->token);
  ASSERT_TRUE(c.secret.has_value());
  EXPECT_EQ(c.secret->uid, "s1-uid");
  EXPECT_FALSE(c.pod || c.node);

  ref->set_kind("Node");
  ref->set_name("node-9");
  t = Issue(spec, Duration::zero(), resolve);
  ASSERT_TRUE(t.ok());
  c = ClaimsOf(t->token);
  ASSERT_TRUE(c.node.has_value());
  EXPECT_EQ(c.node->uid, "node-9-uid");

  size_t asked_before = asked.size();
  ref->set_kind("ConfigMap");
  t = Issue(spec, Duration::zero(), resolve);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Code::kBadRequest);
  EXPECT_EQ(t.status().message(), "cannot bind token to object of type /v1, Kind=ConfigMap");
  ref->set_apiversion("apps/v1");
  ref->set_kind("Pod");
  t = Issue(spec, Duration::zero(), resolve);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "cannot bind token to object of type apps/v1, Kind=Pod");
  EXPECT_EQ(asked.size(), asked_before) << "rejected kinds are not looked up";
}

TEST_F(TokenRequestTest, ValidationComesBeforeTheBoundObjectLookup) {
  int lookups = 0;
  BoundObjectResolver resolve = [&](std::string_view, std::string_view) -> Result<BoundObjectInfo> {
    ++lookups;
    return BoundObjectInfo{"u", "web", "", ""};
  };
  authnv1::TokenRequestSpec spec;
  spec.set_expirationseconds(60);
  spec.mutable_boundobjectref()->set_kind("Secret");
  spec.mutable_boundobjectref()->set_apiversion("v1");
  spec.mutable_boundobjectref()->set_name("s");
  EXPECT_EQ(Issue(spec, Duration::zero(), resolve).status().code(), Code::kInvalid);
  EXPECT_EQ(lookups, 0);
}

}  // namespace
}  // namespace ck::apiserver
