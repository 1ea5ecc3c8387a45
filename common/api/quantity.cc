#include "common/api/quantity.h"

#include <algorithm>
#include <limits>

namespace ck::api {
namespace {

using i128 = __int128;

constexpr std::string_view kFormatWrong =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
constexpr std::string_view kSuffixWrong = "unable to parse quantity's suffix";
constexpr int kMaxDigits = 38;
// Largest decimal exponent a parsed quantity may have, so that every printed form parses again.
constexpr int64_t kMaxExponent = 1'000'000'000;
constexpr int kNanoScale = -9;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

i128 Pow10(int n) {  // n in [0, 38]
  i128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

int DigitCount(i128 v) {
  if (v < 0) v = -v;
  int d = 1;
  while (v >= 10) {
    v /= 10;
    ++d;
  }
  return d;
}

std::string Int128ToString(i128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  unsigned __int128 u = neg ? static_cast<unsigned __int128>(-(v + 1)) + 1 : static_cast<unsigned __int128>(v);
  char buf[48];
  int p = sizeof buf;
  while (u > 0) {
    buf[--p] = static_cast<char>('0' + static_cast<int>(u % 10));
    u /= 10;
  }
  if (neg) buf[--p] = '-';
  return std::string(buf + p, sizeof buf - p);
}

Status ParseError(std::string_view s, std::string_view what, std::string_view detail) {
  std::string m = "quantity ";
  m += '"';
  m.append(s);
  m += "\": ";
  m.append(what);
  if (!detail.empty()) {
    m += " (";
    m.append(detail);
    m += ')';
  }
  return BadRequest(std::move(m));
}

std::string Unexpected(std::string_view s, size_t pos) {
  std::string d = "unexpected '";
  d += s[pos];
  d += "' at offset ";
  d += std::to_string(pos);
  return d;
}

struct SuffixInfo {
  int base;       // 10 or 2
  int64_t exponent;
  Quantity::Format format;
};

bool InterpretSuffix(std::string_view suf, SuffixInfo* out) {
  static constexpr struct {
    std::string_view s;
    int base;
    int exponent;
  } kTable[] = {
      {"", 10, 0},   {"n", 10, -9}, {"u", 10, -6}, {"m", 10, -3}, {"k", 10, 3},
      {"M", 10, 6},  {"G", 10, 9},  {"T", 10, 12}, {"P", 10, 15}, {"E", 10, 18},
      {"Ki", 2, 10}, {"Mi", 2, 20}, {"Gi", 2, 30}, {"Ti", 2, 40}, {"Pi", 2, 50}, {"Ei", 2, 60},
  };
  for (const auto& e : kTable) {
    if (e.s == suf) {
      *out = {e.base, e.exponent,
              e.base == 2 ? Quantity::Format::kBinarySI : Quantity::Format::kDecimalSI};
      return true;
    }
  }
  if (suf.size() > 1 && (suf[0] == 'e' || suf[0] == 'E')) {
    // strconv.ParseInt(suf[1:], 10, 64): optional sign, then at least one digit.
    std::string_view d = suf.substr(1);
    bool neg = false;
    if (d[0] == '+' || d[0] == '-') {
      neg = d[0] == '-';
      d.remove_prefix(1);
    }
    if (d.empty()) return false;
    int64_t v = 0;
    for (char c : d) {
      if (!IsDigit(c)) return false;
      v = v * 10 + (c - '0');
      // Exponents this large cannot be represented (upstream would wrap them into an int32).
      if (v > kMaxExponent) return false;
    }
    *out = {10, neg ? -v : v, Quantity::Format::kDecimalExponent};
    return true;
  }
  return false;
}

// Divides |m| by 10^n rounding the magnitude up; keeps the sign. n >= 1.
i128 DivRoundUp(i128 m, int64_t n) {
  if (n > kMaxDigits) return m < 0 ? -1 : 1;
  i128 d = Pow10(static_cast<int>(n));
  i128 q = m / d;
  if (q * d != m) q += m < 0 ? -1 : 1;
  return q;
}

}  // namespace

void Quantity::Normalize() {
  if (mantissa_ == 0) {
    exponent_ = 0;
    return;
  }
  while (mantissa_ % 10 == 0) {
    mantissa_ /= 10;
    ++exponent_;
  }
}

Result<Quantity> Quantity::Parse(std::string_view s) {
  const size_t n = s.size();
  if (n == 0) return ParseError(s, kFormatWrong, "empty string");
  Quantity q;
  if (s == "0") {
    q.original_ = "0";
    return q;
  }
  // The scanner mirrors upstream's parseQuantityString, quirks included: "+", "." and a bare
  // suffix such as "Ki" all read as zero.
  bool positive = true;
  size_t pos = 0;
  if (s[0] == '-') {
    positive = false;
    ++pos;
  } else if (s[0] == '+') {
    ++pos;
  }
  while (pos < n && s[pos] == '0') ++pos;
  std::string_view num, denom, suffix;
  if (pos >= n) {
    num = "0";
  } else {
    size_t j = pos;
    while (j < n && IsDigit(s[j])) ++j;
    num = s.substr(pos, j - pos);
    pos = j;
    if (num.empty()) num = "0";
    if (pos < n && s[pos] == '.') {
      ++pos;
      size_t k = pos;
      while (k < n && IsDigit(s[k])) ++k;
      denom = s.substr(pos, k - pos);
      pos = k;
    }
    size_t suffix_start = pos;
    while (pos < n && std::string_view("eEinumkKMGTP").find(s[pos]) != std::string_view::npos) ++pos;
    if (pos < n && (s[pos] == '-' || s[pos] == '+')) ++pos;
    while (pos < n && IsDigit(s[pos])) ++pos;
    if (pos < n) return ParseError(s, kFormatWrong, Unexpected(s, pos));
    suffix = s.substr(suffix_start);
  }

  SuffixInfo info;
  if (!InterpretSuffix(suffix, &info)) {
    std::string d = "unknown suffix \"";
    d.append(suffix);
    d += "\" at offset ";
    d += std::to_string(n - suffix.size());
    return ParseError(s, kSuffixWrong, d);
  }
  q.format_ = info.format;

  // Upstream keeps the input string when it takes its int64 fast path and the input is already in
  // a canonical-looking shape; reproduce that decision exactly. `num` has no leading zeros (or is
  // "0"); the "shifted" digits are num followed by denom.
  const size_t total_digits = num.size() + denom.size();
  auto shifted_at = [&](size_t i) { return i < num.size() ? num[i] : denom[i - num.size()]; };
  bool keep_original = false;
  if (info.base == 10) {
    int64_t scale = info.exponent - static_cast<int64_t>(denom.size());
    if (total_digits <= 18 && scale >= kNanoScale) {
      bool ends000 = total_digits >= 3 && shifted_at(total_digits - 1) == '0' &&
                     shifted_at(total_digits - 2) == '0' && shifted_at(total_digits - 3) == '0';
      keep_original = scale % 3 == 0 && !ends000 && num[0] != '0';
    }
  } else if (denom.empty()) {
    int64_t precision = 15 - static_cast<int64_t>(num.size()) - info.exponent * 3 / 10 - 1;
    if (precision >= 0) {
      int64_t v = 0;
      for (char c : num) v = v * 10 + (c - '0');
      keep_original = info.exponent % 10 == 0 && (v & 7) != 0;
    }
  }

  // Exact value: digits * 10^(-len(denom)) * base^exponent, with the digits' trailing zeros moved
  // into the exponent so that long runs of zeros do not count against the 38-digit limit.
  size_t last = total_digits;  // one past the last non-zero digit
  while (last > 0 && shifted_at(last - 1) == '0') --last;
  i128 m = 0;
  int64_t exp10 = 0;
  if (last > 0) {
    size_t first = 0;
    while (shifted_at(first) == '0') ++first;
    if (last - first > static_cast<size_t>(kMaxDigits)) {
      return ParseError(s, "quantity is too large", "more than 38 significant digits");
    }
    for (size_t i = first; i < last; ++i) m = m * 10 + (shifted_at(i) - '0');
    exp10 = static_cast<int64_t>(total_digits - last) - static_cast<int64_t>(denom.size());
  }
  if (info.base == 10) {
    exp10 += info.exponent;
  } else if (m != 0) {
    i128 limit = std::numeric_limits<i128>::max() >> info.exponent;
    if (m > limit) return ParseError(s, "quantity is too large", "more than 38 significant digits");
    m <<= info.exponent;
  }
  if (!positive) m = -m;
  // Round up (away from zero) to nano precision: asking for some resource gives some resource.
  if (m != 0 && exp10 < kNanoScale) {
    m = DivRoundUp(m, kNanoScale - exp10);
    exp10 = kNanoScale;
  }
  q.mantissa_ = m;
  q.exponent_ = exp10;
  q.Normalize();
  if (q.exponent_ > kMaxExponent) {
    return ParseError(s, "quantity is too large", "exponent above 10^" + std::to_string(kMaxExponent));
  }
  if (q.format_ == Format::kBinarySI && q.mantissa_ != 0) {
    // Binary SI is capped at 2^63-1; a fraction of one switches to decimal SI.
    int magnitude = DigitCount(q.mantissa_) + static_cast<int>(q.exponent_);  // digits before the point
    if (magnitude >= 19) {
      Quantity cap = FromScaled(std::numeric_limits<int64_t>::max(), 0);
      Quantity mag = q;
      if (mag.mantissa_ < 0) mag.mantissa_ = -mag.mantissa_;
      if (mag.Cmp(cap) > 0) {
        q.mantissa_ = q.mantissa_ < 0 ? -cap.mantissa_ : cap.mantissa_;
        q.exponent_ = cap.exponent_;
        keep_original = false;
      }
    }
    if (magnitude <= 0) q.format_ = Format::kDecimalSI;
  }
  if (keep_original) q.original_ = std::string(s);
  return q;
}

Quantity Quantity::FromScaled(int64_t value, int32_t scale, Format format) {
  Quantity q;
  q.mantissa_ = value;
  q.exponent_ = scale;
  q.format_ = format;
  q.Normalize();
  return q;
}

int Quantity::Cmp(const Quantity& o) const {
  int sa = Sign(), sb = o.Sign();
  if (sa != sb) return sa < sb ? -1 : 1;
  if (sa == 0) return 0;
  int64_t ma = DigitCount(mantissa_) + exponent_;
  int64_t mb = DigitCount(o.mantissa_) + o.exponent_;
  if (ma != mb) return (ma < mb ? -1 : 1) * sa;
  // Same order of magnitude: aligning cannot overflow (both sides get the same digit count).
  i128 a = mantissa_, b = o.mantissa_;
  if (exponent_ > o.exponent_) {
    a *= Pow10(static_cast<int>(exponent_ - o.exponent_));
  } else if (o.exponent_ > exponent_) {
    b *= Pow10(static_cast<int>(o.exponent_ - exponent_));
  }
  return a < b ? -1 : (a > b ? 1 : 0);
}

bool Quantity::Add(const Quantity& y) {
  if (y.mantissa_ == 0) {
    if (mantissa_ == 0) format_ = y.format_;
    return true;
  }
  if (mantissa_ == 0) {
    mantissa_ = y.mantissa_;
    exponent_ = y.exponent_;
    format_ = y.format_;
    original_.clear();
    return true;
  }
  i128 a = mantissa_, b = y.mantissa_;
  int64_t e = std::min(exponent_, y.exponent_);
  auto align = [](i128* v, int64_t shift) {
    if (shift == 0) return true;
    if (shift > kMaxDigits) return false;
    return !__builtin_mul_overflow(*v, Pow10(static_cast<int>(shift)), v);
  };
  if (!align(&a, exponent_ - e) || !align(&b, y.exponent_ - e)) return false;
  i128 sum;
  if (__builtin_add_overflow(a, b, &sum)) return false;
  Quantity r;
  r.mantissa_ = sum;
  r.exponent_ = e;
  r.Normalize();
  if (r.mantissa_ != 0 && DigitCount(r.mantissa_) > kMaxDigits) return false;
  mantissa_ = r.mantissa_;
  exponent_ = r.exponent_;
  original_.clear();
  return true;
}

bool Quantity::Sub(const Quantity& y) {
  Quantity neg = y;
  neg.Neg();
  if (mantissa_ == 0) {
    // Upstream: subtracting from zero takes y's format.
    format_ = y.format_;
  }
  return Add(neg);
}

bool Quantity::Mul(int64_t factor) {
  i128 r;
  if (__builtin_mul_overflow(mantissa_, static_cast<i128>(factor), &r)) return false;
  Quantity t;
  t.mantissa_ = r;
  t.exponent_ = exponent_;
  t.Normalize();
  if (t.mantissa_ != 0 && DigitCount(t.mantissa_) > kMaxDigits) return false;
  mantissa_ = t.mantissa_;
  exponent_ = t.exponent_;
  original_.clear();
  return true;
}

void Quantity::Neg() {
  mantissa_ = -mantissa_;
  original_.clear();
}

int64_t Quantity::ScaledValue(int32_t scale) const {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  if (mantissa_ == 0) return 0;
  int64_t shift = exponent_ - scale;
  i128 v = mantissa_;
  if (shift >= 0) {
    if (shift > kMaxDigits || __builtin_mul_overflow(v, Pow10(static_cast<int>(shift)), &v)) {
      return mantissa_ < 0 ? kMin : kMax;
    }
  } else {
    v = DivRoundUp(v, -shift);
  }
  if (v > kMax) return kMax;
  if (v < kMin) return kMin;
  return static_cast<int64_t>(v);
}

std::string Quantity::CanonicalString() const {
  if (mantissa_ == 0) return "0";
  Format f = format_;
  if (f == Format::kBinarySI) {
    // Binary SI only for whole numbers of at least 1024 in magnitude; else decimal SI.
    if (exponent_ < 0) {
      f = Format::kDecimalSI;
    } else {
      i128 v = mantissa_;
      if (exponent_ > kMaxDigits || __builtin_mul_overflow(v, Pow10(static_cast<int>(exponent_)), &v)) {
        f = Format::kDecimalSI;
      } else {
        static constexpr std::string_view kBin[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
        if (v > -1024 && v < 1024) return CanonicalDecimal(Format::kDecimalSI);
        int times = 0;
        while (times < 6 && (v >= 1024 || v <= -1024) && v % 1024 == 0) {
          v /= 1024;
          ++times;
        }
        std::string out = Int128ToString(v);
        out.append(kBin[times]);
        return out;
      }
    }
  }
  return CanonicalDecimal(f);
}

std::string Quantity::CanonicalDecimal(Format f) const {
  // The exponent becomes the largest multiple of three not above it.
  int64_t e = exponent_;
  int64_t r = ((e % 3) + 3) % 3;
  std::string out = Int128ToString(mantissa_);
  out.append(static_cast<size_t>(r), '0');
  e -= r;
  if (f == Format::kDecimalExponent) {
    if (e != 0) {
      out += 'e';
      out += std::to_string(e);
    }
    return out;
  }
  if (e > 18) {
    out.append(static_cast<size_t>(e - 18), '0');
    e = 18;
  }
  static constexpr std::string_view kDec[] = {"n", "u", "m", "", "k", "M", "G", "T", "P", "E"};
  out.append(kDec[(e + 9) / 3]);
  return out;
}

std::string Quantity::String() const {
  if (!original_.empty()) return original_;
  return CanonicalString();
}

Result<std::string> CanonicalQuantity(std::string_view s) {
  CK_ASSIGN_OR_RETURN(Quantity q, Quantity::Parse(s));
  return q.String();
}

}  // namespace ck::api
