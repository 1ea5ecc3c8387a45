#include "controller-manager/util/history.h"

#include <algorithm>

#include "common/api/object.h"
#include "common/client/cache/informer_factory.h"
#include "controller-manager/util/controller_ref.h"
#include "controller-manager/util/hash.h"

namespace ck::controller_manager {

namespace {

const client::ResourceInfo& Revisions() {
  static const client::ResourceInfo& r = client::SharedInformerFactory::ResourceOfMessage(
      appsv1::ControllerRevision::descriptor()->full_name());
  return r;
}

// Upstream ControllerRevisionName: the parent's name, cut so that the whole stays a valid name.
std::string RevisionName(const std::string& parent, const std::string& hash) {
  std::string prefix = parent.size() > 223 ? parent.substr(0, 223) : parent;
  return prefix + "-" + hash;
}

}  // namespace

std::string HashControllerRevision(const appsv1::ControllerRevision& revision,
                                   std::optional<int32_t> collision_count) {
  // Upstream hashes revisions with FNV-1 (not 1a) and the probe as decimal text.
  std::string bytes = revision.data().raw();
  if (collision_count) bytes += std::to_string(*collision_count);
  uint32_t h = 2166136261u;
  for (unsigned char c : bytes) {
    h *= 16777619u;
    h ^= c;
  }
  return SafeEncodeString(std::to_string(h));
}

appsv1::ControllerRevision NewControllerRevision(const google::protobuf::Message& parent, std::string data_json,
                                                 const std::map<std::string, std::string>& labels, int64_t revision,
                                                 std::optional<int32_t> collision_count) {
  appsv1::ControllerRevision cr;
  const metav1::ObjectMeta& pm = MetaOf(parent);
  cr.mutable_metadata()->set_namespace_(pm.namespace_());
  for (const auto& [k, v] : labels) (*cr.mutable_metadata()->mutable_labels())[k] = v;
  *cr.mutable_metadata()->add_ownerreferences() = NewControllerRef(parent);
  cr.mutable_data()->set_raw(std::move(data_json));
  cr.set_revision(revision);
  std::string hash = HashControllerRevision(cr, collision_count);
  cr.mutable_metadata()->set_name(RevisionName(pm.name(), hash));
  (*cr.mutable_metadata()->mutable_labels())[kControllerRevisionHashLabel] = hash;
  return cr;
}

bool EqualRevision(const appsv1::ControllerRevision& a, const appsv1::ControllerRevision& b) {
  const auto& la = a.metadata().labels();
  const auto& lb = b.metadata().labels();
  auto ha = la.find(kControllerRevisionHashLabel);
  auto hb = lb.find(kControllerRevisionHashLabel);
  if (ha != la.end() && hb != lb.end() && ha->second != hb->second) return false;
  return a.data().raw() == b.data().raw();
}

std::vector<std::shared_ptr<const appsv1::ControllerRevision>> FindEqualRevisions(
    const std::vector<std::shared_ptr<const appsv1::ControllerRevision>>& revisions,
    const appsv1::ControllerRevision& needle) {
  std::vector<std::shared_ptr<const appsv1::ControllerRevision>> out;
  for (const auto& r : revisions) {
    if (EqualRevision(*r, needle)) out.push_back(r);
  }
  return out;
}

void SortControllerRevisions(std::vector<std::shared_ptr<const appsv1::ControllerRevision>>& revisions) {
  std::stable_sort(revisions.begin(), revisions.end(), [](const auto& a, const auto& b) {
    if (a->revision() != b->revision()) return a->revision() < b->revision();
    api::Timestamp ta = api::TimestampOf(a->metadata().creationtimestamp());
    api::Timestamp tb = api::TimestampOf(b->metadata().creationtimestamp());
    if (!(ta == tb)) return ta.seconds != tb.seconds ? ta.seconds < tb.seconds : ta.nanos < tb.nanos;
    return a->metadata().name() < b->metadata().name();
  });
}

int64_t NextRevision(const std::vector<std::shared_ptr<const appsv1::ControllerRevision>>& revisions) {
  int64_t max = 0;
  for (const auto& r : revisions) max = std::max(max, r->revision());
  return max + 1;
}

Result<std::shared_ptr<const appsv1::ControllerRevision>> History::Create(const google::protobuf::Message& parent,
                                                                          const appsv1::ControllerRevision& revision,
                                                                          int32_t* collision_count) {
  if (collision_count == nullptr) return Invalid("collision_count should not be nil");
  const metav1::ObjectMeta& pm = MetaOf(parent);
  for (;;) {
    appsv1::ControllerRevision clone = revision;
    std::string hash = HashControllerRevision(clone, *collision_count);
    clone.mutable_metadata()->set_name(RevisionName(pm.name(), hash));
    clone.mutable_metadata()->set_namespace_(pm.namespace_());
    (*clone.mutable_metadata()->mutable_labels())[kControllerRevisionHashLabel] = hash;
    Result<client::ObjectPtr> created = api_.Create(Revisions(), pm.namespace_(), clone);
    if (created.ok()) return client::As<appsv1::ControllerRevision>(*created);
    if (created.status().code() != Code::kAlreadyExists) return created.status();
    Result<client::ObjectPtr> existing = api_.Get(Revisions(), pm.namespace_(), clone.metadata().name());
    if (!existing.ok()) return existing.status();
    auto typed = client::As<appsv1::ControllerRevision>(*existing);
    if (typed->data().raw() == clone.data().raw()) return typed;
    ++*collision_count;  // same name, different data: a hash collision
  }
}

Result<std::shared_ptr<const appsv1::ControllerRevision>> History::UpdateRevision(
    const appsv1::ControllerRevision& revision, int64_t new_revision) {
  if (revision.revision() == new_revision) return std::make_shared<const appsv1::ControllerRevision>(revision);
  appsv1::ControllerRevision clone = revision;
  for (int attempt = 0;; ++attempt) {
    clone.set_revision(new_revision);
    Result<client::ObjectPtr> updated = api_.Update(Revisions(), clone.metadata().namespace_(), clone);
    if (updated.ok()) return client::As<appsv1::ControllerRevision>(*updated);
    if (updated.status().code() != Code::kConflict || attempt >= 4) return updated.status();
    Result<client::ObjectPtr> fresh = api_.Get(Revisions(), clone.metadata().namespace_(), clone.metadata().name());
    if (!fresh.ok()) return fresh.status();
    clone = *client::As<appsv1::ControllerRevision>(*fresh);
  }
}

Status History::Delete(const appsv1::ControllerRevision& revision) {
  Result<client::ObjectPtr> deleted =
      api_.Delete(Revisions(), revision.metadata().namespace_(), revision.metadata().name());
  if (!deleted.ok() && deleted.status().code() != Code::kNotFound) return deleted.status();
  return Status::Ok();
}

}  // namespace ck::controller_manager
