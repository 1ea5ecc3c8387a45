// Exec sessions end to end with this folder's client roles: WebSocket v5 and v4 and SPDY v4,
// stdin in, stdout/stderr out, resize, tty, and the final Status exactly as kubectl expects.
#include "kubelet/streaming/remote_command.h"
#include "kubelet/streaming/recording_transport.h"

#include <gtest/gtest.h>

#include "kubelet/streaming/spdy_session.h"
#include "kubelet/streaming/websocket.h"

namespace ck::kubelet::streaming {
namespace {

using CommandPipe = RecordingTransport;

struct Recorder {
  std::string stdin_bytes;
  int stdin_closed = 0, ready = 0, closed = 0;
  std::vector<std::pair<uint16_t, uint16_t>> resizes;
  RemoteCommandCallbacks callbacks() {
    return {[this](std::string b) { stdin_bytes += b; }, [this] { ++stdin_closed; },
            [this](uint16_t w, uint16_t h) { resizes.emplace_back(w, h); }, [this] { ++ready; },
            [this] { ++closed; }};
  }
};

TEST(RemoteCommandTest, StatusJsonMatchesTheKubelet) {
  EXPECT_EQ(RemoteCommandStatusJson(0, {"ls"}, ""), R"({"metadata":{},"status":"Success"})");
  EXPECT_EQ(RemoteCommandStatusJson(3, {"sh", "-c", "exit 3"}, ""),
            R"({"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: )"
            R"(error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode",)"
            R"("details":{"causes":[{"reason":"ExitCode","message":"3"}]}})");
  EXPECT_EQ(RemoteCommandStatusJson(-1, {}, "no such container"),
            R"({"metadata":{},"status":"Failure","message":"Internal error occurred: no such container",)"
            R"("reason":"InternalError","details":{"causes":[{"message":"no such container"}]},"code":500})");
}

TEST(RemoteCommandTest, NegotiateProtocol) {
  EXPECT_EQ(NegotiateProtocol({"v5.channel.k8s.io"}, kWebSocketRemoteCommandProtocols), "v5.channel.k8s.io");
  // kubectl 1.27-1.29 over SPDY.
  EXPECT_EQ(NegotiateProtocol({"v4.channel.k8s.io, v3.channel.k8s.io, v2.channel.k8s.io, channel.k8s.io"},
                              kSpdyRemoteCommandProtocols),
            "v4.channel.k8s.io");
  // Server preference, across several header values.
  EXPECT_EQ(NegotiateProtocol({"v2.channel.k8s.io", "v4.channel.k8s.io,v5.channel.k8s.io"}, kSpdyRemoteCommandProtocols),
            "v5.channel.k8s.io");
  EXPECT_EQ(NegotiateProtocol({"base64.channel.k8s.io"}, kWebSocketRemoteCommandProtocols), "");
  EXPECT_FALSE(NewWebSocketRemoteCommand("v3.channel.k8s.io", {}, {}, {}).ok());
}

// Decodes what the server wrote as a kubectl would: channel -> concatenated bytes, and the close.
struct WsClient {
  CommandPipe c2s;
  std::map<int, std::string> channels;
  std::vector<int> order;
  std::vector<uint16_t> closes;
  WebSocketConnection ws{WebSocketConnection::Role::kClient, c2s.transport(),
                         {[this](std::string m, bool) {
                            ASSERT_FALSE(m.empty());
                            const int ch = static_cast<uint8_t>(m[0]);
                            channels[ch] += m.substr(1);
                            order.push_back(ch);
                          },
                          [this](uint16_t code, std::string) { closes.push_back(code); }}};
  void Send(int channel, std::string_view bytes) {
    std::string m(1, static_cast<char>(channel));
    m += bytes;
    ws.SendBinary(m);
  }
};

