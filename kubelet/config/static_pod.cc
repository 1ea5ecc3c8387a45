#include "kubelet/config/static_pod.h"

#include <openssl/evp.h>

#include <cstdio>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "apiserver/validation/validation.h"
#include "common/api/api_resources.h"
#include "common/api/codec.h"
#include "common/api/time_format.h"
#include "common/api/yaml.h"
#include "common/base/check.h"
#include "common/base/strings.h"
#include "kubelet/pod/mirror_pod.h"

namespace ck::kubelet {

namespace {

const api::ResourceInfo& PodResource() {
  static const api::ResourceInfo* pods = api::FindResource("", "v1", "pods");
  CK_CHECK(pods != nullptr) << "the pods resource is not registered";
  return *pods;
}

std::string Hex(const unsigned char* bytes, unsigned int n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (unsigned int i = 0; i < n; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0xf]);
  }
  return out;
}

// upstream: md5 over "host:<node>", "file:<source>" and a deep hash of the pod object. The
// deterministic protobuf encoding plays DeepHashObject: the same object, the same bytes.
std::string StaticPodUid(const corev1::Pod& pod, const std::string& path, const std::string& node_name) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    pod.SerializeToCodedStream(&out);
  }
  const std::string host = "host:" + node_name;
  const std::string file = "file:" + path;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  CK_CHECK(ctx != nullptr);
  EVP_DigestInit_ex(ctx, EVP_md5(), nullptr);
  EVP_DigestUpdate(ctx, host.data(), host.size());
  EVP_DigestUpdate(ctx, file.data(), file.size());
  EVP_DigestUpdate(ctx, bytes.data(), bytes.size());
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  return Hex(digest, len);
}

bool HasToleration(const corev1::PodSpec& spec, const corev1::Toleration& t) {
  for (const auto& x : spec.tolerations()) {
    if (x.key() == t.key() && x.operator_() == t.operator_() && x.value() == t.value() && x.effect() == t.effect() &&
        x.has_tolerationseconds() == t.has_tolerationseconds()) {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<corev1::Pod> ParseStaticPod(std::string_view data, const std::string& path, const std::string& node_name) {
  Result<std::string> json = api::YamlToJson(data);
  if (!json.ok()) return Status(Code::kInvalid, "couldn't parse as pod: " + json.status().message());
  Result<api::TypeMeta> type = api::PeekTypeMeta(*json);
  if (!type.ok()) return Status(Code::kInvalid, "couldn't parse as pod: " + type.status().message());
  if (type->kind.empty()) return Status(Code::kInvalid, "couldn't parse as pod: Object 'Kind' is missing");
  if (type->kind != "Pod") return Status(Code::kInvalid, "kind \"" + type->kind + "\" is not a Pod");
  if (type->api_version != "v1") {
    return Status(Code::kInvalid, "apiVersion \"" + type->api_version + "\" is not v1 (a Pod is v1)");
  }
  corev1::Pod pod;
  api::DecodeOptions options;
  options.field_validation = api::FieldValidation::kIgnore;  // upstream's decoder is not strict
  if (Status s = api::FromJson(*json, &pod, options); !s.ok()) {
    return Status(Code::kInvalid, "couldn't parse as pod: " + s.message());
  }
  apiserver::ApplyDefaults(PodResource(), &pod);

  // upstream applyDefaults (isFile = true).
  auto* meta = pod.mutable_metadata();
  if (meta->uid().empty()) meta->set_uid(StaticPodUid(pod, path, node_name));
  meta->set_name(meta->name() + "-" + ToLower(node_name));
  if (meta->namespace_().empty()) meta->set_namespace_("default");
  pod.mutable_spec()->set_nodename(node_name);
  auto& annotations = *meta->mutable_annotations();
  annotations[std::string(kConfigHashAnnotation)] = meta->uid();
  annotations[std::string(kConfigSourceAnnotation)] = std::string(kFileSource);
  corev1::Toleration no_execute;
  no_execute.set_operator_("Exists");
  no_execute.set_effect("NoExecute");
  if (!HasToleration(pod.spec(), no_execute)) *pod.mutable_spec()->add_tolerations() = no_execute;
  pod.mutable_status()->set_phase("Pending");

  apiserver::FieldErrors errors = apiserver::ValidateObject(PodResource(), pod, nullptr);
  if (!errors.empty()) {
    return Status(Code::kInvalid, "invalid pod: " + apiserver::InvalidMessage("Pod", meta->name(), errors));
  }
  return pod;
}

std::string FormatRfc3339Nano(WallTime t) {
  api::Timestamp ts = api::ToTimestamp(t);
  std::string text = api::FormatRfc3339(api::Timestamp{ts.seconds, 0});  // "...:ssZ"
  if (ts.nanos == 0) return text;
  char frac[16];
  std::snprintf(frac, sizeof(frac), ".%09d", ts.nanos);
  std::string f(frac);
  while (f.back() == '0') f.pop_back();
  text.insert(text.size() - 1, f);
  return text;
}

}  // namespace ck::kubelet
