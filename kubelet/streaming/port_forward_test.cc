// Port-forward: stream pairing by requestid (and the legacy id rule), data both ways, errors,
// and the same session tunnelled inside WebSocket binary messages.
#include "kubelet/streaming/port_forward.h"
#include "kubelet/streaming/recording_transport.h"

#include <gtest/gtest.h>

namespace ck::kubelet::streaming {
namespace {

using ForwardPipe = RecordingTransport;

struct Pod {
  std::vector<std::shared_ptr<PortForwardStream>> pairs;
  std::map<std::string, std::string> received;
  std::vector<std::string> fins;
  PortForwardCallbacks callbacks() {
    return {[this](std::shared_ptr<PortForwardStream> s) { pairs.push_back(s); },
            [this](const std::shared_ptr<PortForwardStream>& s, std::string b) { received[s->request_id()] += b; },
            [this](const std::shared_ptr<PortForwardStream>& s) { fins.push_back(s->request_id()); }, nullptr};
  }
};

struct Kubectl {
  ForwardPipe c2s;
  std::map<uint32_t, std::string> data;
  std::map<uint32_t, bool> fin;
  SpdySession session{SpdySession::Role::kClient, c2s.transport(),
                      {nullptr, nullptr,
                       [this](uint32_t id, std::string d, bool f) {
                         data[id] += d;
                         if (f) fin[id] = true;
                       },
                       nullptr, nullptr}};
  uint32_t Open(const char* type, const char* port, const char* request_id) {
    SpdyHeaders h = {{"streamtype", type}, {"port", port}};
    if (request_id) h.emplace_back("requestid", request_id);
    return session.OpenStream(h).value_or(0);
  }
};

TEST(PortForwardTest, PairsByRequestIdAndCopiesBothWays) {
  ForwardPipe s2c;
  Pod pod;
  SpdyPortForwardSession server(s2c.transport(), pod.callbacks());
  Kubectl k;
  const uint32_t e0 = k.Open("error", "8080", "0");
  const uint32_t e1 = k.Open("error", "9090", "1");
  const uint32_t d1 = k.Open("data", "9090", "1");
  const uint32_t d0 = k.Open("data", "8080", "0");
  ASSERT_TRUE(server.Feed(k.c2s.Take()).ok());
  ASSERT_EQ(pod.pairs.size(), 2u);
  EXPECT_EQ(pod.pairs[0]->request_id(), "1");
  EXPECT_EQ(pod.pairs[0]->port(), 9090);
  EXPECT_EQ(pod.pairs[1]->port(), 8080);

  ASSERT_TRUE(k.session.SendData(d0, "GET / HTTP/1.1\r\n\r\n", true).ok());
  ASSERT_TRUE(k.session.SendData(d1, "ping").ok());
  ASSERT_TRUE(server.Feed(k.c2s.Take()).ok());
  EXPECT_EQ(pod.received["0"], "GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(pod.received["1"], "ping");
  EXPECT_EQ(pod.fins, std::vector<std::string>{"0"});

  EXPECT_TRUE(pod.pairs[1]->Write("HTTP/1.1 200 OK\r\n\r\n"));
  EXPECT_TRUE(pod.pairs[1]->CloseWrite());
  EXPECT_TRUE(pod.pairs[0]->WriteError("error forwarding port 9090: connection refused"));
  ASSERT_TRUE(k.session.Feed(s2c.Take()).ok());
  EXPECT_EQ(k.data[d0], "HTTP/1.1 200 OK\r\n\r\n");
  EXPECT_TRUE(k.fin[d0] && k.fin[e0]);
  EXPECT_EQ(k.data[e1], "error forwarding port 9090: connection refused");
  EXPECT_TRUE(k.fin[e1] && k.fin[d1]);
}

TEST(PortForwardTest, LegacyClientsWithoutRequestIdAndBadPorts) {
  ForwardPipe s2c;
  Pod pod;
  SpdyPortForwardSession server(s2c.transport(), pod.callbacks());
  Kubectl k;
  k.Open("error", "80", nullptr);  // id 1
  k.Open("data", "80", nullptr);   // id 3 -> request "1"
  const uint32_t bad_err = k.Open("error", "70000", "x");
  k.Open("data", "70000", "x");
  ASSERT_TRUE(server.Feed(k.c2s.Take()).ok());
  ASSERT_EQ(pod.pairs.size(), 1u);
  EXPECT_EQ(pod.pairs[0]->request_id(), "1");
  ASSERT_TRUE(k.session.Feed(s2c.Take()).ok());
  EXPECT_NE(k.data[bad_err].find("invalid port"), std::string::npos);
}

TEST(PortForwardTest, TunnelCarriesSpdyInBinaryMessagesWithoutPrefix) {
  ForwardPipe s2c;
  Pod pod;
  WebSocketPortForwardTunnel tunnel(s2c.transport(), pod.callbacks());
  Kubectl k;
  const uint32_t e = k.Open("error", "8080", "0");
  const uint32_t d = k.Open("data", "8080", "0");
  ASSERT_TRUE(k.session.SendData(d, "hello pod").ok());
  // Split the SPDY byte stream at arbitrary points across messages, as TunnelingConnection may.
  const std::string spdy = k.c2s.Take();
  std::string ws;
  for (size_t at = 0; at < spdy.size(); at += 7) {
    ws += EncodeFrame(WsOpcode::kBinary, spdy.substr(at, 7), true, static_cast<uint32_t>(at * 31 + 1));
  }
  ASSERT_TRUE(tunnel.Feed(ws).ok());
  ASSERT_EQ(pod.pairs.size(), 1u);
  EXPECT_EQ(pod.received["0"], "hello pod");
  EXPECT_TRUE(pod.pairs[0]->Write("hello kubectl"));

  // Unwrap the server's messages: each is unmasked binary carrying raw SPDY bytes.
  std::string back;
  ForwardPipe unused;
  WebSocketConnection client(WebSocketConnection::Role::kClient, unused.transport(),
                             {[&](std::string m, bool binary) {
                                EXPECT_TRUE(binary);
                                back += m;
                              },
                              nullptr});
  ASSERT_TRUE(client.Feed(s2c.Take()).ok());
  ASSERT_TRUE(k.session.Feed(back).ok());
  EXPECT_EQ(k.data[d], "hello kubectl");
  EXPECT_EQ(k.data.count(e), 0u);

  // A text message is refused.
  EXPECT_FALSE(tunnel.Feed(EncodeFrame(WsOpcode::kText, "x", true, 3)).ok());
}

}  // namespace
}  // namespace ck::kubelet::streaming
