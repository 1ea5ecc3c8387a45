// Static pods against a real ck-apiserver (Node authorizer, NodeRestriction on): ck-kubelet
// --runtime=fake --pod-manifest-path runs the manifest, its mirror pod appears Running, a
// deleted mirror comes back, and removing the manifest deletes the mirror. Processes are
// stopped by PID; waits are conditions with deadlines.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/api/codec.h"
#include "common/api/proto/core_v1.pb.h"
#include "tests/testutil/apiserver.h"
#include "tests/testutil/testutil.h"

namespace ck::kubelet {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
using namespace std::chrono_literals;

constexpr char kPath[] = "/api/v1/namespaces/kube-system/pods/etcd-node-1";

TEST(StaticPodsIntegrationTest, MirrorPodFollowsTheManifest) {
  testutil::ApiServerProcess api;
  testutil::TempDir manifests;
  testutil::TempDir root;
  std::ofstream(manifests.File("etcd.yaml"))
      << "apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\n  namespace: kube-system\nspec:\n  containers:\n"
         "  - name: etcd\n    image: registry.example.com/etcd:3.5\n    command: [sleep, infinity]\n";
  testutil::Subprocess kubelet({testutil::BinDir() + "/ck-kubelet",
                                "--kubeconfig=" + api.dir().File("pki/kubelet-node-1.kubeconfig"),
                                "--hostname-override=node-1", "--node-ip=127.0.0.1", "--root-dir=" + root.path(),
                                "--runtime=fake", "--profile=teaching", "--pod-manifest-path=" + manifests.path(),
                                "--file-check-frequency=200ms", "--bind-address=127.0.0.1", "--pod-cidr=127.244.1.0/24",
                                "--secure-port=" + std::to_string(testutil::FreePort())});
  auto client = api.Client();
  auto get = [&]() -> std::optional<corev1::Pod> {
    Result<net::Response> r = client->Do({"GET", kPath, {}, ""});
    if (!r.ok() || r->status != 200) return std::nullopt;
    corev1::Pod pod;
    if (!api::FromJson(r->body, &pod).ok()) return std::nullopt;
    return pod;
  };
  std::optional<corev1::Pod> mirror;
  ASSERT_TRUE(testutil::WaitUntil([&] {
    mirror = get();
    return (mirror && mirror->status().phase() == "Running") || !kubelet.running();
  }, 60s)) << (mirror ? mirror->status().DebugString() : "no mirror") << kubelet.Stderr();
  ASSERT_TRUE(kubelet.running()) << kubelet.Stderr();
  EXPECT_EQ(mirror->spec().nodename(), "node-1");
  EXPECT_EQ(mirror->metadata().annotations().count("kubernetes.io/config.mirror"), 1u);
  EXPECT_EQ(mirror->metadata().annotations().at("kubernetes.io/config.source"), "file");
  ASSERT_EQ(mirror->metadata().ownerreferences_size(), 1);
  EXPECT_EQ(mirror->metadata().ownerreferences(0).kind(), "Node");

  // Deleted by an admin: the kubelet creates it again (a new uid), and it is Running again.
  const std::string first_uid = mirror->metadata().uid();
  Result<net::Response> del = client->Do({"DELETE", std::string(kPath) + "?gracePeriodSeconds=0", {}, ""});
  ASSERT_TRUE(del.ok());
  ASSERT_EQ(del->status, 200) << del->body;
  EXPECT_TRUE(testutil::WaitUntil([&] {
    mirror = get();
    return mirror && mirror->metadata().uid() != first_uid && mirror->status().phase() == "Running";
  }, 30s)) << kubelet.Stderr();

  // The manifest goes: so does the mirror pod.
  std::filesystem::remove(manifests.File("etcd.yaml"));
  EXPECT_TRUE(testutil::WaitUntil([&] {
    Result<net::Response> r = client->Do({"GET", kPath, {}, ""});
    return r.ok() && r->status == 404;
  }, 30s)) << kubelet.Stderr();
  kubelet.Signal(SIGTERM);
  EXPECT_TRUE(kubelet.Wait(20s).has_value());
}

}  // namespace
}  // namespace ck::kubelet
