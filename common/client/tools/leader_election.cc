#include "common/client/tools/leader_election.h"

#include <google/protobuf/util/message_differencer.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "common/api/object.h"
#include "common/api/time_format.h"

#include "common/base/log.h"

namespace ck::client {
namespace {

namespace coordv1 = ::k8s::io::api::coordination::v1;
namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;

const coordv1::Lease& AsLease(const ObjectPtr& o) { return static_cast<const coordv1::Lease&>(*o); }

const ResourceInfo& LeasesResource() {
  const ResourceInfo* r = api::FindResource("coordination.k8s.io", "v1", "leases");
  CK_CHECK(r != nullptr) << "leases.coordination.k8s.io missing from the resource table";
  return *r;
}

}  // namespace

Result<std::unique_ptr<LeaderElector>> LeaderElector::Create(ApiClient& api, Clock& clock,
                                                             LeaderElectionConfig config, Random& random,
                                                             metrics::Registry& registry) {
  const LeaderElectionTimings& t = config.timings;
  if (t.lease_duration <= t.renew_deadline)
    return Invalid("leaseDuration must be greater than renewDeadline");
  if (t.renew_deadline.count() <= kJitterFactor * static_cast<double>(t.retry_period.count())) {
    return Invalid("renewDeadline must be greater than retryPeriod*JitterFactor");
  }
  if (t.lease_duration < std::chrono::seconds(1)) return Invalid("leaseDuration must be greater than zero");
  if (t.renew_deadline <= Duration::zero()) return Invalid("renewDeadline must be greater than zero");
  if (t.retry_period <= Duration::zero()) return Invalid("retryPeriod must be greater than zero");
  // The lease stores whole seconds; a rounded-down duration would break rule (a).
  if (t.lease_duration % std::chrono::seconds(1) != Duration::zero()) {
    return Invalid("leaseDuration must be a whole number of seconds");
  }
  if (!config.callbacks.on_started_leading) return Invalid("OnStartedLeading callback must not be nil");
  if (!config.callbacks.on_stopped_leading) return Invalid("OnStoppedLeading callback must not be nil");
  if (config.identity.empty()) return Invalid("Lock identity is empty");
  if (config.lease_name.empty()) return Invalid("Lease name is empty");
  if (config.lease_namespace.empty()) return Invalid("Lease namespace is empty");
  if (config.name.empty()) config.name = config.lease_name;
  return std::unique_ptr<LeaderElector>(new LeaderElector(api, clock, std::move(config), random, registry));
}

LeaderElector::LeaderElector(ApiClient& api, Clock& clock, LeaderElectionConfig config, Random& random,
                             metrics::Registry& registry)
    : api_(api),
      clock_(clock),
      config_(std::move(config)),
      random_(random),
      master_status_(
          registry
              .GaugeFamily("leader_election_master_status",
                           "Gauge of if the reporting system is master of the relevant lease, 0 indicates "
                           "backup, 1 indicates master. 'name' is the string used to identify the lease.",
                           {"name"})
              .With({config_.name})),
      leases_(LeasesResource()) {
  master_status_.Set(0);
}

LeaderElector::~LeaderElector() = default;

bool LeaderElector::stopping() const {
  std::lock_guard lock(mu_);
  return stop_;
}

void LeaderElector::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wakeup_.Notify();
}

bool LeaderElector::IsLeader() const {
  std::lock_guard lock(mu_);
  return leading_ && clock_.Monotonic() < renew_deadline_at_;
}

std::string LeaderElector::GetLeader() const {
  std::lock_guard lock(mu_);
  return observed_.holderidentity();
}

Duration LeaderElector::Jittered(Duration d) {
  return d + std::chrono::duration_cast<Duration>(d * (kJitterFactor * random_.Double()));
}

void LeaderElector::Observe(const coordv1::Lease& lease) {
  std::lock_guard lock(mu_);
  // Upstream's observedTime: the local time this exact record was first seen.
  if (!observed_any_ || !google::protobuf::util::MessageDifferencer::Equals(observed_, lease.spec())) {
    observed_ = lease.spec();
    observed_time_ = clock_.Monotonic();
    observed_any_ = true;
  }
}

