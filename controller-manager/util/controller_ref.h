// Owner references between controllers and what they own (upstream controller_ref_manager):
// building a controller reference, finding an object's controller, and claiming objects —
// adopting matching orphans and releasing owned objects that no longer match the selector.
// Adoption and release are strategic-merge patches of metadata.ownerReferences (merged by uid)
// with the object's uid as a precondition, so they never touch a recreated namesake.
// Threading: ControllerRefManager is used by one Sync at a time; the functions are pure.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "common/api/label_selector.h"
#include "common/api/object.h"
#include "common/api/proto/meta_v1.pb.h"
#include "common/base/status.h"
#include "common/client/api_client.h"

namespace ck::controller_manager {

namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;

// MetaOf (the ObjectMeta of any kind), GetControllerOf (the controller=true reference or
// nullptr), IsControlledBy(meta, uid): common/api/object.h's, usable here unqualified.
using api::GetControllerOf;
using api::IsControlledBy;
using api::MetaOf;

// Whether two controller references (either may be nullptr) are the same, field by field; event
// handlers use it to see that a pod changed hands.
bool SameControllerRef(const metav1::OwnerReference* a, const metav1::OwnerReference* b);
// Whether two label maps are equal, compared in place (it runs on every pod update).
bool SameLabels(const google::protobuf::Map<std::string, std::string>& a,
                const google::protobuf::Map<std::string, std::string>& b);

// The ownerReference naming `owner` as controller: apiVersion/kind from the resource table,
// name, uid, controller=true, blockOwnerDeletion=true (upstream NewControllerRef).
metav1::OwnerReference NewControllerRef(const google::protobuf::Message& owner);

// The patch bodies (strategic merge) ControllerRefManager sends; exposed for other owners.
std::string AdoptPatch(const metav1::OwnerReference& ref, const std::string& object_uid);
std::string ReleasePatch(const std::string& owner_uid, const std::string& object_uid);

class ControllerRefManager {
 public:
  // `owner` is the controller object (a Deployment, ReplicaSet, ...) as the lister returned it;
  // `resource` is the owned kind's resource (pods, replicasets, controllerrevisions).
  // `can_adopt` is consulted once, before the first adoption (upstream RecheckDeletionTimestamp:
  // a fresh GET of the owner that fails when it is being deleted or was replaced).
  ControllerRefManager(client::ApiClient& api, const google::protobuf::Message& owner, api::LabelSelector selector,
                       const client::ResourceInfo& resource, std::function<Status()> can_adopt);

  // Returns the objects of `candidates` the owner controls after claiming: owned and matching
  // (kept), orphans that match and are not being deleted (adopted), and not owned ones that no
  // longer match are released. Objects controlled by someone else are left alone. An adoption
  // that fails because the object is gone is skipped; any other failure is returned after the
  // remaining candidates were processed.
  Result<std::vector<client::ObjectPtr>> Claim(const std::vector<client::ObjectPtr>& candidates);

 private:
  client::ApiClient& api_;
  metav1::OwnerReference ref_;
  std::string owner_namespace_;
  bool owner_deleting_;
  api::LabelSelector selector_;
  const client::ResourceInfo& resource_;
  std::function<Status()> can_adopt_;
  std::optional<Status> adopt_check_;  // the first can_adopt_ answer
};

// A can_adopt for ControllerRefManager: GETs the owner through `api` (uncached) and fails when it
// is gone, has another uid, or has a deletionTimestamp.
std::function<Status()> RecheckDeletionTimestamp(client::ApiClient& api, const client::ResourceInfo& owner_resource,
                                                 std::string ns, std::string name, std::string uid);

}  // namespace ck::controller_manager
