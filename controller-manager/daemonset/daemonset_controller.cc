#include "controller-manager/daemonset/daemonset_controller.h"

#include <algorithm>
#include <mutex>
#include <set>

#include <google/protobuf/util/message_differencer.h>

#include "common/api/object.h"
#include "common/base/log.h"
#include "common/base/strings.h"
#include "common/client/cache/meta.h"
#include "controller-manager/util/controller_ref.h"
#include "controller-manager/util/pod_util.h"

namespace ck::controller_manager {

namespace {

using google::protobuf::util::MessageDifferencer;

// Threads that create (or delete) one batch of daemon pods at once; upstream starts a goroutine
// per pod of the batch, the client's QPS limit paces them.
constexpr int kCreateParallelism = 8;
// Upstream BackoffGCInterval.
constexpr Duration kBackoffGcInterval = std::chrono::minutes(1);

const client::ResourceInfo& ResourceOf(const google::protobuf::Descriptor* d) {
  return client::SharedInformerFactory::ResourceOfMessage(d->full_name());
}
const client::ResourceInfo& DaemonSets() { return ResourceOf(appsv1::DaemonSet::descriptor()); }
const client::ResourceInfo& Pods() { return ResourceOf(corev1::Pod::descriptor()); }
const client::ResourceInfo& Revisions() { return ResourceOf(appsv1::ControllerRevision::descriptor()); }

bool Deleting(const metav1::ObjectMeta& meta) { return meta.has_deletiontimestamp(); }

std::string LabelOf(const metav1::ObjectMeta& meta, const std::string& key) {
  auto it = meta.labels().find(key);
  return it == meta.labels().end() ? std::string() : it->second;
}

template <typename T>
bool SameRepeated(const google::protobuf::RepeatedPtrField<T>& a, const google::protobuf::RepeatedPtrField<T>& b) {
  if (a.size() != b.size()) return false;
  for (int i = 0; i < a.size(); ++i) {
    if (!MessageDifferencer::Equals(a.Get(i), b.Get(i))) return false;
  }
  return true;
}

// A namespace being deleted refuses creates; upstream drops those errors (NamespaceTerminatingCause).
bool NamespaceTerminating(const Status& s) {
  return s.code() == Code::kForbidden && s.message().find("because it is being terminated") != std::string::npos;
}

// utilerrors.NewAggregate: nothing, the one error, or "[a, b]" with the first error's code.
Status Aggregate(const std::vector<Status>& errors) {
  if (errors.empty()) return Status::Ok();
  if (errors.size() == 1) return errors[0];
  std::vector<std::string> messages;
  for (const Status& s : errors) messages.push_back(s.message());
  return Status(errors[0].code(), "[" + Join(messages, ", ") + "]");
}

Status Wrap(const Status& s, const std::string& prefix) {
  if (s.ok()) return s;
  return Status(s.code(), prefix + s.message());
}

}  // namespace

DaemonSetsController::DaemonSetsController(ControllerContext& context)
    : ManagedController(client::ControllerOptions{.name = "daemonset",
                                                  .workers = context.settings.concurrent_daemonset_syncs,
                                                  .clock = &context.clock,
                                                  .registry = &context.metrics}),
      api_(context.api),
      clock_(context.clock),
      recorder_(context.Recorder("daemonset-controller")),
      pod_control_(context.api, recorder_),
      daemonsets_(context.informers.ForKind<appsv1::DaemonSet>()),
      pods_(context.informers.ForKind<corev1::Pod>()),
      nodes_(context.informers.ForKind<corev1::Node>()),
      revisions_(context.informers.ForKind<appsv1::ControllerRevision>()),
      expectations_(context.clock),
      failed_pods_backoff_(context.clock),
      history_(context.api) {
  Handle(daemonsets_, client::TypedEventHandler<appsv1::DaemonSet>{
      .on_add = [this](const DaemonSetPtr& ds, bool) { EnqueueDaemonSet(*ds); },
      .on_update =
          [this](const DaemonSetPtr& old_ds, const DaemonSetPtr& cur_ds) {
            // A DaemonSet deleted and recreated under the same name between two events.
            if (old_ds->metadata().uid() != cur_ds->metadata().uid()) {
              expectations_.DeleteExpectations(api::ObjectKey(old_ds->metadata()));
            }
            EnqueueDaemonSet(*cur_ds);
          },
      .on_delete =
          [this](const DaemonSetPtr& ds, bool) {
            // A new DaemonSet of the same name starts with clean expectations.
            expectations_.DeleteExpectations(api::ObjectKey(ds->metadata()));
            EnqueueDaemonSet(*ds);
          },
  });
  Handle(revisions_, client::TypedEventHandler<appsv1::ControllerRevision>{
      .on_add = [this](const RevisionPtr& r, bool) { OnRevisionAdded(r); },
      .on_update = [this](const RevisionPtr& o, const RevisionPtr& c) { OnRevisionUpdated(o, c); },
      .on_delete = [this](const RevisionPtr& r, bool) { OnRevisionDeleted(r); },
  });
  Handle(pods_, client::TypedEventHandler<corev1::Pod>{
      .on_add = [this](const PodPtr& p, bool) { OnPodAdded(p); },
      .on_update = [this](const PodPtr& o, const PodPtr& c) { OnPodUpdated(o, c); },
      .on_delete = [this](const PodPtr& p, bool) { OnPodDeleted(p); },
  });
  Handle(nodes_, client::TypedEventHandler<corev1::Node>{
      .on_add = [this](const NodePtr& n, bool) { OnNodeAdded(n); },
      .on_update = [this](const NodePtr& o, const NodePtr& c) { OnNodeUpdated(o, c); },
      // Not in upstream (it leaves that to the pod GC and the next resync); a node's removal
      // changes every DaemonSet's counts, so they are recomputed at once.
      .on_delete =
          [this](const NodePtr&, bool) {
            for (const DaemonSetPtr& ds : daemonsets_.Lister().List()) EnqueueDaemonSet(*ds);
          },
  });
}

DaemonSetsController::~DaemonSetsController() {
  RemoveHandlers();
  Stop();
}

std::vector<client::SharedIndexInformer*> DaemonSetsController::Informers() const {
  return {&pods_.Informer(), &nodes_.Informer(), &revisions_.Informer(), &daemonsets_.Informer()};
}

// ---- Handlers ----------------------------------------------------------------------------------

void DaemonSetsController::EnqueueDaemonSet(const appsv1::DaemonSet& ds) { Enqueue(api::ObjectKey(ds.metadata())); }

DaemonSetsController::DaemonSetPtr DaemonSetsController::ResolveControllerRef(const std::string& ns,
                                                                              const metav1::OwnerReference& ref) const {
  if (ref.kind() != "DaemonSet") return nullptr;
  Result<DaemonSetPtr> ds = daemonsets_.Lister().Get(ns, ref.name());
  if (!ds.ok() || (*ds)->metadata().uid() != ref.uid()) return nullptr;
  return *ds;
}

std::vector<DaemonSetsController::DaemonSetPtr> DaemonSetsController::DaemonSetsSelecting(
    const std::string& ns, const google::protobuf::Map<std::string, std::string>& labels) const {
  std::vector<DaemonSetPtr> out;
  if (labels.empty()) return out;  // upstream: "no daemon sets found for pod ... because it has no labels"
  for (const DaemonSetPtr& ds : daemonsets_.Lister().Namespace(ns).List()) {
    Result<api::LabelSelector> selector =
        api::LabelSelector::FromProto(ds->spec().has_selector() ? &ds->spec().selector() : nullptr);
    // A nil or empty selector matches nothing here, never everything.
    if (!selector.ok() || selector->Empty() || selector->MatchesNothing()) continue;
    if (selector->Matches(labels)) out.push_back(ds);
  }
  if (out.size() > 1) {
    CK_VLOG(4, "More than one DaemonSet is selecting the same labels; this is a user error", "namespace", ns);
  }
  return out;
}

void DaemonSetsController::OnPodAdded(const PodPtr& pod) {
  if (Deleting(pod->metadata())) {
    // After a restart a pod can show up already being deleted: that is no creation.
    OnPodDeleted(pod);
    return;
  }
  if (const metav1::OwnerReference* ref = GetControllerOf(pod->metadata()); ref != nullptr) {
    DaemonSetPtr ds = ResolveControllerRef(pod->metadata().namespace_(), *ref);
    if (ds == nullptr) return;
    expectations_.CreationObserved(api::ObjectKey(ds->metadata()));
    EnqueueDaemonSet(*ds);
    return;
  }
  // An orphan: every DaemonSet that selects it may adopt it; no creation is observed.
  for (const DaemonSetPtr& ds : DaemonSetsSelecting(pod->metadata().namespace_(), pod->metadata().labels())) {
    EnqueueDaemonSet(*ds);
  }
}

void DaemonSetsController::OnPodUpdated(const PodPtr& old_pod, const PodPtr& cur_pod) {
  if (old_pod->metadata().resourceversion() == cur_pod->metadata().resourceversion()) return;  // resync
  if (Deleting(cur_pod->metadata())) {
    // A graceful deletion starts: replace the pod now rather than when the kubelet is done.
    OnPodDeleted(cur_pod);
    return;
  }
  const metav1::OwnerReference* cur_ref = GetControllerOf(cur_pod->metadata());
  const metav1::OwnerReference* old_ref = GetControllerOf(old_pod->metadata());
  const bool ref_changed = !SameControllerRef(cur_ref, old_ref);
  if (ref_changed && old_ref != nullptr) {
    if (DaemonSetPtr ds = ResolveControllerRef(old_pod->metadata().namespace_(), *old_ref)) EnqueueDaemonSet(*ds);
  }
  if (cur_ref != nullptr) {
    DaemonSetPtr ds = ResolveControllerRef(cur_pod->metadata().namespace_(), *cur_ref);
    if (ds == nullptr) return;
    EnqueueDaemonSet(*ds);
    // Availability is reached minReadySeconds after readiness: look again then (one second
    // more against rounding, as upstream).
    if (!IsPodReady(*old_pod) && IsPodReady(*cur_pod) && ds->spec().minreadyseconds() > 0) {
      EnqueueAfter(api::ObjectKey(ds->metadata()),
                   std::chrono::seconds(ds->spec().minreadyseconds()) + std::chrono::seconds(1));
    }
    return;
  }
  std::vector<DaemonSetPtr> selecting = DaemonSetsSelecting(cur_pod->metadata().namespace_(), cur_pod->metadata().labels());
  if (selecting.empty()) return;
  if (ref_changed || !SameLabels(old_pod->metadata().labels(), cur_pod->metadata().labels())) {
    for (const DaemonSetPtr& ds : selecting) EnqueueDaemonSet(*ds);
  }
}

void DaemonSetsController::OnPodDeleted(const PodPtr& pod) {
  const metav1::OwnerReference* ref = GetControllerOf(pod->metadata());
  if (ref == nullptr) return;  // nobody waits for an orphan's deletion
  DaemonSetPtr ds = ResolveControllerRef(pod->metadata().namespace_(), *ref);
  if (ds == nullptr) return;
  expectations_.DeletionObserved(api::ObjectKey(ds->metadata()));
  EnqueueDaemonSet(*ds);
}

void DaemonSetsController::OnRevisionAdded(const RevisionPtr& revision) {
  if (Deleting(revision->metadata())) {
    OnRevisionDeleted(revision);
    return;
  }
  // An owned revision needs nothing (its DaemonSet made it); an orphan may be adopted.
  if (GetControllerOf(revision->metadata()) != nullptr) return;
  for (const DaemonSetPtr& ds :
       DaemonSetsSelecting(revision->metadata().namespace_(), revision->metadata().labels())) {
    EnqueueDaemonSet(*ds);
  }
}

void DaemonSetsController::OnRevisionUpdated(const RevisionPtr& old_rev, const RevisionPtr& cur_rev) {
  if (old_rev->metadata().resourceversion() == cur_rev->metadata().resourceversion()) return;
  const metav1::OwnerReference* cur_ref = GetControllerOf(cur_rev->metadata());
  const metav1::OwnerReference* old_ref = GetControllerOf(old_rev->metadata());
  const bool ref_changed = !SameControllerRef(cur_ref, old_ref);
  if (ref_changed && old_ref != nullptr) {
    if (DaemonSetPtr ds = ResolveControllerRef(old_rev->metadata().namespace_(), *old_ref)) EnqueueDaemonSet(*ds);
  }
  if (cur_ref != nullptr) {
    if (DaemonSetPtr ds = ResolveControllerRef(cur_rev->metadata().namespace_(), *cur_ref)) EnqueueDaemonSet(*ds);
    return;
  }
  if (ref_changed || !SameLabels(old_rev->metadata().labels(), cur_rev->metadata().labels())) {
    for (const DaemonSetPtr& ds :
         DaemonSetsSelecting(cur_rev->metadata().namespace_(), cur_rev->metadata().labels())) {
      EnqueueDaemonSet(*ds);
    }
  }
}

void DaemonSetsController::OnRevisionDeleted(const RevisionPtr& revision) {
  const metav1::OwnerReference* ref = GetControllerOf(revision->metadata());
  if (ref == nullptr) return;
  if (DaemonSetPtr ds = ResolveControllerRef(revision->metadata().namespace_(), *ref)) EnqueueDaemonSet(*ds);
}

void DaemonSetsController::OnNodeAdded(const NodePtr& node) {
  for (const DaemonSetPtr& ds : daemonsets_.Lister().List()) {
    if (daemonset::NodeShouldRunDaemonPod(*node, *ds).should_run) EnqueueDaemonSet(*ds);
  }
}

void DaemonSetsController::OnNodeUpdated(const NodePtr& old_node, const NodePtr& cur_node) {
  // Only labels and taints decide where daemon pods run (upstream shouldIgnoreNodeUpdate);
  // heartbeats, conditions and spec.unschedulable do not.
  if (SameLabels(old_node->metadata().labels(), cur_node->metadata().labels()) &&
      SameRepeated(old_node->spec().taints(), cur_node->spec().taints())) {
    return;
  }
  for (const DaemonSetPtr& ds : daemonsets_.Lister().List()) {
    daemonset::DaemonSetPlacement placement(*ds);
    if (placement.Evaluate(*old_node) != placement.Evaluate(*cur_node)) EnqueueDaemonSet(*ds);
  }
}

// ---- Sync --------------------------------------------------------------------------------------

Status DaemonSetsController::Sync(const std::string& key) {
  MaybeGcBackoff();
  CK_ASSIGN_OR_RETURN(auto ns_name, api::SplitObjectKey(key));
  Result<DaemonSetPtr> got = daemonsets_.Lister().Get(ns_name.first, ns_name.second);
  if (got.status().code() == Code::kNotFound) {
    CK_VLOG(3, "Daemon set has been deleted", "daemonset", key);
    expectations_.DeleteExpectations(key);
    return Status::Ok();
  }
  if (!got.ok()) return Wrap(got.status(), "unable to retrieve ds " + key + " from store: ");
  const appsv1::DaemonSet& ds = **got;

  // A non-nil empty selector would select every pod of the namespace.
  const auto& sel = ds.spec().selector();
  if (ds.spec().has_selector() && sel.matchlabels().empty() && sel.matchexpressions().empty()) {
    recorder_.Event(ds, client::kEventWarning, kSelectingAllReason,
                    "This daemon set is selecting all pods. A non-empty selector is required.");
    return Status::Ok();
  }
  // Being deleted: its revisions may be gone or orphaned already, so its status cannot be
  // computed reliably; the garbage collector takes the pods.
  if (Deleting(ds.metadata())) return Status::Ok();
  CK_ASSIGN_OR_RETURN(api::LabelSelector selector,
                      api::LabelSelector::FromProto(ds.spec().has_selector() ? &sel : nullptr));

  daemonset::DaemonSetPlacement placement(ds);
  std::vector<NodeEval> nodes;
  for (const NodePtr& node : nodes_.Lister().List()) nodes.push_back({node, placement.Evaluate(*node)});
  std::sort(nodes.begin(), nodes.end(),
            [](const NodeEval& a, const NodeEval& b) { return a.node->metadata().name() < b.node->metadata().name(); });

  Result<HistoryState> history = ConstructHistory(ds, selector);
  if (!history.ok()) return Wrap(history.status(), "failed to construct revisions of DaemonSet: ");
  const std::string hash = LabelOf(history->current->metadata(), kControllerRevisionHashLabel);

  if (!expectations_.SatisfiedExpectations(key)) {
    // Only the status: observedGeneration stays, this generation was not acted on.
    return UpdateDaemonSetStatus(ds, selector, nodes, hash, history->collision_count, false);
  }
  Status err = UpdateDaemonSet(ds, selector, nodes, hash, key, history->old);
  Status status_err = UpdateDaemonSetStatus(ds, selector, nodes, hash, history->collision_count, true);
  if (!err.ok()) {
    if (!status_err.ok()) CK_LOG_ERROR("Failed to update status", "daemonSet", key, "err", status_err.ToString());
    return err;
  }
  return status_err;
}

Result<std::vector<DaemonSetsController::PodPtr>> DaemonSetsController::GetDaemonPods(
    const appsv1::DaemonSet& ds, const api::LabelSelector& selector) {
  const metav1::ObjectMeta& meta = ds.metadata();
  // Every pod of the namespace: owned pods that stopped matching are released.
  std::vector<PodPtr> pods = pods_.Lister().Namespace(meta.namespace_()).List();
  std::vector<client::ObjectPtr> candidates(pods.begin(), pods.end());
  ControllerRefManager manager(api_, ds, selector, Pods(),
                               RecheckDeletionTimestamp(api_, DaemonSets(), meta.namespace_(), meta.name(), meta.uid()));
  CK_ASSIGN_OR_RETURN(std::vector<client::ObjectPtr> claimed, manager.Claim(candidates));
  std::vector<PodPtr> out;
  out.reserve(claimed.size());
  for (const client::ObjectPtr& object : claimed) out.push_back(client::As<corev1::Pod>(object));
  return out;
}

Result<DaemonSetsController::NodeToPods> DaemonSetsController::GetNodesToDaemonPods(const appsv1::DaemonSet& ds,
                                                                                    const api::LabelSelector& selector,
                                                                                    bool include_deleted_terminal) {
  Result<std::vector<PodPtr>> claimed = GetDaemonPods(ds, selector);
  if (!claimed.ok()) {
    return Wrap(claimed.status(),
                "couldn't get node to daemon pod mapping for daemon set \"" + ds.metadata().name() + "\": ");
  }
  NodeToPods out;
  for (const PodPtr& pod : *claimed) {
    // A finished pod being deleted (held by a finalizer, or about to go): nothing left to do with it.
    if (!include_deleted_terminal && IsPodTerminal(*pod) && Deleting(pod->metadata())) continue;
    Result<std::string> node = daemonset::GetTargetNodeName(*pod);
    if (!node.ok()) {
      CK_VLOG(4, "Failed to get target node name of Pod in DaemonSet", "pod", client::KeyOf(*pod), "err",
              node.status().message());
      continue;
    }
    out[*node].push_back(pod);
  }
  return out;
}

Result<DaemonSetsController::HistoryState> DaemonSetsController::ConstructHistory(const appsv1::DaemonSet& ds,
                                                                                  const api::LabelSelector& selector) {
  const metav1::ObjectMeta& meta = ds.metadata();
  std::vector<RevisionPtr> listed = revisions_.Lister().Namespace(meta.namespace_()).List();
  std::vector<client::ObjectPtr> candidates(listed.begin(), listed.end());
  ControllerRefManager manager(api_, ds, selector, Revisions(),
                               RecheckDeletionTimestamp(api_, DaemonSets(), meta.namespace_(), meta.name(), meta.uid()));
  CK_ASSIGN_OR_RETURN(std::vector<client::ObjectPtr> claimed, manager.Claim(candidates));
  CK_ASSIGN_OR_RETURN(std::string data, daemonset::RevisionData(ds));

  HistoryState out;
  if (ds.status().has_collisioncount()) out.collision_count = ds.status().collisioncount();
  std::vector<RevisionPtr> current;
  for (const client::ObjectPtr& object : claimed) {
    RevisionPtr revision = client::As<appsv1::ControllerRevision>(object);
    // Revisions written without the hash label get their name as hash (upstream: no collision).
    if (!revision->metadata().labels().contains(kControllerRevisionHashLabel)) {
      appsv1::ControllerRevision labelled = *revision;
      (*labelled.mutable_metadata()->mutable_labels())[kControllerRevisionHashLabel] = labelled.metadata().name();
      CK_ASSIGN_OR_RETURN(client::ObjectPtr updated, api_.Update(Revisions(), meta.namespace_(), labelled));
      revision = client::As<appsv1::ControllerRevision>(updated);
    }
    (revision->data().raw() == data ? current : out.old).push_back(revision);
  }

  const int64_t next_revision = NextRevision(out.old);
  if (current.empty()) {
    std::map<std::string, std::string> labels(ds.spec().template_().metadata().labels().begin(),
                                              ds.spec().template_().metadata().labels().end());
    appsv1::ControllerRevision revision =
        NewControllerRevision(ds, std::move(data), labels, next_revision, out.collision_count);
    *revision.mutable_metadata()->mutable_annotations() = meta.annotations();
    int32_t collision_count = out.collision_count.value_or(0);
    CK_ASSIGN_OR_RETURN(out.current, history_.Create(ds, revision, &collision_count));
    if (collision_count != out.collision_count.value_or(0)) {
      CK_LOG_INFO("Found a hash collision for DaemonSet - bumping collisionCount to resolve it", "daemonset",
                  api::ObjectKey(meta), "collisionCount", collision_count);
      out.collision_count = collision_count;
    }
    return out;
  }
  CK_ASSIGN_OR_RETURN(out.current, DedupCurHistories(ds, selector, current));
  if (out.current->revision() < next_revision) {
    // The template went back to an older revision: it becomes the newest again.
    CK_ASSIGN_OR_RETURN(out.current, history_.UpdateRevision(*out.current, next_revision));
  }
  return out;
}

Result<DaemonSetsController::RevisionPtr> DaemonSetsController::DedupCurHistories(
    const appsv1::DaemonSet& ds, const api::LabelSelector& selector, const std::vector<RevisionPtr>& current) {
  if (current.size() == 1) return current[0];
  RevisionPtr keep;
  for (const RevisionPtr& r : current) {
    if (keep == nullptr || r->revision() >= keep->revision()) keep = r;
  }
  const std::string keep_hash = LabelOf(keep->metadata(), kControllerRevisionHashLabel);
  // Pods of the duplicates are relabelled first, so that none looks out of date.
  CK_ASSIGN_OR_RETURN(std::vector<PodPtr> pods, GetDaemonPods(ds, selector));
  const std::string patch = R"({"metadata":{"labels":{")" + std::string(kControllerRevisionHashLabel) +
                            R"(":)" + JsonString(keep_hash) + "}}}";
  for (const PodPtr& pod : pods) {
    if (LabelOf(pod->metadata(), kControllerRevisionHashLabel) == keep_hash) continue;
    CK_RETURN_IF_ERROR(
        api_.Patch(Pods(), pod->metadata().namespace_(), pod->metadata().name(), client::PatchType::kMerge, patch)
            .status());
  }
  for (const RevisionPtr& r : current) {
    if (r->metadata().name() != keep->metadata().name()) CK_RETURN_IF_ERROR(history_.Delete(*r));
  }
  return keep;
}

