#include "kubelet/streaming/remote_command.h"

#include <mutex>
#include <optional>
#include <utility>

#include "common/base/strings.h"
#include "kubelet/streaming/spdy_session.h"
#include "kubelet/streaming/websocket.h"

namespace ck::kubelet::streaming {
namespace {

constexpr uint8_t kChannelStdin = 0;
constexpr uint8_t kChannelStdout = 1;
constexpr uint8_t kChannelStderr = 2;
constexpr uint8_t kChannelError = 3;
constexpr uint8_t kChannelResize = 4;
constexpr uint8_t kChannelClose = 255;
constexpr size_t kMaxResizeBuffer = 4096;

// Decodes the stream of TerminalSize JSON objects ({"Width":W,"Height":H}) that the resize
// channel carries, as the kubelet's json.Decoder does. Malformed objects are skipped.
class ResizeDecoder {
 public:
  void Feed(std::string_view bytes, std::vector<std::pair<uint16_t, uint16_t>>* out) {
    buf_.append(bytes);
    size_t start = 0;
    for (;;) {
      const size_t open = buf_.find('{', start);
      if (open == std::string::npos) {
        buf_.clear();
        return;
      }
      int depth = 0;
      bool in_string = false;
      size_t close = std::string::npos;
      for (size_t i = open; i < buf_.size(); ++i) {
        const char c = buf_[i];
        if (in_string) {
          if (c == '\\') ++i;
          else if (c == '"') in_string = false;
        } else if (c == '"') {
          in_string = true;
        } else if (c == '{') {
          ++depth;
        } else if (c == '}' && --depth == 0) {
          close = i;
          break;
        }
      }
      if (close == std::string::npos) {
        buf_.erase(0, open);
        if (buf_.size() > kMaxResizeBuffer) buf_.clear();
        return;
      }
      const std::string_view obj = std::string_view(buf_).substr(open, close - open + 1);
      auto w = Field(obj, "\"Width\"");
      auto h = Field(obj, "\"Height\"");
      if (w && h) out->emplace_back(*w, *h);
      start = close + 1;
    }
  }

 private:
  static std::optional<uint16_t> Field(std::string_view obj, std::string_view key) {
    size_t at = obj.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    at = obj.find(':', at + key.size());
    if (at == std::string_view::npos) return std::nullopt;
    ++at;
    while (at < obj.size() && (obj[at] == ' ' || obj[at] == '\t' || obj[at] == '\n' || obj[at] == '\r')) ++at;
    size_t end = at;
    while (end < obj.size() && obj[end] >= '0' && obj[end] <= '9') ++end;
    auto v = ParseUint(obj.substr(at, end - at));
    if (!v || *v > 0xFFFF) return std::nullopt;
    return static_cast<uint16_t>(*v);
  }

  std::string buf_;
};

std::string GoSliceString(const std::vector<std::string>& v) {
  // fmt's %v of a []string: "[a b c]".
  return "[" + Join(v, " ") + "]";
}

// The text of status.Error() for the SPDY v1-v3 error stream (nothing on success).
std::string LegacyStatusText(int exit_code, const std::vector<std::string>& command, std::string_view error_message) {
  if (error_message.empty() && exit_code == 0) return "";
  if (error_message.empty()) {
    return "command terminated with non-zero exit code: error executing command " + GoSliceString(command) +
           ", exit code " + std::to_string(exit_code);
  }
  return "Internal error occurred: " + std::string(error_message);
}

RemoteCommandOptions Normalize(RemoteCommandOptions o) {
  if (o.tty) o.stderr = false;  // the kubelet bypasses stderr with a tty
  return o;
}

// ---------------------------------------------------------------------------------------------
class WebSocketRemoteCommand final : public RemoteCommandSession {
 public:
  WebSocketRemoteCommand(std::string protocol, RemoteCommandOptions options, Transport transport,
                         RemoteCommandCallbacks callbacks)
      : protocol_(std::move(protocol)),
        v5_(protocol_ == "v5.channel.k8s.io"),
        options_(Normalize(std::move(options))),
        callbacks_(std::move(callbacks)),
        ws_(WebSocketConnection::Role::kServer, std::move(transport),
            WebSocketConnection::Callbacks{
                [this](std::string payload, bool binary) { OnMessage(payload, binary); },
                [this](uint16_t, std::string) { OnPeerClose(); }}) {}

