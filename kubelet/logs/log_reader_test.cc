// ReadContainerLog against hand-written CRI logs and against a simple model (random files larger
// than the reader's blocks), and follow with a concurrent writer.
#include "kubelet/logs/log_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "tests/testutil/testutil.h"

namespace ck::kubelet::logs {
namespace {

using testutil::TempDir;
using testutil::WaitUntil;
using testutil::WriteFileOrDie;

constexpr auto kWait = std::chrono::seconds(20);

// "2024-05-01T12:00:<ss>.5Z": entry n at second n.
std::string Time(int second) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "2024-05-01T12:%02d:%02d.5Z", second / 60, second % 60);
  return buf;
}

std::string Entry(int second, const char* stream, char tag, const std::string& content) {
  return Time(second) + " " + stream + " " + tag + " " + content + "\n";
}

WallTime At(int second, int64_t extra_ns = 500000000) {
  return WallTime{} + std::chrono::nanoseconds((1714564800LL + second) * 1000000000LL + extra_ns);
}

Result<std::string> Read(const std::string& path, const LogOptions& options) {
  std::string out;
  Status s = ReadContainerLog(
      path, options, [&](std::string_view chunk) {
        out.append(chunk);
        return true;
      },
      [] { return false; });
  if (!s.ok()) return s;
  return out;
}

class LogReaderTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& content) {
    WriteFileOrDie(path_, content);
    return path_;
  }
  TempDir dir_;
  std::string path_ = dir_.File("0.log");
};

TEST(ParseTest, Rfc3339AndEntries) {
  EXPECT_EQ(ParseRfc3339Nanos("1970-01-01T00:00:01Z"), 1000000000);
  EXPECT_EQ(ParseRfc3339Nanos("2024-05-01T12:00:00.123456789Z"), 1714564800123456789);
  EXPECT_EQ(ParseRfc3339Nanos("2024-05-01T14:00:00.5+02:00"), 1714564800500000000);
  EXPECT_EQ(ParseRfc3339Nanos("2024-05-01T11:30:00-00:30"), 1714564800000000000);
  EXPECT_FALSE(ParseRfc3339Nanos("2024-05-01 12:00:00Z"));
  EXPECT_FALSE(ParseRfc3339Nanos("2024-05-01T12:00:00"));
  EXPECT_FALSE(ParseRfc3339Nanos("2024-13-01T12:00:00Z"));
  EXPECT_FALSE(ParseRfc3339Nanos("2024-05-01T12:00:00.Z"));

  CriEntry e;
  ASSERT_TRUE(ParseCriEntry("2024-05-01T12:00:00Z stderr P hello world", &e));
  EXPECT_EQ(e.time, "2024-05-01T12:00:00Z");
  EXPECT_TRUE(e.is_stderr);
  EXPECT_TRUE(e.partial);
  EXPECT_EQ(e.content, "hello world");
  ASSERT_TRUE(ParseCriEntry("2024-05-01T12:00:00Z stdout F:x ", &e));
  EXPECT_FALSE(e.partial);
  EXPECT_EQ(e.content, "");
  ASSERT_TRUE(ParseCriEntry("2024-05-01T12:00:00Z stdout F", &e));
  EXPECT_EQ(e.content, "");
  EXPECT_FALSE(ParseCriEntry("2024-05-01T12:00:00Z stdin F x", &e));
  EXPECT_FALSE(ParseCriEntry("2024-05-01T12:00:00Z stdout X x", &e));
  EXPECT_FALSE(ParseCriEntry("2024-05-01T12:00:00Z stdout FF x", &e));
  EXPECT_FALSE(ParseCriEntry("garbage", &e));
  EXPECT_FALSE(ParseCriEntry("notatime stdout F x", &e));
}

TEST_F(LogReaderTest, WholeFileJoinsPartialsAndSkipsMalformedLines) {
  Write(Entry(0, "stdout", 'F', "one") + Entry(1, "stderr", 'P', "tw") + Entry(2, "stderr", 'F', "o") +
        "this is not a CRI line\n" + Entry(3, "stdout", 'F', "") + Entry(4, "stdout", 'F', "three with  spaces") +
        Entry(5, "stdout", 'P', "unterminated"));
  auto out = Read(path_, {});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "one\ntwo\n\nthree with  spaces\nunterminated");
}

