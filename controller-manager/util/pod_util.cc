#include "controller-manager/util/pod_util.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

#include "common/api/object.h"

namespace ck::controller_manager {

namespace {

const corev1::PodCondition* ReadyCondition(const corev1::Pod& pod) {
  for (const auto& c : pod.status().conditions()) {
    if (c.type() == "Ready") return &c;
  }
  return nullptr;
}

int PhaseOrdinal(const std::string& phase) {
  if (phase == "Pending") return 0;
  if (phase == "Unknown") return 1;
  if (phase == "Running") return 2;
  return 3;
}

// The pod-deletion-cost annotation (an int32; absent or malformed counts as 0, as upstream).
int64_t DeletionCost(const corev1::Pod& pod) {
  auto it = pod.metadata().annotations().find("controller.kubernetes.io/pod-deletion-cost");
  if (it == pod.metadata().annotations().end()) return 0;
  char* end = nullptr;
  long long v = std::strtoll(it->second.c_str(), &end, 10);
  if (end == it->second.c_str() || *end != '\0' || v < INT32_MIN || v > INT32_MAX) return 0;
  return v;
}

int32_t MaxContainerRestarts(const corev1::Pod& pod) {
  int32_t m = 0;
  for (const auto& cs : pod.status().containerstatuses()) m = std::max(m, cs.restartcount());
  return m;
}

api::Timestamp Created(const corev1::Pod& pod) { return api::TimestampOf(pod.metadata().creationtimestamp()); }

bool Before(const api::Timestamp& a, const api::Timestamp& b) {
  return a.seconds != b.seconds ? a.seconds < b.seconds : a.nanos < b.nanos;
}

}  // namespace

bool IsPodTerminal(const corev1::Pod& pod) {
  return pod.status().phase() == "Succeeded" || pod.status().phase() == "Failed";
}

bool IsPodActive(const corev1::Pod& pod) { return !IsPodTerminal(pod) && !pod.metadata().has_deletiontimestamp(); }

bool IsPodReady(const corev1::Pod& pod) {
  const corev1::PodCondition* c = ReadyCondition(pod);
  return c != nullptr && c->status() == "True";
}

std::optional<WallTime> PodReadyTime(const corev1::Pod& pod) {
  const corev1::PodCondition* c = ReadyCondition(pod);
  if (c == nullptr || c->status() != "True") return std::nullopt;
  return api::WallTimeOf(c->lasttransitiontime());
}

bool IsPodAvailable(const corev1::Pod& pod, int32_t min_ready_seconds, WallTime now) {
  std::optional<WallTime> ready = PodReadyTime(pod);
  if (!ready) return false;
  if (min_ready_seconds == 0) return true;
  // Upstream: a zero transition time counts as not yet available when minReadySeconds > 0.
  if (api::IsZeroTime(ReadyCondition(pod)->lasttransitiontime())) return false;
  return *ready + std::chrono::seconds(min_ready_seconds) <= now;
}

int32_t PodRestarts(const corev1::Pod& pod) {
  int32_t n = 0;
  for (const auto& cs : pod.status().containerstatuses()) n += cs.restartcount();
  return n;
}

bool DeleteBefore(const corev1::Pod& a, int rank_a, const corev1::Pod& b, int rank_b) {
  // 1. Unassigned < assigned.
  bool a_assigned = !a.spec().nodename().empty(), b_assigned = !b.spec().nodename().empty();
  if (a_assigned != b_assigned) return !a_assigned;
  // 2. Pending < Unknown < Running.
  int pa = PhaseOrdinal(a.status().phase()), pb = PhaseOrdinal(b.status().phase());
  if (pa != pb) return pa < pb;
  // 3. Not ready < ready.
  bool ra = IsPodReady(a), rb = IsPodReady(b);
  if (ra != rb) return !ra;
  // 4. Lower deletion cost first.
  int64_t ca = DeletionCost(a), cb = DeletionCost(b);
  if (ca != cb) return ca < cb;
  // 5. Doubled up: more related pods on the same node first.
  if (rank_a != rank_b) return rank_a > rank_b;
  // 6. Ready for a shorter time first.
  if (ra && rb) {
    api::Timestamp ta = api::TimestampOf(ReadyCondition(a)->lasttransitiontime());
    api::Timestamp tb = api::TimestampOf(ReadyCondition(b)->lasttransitiontime());
    if (!(ta == tb)) return Before(tb, ta);
  }
  // 7. More restarts first.
  int32_t xa = MaxContainerRestarts(a), xb = MaxContainerRestarts(b);
  if (xa != xb) return xa > xb;
  // 8. Newer first.
  api::Timestamp ka = Created(a), kb = Created(b);
  if (!(ka == kb)) return Before(kb, ka);
  return a.metadata().name() < b.metadata().name();  // a total order keeps the choice stable
}

std::vector<const corev1::Pod*> PodsToDelete(const std::vector<const corev1::Pod*>& pods,
                                             const std::vector<const corev1::Pod*>& related, size_t count) {
  if (count >= pods.size()) return pods;
  std::map<std::string, int> on_node;
  for (const corev1::Pod* p : related) {
    if (IsPodActive(*p)) ++on_node[p->spec().nodename()];
  }
  std::vector<std::pair<const corev1::Pod*, int>> ranked;
  ranked.reserve(pods.size());
  for (const corev1::Pod* p : pods) {
    int rank = p->spec().nodename().empty() ? 0 : on_node[p->spec().nodename()];
    ranked.emplace_back(p, rank);
  }
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<ptrdiff_t>(count), ranked.end(),
                    [](const auto& x, const auto& y) { return DeleteBefore(*x.first, x.second, *y.first, y.second); });
  std::vector<const corev1::Pod*> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) out.push_back(ranked[i].first);
  return out;
}

std::vector<const corev1::Pod*> FilterActivePods(const std::vector<const corev1::Pod*>& pods) {
  std::vector<const corev1::Pod*> out;
  out.reserve(pods.size());
  for (const corev1::Pod* p : pods) {
    if (IsPodActive(*p)) out.push_back(p);
  }
  return out;
}

std::pair<int, Status> SlowStartBatch(int count, int initial_batch, int parallelism,
                                      const std::function<Status()>& fn) {
  int remaining = count;
  int successes = 0;
  int batch = std::min(remaining, std::max(1, initial_batch));
  parallelism = std::max(1, parallelism);
  while (batch > 0) {
    std::atomic<int> next{0};
    std::atomic<int> ok{0};
    std::mutex mu;
    Status first_error;  // guarded by mu
    auto run = [&] {
      while (next.fetch_add(1) < batch) {
        Status s = fn();
        if (s.ok()) {
          ++ok;
        } else {
          std::lock_guard lock(mu);
          if (first_error.ok()) first_error = s;
        }
      }
    };
    int threads = std::min(batch, parallelism);
    if (threads == 1) {
      run();
    } else {
      std::vector<std::thread> pool;
      pool.reserve(threads - 1);
      for (int i = 1; i < threads; ++i) pool.emplace_back(run);
      run();
      for (auto& t : pool) t.join();
    }
    successes += ok.load();
    if (!first_error.ok()) return {successes, first_error};
    remaining -= batch;
    batch = std::min(remaining, 2 * batch);
  }
  return {successes, Status::Ok()};
}

}  // namespace ck::controller_manager