Status DaemonSetsController::UpdateDaemonSet(const appsv1::DaemonSet& ds, const api::LabelSelector& selector,
                                             const std::vector<NodeEval>& nodes, const std::string& hash,
                                             const std::string& key, const std::vector<RevisionPtr>& old) {
  CK_RETURN_IF_ERROR(Manage(ds, selector, nodes, hash));
  // Roll only once the creates and deletes of Manage have been observed.
  if (expectations_.SatisfiedExpectations(key) && ds.spec().updatestrategy().type() == daemonset::kRollingUpdateStrategy) {
    CK_RETURN_IF_ERROR(RollingUpdate(ds, selector, nodes, hash));
  }
  return Wrap(CleanupHistory(ds, selector, old), "failed to clean up revisions of DaemonSet: ");
}

Status DaemonSetsController::Manage(const appsv1::DaemonSet& ds, const api::LabelSelector& selector,
                                    const std::vector<NodeEval>& nodes, const std::string& hash) {
  CK_ASSIGN_OR_RETURN(NodeToPods node_to_pods, GetNodesToDaemonPods(ds, selector, false));
  std::vector<std::string> nodes_needing_pods;
  std::vector<PodToDelete> pods_to_delete;
  std::set<std::string> existing;
  for (const NodeEval& node : nodes) {
    existing.insert(node.node->metadata().name());
    PodsShouldBeOnNode(ds, node, node_to_pods, hash, &nodes_needing_pods, &pods_to_delete);
  }
  // Pods pinned to a node that does not exist are never bound, so the pod GC never sees them.
  for (const auto& [node_name, pods] : node_to_pods) {
    if (existing.contains(node_name)) continue;
    for (const PodPtr& pod : pods) {
      if (pod->spec().nodename().empty()) pods_to_delete.push_back({pod->metadata().name(), pod->metadata().uid()});
    }
  }
  return SyncNodes(ds, pods_to_delete, nodes_needing_pods, hash);
}

