#include "apiserver/resources.h"

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <set>

#include "common/api/proto/proto_files.h"

namespace ck::apiserver {
namespace {

TEST(ResourcesTest, EveryRowNamesARealMessage) {
  (void)api::AllApiProtoFiles();  // links every generated file into the pool
  auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const auto& r : AllResources()) {
    SCOPED_TRACE(r.GroupResource());
    EXPECT_NE(pool->FindMessageTypeByName(r.proto_type), nullptr) << r.proto_type;
    if (!r.list_proto_type.empty()) {
      EXPECT_NE(pool->FindMessageTypeByName(r.list_proto_type), nullptr) << r.list_proto_type;
    }
    EXPECT_TRUE(std::is_sorted(r.verbs.begin(), r.verbs.end()));
  }
}

TEST(ResourcesTest, UniqueAndFindable) {
  std::set<std::string> seen, prefixes;
  for (const auto& r : AllResources()) {
    EXPECT_TRUE(seen.insert(r.GroupVersion() + "/" + r.resource).second) << r.resource;
    if (!r.storage_prefix.empty()) {
      EXPECT_TRUE(prefixes.insert(r.storage_prefix).second) << r.storage_prefix;
    }
    EXPECT_EQ(FindResource(r.group, r.version, r.resource), &r);
  }
  ASSERT_NE(FindResource("apps", "v1", "deployments"), nullptr);
  EXPECT_EQ(FindResource("apps", "v1", "deployments")->FindSubresource("scale")->kind, "Scale");
  EXPECT_EQ(FindResourceByKind("", "v1", "Pod")->resource, "pods");
  EXPECT_EQ(FindResource("", "v1", "pods")->storage_prefix, "/registry/pods/");
  EXPECT_EQ(FindResource("", "v1", "services")->storage_prefix, "/registry/services/specs/");
  EXPECT_EQ(FindResource("apps", "v1", "nope"), nullptr);
  // Core comes first so that "events" resolves to core/v1 in kubectl.
  EXPECT_EQ(AllGroups().front().name, "");
  EXPECT_EQ(AllResources().front().group, "");
}

}  // namespace
}  // namespace ck::apiserver
