// Verdict: what a scheduler plugin answers (upstream framework.Status). A verdict is not an
// error (STYLE.md #6): Unschedulable, UnschedulableAndUnresolvable, Pending and Skip are answers
// about the pod and the node, Error is something that went wrong and is retried with backoff.
//   Success                       the pod may go on (or: this plugin has nothing to say)
//   Unschedulable                 rejected here, but preemption or a cluster change may help
//   UnschedulableAndUnresolvable  rejected here, and evicting pods would not help
//   Wait                          Permit only: hold the pod until allowed or the timeout
//   Skip                          PreFilter/PreScore/Bind: this plugin does not apply to the pod
//   Pending                       rejected until something outside the scheduler changes
//   Error                         an internal failure; carries a ck::Status
// A Verdict is a plain value; not synchronized.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace ck::scheduler {

enum class VerdictCode { kSuccess, kError, kUnschedulable, kUnschedulableAndUnresolvable, kWait, kSkip, kPending };

std::string_view VerdictCodeName(VerdictCode code);

class Verdict {
 public:
  Verdict() = default;  // Success
  Verdict(VerdictCode code, std::vector<std::string> reasons) : code_(code), reasons_(std::move(reasons)) {}

  static Verdict Success() { return Verdict(); }
  static Verdict Unschedulable(std::string reason) { return Verdict(VerdictCode::kUnschedulable, {std::move(reason)}); }
  static Verdict UnschedulableAndUnresolvable(std::string reason) {
    return Verdict(VerdictCode::kUnschedulableAndUnresolvable, {std::move(reason)});
  }
  static Verdict Pending(std::string reason) { return Verdict(VerdictCode::kPending, {std::move(reason)}); }
  static Verdict Skip() { return Verdict(VerdictCode::kSkip, {}); }
  static Verdict Wait() { return Verdict(VerdictCode::kWait, {}); }
  // An internal failure; the message of `status` becomes the only reason.
  static Verdict Error(const ck::Status& status) { return Verdict(VerdictCode::kError, {status.message()}); }
  static Verdict Error(std::string message) { return Verdict(VerdictCode::kError, {std::move(message)}); }

  VerdictCode code() const { return code_; }
  bool IsSuccess() const { return code_ == VerdictCode::kSuccess; }
  bool IsSkip() const { return code_ == VerdictCode::kSkip; }
  bool IsWait() const { return code_ == VerdictCode::kWait; }
  bool IsError() const { return code_ == VerdictCode::kError; }
  // Unschedulable, UnschedulableAndUnresolvable or Pending: the pod does not fit (here).
  bool IsRejected() const {
    return code_ == VerdictCode::kUnschedulable || code_ == VerdictCode::kUnschedulableAndUnresolvable ||
           code_ == VerdictCode::kPending;
  }

  // Reasons are the short phrases counted in FailedScheduling ("Insufficient cpu").
  const std::vector<std::string>& reasons() const { return reasons_; }
  // The reasons joined with ", " (upstream Status.Message()).
  std::string Message() const;
  // The plugin that produced the verdict ("" until the framework records it).
  const std::string& plugin() const { return plugin_; }
  Verdict& WithPlugin(std::string_view plugin) {
    plugin_ = plugin;
    return *this;
  }
  // The error as a ck::Status (kInternal with the message); OK for every other code.
  ck::Status AsStatus() const;

  // "Unschedulable: Insufficient cpu" — for logs and tests.
  std::string String() const;

 private:
  VerdictCode code_ = VerdictCode::kSuccess;
  std::vector<std::string> reasons_;
  std::string plugin_;
};

}  // namespace ck::scheduler
