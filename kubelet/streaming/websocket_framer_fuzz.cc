// Feeds arbitrary bytes to a server-side WebSocket decoder and to a v5 exec session on top of it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kubelet/streaming/remote_command.h"
#include "kubelet/streaming/websocket.h"

using namespace ck::kubelet::streaming;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  Transport t{[](std::string) { return true; }, [] {}};
  WebSocketConnection ws(WebSocketConnection::Role::kServer, t, {[](std::string, bool) {}, [](uint16_t, std::string) {}});
  // Split the input in two Feed calls to exercise partial frames.
  const size_t half = size / 2;
  if (ws.Feed(in.substr(0, half)).ok()) ws.Feed(in.substr(half)).IgnoreError();

  RemoteCommandOptions o;
  o.stdin = o.stdout = o.tty = true;
  auto rc = NewWebSocketRemoteCommand("v5.channel.k8s.io", o, t, {});
  if (rc.ok()) {
    (*rc)->Start();
    (*rc)->Feed(in).IgnoreError();
    (*rc)->Finish(1, "");
  }
  return 0;
}
