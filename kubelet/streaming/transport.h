// Transport: how the streaming codecs in this folder talk to the connection they run on.
//
// Every codec here is pure: it consumes bytes through Feed(std::string_view) and hands the bytes
// it wants written to `send`, in order, one call per frame. `send` returns false once the
// connection is gone. `close_transport` asks the owner to close the connection after the bytes
// already handed to `send` are flushed. Both are called with the codec's internal mutex held
// (so frames leave in the order they were produced, which the shared SPDY zlib context needs):
// they must not call back into the codec.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace ck::kubelet::streaming {

struct Transport {
  std::function<bool(std::string bytes)> send;
  std::function<void()> close_transport;
};

// Limits on every length field so that hostile input cannot exhaust memory.
inline constexpr size_t kMaxMessageBytes = 16u << 20;      // one WebSocket message or SPDY frame
inline constexpr size_t kMaxHeaderBlockBytes = 1u << 20;   // one inflated SPDY header block
inline constexpr size_t kMaxStreams = 1000;                // concurrent SPDY streams per session

}  // namespace ck::kubelet::streaming