TEST_F(LogReaderTest, MissingFileIsNotFound) {
  EXPECT_EQ(Read(dir_.File("nope.log"), {}).status().code(), Code::kNotFound);
}

TEST_F(LogReaderTest, UnterminatedLastLineIsReadWithoutFollow) {
  Write(Entry(0, "stdout", 'F', "a") + Time(1) + " stdout F b");
  EXPECT_EQ(*Read(path_, {}), "a\nb\n");
}

TEST_F(LogReaderTest, TailCountsWholeLines) {
  Write(Entry(0, "stdout", 'F', "l1") + Entry(1, "stdout", 'P', "l2a") + Entry(2, "stdout", 'P', "l2b") +
        Entry(3, "stdout", 'F', "l2c") + Entry(4, "stderr", 'F', "l3") + Entry(5, "stdout", 'F', "l4"));
  auto tail = [&](int64_t n) {
    LogOptions o;
    o.tail_lines = n;
    return *Read(path_, o);
  };
  EXPECT_EQ(tail(0), "");
  EXPECT_EQ(tail(1), "l4\n");
  EXPECT_EQ(tail(2), "l3\nl4\n");
  EXPECT_EQ(tail(3), "l2al2bl2c\nl3\nl4\n");
  EXPECT_EQ(tail(4), "l1\nl2al2bl2c\nl3\nl4\n");
  EXPECT_EQ(tail(100), "l1\nl2al2bl2c\nl3\nl4\n");
  LogOptions all;
  all.tail_lines = -1;  // upstream: a negative tail means everything
  EXPECT_EQ(*Read(path_, all), "l1\nl2al2bl2c\nl3\nl4\n");
}

TEST_F(LogReaderTest, TailCountsALineStillBeingWrittenAsALine) {
  Write(Entry(0, "stdout", 'F', "a") + Entry(1, "stdout", 'F', "b") + Entry(2, "stdout", 'P', "c-in-progress"));
  LogOptions o;
  o.tail_lines = 1;
  EXPECT_EQ(*Read(path_, o), "c-in-progress");
  o.tail_lines = 2;
  EXPECT_EQ(*Read(path_, o), "b\nc-in-progress");
}

TEST_F(LogReaderTest, SinceFiltersByEntryTimeAndCombinesWithTail) {
  std::string text;
  for (int i = 0; i < 10; ++i) text += Entry(i, "stdout", 'F', "line" + std::to_string(i));
  Write(text);
  LogOptions o;
  o.since_time = At(7);
  EXPECT_EQ(*Read(path_, o), "line7\nline8\nline9\n");
  o.since_time = At(7, 500000001);  // one nanosecond after entry 7
  EXPECT_EQ(*Read(path_, o), "line8\nline9\n");
  // Tail first, then since (upstream applies both).
  o.since_time = At(7);
  o.tail_lines = 2;
  EXPECT_EQ(*Read(path_, o), "line8\nline9\n");
  o.since_time = At(3);
  o.tail_lines = 5;
  EXPECT_EQ(*Read(path_, o), "line5\nline6\nline7\nline8\nline9\n");
}

TEST_F(LogReaderTest, TimestampsPrefixEveryEntry) {
  Write(Entry(0, "stdout", 'F', "a") + Entry(1, "stdout", 'P', "b1") + Entry(2, "stdout", 'F', "b2"));
  LogOptions o;
  o.timestamps = true;
  EXPECT_EQ(*Read(path_, o), Time(0) + " a\n" + Time(1) + " b1" + Time(2) + " b2\n");
}

TEST_F(LogReaderTest, LimitBytesCutsExactly) {
  Write(Entry(0, "stdout", 'F', "hello") + Entry(1, "stdout", 'F', "world"));
  for (int64_t limit : {1, 5, 6, 7, 11, 12, 100}) {
    LogOptions o;
    o.limit_bytes = limit;
    EXPECT_EQ(*Read(path_, o), std::string("hello\nworld\n").substr(0, limit)) << limit;
  }
  LogOptions o;
  o.limit_bytes = 30;
  o.timestamps = true;
  EXPECT_EQ(*Read(path_, o), (Time(0) + " hello\n" + Time(1) + " world\n").substr(0, 30));
}

