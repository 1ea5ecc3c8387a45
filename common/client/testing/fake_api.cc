#include "common/client/testing/fake_api.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>

#include "apiserver/patch/patch.h"
#include "apiserver/server/fields.h"
#include "apiserver/server/wire.h"
#include "common/api/codec.h"
#include "common/api/field_selector.h"
#include "common/api/kinds.h"
#include "common/api/label_selector.h"
#include "common/api/object.h"
#include "common/api/proto/autoscaling_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/meta_v1.pb.h"
#include "common/base/strings.h"

namespace ck::client {
namespace {

namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;
namespace corev1 = ::k8s::io::api::core::v1;
namespace autoscalingv1 = ::k8s::io::api::autoscaling::v1;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

using api::MetaOf;
using api::MutableMetaOf;

std::unique_ptr<Message> Clone(const Message& m) {
  std::unique_ptr<Message> c(m.New());
  c->CopyFrom(m);
  return c;
}

const Descriptor* DescriptorOf(const std::string& full_name) {
  return google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(full_name);
}

// Copies the top-level message field `name` from `from` to `to` (same type).
void CopyTopField(const Message& from, Message* to, const char* name) {
  const FieldDescriptor* f = to->GetDescriptor()->FindFieldByName(name);
  if (f == nullptr || f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return;
  const Reflection* r = to->GetReflection();
  if (from.GetReflection()->HasField(from, f)) {
    r->MutableMessage(to, f)->CopyFrom(from.GetReflection()->GetMessage(from, f));
  } else {
    r->ClearField(to, f);
  }
}

// True when the two objects differ outside metadata and status (upstream bumps generation then).
bool SpecChanged(const Message& a, const Message& b) {
  std::unique_ptr<Message> x = Clone(a), y = Clone(b);
  for (Message* m : {x.get(), y.get()}) {
    for (const char* name : {"metadata", "status"}) {
      if (const FieldDescriptor* f = m->GetDescriptor()->FindFieldByName(name))
        m->GetReflection()->ClearField(m, f);
    }
  }
  return !google::protobuf::util::MessageDifferencer::Equals(*x, *y);
}

void SetSeconds(metav1::Time* t, WallTime when) {
  t->set_seconds(std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count());
  t->clear_nanos();
}

std::string KeyOf(const ResourceInfo& r, const std::string& ns, const std::string& name) {
  return r.namespaced ? ns + "/" + name : name;
}

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

Status NotFoundError(const ResourceInfo& r, const std::string& name) {
  return NotFound(r.GroupResource() + " " + Quote(name) + " not found");
}

Status ConflictError(const ResourceInfo& r, const std::string& name) {
  return Conflict(
      "Operation cannot be fulfilled on " + r.GroupResource() + " " + Quote(name) +
      ": the object has been modified; please apply your changes to the latest version and try again");
}

Status VerbCheck(const ResourceInfo& r, const char* verb) {
  if (r.HasVerb(verb)) return Status::Ok();
  return Status(Code::kMethodNotAllowed, "the server does not allow this method on the requested resource");
}

Status TypeCheck(const ResourceInfo& r, const Message& object) {
  if (object.GetDescriptor()->full_name() == r.proto_type) return Status::Ok();
  return BadRequest("the body of the request was in an unknown format: expected " + r.proto_type + ", got " +
                    object.GetDescriptor()->full_name());
}

Status NamespaceCheck(const ResourceInfo& r, const std::string& ns) {
  if (!r.namespaced || !ns.empty()) return Status::Ok();
  return BadRequest("a namespace is required for " + r.GroupResource());
}

ObjectPtr WithResourceVersion(const Message& m, int64_t revision) {
  std::unique_ptr<Message> c = Clone(m);
  MutableMetaOf(c.get())->set_resourceversion(std::to_string(revision));
  return ObjectPtr(std::move(c));
}

ObjectPtr MetadataOnly(const ObjectPtr& object) {
  auto partial = std::make_shared<metav1::PartialObjectMetadata>();
  *partial->mutable_metadata() = MetaOf(*object);
  return partial;
}

// What a list, watch or deletecollection selects.
struct Filter {
  bool namespaced = false;
  std::string ns;
  api::LabelSelector labels;
  api::FieldSelector fields;

  static Result<Filter> Make(const ResourceInfo& r, const std::string& ns, const ListOptions& options) {
    Filter f;
    f.namespaced = r.namespaced;
    f.ns = r.namespaced ? ns : "";
    CK_ASSIGN_OR_RETURN(f.labels, api::LabelSelector::Parse(options.label_selector));
    CK_ASSIGN_OR_RETURN(f.fields, api::FieldSelector::Parse(options.field_selector));
    CK_RETURN_IF_ERROR(apiserver::CheckFieldSelector(r, f.fields));
    return f;
  }

  bool InScope(const std::string& key) const {
    return !namespaced || ns.empty() ||
           (key.size() > ns.size() && key.compare(0, ns.size(), ns) == 0 && key[ns.size()] == '/');
  }

  bool Matches(const Message& object) const {
    const metav1::ObjectMeta& meta = MetaOf(object);
    if (namespaced && !ns.empty() && meta.namespace_() != ns) return false;
    if (!labels.Matches(meta.labels())) return false;
    return fields.Empty() || fields.Matches(apiserver::FieldSetOf(object, fields));
  }
};

MonoTime FarFuture(const Clock& clock) { return clock.Monotonic() + std::chrono::hours(24 * 365 * 10); }

ObjectPtr ScaleOf(const Message& object);

}  // namespace

// ---- Watches ----

struct FakeApi::WatchState {
  std::string resource;  // GroupResource()
  const Descriptor* type = nullptr;
  Filter filter;
  bool metadata_only = false;
  bool bookmarks = false;
  Wakeup wakeup;

