// ck-api-jsongen: writes the JSON encoder and decoder of every Kubernetes API message as plain
// C++ (direct field accessors instead of protobuf reflection), from the same MessagePlan rules
// the reflection codec follows. Run by the build, never by hand:
//
//   ck-api-jsongen OUT_DIR core_v1 apps_v1 ...   (names of common/api/proto/*.proto files)
//
// For each file it writes OUT_DIR/<name>.json.h and OUT_DIR/<name>.json.cc, and OUT_DIR/registry.json.cc
// with RegisterGeneratedCodecs(), the table codec.cc consults. Functions per message (in
// ck::api::internal::gen): Enc_<Id> (the JSON value), EncF_<Id> (its members only, for INLINE),
// Dec_<Id> (a JSON object), Set_<Id> (one member by slot), Member_<Id> (name -> slot).
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include "common/api/internal/encode.h"
#include "common/api/internal/json_writer.h"
#include "common/api/internal/message_plan.h"
#include "common/api/proto/proto_files.h"

namespace ck::api::jsongen {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using internal::FieldPlan;
using internal::GoMode;
using internal::Kind;
using internal::MessagePlan;
using internal::PlanFor;
using internal::Special;

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "ck-api-jsongen: %s\n", why.c_str());
  std::exit(1);
}

// protoc's C++ generator lower-cases field names and appends '_' to C++ keywords.
std::string Accessor(const FieldDescriptor* f) {
  static const std::set<std::string> kKeywords = {
      "NULL", "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break",
      "case", "catch", "char", "class", "compl", "const", "constexpr", "const_cast", "continue",
      "decltype", "default", "delete", "do", "double", "dynamic_cast", "else", "enum", "explicit",
      "export", "extern", "false", "float", "for", "friend", "goto", "if", "inline", "int", "long",
      "mutable", "namespace", "new", "noexcept", "not", "not_eq", "nullptr", "operator", "or", "or_eq",
      "private", "protected", "public", "register", "reinterpret_cast", "return", "short", "signed",
      "sizeof", "static", "static_assert", "static_cast", "struct", "switch", "template", "this",
      "thread_local", "throw", "true", "try", "typedef", "typeid", "typename", "union", "unsigned",
      "using", "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq", "char8_t",
      "char16_t", "char32_t", "concept", "consteval", "constinit", "co_await", "co_return",
      "co_yield", "requires"};
  std::string s = f->name();
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (kKeywords.count(s) != 0) s += '_';
  return s;
}

std::string CppName(const Descriptor* d) {
  std::string out;
  for (char c : d->file()->package()) {
    if (c == '.') {
      out += "::";
    } else {
      out += c;
    }
  }
  std::string rest = d->full_name().substr(d->file()->package().size() + 1);
  for (char& c : rest) {
    if (c == '.') c = '_';
  }
  return "::" + out + "::" + rest;
}

std::string Id(const Descriptor* d) {
  std::string s = d->full_name();
  for (char& c : s) {
    if (c == '.' || c == '-') c = '_';
  }
  return s;
}

// A C++ string literal with its length: std::string_view("...", n).
std::string Literal(std::string_view s) {
  std::string out = "std::string_view(\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += "\", " + std::to_string(s.size()) + ")";
  return out;
}

bool IsGenerated(const Descriptor* d) {
  return !d->options().map_entry() && PlanFor(d).special == Special::kNone;
}

// The runtime helper for a special type, e.g. "Time" -> WriteTime / ReadTime.
std::string WriteSpecial(Special s, const std::string& e) {
  switch (s) {
    case Special::kTime: return "WriteTime(" + e + ", w, false);";
    case Special::kMicroTime: return "WriteTime(" + e + ", w, true);";
    case Special::kDuration: return "WriteDuration(" + e + ", w);";
    case Special::kQuantity: return "WriteQuantity(" + e + ", w);";
    case Special::kIntOrString: return "WriteIntOrString(" + e + ", w);";
    case Special::kRawJson: return "WriteRawJson(" + e + ", w);";
    case Special::kStringList: return "WriteStringList(" + e + ", w);";
    case Special::kNone: break;
  }
  Die("not a special type");
}

