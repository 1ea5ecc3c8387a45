#include "apiserver/node/graph.h"

#include <algorithm>
#include <mutex>

namespace ck::apiserver::node {
namespace {

void AddUnique(std::vector<std::string>* out, const std::string& name) {
  if (name.empty()) return;
  if (std::find(out->begin(), out->end(), name) == out->end()) out->push_back(name);
}

template <typename ContainerT>
void VisitEnv(const ContainerT& c, std::vector<std::string>* secrets, std::vector<std::string>* configmaps) {
  for (const auto& from : c.envfrom()) {
    if (secrets && from.has_secretref()) AddUnique(secrets, from.secretref().localobjectreference().name());
    if (configmaps && from.has_configmapref()) {
      AddUnique(configmaps, from.configmapref().localobjectreference().name());
    }
  }
  for (const auto& env : c.env()) {
    if (!env.has_valuefrom()) continue;
    if (secrets && env.valuefrom().has_secretkeyref()) {
      AddUnique(secrets, env.valuefrom().secretkeyref().localobjectreference().name());
    }
    if (configmaps && env.valuefrom().has_configmapkeyref()) {
      AddUnique(configmaps, env.valuefrom().configmapkeyref().localobjectreference().name());
    }
  }
}

void VisitAllEnv(const corev1::PodSpec& spec, std::vector<std::string>* secrets,
                 std::vector<std::string>* configmaps) {
  for (const auto& c : spec.initcontainers()) VisitEnv(c, secrets, configmaps);
  for (const auto& c : spec.containers()) VisitEnv(c, secrets, configmaps);
  for (const auto& c : spec.ephemeralcontainers()) VisitEnv(c.ephemeralcontainercommon(), secrets, configmaps);
}

}  // namespace

std::vector<std::string> PodSecretNames(const corev1::Pod& pod) {
  std::vector<std::string> out;
  const auto& spec = pod.spec();
  for (const auto& ref : spec.imagepullsecrets()) AddUnique(&out, ref.name());
  VisitAllEnv(spec, &out, nullptr);
  for (const auto& v : spec.volumes()) {
    const auto& src = v.volumesource();
    if (src.has_secret()) AddUnique(&out, src.secret().secretname());
    if (src.has_projected()) {
      for (const auto& p : src.projected().sources()) {
        if (p.has_secret()) AddUnique(&out, p.secret().localobjectreference().name());
      }
    }
    if (src.has_csi() && src.csi().has_nodepublishsecretref()) AddUnique(&out, src.csi().nodepublishsecretref().name());
    if (src.has_azurefile()) AddUnique(&out, src.azurefile().secretname());
    if (src.has_cephfs() && src.cephfs().has_secretref()) AddUnique(&out, src.cephfs().secretref().name());
    if (src.has_cinder() && src.cinder().has_secretref()) AddUnique(&out, src.cinder().secretref().name());
    if (src.has_flexvolume() && src.flexvolume().has_secretref()) AddUnique(&out, src.flexvolume().secretref().name());
    if (src.has_iscsi() && src.iscsi().has_secretref()) AddUnique(&out, src.iscsi().secretref().name());
    if (src.has_rbd() && src.rbd().has_secretref()) AddUnique(&out, src.rbd().secretref().name());
    if (src.has_scaleio() && src.scaleio().has_secretref()) AddUnique(&out, src.scaleio().secretref().name());
    if (src.has_storageos() && src.storageos().has_secretref()) AddUnique(&out, src.storageos().secretref().name());
  }
  return out;
}

std::vector<std::string> PodConfigMapNames(const corev1::Pod& pod) {
  std::vector<std::string> out;
  const auto& spec = pod.spec();
  VisitAllEnv(spec, nullptr, &out);
  for (const auto& v : spec.volumes()) {
    const auto& src = v.volumesource();
    if (src.has_configmap()) AddUnique(&out, src.configmap().localobjectreference().name());
    if (src.has_projected()) {
      for (const auto& p : src.projected().sources()) {
        if (p.has_configmap()) AddUnique(&out, p.configmap().localobjectreference().name());
      }
    }
  }
  return out;
}

void Graph::UpsertPod(const corev1::Pod& pod) {
  const std::string& ns = pod.metadata().namespace_();
  const std::string& name = pod.metadata().name();
  PodEntry entry;
  entry.node = pod.spec().nodename();
  if (!entry.node.empty()) {
    entry.refs.emplace_back(VertexKind::kPod, ns, name);
    for (const auto& s : PodSecretNames(pod)) entry.refs.emplace_back(VertexKind::kSecret, ns, s);
    for (const auto& c : PodConfigMapNames(pod)) entry.refs.emplace_back(VertexKind::kConfigMap, ns, c);
    for (const auto& v : pod.spec().volumes()) {
      if (v.volumesource().has_persistentvolumeclaim()) {
        entry.refs.emplace_back(VertexKind::kPersistentVolumeClaim, ns,
                                v.volumesource().persistentvolumeclaim().claimname());
      }
      // Generic ephemeral volumes create a PVC named <pod>-<volume>.
      if (v.volumesource().has_ephemeral()) {
        entry.refs.emplace_back(VertexKind::kPersistentVolumeClaim, ns, name + "-" + v.name());
      }
    }
    // The service account admission sets "default" when empty; an empty name references nothing.
    if (!pod.spec().serviceaccountname().empty()) {
      entry.refs.emplace_back(VertexKind::kServiceAccount, ns, pod.spec().serviceaccountname());
    }
    std::sort(entry.refs.begin(), entry.refs.end());
    entry.refs.erase(std::unique(entry.refs.begin(), entry.refs.end()), entry.refs.end());
  }
  std::unique_lock lock(mu_);
  RemovePodLocked(ns, name);
  if (!entry.node.empty()) AddPodLocked(ns, name, std::move(entry));
}

void Graph::RemovePod(std::string_view ns, std::string_view name) {
  std::unique_lock lock(mu_);
  RemovePodLocked(std::string(ns), std::string(name));
}

void Graph::AddPodLocked(const std::string& ns, const std::string& name, PodEntry entry) {
  for (const auto& ref : entry.refs) ++ref_nodes_[ref][entry.node];
  pods_[{ns, name}] = std::move(entry);
}

void Graph::RemovePodLocked(const std::string& ns, const std::string& name) {
  auto it = pods_.find({ns, name});
  if (it == pods_.end()) return;
  for (const auto& ref : it->second.refs) {
    auto r = ref_nodes_.find(ref);
    if (r == ref_nodes_.end()) continue;
    auto n = r->second.find(it->second.node);
    if (n != r->second.end() && --n->second <= 0) r->second.erase(n);
    if (r->second.empty()) ref_nodes_.erase(r);
  }
  pods_.erase(it);
}

void Graph::UpsertPersistentVolume(const corev1::PersistentVolume& pv) {
  PvEntry entry;
  if (pv.spec().has_claimref()) {
    entry.claim_namespace = pv.spec().claimref().namespace_();
    entry.claim_name = pv.spec().claimref().name();
  }
  const auto& src = pv.spec().persistentvolumesource();
  if (src.has_csi()) {
    const auto& csi = src.csi();
    for (const auto* ref : {csi.has_nodepublishsecretref() ? &csi.nodepublishsecretref() : nullptr,
                            csi.has_nodestagesecretref() ? &csi.nodestagesecretref() : nullptr,
                            csi.has_controllerpublishsecretref() ? &csi.controllerpublishsecretref() : nullptr,
                            csi.has_controllerexpandsecretref() ? &csi.controllerexpandsecretref() : nullptr,
                            csi.has_nodeexpandsecretref() ? &csi.nodeexpandsecretref() : nullptr}) {
      if (ref != nullptr && !ref->name().empty()) entry.secrets.emplace_back(ref->namespace_(), ref->name());
    }
  }
  const std::string& name = pv.metadata().name();
  std::unique_lock lock(mu_);
  RemovePvLocked(name);
  for (const auto& s : entry.secrets) secret_pvs_[s].insert(name);
  pvs_[name] = std::move(entry);
}

void Graph::RemovePersistentVolume(std::string_view name) {
  std::unique_lock lock(mu_);
  RemovePvLocked(std::string(name));
}

void Graph::RemovePvLocked(const std::string& name) {
  auto it = pvs_.find(name);
  if (it == pvs_.end()) return;
  for (const auto& s : it->second.secrets) {
    auto sp = secret_pvs_.find(s);
    if (sp == secret_pvs_.end()) continue;
    sp->second.erase(name);
    if (sp->second.empty()) secret_pvs_.erase(sp);
  }
  pvs_.erase(it);
}

bool Graph::RefOnNodeLocked(const Ref& ref, std::string_view node) const {
  auto r = ref_nodes_.find(ref);
  if (r == ref_nodes_.end()) return false;
  auto n = r->second.find(node);
  return n != r->second.end() && n->second > 0;
}

bool Graph::HasPathFrom(std::string_view node, VertexKind kind, std::string_view ns, std::string_view name) const {
  std::shared_lock lock(mu_);
  auto pv_on_node = [&](const std::string& pv_name) {
    auto pv = pvs_.find(pv_name);
    if (pv == pvs_.end() || pv->second.claim_name.empty()) return false;
    return RefOnNodeLocked({VertexKind::kPersistentVolumeClaim, pv->second.claim_namespace, pv->second.claim_name},
                           node);
  };
  switch (kind) {
    case VertexKind::kPersistentVolume:
      return pv_on_node(std::string(name));
    case VertexKind::kSecret: {
      if (RefOnNodeLocked({kind, std::string(ns), std::string(name)}, node)) return true;
      auto sp = secret_pvs_.find({std::string(ns), std::string(name)});
      if (sp == secret_pvs_.end()) return false;
      for (const auto& pv_name : sp->second) {
        if (pv_on_node(pv_name)) return true;
      }
      return false;
    }
    default:
      return RefOnNodeLocked({kind, std::string(ns), std::string(name)}, node);
  }
}

size_t Graph::pod_count() const {
  std::shared_lock lock(mu_);
  return pods_.size();
}

}  // namespace ck::apiserver::node
