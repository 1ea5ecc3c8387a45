// The reflection encoder: protobuf message -> Kubernetes JSON, following the MessagePlan rules.
// A template over the JSON writer so that the library comparison in the benchmark can run the same
// encoder on RapidJSON's and nlohmann's writers; the codec itself instantiates it for JsonWriter.
//
// Writer concept: StartObject/EndObject/StartArray/EndArray, KeyPrepared(quoted) or Key(name),
// String, Int, Uint, Double, Float, Bool, Null, Base64(bytes), RawValue(json).
// Internal to common/api.
#pragma once

#include <algorithm>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/message.h>
#include <google/protobuf/reflection.h>

#include "common/api/internal/message_plan.h"
#include "common/api/quantity.h"
#include "common/api/time_format.h"
#include "common/base/status.h"

namespace ck::api::internal {

template <class W>
class Encoder {
 public:
  using Message = google::protobuf::Message;
  using Reflection = google::protobuf::Reflection;
  using FieldDescriptor = google::protobuf::FieldDescriptor;

  explicit Encoder(W& w) : w_(w) {}

  // Writes `m` as a JSON value; when `kind`/`api_version` are given they open the object.
  Status Top(const Message& m, const MessagePlan& p, std::string_view kind, std::string_view api_version) {
    if (m.GetReflection() != p.reflection) return Internal("the codec handles generated messages only");
    if (p.special != Special::kNone) return SpecialValue(m, p);
    w_.StartObject();
    if (!kind.empty()) {
      w_.Key("kind");
      w_.String(kind);
    }
    if (!api_version.empty()) {
      w_.Key("apiVersion");
      w_.String(api_version);
    }
    CK_RETURN_IF_ERROR(Fields(m, p));
    w_.EndObject();
    return Status::Ok();
  }

  Status Value(const Message& m, const MessagePlan& p) {
    if (p.special != Special::kNone) return SpecialValue(m, p);
    w_.StartObject();
    CK_RETURN_IF_ERROR(Fields(m, p));
    w_.EndObject();
    return Status::Ok();
  }

 private:
  // Writes the members of `m`. ListFields() finds the set fields with protobuf's fast has-bit
  // scan; a merge with the plan (both in field-number order) adds the fields Go writes even when
  // unset (ALWAYS, NULLABLE, INLINE).
  Status Fields(const Message& m, const MessagePlan& p) {
    const Reflection* r = p.reflection;
    // A deque: growing it for a deeper level keeps the shallower levels' vectors in place.
    thread_local std::deque<std::vector<const FieldDescriptor*>> scratch;
    if (static_cast<size_t>(depth_) >= scratch.size()) scratch.resize(depth_ + 1);
    std::vector<const FieldDescriptor*>& set = scratch[depth_];
    r->ListFields(m, &set);
    ++depth_;
    size_t si = 0;
    Status s;
    for (const FieldPlan& f : p.fields) {
      bool has = si < set.size() && set[si] == f.field;
      if (has) {
        ++si;
      } else if (!f.written_when_unset) {
        continue;
      }
      s = Field(m, r, f, has);
      if (!s.ok()) break;
    }
    --depth_;
    return s;
  }