std::string ReadSpecial(Special s) {
  switch (s) {
    case Special::kTime:
    case Special::kMicroTime: return "ReadTime";
    case Special::kDuration: return "ReadDuration";
    case Special::kQuantity: return "ReadQuantity";
    case Special::kIntOrString: return "ReadIntOrString";
    case Special::kRawJson: return "ReadRawJson";
    case Special::kStringList: return "ReadStringList";
    case Special::kNone: break;
  }
  Die("not a special type");
}

std::string SpecialZero(Special s) {
  switch (s) {
    case Special::kDuration: return "w.String(\"0s\");";
    case Special::kQuantity: return "w.String(\"0\");";
    case Special::kIntOrString: return "w.Int(0);";
    default: return "w.Null();";
  }
}

// The JSON Go writes for an unset struct held by value: the type's zero value.
std::string ZeroLiteral(const MessagePlan& p) {
  if (p.special != Special::kNone) return SpecialZero(p.special);
  const google::protobuf::Message* proto = google::protobuf::MessageFactory::generated_factory()->GetPrototype(p.descriptor);
  std::string json;
  internal::JsonWriter w(&json);
  internal::Encoder<internal::JsonWriter> e(w);
  Status s = e.Value(*proto, p);
  if (!s.ok()) Die("zero value of " + p.descriptor->full_name() + ": " + s.ToString());
  return "w.RawValue(" + Literal(json) + ");";
}

// Writes one value of field kind `k` given as the C++ expression `e`.
std::string WriteValue(Kind k, const MessagePlan* message, const std::string& e) {
  switch (k) {
    case Kind::kString: return "w.String(" + e + ");";
    case Kind::kBytes: return "w.Base64(" + e + ");";
    case Kind::kBool: return "w.Bool(" + e + ");";
    case Kind::kInt32:
    case Kind::kInt64: return "w.Int(" + e + ");";
    case Kind::kUint32:
    case Kind::kUint64: return "w.Uint(" + e + ");";
    case Kind::kFloat: return "w.Float(" + e + ");";
    case Kind::kDouble: return "w.Double(" + e + ");";
    case Kind::kMessage:
      if (message->special != Special::kNone) return WriteSpecial(message->special, e);
      return "Enc_" + Id(message->descriptor) + "(" + e + ", w);";
    case Kind::kEnum: break;
  }
  Die("enum fields are not supported by the generated codec");
}

std::string ScalarZero(Kind k) {
  switch (k) {
    case Kind::kString: return "w.String(\"\");";
    case Kind::kBytes: return "w.Null();";
    case Kind::kBool: return "w.Bool(false);";
    case Kind::kUint32:
    case Kind::kUint64: return "w.Uint(0);";
    default: return "w.Int(0);";
  }
}

std::string NonZero(Kind k, const std::string& e) {
  switch (k) {
    case Kind::kString:
    case Kind::kBytes: return "!" + e + ".empty()";
    case Kind::kBool: return e;
    default: return e + " != 0";
  }
}

