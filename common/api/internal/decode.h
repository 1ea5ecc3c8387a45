// The reflection decoder: Kubernetes JSON -> protobuf message, following the MessagePlan rules and
// Go's encoding/json semantics as Kubernetes uses them (case-sensitive names, last duplicate wins,
// null leaves a field unset, int64 read exactly). Unknown and duplicate members are collected with
// their paths ("spec.template.spec.containers[0].foo") for warnings or a strict-mode error.
//
// A template over a read-only JSON DOM adapter D (see json_dom.h) so that the library comparison in
// the benchmark runs the same decoder on RapidJSON, simdjson and nlohmann. Internal to common/api.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <google/protobuf/message.h>
#include <google/protobuf/reflection.h>

#include "common/api/internal/json_path.h"
#include "common/api/internal/json_writer.h"
#include "common/api/internal/message_plan.h"
#include "common/api/quantity.h"
#include "common/api/time_format.h"
#include "common/base/status.h"

namespace ck::api::internal {

enum class JsonType : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

struct DecodeSettings {
  bool collect_unknown = true;  // false: unknown and duplicate members are not even looked for
  std::string* kind = nullptr;  // receives the top-level "kind"
  std::string* api_version = nullptr;
};

template <class D>
class Decoder {
 public:
  using Value = typename D::Value;
  using Message = google::protobuf::Message;
  using Reflection = google::protobuf::Reflection;
  using FieldDescriptor = google::protobuf::FieldDescriptor;

  explicit Decoder(const DecodeSettings& s) : settings_(s) {}

  Status Root(Value v, Message* m, const MessagePlan& p) {
    if (m->GetReflection() != p.reflection) return Internal("the codec handles generated messages only");
    root_name_ = p.descriptor->name();
    if (p.special != Special::kNone) return SpecialValue(v, m, p, nullptr);
    if (D::TypeOf(v) != JsonType::kObject) {
      return BadRequest("json: cannot unmarshal " + std::string(TypeName(D::TypeOf(v))) +
                        " into Go value of type " + std::string(root_name_));
    }
    return Object(v, m, p, /*root=*/true, 0, nullptr);
  }

  // Unknown and duplicate members, each as `unknown field "a.b"` / `duplicate field "a.b"`.
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  static std::string_view TypeName(JsonType t) {
    switch (t) {
      case JsonType::kNull: return "null";
      case JsonType::kBool: return "bool";
      case JsonType::kNumber: return "number";
      case JsonType::kString: return "string";
      case JsonType::kArray: return "array";
      case JsonType::kObject: return "object";
    }
    return "value";
  }

  static std::string_view GoTypeName(Kind k) {
    switch (k) {
      case Kind::kBool: return "bool";
      case Kind::kInt32: return "int32";
      case Kind::kInt64: return "int64";
      case Kind::kUint32: return "uint32";
      case Kind::kUint64: return "uint64";
      case Kind::kFloat: return "float32";
      case Kind::kDouble: return "float64";
      case Kind::kString:
      case Kind::kEnum: return "string";
      case Kind::kBytes: return "[]uint8";
      case Kind::kMessage: return "struct";
    }
    return "value";
  }

  // Go's wording, with the path to the member: `json: cannot unmarshal string into Go struct
  // field Pod.spec.replicas of type int32`.
  Status TypeError(JsonType got, std::string_view go_type, const PathNode* at) const {
    std::string m = "json: cannot unmarshal ";
    m.append(TypeName(got));
    m += " into Go struct field ";
    m.append(root_name_);
    m += '.';
    m += PathString(at);
    m += " of type ";
    m.append(go_type);
    return BadRequest(std::move(m));
  }

  static Status ValueError(std::string_view what, const PathNode* at) {
    std::string m = PathString(at);
    m += ": ";
    m.append(what);
    return BadRequest(std::move(m));
  }

  void Problem(std::string_view kind, std::string_view name, const PathNode* at) {
    PathNode node{at, name, -1, false};
    std::string m(kind);
    m += " field \"";
    m += PathString(&node);
    m += '"';
    problems_.push_back(std::move(m));
  }

