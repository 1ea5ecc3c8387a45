// The controllers against FakeApi: each one's Sync made the world right from any starting point,
// and the --controllers rules of the table.
#include <gtest/gtest.h>

#include <google/protobuf/util/message_differencer.h>

#include "apiserver/rbac/aggregation.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/rbac_v1.pb.h"
#include "common/client/cache/cache_test_util.h"
#include "common/client/testing/fake_api.h"
#include "controller-manager/controller_table.h"
#include "controller-manager/controllers/clusterrole_aggregation_controller.h"
#include "controller-manager/controllers/root_ca_publisher.h"
#include "controller-manager/controllers/serviceaccounts_controller.h"

namespace ck::controller_manager {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
namespace rbacv1 = ::k8s::io::api::rbac::v1;
using namespace std::chrono_literals;
using client::testing::WaitFor;
using google::protobuf::util::MessageDifferencer;

const client::ResourceInfo& Res(const google::protobuf::Descriptor* d) {
  return client::SharedInformerFactory::ResourceOfMessage(d->full_name());
}

class ControllersTest : public ::testing::Test {
 protected:
  ControllersTest()
      : api_(clock_, random_),
        factory_(api_, clock_, random_),
        events_(api_, clock_, client::EventBroadcasterOptions{}, random_),
        context_{api_, factory_, clock_, random_, registry_, events_, settings_, "-----BEGIN CERTIFICATE-----\nroot\n"} {}
  ~ControllersTest() override { factory_.Shutdown(); }

  void AddNamespace(const std::string& name, bool terminating = false) {
    corev1::Namespace ns;
    ns.mutable_metadata()->set_name(name);
    ns.mutable_status()->set_phase(terminating ? "Terminating" : "Active");
    ASSERT_TRUE(api_.Create(Res(corev1::Namespace::descriptor()), "", ns).ok());
  }
  void StartAll(ManagedController& c) {
    factory_.Start();
    ASSERT_TRUE(c.Start(c.Informers(), 20s).ok());
  }
  bool Exists(const google::protobuf::Descriptor* d, const std::string& ns, const std::string& name) {
    return api_.Get(Res(d), ns, name).ok();
  }

