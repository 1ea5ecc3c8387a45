#include "kubelet/streaming/spdy_framer.h"

#include <zlib.h>

#include "common/base/check.h"
#include "common/base/strings.h"
#include "kubelet/streaming/transport.h"

namespace ck::kubelet::streaming {
namespace {

constexpr uint16_t kSpdyVersion = 3;
constexpr size_t kMaxHeaderPairs = 4096;

void PutU32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

uint32_t GetU32(std::string_view s, size_t at) {
  return (uint32_t{static_cast<uint8_t>(s[at])} << 24) | (uint32_t{static_cast<uint8_t>(s[at + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(s[at + 2])} << 8) | uint32_t{static_cast<uint8_t>(s[at + 3])};
}

uint32_t GetU24(std::string_view s, size_t at) {
  return (uint32_t{static_cast<uint8_t>(s[at])} << 16) | (uint32_t{static_cast<uint8_t>(s[at + 1])} << 8) |
         uint32_t{static_cast<uint8_t>(s[at + 2])};
}

std::string BuildDictionary() {
  // SPDY/3 §2.6.10.1: length-prefixed header names, methods and values, then a run of status
  // codes, reason phrases, dates and common values.
  static const char* const kWords[] = {
      "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset",
      "accept-encoding", "accept-language", "accept-ranges", "age", "allow", "authorization",
      "cache-control", "connection", "content-base", "content-encoding", "content-language",
      "content-length", "content-location", "content-md5", "content-range", "content-type",
      "date", "etag", "expect", "expires", "from", "host", "if-match", "if-modified-since",
      "if-none-match", "if-range", "if-unmodified-since", "last-modified", "location",
      "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer",
      "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent",
      "vary", "via", "warning", "www-authenticate", "method", "get", "status", "200 OK",
      "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin"};
  std::string dict;
  for (const char* w : kWords) {
    std::string_view word(w);
    PutU32(dict, static_cast<uint32_t>(word.size()));
    dict.append(word);
  }
  dict.append(
      "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
      "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
      "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
      "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00"
      " Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
      "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
      "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.");
  return dict;
}

}  // namespace

const std::string& SpdyDictionary() {
  static const std::string* const kDict = new std::string(BuildDictionary());
  return *kDict;
}

std::string_view FindSpdyHeader(const SpdyHeaders& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) {
      std::string_view value(v);
      return value.substr(0, value.find('\0'));
    }
  }
  return {};
}

struct SpdyFramer::Zlib {
  z_stream inflate{};
  z_stream deflate{};
  bool inflate_ok = false;
  bool deflate_ok = false;
  ~Zlib() {
    if (inflate_ok) inflateEnd(&inflate);
    if (deflate_ok) deflateEnd(&deflate);
  }
};

SpdyFramer::SpdyFramer() : zlib_(std::make_unique<Zlib>()) {
  CK_CHECK(inflateInit(&zlib_->inflate) == Z_OK) << "inflateInit failed";
  zlib_->inflate_ok = true;
  // spdystream compresses with zlib.BestCompression; any level interoperates.
  CK_CHECK(deflateInit(&zlib_->deflate, Z_DEFAULT_COMPRESSION) == Z_OK) << "deflateInit failed";
  zlib_->deflate_ok = true;
  const std::string& dict = SpdyDictionary();
  CK_CHECK(deflateSetDictionary(&zlib_->deflate, reinterpret_cast<const Bytef*>(dict.data()),
                                static_cast<uInt>(dict.size())) == Z_OK);
}

SpdyFramer::~SpdyFramer() = default;

std::string SpdyFramer::DeflateHeaders(const SpdyHeaders& headers) {
  std::string raw;
  PutU32(raw, static_cast<uint32_t>(headers.size()));
  for (const auto& [name, value] : headers) {
    const std::string lower = ToLower(name);  // spdystream rejects upper-case names
    PutU32(raw, static_cast<uint32_t>(lower.size()));
    raw.append(lower);
    PutU32(raw, static_cast<uint32_t>(value.size()));
    raw.append(value);
  }
  z_stream& z = zlib_->deflate;
  z.next_in = reinterpret_cast<Bytef*>(raw.data());
  z.avail_in = static_cast<uInt>(raw.size());
  std::string out;
  char buf[4096];
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    const int rc = deflate(&z, Z_SYNC_FLUSH);
    CK_CHECK(rc == Z_OK || rc == Z_BUF_ERROR) << "deflate failed: " << rc;
    out.append(buf, sizeof(buf) - z.avail_out);
  } while (z.avail_out == 0);
  return out;
}

