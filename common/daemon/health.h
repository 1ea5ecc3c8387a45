// Health endpoints as upstream components serve them: /livez, /readyz and /healthz, each with
// `?verbose`, `?exclude=<check>` and per-check paths (/readyz/<check>).
//
//   [+]ping ok
//   [-]storage failed: reason withheld
//   readyz check failed
//
// /livez runs the liveness checks; /readyz runs liveness + readiness checks (including
// `shutdown`, which fails once the daemon starts draining); /healthz runs all of them.
// Machines read the status code only (200 or 500); people read the list.
// Threading: checks may be added at any time and are run on the caller's thread.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/net/http.h"

namespace ck::daemon {

using HealthCheck = std::function<Status()>;

class HealthChecks {
 public:
  HealthChecks();
  void AddLiveness(std::string name, HealthCheck check);
  void AddReadiness(std::string name, HealthCheck check);

  // True for the paths this object answers (/livez, /readyz, /healthz and their /<check>).
  static bool Handles(std::string_view path);
  // Answers one of those paths; `raw_query` carries verbose / exclude.
  net::Response Serve(std::string_view path, std::string_view raw_query) const;

 private:
  struct Named {
    std::string name;
    HealthCheck check;
    bool liveness;
  };
  mutable std::mutex mu_;
  std::vector<Named> checks_;  // guarded by mu_
};

}  // namespace ck::daemon
