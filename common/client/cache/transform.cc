#include "common/client/cache/transform.h"

namespace ck::client {

void CopyContainerShapes(const google::protobuf::RepeatedPtrField<::k8s::io::api::core::v1::Container>& from,
                         google::protobuf::RepeatedPtrField<::k8s::io::api::core::v1::Container>* to) {
  to->Reserve(to->size() + from.size());
  for (const auto& c : from) {
    auto* s = to->Add();
    s->set_name(c.name());
    if (c.has_resources()) *s->mutable_resources() = c.resources();
    *s->mutable_ports() = c.ports();
    if (c.has_restartpolicy()) s->set_restartpolicy(c.restartpolicy());
  }
}

}  // namespace ck::client
