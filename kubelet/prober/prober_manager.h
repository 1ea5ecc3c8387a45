// ProbeManager: startup, liveness and readiness probes of every container on the node (the
// kubelet's prober manager). One worker per (pod, container, probe kind) probes on its
// periodSeconds with initialDelaySeconds, timeoutSeconds, successThreshold and failureThreshold
// as upstream; exec probes run through ContainerRuntime::ExecSync, httpGet and tcpSocket connect
// to the pod IP (or `host`). Liveness and readiness wait until the startup probe succeeded.
// A result change calls `on_change(pod_uid)`: the pod sync then reads the results (a liveness
// failure makes it kill and restart the container; readiness feeds the Ready conditions).
// Unhealthy events carry upstream's messages ("Readiness probe failed: HTTP probe failed with
// statuscode: 500").
// Threading: one scheduler thread and a small pool (Deps::probe_threads) run every probe; every
// public method is safe from any thread. Destroying the manager waits for probes in flight.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"

namespace ck::client { class EventRecorder; }

namespace ck::kubelet {

class ContainerRuntime;

enum class ProbeResult { kUnknown, kSuccess, kFailure };

// The running instance of a container, as the pod sync knows it.
struct RunningContainer {
  std::string name;
  std::string id;
  WallTime started_at{};
};

class ProbeManager {
 public:
  struct Deps {
    ContainerRuntime* runtime = nullptr;
    Clock* clock = nullptr;
    client::EventRecorder* events = nullptr;  // may be null in tests
    std::function<void(const std::string& pod_uid)> on_change;
    // Called after every probe whose outcome was recorded (tests wait on it; may be empty).
    std::function<void()> on_probe_done;
    // Process mode: httpGet/tcpSocket targets outside 127.0.0.0/8 and ::1 fail instead of
    // being dialled (DESIGN.md §6).
    bool loopback_only = true;
    int probe_threads = 4;  // the pool that runs probes; one more thread schedules them
  };
  virtual ~ProbeManager() = default;

  // Starts workers for the pod's probes (idempotent per uid).
  virtual void AddPod(const k8s::io::api::core::v1::Pod& pod) = 0;
  // Stops the pod's workers and forgets its results.
  virtual void RemovePod(const std::string& pod_uid) = 0;
  // The pod sync tells the workers which container instance is running now (and the pod IP);
  // results belong to one container id and reset when the id changes.
  virtual void UpdatePod(const std::string& pod_uid, const std::string& pod_ip,
                         const std::vector<RunningContainer>& running) = 0;

  // Results for the current instance of a container. A container without that probe answers:
  // readiness kSuccess, liveness kSuccess, startup kSuccess. A container with a probe that has not
  // run yet answers kUnknown (readiness: not ready; startup: not started; liveness: no action).
  virtual ProbeResult Readiness(const std::string& pod_uid, const std::string& container) const = 0;
  virtual ProbeResult Liveness(const std::string& pod_uid, const std::string& container) const = 0;
  virtual ProbeResult Startup(const std::string& pod_uid, const std::string& container) const = 0;
};

// The real manager: worker threads probing on their periods.
std::unique_ptr<ProbeManager> NewProbeManager(ProbeManager::Deps deps);

}  // namespace ck::kubelet
