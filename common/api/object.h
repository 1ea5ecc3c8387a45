// Object helpers every controller uses: namespace/name keys, owner references, metav1.Time
// conversions. Mirrors client-go's cache.MetaNamespaceKeyFunc / SplitMetaNamespaceKey and
// apimachinery's metav1.GetControllerOf / NewControllerRef / controllerutil.SetControllerReference.
// Pure functions on the messages passed in; thread-safe as long as the messages are not shared
// with a writer.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <google/protobuf/message.h>

#include "common/api/proto/meta_v1.pb.h"
#include "common/api/time_format.h"
#include "common/base/clock.h"
#include "common/base/status.h"

namespace ck::api {

namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;

// The ObjectMeta of any API object (every kind, and PartialObjectMetadata, has `metadata` as
// field 1), reached through reflection. CK_CHECKs that the message has it.
const metav1::ObjectMeta& MetaOf(const google::protobuf::Message& object);
// The same, or nullptr for a message without ObjectMeta metadata (lists, Status, ...).
const metav1::ObjectMeta* FindMeta(const google::protobuf::Message& object);
metav1::ObjectMeta* MutableMetaOf(google::protobuf::Message* object);

// "ns/name", or "name" for a cluster-scoped object: the key of informers and work queues.
std::string ObjectKey(const metav1::ObjectMeta& meta);
std::string ObjectKey(std::string_view ns, std::string_view name);
// The inverse: {"", name} or {ns, name}; BadRequest `unexpected key format: "a/b/c"`.
Result<std::pair<std::string, std::string>> SplitObjectKey(std::string_view key);

// The owner reference with controller=true, or nullptr.
const metav1::OwnerReference* GetControllerOf(const metav1::ObjectMeta& meta);
// True when `meta` has a controller reference to the object with `owner_uid`.
bool IsControlledBy(const metav1::ObjectMeta& meta, std::string_view owner_uid);
bool HasOwnerReference(const metav1::ObjectMeta& meta, std::string_view owner_uid);
// {apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true} for `owner`.
metav1::OwnerReference NewControllerRef(const metav1::ObjectMeta& owner, std::string_view api_version,
                                        std::string_view kind);
// Makes `owner` the controller of `object`. Conflict when another controller already owns it:
// `Object shop/web-1 is already owned by another ReplicaSet controller web-abc`. Replaces an
// existing reference to the same owner (same uid) instead of adding a second one.
Status SetControllerReference(const metav1::ObjectMeta& owner, std::string_view api_version, std::string_view kind,
                              metav1::ObjectMeta* object);
// Removes every reference to `owner_uid`; returns whether one was removed.
bool RemoveOwnerReference(metav1::ObjectMeta* meta, std::string_view owner_uid);

// metav1.Time helpers. An unset (or empty) Time is Go's zero time.
bool IsZeroTime(const metav1::Time& t);
Timestamp TimestampOf(const metav1::Time& t);
WallTime WallTimeOf(const metav1::Time& t);
void SetTime(metav1::Time* t, WallTime when);
// metav1.Time as the wire carries it, whole seconds, so that what is kept in memory round-trips
// through JSON patches unchanged.
void SetWholeSeconds(metav1::Time* t, WallTime when);
// metav1.MicroTime (Lease renewTime, Event eventTime): microsecond precision.
void SetMicroTime(metav1::MicroTime* t, WallTime when);
metav1::Time MakeTime(WallTime when);
// metav1.Now(): the clock's time.
metav1::Time Now(const Clock& clock);

}  // namespace ck::api
