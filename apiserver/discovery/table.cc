#include "apiserver/discovery/table.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <set>

#include "apiserver/discovery/json_builder.h"
#include "apiserver/discovery/media_type.h"
#include "common/api/codec.h"
#include "common/api/proto/admissionregistration_v1.pb.h"
#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/batch_v1.pb.h"
#include "common/api/proto/coordination_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/discovery_v1.pb.h"
#include "common/api/proto/events_v1.pb.h"
#include "common/api/proto/meta_v1.pb.h"
#include "common/api/proto/networking_v1.pb.h"
#include "common/api/proto/policy_v1.pb.h"
#include "common/api/proto/rbac_v1.pb.h"
#include "common/api/proto/scheduling_v1.pb.h"
#include "common/api/time_format.h"
#include "common/base/strings.h"

namespace ck::apiserver::discovery {

namespace {

namespace core = k8s::io::api::core::v1;
namespace apps = k8s::io::api::apps::v1;
namespace batch = k8s::io::api::batch::v1;
namespace metav1 = k8s::io::apimachinery::pkg::apis::meta::v1;
namespace intstr = k8s::io::apimachinery::pkg::util::intstr;

// ---------------------------------------------------------------------------------------------
// Small formatting helpers, each mirroring the upstream printer helper of the same purpose.

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out.append(sep);
    out.append(parts[i]);
  }
  return out;
}

// Unset, or Go's zero time.Time.
bool IsZero(const metav1::Time& t) {
  return (t.seconds() == 0 && t.nanos() == 0) || t.seconds() == api::kGoZeroTimeSeconds;
}
bool IsZero(const metav1::MicroTime& t) {
  return (t.seconds() == 0 && t.nanos() == 0) || t.seconds() == api::kGoZeroTimeSeconds;
}

WallTime ToWall(int64_t seconds, int32_t nanos) { return api::FromTimestamp(api::Timestamp{seconds, nanos}); }

// translateTimestampSince: "<unknown>" for a zero time, else the age.
std::string Since(const metav1::Time& t, WallTime now) {
  if (IsZero(t)) return "<unknown>";
  return HumanDuration(now - ToWall(t.seconds(), t.nanos()));
}
std::string Since(const metav1::MicroTime& t, WallTime now) {
  if (IsZero(t)) return "<unknown>";
  return HumanDuration(now - ToWall(t.seconds(), t.nanos()));
}
std::string Age(const metav1::ObjectMeta& m, WallTime now) { return Since(m.creationtimestamp(), now); }

std::string Rfc3339(const metav1::Time& t) {
  return api::FormatRfc3339(api::Timestamp{t.seconds(), t.nanos()});
}

// labels.FormatLabels: "k=v,k2=v2" sorted by key, "<none>" when empty.
template <typename Map>
std::string FormatLabels(const Map& m) {
  std::map<std::string, std::string> sorted(m.begin(), m.end());
  std::vector<std::string> parts;
  for (const auto& [k, v] : sorted) parts.push_back(k + "=" + v);
  return parts.empty() ? "<none>" : Join(parts, ",");
}