  void Start() override {
    // The kubelet's first write: an empty message on the lowest writable channel tells the
    // client the connection is established.
    uint8_t channel = kChannelError;
    if (options_.stdout) channel = kChannelStdout;
    else if (options_.stderr) channel = kChannelStderr;
    ws_.SendBinary(std::string(1, static_cast<char>(channel)));
    if (callbacks_.on_ready) callbacks_.on_ready();
  }

  Status Feed(std::string_view bytes) override { return ws_.Feed(bytes); }

  bool WriteStdout(std::string_view bytes) override {
    if (!options_.stdout || finished()) return false;
    return ws_.SendBinary(Framed(kChannelStdout, bytes));
  }

  bool WriteStderr(std::string_view bytes) override {
    if (!options_.stderr || finished()) return false;
    return ws_.SendBinary(Framed(kChannelStderr, bytes));
  }

  void Finish(int exit_code, std::string error_message) override {
    {
      std::lock_guard lock(mu_);
      if (finished_) return;
      finished_ = true;
    }
    ws_.SendBinary(Framed(kChannelError, RemoteCommandStatusJson(exit_code, options_.command, error_message)));
    ws_.Close(kWsCloseNormal);
  }

  const std::string& protocol() const override { return protocol_; }

 private:
  static std::string Framed(uint8_t channel, std::string_view bytes) {
    std::string m;
    m.reserve(bytes.size() + 1);
    m.push_back(static_cast<char>(channel));
    m.append(bytes);
    return m;
  }

  bool finished() const {
    std::lock_guard lock(mu_);
    return finished_;
  }

  // Returns true when this call closed stdin (so the caller reports it once).
  bool CloseStdin() {
    std::lock_guard lock(mu_);
    if (!options_.stdin || stdin_closed_) return false;
    stdin_closed_ = true;
    return true;
  }

  void OnMessage(std::string_view message, bool binary) {
    if (!binary || message.empty()) return;  // only the binary channel protocols are offered
    const uint8_t channel = static_cast<uint8_t>(message.front());
    std::string_view data = message.substr(1);
    switch (channel) {
      case kChannelStdin: {
        bool open;
        {
          std::lock_guard lock(mu_);
          open = options_.stdin && !stdin_closed_;
        }
        if (open && !data.empty() && callbacks_.on_stdin) callbacks_.on_stdin(std::string(data));
        return;
      }
      case kChannelResize: {
        if (!options_.tty) return;
        std::vector<std::pair<uint16_t, uint16_t>> sizes;
        {
          std::lock_guard lock(mu_);
          resize_.Feed(data, &sizes);
        }
        for (auto [w, h] : sizes) {
          if (callbacks_.on_resize) callbacks_.on_resize(w, h);
        }
        return;
      }
      case kChannelClose:
        // v5 only: {255, channel}. Only stdin is a client-written channel worth closing.
        if (v5_ && data.size() == 1 && static_cast<uint8_t>(data[0]) == kChannelStdin && CloseStdin() &&
            callbacks_.on_stdin_closed) {
          callbacks_.on_stdin_closed();
        }
        return;
      default:
        return;  // the kubelet ignores frames for channels it does not read
    }
  }

  void OnPeerClose() {
    if (CloseStdin() && callbacks_.on_stdin_closed) callbacks_.on_stdin_closed();
    bool report;
    {
      std::lock_guard lock(mu_);
      report = !finished_;
    }
    if (report && callbacks_.on_closed) callbacks_.on_closed();
  }

  const std::string protocol_;
  const bool v5_;
  const RemoteCommandOptions options_;
  const RemoteCommandCallbacks callbacks_;
  mutable std::mutex mu_;
  bool finished_ = false;      // guarded by mu_
  bool stdin_closed_ = false;  // guarded by mu_
  ResizeDecoder resize_;       // guarded by mu_
  WebSocketConnection ws_;     // last: its callbacks use the members above
};

// ---------------------------------------------------------------------------------------------
class SpdyRemoteCommand final : public RemoteCommandSession {
 public:
  SpdyRemoteCommand(std::string protocol, RemoteCommandOptions options, Transport transport,
                    RemoteCommandCallbacks callbacks)
      : protocol_(std::move(protocol)),
        json_status_(protocol_ == "v5.channel.k8s.io" || protocol_ == "v4.channel.k8s.io"),
        resize_supported_(protocol_ != "v2.channel.k8s.io" && protocol_ != "channel.k8s.io"),
        options_(Normalize(std::move(options))),
        callbacks_(std::move(callbacks)),
        session_(SpdySession::Role::kServer, std::move(transport),
                 SpdySession::Callbacks{
                     [this](uint32_t id, const SpdyHeaders& h) { OnStream(id, h); },
                     nullptr,
                     [this](uint32_t id, std::string data, bool fin) { OnData(id, std::move(data), fin); },
                     [this](uint32_t id, uint32_t) { OnData(id, std::string(), true); },
                     [this](uint32_t) { OnGoAway(); }}) {}

