// The framing of a JSON watch stream: the body is a sequence of JSON objects
// {"type":"ADDED","object":{...}}, which servers write one per line but which may arrive split or
// joined across chunks in any way (upstream's json.Decoder framing accepts both). JsonFramer
// cuts the byte stream into whole objects; ParseWatchEnvelope finds the event type and the raw
// object text without decoding the object twice.
// Plain values; not synchronized (a watch stream has one reader).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ck::client {

class JsonFramer {
 public:
  explicit JsonFramer(size_t max_object_bytes = 256 * 1024 * 1024) : max_object_bytes_(max_object_bytes) {}

  // Appends received bytes. Views returned by Next() before this call become invalid.
  void Feed(std::string_view bytes);
  // The next complete top-level object, or nullopt when more bytes are needed. BadRequest when
  // the stream holds something other than objects, or an object grows beyond the limit.
  Result<std::optional<std::string_view>> Next();
  // True while part of an unfinished object is buffered (a stream that ends now was cut short).
  bool has_partial() const { return begin_ != kNone; }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);
  const size_t max_object_bytes_;
  std::string buf_;
  size_t pos_ = 0;        // next byte to scan
  size_t begin_ = kNone;  // start of the object being scanned
  int depth_ = 0;
  bool in_string_ = false;
  bool escape_ = false;
};

struct WatchEnvelope {
  std::string_view type;    // "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"
  std::string_view object;  // the raw JSON of "object"
};

// Splits one watch event object. BadRequest when it is not an object with a string "type" and an
// "object" member.
Result<WatchEnvelope> ParseWatchEnvelope(std::string_view event);

}  // namespace ck::client