// LabelSelectorAsSelector(sel).String(): requirements sorted by key, set values sorted.
std::string SelectorString(const metav1::LabelSelector& sel) {
  std::vector<std::pair<std::string, std::string>> reqs;  // key, text
  for (const auto& [k, v] : sel.matchlabels()) reqs.emplace_back(k, k + "=" + v);
  for (const auto& e : sel.matchexpressions()) {
    std::vector<std::string> values(e.values().begin(), e.values().end());
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    const std::string& op = e.operator_();
    if (op == "In") {
      reqs.emplace_back(e.key(), e.key() + " in (" + Join(values, ",") + ")");
    } else if (op == "NotIn") {
      reqs.emplace_back(e.key(), e.key() + " notin (" + Join(values, ",") + ")");
    } else if (op == "Exists") {
      reqs.emplace_back(e.key(), e.key());
    } else if (op == "DoesNotExist") {
      reqs.emplace_back(e.key(), "!" + e.key());
    } else {
      return "<error>";
    }
  }
  std::stable_sort(reqs.begin(), reqs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> parts;
  for (const auto& r : reqs) parts.push_back(r.second);
  return Join(parts, ",");
}

// metav1.FormatLabelSelector: like SelectorString, "<none>" when empty or absent.
std::string FormatLabelSelector(bool present, const metav1::LabelSelector& sel) {
  if (!present) return "<none>";
  std::string s = SelectorString(sel);
  return s.empty() ? "<none>" : s;
}

std::string IntOrStringText(const intstr::IntOrString& v) {
  return v.type() == 1 ? v.strval() : std::to_string(v.intval());
}

// Names and images of a pod template's containers (layoutContainerCells).
std::pair<std::string, std::string> ContainerCells(const core::PodSpec& spec) {
  std::vector<std::string> names, images;
  for (const auto& c : spec.containers()) {
    names.push_back(c.name());
    images.push_back(c.image());
  }
  return {Join(names, ","), Join(images, ",")};
}

// A list shortened to three entries: "a,b,c + 2 more..." (listWithMoreString).
std::string ListWithMore(const std::vector<std::string>& list, bool more, size_t count,
                         std::string_view empty) {
  std::string ret = Join(list, ",");
  if (more) return ret + " + " + std::to_string(count - 3) + " more...";
  if (ret.empty()) return std::string(empty);
  return ret;
}

std::string JoinHostPort(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

// ---------------------------------------------------------------------------------------------
// Printers.

struct Row {
  std::vector<Json> cells;
  std::vector<metav1::TableRowCondition> conditions;
};

using PrintFn = std::function<Result<Row>(const google::protobuf::Message&, WallTime)>;

struct Printer {
  std::vector<TableColumn> columns;
  PrintFn print;
};

TableColumn Col(std::string name, std::string description, int priority = 0, std::string type = "string") {
  TableColumn c;
  c.name = std::move(name);
  c.type = std::move(type);
  c.description = std::move(description);
  c.priority = priority;
  return c;
}

TableColumn NameCol() {
  TableColumn c = Col("Name", "Name of the object, unique within its namespace.");
  c.format = "name";
  return c;
}
TableColumn AgeCol() { return Col("Age", "Time since the object was created (metadata.creationTimestamp)."); }
TableColumn ContainersCol() { return Col("Containers", "Names of the containers in the pod template.", 1); }
TableColumn ImagesCol() { return Col("Images", "Images of the containers in the pod template.", 1); }
TableColumn SelectorCol() { return Col("Selector", "Label selector of the pods.", 1); }

// Wraps a typed print function: checks the message type, then calls fn.
template <typename T>
PrintFn Typed(std::function<Row(const T&, WallTime)> fn) {
  return [fn](const google::protobuf::Message& m, WallTime now) -> Result<Row> {
    const T* t = google::protobuf::DynamicCastToGenerated<T>(&m);
    if (t == nullptr) {
      return BadRequest("table: expected " + T::descriptor()->full_name() + ", got " +
                        m.GetDescriptor()->full_name());
    }
    return fn(*t, now);
  };
}

// --- pods (printPod) ---

bool IsRestartableInit(const core::Container* c) {
  return c != nullptr && c->has_restartpolicy() && c->restartpolicy() == "Always";
}

bool HasConditionTrue(const core::PodStatus& s, std::string_view type) {
  for (const auto& c : s.conditions()) {
    if (c.type() == type) return c.status() == "True";
  }
  return false;
}

bool Before(const metav1::Time& a, const metav1::Time& b) {
  return a.seconds() < b.seconds() || (a.seconds() == b.seconds() && a.nanos() < b.nanos());
}

metav1::TableRowCondition RowCondition(std::string reason, std::string message) {
  metav1::TableRowCondition c;
  c.set_type("Completed");
  c.set_status("True");
  c.set_reason(std::move(reason));
  c.set_message(std::move(message));
  return c;
}

Row PrintPod(const core::Pod& pod, WallTime now) {
  const core::PodSpec& spec = pod.spec();
  const core::PodStatus& st = pod.status();
  int restarts = 0;
  int restartable_init_restarts = 0;
  int total = spec.containers_size();
  int ready = 0;
  metav1::Time last_restart;  // zero
  metav1::Time last_restartable_init_restart;

  std::string reason = st.phase();
  if (!st.reason().empty()) reason = st.reason();
  for (const auto& c : st.conditions()) {
    if (c.type() == "PodScheduled" && c.reason() == "SchedulingGated") reason = "SchedulingGated";
  }

  Row row;
  if (st.phase() == "Succeeded")
    row.conditions.push_back(RowCondition("Completed", "The pod has completed successfully."));
  if (st.phase() == "Failed") row.conditions.push_back(RowCondition("Error", "The pod failed."));

  std::map<std::string, const core::Container*> init_containers;
  for (const auto& c : spec.initcontainers()) {
    init_containers[c.name()] = &c;
    if (IsRestartableInit(&c)) ++total;
  }
  auto init_of = [&](const std::string& name) -> const core::Container* {
    auto it = init_containers.find(name);
    return it == init_containers.end() ? nullptr : it->second;
  };

  bool initializing = false;
  for (int i = 0; i < st.initcontainerstatuses_size(); ++i) {
    const core::ContainerStatus& c = st.initcontainerstatuses(i);
    restarts += c.restartcount();
    if (c.laststate().has_terminated()) {
      const metav1::Time& finished = c.laststate().terminated().finishedat();
      if (Before(last_restart, finished)) last_restart = finished;
    }
    bool restartable = IsRestartableInit(init_of(c.name()));
    if (restartable) {
      restartable_init_restarts += c.restartcount();
      if (c.laststate().has_terminated()) {
        const metav1::Time& finished = c.laststate().terminated().finishedat();
        if (Before(last_restartable_init_restart, finished)) last_restartable_init_restart = finished;
      }
    }
    const core::ContainerState& state = c.state();
    if (state.has_terminated() && state.terminated().exitcode() == 0) continue;
    if (restartable && c.has_started() && c.started()) {
      if (c.ready()) ++ready;
      continue;
    }
    if (state.has_terminated()) {
      const auto& t = state.terminated();
      if (t.reason().empty()) {
        reason = t.signal() != 0 ? "Init:Signal:" + std::to_string(t.signal())
                                 : "Init:ExitCode:" + std::to_string(t.exitcode());
      } else {
        reason = "Init:" + t.reason();
      }
    } else if (state.has_waiting() && !state.waiting().reason().empty() &&
               state.waiting().reason() != "PodInitializing") {
      reason = "Init:" + state.waiting().reason();
    } else {
      reason = "Init:" + std::to_string(i) + "/" + std::to_string(spec.initcontainers_size());
    }
    initializing = true;
    break;
  }

  if (!initializing || HasConditionTrue(st, "Initialized")) {
    restarts = restartable_init_restarts;
    last_restart = last_restartable_init_restart;
    bool has_running = false;
    for (int i = st.containerstatuses_size() - 1; i >= 0; --i) {
      const core::ContainerStatus& c = st.containerstatuses(i);
      restarts += c.restartcount();
      if (c.laststate().has_terminated()) {
        const metav1::Time& finished = c.laststate().terminated().finishedat();
        if (Before(last_restart, finished)) last_restart = finished;
      }
      const core::ContainerState& state = c.state();
      if (state.has_waiting() && !state.waiting().reason().empty()) {
        reason = state.waiting().reason();
      } else if (state.has_terminated() && !state.terminated().reason().empty()) {
        reason = state.terminated().reason();
      } else if (state.has_terminated()) {
        reason = state.terminated().signal() != 0
                     ? "Signal:" + std::to_string(state.terminated().signal())
                     : "ExitCode:" + std::to_string(state.terminated().exitcode());
      } else if (c.ready() && state.has_running()) {
        has_running = true;
        ++ready;
      }
    }
    // A pod whose last container completed while another still runs is not "Completed".
    if (reason == "Completed" && has_running) reason = HasConditionTrue(st, "Ready") ? "Running" : "NotReady";
  }

  bool terminal = st.phase() == "Succeeded" || st.phase() == "Failed";
  if (pod.metadata().has_deletiontimestamp() && st.reason() == "NodeLost") {
    reason = "Unknown";
  } else if (pod.metadata().has_deletiontimestamp() && !terminal) {
    reason = "Terminating";
  }

  std::string restarts_text = std::to_string(restarts);
  if (restarts != 0 && !IsZero(last_restart)) restarts_text += " (" + Since(last_restart, now) + " ago)";

  std::string ip = st.podips_size() > 0 ? st.podips(0).ip() : "";
  if (ip.empty()) ip = "<none>";
  std::string node = spec.nodename().empty() ? "<none>" : spec.nodename();
  std::string nominated = st.nominatednodename().empty() ? "<none>" : st.nominatednodename();
  std::string gates = "<none>";
  if (spec.readinessgates_size() > 0) {
    int true_conditions = 0;
    for (const auto& g : spec.readinessgates()) {
      for (const auto& c : st.conditions()) {
        if (c.type() == g.conditiontype()) {
          if (c.status() == "True") ++true_conditions;
          break;
        }
      }
    }
    gates = std::to_string(true_conditions) + "/" + std::to_string(spec.readinessgates_size());
  }
  row.cells = {pod.metadata().name(),
               std::to_string(ready) + "/" + std::to_string(total),
               reason,
               restarts_text,
               Age(pod.metadata(), now),
               ip,
               node,
               nominated,
               gates};
  return row;
}

// --- nodes (printNode) ---

Row PrintNode(const core::Node& n, WallTime now) {
  std::vector<std::string> status;
  for (const auto& c : n.status().conditions()) {
    if (c.type() == "Ready") {
      status.push_back(c.status() == "True" ? "Ready" : "NotReady");
      break;
    }
  }
  if (status.empty()) status.push_back("Unknown");
  if (n.spec().unschedulable()) status.push_back("SchedulingDisabled");
  std::set<std::string> roles;
  constexpr std::string_view kRolePrefix = "node-role.kubernetes.io/";
  for (const auto& [k, v] : n.metadata().labels()) {
    if (k.size() > kRolePrefix.size() && k.compare(0, kRolePrefix.size(), kRolePrefix) == 0) {
      roles.insert(k.substr(kRolePrefix.size()));
    } else if (k == "kubernetes.io/role" && !v.empty()) {
      roles.insert(v);
    }
  }
  std::string roles_text = Join(std::vector<std::string>(roles.begin(), roles.end()), ",");
  if (roles_text.empty()) roles_text = "<none>";
  auto address = [&](std::string_view type) -> std::string {
    for (const auto& a : n.status().addresses()) {
      if (a.type() == type) return a.address();
    }
    return "<none>";
  };
  const auto& info = n.status().nodeinfo();
  auto or_unknown = [](const std::string& s) { return s.empty() ? std::string("<unknown>") : s; };
  Row row;
  row.cells = {n.metadata().name(),
               Join(status, ","),
               roles_text,
               Age(n.metadata(), now),
               info.kubeletversion(),
               address("InternalIP"),
               address("ExternalIP"),
               or_unknown(info.osimage()),
               or_unknown(info.kernelversion()),
               or_unknown(info.containerruntimeversion())};
  return row;
}

// --- services (printService) ---

std::string LoadBalancerIps(const core::LoadBalancerStatus& lb) {
  std::vector<std::string> out;
  for (const auto& i : lb.ingress()) {
    if (!i.ip().empty()) {
      out.push_back(i.ip());
    } else if (!i.hostname().empty()) {
      out.push_back(i.hostname());
    }
  }
  return Join(out, ",");
}

Row PrintService(const core::Service& s, WallTime now) {
  const auto& spec = s.spec();
  std::string type = spec.type();
  std::string cluster_ip = spec.clusterips_size() > 0 ? spec.clusterips(0) : "<none>";
  if (spec.clusterips_size() == 0 && !spec.clusterip().empty()) cluster_ip = spec.clusterip();
  std::vector<std::string> external_ips(spec.externalips().begin(), spec.externalips().end());
  std::string external;
  if (type == "ClusterIP" || type == "NodePort" || type.empty()) {
    external = external_ips.empty() ? "<none>" : Join(external_ips, ",");
  } else if (type == "LoadBalancer") {
    std::string lb = LoadBalancerIps(s.status().loadbalancer());
    if (!external_ips.empty()) {
      std::vector<std::string> all;
      if (!lb.empty()) all.push_back(lb);
      all.insert(all.end(), external_ips.begin(), external_ips.end());
      external = Join(all, ",");
    } else {
      external = lb.empty() ? "<pending>" : lb;
    }
  } else if (type == "ExternalName") {
    external = spec.externalname();
  } else {
    external = "<unknown>";
  }
  std::vector<std::string> ports;
  for (const auto& p : spec.ports()) {
    std::string protocol = p.protocol().empty() ? "TCP" : p.protocol();
    if (p.nodeport() > 0) {
      ports.push_back(std::to_string(p.port()) + ":" + std::to_string(p.nodeport()) + "/" + protocol);
    } else {
      ports.push_back(std::to_string(p.port()) + "/" + protocol);
    }
  }
  Row row;
  row.cells = {s.metadata().name(),
               type,
               cluster_ip,
               external,
               ports.empty() ? "<none>" : Join(ports, ","),
               Age(s.metadata(), now),
               FormatLabels(spec.selector())};
  return row;
}

// --- workloads ---

Row PrintDeployment(const apps::Deployment& d, WallTime now) {
  int32_t desired = d.spec().has_replicas() ? d.spec().replicas() : 1;
  auto [containers, images] = ContainerCells(d.spec().template_().spec());
  Row row;
  row.cells = {d.metadata().name(),
               std::to_string(d.status().readyreplicas()) + "/" + std::to_string(desired),
               int64_t{d.status().updatedreplicas()},
               int64_t{d.status().availablereplicas()},
               Age(d.metadata(), now),
               containers,
               images,
               SelectorString(d.spec().selector())};
  return row;
}

Row PrintReplicaSet(const apps::ReplicaSet& r, WallTime now) {
  int32_t desired = r.spec().has_replicas() ? r.spec().replicas() : 1;
  auto [containers, images] = ContainerCells(r.spec().template_().spec());
  Row row;
  row.cells = {r.metadata().name(),
               int64_t{desired},
               int64_t{r.status().replicas()},
               int64_t{r.status().readyreplicas()},
               Age(r.metadata(), now),
               containers,
               images,
               SelectorString(r.spec().selector())};
  return row;
}

Row PrintStatefulSet(const apps::StatefulSet& s, WallTime now) {
  int32_t desired = s.spec().has_replicas() ? s.spec().replicas() : 1;
  auto [containers, images] = ContainerCells(s.spec().template_().spec());
  Row row;
  row.cells = {s.metadata().name(),
               std::to_string(s.status().readyreplicas()) + "/" + std::to_string(desired),
               Age(s.metadata(), now), containers, images};
  return row;
}

Row PrintDaemonSet(const apps::DaemonSet& d, WallTime now) {
  const auto& st = d.status();
  auto [containers, images] = ContainerCells(d.spec().template_().spec());
  Row row;
  row.cells = {d.metadata().name(),
               int64_t{st.desirednumberscheduled()},
               int64_t{st.currentnumberscheduled()},
               int64_t{st.numberready()},
               int64_t{st.updatednumberscheduled()},
               int64_t{st.numberavailable()},
               FormatLabels(d.spec().template_().spec().nodeselector()),
               Age(d.metadata(), now),
               containers,
               images,
               SelectorString(d.spec().selector())};
  return row;
}

Row PrintControllerRevision(const apps::ControllerRevision& r, WallTime now) {
  std::string controller = "<none>";
  for (const auto& o : r.metadata().ownerreferences()) {
    if (!o.controller()) continue;
    std::string group;
    size_t slash = o.apiversion().find('/');
    if (slash != std::string::npos) group = o.apiversion().substr(0, slash);
    controller = ToLower(group.empty() ? o.kind() : o.kind() + "." + group) + "/" + o.name();
    break;
  }
  Row row;
  row.cells = {r.metadata().name(), controller, int64_t{r.revision()}, Age(r.metadata(), now)};
  return row;
}

bool JobConditionTrue(const batch::JobStatus& st, std::string_view type) {
  for (const auto& c : st.conditions()) {
    if (c.type() == type && c.status() == "True") return true;
  }
  return false;
}

Row PrintJob(const batch::Job& j, WallTime now) {
  const auto& spec = j.spec();
  const auto& st = j.status();
  std::string completions;
  if (spec.has_completions()) {
    completions = std::to_string(st.succeeded()) + "/" + std::to_string(spec.completions());
  } else if (spec.has_parallelism() && spec.parallelism() > 1) {
    completions = std::to_string(st.succeeded()) + "/1 of " + std::to_string(spec.parallelism());
  } else {
    completions = std::to_string(st.succeeded()) + "/1";
  }
  std::string duration;
  if (st.has_starttime()) {
    WallTime start = ToWall(st.starttime().seconds(), st.starttime().nanos());
    duration = st.has_completiontime()
                   ? HumanDuration(ToWall(st.completiontime().seconds(), st.completiontime().nanos()) - start)
                   : HumanDuration(now - start);
  }
  std::string status;
  if (JobConditionTrue(st, "Complete")) {
    status = "Complete";
  } else if (JobConditionTrue(st, "Failed")) {
    status = "Failed";
  } else if (j.metadata().has_deletiontimestamp()) {
    status = "Terminating";
  } else if (JobConditionTrue(st, "Suspended")) {
    status = "Suspended";
  } else if (JobConditionTrue(st, "FailureTarget")) {
    status = "FailureTarget";
  } else if (JobConditionTrue(st, "SuccessCriteriaMet")) {
    status = "SuccessCriteriaMet";
  } else {
    status = "Running";
  }
  auto [containers, images] = ContainerCells(spec.template_().spec());
  Row row;
  row.cells = {j.metadata().name(),    status,     completions, duration,
               Age(j.metadata(), now), containers, images,      SelectorString(spec.selector())};
  return row;
}

Row PrintCronJob(const batch::CronJob& c, WallTime now) {
  const auto& spec = c.spec();
  std::string last = c.status().has_lastscheduletime() ? Since(c.status().lastscheduletime(), now) : "<none>";
  std::string suspend = spec.has_suspend() ? (spec.suspend() ? "True" : "False") : "<unset>";
  auto [containers, images] = ContainerCells(spec.jobtemplate().spec().template_().spec());
  Row row;
  row.cells = {c.metadata().name(),
               spec.schedule(),
               spec.has_timezone() ? spec.timezone() : "<none>",
               suspend,
               int64_t{c.status().active_size()},
               last,
               Age(c.metadata(), now),
               containers,
               images,
               SelectorString(spec.jobtemplate().spec().selector())};
  return row;
}

// --- events (printEvent; events.k8s.io/v1 is printed through the same fields) ---

struct EventView {
  std::string name, type, reason, message;
  const core::ObjectReference* regarding;
  std::string component, host;
  const metav1::Time* first;
  const metav1::Time* last;
  const metav1::MicroTime* event_time;
  const metav1::MicroTime* series_last;  // null without a series
  int32_t count;
  int32_t series_count;
};

Row PrintEventView(const EventView& e, WallTime now) {
  std::string first = Since(*e.first, now);
  if (IsZero(*e.first)) first = Since(*e.event_time, now);
  std::string last = Since(*e.last, now);
  if (IsZero(*e.last)) last = first;
  int64_t count = e.count;
  if (e.series_last != nullptr) {
    last = Since(*e.series_last, now);
    count = e.series_count;
  } else if (count == 0) {
    count = 1;  // singleton events of the new API have no count
  }
  std::string target = e.regarding->name().empty() ? ToLower(e.regarding->kind())
                                                   : ToLower(e.regarding->kind()) + "/" + e.regarding->name();
  std::string source = e.host.empty() ? e.component : e.component + ", " + e.host;
  std::string message = e.message;
  while (!message.empty() && std::isspace(static_cast<unsigned char>(message.back()))) message.pop_back();
  size_t lead = 0;
  while (lead < message.size() && std::isspace(static_cast<unsigned char>(message[lead]))) ++lead;
  message.erase(0, lead);
  Row row;
  row.cells = {last,   e.type,  e.reason, target, e.regarding->fieldpath(),
               source, message, first,    count,  e.name};
  return row;
}

Row PrintCoreEvent(const core::Event& ev, WallTime now) {
  EventView v;
  v.name = ev.metadata().name();
  v.type = ev.type();
  v.reason = ev.reason();
  v.message = ev.message();
  v.regarding = &ev.involvedobject();
  v.component = !ev.source().component().empty() ? ev.source().component() : ev.reportingcomponent();
  v.host = !ev.source().host().empty() ? ev.source().host() : ev.reportinginstance();
  v.first = &ev.firsttimestamp();
  v.last = &ev.lasttimestamp();
  v.event_time = &ev.eventtime();
  v.series_last = ev.has_series() ? &ev.series().lastobservedtime() : nullptr;
  v.count = ev.count();
  v.series_count = ev.series().count();
  return PrintEventView(v, now);
}

Row PrintEventsV1Event(const k8s::io::api::events::v1::Event& ev, WallTime now) {
  EventView v;
  v.name = ev.metadata().name();
  v.type = ev.type();
  v.reason = ev.reason();
  v.message = ev.note();
  v.regarding = &ev.regarding();
  v.component = !ev.deprecatedsource().component().empty() ? ev.deprecatedsource().component()
                                                           : ev.reportingcontroller();
  v.host = !ev.deprecatedsource().host().empty() ? ev.deprecatedsource().host() : ev.reportinginstance();
  v.first = &ev.deprecatedfirsttimestamp();
  v.last = &ev.deprecatedlasttimestamp();
  v.event_time = &ev.eventtime();
  v.series_last = ev.has_series() ? &ev.series().lastobservedtime() : nullptr;
  v.count = ev.deprecatedcount();
  v.series_count = ev.series().count();
  return PrintEventView(v, now);
}

// --- core objects ---

Row PrintNamespace(const core::Namespace& n, WallTime now) {
  Row row;
  row.cells = {n.metadata().name(), n.status().phase(), Age(n.metadata(), now)};
  return row;
}

Row PrintConfigMap(const core::ConfigMap& c, WallTime now) {
  Row row;
  row.cells = {c.metadata().name(), int64_t{c.data_size() + c.binarydata_size()}, Age(c.metadata(), now)};
  return row;
}

Row PrintSecret(const core::Secret& s, WallTime now) {
  Row row;
  row.cells = {s.metadata().name(), s.type(), int64_t{s.data_size()}, Age(s.metadata(), now)};
  return row;
}

Row PrintEndpoints(const core::Endpoints& e, WallTime now) {
  std::vector<std::string> list;
  bool more = false;
  size_t count = 0;
  for (const auto& ss : e.subsets()) {
    if (ss.ports_size() == 0) {
      count += ss.addresses_size();
      for (const auto& a : ss.addresses()) {
        if (list.size() == 3) {
          more = true;
          break;
        }
        list.push_back(a.ip());
      }
      continue;
    }
    for (const auto& p : ss.ports()) {
      count += ss.addresses_size();
      for (const auto& a : ss.addresses()) {
        if (list.size() == 3) {
          more = true;
          break;
        }
        list.push_back(JoinHostPort(a.ip(), p.port()));
      }
    }
  }
  std::string text = e.subsets_size() == 0 ? "<none>" : ListWithMore(list, more, count, "");
  Row row;
  row.cells = {e.metadata().name(), text, Age(e.metadata(), now)};
  return row;
}

Row PrintResourceQuota(const core::ResourceQuota& q, WallTime now) {
  std::vector<std::string> names;
  for (const auto& [k, v] : q.spec().hard()) names.push_back(k);
  std::sort(names.begin(), names.end());
  std::vector<std::string> requests, limits;
  for (const auto& name : names) {
    auto quantity = [&](const auto& map) -> std::string {
      auto it = map.find(name);
      return it == map.end() || it->second.string().empty() ? std::string("0") : it->second.string();
    };
    std::string text = name + ": " + quantity(q.status().used()) + "/" + quantity(q.status().hard());
    if (name.rfind("limits.", 0) == 0) {
      limits.push_back(text);
    } else {
      requests.push_back(text);
    }
  }
  Row row;
  row.cells = {q.metadata().name(), Age(q.metadata(), now), Join(requests, ", "), Join(limits, ", ")};
  return row;
}

// --- other groups ---

Row PrintEndpointSlice(const k8s::io::api::discovery::v1::EndpointSlice& s, WallTime now) {
  std::vector<std::string> ports;
  bool more = false;
  size_t count = 0;
  for (const auto& p : s.ports()) {
    if (ports.size() < 3) {
      ports.push_back(p.has_port() ? std::to_string(p.port()) : p.has_name() ? p.name() : "*");
    } else {
      more = true;
    }
    ++count;
  }
  std::string ports_text = ListWithMore(ports, more, count, "<unset>");
  std::vector<std::string> addresses;
  more = false;
  count = 0;
  for (const auto& e : s.endpoints()) {
    for (const auto& a : e.addresses()) {
      if (addresses.size() < 3) {
        addresses.push_back(a);
      } else {
        more = true;
      }
      ++count;
    }
  }
  Row row;
  row.cells = {s.metadata().name(), s.addresstype(), ports_text,
               ListWithMore(addresses, more, count, "<unset>"), Age(s.metadata(), now)};
  return row;
}

Row PrintIngress(const k8s::io::api::networking::v1::Ingress& i, WallTime now) {
  const auto& spec = i.spec();
  std::vector<std::string> hosts;
  bool more = false;
  for (const auto& r : spec.rules()) {
    if (hosts.size() == 3) more = true;
    if (!more && !r.host().empty()) hosts.push_back(r.host());
  }
  std::string hosts_text;
  if (hosts.empty()) {
    hosts_text = "*";
  } else {
    hosts_text = Join(hosts, ",");
    if (more) hosts_text += " + " + std::to_string(spec.rules_size() - 3) + " more...";
  }
  std::vector<std::string> addresses;
  for (const auto& a : i.status().loadbalancer().ingress()) {
    if (!a.ip().empty()) {
      addresses.push_back(a.ip());
    } else if (!a.hostname().empty()) {
      addresses.push_back(a.hostname());
    }
  }
  Row row;
  row.cells = {i.metadata().name(),
               spec.has_ingressclassname() ? spec.ingressclassname() : "<none>",
               hosts_text,
               Join(addresses, ","),
               spec.tls_size() == 0 ? "80" : "80, 443",
               Age(i.metadata(), now)};
  return row;
}

Row PrintIngressClass(const k8s::io::api::networking::v1::IngressClass& c, WallTime now) {
  std::string params = "<none>";
  if (c.spec().has_parameters()) {
    const auto& p = c.spec().parameters();
    params = p.kind();
    if (p.has_apigroup()) params += "." + p.apigroup();
    params += "/" + p.name();
  }
  Row row;
  row.cells = {c.metadata().name(), c.spec().controller(), params, Age(c.metadata(), now)};
  return row;
}

Row PrintNetworkPolicy(const k8s::io::api::networking::v1::NetworkPolicy& n, WallTime now) {
  Row row;
  row.cells = {n.metadata().name(), FormatLabelSelector(true, n.spec().podselector()),
               Age(n.metadata(), now)};
  return row;
}

Row PrintPdb(const k8s::io::api::policy::v1::PodDisruptionBudget& p, WallTime now) {
  const auto& spec = p.spec();
  Row row;
  row.cells = {p.metadata().name(), spec.has_minavailable() ? IntOrStringText(spec.minavailable()) : "N/A",
               spec.has_maxunavailable() ? IntOrStringText(spec.maxunavailable()) : "N/A",
               int64_t{p.status().disruptionsallowed()}, Age(p.metadata(), now)};
  return row;
}

Row PrintPriorityClass(const k8s::io::api::scheduling::v1::PriorityClass& c, WallTime now) {
  Row row;
  row.cells = {c.metadata().name(), int64_t{c.value()}, c.globaldefault(), Age(c.metadata(), now),
               c.has_preemptionpolicy() ? c.preemptionpolicy() : "PreemptLowerPriority"};
  return row;
}

Row PrintLease(const k8s::io::api::coordination::v1::Lease& l, WallTime now) {
  Row row;
  row.cells = {l.metadata().name(), l.spec().holderidentity(), Age(l.metadata(), now)};
  return row;
}

template <typename T>
Row PrintCreatedAt(const T& o, WallTime) {
  Row row;
  row.cells = {o.metadata().name(), Rfc3339(o.metadata().creationtimestamp())};
  return row;
}

template <typename T>
Row PrintBinding(const T& b, WallTime now) {
  std::vector<std::string> users, groups, sas;
  for (const auto& s : b.subjects()) {
    if (s.kind() == "User") users.push_back(s.name());
    if (s.kind() == "Group") groups.push_back(s.name());
    if (s.kind() == "ServiceAccount") sas.push_back(s.namespace_() + ":" + s.name());
  }
  Row row;
  row.cells = {b.metadata().name(),    b.roleref().kind() + "/" + b.roleref().name(),
               Age(b.metadata(), now), Join(users, ", "),
               Join(groups, ", "),     Join(sas, ", ")};
  return row;
}

template <typename T>
Row PrintWebhooks(const T& w, WallTime now) {
  Row row;
  row.cells = {w.metadata().name(), int64_t{w.webhooks_size()}, Age(w.metadata(), now)};
  return row;
}

template <typename T>
Row PrintNameAge(const T& o, WallTime now) {
  Row row;
  row.cells = {o.metadata().name(), Age(o.metadata(), now)};
  return row;
}

// Printers by "<group>/<resource>".
const std::map<std::string, Printer>& Printers() {
  static const auto* printers = [] {
    auto* m = new std::map<std::string, Printer>;
    std::vector<TableColumn> created_at = {NameCol(),
                                           Col("Created At", "Time the object was created.", 0, "date")};
    (*m)["/pods"] = {
        {NameCol(), Col("Ready", "Ready containers out of all containers of the pod."),
         Col("Status", "The aggregate status of the containers of the pod."),
         Col("Restarts", "Container restarts, with the time of the last one."), AgeCol(),
         Col("IP", "IP address of the pod.", 1), Col("Node", "Node the pod runs on.", 1),
         Col("Nominated Node", "Node the scheduler plans to run the pod on after preemption.", 1),
         Col("Readiness Gates", "Readiness gates that are true out of all of the pod's gates.", 1)},
        Typed<core::Pod>(PrintPod)};
    (*m)["/nodes"] = {
        {NameCol(), Col("Status", "The readiness of the node."), Col("Roles", "The roles of the node."),
         AgeCol(), Col("Version", "Version of the kubelet."),
         Col("Internal-IP", "Internal address of the node.", 1),
         Col("External-IP", "External address of the node.", 1),
         Col("OS-Image", "Operating system image of the node.", 1),
         Col("Kernel-Version", "Kernel version of the node.", 1),
         Col("Container-Runtime", "Container runtime and version of the node.", 1)},
        Typed<core::Node>(PrintNode)};
    (*m)["/services"] = {
        {NameCol(), Col("Type", "Type of the service."), Col("Cluster-IP", "Cluster address."),
         Col("External-IP", "External addresses."), Col("Port(s)", "Ports of the service."), AgeCol(),
         Col("Selector", "Label selector of the backing pods.", 1)},
        Typed<core::Service>(PrintService)};
    (*m)["/namespaces"] = {{NameCol(), Col("Status", "Phase of the namespace."), AgeCol()},
                           Typed<core::Namespace>(PrintNamespace)};
    (*m)["/configmaps"] = {{NameCol(), Col("Data", "Number of data entries.", 0, "integer"), AgeCol()},
                           Typed<core::ConfigMap>(PrintConfigMap)};
    (*m)["/secrets"] = {{NameCol(), Col("Type", "Type of the secret."),
                         Col("Data", "Number of data entries.", 0, "integer"), AgeCol()},
                        Typed<core::Secret>(PrintSecret)};
    (*m)["/serviceaccounts"] = {{NameCol(), AgeCol()},
                                Typed<core::ServiceAccount>(PrintNameAge<core::ServiceAccount>)};
    (*m)["/endpoints"] = {{NameCol(), Col("Endpoints", "Addresses and ports of the endpoints."), AgeCol()},
                          Typed<core::Endpoints>(PrintEndpoints)};
    (*m)["/limitranges"] = {created_at, Typed<core::LimitRange>(PrintCreatedAt<core::LimitRange>)};
    (*m)["/resourcequotas"] = {{NameCol(), AgeCol(), Col("Request", "Used and hard request quota."),
                                Col("Limit", "Used and hard limit quota.")},
                               Typed<core::ResourceQuota>(PrintResourceQuota)};
    std::vector<TableColumn> event_cols = {Col("Last Seen", "Time since the event was last seen."),
                                           Col("Type", "Type of the event."),
                                           Col("Reason", "Short reason of the event."),
                                           Col("Object", "The object the event is about."),
                                           Col("Subobject", "The part of the object the event is about.", 1),
                                           Col("Source", "Component that reported the event.", 1),
                                           Col("Message", "Description of the event."),
                                           Col("First Seen", "Time since the event was first seen.", 1),
                                           Col("Count", "Number of occurrences.", 1, "integer"),
                                           Col("Name", "Name of the event.", 1)};
    (*m)["/events"] = {event_cols, Typed<core::Event>(PrintCoreEvent)};
    (*m)["events.k8s.io/events"] = {event_cols, Typed<k8s::io::api::events::v1::Event>(PrintEventsV1Event)};
    (*m)["apps/deployments"] = {
        {NameCol(), Col("Ready", "Ready pods out of desired pods."),
         Col("Up-to-date", "Pods that run the current template.", 0, "integer"),
         Col("Available", "Pods available for at least minReadySeconds.", 0, "integer"), AgeCol(),
         ContainersCol(), ImagesCol(), SelectorCol()},
        Typed<apps::Deployment>(PrintDeployment)};
    (*m)["apps/replicasets"] = {
        {NameCol(), Col("Desired", "Desired pods.", 0, "integer"),
         Col("Current", "Current pods.", 0, "integer"), Col("Ready", "Ready pods.", 0, "integer"), AgeCol(),
         ContainersCol(), ImagesCol(), SelectorCol()},
        Typed<apps::ReplicaSet>(PrintReplicaSet)};
    (*m)["apps/statefulsets"] = {
        {NameCol(), Col("Ready", "Ready pods out of desired pods."), AgeCol(), ContainersCol(), ImagesCol()},
        Typed<apps::StatefulSet>(PrintStatefulSet)};
    (*m)["apps/daemonsets"] = {{NameCol(), Col("Desired", "Nodes that should run the pod.", 0, "integer"),
                                Col("Current", "Nodes running the pod.", 0, "integer"),
                                Col("Ready", "Nodes with a ready pod.", 0, "integer"),
                                Col("Up-to-date", "Nodes running the current template.", 0, "integer"),
                                Col("Available", "Nodes with an available pod.", 0, "integer"),
                                Col("Node Selector", "Node selector of the pod template."), AgeCol(),
                                ContainersCol(), ImagesCol(), SelectorCol()},
                               Typed<apps::DaemonSet>(PrintDaemonSet)};
    (*m)["apps/controllerrevisions"] = {{NameCol(), Col("Controller", "The object that owns this revision."),
                                         Col("Revision", "Revision number.", 0, "integer"), AgeCol()},
                                        Typed<apps::ControllerRevision>(PrintControllerRevision)};
    (*m)["batch/jobs"] = {{NameCol(), Col("Status", "Status of the job."),
                           Col("Completions", "Succeeded pods out of desired completions."),
                           Col("Duration", "Time the job took or has been running."), AgeCol(),
                           ContainersCol(), ImagesCol(), SelectorCol()},
                          Typed<batch::Job>(PrintJob)};
    (*m)["batch/cronjobs"] = {
        {NameCol(), Col("Schedule", "Cron schedule."), Col("Timezone", "Time zone of the schedule."),
         Col("Suspend", "Whether new runs are suspended.", 0, "boolean"),
         Col("Active", "Running jobs.", 0, "integer"),
         Col("Last Schedule", "Time since the last scheduled run."), AgeCol(), ContainersCol(), ImagesCol(),
         SelectorCol()},
        Typed<batch::CronJob>(PrintCronJob)};
    (*m)["coordination.k8s.io/leases"] = {
        {NameCol(), Col("Holder", "Current holder of the lease."), AgeCol()},
        Typed<k8s::io::api::coordination::v1::Lease>(PrintLease)};
    (*m)["discovery.k8s.io/endpointslices"] = {
        {NameCol(), Col("AddressType", "Type of the addresses."), Col("Ports", "Ports of the slice."),
         Col("Endpoints", "Addresses of the endpoints."), AgeCol()},
        Typed<k8s::io::api::discovery::v1::EndpointSlice>(PrintEndpointSlice)};
    (*m)["networking.k8s.io/ingresses"] = {
        {NameCol(), Col("Class", "Ingress class."), Col("Hosts", "Hosts served."),
         Col("Address", "Load balancer addresses."), Col("Ports", "Ports served."), AgeCol()},
        Typed<k8s::io::api::networking::v1::Ingress>(PrintIngress)};
    (*m)["networking.k8s.io/ingressclasses"] = {
        {NameCol(), Col("Controller", "Controller that implements the class."),
         Col("Parameters", "Parameters object of the class."), AgeCol()},
        Typed<k8s::io::api::networking::v1::IngressClass>(PrintIngressClass)};
    (*m)["networking.k8s.io/networkpolicies"] = {
        {NameCol(), Col("Pod-Selector", "Pods the policy applies to."), AgeCol()},
        Typed<k8s::io::api::networking::v1::NetworkPolicy>(PrintNetworkPolicy)};
    (*m)["policy/poddisruptionbudgets"] = {
        {NameCol(), Col("Min Available", "Pods that must stay available."),
         Col("Max Unavailable", "Pods that may be unavailable."),
         Col("Allowed Disruptions", "Evictions allowed now.", 0, "integer"), AgeCol()},
        Typed<k8s::io::api::policy::v1::PodDisruptionBudget>(PrintPdb)};
    (*m)["scheduling.k8s.io/priorityclasses"] = {
        {NameCol(), Col("Value", "Priority value.", 0, "integer"),
         Col("Global-Default", "Whether this is the default class.", 0, "boolean"), AgeCol(),
         Col("PreemptionPolicy", "Whether pods of this class preempt others.")},
        Typed<k8s::io::api::scheduling::v1::PriorityClass>(PrintPriorityClass)};
    namespace rbac = k8s::io::api::rbac::v1;
    std::vector<TableColumn> binding_cols = {NameCol(),
                                             Col("Role", "The role granted."),
                                             AgeCol(),
                                             Col("Users", "Users bound.", 1),
                                             Col("Groups", "Groups bound.", 1),
                                             Col("ServiceAccounts", "Service accounts bound.", 1)};
    (*m)["rbac.authorization.k8s.io/roles"] = {created_at, Typed<rbac::Role>(PrintCreatedAt<rbac::Role>)};
    (*m)["rbac.authorization.k8s.io/clusterroles"] = {
        created_at, Typed<rbac::ClusterRole>(PrintCreatedAt<rbac::ClusterRole>)};
    (*m)["rbac.authorization.k8s.io/rolebindings"] = {
        binding_cols, Typed<rbac::RoleBinding>(PrintBinding<rbac::RoleBinding>)};
    (*m)["rbac.authorization.k8s.io/clusterrolebindings"] = {
        binding_cols, Typed<rbac::ClusterRoleBinding>(PrintBinding<rbac::ClusterRoleBinding>)};
    namespace adm = k8s::io::api::admissionregistration::v1;
    std::vector<TableColumn> webhook_cols = {NameCol(), Col("Webhooks", "Number of webhooks.", 0, "integer"),
                                             AgeCol()};
    (*m)["admissionregistration.k8s.io/mutatingwebhookconfigurations"] = {
        webhook_cols,
        Typed<adm::MutatingWebhookConfiguration>(PrintWebhooks<adm::MutatingWebhookConfiguration>)};
    (*m)["admissionregistration.k8s.io/validatingwebhookconfigurations"] = {
        webhook_cols,
        Typed<adm::ValidatingWebhookConfiguration>(PrintWebhooks<adm::ValidatingWebhookConfiguration>)};
    return m;
  }();
  return *printers;
}

const Printer* FindPrinter(const ResourceInfo& r) {
  auto it = Printers().find(r.group + "/" + r.resource);
  return it == Printers().end() ? nullptr : &it->second;
}

// The generic printer: NAME AGE from metadata, for kinds without an upstream printer here.
Result<Row> PrintGeneric(const google::protobuf::Message& m, WallTime now) {
  const google::protobuf::FieldDescriptor* f = m.GetDescriptor()->FindFieldByName("metadata");
  const metav1::ObjectMeta* meta = nullptr;
  if (f != nullptr && f->message_type() == metav1::ObjectMeta::descriptor()) {
    meta = google::protobuf::DynamicCastToGenerated<metav1::ObjectMeta>(&m.GetReflection()->GetMessage(m, f));
  }
  if (meta == nullptr)
    return BadRequest("table: " + m.GetDescriptor()->full_name() + " has no object metadata");
  Row row;
  row.cells = {meta->name(), Age(*meta, now)};
  return row;
}

const metav1::ObjectMeta* MetadataOf(const google::protobuf::Message& m) {
  const google::protobuf::FieldDescriptor* f = m.GetDescriptor()->FindFieldByName("metadata");
  if (f == nullptr || f->message_type() != metav1::ObjectMeta::descriptor()) return nullptr;
  return google::protobuf::DynamicCastToGenerated<metav1::ObjectMeta>(&m.GetReflection()->GetMessage(m, f));
}

}  // namespace

std::string HumanDuration(std::chrono::nanoseconds d) {
  using std::chrono::duration_cast;
  int64_t seconds = duration_cast<std::chrono::seconds>(d).count();  // truncates toward zero, as Go's int()
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return std::to_string(seconds) + "s";
  int64_t minutes = seconds / 60;
  if (minutes < 10) {
    int64_t s = seconds % 60;
    return s == 0 ? std::to_string(minutes) + "m" : std::to_string(minutes) + "m" + std::to_string(s) + "s";
  }
  if (minutes < 60 * 3) return std::to_string(minutes) + "m";
  int64_t hours = seconds / 3600;
  if (hours < 8) {
    int64_t m = minutes % 60;
    return m == 0 ? std::to_string(hours) + "h" : std::to_string(hours) + "h" + std::to_string(m) + "m";
  }
  if (hours < 48) return std::to_string(hours) + "h";
  if (hours < 24 * 8) {
    int64_t h = hours % 24;
    return h == 0 ? std::to_string(hours / 24) + "d"
                  : std::to_string(hours / 24) + "d" + std::to_string(h) + "h";
  }
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24) + "d";
  if (hours < 24 * 365 * 8) {
    int64_t dy = (hours / 24) % 365;
    return dy == 0 ? std::to_string(hours / 24 / 365) + "y"
                   : std::to_string(hours / 24 / 365) + "y" + std::to_string(dy) + "d";
  }
  return std::to_string(hours / 24 / 365) + "y";
}

