// Randomized differential test: thousands of mixed transactions, reads at random revisions,
// compactions and watches, run against each Store and against a plain reference model. Every
// read result, every transaction result and every watch stream must match the model exactly.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <set>

#include "store/memory_store.h"
#include "store/rocksdb_store.h"
#include "store/testutil.h"
#include "store/watch_queue.h"

namespace ck::store {
namespace {

using namespace std::chrono_literals;

// The reference: a map per revision and the list of events per revision. Written for clarity,
// not speed, and sharing no code with the engine.
class Model {
 public:
  Model() { states_.emplace_back(); history_.emplace_back(); }

  Revision current() const { return static_cast<Revision>(states_.size()) - 1; }
  Revision compacted = 0;

  const std::map<std::string, KeyValue>& At(Revision rev) const { return states_[rev]; }
  const std::vector<Event>& EventsAt(Revision rev) const { return history_[rev]; }

  static bool Holds(const Compare& c, const std::map<std::string, KeyValue>& s) {
    auto it = s.find(c.key);
    int64_t v = 0;
    if (it != s.end()) {
      v = c.target == Compare::Target::kVersion          ? it->second.version
          : c.target == Compare::Target::kCreateRevision ? it->second.create_revision
                                                         : it->second.mod_revision;
    }
    switch (c.result) {
      case Compare::Result::kEqual: return v == c.operand;
      case Compare::Result::kNotEqual: return v != c.operand;
      case Compare::Result::kLess: return v < c.operand;
      case Compare::Result::kGreater: return v > c.operand;
    }
    return false;
  }

  TxnResult Apply(const std::vector<Compare>& cmps, const std::vector<Op>& ok_ops,
                  const std::vector<Op>& fail_ops) {
    std::map<std::string, KeyValue> s = states_.back();
    Revision rev = current() + 1;
    TxnResult r;
    r.succeeded = true;
    for (const Compare& c : cmps) r.succeeded = r.succeeded && Holds(c, s);
    const std::vector<Op>& ops = r.succeeded ? ok_ops : fail_ops;
    std::vector<Event> events;
    auto del = [&](const std::string& key, OpResult* out) {
      Event e;
      e.type = Event::Type::kDelete;
      e.kv.key = key;
      e.kv.mod_revision = rev;
      e.prev_kv = s.at(key);
      out->kvs.push_back(s.at(key));
      out->deleted++;
      events.push_back(e);
      s.erase(key);
    };
    for (const Op& op : ops) {
      OpResult out;
      if (op.type == Op::Type::kPut) {
        Event e;
        auto it = s.find(op.key);
        if (it != s.end()) {
          e.prev_kv = it->second;
          out.kvs.push_back(it->second);
        }
        e.kv = KeyValue{op.key, op.value, it != s.end() ? it->second.create_revision : rev, rev,
                        it != s.end() ? it->second.version + 1 : 1};
        s[op.key] = e.kv;
        events.push_back(e);
      } else if (op.type == Op::Type::kDelete) {
        if (s.count(op.key)) del(op.key, &out);
      } else if (op.type == Op::Type::kDeleteRange) {
        std::vector<std::string> keys;
        for (auto& [k, v] : s) {
          if (op.range.Contains(k)) keys.push_back(k);
        }
        for (auto& k : keys) del(k, &out);
      } else if (op.type == Op::Type::kGet) {
        if (s.count(op.key)) out.kvs.push_back(s.at(op.key));
      } else {
        for (auto& [k, v] : s) {
          if (op.range.Contains(k)) out.kvs.push_back(v);
        }
      }
      r.results.push_back(out);
    }
    if (!events.empty()) {
      states_.push_back(std::move(s));
      history_.push_back(std::move(events));
    }
    r.revision = current();
    return r;
  }

