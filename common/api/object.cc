#include "common/api/object.h"

#include <algorithm>

#include "common/base/check.h"
#include "common/base/strings.h"

namespace ck::api {

namespace {

// Every kind has its ObjectMeta `metadata` as field 1.
const google::protobuf::FieldDescriptor* FindMetadataField(const google::protobuf::Message& m) {
  const auto* f = m.GetDescriptor()->FindFieldByNumber(1);
  if (f && f->name() == "metadata" && !f->is_repeated() && f->message_type() == metav1::ObjectMeta::descriptor()) {
    return f;
  }
  return nullptr;
}

const google::protobuf::FieldDescriptor* MetadataField(const google::protobuf::Message& m) {
  const auto* f = FindMetadataField(m);
  CK_CHECK(f) << m.GetDescriptor()->full_name() << " has no ObjectMeta metadata field";
  return f;
}

}  // namespace

const metav1::ObjectMeta& MetaOf(const google::protobuf::Message& object) {
  const auto* f = MetadataField(object);
  return static_cast<const metav1::ObjectMeta&>(object.GetReflection()->GetMessage(object, f));
}

const metav1::ObjectMeta* FindMeta(const google::protobuf::Message& object) {
  const auto* f = FindMetadataField(object);
  if (f == nullptr) return nullptr;
  return static_cast<const metav1::ObjectMeta*>(&object.GetReflection()->GetMessage(object, f));
}

metav1::ObjectMeta* MutableMetaOf(google::protobuf::Message* object) {
  const auto* f = MetadataField(*object);
  return static_cast<metav1::ObjectMeta*>(object->GetReflection()->MutableMessage(object, f));
}


std::string ObjectKey(std::string_view ns, std::string_view name) {
  if (ns.empty()) return std::string(name);
  std::string key;
  key.reserve(ns.size() + 1 + name.size());
  key.append(ns);
  key += '/';
  key.append(name);
  return key;
}

std::string ObjectKey(const metav1::ObjectMeta& meta) { return ObjectKey(meta.namespace_(), meta.name()); }

Result<std::pair<std::string, std::string>> SplitObjectKey(std::string_view key) {
  std::vector<std::string_view> parts = Split(key, '/');
  if (parts.size() == 1) return std::make_pair(std::string(), std::string(parts[0]));
  if (parts.size() == 2) return std::make_pair(std::string(parts[0]), std::string(parts[1]));
  return BadRequest("unexpected key format: " + JsonString(key));
}

const metav1::OwnerReference* GetControllerOf(const metav1::ObjectMeta& meta) {
  for (const metav1::OwnerReference& r : meta.ownerreferences()) {
    if (r.controller()) return &r;
  }
  return nullptr;
}

bool IsControlledBy(const metav1::ObjectMeta& meta, std::string_view owner_uid) {
  const metav1::OwnerReference* r = GetControllerOf(meta);
  return r != nullptr && r->uid() == owner_uid;
}

bool HasOwnerReference(const metav1::ObjectMeta& meta, std::string_view owner_uid) {
  return std::any_of(meta.ownerreferences().begin(), meta.ownerreferences().end(),
                     [&](const metav1::OwnerReference& r) { return r.uid() == owner_uid; });
}

metav1::OwnerReference NewControllerRef(const metav1::ObjectMeta& owner, std::string_view api_version,
                                        std::string_view kind) {
  metav1::OwnerReference r;
  r.set_apiversion(std::string(api_version));
  r.set_kind(std::string(kind));
  r.set_name(owner.name());
  r.set_uid(owner.uid());
  r.set_controller(true);
  r.set_blockownerdeletion(true);
  return r;
}

Status SetControllerReference(const metav1::ObjectMeta& owner, std::string_view api_version, std::string_view kind,
                              metav1::ObjectMeta* object) {
  const metav1::OwnerReference* existing = GetControllerOf(*object);
  if (existing != nullptr && existing->uid() != owner.uid()) {
    return Conflict("Object " + ObjectKey(*object) + " is already owned by another " + existing->kind() +
                    " controller " + existing->name());
  }
  metav1::OwnerReference ref = NewControllerRef(owner, api_version, kind);
  for (metav1::OwnerReference& r : *object->mutable_ownerreferences()) {
    if (r.uid() == owner.uid()) {
      r = std::move(ref);
      return Status::Ok();
    }
  }
  *object->add_ownerreferences() = std::move(ref);
  return Status::Ok();
}

bool RemoveOwnerReference(metav1::ObjectMeta* meta, std::string_view owner_uid) {
  auto* refs = meta->mutable_ownerreferences();
  int before = refs->size();
  refs->erase(std::remove_if(refs->begin(), refs->end(),
                             [&](const metav1::OwnerReference& r) { return r.uid() == owner_uid; }),
              refs->end());
  return refs->size() != before;
}

bool IsZeroTime(const metav1::Time& t) {
  return (!t.has_seconds() && !t.has_nanos()) || (t.seconds() == kGoZeroTimeSeconds && t.nanos() == 0);
}

Timestamp TimestampOf(const metav1::Time& t) { return Timestamp{t.seconds(), t.nanos()}; }

WallTime WallTimeOf(const metav1::Time& t) { return FromTimestamp(TimestampOf(t)); }

void SetTime(metav1::Time* t, WallTime when) {
  Timestamp ts = ToTimestamp(when);
  t->set_seconds(ts.seconds);
  t->set_nanos(ts.nanos);
}

void SetWholeSeconds(metav1::Time* t, WallTime when) {
  t->set_seconds(std::chrono::floor<std::chrono::seconds>(when.time_since_epoch()).count());
  t->clear_nanos();
}

void SetMicroTime(metav1::MicroTime* t, WallTime when) {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(when.time_since_epoch()).count();
  int64_t seconds = micros / 1000000;
  int64_t rest = micros % 1000000;
  if (rest < 0) {
    rest += 1000000;
    --seconds;
  }
  t->set_seconds(seconds);
  t->set_nanos(static_cast<int32_t>(rest * 1000));
}

metav1::Time MakeTime(WallTime when) {
  metav1::Time t;
  SetTime(&t, when);
  return t;
}

metav1::Time Now(const Clock& clock) { return MakeTime(clock.Now()); }

}  // namespace ck::api