  void Start() override {}

  Status Feed(std::string_view bytes) override { return session_.Feed(bytes); }

  bool WriteStdout(std::string_view bytes) override { return Write(&SpdyRemoteCommand::stdout_id_, bytes); }
  bool WriteStderr(std::string_view bytes) override { return Write(&SpdyRemoteCommand::stderr_id_, bytes); }

  void Finish(int exit_code, std::string error_message) override {
    std::vector<uint32_t> to_close;
    uint32_t error_id;
    {
      std::lock_guard lock(mu_);
      if (finished_) return;
      finished_ = true;
      error_id = error_id_;
      for (uint32_t id : {stdout_id_, stderr_id_, stdin_id_, resize_id_}) {
        if (id != 0) to_close.push_back(id);
      }
    }
    if (error_id != 0) {
      const std::string body = json_status_
                                   ? RemoteCommandStatusJson(exit_code, options_.command, error_message)
                                   : LegacyStatusText(exit_code, options_.command, error_message);
      session_.SendData(error_id, body, /*fin=*/true).IgnoreError();
    }
    for (uint32_t id : to_close) session_.SendData(id, "", /*fin=*/true).IgnoreError();
    session_.Close();
  }

  const std::string& protocol() const override { return protocol_; }

 private:
  bool Write(uint32_t SpdyRemoteCommand::*which, std::string_view bytes) {
    uint32_t id;
    {
      std::lock_guard lock(mu_);
      if (finished_ || !ready_) return false;
      id = this->*which;
    }
    if (id == 0) return false;
    return session_.SendData(id, bytes, false).ok();
  }

  void OnStream(uint32_t id, const SpdyHeaders& headers) {
    const std::string_view type = FindSpdyHeader(headers, "streamtype");
    bool ready_now = false;
    bool reject = false;
    {
      std::lock_guard lock(mu_);
      uint32_t* slot = nullptr;
      if (type == "error") slot = &error_id_;
      else if (type == "stdin" && options_.stdin) slot = &stdin_id_;
      else if (type == "stdout" && options_.stdout) slot = &stdout_id_;
      else if (type == "stderr" && options_.stderr) slot = &stderr_id_;
      else if (type == "resize" && options_.tty && resize_supported_) slot = &resize_id_;
      if (slot == nullptr || *slot != 0 || finished_) {
        reject = true;
      } else {
        *slot = id;
        const bool all = error_id_ != 0 && (!options_.stdin || stdin_id_ != 0) &&
                         (!options_.stdout || stdout_id_ != 0) && (!options_.stderr || stderr_id_ != 0) &&
                         (!(options_.tty && resize_supported_) || resize_id_ != 0);
        if (all && !ready_) ready_now = ready_ = true;
      }
    }
    if (reject) {
      session_.Reset(id, SpdyRstStatus::kRefusedStream).IgnoreError();
      return;
    }
    if (ready_now && callbacks_.on_ready) callbacks_.on_ready();
  }

  void OnData(uint32_t id, std::string data, bool fin) {
    enum { kNone, kStdin, kResize } which = kNone;
    std::vector<std::pair<uint16_t, uint16_t>> sizes;
    bool stdin_closed_now = false;
    {
      std::lock_guard lock(mu_);
      if (id == 0) return;
      if (id == stdin_id_ && !stdin_closed_) {
        which = kStdin;
        if (fin) stdin_closed_now = stdin_closed_ = true;
      } else if (id == resize_id_) {
        which = kResize;
        resize_.Feed(data, &sizes);
      }
    }
    if (which == kStdin) {
      if (!data.empty() && callbacks_.on_stdin) callbacks_.on_stdin(std::move(data));
      if (stdin_closed_now && callbacks_.on_stdin_closed) callbacks_.on_stdin_closed();
    }
    for (auto [w, h] : sizes) {
      if (callbacks_.on_resize) callbacks_.on_resize(w, h);
    }
  }

