// Crash test: a child process (store_crash_writer) writes through RocksDbStore from several
// threads and reports every acknowledged write on a pipe; this parent SIGKILLs it at random
// moments (sometimes during start-up recovery), restarts it, and after every kill checks that:
//   - every acknowledged write is present, at the revision it was acknowledged with;
//   - revisions are dense: a watch from revision 1 delivers 1, 2, ..., current, each non-empty;
//   - that replay reproduces the exact acknowledged history and the current state.
// CK_STORE_CRASH_CYCLES sets the number of kills (default 15, the short integration form; the
// chaos form runs more). CK_STORE_CRASH_SEED fixes the randomness.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <sstream>

#include "store/rocksdb_store.h"
#include "store/testutil.h"
#include "store/watch_queue.h"

namespace ck::store {
namespace {

using namespace std::chrono_literals;

struct ExpectedEvent {
  Event::Type type;
  std::string key;
  std::string value;
};

// A running child; killed and reaped on destruction if still alive.
class Child {
 public:
  Child(const std::string& bin, const std::vector<std::string>& args) {
    int fds[2];
    CK_CHECK(pipe2(fds, O_CLOEXEC) == 0);
    pid_ = fork();
    CK_CHECK(pid_ >= 0) << "fork failed";
    if (pid_ == 0) {
      dup2(fds[1], 1);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(bin.c_str()));
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
    close(fds[1]);
    fd_ = fds[0];
  }
  ~Child() {
    Kill();
    if (fd_ >= 0) close(fd_);
  }
  void Kill() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }
  // Reads whatever arrives until `deadline`; returns false at end of file.
  bool ReadUntil(std::chrono::steady_clock::time_point deadline, std::string* out) {
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return true;
      pollfd p{fd_, POLLIN, 0};
      int n = poll(&p, 1, static_cast<int>(left.count()));
      if (n <= 0) continue;
      char buf[65536];
      ssize_t got = read(fd_, buf, sizeof(buf));
      if (got <= 0) return false;
      out->append(buf, static_cast<size_t>(got));
    }
  }
  // After Kill(): everything still in the pipe.
  void Drain(std::string* out) {
    char buf[65536];
    ssize_t got;
    while ((got = read(fd_, buf, sizeof(buf))) > 0) out->append(buf, static_cast<size_t>(got));
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
};

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::atoi(v) : fallback;
}

