#include "common/client/cache/transform.h"

namespace ck::client {

void KeepContainerShape(google::protobuf::RepeatedPtrField<::k8s::io::api::core::v1::Container>* containers) {
  google::protobuf::RepeatedPtrField<::k8s::io::api::core::v1::Container> slim;
  slim.Reserve(containers->size());
  for (auto& c : *containers) {
    auto* s = slim.Add();
    s->mutable_name()->swap(*c.mutable_name());
    if (c.has_resources()) s->mutable_resources()->Swap(c.mutable_resources());
    s->mutable_ports()->Swap(c.mutable_ports());
    if (c.has_restartpolicy()) s->set_restartpolicy(c.restartpolicy());
  }
  containers->Swap(&slim);
}

}  // namespace ck::client
