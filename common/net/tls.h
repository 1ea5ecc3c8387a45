// TLS settings for servers and clients. Certificates and keys are PEM, given inline or as files.
// TLS 1.2 is the minimum everywhere.
#pragma once

#include <memory>
#include <string>

#include "common/base/status.h"

namespace ck::net {

struct TlsServerConfig {
  std::string cert_pem;    // serving certificate (chain), PEM
  std::string key_pem;     // its private key, PEM
  // When set, client certificates are requested (never required, so bearer-token clients still
  // connect) and verified against this bundle; a presented certificate that does not verify
  // still completes the handshake, marked unverified in the request's PeerIdentity (the
  // apiserver answers 401, like upstream). The CertificateRequest carries no CA names (Go clients then always send
  // their certificate).
  std::string client_ca_pem;
};

struct TlsClientConfig {
  std::string ca_pem;          // trust anchors for the server; empty = system default
  std::string cert_pem;        // optional client certificate (mTLS)
  std::string key_pem;
  std::string server_name;     // SNI and hostname check; empty = no hostname check
  bool insecure_skip_verify = false;  // no server check (kubelet HTTPS hooks, as upstream; tests)
};

// A client TLS context built once and shared by many connections (HttpServer's Proxy).
class ClientTlsContext;
Result<std::shared_ptr<ClientTlsContext>> MakeClientTlsContextHandle(const TlsClientConfig& config);

// Reads a whole file; NotFound / Unavailable with the path in the message.
Result<std::string> ReadFile(const std::string& path);

}  // namespace ck::net
