#include "kubelet/streaming/port_forward.h"

#include <utility>

#include "common/base/strings.h"

namespace ck::kubelet::streaming {

bool PortForwardStream::Write(std::string_view bytes) {
  return session_->SendData(data_id_, bytes, false).ok();
}

bool PortForwardStream::CloseWrite() {
  const bool ok = session_->SendData(data_id_, "", true).ok();
  session_->SendData(error_id_, "", true).IgnoreError();
  return ok;
}

bool PortForwardStream::WriteError(std::string_view message) {
  const bool ok = session_->SendData(error_id_, message, true).ok();
  session_->SendData(data_id_, "", true).IgnoreError();
  return ok;
}

SpdyPortForwardSession::SpdyPortForwardSession(Transport transport, PortForwardCallbacks callbacks)
    : callbacks_(std::move(callbacks)),
      session_(SpdySession::Role::kServer, std::move(transport),
               SpdySession::Callbacks{
                   [this](uint32_t id, const SpdyHeaders& h) { OnStream(id, h); },
                   nullptr,
                   [this](uint32_t id, std::string data, bool fin) { OnData(id, std::move(data), fin); },
                   [this](uint32_t id, uint32_t) { OnData(id, std::string(), true); },
                   [this](uint32_t) {
                     if (callbacks_.on_closed) callbacks_.on_closed();
                   }}) {}

Status SpdyPortForwardSession::Feed(std::string_view bytes) { return session_.Feed(bytes); }

void SpdyPortForwardSession::Close() { session_.Close(); }

void SpdyPortForwardSession::OnStream(uint32_t id, const SpdyHeaders& headers) {
  const std::string_view type = FindSpdyHeader(headers, "streamtype");
  if (type != "error" && type != "data") {
    session_.Reset(id, SpdyRstStatus::kRefusedStream).IgnoreError();
    return;
  }
  std::string request_id(FindSpdyHeader(headers, "requestid"));
  if (request_id.empty()) {
    // Clients without the header open error then data with consecutive odd ids.
    request_id = std::to_string(type == "error" ? id : id - 2);
  }
  std::shared_ptr<PortForwardStream> pair;
  std::string bad_port;
  uint32_t error_id = 0, data_id = 0;
  {
    std::lock_guard lock(mu_);
    Pending& p = pending_[request_id];
    uint32_t& slot = type == "error" ? p.error_id : p.data_id;
    if (slot != 0) {
      // A second stream of the same type for one request: refuse it, keep the first.
      session_.Reset(id, SpdyRstStatus::kProtocolError).IgnoreError();
      return;
    }
    slot = id;
    if (type == "data") p.port = std::string(FindSpdyHeader(headers, "port"));
    if (p.error_id == 0 || p.data_id == 0) return;
    error_id = p.error_id;
    data_id = p.data_id;
    const auto port = ParseUint(p.port);
    if (!port || *port == 0 || *port > 65535) {
      bad_port = p.port;
    } else {
      pair.reset(new PortForwardStream(&session_, static_cast<uint16_t>(*port), request_id, data_id, error_id));
      by_data_id_[data_id] = pair;
    }
    pending_.erase(request_id);
  }
  if (pair == nullptr) {
    // The kubelet reports a bad port on the error stream; kubectl prints it.
    session_.SendData(error_id, "invalid port \"" + bad_port + "\" in the port header", true).IgnoreError();
    session_.SendData(data_id, "", true).IgnoreError();
    return;
  }
  if (callbacks_.on_stream_pair) callbacks_.on_stream_pair(pair);
}

void SpdyPortForwardSession::OnData(uint32_t id, std::string data, bool fin) {
  std::shared_ptr<PortForwardStream> pair;
  {
    std::lock_guard lock(mu_);
    auto it = by_data_id_.find(id);
    if (it == by_data_id_.end()) return;  // error stream data (clients write none) or unknown
    pair = it->second;
    if (fin) by_data_id_.erase(it);
  }
  if (!data.empty() && callbacks_.on_data) callbacks_.on_data(pair, std::move(data));
  if (fin && callbacks_.on_remote_fin) callbacks_.on_remote_fin(pair);
}

WebSocketPortForwardTunnel::WebSocketPortForwardTunnel(Transport transport, PortForwardCallbacks callbacks) {
  ws_ = std::make_unique<WebSocketConnection>(
      WebSocketConnection::Role::kServer, transport,
      WebSocketConnection::Callbacks{
          [this](std::string payload, bool binary) {
            Status s = binary ? spdy_->Feed(payload)
                              : BadRequest("port-forward tunnel: text message (only binary is allowed)");
            std::lock_guard lock(mu_);
            if (!s.ok() && inner_status_.ok()) inner_status_ = s;
          },
          [](uint16_t, std::string) {}});
  // Outgoing SPDY bytes: one binary message per write, no prefix (client-go TunnelingConnection).
  WebSocketConnection* ws = ws_.get();
  Transport inner{[ws](std::string bytes) { return ws->SendBinary(bytes); },
                  [ws] { ws->Close(kWsCloseNormal); }};
  spdy_ = std::make_unique<SpdyPortForwardSession>(std::move(inner), std::move(callbacks));
}

Status WebSocketPortForwardTunnel::Feed(std::string_view bytes) {
  CK_RETURN_IF_ERROR(ws_->Feed(bytes));
  std::lock_guard lock(mu_);
  return inner_status_;
}

void WebSocketPortForwardTunnel::Close() { spdy_->Close(); }

}  // namespace ck::kubelet::streaming
