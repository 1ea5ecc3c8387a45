// Port-forward sessions on the kubelet (protocol "portforward.k8s.io").
//
// Over SPDY the client opens, for every forwarded connection, an error stream and a data stream
// whose headers carry streamtype (error|data), port and requestid; the pair is matched by
// requestid (older clients without it: the error stream's id, the data stream's id - 2, as the
// kubelet does). Each complete pair is handed to the user as a PortForwardStream.
// kubectl 1.31+ tunnels the same SPDY session inside WebSocket (subprotocol
// "SPDY/3.1+portforward.k8s.io"): client-go's TunnelingConnection writes each chunk of SPDY bytes
// as one binary message with no prefix byte and reads binary messages back as a plain byte
// stream, so message boundaries need not match SPDY frames. WebSocketPortForwardTunnel does the
// same around a SpdyPortForwardSession.
// Threading: public methods may be called from any thread (one internal mutex per object);
// callbacks run without it, on the thread that called Feed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/base/status.h"
#include "kubelet/streaming/spdy_session.h"
#include "kubelet/streaming/transport.h"
#include "kubelet/streaming/websocket.h"

namespace ck::kubelet::streaming {

inline constexpr std::string_view kPortForwardProtocol = "portforward.k8s.io";
inline constexpr std::string_view kPortForwardTunnelProtocol = "SPDY/3.1+portforward.k8s.io";

// One forwarded connection: a data stream and its error stream. Methods return false when the
// stream is already closed or the session is gone.
class PortForwardStream {
 public:
  uint16_t port() const { return port_; }
  const std::string& request_id() const { return request_id_; }
  // Bytes from the pod's port to the client.
  bool Write(std::string_view bytes);
  // Half-closes the data stream (FIN) and the error stream: the pod side is done.
  bool CloseWrite();
  // Reports a failure (e.g. connection refused) on the error stream, which kubectl prints, then
  // closes both streams.
  bool WriteError(std::string_view message);

 private:
  friend class SpdyPortForwardSession;
  PortForwardStream(SpdySession* session, uint16_t port, std::string request_id, uint32_t data_id,
                    uint32_t error_id)
      : session_(session), port_(port), request_id_(std::move(request_id)), data_id_(data_id), error_id_(error_id) {}
  SpdySession* session_;  // owned by the SpdyPortForwardSession, which outlives its use
  const uint16_t port_;
  const std::string request_id_;
  const uint32_t data_id_;
  const uint32_t error_id_;
};

struct PortForwardCallbacks {
  // A new forwarded connection to `port` is complete: dial the pod and start copying.
  std::function<void(std::shared_ptr<PortForwardStream> stream)> on_stream_pair;
  // Bytes from the client for that connection.
  std::function<void(const std::shared_ptr<PortForwardStream>& stream, std::string bytes)> on_data;
  // The client half-closed (FIN) or reset the data stream: no more bytes will come.
  std::function<void(const std::shared_ptr<PortForwardStream>& stream)> on_remote_fin;
  // The client sent GOAWAY.
  std::function<void()> on_closed;
};

class SpdyPortForwardSession {
 public:
  SpdyPortForwardSession(Transport transport, PortForwardCallbacks callbacks);
  // Bytes read from the connection; BadRequest on a SPDY protocol violation (caller closes).
  Status Feed(std::string_view bytes);
  // GOAWAY and close the transport.
  void Close();

 private:
  struct Pending {
    uint32_t data_id = 0;
    uint32_t error_id = 0;
    std::string port;
  };
  void OnStream(uint32_t id, const SpdyHeaders& headers);
  void OnData(uint32_t id, std::string data, bool fin);

  const PortForwardCallbacks callbacks_;
  std::mutex mu_;
  std::map<std::string, Pending> pending_;                      // guarded by mu_: by request id
  std::map<uint32_t, std::shared_ptr<PortForwardStream>> by_data_id_;  // guarded by mu_
  SpdySession session_;  // last: its callbacks use the members above
};

// SPDY port-forward inside WebSocket binary messages (server side of kubectl 1.31+).
class WebSocketPortForwardTunnel {
 public:
  WebSocketPortForwardTunnel(Transport transport, PortForwardCallbacks callbacks);
  // WebSocket bytes from the connection; BadRequest on a WebSocket or SPDY violation, or on a
  // text message (client-go accepts binary messages only).
  Status Feed(std::string_view bytes);
  void Close();

 private:
  std::mutex mu_;
  Status inner_status_;  // guarded by mu_: first SPDY error seen inside a message
  std::unique_ptr<WebSocketConnection> ws_;
  std::unique_ptr<SpdyPortForwardSession> spdy_;
};

}  // namespace ck::kubelet::streaming