Result<SpdyHeaders> SpdyFramer::InflateHeaders(std::string_view compressed) {
  z_stream& z = zlib_->inflate;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z.avail_in = static_cast<uInt>(compressed.size());
  std::string raw;
  char buf[4096];
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    int rc = inflate(&z, Z_SYNC_FLUSH);
    if (rc == Z_NEED_DICT) {
      const std::string& dict = SpdyDictionary();
      if (inflateSetDictionary(&z, reinterpret_cast<const Bytef*>(dict.data()),
                               static_cast<uInt>(dict.size())) != Z_OK) {
        return BadRequest("spdy: header block uses an unknown zlib dictionary");
      }
      continue;
    }
    if (rc == Z_STREAM_END) return BadRequest("spdy: header compression stream ended");
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return BadRequest(std::string("spdy: corrupt header block: ") + (z.msg ? z.msg : "zlib error"));
    }
    raw.append(buf, sizeof(buf) - z.avail_out);
    if (raw.size() > kMaxHeaderBlockBytes) {
      return BadRequest("spdy: header block inflates beyond " + std::to_string(kMaxHeaderBlockBytes) + " bytes");
    }
    // Done once all input is consumed and zlib had room to spare (nothing left buffered).
    if (z.avail_out != 0 && (z.avail_in == 0 || rc == Z_BUF_ERROR)) break;
  }
  if (z.avail_in != 0) return BadRequest("spdy: header block not consumed by zlib");

  std::string_view r(raw);
  if (r.size() < 4) return BadRequest("spdy: header block shorter than its pair count");
  const uint32_t pairs = GetU32(r, 0);
  if (pairs > kMaxHeaderPairs) return BadRequest("spdy: header block with " + std::to_string(pairs) + " pairs");
  size_t at = 4;
  SpdyHeaders headers;
  headers.reserve(pairs);
  for (uint32_t i = 0; i < pairs; ++i) {
    std::string_view field[2];
    for (auto& f : field) {
      if (r.size() - at < 4) return BadRequest("spdy: truncated header block");
      const uint32_t len = GetU32(r, at);
      at += 4;
      if (r.size() - at < len) return BadRequest("spdy: header length beyond the block");
      f = r.substr(at, len);
      at += len;
    }
    if (field[0].empty()) return BadRequest("spdy: empty header name");
    headers.emplace_back(std::string(field[0]), std::string(field[1]));
  }
  if (at != r.size()) return BadRequest("spdy: trailing bytes after the header block");
  return headers;
}

std::string SpdyFramer::ControlFrame(SpdyFrameType type, uint8_t flags, std::string_view body) {
  CK_CHECK(body.size() < (1u << 24)) << "control frame too large";
  std::string out;
  out.reserve(8 + body.size());
  out.push_back(static_cast<char>(0x80 | (kSpdyVersion >> 8)));
  out.push_back(static_cast<char>(kSpdyVersion & 0xFF));
  out.push_back(static_cast<char>(static_cast<uint16_t>(type) >> 8));
  out.push_back(static_cast<char>(static_cast<uint16_t>(type) & 0xFF));
  out.push_back(static_cast<char>(flags));
  out.push_back(static_cast<char>(body.size() >> 16));
  out.push_back(static_cast<char>(body.size() >> 8));
  out.push_back(static_cast<char>(body.size()));
  out.append(body);
  return out;
}

std::string SpdyFramer::EncodeSynStream(uint32_t stream_id, uint32_t associated_id, uint8_t priority,
                                        uint8_t flags, const SpdyHeaders& headers) {
  std::string body;
  PutU32(body, stream_id & 0x7FFFFFFF);
  PutU32(body, associated_id & 0x7FFFFFFF);
  body.push_back(static_cast<char>((priority & 0x7) << 5));
  body.push_back(0);  // slot
  body.append(DeflateHeaders(headers));
  return ControlFrame(SpdyFrameType::kSynStream, flags, body);
}

