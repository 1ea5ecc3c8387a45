// Round trips and malformed-input handling of the store's record encoding.
#include "store/codec.h"

#include <gtest/gtest.h>

namespace ck::store::codec {
namespace {

TEST(CodecTest, RevisionKeysSortLikeRevisions) {
  EXPECT_LT(RevisionKey(9), RevisionKey(10));
  EXPECT_LT(RevisionKey(255), RevisionKey(256));
  EXPECT_LT(RevisionKey(1), RevisionKey(int64_t{1} << 40));
  Revision rev = 0;
  ASSERT_TRUE(DecodeRevisionKey(RevisionKey(123456789), &rev));
  EXPECT_EQ(rev, 123456789);
  EXPECT_FALSE(DecodeRevisionKey("short", &rev));
}

TEST(CodecTest, EntryRoundTrip) {
  KeyValue kv{"/registry/pods/default/web-1", std::string("va\0lue", 6), 3, 300, 42};
  KeyValue back;
  ASSERT_TRUE(DecodeEntry(kv.key, EncodeEntry(kv), &back));
  EXPECT_EQ(back, kv);
  EXPECT_FALSE(DecodeEntry("k", "\xff", &back));
}

TEST(CodecTest, EventsRoundTripAndRejectGarbage) {
  std::vector<Event> events(3);
  events[0].kv = {"/a", "1", 7, 7, 1};
  events[1].kv = {"/b", std::string(1000, 'x'), 2, 7, 5};
  events[1].prev_kv = KeyValue{"/b", "old", 2, 6, 4};
  events[2].type = Event::Type::kDelete;
  events[2].kv = {"/c", "", 0, 7, 0};
  events[2].prev_kv = KeyValue{"/c", "gone", 1, 1, 1};
  std::string data = EncodeEvents(events);
  std::vector<Event> back;
  ASSERT_TRUE(DecodeEvents(data, &back));
  EXPECT_EQ(back, events);
  EXPECT_FALSE(DecodeEvents(data.substr(0, data.size() - 1), &back));
  EXPECT_FALSE(DecodeEvents(data + "x", &back));
  std::string bad_type = data;
  bad_type[1] = 9;
  EXPECT_FALSE(DecodeEvents(bad_type, &back));
}

}  // namespace
}  // namespace ck::store::codec