Result<IncludeObject> ParseIncludeObject(std::string_view value) {
  if (value.empty() || value == "Metadata") return IncludeObject::kMetadata;
  if (value == "Object") return IncludeObject::kObject;
  if (value == "None") return IncludeObject::kNone;
  return BadRequest("includeObject: Unsupported value: \"" + std::string(value) +
                    "\": supported values: \"Metadata\", \"None\", \"Object\"");
}

OutputFormat NegotiateOutput(std::string_view accept) {
  for (const MediaRange& m : ParseAccept(accept)) {
    if (m.q <= 0) continue;
    bool json = m.type == "application" && m.subtype == "json";
    bool wildcard = m.type == "*" || (m.type == "application" && m.subtype == "*");
    if (!json && !wildcard) continue;
    std::string_view as = m.Param("as");
    if (as.empty()) {
      if (m.Param("g").empty() && m.Param("v").empty()) return {};
      continue;
    }
    if (!json || m.Param("g") != "meta.k8s.io") continue;
    std::string_view v = m.Param("v");
    if (v != "v1" && v != "v1beta1") continue;
    OutputFormat f;
    f.api_version = "meta.k8s.io/" + std::string(v);
    if (as == "Table") {
      f.kind = OutputKind::kTable;
    } else if (as == "PartialObjectMetadata") {
      f.kind = OutputKind::kPartialObjectMetadata;
    } else if (as == "PartialObjectMetadataList") {
      f.kind = OutputKind::kPartialObjectMetadataList;
    } else {
      continue;
    }
    return f;
  }
  return {};
}