 private:
  std::vector<std::map<std::string, KeyValue>> states_;  // index = revision
  std::vector<std::vector<Event>> history_;               // index = revision
};

bool SameResult(const TxnResult& a, const TxnResult& b) {
  if (a.succeeded != b.succeeded || a.revision != b.revision || a.results.size() != b.results.size())
    return false;
  for (size_t i = 0; i < a.results.size(); ++i) {
    if (a.results[i].deleted != b.results[i].deleted || a.results[i].kvs != b.results[i].kvs)
      return false;
  }
  return true;
}

struct ModelWatch {
  KeyRange range;
  Revision start;
  std::unique_ptr<WatchQueue> queue;
};

void RunRandomized(Store& store, uint64_t seed, int steps) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  const std::vector<std::string> prefixes = {"/a/", "/b/", "/b/x/"};
  auto random_key = [&] { return prefixes[pick(3)] + std::to_string(pick(8)); };
  auto random_range = [&]() -> KeyRange {
    switch (pick(4)) {
      case 0: return KeyRange::Prefix(prefixes[pick(3)]);
      case 1: return KeyRange::Single(random_key());
      case 2: {
        std::string a = random_key(), b = random_key();
        if (b < a) std::swap(a, b);
        return {a, b};
      }
      default: return {random_key(), ""};
    }
  };
  Model model;
  // Mostly readable revisions, sometimes "now", sometimes anything (compacted ones included).
  auto RandomReadRevision = [&]() -> Revision {
    int kind = pick(10);
    if (kind < 2) return 0;
    if (kind < 3) return pick(static_cast<int>(model.current()) + 1);
    return model.compacted + pick(static_cast<int>(model.current() - model.compacted) + 1);
  };
  std::vector<ModelWatch> watches;
  int txns = 0, reads = 0, gone = 0, compactions = 0;

  for (int step = 0; step < steps; ++step) {
    int what = pick(100);
    if (what < 60) {
      // A transaction with 0-2 compares and 1-3 ops per branch, valid by construction.
      std::vector<Compare> cmps;
      for (int i = pick(3); i > 0; --i) {
        Compare c;
        c.key = random_key();
        c.target = static_cast<Compare::Target>(pick(3));
        c.result = static_cast<Compare::Result>(pick(4));
        auto it = model.At(model.current()).find(c.key);
        int64_t actual = 0;
        if (it != model.At(model.current()).end()) {
          actual = c.target == Compare::Target::kVersion ? it->second.version
                   : c.target == Compare::Target::kCreateRevision ? it->second.create_revision
                                                                  : it->second.mod_revision;
        }
        c.operand = actual + pick(3) - 1;
        cmps.push_back(c);
      }
      auto branch = [&] {
        std::vector<Op> ops;
        std::set<std::string> touched;
        for (int i = 1 + pick(3); i > 0; --i) {
          int kind = pick(10);
          std::string key = random_key();
          if (kind < 5) {
            if (touched.count(key)) continue;
            bool covered = false;
            for (const Op& o : ops) covered |= o.type == Op::Type::kDeleteRange && o.range.Contains(key);
            if (covered) continue;
            touched.insert(key);
            ops.push_back(Op::Put(key, "v" + std::to_string(step) + "-" + std::to_string(pick(1000))));
          } else if (kind < 7) {
            if (touched.count(key)) continue;
            touched.insert(key);
            ops.push_back(Op::Delete(key));
          } else if (kind < 8) {
            KeyRange r = random_range();
            bool overlaps = false;
            for (const std::string& k : touched) overlaps |= r.Contains(k);
            if (overlaps) continue;
            ops.push_back(Op::DeleteRange(r));
          } else if (kind < 9) {
            ops.push_back(Op::Get(key));
          } else {
            ops.push_back(Op::Range(random_range()));
          }
        }
        return ops;
      };
      std::vector<Op> ok_ops = branch(), fail_ops = branch();
      TxnResult want = model.Apply(cmps, ok_ops, fail_ops);
      auto got = store.Txn(cmps, ok_ops, fail_ops);
      ASSERT_TRUE(got.ok()) << "step " << step << ": " << got.status().ToString();
      ASSERT_TRUE(SameResult(*got, want)) << "step " << step << ": txn result differs";
      ++txns;
    } else if (what < 75) {
      Revision rev = RandomReadRevision();
      std::string key = random_key();
      auto got = store.Get(key, rev);
      Revision at = rev == 0 ? model.current() : rev;
      if (at < model.compacted) {
        ASSERT_TRUE(IsCompacted(got.status())) << "step " << step << " rev " << rev;
        ++gone;
      } else {
        auto it = model.At(at).find(key);
        if (it == model.At(at).end()) {
          ASSERT_EQ(got.status().code(), Code::kNotFound) << "step " << step << " " << key << "@" << at;
        } else {
          ASSERT_TRUE(got.ok()) << "step " << step << " " << got.status().ToString();
          ASSERT_EQ(*got, it->second) << "step " << step << " " << key << "@" << at;
        }
      }
      ++reads;
    } else if (what < 92) {
      Revision rev = RandomReadRevision();
      KeyRange range = random_range();
      int64_t limit = pick(3) == 0 ? 1 + pick(5) : 0;
      auto got = store.Range(range.start, range.end, rev, limit);
      Revision at = rev == 0 ? model.current() : rev;
      if (at < model.compacted) {
        ASSERT_TRUE(IsCompacted(got.status())) << "step " << step;
        ++gone;
      } else {
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        std::vector<KeyValue> want;
        for (auto& [k, v] : model.At(at)) {
          if (range.Contains(k)) want.push_back(v);
        }
        ASSERT_EQ(got->count, static_cast<int64_t>(want.size())) << "step " << step;
        if (limit != 0 && static_cast<int64_t>(want.size()) > limit) want.resize(limit);
        ASSERT_EQ(got->kvs, want) << "step " << step << " range at " << at;
        ASSERT_EQ(got->more, got->count > static_cast<int64_t>(want.size()));
        ASSERT_EQ(got->revision, at);
      }
      ++reads;
    } else if (what < 93) {
      if (model.current() > model.compacted + 250) {
        Revision c = model.compacted + 1 + pick(static_cast<int>(model.current() - model.compacted) - 200);
        ASSERT_TRUE(store.Compact(c).ok()) << "compact " << c;
        model.compacted = c;
        ++compactions;
      }
    } else if (pick(4) == 0) {
      Revision from = model.compacted + 1 + pick(static_cast<int>(model.current() - model.compacted) + 1);
      KeyRange range = random_range();
      auto q = WatchQueue::Start(store, {range, from});
      ASSERT_TRUE(q.ok()) << q.status().ToString();
      watches.push_back({range, from, std::move(q).value()});
    }
    ASSERT_EQ(store.CurrentRevision(), model.current());
  }

