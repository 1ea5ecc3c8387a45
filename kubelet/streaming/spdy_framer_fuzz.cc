// Feeds arbitrary bytes to a server-side SPDY session (and the exec and port-forward sessions on
// top of it): it must never crash, leak or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kubelet/streaming/port_forward.h"
#include "kubelet/streaming/remote_command.h"
#include "kubelet/streaming/spdy_session.h"

using namespace ck::kubelet::streaming;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  Transport t{[](std::string) { return true; }, [] {}};
  {
    SpdySession s(SpdySession::Role::kServer, t, {});
    const size_t third = size / 3;
    if (s.Feed(in.substr(0, third)).ok()) s.Feed(in.substr(third)).IgnoreError();
  }
  {
    RemoteCommandOptions o;
    o.stdin = o.stdout = o.stderr = true;
    auto rc = NewSpdyRemoteCommand("v4.channel.k8s.io", o, t, {});
    if (rc.ok()) {
      (*rc)->Feed(in).IgnoreError();
      (*rc)->WriteStdout("x");
      (*rc)->Finish(0, "");
    }
  }
  {
    PortForwardCallbacks cb;
    cb.on_stream_pair = [](std::shared_ptr<PortForwardStream> p) { p->Write("hi"); };
    SpdyPortForwardSession pf(t, cb);
    pf.Feed(in).IgnoreError();
  }
  return 0;
}