// Statements that read JSON value `v` (path `at`) of scalar kind `k` and hand the result to
// `sink` (a format with $ for the value: "m->set_x($)").
std::string ReadScalar(Kind k, const std::string& v, const std::string& at, const std::string& sink_prefix,
                       const std::string& sink_suffix) {
  auto sink = [&](const std::string& x) { return sink_prefix + x + sink_suffix; };
  switch (k) {
    case Kind::kString:
      return "std::string_view s; CK_RETURN_IF_ERROR(ReadString(" + v + ", &s, c, " + at + ")); " +
             sink("s.data(), s.size()") + ";";
    case Kind::kBool:
      return "bool b = false; CK_RETURN_IF_ERROR(ReadBool(" + v + ", &b, c, " + at + ")); " + sink("b") + ";";
    case Kind::kInt32:
      return "int32_t i = 0; CK_RETURN_IF_ERROR(ReadInt32(" + v + ", &i, c, " + at + ")); " + sink("i") + ";";
    case Kind::kInt64:
      return "int64_t i = 0; CK_RETURN_IF_ERROR(ReadInt64(" + v + ", &i, c, " + at + ")); " + sink("i") + ";";
    case Kind::kUint32:
      return "uint32_t u = 0; CK_RETURN_IF_ERROR(ReadUint32(" + v + ", &u, c, " + at + ")); " + sink("u") + ";";
    case Kind::kUint64:
      return "uint64_t u = 0; CK_RETURN_IF_ERROR(ReadUint64(" + v + ", &u, c, " + at + ")); " + sink("u") + ";";
    case Kind::kFloat:
      return "float d = 0; CK_RETURN_IF_ERROR(ReadFloat(" + v + ", &d, c, " + at + ")); " + sink("d") + ";";
    case Kind::kDouble:
      return "double d = 0; CK_RETURN_IF_ERROR(ReadDouble(" + v + ", &d, c, " + at + ")); " + sink("d") + ";";
    default:
      break;
  }
  Die("ReadScalar: unsupported kind");
}

class FileWriter {
 public:
  explicit FileWriter(const FileDescriptor* file) : file_(file) {}

  void Generate(const std::string& out_dir, const std::string& base) {
    std::vector<const Descriptor*> messages;
    for (int i = 0; i < file_->message_type_count(); ++i) Collect(file_->message_type(i), &messages);

    std::ostringstream h;
    h << "// Generated by ck-api-jsongen from " << file_->name() << ". Do not edit.\n";
    h << "#pragma once\n\n#include <string_view>\n\n";
    h << "#include \"" << PbHeader(file_) << "\"\n";
    h << "#include \"common/api/internal/json_runtime.h\"\n\n";
    h << "namespace ck::api::internal::gen {\n\n";
    for (const Descriptor* d : messages) {
      std::string cpp = CppName(d), id = Id(d);
      h << "void Enc_" << id << "(const " << cpp << "& m, JsonWriter& w);\n";
      h << "void EncF_" << id << "(const " << cpp << "& m, JsonWriter& w);\n";
      h << "Status Dec_" << id << "(JsonValue v, " << cpp
        << "* m, DecodeContext& c, const PathNode* at, int depth);\n";
      h << "Status Set_" << id << "(int slot, JsonValue v, " << cpp
        << "* m, DecodeContext& c, const PathNode* parent, int depth);\n";
      h << "int Member_" << id << "(std::string_view key);\n";
    }
    h << "\n}  // namespace ck::api::internal::gen\n";

    std::ostringstream cc;
    cc << "// Generated by ck-api-jsongen from " << file_->name() << ". Do not edit.\n";
    cc << "#include \"common/api/json/" << base << ".json.h\"\n\n";
    for (int i = 0; i < file_->dependency_count(); ++i) {
      const FileDescriptor* dep = file_->dependency(i);
      std::string dbase = BaseName(dep);
      if (dbase == "options") continue;
      cc << "#include \"common/api/json/" << dbase << ".json.h\"\n";
    }
    cc << "\nnamespace ck::api::internal::gen {\n\n";
    for (const Descriptor* d : messages) Message(d, cc);
    cc << "}  // namespace ck::api::internal::gen\n";

    WriteFile(out_dir + "/" + base + ".json.h", h.str());
    WriteFile(out_dir + "/" + base + ".json.cc", cc.str());
    generated_ = messages;
  }

  const std::vector<const Descriptor*>& generated() const { return generated_; }

  static std::string BaseName(const FileDescriptor* f) {
    std::string n = f->name();
    size_t slash = n.rfind('/');
    if (slash != std::string::npos) n = n.substr(slash + 1);
    if (n.size() > 6 && n.compare(n.size() - 6, 6, ".proto") == 0) n.resize(n.size() - 6);
    return n;
  }