void RunWebSocketExec(const std::string& protocol) {
  CommandPipe s2c;
  Recorder rec;
  RemoteCommandOptions o;
  o.stdin = o.stdout = o.stderr = true;
  o.command = {"sh", "-c", "cat; exit 3"};
  auto session = NewWebSocketRemoteCommand(protocol, o, s2c.transport(), rec.callbacks());
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  RemoteCommandSession& server = **session;
  server.Start();
  EXPECT_EQ(rec.ready, 1);
  WsClient client;
  client.Send(0, "hello stdin\n");
  if (protocol == "v5.channel.k8s.io") client.Send(255, std::string(1, '\0'));
  ASSERT_TRUE(server.Feed(client.c2s.Take()).ok());
  EXPECT_EQ(rec.stdin_bytes, "hello stdin\n");
  EXPECT_EQ(rec.stdin_closed, protocol == "v5.channel.k8s.io" ? 1 : 0);
  EXPECT_TRUE(server.WriteStdout("out"));
  EXPECT_TRUE(server.WriteStderr("err"));
  server.Finish(3, "");
  EXPECT_EQ(s2c.closes, 1);
  EXPECT_FALSE(server.WriteStdout("late"));
  ASSERT_TRUE(client.ws.Feed(s2c.Take()).ok());
  // First the kubelet's empty message on stdout, then data, then the status, then close 1000.
  EXPECT_EQ(client.order, (std::vector<int>{1, 1, 2, 3}));
  EXPECT_EQ(client.channels[1], "out");
  EXPECT_EQ(client.channels[2], "err");
  EXPECT_EQ(client.channels[3], RemoteCommandStatusJson(3, o.command, ""));
  EXPECT_EQ(client.closes, std::vector<uint16_t>{1000});
}

TEST(RemoteCommandTest, WebSocketV5Exec) { RunWebSocketExec("v5.channel.k8s.io"); }
TEST(RemoteCommandTest, WebSocketV4Exec) { RunWebSocketExec("v4.channel.k8s.io"); }

TEST(RemoteCommandTest, WebSocketTtySuppressesStderrAndDecodesResize) {
  CommandPipe s2c;
  Recorder rec;
  RemoteCommandOptions o;
  o.stdin = o.stdout = o.stderr = o.tty = true;
  auto session = NewWebSocketRemoteCommand("v5.channel.k8s.io", o, s2c.transport(), rec.callbacks());
  ASSERT_TRUE(session.ok());
  (*session)->Start();
  WsClient client;
  client.Send(4, "{\"Width\":0,\"Height\":0}\n");
  client.Send(4, "{\"Width\":120,");  // one object split over two messages
  client.Send(4, "\"Height\":40}\n");
  ASSERT_TRUE((*session)->Feed(client.c2s.Take()).ok());
  EXPECT_EQ(rec.resizes, (std::vector<std::pair<uint16_t, uint16_t>>{{0, 0}, {120, 40}}));
  EXPECT_FALSE((*session)->WriteStderr("never"));
  EXPECT_TRUE((*session)->WriteStdout("tty out"));
  (*session)->Finish(0, "");
  ASSERT_TRUE(client.ws.Feed(s2c.Take()).ok());
  EXPECT_EQ(client.channels.count(2), 0u);
  EXPECT_EQ(client.channels[3], R"({"metadata":{},"status":"Success"})");
}

TEST(RemoteCommandTest, WebSocketPeerCloseEndsStdin) {
  CommandPipe s2c;
  Recorder rec;
  RemoteCommandOptions o;
  o.stdin = o.stdout = true;
  auto session = NewWebSocketRemoteCommand("v4.channel.k8s.io", o, s2c.transport(), rec.callbacks());
  ASSERT_TRUE(session.ok());
  (*session)->Start();
  WsClient client;
  client.ws.Close(1000);
  ASSERT_TRUE((*session)->Feed(client.c2s.Take()).ok());
  EXPECT_EQ(rec.stdin_closed, 1);
  EXPECT_EQ(rec.closed, 1);
  // Unmasked frames are a protocol error reported as a Status.
  CommandPipe p2;
  auto s2 = NewWebSocketRemoteCommand("v4.channel.k8s.io", o, p2.transport(), {});
  EXPECT_FALSE((*s2)->Feed(EncodeFrame(WsOpcode::kBinary, std::string("\0x", 2))).ok());
}

// A client-go-like SPDY client: opens the streams, records what comes back per stream.
struct SpdyClient {
  CommandPipe c2s;
  std::map<uint32_t, std::string> data;
  std::map<uint32_t, bool> fin;
  std::vector<uint32_t> replies;
  SpdySession session{SpdySession::Role::kClient, c2s.transport(),
                      {nullptr, [this](uint32_t id, const SpdyHeaders&) { replies.push_back(id); },
                       [this](uint32_t id, std::string d, bool f) {
                         data[id] += d;
                         if (f) fin[id] = true;
                       },
                       nullptr, nullptr}};
  uint32_t Open(const char* type) {
    auto id = session.OpenStream({{"streamtype", type}});
    EXPECT_TRUE(id.ok());
    return id.value_or(0);
  }
};

