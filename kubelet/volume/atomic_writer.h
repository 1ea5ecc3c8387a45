// AtomicWriter: writes a set of files into a volume directory so that a reader sees either the
// old set or the new one, never a mix (upstream pkg/volume/util/atomic_writer.go). Layout:
//   <dir>/..2026_01_01_00_00_00.XXXXXX/<files>   one timestamped directory per version
//   <dir>/..data -> ..2026_01_01_00_00_00.XXXXXX  swapped by rename(2) of a new symlink
//   <dir>/<name> -> ..data/<name>                 one user-visible link per top-level name
// A write whose payload equals what is on disk (contents and modes) changes nothing.
// Threading: one writer per directory at a time; readers may read concurrently.
#pragma once

#include <map>
#include <string>

#include "common/base/clock.h"
#include "common/base/status.h"

namespace ck::kubelet {

struct FileProjection {
  std::string data;
  int mode = 0644;
};

// Relative path ("key", "dir/key") -> contents.
using Payload = std::map<std::string, FileProjection>;

// Writes `payload` into `dir` (created when missing). `clock` names the timestamped directory.
// Invalid on a path that is absolute, empty or contains a ".." element; Internal on I/O errors.
// Returns whether anything changed through *changed (may be null).
Status AtomicWrite(const std::string& dir, const Payload& payload, const Clock& clock, bool* changed = nullptr);

}  // namespace ck::kubelet
