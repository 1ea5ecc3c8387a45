// The injector's decision and its AdmissionReview answer, without HTTP.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/api/codec.h"
#include "common/api/proto/admission_v1.pb.h"
#include "common/api/testing/builders.h"
#include "examples/sidecar-injector/injector.h"

namespace ck::examples::sidecar {
namespace {

namespace admv1 = ::k8s::io::api::admission::v1;
using api::testing::MakePod;
using ::testing::HasSubstr;

std::string ReviewFor(const std::string& object_json, std::string kind = "Pod") {
  return R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1",)"
         R"("kind":{"group":"","version":"v1","kind":")" + kind + R"("},)"
         R"("resource":{"group":"","version":"v1","resource":"pods"},"operation":"CREATE",)"
         R"("userInfo":{"username":"jane"},"object":)" + object_json + R"(,"oldObject":null}})";
}

admv1::AdmissionResponse Answer(const std::string& body) {
  auto json = Review(body, SidecarOptions{});
  CK_CHECK(json.ok()) << json.status().ToString();
  admv1::AdmissionReview review;
  api::TypeMeta type;
  CK_CHECK(api::FromJson(*json, &review, {.field_validation = api::FieldValidation::kStrict, .type_meta = &type}).ok());
  CK_CHECK(type.kind == "AdmissionReview" && type.api_version == "admission.k8s.io/v1") << *json;
  return review.response();
}

TEST(SidecarPatch, MonitoredPodGetsTheSidecarAndTheMark) {
  auto patch = SidecarPatch(MakePod("web").Annotation("monitoring", "true"), SidecarOptions{});
  ASSERT_TRUE(patch.ok());
  EXPECT_THAT(*patch, HasSubstr(R"({"op":"add","path":"/spec/containers/-","value":{"name":"metrics-sidecar","image":"busybox:1.36")"));
  EXPECT_THAT(*patch, HasSubstr(R"("ports":[{"name":"metrics","containerPort":9102,"protocol":"TCP"}])"));
  EXPECT_THAT(*patch, HasSubstr(R"({"op":"add","path":"/metadata/annotations/sidecar-injector~1injected","value":"true"})"));
}

TEST(SidecarPatch, OtherPodsAreLeftAlone) {
  SidecarOptions o;
  EXPECT_EQ(*SidecarPatch(MakePod("web"), o), "");
  EXPECT_EQ(*SidecarPatch(MakePod("web").Annotation("monitoring", "false"), o), "");
  EXPECT_EQ(*SidecarPatch(MakePod("web").Annotation("monitoring", "true").Annotation("sidecar-injector/injected", "true"), o), "");
  EXPECT_EQ(*SidecarPatch(MakePod("web").Annotation("monitoring", "true").Container("metrics-sidecar"), o), "")
      << "already has the container";
}

TEST(Review, AnswersWithTheRequestUidAndABase64Patch) {
  auto pod_json = api::ToJson(MakePod("web").Annotation("monitoring", "true").Obj(), {.kind = "Pod", .api_version = "v1"});
  admv1::AdmissionResponse r = Answer(ReviewFor(*pod_json));
  EXPECT_EQ(r.uid(), "u-1");
  EXPECT_TRUE(r.allowed());
  EXPECT_EQ(r.patchtype(), "JSONPatch");
  EXPECT_THAT(r.patch(), HasSubstr("metrics-sidecar"));
  // On the wire the patch is base64, as upstream expects.
  auto raw = Review(ReviewFor(*pod_json), SidecarOptions{});
  EXPECT_THAT(*raw, HasSubstr(R"("patch":"W3sib3Ai)"));
}

TEST(Review, UnmonitoredPodIsAllowedWithoutPatch) {
  auto pod_json = api::ToJson(MakePod("web").Obj(), {.kind = "Pod", .api_version = "v1"});
  admv1::AdmissionResponse r = Answer(ReviewFor(*pod_json));
  EXPECT_TRUE(r.allowed());
  EXPECT_FALSE(r.has_patchtype());
  EXPECT_TRUE(r.patch().empty());
  admv1::AdmissionResponse other = Answer(ReviewFor(R"({"metadata":{"name":"x"}})", "ConfigMap"));
  EXPECT_TRUE(other.allowed());
  EXPECT_FALSE(other.has_patchtype());
}

TEST(Review, GarbageIsABadRequest) {
  EXPECT_EQ(Review("{", SidecarOptions{}).status().code(), Code::kBadRequest);
  EXPECT_EQ(Review(R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"})", SidecarOptions{}).status().code(),
            Code::kBadRequest);
}

}  // namespace
}  // namespace ck::examples::sidecar
