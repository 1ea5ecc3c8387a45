#include "apiserver/discovery/json_builder.h"

#include <cmath>
#include <cstdio>

#include "common/base/check.h"

namespace ck::apiserver::discovery {

Json Json::Strings(const std::vector<std::string>& items) {
  Json a = Array();
  for (const auto& s : items) a.items_.emplace_back(s);
  return a;
}

Json& Json::operator[](std::string_view key) {
  if (type_ == Type::kNull) type_ = Type::kObject;
  CK_CHECK(type_ == Type::kObject) << "member \"" << std::string(key) << "\" of a non-object";
  for (auto& [k, v] : members_) {
    if (k == key) return v;
  }
  members_.emplace_back(std::string(key), Json());
  return members_.back().second;
}

const Json* Json::Find(std::string_view key) const {
  for (const auto& [k, v] : members_) {
    if (k == key) return &v;
  }
  return nullptr;
}

Json* Json::Find(std::string_view key) {
  for (auto& [k, v] : members_) {
    if (k == key) return &v;
  }
  return nullptr;
}

void Json::Erase(std::string_view key) {
  for (auto it = members_.begin(); it != members_.end(); ++it) {
    if (it->first == key) {
      members_.erase(it);
      return;
    }
  }
}

Json& Json::Push(Json v) {
  if (type_ == Type::kNull) type_ = Type::kArray;
  CK_CHECK(type_ == Type::kArray) << "push onto a non-array";
  items_.push_back(std::move(v));
  return items_.back();
}

void AppendJsonString(std::string* out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '<':
      case '>':
      case '&':
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xf]);
        break;
      default:
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xf]);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

void Json::AppendTo(std::string* out) const {
  switch (type_) {
    case Type::kNull:
      out->append("null");
      return;
    case Type::kBool:
      out->append(int_ ? "true" : "false");
      return;
    case Type::kInt:
      out->append(std::to_string(int_));
      return;
    case Type::kDouble: {
      CK_CHECK(std::isfinite(double_)) << "non-finite number in JSON";
      char buf[32];
      int n = std::snprintf(buf, sizeof buf, "%.17g", double_);
      out->append(buf, static_cast<size_t>(n));
      return;
    }
    case Type::kString:
      AppendJsonString(out, string_);
      return;
    case Type::kArray: {
      out->push_back('[');
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i) out->push_back(',');
        items_[i].AppendTo(out);
      }
      out->push_back(']');
      return;
    }
    case Type::kObject: {
      out->push_back('{');
      for (size_t i = 0; i < members_.size(); ++i) {
        if (i) out->push_back(',');
        AppendJsonString(out, members_[i].first);
        out->push_back(':');
        members_[i].second.AppendTo(out);
      }
      out->push_back('}');
      return;
    }
  }
}

std::string Json::Dump() const {
  std::string out;
  AppendTo(&out);
  return out;
}

}  // namespace ck::apiserver::discovery