  Status Object(Value v, Message* m, const MessagePlan& p, bool root, int depth, const PathNode* at) {
    if (depth > kMaxJsonDepth) return ValueError("exceeded max depth", at);
    // Slots seen in this object, for duplicate detection.
    uint64_t seen_small[4] = {0, 0, 0, 0};
    std::vector<bool> seen_large;
    const bool track = settings_.collect_unknown;
    if (track && p.members.size() > 256) seen_large.resize(p.members.size());
    return D::Members(v, [&](std::string_view key, Value child) -> Status {
      const MemberTarget* t = p.Find(key);
      if (t == nullptr) {
        if ((root || p.accepts_type_meta) && (key == "kind" || key == "apiVersion")) {
          if (root && D::TypeOf(child) == JsonType::kString) {
            std::string* out = key == "kind" ? settings_.kind : settings_.api_version;
            if (out != nullptr) *out = std::string(D::GetString(child));
          }
          return Status::Ok();
        }
        if (track) Problem("unknown", key, at);
        return Status::Ok();
      }
      if (track) {
        bool duplicate;
        if (seen_large.empty()) {
          uint64_t bit = uint64_t{1} << (t->slot & 63);
          duplicate = (seen_small[t->slot >> 6] & bit) != 0;
          seen_small[t->slot >> 6] |= bit;
        } else {
          duplicate = seen_large[t->slot];
          seen_large[t->slot] = true;
        }
        if (duplicate) Problem("duplicate", key, at);
      }
      // Step through inline fields to the message holding the leaf.
      Message* target = m;
      const Reflection* r = p.reflection;
      for (int i = 0; i < t->depth; ++i) {
        target = r->MutableMessage(target, t->path[i]->field);
        r = t->path[i]->message->reflection;
      }
      const FieldPlan& f = t->leaf();
      PathNode node{at, f.name, -1, false};
      return Member(target, r, f, child, depth, &node);
    });
  }

  Status Member(Message* m, const Reflection* r, const FieldPlan& f, Value v, int depth, const PathNode* at) {
    const FieldDescriptor* fd = f.field;
    JsonType type = D::TypeOf(v);
    if (type == JsonType::kNull) {
      // null makes a pointer, slice or map nil; for a value field Go leaves it as it is.
      r->ClearField(m, fd);
      return Status::Ok();
    }
    if (f.is_map) {
      if (type != JsonType::kObject) return TypeError(type, "map", at);
      return MapMembers(m, r, f, v, depth, at);
    }
    if (f.repeated) {
      if (type != JsonType::kArray) return TypeError(type, "slice", at);
      r->ClearField(m, fd);  // a repeated member replaces the slice, as in Go
      int64_t index = 0;
      return D::Elements(v, [&](Value e) -> Status {
        PathNode node{at, {}, index++, false};
        if (f.kind == Kind::kMessage) {
          Message* child = r->AddMessage(m, fd);
          return D::TypeOf(e) == JsonType::kNull ? Status::Ok()
                                                 : MessageValue(e, child, *f.message, depth + 1, &node);
        }
        return ScalarValue(e, m, r, fd, f.kind, /*add=*/true, &node);
      });
    }
    if (f.kind == Kind::kMessage) return MessageValue(v, r->MutableMessage(m, fd), *f.message, depth + 1, at);
    return ScalarValue(v, m, r, fd, f.kind, /*add=*/false, at);
  }

  Status MessageValue(Value v, Message* m, const MessagePlan& p, int depth, const PathNode* at) {
    if (p.special != Special::kNone) return SpecialValue(v, m, p, at);
    JsonType type = D::TypeOf(v);
    if (type != JsonType::kObject) return TypeError(type, p.descriptor->name(), at);
    return Object(v, m, p, /*root=*/false, depth, at);
  }