  static std::string PbHeader(const FileDescriptor* f) {
    std::string n = f->name();
    return n.substr(0, n.size() - 6) + ".pb.h";
  }

  static void WriteFile(const std::string& path, const std::string& text) {
    // Leave an unchanged file alone so that its dependents are not rebuilt.
    std::ifstream in(path);
    std::stringstream old;
    old << in.rdbuf();
    if (in && old.str() == text) return;
    std::ofstream out(path);
    out << text;
    if (!out) Die("cannot write " + path);
  }

 private:
  static void Collect(const Descriptor* d, std::vector<const Descriptor*>* out) {
    if (IsGenerated(d)) out->push_back(d);
    for (int i = 0; i < d->nested_type_count(); ++i) Collect(d->nested_type(i), out);
  }

  void Message(const Descriptor* d, std::ostringstream& cc) {
    const MessagePlan& p = PlanFor(d);
    std::string cpp = CppName(d), id = Id(d);

    // Members (own fields, then promoted through INLINE).
    cc << "void EncF_" << id << "(const " << cpp << "& m, JsonWriter& w) {\n";
    if (p.fields.empty()) cc << "  (void)m;\n  (void)w;\n";
    for (const FieldPlan& f : p.fields) EncodeField(f, cc);
    cc << "}\n\n";
    cc << "void Enc_" << id << "(const " << cpp << "& m, JsonWriter& w) {\n"
       << "  w.StartObject();\n  EncF_" << id << "(m, w);\n  w.EndObject();\n}\n\n";

    // Member lookup: by length, then by text.
    std::map<size_t, std::vector<const internal::MemberTarget*>> by_len;
    for (const internal::MemberTarget& t : p.members) by_len[t.name.size()].push_back(&t);
    cc << "int Member_" << id << "(std::string_view key) {\n";
    if (by_len.empty()) {
      cc << "  (void)key;\n";
    } else {
      cc << "  switch (key.size()) {\n";
      for (const auto& [len, targets] : by_len) {
        cc << "    case " << len << ":\n";
        for (const internal::MemberTarget* t : targets) {
          cc << "      if (key == " << Literal(t->name) << ") return " << t->slot << ";\n";
        }
        cc << "      break;\n";
      }
      cc << "  }\n";
    }
    cc << "  return -1;\n}\n\n";

    // One member by slot.
    cc << "Status Set_" << id << "(int slot, JsonValue v, " << cpp
       << "* m, DecodeContext& c, const PathNode* parent, int depth) {\n";
    cc << "  (void)c;\n  (void)depth;\n  (void)v;\n  (void)m;\n  (void)parent;\n";
    cc << "  switch (slot) {\n";
    for (const internal::MemberTarget& t : p.members) {
      cc << "    case " << t.slot << ": {\n";
      if (t.depth > 0) {
        const FieldPlan& inl = *t.path[0];
        const MessagePlan& child = *inl.message;
        const internal::MemberTarget* inner = child.Find(t.name);
        if (inner == nullptr) Die("inline member not found: " + std::string(t.name));
        cc << "      return Set_" << Id(child.descriptor) << "(" << inner->slot << ", v, m->mutable_"
           << Accessor(inl.field) << "(), c, parent, depth);\n";
      } else {
        DecodeField(t.leaf(), cc);
      }
      cc << "    }\n";
    }
    cc << "  }\n  return Status::Ok();\n}\n\n";

    // A JSON object.
    cc << "Status Dec_" << id << "(JsonValue v, " << cpp
       << "* m, DecodeContext& c, const PathNode* at, int depth) {\n";
    cc << "  simdjson::dom::object obj;\n";
    cc << "  if (v.get_object().get(obj) != simdjson::SUCCESS) return c.TypeError(v, "
       << Literal(d->name()) << ", at);\n";
    cc << "  if (depth > kMaxJsonDepth) return DecodeContext::DepthError(at);\n";
    cc << "  SeenMembers seen(" << p.members.size() << ");\n";
    cc << "  for (simdjson::dom::key_value_pair kv : obj) {\n";
    cc << "    int slot = Member_" << id << "(kv.key);\n";
    cc << "    if (slot < 0) {\n";
    cc << "      if ((depth == 0" << (p.accepts_type_meta ? " || true" : "")
       << ") && (kv.key == \"kind\" || kv.key == \"apiVersion\")) {\n";
    cc << "        if (depth == 0) c.TypeMeta(kv.key, kv.value);\n        continue;\n      }\n";
    cc << "      if (c.track) c.Problem(\"unknown\", kv.key, at);\n      continue;\n    }\n";
    cc << "    if (c.track && seen.Mark(static_cast<size_t>(slot))) c.Problem(\"duplicate\", kv.key, at);\n";
    cc << "    CK_RETURN_IF_ERROR(Set_" << id << "(slot, kv.value, m, c, at, depth));\n";
    cc << "  }\n  return Status::Ok();\n}\n\n";
  }

