#include "kubelet/logs/log_reader.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace ck::kubelet::logs {
namespace {

constexpr size_t kReadBlock = 256 * 1024;
// A line longer than this is not a CRI entry anyone wrote (containerd and ck-shim split at
// 16 KiB); it is skipped as malformed rather than buffered without bound.
constexpr size_t kMaxLineBytes = 8 * 1024 * 1024;
constexpr size_t kOutputChunk = 64 * 1024;
constexpr int kFollowPollMs = 100;
// Enough of a line to hold `<time> <stream> <tag> ` (a time with nanoseconds and an offset is 35).
constexpr size_t kHeaderBytes = 64;

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Reset(-1); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Reset(int fd) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

Result<int> OpenLog(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) return fd;
  if (errno == ENOENT) return NotFound("log file " + path + " does not exist");
  return Internal(Errno("opening log file " + path));
}

bool Digits(std::string_view s, size_t pos, size_t n, int64_t* out) {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    unsigned d = static_cast<unsigned char>(s[i]) - '0';
    if (d > 9) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Walks a file and watches it for growth (inotify), for ScanCriLog.
class Follower {
 public:
  explicit Follower(std::string path) : path_(std::move(path)) {}

  Status Open(int64_t offset) {
    CK_ASSIGN_OR_RETURN(int fd, OpenLog(path_));
    fd_.Reset(fd);
    struct stat st;
    if (fstat(fd, &st) != 0) return Internal(Errno("stat " + path_));
    pos_ = offset < 0 ? st.st_size : std::min<int64_t>(offset, st.st_size);
    return Status::Ok();
  }

  Status Watch() {
    inotify_.Reset(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (inotify_.get() >= 0) {
      // The watch is on the inode, so a rotated file is watched until it is reopened.
      inotify_add_watch(inotify_.get(), path_.c_str(), IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF);
    }
    return Status::Ok();
  }

  // Reads what follows pos_ into buf; 0 at the end of the file.
  Result<size_t> Read(char* buf, size_t n) {
    while (true) {
      ssize_t got = pread(fd_.get(), buf, n, pos_);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return Internal(Errno("reading " + path_));
      pos_ += got;
      return static_cast<size_t>(got);
    }
  }

  // Waits up to kFollowPollMs for the file to change. Returns true when reading must restart at
  // offset 0 of a new or truncated file (the caller drops its partial line).
  bool WaitForChange() {
    if (inotify_.get() >= 0) {
      struct pollfd p = {inotify_.get(), POLLIN, 0};
      if (poll(&p, 1, kFollowPollMs) > 0) {
        char events[4096];
        while (read(inotify_.get(), events, sizeof events) > 0) {
        }
      }
    } else {
      poll(nullptr, 0, kFollowPollMs);
    }
    struct stat open_st, path_st;
    if (fstat(fd_.get(), &open_st) == 0 && open_st.st_size < pos_) {
      pos_ = 0;  // truncated (copytruncate rotation): the new content starts at 0
      return true;
    }
    if (stat(path_.c_str(), &path_st) == 0 && (path_st.st_ino != open_st.st_ino || path_st.st_dev != open_st.st_dev)) {
      // A new file at the path (rotation by rename): the old one was drained before this wait.
      int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        fd_.Reset(fd);
        pos_ = 0;
        Watch().IgnoreError();
        return true;
      }
    }
    return false;
  }

 private:
  std::string path_;
  Fd fd_;
  Fd inotify_;
  int64_t pos_ = 0;
};

// Accumulates output into ~64 KiB chunks for the sink and enforces limitBytes.
class ChunkWriter {
 public:
  ChunkWriter(const std::function<bool(std::string_view)>& sink, std::optional<int64_t> limit)
      : sink_(sink), remain_(limit.value_or(-1)) {
    out_.reserve(kOutputChunk + 16 * 1024);
  }
  // False once the limit is reached or the sink is gone.
  bool Append(std::string_view s) {
    if (remain_ >= 0 && static_cast<int64_t>(s.size()) >= remain_) {
      out_.append(s.data(), static_cast<size_t>(remain_));
      remain_ = 0;
      Flush();
      return false;
    }
    if (remain_ > 0) remain_ -= static_cast<int64_t>(s.size());
    out_.append(s);
    if (out_.size() >= kOutputChunk) return Flush();
    return true;
  }
  bool Append(char c) { return Append(std::string_view(&c, 1)); }
  bool Flush() {
    if (!out_.empty()) {
      ok_ = ok_ && sink_(out_);
      out_.clear();
    }
    return ok_ && remain_ != 0;
  }

 private:
  const std::function<bool(std::string_view)>& sink_;
  std::string out_;
  int64_t remain_;  // -1: no limit
  bool ok_ = true;
};

}  // namespace

