#include "scheduler/queue/heap.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace ck::scheduler::queue {
namespace {

KeyedHeap<int> MinHeap() {
  return KeyedHeap<int>([](const int& a, const int& b) { return a < b; });
}

TEST(KeyedHeapTest, PopsInOrder) {
  auto h = MinHeap();
  h.Push("e", 5);
  h.Push("a", 1);
  h.Push("d", 4);
  h.Push("b", 2);
  h.Push("c", 3);
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(h.PeekKey(), "a");
  std::vector<int> out;
  while (!h.empty()) out.push_back(h.Pop());
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3, 4, 5}));
}

TEST(KeyedHeapTest, PushOfAnExistingKeyReplacesIt) {
  auto h = MinHeap();
  h.Push("a", 1);
  h.Push("b", 2);
  h.Push("a", 3);
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.PeekKey(), "b");
  EXPECT_EQ(h.Pop(), 2);
  EXPECT_EQ(h.Pop(), 3);
}

TEST(KeyedHeapTest, GetFixAndRemoveByKey) {
  auto h = MinHeap();
  for (int i = 0; i < 10; ++i) h.Push("k" + std::to_string(i), i);
  ASSERT_NE(h.Get("k7"), nullptr);
  EXPECT_EQ(*h.Get("k7"), 7);
  EXPECT_EQ(h.Get("missing"), nullptr);

  *h.Get("k7") = -1;  // change in place, then restore the order
  EXPECT_TRUE(h.Fix("k7"));
  EXPECT_EQ(h.PeekKey(), "k7");
  EXPECT_FALSE(h.Fix("missing"));

  auto removed = h.Remove("k0");
  ASSERT_TRUE(removed.has_value());
  EXPECT_EQ(*removed, 0);
  EXPECT_FALSE(h.Contains("k0"));
  EXPECT_FALSE(h.Remove("k0").has_value());
  EXPECT_EQ(h.size(), 9u);

  std::vector<int> out;
  while (!h.empty()) out.push_back(h.Pop());
  EXPECT_EQ(out, (std::vector<int>{-1, 1, 2, 3, 4, 5, 6, 8, 9}));
}

TEST(KeyedHeapTest, MoveOnlyItems) {
  KeyedHeap<std::unique_ptr<int>> h(
      [](const std::unique_ptr<int>& a, const std::unique_ptr<int>& b) { return *a < *b; });
  h.Push("x", std::make_unique<int>(2));
  h.Push("y", std::make_unique<int>(1));
  EXPECT_EQ(*h.Pop(), 1);
  auto x = h.Remove("x");
  ASSERT_TRUE(x.has_value());
  EXPECT_EQ(**x, 2);
  EXPECT_TRUE(h.empty());
}

// Random pushes, in-place changes and removals against a sorted model.
TEST(KeyedHeapTest, MatchesAModelUnderRandomOperations) {
  std::mt19937 rng(42);
  auto h = MinHeap();
  std::map<std::string, int> model;
  for (int step = 0; step < 5000; ++step) {
    std::string key = "k" + std::to_string(rng() % 200);
    switch (rng() % 4) {
      case 0:
      case 1: {
        int v = static_cast<int>(rng() % 1000);
        h.Push(key, v);
        model[key] = v;
        break;
      }
      case 2: {
        auto r = h.Remove(key);
        EXPECT_EQ(r.has_value(), model.erase(key) == 1);
        break;
      }
      case 3: {
        if (int* v = h.Get(key)) {
          *v = static_cast<int>(rng() % 1000);
          model[key] = *v;
          h.Fix(key);
        } else {
          EXPECT_FALSE(model.contains(key));
        }
        break;
      }
    }
    ASSERT_EQ(h.size(), model.size());
    if (!model.empty()) {
      int min = std::min_element(model.begin(), model.end(), [](auto& a, auto& b) {
                  return a.second < b.second;
                })->second;
      ASSERT_EQ(h.Peek(), min);
    }
  }
  std::vector<int> out;
  while (!h.empty()) out.push_back(h.Pop());
  EXPECT_TRUE(std::is_sorted(out.begin(), out.end()));
  EXPECT_EQ(out.size(), model.size());
}

}  // namespace
}  // namespace ck::scheduler::queue
