#include "common/api/internal/generated_codecs.h"

namespace ck::api::internal {

const GeneratedCodec* FindGeneratedCodec(const google::protobuf::Descriptor* d) {
  static const GeneratedCodecTable* table = [] {
    auto* t = new GeneratedCodecTable();  // never destroyed: used until process exit
    RegisterGeneratedCodecs(t);
    return t;
  }();
  thread_local const google::protobuf::Descriptor* last_descriptor = nullptr;
  thread_local const GeneratedCodec* last_codec = nullptr;
  if (d != last_descriptor) {
    last_codec = table->Find(d);
    last_descriptor = d;
  }
  return last_codec;
}

}  // namespace ck::api::internal
