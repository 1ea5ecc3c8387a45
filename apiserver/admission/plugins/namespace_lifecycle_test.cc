#include "apiserver/admission/plugins/namespace_lifecycle.h"

#include <gtest/gtest.h>

#include "apiserver/admission/plugins/test_util.h"

namespace ck::apiserver::admission::plugins {
namespace {

using namespace testing;  // NOLINT

class NamespaceLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_.Put("namespaces", MakeNamespace("default"));
    source_.Put("namespaces", MakeNamespace("shop"));
    source_.Put("namespaces", MakeNamespace("leaving", "Terminating"));
  }
  Status Check(const Attributes& a) {
    Context ctx;
    return plugin_.Validate(a, ctx);
  }
  FakeObjectSource source_;
  NamespaceLifecycle plugin_{source_};
};

TEST_F(NamespaceLifecycleTest, CreateInExistingNamespaceIsAllowed) {
  corev1::Pod pod = MakePod("web").Namespace("shop");
  EXPECT_TRUE(Check(PodCreate(&pod)).ok());
}

TEST_F(NamespaceLifecycleTest, CreateInMissingNamespaceIsNotFound) {
  corev1::Pod pod = MakePod("web").Namespace("nowhere");
  Status s = Check(PodCreate(&pod));
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "namespaces \"nowhere\" not found");
}

TEST_F(NamespaceLifecycleTest, CreateInTerminatingNamespaceIsForbidden) {
  corev1::Pod pod = MakePod("web").Namespace("leaving");
  Status s = Check(PodCreate(&pod));
  EXPECT_EQ(s.code(), Code::kForbidden);
  EXPECT_EQ(s.message(),
            "pods \"web\" is forbidden: unable to create new content in namespace leaving because it is being "
            "terminated");
}

TEST_F(NamespaceLifecycleTest, DeletionTimestampAloneMeansTerminating) {
  corev1::Namespace ns = MakeNamespace("going");
  api::SetTime(ns.mutable_metadata()->mutable_deletiontimestamp(), WallTime(std::chrono::seconds(1700000000)));
  source_.Put("namespaces", ns);
  corev1::ConfigMap cm;
  cm.mutable_metadata()->set_generatename("cfg-");
  Status s = Check(Attrs(Operation::kCreate, Res("", "configmaps"), "going", "", &cm));
  EXPECT_EQ(s.code(), Code::kForbidden);
  // Before the name is generated, upstream names the object by its generateName.
  EXPECT_EQ(s.message(),
            "configmaps \"cfg-\" is forbidden: unable to create new content in namespace going because it is being "
            "terminated");
}

TEST_F(NamespaceLifecycleTest, UpdatesAndDeletesInTerminatingNamespaceAreAllowed) {
  corev1::Pod pod = MakePod("web").Namespace("leaving");
  EXPECT_TRUE(Check(Attrs(Operation::kUpdate, Res("", "pods"), "leaving", "web", &pod, &pod)).ok());
  EXPECT_TRUE(Check(Attrs(Operation::kDelete, Res("", "pods"), "leaving", "web", nullptr, &pod)).ok());
  // Deletes in a namespace that is already gone are fine too.
  EXPECT_TRUE(Check(Attrs(Operation::kDelete, Res("", "pods"), "nowhere", "web", nullptr, &pod)).ok());
}

TEST_F(NamespaceLifecycleTest, ImmortalNamespacesCannotBeDeleted) {
  for (const char* name : {"default", "kube-system", "kube-public"}) {
    corev1::Namespace ns = MakeNamespace(name);
    Status s = Check(Attrs(Operation::kDelete, Res("", "namespaces"), "", name, nullptr, &ns));
    EXPECT_EQ(s.code(), Code::kForbidden) << name;
    EXPECT_EQ(s.message(), std::string("namespaces \"") + name + "\" is forbidden: this namespace may not be deleted");
  }
  corev1::Namespace shop = MakeNamespace("shop");
  EXPECT_TRUE(Check(Attrs(Operation::kDelete, Res("", "namespaces"), "", "shop", nullptr, &shop)).ok());
}

TEST_F(NamespaceLifecycleTest, NamespacesAndClusterScopedObjectsAreNotChecked) {
  corev1::Namespace ns = MakeNamespace("brand-new");
  EXPECT_TRUE(Check(Attrs(Operation::kCreate, Res("", "namespaces"), "", "brand-new", &ns)).ok());
  corev1::Node node = api::testing::MakeNode("node-1");
  EXPECT_TRUE(Check(Attrs(Operation::kCreate, Res("", "nodes"), "", "node-1", &node)).ok());
}

}  // namespace
}  // namespace ck::apiserver::admission::plugins
