// Varint-based encoding of entries and events; layout documented in codec.h.
#include "store/codec.h"

#include <cstdint>

namespace ck::store::codec {
namespace {

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    auto byte = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

bool GetSigned(std::string_view* in, int64_t* v) {
  uint64_t u = 0;
  if (!GetVarint(in, &u)) return false;
  *v = static_cast<int64_t>(u);
  return *v >= 0;
}

void PutString(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}

bool GetString(std::string_view* in, std::string* s) {
  uint64_t n = 0;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  s->assign(in->data(), n);
  in->remove_prefix(n);
  return true;
}

bool GetString(std::string_view* in, Bytes* b) {
  std::string s;
  if (!GetString(in, &s)) return false;
  *b = Bytes(std::move(s));
  return true;
}

void PutMeta(std::string* out, const KeyValue& kv) {
  PutVarint(out, static_cast<uint64_t>(kv.create_revision));
  PutVarint(out, static_cast<uint64_t>(kv.mod_revision));
  PutVarint(out, static_cast<uint64_t>(kv.version));
}

bool GetMeta(std::string_view* in, KeyValue* kv) {
  return GetSigned(in, &kv->create_revision) && GetSigned(in, &kv->mod_revision) &&
         GetSigned(in, &kv->version);
}

}  // namespace

std::string RevisionKey(Revision rev) {
  std::string key(8, '\0');
  auto u = static_cast<uint64_t>(rev);
  for (int i = 7; i >= 0; --i) {
    key[i] = static_cast<char>(u & 0xff);
    u >>= 8;
  }
  return key;
}

bool DecodeRevisionKey(std::string_view key, Revision* rev) {
  if (key.size() != 8) return false;
  uint64_t u = 0;
  for (char c : key) u = (u << 8) | static_cast<unsigned char>(c);
  *rev = static_cast<Revision>(u);
  return *rev >= 0;
}

std::string EncodeEntry(const KeyValue& kv) {
  std::string out;
  out.reserve(kv.value.size() + 16);
  PutMeta(&out, kv);
  out.append(kv.value);
  return out;
}

bool DecodeEntry(std::string_view key, std::string_view data, KeyValue* kv) {
  kv->key.assign(key);
  if (!GetMeta(&data, kv)) return false;
  kv->value = Bytes(data);
  return true;
}

std::string EncodeEvents(const std::vector<Event>& events) {
  std::string out;
  size_t size = 8;
  for (const Event& e : events) size += EventBytes(e);
  out.reserve(size);
  PutVarint(&out, events.size());
  for (const Event& e : events) {
    out.push_back(static_cast<char>(e.type));
    PutString(&out, e.kv.key);
    PutMeta(&out, e.kv);
    PutString(&out, e.kv.value);
    out.push_back(e.prev_kv ? 1 : 0);
    if (e.prev_kv) {
      PutMeta(&out, *e.prev_kv);
      PutString(&out, e.prev_kv->value);
    }
  }
  return out;
}

bool DecodeEvents(std::string_view data, std::vector<Event>* events) {
  uint64_t n = 0;
  if (!GetVarint(&data, &n) || n > data.size()) return false;
  events->clear();
  events->reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    Event e;
    if (data.empty()) return false;
    auto type = static_cast<unsigned char>(data.front());
    data.remove_prefix(1);
    if (type > 1) return false;
    e.type = static_cast<Event::Type>(type);
    if (!GetString(&data, &e.kv.key) || !GetMeta(&data, &e.kv) || !GetString(&data, &e.kv.value))
      return false;
    if (data.empty()) return false;
    auto has_prev = static_cast<unsigned char>(data.front());
    data.remove_prefix(1);
    if (has_prev > 1) return false;
    if (has_prev == 1) {
      KeyValue prev;
      prev.key = e.kv.key;
      if (!GetMeta(&data, &prev) || !GetString(&data, &prev.value)) return false;
      e.prev_kv = std::move(prev);
    }
    events->push_back(std::move(e));
  }
  return data.empty();
}

size_t EventBytes(const Event& e) {
  size_t n = sizeof(Event) + e.kv.key.size() + e.kv.value.size();
  if (e.prev_kv) n += e.prev_kv->key.size() + e.prev_kv->value.size();
  return n;
}

}  // namespace ck::store::codec
