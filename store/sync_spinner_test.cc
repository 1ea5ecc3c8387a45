// SyncSpinner: starts, follows Begin/End from several threads, and stops without hanging.
#include "store/sync_spinner.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace ck::store {
namespace {

TEST(SyncSpinnerTest, BeginEndFromManyThreadsAndCleanStop) {
  for (int spinners : {0, 1, 2}) {
    SyncSpinner s(spinners, std::chrono::milliseconds(5));
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 2000; ++i) SyncSpinner::Scope scope(s);
      });
    }
    for (auto& t : threads) t.join();
    s.Begin();  // destroyed while a "sync" is still marked in flight: must still stop
  }
}

}  // namespace
}  // namespace ck::store