LeaderElector::Outcome LeaderElector::WriteLease(const ObjectPtr& base, bool create) {
  coordv1::Lease next;
  if (base != nullptr) {
    next = AsLease(base);  // keeps metadata.resourceVersion: the write is conditional on it
  } else {
    next.mutable_metadata()->set_name(config_.lease_name);
    next.mutable_metadata()->set_namespace_(config_.lease_namespace);
  }
  coordv1::LeaseSpec* spec = next.mutable_spec();
  const bool ours = base != nullptr && spec->holderidentity() == config_.identity;
  const WallTime now = clock_.Now();
  spec->set_holderidentity(config_.identity);
  spec->set_leasedurationseconds(static_cast<int32_t>(
      std::chrono::duration_cast<std::chrono::seconds>(config_.timings.lease_duration).count()));
  api::SetMicroTime(spec->mutable_renewtime(), now);
  if (!ours) {
    api::SetMicroTime(spec->mutable_acquiretime(), now);
    spec->set_leasetransitions(base == nullptr ? 0 : spec->leasetransitions() + 1);
  }
  Result<ObjectPtr> written = create ? api_.Create(leases_, config_.lease_namespace, next)
                                     : api_.Update(leases_, config_.lease_namespace, next);
  if (!written.ok()) {
    const Code code = written.status().code();
    if (code == Code::kConflict || code == Code::kAlreadyExists) return Outcome::kConflict;
    CK_LOG_ERROR("Failed to update lock", "lease", config_.lease_namespace + "/" + config_.lease_name, "err",
                 written.status().ToString());
    return Outcome::kError;
  }
  Observe(AsLease(*written));
  std::lock_guard lock(mu_);
  observed_lease_ = *written;
  return Outcome::kHeld;
}

LeaderElector::Outcome LeaderElector::TryAcquireOrRenew() {
  bool leading;
  ObjectPtr cached;
  {
    std::lock_guard lock(mu_);
    leading = leading_;
    cached = observed_lease_;
  }
  // Fast path of a leader: write over the lease it last wrote. Any failure falls back to a read.
  if (leading && cached != nullptr && WriteLease(cached, false) == Outcome::kHeld) return Outcome::kHeld;

  Result<ObjectPtr> got = api_.Get(leases_, config_.lease_namespace, config_.lease_name);
  if (!got.ok()) {
    if (got.status().code() == Code::kNotFound) return WriteLease(nullptr, true);
    CK_LOG_ERROR("Error retrieving lease lock", "lease", config_.lease_namespace + "/" + config_.lease_name,
                 "err", got.status().ToString());
    return Outcome::kError;
  }
  const coordv1::LeaseSpec& spec = AsLease(*got).spec();
  Observe(AsLease(*got));
  {
    std::lock_guard lock(mu_);
    observed_lease_ = *got;
    if (!spec.holderidentity().empty() && spec.holderidentity() != config_.identity &&
        clock_.Monotonic() < observed_time_ + std::chrono::seconds(spec.leasedurationseconds())) {
      return Outcome::kHeldByOther;
    }
  }
  return WriteLease(*got, false);
}

void LeaderElector::ReportTransition() {
  std::string holder = GetLeader();
  if (holder == reported_leader_) return;
  reported_leader_ = holder;
  CK_LOG_INFO("New leader elected", "lease", config_.lease_namespace + "/" + config_.lease_name, "identity",
              holder);
  if (config_.callbacks.on_new_leader) config_.callbacks.on_new_leader(holder);
}

void LeaderElector::Run() {
  const std::string desc = config_.lease_namespace + "/" + config_.lease_name;
  const LeaderElectionTimings& t = config_.timings;
  CK_LOG_INFO("Attempting to acquire leader lease", "lease", desc, "identity", config_.identity);
  MonoTime last_renew;
  for (;;) {
    if (stopping()) return;
    MonoTime start = clock_.Monotonic();
    Outcome outcome = TryAcquireOrRenew();
    ReportTransition();
    if (outcome == Outcome::kHeld) {
      last_renew = start;
      break;
    }
    clock_.WaitUntil(wakeup_, clock_.Monotonic() + Jittered(t.retry_period));
  }
  {
    std::lock_guard lock(mu_);
    // Rule (a) is measured from when the successful write was sent.
    renew_deadline_at_ = last_renew + t.renew_deadline;
    leading_ = true;
  }
  CK_LOG_INFO("Successfully acquired lease", "lease", desc);
  master_status_.Set(1);
  config_.callbacks.on_started_leading();

  bool cancelled = false;
  MonoTime next_try = last_renew + t.retry_period;
  for (;;) {
    MonoTime deadline;
    {
      std::lock_guard lock(mu_);
      deadline = renew_deadline_at_;
    }
    MonoTime wake = std::min(next_try, deadline);
    while (!stopping() && clock_.Monotonic() < wake) clock_.WaitUntil(wakeup_, wake);
    if (stopping()) {
      cancelled = true;
      break;
    }
    if (clock_.Monotonic() >= deadline) {
      CK_LOG_INFO("Failed to renew lease: timed out waiting for the condition", "lease", desc);
      break;
    }
    MonoTime start = clock_.Monotonic();
    Outcome outcome = TryAcquireOrRenew();
    ReportTransition();
    if (clock_.Monotonic() >= deadline) {
      // The attempt outlived the deadline: IsLeader() has been false since; do not resume.
      CK_LOG_INFO("Failed to renew lease: the renew deadline passed during the attempt", "lease", desc);
      break;
    }
    if (outcome == Outcome::kHeld) {
      std::lock_guard lock(mu_);
      renew_deadline_at_ = start + t.renew_deadline;
      next_try = start + t.retry_period;
      continue;
    }
    if (outcome == Outcome::kHeldByOther || outcome == Outcome::kConflict) {
      // Someone else wrote the lease: it is theirs now.
      CK_LOG_INFO("Lost the lease to another holder", "lease", desc, "holder", GetLeader());
      break;
    }
    next_try = clock_.Monotonic() + t.retry_period;
  }
  {
    std::lock_guard lock(mu_);
    leading_ = false;
  }
  master_status_.Set(0);
  CK_LOG_INFO("Stopped leading", "lease", desc, "identity", config_.identity);
  config_.callbacks.on_stopped_leading();
  // Released only after this process has stopped acting.
  if (cancelled && config_.release_on_cancel) Release();
}

