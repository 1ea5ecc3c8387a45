#include "common/client/cache/reflector.h"

#include <google/protobuf/descriptor.h>

#include "common/api/proto/meta_v1.pb.h"
#include "common/base/log.h"
#include "common/base/thread.h"
#include "common/client/cache/meta.h"

namespace ck::client {

namespace {
// A watch that ends normally this soon after it started, with no event, is treated as a failure
// (client-go: "very short watch"), so that a server closing watches at once is not hammered.
constexpr auto kShortWatch = std::chrono::seconds(1);
}  // namespace

Reflector::Reflector(ApiClient& client, ResourceInfo resource, ReflectorStore& store, Clock& clock,
                     Random& random, ReflectorOptions options)
    : client_(client),
      resource_(std::move(resource)),
      store_(store),
      clock_(clock),
      random_(random),
      options_(std::move(options)),
      expected_type_(options_.metadata_only ? metav1::PartialObjectMetadata::descriptor()->full_name()
                                            : resource_.proto_type),
      backoff_(clock, random, options_.backoff) {}

Reflector::~Reflector() { Stop(); }

void Reflector::Start() {
  CK_CHECK(!thread_.joinable()) << "reflector for " << resource_.resource << " started twice";
  thread_ = std::thread([this] {
    SetCurrentThreadName(("rf-" + resource_.resource).substr(0, 15));
    Run();
  });
}

void Reflector::Stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    if (stream_ != nullptr) stream_->Stop();
  }
  wakeup_.Notify();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

std::string Reflector::LastSyncResourceVersion() const {
  std::lock_guard lock(mu_);
  return last_rv_;
}

Reflector::Stats Reflector::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Reflector::SetLastResourceVersion(const std::string& rv) {
  std::lock_guard lock(mu_);
  last_rv_ = rv;
}

ListOptions Reflector::BaseOptions() const {
  ListOptions o;
  o.label_selector = options_.label_selector;
  o.field_selector = options_.field_selector;
  o.metadata_only = options_.metadata_only;
  return o;
}

void Reflector::Run() {
  bool need_list = true;
  while (!stopped_) {
    if (need_list) {
      Status status = ListAndReplace();
      if (stopped_) break;
      if (!status.ok()) {
        CK_LOG_WARNING("List failed", "resource", resource_.GroupResource(), "err", status.ToString());
        BackOff();
        continue;
      }
      need_list = false;
    }
    switch (WatchOnce()) {
      case WatchEnd::kStopped:
        return;
      case WatchEnd::kGone:
        // The resourceVersion we would resume from is compacted away: only a new list is consistent.
        need_list = true;
        BackOff();
        break;
      case WatchEnd::kBroken:
      case WatchEnd::kEndedEarly:
        BackOff();
        break;
      case WatchEnd::kEnded:
        break;
    }
  }
}

void Reflector::BackOff() {
  Duration delay = backoff_.Next();
  // The deadline is fixed before the wait is counted, so whoever sees the count (a test moving a
  // fake clock) knows the wait's end is already set.
  MonoTime deadline = clock_.Monotonic() + delay;
  {
    std::lock_guard lock(mu_);
    ++stats_.backoffs;
    stats_.last_backoff = delay;
  }
  CK_VLOG(2, "Backing off", "resource", resource_.GroupResource(), "delay_ms",
          static_cast<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(delay).count()));
  while (!stopped_ && clock_.Monotonic() < deadline) clock_.WaitUntil(wakeup_, deadline);
}

Status Reflector::ListAndReplace() {
  bool paginate = options_.page_size > 0;
  bool restarted = false;
  while (true) {
    ListOptions o = BaseOptions();
    // A consistent read ("" = most recent), so that nothing older than what was already
    // delivered can come back.
    o.limit = paginate ? options_.page_size : 0;
    std::vector<ObjectPtr> items;
    std::string rv;
    bool expired = false;
    do {
      {
        std::lock_guard lock(mu_);
        ++stats_.list_requests;
      }
      Result<ObjectList> page = client_.List(resource_, options_.ns, o);
      if (stopped_) return Unavailable("stopped");
      if (!page.ok()) {
        // An expired continue token: the snapshot the pages came from is compacted; start again.
        if (page.status().code() == Code::kGone && !o.continue_token.empty()) {
          expired = true;
          break;
        }
        return page.status();
      }
      if (options_.transform) {
        for (ObjectPtr& item : page->items) item = options_.transform(std::move(item));
      }
      if (items.empty()) {
        items = std::move(page->items);
      } else {
        items.insert(items.end(), std::make_move_iterator(page->items.begin()),
                     std::make_move_iterator(page->items.end()));
      }
      if (!page->resource_version.empty()) rv = page->resource_version;
      o.continue_token = std::move(page->continue_token);
    } while (!o.continue_token.empty());
    if (expired) {
      {
        std::lock_guard lock(mu_);
        ++stats_.expired_continues;
      }
      CK_LOG_INFO("Continue token expired, listing again", "resource", resource_.GroupResource(), "paginated",
                  !restarted);
      // A second expiry in a row: fall back to one unpaginated list (client-go's pager does too).
      if (restarted) paginate = false;
      restarted = true;
      continue;
    }
    if (rv.empty()) return Internal("list of " + resource_.GroupResource() + " returned no resourceVersion");
    size_t count = items.size();
    store_.Replace(std::move(items), rv);
    SetLastResourceVersion(rv);
    {
      std::lock_guard lock(mu_);
      ++stats_.lists;
    }
    synced_ = true;
    CK_VLOG(2, "Listed", "resource", resource_.GroupResource(), "items", static_cast<uint64_t>(count), "rv", rv);
    return Status::Ok();
  }
}

