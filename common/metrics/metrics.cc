#include "common/metrics/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>

#include "common/base/check.h"
#include "common/base/strings.h"

namespace ck::metrics {

uint64_t AtomicDouble::Bits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}

double AtomicDouble::Get() const {
  uint64_t b = bits_.load(std::memory_order_relaxed);
  double d;
  std::memcpy(&d, &b, sizeof d);
  return d;
}

void AtomicDouble::Add(double d) {
  uint64_t old = bits_.load(std::memory_order_relaxed);
  while (true) {
    double cur;
    std::memcpy(&cur, &old, sizeof cur);
    if (bits_.compare_exchange_weak(old, Bits(cur + d), std::memory_order_relaxed)) return;
  }
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  buckets_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::Observe(double v) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.Add(v);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  uint64_t acc = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    acc += buckets_[i].load(std::memory_order_relaxed);
    out[i] = acc;
  }
  return out;
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> out;
  double v = start;
  for (int i = 0; i < count; ++i, v *= factor) out.push_back(v);
  return out;
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60};
}

template <typename M>
M& Family<M>::With(const std::vector<std::string>& values) {
  CK_CHECK(values.size() == label_names_.size())
      << "metric got " << values.size() << " label values for " << label_names_.size() << " labels";
  std::lock_guard lock(mu_);
  auto it = children_.find(values);
  if (it == children_.end()) it = children_.emplace(values, factory_()).first;
  return *it->second;
}

template <typename M>
std::vector<std::pair<std::vector<std::string>, const M*>> Family<M>::Children() const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::vector<std::string>, const M*>> out;
  for (const auto& [k, v] : children_) out.emplace_back(k, v.get());
  return out;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Registry& Registry::Default() {
  static Registry* r = new Registry();
  return *r;
}

Registry::Entry& Registry::Find(const std::string& name, const std::string& help, const char* type) {
  auto& e = entries_[name];
  if (e.type.empty()) {
    e.type = type;
    e.help = help;
  }
  CK_CHECK(e.type == type) << "metric " << name << " registered as " << e.type << " and " << type;
  return e;
}

Family<Counter>& Registry::CounterFamily(const std::string& name, const std::string& help, std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  auto& e = Find(name, help, "counter");
  if (!e.counter) e.counter = std::make_unique<Family<metrics::Counter>>(std::move(labels), [] { return std::make_unique<metrics::Counter>(); });
  return *e.counter;
}

Family<Gauge>& Registry::GaugeFamily(const std::string& name, const std::string& help, std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  auto& e = Find(name, help, "gauge");
  if (!e.gauge) e.gauge = std::make_unique<Family<metrics::Gauge>>(std::move(labels), [] { return std::make_unique<metrics::Gauge>(); });
  return *e.gauge;
}

Family<Histogram>& Registry::HistogramFamily(const std::string& name, const std::string& help,
                                       std::vector<std::string> labels, std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  auto& e = Find(name, help, "histogram");
  if (!e.histogram) {
    e.histogram = std::make_unique<Family<metrics::Histogram>>(
        std::move(labels), [bounds] { return std::make_unique<metrics::Histogram>(bounds); });
  }
  return *e.histogram;
}

void Registry::GaugeFunc(const std::string& name, const std::string& help, std::function<double()> fn) {
  std::lock_guard lock(mu_);
  Find(name, help, "gauge").func = std::move(fn);
}

void Registry::CounterFunc(const std::string& name, const std::string& help, std::function<double()> fn) {
  std::lock_guard lock(mu_);
  Find(name, help, "counter").func = std::move(fn);
}

namespace {

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  return FormatDouble(v);
}

void AppendLabelValue(std::string& out, std::string_view v) {
  out += '"';
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  out += '"';
}

// {a="1",b="2"} plus an optional extra pair (le for histogram buckets).
std::string Labels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                   std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += names[i];
    out += '=';
    AppendLabelValue(out, values[i]);
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name;
    out += '=';
    AppendLabelValue(out, extra_value);
  }
  out += '}';
  return out;
}

std::string HelpEscaped(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

}  // namespace

std::string Registry::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, e] : entries_) {
    out += "# HELP " + name + " " + HelpEscaped(e.help) + "\n";
    out += "# TYPE " + name + " " + e.type + "\n";
    if (e.func) {
      out += name + " " + FormatValue(e.func()) + "\n";
    } else if (e.counter) {
      for (const auto& [values, c] : e.counter->Children()) {
        out += name + Labels(e.counter->label_names(), values) + " " + FormatValue(c->Value()) + "\n";
      }
    } else if (e.gauge) {
      for (const auto& [values, g] : e.gauge->Children()) {
        out += name + Labels(e.gauge->label_names(), values) + " " + FormatValue(g->Value()) + "\n";
      }
    } else if (e.histogram) {
      for (const auto& [values, h] : e.histogram->Children()) {
        auto counts = h->CumulativeCounts();
        const auto& names = e.histogram->label_names();
        for (size_t i = 0; i < h->bounds().size(); ++i) {
          out += name + "_bucket" + Labels(names, values, "le", FormatValue(h->bounds()[i])) + " " +
                 std::to_string(counts[i]) + "\n";
        }
        out += name + "_bucket" + Labels(names, values, "le", "+Inf") + " " + std::to_string(counts.back()) + "\n";
        out += name + "_sum" + Labels(names, values) + " " + FormatValue(h->Sum()) + "\n";
        out += name + "_count" + Labels(names, values) + " " + std::to_string(h->Count()) + "\n";
      }
    }
  }
  return out;
}

double ResidentMemoryBytes() {
  std::ifstream in("/proc/self/statm");
  long size = 0, resident = 0;
  in >> size >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

void RegisterProcessMetrics(Registry& r) {
  static const double start = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  r.GaugeFunc("process_resident_memory_bytes", "Resident memory size in bytes.", ResidentMemoryBytes);
  r.GaugeFunc("process_virtual_memory_bytes", "Virtual memory size in bytes.", [] {
    std::ifstream in("/proc/self/statm");
    long size = 0;
    in >> size;
    return static_cast<double>(size) * static_cast<double>(sysconf(_SC_PAGESIZE));
  });
  r.CounterFunc("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", CpuSeconds);
  r.GaugeFunc("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", [] { return start; });
  r.GaugeFunc("process_open_fds", "Number of open file descriptors.", [] {
    int n = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
      while (readdir(d)) ++n;
      closedir(d);
      n -= 3;  // ".", ".." and the directory's own descriptor
    }
    return static_cast<double>(n);
  });
  r.GaugeFunc("process_max_fds", "Maximum number of open file descriptors.", [] {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    return static_cast<double>(rl.rlim_cur);
  });
}

}  // namespace ck::metrics
