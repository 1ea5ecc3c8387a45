#include "tests/testutil/fake_kubelet.h"

#include <algorithm>

#include "common/api/object.h"
#include "common/api/proto/coordination_v1.pb.h"
#include "common/api/time_format.h"
#include "common/base/clock.h"
#include "common/base/log.h"
#include "common/base/random.h"
#include "common/base/strings.h"
#include "common/base/thread.h"

namespace ck::testutil {

namespace corev1 = ::k8s::io::api::core::v1;
namespace coordv1 = ::k8s::io::api::coordination::v1;

namespace {

const client::ResourceInfo& Res(const google::protobuf::Descriptor* d) {
  return client::SharedInformerFactory::ResourceOfMessage(d->full_name());
}

std::string NowText() { return api::FormatRfc3339(api::ToTimestamp(RealClock::Get().Now())); }
std::string NowMicro() { return api::FormatRfc3339Micro(api::ToTimestamp(RealClock::Get().Now())); }

}  // namespace

FakeKubelets::FakeKubelets(client::ApiClient& api, std::vector<FakeNode> nodes, Options options)
    : api_(api),
      nodes_(std::move(nodes)),
      options_(std::move(options)),
      factory_(api, RealClock::Get(), RealRandom::Get()) {
  for (const FakeNode& n : nodes_) node_names_.insert(n.name);
}

FakeKubelets::~FakeKubelets() { Stop(); }

Status FakeKubelets::RegisterNode(const FakeNode& n) {
  corev1::Node node;
  node.mutable_metadata()->set_name(n.name);
  auto& labels = *node.mutable_metadata()->mutable_labels();
  labels["kubernetes.io/hostname"] = n.name;
  labels["kubernetes.io/os"] = "linux";
  for (const auto& [k, v] : n.labels) labels[k] = v;
  for (const auto& t : n.taints) {
    corev1::Taint* taint = node.mutable_spec()->add_taints();
    taint->set_key(t[0]);
    taint->set_value(t[1]);
    taint->set_effect(t[2]);
  }
  Result<client::ObjectPtr> created = api_.Create(Res(corev1::Node::descriptor()), "", node);
  if (!created.ok() && created.status().code() != Code::kAlreadyExists) return created.status();
  std::string status = R"({"status":{"capacity":{"cpu":)" + JsonString(n.cpu) + R"(,"memory":)" +
                       JsonString(n.memory) + R"(,"pods":)" + JsonString(n.pods) + R"(},"allocatable":{"cpu":)" +
                       JsonString(n.cpu) + R"(,"memory":)" + JsonString(n.memory) + R"(,"pods":)" +
                       JsonString(n.pods) + R"(},"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady",)"
                       R"("message":"kubelet is posting ready status","lastHeartbeatTime":)" +
                       JsonString(NowText()) + R"(,"lastTransitionTime":)" + JsonString(NowText()) +
                       R"(}],"addresses":[{"type":"InternalIP","address":"127.0.0.1"},{"type":"Hostname","address":)" +
                       JsonString(n.name) + "}]}}";
  CK_RETURN_IF_ERROR(
      api_.Patch(Res(corev1::Node::descriptor()), "", n.name, client::PatchType::kMerge, status, "status").status());
  coordv1::Lease lease;
  lease.mutable_metadata()->set_name(n.name);
  lease.mutable_spec()->set_holderidentity(n.name);
  lease.mutable_spec()->set_leasedurationseconds(40);
  Result<client::ObjectPtr> l = api_.Create(Res(coordv1::Lease::descriptor()), "kube-node-lease", lease);
  if (!l.ok() && l.status().code() != Code::kAlreadyExists) return l.status();
  return Heartbeat(n.name);
}

Status FakeKubelets::Heartbeat(const std::string& node) {
  return api_
      .Patch(Res(coordv1::Lease::descriptor()), "kube-node-lease", node, client::PatchType::kMerge,
             R"({"spec":{"renewTime":)" + JsonString(NowMicro()) + "}}")
      .status();
}

Status FakeKubelets::Start() {
  for (const FakeNode& n : nodes_) CK_RETURN_IF_ERROR(RegisterNode(n));
  auto pods = factory_.ForKind<corev1::Pod>();
  pods.AddEventHandler(client::TypedEventHandler<corev1::Pod>{
      .on_add = [this](const auto& pod, bool) { Enqueue(pod); },
      .on_update = [this](const auto&, const auto& pod) { Enqueue(pod); },
  });
  factory_.Start();
  for (int i = 0; i < std::max(1, options_.workers); ++i) workers_.emplace_back([this] { Work(); });
  leases_ = std::thread([this] { LeaseLoop(); });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!pods.Informer().HasSynced()) {
    if (std::chrono::steady_clock::now() > deadline) return Unavailable("pod informer did not sync");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return Status::Ok();
}

void FakeKubelets::Stop() {
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard lock(mu_);  // a waiter between its check and its wait must not miss this
  }
  cv_.notify_all();
  lease_cv_.notify_all();
  factory_.Shutdown();
  for (auto& w : workers_) w.join();
  workers_.clear();
  if (leases_.joinable()) leases_.join();
}