std::optional<int64_t> ParseRfc3339Nanos(std::string_view s) {
  int64_t year, month, day, hour, minute, second;
  if (s.size() < 20 || !Digits(s, 0, 4, &year) || s[4] != '-' || !Digits(s, 5, 2, &month) || s[7] != '-' ||
      !Digits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't') || !Digits(s, 11, 2, &hour) || s[13] != ':' ||
      !Digits(s, 14, 2, &minute) || s[16] != ':' || !Digits(s, 17, 2, &second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  size_t i = 19;
  int64_t nanos = 0;
  if (s[i] == '.') {
    size_t start = ++i;
    int64_t scale = 100000000;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (i - start < 9) nanos += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return std::nullopt;
  }
  int64_t offset_s = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int64_t oh, om;
    if (!Digits(s, i + 1, 2, &oh) || i + 3 >= s.size() || s[i + 3] != ':' || !Digits(s, i + 4, 2, &om)) {
      return std::nullopt;
    }
    offset_s = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  int64_t secs = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  return secs * 1000000000 + nanos;
}

bool ParseCriEntry(std::string_view line, CriEntry* e) {
  const char* p = line.data();
  const char* end = p + line.size();
  const char* sp1 = static_cast<const char*>(memchr(p, ' ', line.size()));
  if (sp1 == nullptr) return false;
  e->time = std::string_view(p, sp1 - p);
  // "stdout " and "stderr " have the same length; the tag starts right after.
  const char* stream = sp1 + 1;
  if (end - stream < 8 || stream[6] != ' ') return false;
  if (std::memcmp(stream, "stdout", 6) == 0) {
    e->is_stderr = false;
  } else if (std::memcmp(stream, "stderr", 6) == 0) {
    e->is_stderr = true;
  } else {
    return false;
  }
  const char* tag = stream + 7;
  const char* tag_end = static_cast<const char*>(memchr(tag, ' ', end - tag));
  if (tag_end == nullptr) tag_end = end;  // no content at all: an empty entry
  // The first ':'-separated tag is P or F.
  if (tag_end == tag || (tag_end - tag > 1 && tag[1] != ':')) return false;
  if (tag[0] == 'P') {
    e->partial = true;
  } else if (tag[0] == 'F') {
    e->partial = false;
  } else {
    return false;
  }
  e->content = tag_end == end ? std::string_view() : std::string_view(tag_end + 1, end - tag_end - 1);
  return ParseRfc3339Nanos(e->time).has_value();
}

Status ScanCriLog(const std::string& path, int64_t offset, bool follow,
                  const std::function<bool(const CriEntry&)>& on_entry, const std::function<bool()>& on_burst,
                  const std::function<bool()>& keep_following) {
  Follower file(path);
  CK_RETURN_IF_ERROR(file.Open(offset));
  if (follow) CK_RETURN_IF_ERROR(file.Watch());

  size_t cap = 2 * kReadBlock;
  std::unique_ptr<char[]> buf(new char[cap]);
  size_t start = 0, end = 0;  // unparsed bytes are buf[start, end)
  bool skipping = false;      // dropping the rest of an over-long line
  CriEntry entry;
  // Parses the complete lines in the buffer; false when a callback asked to stop.
  auto parse_lines = [&]() -> bool {
    while (start < end) {
      const char* nl = static_cast<const char*>(memchr(buf.get() + start, '\n', end - start));
      if (nl == nullptr) break;
      size_t line_end = nl - buf.get();
      if (skipping) {
        skipping = false;
      } else if (ParseCriEntry(std::string_view(buf.get() + start, line_end - start), &entry) && !on_entry(entry)) {
        start = line_end + 1;
        return false;
      }
      start = line_end + 1;
    }
    return true;
  };
  // Reads until a read comes back short (the end of the file for now); false on stop.
  auto burst = [&]() -> Result<bool> {
    while (true) {
      if (cap - end < kReadBlock && start > 0) {
        std::memmove(buf.get(), buf.get() + start, end - start);
        end -= start;
        start = 0;
      }
      if (end == cap) {
        if (cap < kMaxLineBytes) {
          std::unique_ptr<char[]> bigger(new char[cap * 2]);
          std::memcpy(bigger.get(), buf.get(), end);
          buf = std::move(bigger);
          cap *= 2;
        } else {
          start = end = 0;
          skipping = true;
        }
      }
      const size_t room = cap - end;
      CK_ASSIGN_OR_RETURN(size_t got, file.Read(buf.get() + end, room));
      end += got;
      if (!parse_lines()) return false;
      if (got < room) return on_burst();
    }
  };

  while (true) {
    // Decided before the burst, so the burst drains what was written up to this moment.
    const bool last = !follow || !keep_following();
    CK_ASSIGN_OR_RETURN(bool go_on, burst());
    if (!go_on) return Status::Ok();
    if (last) {
      if (!follow && start < end && !skipping &&
          ParseCriEntry(std::string_view(buf.get() + start, end - start), &entry)) {
        if (on_entry(entry)) on_burst();
      }
      return Status::Ok();
    }
    if (file.WaitForChange()) {
      start = end = 0;
      skipping = false;
    }
  }
}

Result<int64_t> TailOffset(const std::string& path, int64_t lines) {
  CK_ASSIGN_OR_RETURN(int raw_fd, OpenLog(path));
  Fd fd(raw_fd);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Internal(Errno("stat " + path));
  const int64_t size = st.st_size;
  if (lines <= 0 || size == 0) return size;
  auto read_at = [&](int64_t at, char* into, size_t n) -> Result<size_t> {
    size_t done = 0;
    while (done < n) {
      ssize_t got = pread(fd.get(), into + done, n - done, at + static_cast<int64_t>(done));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return Internal(Errno("reading " + path));
      if (got == 0) break;
      done += got;
    }
    return done;
  };
  std::unique_ptr<char[]> block(new char[kReadBlock]);
  int64_t block_end = size;
  int64_t block_start = std::max<int64_t>(0, size - static_cast<int64_t>(kReadBlock));
  auto load = [&]() -> Status {
    CK_ASSIGN_OR_RETURN(size_t got, read_at(block_start, block.get(), block_end - block_start));
    if (static_cast<int64_t>(got) != block_end - block_start) return Internal("the log file " + path + " shrank while read");
    return Status::Ok();
  };
  CK_RETURN_IF_ERROR(load());
  // The last newline before `pos` (-1: none), moving the block backwards as needed.
  auto newline_before = [&](int64_t pos) -> Result<int64_t> {
    pos = std::min(pos, block_end);  // bytes above the block were searched already
    while (true) {
      if (pos > block_start) {
        const void* nl = memrchr(block.get(), '\n', pos - block_start);
        if (nl != nullptr) return block_start + (static_cast<const char*>(nl) - block.get());
      }
      if (block_start == 0) return -1;
      block_end = block_start;
      block_start = std::max<int64_t>(0, block_end - static_cast<int64_t>(kReadBlock));
      CK_RETURN_IF_ERROR(load());
      pos = block_end;
    }
  };
  // Whether the line starting at `line_start` is a P entry (a malformed line counts as whole).
  auto partial = [&](int64_t line_start, int64_t line_end) -> Result<bool> {
    size_t n = static_cast<size_t>(std::min<int64_t>(kHeaderBytes, line_end - line_start));
    char header[kHeaderBytes];
    const char* p = block.get() + (line_start - block_start);
    if (line_start < block_start || line_start + static_cast<int64_t>(n) > block_end) {
      CK_ASSIGN_OR_RETURN(n, read_at(line_start, header, n));
      p = header;
    }
    const char* sp = static_cast<const char*>(memchr(p, ' ', n));
    if (sp == nullptr) return false;
    std::string_view rest(sp + 1, n - (sp + 1 - p));
    return rest.size() > 7 && (rest.substr(0, 7) == "stdout " || rest.substr(0, 7) == "stderr ") && rest[7] == 'P';
  };

  // Physical lines from the last backwards. A logical line starts right after an F entry: meeting
  // an F entry with later entries seen completes one more logical line.
  CK_ASSIGN_OR_RETURN(int64_t last_nl, newline_before(size));
  int64_t line_end = last_nl == size - 1 ? last_nl : size;  // the last line may lack its newline
  int64_t found = 0;
  bool in_group = false;
  while (true) {
    CK_ASSIGN_OR_RETURN(int64_t nl, newline_before(line_end));
    const int64_t line_start = nl + 1;
    CK_ASSIGN_OR_RETURN(bool is_partial, partial(line_start, line_end));
    if (!is_partial && in_group && ++found == lines) return line_end + 1;
    in_group = true;
    if (nl < 0) return 0;
    line_end = nl;
  }
}

Status ReadContainerLog(const std::string& path, const LogOptions& options,
                        const std::function<bool(std::string_view)>& sink,
                        const std::function<bool()>& keep_following) {
  int64_t offset = 0;
  if (options.tail_lines && *options.tail_lines >= 0) {
    CK_ASSIGN_OR_RETURN(offset, TailOffset(path, *options.tail_lines));
  }
  if (options.limit_bytes && *options.limit_bytes <= 0) return Status::Ok();
  const std::optional<int64_t> since_ns =
      options.since_time ? std::optional<int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(options.since_time->time_since_epoch()).count()) : std::nullopt;
  ChunkWriter out(sink, options.limit_bytes);
  const bool timestamps = options.timestamps;
  auto on_entry = [&](const CriEntry& e) -> bool {
    if (since_ns && ParseRfc3339Nanos(e.time).value_or(0) < *since_ns) return true;
    if (timestamps && (!out.Append(e.time) || !out.Append(' '))) return false;
    if (!out.Append(e.content)) return false;
    return e.partial || out.Append('\n');
  };
  auto on_burst = [&] { return out.Flush(); };
  return ScanCriLog(path, offset, options.follow, on_entry, on_burst, keep_following);
}

}  // namespace ck::kubelet::logs
