#include "controller-manager/util/controller_ref.h"

#include <google/protobuf/util/message_differencer.h>

#include "common/base/log.h"
#include "common/base/strings.h"
#include "common/client/cache/informer_factory.h"
#include "common/client/cache/meta.h"

namespace ck::controller_manager {

bool SameControllerRef(const metav1::OwnerReference* a, const metav1::OwnerReference* b) {
  if (a == nullptr || b == nullptr) return a == b;
  return google::protobuf::util::MessageDifferencer::Equals(*a, *b);
}

bool SameLabels(const google::protobuf::Map<std::string, std::string>& a,
                const google::protobuf::Map<std::string, std::string>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end() || it->second != v) return false;
  }
  return true;
}

metav1::OwnerReference NewControllerRef(const google::protobuf::Message& owner) {
  const client::ResourceInfo& r = client::SharedInformerFactory::ResourceOfMessage(owner.GetDescriptor()->full_name());
  return api::NewControllerRef(MetaOf(owner), r.GroupVersion(), r.kind);
}

std::string AdoptPatch(const metav1::OwnerReference& ref, const std::string& object_uid) {
  std::string p = R"({"metadata":{"ownerReferences":[{"apiVersion":)";
  p += JsonString(ref.apiversion());
  p += R"(,"kind":)" + JsonString(ref.kind());
  p += R"(,"name":)" + JsonString(ref.name());
  p += R"(,"uid":)" + JsonString(ref.uid());
  p += R"(,"controller":true,"blockOwnerDeletion":true}],"uid":)" + JsonString(object_uid) + "}}";
  return p;
}

std::string ReleasePatch(const std::string& owner_uid, const std::string& object_uid) {
  return R"({"metadata":{"ownerReferences":[{"$patch":"delete","uid":)" + JsonString(owner_uid) +
         R"(}],"uid":)" + JsonString(object_uid) + "}}";
}

ControllerRefManager::ControllerRefManager(client::ApiClient& api, const google::protobuf::Message& owner,
                                           api::LabelSelector selector, const client::ResourceInfo& resource,
                                           std::function<Status()> can_adopt)
    : api_(api),
      ref_(NewControllerRef(owner)),
      owner_namespace_(MetaOf(owner).namespace_()),
      owner_deleting_(MetaOf(owner).has_deletiontimestamp()),
      selector_(std::move(selector)),
      resource_(resource),
      can_adopt_(std::move(can_adopt)) {}

Result<std::vector<client::ObjectPtr>> ControllerRefManager::Claim(const std::vector<client::ObjectPtr>& candidates) {
  std::vector<client::ObjectPtr> claimed;
  claimed.reserve(candidates.size());
  Status first_error;
  auto note = [&](const Status& s) {
    if (!s.ok() && s.code() != Code::kNotFound && first_error.ok()) first_error = s;
  };
  for (const client::ObjectPtr& object : candidates) {
    const metav1::ObjectMeta& meta = MetaOf(*object);
    const bool matches = selector_.Matches(meta.labels());
    if (const metav1::OwnerReference* controller = GetControllerOf(meta); controller != nullptr) {
      if (controller->uid() != ref_.uid()) continue;  // someone else's
      if (matches) {
        claimed.push_back(object);
        continue;
      }
      // Ours but no longer selected: release it, unless we are going away anyway (then the GC
      // decides, as upstream).
      if (owner_deleting_) continue;
      Result<client::ObjectPtr> released =
          api_.Patch(resource_, meta.namespace_(), meta.name(), client::PatchType::kStrategicMerge,
                     ReleasePatch(ref_.uid(), meta.uid()));
      if (!released.ok()) {
        // Invalid: the object changed uid (recreated) meanwhile; nothing of ours to release.
        if (released.status().code() != Code::kInvalid) note(released.status());
      } else {
        CK_VLOG(2, "Released object", "resource", resource_.resource, "object", client::KeyOf(*object), "owner",
                ref_.name());
      }
      continue;
    }
    // An orphan: adopt it when it matches, lives in our namespace and is not being deleted.
    if (owner_deleting_ || !matches || meta.has_deletiontimestamp()) continue;
    if (!owner_namespace_.empty() && meta.namespace_() != owner_namespace_) continue;
    if (!adopt_check_) adopt_check_ = can_adopt_ ? can_adopt_() : Status::Ok();
    if (!adopt_check_->ok()) {
      note(*adopt_check_);
      continue;
    }
    Result<client::ObjectPtr> adopted = api_.Patch(resource_, meta.namespace_(), meta.name(),
                                                   client::PatchType::kStrategicMerge, AdoptPatch(ref_, meta.uid()));
    if (!adopted.ok()) {
      note(adopted.status());
      continue;
    }
    CK_VLOG(2, "Adopted object", "resource", resource_.resource, "object", client::KeyOf(*object), "owner",
            ref_.name());
    claimed.push_back(*adopted);
  }
  if (!first_error.ok()) return first_error;
  return claimed;
}

std::function<Status()> RecheckDeletionTimestamp(client::ApiClient& api, const client::ResourceInfo& owner_resource,
                                                 std::string ns, std::string name, std::string uid) {
  return [&api, &owner_resource, ns = std::move(ns), name = std::move(name), uid = std::move(uid)]() -> Status {
    Result<client::ObjectPtr> fresh = api.Get(owner_resource, ns, name);
    if (!fresh.ok()) return fresh.status();
    const metav1::ObjectMeta& meta = MetaOf(**fresh);
    if (meta.uid() != uid) {
      return Status(Code::kConflict, "original " + owner_resource.kind + " " + ns + "/" + name +
                                         " is gone: got uid " + meta.uid() + ", wanted " + uid);
    }
    if (meta.has_deletiontimestamp()) {
      return Status(Code::kConflict,
                    ns + "/" + name + " has just been deleted at " +
                        api::FormatRfc3339(api::TimestampOf(meta.deletiontimestamp())));
    }
    return Status::Ok();
  };
}

}  // namespace ck::controller_manager
