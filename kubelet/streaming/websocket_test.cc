// WebSocket framing: accept key, masked round trips client<->server, fragmentation, ping/pong,
// close handshake and protocol errors.
#include "kubelet/streaming/websocket.h"
#include "kubelet/streaming/recording_transport.h"

#include <gtest/gtest.h>

#include <vector>

namespace ck::kubelet::streaming {
namespace {

using Wire = RecordingTransport;

struct Received {
  std::vector<std::pair<std::string, bool>> messages;
  std::vector<uint16_t> closes;
  WebSocketConnection::Callbacks callbacks() {
    return {[this](std::string m, bool b) { messages.emplace_back(std::move(m), b); },
            [this](uint16_t code, std::string) { closes.push_back(code); }};
  }
};

TEST(WebSocketTest, AcceptKeyMatchesRfc6455Example) {
  EXPECT_EQ(WebSocketAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocketTest, MaskedFrameMatchesRfc6455Example) {
  // RFC 6455 §5.7: a masked "Hello" from a client.
  const std::string frame = EncodeFrame(WsOpcode::kText, "Hello", true, 0x37fa213d);
  EXPECT_EQ(frame, std::string("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11));
}

TEST(WebSocketTest, ClientServerRoundTripAllLengthForms) {
  Wire c2s, s2c;
  Received server_rx, client_rx;
  WebSocketConnection server(WebSocketConnection::Role::kServer, s2c.transport(), server_rx.callbacks());
  WebSocketConnection client(WebSocketConnection::Role::kClient, c2s.transport(), client_rx.callbacks());
  const std::vector<size_t> sizes = {0, 1, 125, 126, 65535, 65536, 200000};
  for (size_t n : sizes) {
    std::string payload(n, 'a');
    for (size_t i = 0; i < n; ++i) payload[i] = static_cast<char>(i * 7);
    ASSERT_TRUE(client.SendBinary(payload));
    const std::string wire = c2s.Take();
    // Feed byte-split to exercise partial frames.
    ASSERT_TRUE(server.Feed(wire.substr(0, 3)).ok());
    ASSERT_TRUE(server.Feed(wire.substr(3)).ok());
    ASSERT_TRUE(server.SendBinary(payload));
    ASSERT_TRUE(client.Feed(s2c.Take()).ok());
    ASSERT_EQ(server_rx.messages.back().first, payload);
    ASSERT_EQ(client_rx.messages.back().first, payload);
    EXPECT_TRUE(server_rx.messages.back().second);
  }
  EXPECT_EQ(server_rx.messages.size(), sizes.size());
}

TEST(WebSocketTest, FragmentsAreReassembledAroundAPing) {
  Wire s2c;
  Received rx;
  WebSocketConnection server(WebSocketConnection::Role::kServer, s2c.transport(), rx.callbacks());
  std::string wire = EncodeFrame(WsOpcode::kText, "hel", true, 1, /*fin=*/false);
  wire += EncodeFrame(WsOpcode::kPing, "p!", true, 2);
  wire += EncodeFrame(WsOpcode::kContinuation, "lo", true, 3, /*fin=*/true);
  ASSERT_TRUE(server.Feed(wire).ok());
  ASSERT_EQ(rx.messages.size(), 1u);
  EXPECT_EQ(rx.messages[0].first, "hello");
  EXPECT_FALSE(rx.messages[0].second);
  EXPECT_EQ(s2c.Take(), EncodeFrame(WsOpcode::kPong, "p!"));
}

TEST(WebSocketTest, PeerCloseIsAnsweredOnceAndReported) {
  Wire s2c;
  Received rx;
  WebSocketConnection server(WebSocketConnection::Role::kServer, s2c.transport(), rx.callbacks());
  ASSERT_TRUE(server.Feed(EncodeFrame(WsOpcode::kClose, EncodeClosePayload(1000), true, 9)).ok());
  EXPECT_EQ(rx.closes, std::vector<uint16_t>{1000});
  EXPECT_EQ(s2c.Take(), EncodeFrame(WsOpcode::kClose, EncodeClosePayload(1000)));
  EXPECT_EQ(s2c.closes, 1);
  // A second close and later data are ignored; sending is refused.
  ASSERT_TRUE(server.Feed(EncodeFrame(WsOpcode::kClose, "", true, 9)).ok());
  EXPECT_EQ(rx.closes.size(), 1u);
  EXPECT_FALSE(server.SendBinary("x"));
  server.Close();
  EXPECT_EQ(s2c.bytes, "");
  EXPECT_EQ(s2c.closes, 1);
}

TEST(WebSocketTest, ServerCloseSendsCodeThenClosesTransport) {
  Wire s2c;
  Received rx, client_rx;
  WebSocketConnection server(WebSocketConnection::Role::kServer, s2c.transport(), rx.callbacks());
  server.Close(1000);
  EXPECT_EQ(s2c.closes, 1);
  Wire unused;
  WebSocketConnection client(WebSocketConnection::Role::kClient, unused.transport(), client_rx.callbacks());
  ASSERT_TRUE(client.Feed(s2c.Take()).ok());
  EXPECT_EQ(client_rx.closes, std::vector<uint16_t>{1000});
}

Status FeedServer(std::string_view bytes) {
  Wire w;
  Received rx;
  WebSocketConnection server(WebSocketConnection::Role::kServer, w.transport(), rx.callbacks());
  return server.Feed(bytes);
}

TEST(WebSocketTest, ProtocolErrorsAreStatuses) {
  Status s = FeedServer(EncodeFrame(WsOpcode::kBinary, "x", /*mask=*/false));
  EXPECT_EQ(s.code(), Code::kBadRequest);
  EXPECT_NE(s.message().find("not masked"), std::string::npos) << s.ToString();

  // 64-bit length of 1 GiB: refused before any payload arrives.
  std::string huge("\x82\xff\x00\x00\x00\x00\x40\x00\x00\x00\x01\x02\x03\x04", 14);
  s = FeedServer(huge);
  EXPECT_NE(s.message().find("exceeds the limit"), std::string::npos) << s.ToString();

  // Control frames: fragmented, or longer than 125 bytes.
  s = FeedServer(EncodeFrame(WsOpcode::kPing, "x", true, 1, /*fin=*/false));
  EXPECT_NE(s.message().find("fragmented control frame"), std::string::npos) << s.ToString();
  s = FeedServer(EncodeFrame(WsOpcode::kPing, std::string(126, 'x'), true, 1));
  EXPECT_NE(s.message().find("control frame payload"), std::string::npos) << s.ToString();

  s = FeedServer(EncodeFrame(WsOpcode::kContinuation, "x", true, 1));
  EXPECT_NE(s.message().find("continuation"), std::string::npos) << s.ToString();
  s = FeedServer(std::string("\x83\x80\x00\x00\x00\x00", 6));  // opcode 3 is reserved
  EXPECT_NE(s.message().find("unknown opcode"), std::string::npos) << s.ToString();
  s = FeedServer(std::string("\xc2\x80\x00\x00\x00\x00", 6));  // RSV1 without an extension
  EXPECT_NE(s.message().find("reserved bits"), std::string::npos) << s.ToString();

  // A client refuses masked server frames.
  Wire w;
  Received rx;
  WebSocketConnection client(WebSocketConnection::Role::kClient, w.transport(), rx.callbacks());
  EXPECT_FALSE(client.Feed(EncodeFrame(WsOpcode::kBinary, "x", true, 5)).ok());
}

TEST(WebSocketTest, FragmentedMessageBeyondLimitIsRefused) {
  Wire w;
  Received rx;
  WebSocketConnection server(WebSocketConnection::Role::kServer, w.transport(), rx.callbacks());
  const std::string chunk(4u << 20, 'z');
  Status s = server.Feed(EncodeFrame(WsOpcode::kBinary, chunk, true, 1, false));
  for (int i = 0; i < 4 && s.ok(); ++i) s = server.Feed(EncodeFrame(WsOpcode::kContinuation, chunk, true, 1, false));
  EXPECT_EQ(s.code(), Code::kBadRequest);
  EXPECT_TRUE(rx.messages.empty());
}

}  // namespace
}  // namespace ck::kubelet::streaming
