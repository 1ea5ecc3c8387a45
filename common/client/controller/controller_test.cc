#include "common/client/controller/controller.h"

#include <map>
#include <mutex>

#include <gtest/gtest.h>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/random.h"
#include "common/client/cache/cache_test_util.h"
#include "common/client/testing/fake_api.h"

namespace ck::client {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
using namespace std::chrono_literals;
using testing::Resource;
using testing::WaitFor;

corev1::ConfigMap MakeConfigMap(const std::string& name, const std::string& value) {
  corev1::ConfigMap cm;
  cm.mutable_metadata()->set_name(name);
  cm.mutable_metadata()->set_namespace_("ns");
  (*cm.mutable_data())["v"] = value;
  return cm;
}

// Records each Sync; fails a key as many times as `failures` says.
class RecordingController : public Controller {
 public:
  explicit RecordingController(ControllerOptions options) : Controller(std::move(options)) {}
  ~RecordingController() override { Stop(); }

  void FailTimes(const std::string& key, int n) {
    std::lock_guard lock(mu_);
    failures_[key] = n;
  }
  int syncs(const std::string& key) {
    std::lock_guard lock(mu_);
    return syncs_[key];
  }

 protected:
  Status Sync(const std::string& key) override {
    std::lock_guard lock(mu_);
    ++syncs_[key];
    if (failures_[key] > 0) {
      --failures_[key];
      return Unavailable("injected");
    }
    return Status::Ok();
  }

 private:
  std::mutex mu_;
  std::map<std::string, int> syncs_;     // guarded by mu_
  std::map<std::string, int> failures_;  // guarded by mu_
};

class ControllerTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  FakeRandom random_{1};
  FakeApi api_{clock_};
  metrics::Registry registry_;
  const ResourceInfo& configmaps_ = Resource("", "ConfigMap");
};

TEST_F(ControllerTest, HandlersEnqueueAndWorkersSyncEachKey) {
  ASSERT_TRUE(api_.Create(configmaps_, "ns", MakeConfigMap("a", "1")).ok());
  ASSERT_TRUE(api_.Create(configmaps_, "ns", MakeConfigMap("b", "1")).ok());
  SharedIndexInformer informer(api_, configmaps_, clock_, random_);
  RecordingController controller({.name = "test", .workers = 2, .clock = &clock_, .registry = &registry_});
  informer.AddEventHandler(controller.EnqueueHandler());
  informer.Start();
  ASSERT_TRUE(controller.Start({&informer}, 20s).ok());
  ASSERT_TRUE(WaitFor([&] { return controller.syncs("ns/a") == 1 && controller.syncs("ns/b") == 1; }));

  // An update and a delete each enqueue the key again.
  auto current = api_.Get(configmaps_, "ns", "a");
  ASSERT_TRUE(current.ok());
  corev1::ConfigMap changed = static_cast<const corev1::ConfigMap&>(**current);
  (*changed.mutable_data())["v"] = "2";
  ASSERT_TRUE(api_.Update(configmaps_, "ns", changed).ok());
  ASSERT_TRUE(api_.Delete(configmaps_, "ns", "b").ok());
  ASSERT_TRUE(WaitFor([&] { return controller.syncs("ns/a") == 2 && controller.syncs("ns/b") == 2; }));
  controller.Stop();
  informer.Stop();
}

TEST_F(ControllerTest, FailedSyncIsRetriedWithBackoffOnTheClock) {
  ASSERT_TRUE(api_.Create(configmaps_, "ns", MakeConfigMap("a", "1")).ok());
  SharedIndexInformer informer(api_, configmaps_, clock_, random_);
  RecordingController controller({.name = "retry", .workers = 1, .clock = &clock_, .registry = &registry_});
  controller.FailTimes("ns/a", 2);
  informer.AddEventHandler(controller.EnqueueHandler());
  informer.Start();
  ASSERT_TRUE(controller.Start({&informer}, 20s).ok());
  // Wait until the retry is pending on the clock (its due time is fixed from then on).
  ASSERT_TRUE(WaitFor([&] { return controller.syncs("ns/a") == 1 && controller.queue().PendingLen() == 1; }));
  // The first retry waits 5 ms (the default limiter's base), the second 10 ms.
  clock_.Advance(4ms);
  EXPECT_EQ(controller.syncs("ns/a"), 1);
  clock_.Advance(1ms);
  ASSERT_TRUE(WaitFor([&] { return controller.syncs("ns/a") == 2 && controller.queue().PendingLen() == 1; }));
  EXPECT_EQ(controller.queue().NumRequeues("ns/a"), 2);
  clock_.Advance(9ms);
  EXPECT_EQ(controller.syncs("ns/a"), 2);
  clock_.Advance(1ms);
  ASSERT_TRUE(WaitFor([&] { return controller.syncs("ns/a") == 3; }));
  // The third Sync succeeded: the key's failures are forgotten.
  ASSERT_TRUE(WaitFor([&] { return controller.queue().NumRequeues("ns/a") == 0; }));
  controller.Stop();
  informer.Stop();
}

TEST_F(ControllerTest, KeyIsDroppedAfterMaxRetries) {
  RecordingController controller(
      {.name = "drop", .workers = 1, .clock = &clock_, .registry = &registry_, .max_retries = 1});
  controller.FailTimes("ns/x", 100);
  ASSERT_TRUE(controller.Start({}, 1s).ok());
  controller.Enqueue("ns/x");
  ASSERT_TRUE(WaitFor([&] { return controller.queue().PendingLen() == 1; }));
  clock_.Advance(5ms);
  ASSERT_TRUE(WaitFor([&] { return controller.syncs("ns/x") == 2; }));
  // The second failure reached max_retries: the key is forgotten and not queued again.
  ASSERT_TRUE(WaitFor([&] { return controller.queue().NumRequeues("ns/x") == 0; }));
  clock_.Advance(1h);
  EXPECT_EQ(controller.syncs("ns/x"), 2);
  EXPECT_EQ(controller.queue().Len(), 0u);
}

TEST_F(ControllerTest, StartFailsWhenCachesNeverSync) {
  api_.FailNext(FakeApi::Verb::kList, Unavailable("down"), 1000);
  SharedIndexInformer informer(api_, configmaps_, clock_, random_);
  informer.Start();
  RecordingController controller({.name = "nosync", .clock = &clock_, .registry = &registry_});
  Status s = controller.Start({&informer}, 200ms);
  EXPECT_EQ(s.code(), Code::kUnavailable);
  informer.Stop();
}

}  // namespace
}  // namespace ck::client
