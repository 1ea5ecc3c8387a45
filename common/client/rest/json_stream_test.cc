#include "common/client/rest/json_stream.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ck::client {
namespace {

std::vector<std::string> Drain(JsonFramer& f) {
  std::vector<std::string> out;
  while (true) {
    auto next = f.Next();
    EXPECT_TRUE(next.ok()) << next.status().ToString();
    if (!next.ok() || !next->has_value()) return out;
    out.emplace_back(**next);
  }
}

const char* kStream =
    "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a}{\\\"b\",\"labels\":{\"x\":"
    "\"[\"}}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"items\":[{\"a\":1},{\"b\":[2,3]}]}}"  // no newline between
    "{\"type\":\"DELETED\",\"object\":{}}\n";

TEST(JsonFramer, SplitsObjectsWhateverTheChunking) {
  std::string all = kStream;
  std::vector<std::string> want;
  {
    JsonFramer f;
    f.Feed(all);
    want = Drain(f);
  }
  ASSERT_EQ(want.size(), 3u);
  EXPECT_EQ(want[1], R"({"type":"MODIFIED","object":{"items":[{"a":1},{"b":[2,3]}]}})");
  // Every way of cutting the stream in two, and byte by byte.
  for (size_t cut = 0; cut <= all.size(); ++cut) {
    JsonFramer f;
    f.Feed(all.substr(0, cut));
    std::vector<std::string> got = Drain(f);
    f.Feed(all.substr(cut));
    for (std::string& s : Drain(f)) got.push_back(std::move(s));
    EXPECT_EQ(got, want) << "cut at " << cut;
  }
  JsonFramer f;
  std::vector<std::string> got;
  for (char c : all) {
    f.Feed(std::string_view(&c, 1));
    for (std::string& s : Drain(f)) got.push_back(std::move(s));
  }
  EXPECT_EQ(got, want);
  EXPECT_FALSE(f.has_partial());
}

TEST(JsonFramer, ReportsAPartialObjectAndGarbage) {
  JsonFramer f;
  f.Feed("{\"type\":\"ADDED\",\"obj");
  EXPECT_TRUE(Drain(f).empty());
  EXPECT_TRUE(f.has_partial());
  JsonFramer g;
  g.Feed("  \n[1]");
  EXPECT_FALSE(g.Next().ok());
}

TEST(JsonFramer, LimitsTheSizeOfOneObject) {
  JsonFramer f(16);
  f.Feed("{\"a\":\"0123456789abcdef");
  auto r = f.Next();
  EXPECT_FALSE(r.ok());
}

TEST(ParseWatchEnvelope, TypeAndRawObjectInAnyOrder) {
  auto e = ParseWatchEnvelope(R"({"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"x"}}})");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->type, "ADDED");
  EXPECT_EQ(e->object, R"({"kind":"Pod","metadata":{"name":"x"}})");
  e = ParseWatchEnvelope(
      " { \"object\" : {\"a\":\"}\"} , \"extra\": [1, {\"b\": null}], \"type\" : \"BOOKMARK\" } ");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->type, "BOOKMARK");
  EXPECT_EQ(e->object, R"({"a":"}"})");
}

TEST(ParseWatchEnvelope, RejectsEventsWithoutTypeOrObject) {
  EXPECT_FALSE(ParseWatchEnvelope(R"({"object":{}})").ok());
  EXPECT_FALSE(ParseWatchEnvelope(R"({"type":"ADDED"})").ok());
  EXPECT_FALSE(ParseWatchEnvelope(R"({"type":1,"object":{}})").ok());
  EXPECT_FALSE(ParseWatchEnvelope(R"([])").ok());
  EXPECT_FALSE(ParseWatchEnvelope(R"({"type":"ADDED","object":{)").ok());
}

}  // namespace
}  // namespace ck::client
