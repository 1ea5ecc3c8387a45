// Structured logging in klog's format, on spdlog, to stderr:
//   I1127 06:36:29.123456   4242 pod_worker.cc:79] "Pod status updated" pod="default/web-1" status="ready"
// or, with --logging-format=json, one JSON object per line:
//   {"ts":1764225389.123456,"caller":"pod_worker.cc:79","msg":"Pod status updated","v":0,"pod":"default/web-1"}
//
// Use the macros; arguments after the message are key, value pairs:
//   CK_LOG_INFO("Pod status updated", "pod", key, "status", "ready");
//   CK_VLOG(2, "Request", "verb", verb, "code", 200);   // only when -v >= 2
//   CK_LOG_ERROR("Sync failed", "err", status.ToString());
// Threading: safe from any thread; Init() is called once by the daemon scaffold before threads start.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace ck::log {

enum class Severity { kInfo, kWarning, kError, kFatal };
enum class Format { kText, kJson };

// Configures the process logger. Safe to call again (tests switch formats).
void Init(Format format, int verbosity);
void SetVerbosity(int v);
int Verbosity();
inline bool V(int level) {
  extern std::atomic<int> g_verbosity;
  return level <= g_verbosity.load(std::memory_order_relaxed);
}

// Parses "text" or "json"; returns false for anything else.
bool ParseFormat(std::string_view s, Format* out);

// One key/value; strings are quoted in text format, numbers and booleans are not.
struct Field {
  enum class Kind { kString, kInt, kUint, kDouble, kBool };
  std::string_view key;
  Kind kind;
  std::string str;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  bool b = false;
};

// Formats one line (without the trailing newline) exactly as it would be written; for tests.
std::string FormatLine(Format format, Severity sev, int v, const char* file, int line,
                       std::string_view msg, const std::vector<Field>& fields);

void Write(Severity sev, int v, const char* file, int line, std::string_view msg,
           const std::vector<Field>& fields);

// Redirects output to a string (tests) or back to stderr (nullptr).
void CaptureForTest(std::string* sink);

namespace internal {
template <typename T>
Field MakeField(std::string_view key, const T& value) {
  Field f{key, Field::Kind::kString, {}};
  if constexpr (std::is_same_v<T, bool>) {
    f.kind = Field::Kind::kBool;
    f.b = value;
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    f.kind = Field::Kind::kInt;
    f.i = value;
  } else if constexpr (std::is_integral_v<T>) {
    f.kind = Field::Kind::kUint;
    f.u = value;
  } else if constexpr (std::is_floating_point_v<T>) {
    f.kind = Field::Kind::kDouble;
    f.d = value;
  } else {
    f.str = std::string(std::string_view(value));
  }
  return f;
}

inline void Collect(std::vector<Field>&) {}
template <typename V, typename... Rest>
void Collect(std::vector<Field>& out, std::string_view key, const V& value, const Rest&... rest) {
  out.push_back(MakeField(key, value));
  Collect(out, rest...);
}

template <typename... KV>
void Emit(Severity sev, int v, const char* file, int line, std::string_view msg, const KV&... kv) {
  static_assert(sizeof...(KV) % 2 == 0, "log fields come in key, value pairs");
  std::vector<Field> fields;
  fields.reserve(sizeof...(KV) / 2);
  Collect(fields, kv...);
  Write(sev, v, file, line, msg, fields);
}
}  // namespace internal

}  // namespace ck::log

#define CK_LOG_INFO(...) \
  ::ck::log::internal::Emit(::ck::log::Severity::kInfo, 0, __FILE__, __LINE__, __VA_ARGS__)
#define CK_LOG_WARNING(...) \
  ::ck::log::internal::Emit(::ck::log::Severity::kWarning, 0, __FILE__, __LINE__, __VA_ARGS__)
#define CK_LOG_ERROR(...) \
  ::ck::log::internal::Emit(::ck::log::Severity::kError, 0, __FILE__, __LINE__, __VA_ARGS__)
#define CK_VLOG(level, ...)                                                            \
  do {                                                                                 \
    if (::ck::log::V(level))                                                           \
      ::ck::log::internal::Emit(::ck::log::Severity::kInfo, level, __FILE__, __LINE__, \
                                __VA_ARGS__);                                          \
  } while (0)
