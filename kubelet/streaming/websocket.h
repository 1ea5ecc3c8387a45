// RFC 6455 WebSocket framing for the kubelet's streaming API (exec, attach, port-forward tunnel).
//
// Pure codec: the HTTP upgrade itself happens elsewhere (the caller answers 101 with
// WebSocketAccept(key)); this class turns the bytes that follow into whole messages and writes
// frames through a Transport. kServer requires masked client frames and writes unmasked ones;
// kClient (tests, benches, the apiserver side) does the opposite. Fragmented messages are
// reassembled, pings answered with pongs, pongs ignored, and a close frame is answered once.
// Threading: every public method may be called from any thread (one internal mutex); Feed is
// called by one reader at a time. Callbacks run without the mutex on the thread that called Feed.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "common/base/status.h"
#include "kubelet/streaming/transport.h"

namespace ck::kubelet::streaming {

enum class WsOpcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close codes used here (RFC 6455 §7.4.1).
inline constexpr uint16_t kWsCloseNormal = 1000;
inline constexpr uint16_t kWsCloseProtocolError = 1002;
inline constexpr uint16_t kWsCloseTooBig = 1009;

// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), the Sec-WebSocket-Accept value.
std::string WebSocketAccept(std::string_view key);

// One frame. With mask=true the payload is masked with mask_key (what a client sends).
std::string EncodeFrame(WsOpcode opcode, std::string_view payload, bool mask = false,
                        uint32_t mask_key = 0, bool fin = true);
// The payload of a close frame: 2-byte code then the UTF-8 reason.
std::string EncodeClosePayload(uint16_t code, std::string_view reason = "");

class WebSocketConnection {
 public:
  enum class Role { kServer, kClient };
  struct Callbacks {
    // A whole text or binary message.
    std::function<void(std::string payload, bool binary)> on_message;
    // The peer's close frame arrived (once); code is 1005 when the frame had no code.
    std::function<void(uint16_t code, std::string reason)> on_close;
  };

  // mask_seed seeds the masking keys of a kClient (unused by a kServer).
  WebSocketConnection(Role role, Transport transport, Callbacks callbacks,
                      uint32_t mask_seed = 0x9e3779b9u);

  // Consumes bytes read from the connection. A protocol violation (unmasked client frame,
  // oversized length, bad control frame, reserved bits, unknown opcode, bad fragmentation)
  // returns BadRequest naming it; the connection is then unusable and the caller closes it.
  // Bytes after the peer's close frame are ignored.
  Status Feed(std::string_view bytes);

  // Send one message as a single frame. False when the connection is closing or gone.
  bool SendBinary(std::string_view payload);
  bool SendText(std::string_view payload);
  bool Ping(std::string_view payload = "");

  // Sends a close frame (once) and then asks the transport to close.
  void Close(uint16_t code = kWsCloseNormal, std::string_view reason = "");

  // True once a close frame was sent or received.
  bool closing() const;

 private:
  bool SendFrameLocked(WsOpcode opcode, std::string_view payload);
  Status ParseLocked(std::function<void()>* deliver);
  Status Fail(std::string message);

  const Role role_;
  const Transport transport_;
  const Callbacks callbacks_;

  mutable std::mutex mu_;
  uint32_t mask_state_;             // guarded by mu_
  std::string in_;                  // guarded by mu_: unparsed input
  size_t in_pos_ = 0;               // guarded by mu_: parse offset into in_
  std::string message_;             // guarded by mu_: fragments of the current message
  bool in_message_ = false;         // guarded by mu_
  bool message_binary_ = false;     // guarded by mu_
  bool close_sent_ = false;         // guarded by mu_
  bool close_received_ = false;     // guarded by mu_
  bool transport_closed_ = false;   // guarded by mu_
  bool failed_ = false;             // guarded by mu_
};

}  // namespace ck::kubelet::streaming
