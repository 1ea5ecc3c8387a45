// Test fixture of the allocation tests: a real Registry and WatchCache over a store, with the
// ServiceAllocator hook installed, and a builder for readable Services:
//   Create(Svc("web").Type("NodePort").Port(80, "TCP", 30080))
// Test-only; each fixture belongs to its test.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "apiserver/allocation/allocation.h"
#include "apiserver/registry.h"
#include "apiserver/watch_cache.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"
#include "common/base/random.h"
#include "store/memory_store.h"

namespace ck::apiserver::allocation {

namespace corev1 = k8s::io::api::core::v1;

class Svc {
 public:
  explicit Svc(std::string name) {
    svc_.mutable_metadata()->set_name(std::move(name));
    (*svc_.mutable_spec()->mutable_selector())["app"] = svc_.metadata().name();
  }
  Svc& Type(std::string type) {
    svc_.mutable_spec()->set_type(std::move(type));
    return *this;
  }
  Svc& ClusterIP(std::string ip) {
    svc_.mutable_spec()->set_clusterip(std::move(ip));
    return *this;
  }
  // A port named "<protocol>-<port>" (lower case), so that several ports validate.
  Svc& Port(int32_t port, std::string protocol = "TCP", int32_t node_port = 0) {
    auto* p = svc_.mutable_spec()->add_ports();
    std::string name = protocol + "-" + std::to_string(port);
    for (auto& c : name) c = static_cast<char>(std::tolower(c));
    p->set_name(name);
    p->set_port(port);
    p->set_protocol(std::move(protocol));
    if (node_port) p->set_nodeport(node_port);
    return *this;
  }
  Svc& ExternalName(std::string host) {
    svc_.mutable_spec()->set_type("ExternalName");
    svc_.mutable_spec()->set_externalname(std::move(host));
    return *this;
  }
  Svc& NoSelector() {
    svc_.mutable_spec()->clear_selector();
    return *this;
  }
  Svc& LocalTraffic() {
    svc_.mutable_spec()->set_externaltrafficpolicy("Local");
    return *this;
  }
  Svc& Finalizer(std::string f) {
    svc_.mutable_metadata()->add_finalizers(std::move(f));
    return *this;
  }
  Svc& Edit(const std::function<void(corev1::Service*)>& f) {
    f(&svc_);
    return *this;
  }
  std::unique_ptr<corev1::Service> Build() const { return std::make_unique<corev1::Service>(svc_); }

 private:
  corev1::Service svc_;
};

class AllocationFixture : public ::testing::Test {
 protected:
  void SetUp() override { Start(store::NewMemoryStore()); }

  // (Re)builds cache, registry and allocator over `store` with the given ranges.
  void Start(std::unique_ptr<store::Store> store, const std::string& cidr = "10.96.0.0/12",
             const std::string& ports = "30000-32767") {
    registry_.reset();
    cache_.reset();
    store_ = std::move(store);
    cache_ = std::make_unique<WatchCache>(store_.get());
    ASSERT_TRUE(cache_->Start().ok());
    registry_ = std::make_unique<Registry>(store_.get(), cache_.get(), &clock_, &random_);
    auto config = ParseAllocationOptions({cidr, ports});
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config_ = *config;
    allocator_ = std::make_unique<ServiceAllocator>(store_.get(), *config, &random_);
    registry_->SetAllocationHook(allocator_->Hook(), ServiceAllocator::Applies);
  }
  void Restart(const std::string& cidr, const std::string& ports = "30000-32767") {
    Start(std::move(store_), cidr, ports);
  }

  static const ResourceInfo& Services() { return *FindResource("", "v1", "services"); }

  Result<corev1::Service> Create(const Svc& s, WriteOptions options = {}, ErrorDetails* details = nullptr) {
    auto r = registry_->Create(Services(), "default", s.Build(), options, details);
    if (!r.ok()) return r.status();
    return static_cast<const corev1::Service&>(**r);
  }
  Result<corev1::Service> Get(const std::string& name) {
    auto r = registry_->Get(Services(), "default", name);
    if (!r.ok()) return r.status();
    return static_cast<const corev1::Service&>(**r);
  }
  // A PUT of `svc` as the caller gives it.
  Result<corev1::Service> Put(const corev1::Service& svc, WriteOptions options = {}, ErrorDetails* details = nullptr) {
    auto r = registry_->Update(Services(), "default", svc.metadata().name(), std::make_unique<corev1::Service>(svc),
                               options, details);
    if (!r.ok()) return r.status();
    return static_cast<const corev1::Service&>(**r);
  }
  // A patch-like change of the stored object.
  Result<corev1::Service> Change(const std::string& name, const std::function<void(corev1::Service*)>& f) {
    auto r = registry_->GuaranteedUpdate(Services(), "default", name, [&](Message* m) {
      f(static_cast<corev1::Service*>(m));
      return Status::Ok();
    }, {});
    if (!r.ok()) return r.status();
    return static_cast<const corev1::Service&>(**r);
  }
  Status Delete(const std::string& name, DeleteOptions options = {}) {
    auto r = registry_->Delete(Services(), "default", name, options);
    return r.ok() ? Status::Ok() : r.status();
  }

  // The value of an allocation key ("" if absent).
  std::string HolderOf(const std::string& key) {
    auto kv = store_->Get(key);
    return kv.ok() ? kv->value : "";
  }
  std::string IpHolder(const std::string& ip) { return HolderOf(IpAllocationKey(ip)); }
  std::string PortHolder(int32_t port) { return HolderOf(NodePortAllocationKey(port)); }
  std::vector<std::string> Keys(std::string_view prefix) {
    std::string p(prefix);
    auto r = store_->Range(p, store::PrefixEnd(p));
    EXPECT_TRUE(r.ok());
    std::vector<std::string> out;
    for (const auto& kv : r->kvs) out.push_back(kv.key.substr(p.size()));
    return out;
  }
  static std::string Owner(const corev1::Service& svc) {
    return "default/" + svc.metadata().name() + "/" + svc.metadata().uid();
  }

  FakeClock clock_;
  FakeRandom random_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<WatchCache> cache_;
  std::unique_ptr<Registry> registry_;
  AllocationConfig config_;
  std::unique_ptr<ServiceAllocator> allocator_;
};

}  // namespace ck::apiserver::allocation
