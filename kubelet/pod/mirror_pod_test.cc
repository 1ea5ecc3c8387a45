// Static/mirror pod helpers and MirrorPodClient on FakeApi (mirror_pod.h).
#include "kubelet/pod/mirror_pod.h"

#include <gtest/gtest.h>

#include "common/api/testing/builders.h"
#include "common/client/cache/informer_factory.h"
#include "common/client/testing/fake_api.h"

namespace ck::kubelet {
namespace {

using api::testing::MakePod;

const client::ResourceInfo& Pods() {
  return client::SharedInformerFactory::ResourceOfMessage(corev1::Pod::descriptor()->full_name());
}

corev1::Pod StaticPod(const std::string& hash) {
  return MakePod("etcd-node-1").Namespace("kube-system").Uid(hash).Node("node-1")
      .Annotation("kubernetes.io/config.source", "file").Annotation("kubernetes.io/config.hash", hash).Obj();
}

TEST(MirrorPodTest, Predicates) {
  corev1::Pod s = StaticPod("h1");
  EXPECT_TRUE(IsStaticPod(s));
  EXPECT_FALSE(IsMirrorPod(s));
  EXPECT_FALSE(IsStaticPod(MakePod("p").Obj()));
  EXPECT_FALSE(IsStaticPod(MakePod("p").Annotation("kubernetes.io/config.source", "api").Obj()));
  EXPECT_EQ(PodFullName(s), "kube-system/etcd-node-1");
  EXPECT_EQ(ConfigHashOf(s), "h1");

  corev1::Pod m = MakeMirrorPod(s, "node-1", "node-uid");
  EXPECT_TRUE(IsMirrorPod(m));
  EXPECT_TRUE(IsStaticPod(m));  // it carries the source annotation, as upstream mirrors do
  EXPECT_TRUE(IsMirrorPodOf(m, s));
  EXPECT_FALSE(IsMirrorPodOf(m, StaticPod("h2")));
  corev1::Pod renamed = m;
  renamed.mutable_metadata()->set_name("other");
  EXPECT_FALSE(IsMirrorPodOf(renamed, s));
  EXPECT_EQ(m.metadata().uid(), "");
  ASSERT_EQ(m.metadata().ownerreferences_size(), 1);
  EXPECT_EQ(m.metadata().ownerreferences(0).uid(), "node-uid");
  EXPECT_TRUE(m.metadata().ownerreferences(0).controller());
  EXPECT_FALSE(m.metadata().ownerreferences(0).has_blockownerdeletion());
}

TEST(MirrorPodClientTest, CreateIsIdempotentForTheSameHash) {
  FakeClock clock;
  client::FakeApi api(clock);
  MirrorPodClient client(api);
  auto first = client.CreateMirrorPod(StaticPod("h1"), "node-1", "node-uid");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto again = client.CreateMirrorPod(StaticPod("h1"), "node-1", "node-uid");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->metadata().uid(), (*first)->metadata().uid());
  // Another pod under the name (a stale hash): AlreadyExists, the caller deletes it first.
  auto stale = client.CreateMirrorPod(StaticPod("h2"), "node-1", "node-uid");
  EXPECT_EQ(stale.status().code(), Code::kAlreadyExists);
}

TEST(MirrorPodClientTest, DeleteUsesTheUidPrecondition) {
  FakeClock clock;
  client::FakeApi api(clock);
  MirrorPodClient client(api);
  auto created = client.CreateMirrorPod(StaticPod("h1"), "node-1", "node-uid");
  ASSERT_TRUE(created.ok());
  auto wrong = client.DeleteMirrorPod("kube-system", "etcd-node-1", "someone-else");
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(*wrong);
  EXPECT_TRUE(api.Get(Pods(), "kube-system", "etcd-node-1").ok());
  auto right = client.DeleteMirrorPod("kube-system", "etcd-node-1", (*created)->metadata().uid());
  ASSERT_TRUE(right.ok());
  EXPECT_TRUE(*right);
  EXPECT_EQ(api.Get(Pods(), "kube-system", "etcd-node-1").status().code(), Code::kNotFound);
  auto gone = client.DeleteMirrorPod("kube-system", "etcd-node-1", "");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(*gone);
}

}  // namespace
}  // namespace ck::kubelet