void DaemonSetsController::PodsShouldBeOnNode(const appsv1::DaemonSet& ds, const NodeEval& eval,
                                              const NodeToPods& node_to_pods, const std::string& hash,
                                              std::vector<std::string>* nodes_needing_pods,
                                              std::vector<PodToDelete>* pods_to_delete) {
  const std::string& node_name = eval.node->metadata().name();
  auto found = node_to_pods.find(node_name);
  const bool exists = found != node_to_pods.end();
  auto remove = [&](const corev1::Pod& pod) { pods_to_delete->push_back({pod.metadata().name(), pod.metadata().uid()}); };

  if (eval.verdict.should_run && !exists) {
    nodes_needing_pods->push_back(node_name);
    return;
  }
  if (!eval.verdict.should_continue_running) {
    // Not supposed to run here: every daemon pod on the node goes.
    if (!exists) return;
    for (const PodPtr& pod : found->second) {
      if (!Deleting(pod->metadata())) remove(*pod);
    }
    return;
  }
  if (!exists) return;  // may keep running, but should not start: nothing to do

  std::vector<PodPtr> running;
  for (const PodPtr& pod : found->second) {
    if (Deleting(pod->metadata())) continue;
    const std::string& phase = pod->status().phase();
    const std::string where = pod->metadata().namespace_() + "/" + pod->metadata().name() + " on node " + node_name;
    if (phase == "Failed") {
      // A kubelet that rejects the pod would make us fight it in a hot loop: back off per node.
      const std::string backoff_key =
          ds.metadata().uid() + "/" + std::to_string(ds.status().observedgeneration()) + "/" + node_name;
      if (failed_pods_backoff_.IsInBackOffSinceUpdate(backoff_key)) {
        Duration delay = failed_pods_backoff_.Get(backoff_key);
        CK_VLOG(4, "Deleting failed pod on node has been limited by backoff", "pod", client::KeyOf(*pod), "node",
                node_name, "currentDelaySeconds", std::chrono::duration_cast<std::chrono::seconds>(delay).count());
        EnqueueAfter(api::ObjectKey(ds.metadata()), delay);
        continue;
      }
      failed_pods_backoff_.Next(backoff_key);
      std::string message = "Found failed daemon pod " + where + ", will try to kill it";
      CK_VLOG(2, "Found failed daemon pod on node, will try to kill it", "pod", client::KeyOf(*pod), "node", node_name);
      recorder_.Event(ds, client::kEventWarning, kFailedDaemonPodReason, message);
      remove(*pod);
    } else if (phase == "Succeeded") {
      std::string message = "Found succeeded daemon pod " + where + ", will try to delete it";
      CK_VLOG(2, "Found succeeded daemon pod on node, will try to delete it", "pod", client::KeyOf(*pod), "node",
              node_name);
      recorder_.Event(ds, client::kEventNormal, kSucceededDaemonPodReason, message);
      remove(*pod);
    } else {
      running.push_back(pod);
    }
  }
  auto before = [](const PodPtr& a, const PodPtr& b) { return daemonset::PodBefore(*a, *b); };

  if (!daemonset::AllowsSurge(ds)) {
    // One pod per node: keep the oldest.
    if (running.size() <= 1) return;
    std::sort(running.begin(), running.end(), before);
    for (size_t i = 1; i < running.size(); ++i) remove(*running[i]);
    return;
  }
  if (running.size() <= 1) {
    // Surging: at least one pod that is not being deleted on the node.
    if (running.empty() && eval.verdict.should_run) nodes_needing_pods->push_back(node_name);
    return;
  }
  // Surging allows two pods (the oldest new one and the oldest old one) while the new one is not
  // available yet and the old one is still ready; everything else goes.
  std::sort(running.begin(), running.end(), before);
  PodPtr oldest_new, oldest_old;
  for (const PodPtr& pod : running) {
    if (LabelOf(pod->metadata(), kControllerRevisionHashLabel) == hash) {
      if (oldest_new == nullptr) {
        oldest_new = pod;
        continue;
      }
    } else if (oldest_old == nullptr) {
      oldest_old = pod;
      continue;
    }
    remove(*pod);
  }
  if (oldest_new != nullptr && oldest_old != nullptr) {
    if (!IsPodReady(*oldest_old)) {
      CK_VLOG(5, "Pod from daemonset is no longer ready and will be replaced with newer pod", "oldPod",
              client::KeyOf(*oldest_old), "newPod", client::KeyOf(*oldest_new));
      remove(*oldest_old);
    } else if (IsPodAvailable(*oldest_new, ds.spec().minreadyseconds(), clock_.Now())) {
      CK_VLOG(5, "Pod from daemonset is now ready and will replace older pod", "newPod", client::KeyOf(*oldest_new),
              "oldPod", client::KeyOf(*oldest_old));
      remove(*oldest_old);
    }
  }
}