  std::mutex mu;
  std::deque<WatchEvent> events;  // guarded by mu
  Status error;                   // guarded by mu; returned once the queue is drained (410)
  bool dropped = false;           // guarded by mu
  bool stopped = false;           // guarded by mu
  bool ended = false;             // guarded by mu; timed out, failed, or the stream is gone

  bool Open() {
    std::lock_guard lock(mu);
    return !dropped && !stopped && !ended;
  }
  // Delivers one change as this watch sees it through its selectors (the watch cache's rule:
  // entering the selection is ADDED, leaving it is DELETED of the previous state).
  void Offer(WatchEvent::Type type, const ObjectPtr& object, const ObjectPtr& previous, int64_t revision) {
    bool now = filter.Matches(*object);
    bool before = previous != nullptr && filter.Matches(*previous);
    switch (type) {
      case WatchEvent::Type::kAdded:
        if (now) Push({WatchEvent::Type::kAdded, object});
        break;
      case WatchEvent::Type::kModified:
        if (now && before) {
          Push({WatchEvent::Type::kModified, object});
        } else if (now) {
          Push({WatchEvent::Type::kAdded, object});
        } else if (before) {
          Push({WatchEvent::Type::kDeleted, WithResourceVersion(*previous, revision)});
        }
        break;
      case WatchEvent::Type::kDeleted:
        if (now) Push({WatchEvent::Type::kDeleted, object});
        break;
      case WatchEvent::Type::kBookmark:
        break;
    }
  }
  void Push(WatchEvent event) {
    {
      std::lock_guard lock(mu);
      if (dropped || stopped || ended) return;
      if (metadata_only && event.type != WatchEvent::Type::kBookmark)
        event.object = MetadataOnly(event.object);
      events.push_back(std::move(event));
    }
    wakeup.Notify();
  }
};

class FakeApi::Stream final : public WatchStream {
 public:
  Stream(std::shared_ptr<WatchState> state, Clock& clock, int64_t timeout_seconds)
      : state_(std::move(state)),
        clock_(clock),
        deadline_(timeout_seconds > 0 ? clock.Monotonic() + std::chrono::seconds(timeout_seconds)
                                      : FarFuture(clock)) {}
  ~Stream() override {
    std::lock_guard lock(state_->mu);
    state_->ended = true;
  }

  Result<std::optional<WatchEvent>> Next() override {
    for (;;) {
      {
        std::lock_guard lock(state_->mu);
        if (state_->stopped) return Unavailable("stopped");
        if (state_->dropped) {
          state_->events.clear();
          return Unavailable("watch connection dropped (FakeApi::DropWatches)");
        }
        if (!state_->events.empty()) {
          WatchEvent e = std::move(state_->events.front());
          state_->events.pop_front();
          return std::optional<WatchEvent>(std::move(e));
        }
        if (!state_->error.ok()) {
          state_->ended = true;
          return state_->error;
        }
        if (state_->ended || clock_.Monotonic() >= deadline_) {
          state_->ended = true;
          return std::optional<WatchEvent>();
        }
      }
      clock_.WaitUntil(state_->wakeup, deadline_);
    }
  }

  void Stop() override {
    {
      std::lock_guard lock(state_->mu);
      state_->stopped = true;
    }
    state_->wakeup.Notify();
  }