TEST(RemoteCommandTest, SpdyV4Exec) {
  CommandPipe s2c;
  Recorder rec;
  RemoteCommandOptions o;
  o.stdin = o.stdout = o.stderr = true;
  o.command = {"sh", "-c", "exit 7"};
  auto session = NewSpdyRemoteCommand("v4.channel.k8s.io", o, s2c.transport(), rec.callbacks());
  ASSERT_TRUE(session.ok());
  RemoteCommandSession& server = **session;
  server.Start();
  SpdyClient client;
  const uint32_t err = client.Open("error");
  const uint32_t in = client.Open("stdin");
  const uint32_t out = client.Open("stdout");
  ASSERT_TRUE(server.Feed(client.c2s.Take()).ok());
  EXPECT_EQ(rec.ready, 0);  // stderr is still missing
  EXPECT_FALSE(server.WriteStdout("too early"));
  const uint32_t errs = client.Open("stderr");
  ASSERT_TRUE(client.session.SendData(in, "data for stdin", true).ok());
  ASSERT_TRUE(server.Feed(client.c2s.Take()).ok());
  EXPECT_EQ(rec.ready, 1);
  EXPECT_EQ(rec.stdin_bytes, "data for stdin");
  EXPECT_EQ(rec.stdin_closed, 1);
  EXPECT_TRUE(server.WriteStdout("out"));
  EXPECT_TRUE(server.WriteStderr("err"));
  server.Finish(7, "");
  EXPECT_EQ(s2c.closes, 1);
  ASSERT_TRUE(client.session.Feed(s2c.Take()).ok());
  EXPECT_EQ(client.replies, (std::vector<uint32_t>{err, in, out, errs}));
  EXPECT_EQ(client.data[out], "out");
  EXPECT_EQ(client.data[errs], "err");
  EXPECT_EQ(client.data[err], RemoteCommandStatusJson(7, o.command, ""));
  EXPECT_TRUE(client.fin[err] && client.fin[out] && client.fin[errs]);
}

TEST(RemoteCommandTest, SpdyTtyWaitsForResizeAndV2WritesNothingOnSuccess) {
  CommandPipe s2c;
  Recorder rec;
  RemoteCommandOptions o;
  o.stdout = o.stderr = o.tty = true;
  auto session = NewSpdyRemoteCommand("v4.channel.k8s.io", o, s2c.transport(), rec.callbacks());
  ASSERT_TRUE(session.ok());
  SpdyClient client;
  client.Open("error");
  client.Open("stdout");
  ASSERT_TRUE((*session)->Feed(client.c2s.Take()).ok());
  EXPECT_EQ(rec.ready, 0);
  const uint32_t resize = client.Open("resize");
  ASSERT_TRUE(client.session.SendData(resize, "{\"Width\":80,\"Height\":24}").ok());
  ASSERT_TRUE((*session)->Feed(client.c2s.Take()).ok());
  EXPECT_EQ(rec.ready, 1);
  EXPECT_EQ(rec.resizes, (std::vector<std::pair<uint16_t, uint16_t>>{{80, 24}}));
  EXPECT_FALSE((*session)->WriteStderr("x"));

  // SPDY v2: no resize stream, and success leaves the error stream empty (v1WriteStatusFunc).
  CommandPipe p2;
  Recorder rec2;
  RemoteCommandOptions o2;
  o2.stdout = true;
  auto v2 = NewSpdyRemoteCommand("v2.channel.k8s.io", o2, p2.transport(), rec2.callbacks());
  SpdyClient c2;
  const uint32_t e2 = c2.Open("error");
  c2.Open("stdout");
  ASSERT_TRUE((*v2)->Feed(c2.c2s.Take()).ok());
  EXPECT_EQ(rec2.ready, 1);
  (*v2)->Finish(0, "");
  ASSERT_TRUE(c2.session.Feed(p2.Take()).ok());
  EXPECT_EQ(c2.data[e2], "");
  EXPECT_TRUE(c2.fin[e2]);
}

}  // namespace
}  // namespace ck::kubelet::streaming