std::string SpdyFramer::EncodeSynReply(uint32_t stream_id, uint8_t flags, const SpdyHeaders& headers) {
  std::string body;
  PutU32(body, stream_id & 0x7FFFFFFF);
  body.append(DeflateHeaders(headers));
  return ControlFrame(SpdyFrameType::kSynReply, flags, body);
}

std::string SpdyFramer::EncodeHeaders(uint32_t stream_id, uint8_t flags, const SpdyHeaders& headers) {
  std::string body;
  PutU32(body, stream_id & 0x7FFFFFFF);
  body.append(DeflateHeaders(headers));
  return ControlFrame(SpdyFrameType::kHeaders, flags, body);
}

std::string SpdyFramer::EncodeData(uint32_t stream_id, std::string_view data, bool fin) {
  CK_CHECK(data.size() < (1u << 24)) << "data frame too large";
  std::string out;
  out.reserve(8 + data.size());
  PutU32(out, stream_id & 0x7FFFFFFF);
  out.push_back(static_cast<char>(fin ? kSpdyFlagFin : 0));
  out.push_back(static_cast<char>(data.size() >> 16));
  out.push_back(static_cast<char>(data.size() >> 8));
  out.push_back(static_cast<char>(data.size()));
  out.append(data);
  return out;
}

std::string SpdyFramer::EncodeRstStream(uint32_t stream_id, SpdyRstStatus status) {
  std::string body;
  PutU32(body, stream_id & 0x7FFFFFFF);
  PutU32(body, static_cast<uint32_t>(status));
  return ControlFrame(SpdyFrameType::kRstStream, 0, body);
}

std::string SpdyFramer::EncodeSettings(const std::vector<std::pair<uint32_t, uint32_t>>& settings) {
  std::string body;
  PutU32(body, static_cast<uint32_t>(settings.size()));
  for (const auto& [id, value] : settings) {
    PutU32(body, id & 0xFFFFFF);  // flags byte 0, then the 24-bit id
    PutU32(body, value);
  }
  return ControlFrame(SpdyFrameType::kSettings, 0, body);
}

std::string SpdyFramer::EncodePing(uint32_t id) {
  std::string body;
  PutU32(body, id);
  return ControlFrame(SpdyFrameType::kPing, 0, body);
}

std::string SpdyFramer::EncodeGoAway(uint32_t last_good_stream_id, uint32_t status) {
  std::string body;
  PutU32(body, last_good_stream_id & 0x7FFFFFFF);
  PutU32(body, status);
  return ControlFrame(SpdyFrameType::kGoAway, 0, body);
}

std::string SpdyFramer::EncodeWindowUpdate(uint32_t stream_id, uint32_t delta) {
  std::string body;
  PutU32(body, stream_id & 0x7FFFFFFF);
  PutU32(body, delta & 0x7FFFFFFF);
  return ControlFrame(SpdyFrameType::kWindowUpdate, 0, body);
}

Status SpdyFramer::Feed(std::string_view bytes, std::vector<SpdyFrame>* out) {
  if (failed_) return BadRequest("spdy: session already failed");
  if (in_pos_ > 0 && in_pos_ * 2 >= in_.size()) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  in_.append(bytes);
  for (;;) {
    std::string_view avail = std::string_view(in_).substr(in_pos_);
    if (avail.size() < 8) return Status::Ok();
    const uint32_t length = GetU24(avail, 5);  // 24 bits: at most 16 MiB - 1 by construction
    if (avail.size() < 8 + size_t{length}) return Status::Ok();
    const uint8_t flags = static_cast<uint8_t>(avail[4]);
    const std::string_view body = avail.substr(8, length);
    Status s;
    if ((static_cast<uint8_t>(avail[0]) & 0x80) == 0) {
      SpdyFrame f;
      f.type = SpdyFrameType::kData;
      f.stream_id = GetU32(avail, 0) & 0x7FFFFFFF;
      f.flags = flags;
      f.data.assign(body);
      if (f.stream_id == 0) s = BadRequest("spdy: data frame on stream 0");
      else out->push_back(std::move(f));
    } else {
      const uint16_t version = static_cast<uint16_t>(((static_cast<uint8_t>(avail[0]) & 0x7F) << 8) |
                                                     static_cast<uint8_t>(avail[1]));
      const uint16_t type = static_cast<uint16_t>((static_cast<uint8_t>(avail[2]) << 8) |
                                                  static_cast<uint8_t>(avail[3]));
      if (version != kSpdyVersion) {
        s = BadRequest("spdy: unsupported version " + std::to_string(version));
      } else {
        s = DecodeOne(type, flags, body, out);
      }
    }
    if (!s.ok()) {
      failed_ = true;
      return s;
    }
    in_pos_ += 8 + size_t{length};
  }
}

