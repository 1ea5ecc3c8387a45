// libFuzzer target: Kubernetes JSON decoding. The first byte picks the kind; the rest is the JSON.
// Checks, besides not crashing: the generated and the reflection decoders accept the same inputs
// and build the same object; a decoded object encodes to JSON that decodes to the same object
// again, and encodes the same way both times.
#include <cstddef>
#include <cstdint>
#include <string>

#include <google/protobuf/util/message_differencer.h>
#include <simdjson.h>

#include "common/api/codec.h"
#include "common/api/internal/decode.h"
#include "common/api/internal/dom_simdjson.h"
#include "common/api/internal/encode.h"
#include "common/api/internal/message_plan.h"
#include "common/api/kinds.h"
#include "common/base/check.h"

namespace {

using google::protobuf::Message;

constexpr struct {
  const char* api_version;
  const char* kind;
} kKinds[] = {{"v1", "Pod"},         {"apps/v1", "Deployment"}, {"v1", "Service"},
              {"v1", "ConfigMap"},   {"v1", "Secret"},          {"v1", "Node"},
              {"v1", "Status"},      {"networking.k8s.io/v1", "Ingress"},
              {"batch/v1", "CronJob"}, {"admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"},
              {"v1", "List"},        {"meta.k8s.io/v1", "Table"}};

std::string ReflectEncode(const Message& m) {
  std::string out;
  ck::api::internal::JsonWriter w(&out);
  ck::api::internal::Encoder<ck::api::internal::JsonWriter> e(w);
  ck::Status s = e.Top(m, ck::api::internal::PlanFor(m.GetDescriptor()), "", "");
  CK_CHECK(s.ok() || s.code() == ck::Code::kInternal) << s.ToString();
  return s.ok() ? out : std::string();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto& k = kKinds[data[0] % (sizeof kKinds / sizeof kKinds[0])];
  std::string_view json(reinterpret_cast<const char*>(data + 1), size - 1);
  std::unique_ptr<Message> generated = ck::api::NewObject(k.api_version, k.kind);
  CK_CHECK(generated != nullptr) << k.kind;
  ck::api::DecodeOptions strict;
  strict.field_validation = ck::api::FieldValidation::kStrict;
  std::vector<std::string> warnings;
  ck::Status s = ck::api::FromJson(json, generated.get(), {}, &warnings);
  (void)ck::api::FromJson(json, std::unique_ptr<Message>(generated->New()).get(), strict);

  // The reflection decoder on the same parse.
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json.data(), json.size());
  simdjson::dom::element root;
  if (parser.parse(padded).get(root) == simdjson::SUCCESS) {
    std::unique_ptr<Message> reflected(generated->New());
    ck::api::internal::DecodeSettings settings;
    ck::api::internal::Decoder<ck::api::internal::SimdJsonDom> d(settings);
    ck::Status rs = d.Root(root, reflected.get(), ck::api::internal::PlanFor(reflected->GetDescriptor()));
    CK_CHECK(rs.ok() == s.ok()) << "decoders disagree: " << s.ToString() << " vs " << rs.ToString();
    if (s.ok()) {
      CK_CHECK(google::protobuf::util::MessageDifferencer::Equals(*generated, *reflected)) << "decoders built different objects";
      CK_CHECK(d.problems() == warnings) << "decoders report different unknown fields";
    }
  } else {
    CK_CHECK(!s.ok()) << "accepted JSON the parser rejects";
  }
  if (!s.ok()) return 0;

  ck::Result<std::string> once = ck::api::ToJson(*generated);
  if (!once.ok()) return 0;  // a RawExtension holding bytes that are not JSON
  CK_CHECK(*once == ReflectEncode(*generated)) << "encoders disagree";
  std::unique_ptr<Message> again(generated->New());
  ck::Status s2 = ck::api::FromJson(*once, again.get());
  CK_CHECK(s2.ok()) << "our own output does not decode: " << s2.ToString() << "\n" << *once;
  ck::Result<std::string> twice = ck::api::ToJson(*again);
  CK_CHECK(twice.ok() && *twice == *once) << "encoding is not stable:\n" << *once << "\n" << twice.value_or("");
  return 0;
}