TEST_F(LogReaderTest, StopsWhenTheSinkIsGone) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += Entry(i % 3600, "stdout", 'F', std::string(50, 'x'));
  Write(text);
  int calls = 0;
  Status s = ReadContainerLog(
      path_, {}, [&](std::string_view) { return ++calls < 2; }, [] { return false; });
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(calls, 2);
}

// The model: every entry parsed in order, logical lines split after F entries.
struct ModelEntry {
  int second;
  bool partial;
  std::string content;
};

std::string ModelRead(const std::vector<ModelEntry>& entries, std::optional<int64_t> tail, bool timestamps,
                      std::optional<int> since_second) {
  size_t first = 0;
  if (tail) {
    // Start index of each logical line.
    std::vector<size_t> starts;
    bool at_start = true;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (at_start) starts.push_back(i);
      at_start = !entries[i].partial;
    }
    first = *tail >= static_cast<int64_t>(starts.size()) ? 0 : (*tail == 0 ? entries.size() : starts[starts.size() - *tail]);
  }
  std::string out;
  for (size_t i = first; i < entries.size(); ++i) {
    const auto& e = entries[i];
    if (since_second && e.second < *since_second) continue;
    if (timestamps) out += Time(e.second) + " ";
    out += e.content;
    if (!e.partial) out += "\n";
  }
  return out;
}

TEST_F(LogReaderTest, MatchesTheModelOnLargeRandomFiles) {
  std::mt19937 rng(42);
  for (int round = 0; round < 4; ++round) {
    std::vector<ModelEntry> entries;
    std::string text;
    size_t target = round == 0 ? 4000 : 900 * 1024 + round * 77777;  // > several read blocks
    while (text.size() < target) {
      ModelEntry e;
      e.second = static_cast<int>(entries.size() / 50) % 3600;
      e.partial = rng() % 4 == 0;
      size_t len = rng() % 7 == 0 ? rng() % 20000 : rng() % 120;
      e.content.assign(len, static_cast<char>('a' + rng() % 26));
      if (rng() % 100 == 0) text += "broken line without fields\n";
      text += Entry(e.second, rng() % 2 ? "stdout" : "stderr", e.partial ? 'P' : 'F', e.content);
      entries.push_back(std::move(e));
    }
    Write(text);
    for (std::optional<int64_t> tail : {std::optional<int64_t>(), std::optional<int64_t>(0), std::optional<int64_t>(1),
                                        std::optional<int64_t>(17), std::optional<int64_t>(3000),
                                        std::optional<int64_t>(1000000)}) {
      for (bool ts : {false, true}) {
        LogOptions o;
        o.tail_lines = tail;
        o.timestamps = ts;
        auto got = Read(path_, o);
        ASSERT_TRUE(got.ok());
        EXPECT_EQ(*got, ModelRead(entries, tail, ts, std::nullopt))
            << "round " << round << " tail " << tail.value_or(-1) << " ts " << ts;
      }
    }
    LogOptions o;
    int since = entries[entries.size() / 2].second;
    o.since_time = At(since);
    o.tail_lines = 500;
    EXPECT_EQ(*Read(path_, o), ModelRead(entries, 500, false, since));
  }
}

// Appends to the log as a container would (one write per entry).
void Append(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
}

class Following {
 public:
  Following(const std::string& path, LogOptions options) {
    options.follow = true;
    thread_ = std::thread([this, path, options] {
      status_ = ReadContainerLog(
          path, options,
          [this](std::string_view chunk) {
            std::lock_guard lock(mu_);
            out_.append(chunk);
            return true;
          },
          [this] { return keep_.load(); });
      done_ = true;
    });
  }
  ~Following() {
    keep_ = false;
    if (thread_.joinable()) thread_.join();
  }
  std::string out() {
    std::lock_guard lock(mu_);
    return out_;
  }
  void Stop() { keep_ = false; }
  bool done() const { return done_; }
  Status Join() {
    thread_.join();
    return status_;
  }

 private:
  std::mutex mu_;
  std::string out_;
  std::atomic<bool> keep_{true};
  std::atomic<bool> done_{false};
  Status status_;
  std::thread thread_;
};

