// One exec/attach session on the kubelet, independent of the wire it runs on.
//
// Over WebSocket (v4/v5.channel.k8s.io) every binary message starts with a channel byte: 0 stdin,
// 1 stdout, 2 stderr, 3 status JSON, 4 resize JSON, 255 close-stream (v5: byte 1 names the
// channel). Over SPDY the client opens one stream per channel, named by the `streamtype` header
// (error, stdin, stdout, stderr, resize); the session is ready when every stream the options ask
// for exists (error always, resize with tty). Finish writes the final Status as the kubelet does
// (v4WriteStatusFunc: JSON, also on success; SPDY v1-v3: text, nothing on success), closes the
// streams and the transport.
// Threading: public methods may be called from any thread (one internal mutex); callbacks run
// without it, on the thread that called Feed (or Start).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "kubelet/streaming/transport.h"

namespace ck::kubelet::streaming {

struct RemoteCommandOptions {
  bool stdin = false;
  bool stdout = false;
  bool stderr = false;  // forced false when tty, as the kubelet does
  bool tty = false;
  std::vector<std::string> command;  // for the NonZeroExitCode message; empty for attach
};

struct RemoteCommandCallbacks {
  std::function<void(std::string bytes)> on_stdin;
  std::function<void()> on_stdin_closed;
  std::function<void(uint16_t width, uint16_t height)> on_resize;
  // Every expected stream exists: the command may start writing.
  std::function<void()> on_ready;
  // The peer closed the connection (WebSocket close, SPDY GOAWAY) before Finish.
  std::function<void()> on_closed;
};

class RemoteCommandSession {
 public:
  virtual ~RemoteCommandSession() = default;
  // Starts the session after the 101 response went out. WebSocket: sends the kubelet's empty
  // first message on the lowest writable channel and calls on_ready. SPDY: nothing to do.
  virtual void Start() = 0;
  // Bytes read from the connection; a protocol violation returns BadRequest (caller closes).
  virtual Status Feed(std::string_view bytes) = 0;
  // False when the stream is not open (not requested, not ready, closed) or the transport is gone.
  virtual bool WriteStdout(std::string_view bytes) = 0;
  // Never writes with tty (kubectl would log "Unknown stream id 2").
  virtual bool WriteStderr(std::string_view bytes) = 0;
  // exit_code >= 0 with empty error_message: the command exited (0 = Success, else
  // NonZeroExitCode). Otherwise an InternalError Status with error_message. Then closes. Once.
  virtual void Finish(int exit_code, std::string error_message) = 0;
  virtual const std::string& protocol() const = 0;
};

// The Status JSON the kubelet writes for v4 and later (see kubectl-api.md §10).
std::string RemoteCommandStatusJson(int exit_code, const std::vector<std::string>& command,
                                    std::string_view error_message);

// protocol: "v4.channel.k8s.io" or "v5.channel.k8s.io". InvalidArgument-like BadRequest otherwise.
Result<std::unique_ptr<RemoteCommandSession>> NewWebSocketRemoteCommand(
    std::string protocol, RemoteCommandOptions options, Transport transport, RemoteCommandCallbacks callbacks);
// protocol: one of kSpdyRemoteCommandProtocols.
Result<std::unique_ptr<RemoteCommandSession>> NewSpdyRemoteCommand(
    std::string protocol, RemoteCommandOptions options, Transport transport, RemoteCommandCallbacks callbacks);

// Server preference order.
inline const std::vector<std::string> kWebSocketRemoteCommandProtocols = {"v5.channel.k8s.io",
                                                                         "v4.channel.k8s.io"};
inline const std::vector<std::string> kSpdyRemoteCommandProtocols = {
    "v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"};

// Picks the first protocol of `supported` (server preference) that appears among the offered
// header values (each may be a comma-separated list, as Sec-WebSocket-Protocol and
// X-Stream-Protocol-Version are). "" when none matches.
std::string NegotiateProtocol(const std::vector<std::string>& offered_header_values,
                              const std::vector<std::string>& supported);

}  // namespace ck::kubelet::streaming
