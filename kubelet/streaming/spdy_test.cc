// SPDY/3.1 framer and session: dictionary, header compression sharing one zlib context across
// frames, client<->server streams, ping, goaway, limits and malformed frames.
#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <iterator>

#include "kubelet/streaming/spdy_framer.h"
#include "kubelet/streaming/recording_transport.h"
#include "kubelet/streaming/spdy_session.h"

namespace ck::kubelet::streaming {
namespace {

TEST(SpdyFramerTest, DictionaryHasTheSpecShape) {
  const std::string& d = SpdyDictionary();
  EXPECT_EQ(d.size(), 1423u);
  EXPECT_EQ(d.substr(0, 11), std::string("\0\0\0\x07options", 11));
  EXPECT_EQ(d.substr(d.size() - 6), "enq=0.");
}

TEST(SpdyFramerTest, HeaderBlocksShareOneZlibContextAcrossFrames) {
  SpdyFramer client, server;
  std::string noise;  // incompressible on its own; only a shared window makes it cheap twice
  uint32_t x = 12345;
  for (int i = 0; i < 300; ++i) {
    x = x * 1103515245 + 12345;
    noise.push_back(static_cast<char>('a' + (x >> 16) % 26));
  }
  const SpdyHeaders h1 = {{"streamtype", "error"}, {"x-long", noise}};
  const SpdyHeaders h2 = {{"streamtype", "stdout"}, {"x-long", noise}};
  const std::string f1 = client.EncodeSynStream(1, 0, 0, 0, h1);
  const std::string f2 = client.EncodeSynStream(3, 0, 0, 0, h2);
  // The second block refers back to the first through the shared window: far smaller.
  EXPECT_LT(f2.size(), f1.size() / 2);
  // The first block's zlib header names the SPDY dictionary (FDICT, adler32 of the dictionary).
  const std::string& dict = SpdyDictionary();
  const uLong adler = adler32(adler32(0, nullptr, 0), reinterpret_cast<const Bytef*>(dict.data()), dict.size());
  EXPECT_EQ(static_cast<uint8_t>(f1[19]) & 0x20, 0x20);
  EXPECT_EQ((uint32_t{static_cast<uint8_t>(f1[20])} << 24) | (uint32_t{static_cast<uint8_t>(f1[21])} << 16) |
                (uint32_t{static_cast<uint8_t>(f1[22])} << 8) | static_cast<uint8_t>(f1[23]),
            adler);

  std::vector<SpdyFrame> frames;
  ASSERT_TRUE(server.Feed(f1 + f2.substr(0, 5), &frames).ok());
  ASSERT_TRUE(server.Feed(f2.substr(5), &frames).ok());
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].type, SpdyFrameType::kSynStream);
  EXPECT_EQ(frames[0].stream_id, 1u);
  EXPECT_EQ(frames[0].headers, h1);
  EXPECT_EQ(frames[1].headers, h2);

  // Decoding the second frame without the first fails: the context really is shared.
  SpdyFramer fresh;
  std::vector<SpdyFrame> none;
  EXPECT_FALSE(fresh.Feed(f2, &none).ok());
}

TEST(SpdyFramerTest, FixedFramesRoundTrip) {
  SpdyFramer f;
  std::vector<SpdyFrame> frames;
  std::string wire = SpdyFramer::EncodeData(5, "payload", true) + SpdyFramer::EncodeRstStream(7, SpdyRstStatus::kCancel) +
                     SpdyFramer::EncodePing(42) + SpdyFramer::EncodeGoAway(9, 0) +
                     SpdyFramer::EncodeWindowUpdate(5, 1000) + SpdyFramer::EncodeSettings({{7, 65536}});
  ASSERT_TRUE(f.Feed(wire, &frames).ok());
  ASSERT_EQ(frames.size(), 6u);
  EXPECT_EQ(frames[0].data, "payload");
  EXPECT_EQ(frames[0].flags, kSpdyFlagFin);
  EXPECT_EQ(frames[1].status, 5u);
  EXPECT_EQ(frames[2].ping_id, 42u);
  EXPECT_EQ(frames[3].last_good_stream_id, 9u);
  EXPECT_EQ(frames[4].delta_window, 1000u);
  EXPECT_EQ(frames[5].settings[0], (std::pair<uint32_t, uint32_t>{7, 65536}));
}

