// WebSocket upgrade on the TLS server, driven by Beast's client: subprotocol negotiation,
// binary messages both ways, server-initiated close, and a plain GET refused by AcceptWebSocket.
#include <gtest/gtest.h>

#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <future>

#include "common/net/asio.h"
#include "common/net/http_client.h"
#include "common/net/http_server.h"
#include "tests/testutil/testutil.h"

namespace ck::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

TEST(WebSocketTest, EchoWithSubprotocolAndServerClose) {
  auto pki = testutil::MakeTestPki();
  HttpServerOptions o;
  o.tls_config = {pki.server.cert_pem, pki.server.key_pem, ""};
  std::promise<void> closed;
  HttpServer server(o, [&](Request req, std::shared_ptr<ResponseWriter> w) {
    EXPECT_EQ(req.headers.Get("Sec-WebSocket-Protocol"), "v5.channel.k8s.io");
    auto holder = std::make_shared<std::shared_ptr<WebSocket>>();
    *holder = w->AcceptWebSocket("v5.channel.k8s.io", WebSocketHandlers{
        [holder](std::string m) {
          if (m == "bye") {
            (*holder)->Send(std::string("\x03{\"status\":\"Success\"}"));
            (*holder)->Close(1000);
            return;
          }
          (*holder)->Send(std::string("\x01") + m);
        },
        [&closed, holder] {
          holder->reset();
          closed.set_value();
        }});
    ASSERT_TRUE(*holder);
  });
  ASSERT_TRUE(server.Start().ok());

  asio::io_context ioc;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.add_certificate_authority(asio::buffer(pki.ca.cert_pem));
  ctx.set_verify_mode(asio::ssl::verify_peer);
  websocket::stream<beast::ssl_stream<tcp::socket>> ws(ioc, ctx);
  beast::get_lowest_layer(ws).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
  ws.next_layer().handshake(asio::ssl::stream_base::client);
  ws.set_option(websocket::stream_base::decorator([](websocket::request_type& r) {
    r.set(beast::http::field::sec_websocket_protocol, "v5.channel.k8s.io");
  }));
  websocket::response_type res;
  ws.handshake(res, "127.0.0.1", "/api/v1/namespaces/default/pods/web/exec?command=ls");
  EXPECT_EQ(res[beast::http::field::sec_websocket_protocol], "v5.channel.k8s.io");
  ws.binary(true);
  for (std::string m : {std::string("\x00hello", 6), std::string(100000, 'z')}) {
    ws.write(asio::buffer(m));
    beast::flat_buffer b;
    ws.read(b);
    EXPECT_EQ(beast::buffers_to_string(b.data()), "\x01" + m);
  }
  ws.write(asio::buffer(std::string("bye")));
  beast::flat_buffer b;
  ws.read(b);
  EXPECT_EQ(beast::buffers_to_string(b.data()), "\x03{\"status\":\"Success\"}");
  beast::error_code ec;
  ws.read(b, ec);  // the server's close frame
  EXPECT_EQ(ec, websocket::error::closed);
  EXPECT_EQ(ws.reason().code, 1000);
  EXPECT_EQ(closed.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
}

TEST(WebSocketTest, PlainRequestIsRefused) {
  auto pki = testutil::MakeTestPki();
  HttpServerOptions o;
  o.tls_config = {pki.server.cert_pem, pki.server.key_pem, ""};
  HttpServer server(o, [&](Request, std::shared_ptr<ResponseWriter> w) {
    EXPECT_EQ(w->AcceptWebSocket("", {}), nullptr);
  });
  ASSERT_TRUE(server.Start().ok());
  HttpClientOptions co;
  co.port = server.port();
  co.tls_config.ca_pem = pki.ca.cert_pem;
  HttpClient client(co);
  auto r = client.Do({"GET", "/exec", {}, ""});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
}

}  // namespace
}  // namespace ck::net
