// SPDY/3.1 framing (what moby/spdystream and so client-go speak for exec, attach and
// port-forward): control frames SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY,
// HEADERS, WINDOW_UPDATE, and data frames.
//
// Header blocks are compressed with ONE zlib stream per direction for the whole session, primed
// with the SPDY/3 dictionary: the decoder's inflate state and the encoder's deflate state live as
// long as the framer, so frames must be encoded in the order they are sent and decoded in the
// order they arrive. Lengths are bounded (frame <= 16 MiB, inflated header block <= 1 MiB).
// Threading: not synchronized; SpdySession owns one under its mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base/status.h"

namespace ck::kubelet::streaming {

// Header names are lower case on the wire; a value may hold several values separated by NUL.
using SpdyHeaders = std::vector<std::pair<std::string, std::string>>;

// The first value of `name` (case-insensitive), or "" when absent.
std::string_view FindSpdyHeader(const SpdyHeaders& headers, std::string_view name);

enum class SpdyFrameType : uint16_t {
  kData = 0,
  kSynStream = 1,
  kSynReply = 2,
  kRstStream = 3,
  kSettings = 4,
  kPing = 6,
  kGoAway = 7,
  kHeaders = 8,
  kWindowUpdate = 9,
};

inline constexpr uint8_t kSpdyFlagFin = 0x01;
inline constexpr uint8_t kSpdyFlagUnidirectional = 0x02;

// RST_STREAM status codes (SPDY/3 §2.6.3).
enum class SpdyRstStatus : uint32_t {
  kProtocolError = 1,
  kInvalidStream = 2,
  kRefusedStream = 3,
  kUnsupportedVersion = 4,
  kCancel = 5,
  kInternalError = 6,
  kFlowControlError = 7,
  kStreamInUse = 8,
  kStreamAlreadyClosed = 9,
  kFrameTooLarge = 11,
};

struct SpdyFrame {
  SpdyFrameType type = SpdyFrameType::kData;
  uint8_t flags = 0;
  uint32_t stream_id = 0;       // data, SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE
  uint32_t associated_id = 0;   // SYN_STREAM
  uint8_t priority = 0;         // SYN_STREAM (0..7)
  SpdyHeaders headers;          // SYN_STREAM, SYN_REPLY, HEADERS
  std::string data;             // data frames
  uint32_t status = 0;          // RST_STREAM, GOAWAY
  uint32_t ping_id = 0;         // PING
  uint32_t last_good_stream_id = 0;  // GOAWAY
  uint32_t delta_window = 0;    // WINDOW_UPDATE
  std::vector<std::pair<uint32_t, uint32_t>> settings;  // SETTINGS: (id, value)
};

// The SPDY/3 header compression dictionary (1423 bytes).
const std::string& SpdyDictionary();

class SpdyFramer {
 public:
  SpdyFramer();
  ~SpdyFramer();
  SpdyFramer(const SpdyFramer&) = delete;
  SpdyFramer& operator=(const SpdyFramer&) = delete;

  // Appends `bytes` and decodes every complete frame into *out. A malformed frame (bad version,
  // oversized length, corrupt or oversized header block, wrong fixed length) returns BadRequest;
  // the framer is then unusable. Unknown control frame types are skipped, as SPDY/3 requires.
  Status Feed(std::string_view bytes, std::vector<SpdyFrame>* out);

  // Encoders. Header blocks go through this framer's deflate stream, so call them in send order.
  std::string EncodeSynStream(uint32_t stream_id, uint32_t associated_id, uint8_t priority,
                              uint8_t flags, const SpdyHeaders& headers);
  std::string EncodeSynReply(uint32_t stream_id, uint8_t flags, const SpdyHeaders& headers);
  std::string EncodeHeaders(uint32_t stream_id, uint8_t flags, const SpdyHeaders& headers);
  static std::string EncodeData(uint32_t stream_id, std::string_view data, bool fin);
  static std::string EncodeRstStream(uint32_t stream_id, SpdyRstStatus status);
  static std::string EncodeSettings(const std::vector<std::pair<uint32_t, uint32_t>>& settings);
  static std::string EncodePing(uint32_t id);
  static std::string EncodeGoAway(uint32_t last_good_stream_id, uint32_t status);
  static std::string EncodeWindowUpdate(uint32_t stream_id, uint32_t delta);

 private:
  struct Zlib;
  Status DecodeOne(uint16_t type, uint8_t flags, std::string_view body, std::vector<SpdyFrame>* out);
  Result<SpdyHeaders> InflateHeaders(std::string_view compressed);
  std::string DeflateHeaders(const SpdyHeaders& headers);
  static std::string ControlFrame(SpdyFrameType type, uint8_t flags, std::string_view body);

  std::unique_ptr<Zlib> zlib_;
  std::string in_;
  size_t in_pos_ = 0;
  bool failed_ = false;
};

}  // namespace ck::kubelet::streaming