  // Go decodes a JSON object into an existing map: keys already there get a new value (a struct
  // value is replaced, not merged), other keys are added. The index keeps one entry per key in
  // the repeated view that reflection exposes.
  Status MapMembers(Message* m, const Reflection* r, const FieldPlan& f, Value v, int depth, const PathNode* at) {
    std::unordered_map<std::string, int> index;
    if (f.map_key->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      for (int i = 0; i < r->FieldSize(*m, f.field); ++i) {
        const Message& e = r->GetRepeatedMessage(*m, f.field, i);
        index[e.GetReflection()->GetString(e, f.map_key)] = i;
      }
    }
    return D::Members(v, [&](std::string_view key, Value child) -> Status {
      Message* entry = nullptr;
      if (f.map_key->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
        auto [it, added] = index.try_emplace(std::string(key), r->FieldSize(*m, f.field));
        if (!added) {
          entry = r->MutableRepeatedMessage(m, f.field, it->second);
          entry->GetReflection()->ClearField(entry, f.map_value);
        }
      }
      if (entry == nullptr) entry = r->AddMessage(m, f.field);
      const Reflection* er = entry->GetReflection();
      PathNode node{at, key, -1, true};
      CK_RETURN_IF_ERROR(MapKey(entry, er, f.map_key, key, &node));
      if (D::TypeOf(child) == JsonType::kNull) return Status::Ok();
      if (f.map_value_kind == Kind::kMessage) {
        return MessageValue(child, er->MutableMessage(entry, f.map_value), *f.map_value_message, depth + 1, &node);
      }
      return ScalarValue(child, entry, er, f.map_value, f.map_value_kind, /*add=*/false, &node);
    });
  }

  static Status MapKey(Message* entry, const Reflection* er, const FieldDescriptor* k, std::string_view key,
                       const PathNode* at) {
    switch (k->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        er->SetString(entry, k, std::string(key));
        return Status::Ok();
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64: {
        int64_t v = 0;
        if (!ParseDecimal(key, &v)) return ValueError("map key is not an integer", at);
        if (k->cpp_type() == FieldDescriptor::CPPTYPE_INT32) {
          if (v < INT32_MIN || v > INT32_MAX) return ValueError("map key out of range", at);
          er->SetInt32(entry, k, static_cast<int32_t>(v));
        } else {
          er->SetInt64(entry, k, v);
        }
        return Status::Ok();
      }
      default:
        return ValueError("unsupported map key type", at);
    }
  }

  static bool ParseDecimal(std::string_view s, int64_t* out) {
    if (s.empty()) return false;
    bool neg = s[0] == '-';
    if (neg) s.remove_prefix(1);
    if (s.empty() || s.size() > 19) return false;
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (v > static_cast<uint64_t>(INT64_MAX) + (neg ? 1 : 0)) return false;
    *out = neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
    return true;
  }

  Status ScalarValue(Value v, Message* m, const Reflection* r, const FieldDescriptor* fd, Kind k, bool add,
                     const PathNode* at) {
    JsonType type = D::TypeOf(v);
    if (type == JsonType::kNull) {
      // null inside a list or map becomes the zero value.
      switch (k) {
        case Kind::kString:
        case Kind::kBytes:
          add ? r->AddString(m, fd, std::string()) : r->SetString(m, fd, std::string());
          return Status::Ok();
        default:
          return add ? ScalarZero(m, r, fd, k) : Status::Ok();
      }
    }
    switch (k) {
      case Kind::kString: {
        if (type != JsonType::kString) return TypeError(type, "string", at);
        std::string s(D::GetString(v));
        add ? r->AddString(m, fd, std::move(s)) : r->SetString(m, fd, std::move(s));
        return Status::Ok();
      }
      case Kind::kBytes: {
        if (type != JsonType::kString) return TypeError(type, "[]uint8", at);
        std::string bytes;
        size_t bad = 0;
        if (!DecodeBase64(D::GetString(v), &bytes, &bad)) {
          return ValueError("illegal base64 data at input byte " + std::to_string(bad), at);
        }
        add ? r->AddString(m, fd, std::move(bytes)) : r->SetString(m, fd, std::move(bytes));
        return Status::Ok();
      }
      case Kind::kBool: {
        if (type != JsonType::kBool) return TypeError(type, "bool", at);
        bool b = D::GetBool(v);
        add ? r->AddBool(m, fd, b) : r->SetBool(m, fd, b);
        return Status::Ok();
      }
      case Kind::kInt32:
      case Kind::kInt64: {
        int64_t i = 0;
        if (type != JsonType::kNumber || !D::GetInt64(v, &i)) return NumberError(v, type, k, at);
        if (k == Kind::kInt32) {
          if (i < INT32_MIN || i > INT32_MAX) return NumberError(v, type, k, at);
          add ? r->AddInt32(m, fd, static_cast<int32_t>(i)) : r->SetInt32(m, fd, static_cast<int32_t>(i));
        } else {
          add ? r->AddInt64(m, fd, i) : r->SetInt64(m, fd, i);
        }
        return Status::Ok();
      }
      case Kind::kUint32:
      case Kind::kUint64: {
        uint64_t u = 0;
        if (type != JsonType::kNumber || !D::GetUint64(v, &u)) return NumberError(v, type, k, at);
        if (k == Kind::kUint32) {
          if (u > UINT32_MAX) return NumberError(v, type, k, at);
          add ? r->AddUInt32(m, fd, static_cast<uint32_t>(u)) : r->SetUInt32(m, fd, static_cast<uint32_t>(u));
        } else {
          add ? r->AddUInt64(m, fd, u) : r->SetUInt64(m, fd, u);
        }
        return Status::Ok();
      }
      case Kind::kFloat:
      case Kind::kDouble: {
        if (type != JsonType::kNumber) return TypeError(type, GoTypeName(k), at);
        double d = D::GetDouble(v);
        if (k == Kind::kFloat) {
          add ? r->AddFloat(m, fd, static_cast<float>(d)) : r->SetFloat(m, fd, static_cast<float>(d));
        } else {
          add ? r->AddDouble(m, fd, d) : r->SetDouble(m, fd, d);
        }
        return Status::Ok();
      }
      case Kind::kEnum: {
        const google::protobuf::EnumValueDescriptor* ev = nullptr;
        if (type == JsonType::kString) {
          ev = fd->enum_type()->FindValueByName(std::string(D::GetString(v)));
        } else if (type == JsonType::kNumber) {
          int64_t i = 0;
          if (D::GetInt64(v, &i) && i >= INT32_MIN && i <= INT32_MAX) {
            ev = fd->enum_type()->FindValueByNumber(static_cast<int>(i));
          }
        }
        if (ev == nullptr) return ValueError("unknown value for enum " + fd->enum_type()->name(), at);
        add ? r->AddEnum(m, fd, ev) : r->SetEnum(m, fd, ev);
        return Status::Ok();
      }
      case Kind::kMessage:
        break;
    }
    return Internal("message kind in ScalarValue");
  }

