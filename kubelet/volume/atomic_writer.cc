// AtomicWrite: see atomic_writer.h. Order of steps as upstream's AtomicWriter.Write: write the new
// timestamped directory, swap ..data, add new user-visible links, drop stale ones, remove the old
// directory.
#include "kubelet/volume/atomic_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <set>
#include <system_error>
#include <vector>

#include "common/base/strings.h"

namespace ck::kubelet {
namespace {

namespace fs = std::filesystem;

constexpr char kDataDir[] = "..data";
constexpr char kDataDirTmp[] = "..data_tmp";

Status Errno(const std::string& what, const std::string& path) {
  return Internal(what + " " + path + ": " + std::strerror(errno));
}

Status ValidatePath(const std::string& path) {
  if (path.empty()) return Invalid("invalid path: must not be empty");
  if (path[0] == '/') return Invalid("invalid path: must be relative path: " + path);
  for (std::string_view part : Split(path, '/')) {
    if (part == "..") return Invalid("invalid path: must not contain '..': " + path);
    if (part.empty()) return Invalid("invalid path: must not contain empty elements: " + path);
  }
  if (path.rfind("..", 0) == 0) return Invalid("invalid path: must not start with '..': " + path);
  return Status::Ok();
}

std::string FirstElement(const std::string& path) { return path.substr(0, path.find('/')); }

bool ReadFile(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return n == 0;
    }
    out->append(buf, static_cast<size_t>(n));
  }
}

// Regular files under `root`, relative paths.
std::set<std::string> ListFiles(const std::string& root) {
  std::set<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) out.insert(fs::relative(it->path(), root, ec).string());
  }
  return out;
}

// True when the directory `ts` holds exactly `payload` with the same modes.
bool SameAsOnDisk(const std::string& ts, const Payload& payload) {
  if (ListFiles(ts).size() != payload.size()) return false;
  for (const auto& [path, file] : payload) {
    std::string full = ts + "/" + path, data;
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    if (static_cast<int>(st.st_mode & 07777) != (file.mode & 07777)) return false;
    if (!ReadFile(full, &data) || data != file.data) return false;
  }
  return true;
}

Status WriteFile(const std::string& path, const FileProjection& file) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("open", path);
  size_t off = 0;
  while (off < file.data.size()) {
    ssize_t n = ::write(fd, file.data.data() + off, file.data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = Errno("write", path);
      ::close(fd);
      return s;
    }
    off += static_cast<size_t>(n);
  }
  // fchmod after writing: the mode must not depend on the umask.
  if (::fchmod(fd, static_cast<mode_t>(file.mode & 07777)) != 0) {
    Status s = Errno("chmod", path);
    ::close(fd);
    return s;
  }
  if (::close(fd) != 0) return Errno("close", path);
  return Status::Ok();
}

std::string TimestampDirTemplate(const Clock& clock) {
  std::time_t t = std::chrono::system_clock::to_time_t(clock.Now());
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "..%Y_%m_%d_%H_%M_%S.", &tm);
  return std::string(buf) + "XXXXXX";
}

}  // namespace

Status AtomicWrite(const std::string& dir, const Payload& payload, const Clock& clock, bool* changed) {
  if (changed != nullptr) *changed = false;
  std::set<std::string> visible;
  for (const auto& [path, file] : payload) {
    CK_RETURN_IF_ERROR(ValidatePath(path));
    visible.insert(FirstElement(path));
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal("mkdir " + dir + ": " + ec.message());

  const std::string data_link = dir + "/" + kDataDir;
  std::string old_ts;
  {
    char buf[4096];
    ssize_t n = ::readlink(data_link.c_str(), buf, sizeof(buf) - 1);
    if (n > 0) old_ts = std::string(buf, static_cast<size_t>(n));
  }

  // Which user-visible links exist now (every symlink that points into ..data).
  std::set<std::string> old_visible;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("..", 0) == 0) continue;
    if (entry.is_symlink(ec)) old_visible.insert(name);
  }

  bool write = old_ts.empty() || !SameAsOnDisk(dir + "/" + old_ts, payload);
  if (!write && old_visible == visible) return Status::Ok();

  if (write) {
    std::string tmpl = dir + "/" + TimestampDirTemplate(clock);
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) return Errno("mkdtemp", tmpl);
    std::string ts_path(buf.data());
    if (::chmod(ts_path.c_str(), 0755) != 0) return Errno("chmod", ts_path);
    std::string ts_name = fs::path(ts_path).filename().string();
    for (const auto& [path, file] : payload) {
      std::string full = ts_path + "/" + path;
      fs::path parent = fs::path(full).parent_path();
      if (parent != fs::path(ts_path)) {
        fs::create_directories(parent, ec);
        if (ec) return Internal("mkdir " + parent.string() + ": " + ec.message());
      }
      CK_RETURN_IF_ERROR(WriteFile(full, file));
    }
    // The swap: a new symlink renamed over ..data is atomic for readers.
    const std::string tmp_link = dir + "/" + kDataDirTmp;
    ::unlink(tmp_link.c_str());
    if (::symlink(ts_name.c_str(), tmp_link.c_str()) != 0) return Errno("symlink", tmp_link);
    if (::rename(tmp_link.c_str(), data_link.c_str()) != 0) return Errno("rename", tmp_link);
  }

  for (const std::string& name : visible) {
    std::string link = dir + "/" + name;
    struct stat st;
    if (::lstat(link.c_str(), &st) == 0) continue;
    std::string target = std::string(kDataDir) + "/" + name;
    if (::symlink(target.c_str(), link.c_str()) != 0) return Errno("symlink", link);
  }
  for (const std::string& name : old_visible) {
    if (visible.count(name) == 0) ::unlink((dir + "/" + name).c_str());
  }
  if (write && !old_ts.empty() && old_ts.find('/') == std::string::npos && old_ts.rfind("..", 0) == 0) {
    fs::remove_all(dir + "/" + old_ts, ec);  // remove_all never follows symlinks
  }
  if (changed != nullptr) *changed = write;
  return Status::Ok();
}

}  // namespace ck::kubelet
