// The network probes (upstream pkg/probe/http and pkg/probe/tcp): one blocking httpGet or
// tcpSocket check against an address with a deadline, answered the way upstream's prober does,
// including Go's error texts (`dial tcp 127.0.0.1:1: connect: connection refused`).
// httpGet: HTTP/1.1 GET (HTTPS without certificate checks), redirects to the same host followed
// (at most 10), a redirect to another host ends the probe with a warning; 200-399 succeed; at most
// 10 KiB of the body is read. Only IP literals (and "localhost") are dialled; nothing is resolved
// through DNS, and with `loopback_only` an address outside 127.0.0.0/8 and ::1 fails the probe.
// Threading: pure functions; call from any thread.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/status.h"

namespace ck::kubelet {

struct ProbeOutcome {
  // kError: the probe could not be run (upstream discards the result and records "probe errored").
  enum Verdict { kSuccess, kWarning, kFailure, kError } verdict = kFailure;
  std::string output;  // body, failure reason or warning text
};

struct HttpProbeTarget {
  std::string scheme = "http";  // "http" or "https"
  std::string host;             // IP literal or "localhost"
  int port = 0;
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> headers;  // as given in httpHeaders
  bool loopback_only = true;
};

inline constexpr size_t kMaxProbeBodyBytes = 10 * 1024;
inline constexpr char kProbeUserAgent[] = "kube-probe/1.32";

ProbeOutcome DoHttpProbe(const HttpProbeTarget& target, std::chrono::milliseconds timeout);
ProbeOutcome DoTcpProbe(const std::string& host, int port, std::chrono::milliseconds timeout,
                        bool loopback_only = true);

// A probe's port: a number, or the name of one of the container's ports (a string of digits is
// taken as a number). BadRequest `port http not found` / `invalid port number: 0`.
Result<int> ResolveContainerPort(const k8s::io::apimachinery::pkg::util::intstr::IntOrString& port,
                                 const k8s::io::api::core::v1::Container& container);

}  // namespace ck::kubelet
