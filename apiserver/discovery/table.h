// Server-side printing: API objects as a meta.k8s.io/v1 Table, the form `kubectl get` asks for in
// its human-readable output (default, -o wide, -w).
//
// The columns and cell values are upstream's printers for each kind (pods: NAME READY STATUS
// RESTARTS AGE, then the wide IP NODE NOMINATED NODE READINESS GATES at priority 1, with the pod
// STATUS rules: Running, ContainerCreating, CrashLoopBackOff, Completed, Init:0/1, Terminating,
// ...). Every row carries `object`: PartialObjectMetadata by default, the full object with
// includeObject=Object (kubectl --sort-by), nothing with includeObject=None; without it kubectl
// cannot fill NAMESPACE (-A) or LABELS (shared/reference/kubectl-api.md §6, trap 5).
// Ages are computed against TableOptions::now, so callers inject time.
// Pure functions; thread-safe.
#pragma once

#include <google/protobuf/message.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/resources.h"
#include "common/base/clock.h"
#include "common/base/status.h"

namespace ck::apiserver::discovery {

// ?includeObject= of a Table request.
enum class IncludeObject { kMetadata, kObject, kNone };

// "" and "Metadata" -> kMetadata, "Object", "None"; BadRequest for anything else (upstream's
// wording: `includeObject: Unsupported value: "x"`).
Result<IncludeObject> ParseIncludeObject(std::string_view value);

// What the client asked for in Accept, beyond the plain object.
enum class OutputKind { kObject, kTable, kPartialObjectMetadata, kPartialObjectMetadataList };
struct OutputFormat {
  OutputKind kind = OutputKind::kObject;
  std::string api_version;  // "meta.k8s.io/v1" or "meta.k8s.io/v1beta1" when kind != kObject
};

// Negotiates the response form from Accept, in q order like upstream: the first JSON range with
// `as=Table;g=meta.k8s.io;v=v1|v1beta1` (or as=PartialObjectMetadata[List]) wins; a plain
// application/json (or */*) range first means the object itself. kubectl's
// `application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json`
// gives a v1 Table.
OutputFormat NegotiateOutput(std::string_view accept);

struct TableOptions {
  WallTime now;  // for the AGE and LAST SEEN cells
  IncludeObject include_object = IncludeObject::kMetadata;
  std::string api_version = "meta.k8s.io/v1";  // the Table's apiVersion (or meta.k8s.io/v1beta1)
  std::string resource_version;                // metadata.resourceVersion of the Table (the list's RV)
  std::string continue_token;                  // metadata.continue
  // false: "columnDefinitions" is left empty, as upstream does for watch events after the first.
  bool column_definitions = true;
};

struct TableColumn {
  std::string name;    // "Name", "Ready", "Nominated Node" (kubectl upper-cases it)
  std::string type;    // "string", "integer", "boolean", "date"
  std::string format;  // "name" for the name column, else ""
  std::string description;
  int priority = 0;  // 1: only with -o wide
};

// The columns ToTable writes for `resource` (upstream's printer for the kind, or NAME AGE).
std::vector<TableColumn> TableColumns(const ResourceInfo& resource);

// The Table JSON for `objects`, which must all be of resource.proto_type (BadRequest naming the
// first one that is not). Internal if the codec fails on an object.
Result<std::string> ToTable(const ResourceInfo& resource,
                            const std::vector<const google::protobuf::Message*>& objects,
                            const TableOptions& options);

// Go's k8s.io/apimachinery/pkg/util/duration.HumanDuration: "59s", "5m10s", "3h", "2d5h",
// "394d", "3y45d"; "<invalid>" for more than one second in the future.
std::string HumanDuration(std::chrono::nanoseconds d);

}  // namespace ck::apiserver::discovery
