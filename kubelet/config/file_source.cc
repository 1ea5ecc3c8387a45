#include "kubelet/config/file_source.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/base/log.h"
#include "kubelet/config/static_pod.h"
#include "kubelet/pod/mirror_pod.h"

namespace ck::kubelet {

namespace fs = std::filesystem;

namespace {

bool IsManifestName(const std::string& name) {
  if (name.empty() || name[0] == '.') return false;  // upstream skips hidden files
  for (const char* ext : {".yaml", ".yml", ".json"}) {
    if (name.ends_with(ext)) return true;
  }
  return false;
}

}  // namespace

FileSource::FileSource(std::string path, std::string node_name, Clock& clock)
    : path_(std::move(path)), node_name_(std::move(node_name)), clock_(clock) {}

std::vector<std::string> FileSource::ListManifests(std::string* error) const {
  std::vector<std::string> out;
  if (path_.empty()) return out;  // no --pod-manifest-path: no static pods
  std::error_code ec;
  fs::file_status st = fs::status(path_, ec);
  if (ec || !fs::exists(st)) {
    *error = ec && ec != std::errc::no_such_file_or_directory ? ec.message() : "path does not exist, ignoring";
    return out;
  }
  if (fs::is_regular_file(st)) {
    out.push_back(path_);
    return out;
  }
  if (!fs::is_directory(st)) {
    *error = "path is not a directory or regular file";
    return out;
  }
  for (fs::directory_iterator it(path_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!IsManifestName(name)) continue;
    std::error_code fec;
    if (!it->is_regular_file(fec)) continue;  // subdirectories are not recursed into
    out.push_back(it->path().string());
  }
  if (ec) *error = ec.message();
  std::sort(out.begin(), out.end());
  return out;
}

const FileSource::File& FileSource::Read(const std::string& file, std::string* read_error, bool* parsed_now) {
  *parsed_now = false;
  std::ifstream in(file, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in.good() && !in.eof()) {
    *read_error = "could not read the file";
    static const File kUnreadable{};
    return kUnreadable;
  }
  std::string content = buf.str();
  auto it = files_.find(file);
  if (it != files_.end() && it->second.content == content) return it->second;
  *parsed_now = true;
  File f;
  f.content = std::move(content);
  Result<corev1::Pod> pod = ParseStaticPod(f.content, file, node_name_);
  if (pod.ok()) {
    f.pod = std::make_shared<const corev1::Pod>(std::move(*pod));
  } else {
    f.error = pod.status().message();
    CK_LOG_WARNING("Could not process manifest file", "path", file, "err", f.error);
  }
  return files_[file] = std::move(f);
}

FileSource::Snapshot FileSource::Scan() {
  Snapshot out;
  std::string path_error;
  std::vector<std::string> manifests = ListManifests(&path_error);
  if (!path_error.empty()) {
    if (path_error != last_path_error_) CK_LOG_WARNING("Unable to read config path", "path", path_, "err", path_error);
    out.errors.push_back(path_ + ": " + path_error);
  }
  last_path_error_ = path_error;

  std::map<std::string, File> kept;
  std::map<std::string, std::string> seen;
  std::set<std::string> names;
  for (const std::string& file : manifests) {
    std::string read_error;
    bool parsed_now = false;
    const File& f = Read(file, &read_error, &parsed_now);
    if (!read_error.empty()) {
      out.errors.push_back(file + ": " + read_error);
      continue;
    }
    kept[file] = f;
    if (f.pod == nullptr) {
      out.errors.push_back(file + ": " + f.error);
      continue;
    }
    const std::string full_name = PodFullName(*f.pod);
    if (!names.insert(full_name).second) {
      std::string why = "duplicate pod " + full_name + " (a manifest earlier by name defines it)";
      if (parsed_now) CK_LOG_WARNING("Could not process manifest file", "path", file, "err", why);
      out.errors.push_back(file + ": " + why);
      continue;
    }
    const std::string& uid = f.pod->metadata().uid();
    auto s = seen_.find(uid);
    std::string stamp = s != seen_.end() ? s->second : FormatRfc3339Nano(clock_.Now());
    seen[uid] = stamp;
    auto annotated = f.pod->metadata().annotations().find(std::string(kConfigFirstSeenAnnotation));
    if (annotated == f.pod->metadata().annotations().end() || annotated->second != stamp) {
      auto copy = std::make_shared<corev1::Pod>(*f.pod);
      (*copy->mutable_metadata()->mutable_annotations())[std::string(kConfigFirstSeenAnnotation)] = stamp;
      kept[file].pod = copy;
    }
    out.pods.push_back(kept[file].pod);
  }
  files_.swap(kept);
  seen_.swap(seen);
  return out;
}

}  // namespace ck::kubelet