  static Status ScalarZero(Message* m, const Reflection* r, const FieldDescriptor* fd, Kind k) {
    switch (k) {
      case Kind::kBool: r->AddBool(m, fd, false); break;
      case Kind::kInt32: r->AddInt32(m, fd, 0); break;
      case Kind::kInt64: r->AddInt64(m, fd, 0); break;
      case Kind::kUint32: r->AddUInt32(m, fd, 0); break;
      case Kind::kUint64: r->AddUInt64(m, fd, 0); break;
      case Kind::kFloat: r->AddFloat(m, fd, 0); break;
      case Kind::kDouble: r->AddDouble(m, fd, 0); break;
      case Kind::kEnum: r->AddEnumValue(m, fd, 0); break;
      default: break;
    }
    return Status::Ok();
  }

  Status NumberError(Value v, JsonType type, Kind k, const PathNode* at) const {
    if (type != JsonType::kNumber) return TypeError(type, GoTypeName(k), at);
    std::string m = "json: cannot unmarshal number ";
    m += NumberText(v);
    m += " into Go struct field ";
    m.append(root_name_);
    m += '.';
    m += PathString(at);
    m += " of type ";
    m.append(GoTypeName(k));
    return BadRequest(std::move(m));
  }

  static std::string NumberText(Value v) {
    int64_t i;
    uint64_t u;
    if (D::GetInt64(v, &i)) return std::to_string(i);
    if (D::GetUint64(v, &u)) return std::to_string(u);
    std::string s;
    JsonWriter::AppendGoFloat(&s, D::GetDouble(v), false);
    return s;
  }

