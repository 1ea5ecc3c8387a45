#include "controller-manager/nodeipam/node_ipam_controller.h"

#include <algorithm>

#include "common/base/log.h"

namespace ck::controller_manager {

namespace {

constexpr int kCidrUpdateRetries = 3;  // upstream cidrUpdateRetries
// The IPv6 node mask when --node-cidr-mask-size holds an IPv4 size (upstream's
// --node-cidr-mask-size-ipv6 default).
constexpr int kDefaultIpv6NodeMask = 64;

const client::ResourceInfo& NodesResource() {
  return client::SharedInformerFactory::ResourceOfMessage(corev1::Node::descriptor()->full_name());
}

std::vector<std::string> PodCidrsOf(const corev1::Node& node) {
  std::vector<std::string> out(node.spec().podcidrs().begin(), node.spec().podcidrs().end());
  if (out.empty() && !node.spec().podcidr().empty()) out.push_back(node.spec().podcidr());
  return out;
}

void RecordNodeStatusChange(const client::EventRecorder& recorder, const corev1::Node& node, std::string_view status) {
  corev1::ObjectReference ref;
  ref.set_apiversion("v1");
  ref.set_kind("Node");
  ref.set_name(node.metadata().name());
  ref.set_uid(node.metadata().uid());
  recorder.Event(ref, client::kEventNormal, status,
                 "Node " + node.metadata().name() + " status is now: " + std::string(status));
}

}  // namespace

Result<std::vector<CidrSet>> CidrSetsFromSettings(const ControllerSettings& settings) {
  const std::string cluster = settings.cluster_cidr.empty() ? kDefaultClusterCidr : settings.cluster_cidr;
  Result<std::vector<IpNet>> nets = ParseCidrList(cluster);
  if (!nets.ok()) return Invalid("--cluster-cidr: " + nets.status().message());
  if (nets->size() > 2 || (nets->size() == 2 && (*nets)[0].v6 == (*nets)[1].v6)) {
    return Invalid("--cluster-cidr: at most one IPv4 and one IPv6 CIDR (dual-stack) are allowed, got \"" + cluster +
                   "\"");
  }
  std::vector<CidrSet> sets;
  for (const IpNet& net : *nets) {
    int mask = settings.node_cidr_mask_size;
    if (net.v6 && mask <= 32) mask = kDefaultIpv6NodeMask;
    Result<CidrSet> set = CidrSet::New(net, mask);
    if (!set.ok()) return Invalid("--node-cidr-mask-size: " + set.status().message());
    sets.push_back(std::move(*set));
  }
  if (!settings.service_cluster_ip_range.empty()) {
    Result<std::vector<IpNet>> services = ParseCidrList(settings.service_cluster_ip_range);
    if (!services.ok()) return Invalid("--service-cluster-ip-range: " + services.status().message());
    // Pod subnets never overlap the Service range (upstream filterOutServiceRange).
    for (const IpNet& service : *services) {
      for (CidrSet& set : sets) set.Occupy(service).IgnoreError();  // Invalid: no overlap
    }
  }
  return sets;
}

Result<std::unique_ptr<ManagedController>> NodeIpamController::New(ControllerContext& context) {
  if (!context.settings.allocate_node_cidrs) {
    CK_LOG_INFO("Skipping node CIDR allocation: --allocate-node-cidrs is false", "controller", "node-ipam-controller");
    return std::unique_ptr<ManagedController>(std::make_unique<NodeIpamController>(context, std::vector<CidrSet>{}));
  }
  CK_ASSIGN_OR_RETURN(std::vector<CidrSet> sets, CidrSetsFromSettings(context.settings));
  return std::unique_ptr<ManagedController>(std::make_unique<NodeIpamController>(context, std::move(sets)));
}

NodeIpamController::NodeIpamController(ControllerContext& context, std::vector<CidrSet> sets, int workers)
    : ManagedController(client::ControllerOptions{.name = "node_ipam_controller",
                                                  .workers = workers,
                                                  .clock = &context.clock,
                                                  .registry = &context.metrics}),
      api_(context.api),
      recorder_(context.Recorder("cidrAllocator")),
      sets_(std::move(sets)) {
  if (sets_.empty()) return;
  nodes_.emplace(context.informers.ForKind<corev1::Node>());
  Handle(*nodes_, client::TypedEventHandler<corev1::Node>{
                      .on_add = [this](const auto& node, bool) { Enqueue(node->metadata().name()); },
                      .on_update =
                          [this](const auto& old_node, const auto& node) {
                            if (PodCidrsOf(*node).empty() || PodCidrsOf(*node) != PodCidrsOf(*old_node)) {
                              Enqueue(node->metadata().name());
                            }
                          },
                      .on_delete = [this](const auto& node, bool) { Enqueue(node->metadata().name()); },
                  });
}

NodeIpamController::~NodeIpamController() {
  RemoveHandlers();
  Stop();
}

std::vector<client::SharedIndexInformer*> NodeIpamController::Informers() const {
  if (!nodes_.has_value()) return {};
  return {&nodes_->Informer()};
}

int64_t NodeIpamController::Allocated(bool family_v6) const {
  std::lock_guard lock(mu_);
  for (const CidrSet& set : sets_) {
    if (set.cluster().v6 == family_v6) return set.allocated();
  }
  return 0;
}

CidrSet* NodeIpamController::SetFor(const IpNet& net) {
  for (CidrSet& set : sets_) {
    if (set.cluster().v6 == net.v6) return &set;
  }
  return nullptr;
}

void NodeIpamController::InitializeLocked() {
  if (initialized_) return;
  initialized_ = true;
  for (const auto& node : nodes_->Lister().List()) {
    std::vector<std::string> cidrs = PodCidrsOf(*node);
    if (cidrs.empty()) continue;
    CK_VLOG(4, "Node has CIDR, occupying it in CIDR map", "node", node->metadata().name(), "CIDR", cidrs[0]);
    HoldLocked(node->metadata().name(), cidrs);
  }
}

void NodeIpamController::HoldLocked(const std::string& node, const std::vector<std::string>& cidrs) {
  auto held = held_.find(node);
  if (held != held_.end() && held->second == cidrs) return;
  ReleaseLocked(node);
  std::vector<std::string> kept;
  for (const std::string& cidr : cidrs) {
    Result<IpNet> net = ParseCidr(cidr);
    CidrSet* set = net.ok() ? SetFor(*net) : nullptr;
    Status occupied = set == nullptr ? Invalid("no cluster CIDR of its IP family") : set->Occupy(*net);
    if (!net.ok() || !occupied.ok()) {
      // A podCIDR from another configuration: nothing of ours to mark (upstream refuses to start).
      CK_LOG_WARNING("Node has a podCIDR outside the cluster CIDR", "node", node, "CIDR", cidr, "err",
                     net.ok() ? occupied.message() : net.status().message());
      continue;
    }
    kept.push_back(cidr);
  }
  held_[node] = std::move(kept);
}

void NodeIpamController::ReleaseLocked(const std::string& node) {
  auto held = held_.find(node);
  if (held == held_.end()) return;
  for (const std::string& cidr : held->second) {
    Result<IpNet> net = ParseCidr(cidr);
    CidrSet* set = net.ok() ? SetFor(*net) : nullptr;
    if (set == nullptr) continue;
    CK_VLOG(4, "Release CIDR for Node", "cidr", cidr, "node", node);
    Status released = set->Release(*net);
    if (!released.ok()) CK_LOG_ERROR("Error when releasing CIDR", "cidr", cidr, "err", released.message());
  }
  held_.erase(held);
}

Status NodeIpamController::Sync(const std::string& key) {
  if (!nodes_.has_value()) return Status::Ok();
  Result<std::shared_ptr<const corev1::Node>> node = nodes_->Lister().Get(key);
  if (!node.ok() && node.status().code() != Code::kNotFound) return node.status();
  std::vector<std::string> cidrs;
  {
    std::lock_guard lock(mu_);
    InitializeLocked();
    if (!node.ok()) {
      ReleaseLocked(key);
      return Status::Ok();
    }
    std::vector<std::string> current = PodCidrsOf(**node);
    if (!current.empty()) {
      HoldLocked(key, current);
      return Status::Ok();
    }
    auto held = held_.find(key);
    if (held != held_.end() && held->second.size() == sets_.size()) {
      cidrs = held->second;  // reserved by an earlier attempt whose write did not land
    } else {
      ReleaseLocked(key);
      std::vector<IpNet> allocated;
      for (size_t idx = 0; idx < sets_.size(); ++idx) {
        Result<IpNet> next = sets_[idx].AllocateNext();
        if (!next.ok()) {
          for (size_t j = 0; j < allocated.size(); ++j) sets_[j].Release(allocated[j]).IgnoreError();
          RecordNodeStatusChange(recorder_, **node, "CIDRNotAvailable");
          return Unavailable("failed to allocate cidr from cluster cidr at idx:" + std::to_string(idx) + ": " +
                             next.status().message());
        }
        allocated.push_back(*next);
        cidrs.push_back(next->String());
      }
      held_[key] = cidrs;
    }
  }

  std::string list;  // the podCIDRs as a JSON list, and for the log
  std::string joined;
  for (const std::string& c : cidrs) {
    list += (list.empty() ? "\"" : ",\"") + c + "\"";
    joined += (joined.empty() ? "" : ",") + c;
  }
  const std::string patch = "{\"spec\":{\"podCIDR\":\"" + cidrs[0] + "\",\"podCIDRs\":[" + list + "]}}";
  Status last = Status::Ok();
  for (int attempt = 0; attempt < kCidrUpdateRetries; ++attempt) {
    Result<client::ObjectPtr> patched =
        api_.Patch(NodesResource(), "", key, client::PatchType::kStrategicMerge, patch);
    if (patched.ok()) {
      CK_LOG_INFO("Set Node PodCIDR", "node", key, "CIDR", joined);
      return Status::Ok();
    }
    last = patched.status();
    if (last.code() == Code::kNotFound) {
      std::lock_guard lock(mu_);
      ReleaseLocked(key);
      return Status::Ok();
    }
  }
  CK_LOG_ERROR("Failed to update Node PodCIDR after multiple attempts", "node", key, "CIDR", joined, "err",
               last.ToString());
  RecordNodeStatusChange(recorder_, **node, "CIDRAssignmentFailed");
  // The subnets stay reserved for this node: the retry writes the same ones, and a deleted node
  // or one that got a podCIDR elsewhere gives them back.
  return last;
}

}  // namespace ck::controller_manager
