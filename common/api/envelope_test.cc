#include "common/api/envelope.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "common/api/proto/core_v1.pb.h"

namespace ck::api {
namespace {

using ::testing::HasSubstr;
namespace corev1 = ::k8s::io::api::core::v1;

TEST(Envelope, RoundTrips) {
  corev1::ConfigMap cm;
  cm.mutable_metadata()->set_name("cfg");
  (*cm.mutable_data())["b"] = "2";
  (*cm.mutable_data())["a"] = "1";
  std::string body = EncodeProtobufEnvelope(cm, "v1", "ConfigMap");
  EXPECT_EQ(body.substr(0, 4), std::string("k8s\0", 4));
  EXPECT_EQ(body, EncodeProtobufEnvelope(cm, "v1", "ConfigMap"));  // deterministic
  Result<ProtobufEnvelope> e = DecodeProtobufEnvelope(body);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->api_version, "v1");
  EXPECT_EQ(e->kind, "ConfigMap");
  corev1::ConfigMap back;
  TypeMeta tm;
  ASSERT_TRUE(DecodeProtobufObject(body, &back, &tm).ok());
  EXPECT_EQ(tm.kind, "ConfigMap");
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(back, cm));
}

TEST(Envelope, RejectsWhatItCannotRead) {
  corev1::ConfigMap cm;
  EXPECT_THAT(DecodeProtobufObject("{\"kind\":\"ConfigMap\"}", &cm).message(), HasSubstr("does not start with"));
  EXPECT_THAT(DecodeProtobufObject(std::string("k8s\0\xff\xff", 6), &cm).message(), HasSubstr("does not parse"));
  EXPECT_THAT(DecodeProtobufObject("k8s", &cm).message(), HasSubstr("does not start with"));

  // A raw object that is not a valid message: a truncated varint.
  std::string unknown = std::string("\x12\x03\xff\xff\xff", 5);
  Status s = DecodeProtobufObject(std::string(kProtobufMagic) + unknown, &cm);
  EXPECT_EQ(s.code(), Code::kBadRequest);
  EXPECT_THAT(s.message(), HasSubstr("does not parse as k8s.io.api.core.v1.ConfigMap"));
}

TEST(Envelope, RefusesCompressedOrForeignContent) {
  corev1::ConfigMap cm;
  cm.mutable_metadata()->set_name("x");
  // Build an envelope by hand with contentEncoding = gzip.
  std::string raw = cm.SerializeAsString();
  std::string unknown;
  auto field = [&](int number, const std::string& bytes) {
    unknown += static_cast<char>(number << 3 | 2);
    unknown += static_cast<char>(bytes.size());
    unknown += bytes;
  };
  field(2, raw);
  field(3, "gzip");
  EXPECT_THAT(DecodeProtobufObject(std::string(kProtobufMagic) + unknown, &cm).message(),
              HasSubstr("unsupported protobuf content encoding \"gzip\""));
  unknown.clear();
  field(2, raw);
  field(4, "application/json");
  EXPECT_THAT(DecodeProtobufObject(std::string(kProtobufMagic) + unknown, &cm).message(),
              HasSubstr("unsupported embedded content type"));
}

}  // namespace
}  // namespace ck::api
