// The Pod Security Standards (upstream k8s.io/pod-security-admission/policy): the checks of the
// baseline and restricted levels and the namespace-label form of a policy ("restricted:latest").
// Every v1.x version is evaluated with the latest checks (Clearkube serves one API version);
// the version is kept only to name the policy in messages as the label spelled it.
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/meta_v1.pb.h"
#include "common/base/status.h"

namespace ck::apiserver::podsecurity {

namespace corev1 = ::k8s::io::api::core::v1;
namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;

enum class Level { kPrivileged, kBaseline, kRestricted };
std::string_view LevelName(Level level);  // "privileged", "baseline", "restricted"

struct LevelVersion {
  Level level = Level::kPrivileged;
  std::string version = "latest";  // "latest" or "v1.<minor>"
  std::string String() const;      // "restricted:latest"
  friend bool operator==(const LevelVersion&, const LevelVersion&) = default;
};

// Parses a level label value ("privileged" | "baseline" | "restricted").
Result<Level> ParseLevel(std::string_view value);
// Parses a version label value ("latest" | "v1.<minor>").
Result<std::string> ParseVersion(std::string_view value);

// One failed check: "host namespaces" / "hostNetwork=true".
struct Violation {
  std::string reason;
  std::string detail;
};

// Every check of `level` the pod fails, in upstream's order (baseline checks by id, then the
// restricted ones; restricted replaces the baseline capability, hostPath and seccomp checks).
std::vector<Violation> CheckPod(Level level, const metav1::ObjectMeta& meta, const corev1::PodSpec& spec);

// "reason (detail), reason (detail)" — the text after `violates PodSecurity "x":`.
std::string FormatViolations(const std::vector<Violation>& violations);
// "reason, reason" — the short form used when listing existing pods.
std::string FormatReasons(const std::vector<Violation>& violations);

}  // namespace ck::apiserver::podsecurity
