#include "apiserver/auth/impersonation.h"

#include <gtest/gtest.h>

#include <set>

namespace ck::apiserver {
namespace {

// Allows exactly the listed "<group>/<resource>[/<subresource>]/<namespace>/<name>" impersonations
// and records every question it was asked.
class FakeAuthorizer : public Authorizer {
 public:
  explicit FakeAuthorizer(std::set<std::string> allowed) : allowed_(std::move(allowed)) {}
  Decision Authorize(const Attributes& a, std::string* reason) const override {
    std::string key = a.api_group + "/" + a.resource + (a.subresource.empty() ? "" : "/" + a.subresource) + "/" +
                      a.namespace_ + "/" + a.name;
    asked.push_back(a.user->name + " " + a.verb + " " + key);
    if (allowed_.count(key)) return Decision::kAllow;
    if (key.find("deny-with-reason") != std::string::npos) *reason = "no RBAC policy matched";
    return Decision::kNoOpinion;
  }
  mutable std::vector<std::string> asked;

 private:
  std::set<std::string> allowed_;
};

UserInfo Bob() {
  UserInfo u;
  u.name = "bob";
  u.groups = {"dev", "system:authenticated"};
  u.authenticated_by = "x509";
  return u;
}

TEST(Impersonate, NoHeadersLeavesTheRequesterUnchanged) {
  FakeAuthorizer authz({});
  net::Headers h{{"Authorization", "Bearer x"}};
  EXPECT_FALSE(HasImpersonationHeaders(h));
  Result<UserInfo> u = Impersonate(Bob(), h, authz);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->name, "bob");
  EXPECT_EQ(u->authenticated_by, "x509");
  EXPECT_TRUE(authz.asked.empty());
}

TEST(Impersonate, UserAllowedGetsSystemAuthenticated) {
  FakeAuthorizer authz({"/users//alice"});
  net::Headers h{{"Impersonate-User", "alice"}};
  EXPECT_TRUE(HasImpersonationHeaders(h));
  Result<UserInfo> u = Impersonate(Bob(), h, authz);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->name, "alice");
  EXPECT_EQ(u->groups, (std::vector<std::string>{"system:authenticated"}));
  EXPECT_EQ(authz.asked, (std::vector<std::string>{"bob impersonate /users//alice"}));
}

TEST(Impersonate, DeniedWithUpstreamsMessage) {
  FakeAuthorizer authz({});
  Result<UserInfo> u = Impersonate(Bob(), net::Headers{{"Impersonate-User", "x"}}, authz);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().code(), Code::kForbidden);
  EXPECT_EQ(u.status().message(),
            "users \"x\" is forbidden: User \"bob\" cannot impersonate resource \"users\" in API group \"\" at the "
            "cluster scope");
  u = Impersonate(Bob(), net::Headers{{"Impersonate-User", "deny-with-reason"}}, authz);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().message(),
            "users \"deny-with-reason\" is forbidden: User \"bob\" cannot impersonate resource \"users\" in API group "
            "\"\" at the cluster scope: no RBAC policy matched");
}

TEST(Impersonate, ServiceAccountIsCheckedInItsNamespaceAndGetsItsGroups) {
  FakeAuthorizer authz({"/serviceaccounts/shop/web"});
  Result<UserInfo> u = Impersonate(Bob(), net::Headers{{"Impersonate-User", "system:serviceaccount:shop:web"}}, authz);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->name, "system:serviceaccount:shop:web");
  EXPECT_EQ(u->groups, (std::vector<std::string>{"system:serviceaccounts", "system:serviceaccounts:shop",
                                                  "system:authenticated"}));
  FakeAuthorizer deny({});
  u = Impersonate(Bob(), net::Headers{{"Impersonate-User", "system:serviceaccount:shop:web"}}, deny);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().message(),
            "serviceaccounts \"web\" is forbidden: User \"bob\" cannot impersonate resource \"serviceaccounts\" in API "
            "group \"\" in the namespace \"shop\"");
}

TEST(Impersonate, GroupsUidAndExtrasAreEachChecked) {
  FakeAuthorizer authz({"/users//alice", "/groups//ops", "/groups//qa", "authentication.k8s.io/uids//u-1",
                        "authentication.k8s.io/userextras/scopes/view//read", "authentication.k8s.io/userextras/scopes/view//write"});
  net::Headers h{{"Impersonate-User", "alice"},          {"Impersonate-Group", "ops"},
                 {"Impersonate-Group", "qa"},            {"Impersonate-Uid", "u-1"},
                 {"Impersonate-Extra-Scopes%2FView", "read"}, {"impersonate-extra-scopes%2fview", "write"}};
  Result<UserInfo> u = Impersonate(Bob(), h, authz);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->name, "alice");
  EXPECT_EQ(u->uid, "u-1");
  EXPECT_EQ(u->groups, (std::vector<std::string>{"ops", "qa", "system:authenticated"}));
  EXPECT_EQ(u->extra, (std::map<std::string, std::vector<std::string>>{{"scopes/view", {"read", "write"}}}));
  EXPECT_EQ(authz.asked, (std::vector<std::string>{
                             "bob impersonate /users//alice", "bob impersonate /groups//ops",
                             "bob impersonate /groups//qa",
                             "bob impersonate authentication.k8s.io/userextras/scopes/view//read",
                             "bob impersonate authentication.k8s.io/userextras/scopes/view//write",
                             "bob impersonate authentication.k8s.io/uids//u-1"}));

  FakeAuthorizer no_extra({"/users//alice"});
  u = Impersonate(Bob(), net::Headers{{"Impersonate-User", "alice"}, {"Impersonate-Extra-Scopes", "x"}}, no_extra);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().message(),
            "userextras.authentication.k8s.io \"x\" is forbidden: User \"bob\" cannot impersonate resource "
            "\"userextras/scopes\" in API group \"authentication.k8s.io\" at the cluster scope");
  u = Impersonate(Bob(), net::Headers{{"Impersonate-User", "alice"}, {"Impersonate-Uid", "u-2"}}, no_extra);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().message(),
            "uids.authentication.k8s.io \"u-2\" is forbidden: User \"bob\" cannot impersonate resource \"uids\" in API "
            "group \"authentication.k8s.io\" at the cluster scope");
}

TEST(Impersonate, AskedForAuthenticationGroupsAreKept) {
  FakeAuthorizer authz({"/users//alice", "/groups//system:unauthenticated", "/users//system:anonymous"});
  Result<UserInfo> u = Impersonate(
      Bob(), net::Headers{{"Impersonate-User", "alice"}, {"Impersonate-Group", "system:unauthenticated"}}, authz);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->groups, (std::vector<std::string>{"system:unauthenticated"}));
  u = Impersonate(Bob(), net::Headers{{"Impersonate-User", "system:anonymous"}}, authz);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->groups, (std::vector<std::string>{"system:unauthenticated"}));
  EXPECT_TRUE(u->anonymous());
}

TEST(Impersonate, GroupsWithoutAUserAreRejected) {
  FakeAuthorizer authz({"/groups//ops"});
  Result<UserInfo> u = Impersonate(Bob(), net::Headers{{"Impersonate-Group", "ops"}}, authz);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().code(), Code::kInternal);
  EXPECT_TRUE(authz.asked.empty());
}

}  // namespace
}  // namespace ck::apiserver
