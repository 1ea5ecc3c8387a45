#include "kubelet/streaming/websocket.h"

#include <openssl/sha.h>

#include <utility>

#include "common/base/strings.h"

namespace ck::kubelet::streaming {
namespace {

constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool IsControl(uint8_t opcode) { return (opcode & 0x8) != 0; }

bool KnownOpcode(uint8_t op) {
  return op == 0x0 || op == 0x1 || op == 0x2 || op == 0x8 || op == 0x9 || op == 0xA;
}

}  // namespace

std::string WebSocketAccept(std::string_view key) {
  std::string input(key);
  input.append(kAcceptGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::string EncodeFrame(WsOpcode opcode, std::string_view payload, bool mask, uint32_t mask_key,
                        bool fin) {
  std::string out;
  out.reserve(payload.size() + 14);
  out.push_back(static_cast<char>((fin ? 0x80 : 0x00) | static_cast<uint8_t>(opcode)));
  const uint8_t mask_bit = mask ? 0x80 : 0x00;
  const uint64_t n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(mask_bit | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  }
  if (!mask) {
    out.append(payload);
    return out;
  }
  const uint8_t key[4] = {static_cast<uint8_t>(mask_key >> 24), static_cast<uint8_t>(mask_key >> 16),
                          static_cast<uint8_t>(mask_key >> 8), static_cast<uint8_t>(mask_key)};
  out.append(reinterpret_cast<const char*>(key), 4);
  const size_t start = out.size();
  out.append(payload);
  for (size_t i = 0; i < payload.size(); ++i) out[start + i] = static_cast<char>(out[start + i] ^ key[i % 4]);
  return out;
}

std::string EncodeClosePayload(uint16_t code, std::string_view reason) {
  std::string out;
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code));
  out.append(reason.substr(0, 123));  // a control frame payload is at most 125 bytes
  return out;
}

WebSocketConnection::WebSocketConnection(Role role, Transport transport, Callbacks callbacks,
                                         uint32_t mask_seed)
    : role_(role),
      transport_(std::move(transport)),
      callbacks_(std::move(callbacks)),
      mask_state_(mask_seed == 0 ? 1 : mask_seed) {}

bool WebSocketConnection::SendFrameLocked(WsOpcode opcode, std::string_view payload) {
  if (transport_closed_ || !transport_.send) return false;
  bool mask = role_ == Role::kClient;
  uint32_t key = 0;
  if (mask) {
    // xorshift32: masking keys only need to be unpredictable to caches, not secret (RFC 6455 §10.3
    // matters for browsers; this client role exists for tests and the apiserver side).
    mask_state_ ^= mask_state_ << 13;
    mask_state_ ^= mask_state_ >> 17;
    mask_state_ ^= mask_state_ << 5;
    key = mask_state_;
  }
  return transport_.send(EncodeFrame(opcode, payload, mask, key));
}

bool WebSocketConnection::SendBinary(std::string_view payload) {
  std::lock_guard lock(mu_);
  if (close_sent_ || failed_) return false;
  return SendFrameLocked(WsOpcode::kBinary, payload);
}

bool WebSocketConnection::SendText(std::string_view payload) {
  std::lock_guard lock(mu_);
  if (close_sent_ || failed_) return false;
  return SendFrameLocked(WsOpcode::kText, payload);
}

bool WebSocketConnection::Ping(std::string_view payload) {
  std::lock_guard lock(mu_);
  if (close_sent_ || failed_ || payload.size() > 125) return false;
  return SendFrameLocked(WsOpcode::kPing, payload);
}

void WebSocketConnection::Close(uint16_t code, std::string_view reason) {
  std::lock_guard lock(mu_);
  if (!close_sent_) {
    close_sent_ = true;
    SendFrameLocked(WsOpcode::kClose, EncodeClosePayload(code, reason));
  }
  if (!transport_closed_) {
    transport_closed_ = true;
    if (transport_.close_transport) transport_.close_transport();
  }
}

bool WebSocketConnection::closing() const {
  std::lock_guard lock(mu_);
  return close_sent_ || close_received_;
}

Status WebSocketConnection::Fail(std::string message) {
  failed_ = true;
  return BadRequest("websocket: " + std::move(message));
}

Status WebSocketConnection::Feed(std::string_view bytes) {
  {
    std::lock_guard lock(mu_);
    if (failed_) return BadRequest("websocket: connection already failed");
    if (close_received_) return Status::Ok();
    if (in_pos_ > 0 && in_pos_ * 2 >= in_.size()) {
      in_.erase(0, in_pos_);
      in_pos_ = 0;
    }
    in_.append(bytes);
  }
  for (;;) {
    std::function<void()> deliver;
    {
      std::lock_guard lock(mu_);
      Status s = ParseLocked(&deliver);
      if (!s.ok()) return s;
    }
    if (!deliver) return Status::Ok();
    deliver();
  }
}

// Parses at most one frame. Sets *deliver to the callback to run (outside the lock) when the
// frame completes something the user sees; leaves it empty when more bytes are needed.
Status WebSocketConnection::ParseLocked(std::function<void()>* deliver) {
  for (;;) {
    if (close_received_) return Status::Ok();
    const std::string_view avail = std::string_view(in_).substr(in_pos_);
    if (avail.size() < 2) return Status::Ok();
    const uint8_t b0 = static_cast<uint8_t>(avail[0]);
    const uint8_t b1 = static_cast<uint8_t>(avail[1]);
    const bool fin = (b0 & 0x80) != 0;
    const uint8_t opcode = b0 & 0x0F;
    const bool masked = (b1 & 0x80) != 0;
    if ((b0 & 0x70) != 0) return Fail("reserved bits set (no extension was negotiated)");
    if (!KnownOpcode(opcode)) return Fail("unknown opcode " + std::to_string(opcode));
    if (role_ == Role::kServer && !masked) return Fail("client frame is not masked");
    if (role_ == Role::kClient && masked) return Fail("server frame is masked");
    size_t header = 2;
    uint64_t length = b1 & 0x7F;
    if (length == 126) {
      if (avail.size() < 4) return Status::Ok();
      length = (uint64_t{static_cast<uint8_t>(avail[2])} << 8) | static_cast<uint8_t>(avail[3]);
      header = 4;
    } else if (length == 127) {
      if (avail.size() < 10) return Status::Ok();
      length = 0;
      for (int i = 0; i < 8; ++i) length = (length << 8) | static_cast<uint8_t>(avail[2 + i]);
      header = 10;
      if (length >> 63) return Fail("frame length has the most significant bit set");
    }
    if (IsControl(opcode)) {
      if (!fin) return Fail("fragmented control frame");
      if (length > 125) return Fail("control frame payload longer than 125 bytes");
    }
    if (length > kMaxMessageBytes) {
      return Fail("frame of " + std::to_string(length) + " bytes exceeds the limit of " +
                  std::to_string(kMaxMessageBytes));
    }
    const size_t mask_len = masked ? 4 : 0;
    if (avail.size() < header + mask_len + length) return Status::Ok();
    std::string payload(avail.substr(header + mask_len, length));
    if (masked) {
      const char* key = avail.data() + header;
      for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(payload[i] ^ key[i % 4]);
    }
    in_pos_ += header + mask_len + length;

    switch (static_cast<WsOpcode>(opcode)) {
      case WsOpcode::kPing:
        if (!close_sent_) SendFrameLocked(WsOpcode::kPong, payload);
        continue;
      case WsOpcode::kPong:
        continue;
      case WsOpcode::kClose: {
        if (payload.size() == 1) return Fail("close frame with a 1-byte payload");
        uint16_t code = 1005;  // no status code present
        std::string reason;
        if (payload.size() >= 2) {
          code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) | static_cast<uint8_t>(payload[1]));
          reason = payload.substr(2);
        }
        close_received_ = true;
        if (!close_sent_) {
          close_sent_ = true;
          // Echo the code, as RFC 6455 §5.5.1 suggests; 1005 must not appear on the wire.
          SendFrameLocked(WsOpcode::kClose, code == 1005 ? std::string() : EncodeClosePayload(code));
        }
        // Both close frames have now been exchanged: the server ends the TCP connection.
        if (!transport_closed_) {
          transport_closed_ = true;
          if (transport_.close_transport) transport_.close_transport();
        }
        if (callbacks_.on_close) {
          auto cb = callbacks_.on_close;
          *deliver = [cb, code, reason = std::move(reason)]() mutable { cb(code, std::move(reason)); };
        }
        return Status::Ok();
      }
      case WsOpcode::kContinuation:
        if (!in_message_) return Fail("continuation frame without a message in progress");
        break;
      case WsOpcode::kText:
      case WsOpcode::kBinary:
        if (in_message_) return Fail("new data frame while a fragmented message is in progress");
        in_message_ = true;
        message_binary_ = opcode == 0x2;
        message_.clear();
        break;
    }
    if (message_.size() + payload.size() > kMaxMessageBytes) {
      return Fail("message exceeds the limit of " + std::to_string(kMaxMessageBytes) + " bytes");
    }
    message_.append(payload);
    if (!fin) continue;
    in_message_ = false;
    if (callbacks_.on_message) {
      auto cb = callbacks_.on_message;
      *deliver = [cb, m = std::move(message_), binary = message_binary_]() mutable { cb(std::move(m), binary); };
    }
    message_.clear();
    return Status::Ok();
  }
}

}  // namespace ck::kubelet::streaming