  Status Field(const Message& m, const Reflection* r, const FieldPlan& f, bool has) {
    const FieldDescriptor* fd = f.field;
    if (f.repeated) {
      if (!has) {
        // A nil Go slice or map: left out with omitempty, null without it.
        if (f.mode == GoMode::kAlways || f.mode == GoMode::kNullable) {
          w_.KeyPrepared(f.quoted_key);
          w_.Null();
        }
        return Status::Ok();
      }
      int n = r->FieldSize(m, fd);
      w_.KeyPrepared(f.quoted_key);
      return f.is_map ? MapValue(m, r, f, n) : ListValue(m, r, f, n);
    }
    if (f.kind == Kind::kMessage) {
      if (f.mode == GoMode::kInline) return Fields(r->GetMessage(m, fd), *f.message);
      if (!has) {
        switch (f.mode) {
          case GoMode::kAlways:
            w_.KeyPrepared(f.quoted_key);
            return ZeroValue(*f.message, r->GetMessage(m, fd));
          case GoMode::kNullable:
            w_.KeyPrepared(f.quoted_key);
            w_.Null();
            return Status::Ok();
          default:
            return Status::Ok();
        }
      }
      w_.KeyPrepared(f.quoted_key);
      return Value(r->GetMessage(m, fd), *f.message);
    }
    switch (f.mode) {
      case GoMode::kOmitEmpty:
        if (!has || IsZeroScalar(m, r, f)) return Status::Ok();
        break;
      case GoMode::kPointer:
        if (!has) return Status::Ok();
        break;
      case GoMode::kNullable:
        if (!has) {
          w_.KeyPrepared(f.quoted_key);
          w_.Null();
          return Status::Ok();
        }
        break;
      case GoMode::kAlways:
      case GoMode::kInline:
        if (!has) {
          w_.KeyPrepared(f.quoted_key);
          ZeroScalar(f.kind);
          return Status::Ok();
        }
        break;
    }
    w_.KeyPrepared(f.quoted_key);
    Scalar(m, r, fd, f.kind);
    return Status::Ok();
  }

  bool IsZeroScalar(const Message& m, const Reflection* r, const FieldPlan& f) {
    const FieldDescriptor* fd = f.field;
    switch (f.kind) {
      case Kind::kString:
      case Kind::kBytes: return r->GetStringReference(m, fd, &scratch_).empty();
      case Kind::kBool: return !r->GetBool(m, fd);
      case Kind::kInt32: return r->GetInt32(m, fd) == 0;
      case Kind::kInt64: return r->GetInt64(m, fd) == 0;
      case Kind::kUint32: return r->GetUInt32(m, fd) == 0;
      case Kind::kUint64: return r->GetUInt64(m, fd) == 0;
      case Kind::kFloat: return r->GetFloat(m, fd) == 0;
      case Kind::kDouble: return r->GetDouble(m, fd) == 0;
      case Kind::kEnum: return false;
      case Kind::kMessage: return false;
    }
    return false;
  }

  void ZeroScalar(Kind k) {
    switch (k) {
      case Kind::kString:
      case Kind::kEnum: w_.String(""); break;
      case Kind::kBytes: w_.Null(); break;  // a nil []byte
      case Kind::kBool: w_.Bool(false); break;
      case Kind::kFloat:
      case Kind::kDouble:
      case Kind::kInt32:
      case Kind::kInt64: w_.Int(0); break;
      case Kind::kUint32:
      case Kind::kUint64: w_.Uint(0); break;
      case Kind::kMessage: w_.Null(); break;
    }
  }

  void Scalar(const Message& m, const Reflection* r, const FieldDescriptor* fd, Kind k) {
    switch (k) {
      case Kind::kString: w_.String(r->GetStringReference(m, fd, &scratch_)); break;
      case Kind::kBytes: w_.Base64(r->GetStringReference(m, fd, &scratch_)); break;
      case Kind::kBool: w_.Bool(r->GetBool(m, fd)); break;
      case Kind::kInt32: w_.Int(r->GetInt32(m, fd)); break;
      case Kind::kInt64: w_.Int(r->GetInt64(m, fd)); break;
      case Kind::kUint32: w_.Uint(r->GetUInt32(m, fd)); break;
      case Kind::kUint64: w_.Uint(r->GetUInt64(m, fd)); break;
      case Kind::kFloat: w_.Float(r->GetFloat(m, fd)); break;
      case Kind::kDouble: w_.Double(r->GetDouble(m, fd)); break;
      case Kind::kEnum: w_.String(r->GetEnum(m, fd)->name()); break;
      case Kind::kMessage: break;
    }
  }

