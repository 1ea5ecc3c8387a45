#include "kubelet/streaming/spdy_session.h"

#include <utility>

namespace ck::kubelet::streaming {
namespace {
constexpr size_t kDataChunk = 64 * 1024;
}  // namespace

SpdySession::SpdySession(Role role, Transport transport, Callbacks callbacks)
    : role_(role),
      transport_(std::move(transport)),
      callbacks_(std::move(callbacks)),
      next_local_id_(role == Role::kClient ? 1 : 2),
      next_ping_id_(role == Role::kClient ? 1 : 2) {}

bool SpdySession::SendLocked(std::string bytes) {
  if (transport_closed_ || !transport_.send) return false;
  return transport_.send(std::move(bytes));
}

void SpdySession::MaybeForgetLocked(uint32_t id) {
  auto it = streams_.find(id);
  if (it != streams_.end() && it->second.local_fin && it->second.remote_fin) streams_.erase(it);
}

Status SpdySession::Feed(std::string_view bytes) {
  std::vector<SpdyFrame> frames;
  Deliveries deliver;
  Status status;
  {
    std::lock_guard lock(mu_);
    if (failed_) return BadRequest("spdy: session already failed");
    status = framer_.Feed(bytes, &frames);
    for (SpdyFrame& f : frames) {
      Status s = HandleFrameLocked(f, &deliver);
      if (!s.ok()) {
        status = s;
        break;
      }
    }
    if (!status.ok()) failed_ = true;
  }
  // Frames decoded before a violation are still delivered, in order.
  for (auto& d : deliver) d();
  return status;
}

Status SpdySession::HandleFrameLocked(SpdyFrame& f, Deliveries* deliver) {
  switch (f.type) {
    case SpdyFrameType::kSynStream: {
      const bool peer_parity_ok = (f.stream_id % 2 == 1) == (role_ == Role::kServer);
      if (!peer_parity_ok) {
        return BadRequest("spdy: SYN_STREAM with stream id " + std::to_string(f.stream_id) +
                          " of this side's parity");
      }
      if (f.stream_id <= last_remote_id_) {
        return BadRequest("spdy: SYN_STREAM id " + std::to_string(f.stream_id) + " does not increase");
      }
      last_remote_id_ = f.stream_id;
      if (goaway_sent_) {
        SendLocked(SpdyFramer::EncodeRstStream(f.stream_id, SpdyRstStatus::kRefusedStream));
        return Status::Ok();
      }
      if (streams_.size() >= kMaxStreams) {
        SendLocked(SpdyFramer::EncodeRstStream(f.stream_id, SpdyRstStatus::kRefusedStream));
        return Status::Ok();
      }
      StreamState st;
      st.remote_fin = (f.flags & kSpdyFlagFin) != 0;
      st.local_fin = (f.flags & kSpdyFlagUnidirectional) != 0;
      streams_[f.stream_id] = st;
      // spdystream (server side) drops data until it has replied, and client-go waits for the
      // reply before using a stream: answer at once.
      SendLocked(framer_.EncodeSynReply(f.stream_id, 0, {}));
      const bool fin = st.remote_fin;
      const uint32_t id = f.stream_id;
      if (callbacks_.on_stream) {
        auto cb = callbacks_.on_stream;
        deliver->push_back([cb, id, h = std::move(f.headers)] { cb(id, h); });
      }
      if (fin) DeliverFinLocked(id, deliver);
      MaybeForgetLocked(id);
      return Status::Ok();
    }
    case SpdyFrameType::kSynReply: {
      auto it = streams_.find(f.stream_id);
      if (it == streams_.end()) return Status::Ok();
      const bool fin = (f.flags & kSpdyFlagFin) != 0;
      if (fin) it->second.remote_fin = true;
      const uint32_t id = f.stream_id;
      if (callbacks_.on_reply) {
        auto cb = callbacks_.on_reply;
        deliver->push_back([cb, id, h = std::move(f.headers)] { cb(id, h); });
      }
      if (fin) DeliverFinLocked(id, deliver);
      MaybeForgetLocked(id);
      return Status::Ok();
    }
    case SpdyFrameType::kHeaders: {
      // Extra headers are not used by Kubernetes streams; only their FIN matters.
      auto it = streams_.find(f.stream_id);
      if (it == streams_.end() || (f.flags & kSpdyFlagFin) == 0 || it->second.remote_fin) return Status::Ok();
      it->second.remote_fin = true;
      DeliverFinLocked(f.stream_id, deliver);
      MaybeForgetLocked(f.stream_id);
      return Status::Ok();
    }
    case SpdyFrameType::kData: {
      auto it = streams_.find(f.stream_id);
      // Data for a stream that was reset or never opened is dropped, as spdystream does.
      if (it == streams_.end() || it->second.remote_fin) return Status::Ok();
      const bool fin = (f.flags & kSpdyFlagFin) != 0;
      if (fin) it->second.remote_fin = true;
      const uint32_t id = f.stream_id;
      if (callbacks_.on_data && (fin || !f.data.empty())) {
        auto cb = callbacks_.on_data;
        deliver->push_back([cb, id, d = std::move(f.data), fin]() mutable { cb(id, std::move(d), fin); });
      }
      MaybeForgetLocked(id);
      return Status::Ok();
    }
    case SpdyFrameType::kRstStream: {
      if (streams_.erase(f.stream_id) == 0) return Status::Ok();
      const uint32_t id = f.stream_id;
      const uint32_t status = f.status;
      if (callbacks_.on_reset) {
        auto cb = callbacks_.on_reset;
        deliver->push_back([cb, id, status] { cb(id, status); });
      }
      return Status::Ok();
    }
    case SpdyFrameType::kPing: {
      const bool ours = (f.ping_id % 2 == 1) == (role_ == Role::kClient);
      if (!ours) SendLocked(SpdyFramer::EncodePing(f.ping_id));
      return Status::Ok();
    }
    case SpdyFrameType::kGoAway: {
      if (goaway_received_) return Status::Ok();
      goaway_received_ = true;
      const uint32_t last = f.last_good_stream_id;
      if (callbacks_.on_goaway) {
        auto cb = callbacks_.on_goaway;
        deliver->push_back([cb, last] { cb(last); });
      }
      return Status::Ok();
    }
    case SpdyFrameType::kSettings:
    case SpdyFrameType::kWindowUpdate:
      return Status::Ok();  // no flow control: see the header comment
  }
  return Status::Ok();
}

void SpdySession::DeliverFinLocked(uint32_t id, Deliveries* deliver) {
  if (!callbacks_.on_data) return;
  deliver->push_back([cb = callbacks_.on_data, id] { cb(id, std::string(), true); });
}

Result<uint32_t> SpdySession::OpenStream(const SpdyHeaders& headers, bool fin) {
  std::lock_guard lock(mu_);
  if (goaway_sent_ || goaway_received_ || transport_closed_) return Unavailable("spdy: session is going away");
  if (streams_.size() >= kMaxStreams) return TooManyRequests("spdy: too many open streams");
  if (next_local_id_ > 0x7FFFFFFF) return Unavailable("spdy: stream ids exhausted");
  const uint32_t id = next_local_id_;
  next_local_id_ += 2;
  StreamState st;
  st.local_fin = fin;
  streams_[id] = st;
  if (!SendLocked(framer_.EncodeSynStream(id, 0, 0, fin ? kSpdyFlagFin : 0, headers))) {
    return Unavailable("spdy: transport closed");
  }
  return id;
}

Status SpdySession::SendData(uint32_t id, std::string_view bytes, bool fin) {
  std::lock_guard lock(mu_);
  auto it = streams_.find(id);
  if (it == streams_.end() || it->second.local_fin) {
    return NotFound("spdy: stream " + std::to_string(id) + " is not open for writing");
  }
  do {
    const std::string_view chunk = bytes.substr(0, kDataChunk);
    bytes.remove_prefix(chunk.size());
    const bool last = bytes.empty();
    if (!SendLocked(SpdyFramer::EncodeData(id, chunk, fin && last))) return Unavailable("spdy: transport closed");
  } while (!bytes.empty());
  if (fin) {
    it->second.local_fin = true;
    MaybeForgetLocked(id);
  }
  return Status::Ok();
}

Status SpdySession::Reset(uint32_t id, SpdyRstStatus status) {
  std::lock_guard lock(mu_);
  if (streams_.erase(id) == 0) return NotFound("spdy: stream " + std::to_string(id) + " is not open");
  if (!SendLocked(SpdyFramer::EncodeRstStream(id, status))) return Unavailable("spdy: transport closed");
  return Status::Ok();
}

bool SpdySession::Ping() {
  std::lock_guard lock(mu_);
  const uint32_t id = next_ping_id_;
  next_ping_id_ += 2;
  return SendLocked(SpdyFramer::EncodePing(id));
}

void SpdySession::GoAwayLocked() {
  if (goaway_sent_) return;
  goaway_sent_ = true;
  SendLocked(SpdyFramer::EncodeGoAway(last_remote_id_, 0));
}

void SpdySession::GoAway() {
  std::lock_guard lock(mu_);
  GoAwayLocked();
}

void SpdySession::Close() {
  std::lock_guard lock(mu_);
  GoAwayLocked();
  if (!transport_closed_) {
    transport_closed_ = true;
    if (transport_.close_transport) transport_.close_transport();
  }
}

size_t SpdySession::open_streams() const {
  std::lock_guard lock(mu_);
  return streams_.size();
}

}  // namespace ck::kubelet::streaming