TEST(StoreCrashTest, AcknowledgedWritesSurviveSigkill) {
  const char* bin_dir = std::getenv("CK_BIN_DIR");
  ASSERT_NE(bin_dir, nullptr) << "CK_BIN_DIR must point at the built binaries";
  std::string writer = std::string(bin_dir) + "/store_crash_writer";
  ASSERT_EQ(access(writer.c_str(), X_OK), 0) << writer << " is missing";
  const int cycles = EnvInt("CK_STORE_CRASH_CYCLES", 15);
  const auto seed = static_cast<uint64_t>(
      EnvInt("CK_STORE_CRASH_SEED", static_cast<int>(std::random_device{}() & 0x7fffffff)));
  std::cout << "crash test: " << cycles << " kill cycles, seed " << seed << "\n";
  std::mt19937_64 rng(seed);
  testing::TempDir dir;
  const std::string db = dir.Sub("db");

  std::map<Revision, std::vector<ExpectedEvent>> acked;
  Revision last_current = 0;
  int kills_during_startup = 0;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    std::string out;
    {
      Child child(writer, {db, std::to_string(seed + cycle), "4"});
      bool early = rng() % 8 == 0;  // sometimes kill while it is still recovering
      auto wait = early ? std::chrono::milliseconds(rng() % 40)
                        : std::chrono::milliseconds(30 + rng() % 300);
      if (!early) {
        auto ready_deadline = std::chrono::steady_clock::now() + 30s;
        while (out.find('\n') == std::string::npos &&
               std::chrono::steady_clock::now() < ready_deadline) {
          if (!child.ReadUntil(std::chrono::steady_clock::now() + 50ms, &out)) break;
        }
        ASSERT_EQ(out.rfind("READY ", 0), 0u) << "cycle " << cycle << ": child did not start: " << out;
      }
      child.ReadUntil(std::chrono::steady_clock::now() + wait, &out);
      child.Kill();
      child.Drain(&out);
      if (early) ++kills_during_startup;
    }
    std::istringstream lines(out);
    std::string line;
    int acks = 0;
    while (std::getline(lines, line)) {
      std::istringstream in(line);
      std::string tag;
      in >> tag;
      if (tag == "READY") {
        Revision r = 0;
        in >> r;
        // Recovery found every revision that existed when the last child died.
        ASSERT_EQ(r, last_current) << "cycle " << cycle << " recovered a different revision";
        continue;
      }
      if (tag != "A") continue;
      if (lines.eof()) break;  // a line without its newline is not a complete ack
      Revision rev = 0;
      in >> rev;
      std::vector<ExpectedEvent> events;
      std::string t, key, value;
      while (in >> t >> key) {
        if (t == "P") {
          in >> value;
          events.push_back({Event::Type::kPut, key, value});
        } else {
          events.push_back({Event::Type::kDelete, key, ""});
        }
      }
      ASSERT_EQ(acked.count(rev), 0u) << "revision " << rev << " acknowledged twice";
      acked[rev] = std::move(events);
      ++acks;
    }

    // Verify in-process after the kill.
    RocksDbStoreOptions options;
    options.store.compaction_window = Duration::zero();
    auto store = OpenRocksDbStore(db, options);
    ASSERT_TRUE(store.ok()) << "cycle " << cycle << ": " << store.status().ToString();
    Revision current = (*store)->CurrentRevision();
    if (!acked.empty()) {
      ASSERT_GE(current, acked.rbegin()->first) << "cycle " << cycle << ": acknowledged writes lost";
    }
    std::map<std::string, std::string> replayed;
    if (current > 0) {
      auto q = WatchQueue::Start(**store, {KeyRange{"/", ""}, 1});
      ASSERT_TRUE(q.ok()) << q.status().ToString();
      for (Revision want = 1; want <= current; ++want) {
        auto r = (*q)->Next(20s);
        ASSERT_TRUE(r.has_value()) << "cycle " << cycle << ": replay stalled at " << want;
        ASSERT_EQ(r->type, WatchResponse::Type::kEvents) << r->status.ToString();
        ASSERT_EQ(r->revision, want) << "cycle " << cycle << ": revisions are not dense";
        ASSERT_FALSE(r->events.empty());
        auto it = acked.find(want);
        if (it != acked.end()) {
          ASSERT_EQ(r->events.size(), it->second.size()) << "revision " << want;
          for (size_t i = 0; i < r->events.size(); ++i) {
            EXPECT_EQ(r->events[i].type, it->second[i].type) << "revision " << want;
            EXPECT_EQ(r->events[i].kv.key, it->second[i].key) << "revision " << want;
            EXPECT_EQ(r->events[i].kv.value, it->second[i].value) << "revision " << want;
          }
        }
        for (const Event& e : r->events) {
          if (e.type == Event::Type::kPut) {
            replayed[e.kv.key] = e.kv.value;
          } else {
            replayed.erase(e.kv.key);
          }
        }
      }
    }
    auto now = (*store)->Range("/", "");
    ASSERT_TRUE(now.ok());
    std::map<std::string, std::string> state;
    for (const KeyValue& kv : now->kvs) state[kv.key] = kv.value;
    ASSERT_EQ(state, replayed) << "cycle " << cycle << ": replayed history differs from the state";
    last_current = current;
    std::cout << "cycle " << cycle << ": " << acks << " acks, revision " << current << "\n";
  }
  std::cout << "crash test: " << cycles << " SIGKILLs (" << kills_during_startup
            << " during start-up), " << acked.size() << " acknowledged writes verified, final revision "
            << last_current << "\n";
  EXPECT_GT(acked.size(), 0u);
}

}  // namespace
}  // namespace ck::store
