#include "common/api/kinds.h"

#include <string>

#include "common/api/proto/proto_files.h"
#include "common/base/check.h"

namespace ck::api {

const google::protobuf::Descriptor* FindKind(std::string_view api_version, std::string_view kind) {
  static const bool linked = !AllApiProtoFiles().empty();  // pulls every API type into the pool
  (void)linked;
  std::string_view group, version = api_version;
  if (size_t slash = api_version.find('/'); slash != std::string_view::npos) {
    group = api_version.substr(0, slash);
    version = api_version.substr(slash + 1);
  }
  if (version.empty() || kind.empty()) return nullptr;
  std::string label = group.empty() ? "core" : std::string(group.substr(0, group.find('.')));
  const google::protobuf::DescriptorPool* pool = google::protobuf::DescriptorPool::generated_pool();
  std::string name = "k8s.io.api." + label + "." + std::string(version) + "." + std::string(kind);
  if (const google::protobuf::Descriptor* d = pool->FindMessageTypeByName(name)) return d;
  if (group.empty() || group == "meta.k8s.io") {
    name = "k8s.io.apimachinery.pkg.apis.meta." + std::string(version) + "." + std::string(kind);
    return pool->FindMessageTypeByName(name);
  }
  return nullptr;
}

std::unique_ptr<google::protobuf::Message> NewObject(std::string_view api_version, std::string_view kind) {
  const google::protobuf::Descriptor* d = FindKind(api_version, kind);
  if (d == nullptr) return nullptr;
  const google::protobuf::Message* proto = google::protobuf::MessageFactory::generated_factory()->GetPrototype(d);
  return std::unique_ptr<google::protobuf::Message>(proto->New());
}

std::unique_ptr<google::protobuf::Message> NewMessage(std::string_view type_name) {
  static const bool linked = !AllApiProtoFiles().empty();
  (void)linked;
  const auto* desc = google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(std::string(type_name));
  CK_CHECK(desc) << "unknown message type " << type_name;
  const google::protobuf::Message* prototype = google::protobuf::MessageFactory::generated_factory()->GetPrototype(desc);
  return std::unique_ptr<google::protobuf::Message>(prototype->New());
}

}  // namespace ck::api
