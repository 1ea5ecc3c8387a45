#include "common/base/log.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>

#include "common/base/strings.h"

namespace ck::log {

std::atomic<int> g_verbosity{0};

namespace {

std::atomic<Format> g_format{Format::kText};

// klog's header, on spdlog: severity letter, mmdd, time with microseconds, thread id padded to 7,
// file:line.
constexpr const char* kTextPattern = "%L%m%d %H:%M:%S.%f %7t %s:%#] %v";

class StringSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit StringSink(std::string* out) : out_(out) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    out_->append(buf.data(), buf.size());
  }
  void flush_() override {}

 private:
  std::string* out_;
};

std::mutex g_logger_mu;
std::shared_ptr<spdlog::logger> g_logger;  // guarded by g_logger_mu for replacement

void Configure(std::shared_ptr<spdlog::sinks::sink> sink) {
  auto logger = std::make_shared<spdlog::logger>("ck", std::move(sink));
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::trace);
  logger->set_pattern(g_format.load() == Format::kJson ? "%v" : kTextPattern, spdlog::pattern_time_type::utc);
  std::lock_guard lock(g_logger_mu);
  g_logger = std::move(logger);
}

std::shared_ptr<spdlog::logger> Logger() {
  std::lock_guard lock(g_logger_mu);
  if (!g_logger) {
    auto logger = std::make_shared<spdlog::logger>("ck", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    logger->set_level(spdlog::level::trace);
    logger->flush_on(spdlog::level::trace);
    logger->set_pattern(kTextPattern, spdlog::pattern_time_type::utc);
    g_logger = std::move(logger);
  }
  return g_logger;
}

const char* Basename(const char* file) {
  const char* slash = std::strrchr(file, '/');
  return slash ? slash + 1 : file;
}

spdlog::level::level_enum LevelOf(Severity s) {
  switch (s) {
    case Severity::kInfo: return spdlog::level::info;
    case Severity::kWarning: return spdlog::level::warn;
    case Severity::kError: return spdlog::level::err;
    case Severity::kFatal: return spdlog::level::critical;
  }
  return spdlog::level::info;
}

void AppendValue(std::string& out, const Field& f, bool json) {
  switch (f.kind) {
    case Field::Kind::kString:
      if (json) {
        AppendJsonString(out, f.str);
      } else {
        AppendQuoted(out, f.str);
      }
      break;
    case Field::Kind::kInt: out += std::to_string(f.i); break;
    case Field::Kind::kUint: out += std::to_string(f.u); break;
    case Field::Kind::kDouble: out += FormatDouble(f.d); break;
    case Field::Kind::kBool: out += f.b ? "true" : "false"; break;
  }
}

// The part after klog's header: "msg" key="value" ...
std::string TextBody(std::string_view msg, const std::vector<Field>& fields) {
  std::string out;
  out.reserve(64 + msg.size());
  AppendQuoted(out, msg);
  for (const auto& f : fields) {
    out += ' ';
    out += f.key;
    out += '=';
    AppendValue(out, f, false);
  }
  return out;
}

std::string JsonLine(Severity sev, int v, const char* file, int line, std::string_view msg,
                     const std::vector<Field>& fields) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  double ts = std::chrono::duration<double>(now).count();
  std::string out = "{\"ts\":";
  out += FormatDouble(ts, 6);
  out += ",\"caller\":";
  AppendJsonString(out, std::string(Basename(file)) + ":" + std::to_string(line));
  out += ",\"msg\":";
  AppendJsonString(out, msg);
  // Upstream's JSON format writes "v" for info lines only; errors carry "err" instead.
  if (sev == Severity::kInfo) out += ",\"v\":" + std::to_string(v);
  for (const auto& f : fields) {
    out += ',';
    AppendJsonString(out, f.key);
    out += ':';
    AppendValue(out, f, true);
  }
  out += '}';
  return out;
}

}  // namespace

void Init(Format format, int verbosity) {
  g_format.store(format);
  g_verbosity.store(verbosity);
  Configure(std::make_shared<spdlog::sinks::stderr_sink_mt>());
}

void SetVerbosity(int v) { g_verbosity.store(v); }
int Verbosity() { return g_verbosity.load(); }

bool ParseFormat(std::string_view s, Format* out) {
  if (s == "text") {
    *out = Format::kText;
    return true;
  }
  if (s == "json") {
    *out = Format::kJson;
    return true;
  }
  return false;
}

std::string FormatLine(Format format, Severity sev, int v, const char* file, int line,
                       std::string_view msg, const std::vector<Field>& fields) {
  if (format == Format::kJson) return JsonLine(sev, v, file, line, msg, fields);
  // The header is spdlog's (kTextPattern); format one message through a throwaway logger.
  std::string out;
  auto sink = std::make_shared<StringSink>(&out);
  spdlog::logger logger("fmt", sink);
  logger.set_pattern(kTextPattern, spdlog::pattern_time_type::utc);
  logger.log(spdlog::source_loc{file, line, ""}, LevelOf(sev), TextBody(msg, fields));
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

void Write(Severity sev, int v, const char* file, int line, std::string_view msg,
           const std::vector<Field>& fields) {
  auto logger = Logger();
  if (g_format.load() == Format::kJson) {
    logger->log(LevelOf(sev), JsonLine(sev, v, file, line, msg, fields));
  } else {
    logger->log(spdlog::source_loc{file, line, ""}, LevelOf(sev), TextBody(msg, fields));
  }
}

void CaptureForTest(std::string* sink) {
  if (sink) {
    Configure(std::make_shared<StringSink>(sink));
  } else {
    Configure(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  }
}

}  // namespace ck::log