  void EncodeField(const FieldPlan& f, std::ostringstream& cc) {
    std::string acc = Accessor(f.field);
    std::string key = "w.KeyPrepared(" + Literal(f.quoted_key) + ");";
    bool null_when_unset = f.mode == GoMode::kAlways || f.mode == GoMode::kNullable;
    if (f.is_map) {
      if (f.map_key->cpp_type() != FieldDescriptor::CPPTYPE_STRING) Die("non-string map key in " + f.field->full_name());
      std::string vtype = MapValueType(f);
      cc << "  if (m." << acc << "_size() > 0) {\n    " << key << "\n";
      cc << "    WriteMap(m." << acc << "(), w, [](JsonWriter& w, const " << vtype << "& e) { "
         << WriteValue(f.map_value_kind, f.map_value_message, "e") << " });\n  }";
      if (null_when_unset) cc << " else {\n    " << key << "\n    w.Null();\n  }";
      cc << "\n";
      return;
    }
    if (f.repeated) {
      cc << "  if (m." << acc << "_size() > 0) {\n    " << key << "\n    w.StartArray();\n";
      cc << "    for (const auto& e : m." << acc << "()) { " << WriteValue(f.kind, f.message, "e") << " }\n";
      cc << "    w.EndArray();\n  }";
      if (null_when_unset) cc << " else {\n    " << key << "\n    w.Null();\n  }";
      cc << "\n";
      return;
    }
    if (f.kind == Kind::kMessage) {
      if (f.mode == GoMode::kInline) {
        cc << "  EncF_" << Id(f.message->descriptor) << "(m." << acc << "(), w);\n";
        return;
      }
      cc << "  if (m.has_" << acc << "()) {\n    " << key << "\n    " << WriteValue(f.kind, f.message, "m." + acc + "()")
         << "\n  }";
      if (f.mode == GoMode::kAlways) cc << " else {\n    " << key << "\n    " << ZeroLiteral(*f.message) << "\n  }";
      if (f.mode == GoMode::kNullable) cc << " else {\n    " << key << "\n    w.Null();\n  }";
      cc << "\n";
      return;
    }
    if (f.kind == Kind::kEnum) Die("enum field " + f.field->full_name());
    std::string value = WriteValue(f.kind, nullptr, "m." + acc + "()");
    switch (f.mode) {
      case GoMode::kOmitEmpty:
        cc << "  if (m.has_" << acc << "() && " << NonZero(f.kind, "m." + acc + "()") << ") {\n    " << key << "\n    "
           << value << "\n  }\n";
        break;
      case GoMode::kPointer:
        cc << "  if (m.has_" << acc << "()) {\n    " << key << "\n    " << value << "\n  }\n";
        break;
      case GoMode::kNullable:
        cc << "  " << key << "\n  if (m.has_" << acc << "()) {\n    " << value << "\n  } else {\n    w.Null();\n  }\n";
        break;
      case GoMode::kAlways:
      case GoMode::kInline:
        cc << "  " << key << "\n  if (m.has_" << acc << "()) {\n    " << value << "\n  } else {\n    " << ScalarZero(f.kind)
           << "\n  }\n";
        break;
    }
  }

