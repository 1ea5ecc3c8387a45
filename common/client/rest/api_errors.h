// Turning the API server's error answers into ck::Status (apimachinery's errors package, client
// side): the Status body's `reason` picks the Code (NotFound, AlreadyExists, Conflict, Expired ->
// kGone, Invalid, Forbidden, ...), its `message` becomes the message, and answers without a
// Status body fall back to the HTTP status with upstream's generic messages ("the server could
// not find the requested resource"). Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "common/api/proto/meta_v1.pb.h"
#include "common/base/status.h"

namespace ck::client {

// The Code of a Kubernetes Status reason; nullopt for "" and unknown reasons.
std::optional<Code> CodeFromReason(std::string_view reason);
// The Code of an HTTP status: 404 kNotFound, 409 kConflict, 410 kGone, 422 kInvalid, 429
// kTooManyRequests, 503 kUnavailable, 504 kTimeout, other 4xx kBadRequest, other 5xx kInternal.
Code CodeFromHttpStatus(int http_status);

// A Status object (an error body or a watch ERROR event) as a ck::Status. The code comes from the
// reason, else from status.code, else from `http_status`; a Status with status "Success" and no
// error code is OK.
Status FromApiStatus(const ::k8s::io::apimachinery::pkg::apis::meta::v1::Status& status, int http_status = 0);

// The error of a non-2xx answer. A JSON Status body is decoded; any other body yields upstream's
// generic message for the HTTP status, with the body's first 256 bytes when it is text.
Status StatusFromResponse(int http_status, std::string_view body);

}  // namespace ck::client