  void OnGoAway() {
    bool stdin_now = false;
    bool report = false;
    {
      std::lock_guard lock(mu_);
      if (stdin_id_ != 0 && !stdin_closed_) stdin_now = stdin_closed_ = true;
      report = !finished_;
    }
    if (stdin_now && callbacks_.on_stdin_closed) callbacks_.on_stdin_closed();
    if (report && callbacks_.on_closed) callbacks_.on_closed();
  }

  const std::string protocol_;
  const bool json_status_;
  const bool resize_supported_;
  const RemoteCommandOptions options_;
  const RemoteCommandCallbacks callbacks_;
  mutable std::mutex mu_;
  uint32_t error_id_ = 0, stdin_id_ = 0, stdout_id_ = 0, stderr_id_ = 0, resize_id_ = 0;  // guarded by mu_
  bool ready_ = false;         // guarded by mu_
  bool finished_ = false;      // guarded by mu_
  bool stdin_closed_ = false;  // guarded by mu_
  ResizeDecoder resize_;       // guarded by mu_
  SpdySession session_;        // last: its callbacks use the members above
};

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  for (const auto& x : v) {
    if (x == s) return true;
  }
  return false;
}

}  // namespace

std::string RemoteCommandStatusJson(int exit_code, const std::vector<std::string>& command,
                                    std::string_view error_message) {
  // Field order follows metav1.Status as encoding/json writes it: metadata, status, message,
  // reason, details, code.
  if (error_message.empty() && exit_code == 0) return R"({"metadata":{},"status":"Success"})";
  std::string out = R"({"metadata":{},"status":"Failure","message":)";
  if (error_message.empty()) {
    out += JsonString("command terminated with non-zero exit code: error executing command " +
                      GoSliceString(command) + ", exit code " + std::to_string(exit_code));
    out += R"(,"reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":")";
    out += std::to_string(exit_code);
    out += R"("}]}})";
    return out;
  }
  // apierrors.NewInternalError(err).
  out += JsonString("Internal error occurred: " + std::string(error_message));
  out += R"(,"reason":"InternalError","details":{"causes":[{"message":)";
  out += JsonString(error_message);
  out += R"(}]},"code":500})";
  return out;
}

Result<std::unique_ptr<RemoteCommandSession>> NewWebSocketRemoteCommand(
    std::string protocol, RemoteCommandOptions options, Transport transport, RemoteCommandCallbacks callbacks) {
  if (!Contains(kWebSocketRemoteCommandProtocols, protocol)) {
    return BadRequest("unsupported WebSocket remote command protocol \"" + protocol + "\"");
  }
  return std::unique_ptr<RemoteCommandSession>(std::make_unique<WebSocketRemoteCommand>(
      std::move(protocol), std::move(options), std::move(transport), std::move(callbacks)));
}

Result<std::unique_ptr<RemoteCommandSession>> NewSpdyRemoteCommand(
    std::string protocol, RemoteCommandOptions options, Transport transport, RemoteCommandCallbacks callbacks) {
  if (!Contains(kSpdyRemoteCommandProtocols, protocol)) {
    return BadRequest("unsupported SPDY remote command protocol \"" + protocol + "\"");
  }
  return std::unique_ptr<RemoteCommandSession>(std::make_unique<SpdyRemoteCommand>(
      std::move(protocol), std::move(options), std::move(transport), std::move(callbacks)));
}

std::string NegotiateProtocol(const std::vector<std::string>& offered_header_values,
                              const std::vector<std::string>& supported) {
  std::vector<std::string_view> offered;
  for (const auto& value : offered_header_values) {
    for (std::string_view piece : Split(value, ',', /*skip_empty=*/true)) {
      piece = TrimSpace(piece);
      if (!piece.empty()) offered.push_back(piece);
    }
  }
  for (const auto& s : supported) {
    for (std::string_view o : offered) {
      if (o == s) return s;
    }
  }
  return "";
}

}  // namespace ck::kubelet::streaming
