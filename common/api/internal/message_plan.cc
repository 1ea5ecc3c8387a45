#include "common/api/internal/message_plan.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>

#include <google/protobuf/descriptor.pb.h>

#include "common/base/check.h"

namespace ck::api::internal {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;

// Field number of the (ck.api.go) extension of google.protobuf.FieldOptions (options.proto).
constexpr int kGoOptionNumber = 51234;

GoMode ReadGoMode(const FieldDescriptor* fd) {
  const google::protobuf::FieldOptions& opts = fd->options();
  const google::protobuf::Reflection* r = opts.GetReflection();
  static const FieldDescriptor* ext =
      DescriptorPool::generated_pool()->FindExtensionByNumber(opts.GetDescriptor(), kGoOptionNumber);
  int value = 0;
  if (ext != nullptr && r->HasField(opts, ext)) {
    value = r->GetEnumValue(opts, ext);
  } else {
    // The option's definition is not linked in: read it from the unknown fields.
    const google::protobuf::UnknownFieldSet& u = r->GetUnknownFields(opts);
    for (int i = 0; i < u.field_count(); ++i) {
      if (u.field(i).number() == kGoOptionNumber &&
          u.field(i).type() == google::protobuf::UnknownField::TYPE_VARINT) {
        value = static_cast<int>(u.field(i).varint());
      }
    }
  }
  if (value < 0 || value > 4) value = 0;
  return static_cast<GoMode>(value);
}

Special SpecialOf(const Descriptor* d) {
  static const std::unordered_map<std::string_view, Special> kSpecial = {
      {"k8s.io.apimachinery.pkg.apis.meta.v1.Time", Special::kTime},
      {"k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime", Special::kMicroTime},
      {"k8s.io.apimachinery.pkg.apis.meta.v1.Duration", Special::kDuration},
      {"k8s.io.apimachinery.pkg.api.resource.Quantity", Special::kQuantity},
      {"k8s.io.apimachinery.pkg.util.intstr.IntOrString", Special::kIntOrString},
      {"k8s.io.apimachinery.pkg.runtime.RawExtension", Special::kRawJson},
      {"k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1", Special::kRawJson},
      {"k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSON", Special::kRawJson},
      {"k8s.io.apimachinery.pkg.apis.meta.v1.Verbs", Special::kStringList},
      {"k8s.io.api.authentication.v1.ExtraValue", Special::kStringList},
      {"k8s.io.api.authorization.v1.ExtraValue", Special::kStringList},
      {"k8s.io.api.certificates.v1.ExtraValue", Special::kStringList},
  };
  auto it = kSpecial.find(d->full_name());
  return it == kSpecial.end() ? Special::kNone : it->second;
}

Kind KindOf(const FieldDescriptor* fd) {
  switch (fd->cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL: return Kind::kBool;
    case FieldDescriptor::CPPTYPE_INT32: return Kind::kInt32;
    case FieldDescriptor::CPPTYPE_INT64: return Kind::kInt64;
    case FieldDescriptor::CPPTYPE_UINT32: return Kind::kUint32;
    case FieldDescriptor::CPPTYPE_UINT64: return Kind::kUint64;
    case FieldDescriptor::CPPTYPE_FLOAT: return Kind::kFloat;
    case FieldDescriptor::CPPTYPE_DOUBLE: return Kind::kDouble;
    case FieldDescriptor::CPPTYPE_ENUM: return Kind::kEnum;
    case FieldDescriptor::CPPTYPE_MESSAGE: return Kind::kMessage;
    case FieldDescriptor::CPPTYPE_STRING:
      return fd->type() == FieldDescriptor::TYPE_BYTES ? Kind::kBytes : Kind::kString;
  }
  return Kind::kString;
}

bool IsMetaType(const Descriptor* d) {
  return d->full_name() == "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta" ||
         d->full_name() == "k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta";
}

class PlanCache {
 public:
  const MessagePlan& Get(const Descriptor* d) {
    std::lock_guard<std::mutex> lock(mu_);
    return *Build(d);
  }

