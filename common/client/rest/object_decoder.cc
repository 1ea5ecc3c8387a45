#include "common/client/rest/object_decoder.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/api/codec.h"
#include "common/api/kinds.h"
#include "common/api/proto/proto_files.h"

namespace ck::client {

namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

namespace {

api::DecodeOptions Lenient(api::TypeMeta* type_meta) {
  api::DecodeOptions o;
  o.field_validation = api::FieldValidation::kIgnore;
  o.type_meta = type_meta;
  return o;
}

// Decodes `json` into a new message of its own kind.
Result<std::unique_ptr<Message>> DecodeByKind(std::string_view json, std::string_view api_version,
                                              std::string_view kind) {
  std::unique_ptr<Message> m = api::NewObject(api_version, kind);
  if (!m) {
    return BadRequest("no type for kind \"" + std::string(kind) + "\" of \"" + std::string(api_version) +
                      "\"");
  }
  CK_RETURN_IF_ERROR(api::FromJson(json, m.get(), Lenient(nullptr)));
  return m;
}

const metav1::ListMeta* ListMetaOf(const Message& list) {
  const FieldDescriptor* f = list.GetDescriptor()->FindFieldByName("metadata");
  if (f == nullptr || f->type() != FieldDescriptor::TYPE_MESSAGE) return nullptr;
  return dynamic_cast<const metav1::ListMeta*>(&list.GetReflection()->GetMessage(list, f));
}

}  // namespace

const Descriptor* FindMessageType(std::string_view full_name) {
  static const bool linked = !api::AllApiProtoFiles().empty();  // every API type in the pool
  (void)linked;
  if (full_name.empty()) return nullptr;
  return google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(std::string(full_name));
}

const Descriptor* PartialObjectMetadataType() { return metav1::PartialObjectMetadata::descriptor(); }
const Descriptor* PartialObjectMetadataListType() { return metav1::PartialObjectMetadataList::descriptor(); }

std::unique_ptr<Message> NewMessage(const Descriptor* type) {
  const Message* prototype = google::protobuf::MessageFactory::generated_factory()->GetPrototype(type);
  CK_CHECK(prototype != nullptr) << "no generated type " << type->full_name();
  return std::unique_ptr<Message>(prototype->New());
}

bool IsApiStatus(const Message& object) { return object.GetDescriptor() == metav1::Status::descriptor(); }

Result<ObjectPtr> DecodeObject(std::string_view json, const Descriptor* expected) {
  api::TypeMeta type;
  if (expected != nullptr) {
    std::unique_ptr<Message> m = NewMessage(expected);
    Status s = api::FromJson(json, m.get(), Lenient(&type));
    // A Status where an object was expected (a delete's answer) is decoded again as a Status.
    if (s.ok() && (type.kind != "Status" || expected == metav1::Status::descriptor()))
      return ObjectPtr(std::move(m));
    if (!s.ok()) {
      Result<api::TypeMeta> peek = api::PeekTypeMeta(json);
      if (!peek.ok() || peek->kind == expected->name() || peek->kind.empty()) return s;
      type = std::move(peek).value();
    }
  } else {
    Result<api::TypeMeta> peek = api::PeekTypeMeta(json);
    if (!peek.ok()) return peek.status();
    type = std::move(peek).value();
  }
  if (type.kind == "Status") {
    auto status = std::make_unique<metav1::Status>();
    CK_RETURN_IF_ERROR(api::FromJson(json, status.get(), Lenient(nullptr)));
    return ObjectPtr(std::move(status));
  }
  CK_ASSIGN_OR_RETURN(std::unique_ptr<Message> m, DecodeByKind(json, type.api_version, type.kind));
  return ObjectPtr(std::move(m));
}

Result<ObjectList> DecodeList(std::string_view json, const Descriptor* list_type) {
  ObjectList out;
  if (list_type != nullptr) {
    std::unique_ptr<Message> list = NewMessage(list_type);
    api::TypeMeta type;
    CK_RETURN_IF_ERROR(api::FromJson(json, list.get(), Lenient(&type)));
    if (const metav1::ListMeta* meta = ListMetaOf(*list)) {
      out.resource_version = meta->resourceversion();
      out.continue_token = meta->continue_();
    }
    const FieldDescriptor* items = list_type->FindFieldByName("items");
    if (items == nullptr || !items->is_repeated() || items->type() != FieldDescriptor::TYPE_MESSAGE) {
      return BadRequest(list_type->full_name() + " has no items");
    }
    const google::protobuf::Reflection* r = list->GetReflection();
    int n = r->FieldSize(*list, items);
    out.items.resize(static_cast<size_t>(n));
    // Releasing from the back hands each item over without copying it.
    for (int i = n - 1; i >= 0; --i)
      out.items[static_cast<size_t>(i)] = ObjectPtr(r->ReleaseLast(list.get(), items));
    return out;
  }
  // A list of a kind without a type here: every item by its own kind, or the list's kind
  // without "List" (typed lists leave kind/apiVersion out of their items).
  metav1::List list;
  api::TypeMeta type;
  CK_RETURN_IF_ERROR(api::FromJson(json, &list, Lenient(&type)));
  out.resource_version = list.metadata().resourceversion();
  out.continue_token = list.metadata().continue_();
  std::string item_kind = type.kind;
  if (item_kind.ends_with("List")) item_kind.resize(item_kind.size() - 4);
  out.items.reserve(static_cast<size_t>(list.items_size()));
  for (const auto& raw : list.items()) {
    Result<api::TypeMeta> own = api::PeekTypeMeta(raw.raw());
    std::string kind = own.ok() && !own->kind.empty() ? own->kind : item_kind;
    std::string api_version = own.ok() && !own->api_version.empty() ? own->api_version : type.api_version;
    CK_ASSIGN_OR_RETURN(std::unique_ptr<Message> m, DecodeByKind(raw.raw(), api_version, kind));
    out.items.push_back(ObjectPtr(std::move(m)));
  }
  return out;
}

}  // namespace ck::client
