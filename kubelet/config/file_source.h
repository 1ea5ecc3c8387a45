// FileSource: the static pods of --pod-manifest-path (upstream pkg/kubelet/config file.go). The
// path is a directory or one file. In a directory every regular *.yaml, *.yml and *.json file is
// one Pod (hidden files and subdirectories are skipped); a single file is read whatever its name.
// Scan() reads the path and returns the complete set: a file whose bytes did not change keeps the
// pod it gave last time (so kubernetes.io/config.seen, the time a uid was first seen, stays put);
// a file that cannot be read or parsed is left out and named in `errors` (logged once per content);
// of two files giving the same namespace/name the first by path wins. A missing path is an empty set
// (an error); an empty path is an empty set (no error).
// Threading: not synchronized; one thread calls Scan at a time.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"

namespace ck::kubelet {

namespace corev1 = ::k8s::io::api::core::v1;

class FileSource {
 public:
  struct Snapshot {
    std::vector<std::shared_ptr<const corev1::Pod>> pods;  // sorted by manifest path
    std::vector<std::string> errors;                       // "<file>: <why>"
  };

  // `clock` stamps config.seen and must outlive the source.
  FileSource(std::string path, std::string node_name, Clock& clock);

  Snapshot Scan();

  const std::string& path() const { return path_; }

 private:
  struct File {
    std::string content;
    std::shared_ptr<const corev1::Pod> pod;  // null: the content did not parse
    std::string error;
  };
  // Manifest paths to read, sorted; an error text when the path itself cannot be listed.
  std::vector<std::string> ListManifests(std::string* error) const;
  // The file's entry, parsed again only when its bytes changed (*parsed_now says so).
  const File& Read(const std::string& file, std::string* read_error, bool* parsed_now);

  const std::string path_;
  const std::string node_name_;
  Clock& clock_;
  std::map<std::string, File> files_;        // by manifest path, from the last scan
  std::map<std::string, std::string> seen_;  // uid -> config.seen, for uids in the last scan
  std::string last_path_error_;              // logged once
};

}  // namespace ck::kubelet
