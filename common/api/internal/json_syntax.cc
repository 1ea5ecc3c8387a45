#include "common/api/internal/json_syntax.h"

#include <vector>

namespace ck::api::internal {
namespace {

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  // Returns "" when the text is valid JSON.
  std::string Run() {
    // Containers: '{' or '['; state says what the next token may be.
    enum State { kValue, kAfterValue, kObjectKeyOrEnd, kObjectKey, kColon, kArrayValueOrEnd };
    std::vector<char> stack;
    State state = kValue;
    while (true) {
      SkipSpace();
      if (i_ >= s_.size()) {
        if (state == kAfterValue && stack.empty()) return "";
        return Eof();
      }
      char c = s_[i_];
      switch (state) {
        case kValue:
        case kArrayValueOrEnd:
          if (state == kArrayValueOrEnd && c == ']') {
            ++i_;
            stack.pop_back();
            state = kAfterValue;
            break;
          }
          if (c == '{') {
            ++i_;
            stack.push_back('{');
            state = kObjectKeyOrEnd;
          } else if (c == '[') {
            ++i_;
            stack.push_back('[');
            state = kArrayValueOrEnd;
          } else {
            std::string e = Scalar("looking for beginning of value");
            if (!e.empty()) return e;
            state = kAfterValue;
          }
          break;
        case kAfterValue:
          if (stack.empty()) return Bad("after top-level value");
          if (stack.back() == '{') {
            if (c == ',') {
              ++i_;
              state = kObjectKey;
            } else if (c == '}') {
              ++i_;
              stack.pop_back();
            } else {
              return Bad("after object key:value pair");
            }
          } else {
            if (c == ',') {
              ++i_;
              state = kValue;
            } else if (c == ']') {
              ++i_;
              stack.pop_back();
            } else {
              return Bad("after array element");
            }
          }
          break;
        case kObjectKeyOrEnd:
        case kObjectKey:
          if (state == kObjectKeyOrEnd && c == '}') {
            ++i_;
            stack.pop_back();
            state = kAfterValue;
            break;
          }
          if (c != '"') return Bad("looking for beginning of object key string");
          {
            std::string e = String();
            if (!e.empty()) return e;
          }
          state = kColon;
          break;
        case kColon:
          if (c != ':') return Bad("after object key");
          ++i_;
          state = kValue;
          break;
      }
    }
  }

 private:
  void SkipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }

  std::string Bad(std::string_view context) {
    std::string m = "invalid character ";
    m += Quote(s_[i_]);
    m += ' ';
    m.append(context);
    return At(m);
  }

  std::string Eof() {
    i_ = s_.size();
    return At("unexpected end of JSON input");
  }

  std::string At(std::string m) {
    m += " (at offset " + std::to_string(i_) + ")";
    return m;
  }

  static std::string Quote(char c) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\'') return "'\\''";
    if (c == '"') return "'\"'";
    if (u < 0x20 || u >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "'\\x%02x'", u);
      return buf;
    }
    return std::string("'") + c + "'";
  }

  std::string Scalar(std::string_view context) {
    char c = s_[i_];
    if (c == '"') return String();
    if (c == '-' || (c >= '0' && c <= '9')) return Number();
    for (std::string_view lit : {std::string_view("true"), std::string_view("false"), std::string_view("null")}) {
      if (c == lit[0]) {
        for (size_t k = 0; k < lit.size(); ++k, ++i_) {
          if (i_ >= s_.size()) return Eof();
          if (s_[i_] != lit[k]) {
            std::string m = "invalid character " + Quote(s_[i_]) + " in literal " + std::string(lit) +
                            " (expecting " + Quote(lit[k]) + ")";
            return At(m);
          }
        }
        return "";
      }
    }
    return Bad(context);
  }

  std::string Number() {
    if (s_[i_] == '-') ++i_;
    if (i_ >= s_.size()) return Eof();
    if (s_[i_] == '0') {
      ++i_;
    } else if (s_[i_] >= '1' && s_[i_] <= '9') {
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    } else {
      return Bad("in numeric literal");
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (i_ >= s_.size()) return Eof();
      if (s_[i_] < '0' || s_[i_] > '9') return Bad("after decimal point in numeric literal");
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (i_ >= s_.size()) return Eof();
      if (s_[i_] < '0' || s_[i_] > '9') return Bad("in exponent of numeric literal");
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    }
    return "";
  }

  std::string String() {
    ++i_;  // opening quote
    while (true) {
      if (i_ >= s_.size()) return Eof();
      unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return "";
      }
      if (c < 0x20) return Bad("in string literal");
      if (c == '\\') {
        ++i_;
        if (i_ >= s_.size()) return Eof();
        char e = s_[i_];
        if (e == 'u') {
          for (int k = 0; k < 4; ++k) {
            ++i_;
            if (i_ >= s_.size()) return Eof();
            char h = s_[i_];
            if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) {
              return Bad("in \\u hexadecimal character escape");
            }
          }
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return Bad("in string escape code");
        }
        ++i_;
        continue;
      }
      if (c >= 0x80) {
        size_t len = Utf8Length(i_);
        if (len == 0) return At("invalid UTF-8 in string");
        i_ += len;
        continue;
      }
      ++i_;
    }
  }

  size_t Utf8Length(size_t i) const {
    auto b = [&](size_t k) { return static_cast<unsigned char>(s_[k]); };
    unsigned char c = b(i);
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (n == 0 || c > 0xF4 || i + n > s_.size()) return 0;
    for (size_t k = 1; k < n; ++k) {
      if ((b(i + k) & 0xC0) != 0x80) return 0;
    }
    if (n == 3) {
      uint32_t r = ((c & 0x0Fu) << 12) | ((b(i + 1) & 0x3Fu) << 6) | (b(i + 2) & 0x3Fu);
      if (r < 0x800 || (r >= 0xD800 && r <= 0xDFFF)) return 0;
    }
    if (n == 4) {
      uint32_t r = ((c & 0x07u) << 18) | ((b(i + 1) & 0x3Fu) << 12) | ((b(i + 2) & 0x3Fu) << 6) | (b(i + 3) & 0x3Fu);
      if (r < 0x10000 || r > 0x10FFFF) return 0;
    }
    return n;
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::string DescribeJsonSyntaxError(std::string_view json, std::string_view fallback) {
  std::string e = Scanner(json).Run();
  return e.empty() ? std::string(fallback) : e;
}

}  // namespace ck::api::internal
