#include "apiserver/registry.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <cstdio>

#include "apiserver/validation/validation.h"
#include "common/api/pod.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/base/log.h"

namespace ck::apiserver {

namespace corev1 = k8s::io::api::core::v1;

namespace {

constexpr int kMaxConflictRetries = 16;
// Attempts when a transaction loses only on admission or allocation state (a quota or an address
// another write took): each round one contender wins, so this bounds the contenders, not time.
constexpr int kMaxStateRetries = 64;

}  // namespace

// The stripes of the keys a write's admission state lives in (a ResourceQuota), held from a lost
// transaction until the write ends, so writers contending for one quota go one at a time instead
// of all re-validating after each winner.
class Registry::StateLocks {
 public:
  explicit StateLocks(Registry* registry) : registry_(registry) {}
  void Acquire(const std::vector<std::string>& keys) {
    std::vector<size_t> stripes;
    for (const std::string& k : keys) stripes.push_back(std::hash<std::string>()(k) % kStateStripes);
    std::sort(stripes.begin(), stripes.end());
    stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
    if (stripes == held_) return;
    locks_.clear();  // release before taking others: always in ascending order, never two sets
    held_ = stripes;
    for (size_t i : stripes) locks_.emplace_back(registry_->state_mu_[i]);
  }

 private:
  Registry* registry_;
  std::vector<size_t> held_;
  std::vector<std::unique_lock<std::mutex>> locks_;
};

namespace {

const google::protobuf::FieldDescriptor* FieldNamed(const Message& m, const char* name) {
  return m.GetDescriptor()->FindFieldByName(name);
}

// Deterministic bytes of a sub-message (for "did spec change?").
std::string FieldBytes(const Message& m, const char* name) {
  const auto* f = FieldNamed(m, name);
  if (!f || f->type() != google::protobuf::FieldDescriptor::TYPE_MESSAGE) return {};
  const Message& sub = m.GetReflection()->GetMessage(m, f);
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  sub.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

std::string Deterministic(const Message& m) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

void CopyField(const Message& from, Message* to, const char* name) {
  const auto* f = FieldNamed(from, name);
  if (!f) return;
  auto* r = to->GetReflection();
  if (from.GetReflection()->HasField(from, f)) {
    r->MutableMessage(to, f)->CopyFrom(from.GetReflection()->GetMessage(from, f));
  } else {
    r->ClearField(to, f);
  }
}

bool HasStatusSubresource(const ResourceInfo& r) { return r.FindSubresource("status") != nullptr; }

bool IsPods(const ResourceInfo& r) { return r.group.empty() && r.resource == "pods"; }
bool IsNamespaces(const ResourceInfo& r) { return r.group.empty() && r.resource == "namespaces"; }

// Upstream resets status on create for kinds whose status belongs to a controller or kubelet.
void PrepareForCreate(const ResourceInfo& r, Message* obj) {
  if (IsPods(r)) {
    auto* pod = static_cast<corev1::Pod*>(obj);
    pod->clear_status();
    pod->mutable_status()->set_phase("Pending");
    // The QoS class is fixed at creation (and immutable afterwards), as upstream's PrepareForCreate.
    pod->mutable_status()->set_qosclass(api::ComputePodQOSClass(*pod));
    return;
  }
  if (IsNamespaces(r)) {
    auto* ns = static_cast<corev1::Namespace*>(obj);
    ns->mutable_status()->set_phase("Active");
    auto* fin = ns->mutable_spec()->mutable_finalizers();
    if (std::find(fin->begin(), fin->end(), "kubernetes") == fin->end()) fin->Add("kubernetes");
    return;
  }
  // Nodes report their own status at registration; everything else with /status starts empty.
  if (HasStatusSubresource(r) && !(r.group.empty() && r.resource == "nodes")) {
    if (const auto* f = FieldNamed(*obj, "status")) obj->GetReflection()->ClearField(obj, f);
  }
}

bool HasFinalizer(const metav1::ObjectMeta& m, std::string_view f) {
  return std::find(m.finalizers().begin(), m.finalizers().end(), f) != m.finalizers().end();
}

std::string KindLabel(const ResourceInfo& r) { return r.GroupResource(); }

}  // namespace

int64_t UnixSeconds(WallTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

Registry::Registry(store::Store* store, WatchCache* cache, Clock* clock, Random* random)
    : store_(store), cache_(cache), clock_(clock), random_(random) {}

Status Registry::NotFoundError(const ResourceInfo& r, const std::string& name, ErrorDetails* details) {
  if (details) {
    details->name = name;
    details->group = r.group;
    details->kind = r.resource;
  }
  return NotFound(KindLabel(r) + " \"" + name + "\" not found");
}

Status Registry::ConflictError(const ResourceInfo& r, const std::string& name, ErrorDetails* details) {
  if (details) {
    details->name = name;
    details->group = r.group;
    details->kind = r.resource;
  }
  return Conflict("Operation cannot be fulfilled on " + KindLabel(r) + " \"" + name +
                  "\": the object has been modified; please apply your changes to the latest version and try again");
}

std::string Registry::NewUid() {
  uint64_t a = random_->Next(), b = random_->Next();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

std::string Registry::GenerateName(const std::string& base) {
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::string name = base.substr(0, 63 - 5);
  for (int i = 0; i < 5; ++i) name += kAlphabet[random_->Uniform(kAlphabet.size())];
  return name;
}

Status Registry::Validate(const ResourceInfo& r, const Message& obj, const Message* old, bool status_only,
                          ErrorDetails* details) {
  FieldErrors errors = status_only ? ValidateStatusUpdate(r, obj, *old) : ValidateObject(r, obj, old);
  if (errors.empty()) return Status::Ok();
  const auto& meta = MetaOf(obj);
  if (details) {
    details->name = meta.name();
    details->group = r.group;
    details->kind = r.kind;
    for (const auto& e : errors) details->causes.push_back({e.Reason(), e.Message(), e.field});
  }
  return Invalid(InvalidMessage(r.kind, meta.name(), errors));
}

Result<std::shared_ptr<const Message>> Registry::Create(const ResourceInfo& r, const std::string& ns,
                                                        std::unique_ptr<Message> obj, const WriteOptions& options,
                                                        ErrorDetails* details) {
  auto* meta = MutableMetaOf(obj.get());
  if (r.namespaced) {
    if (meta->namespace_().empty()) meta->set_namespace_(ns);
    if (meta->namespace_() != ns) {
      return BadRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
  } else {
    meta->clear_namespace_();
  }
  if (meta->name().empty() && !meta->generatename().empty()) meta->set_name(GenerateName(meta->generatename()));
  meta->set_uid(NewUid());
  meta->mutable_creationtimestamp()->set_seconds(UnixSeconds(clock_->Now()));
  meta->clear_resourceversion();
  meta->clear_deletiontimestamp();
  meta->clear_deletiongraceperiodseconds();
  meta->clear_selflink();
  if (HasField(*obj, "spec")) meta->set_generation(1);
  PrepareForCreate(r, obj.get());
  ApplyDefaults(r, obj.get());
  if (options.admission) {
    CK_RETURN_IF_ERROR(options.admission->Mutate(r, nullptr, obj.get(), details));
    // Mutation may not move the object (upstream: name and namespace are fixed before admission).
    if (r.namespaced && meta->namespace_() != ns) {
      return BadRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    ApplyDefaults(r, obj.get());
  }

  const std::string key = StorageKey(r, meta->namespace_(), meta->name());
  // The object before allocation, to allocate again when an address was taken concurrently.
  std::unique_ptr<Message> requested;
  if (allocation_hook_ && (!allocation_applies_ || allocation_applies_(r))) {
    requested.reset(obj->New());
    requested->CopyFrom(*obj);
  }
  StateLocks locks(this);
  for (int attempt = 0; attempt < kMaxStateRetries; ++attempt) {
    if (attempt > 0 && requested) obj->CopyFrom(*requested);
    std::vector<store::Compare> compares{store::Compare::NotExists(key)};
    std::vector<store::Op> ops;
    if (allocation_hook_) CK_RETURN_IF_ERROR(allocation_hook_(r, nullptr, obj.get(), &compares, &ops, details));
    CK_RETURN_IF_ERROR(Validate(r, *obj, nullptr, false, details));
    size_t own_compares = compares.size();
    if (options.admission) {
      CK_RETURN_IF_ERROR(options.admission->Validate(r, nullptr, obj.get(), options.dry_run ? nullptr : &compares,
                                                     options.dry_run ? nullptr : &ops, details));
    }
    std::vector<std::string> state_keys;
    for (size_t i = own_compares; i < compares.size(); ++i) state_keys.push_back(compares[i].key);
    if (options.dry_run) return std::shared_ptr<const Message>(std::move(obj));
    ops.push_back(store::Op::Put(key, EncodeForStorage(*obj)));
    auto txn = store_->Txn(std::move(compares), std::move(ops), {store::Op::Get(key)});
    if (!txn.ok()) return txn.status();
    if (txn->succeeded) {
      meta->set_resourceversion(std::to_string(txn->revision));
      return std::shared_ptr<const Message>(std::move(obj));
    }
    bool exists = !txn->results.empty() && !txn->results[0].kvs.empty();
    if (exists) {
      if (details) *details = {meta->name(), r.group, r.resource, {}, 0};
      return AlreadyExists(KindLabel(r) + " \"" + meta->name() + "\" already exists");
    }
    // An allocation or a quota was taken concurrently: read the state it changed and try again,
    // this time holding that state's lock so contenders take turns instead of colliding again.
    locks.Acquire(state_keys);
    CK_RETURN_IF_ERROR(cache_->WaitFor(txn->revision, std::chrono::seconds(3)));
  }
  return Conflict("too many concurrent allocations for " + KindLabel(r) + " \"" + meta->name() + "\"; try again");
}

Result<std::shared_ptr<const Message>> Registry::Get(const ResourceInfo& r, const std::string& ns,
                                                     const std::string& name, ErrorDetails* details) {
  CK_RETURN_IF_ERROR(cache_->Sync());
  auto obj = cache_->Get(StorageKey(r, ns, name));
  if (!obj) return NotFoundError(r, name, details);
  return obj->object();
}

Result<std::shared_ptr<const Message>> Registry::Update(const ResourceInfo& r, const std::string& ns,
                                                        const std::string& name, std::unique_ptr<Message> obj,
                                                        const WriteOptions& options, ErrorDetails* details) {
  const auto& meta = MetaOf(*obj);
  if (!meta.name().empty() && meta.name() != name) {
    return BadRequest("the name of the object (" + meta.name() + ") does not match the name on the URL (" + name + ")");
  }
  if (r.namespaced && !meta.namespace_().empty() && meta.namespace_() != ns) {
    return BadRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
  bool gave_rv = !meta.resourceversion().empty();
  return Write(r, ns, name, std::move(obj), gave_rv, options, details, nullptr);
}

Result<std::shared_ptr<const Message>> Registry::GuaranteedUpdate(const ResourceInfo& r, const std::string& ns,
                                                                  const std::string& name, const Mutator& mutate,
                                                                  const WriteOptions& options, ErrorDetails* details) {
  return Write(r, ns, name, nullptr, false, options, details, &mutate);
}

Result<std::shared_ptr<const Message>> Registry::Write(const ResourceInfo& r, const std::string& ns,
                                                       const std::string& name, std::unique_ptr<Message> desired,
                                                       bool caller_gave_rv, const WriteOptions& options,
                                                       ErrorDetails* details, const Mutator* mutate) {
  const std::string key = StorageKey(r, ns, name);
  bool status_only = options.subresource == "status";
  int state_retries = 0;
  StateLocks locks(this);
  // The first attempt starts from the cached object without waiting for the cache to catch up
  // with the store (upstream's GuaranteedUpdate takes the cached object as a suggestion): the
  // transaction's mod-revision compare catches a stale one. Every answer that a stale object
  // could make wrong (not found, a resourceVersion conflict, nothing to write) is given only
  // after a consistent read.
  bool synced = false;
  auto sync = [&]() -> Status {
    synced = true;
    return cache_->Sync();
  };
  // An error found against an object that was not read consistently is checked again after a
  // consistent read (a stale object can fail a precondition, a mutator or a validation).
#define CK_FRESH_OR_RETURN(expr)              \
  if (Status fresh_s = (expr); !fresh_s.ok()) { \
    if (synced) return fresh_s;                 \
    if (details) *details = {};                 \
    --attempt;                                  \
    CK_RETURN_IF_ERROR(sync());                 \
    continue;                                   \
  }
  for (int attempt = 0; attempt < kMaxConflictRetries; ++attempt) {
    if (attempt > 0) CK_RETURN_IF_ERROR(sync());
    ObjectPtr current = cache_->Get(key);
    if (!current) CK_FRESH_OR_RETURN(NotFoundError(r, name, details));
    std::shared_ptr<const Message> old_object = current->object();
    const Message& old = *old_object;

    std::unique_ptr<Message> next;
    if (mutate) {
      next.reset(old.New());
      next->CopyFrom(old);
      CK_FRESH_OR_RETURN((*mutate)(next.get()));
      // A patch may carry a resourceVersion precondition of its own.
      caller_gave_rv = MetaOf(*next).resourceversion() != MetaOf(old).resourceversion();
      if (caller_gave_rv && !MetaOf(*next).resourceversion().empty()) CK_FRESH_OR_RETURN(ConflictError(r, name, details));
      caller_gave_rv = false;
    } else {
      next.reset(desired->New());
      next->CopyFrom(*desired);
      if (caller_gave_rv && MetaOf(*next).resourceversion() != MetaOf(old).resourceversion()) {
        CK_FRESH_OR_RETURN(ConflictError(r, name, details));
      }
    }

    if (IsNamespaces(r) && !status_only) {
      // A namespace's spec.finalizers change only through /finalize, and /finalize changes
      // nothing else (upstream namespace strategies).
      auto* ns_next = static_cast<corev1::Namespace*>(next.get());
      const auto& ns_old = static_cast<const corev1::Namespace&>(old);
      if (options.subresource == "finalize") {
        auto merged = std::make_unique<corev1::Namespace>(ns_old);
        *merged->mutable_spec()->mutable_finalizers() = ns_next->spec().finalizers();
        next = std::move(merged);
      } else {
        *ns_next->mutable_spec()->mutable_finalizers() = ns_old.spec().finalizers();
        *ns_next->mutable_status() = ns_old.status();
      }
    }
    if (status_only) {
      // /status takes only the status; everything else stays as stored.
      std::unique_ptr<Message> merged(old.New());
      merged->CopyFrom(old);
      CopyField(*next, merged.get(), "status");
      next = std::move(merged);
    } else if (HasStatusSubresource(r)) {
      CopyField(old, next.get(), "status");
    }

    auto* meta = MutableMetaOf(next.get());
    const auto& old_meta = MetaOf(old);
    meta->set_name(old_meta.name());
    if (r.namespaced) meta->set_namespace_(old_meta.namespace_());
    meta->set_uid(old_meta.uid());
    *meta->mutable_creationtimestamp() = old_meta.creationtimestamp();
    if (old_meta.has_deletiontimestamp()) {
      *meta->mutable_deletiontimestamp() = old_meta.deletiontimestamp();
    } else {
      meta->clear_deletiontimestamp();
    }
    if (old_meta.has_deletiongraceperiodseconds()) {
      meta->set_deletiongraceperiodseconds(old_meta.deletiongraceperiodseconds());
    } else {
      meta->clear_deletiongraceperiodseconds();
    }
    meta->set_generation(old_meta.generation());
    meta->set_resourceversion(old_meta.resourceversion());
    if (!status_only) ApplyDefaults(r, next.get());
    if (options.admission) {
      CK_FRESH_OR_RETURN(options.admission->Mutate(r, &old, next.get(), details));
      meta->set_name(old_meta.name());
      if (r.namespaced) meta->set_namespace_(old_meta.namespace_());
      meta->set_uid(old_meta.uid());
      if (!status_only) ApplyDefaults(r, next.get());
    }

    std::vector<store::Compare> compares{store::Compare::ModRevisionIs(key, current->revision())};
    std::vector<store::Op> ops;
    // A deleting namespace also waits for its spec.finalizers (the namespace controller's).
    bool remove = meta->has_deletiontimestamp() && meta->finalizers().empty() &&
                  !(IsNamespaces(r) && static_cast<const corev1::Namespace&>(*next).spec().finalizers_size() > 0);
    if (allocation_hook_ && !status_only) {
      CK_FRESH_OR_RETURN(allocation_hook_(r, &old, remove ? nullptr : next.get(), &compares, &ops, details));
    }
    if (HasField(*next, "spec") && FieldBytes(*next, "spec") != FieldBytes(old, "spec")) {
      meta->set_generation(old_meta.generation() + 1);
    }
    // pods/binding writes the pod directly, without the pod-update rules (upstream's binding
    // storage): setting spec.nodeName is exactly what a normal pod update may not do.
    if (options.subresource != "binding") CK_FRESH_OR_RETURN(Validate(r, *next, &old, status_only, details));
    size_t own_compares = compares.size();
    if (options.admission) {
      // An update that removes the object (last finalizer gone) is still admitted as an update.
      CK_FRESH_OR_RETURN(options.admission->Validate(r, &old, next.get(),
                                                     options.dry_run ? nullptr : &compares,
                                                     options.dry_run ? nullptr : &ops, details));
    }
    std::vector<std::string> state_keys;
    for (size_t i = own_compares; i < compares.size(); ++i) state_keys.push_back(compares[i].key);

    // Nothing changed: no write, no new resourceVersion (kubectl apply of an unchanged file).
    if (Deterministic(*next) == Deterministic(old)) {
      if (!synced) {  // unchanged against a possibly stale object: look again at the current one
        --attempt;
        CK_RETURN_IF_ERROR(sync());
        continue;
      }
      return old_object;
    }

    if (options.dry_run) return std::shared_ptr<const Message>(std::move(next));
    ops.push_back(remove ? store::Op::Delete(key) : store::Op::Put(key, EncodeForStorage(*next)));
    auto txn = store_->Txn(std::move(compares), std::move(ops), {store::Op::Get(key)});
    if (!txn.ok()) return txn.status();
    if (!txn->succeeded) {
      bool object_changed = txn->results.empty() || txn->results[0].kvs.empty() ||
                            txn->results[0].kvs[0].mod_revision != current->revision();
      if (!object_changed) {  // an allocation or a quota was taken concurrently: try again, in turn
        if (++state_retries > kMaxStateRetries) break;
        locks.Acquire(state_keys);
        --attempt;
        continue;
      }
      if (caller_gave_rv) return ConflictError(r, name, details);
      CK_RETURN_IF_ERROR(cache_->WaitFor(txn->revision, std::chrono::seconds(3)));
      continue;  // someone else wrote first: read again and reapply
    }
    meta->set_resourceversion(std::to_string(txn->revision));
    return std::shared_ptr<const Message>(std::move(next));
  }
#undef CK_FRESH_OR_RETURN
  return Conflict("too many concurrent changes to " + KindLabel(r) + " \"" + name + "\"; try again");
}

Result<DeleteResult> Registry::Delete(const ResourceInfo& r, const std::string& ns, const std::string& name,
                                      const DeleteOptions& options, ErrorDetails* details) {
  const std::string key = StorageKey(r, ns, name);
  for (int attempt = 0; attempt < kMaxConflictRetries; ++attempt) {
    CK_RETURN_IF_ERROR(cache_->Sync());
    ObjectPtr current = cache_->Get(key);
    if (!current) return NotFoundError(r, name, details);
    std::shared_ptr<const Message> current_object = current->object();
    const auto& meta = MetaOf(*current_object);
    if (options.precondition_uid && *options.precondition_uid != meta.uid()) {
      if (details) *details = {name, r.group, r.resource, {}, 0};
      return Conflict("Precondition failed: UID in precondition: " + *options.precondition_uid +
                      ", UID in object meta: " + meta.uid());
    }
    if (options.precondition_resource_version && *options.precondition_resource_version != meta.resourceversion()) {
      if (details) *details = {name, r.group, r.resource, {}, 0};
      return Conflict("Precondition failed: ResourceVersion in precondition: " + *options.precondition_resource_version +
                      ", ResourceVersion in meta: " + meta.resourceversion());
    }

    std::unique_ptr<Message> next(current_object->New());
    next->CopyFrom(*current_object);
    auto* m = MutableMetaOf(next.get());
    bool keep = false;

    // Graceful pod deletion: the kubelet stops the containers, then deletes with grace 0.
    if (IsPods(r)) {
      const auto& pod = static_cast<const corev1::Pod&>(*current_object);
      int64_t grace = options.grace_period_seconds.value_or(
          pod.spec().has_terminationgraceperiodseconds() ? pod.spec().terminationgraceperiodseconds() : 30);
      bool finished = pod.status().phase() == "Succeeded" || pod.status().phase() == "Failed";
      if (grace > 0 && !pod.spec().nodename().empty() && !finished) {
        int64_t now = UnixSeconds(clock_->Now());
        bool shorten = !m->has_deletiongraceperiodseconds() || grace < m->deletiongraceperiodseconds();
        if (shorten) {
          m->mutable_deletiontimestamp()->set_seconds(now + grace);
          m->set_deletiongraceperiodseconds(grace);
        }
        keep = true;
      }
    }
    if (options.propagation_policy == "Foreground" && !HasFinalizer(*m, "foregroundDeletion")) {
      m->add_finalizers("foregroundDeletion");
    } else if (options.propagation_policy == "Orphan" && !HasFinalizer(*m, "orphan")) {
      m->add_finalizers("orphan");
    }
    // A namespace with spec.finalizers turns Terminating; the namespace controller empties it
    // and then /finalize removes the finalizer, which removes the namespace.
    if (IsNamespaces(r)) {
      auto* ns_next = static_cast<corev1::Namespace*>(next.get());
      if (ns_next->spec().finalizers_size() > 0) {
        keep = true;
        ns_next->mutable_status()->set_phase("Terminating");
        if (!m->has_deletiontimestamp()) {
          m->mutable_deletiontimestamp()->set_seconds(UnixSeconds(clock_->Now()));
          m->set_deletiongraceperiodseconds(0);
        }
      }
    }
    if (!m->finalizers().empty()) {
      keep = true;
      if (!m->has_deletiontimestamp()) {
        m->mutable_deletiontimestamp()->set_seconds(UnixSeconds(clock_->Now()));
        m->set_deletiongraceperiodseconds(0);
      }
    }

    std::vector<store::Compare> compares{store::Compare::ModRevisionIs(key, current->revision())};
    std::vector<store::Op> ops;
    if (options.admission) {
      CK_RETURN_IF_ERROR(options.admission->Validate(r, current_object.get(), nullptr,
                                                     options.dry_run || keep ? nullptr : &compares,
                                                     options.dry_run || keep ? nullptr : &ops, details));
    }
    if (options.dry_run) return DeleteResult{std::shared_ptr<const Message>(std::move(next)), !keep};
    if (keep) {
      if (Deterministic(*next) == Deterministic(*current_object)) return DeleteResult{current_object, false};
      ops.push_back(store::Op::Put(key, EncodeForStorage(*next)));
    } else {
      ops.push_back(store::Op::Delete(key));
      if (allocation_hook_) CK_RETURN_IF_ERROR(allocation_hook_(r, current_object.get(), nullptr, &compares, &ops, details));
    }
    auto txn = store_->Txn(std::move(compares), std::move(ops), {});
    if (!txn.ok()) return txn.status();
    if (!txn->succeeded) {
      CK_RETURN_IF_ERROR(cache_->WaitFor(txn->revision, std::chrono::seconds(3)));
      continue;
    }
    MutableMetaOf(next.get())->set_resourceversion(std::to_string(txn->revision));
    return DeleteResult{std::shared_ptr<const Message>(std::move(next)), !keep};
  }
  return Conflict("too many concurrent changes to " + KindLabel(r) + " \"" + name + "\"; try again");
}

}  // namespace ck::apiserver
