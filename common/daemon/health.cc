#include "common/daemon/health.h"

#include <algorithm>

#include "common/base/log.h"
#include "common/net/url.h"

namespace ck::daemon {

HealthChecks::HealthChecks() {
  AddLiveness("ping", [] { return Status::Ok(); });
  AddLiveness("log", [] { return Status::Ok(); });
}

void HealthChecks::AddLiveness(std::string name, HealthCheck check) {
  std::lock_guard lock(mu_);
  checks_.push_back({std::move(name), std::move(check), true});
}

void HealthChecks::AddReadiness(std::string name, HealthCheck check) {
  std::lock_guard lock(mu_);
  checks_.push_back({std::move(name), std::move(check), false});
}

bool HealthChecks::Handles(std::string_view path) {
  for (std::string_view root : {"/livez", "/readyz", "/healthz"}) {
    if (path == root || (path.starts_with(root) && path.size() > root.size() && path[root.size()] == '/')) return true;
  }
  return false;
}

net::Response HealthChecks::Serve(std::string_view path, std::string_view raw_query) const {
  std::string_view root = path.substr(0, path.find('/', 1));
  std::string_view kind = root.substr(1);  // livez | readyz | healthz
  std::string_view single = path.size() > root.size() + 1 ? path.substr(root.size() + 1) : std::string_view();
  auto query = net::Query::Parse(raw_query).value_or(net::Query());
  bool verbose = query.Has("verbose");
  auto excluded = query.GetAll("exclude");

  std::vector<Named> checks;
  {
    std::lock_guard lock(mu_);
    for (const auto& c : checks_) {
      if (kind == "livez" && !c.liveness) continue;
      checks.push_back(c);
    }
  }
  net::Response res;
  res.headers.Add("Content-Type", "text/plain; charset=utf-8");
  res.headers.Add("X-Content-Type-Options", "nosniff");
  if (!single.empty()) {
    auto it = std::find_if(checks.begin(), checks.end(), [&](const Named& c) { return c.name == single; });
    if (it == checks.end()) {
      res.status = 404;
      res.body = "404 page not found\n";
      return res;
    }
    Status s = it->check();
    if (s.ok()) {
      res.body = "ok";
    } else {
      res.status = 500;
      res.body = "internal server error: " + s.message() + "\n";
    }
    return res;
  }
  bool failed = false;
  std::string list;
  for (const auto& c : checks) {
    if (std::find(excluded.begin(), excluded.end(), c.name) != excluded.end()) {
      list += "[+]" + c.name + " excluded: ok\n";
      continue;
    }
    Status s = c.check();
    if (s.ok()) {
      list += "[+]" + c.name + " ok\n";
    } else {
      failed = true;
      list += "[-]" + c.name + " failed: reason withheld\n";
      CK_VLOG(1, "Health check failed", "endpoint", kind, "check", c.name, "err", s.message());
    }
  }
  if (failed) {
    res.status = 500;
    res.body = list + std::string(kind) + " check failed\n";
  } else if (verbose) {
    res.body = list + std::string(kind) + " check passed\n";
  } else {
    res.body = "ok";
  }
  return res;
}

}  // namespace ck::daemon