  static std::string MapValueType(const FieldPlan& f) {
    switch (f.map_value_kind) {
      case Kind::kString:
      case Kind::kBytes: return "std::string";
      case Kind::kBool: return "bool";
      case Kind::kInt32: return "int32_t";
      case Kind::kInt64: return "int64_t";
      case Kind::kUint32: return "uint32_t";
      case Kind::kUint64: return "uint64_t";
      case Kind::kFloat: return "float";
      case Kind::kDouble: return "double";
      case Kind::kMessage: return CppName(f.map_value_message->descriptor);
      case Kind::kEnum: break;
    }
    Die("enum map values are not supported");
  }

  void DecodeField(const FieldPlan& f, std::ostringstream& cc) {
    std::string acc = Accessor(f.field);
    cc << "      PathNode node{parent, " << Literal(f.name) << ", -1, false};\n";
    cc << "      const PathNode* at = &node;\n";
    cc << "      if (IsNull(v)) {\n        m->clear_" << acc << "();\n        return Status::Ok();\n      }\n";
    if (f.is_map) {
      cc << "      simdjson::dom::object o;\n      CK_RETURN_IF_ERROR(ReadMap(v, &o, c, at));\n";
      cc << "      auto& map = *m->mutable_" << acc << "();\n";
      cc << "      for (simdjson::dom::key_value_pair kv : o) {\n";
      cc << "        PathNode n{at, kv.key, -1, true};\n";
      cc << "        auto& slot_value = map[std::string(kv.key)];\n";
      if (f.map_value_kind == Kind::kMessage) {
        // A struct map value is replaced, not merged, when a key repeats.
        cc << "        slot_value.Clear();\n";
        cc << "        if (IsNull(kv.value)) continue;\n";
        if (f.map_value_message->special != Special::kNone) {
          cc << "        CK_RETURN_IF_ERROR(" << ReadSpecial(f.map_value_message->special) << "(kv.value, &slot_value, c, &n));\n";
        } else {
          cc << "        CK_RETURN_IF_ERROR(Dec_" << Id(f.map_value_message->descriptor)
             << "(kv.value, &slot_value, c, &n, depth + 1));\n";
        }
      } else if (f.map_value_kind == Kind::kBytes) {
        cc << "        if (IsNull(kv.value)) {\n          slot_value.clear();\n          continue;\n        }\n";
        cc << "        CK_RETURN_IF_ERROR(ReadBytes(kv.value, &slot_value, c, &n));\n";
      } else if (f.map_value_kind == Kind::kString) {
        cc << "        if (IsNull(kv.value)) {\n          slot_value.clear();\n          continue;\n        }\n";
        cc << "        { " << ReadScalar(Kind::kString, "kv.value", "&n", "slot_value.assign(", ")") << " }\n";
      } else {
        cc << "        if (IsNull(kv.value)) {\n          slot_value = 0;\n          continue;\n        }\n";
        cc << "        { " << ReadScalar(f.map_value_kind, "kv.value", "&n", "slot_value = (", ")") << " }\n";
      }
      cc << "      }\n      return Status::Ok();\n";
      return;
    }
    if (f.repeated) {
      cc << "      simdjson::dom::array a;\n      CK_RETURN_IF_ERROR(ReadArray(v, &a, c, at));\n";
      cc << "      m->clear_" << acc << "();\n      int64_t index = 0;\n";
      cc << "      for (JsonValue e : a) {\n        PathNode n{at, {}, index++, false};\n";
      if (f.kind == Kind::kMessage) {
        cc << "        auto* child = m->add_" << acc << "();\n";
        cc << "        if (IsNull(e)) continue;\n";
        if (f.message->special != Special::kNone) {
          cc << "        CK_RETURN_IF_ERROR(" << ReadSpecial(f.message->special) << "(e, child, c, &n));\n";
        } else {
          cc << "        CK_RETURN_IF_ERROR(Dec_" << Id(f.message->descriptor) << "(e, child, c, &n, depth + 1));\n";
        }
      } else if (f.kind == Kind::kBytes) {
        cc << "        std::string* b = m->add_" << acc << "();\n        if (IsNull(e)) continue;\n";
        cc << "        CK_RETURN_IF_ERROR(ReadBytes(e, b, c, &n));\n";
      } else if (f.kind == Kind::kString) {
        cc << "        if (IsNull(e)) {\n          m->add_" << acc << "();\n          continue;\n        }\n";
        cc << "        { " << ReadScalar(f.kind, "e", "&n", "m->add_" + acc + "(", ")") << " }\n";
      } else {
        cc << "        if (IsNull(e)) {\n          m->add_" << acc << "(0);\n          continue;\n        }\n";
        cc << "        { " << ReadScalar(f.kind, "e", "&n", "m->add_" + acc + "(", ")") << " }\n";
      }
      cc << "      }\n      return Status::Ok();\n";
      return;
    }
    if (f.kind == Kind::kMessage) {
      if (f.message->special != Special::kNone) {
        cc << "      return " << ReadSpecial(f.message->special) << "(v, m->mutable_" << acc << "(), c, at);\n";
      } else {
        cc << "      return Dec_" << Id(f.message->descriptor) << "(v, m->mutable_" << acc << "(), c, at, depth + 1);\n";
      }
      return;
    }
    if (f.kind == Kind::kBytes) {
      cc << "      return ReadBytes(v, m->mutable_" << acc << "(), c, at);\n";
      return;
    }
    cc << "      " << ReadScalar(f.kind, "v", "at", "m->set_" + acc + "(", ")") << "\n";
    cc << "      return Status::Ok();\n";
  }

