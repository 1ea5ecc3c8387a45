#include "apiserver/watch_cache.h"

#include <algorithm>
#include <set>

#include "common/api/codec.h"
#include "common/base/log.h"
#include "common/base/thread.h"

namespace ck::apiserver {

namespace {

// Resources that admission or the request path reads on every write (namespaces for
// NamespaceLifecycle and PodSecurity, the default PriorityClass, LimitRanges, quotas, webhook
// configurations): few objects, so they stay decoded instead of being decoded per request.
bool KeptDecoded(const ResourceInfo& r) {
  static const std::set<std::string, std::less<>> kept = {
      "namespaces",     "priorityclasses",  "limitranges", "resourcequotas", "mutatingwebhookconfigurations",
      "validatingwebhookconfigurations", "runtimeclasses"};
  return kept.contains(r.resource);
}

const std::string* FindLabel(const void* labels, std::string_view key) {
  const auto& l = *static_cast<const CachedObject::Labels*>(labels);
  auto it = std::lower_bound(l.begin(), l.end(), key, [](const auto& kv, std::string_view k) { return kv.first < k; });
  return it != l.end() && it->first == key ? &it->second : nullptr;
}

}  // namespace

CachedObject::CachedObject(const ResourceInfo* resource, std::string key, int64_t revision,
                           std::shared_ptr<const Message> object, std::shared_ptr<const std::string> stored)
    : resource_(resource), key_(std::move(key)), revision_(revision), stored_(std::move(stored)),
      kept_decoded_(KeptDecoded(*resource)), pinned_(std::move(object)) {
  CK_CHECK(pinned_ != nullptr && stored_ != nullptr) << key_;
  const auto& labels = MetaOf(*pinned_).labels();
  labels_.reserve(labels.size());
  for (const auto& [k, v] : labels) labels_.emplace_back(k, v);
  std::sort(labels_.begin(), labels_.end());
  name_pos_ = resource_->storage_prefix.size();
  if (resource_->namespaced) {
    size_t slash = key_.find('/', name_pos_);
    if (slash != std::string::npos) name_pos_ = slash + 1;
  }
}

std::string_view CachedObject::name() const { return std::string_view(key_).substr(name_pos_); }

std::string_view CachedObject::namespace_() const {
  size_t start = resource_->storage_prefix.size();
  return name_pos_ > start ? std::string_view(key_).substr(start, name_pos_ - 1 - start) : std::string_view();
}

bool CachedObject::MatchesLabels(const api::LabelSelector& selector) const {
  return selector.Matches(&labels_, &FindLabel);
}

std::shared_ptr<const Message> CachedObject::object() const {
  std::lock_guard lock(mu_);
  if (pinned_) return pinned_;
  if (std::shared_ptr<const Message> live = live_.lock()) return live;
  auto decoded = DecodeStored(*resource_, key_, *stored_, revision_);
  // These bytes were decoded once already, when the object entered the cache.
  CK_CHECK(decoded.ok()) << decoded.status().ToString();
  std::shared_ptr<const Message> out = std::move(decoded).value();
  live_ = out;
  return out;
}

void CachedObject::Unpin() const {
  if (kept_decoded_) return;
  std::lock_guard lock(mu_);
  if (pinned_) live_ = std::exchange(pinned_, nullptr);
}

const std::string& CachedObject::Json() const {
  std::call_once(json_once_, [this] {
    api::EncodeOptions opts;
    opts.kind = resource_->kind;
    std::string gv = resource_->GroupVersion();
    opts.api_version = gv;
    std::shared_ptr<const Message> obj = object();
    auto r = api::ToJson(*obj, opts);
    // Objects in the cache were decoded from our own protobuf bytes; encoding them cannot fail
    // unless a RawExtension holds bytes that are not JSON, which validation refuses.
    json_ = r.ok() ? std::move(r).value() : std::string("{}");
    if (!r.ok()) CK_LOG_ERROR("Cannot encode cached object", "key", key_, "err", r.status().message());
  });
  return json_;
}

std::string_view WatchEventTypeName(WatchEventType t) {
  switch (t) {
    case WatchEventType::kAdded: return "ADDED";
    case WatchEventType::kModified: return "MODIFIED";
    case WatchEventType::kDeleted: return "DELETED";
    case WatchEventType::kBookmark: return "BOOKMARK";
  }
  return "ERROR";
}

struct WatchCache::Watcher {
  CacheWatchOptions options;
  WatchSink sink;
  bool stopped = false;  // guarded by WatchCache::mu_
};

class WatchCache::WatchHandle final : public CacheWatch {
 public:
  WatchHandle(WatchCache* cache, std::shared_ptr<Watcher> w) : cache_(cache), w_(std::move(w)) {}
  ~WatchHandle() override { cache_->RemoveWatcher(w_.get()); }

