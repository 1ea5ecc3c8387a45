// Codec: the byte layout of the store's records (see README.md, "On-disk layout").
//
//   revision key   8 bytes big-endian, so RocksDB's byte order is revision order
//   entry          varint create_revision, varint mod_revision, varint version, value bytes
//   events         varint count, then per event: u8 type, str key, varint create, varint mod,
//                  varint version, str value, u8 has_prev [, varint create, mod, version, str value]
// (str = varint length + bytes). Decoders return false on malformed input instead of crashing:
// a corrupt record is reported as corruption with the path of the database.
// Threading: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace ck::store::codec {

std::string RevisionKey(Revision rev);
bool DecodeRevisionKey(std::string_view key, Revision* rev);

// The current value of a key (its key is the RocksDB key).
std::string EncodeEntry(const KeyValue& kv);
bool DecodeEntry(std::string_view key, std::string_view data, KeyValue* kv);

// All events of one revision.
std::string EncodeEvents(const std::vector<Event>& events);
bool DecodeEvents(std::string_view data, std::vector<Event>* events);

// Approximate memory held by one event, for history cache accounting.
size_t EventBytes(const Event& e);

}  // namespace ck::store::codec
