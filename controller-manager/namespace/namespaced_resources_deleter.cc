#include "controller-manager/namespace/namespaced_resources_deleter.h"

#include <algorithm>
#include <optional>

#include "common/api/object.h"
#include "common/base/log.h"
#include "common/base/strings.h"
#include "common/client/cache/informer_factory.h"

namespace ck::controller_manager {

namespace corev1 = ::k8s::io::api::core::v1;

namespace {

// How long to wait for objects held by finalizers (upstream finalizerEstimateSeconds).
constexpr int64_t kFinalizerEstimateSeconds = 15;
constexpr int kMaxConflictRetries = 10;

// The condition types the deleter maintains, with their "all is well" reason and message.
struct ConditionKind {
  const char* type;
  const char* ok_reason;
  const char* ok_message;
};
constexpr ConditionKind kConditionKinds[] = {
    {"NamespaceDeletionDiscoveryFailure", "ResourcesDiscovered", "All resources successfully discovered"},
    {"NamespaceDeletionGVParsingFailure", "ParsedGroupVersions", "All legacy kube types successfully parsed"},
    {"NamespaceDeletionContentFailure", "ContentDeleted",
     "All content successfully deleted, may be waiting on finalization"},
    {"NamespaceContentRemaining", "ContentRemoved", "All content successfully removed"},
    {"NamespaceFinalizersRemaining", "ContentRemoved", "All content successfully removed"},
};

struct NewCondition {
  std::string type, reason, message;
};

// Upstream updateConditions: each maintained type becomes the new (failing) condition or its ok
// variant; lastTransitionTime moves only when the status flips. True when something changed.
bool UpdateConditions(corev1::NamespaceStatus* status, const std::vector<NewCondition>& failing, const Clock& clock) {
  bool changed = false;
  for (const ConditionKind& kind : kConditionKinds) {
    std::string want_status = "False", reason = kind.ok_reason, message = kind.ok_message;
    for (const NewCondition& c : failing) {
      if (c.type == kind.type) {
        want_status = "True";
        reason = c.reason;
        message = c.message;
      }
    }
    corev1::NamespaceCondition* old = nullptr;
    for (auto& c : *status->mutable_conditions()) {
      if (c.type() == kind.type) old = &c;
    }
    if (old == nullptr) {
      corev1::NamespaceCondition* c = status->add_conditions();
      c->set_type(kind.type);
      c->set_status(want_status);
      *c->mutable_lasttransitiontime() = api::Now(clock);
      c->set_reason(reason);
      c->set_message(message);
      changed = true;
    } else if (old->status() != want_status || old->reason() != reason || old->message() != message) {
      if (old->status() != want_status) *old->mutable_lasttransitiontime() = api::Now(clock);
      old->set_status(want_status);
      old->set_reason(reason);
      old->set_message(message);
      changed = true;
    }
  }
  return changed;
}

// Go's utilerrors.NewAggregate(...).Error().
std::string Aggregate(const std::vector<std::string>& errors) {
  if (errors.size() == 1) return errors[0];
  return "[" + Join(errors, ", ") + "]";
}

// schema.GroupVersionResource's String(): "apps/v1, Resource=deployments", "/v1, Resource=pods".
std::string GvrString(const client::ResourceInfo& r) {
  return r.group + "/" + r.version + ", Resource=" + r.resource;
}

bool Unsupported(const Status& s) { return s.code() == Code::kMethodNotAllowed || s.code() == Code::kNotFound; }

}  // namespace

std::vector<const client::ResourceInfo*> NamespacedResourcesDeleter::DeletableResources() {
  std::vector<const client::ResourceInfo*> out;
  for (const client::ResourceInfo& r : api::AllResources()) {
    if (r.namespaced && !r.storage_prefix.empty() && r.HasVerb("delete")) out.push_back(&r);
  }
  return out;
}

NamespacedResourcesDeleter::NamespacedResourcesDeleter(client::ApiClient& api, Clock& clock,
                                                       std::string finalizer_token)
    : api_(api),
      clock_(clock),
      finalizer_token_(std::move(finalizer_token)),
      namespaces_(client::SharedInformerFactory::ResourceOfMessage(corev1::Namespace::descriptor()->full_name())),
      pods_(client::SharedInformerFactory::ResourceOfMessage(corev1::Pod::descriptor()->full_name())) {
  // What the table says a resource does not serve is never tried (upstream initOpCache).
  for (const client::ResourceInfo* r : DeletableResources()) {
    if (!r->HasVerb("list")) SetNotSupported(Op::kList, *r);
    if (!r->HasVerb("deletecollection")) SetNotSupported(Op::kDeleteCollection, *r);
  }
}

Result<int64_t> NamespacedResourcesDeleter::Delete(const std::string& name) {
  // Several controllers may edit a namespace while it terminates: start from the latest state.
  Result<client::ObjectPtr> got = api_.Get(namespaces_, "", name);
  if (!got.ok()) return got.status().code() == Code::kNotFound ? Result<int64_t>(0) : got.status();
  Namespace ns = static_cast<const Namespace&>(**got);
  if (!ns.metadata().has_deletiontimestamp()) return 0;
  CK_VLOG(5, "Namespace controller - syncNamespace", "namespace", name, "finalizerToken", finalizer_token_);

  Result<Namespace> terminating =
      RetryOnConflict(ns, [this](const Namespace& n) { return MarkTerminating(n); });
  if (!terminating.ok()) {
    return terminating.status().code() == Code::kNotFound ? Result<int64_t>(0) : terminating.status();
  }
  ns = *terminating;
  if (!ns.metadata().has_deletiontimestamp()) return 0;
  if (ns.spec().finalizers().empty()) return 0;  // finalized already

  CK_ASSIGN_OR_RETURN(int64_t estimate, DeleteAllContent(&ns));
  if (estimate > 0) return estimate;

  // Content gone: release the namespace.
  Result<Namespace> finalized = RetryOnConflict(ns, [this](const Namespace& n) { return Finalize(n); });
  // A second controller sharing the token may have finished the namespace meanwhile.
  if (!finalized.ok() && finalized.status().code() != Code::kNotFound) return finalized.status();
  return 0;
}

Result<NamespacedResourcesDeleter::Namespace> NamespacedResourcesDeleter::RetryOnConflict(
    Namespace ns, const std::function<Result<Namespace>(const Namespace&)>& fn) {
  for (int attempt = 0; attempt < kMaxConflictRetries; ++attempt) {
    Result<Namespace> r = fn(ns);
    if (r.ok() || r.status().code() != Code::kConflict) return r;
    Result<client::ObjectPtr> latest = api_.Get(namespaces_, "", ns.metadata().name());
    if (!latest.ok()) return latest.status();
    const Namespace& fresh = static_cast<const Namespace&>(**latest);
    if (fresh.metadata().uid() != ns.metadata().uid()) return Internal("namespace uid has changed across retries");
    ns = fresh;
  }
  return Conflict("namespace " + ns.metadata().name() + " kept changing; try again");
}

Result<NamespacedResourcesDeleter::Namespace> NamespacedResourcesDeleter::MarkTerminating(const Namespace& ns) {
  if (!ns.metadata().has_deletiontimestamp() || ns.status().phase() == "Terminating") return ns;
  Namespace next = ns;
  next.mutable_status()->set_phase("Terminating");
  CK_ASSIGN_OR_RETURN(client::ObjectPtr updated, api_.Update(namespaces_, "", next, "status"));
  return static_cast<const Namespace&>(*updated);
}

Result<NamespacedResourcesDeleter::Namespace> NamespacedResourcesDeleter::Finalize(const Namespace& ns) {
  Namespace next = ns;
  std::set<std::string> rest;
  for (const std::string& f : ns.spec().finalizers()) {
    if (f != finalizer_token_) rest.insert(f);
  }
  next.mutable_spec()->clear_finalizers();
  for (const std::string& f : rest) next.mutable_spec()->add_finalizers(f);
  CK_ASSIGN_OR_RETURN(client::ObjectPtr updated, api_.Update(namespaces_, "", next, "finalize"));
  CK_VLOG(2, "Finalized namespace", "namespace", ns.metadata().name());
  return static_cast<const Namespace&>(*updated);
}

Result<int64_t> NamespacedResourcesDeleter::DeleteAllContent(Namespace* ns) {
  const std::string name = ns->metadata().name();
  const WallTime deleted_at = api::WallTimeOf(ns->metadata().deletiontimestamp());
  CK_VLOG(4, "namespace controller - deleteAllContent", "namespace", name);
  std::vector<std::string> errors;
  int64_t estimate = 0;
  std::vector<std::pair<std::string, int>> remaining_by_resource;
  std::map<std::string, int> remaining_by_finalizer;
  for (const client::ResourceInfo* r : DeletableResources()) {
    ResourceOutcome out = DeleteAllContentForResource(*r, name, deleted_at);
    if (!out.error.ok()) errors.push_back(out.error.message());
    estimate = std::max(estimate, out.estimate);
    if (out.remaining > 0) {
      remaining_by_resource.emplace_back(r->resource + "." + r->group, out.remaining);
      for (const auto& [f, n] : out.finalizers) remaining_by_finalizer[f] += n;
    }
  }

  std::vector<NewCondition> failing;
  if (!remaining_by_resource.empty()) {
    std::vector<std::string> parts;
    for (const auto& [res, n] : remaining_by_resource) {
      parts.push_back(res + " has " + std::to_string(n) + " resource instances");
    }
    std::sort(parts.begin(), parts.end());
    failing.push_back({"NamespaceContentRemaining", "SomeResourcesRemain",
                       "Some resources are remaining: " + Join(parts, ", ")});
  }
  if (!remaining_by_finalizer.empty()) {
    std::vector<std::string> parts;
    for (const auto& [f, n] : remaining_by_finalizer) {
      parts.push_back(f + " in " + std::to_string(n) + " resource instances");
    }
    std::sort(parts.begin(), parts.end());
    failing.push_back({"NamespaceFinalizersRemaining", "SomeFinalizerRemain",
                       "Some finalizers are remaining: " + Join(parts, ", ")});
  }
  if (!errors.empty()) {
    std::vector<std::string> sorted = errors;
    std::sort(sorted.begin(), sorted.end());
    failing.push_back({"NamespaceDeletionContentFailure", "ContentDeletionFailed",
                       "Failed to delete all resource types, " + std::to_string(errors.size()) +
                           " remaining: " + Join(sorted, ", ")});
  }
  // Always written: a condition that failed before and succeeds now must say so.
  Namespace next = *ns;
  if (UpdateConditions(next.mutable_status(), failing, clock_)) {
    Result<client::ObjectPtr> updated = api_.Update(namespaces_, "", next, "status");
    if (updated.ok()) {
      *ns = static_cast<const Namespace&>(**updated);
    } else {
      CK_LOG_WARNING("couldn't update status condition for namespace", "namespace", name, "err",
                     updated.status().message());
    }
  }
  CK_VLOG(4, "namespace controller - deleteAllContent", "namespace", name, "estimate", estimate, "errors",
          errors.size());
  if (!errors.empty()) return Internal(Aggregate(errors));
  return estimate;
}

NamespacedResourcesDeleter::ResourceOutcome NamespacedResourcesDeleter::DeleteAllContentForResource(
    const client::ResourceInfo& r, const std::string& ns, WallTime deleted_at) {
  ResourceOutcome out;
  // How long the objects may still take to go (pods terminate gracefully).
  if (&r == &pods_) {
    Result<int64_t> estimate = EstimateGracefulTerminationForPods(ns, deleted_at);
    if (!estimate.ok()) {
      out.error = estimate.status();
      return out;
    }
    out.estimate = *estimate;
  }
  Result<bool> collection = DeleteCollection(r, ns);
  if (!collection.ok()) {
    out.error = collection.status();
    return out;
  }
  if (!*collection) {
    Status s = DeleteEachItem(r, ns);
    if (!s.ok()) {
      out.error = s;
      return out;
    }
  }
  // Verify nothing is left; what is left with an estimate or finalizers is expected to go.
  Result<std::optional<std::vector<client::ObjectPtr>>> left = ListCollection(r, ns);
  if (!left.ok()) {
    out.error = left.status();
    return out;
  }
  if (!left->has_value() || (*left)->empty()) {
    if (left->has_value()) out.estimate = 0;
    return out;
  }
  out.remaining = static_cast<int>((*left)->size());
  for (const client::ObjectPtr& o : **left) {
    for (const std::string& f : api::MetaOf(*o).finalizers()) out.finalizers[f]++;
  }
  if (out.estimate != 0) return out;
  if (!out.finalizers.empty()) {
    out.estimate = kFinalizerEstimateSeconds;
    return out;
  }
  out.error = Internal("unexpected items still remain in namespace: " + ns + " for gvr: " + GvrString(r));
  return out;
}

Result<int64_t> NamespacedResourcesDeleter::EstimateGracefulTerminationForPods(const std::string& ns,
                                                                                WallTime deleted_at) {
  CK_ASSIGN_OR_RETURN(client::ObjectList pods, api_.List(pods_, ns));
  int64_t estimate = 0;
  for (const client::ObjectPtr& o : pods.items) {
    const auto& pod = static_cast<const corev1::Pod&>(*o);
    const std::string& phase = pod.status().phase();
    if (phase == "Succeeded" || phase == "Failed") continue;
    if (pod.spec().has_terminationgraceperiodseconds()) {
      estimate = std::max(estimate, pod.spec().terminationgraceperiodseconds());
    }
  }
  // The namespace has been terminating longer than that already: no more waiting on grace.
  if (clock_.Now() - deleted_at >= std::chrono::seconds(estimate)) return 0;
  return estimate;
}

Result<bool> NamespacedResourcesDeleter::DeleteCollection(const client::ResourceInfo& r, const std::string& ns) {
  if (!Supported(Op::kDeleteCollection, r)) return false;
  // Background: the garbage collector, not an orphan finalizer, takes care of dependents; the
  // namespace is only released once everything in it is gone.
  client::DeleteOptions options;
  options.propagation_policy = "Background";
  Status s = api_.DeleteCollection(r, ns, client::ListOptions{}, options);
  if (s.ok()) return true;
  if (Unsupported(s)) {
    SetNotSupported(Op::kDeleteCollection, r);
    return false;
  }
  return s;
}

Status NamespacedResourcesDeleter::DeleteEachItem(const client::ResourceInfo& r, const std::string& ns) {
  CK_ASSIGN_OR_RETURN(std::optional<std::vector<client::ObjectPtr>> items, ListCollection(r, ns));
  if (!items) return Status::Ok();
  client::DeleteOptions options;
  options.propagation_policy = "Background";
  for (const client::ObjectPtr& o : *items) {
    Result<client::ObjectPtr> deleted = api_.Delete(r, ns, api::MetaOf(*o).name(), options);
    if (!deleted.ok() && !Unsupported(deleted.status())) return deleted.status();
  }
  return Status::Ok();
}

Result<std::optional<std::vector<client::ObjectPtr>>> NamespacedResourcesDeleter::ListCollection(
    const client::ResourceInfo& r, const std::string& ns) {
  if (!Supported(Op::kList, r)) return std::optional<std::vector<client::ObjectPtr>>();
  client::ListOptions options;
  options.metadata_only = true;
  Result<client::ObjectList> list = api_.List(r, ns, options);
  if (list.ok()) return std::optional<std::vector<client::ObjectPtr>>(std::move(list->items));
  if (Unsupported(list.status())) {
    SetNotSupported(Op::kList, r);
    return std::optional<std::vector<client::ObjectPtr>>();
  }
  return list.status();
}

bool NamespacedResourcesDeleter::Supported(Op op, const client::ResourceInfo& r) {
  std::lock_guard lock(mu_);
  return !not_supported_.count({op, r.GroupResource()});
}

void NamespacedResourcesDeleter::SetNotSupported(Op op, const client::ResourceInfo& r) {
  std::lock_guard lock(mu_);
  not_supported_.insert({op, r.GroupResource()});
}

}  // namespace ck::controller_manager