void FakeKubelets::Silence(const std::string& node) {
  std::lock_guard lock(mu_);
  silenced_.insert(node);
}

bool FakeKubelets::Mine(const corev1::Pod& pod) const {
  return node_names_.count(pod.spec().nodename()) || (options_.adopt_unscheduled && pod.spec().nodename().empty());
}

void FakeKubelets::Enqueue(const std::shared_ptr<const corev1::Pod>& pod) {
  if (!Mine(*pod)) return;
  const bool deleting = pod->metadata().has_deletiontimestamp();
  {
    std::lock_guard lock(mu_);
    if (silenced_.count(pod->spec().nodename())) return;  // a dead node does nothing
    if (!deleting && done_.count(pod->metadata().uid())) return;
    auto when = std::chrono::steady_clock::now() + (deleting ? std::chrono::milliseconds(0) : options_.ready_delay);
    due_.emplace(when, api::ObjectKey(pod->metadata()));
  }
  cv_.notify_all();
}

void FakeKubelets::Work() {
  SetCurrentThreadName("fake-kubelet");
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (due_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto it = due_.begin();
    if (it->first > std::chrono::steady_clock::now()) {
      cv_.wait_until(lock, it->first);
      continue;
    }
    std::string key = it->second;
    due_.erase(it);
    lock.unlock();
    Handle(key);
    lock.lock();
  }
}