  void RepeatedScalar(const Message& m, const Reflection* r, const FieldDescriptor* fd, Kind k, int i) {
    switch (k) {
      case Kind::kString: w_.String(r->GetRepeatedStringReference(m, fd, i, &scratch_)); break;
      case Kind::kBytes: w_.Base64(r->GetRepeatedStringReference(m, fd, i, &scratch_)); break;
      case Kind::kBool: w_.Bool(r->GetRepeatedBool(m, fd, i)); break;
      case Kind::kInt32: w_.Int(r->GetRepeatedInt32(m, fd, i)); break;
      case Kind::kInt64: w_.Int(r->GetRepeatedInt64(m, fd, i)); break;
      case Kind::kUint32: w_.Uint(r->GetRepeatedUInt32(m, fd, i)); break;
      case Kind::kUint64: w_.Uint(r->GetRepeatedUInt64(m, fd, i)); break;
      case Kind::kFloat: w_.Float(r->GetRepeatedFloat(m, fd, i)); break;
      case Kind::kDouble: w_.Double(r->GetRepeatedDouble(m, fd, i)); break;
      case Kind::kEnum: w_.String(r->GetRepeatedEnum(m, fd, i)->name()); break;
      case Kind::kMessage: break;
    }
  }

  Status ListValue(const Message& m, const Reflection* r, const FieldPlan& f, int n) {
    w_.StartArray();
    if (f.kind == Kind::kMessage) {
      for (int i = 0; i < n; ++i) CK_RETURN_IF_ERROR(Value(r->GetRepeatedMessage(m, f.field, i), *f.message));
    } else {
      for (int i = 0; i < n; ++i) RepeatedScalar(m, r, f.field, f.kind, i);
    }
    w_.EndArray();
    return Status::Ok();
  }

  // Go writes map keys sorted; a key repeated in the entry list keeps its last value.
  Status MapValue(const Message& m, const Reflection* r, const FieldPlan& f, int n) {
    struct Entry {
      std::string_view key;
      const Message* entry;
      int index;
    };
    Entry small[16];
    std::vector<Entry> large;
    Entry* entries = small;
    if (n > 16) {
      large.resize(n);
      entries = large.data();
    }
    const bool string_keys = f.map_key->cpp_type() == FieldDescriptor::CPPTYPE_STRING;
    std::vector<std::string> numeric_keys;
    if (!string_keys) numeric_keys.resize(n);
    for (int i = 0; i < n; ++i) {
      const Message& e = r->GetRepeatedMessage(m, f.field, i);
      const Reflection* er = e.GetReflection();
      std::string_view key;
      if (string_keys) {
        key = er->GetStringReference(e, f.map_key, &scratch_);
        if (key.data() == scratch_.data()) {  // not a reference into the entry: keep a copy
          numeric_keys.resize(n);
          numeric_keys[i] = scratch_;
          key = numeric_keys[i];
        }
      } else {
        numeric_keys[i] = MapKeyText(e, er, f.map_key);
        key = numeric_keys[i];
      }
      entries[i] = Entry{key, &e, i};
    }
    std::sort(entries, entries + n, [](const Entry& a, const Entry& b) {
      return a.key != b.key ? a.key < b.key : a.index < b.index;
    });
    w_.StartObject();
    for (int i = 0; i < n; ++i) {
      if (i + 1 < n && entries[i + 1].key == entries[i].key) continue;  // a later duplicate wins
      w_.Key(entries[i].key);
      const Message& e = *entries[i].entry;
      const Reflection* er = e.GetReflection();
      if (f.map_value_kind == Kind::kMessage) {
        CK_RETURN_IF_ERROR(Value(er->GetMessage(e, f.map_value), *f.map_value_message));
      } else {
        Scalar(e, er, f.map_value, f.map_value_kind);
      }
    }
    w_.EndObject();
    return Status::Ok();
  }