 private:
  MessagePlan* Build(const Descriptor* d) {
    auto it = plans_.find(d);
    if (it != plans_.end()) return it->second.get();
    auto owned = std::make_unique<MessagePlan>();
    MessagePlan* p = owned.get();
    plans_.emplace(d, std::move(owned));  // before recursing: types may contain themselves
    p->descriptor = d;
    const google::protobuf::Message* prototype =
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(d);
    CK_CHECK(prototype != nullptr) << "no generated class for " << d->full_name();
    p->reflection = prototype->GetReflection();
    p->special = SpecialOf(d);
    switch (p->special) {
      case Special::kTime:
      case Special::kMicroTime:
        p->special_fields[0] = d->FindFieldByNumber(1);  // seconds
        p->special_fields[1] = d->FindFieldByNumber(2);  // nanos
        break;
      case Special::kIntOrString:
        p->special_fields[0] = d->FindFieldByNumber(1);  // type
        p->special_fields[1] = d->FindFieldByNumber(2);  // intVal
        p->special_fields[2] = d->FindFieldByNumber(3);  // strVal
        break;
      case Special::kNone:
        break;
      default:
        p->special_fields[0] = d->FindFieldByNumber(1);  // duration / string / raw / items
        break;
    }
    if (p->special != Special::kNone) {
      for (const FieldDescriptor* f : p->special_fields) {
        if (p->special == Special::kTime || p->special == Special::kMicroTime ||
            p->special == Special::kIntOrString) {
          CK_CHECK(f == nullptr || !f->is_repeated()) << d->full_name();
        }
      }
      CK_CHECK(p->special_fields[0] != nullptr) << "special type without field 1: " << d->full_name();
    }

    std::vector<const FieldDescriptor*> fds;
    for (int i = 0; i < d->field_count(); ++i) fds.push_back(d->field(i));
    std::sort(fds.begin(), fds.end(),
              [](const FieldDescriptor* a, const FieldDescriptor* b) { return a->number() < b->number(); });
    p->fields.reserve(fds.size());
    for (const FieldDescriptor* fd : fds) {
      FieldPlan f;
      f.field = fd;
      f.name = fd->has_json_name() ? fd->json_name() : fd->name();
      f.quoted_key = "\"" + f.name + "\":";
      f.mode = ReadGoMode(fd);
      f.written_when_unset = f.mode == GoMode::kAlways || f.mode == GoMode::kNullable || f.mode == GoMode::kInline;
      f.kind = KindOf(fd);
      f.repeated = fd->is_repeated();
      f.is_map = fd->is_map();
      if (f.is_map) {
        const Descriptor* entry = fd->message_type();
        f.map_key = entry->map_key();
        f.map_value = entry->map_value();
        f.map_value_kind = KindOf(f.map_value);
        if (f.map_value_kind == Kind::kMessage) f.map_value_message = Build(f.map_value->message_type());
      } else if (f.kind == Kind::kMessage) {
        f.message = Build(fd->message_type());
      }
      if (fd->name() == "metadata" && f.kind == Kind::kMessage && IsMetaType(fd->message_type())) {
        p->accepts_type_meta = true;
      }
      if (f.mode == GoMode::kInline) {
        CK_CHECK(f.kind == Kind::kMessage && !f.repeated && f.message->special == Special::kNone)
            << "INLINE on a field that is not a singular message: " << fd->full_name();
      }
      p->fields.push_back(std::move(f));
    }
    if (d->full_name().rfind("k8s.io.apimachinery.pkg.apis.meta.v1.", 0) == 0 &&
        d->name().size() > 7 && d->name().compare(d->name().size() - 7, 7, "Options") == 0) {
      p->accepts_type_meta = true;  // DeleteOptions, CreateOptions, ... embed TypeMeta
    }

    // Member names: own fields first (a shallower name hides a promoted one, as in Go), then the
    // members promoted from inline fields, breadth by depth.
    for (const FieldPlan& f : p->fields) {
      if (f.mode == GoMode::kInline) continue;
      MemberTarget t;
      t.name = f.name;
      t.depth = 0;
      t.path[0] = &f;
      AddMember(p, t);
    }
    for (const FieldPlan& f : p->fields) {
      if (f.mode != GoMode::kInline) continue;
      for (const MemberTarget& inner : f.message->members) {
        CK_CHECK(inner.depth + 1 < 4) << "inline nesting too deep in " << d->full_name();
        MemberTarget t;
        t.name = inner.name;
        t.depth = static_cast<uint8_t>(inner.depth + 1);
        t.path[0] = &f;
        for (int k = 0; k <= inner.depth; ++k) t.path[k + 1] = inner.path[k];
        AddMember(p, t);
      }
    }
    BuildTable(p);
    return p;
  }

  static void AddMember(MessagePlan* p, MemberTarget t) {
    for (const MemberTarget& m : p->members) {
      if (m.name == t.name) return;
    }
    t.slot = static_cast<uint32_t>(p->members.size());
    p->members.push_back(t);
  }

  static void BuildTable(MessagePlan* p) {
    size_t cap = 8;
    while (cap < p->members.size() * 4) cap <<= 1;
    CK_CHECK(p->members.size() < 65535) << "too many members in " << p->descriptor->full_name();
    p->table.assign(cap, 0);
    p->table_mask = static_cast<uint32_t>(cap - 1);
    for (size_t i = 0; i < p->members.size(); ++i) {
      uint32_t h = MessagePlan::HashName(p->members[i].name) & p->table_mask;
      while (p->table[h] != 0) h = (h + 1) & p->table_mask;
      p->table[h] = static_cast<uint16_t>(i + 1);
    }
  }

  std::mutex mu_;
  std::unordered_map<const Descriptor*, std::unique_ptr<MessagePlan>> plans_;  // guarded by mu_
};

}  // namespace

const MessagePlan& PlanFor(const Descriptor* d) {
  // One-entry per-thread cache: most callers encode or decode one type in a row.
  thread_local const Descriptor* last_descriptor = nullptr;
  thread_local const MessagePlan* last_plan = nullptr;
  if (d == last_descriptor) return *last_plan;
  static PlanCache* cache = new PlanCache();  // never destroyed: plans outlive static teardown
  const MessagePlan& p = cache->Get(d);
  last_descriptor = d;
  last_plan = &p;
  return p;
}

}  // namespace ck::api::internal