  RealClock& clock_ = RealClock::Get();
  FakeRandom random_{7};
  metrics::Registry registry_;
  client::FakeApi api_;
  client::SharedInformerFactory factory_;
  client::EventBroadcaster events_;
  ControllerSettings settings_;
  ControllerContext context_;
};

TEST_F(ControllersTest, DefaultServiceAccountInEveryActiveNamespaceAndRecreated) {
  AddNamespace("a");
  AddNamespace("gone", /*terminating=*/true);
  ServiceAccountsController c(context_);
  StartAll(c);
  const auto* sa = corev1::ServiceAccount::descriptor();
  ASSERT_TRUE(WaitFor([&] { return Exists(sa, "a", "default"); }));
  AddNamespace("b");
  ASSERT_TRUE(WaitFor([&] { return Exists(sa, "b", "default"); }));
  ASSERT_TRUE(api_.Delete(Res(sa), "a", "default").ok());
  ASSERT_TRUE(WaitFor([&] { return Exists(sa, "a", "default"); }));
  // The terminating namespace was synced (the others were, after it) and got nothing.
  EXPECT_FALSE(Exists(sa, "gone", "default"));
  c.Stop();
}

TEST_F(ControllersTest, RootCaConfigMapPublishedAndRepaired) {
  AddNamespace("a");
  auto publisher = RootCaPublisher::New(context_);
  ASSERT_TRUE(publisher.ok());
  StartAll(**publisher);
  const auto& cms = Res(corev1::ConfigMap::descriptor());
  auto ca_of = [&](const std::string& ns) -> std::string {
    auto got = api_.Get(cms, ns, kRootCaConfigMapName);
    if (!got.ok()) return "";
    const auto& cm = static_cast<const corev1::ConfigMap&>(**got);
    if (cm.data().size() != 1 || !cm.metadata().annotations().contains(kDescriptionAnnotation)) return "";
    return cm.data().at("ca.crt");
  };
  ASSERT_TRUE(WaitFor([&] { return ca_of("a") == context_.root_ca_pem; }));
  // An edit (wrong data, an extra key, annotation removed) is put back.
  auto current = api_.Get(cms, "a", kRootCaConfigMapName);
  ASSERT_TRUE(current.ok());
  corev1::ConfigMap edited = static_cast<const corev1::ConfigMap&>(**current);
  (*edited.mutable_data())["ca.crt"] = "tampered";
  (*edited.mutable_data())["extra"] = "x";
  edited.mutable_metadata()->mutable_annotations()->clear();
  ASSERT_TRUE(api_.Update(cms, "a", edited).ok());
  ASSERT_TRUE(WaitFor([&] { return ca_of("a") == context_.root_ca_pem; }));
  ASSERT_TRUE(api_.Delete(cms, "a", kRootCaConfigMapName).ok());
  ASSERT_TRUE(WaitFor([&] { return ca_of("a") == context_.root_ca_pem; }));
  (*publisher)->Stop();
}

TEST_F(ControllersTest, RootCaPublisherNeedsACa) {
  context_.root_ca_pem.clear();
  EXPECT_EQ(RootCaPublisher::New(context_).status().code(), Code::kInvalid);
}

rbacv1::PolicyRule Rule(std::vector<std::string> verbs, std::vector<std::string> resources) {
  rbacv1::PolicyRule r;
  for (auto& v : verbs) r.add_verbs(v);
  r.add_apigroups("");
  for (auto& res : resources) r.add_resources(res);
  return r;
}

std::shared_ptr<const rbacv1::ClusterRole> Role(const std::string& name, std::map<std::string, std::string> labels,
                                                std::vector<rbacv1::PolicyRule> rules) {
  auto role = std::make_shared<rbacv1::ClusterRole>();
  role->mutable_metadata()->set_name(name);
  for (auto& [k, v] : labels) (*role->mutable_metadata()->mutable_labels())[k] = v;
  for (auto& r : rules) *role->add_rules() = r;
  return role;
}

TEST(AggregateRulesTest, SelectorsInOrderRolesByNameRulesDeduplicated) {
  rbacv1::ClusterRole agg;
  agg.mutable_metadata()->set_name("monitoring");
  (*agg.mutable_aggregationrule()->add_clusterroleselectors()->mutable_matchlabels())["rbac.example.com/aggregate-to-monitoring"] = "true";
  auto* second = agg.mutable_aggregationrule()->add_clusterroleselectors();
  auto* expr = second->add_matchexpressions();
  expr->set_key("tier");
  expr->set_operator_("In");
  expr->add_values("extra");
  const std::map<std::string, std::string> mon = {{"rbac.example.com/aggregate-to-monitoring", "true"}};
  std::vector<std::shared_ptr<const rbacv1::ClusterRole>> all = {
      Role("z-endpoints", mon, {Rule({"get"}, {"endpoints"}), Rule({"get"}, {"services"})}),
      Role("a-services", mon, {Rule({"get"}, {"services"}), Rule({"list"}, {"services"})}),
      Role("unlabelled", {}, {Rule({"*"}, {"*"})}),
      Role("extra", {{"tier", "extra"}}, {Rule({"watch"}, {"pods"}), Rule({"get"}, {"endpoints"})}),
      Role("monitoring", mon, {Rule({"delete"}, {"nodes"})}),  // itself: skipped
  };
  std::vector<const rbacv1::ClusterRole*> candidates;
  for (const auto& r : all) candidates.push_back(r.get());
  Result<std::vector<rbacv1::PolicyRule>> aggregated = apiserver::rbac::AggregatedRules(agg, candidates);
  ASSERT_TRUE(aggregated.ok()) << aggregated.status().ToString();
  std::vector<rbacv1::PolicyRule> got = *aggregated;
  std::vector<rbacv1::PolicyRule> want = {Rule({"get"}, {"services"}), Rule({"list"}, {"services"}),
                                          Rule({"get"}, {"endpoints"}), Rule({"watch"}, {"pods"})};
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(got[i], want[i])) << i << ": " << got[i].ShortDebugString();
  }
  // No selectors: nothing aggregated.
  rbacv1::ClusterRole empty;
  empty.mutable_aggregationrule();
  Result<std::vector<rbacv1::PolicyRule>> none = apiserver::rbac::AggregatedRules(empty, candidates);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(ControllersTest, AggregatedClusterRoleFollowsLabelledRoles) {
  const auto& roles = Res(rbacv1::ClusterRole::descriptor());
  rbacv1::ClusterRole agg;
  agg.mutable_metadata()->set_name("agg");
  (*agg.mutable_aggregationrule()->add_clusterroleselectors()->mutable_matchlabels())["agg"] = "true";
  ASSERT_TRUE(api_.Create(roles, "", agg).ok());
  ClusterRoleAggregationController c(context_);
  StartAll(c);
  auto rules_of = [&] {
    auto got = api_.Get(roles, "", "agg");
    return got.ok() ? static_cast<const rbacv1::ClusterRole&>(**got).rules_size() : -1;
  };
  ASSERT_TRUE(api_.Create(roles, "", *Role("r1", {{"agg", "true"}}, {Rule({"get"}, {"pods"})})).ok());
  ASSERT_TRUE(WaitFor([&] { return rules_of() == 1; }));
  ASSERT_TRUE(api_.Create(roles, "", *Role("r2", {{"agg", "true"}}, {Rule({"list"}, {"pods"})})).ok());
  ASSERT_TRUE(WaitFor([&] { return rules_of() == 2; }));
  ASSERT_TRUE(api_.Delete(roles, "", "r1").ok());
  ASSERT_TRUE(WaitFor([&] { return rules_of() == 1; }));
  c.Stop();
}

TEST(ControllerTableTest, ControllersFlagFollowsUpstreamRules) {
  ControllerDescriptor on{"a-controller", {"a"}, true, nullptr};
  ControllerDescriptor off{"b-controller", {"b"}, false, nullptr};
  EXPECT_TRUE(IsControllerEnabled(on, {"*"}));
  EXPECT_FALSE(IsControllerEnabled(off, {"*"}));
  EXPECT_TRUE(IsControllerEnabled(off, {"*", "b"}));
  EXPECT_TRUE(IsControllerEnabled(off, {"b-controller"}));
  EXPECT_FALSE(IsControllerEnabled(on, {"*", "-a"}));
  EXPECT_FALSE(IsControllerEnabled(on, {"-a-controller", "*"}));
  EXPECT_FALSE(IsControllerEnabled(on, {"b"}));  // no star: only what is named
  EXPECT_TRUE(IsControllerEnabled(on, {"a", "-a"}));  // the first mention decides

  EXPECT_TRUE(ValidateControllerList({"*", "-serviceaccount", "root-ca-cert-publisher"}).ok());
  EXPECT_TRUE(ValidateControllerList({"clusterrole-aggregation-controller"}).ok());
  Status bad = ValidateControllerList({"*", "-nope"});
  EXPECT_EQ(bad.code(), Code::kInvalid);
  EXPECT_EQ(bad.message(), "\"nope\" is not in the list of known controllers");
  for (const ControllerDescriptor& c : KnownControllers()) EXPECT_TRUE(c.constructor != nullptr) << c.name;
}

}  // namespace
}  // namespace ck::controller_manager