  // Every watch stream equals the model's history from its start, filtered to its range. A
  // watcher that lagged behind a later compaction may end with a Gone cancel after a correct
  // prefix; that is the contract.
  int complete = 0, resumed = 0;
  for (ModelWatch& w : watches) {
    w.queue->RequestProgress();
    Revision expect = w.start;
    bool done = false;
    while (!done) {
      auto r = w.queue->Next(20s);
      ASSERT_TRUE(r.has_value()) << "watch from " << w.start << " stalled at " << expect;
      if (r->type == WatchResponse::Type::kProgress) {
        if (r->revision == model.current()) done = true;
        continue;
      }
      if (r->type == WatchResponse::Type::kCanceled) {
        // A watcher that lagged may be cancelled: by compaction (its next revision is gone) or
        // as too slow. Like a client, resume after the last delivered revision if it still can.
        if (IsCompacted(r->status)) {
          ASSERT_LE(r->revision + 1, model.compacted);
          break;
        }
        ASSERT_TRUE(IsSlowWatcher(r->status)) << r->status.ToString();
        auto again = WatchQueue::Start(store, {w.range, r->revision + 1});
        if (!again.ok()) {
          ASSERT_TRUE(IsCompacted(again.status())) << again.status().ToString();
          break;
        }
        w.queue = std::move(again).value();
        w.queue->RequestProgress();
        ++resumed;
        continue;
      }
      // Skip revisions without events in range; the next delivered one must be the next such.
      while (expect <= model.current()) {
        bool any = false;
        for (const Event& e : model.EventsAt(expect)) any |= w.range.Contains(e.kv.key);
        if (any) break;
        ++expect;
      }
      ASSERT_EQ(r->revision, expect) << "watch from " << w.start;
      std::vector<Event> want;
      for (const Event& e : model.EventsAt(expect)) {
        if (w.range.Contains(e.kv.key)) want.push_back(e);
      }
      ASSERT_EQ(r->events, want) << "watch from " << w.start << " at " << expect;
      ++expect;
    }
    if (done) ++complete;
  }
  EXPECT_GT(complete, 0);
  std::cout << "randomized: " << txns << " txns, " << reads << " reads (" << gone
            << " compacted), " << compactions << " compactions, " << watches.size()
            << " watches (" << complete << " to the end, " << resumed
            << " resumed after a slow cancel), final revision " << model.current()
            << "\n";
}

TEST(ModelTest, MemoryStoreMatchesTheModel) {
  auto store = NewMemoryStore({.compaction_window = Duration::zero()});
  RunRandomized(*store, 1, 6000);
}

TEST(ModelTest, RocksDbStoreMatchesTheModel) {
  testing::TempDir dir;
  RocksDbStoreOptions o;
  o.store.compaction_window = Duration::zero();
  o.store.history_cache_revisions = 64;  // exercise reads and watches served from disk
  auto store = OpenRocksDbStore(dir.Sub("db"), o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  RunRandomized(**store, 2, 4000);
}

}  // namespace
}  // namespace ck::store
