// ControllerRevision history (upstream pkg/controller/history), shared by the StatefulSet and
// DaemonSet controllers: each distinct template a parent ever had is one ControllerRevision
// named `<parent>-<hash>`, labelled with the parent's selector labels, owned by the parent, with
// a monotonically increasing `revision`. The hash (hash.h) covers the revision's data and the
// parent's collisionCount, so a name clash with different data bumps collisionCount and retries.
// Threading: the functions are pure; History is safe from any thread (the client is).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "common/api/proto/apps_v1.pb.h"
#include "common/base/status.h"
#include "common/client/api_client.h"

namespace ck::controller_manager {

namespace appsv1 = ::k8s::io::api::apps::v1;

// The label every revision carries with its hash (upstream ControllerRevisionHashLabel).
inline constexpr char kControllerRevisionHashLabel[] = "controller-revision-hash";

// The hash of a revision's data with `collision_count` mixed in (upstream: FNV-1 of the raw
// data followed by the count in decimal). Pass the parent's collisionCount both here and to Create.
std::string HashControllerRevision(const appsv1::ControllerRevision& revision,
                                   std::optional<int32_t> collision_count);
// A new (not yet created) revision of `parent`: data `data_json` (the patch the parent's
// controller uses to describe its template), labels `labels` plus the hash label, name
// `<parent name>-<hash>`, the parent's controller reference, `revision` number.
appsv1::ControllerRevision NewControllerRevision(const google::protobuf::Message& parent, std::string data_json,
                                                 const std::map<std::string, std::string>& labels, int64_t revision,
                                                 std::optional<int32_t> collision_count);
// Same data (byte-equal raw data; upstream also compares the hash label first).
bool EqualRevision(const appsv1::ControllerRevision& a, const appsv1::ControllerRevision& b);
// The revisions of `revisions` equal to `needle`.
std::vector<std::shared_ptr<const appsv1::ControllerRevision>> FindEqualRevisions(
    const std::vector<std::shared_ptr<const appsv1::ControllerRevision>>& revisions,
    const appsv1::ControllerRevision& needle);
// Sorts by revision, then creationTimestamp, then name (upstream byRevision).
void SortControllerRevisions(std::vector<std::shared_ptr<const appsv1::ControllerRevision>>& revisions);
// The next revision number: one more than the largest in `revisions` (1 when empty).
int64_t NextRevision(const std::vector<std::shared_ptr<const appsv1::ControllerRevision>>& revisions);

class History {
 public:
  explicit History(client::ApiClient& api) : api_(api) {}

  // Creates `revision` for `parent`. When a revision of that name exists with different data,
  // increments *collision_count, renames and retries (upstream CreateControllerRevision); when
  // it exists with equal data, returns the existing one.
  Result<std::shared_ptr<const appsv1::ControllerRevision>> Create(const google::protobuf::Message& parent,
                                                                   const appsv1::ControllerRevision& revision,
                                                                   int32_t* collision_count);
  // Sets the revision number of an existing revision (rolling back to an old template reuses it).
  Result<std::shared_ptr<const appsv1::ControllerRevision>> UpdateRevision(const appsv1::ControllerRevision& revision,
                                                                           int64_t new_revision);
  // Deletes it; NotFound counts as success.
  Status Delete(const appsv1::ControllerRevision& revision);

 private:
  client::ApiClient& api_;
};

}  // namespace ck::controller_manager
