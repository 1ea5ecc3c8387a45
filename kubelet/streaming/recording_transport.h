// RecordingTransport: a Transport for this folder's tests that keeps every byte a codec sends, in
// order, and counts close_transport calls. After a close, sends are refused (returns false), as a
// closed connection refuses them.
#pragma once

#include <string>
#include <utility>

#include "kubelet/streaming/transport.h"

namespace ck::kubelet::streaming {

struct RecordingTransport {
  std::string bytes;
  int closes = 0;
  Transport transport() {
    return {[this](std::string b) {
              bytes += b;
              return closes == 0;
            },
            [this] { ++closes; }};
  }
  // What was sent since the last Take.
  std::string Take() { return std::exchange(bytes, {}); }
};

}  // namespace ck::kubelet::streaming
