// Test helpers of the node lifecycle tests: a cluster of nodes on ControllerTestEnv whose kubelets
// the test plays (status posts, Lease renewals), and a wait until informers have caught up with
// the fake API. Test-only; not synchronized.
#pragma once

#include <string>
#include <vector>

#include "common/api/object.h"
#include "common/api/proto/coordination_v1.pb.h"
#include "common/api/testing/builders.h"
#include "common/client/cache/cache_test_util.h"
#include "controller-manager/nodelifecycle/node_util.h"
#include "controller-manager/testing/controller_test_env.h"

namespace ck::controller_manager::testing {

namespace coordv1 = ::k8s::io::api::coordination::v1;

class FakeCluster {
 public:
  explicit FakeCluster(ControllerSettings settings = {}) : env(std::move(settings)) {}

  // A node whose kubelet just posted Ready=True (heartbeat now), with a fresh Lease.
  corev1::Node AddNode(const std::string& name, const std::string& zone = "") {
    auto builder = api::testing::MakeNode(name).Ready(true, env.clock.Now());
    if (!zone.empty()) builder.Label("topology.kubernetes.io/zone", zone);
    corev1::Node node = env.Create(corev1::Node(builder));
    RenewLease(name);
    return node;
  }

  // The kubelet renews its Lease in kube-node-lease now.
  void RenewLease(const std::string& name) {
    Result<coordv1::Lease> lease = env.Get<coordv1::Lease>(std::string(kNodeLeaseNamespace), name);
    coordv1::Lease next;
    if (lease.ok()) {
      next = *lease;
    } else {
      next.mutable_metadata()->set_name(name);
      next.mutable_metadata()->set_namespace_(std::string(kNodeLeaseNamespace));
      next.mutable_spec()->set_holderidentity(name);
      next.mutable_spec()->set_leasedurationseconds(40);
    }
    api::Timestamp now = api::ToTimestamp(env.clock.Now());
    next.mutable_spec()->mutable_renewtime()->set_seconds(now.seconds);
    next.mutable_spec()->mutable_renewtime()->set_nanos(now.nanos);
    const auto& resource = ResourceOf(coordv1::Lease::descriptor());
    Result<client::ObjectPtr> written = lease.ok() ? env.api.Update(resource, std::string(kNodeLeaseNamespace), next)
                                                   : env.api.Create(resource, std::string(kNodeLeaseNamespace), next);
    CK_CHECK(written.ok()) << written.status().message();
  }
  void RenewLeases(const std::vector<std::string>& names) {
    for (const auto& n : names) RenewLease(n);
  }

  // The kubelet posts Ready=`status` with a heartbeat now.
  void PostReady(const std::string& name, const std::string& status) {
    corev1::Node node = GetNode(name);
    corev1::NodeCondition* ready = api::FindCondition(node.mutable_status()->mutable_conditions(), "Ready");
    CK_CHECK(ready != nullptr);
    if (ready->status() != status) api::SetTime(ready->mutable_lasttransitiontime(), env.clock.Now());
    ready->set_status(status);
    ready->set_reason(status == "True" ? "KubeletReady" : "KubeletNotReady");
    ready->set_message("");
    api::SetTime(ready->mutable_lastheartbeattime(), env.clock.Now());
    Result<client::ObjectPtr> written = env.api.Update(ResourceOf(corev1::Node::descriptor()), "", node, "status");
    CK_CHECK(written.ok()) << written.status().message();
  }

  corev1::Node GetNode(const std::string& name) {
    Result<corev1::Node> node = env.Get<corev1::Node>("", name);
    CK_CHECK(node.ok()) << node.status().message();
    return *node;
  }
  std::string ReadyStatus(const std::string& name) {
    corev1::Node node = GetNode(name);
    const corev1::NodeCondition* ready = api::FindCondition(node.status().conditions(), "Ready");
    return ready == nullptr ? "" : ready->status();
  }
  bool HasTaint(const std::string& name, std::string_view key, std::string_view effect) {
    return TaintExists(GetNode(name).spec().taints(), MakeTaint(key, effect));
  }

  // True when the cache of `informer` holds exactly what the fake API stores (same keys, same
  // resourceVersions).
  bool CaughtUp(const client::SharedIndexInformer& informer) {
    const std::string& ns = informer.options().list_watch.ns;
    size_t expected = 0;
    for (const client::ObjectPtr& object : env.api.Objects(informer.resource())) {
      const auto& meta = api::MetaOf(*object);
      if (!ns.empty() && meta.namespace_() != ns) continue;
      ++expected;
      client::ObjectPtr cached = informer.GetIndexer().Get(api::ObjectKey(meta));
      if (cached == nullptr || api::MetaOf(*cached).resourceversion() != meta.resourceversion()) return false;
    }
    return informer.GetIndexer().size() == expected;
  }
  // Waits (real time, with a deadline) until every informer caught up; stops the test otherwise.
  void Settle(const std::vector<client::SharedIndexInformer*>& informers) {
    bool ok = client::testing::WaitFor([&] {
      for (auto* informer : informers) {
        if (!CaughtUp(*informer)) return false;
      }
      return true;
    });
    CK_CHECK(ok) << "informers did not catch up with the fake API";
  }

  // Events recorded with `reason` whose message is `message` ("" = any), once the broadcaster
  // wrote them (waits up to the deadline for at least `at_least`).
  std::vector<corev1::Event> WaitEvents(const std::string& reason, const std::string& message = "",
                                        size_t at_least = 1) {
    std::vector<corev1::Event> out;
    client::testing::WaitFor([&] {
      out.clear();
      for (auto& e : env.Events(reason)) {
        if (message.empty() || e.message() == message) out.push_back(e);
      }
      return out.size() >= at_least;
    }, std::chrono::seconds(5));
    return out;
  }

  ControllerTestEnv env;
};

}  // namespace ck::controller_manager::testing
