#include "scheduler/core/pod_transform.h"

#include <gtest/gtest.h>
#include <google/protobuf/util/message_differencer.h>

#include "common/api/codec.h"

namespace ck::scheduler {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;

// A pod as the API hands it to the scheduler once a kubelet runs it.
corev1::Pod RunningPod() {
  corev1::Pod pod;
  Status s = api::FromJson(R"({
    "metadata": {"name": "web-1", "namespace": "shop", "uid": "u-1", "resourceVersion": "42",
      "labels": {"app": "web"}, "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}"},
      "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": "rs-1", "controller": true}],
      "deletionTimestamp": "2026-01-01T00:00:00Z",
      "managedFields": [{"manager": "kubectl", "operation": "Update"}]},
    "spec": {
      "nodeName": "node-1", "schedulerName": "default-scheduler", "priority": 7, "hostNetwork": true,
      "nodeSelector": {"disk": "ssd"},
      "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
      "dnsPolicy": "ClusterFirst", "serviceAccountName": "web",
      "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}},
        "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}},
      "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}],
      "overhead": {"cpu": "10m"},
      "initContainers": [{"name": "proxy", "image": "proxy:1", "restartPolicy": "Always",
        "resources": {"requests": {"cpu": "50m"}}}],
      "containers": [{"name": "app", "image": "app:1", "command": ["/app"], "args": ["--port=80"],
        "env": [{"name": "A", "value": "b"}], "workingDir": "/srv",
        "ports": [{"containerPort": 80, "hostPort": 8080, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 80}}}],
      "ephemeralContainers": [{"name": "debug", "image": "busybox"}],
      "volumes": [{"name": "data", "emptyDir": {}}]},
    "status": {"phase": "Running", "nominatedNodeName": "node-2", "startTime": "2026-01-01T00:00:00Z",
      "hostIP": "10.0.0.1", "podIP": "10.244.0.5", "qosClass": "Burstable",
      "conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "True"}],
      "containerStatuses": [{"name": "app", "image": "app:1", "imageID": "sha256:abc", "ready": true,
        "restartCount": 2}]}
  })",
                           &pod);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return pod;
}

TEST(PodForSchedulingTest, KeepsWhatSchedulingReadsAndDropsTheRest) {
  corev1::Pod in = RunningPod();
  auto out = PodForScheduling(in);

  const auto& m = out->metadata();
  EXPECT_EQ(m.name(), "web-1");
  EXPECT_EQ(m.namespace_(), "shop");
  EXPECT_EQ(m.uid(), "u-1");
  EXPECT_EQ(m.resourceversion(), "42");
  EXPECT_EQ(m.labels().at("app"), "web");
  ASSERT_EQ(m.ownerreferences_size(), 1);
  EXPECT_EQ(m.ownerreferences(0).uid(), "rs-1");
  EXPECT_TRUE(m.has_deletiontimestamp());
  EXPECT_TRUE(m.annotations().empty());
  EXPECT_EQ(m.managedfields_size(), 0);

  const auto& spec = out->spec();
  EXPECT_EQ(spec.nodename(), "node-1");
  EXPECT_EQ(spec.schedulername(), "default-scheduler");
  EXPECT_EQ(spec.priority(), 7);
  EXPECT_TRUE(spec.hostnetwork());
  // Placed: only what other pods are checked against stays.
  EXPECT_EQ(spec.affinity().podantiaffinity().requiredduringschedulingignoredduringexecution_size(), 1);
  EXPECT_TRUE(spec.nodeselector().empty());
  EXPECT_EQ(spec.tolerations_size(), 0);
  EXPECT_EQ(spec.topologyspreadconstraints_size(), 0);
  EXPECT_FALSE(spec.affinity().has_nodeaffinity());
  EXPECT_EQ(spec.overhead().count("cpu"), 1u);
  EXPECT_FALSE(spec.has_dnspolicy());
  EXPECT_FALSE(spec.has_serviceaccountname());
  ASSERT_EQ(spec.containers_size(), 1);
  const corev1::Container& c = spec.containers(0);
  EXPECT_EQ(c.name(), "app");
  EXPECT_EQ(c.resources().requests().count("cpu"), 1u);
  EXPECT_EQ(c.resources().limits().count("memory"), 1u);
  ASSERT_EQ(c.ports_size(), 1);
  EXPECT_EQ(c.ports(0).hostport(), 8080);
  EXPECT_FALSE(c.has_image());
  EXPECT_EQ(c.command_size(), 0);
  EXPECT_EQ(c.args_size(), 0);
  EXPECT_EQ(c.env_size(), 0);
  EXPECT_FALSE(c.has_workingdir());
  EXPECT_EQ(c.volumemounts_size(), 0);
  EXPECT_FALSE(c.has_livenessprobe());
  ASSERT_EQ(spec.initcontainers_size(), 1);
  EXPECT_EQ(spec.initcontainers(0).restartpolicy(), "Always");
  EXPECT_EQ(spec.initcontainers(0).resources().requests().count("cpu"), 1u);
  EXPECT_FALSE(spec.initcontainers(0).has_image());
  EXPECT_EQ(spec.ephemeralcontainers_size(), 0);
  EXPECT_EQ(spec.volumes_size(), 0);

  const auto& st = out->status();
  EXPECT_EQ(st.phase(), "Running");
  EXPECT_EQ(st.nominatednodename(), "node-2");
  EXPECT_TRUE(st.has_starttime());
  ASSERT_EQ(st.conditions_size(), 1);
  EXPECT_EQ(st.conditions(0).type(), "PodScheduled");
  EXPECT_EQ(st.containerstatuses_size(), 0);
  EXPECT_FALSE(st.has_podip());
  EXPECT_FALSE(st.has_hostip());
  EXPECT_FALSE(st.has_qosclass());

  // Not yet placed: everything that places it stays.
  corev1::Pod pending = in;
  pending.mutable_spec()->clear_nodename();
  auto p = PodForScheduling(pending);
  EXPECT_FALSE(p->spec().has_nodename());
  EXPECT_EQ(p->spec().nodeselector().at("disk"), "ssd");
  EXPECT_EQ(p->spec().tolerations_size(), 1);
  EXPECT_EQ(p->spec().topologyspreadconstraints_size(), 1);
  EXPECT_TRUE(p->spec().affinity().has_nodeaffinity());
  EXPECT_EQ(p->spec().affinity().podantiaffinity().requiredduringschedulingignoredduringexecution_size(), 1);
  EXPECT_EQ(p->spec().containers(0).resources().requests().count("cpu"), 1u);
  EXPECT_FALSE(p->spec().containers(0).has_image());

  // The input is untouched and the transform is idempotent.
  EXPECT_EQ(in.spec().containers(0).image(), "app:1");
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*PodForScheduling(*out), *out));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*PodForScheduling(*p), *p));
  EXPECT_LT(out->SpaceUsedLong(), in.SpaceUsedLong() * 3 / 4);
}

}  // namespace
}  // namespace ck::scheduler
