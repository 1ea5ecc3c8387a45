// The PATCH engine of ck-apiserver: applies the three patch types of kube-apiserver to the JSON of
// the current object.
//
// The REST handler encodes the stored object to Kubernetes JSON (common/api codec), calls one of
// these functions with the request body, and decodes the result with the codec, which then
// defaults, validates and stores it like an update. Behaviour is upstream's, including its quirks
// and error texts: RFC 6902 JSON patch and RFC 7386 merge patch as evanphx/json-patch v4 applies
// them, and strategic merge patch as k8s.io/apimachinery/pkg/util/strategicpatch applies it with
// the `patchStrategy`/`patchMergeKey` tags of the built-in types (patch_meta.h). Each Status
// carries the HTTP code kube-apiserver answers with: 400 for a malformed body, 413 for too many
// operations, 422 for a JSON patch that does not apply, 500 where upstream returns a plain error.
// Bounded work: the body is limited to 3 MiB by the caller, nesting to 1000 levels, JSON patch to
// 10000 operations and 3 MiB of copied values. Pure functions, safe from any thread.
#pragma once

#include <google/protobuf/descriptor.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ck::apiserver::patch {

// maxJSONPatchOperations of kube-apiserver's patch handler.
inline constexpr int kMaxJsonPatchOperations = 10000;
// JSONPatchMaxCopyBytes of kube-apiserver's config: the bytes "copy" operations may add.
inline constexpr int64_t kMaxJsonPatchCopyBytes = 3 * 1024 * 1024;

// application/json-patch+json. Returns the patched document (compact JSON). Errors:
// BadRequest when `patch` is not a JSON array of objects (Go's decoding message);
// RequestEntityTooLarge beyond kMaxJsonPatchOperations ("The allowed maximum operations in a
// JSON patch is 10000, got 10001"); Invalid (422) when an operation fails, with
// evanphx/json-patch's message ("testing value /spec/replicas failed: test failed").
Result<std::string> ApplyJsonPatch(std::string_view original_json, std::string_view patch);

// application/merge-patch+json. Errors: BadRequest "Invalid JSON Patch" for a patch that is not
// JSON or is a scalar; Internal "Invalid JSON Document" when `original_json` is not JSON.
Result<std::string> ApplyMergePatch(std::string_view original_json, std::string_view patch);

// application/strategic-merge-patch+json for an object of message type `type` (the kind's
// descriptor; nullptr merges without list strategies). Lists tagged `patchStrategy:"merge"` merge
// by their merge key, scalar lists with that tag merge as sets, other lists are replaced; the
// directives $patch (replace/delete), $retainKeys, $setElementOrder/<list> and
// $deleteFromPrimitiveList/<list> apply; null deletes a key. Keys the schema does not know are
// merged without list strategies. Errors: BadRequest for a malformed body or a malformed
// directive list, Invalid for lists of lists, Internal for the rest (unknown $patch value,
// missing merge key, ...), each with upstream's message.
Result<std::string> ApplyStrategicMergePatch(std::string_view original_json, std::string_view patch,
                                             const google::protobuf::Descriptor* type);

}  // namespace ck::apiserver::patch
