#include "common/net/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <fstream>
#include <sstream>

namespace ck::net {

namespace ssl = boost::asio::ssl;

namespace {

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  if (!e) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

// Loads every certificate of a PEM bundle into the context's verify store.
Status AddCaBundle(ssl::context& ctx, const std::string& pem, const char* what) {
  boost::system::error_code ec;
  ctx.add_certificate_authority(boost::asio::buffer(pem), ec);
  if (ec) return BadRequest(std::string("invalid ") + what + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Unavailable("error reading " + path);
  return ss.str();
}

Result<ssl::context> MakeServerTlsContext(const TlsServerConfig& config) {
  ssl::context ctx(ssl::context::tls_server);
  SSL_CTX* native = ctx.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_SERVER);
  boost::system::error_code ec;
  ctx.use_certificate_chain(boost::asio::buffer(config.cert_pem), ec);
  if (ec) return BadRequest("invalid serving certificate: " + ec.message());
  ctx.use_private_key(boost::asio::buffer(config.key_pem), ssl::context::pem, ec);
  if (ec && ec.message().find("mismatch") != std::string::npos) {
    return BadRequest("serving key does not match the certificate");
  }
  if (ec) return BadRequest("invalid serving key: " + ec.message());
  if (SSL_CTX_check_private_key(native) != 1) {
    return BadRequest("serving key does not match the certificate: " + OpenSslError());
  }
  if (!config.client_ca_pem.empty()) {
    CK_RETURN_IF_ERROR(AddCaBundle(ctx, config.client_ca_pem, "client CA bundle"));
    // Request a client certificate without requiring one. Like upstream (Go's RequestClientCert
    // plus the x509 authenticator), a certificate that does not verify does not fail the
    // handshake: the verification result is kept (SSL_get_verify_result) and the request is
    // answered 401 by the authenticator, so the client gets a Status instead of a reset.
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
    static const unsigned char kSessionId[] = "clearkube";
    SSL_CTX_set_session_id_context(native, kSessionId, sizeof kSessionId - 1);
  }
  return ctx;
}

Result<ssl::context> MakeClientTlsContext(const TlsClientConfig& config) {
  ssl::context ctx(ssl::context::tls_client);
  SSL_CTX* native = ctx.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  boost::system::error_code ec;
  if (config.insecure_skip_verify) {
    ctx.set_verify_mode(ssl::verify_none);
  } else {
    if (config.ca_pem.empty()) {
      ctx.set_default_verify_paths(ec);
    } else {
      CK_RETURN_IF_ERROR(AddCaBundle(ctx, config.ca_pem, "CA bundle"));
    }
    ctx.set_verify_mode(ssl::verify_peer);
  }
  if (!config.cert_pem.empty()) {
    ctx.use_certificate_chain(boost::asio::buffer(config.cert_pem), ec);
    if (ec) return BadRequest("invalid client certificate: " + ec.message());
    ctx.use_private_key(boost::asio::buffer(config.key_pem), ssl::context::pem, ec);
    if (ec) return BadRequest("invalid client key: " + ec.message());
  }
  return ctx;
}

Result<std::shared_ptr<ClientTlsContext>> MakeClientTlsContextHandle(const TlsClientConfig& config) {
  CK_ASSIGN_OR_RETURN(ssl::context ctx, MakeClientTlsContext(config));
  return std::make_shared<ClientTlsContext>(std::move(ctx));
}

}  // namespace ck::net
