// Service ClusterIP and NodePort allocation, committed in the same store transaction as the
// Service write (upstream's ipallocator + portallocator + the Service REST begin/after hooks).
//
// Every address or port in use is one store key whose value names its owner Service:
//   /registry/ipallocations/<ip>          e.g. /registry/ipallocations/10.96.0.10
//   /registry/nodeportallocations/<port>  e.g. /registry/nodeportallocations/30080
//   value: "<namespace>/<name>/<uid>"
// Allocating is Compare(key absent) + Put, freeing is Delete, both appended to the Service's own
// transaction by the Registry's AllocationHook, so a Service and its allocations are never out of
// step (a crash loses both or neither). A transaction that loses a race for a key fails on its
// compare and the Registry allocates again. RepairAllocations fixes data written by older
// versions or by bugs (upstream's repair controllers).
// Threading: ServiceAllocator and RepairAllocations are safe to call from any thread; they read
// the store directly, not the watch cache (which ignores these keys).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "apiserver/allocation/range.h"
#include "apiserver/registry.h"
#include "common/base/random.h"
#include "common/base/status.h"
#include "store/store.h"

namespace ck::apiserver::allocation {

inline constexpr std::string_view kIpAllocationPrefix = "/registry/ipallocations/";
inline constexpr std::string_view kNodePortAllocationPrefix = "/registry/nodeportallocations/";

std::string IpAllocationKey(std::string_view ip);  // ip in dotted-quad form
std::string NodePortAllocationKey(int32_t port);

// The two kube-apiserver flags, as given on the command line.
struct AllocationOptions {
  std::string service_cluster_ip_range = "10.96.0.0/12";
  std::string service_node_port_range = "30000-32767";
};

struct AllocationConfig {
  ServiceIpRange cluster_ips;
  NodePortRange node_ports;
};

// Parses both flags. A bad value fails with kBadRequest and one line that names the flag, e.g.
// `--service-cluster-ip-range="10.0.0.0/8": too large; for 32-bit addresses, the mask must be >= 12`.
Result<AllocationConfig> ParseAllocationOptions(const AllocationOptions& options);

// The first usable address of the range (10.96.0.1 for 10.96.0.0/12): the `kubernetes` Service's
// clusterIP, which dynamic allocation never hands out, and a SAN of the API server certificate.
std::string KubernetesServiceIP(const AllocationConfig& config);

// Allocates and frees the ClusterIP, NodePorts and healthCheckNodePort of Services, as upstream's
// Service registry does:
// - create: a Service of type ClusterIP, NodePort or LoadBalancer without clusterIP gets a free
//   address (random start, then scan; never the first address, which belongs to the `kubernetes`
//   Service that the API server creates with clusterIP set); a requested address must be in the
//   range and free, else 422 `spec.clusterIPs: Invalid value: []string{"10.0.0.1"}: failed to
//   allocate IP 10.0.0.1: provided IP is already allocated` (or `...: provided IP is not in the
//   valid range. The range of valid IPs is 10.96.0.0/12`). Headless ("None") and ExternalName
//   Services get no address. A full range is 500 `Internal error occurred: failed to allocate a
//   serviceIP: range is full`. ipFamilies/ipFamilyPolicy are checked against this IPv4-only
//   cluster (422 `...: not configured on this cluster`).
// - NodePort and LoadBalancer (unless allocateLoadBalancerNodePorts is false): every port without
//   nodePort gets one (ports with the same port number share it); a requested nodePort must be
//   in range and free (422 `spec.ports[0].nodePort: Invalid value: 30080: provided port is
//   already allocated`). LoadBalancer with externalTrafficPolicy Local gets a healthCheckNodePort.
// - update: upstream's patchAllocatedValues (a PUT that omits clusterIP or nodePorts keeps the
//   allocated ones) and dropTypeDependentFields (switching type wipes clusterIP, nodePorts,
//   healthCheckNodePort, ... the user left unchanged), then new values are allocated and values
//   no longer used are freed.
// - delete (new_object == nullptr): everything the Service holds is freed. A key is only ever
//   freed by the Service its value names.
// Objects of other kinds pass through untouched.
class ServiceAllocator {
 public:
  // `store` and `random` must outlive the allocator.
  ServiceAllocator(store::Store* store, AllocationConfig config, Random* random);

  // The hook to give Registry::SetAllocationHook; it calls Allocate and keeps a pointer to this.
  AllocationHook Hook();
  // The resources Allocate changes (Services), for SetAllocationHook's `applies`.
  static bool Applies(const ResourceInfo& resource);

  // See AllocationHook (apiserver/registry.h).
  Status Allocate(const ResourceInfo& resource, const Message* old_object, Message* new_object,
                  std::vector<store::Compare>* compares, std::vector<store::Op>* ops, ErrorDetails* details);

  const AllocationConfig& config() const { return config_; }

 private:
  store::Store* store_;
  AllocationConfig config_;
  Random* random_;
};

// What one repair pass found and fixed.
struct RepairReport {
  int64_t services = 0;          // Services looked at
  int64_t allocations = 0;       // allocation keys looked at
  int64_t created = 0;           // missing keys written for a Service's address or port
  int64_t deleted = 0;           // leaked keys (no Service holds the value) deleted
  int64_t reassigned = 0;        // keys whose value named another owner than the Service holding it
  int64_t duplicates = 0;        // values held by more than one Service (logged; the key's owner keeps it)
  int64_t out_of_range = 0;      // values outside the configured ranges (logged, kept)
  int64_t skipped = 0;           // fixes not made because the data changed meanwhile
};

// Upstream's repair controllers in one pass: reads every Service and allocation key at one
// revision, then makes the keys match the Services: creates a key for every address and port a
// Service holds and has no key, deletes keys no Service holds, and points a key at its Service.
// Each fix is its own guarded transaction (it is skipped if the Service or the key changed since
// the read), and each is logged with CK_LOG_WARNING. Safe to run while the API server serves;
// ck-apiserver runs it at start-up before serving. Errors: the store's (reads).
Result<RepairReport> RepairAllocations(store::Store* store, const AllocationConfig& config);

}  // namespace ck::apiserver::allocation