TEST_F(LogReaderTest, FollowSeesAppendedLinesAndStopsWhenToldTo) {
  Write(Entry(0, "stdout", 'F', "old1") + Entry(1, "stdout", 'F', "old2"));
  LogOptions o;
  o.tail_lines = 1;
  Following f(path_, o);
  ASSERT_TRUE(WaitUntil([&] { return f.out() == "old2\n"; }, kWait)) << f.out();
  Append(path_, Entry(2, "stdout", 'P', "new"));
  Append(path_, Entry(3, "stderr", 'F', "1"));
  ASSERT_TRUE(WaitUntil([&] { return f.out() == "old2\nnew1\n"; }, kWait)) << f.out();
  // A half-written line is not shown until its newline arrives.
  Append(path_, Time(4) + " stdout F hal");
  Append(path_, "f\n");
  ASSERT_TRUE(WaitUntil([&] { return f.out() == "old2\nnew1\nhalf\n"; }, kWait)) << f.out();
  EXPECT_FALSE(f.done());
  f.Stop();
  EXPECT_TRUE(f.Join().ok());
  EXPECT_EQ(f.out(), "old2\nnew1\nhalf\n");
}

TEST_F(LogReaderTest, FollowReadsATruncatedFileFromItsStart) {
  Write(Entry(0, "stdout", 'F', "before-truncation-long-line"));
  Following f(path_, {});
  ASSERT_TRUE(WaitUntil([&] { return f.out() == "before-truncation-long-line\n"; }, kWait)) << f.out();
  WriteFileOrDie(path_, Entry(1, "stdout", 'F', "after"));
  ASSERT_TRUE(WaitUntil([&] { return f.out() == "before-truncation-long-line\nafter\n"; }, kWait)) << f.out();
}

TEST_F(LogReaderTest, FollowMovesToARotatedFile) {
  Write(Entry(0, "stdout", 'F', "first-file"));
  Following f(path_, {});
  ASSERT_TRUE(WaitUntil([&] { return f.out() == "first-file\n"; }, kWait)) << f.out();
  ASSERT_EQ(rename(path_.c_str(), (path_ + ".1").c_str()), 0);
  Append(path_, Entry(1, "stdout", 'F', "second-file"));
  ASSERT_TRUE(WaitUntil([&] { return f.out() == "first-file\nsecond-file\n"; }, kWait)) << f.out();
}

TEST_F(LogReaderTest, FollowStopsAtTheLimit) {
  Write(Entry(0, "stdout", 'F', "abc"));
  LogOptions o;
  o.limit_bytes = 6;
  Following f(path_, o);
  ASSERT_TRUE(WaitUntil([&] { return f.out() == "abc\n"; }, kWait));
  Append(path_, Entry(1, "stdout", 'F', "defgh"));
  ASSERT_TRUE(WaitUntil([&] { return f.done(); }, kWait)) << "the reader ends once the limit is reached";
  EXPECT_EQ(f.out(), "abc\nde");
}

TEST_F(LogReaderTest, ScanFromTheEndSeesOnlyNewEntriesWithTheirStreams) {
  Write(Entry(0, "stdout", 'F', "history"));
  std::mutex mu;
  std::vector<std::pair<bool, std::string>> seen;
  std::atomic<bool> keep{true};
  std::thread t([&] {
    Status s = ScanCriLog(
        path_, -1, true,
        [&](const CriEntry& e) {
          std::lock_guard lock(mu);
          seen.emplace_back(e.is_stderr, std::string(e.content));
          return true;
        },
        [] { return true; }, [&] { return keep.load(); });
    EXPECT_TRUE(s.ok());
  });
  // The scan may start before or after this append; wait until it has opened the file by
  // retrying the append of a marker.
  ASSERT_TRUE(WaitUntil(
      [&] {
        Append(path_, Entry(1, "stdout", 'F', "marker"));
        std::lock_guard lock(mu);
        return !seen.empty();
      },
      kWait));
  Append(path_, Entry(2, "stderr", 'F', "err-line"));
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::lock_guard lock(mu);
        return !seen.empty() && seen.back() == std::make_pair(true, std::string("err-line"));
      },
      kWait));
  keep = false;
  t.join();
  for (const auto& [is_err, text] : seen) EXPECT_NE(text, "history");
}

}  // namespace
}  // namespace ck::kubelet::logs