  const FileDescriptor* file_;
  std::vector<const Descriptor*> generated_;
};

int Main(int argc, char** argv) {
  if (argc < 3) Die("usage: ck-api-jsongen OUT_DIR PROTO_NAME...");
  std::string out_dir = argv[1];
  std::map<std::string, const FileDescriptor*> files;
  for (const FileDescriptor* f : AllApiProtoFiles()) files[FileWriter::BaseName(f)] = f;
  std::ostringstream reg;
  reg << "// Generated by ck-api-jsongen. Do not edit.\n";
  reg << "#include \"common/api/internal/generated_codecs.h\"\n";
  std::ostringstream body;
  for (int i = 2; i < argc; ++i) {
    std::string base = argv[i];
    auto it = files.find(base);
    if (it == files.end()) Die("no proto file named " + base + " in AllApiProtoFiles()");
    FileWriter w(it->second);
    w.Generate(out_dir, base);
    reg << "#include \"common/api/json/" << base << ".json.h\"\n";
    for (const Descriptor* d : w.generated()) {
      std::string cpp = CppName(d), id = Id(d);
      body << "  t->Add(" << cpp << "::descriptor(),\n"
           << "         [](const google::protobuf::Message& m, JsonWriter& w) { gen::EncF_" << id
           << "(static_cast<const " << cpp << "&>(m), w); },\n"
           << "         [](JsonValue v, google::protobuf::Message* m, DecodeContext& c) { return gen::Dec_" << id
           << "(v, static_cast<" << cpp << "*>(m), c, nullptr, 0); });\n";
    }
  }
  reg << "\nnamespace ck::api::internal {\n\nvoid RegisterGeneratedCodecs(GeneratedCodecTable* t) {\n"
      << body.str() << "}\n\n}  // namespace ck::api::internal\n";
  FileWriter::WriteFile(out_dir + "/registry.json.cc", reg.str());
  return 0;
}

}  // namespace
}  // namespace ck::api::jsongen

int main(int argc, char** argv) { return ck::api::jsongen::Main(argc, argv); }