TEST(SpdyFramerTest, MalformedFramesAreStatuses) {
  auto feed = [](std::string bytes) {
    SpdyFramer f;
    std::vector<SpdyFrame> frames;
    return f.Feed(bytes, &frames);
  };
  // Version 2 control frame.
  EXPECT_FALSE(feed(std::string("\x80\x02\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01", 12)).ok());
  // PING with 3 bytes.
  Status s = feed(std::string("\x80\x03\x00\x06\x00\x00\x00\x03\x00\x00\x01", 11));
  EXPECT_NE(s.message().find("PING"), std::string::npos) << s.ToString();
  // SYN_STREAM whose header block is not zlib.
  s = feed(std::string("\x80\x03\x00\x01\x00\x00\x00\x0e\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00garb", 22));
  EXPECT_EQ(s.code(), Code::kBadRequest);
  // Data on stream 0.
  EXPECT_FALSE(feed(SpdyFramer::EncodeData(0, "x", false)).ok());
  // Unknown control frame type 0x20 is skipped.
  EXPECT_TRUE(feed(std::string("\x80\x03\x00\x20\x00\x00\x00\x01\x00", 9)).ok());
}

TEST(SpdyFramerTest, HeaderBlockThatInflatesBeyondTheLimitIsRefused) {
  // A well-formed deflate stream (with the dictionary) of 2 MiB of zeros.
  z_stream z{};
  ASSERT_EQ(deflateInit(&z, Z_BEST_COMPRESSION), Z_OK);
  const std::string& dict = SpdyDictionary();
  deflateSetDictionary(&z, reinterpret_cast<const Bytef*>(dict.data()), dict.size());
  std::string raw(2u << 20, '\0');
  std::string out(raw.size(), '\0');
  z.next_in = reinterpret_cast<Bytef*>(raw.data());
  z.avail_in = raw.size();
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = out.size();
  ASSERT_EQ(deflate(&z, Z_SYNC_FLUSH), Z_OK);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  std::string body("\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10);
  body += out;
  std::string frame("\x80\x03\x00\x01\x00", 5);
  frame.push_back(static_cast<char>(body.size() >> 16));
  frame.push_back(static_cast<char>(body.size() >> 8));
  frame.push_back(static_cast<char>(body.size()));
  frame += body;
  SpdyFramer f;
  std::vector<SpdyFrame> frames;
  Status s = f.Feed(frame, &frames);
  EXPECT_NE(s.message().find("inflates beyond"), std::string::npos) << s.ToString();
}

TEST(SpdyFramerTest, DecodesASeedMadeByAnotherZlibEncoder) {
  // tests/fuzz/corpus/spdy_framer_fuzz/exec_session was written by Python's zlib (zdict=the
  // SPDY/3 dictionary, Z_SYNC_FLUSH per block): four SYN_STREAMs sharing one context + data.
  std::ifstream in("tests/fuzz/corpus/spdy_framer_fuzz/exec_session", std::ios::binary);
  ASSERT_TRUE(in) << "run from the source root";
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  SpdyFramer f;
  std::vector<SpdyFrame> frames;
  ASSERT_TRUE(f.Feed(bytes, &frames).ok());
  ASSERT_EQ(frames.size(), 5u);
  EXPECT_EQ(FindSpdyHeader(frames[0].headers, "streamtype"), "error");
  EXPECT_EQ(FindSpdyHeader(frames[3].headers, "streamtype"), "stderr");
  EXPECT_EQ(frames[4].data, "hello stdin\n");
}

using Pipe = RecordingTransport;

TEST(SpdySessionTest, StreamsRepliesDataFinResetPingGoAway) {
  Pipe c2s, s2c;
  std::vector<std::string> events;
  SpdySession server(SpdySession::Role::kServer, s2c.transport(),
                     {[&](uint32_t id, const SpdyHeaders& h) {
                        events.push_back("stream " + std::to_string(id) + " " + std::string(FindSpdyHeader(h, "streamtype")));
                      },
                      nullptr,
                      [&](uint32_t id, std::string d, bool fin) {
                        events.push_back("data " + std::to_string(id) + " " + d + (fin ? " fin" : ""));
                      },
                      [&](uint32_t id, uint32_t st) { events.push_back("reset " + std::to_string(id) + " " + std::to_string(st)); },
                      [&](uint32_t last) { events.push_back("goaway " + std::to_string(last)); }});
  std::vector<std::string> client_events;
  SpdySession client(SpdySession::Role::kClient, c2s.transport(),
                     {nullptr,
                      [&](uint32_t id, const SpdyHeaders&) { client_events.push_back("reply " + std::to_string(id)); },
                      [&](uint32_t id, std::string d, bool fin) {
                        client_events.push_back("data " + std::to_string(id) + " " + d + (fin ? " fin" : ""));
                      },
                      nullptr, nullptr});
  auto a = client.OpenStream({{"streamtype", "stdin"}});
  auto b = client.OpenStream({{"StreamType", "stdout"}});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, 1u);
  EXPECT_EQ(*b, 3u);
  ASSERT_TRUE(client.SendData(1, "hello", true).ok());
  ASSERT_TRUE(server.Feed(c2s.Take()).ok());
  ASSERT_TRUE(client.Feed(s2c.Take()).ok());
  EXPECT_EQ(client_events, (std::vector<std::string>{"reply 1", "reply 3"}));
  ASSERT_TRUE(server.SendData(3, std::string(100000, 'x'), false).ok());  // split into 64 KiB frames
  ASSERT_TRUE(server.SendData(3, "", true).ok());
  ASSERT_TRUE(client.Feed(s2c.Take()).ok());
  ASSERT_EQ(client_events.size(), 5u);
  EXPECT_EQ(client_events[4], "data 3  fin");
  EXPECT_EQ(client_events[2].size(), std::string("data 3 ").size() + 65536);

  ASSERT_TRUE(client.Reset(3).ok());
  ASSERT_TRUE(client.Ping());
  client.GoAway();
  ASSERT_TRUE(server.Feed(c2s.Take()).ok());
  EXPECT_EQ(events, (std::vector<std::string>{"stream 1 stdin", "stream 3 stdout", "data 1 hello fin", "reset 3 5",
                                              "goaway 0"}));
  // The client's ping (odd id) was echoed; the server's own replies are not re-echoed.
  std::vector<SpdyFrame> frames;
  SpdyFramer probe;
  ASSERT_TRUE(probe.Feed(s2c.Take(), &frames).ok());
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, SpdyFrameType::kPing);
  EXPECT_EQ(frames[0].ping_id, 1u);
  // WINDOW_UPDATE and SETTINGS are accepted and ignored (no flow control, see spdy_session.h).
  EXPECT_TRUE(server.Feed(SpdyFramer::EncodeWindowUpdate(1, 10) + SpdyFramer::EncodeSettings({{7, 1}})).ok());
}

TEST(SpdySessionTest, ProtocolViolationsAndLimits) {
  Pipe s2c;
  SpdySession server(SpdySession::Role::kServer, s2c.transport(), {});
  SpdyFramer peer;
  // Even stream id from a client.
  Status s = server.Feed(peer.EncodeSynStream(2, 0, 0, 0, {}));
  EXPECT_NE(s.message().find("parity"), std::string::npos) << s.ToString();

  Pipe s2c2;
  SpdySession server2(SpdySession::Role::kServer, s2c2.transport(), {});
  SpdyFramer peer2;
  std::string wire;
  for (uint32_t i = 0; i < kMaxStreams + 5; ++i) wire += peer2.EncodeSynStream(1 + 2 * i, 0, 0, 0, {});
  ASSERT_TRUE(server2.Feed(wire).ok());
  EXPECT_EQ(server2.open_streams(), kMaxStreams);
  // Reused id.
  s = server2.Feed(peer2.EncodeSynStream(1, 0, 0, 0, {}));
  EXPECT_NE(s.message().find("does not increase"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace ck::kubelet::streaming
