// Test helpers for the noderesources tests and benchmark: PodInfo/NodeInfo from builder objects
// and a Handle stub for the factories (which use none of it). Test-only; not synchronized.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/base/check.h"
#include "common/base/clock.h"
#include "common/base/random.h"
#include "scheduler/framework/interface.h"
#include "scheduler/framework/parallelizer.h"

namespace ck::scheduler::plugins::noderesources_testing {

inline PodInfoPtr Info(const corev1::Pod& pod) {
  auto info = PodInfo::Create(pod);
  CK_CHECK(info.ok()) << info.status().message();
  return *info;
}

// A NodeInfo for `node` with `pods` on it.
inline std::shared_ptr<NodeInfo> MakeNodeInfo(const corev1::Node& node, const std::vector<corev1::Pod>& pods = {}) {
  auto info = std::make_shared<NodeInfo>(std::make_shared<const corev1::Node>(node));
  for (const corev1::Pod& p : pods) info->AddPod(Info(p));
  return info;
}

class StubHandle final : public Handle {
 public:
  const Snapshot& snapshot() const override { return snapshot_; }
  const Listers& listers() const override { return listers_; }
  client::ApiClient* api() override { return nullptr; }
  client::EventRecorder* events() override { return nullptr; }
  PodNominator* nominator() override { return nullptr; }
  Clock& clock() override { return clock_; }
  Random& random() override { return random_; }
  Parallelizer& parallelizer() override { return parallelizer_; }
  const std::string& profile_name() const override { return profile_; }
  Verdict RunPreFilterExtensionAddPod(CycleState&, const PodInfo&, const PodInfoPtr&, const NodeInfo&) override {
    return Verdict::Success();
  }
  Verdict RunPreFilterExtensionRemovePod(CycleState&, const PodInfo&, const PodInfoPtr&, const NodeInfo&) override {
    return Verdict::Success();
  }
  Verdict RunFilterPluginsWithNominatedPods(CycleState&, const PodInfo&, const NodeInfo&) override {
    return Verdict::Success();
  }

 private:
  Snapshot snapshot_;
  Listers listers_;
  FakeClock clock_;
  FakeRandom random_;
  Parallelizer parallelizer_{1};
  std::string profile_ = "default-scheduler";
};

}  // namespace ck::scheduler::plugins::noderesources_testing