void FakeKubelets::Handle(const std::string& key) {
  auto split = api::SplitObjectKey(key);
  if (!split.ok()) return;
  auto pods = factory_.ForKind<corev1::Pod>();
  Result<std::shared_ptr<const corev1::Pod>> got = pods.Lister().Get(split->first, split->second);
  if (!got.ok()) return;
  const corev1::Pod& pod = **got;
  if (!Mine(pod)) return;
  const client::ResourceInfo& r = Res(corev1::Pod::descriptor());
  if (pod.metadata().has_deletiontimestamp()) {
    // The containers are stopped: confirm the deletion, as the kubelet does.
    client::DeleteOptions o;
    o.grace_period_seconds = 0;
    o.precondition_uid = pod.metadata().uid();
    (void)api_.Delete(r, pod.metadata().namespace_(), pod.metadata().name(), o);
    return;
  }
  {
    std::lock_guard lock(mu_);
    if (done_.count(pod.metadata().uid())) return;
  }
  Outcome outcome = options_.outcome ? options_.outcome(pod) : Outcome::kRunReady;
  if (outcome == Outcome::kStayPending) return;
  uint32_t n = ++next_ip_;
  std::string ip = "10.244." + std::to_string((n >> 8) & 0xff) + "." + std::to_string(n & 0xff);
  std::string now = JsonString(NowText());
  const bool running = outcome == Outcome::kRunReady || outcome == Outcome::kRunNotReady;
  const bool ready = outcome == Outcome::kRunReady;
  std::string phase = running ? "Running" : outcome == Outcome::kSucceed ? "Succeeded" : "Failed";
  std::string containers;
  for (const auto& c : pod.spec().containers()) {
    if (!containers.empty()) containers += ",";
    containers += R"({"name":)" + JsonString(c.name()) + R"(,"image":)" + JsonString(c.image()) +
                  R"(,"imageID":"","restartCount":0,"ready":)" + (ready ? "true" : "false") +
                  R"(,"started":)" + (running ? "true" : "false") + R"(,"state":)";
    if (running) {
      containers += R"({"running":{"startedAt":)" + now + "}}}";
    } else {
      containers += R"({"terminated":{"exitCode":)" + std::string(outcome == Outcome::kSucceed ? "0" : "1") +
                    R"(,"reason":)" + (outcome == Outcome::kSucceed ? "\"Completed\"" : "\"Error\"") +
                    R"(,"startedAt":)" + now + R"(,"finishedAt":)" + now + "}}}";
    }
  }
  std::string cond = ready ? "\"True\"" : "\"False\"";
  std::string body = R"({"status":{"phase":)" + JsonString(phase) + R"(,"hostIP":"127.0.0.1","podIP":)" +
                     JsonString(ip) + R"(,"podIPs":[{"ip":)" + JsonString(ip) + R"(}],"startTime":)" + now +
                     R"(,"conditions":[{"type":"PodScheduled","status":"True","lastTransitionTime":)" + now +
                     R"(},{"type":"Initialized","status":"True","lastTransitionTime":)" + now +
                     R"(},{"type":"ContainersReady","status":)" + cond + R"(,"lastTransitionTime":)" + now +
                     R"(},{"type":"Ready","status":)" + cond + R"(,"lastTransitionTime":)" + now +
                     R"(}],"containerStatuses":[)" + containers + "]}}";
  Status s = api_.Patch(r, pod.metadata().namespace_(), pod.metadata().name(), client::PatchType::kMerge, body, "status")
                 .status();
  if (s.ok()) {
    std::lock_guard lock(mu_);
    done_.insert(pod.metadata().uid());
    ++started_;
  } else if (s.code() != Code::kNotFound) {
    // Retry shortly (a conflict or a busy server).
    std::lock_guard lock(mu_);
    due_.emplace(std::chrono::steady_clock::now() + std::chrono::milliseconds(50), key);
  }
}

Status FakeKubelets::SetReady(const std::string& ns, const std::string& name, bool ready) {
  std::string cond = ready ? "\"True\"" : "\"False\"";
  std::string now = JsonString(NowText());
  std::string body = R"({"status":{"conditions":[{"type":"PodScheduled","status":"True","lastTransitionTime":)" + now +
                     R"(},{"type":"Initialized","status":"True","lastTransitionTime":)" + now +
                     R"(},{"type":"ContainersReady","status":)" + cond + R"(,"lastTransitionTime":)" + now +
                     R"(},{"type":"Ready","status":)" + cond + R"(,"lastTransitionTime":)" + now + "}]}}";
  return api_.Patch(Res(corev1::Pod::descriptor()), ns, name, client::PatchType::kMerge, body, "status").status();
}

void FakeKubelets::LeaseLoop() {
  SetCurrentThreadName("fake-leases");
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lease_cv_.wait_for(lock, options_.lease_renew_interval);
    if (stopping_) break;
    std::vector<std::string> alive;
    for (const FakeNode& n : nodes_) {
      if (!silenced_.count(n.name)) alive.push_back(n.name);
    }
    lock.unlock();
    for (const std::string& n : alive) (void)Heartbeat(n);
    lock.lock();
  }
}

}  // namespace ck::testutil
