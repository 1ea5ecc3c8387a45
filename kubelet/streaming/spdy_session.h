// A SPDY/3.1 session in server or client role, as moby/spdystream runs one for client-go.
//
// The server side (the kubelet) answers every SYN_STREAM with an empty SYN_REPLY before telling
// the user (on_stream): client-go waits for that reply before it writes to a stream. Incoming
// data goes to on_data, RST_STREAM to on_reset, a peer's PING is echoed, GOAWAY goes to
// on_goaway. Streams beyond kMaxStreams are refused with RST_STREAM(REFUSED_STREAM).
//
// Flow control: moby/spdystream (connection.go, every version up to v0.5) never sends
// WINDOW_UPDATE, never tracks a send window and drops incoming WINDOW_UPDATE frames as
// "unhandled frame type"; client-go uses it as is. Enforcing SPDY/3's 64 KiB windows against a
// Go peer would therefore stall every stream after 64 KiB. This session accepts and ignores
// WINDOW_UPDATE and SETTINGS, enforces no window and sends neither, exactly like its peers.
//
// Threading: public methods may be called from any thread (one internal mutex); Feed is called
// by one reader at a time; callbacks run without the mutex on the thread that called Feed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "common/base/status.h"
#include "kubelet/streaming/spdy_framer.h"
#include "kubelet/streaming/transport.h"

namespace ck::kubelet::streaming {

class SpdySession {
 public:
  enum class Role { kServer, kClient };
  struct Callbacks {
    // The peer opened stream `id` (for a server, the SYN_REPLY is already sent).
    std::function<void(uint32_t id, const SpdyHeaders& headers)> on_stream;
    // The SYN_REPLY to a stream this side opened (client role).
    std::function<void(uint32_t id, const SpdyHeaders& headers)> on_reply;
    // Data on a stream; fin marks the peer's half-close (data may then be empty).
    std::function<void(uint32_t id, std::string data, bool fin)> on_data;
    // The peer reset stream `id`.
    std::function<void(uint32_t id, uint32_t status)> on_reset;
    // The peer sent GOAWAY: it opens no more streams.
    std::function<void(uint32_t last_good_stream_id)> on_goaway;
  };

  SpdySession(Role role, Transport transport, Callbacks callbacks);

  // Consumes bytes read from the connection. A framing or protocol error (see SpdyFramer::Feed,
  // plus stream ids that do not increase or have the wrong parity) returns BadRequest; the
  // session is then unusable and the caller closes the connection.
  Status Feed(std::string_view bytes);

  // Opens a stream from this side (odd ids for a client, even for a server).
  Result<uint32_t> OpenStream(const SpdyHeaders& headers, bool fin = false);
  // Writes data in frames of at most 64 KiB; fin half-closes this side. NotFound for an unknown
  // or already half-closed stream, Unavailable when the transport is gone.
  Status SendData(uint32_t id, std::string_view bytes, bool fin = false);
  // RST_STREAM(CANCEL by default); forgets the stream.
  Status Reset(uint32_t id, SpdyRstStatus status = SpdyRstStatus::kCancel);
  // Sends a PING with an id of this side's parity; the echo is ignored.
  bool Ping();
  // Sends GOAWAY (once) naming the last stream the peer opened.
  void GoAway();
  // GOAWAY, then asks the transport to close (once).
  void Close();

  size_t open_streams() const;

 private:
  struct StreamState {
    bool local_fin = false;
    bool remote_fin = false;
  };
  using Deliveries = std::vector<std::function<void()>>;

  Status HandleFrameLocked(SpdyFrame& frame, Deliveries* deliver);
  bool SendLocked(std::string bytes);
  void MaybeForgetLocked(uint32_t id);
  // Queues on_data(id, "", fin=true): the peer half-closed the stream.
  void DeliverFinLocked(uint32_t id, Deliveries* deliver);
  void GoAwayLocked();

  const Role role_;
  const Transport transport_;
  const Callbacks callbacks_;

  mutable std::mutex mu_;
  SpdyFramer framer_;                         // guarded by mu_
  std::map<uint32_t, StreamState> streams_;   // guarded by mu_
  uint32_t next_local_id_;                    // guarded by mu_
  uint32_t last_remote_id_ = 0;               // guarded by mu_
  uint32_t next_ping_id_;                     // guarded by mu_
  bool goaway_sent_ = false;                  // guarded by mu_
  bool goaway_received_ = false;              // guarded by mu_
  bool transport_closed_ = false;             // guarded by mu_
  bool failed_ = false;                       // guarded by mu_
};

}  // namespace ck::kubelet::streaming