 private:
  WatchCache* cache_;
  std::shared_ptr<Watcher> w_;
};

WatchCache::WatchCache(store::Store* store, WatchCacheOptions options) : store_(store), options_(std::move(options)) {
  for (const auto& r : AllResources()) {
    if (!r.storage_prefix.empty()) prefixes_.emplace_back(r.storage_prefix, &r);
  }
  std::sort(prefixes_.begin(), prefixes_.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

WatchCache::~WatchCache() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  revision_cv_.notify_all();
  stop_cv_.notify_all();
  if (bookmark_thread_.joinable()) bookmark_thread_.join();
  store_watch_.reset();
}

const ResourceInfo* WatchCache::ResourceForKey(std::string_view key) const {
  for (const auto& [prefix, r] : prefixes_) {
    if (key.starts_with(prefix)) return r;
  }
  return nullptr;  // allocation keys and other bookkeeping under the root
}

Status WatchCache::Start() {
  auto all = store_->Range(options_.root, store::PrefixEnd(options_.root));
  if (!all.ok()) return all.status().WithPrefix("loading the watch cache");
  {
    std::lock_guard lock(mu_);
    for (const auto& kv : all->kvs) {
      const ResourceInfo* r = ResourceForKey(kv.key);
      if (!r) continue;
      auto obj = DecodeStored(*r, kv.key, kv.value, kv.mod_revision);
      if (!obj.ok()) return obj.status();
      auto cached = std::make_shared<CachedObject>(r, kv.key, kv.mod_revision, std::move(obj).value(),
                                                   kv.value.shared());
      cached->Unpin();
      objects_[kv.key] = std::move(cached);
    }
    revision_ = all->revision;
    history_start_ = all->revision;
  }
  CK_RETURN_IF_ERROR(StartStoreWatch(all->revision + 1));
  bookmark_thread_ = std::thread([this] {
    SetCurrentThreadName("watch-bookmarks");
    BookmarkLoop();
  });
  CK_LOG_INFO("Watch cache started", "objects", static_cast<int64_t>(size()), "revision", all->revision);
  return Status::Ok();
}

Status WatchCache::StartStoreWatch(int64_t from) {
  store::WatchRequest req;
  req.range = store::KeyRange::Prefix(options_.root);
  req.start_revision = from;
  req.progress_notify = true;
  auto w = store_->Watch(req, [this](const store::WatchResponse& r) { OnStoreEvents(r); });
  if (!w.ok()) return w.status().WithPrefix("watching the store");
  store_watch_ = std::move(w).value();
  return Status::Ok();
}

void WatchCache::OnStoreEvents(const store::WatchResponse& response) {
  switch (response.type) {
    case store::WatchResponse::Type::kEvents: {
      // Decoding is the costly part of applying a put: done before taking the lock, so that
      // lists, gets and the request path do not wait behind it.
      std::vector<const ResourceInfo*> resources(response.events.size());
      std::vector<std::shared_ptr<Message>> decoded(response.events.size());
      for (size_t i = 0; i < response.events.size(); ++i) {
        const store::Event& e = response.events[i];
        resources[i] = ResourceForKey(e.kv.key);
        if (!resources[i] || e.type != store::Event::Type::kPut) continue;
        auto obj = DecodeStored(*resources[i], e.kv.key, e.kv.value, e.kv.mod_revision);
        CK_CHECK(obj.ok()) << obj.status().ToString();
        decoded[i] = std::move(obj).value();
      }
      std::lock_guard lock(mu_);
      for (size_t i = 0; i < response.events.size(); ++i) {
        if (resources[i]) Apply(response.events[i], response.revision, resources[i], std::move(decoded[i]));
      }
      revision_ = std::max(revision_, response.revision);
      break;
    }
    case store::WatchResponse::Type::kProgress: {
      std::lock_guard lock(mu_);
      revision_ = std::max(revision_, response.revision);
      break;
    }
    case store::WatchResponse::Type::kCanceled: {
      // The store dropped us (we fell behind): resume right after what we applied.
      CK_LOG_WARNING("Store watch canceled, resuming", "revision", response.revision, "err", response.status.message());
      int64_t from;
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        from = revision_ + 1;
      }
      Status s = StartStoreWatch(from);
      CK_CHECK(s.ok()) << "cannot resume the store watch from " << from << ": " << s.ToString();
      return;
    }
  }
  revision_cv_.notify_all();
}

// Called with mu_ held.
void WatchCache::Apply(const store::Event& e, int64_t revision, const ResourceInfo* r,
                       std::shared_ptr<Message> decoded) {
  CacheEvent ev;
  ev.revision = revision;
  auto it = objects_.find(e.kv.key);
  if (it != objects_.end()) ev.prev = it->second;
  HistoryEvent h;
  if (e.type == store::Event::Type::kPut) {
    auto bytes = e.kv.value.shared();
    h.object = bytes;
    ev.object = std::make_shared<CachedObject>(r, e.kv.key, e.kv.mod_revision, std::move(decoded), std::move(bytes));
    ev.type = ev.prev ? WatchEventType::kModified : WatchEventType::kAdded;
    objects_[e.kv.key] = ev.object;
  } else {
    if (!ev.prev) return;  // never seen (cannot happen after a consistent start)
    // A deleted object is reported in its last state, at the deleting revision.
    std::shared_ptr<const Message> prev = ev.prev->object();
    std::shared_ptr<Message> last(prev->New());
    last->CopyFrom(*prev);
    MutableMetaOf(last.get())->set_resourceversion(std::to_string(revision));
    h.object = ev.prev->stored();
    ev.object = std::make_shared<CachedObject>(r, e.kv.key, revision, std::move(last), ev.prev->stored());
    ev.type = WatchEventType::kDeleted;
    objects_.erase(it);
  }
  h.type = ev.type;
  h.revision = revision;
  h.resource = r;
  h.key = e.kv.key;
  if (ev.prev) {
    h.prev = ev.prev->stored();
    h.prev_revision = ev.prev->revision();
  }
  h.at = options_.clock->Monotonic();
  const MonoTime stale = h.at - options_.event_fresh_duration;
  history_.push_back(std::move(h));
  while (history_.size() > options_.history_events ||
         (history_.size() > options_.min_history_events && history_.front().at < stale)) {
    history_start_ = history_.front().revision;
    history_.pop_front();
  }
  // A filtered watcher reads the previous state too: decode it once for all of them.
  std::shared_ptr<const Message> prev_pin;
  if (ev.prev && std::any_of(watchers_.begin(), watchers_.end(), [](const auto& w) { return w->options.filter; })) {
    prev_pin = ev.prev->object();
  }
  Dispatch(ev);
  ev.object->Unpin();
}

CacheEvent WatchCache::Materialize(const HistoryEvent& h, bool with_prev) const {
  auto decode = [&](const std::shared_ptr<const std::string>& bytes, int64_t revision) -> ObjectPtr {
    auto obj = DecodeStored(*h.resource, h.key, *bytes, revision);
    // These bytes were decoded once already, when the event was applied.
    CK_CHECK(obj.ok()) << obj.status().ToString();
    return std::make_shared<CachedObject>(h.resource, h.key, revision, std::move(obj).value(), bytes);
  };
  CacheEvent ev;
  ev.type = h.type;
  ev.revision = h.revision;
  ev.object = decode(h.object, h.revision);
  if (with_prev && h.prev) ev.prev = decode(h.prev, h.prev_revision);
  return ev;
}

// Called with mu_ held.
bool WatchCache::Deliver(Watcher& w, const CacheEvent& ev) {
  if (w.stopped) return false;
  const auto& key = ev.object->key();
  if (!std::string_view(key).starts_with(w.options.prefix)) return true;
  bool ok = true;
  if (!w.options.filter) {
    ok = w.sink(ev);
  } else {
    bool now = ev.type != WatchEventType::kDeleted && w.options.filter(*ev.object);
    bool before = ev.prev && w.options.filter(*ev.prev);
    if (ev.type == WatchEventType::kDeleted) {
      if (before) ok = w.sink(ev);
    } else if (now && before) {
      ok = w.sink(ev);
    } else if (now) {
      CacheEvent added = ev;
      added.type = WatchEventType::kAdded;
      ok = w.sink(added);
    } else if (before) {
      // Stopped matching the selector: the watcher sees it go away.
      CacheEvent gone = ev;
      gone.type = WatchEventType::kDeleted;
      ok = w.sink(gone);
    }
  }
  if (!ok) w.stopped = true;
  return ok;
}

// Called with mu_ held.
void WatchCache::Dispatch(const CacheEvent& ev) {
  for (auto it = watchers_.begin(); it != watchers_.end();) {
    if (!Deliver(**it, ev)) {
      it = watchers_.erase(it);
    } else {
      ++it;
    }
  }
}

void WatchCache::RemoveWatcher(Watcher* w) {
  std::lock_guard lock(mu_);
  w->stopped = true;
  watchers_.remove_if([w](const std::shared_ptr<Watcher>& p) { return p.get() == w; });
}

int64_t WatchCache::revision() const {
  std::lock_guard lock(mu_);
  return revision_;
}

size_t WatchCache::size() const {
  std::lock_guard lock(mu_);
  return objects_.size();
}

int64_t WatchCache::oldest_resumable_revision() const {
  std::lock_guard lock(mu_);
  return history_start_;
}

Status WatchCache::WaitFor(int64_t revision, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (revision_cv_.wait_for(lock, timeout, [&] { return revision_ >= revision || stopping_; })) {
    return stopping_ ? Unavailable("the watch cache is stopping") : Status::Ok();
  }
  return Timeout("Too large resource version: " + std::to_string(revision) + ", current: " + std::to_string(revision_));
}

Status WatchCache::Sync(std::chrono::milliseconds timeout) { return WaitFor(store_->CurrentRevision(), timeout); }

WatchCache::ListResult WatchCache::List(std::string_view prefix, const ObjectFilter& filter, int64_t limit,
                                        std::string_view after_key) const {
  ListResult out;
  std::lock_guard lock(mu_);
  out.revision = revision_;
  auto it = after_key.empty() ? objects_.lower_bound(prefix) : objects_.upper_bound(after_key);
  for (; it != objects_.end() && std::string_view(it->first).starts_with(prefix); ++it) {
    if (filter && !filter(*it->second)) continue;
    if (limit > 0 && static_cast<int64_t>(out.objects.size()) >= limit) {
      out.more = true;
      ++out.remaining;
      continue;
    }
    out.objects.push_back(it->second);
  }
  return out;
}

Result<WatchCache::ListResult> WatchCache::ListAt(int64_t revision, std::string_view prefix,
                                                  const ObjectFilter& filter, int64_t limit,
                                                  std::string_view after_key) const {
  ListResult out;
  out.revision = revision;
  const std::string end = store::PrefixEnd(prefix);
  std::string start = after_key.empty() ? std::string(prefix) : std::string(after_key) + '\0';
  // Read in chunks until `limit` objects matched and one more is known to exist.
  const int64_t chunk = limit > 0 ? std::max<int64_t>(limit + 1, 256) : 0;
  while (true) {
    Result<store::RangeResult> r = store_->Range(start, end, revision, chunk);
    if (!r.ok()) return r.status();
    for (const store::KeyValue& kv : r->kvs) {
      const ResourceInfo* resource = ResourceForKey(kv.key);
      if (!resource) continue;
      Result<std::shared_ptr<Message>> obj = DecodeStored(*resource, kv.key, kv.value, kv.mod_revision);
      if (!obj.ok()) return obj.status();
      auto cached = std::make_shared<CachedObject>(resource, kv.key, kv.mod_revision, std::move(obj).value(),
                                                   kv.value.shared());
      if (filter && !filter(*cached)) continue;
      if (limit > 0 && static_cast<int64_t>(out.objects.size()) >= limit) {
        out.more = true;
        if (filter) {
          out.remaining = -1;
        } else {
          // Every key left in the range matches: count them without reading them.
          Result<store::RangeResult> rest = store_->Range(kv.key, end, revision, 1);
          out.remaining = rest.ok() ? rest->count : -1;
        }
        return out;
      }
      out.objects.push_back(std::move(cached));
    }
    if (chunk == 0 || static_cast<int64_t>(r->kvs.size()) < chunk) return out;
    start = r->kvs.back().key + '\0';
  }
}

ObjectPtr WatchCache::Get(std::string_view key) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : it->second;
}

