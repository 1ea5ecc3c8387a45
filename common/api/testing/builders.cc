#include "common/api/testing/builders.h"

#include "common/api/object.h"
#include "common/api/quantity.h"
#include "common/base/check.h"

namespace ck::api::testing {
namespace {

using ProtoQuantity = ::k8s::io::apimachinery::pkg::api::resource::Quantity;

ProtoQuantity Q(const std::string& s) {
  Result<Quantity> q = Quantity::Parse(s);
  CK_CHECK(q.ok()) << "bad quantity in a test: " << q.status().ToString();
  ProtoQuantity p;
  p.set_string(q->String());
  return p;
}

void SetIntOrString(::k8s::io::apimachinery::pkg::util::intstr::IntOrString* x, const std::string& v) {
  bool numeric = !v.empty() && v.find_first_not_of("0123456789") == std::string::npos;
  if (numeric) {
    x->set_type(0);
    x->set_intval(std::stoi(v));
  } else {
    x->set_type(1);
    x->set_strval(v);
  }
}

}  // namespace

// ---- Pod ---------------------------------------------------------------------------------------

PodBuilder::PodBuilder(std::string name) {
  pod_.mutable_metadata()->set_name(std::move(name));
  pod_.mutable_metadata()->set_namespace_("default");
  pod_.mutable_spec()->set_restartpolicy("Always");
  pod_.mutable_spec()->set_schedulername("default-scheduler");
}

PodBuilder& PodBuilder::Namespace(std::string ns) {
  pod_.mutable_metadata()->set_namespace_(std::move(ns));
  return *this;
}
PodBuilder& PodBuilder::Uid(std::string uid) {
  pod_.mutable_metadata()->set_uid(std::move(uid));
  return *this;
}
PodBuilder& PodBuilder::Label(std::string key, std::string value) {
  (*pod_.mutable_metadata()->mutable_labels())[std::move(key)] = std::move(value);
  return *this;
}
PodBuilder& PodBuilder::Annotation(std::string key, std::string value) {
  (*pod_.mutable_metadata()->mutable_annotations())[std::move(key)] = std::move(value);
  return *this;
}
PodBuilder& PodBuilder::OwnerRef(std::string kind, std::string name, std::string uid, bool controller) {
  auto* r = pod_.mutable_metadata()->add_ownerreferences();
  r->set_apiversion(kind == "ReplicaSet" || kind == "StatefulSet" || kind == "DaemonSet" ? "apps/v1" : "v1");
  r->set_kind(std::move(kind));
  r->set_name(std::move(name));
  r->set_uid(std::move(uid));
  if (controller) {
    r->set_controller(true);
    r->set_blockownerdeletion(true);
  }
  return *this;
}
PodBuilder& PodBuilder::CreationTimestamp(WallTime t) {
  SetTime(pod_.mutable_metadata()->mutable_creationtimestamp(), t);
  return *this;
}
PodBuilder& PodBuilder::DeletionTimestamp(WallTime t) {
  SetTime(pod_.mutable_metadata()->mutable_deletiontimestamp(), t);
  return *this;
}

PodBuilder& PodBuilder::Container(std::string name, std::string image) {
  corev1::Container* c = pod_.mutable_spec()->add_containers();
  c->set_name(std::move(name));
  c->set_image(std::move(image));
  last_ = pod_.spec().containers_size() - 1;
  last_is_init_ = false;
  return *this;
}
PodBuilder& PodBuilder::InitContainer(std::string name, std::string image) {
  corev1::Container* c = pod_.mutable_spec()->add_initcontainers();
  c->set_name(std::move(name));
  c->set_image(std::move(image));
  last_ = pod_.spec().initcontainers_size() - 1;
  last_is_init_ = true;
  return *this;
}
PodBuilder& PodBuilder::Sidecar(std::string name, std::string image) {
  InitContainer(std::move(name), std::move(image));
  Current()->set_restartpolicy("Always");
  return *this;
}

corev1::Container* PodBuilder::Current() {
  if (last_ < 0) Container("main");
  return last_is_init_ ? pod_.mutable_spec()->mutable_initcontainers(last_) : pod_.mutable_spec()->mutable_containers(last_);
}

PodBuilder& PodBuilder::Request(std::string resource, std::string quantity) {
  (*Current()->mutable_resources()->mutable_requests())[std::move(resource)] = Q(quantity);
  return *this;
}
PodBuilder& PodBuilder::Limit(std::string resource, std::string quantity) {
  (*Current()->mutable_resources()->mutable_limits())[std::move(resource)] = Q(quantity);
  return *this;
}
PodBuilder& PodBuilder::Cpu(std::string request) { return Request("cpu", std::move(request)); }
PodBuilder& PodBuilder::Memory(std::string request) { return Request("memory", std::move(request)); }
PodBuilder& PodBuilder::CpuLimit(std::string limit) { return Limit("cpu", std::move(limit)); }
PodBuilder& PodBuilder::MemoryLimit(std::string limit) { return Limit("memory", std::move(limit)); }
PodBuilder& PodBuilder::Port(int32_t container_port, int32_t host_port) {
  corev1::ContainerPort* p = Current()->add_ports();
  p->set_containerport(container_port);
  if (host_port != 0) p->set_hostport(host_port);
  p->set_protocol("TCP");
  return *this;
}

PodBuilder& PodBuilder::Node(std::string node_name) {
  pod_.mutable_spec()->set_nodename(std::move(node_name));
  return *this;
}
PodBuilder& PodBuilder::NodeSelector(std::string key, std::string value) {
  (*pod_.mutable_spec()->mutable_nodeselector())[std::move(key)] = std::move(value);
  return *this;
}
PodBuilder& PodBuilder::Toleration(std::string key, std::string op, std::string value, std::string effect) {
  corev1::Toleration* t = pod_.mutable_spec()->add_tolerations();
  t->set_key(std::move(key));
  t->set_operator_(std::move(op));
  t->set_value(std::move(value));
  t->set_effect(std::move(effect));
  return *this;
}
PodBuilder& PodBuilder::Priority(int32_t priority) {
  pod_.mutable_spec()->set_priority(priority);
  return *this;
}
PodBuilder& PodBuilder::SchedulerName(std::string name) {
  pod_.mutable_spec()->set_schedulername(std::move(name));
  return *this;
}
PodBuilder& PodBuilder::Overhead(std::string resource, std::string quantity) {
  (*pod_.mutable_spec()->mutable_overhead())[std::move(resource)] = Q(quantity);
  return *this;
}

PodBuilder& PodBuilder::Phase(std::string phase) {
  pod_.mutable_status()->set_phase(std::move(phase));
  return *this;
}
PodBuilder& PodBuilder::Condition(std::string type, std::string status, WallTime transition) {
  corev1::PodCondition* c = pod_.mutable_status()->add_conditions();
  c->set_type(std::move(type));
  c->set_status(std::move(status));
  if (transition != WallTime{}) SetTime(c->mutable_lasttransitiontime(), transition);
  return *this;
}
PodBuilder& PodBuilder::Ready(WallTime since) {
  if (pod_.status().phase().empty()) Phase("Running");
  return Condition("Ready", "True", since);
}
PodBuilder& PodBuilder::PodIP(std::string ip) {
  pod_.mutable_status()->set_podip(ip);
  pod_.mutable_status()->add_podips()->set_ip(std::move(ip));
  return *this;
}

// ---- Node --------------------------------------------------------------------------------------

NodeBuilder::NodeBuilder(std::string name) {
  (*node_.mutable_metadata()->mutable_labels())["kubernetes.io/hostname"] = name;
  node_.mutable_metadata()->set_name(std::move(name));
}
NodeBuilder& NodeBuilder::Label(std::string key, std::string value) {
  (*node_.mutable_metadata()->mutable_labels())[std::move(key)] = std::move(value);
  return *this;
}
NodeBuilder& NodeBuilder::Capacity(std::string cpu, std::string memory, std::string pods) {
  for (auto* list : {node_.mutable_status()->mutable_capacity(), node_.mutable_status()->mutable_allocatable()}) {
    (*list)["cpu"] = Q(cpu);
    (*list)["memory"] = Q(memory);
    (*list)["pods"] = Q(pods);
  }
  return *this;
}
NodeBuilder& NodeBuilder::Allocatable(std::string resource, std::string quantity) {
  (*node_.mutable_status()->mutable_allocatable())[std::move(resource)] = Q(quantity);
  return *this;
}
NodeBuilder& NodeBuilder::Taint(std::string key, std::string value, std::string effect) {
  corev1::Taint* t = node_.mutable_spec()->add_taints();
  t->set_key(std::move(key));
  t->set_value(std::move(value));
  t->set_effect(std::move(effect));
  return *this;
}
NodeBuilder& NodeBuilder::Unschedulable(bool unschedulable) {
  node_.mutable_spec()->set_unschedulable(unschedulable);
  return *this;
}
NodeBuilder& NodeBuilder::PodCIDR(std::string cidr) {
  node_.mutable_spec()->set_podcidr(cidr);
  node_.mutable_spec()->add_podcidrs(std::move(cidr));
  return *this;
}
NodeBuilder& NodeBuilder::Address(std::string type, std::string address) {
  corev1::NodeAddress* a = node_.mutable_status()->add_addresses();
  a->set_type(std::move(type));
  a->set_address(std::move(address));
  return *this;
}
NodeBuilder& NodeBuilder::Ready(bool ready, WallTime heartbeat) {
  corev1::NodeCondition* c = nullptr;
  for (corev1::NodeCondition& existing : *node_.mutable_status()->mutable_conditions()) {
    if (existing.type() == "Ready") c = &existing;
  }
  if (c == nullptr) c = node_.mutable_status()->add_conditions();
  c->set_type("Ready");
  c->set_status(ready ? "True" : "False");
  c->set_reason(ready ? "KubeletReady" : "KubeletNotReady");
  if (heartbeat != WallTime{}) {
    SetTime(c->mutable_lastheartbeattime(), heartbeat);
    SetTime(c->mutable_lasttransitiontime(), heartbeat);
  }
  return *this;
}

// ---- Deployment and ReplicaSet -----------------------------------------------------------------

DeploymentBuilder::DeploymentBuilder(std::string name) {
  d_.mutable_metadata()->set_name(name);
  d_.mutable_metadata()->set_namespace_("default");
  d_.mutable_spec()->set_replicas(1);
  auto* c = d_.mutable_spec()->mutable_template_()->mutable_spec()->add_containers();
  c->set_name(std::move(name));
  c->set_image("registry.example.com/app:1");
}
DeploymentBuilder& DeploymentBuilder::Namespace(std::string ns) {
  d_.mutable_metadata()->set_namespace_(std::move(ns));
  return *this;
}
DeploymentBuilder& DeploymentBuilder::Uid(std::string uid) {
  d_.mutable_metadata()->set_uid(std::move(uid));
  return *this;
}
DeploymentBuilder& DeploymentBuilder::Label(std::string key, std::string value) {
  (*d_.mutable_spec()->mutable_selector()->mutable_matchlabels())[key] = value;
  (*d_.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels())[std::move(key)] = std::move(value);
  return *this;
}
DeploymentBuilder& DeploymentBuilder::Replicas(int32_t replicas) {
  d_.mutable_spec()->set_replicas(replicas);
  return *this;
}
DeploymentBuilder& DeploymentBuilder::Image(std::string image) {
  d_.mutable_spec()->mutable_template_()->mutable_spec()->mutable_containers(0)->set_image(std::move(image));
  return *this;
}
DeploymentBuilder& DeploymentBuilder::MaxSurge(std::string value) {
  d_.mutable_spec()->mutable_strategy()->set_type("RollingUpdate");
  SetIntOrString(d_.mutable_spec()->mutable_strategy()->mutable_rollingupdate()->mutable_maxsurge(), value);
  return *this;
}
DeploymentBuilder& DeploymentBuilder::MaxUnavailable(std::string value) {
  d_.mutable_spec()->mutable_strategy()->set_type("RollingUpdate");
  SetIntOrString(d_.mutable_spec()->mutable_strategy()->mutable_rollingupdate()->mutable_maxunavailable(), value);
  return *this;
}
DeploymentBuilder& DeploymentBuilder::Generation(int64_t generation) {
  d_.mutable_metadata()->set_generation(generation);
  return *this;
}

ReplicaSetBuilder::ReplicaSetBuilder(std::string name) {
  rs_.mutable_metadata()->set_name(name);
  rs_.mutable_metadata()->set_namespace_("default");
  rs_.mutable_spec()->set_replicas(1);
  auto* c = rs_.mutable_spec()->mutable_template_()->mutable_spec()->add_containers();
  c->set_name(std::move(name));
  c->set_image("registry.example.com/app:1");
}
ReplicaSetBuilder& ReplicaSetBuilder::Namespace(std::string ns) {
  rs_.mutable_metadata()->set_namespace_(std::move(ns));
  return *this;
}
ReplicaSetBuilder& ReplicaSetBuilder::Uid(std::string uid) {
  rs_.mutable_metadata()->set_uid(std::move(uid));
  return *this;
}
ReplicaSetBuilder& ReplicaSetBuilder::Label(std::string key, std::string value) {
  (*rs_.mutable_spec()->mutable_selector()->mutable_matchlabels())[key] = value;
  (*rs_.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels())[std::move(key)] = std::move(value);
  return *this;
}
ReplicaSetBuilder& ReplicaSetBuilder::Replicas(int32_t replicas) {
  rs_.mutable_spec()->set_replicas(replicas);
  return *this;
}
ReplicaSetBuilder& ReplicaSetBuilder::Image(std::string image) {
  rs_.mutable_spec()->mutable_template_()->mutable_spec()->mutable_containers(0)->set_image(std::move(image));
  return *this;
}
ReplicaSetBuilder& ReplicaSetBuilder::OwnerRef(std::string kind, std::string name, std::string uid) {
  auto* r = rs_.mutable_metadata()->add_ownerreferences();
  r->set_apiversion("apps/v1");
  r->set_kind(std::move(kind));
  r->set_name(std::move(name));
  r->set_uid(std::move(uid));
  r->set_controller(true);
  r->set_blockownerdeletion(true);
  return *this;
}

// ---- Service -----------------------------------------------------------------------------------

ServiceBuilder::ServiceBuilder(std::string name) {
  s_.mutable_metadata()->set_name(std::move(name));
  s_.mutable_metadata()->set_namespace_("default");
  s_.mutable_spec()->set_type("ClusterIP");
}
ServiceBuilder& ServiceBuilder::Namespace(std::string ns) {
  s_.mutable_metadata()->set_namespace_(std::move(ns));
  return *this;
}
ServiceBuilder& ServiceBuilder::Selector(std::string key, std::string value) {
  (*s_.mutable_spec()->mutable_selector())[std::move(key)] = std::move(value);
  return *this;
}
ServiceBuilder& ServiceBuilder::Port(int32_t port, std::string target_port, std::string protocol, std::string name) {
  corev1::ServicePort* p = s_.mutable_spec()->add_ports();
  if (!name.empty()) p->set_name(std::move(name));
  p->set_protocol(std::move(protocol));
  p->set_port(port);
  SetIntOrString(p->mutable_targetport(), target_port.empty() ? std::to_string(port) : target_port);
  return *this;
}
ServiceBuilder& ServiceBuilder::Type(std::string type) {
  s_.mutable_spec()->set_type(std::move(type));
  return *this;
}
ServiceBuilder& ServiceBuilder::ClusterIP(std::string ip) {
  s_.mutable_spec()->set_clusterip(std::move(ip));
  return *this;
}

PodBuilder MakePod(std::string name) { return PodBuilder(std::move(name)); }
NodeBuilder MakeNode(std::string name) { return NodeBuilder(std::move(name)); }
DeploymentBuilder MakeDeployment(std::string name) { return DeploymentBuilder(std::move(name)); }
ReplicaSetBuilder MakeReplicaSet(std::string name) { return ReplicaSetBuilder(std::move(name)); }
ServiceBuilder MakeService(std::string name) { return ServiceBuilder(std::move(name)); }

}  // namespace ck::api::testing