void LeaderElector::Release() {
  ObjectPtr cached;
  {
    std::lock_guard lock(mu_);
    cached = observed_lease_;
  }
  if (cached == nullptr || AsLease(cached).spec().holderidentity() != config_.identity) return;
  coordv1::Lease next = AsLease(cached);
  coordv1::LeaseSpec* spec = next.mutable_spec();
  const WallTime now = clock_.Now();
  spec->set_holderidentity("");
  spec->set_leasedurationseconds(1);
  api::SetMicroTime(spec->mutable_renewtime(), now);
  api::SetMicroTime(spec->mutable_acquiretime(), now);
  Result<ObjectPtr> written = api_.Update(leases_, config_.lease_namespace, next);
  if (!written.ok()) {
    CK_LOG_ERROR("Failed to release lock", "lease", config_.lease_namespace + "/" + config_.lease_name, "err",
                 written.status().ToString());
    return;
  }
  Observe(AsLease(*written));
  std::lock_guard lock(mu_);
  observed_lease_ = *written;
}

namespace {

Result<Duration> DurationFlag(const std::string& flag, const std::string& value, Duration fallback) {
  if (value.empty()) return fallback;
  Result<int64_t> nanos = api::ParseGoDuration(value);
  if (!nanos.ok()) return Status(Code::kInvalid, flag + ": " + nanos.status().message());
  if (*nanos <= 0) return Status(Code::kInvalid, flag + ": must be greater than zero");
  return std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(*nanos));
}

}  // namespace

Result<LeaderElectionTimings> ParseLeaderElectionTimings(const std::string& lease_duration,
                                                         const std::string& renew_deadline,
                                                         const std::string& retry_period,
                                                         const LeaderElectionTimings& defaults, bool leader_elect) {
  LeaderElectionTimings t;
  CK_ASSIGN_OR_RETURN(t.lease_duration,
                      DurationFlag("--leader-elect-lease-duration", lease_duration, defaults.lease_duration));
  CK_ASSIGN_OR_RETURN(t.renew_deadline,
                      DurationFlag("--leader-elect-renew-deadline", renew_deadline, defaults.renew_deadline));
  CK_ASSIGN_OR_RETURN(t.retry_period, DurationFlag("--leader-elect-retry-period", retry_period, defaults.retry_period));
  if (leader_elect) {
    if (t.lease_duration <= t.renew_deadline) {
      return Status(Code::kInvalid, "leaseDuration must be greater than renewDeadline");
    }
    if (t.renew_deadline <= t.retry_period * LeaderElector::kJitterFactor) {
      return Status(Code::kInvalid, "renewDeadline must be greater than retryPeriod*JitterFactor");
    }
    if (t.lease_duration % std::chrono::seconds(1) != Duration::zero()) {
      return Status(Code::kInvalid, "leaseDuration must be a whole number of seconds");
    }
  }
  return t;
}

std::string NewLeaderIdentity(Random& random) {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) std::snprintf(host, sizeof(host), "localhost");
  uint64_t a = random.Next(), b = random.Next();
  a = (a & ~0xf000ull) | 0x4000ull;                         // version 4
  b = (b & 0x3fffffffffffffffull) | 0x8000000000000000ull;  // variant 10
  char uuid[40];
  std::snprintf(uuid, sizeof(uuid), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffull));
  return std::string(host) + "_" + uuid;
}

}  // namespace ck::client
