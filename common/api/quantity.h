// Quantity: Kubernetes resource quantities ("100m", "1Gi", "1e3"), exact, never floating point.
//
// Parsing follows k8s.io/apimachinery/pkg/api/resource: <sign><digits>[.<digits>]<suffix> with the
// suffixes n u m "" k M G T P E (decimal SI), Ki Mi Gi Ti Pi Ei (binary SI) or e<int>/E<int>
// (decimal exponent). Values are rounded up (away from zero) to nano precision, and binary-SI
// values are capped at 2^63-1, as upstream does. String() gives upstream's output form: the
// canonical form (largest suffix of the parsed kind with an integral mantissa, "1.5" -> "1500m",
// "1.5Gi" -> "1536Mi", "1000" -> "1k"), except that, like upstream, a string that was already
// "simple" when parsed is returned as it was written ("+1", "01Gi").
// Limits of this implementation: at most 38 significant digits (beyond that, Parse fails and
// Add/Sub report false). A Quantity is a plain value; not synchronized.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ck::api {

class Quantity {
 public:
  enum class Format : uint8_t { kDecimalSI, kBinarySI, kDecimalExponent };

  // Zero ("0"), decimal SI.
  Quantity() = default;

  // Parses `s`. On failure the Status is BadRequest and says which character is wrong, e.g.
  // `quantity "1.5x": quantities must match the regular expression
  // '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' (unexpected 'x' at offset 3)`.
  static Result<Quantity> Parse(std::string_view s);

  // value * 10^scale, e.g. FromScaled(500, -3) is 500m.
  static Quantity FromScaled(int64_t value, int32_t scale, Format format = Format::kDecimalSI);
  static Quantity FromInt(int64_t value, Format format = Format::kDecimalSI) {
    return FromScaled(value, 0, format);
  }
  static Quantity FromMilli(int64_t milli, Format format = Format::kDecimalSI) {
    return FromScaled(milli, -3, format);
  }

  // Upstream's serialized form (see the file comment).
  std::string String() const;
  // The canonical form, ignoring how the value was written.
  std::string CanonicalString() const;

  Format format() const { return format_; }
  bool IsZero() const { return mantissa_ == 0; }
  int Sign() const { return mantissa_ < 0 ? -1 : (mantissa_ > 0 ? 1 : 0); }

  // Exact comparison: -1, 0 or 1.
  int Cmp(const Quantity& other) const;
  friend bool operator==(const Quantity& a, const Quantity& b) { return a.Cmp(b) == 0; }
  friend bool operator<(const Quantity& a, const Quantity& b) { return a.Cmp(b) < 0; }

  // Exact arithmetic. A zero receiver takes the format of `y` (as upstream). Returns false and
  // leaves *this unchanged when the exact result needs more than 38 significant digits.
  [[nodiscard]] bool Add(const Quantity& y);
  [[nodiscard]] bool Sub(const Quantity& y);
  [[nodiscard]] bool Mul(int64_t factor);
  void Neg();

  // ceil(q / 10^scale) rounded away from zero and saturated to the int64 range:
  // Value() is whole units, MilliValue() thousandths ("100m".MilliValue() == 100).
  int64_t ScaledValue(int32_t scale) const;
  int64_t Value() const { return ScaledValue(0); }
  int64_t MilliValue() const { return ScaledValue(-3); }

 private:
  // The value is mantissa_ * 10^exponent_, normalized so that mantissa_ has no trailing zero
  // (zero is 0 * 10^0).
  void Normalize();
  std::string CanonicalDecimal(Format f) const;

  __int128 mantissa_ = 0;
  int64_t exponent_ = 0;
  Format format_ = Format::kDecimalSI;
  // The string as written when upstream would re-emit it unchanged; empty otherwise.
  std::string original_;
};

// Canonicalizes a quantity string: Parse(s)->String(). Errors as Parse.
Result<std::string> CanonicalQuantity(std::string_view s);

}  // namespace ck::api