Status DaemonSetsController::RollingUpdate(const appsv1::DaemonSet& ds, const api::LabelSelector& selector,
                                           const std::vector<NodeEval>& nodes, const std::string& hash) {
  CK_ASSIGN_OR_RETURN(NodeToPods node_to_pods, GetNodesToDaemonPods(ds, selector, false));
  // Every node that should run a pod is considered, with or without pods (updatedDesiredNodeCounts).
  std::map<std::string, const NodeEval*> by_name;
  int desired = 0;
  for (const NodeEval& node : nodes) {
    by_name[node.node->metadata().name()] = &node;
    if (!node.verdict.should_run) continue;
    ++desired;
    node_to_pods.try_emplace(node.node->metadata().name());
  }
  Result<int> unavailable_budget = daemonset::UnavailableCount(ds, desired);
  if (!unavailable_budget.ok()) {
    return Wrap(unavailable_budget.status(), "couldn't get unavailable numbers: invalid value for MaxUnavailable: ");
  }
  Result<int> surge_budget = daemonset::SurgeCount(ds, desired);
  if (!surge_budget.ok()) return Wrap(surge_budget.status(), "couldn't get unavailable numbers: invalid value for MaxSurge: ");
  int max_unavailable = *unavailable_budget;
  const int max_surge = *surge_budget;
  // Neither surge nor unavailability allowed would never progress: accept one unavailable.
  if (desired > 0 && max_unavailable == 0 && max_surge == 0) {
    CK_LOG_INFO("DaemonSet is not configured for surge or unavailability, defaulting to accepting unavailability",
                "daemonset", api::ObjectKey(ds.metadata()));
    max_unavailable = 1;
  }
  const WallTime now = clock_.Now();
  const int32_t min_ready = ds.spec().minreadyseconds();
  Result<std::optional<int64_t>> generation_or = daemonset::GetTemplateGeneration(ds);
  const std::optional<int64_t> generation = generation_or.ok() ? *generation_or : std::nullopt;
  // The one new and one old pod (not being deleted) of a node; ok=false when there are more.
  struct OnNode {
    PodPtr new_pod, old_pod;
    bool ok = true;
  };
  auto find_updated = [&](const std::vector<PodPtr>& pods) {
    OnNode out;
    for (const PodPtr& pod : pods) {
      if (Deleting(pod->metadata())) continue;
      PodPtr& slot = daemonset::IsPodUpdated(*pod, hash, generation) ? out.new_pod : out.old_pod;
      if (slot != nullptr) return OnNode{nullptr, nullptr, false};
      slot = pod;
    }
    return out;
  };
  auto available = [&](const PodPtr& pod) { return IsPodAvailable(*pod, min_ready, now); };
  auto should_run_on = [&](const std::string& node_name) {
    // A node that is gone should run nothing (upstream fails the sync until the pod GC acts).
    auto it = by_name.find(node_name);
    return it != by_name.end() && it->second->verdict.should_run;
  };

  if (max_surge == 0) {
    // Delete just enough old pods to stay within maxUnavailable; Manage creates their successors.
    int num_unavailable = 0;
    std::vector<PodToDelete> allowed_replacements, candidates;
    for (const auto& [node_name, pods] : node_to_pods) {
      OnNode on = find_updated(pods);
      if (!on.ok) {
        CK_VLOG(3, "DaemonSet has excess pods on node, skipping to allow the core loop to process", "node", node_name);
        ++num_unavailable;
        continue;
      }
      if ((on.old_pod == nullptr) == (on.new_pod == nullptr)) {
        ++num_unavailable;  // none yet, or both: Manage creates or deletes
      } else if (on.new_pod != nullptr) {
        if (!available(on.new_pod)) ++num_unavailable;
      } else if (!available(on.old_pod)) {
        // An old pod that is not available anyway is replaced at once.
        allowed_replacements.push_back({on.old_pod->metadata().name(), on.old_pod->metadata().uid()});
        ++num_unavailable;
      } else if (num_unavailable < max_unavailable) {
        candidates.push_back({on.old_pod->metadata().name(), on.old_pod->metadata().uid()});
      }
    }
    int remaining = std::clamp(max_unavailable - num_unavailable, 0, static_cast<int>(candidates.size()));
    CK_VLOG(5, "DaemonSet allowing replacements", "daemonset", api::ObjectKey(ds.metadata()), "replacements",
            allowed_replacements.size(), "maxUnavailable", max_unavailable, "numUnavailable", num_unavailable,
            "candidates", candidates.size());
    std::vector<PodToDelete> to_delete = std::move(allowed_replacements);
    to_delete.insert(to_delete.end(), candidates.begin(), candidates.begin() + remaining);
    return SyncNodes(ds, to_delete, {}, hash);
  }

  // Surging: a new pod starts next to each old one (up to maxSurge at once, immediately where the
  // old one is unavailable); the old one is deleted once the new one is available.
  std::vector<PodToDelete> old_pods_to_delete, should_not_run_to_delete;
  std::vector<std::string> candidate_new_nodes, allowed_new_nodes;
  int num_surge = 0;
  int num_available = 0;
  for (const auto& [node_name, pods] : node_to_pods) {
    OnNode on = find_updated(pods);
    if (!on.ok) {
      CK_VLOG(3, "DaemonSet has excess pods on node, skipping to allow the core loop to process", "node", node_name);
      ++num_surge;
      continue;
    }
    if (on.old_pod != nullptr ? available(on.old_pod) : on.new_pod != nullptr && available(on.new_pod)) ++num_available;
    if (on.old_pod == nullptr) continue;  // Manage handles the node
    const PodToDelete old_ref{on.old_pod->metadata().name(), on.old_pod->metadata().uid()};
    if (on.new_pod == nullptr) {
      if (!available(on.old_pod)) {
        if (!should_run_on(node_name)) {
          old_pods_to_delete.push_back(old_ref);  // unavailable and no longer wanted here
          continue;
        }
        allowed_new_nodes.push_back(node_name);
        continue;
      }
      if (!should_run_on(node_name)) {
        should_not_run_to_delete.push_back(old_ref);
        continue;
      }
      if (num_surge >= max_surge) continue;
      candidate_new_nodes.push_back(node_name);
      continue;
    }
    // Already surged here.
    if (!available(on.new_pod)) {
      ++num_surge;
      continue;
    }
    old_pods_to_delete.push_back(old_ref);
  }
  CK_VLOG(5, "DaemonSet allowing replacements", "daemonset", api::ObjectKey(ds.metadata()), "replacements",
          allowed_new_nodes.size(), "maxSurge", max_surge, "numSurge", num_surge, "candidates",
          candidate_new_nodes.size());
  // maxSurge promises full availability: a pod on a node that should no longer run it goes only
  // when more pods are available than desired.
  int deletable = std::min(num_available - desired, static_cast<int>(should_not_run_to_delete.size()));
  for (int i = 0; i < deletable; ++i) {
    if (!pods_.Lister().Get(ds.metadata().namespace_(), should_not_run_to_delete[i].name).ok()) continue;
    old_pods_to_delete.push_back(should_not_run_to_delete[i]);
  }
  int remaining = std::clamp(max_surge - num_surge, 0, static_cast<int>(candidate_new_nodes.size()));
  std::vector<std::string> to_create = std::move(allowed_new_nodes);
  to_create.insert(to_create.end(), candidate_new_nodes.begin(), candidate_new_nodes.begin() + remaining);
  return SyncNodes(ds, old_pods_to_delete, to_create, hash);
}