std::vector<TableColumn> TableColumns(const ResourceInfo& resource) {
  const Printer* p = FindPrinter(resource);
  if (p != nullptr) return p->columns;
  return {NameCol(), AgeCol()};
}

Result<std::string> ToTable(const ResourceInfo& resource,
                            const std::vector<const google::protobuf::Message*>& objects,
                            const TableOptions& options) {
  const Printer* printer = FindPrinter(resource);
  std::vector<TableColumn> columns = TableColumns(resource);
  metav1::Table table;
  table.mutable_metadata();
  if (!options.resource_version.empty())
    table.mutable_metadata()->set_resourceversion(options.resource_version);
  if (!options.continue_token.empty()) table.mutable_metadata()->set_continue_(options.continue_token);
  if (options.column_definitions) {
    for (const TableColumn& c : columns) {
      auto* d = table.add_columndefinitions();
      d->set_name(c.name);
      d->set_type(c.type);
      d->set_format(c.format);
      d->set_description(c.description);
      d->set_priority(c.priority);
    }
  }
  std::string api_version = resource.GroupVersion();
  std::string partial_prefix = "{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":";
  AppendJsonString(&partial_prefix, options.api_version);
  partial_prefix += ",\"metadata\":";
  for (const google::protobuf::Message* obj : objects) {
    CK_CHECK(obj != nullptr);
    if (obj->GetDescriptor()->full_name() != resource.proto_type) {
      return BadRequest("table: expected " + resource.proto_type + ", got " +
                        obj->GetDescriptor()->full_name());
    }
    Result<Row> row =
        printer != nullptr ? printer->print(*obj, options.now) : PrintGeneric(*obj, options.now);
    if (!row.ok()) return row.status();
    CK_CHECK(row->cells.size() == columns.size()) << resource.GroupResource() << ": " << row->cells.size()
                                                  << " cells for " << columns.size() << " columns";
    metav1::TableRow* out = table.add_rows();
    for (const Json& cell : row->cells) out->add_cells()->set_raw(cell.Dump());
    for (auto& c : row->conditions) *out->add_conditions() = std::move(c);
    switch (options.include_object) {
      case IncludeObject::kNone:
        break;
      case IncludeObject::kObject: {
        api::EncodeOptions eo;
        eo.kind = resource.kind;
        eo.api_version = api_version;
        auto json = api::ToJson(*obj, eo);
        if (!json.ok()) return Internal("table: encoding " + resource.kind + ": " + json.status().message());
        out->mutable_object()->set_raw(std::move(json).value());
        break;
      }
      case IncludeObject::kMetadata: {
        // PartialObjectMetadata's JSON written around the object's own metadata, without copying
        // the metadata into a PartialObjectMetadata message first (labels and annotations, such
        // as kubectl's last-applied configuration, can be most of an object).
        const metav1::ObjectMeta* meta = MetadataOf(*obj);
        std::string* raw = out->mutable_object()->mutable_raw();
        *raw = partial_prefix;
        if (meta != nullptr) {
          Status s = api::AppendJson(*meta, raw);
          if (!s.ok()) return Internal("table: encoding metadata: " + s.message());
        } else {
          *raw += "{}";
        }
        *raw += '}';
        break;
      }
    }
  }
  api::EncodeOptions eo;
  eo.kind = "Table";
  eo.api_version = options.api_version;
  auto json = api::ToJson(table, eo);
  if (!json.ok()) return Internal("table: " + json.status().message());
  return json;
}

}  // namespace ck::apiserver::discovery
