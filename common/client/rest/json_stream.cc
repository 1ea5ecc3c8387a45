#include "common/client/rest/json_stream.h"

namespace ck::client {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

void SkipSpace(std::string_view s, size_t* i) {
  while (*i < s.size() && IsSpace(s[*i])) ++*i;
}

// Moves *i past the string starting at s[*i] (a '"'); false when it does not end.
bool SkipString(std::string_view s, size_t* i) {
  for (size_t k = *i + 1; k < s.size(); ++k) {
    if (s[k] == '\\') {
      ++k;
    } else if (s[k] == '"') {
      *i = k + 1;
      return true;
    }
  }
  return false;
}

// Moves *i past the JSON value starting at s[*i]; false when it is cut short.
bool SkipValue(std::string_view s, size_t* i) {
  if (*i >= s.size()) return false;
  char c = s[*i];
  if (c == '"') return SkipString(s, i);
  if (c == '{' || c == '[') {
    int depth = 0;
    for (size_t k = *i; k < s.size(); ++k) {
      char d = s[k];
      if (d == '"') {
        if (!SkipString(s, &k)) return false;
        --k;  // the loop's ++k lands on the byte after the string
      } else if (d == '{' || d == '[') {
        ++depth;
      } else if (d == '}' || d == ']') {
        if (--depth == 0) {
          *i = k + 1;
          return true;
        }
      }
    }
    return false;
  }
  size_t k = *i;
  while (k < s.size() && s[k] != ',' && s[k] != '}' && s[k] != ']' && !IsSpace(s[k])) ++k;
  if (k == *i) return false;
  *i = k;
  return true;
}

}  // namespace

void JsonFramer::Feed(std::string_view bytes) {
  // Drop what was already handed out; keep only the unfinished object (or nothing).
  size_t keep_from = begin_ != kNone ? begin_ : pos_;
  if (keep_from > 0) {
    buf_.erase(0, keep_from);
    pos_ -= keep_from;
    if (begin_ != kNone) begin_ = 0;
  }
  buf_.append(bytes);
}

Result<std::optional<std::string_view>> JsonFramer::Next() {
  while (pos_ < buf_.size()) {
    char c = buf_[pos_];
    if (begin_ == kNone) {
      if (IsSpace(c)) {
        ++pos_;
        continue;
      }
      if (c != '{') {
        return BadRequest("watch stream: expected a JSON object, got '" + std::string(1, c) + "' at byte " +
                          std::to_string(pos_));
      }
      begin_ = pos_++;
      depth_ = 1;
      in_string_ = escape_ = false;
      continue;
    }
    ++pos_;
    if (in_string_) {
      if (escape_) {
        escape_ = false;
      } else if (c == '\\') {
        escape_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
      continue;
    }
    if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if ((c == '}' || c == ']') && --depth_ == 0) {
      std::string_view object(buf_.data() + begin_, pos_ - begin_);
      begin_ = kNone;
      return std::optional<std::string_view>(object);
    }
  }
  if (begin_ != kNone && pos_ - begin_ > max_object_bytes_) {
    return BadRequest("watch stream: event larger than " + std::to_string(max_object_bytes_) + " bytes");
  }
  return std::optional<std::string_view>();
}

Result<WatchEnvelope> ParseWatchEnvelope(std::string_view s) {
  WatchEnvelope env;
  bool have_type = false, have_object = false;
  size_t i = 0;
  SkipSpace(s, &i);
  if (i >= s.size() || s[i] != '{') return BadRequest("watch event: not a JSON object");
  ++i;
  while (true) {
    SkipSpace(s, &i);
    if (i < s.size() && s[i] == '}') break;
    if (i >= s.size() || s[i] != '"') return BadRequest("watch event: expected a member name");
    size_t key_start = i + 1;
    if (!SkipString(s, &i)) return BadRequest("watch event: unterminated member name");
    std::string_view key = s.substr(key_start, i - 1 - key_start);
    SkipSpace(s, &i);
    if (i >= s.size() || s[i] != ':') return BadRequest("watch event: expected ':'");
    ++i;
    SkipSpace(s, &i);
    size_t value_start = i;
    if (!SkipValue(s, &i)) return BadRequest("watch event: bad value of \"" + std::string(key) + "\"");
    std::string_view value = s.substr(value_start, i - value_start);
    if (key == "type") {
      if (value.size() < 2 || value.front() != '"') return BadRequest("watch event: type is not a string");
      env.type = value.substr(1, value.size() - 2);
      have_type = true;
    } else if (key == "object") {
      env.object = value;
      have_object = true;
    }
    SkipSpace(s, &i);
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    if (i < s.size() && s[i] == '}') break;
    return BadRequest("watch event: expected ',' or '}'");
  }
  if (!have_type || env.type.empty()) return BadRequest("watch event: no type");
  if (!have_object) return BadRequest("watch event: no object");
  return env;
}

}  // namespace ck::client