  static std::string MapKeyText(const Message& e, const Reflection* er, const FieldDescriptor* k) {
    switch (k->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32: return std::to_string(er->GetInt32(e, k));
      case FieldDescriptor::CPPTYPE_INT64: return std::to_string(er->GetInt64(e, k));
      case FieldDescriptor::CPPTYPE_UINT32: return std::to_string(er->GetUInt32(e, k));
      case FieldDescriptor::CPPTYPE_UINT64: return std::to_string(er->GetUInt64(e, k));
      case FieldDescriptor::CPPTYPE_BOOL: return er->GetBool(e, k) ? "true" : "false";
      default: return er->GetString(e, k);
    }
  }

  // The Go zero value of an unset struct field held by value.
  Status ZeroValue(const MessagePlan& p, const Message& default_instance) {
    switch (p.special) {
      case Special::kNone: return Value(default_instance, p);
      case Special::kDuration: w_.String("0s"); return Status::Ok();
      case Special::kQuantity: w_.String("0"); return Status::Ok();
      case Special::kIntOrString: w_.Int(0); return Status::Ok();
      default: w_.Null(); return Status::Ok();  // Time, MicroTime, RawExtension, []string
    }
  }

  Status SpecialValue(const Message& m, const MessagePlan& p) {
    const Reflection* r = p.reflection;
    switch (p.special) {
      case Special::kTime:
      case Special::kMicroTime: {
        Timestamp t;
        t.seconds = r->GetInt64(m, p.special_fields[0]);
        bool empty = !r->HasField(m, p.special_fields[0]);
        if (p.special_fields[1] != nullptr) {
          t.nanos = r->GetInt32(m, p.special_fields[1]);
          empty = empty && !r->HasField(m, p.special_fields[1]);
        }
        if (empty || (t.seconds == kGoZeroTimeSeconds && t.nanos == 0)) {
          w_.Null();  // Go's zero time: null in JSON, an empty message in protobuf
        } else {
          scratch_.clear();
          AppendRfc3339(&scratch_, t, p.special == Special::kMicroTime);
          w_.String(scratch_);
        }
        return Status::Ok();
      }
      case Special::kDuration:
        w_.String(FormatGoDuration(r->GetInt64(m, p.special_fields[0])));
        return Status::Ok();
      case Special::kQuantity: {
        const std::string& s = r->GetStringReference(m, p.special_fields[0], &scratch_);
        if (s.empty()) {
          w_.String("0");
          return Status::Ok();
        }
        Result<Quantity> q = Quantity::Parse(s);
        if (q.ok()) {
          w_.String(q->String());
        } else {
          w_.String(s);
        }
        return Status::Ok();
      }
      case Special::kIntOrString: {
        int64_t type = p.special_fields[0] ? r->GetInt64(m, p.special_fields[0]) : 0;
        if (type == 1) {
          w_.String(r->GetStringReference(m, p.special_fields[2], &scratch_));
        } else {
          w_.Int(r->GetInt32(m, p.special_fields[1]));
        }
        return Status::Ok();
      }
      case Special::kRawJson: {
        const std::string& raw = r->GetStringReference(m, p.special_fields[0], &scratch_);
        size_t i = raw.find_first_not_of(" \t\r\n");
        if (i == std::string::npos) {
          w_.Null();
          return Status::Ok();
        }
        char c = raw[i];
        if (!(c == '{' || c == '[' || c == '"' || c == 't' || c == 'f' || c == 'n' || c == '-' ||
              (c >= '0' && c <= '9'))) {
          return Internal("embedded object in " + p.descriptor->full_name() + " is not JSON");
        }
        w_.RawValue(raw);
        return Status::Ok();
      }
      case Special::kStringList: {
        int n = r->FieldSize(m, p.special_fields[0]);
        if (n == 0) {
          w_.Null();
          return Status::Ok();
        }
        w_.StartArray();
        for (int i = 0; i < n; ++i) w_.String(r->GetRepeatedStringReference(m, p.special_fields[0], i, &scratch_));
        w_.EndArray();
        return Status::Ok();
      }
      case Special::kNone:
        break;
    }
    return Status::Ok();
  }

  W& w_;
  std::string scratch_;
  int depth_ = 0;
};

}  // namespace ck::api::internal