Status DaemonSetsController::SyncNodes(const appsv1::DaemonSet& ds, const std::vector<PodToDelete>& pods_to_delete,
                                       const std::vector<std::string>& nodes_needing_pods, const std::string& hash) {
  const std::string key = api::ObjectKey(ds.metadata());
  const std::string& ns = ds.metadata().namespace_();
  const int create_diff = std::min(static_cast<int>(nodes_needing_pods.size()), kBurstReplicas);
  const int delete_diff = std::min(static_cast<int>(pods_to_delete.size()), kBurstReplicas);
  // Expectations before the writes: their events may arrive before the calls return.
  expectations_.SetExpectations(key, create_diff, delete_diff);

  std::mutex mu;
  std::vector<Status> errors;  // guarded by mu
  auto record = [&](const Status& s) {
    std::lock_guard lock(mu);
    errors.push_back(s);
  };

  if (create_diff > 0) {
    CK_VLOG(4, "Nodes needing daemon pods for daemon set, creating", "daemonset", key, "createCount", create_diff);
    const corev1::PodTemplateSpec tmpl =
        daemonset::CreatePodTemplate(ds.spec().template_(), daemonset::PodTemplateGenerationLabelValue(ds), hash);
    const corev1::Pod base = PodFromTemplate(tmpl, ds.metadata().name(), NewControllerRef(ds));
    std::atomic<int> next{0};
    auto create_one = [&]() -> Status {
      const int ix = next.fetch_add(1);
      corev1::Pod pod = base;
      // No nodeName: the scheduler binds the pod to the one node its affinity allows.
      daemonset::ReplaceDaemonSetPodNodeNameNodeAffinity(pod.mutable_spec(), nodes_needing_pods[ix]);
      Result<std::shared_ptr<const corev1::Pod>> created = pod_control_.CreatePod(ns, pod, ds);
      if (created.ok() || NamespaceTerminating(created.status())) return Status::Ok();
      CK_VLOG(2, "Failed creation, decrementing expectations for daemon set", "daemonset", key);
      expectations_.CreationObserved(key);
      record(created.status());
      return created.status();
    };
    // Batches of 1, 2, 4, ...: a create that fails (quota, admission) fails the rest the same
    // way, so stop after the first failing batch instead of spamming the API server.
    auto [created, first_error] = SlowStartBatch(create_diff, kSlowStartInitialBatchSize, kCreateParallelism, create_one);
    (void)created;
    const int skipped = create_diff - next.load();
    if (!first_error.ok() && skipped > 0) {
      CK_VLOG(2, "Slow-start failure. Skipping creation pods, decrementing expectations for daemon set", "skippedPods",
              skipped, "daemonset", key);
      expectations_.LowerExpectations(key, skipped, 0);
    }
  }

  if (delete_diff > 0) {
    CK_VLOG(4, "Pods to delete for daemon set, deleting", "daemonset", key, "deleteCount", delete_diff);
    std::atomic<int> next{0};
    auto delete_one = [&]() -> Status {
      const int ix = next.fetch_add(1);
      Status s = DeleteDaemonPod(ds, pods_to_delete[ix]);
      if (s.ok()) return s;
      // Never to be observed: count it down now (a pod already gone included).
      expectations_.DeletionObserved(key);
      if (s.code() == Code::kNotFound) return Status::Ok();
      CK_VLOG(2, "Failed deletion, decremented expectations for daemon set", "daemonset", key);
      record(s);
      return Status::Ok();  // the others are still attempted
    };
    (void)SlowStartBatch(delete_diff, delete_diff, kCreateParallelism, delete_one);
  }
  return Aggregate(errors);
}