Reflector::WatchEnd Reflector::WatchOnce() {
  ListOptions o = BaseOptions();
  o.resource_version = LastSyncResourceVersion();
  o.allow_watch_bookmarks = true;
  int64_t min_seconds = std::chrono::duration_cast<std::chrono::seconds>(options_.min_watch_timeout).count();
  if (min_seconds > 0) o.timeout_seconds = min_seconds + static_cast<int64_t>(random_.Uniform(min_seconds));
  {
    std::lock_guard lock(mu_);
    ++stats_.watches;
  }
  MonoTime started = clock_.Monotonic();
  Result<std::unique_ptr<WatchStream>> watch = client_.Watch(resource_, options_.ns, o);
  if (stopped_) {
    if (watch.ok()) (*watch)->Stop();
    return WatchEnd::kStopped;
  }
  if (!watch.ok()) {
    std::lock_guard lock(mu_);
    if (watch.status().code() == Code::kGone) {
      ++stats_.gone;
      CK_LOG_INFO("Watch expired, relisting", "resource", resource_.GroupResource(), "rv", o.resource_version);
      return WatchEnd::kGone;
    }
    ++stats_.broken;
    CK_LOG_WARNING("Watch failed", "resource", resource_.GroupResource(), "err", watch.status().ToString());
    return WatchEnd::kBroken;
  }
  std::unique_ptr<WatchStream> stream = std::move(watch).value();
  {
    std::lock_guard lock(mu_);
    if (stopped_) {
      stream->Stop();
      return WatchEnd::kStopped;
    }
    stream_ = stream.get();
  }
  // Unregisters the stream before it is destroyed, so that Stop() never touches a dead one.
  auto unregister = [&] {
    std::lock_guard lock(mu_);
    stream_ = nullptr;
  };
  int64_t events = 0;
  while (true) {
    Result<std::optional<WatchEvent>> next = stream->Next();
    if (stopped_) {
      unregister();
      return WatchEnd::kStopped;
    }
    if (!next.ok()) {
      unregister();
      std::lock_guard lock(mu_);
      if (next.status().code() == Code::kGone) {
        ++stats_.gone;
        CK_LOG_INFO("Watch expired, relisting", "resource", resource_.GroupResource(), "err",
                    next.status().ToString());
        return WatchEnd::kGone;
      }
      ++stats_.broken;
      CK_LOG_WARNING("Watch stream broken", "resource", resource_.GroupResource(), "err", next.status().ToString(),
                     "rv", last_rv_);
      return WatchEnd::kBroken;
    }
    if (!next->has_value()) {
      unregister();
      bool early = events == 0 && clock_.Monotonic() - started < kShortWatch;
      CK_VLOG(3, "Watch ended", "resource", resource_.GroupResource(), "events", events);
      return early ? WatchEnd::kEndedEarly : WatchEnd::kEnded;
    }
    ++events;
    HandleEvent(std::move(**next));
  }
}

void Reflector::HandleEvent(WatchEvent event) {
  if (event.object == nullptr) {
    CK_LOG_WARNING("Watch event without object", "resource", resource_.GroupResource());
    return;
  }
  std::string rv = ResourceVersionOf(*event.object);
  if (event.type != WatchEvent::Type::kBookmark && event.object->GetDescriptor()->full_name() != expected_type_) {
    CK_LOG_ERROR("Watch event of an unexpected type", "resource", resource_.GroupResource(), "expected",
                 expected_type_, "got", event.object->GetDescriptor()->full_name());
    return;
  }
  if (event.type != WatchEvent::Type::kBookmark && options_.transform) {
    event.object = options_.transform(std::move(event.object));
  }
  switch (event.type) {
    case WatchEvent::Type::kAdded: store_.Add(std::move(event.object)); break;
    case WatchEvent::Type::kModified: store_.Update(std::move(event.object)); break;
    case WatchEvent::Type::kDeleted: store_.Delete(std::move(event.object)); break;
    case WatchEvent::Type::kBookmark:
      if (rv.empty()) return;
      store_.Bookmark(rv);
      break;
  }
  std::lock_guard lock(mu_);
  ++stats_.events;
  if (!rv.empty()) last_rv_ = std::move(rv);
}

}  // namespace ck::client
