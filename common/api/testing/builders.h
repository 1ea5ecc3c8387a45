// Test object builders (STYLE.md #11): readable one-line construction of API objects for tests,
//   MakePod("web").Namespace("shop").Label("app", "web").Cpu("500m").Memory("128Mi").Node("node-1")
//   MakeNode("node-1").Capacity("4", "8Gi").Taint("dedicated", "web", "NoSchedule").Ready()
// Resource and port calls apply to the latest container (a "main" container is added when none
// exists). Quantities are checked when set: a malformed literal in a test stops it (CK_CHECK).
// Builders are plain values; not synchronized.
#pragma once

#include <string>

#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"

namespace ck::api::testing {

namespace corev1 = ::k8s::io::api::core::v1;
namespace appsv1 = ::k8s::io::api::apps::v1;

class PodBuilder {
 public:
  explicit PodBuilder(std::string name);

  PodBuilder& Namespace(std::string ns);
  PodBuilder& Uid(std::string uid);
  PodBuilder& Label(std::string key, std::string value);
  PodBuilder& Annotation(std::string key, std::string value);
  PodBuilder& OwnerRef(std::string kind, std::string name, std::string uid, bool controller = true);
  PodBuilder& CreationTimestamp(WallTime t);
  PodBuilder& DeletionTimestamp(WallTime t);

  PodBuilder& Container(std::string name, std::string image = "registry.example.com/app:1");
  PodBuilder& InitContainer(std::string name, std::string image = "registry.example.com/init:1");
  // An init container with restartPolicy Always.
  PodBuilder& Sidecar(std::string name, std::string image = "registry.example.com/sidecar:1");
  PodBuilder& Cpu(std::string request);
  PodBuilder& Memory(std::string request);
  PodBuilder& CpuLimit(std::string limit);
  PodBuilder& MemoryLimit(std::string limit);
  PodBuilder& Request(std::string resource, std::string quantity);
  PodBuilder& Limit(std::string resource, std::string quantity);
  PodBuilder& Port(int32_t container_port, int32_t host_port = 0);

  PodBuilder& Node(std::string node_name);
  PodBuilder& NodeSelector(std::string key, std::string value);
  PodBuilder& Toleration(std::string key, std::string op, std::string value, std::string effect);
  PodBuilder& Priority(int32_t priority);
  PodBuilder& SchedulerName(std::string name);
  PodBuilder& Overhead(std::string resource, std::string quantity);

  PodBuilder& Phase(std::string phase);
  PodBuilder& Condition(std::string type, std::string status, WallTime transition = WallTime{});
  PodBuilder& Ready(WallTime since = WallTime{});
  PodBuilder& PodIP(std::string ip);

  const corev1::Pod& Obj() const { return pod_; }
  operator corev1::Pod() const { return pod_; }  // NOLINT: lets a builder stand for the pod

 private:
  corev1::Container* Current();
  int last_ = -1;  // index of the latest container (an index, so that copies stay valid)
  bool last_is_init_ = false;
  corev1::Pod pod_;
};

class NodeBuilder {
 public:
  explicit NodeBuilder(std::string name);
  NodeBuilder& Label(std::string key, std::string value);
  // Sets capacity and allocatable to cpu, memory and a pod count.
  NodeBuilder& Capacity(std::string cpu, std::string memory, std::string pods = "110");
  NodeBuilder& Allocatable(std::string resource, std::string quantity);
  NodeBuilder& Taint(std::string key, std::string value, std::string effect);
  NodeBuilder& Unschedulable(bool unschedulable = true);
  NodeBuilder& PodCIDR(std::string cidr);
  NodeBuilder& Address(std::string type, std::string address);
  NodeBuilder& Ready(bool ready = true, WallTime heartbeat = WallTime{});

  const corev1::Node& Obj() const { return node_; }
  operator corev1::Node() const { return node_; }  // NOLINT

 private:
  corev1::Node node_;
};

class DeploymentBuilder {
 public:
  explicit DeploymentBuilder(std::string name);
  DeploymentBuilder& Namespace(std::string ns);
  DeploymentBuilder& Uid(std::string uid);
  // Sets selector.matchLabels and the template's labels.
  DeploymentBuilder& Label(std::string key, std::string value);
  DeploymentBuilder& Replicas(int32_t replicas);
  DeploymentBuilder& Image(std::string image);
  DeploymentBuilder& MaxSurge(std::string value);
  DeploymentBuilder& MaxUnavailable(std::string value);
  DeploymentBuilder& Generation(int64_t generation);

  const appsv1::Deployment& Obj() const { return d_; }
  operator appsv1::Deployment() const { return d_; }  // NOLINT

 private:
  appsv1::Deployment d_;
};

class ReplicaSetBuilder {
 public:
  explicit ReplicaSetBuilder(std::string name);
  ReplicaSetBuilder& Namespace(std::string ns);
  ReplicaSetBuilder& Uid(std::string uid);
  ReplicaSetBuilder& Label(std::string key, std::string value);
  ReplicaSetBuilder& Replicas(int32_t replicas);
  ReplicaSetBuilder& Image(std::string image);
  ReplicaSetBuilder& OwnerRef(std::string kind, std::string name, std::string uid);

  const appsv1::ReplicaSet& Obj() const { return rs_; }
  operator appsv1::ReplicaSet() const { return rs_; }  // NOLINT

 private:
  appsv1::ReplicaSet rs_;
};

class ServiceBuilder {
 public:
  explicit ServiceBuilder(std::string name);
  ServiceBuilder& Namespace(std::string ns);
  ServiceBuilder& Selector(std::string key, std::string value);
  // target_port: a number ("8080") or a port name ("http"); empty means the same as port.
  ServiceBuilder& Port(int32_t port, std::string target_port = "", std::string protocol = "TCP", std::string name = "");
  ServiceBuilder& Type(std::string type);
  ServiceBuilder& ClusterIP(std::string ip);

  const corev1::Service& Obj() const { return s_; }
  operator corev1::Service() const { return s_; }  // NOLINT

 private:
  corev1::Service s_;
};

PodBuilder MakePod(std::string name);
NodeBuilder MakeNode(std::string name);
DeploymentBuilder MakeDeployment(std::string name);
ReplicaSetBuilder MakeReplicaSet(std::string name);
ServiceBuilder MakeService(std::string name);

}  // namespace ck::api::testing