Status DaemonSetsController::DeleteDaemonPod(const appsv1::DaemonSet& ds, const PodToDelete& pod) {
  client::DeleteOptions options;
  options.precondition_uid = pod.uid;
  Result<client::ObjectPtr> deleted = api_.Delete(Pods(), ds.metadata().namespace_(), pod.name, options);
  if (!deleted.ok()) {
    if (deleted.status().code() == Code::kNotFound) {
      CK_VLOG(4, "Pod has already been deleted.", "pod", ds.metadata().namespace_() + "/" + pod.name);
      return deleted.status();
    }
    recorder_.Event(ds, client::kEventWarning, "FailedDelete", "Error deleting: " + deleted.status().message());
    return Wrap(deleted.status(), "unable to delete pods: ");
  }
  recorder_.Event(ds, client::kEventNormal, "SuccessfulDelete", "Deleted pod: " + pod.name);
  return Status::Ok();
}

Status DaemonSetsController::CleanupHistory(const appsv1::DaemonSet& ds, const api::LabelSelector& selector,
                                            std::vector<RevisionPtr> old) {
  // Finished pods being deleted still pin their revision.
  CK_ASSIGN_OR_RETURN(NodeToPods node_to_pods, GetNodesToDaemonPods(ds, selector, true));
  const int to_keep = ds.spec().has_revisionhistorylimit() ? ds.spec().revisionhistorylimit() : 10;
  int to_kill = static_cast<int>(old.size()) - to_keep;
  if (to_kill <= 0) return Status::Ok();
  std::set<std::string> live_hashes;
  for (const auto& [node, pods] : node_to_pods) {
    for (const PodPtr& pod : pods) {
      std::string h = LabelOf(pod->metadata(), kControllerRevisionHashLabel);
      if (!h.empty()) live_hashes.insert(std::move(h));
    }
  }
  // Oldest revisions first.
  std::stable_sort(old.begin(), old.end(), [](const RevisionPtr& a, const RevisionPtr& b) {
    return a->revision() < b->revision();
  });
  for (const RevisionPtr& revision : old) {
    if (to_kill <= 0) break;
    if (live_hashes.contains(LabelOf(revision->metadata(), kControllerRevisionHashLabel))) continue;
    CK_RETURN_IF_ERROR(history_.Delete(*revision));
    --to_kill;
  }
  return Status::Ok();
}

