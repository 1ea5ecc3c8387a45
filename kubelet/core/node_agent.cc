// NodeAgent (node_agent.h).
#include "kubelet/core/node_agent.h"

#include "common/api/object.h"
#include "common/base/log.h"
#include "common/base/strings.h"
#include "common/client/cache/informer_factory.h"

namespace ck::kubelet {

namespace corev1 = ::k8s::io::api::core::v1;
namespace coordv1 = ::k8s::io::api::coordination::v1;

namespace {

const client::ResourceInfo& NodesResource() {
  return client::SharedInformerFactory::ResourceOfMessage(corev1::Node::descriptor()->full_name());
}
const client::ResourceInfo& LeasesResource() {
  return client::SharedInformerFactory::ResourceOfMessage(coordv1::Lease::descriptor()->full_name());
}

constexpr char kNodeLeaseNamespace[] = "kube-node-lease";
constexpr int32_t kLeaseDurationSeconds = 40;  // upstream nodeLeaseDurationSeconds

}  // namespace

NodeAgent::NodeAgent(client::ApiClient& api, Clock& clock, NodeConfig config, NetworkPlugin& network,
                     std::function<NodeHealth()> health)
    : api_(api), clock_(clock), config_(std::move(config)), network_(network), health_(std::move(health)) {
  if (!config_.pod_cidr.empty()) {
    Status s = network_.SetPodCidr(config_.pod_cidr);
    std::lock_guard lock(mu_);
    if (s.ok()) {
      pod_cidr_ = config_.pod_cidr;
    } else {
      network_error_ = s.message();
    }
  }
}

Status NodeAgent::Register() {
  corev1::Node node = NewNode(config_, clock_.Now());
  {
    NodeHealth h = Health();
    SetNodeStatus(config_, h, clock_.Now(), node.mutable_status());
  }
  Result<client::ObjectPtr> created = api_.Create(NodesResource(), "", node);
  if (created.ok()) {
    // The status in a POST is dropped by the apiserver (status is written through /status).
    auto typed = client::As<corev1::Node>(*created);
    {
      std::lock_guard lock(mu_);
      node_ = typed;
    }
    registered_ = true;
    CK_LOG_INFO("Successfully registered node", "node", config_.name);
    return SyncStatus(true);
  }
  if (created.status().code() != Code::kAlreadyExists) return created.status();
  Result<client::ObjectPtr> existing = api_.Get(NodesResource(), "", config_.name);
  if (!existing.ok()) return existing.status();
  auto current = client::As<corev1::Node>(*existing);
  // Reconcile the labels this kubelet owns (a restart with other --node-labels updates them).
  bool labels_differ = false;
  for (const auto& [k, v] : node.metadata().labels()) {
    auto it = current->metadata().labels().find(k);
    if (it == current->metadata().labels().end() || it->second != v) labels_differ = true;
  }
  if (labels_differ) {
    std::string patch = "{\"metadata\":{\"labels\":{";
    bool first = true;
    for (const auto& [k, v] : node.metadata().labels()) {
      if (!first) patch += ",";
      first = false;
      patch += JsonString(k) + ":" + JsonString(v);
    }
    patch += "}}}";
    auto patched = api_.Patch(NodesResource(), "", config_.name, client::PatchType::kMerge, patch);
    if (!patched.ok()) return patched.status();
    current = client::As<corev1::Node>(*patched);
  }
  {
    std::lock_guard lock(mu_);
    node_ = current;
  }
  OnNode(current);
  registered_ = true;
  CK_LOG_INFO("Node was previously registered", "node", config_.name);
  return SyncStatus(true);
}

void NodeAgent::OnNode(const std::shared_ptr<const corev1::Node>& node) {
  std::string cidr = node->spec().podcidr();
  std::string current;
  {
    std::lock_guard lock(mu_);
    // Keep the newest copy (the informer may deliver an older one than a write just returned).
    if (node_ == nullptr || node->metadata().resourceversion() != node_->metadata().resourceversion()) node_ = node;
    current = pod_cidr_;
  }
  if (cidr.empty() || cidr == current) return;
  Status s = network_.SetPodCidr(cidr);
  std::lock_guard lock(mu_);
  if (s.ok()) {
    pod_cidr_ = cidr;
    network_error_.clear();
    CK_LOG_INFO("Updating Pod CIDR", "originalPodCIDR", current, "newPodCIDR", cidr, "node", config_.name);
  } else {
    network_error_ = s.message();
    CK_LOG_ERROR("The node's podCIDR cannot be used", "node", config_.name, "podCIDR", cidr, "err", s.message());
  }
}

std::string NodeAgent::pod_cidr() const {
  std::lock_guard lock(mu_);
  return pod_cidr_;
}

NodeHealth NodeAgent::Health() const {
  NodeHealth h = health_ ? health_() : NodeHealth{};
  std::lock_guard lock(mu_);
  if (!network_error_.empty()) {
    h.network_ready = false;
    h.network_message = network_error_;
  } else if (pod_cidr_.empty()) {
    h.network_ready = false;
    h.network_message = "Network plugin returns error: node has no podCIDR yet";
  }
  return h;
}

Status NodeAgent::SyncStatus(bool report_due) {
  std::shared_ptr<const corev1::Node> current;
  {
    std::lock_guard lock(mu_);
    current = node_;
  }
  if (current == nullptr) return Status(Code::kUnavailable, "node " + config_.name + " is not registered yet");
  NodeHealth health = Health();
  for (int attempt = 0; attempt < 3; ++attempt) {
    corev1::Node wanted = *current;
    SetNodeStatus(config_, health, clock_.Now(), wanted.mutable_status());
    if (!report_due && !NodeStatusChanged(current->status(), wanted.status())) return Status::Ok();
    Result<client::ObjectPtr> updated = api_.Update(NodesResource(), "", wanted, "status");
    if (updated.ok()) {
      std::lock_guard lock(mu_);
      node_ = client::As<corev1::Node>(*updated);
      return Status::Ok();
    }
    if (updated.status().code() != Code::kConflict) return updated.status();
    Result<client::ObjectPtr> fresh = api_.Get(NodesResource(), "", config_.name);
    if (!fresh.ok()) return fresh.status();
    current = client::As<corev1::Node>(*fresh);
    std::lock_guard lock(mu_);
    node_ = current;
  }
  return Status(Code::kConflict, "node status update kept conflicting");
}

Status NodeAgent::RenewLease() {
  std::shared_ptr<const coordv1::Lease> lease;
  std::shared_ptr<const corev1::Node> node;
  {
    std::lock_guard lock(mu_);
    lease = lease_;
    node = node_;
  }
  const WallTime now = clock_.Now();
  if (lease == nullptr) {
    Result<client::ObjectPtr> got = api_.Get(LeasesResource(), kNodeLeaseNamespace, config_.name);
    if (got.ok()) {
      lease = client::As<coordv1::Lease>(*got);
    } else if (got.status().code() == Code::kNotFound) {
      coordv1::Lease fresh;
      fresh.mutable_metadata()->set_name(config_.name);
      fresh.mutable_metadata()->set_namespace_(kNodeLeaseNamespace);
      if (node != nullptr && !node->metadata().uid().empty()) {
        auto* ref = fresh.mutable_metadata()->add_ownerreferences();
        ref->set_apiversion("v1");
        ref->set_kind("Node");
        ref->set_name(config_.name);
        ref->set_uid(node->metadata().uid());
      }
      fresh.mutable_spec()->set_holderidentity(config_.name);
      fresh.mutable_spec()->set_leasedurationseconds(kLeaseDurationSeconds);
      api::SetMicroTime(fresh.mutable_spec()->mutable_renewtime(), now);
      Result<client::ObjectPtr> created = api_.Create(LeasesResource(), kNodeLeaseNamespace, fresh);
      if (!created.ok()) return created.status();
      std::lock_guard lock(mu_);
      lease_ = client::As<coordv1::Lease>(*created);
      return Status::Ok();
    } else {
      return got.status();
    }
  }
  coordv1::Lease renewed = *lease;
  renewed.mutable_spec()->set_holderidentity(config_.name);
  renewed.mutable_spec()->set_leasedurationseconds(kLeaseDurationSeconds);
  api::SetMicroTime(renewed.mutable_spec()->mutable_renewtime(), now);
  Result<client::ObjectPtr> updated = api_.Update(LeasesResource(), kNodeLeaseNamespace, renewed);
  std::lock_guard lock(mu_);
  if (!updated.ok()) {
    // A conflict or a deleted lease: read (or create) it again on the next renewal.
    lease_.reset();
    return updated.status();
  }
  lease_ = client::As<coordv1::Lease>(*updated);
  return Status::Ok();
}

}  // namespace ck::kubelet
