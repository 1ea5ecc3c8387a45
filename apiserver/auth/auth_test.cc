#include "apiserver/auth/auth.h"

#include <gtest/gtest.h>

namespace ck::apiserver {
namespace {

net::Request WithBearer(std::string token) {
  net::Request r;
  r.headers.Add("Authorization", "Bearer " + token);
  return r;
}

TEST(TokenFile, ParsesUsersUidsAndQuotedGroups) {
  auto a = Authenticator::FromTokenCsv("# comment\nt1,alice,u1,\"dev,ops\"\n\nt2,bob,u2\n", "tokens.csv");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  Result<UserInfo> u = (*a)->Authenticate(WithBearer("t1"));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->name, "alice");
  EXPECT_EQ(u->uid, "u1");
  EXPECT_EQ(u->groups, (std::vector<std::string>{"dev", "ops", "system:authenticated"}));
  u = (*a)->Authenticate(WithBearer("t2"));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->groups, (std::vector<std::string>{"system:authenticated"}));
}

TEST(TokenFile, MalformedLinesNameFileAndLine) {
  auto a = Authenticator::FromTokenCsv("t1,alice,u1\nonly-two,cols\n", "tokens.csv");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(), "token file tokens.csv:2: expected at least 3 columns (token,user,uid), got 2");
  a = Authenticator::FromTokenCsv("t1,alice,u1,\"dev\n", "x");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("x:1: unterminated quoted field"), std::string::npos);
  EXPECT_FALSE(Authenticator::Create("/nonexistent/tokens.csv").ok());
}

TEST(Authenticate, UnknownTokenIsUnauthorizedNoCredentialsIsAnonymous) {
  auto a = Authenticator::FromTokenCsv("t1,alice,u1\n", "f");
  ASSERT_TRUE(a.ok());
  Result<UserInfo> u = (*a)->Authenticate(WithBearer("nope"));
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().code(), Code::kUnauthorized);
  u = (*a)->Authenticate(net::Request{});
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->anonymous());
  EXPECT_EQ(u->groups, (std::vector<std::string>{"system:unauthenticated"}));
}

TEST(Authenticate, ClientCertificateGivesCnAndOrganizations) {
  auto a = Authenticator::FromTokenCsv("", "");
  ASSERT_TRUE(a.ok());
  net::Request r;
  r.peer.client_cert_verified = true;
  r.peer.cert_common_name = "kubernetes-admin";
  r.peer.cert_organizations = {"system:masters"};
  Result<UserInfo> u = (*a)->Authenticate(r);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->name, "kubernetes-admin");
  EXPECT_EQ(u->groups, (std::vector<std::string>{"system:masters", "system:authenticated"}));
  // No certificate presented and not verified: anonymous (a presented certificate that does not
  // verify is 401, see authn_negative_test.cc).
  r.peer.client_cert_verified = false;
  u = (*a)->Authenticate(r);
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->anonymous());
}

TEST(Authorizer, ModesAndChain) {
  UserInfo u;
  u.name = "bob";
  Attributes at;
  at.user = &u;
  at.verb = "delete";
  at.resource_request = true;
  at.resource = "pods";
  at.name = "x";
  at.namespace_ = "ns";
  std::string reason;
  auto allow = NewAuthorizer("AlwaysAllow");
  ASSERT_TRUE(allow.ok());
  EXPECT_EQ((*allow)->Authorize(at, &reason), Decision::kAllow);
  auto deny = NewAuthorizer("AlwaysDeny,AlwaysAllow");
  ASSERT_TRUE(deny.ok());
  EXPECT_EQ((*deny)->Authorize(at, &reason), Decision::kDeny);
  auto bad = NewAuthorizer("Sometimes");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "--authorization-mode: unknown authorization mode \"Sometimes\" (allowed: AlwaysAllow, AlwaysDeny)");
  EXPECT_EQ(ForbiddenMessage(at, ""),
            "pods \"x\" is forbidden: User \"bob\" cannot delete resource \"pods\" in API group \"\" in the namespace \"ns\"");
  at.namespace_.clear();
  at.name.clear();
  at.resource = "nodes";
  at.verb = "list";
  EXPECT_EQ(ForbiddenMessage(at, "no rule"),
            "nodes is forbidden: User \"bob\" cannot list resource \"nodes\" in API group \"\" at the cluster scope: no rule");
}

}  // namespace
}  // namespace ck::apiserver