Status DaemonSetsController::UpdateDaemonSetStatus(const appsv1::DaemonSet& ds, const api::LabelSelector& selector,
                                                   const std::vector<NodeEval>& nodes, const std::string& hash,
                                                   std::optional<int32_t> collision_count,
                                                   bool update_observed_generation) {
  CK_ASSIGN_OR_RETURN(NodeToPods node_to_pods, GetNodesToDaemonPods(ds, selector, false));
  const WallTime now = clock_.Now();
  Result<std::optional<int64_t>> generation_or = daemonset::GetTemplateGeneration(ds);
  const std::optional<int64_t> generation = generation_or.ok() ? *generation_or : std::nullopt;
  int32_t desired = 0, current = 0, misscheduled = 0, ready = 0, updated = 0, available = 0;
  for (const NodeEval& node : nodes) {
    auto found = node_to_pods.find(node.node->metadata().name());
    const bool scheduled = found != node_to_pods.end() && !found->second.empty();
    if (!node.verdict.should_run) {
      if (scheduled) ++misscheduled;
      continue;
    }
    ++desired;
    if (!scheduled) continue;
    ++current;
    // The oldest pod of the node speaks for it.
    const PodPtr& pod = *std::min_element(found->second.begin(), found->second.end(),
                                          [](const PodPtr& a, const PodPtr& b) { return daemonset::PodBefore(*a, *b); });
    if (IsPodReady(*pod)) {
      ++ready;
      if (IsPodAvailable(*pod, ds.spec().minreadyseconds(), now)) ++available;
    }
    if (daemonset::IsPodUpdated(*pod, hash, generation)) ++updated;
  }
  const int32_t unavailable = desired - available;

  const appsv1::DaemonSetStatus& st = ds.status();
  const bool collision_same =
      !collision_count || (st.has_collisioncount() && st.collisioncount() == *collision_count);
  if (st.desirednumberscheduled() == desired && st.currentnumberscheduled() == current &&
      st.numbermisscheduled() == misscheduled && st.numberready() == ready && st.updatednumberscheduled() == updated &&
      st.numberavailable() == available && st.numberunavailable() == unavailable &&
      st.observedgeneration() >= ds.metadata().generation() && collision_same) {
    // Unchanged.
  } else {
    appsv1::DaemonSet to_update = ds;
    Status update_error;
    for (int attempt = 0;; ++attempt) {
      appsv1::DaemonSetStatus* s = to_update.mutable_status();
      if (update_observed_generation) s->set_observedgeneration(ds.metadata().generation());
      s->set_desirednumberscheduled(desired);
      s->set_currentnumberscheduled(current);
      s->set_numbermisscheduled(misscheduled);
      s->set_numberready(ready);
      s->set_updatednumberscheduled(updated);
      s->set_numberavailable(available);
      s->set_numberunavailable(unavailable);
      if (collision_count && (!s->has_collisioncount() || s->collisioncount() < *collision_count)) {
        s->set_collisioncount(*collision_count);
      }
      Result<client::ObjectPtr> written = api_.Update(DaemonSets(), ds.metadata().namespace_(), to_update, "status");
      if (written.ok()) break;
      update_error = written.status();
      if (attempt >= kStatusUpdateRetries) {
        return Wrap(update_error, "error storing status for daemon set " + api::ObjectKey(ds.metadata()) + ": ");
      }
      // Once more on the latest version (another writer, or our own collisionCount bump).
      Result<client::ObjectPtr> fresh = api_.Get(DaemonSets(), ds.metadata().namespace_(), ds.metadata().name());
      if (!fresh.ok()) return fresh.status();
      to_update = *client::As<appsv1::DaemonSet>(*fresh);
    }
  }
  // Availability comes minReadySeconds after readiness: look again then.
  if (ds.spec().minreadyseconds() > 0 && ready != available) {
    EnqueueAfter(api::ObjectKey(ds.metadata()), std::chrono::seconds(ds.spec().minreadyseconds()));
  }
  return Status::Ok();
}

void DaemonSetsController::MaybeGcBackoff() {
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.Monotonic().time_since_epoch()).count();
  int64_t last = last_backoff_gc_.load();
  if (last != 0 && now - last < std::chrono::duration_cast<std::chrono::nanoseconds>(kBackoffGcInterval).count()) {
    return;
  }
  if (last_backoff_gc_.compare_exchange_strong(last, now)) failed_pods_backoff_.GC();
}

}  // namespace ck::controller_manager