 private:
  std::shared_ptr<WatchState> state_;
  Clock& clock_;
  MonoTime deadline_;
};

// ---- FakeApi ----

FakeApi::FakeApi(Clock& clock)
    : clock_(clock), own_random_(std::make_unique<FakeRandom>()), random_(*own_random_) {}
FakeApi::FakeApi(Clock& clock, Random& random) : clock_(clock), random_(random) {}

FakeApi::~FakeApi() {
  // Open streams end (nullopt) instead of waiting for events that will never come.
  std::lock_guard lock(mu_);
  for (auto& w : watches_) {
    {
      std::lock_guard wl(w->mu);
      w->ended = true;
    }
    w->wakeup.Notify();
  }
}

const char* FakeApi::VerbName(Verb verb) {
  switch (verb) {
    case Verb::kGet:
      return "get";
    case Verb::kList:
      return "list";
    case Verb::kWatch:
      return "watch";
    case Verb::kCreate:
      return "create";
    case Verb::kUpdate:
      return "update";
    case Verb::kPatch:
      return "patch";
    case Verb::kCreateSubresource:
      return "create-subresource";
    case Verb::kDelete:
      return "delete";
    case Verb::kDeleteCollection:
      return "deletecollection";
  }
  return "?";
}

Status FakeApi::Begin(Verb verb, const ResourceInfo& resource, const std::string& ns, const std::string& name,
                      const std::string& subresource) {
  const std::string gr = resource.GroupResource();
  RequestHook hook;
  {
    std::lock_guard lock(mu_);
    ++calls_[{verb, gr}];
    hook = hook_;
  }
  if (hook) {
    Status s = hook(Request{verb, gr, ns, name, subresource});
    if (!s.ok()) return s;
  }
  std::lock_guard lock(mu_);
  for (auto it = failures_.begin(); it != failures_.end(); ++it) {
    if (it->verb == verb && (it->resource.empty() || it->resource == gr)) {
      Status s = it->status;
      failures_.erase(it);
      return s;
    }
  }
  return Status::Ok();
}

FakeApi::ObjectMap& FakeApi::Bucket(const ResourceInfo& resource) {
  return objects_[resource.GroupResource()];
}

const FakeApi::ObjectMap* FakeApi::FindBucket(const ResourceInfo& resource) const {
  auto it = objects_.find(resource.GroupResource());
  return it == objects_.end() ? nullptr : &it->second;
}

std::string FakeApi::NewUid() {
  uint64_t hi = random_.Next(), lo = random_.Next();
  hi = (hi & ~0xF000ull) | 0x4000ull;                  // version 4
  lo = (lo & ~(0xC000ull << 48)) | (0x8000ull << 48);  // variant 10xx
  char buf[40];
  snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
           static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
           static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  return buf;
}

std::string FakeApi::GenerateName(const std::string& base) {
  // apiserver's names.SimpleNameGenerator: base (at most 58 characters) + 5 random characters.
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string name = base.substr(0, 58);
  for (int i = 0; i < 5; ++i) name += kAlphabet[random_.Uniform(sizeof(kAlphabet) - 1)];
  return name;
}

void FakeApi::Record(const ResourceInfo& resource, WatchEvent::Type type, ObjectPtr object,
                     ObjectPtr previous) {
  const std::string gr = resource.GroupResource();
  history_.push_back(HistoryEntry{revision_, gr, type, object, previous});
  TrimHistory();
  std::erase_if(watches_, [](const std::shared_ptr<WatchState>& w) { return !w->Open(); });
  for (const auto& w : watches_) {
    if (w->resource != gr) continue;
    w->Offer(type, object, previous, revision_);
  }
}

void FakeApi::TrimHistory() {
  while (history_.size() > history_window_) {
    history_start_ = history_.front().revision;
    history_.pop_front();
  }
  for (auto& [gr, by_rev] : snapshots_) {
    by_rev.erase(by_rev.begin(), by_rev.lower_bound(history_start_));
  }
}

Result<ObjectPtr> FakeApi::Get(const ResourceInfo& resource, const std::string& ns, const std::string& name,
                               const GetOptions& options) {
  CK_RETURN_IF_ERROR(Begin(Verb::kGet, resource, ns, name));
  CK_RETURN_IF_ERROR(VerbCheck(resource, "get"));
  CK_RETURN_IF_ERROR(NamespaceCheck(resource, ns));
  std::lock_guard lock(mu_);
  const ObjectMap* bucket = FindBucket(resource);
  auto it = bucket ? bucket->find(KeyOf(resource, ns, name)) : ObjectMap::const_iterator();
  if (bucket == nullptr || it == bucket->end()) return NotFoundError(resource, name);
  if (options.subresource == "scale") return ScaleOf(*it->second);
  if (!options.subresource.empty() && options.subresource != "status") {
    return NotFound("the server could not find the requested resource");
  }
  return options.metadata_only ? MetadataOnly(it->second) : it->second;
}

Result<ObjectList> FakeApi::List(const ResourceInfo& resource, const std::string& ns,
                                 const ListOptions& options) {
  CK_RETURN_IF_ERROR(Begin(Verb::kList, resource, ns, ""));
  CK_RETURN_IF_ERROR(VerbCheck(resource, "list"));
  CK_ASSIGN_OR_RETURN(Filter filter, Filter::Make(resource, ns, options));
  std::lock_guard lock(mu_);
  const std::string gr = resource.GroupResource();
  int64_t list_revision = revision_;
  std::shared_ptr<const ObjectMap> snapshot;
  std::string start_after;
  bool resume = false;
  if (!options.continue_token.empty()) {
    CK_ASSIGN_OR_RETURN(apiserver::ContinueToken token, apiserver::DecodeContinue(options.continue_token));
    auto by_rev = snapshots_.find(gr);
    if (by_rev == snapshots_.end() || !by_rev->second.count(token.revision) || token.revision < history_start_) {
      return apiserver::ContinueExpired();
    }
    list_revision = token.revision;
    snapshot = by_rev->second[token.revision];
    start_after = token.start_after;
    resume = true;
  } else {
    const std::string& rv = options.resource_version;
    if (!rv.empty() && rv != "0") {
      std::optional<int64_t> n = ParseInt(rv);
      if (!n || *n < 0) return BadRequest("invalid resource version " + Quote(rv));
      if (*n > revision_) {
        return Timeout("Too large resource version: " + rv + ", current: " + std::to_string(revision_));
      }
      if (options.resource_version_match == "Exact" && *n != revision_) {
        if (*n < history_start_) {
          return Gone("too old resource version: " + rv + " (" + std::to_string(history_start_ + 1) + ")");
        }
        return BadRequest("FakeApi serves lists at the current revision only (resourceVersionMatch=Exact " +
                          rv + ")");
      }
    }
    const ObjectMap* bucket = FindBucket(resource);
    snapshot = std::make_shared<const ObjectMap>(bucket ? *bucket : ObjectMap());
  }

  ObjectList out;
  out.resource_version = std::to_string(list_revision);
  auto it = resume ? snapshot->upper_bound(start_after) : snapshot->begin();
  std::string last_key;
  for (; it != snapshot->end(); ++it) {
    if (!filter.InScope(it->first)) continue;
    if (options.limit > 0 && static_cast<int64_t>(out.items.size()) >= options.limit) break;
    last_key = it->first;
    if (!filter.Matches(*it->second)) continue;
    out.items.push_back(options.metadata_only ? MetadataOnly(it->second) : it->second);
  }
  // More keys remain in range: hand out a token to a consistent snapshot at this revision.
  for (; it != snapshot->end(); ++it) {
    if (!filter.InScope(it->first)) continue;
    out.continue_token = apiserver::EncodeContinue(list_revision, last_key);
    snapshots_[gr][list_revision] = snapshot;
    break;
  }
  return out;
}

Result<std::unique_ptr<WatchStream>> FakeApi::Watch(const ResourceInfo& resource, const std::string& ns,
                                                    const ListOptions& options) {
  CK_RETURN_IF_ERROR(Begin(Verb::kWatch, resource, ns, ""));
  CK_RETURN_IF_ERROR(VerbCheck(resource, "watch"));
  CK_ASSIGN_OR_RETURN(Filter filter, Filter::Make(resource, ns, options));
  auto state = std::make_shared<WatchState>();
  state->resource = resource.GroupResource();
  state->type = DescriptorOf(resource.proto_type);
  CK_CHECK(state->type != nullptr) << "no message type " << resource.proto_type;
  state->filter = std::move(filter);
  state->metadata_only = options.metadata_only;
  state->bookmarks = options.allow_watch_bookmarks;

  std::lock_guard lock(mu_);
  const std::string& rv = options.resource_version;
  if (rv.empty() || rv == "0") {
    // Synthetic ADDED events for the current state, then everything after it.
    if (const ObjectMap* bucket = FindBucket(resource)) {
      for (const auto& [key, object] : *bucket) {
        if (state->filter.InScope(key) && state->filter.Matches(*object)) {
          state->Push({WatchEvent::Type::kAdded, object});
        }
      }
    }
  } else {
    std::optional<int64_t> n = ParseInt(rv);
    if (!n || *n < 0) return BadRequest("invalid resource version " + Quote(rv));
    if (*n < history_start_) {
      // A watch from a compacted revision must end with 410 Gone.
      state->error =
          Gone("too old resource version: " + rv + " (" + std::to_string(history_start_ + 1) + ")");
    } else {
      for (const HistoryEntry& e : history_) {
        if (e.revision > *n && e.resource == state->resource)
          state->Offer(e.type, e.object, e.previous, e.revision);
      }
    }
  }
  if (state->error.ok()) watches_.push_back(state);
  return std::unique_ptr<WatchStream>(std::make_unique<Stream>(state, clock_, options.timeout_seconds));
}

Result<ObjectPtr> FakeApi::Create(const ResourceInfo& resource, const std::string& ns, const Message& object,
                                  const WriteOptions& options) {
  CK_RETURN_IF_ERROR(Begin(Verb::kCreate, resource, ns, MetaOf(object).name()));
  CK_RETURN_IF_ERROR(VerbCheck(resource, "create"));
  CK_RETURN_IF_ERROR(TypeCheck(resource, object));
  CK_RETURN_IF_ERROR(NamespaceCheck(resource, ns));
  std::lock_guard lock(mu_);
  return CreateLocked(resource, ns, object, options.dry_run);
}

Result<ObjectPtr> FakeApi::CreateLocked(const ResourceInfo& resource, const std::string& ns,
                                        const Message& object, bool dry_run) {
  std::unique_ptr<Message> next = Clone(object);
  metav1::ObjectMeta* meta = MutableMetaOf(next.get());
  if (resource.namespaced) {
    if (!meta->namespace_().empty() && meta->namespace_() != ns) {
      return BadRequest(
          "the namespace of the provided object does not match the namespace sent on the request");
    }
    meta->set_namespace_(ns);
  } else {
    meta->clear_namespace_();
  }
  if (!meta->resourceversion().empty()) {
    return Internal("resourceVersion should not be set on objects to be created");
  }
  ObjectMap& bucket = Bucket(resource);
  if (meta->name().empty()) {
    if (meta->generatename().empty()) {
      return Invalid(resource.kind + " " + Quote("") +
                     " is invalid: metadata.name: Required value: name or generateName is required");
    }
    // Upstream answers AlreadyExists on a collision; a few tries make that practically impossible.
    for (int i = 0; i < 8; ++i) {
      meta->set_name(GenerateName(meta->generatename()));
      if (!bucket.count(KeyOf(resource, ns, meta->name()))) break;
    }
  }
  std::string key = KeyOf(resource, meta->namespace_(), meta->name());
  if (bucket.count(key))
    return AlreadyExists(resource.GroupResource() + " " + Quote(meta->name()) + " already exists");
  meta->set_uid(NewUid());
  SetSeconds(meta->mutable_creationtimestamp(), clock_.Now());
  meta->clear_deletiontimestamp();
  meta->clear_deletiongraceperiodseconds();
  meta->set_generation(1);
  if (dry_run) return ObjectPtr(std::move(next));
  ++revision_;
  meta->set_resourceversion(std::to_string(revision_));
  ObjectPtr stored(std::move(next));
  bucket[key] = stored;
  Record(resource, WatchEvent::Type::kAdded, stored, nullptr);
  return stored;
}

Result<ObjectPtr> FakeApi::Update(const ResourceInfo& resource, const std::string& ns, const Message& object,
                                  const std::string& subresource, const WriteOptions& options) {
  CK_RETURN_IF_ERROR(Begin(Verb::kUpdate, resource, ns, MetaOf(object).name(), subresource));
  CK_RETURN_IF_ERROR(NamespaceCheck(resource, ns));
  std::lock_guard lock(mu_);
  return UpdateLocked(resource, ns, object, subresource, options.dry_run);
}

namespace {

// spec.replicas and friends of scalable kinds, through reflection.
const Message* SubMessage(const Message& m, const char* name) {
  const FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(name);
  if (f == nullptr || f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || f->is_repeated()) return nullptr;
  return &m.GetReflection()->GetMessage(m, f);
}

int32_t Int32At(const Message& m, const char* parent, const char* name) {
  const Message* p = SubMessage(m, parent);
  if (p == nullptr) return 0;
  const FieldDescriptor* f = p->GetDescriptor()->FindFieldByName(name);
  if (f == nullptr || f->cpp_type() != FieldDescriptor::CPPTYPE_INT32) return 0;
  return p->GetReflection()->GetInt32(*p, f);
}

ObjectPtr ScaleOf(const Message& object) {
  auto scale = std::make_shared<autoscalingv1::Scale>();
  const metav1::ObjectMeta& meta = MetaOf(object);
  metav1::ObjectMeta* sm = scale->mutable_metadata();
  sm->set_name(meta.name());
  sm->set_namespace_(meta.namespace_());
  sm->set_uid(meta.uid());
  sm->set_resourceversion(meta.resourceversion());
  *sm->mutable_creationtimestamp() = meta.creationtimestamp();
  scale->mutable_spec()->set_replicas(Int32At(object, "spec", "replicas"));
  scale->mutable_status()->set_replicas(Int32At(object, "status", "replicas"));
  if (const Message* spec = SubMessage(object, "spec")) {
    if (const Message* sel = SubMessage(*spec, "selector")) {
      if (sel->GetDescriptor() == metav1::LabelSelector::descriptor()) {
        auto parsed = api::LabelSelector::FromProto(static_cast<const metav1::LabelSelector*>(sel));
        if (parsed.ok()) scale->mutable_status()->set_selector(parsed->String());
      }
    }
  }
  return scale;
}

}  // namespace

Result<ObjectPtr> FakeApi::UpdateLocked(const ResourceInfo& resource, const std::string& ns,
                                        const Message& object, const std::string& subresource, bool dry_run) {
  const bool scale = subresource == "scale";
  if (!subresource.empty() && resource.FindSubresource(subresource) == nullptr) {
    return NotFound("the server could not find the requested resource");
  }
  if (!subresource.empty() && subresource != "status" && !scale) {
    return Status(Code::kMethodNotAllowed, "the server does not allow this method on the requested resource");
  }
  if (subresource.empty()) CK_RETURN_IF_ERROR(VerbCheck(resource, "update"));
  if (scale) {
    if (object.GetDescriptor() != autoscalingv1::Scale::descriptor()) {
      return BadRequest("the body of the request was in an unknown format: expected autoscaling/v1 Scale");
    }
  } else {
    CK_RETURN_IF_ERROR(TypeCheck(resource, object));
  }
  const metav1::ObjectMeta& given = MetaOf(object);
  if (given.name().empty()) return BadRequest("name is required in the object's metadata");
  if (resource.namespaced && !given.namespace_().empty() && given.namespace_() != ns) {
    return BadRequest(
        "the namespace of the provided object does not match the namespace sent on the request");
  }
  const std::string key = KeyOf(resource, ns, given.name());
  ObjectMap& bucket = Bucket(resource);
  auto it = bucket.find(key);
  if (it == bucket.end()) return NotFoundError(resource, given.name());
  ObjectPtr current = it->second;
  const metav1::ObjectMeta& cur = MetaOf(*current);
  if (!given.uid().empty() && given.uid() != cur.uid()) {
    return Conflict("Precondition failed: UID in precondition: " + given.uid() +
                    ", UID in object meta: " + cur.uid());
  }
  // Optimistic concurrency: a stale resourceVersion is a 409; none means "update whatever is there".
  if (!given.resourceversion().empty() && given.resourceversion() != cur.resourceversion()) {
    return ConflictError(resource, given.name());
  }

  std::unique_ptr<Message> next;
  if (scale) {
    next = Clone(*current);
    const Message* spec = SubMessage(*next, "spec");
    const FieldDescriptor* replicas = spec ? spec->GetDescriptor()->FindFieldByName("replicas") : nullptr;
    if (replicas == nullptr) return NotFound("the server could not find the requested resource");
    Message* mspec =
        next->GetReflection()->MutableMessage(next.get(), next->GetDescriptor()->FindFieldByName("spec"));
    mspec->GetReflection()->SetInt32(mspec, replicas,
                                     static_cast<const autoscalingv1::Scale&>(object).spec().replicas());
  } else if (subresource == "status") {
    // /status writes only the status.
    next = Clone(*current);
    CopyTopField(object, next.get(), "status");
  } else {
    next = Clone(object);
    metav1::ObjectMeta* meta = MutableMetaOf(next.get());
    meta->set_namespace_(cur.namespace_());
    meta->set_uid(cur.uid());
    *meta->mutable_creationtimestamp() = cur.creationtimestamp();
    if (cur.has_deletiontimestamp()) {
      *meta->mutable_deletiontimestamp() = cur.deletiontimestamp();
    } else {
      meta->clear_deletiontimestamp();
    }
    if (cur.has_deletiongraceperiodseconds()) {
      meta->set_deletiongraceperiodseconds(cur.deletiongraceperiodseconds());
    } else {
      meta->clear_deletiongraceperiodseconds();
    }
    meta->set_generation(cur.generation());
    // The main resource keeps the status of kinds whose status is written through /status.
    if (resource.FindSubresource("status") != nullptr) CopyTopField(*current, next.get(), "status");
  }
  MutableMetaOf(next.get())->set_resourceversion(cur.resourceversion());
  if (SpecChanged(*current, *next)) MutableMetaOf(next.get())->set_generation(cur.generation() + 1);
  ObjectPtr result = CommitUpdate(resource, key, current, std::move(next), dry_run);
  return scale ? ScaleOf(*result) : result;
}

ObjectPtr FakeApi::CommitUpdate(const ResourceInfo& resource, const std::string& key,
                                const ObjectPtr& current, std::unique_ptr<Message> next, bool dry_run) {
  // An update that changes nothing writes nothing (no new revision, no event).
  if (google::protobuf::util::MessageDifferencer::Equals(*current, *next)) return current;
  const metav1::ObjectMeta& meta = MetaOf(*next);
  if (dry_run) return ObjectPtr(std::move(next));
  const metav1::ObjectMeta& cur = MetaOf(*current);
  if (meta.finalizers_size() == 0 && cur.has_deletiontimestamp() && cur.deletiongraceperiodseconds() == 0) {
    // The last finalizer of an object being deleted (with no grace period left) is gone.
    return RemoveLocked(resource, key, ObjectPtr(std::move(next)));
  }
  ++revision_;
  MutableMetaOf(next.get())->set_resourceversion(std::to_string(revision_));
  ObjectPtr stored(std::move(next));
  Bucket(resource)[key] = stored;
  Record(resource, WatchEvent::Type::kModified, stored, current);
  return stored;
}

ObjectPtr FakeApi::RemoveLocked(const ResourceInfo& resource, const std::string& key,
                                const ObjectPtr& current) {
  ObjectMap& bucket = Bucket(resource);
  ObjectPtr previous = bucket[key];
  bucket.erase(key);
  ++revision_;
  // The DELETED event (and the answer) carry the deletion's revision.
  ObjectPtr deleted = WithResourceVersion(*current, revision_);
  Record(resource, WatchEvent::Type::kDeleted, deleted, previous);
  return deleted;
}

Result<ObjectPtr> FakeApi::Patch(const ResourceInfo& resource, const std::string& ns, const std::string& name,
                                 PatchType type, const std::string& body, const std::string& subresource,
                                 const WriteOptions& options) {
  CK_RETURN_IF_ERROR(Begin(Verb::kPatch, resource, ns, name, subresource));
  if (subresource.empty()) CK_RETURN_IF_ERROR(VerbCheck(resource, "patch"));
  CK_RETURN_IF_ERROR(NamespaceCheck(resource, ns));
  std::lock_guard lock(mu_);
  ObjectMap& bucket = Bucket(resource);
  auto it = bucket.find(KeyOf(resource, ns, name));
  if (it == bucket.end()) {
    if (type != PatchType::kApply || !subresource.empty()) return NotFoundError(resource, name);
    std::unique_ptr<Message> object = api::NewMessage(resource.proto_type);
    CK_RETURN_IF_ERROR(api::FromJson(body, object.get()));
    MutableMetaOf(object.get())->set_name(name);
    return CreateLocked(resource, ns, *object, options.dry_run);
  }
  const bool scale = subresource == "scale";
  ObjectPtr target = scale ? ScaleOf(*it->second) : it->second;
  CK_ASSIGN_OR_RETURN(std::string original, api::ToJson(*target));
  Result<std::string> patched = std::string();
  switch (type) {
    case PatchType::kJson:
      patched = apiserver::patch::ApplyJsonPatch(original, body);
      break;
    case PatchType::kMerge:
    case PatchType::kApply:
      patched = apiserver::patch::ApplyMergePatch(original, body);
      break;
    case PatchType::kStrategicMerge:
      patched = apiserver::patch::ApplyStrategicMergePatch(original, body, target->GetDescriptor());
      break;
  }
  if (!patched.ok()) return patched.status();
  std::unique_ptr<Message> next(target->New());
  CK_RETURN_IF_ERROR(api::FromJson(*patched, next.get()));
  if (MetaOf(*next).name() != name) {
    return BadRequest("the name of the object (" + MetaOf(*next).name() +
                      ") does not match the name on the URL (" + name + ")");
  }
  // A resourceVersion left in place by the patch is the current one; one the patch set is a
  // precondition (409 when stale), as upstream.
  return UpdateLocked(resource, ns, *next, subresource, options.dry_run);
}

Result<ObjectPtr> FakeApi::CreateSubresource(const ResourceInfo& resource, const std::string& ns,
                                             const std::string& name, const std::string& subresource,
                                             const Message& object, const WriteOptions& options) {
  CK_RETURN_IF_ERROR(Begin(Verb::kCreateSubresource, resource, ns, name, subresource));
  CK_RETURN_IF_ERROR(NamespaceCheck(resource, ns));
  const bool pods = resource.group.empty() && resource.resource == "pods";
  if (!pods || (subresource != "binding" && subresource != "eviction")) {
    return NotFound("the server could not find the requested resource");
  }
  std::lock_guard lock(mu_);
  const std::string key = KeyOf(resource, ns, name);
  ObjectMap& bucket = Bucket(resource);
  auto it = bucket.find(key);
  if (it == bucket.end()) return NotFoundError(resource, name);
  ObjectPtr current = it->second;
  if (subresource == "binding") {
    if (object.GetDescriptor() != corev1::Binding::descriptor()) {
      return BadRequest("the body of the request was in an unknown format: expected v1 Binding");
    }
    const auto& binding = static_cast<const corev1::Binding&>(object);
    const auto& pod = static_cast<const corev1::Pod&>(*current);
    if (pod.metadata().has_deletiontimestamp()) {
      return Conflict("pod " + name + " is being deleted, cannot be assigned to a host");
    }
    if (!pod.spec().nodename().empty()) {
      return Conflict("pod " + name + " is already assigned to node " + Quote(pod.spec().nodename()));
    }
    auto next = std::make_unique<corev1::Pod>(pod);
    next->mutable_spec()->set_nodename(binding.target().name());
    corev1::PodCondition* scheduled = nullptr;
    for (auto& c : *next->mutable_status()->mutable_conditions()) {
      if (c.type() == "PodScheduled") scheduled = &c;
    }
    if (scheduled == nullptr) scheduled = next->mutable_status()->add_conditions();
    if (scheduled->status() != "True") SetSeconds(scheduled->mutable_lasttransitiontime(), clock_.Now());
    scheduled->set_type("PodScheduled");
    scheduled->set_status("True");
    CommitUpdate(resource, key, current, std::move(next), options.dry_run);
  } else {
    CK_ASSIGN_OR_RETURN(ObjectPtr unused, DeleteLocked(resource, ns, name, DeleteOptions{}));
    (void)unused;
  }
  auto status = std::make_shared<metav1::Status>();
  status->set_status("Success");
  status->set_code(201);
  return ObjectPtr(status);
}

Result<ObjectPtr> FakeApi::Delete(const ResourceInfo& resource, const std::string& ns,
                                  const std::string& name, const DeleteOptions& options) {
  CK_RETURN_IF_ERROR(Begin(Verb::kDelete, resource, ns, name));
  CK_RETURN_IF_ERROR(VerbCheck(resource, "delete"));
  CK_RETURN_IF_ERROR(NamespaceCheck(resource, ns));
  std::lock_guard lock(mu_);
  return DeleteLocked(resource, ns, name, options);
}

Result<ObjectPtr> FakeApi::DeleteLocked(const ResourceInfo& resource, const std::string& ns,
                                        const std::string& name, const DeleteOptions& options) {
  const std::string key = KeyOf(resource, ns, name);
  ObjectMap& bucket = Bucket(resource);
  auto it = bucket.find(key);
  if (it == bucket.end()) return NotFoundError(resource, name);
  ObjectPtr current = it->second;
  const metav1::ObjectMeta& cur = MetaOf(*current);
  if (!options.precondition_uid.empty() && options.precondition_uid != cur.uid()) {
    return Conflict("Precondition failed: UID in precondition: " + options.precondition_uid +
                    ", UID in object meta: " + cur.uid());
  }
  if (!options.precondition_resource_version.empty() &&
      options.precondition_resource_version != cur.resourceversion()) {
    return Conflict(
        "Precondition failed: ResourceVersion in precondition: " + options.precondition_resource_version +
        ", ResourceVersion in object meta: " + cur.resourceversion());
  }

  // Graceful pod deletion: a pod bound to a node and still running stays terminating until the
  // kubelet deletes it with grace 0.
  int64_t grace = 0;
  if (resource.group.empty() && resource.resource == "pods") {
    const auto& pod = static_cast<const corev1::Pod&>(*current);
    const std::string& phase = pod.status().phase();
    if (!pod.spec().nodename().empty() && phase != "Succeeded" && phase != "Failed") {
      grace = options.grace_period_seconds.value_or(
          pod.spec().has_terminationgraceperiodseconds() ? pod.spec().terminationgraceperiodseconds() : 30);
      if (cur.has_deletiongraceperiodseconds() && cur.deletiongraceperiodseconds() < grace) {
        grace = cur.deletiongraceperiodseconds();  // a deletion may only shorten the grace period
      }
    }
  }
  std::vector<std::string> finalizers(cur.finalizers().begin(), cur.finalizers().end());
  auto add_finalizer = [&](const std::string& f) {
    if (std::find(finalizers.begin(), finalizers.end(), f) == finalizers.end()) finalizers.push_back(f);
  };
  if (options.propagation_policy == "Foreground") add_finalizer("foregroundDeletion");
  if (options.propagation_policy == "Orphan") add_finalizer("orphan");

  if (finalizers.empty() && grace <= 0) {
    if (options.dry_run) return current;
    return RemoveLocked(resource, key, current);
  }
  std::unique_ptr<Message> next = Clone(*current);
  metav1::ObjectMeta* meta = MutableMetaOf(next.get());
  meta->clear_finalizers();
  for (const std::string& f : finalizers) meta->add_finalizers(f);
  if (!cur.has_deletiontimestamp() || (grace > 0 && grace < cur.deletiongraceperiodseconds())) {
    SetSeconds(meta->mutable_deletiontimestamp(), clock_.Now() + std::chrono::seconds(grace));
    meta->set_deletiongraceperiodseconds(grace);
    if (!cur.has_deletiontimestamp()) meta->set_generation(cur.generation() + 1);
  }
  return CommitUpdate(resource, key, current, std::move(next), options.dry_run);
}

Status FakeApi::DeleteCollection(const ResourceInfo& resource, const std::string& ns,
                                 const ListOptions& list_options, const DeleteOptions& options) {
  CK_RETURN_IF_ERROR(Begin(Verb::kDeleteCollection, resource, ns, ""));
  CK_RETURN_IF_ERROR(VerbCheck(resource, "deletecollection"));
  CK_ASSIGN_OR_RETURN(Filter filter, Filter::Make(resource, ns, list_options));
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, std::string>> victims;
  for (const auto& [key, object] : Bucket(resource)) {
    if (filter.InScope(key) && filter.Matches(*object)) {
      victims.emplace_back(MetaOf(*object).namespace_(), MetaOf(*object).name());
    }
  }
  for (const auto& [vns, vname] : victims) {
    Result<ObjectPtr> r = DeleteLocked(resource, vns, vname, options);
    if (!r.ok() && r.status().code() != Code::kNotFound) return r.status();
  }
  return Status::Ok();
}

// ---- Test controls ----

void FakeApi::FailNext(Verb verb, Status status, int n, std::string resource) {
  CK_CHECK(!status.ok()) << "FailNext needs an error";
  std::lock_guard lock(mu_);
  for (int i = 0; i < n; ++i) failures_.push_back(Failure{verb, resource, status});
}

void FakeApi::ClearFailures() {
  std::lock_guard lock(mu_);
  failures_.clear();
}

void FakeApi::DropWatches() {
  std::lock_guard lock(mu_);
  for (auto& w : watches_) {
    {
      std::lock_guard wl(w->mu);
      w->dropped = true;
    }
    w->wakeup.Notify();
  }
  watches_.clear();
}

void FakeApi::CompactHistory() {
  std::lock_guard lock(mu_);
  history_.clear();
  history_start_ = revision_;
  snapshots_.clear();
}

void FakeApi::SetHistoryWindow(size_t n) {
  std::lock_guard lock(mu_);
  history_window_ = n;
  TrimHistory();
}

void FakeApi::SendBookmarks() {
  std::lock_guard lock(mu_);
  std::erase_if(watches_, [](const std::shared_ptr<WatchState>& w) { return !w->Open(); });
  for (auto& w : watches_) {
    if (!w->bookmarks) continue;
    std::unique_ptr<Message> bookmark;
    if (w->metadata_only) {
      bookmark = std::make_unique<metav1::PartialObjectMetadata>();
    } else {
      bookmark.reset(google::protobuf::MessageFactory::generated_factory()->GetPrototype(w->type)->New());
    }
    MutableMetaOf(bookmark.get())->set_resourceversion(std::to_string(revision_));
    w->Push({WatchEvent::Type::kBookmark, ObjectPtr(std::move(bookmark))});
  }
}

void FakeApi::SetRequestHook(RequestHook hook) {
  std::lock_guard lock(mu_);
  hook_ = std::move(hook);
}

int64_t FakeApi::Calls(Verb verb) const {
  std::lock_guard lock(mu_);
  int64_t n = 0;
  for (const auto& [k, v] : calls_) {
    if (k.first == verb) n += v;
  }
  return n;
}

int64_t FakeApi::Calls(Verb verb, const std::string& resource) const {
  std::lock_guard lock(mu_);
  auto it = calls_.find({verb, resource});
  return it == calls_.end() ? 0 : it->second;
}

void FakeApi::ResetCalls() {
  std::lock_guard lock(mu_);
  calls_.clear();
}

int64_t FakeApi::revision() const {
  std::lock_guard lock(mu_);
  return revision_;
}

int FakeApi::open_watches() const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& w : watches_) n += w->Open() ? 1 : 0;
  return n;
}

std::vector<ObjectPtr> FakeApi::Objects(const ResourceInfo& resource) const {
  std::lock_guard lock(mu_);
  std::vector<ObjectPtr> out;
  if (const ObjectMap* bucket = FindBucket(resource)) {
    for (const auto& [key, object] : *bucket) out.push_back(object);
  }
  return out;
}

}  // namespace ck::client
