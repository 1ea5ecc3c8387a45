// PrioritySort: higher priority first, then the earlier queue time.
#include "scheduler/plugins/queuesort/priority_sort.h"

#include <gtest/gtest.h>

#include <optional>

#include "common/api/testing/builders.h"
#include "scheduler/plugins/testing/fake_handle.h"

namespace ck::scheduler::plugins {
namespace {

using api::testing::MakePod;

QueuedPodInfo Queued(std::optional<int32_t> priority, int64_t queued_at_ms) {
  api::testing::PodBuilder b = MakePod("p");
  if (priority) b.Priority(*priority);
  QueuedPodInfo q;
  q.pod_info = *PodInfo::Create(b.Obj());
  q.timestamp = MonoTime{} + std::chrono::milliseconds(queued_at_ms);
  return q;
}

TEST(PrioritySortTest, Less) {
  struct Case {
    const char* name;
    std::optional<int32_t> p1;
    int64_t t1;
    std::optional<int32_t> p2;
    int64_t t2;
    bool want;
  };
  const Case cases[] = {
      {"higher priority first", 200, 10, 100, 5, true},
      {"lower priority after", 100, 5, 200, 10, false},
      {"equal priority: earlier first", 100, 5, 100, 10, true},
      {"equal priority: later after", 100, 10, 100, 5, false},
      {"equal priority and time: not less", 100, 5, 100, 5, false},
      {"no priority counts as 0", std::nullopt, 1, -1, 0, true},
      {"negative below no priority", -5, 0, std::nullopt, 10, false},
      {"system-node-critical beats everything", 2000001000, 99, 1000000, 0, true},
  };
  PrioritySort pl;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(pl.Less(Queued(c.p1, c.t1), Queued(c.p2, c.t2)), c.want);
  }
}

TEST(PrioritySortTest, OrdersAQueue) {
  PrioritySort pl;
  std::vector<QueuedPodInfo> q = {Queued(0, 3), Queued(10, 4), Queued(0, 1), Queued(10, 2), Queued(5, 0)};
  std::stable_sort(q.begin(), q.end(), [&](const QueuedPodInfo& a, const QueuedPodInfo& b) { return pl.Less(a, b); });
  std::vector<std::pair<int32_t, int64_t>> got;
  for (const QueuedPodInfo& p : q) {
    got.emplace_back(p.pod_info->priority(),
                     std::chrono::duration_cast<std::chrono::milliseconds>(p.timestamp - MonoTime{}).count());
  }
  std::vector<std::pair<int32_t, int64_t>> want = {{10, 2}, {10, 4}, {5, 0}, {0, 1}, {0, 3}};
  EXPECT_EQ(got, want);
}

TEST(PrioritySortTest, Factory) {
  testing::FakeHandle handle;
  auto pl = NewPrioritySort(YAML::Node(), handle);
  ASSERT_TRUE(pl.ok()) << pl.status().ToString();
  EXPECT_EQ((*pl)->Name(), "PrioritySort");
  EXPECT_NE(dynamic_cast<QueueSortPlugin*>(pl->get()), nullptr);
}

}  // namespace
}  // namespace ck::scheduler::plugins