  Status SpecialValue(Value v, Message* m, const MessagePlan& p, const PathNode* at) {
    const Reflection* r = p.reflection;
    JsonType type = D::TypeOf(v);
    if (type == JsonType::kNull) {
      m->Clear();
      return Status::Ok();
    }
    switch (p.special) {
      case Special::kTime:
      case Special::kMicroTime: {
        if (type != JsonType::kString) return TypeError(type, "string", at);
        Result<Timestamp> t = ParseRfc3339(D::GetString(v));
        if (!t.ok()) return ValueError(t.status().message(), at);
        r->SetInt64(m, p.special_fields[0], t->seconds);
        if (p.special_fields[1] != nullptr) r->SetInt32(m, p.special_fields[1], t->nanos);
        return Status::Ok();
      }
      case Special::kDuration: {
        if (type != JsonType::kString) return TypeError(type, "string", at);
        Result<int64_t> d = ParseGoDuration(D::GetString(v));
        if (!d.ok()) return ValueError(d.status().message(), at);
        r->SetInt64(m, p.special_fields[0], *d);
        return Status::Ok();
      }
      case Special::kQuantity: {
        // Like Quantity.UnmarshalJSON: a string (trimmed) or a bare number.
        std::string_view text;
        std::string number;
        if (type == JsonType::kString) {
          text = D::GetString(v);
          while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
          while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
        } else if (type == JsonType::kNumber) {
          number = NumberText(v);
          text = number;
        } else {
          return TypeError(type, "resource.Quantity", at);
        }
        Result<Quantity> q = Quantity::Parse(text);
        if (!q.ok()) return ValueError(q.status().message(), at);
        r->SetString(m, p.special_fields[0], q->String());
        return Status::Ok();
      }
      case Special::kIntOrString: {
        if (type == JsonType::kString) {
          if (p.special_fields[0] != nullptr) r->SetInt64(m, p.special_fields[0], 1);
          r->SetString(m, p.special_fields[2], std::string(D::GetString(v)));
          return Status::Ok();
        }
        int64_t i = 0;
        if (type != JsonType::kNumber || !D::GetInt64(v, &i) || i < INT32_MIN || i > INT32_MAX) {
          if (type == JsonType::kNumber) return NumberError(v, type, Kind::kInt32, at);
          return TypeError(type, "intstr.IntOrString", at);
        }
        if (p.special_fields[0] != nullptr) r->SetInt64(m, p.special_fields[0], 0);
        r->SetInt32(m, p.special_fields[1], static_cast<int32_t>(i));
        return Status::Ok();
      }
      case Special::kRawJson: {
        std::string raw;
        JsonWriter w(&raw);
        CK_RETURN_IF_ERROR(WriteRaw(v, w, 0, at));
        r->SetString(m, p.special_fields[0], std::move(raw));
        return Status::Ok();
      }
      case Special::kStringList: {
        if (type != JsonType::kArray) return TypeError(type, "[]string", at);
        r->ClearField(m, p.special_fields[0]);
        int64_t index = 0;
        return D::Elements(v, [&](Value e) -> Status {
          PathNode node{at, {}, index++, false};
          JsonType et = D::TypeOf(e);
          if (et == JsonType::kNull) {
            r->AddString(m, p.special_fields[0], std::string());
            return Status::Ok();
          }
          if (et != JsonType::kString) return TypeError(et, "string", &node);
          r->AddString(m, p.special_fields[0], std::string(D::GetString(e)));
          return Status::Ok();
        });
      }
      case Special::kNone:
        break;
    }
    return Internal("not a special type");
  }

  static bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

  // Re-serializes a DOM value as compact JSON (an embedded RawExtension).
  static Status WriteRaw(Value v, JsonWriter& w, int depth, const PathNode* at) {
    if (depth > kMaxJsonDepth) return ValueError("exceeded max depth", at);
    switch (D::TypeOf(v)) {
      case JsonType::kNull: w.Null(); return Status::Ok();
      case JsonType::kBool: w.Bool(D::GetBool(v)); return Status::Ok();
      case JsonType::kString: w.String(D::GetString(v)); return Status::Ok();
      case JsonType::kNumber: {
        int64_t i;
        uint64_t u;
        if (D::GetInt64(v, &i)) {
          w.Int(i);
        } else if (D::GetUint64(v, &u)) {
          w.Uint(u);
        } else {
          w.Double(D::GetDouble(v));
        }
        return Status::Ok();
      }
      case JsonType::kArray:
        w.StartArray();
        CK_RETURN_IF_ERROR(D::Elements(v, [&](Value e) { return WriteRaw(e, w, depth + 1, at); }));
        w.EndArray();
        return Status::Ok();
      case JsonType::kObject:
        w.StartObject();
        CK_RETURN_IF_ERROR(D::Members(v, [&](std::string_view k, Value e) {
          w.Key(k);
          return WriteRaw(e, w, depth + 1, at);
        }));
        w.EndObject();
        return Status::Ok();
    }
    return Status::Ok();
  }

  DecodeSettings settings_;
  std::string_view root_name_;
  std::vector<std::string> problems_;
};

}  // namespace ck::api::internal
