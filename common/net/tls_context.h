// Private to common/net: builds Asio SSL contexts from TlsServerConfig / TlsClientConfig.
#pragma once

#include "common/base/status.h"
#include "common/net/asio.h"
#include "common/net/tls.h"

namespace ck::net {

// TLS >= 1.2; serving cert + key; optional client-CA verification (requested, not required).
Result<boost::asio::ssl::context> MakeServerTlsContext(const TlsServerConfig& config);
// TLS >= 1.2; verifies the server against config.ca_pem (or the system store).
Result<boost::asio::ssl::context> MakeClientTlsContext(const TlsClientConfig& config);

class ClientTlsContext {
 public:
  explicit ClientTlsContext(boost::asio::ssl::context ctx) : ctx_(std::move(ctx)) {}
  boost::asio::ssl::context& native() { return ctx_; }

 private:
  boost::asio::ssl::context ctx_;
};

}  // namespace ck::net