Result<std::unique_ptr<CacheWatch>> WatchCache::Watch(CacheWatchOptions options, WatchSink sink) {
  if (!options.send_initial && options.from_revision > revision()) {
    // A resourceVersion the cache has not reached yet: wait briefly, as upstream does.
    CK_RETURN_IF_ERROR(WaitFor(options.from_revision, std::chrono::seconds(3)));
  }
  auto w = std::make_shared<Watcher>();
  w->options = std::move(options);
  w->sink = std::move(sink);
  std::lock_guard lock(mu_);
  if (w->options.send_initial) {
    for (auto it = objects_.lower_bound(w->options.prefix);
         it != objects_.end() && std::string_view(it->first).starts_with(w->options.prefix); ++it) {
      if (w->options.filter && !w->options.filter(*it->second)) continue;
      CacheEvent ev;
      ev.type = WatchEventType::kAdded;
      ev.revision = it->second->revision();
      ev.object = it->second;
      if (!w->sink(ev)) {
        w->stopped = true;
        break;
      }
    }
  } else {
    if (w->options.from_revision < history_start_) {
      return Gone("too old resource version: " + std::to_string(w->options.from_revision) + " (" +
                  std::to_string(history_start_ + 1) + ")");
    }
    auto first = std::upper_bound(history_.begin(), history_.end(), w->options.from_revision,
                                  [](int64_t rev, const HistoryEvent& e) { return rev < e.revision; });
    for (auto it = first; it != history_.end(); ++it) {
      if (!std::string_view(it->key).starts_with(w->options.prefix)) continue;
      if (!Deliver(*w, Materialize(*it, static_cast<bool>(w->options.filter)))) break;
    }
  }
  if (!w->stopped) watchers_.push_back(w);
  return std::unique_ptr<CacheWatch>(std::make_unique<WatchHandle>(this, w));
}

void WatchCache::BookmarkLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    stop_cv_.wait_for(lock, options_.bookmark_interval, [&] { return stopping_; });
    if (stopping_) break;
    CacheEvent bm;
    bm.type = WatchEventType::kBookmark;
    bm.revision = revision_;
    for (auto it = watchers_.begin(); it != watchers_.end();) {
      Watcher& w = **it;
      bool keep = !w.stopped && (!w.options.bookmarks || w.sink(bm));
      if (!keep) {
        w.stopped = true;
        it = watchers_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

}  // namespace ck::apiserver
