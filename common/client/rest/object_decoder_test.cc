#include "common/client/rest/object_decoder.h"

#include <gtest/gtest.h>

#include "common/api/object.h"
#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"

namespace ck::client {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
namespace appsv1 = ::k8s::io::api::apps::v1;
namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;

constexpr const char* kPod =
    R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-1","namespace":"shop","resourceVersion":"12",)"
    R"("labels":{"app":"web"}},"spec":{"nodeName":"node-1","containers":[{"name":"c","image":"i"}],)"
    R"("futureField":{"x":1}},"status":{"phase":"Running"}})";

TEST(DecodeObject, IntoTheExpectedTypeIgnoringUnknownFields) {
  Result<ObjectPtr> o = DecodeObject(kPod, corev1::Pod::descriptor());
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  const auto& pod = static_cast<const corev1::Pod&>(**o);
  EXPECT_EQ(pod.metadata().name(), "web-1");
  EXPECT_EQ(pod.spec().nodename(), "node-1");
  EXPECT_EQ(pod.status().phase(), "Running");
  EXPECT_EQ(api::FindMeta(pod), &pod.metadata());
}

TEST(DecodeObject, AStatusWhereAnObjectWasExpected) {
  Result<ObjectPtr> o = DecodeObject(
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","details":{"name":"web-1","kind":"pods","uid":"u"}})",
      corev1::Pod::descriptor());
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  ASSERT_TRUE(IsApiStatus(**o));
  EXPECT_EQ(static_cast<const metav1::Status&>(**o).details().name(), "web-1");
}

TEST(DecodeObject, ByKindWhenTheTypeIsUnknown) {
  Result<ObjectPtr> o = DecodeObject(
      R"({"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"d"},"spec":{"replicas":3}})",
      nullptr);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  ASSERT_EQ((*o)->GetDescriptor(), appsv1::Deployment::descriptor());
  EXPECT_EQ(static_cast<const appsv1::Deployment&>(**o).spec().replicas(), 3);
  EXPECT_EQ(DecodeObject(R"({"kind":"Widget","apiVersion":"example.com/v1"})", nullptr).status().code(),
            Code::kBadRequest);
  EXPECT_EQ(DecodeObject("{not json", corev1::Pod::descriptor()).status().code(), Code::kBadRequest);
}

TEST(DecodeObject, WrongFieldTypesInTheExpectedKindAreErrors) {
  Result<ObjectPtr> o =
      DecodeObject(R"({"kind":"Pod","apiVersion":"v1","spec":{"nodeName":7}})", corev1::Pod::descriptor());
  EXPECT_EQ(o.status().code(), Code::kBadRequest);
}

TEST(DecodeObject, AFullObjectReadAsMetadataKeepsOnlyMetadata) {
  Result<ObjectPtr> o = DecodeObject(kPod, PartialObjectMetadataType());
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  const auto& m = static_cast<const metav1::PartialObjectMetadata&>(**o);
  EXPECT_EQ(m.metadata().name(), "web-1");
  EXPECT_EQ(m.metadata().labels().at("app"), "web");
  EXPECT_EQ(m.metadata().resourceversion(), "12");
}

std::string PodList(int n, const std::string& cont) {
  std::string s = R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"99")";
  if (!cont.empty()) s += R"(,"continue":")" + cont + R"(","remainingItemCount":4)";
  s += R"(},"items":[)";
  for (int i = 0; i < n; ++i) {
    if (i) s += ",";
    s += R"({"metadata":{"name":"p)" + std::to_string(i) + R"(","namespace":"ns"},"spec":{"nodeName":"n"}})";
  }
  return s + "]}";
}

TEST(DecodeList, ItemsBecomeSeparateObjectsInOrder) {
  Result<ObjectList> l = DecodeList(PodList(3, "tok"), corev1::PodList::descriptor());
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->resource_version, "99");
  EXPECT_EQ(l->continue_token, "tok");
  ASSERT_EQ(l->items.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(l->items[i]->GetDescriptor(), corev1::Pod::descriptor());
    EXPECT_EQ(static_cast<const corev1::Pod&>(*l->items[i]).metadata().name(), "p" + std::to_string(i));
  }
}

TEST(DecodeList, MetadataOnlyFromAFullList) {
  Result<ObjectList> l = DecodeList(PodList(2, ""), PartialObjectMetadataListType());
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  ASSERT_EQ(l->items.size(), 2u);
  EXPECT_EQ(l->items[1]->GetDescriptor(), PartialObjectMetadataType());
  EXPECT_EQ(static_cast<const metav1::PartialObjectMetadata&>(*l->items[1]).metadata().name(), "p1");
  EXPECT_EQ(l->continue_token, "");
}

TEST(DecodeList, ByTheListsKindWhenTheTypeIsUnknown) {
  Result<ObjectList> l = DecodeList(PodList(2, ""), nullptr);
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  ASSERT_EQ(l->items.size(), 2u);
  EXPECT_EQ(l->items[0]->GetDescriptor(), corev1::Pod::descriptor());
  EXPECT_EQ(l->resource_version, "99");
  // Items that carry their own kind (a List of mixed kinds).
  l = DecodeList(R"({"kind":"List","apiVersion":"v1","metadata":{},"items":[)"
                 R"({"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"c"}},)"
                 R"({"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"d"}}]})",
                 nullptr);
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  ASSERT_EQ(l->items.size(), 2u);
  EXPECT_EQ(l->items[0]->GetDescriptor(), corev1::ConfigMap::descriptor());
  EXPECT_EQ(l->items[1]->GetDescriptor(), appsv1::Deployment::descriptor());
}

TEST(FindMessageType, ByFullName) {
  EXPECT_EQ(FindMessageType("k8s.io.api.apps.v1.Deployment"), appsv1::Deployment::descriptor());
  EXPECT_EQ(FindMessageType("k8s.io.api.nope.v1.Thing"), nullptr);
  EXPECT_EQ(FindMessageType(""), nullptr);
}

}  // namespace
}  // namespace ck::client