Status SpdyFramer::DecodeOne(uint16_t type, uint8_t flags, std::string_view body, std::vector<SpdyFrame>* out) {
  SpdyFrame f;
  f.flags = flags;
  auto need = [&](size_t n, const char* what) -> Status {
    if (body.size() != n) {
      return BadRequest(std::string("spdy: ") + what + " frame of " + std::to_string(body.size()) +
                        " bytes, want " + std::to_string(n));
    }
    return Status::Ok();
  };
  switch (static_cast<SpdyFrameType>(type)) {
    case SpdyFrameType::kSynStream: {
      if (body.size() < 10) return BadRequest("spdy: SYN_STREAM shorter than 10 bytes");
      f.type = SpdyFrameType::kSynStream;
      f.stream_id = GetU32(body, 0) & 0x7FFFFFFF;
      f.associated_id = GetU32(body, 4) & 0x7FFFFFFF;
      f.priority = static_cast<uint8_t>(static_cast<uint8_t>(body[8]) >> 5);
      if (f.stream_id == 0) return BadRequest("spdy: SYN_STREAM for stream 0");
      CK_ASSIGN_OR_RETURN(f.headers, InflateHeaders(body.substr(10)));
      break;
    }
    case SpdyFrameType::kSynReply:
    case SpdyFrameType::kHeaders: {
      if (body.size() < 4) return BadRequest("spdy: SYN_REPLY/HEADERS shorter than 4 bytes");
      f.type = static_cast<SpdyFrameType>(type);
      f.stream_id = GetU32(body, 0) & 0x7FFFFFFF;
      CK_ASSIGN_OR_RETURN(f.headers, InflateHeaders(body.substr(4)));
      break;
    }
    case SpdyFrameType::kRstStream:
      CK_RETURN_IF_ERROR(need(8, "RST_STREAM"));
      f.type = SpdyFrameType::kRstStream;
      f.stream_id = GetU32(body, 0) & 0x7FFFFFFF;
      f.status = GetU32(body, 4);
      break;
    case SpdyFrameType::kSettings: {
      if (body.size() < 4) return BadRequest("spdy: SETTINGS shorter than 4 bytes");
      const uint32_t n = GetU32(body, 0);
      if (n > (body.size() - 4) / 8 || body.size() != 4 + size_t{n} * 8) {
        return BadRequest("spdy: SETTINGS length does not match its entry count");
      }
      f.type = SpdyFrameType::kSettings;
      for (uint32_t i = 0; i < n; ++i) {
        f.settings.emplace_back(GetU32(body, 4 + i * 8) & 0xFFFFFF, GetU32(body, 8 + i * 8));
      }
      break;
    }
    case SpdyFrameType::kPing:
      CK_RETURN_IF_ERROR(need(4, "PING"));
      f.type = SpdyFrameType::kPing;
      f.ping_id = GetU32(body, 0);
      break;
    case SpdyFrameType::kGoAway:
      CK_RETURN_IF_ERROR(need(8, "GOAWAY"));
      f.type = SpdyFrameType::kGoAway;
      f.last_good_stream_id = GetU32(body, 0) & 0x7FFFFFFF;
      f.status = GetU32(body, 4);
      break;
    case SpdyFrameType::kWindowUpdate:
      CK_RETURN_IF_ERROR(need(8, "WINDOW_UPDATE"));
      f.type = SpdyFrameType::kWindowUpdate;
      f.stream_id = GetU32(body, 0) & 0x7FFFFFFF;
      f.delta_window = GetU32(body, 4) & 0x7FFFFFFF;
      break;
    default:
      return Status::Ok();  // SPDY/3 §2.2.1: unknown control frames are ignored
  }
  out->push_back(std::move(f));
  return Status::Ok();
}

}  // namespace ck::kubelet::streaming
