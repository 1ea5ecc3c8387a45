#include "common/api/internal/json_writer.h"

#include "common/base/strings.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace ck::api::internal {
namespace {

// 1 for ASCII bytes that need no escape in Go's HTML-safe JSON strings.
constexpr bool IsSafeAscii(unsigned char c) {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&';
}

struct SafeTable {
  bool safe[256];
  constexpr SafeTable() : safe() {
    for (int i = 0; i < 256; ++i) safe[i] = IsSafeAscii(static_cast<unsigned char>(i));
  }
};
constexpr SafeTable kSafe;

constexpr char kHex[] = "0123456789abcdef";

// Decodes one UTF-8 sequence at s[0..n). Returns its length, or 0 when the bytes are not valid
// UTF-8 (overlong, surrogate, out of range, truncated), as Go's utf8.DecodeRuneInString judges.
size_t DecodeUtf8(const unsigned char* s, size_t n, uint32_t* rune) {
  unsigned char c = s[0];
  if (c < 0xC2 || c > 0xF4) return 0;
  if (c < 0xE0) {
    if (n < 2 || (s[1] & 0xC0) != 0x80) return 0;
    *rune = ((c & 0x1Fu) << 6) | (s[1] & 0x3Fu);
    return 2;
  }
  if (c < 0xF0) {
    if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
    uint32_t r = ((c & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
    if (r < 0x800 || (r >= 0xD800 && r <= 0xDFFF)) return 0;
    *rune = r;
    return 3;
  }
  if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
  uint32_t r = ((c & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu);
  if (r < 0x10000 || r > 0x10FFFF) return 0;
  *rune = r;
  return 4;
}

}  // namespace

void JsonWriter::AppendString(std::string* out, std::string_view sv) {
  const auto* s = reinterpret_cast<const unsigned char*>(sv.data());
  const size_t n = sv.size();
  out->push_back('"');
  size_t start = 0, i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (kSafe.safe[c]) {
      ++i;
      continue;
    }
    if (c < 0x80) {
      out->append(sv.data() + start, i - start);
      switch (c) {
        case '"': out->append("\\\""); break;
        case '\\': out->append("\\\\"); break;
        case '\n': out->append("\\n"); break;
        case '\r': out->append("\\r"); break;
        case '\t': out->append("\\t"); break;
        default: {
          char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
          out->append(esc, 6);
        }
      }
      start = ++i;
      continue;
    }
    uint32_t rune = 0;
    size_t len = DecodeUtf8(s + i, n - i, &rune);
    if (len == 0) {
      out->append(sv.data() + start, i - start);
      out->append("\\ufffd");
      start = ++i;
      continue;
    }
    if (rune == 0x2028 || rune == 0x2029) {
      out->append(sv.data() + start, i - start);
      out->append(rune == 0x2028 ? "\\u2028" : "\\u2029");
      start = i + len;
    }
    i += len;
  }
  out->append(sv.data() + start, n - start);
  out->push_back('"');
}

void JsonWriter::Int(int64_t v) {
  Sep();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_->append(buf, r.ptr);
  need_comma_ = true;
}

void JsonWriter::Uint(uint64_t v) {
  Sep();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_->append(buf, r.ptr);
  need_comma_ = true;
}

void JsonWriter::AppendGoFloat(std::string* out, double v, bool is_float32) {
  // encoding/json: the shortest digits that round-trip, in 'f' form unless the magnitude is below
  // 1e-6 or at least 1e21, then in 'e' form with a one-digit negative exponent kept short
  // ("1e-07" -> "1e-7"). One deviation: an integral value outside the 64-bit integer range is
  // written in 'e' form, because simdjson (our parser) refuses integer literals that large.
  char sci[40];
  std::to_chars_result r = is_float32 ? std::to_chars(sci, sci + sizeof sci, static_cast<float>(v), std::chars_format::scientific)
                                      : std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific);
  std::string_view text(sci, r.ptr - sci);  // [-]d[.ddd]e[+-]XX
  if (v == 0 || !std::isfinite(v)) {
    std::to_chars_result z = std::to_chars(sci, sci + sizeof sci, v);
    out->append(sci, z.ptr);
    return;
  }
  double abs = v < 0 ? -v : v;
  bool exp_form = is_float32 ? (static_cast<float>(abs) < 1e-6f || static_cast<float>(abs) >= 1e21f)
                             : (abs < 1e-6 || abs >= 1e21);
  size_t e = text.find('e');
  bool neg = text[0] == '-';
  std::string digits;
  for (size_t i = neg ? 1 : 0; i < e; ++i) {
    if (text[i] != '.') digits += text[i];
  }
  int exp = 0;
  {
    const char* p = text.data() + e + 1;
    if (*p == '+') ++p;
    std::from_chars(p, text.data() + text.size(), exp);
  }
  int n = static_cast<int>(digits.size());
  if (!exp_form && exp >= n - 1 && (abs >= 1.8446744073709552e19 || (neg && abs >= 9.2233720368547758e18))) {
    exp_form = true;
  }
  if (exp_form) {
    size_t len = text.size();
    char buf[40];
    std::memcpy(buf, text.data(), len);
    if (len >= 4 && buf[len - 4] == 'e' && buf[len - 3] == '-' && buf[len - 2] == '0') {
      buf[len - 2] = buf[len - 1];
      --len;
    }
    out->append(buf, len);
    return;
  }
  if (neg) out->push_back('-');
  if (exp >= n - 1) {
    out->append(digits);
    out->append(static_cast<size_t>(exp - (n - 1)), '0');
  } else if (exp >= 0) {
    out->append(digits, 0, static_cast<size_t>(exp + 1));
    out->push_back('.');
    out->append(digits, static_cast<size_t>(exp + 1), std::string::npos);
  } else {
    out->append("0.");
    out->append(static_cast<size_t>(-exp - 1), '0');
    out->append(digits);
  }
}

void JsonWriter::Double(double v) {
  Sep();
  AppendGoFloat(out_, v, false);
  need_comma_ = true;
}

void JsonWriter::Float(float v) {
  Sep();
  AppendGoFloat(out_, v, true);
  need_comma_ = true;
}

void JsonWriter::AppendBase64(std::string* out, std::string_view bytes) { ck::AppendBase64(*out, bytes); }

void JsonWriter::Base64(std::string_view bytes) {
  Sep();
  out_->push_back('"');
  AppendBase64(out_, bytes);
  out_->push_back('"');
  need_comma_ = true;
}

}  // namespace ck::api::internal
