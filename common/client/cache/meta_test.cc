#include "common/client/cache/meta.h"

#include <gtest/gtest.h>

#include "common/api/proto/core_v1.pb.h"
#include "common/api/testing/builders.h"

namespace ck::client {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
using api::testing::MakeNode;
using api::testing::MakePod;

TEST(MetaTest, ReadsObjectMetaOfAnyKind) {
  corev1::Pod pod = MakePod("web").Namespace("shop");
  pod.mutable_metadata()->set_resourceversion("42");
  const metav1::ObjectMeta* meta = api::FindMeta(pod);
  ASSERT_NE(meta, nullptr);
  EXPECT_EQ(meta, &pod.metadata());  // the object's own field, not a copy
  EXPECT_EQ(KeyOf(pod), "shop/web");
  EXPECT_EQ(ResourceVersionOf(pod), "42");

  corev1::Node node = MakeNode("node-1");
  EXPECT_EQ(KeyOf(node), "node-1");  // cluster-scoped: no namespace part

  corev1::ConfigMap cm;
  cm.mutable_metadata()->set_name("settings");
  cm.mutable_metadata()->set_namespace_("kube-system");
  EXPECT_EQ(KeyOf(cm), "kube-system/settings");
  // Twice in a row and alternating types: the per-thread cache must not mix them up.
  EXPECT_EQ(KeyOf(pod), "shop/web");
  EXPECT_EQ(KeyOf(cm), "kube-system/settings");
}

TEST(MetaTest, PartialObjectMetadata) {
  metav1::PartialObjectMetadata partial;
  partial.mutable_metadata()->set_name("x");
  partial.mutable_metadata()->set_namespace_("ns");
  partial.mutable_metadata()->set_resourceversion("7");
  EXPECT_EQ(KeyOf(partial), "ns/x");
  EXPECT_EQ(ResourceVersionOf(partial), "7");
}

TEST(MetaTest, MessagesWithoutObjectMeta) {
  corev1::PodList list;  // metadata is a ListMeta
  EXPECT_EQ(api::FindMeta(list), nullptr);
  EXPECT_EQ(KeyOf(list), "");
  EXPECT_EQ(ResourceVersionOf(list), "");
  corev1::Container container;  // no metadata at all
  EXPECT_EQ(api::FindMeta(container), nullptr);
}

TEST(MetaTest, UnsetMetadataIsEmpty) {
  corev1::Pod pod;
  const metav1::ObjectMeta* meta = api::FindMeta(pod);
  ASSERT_NE(meta, nullptr);
  EXPECT_EQ(meta->name(), "");
}

TEST(MetaTest, TypedViewSharesOwnership) {
  auto pod = std::make_shared<corev1::Pod>(MakePod("web").Namespace("shop").Obj());
  ObjectPtr untyped = pod;
  std::shared_ptr<const corev1::Pod> typed = As<corev1::Pod>(untyped);
  ASSERT_NE(typed, nullptr);
  EXPECT_EQ(typed.get(), pod.get());
  EXPECT_EQ(untyped.use_count(), 3);  // pod, untyped and typed share one count
  EXPECT_EQ(As<corev1::Node>(untyped), nullptr);
  EXPECT_EQ(As<corev1::Pod>(nullptr), nullptr);

  std::unique_ptr<corev1::Pod> copy = MutableCopy(*typed);
  copy->mutable_metadata()->set_name("other");
  EXPECT_EQ(typed->metadata().name(), "web");
}

}  // namespace
}  // namespace ck::client
