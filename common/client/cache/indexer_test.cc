#include "common/client/cache/indexer.h"

#include <algorithm>
#include <thread>

#include <gtest/gtest.h>

#include "common/api/proto/core_v1.pb.h"
#include "common/api/testing/builders.h"
#include "common/client/cache/cache_test_util.h"
#include "common/client/cache/meta.h"

namespace ck::client {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
using api::testing::MakePod;

ObjectPtr Pod(const std::string& ns, const std::string& name, const std::string& node, const std::string& rv,
              std::map<std::string, std::string> labels = {}) {
  auto builder = MakePod(name).Namespace(ns);
  if (!node.empty()) builder.Node(node);
  for (const auto& [k, v] : labels) builder.Label(k, v);
  auto pod = std::make_shared<corev1::Pod>(builder.Obj());
  pod->mutable_metadata()->set_resourceversion(rv);
  return pod;
}

std::vector<std::string> Keys(const std::vector<ObjectPtr>& objects) {
  std::vector<std::string> keys;
  for (const ObjectPtr& o : objects) keys.push_back(KeyOf(o));
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

Indexers WithNodeIndex() {
  Indexers indexers = DefaultIndexers();
  indexers[kNodeNameIndex] = FieldIndexFunc("spec.nodeName");
  return indexers;
}

TEST(IndexerTest, AddGetListDelete) {
  Indexer indexer;
  indexer.Add(Pod("shop", "a", "", "1"));
  indexer.Add(Pod("shop", "b", "", "2"));
  indexer.Add(Pod("web", "a", "", "3"));
  EXPECT_EQ(indexer.size(), 3u);
  EXPECT_EQ(indexer.resource_version(), "3");
  ASSERT_NE(indexer.Get("shop/a"), nullptr);
  EXPECT_EQ(indexer.Get("shop", "b"), indexer.Get("shop/b"));
  EXPECT_EQ(indexer.Get("shop/zzz"), nullptr);
  EXPECT_EQ(Sorted(indexer.ListKeys()), (std::vector<std::string>{"shop/a", "shop/b", "web/a"}));

  ObjectPtr b = Pod("shop", "b", "", "4");
  indexer.Delete(b);
  EXPECT_EQ(indexer.Get("shop/b"), nullptr);
  EXPECT_EQ(indexer.resource_version(), "4");
  EXPECT_EQ(Keys(*indexer.ByIndex(kNamespaceIndex, "shop")), (std::vector<std::string>{"shop/a"}));
  // Deleting what is not there changes nothing but the version.
  indexer.Delete(Pod("shop", "nope", "", "5"));
  EXPECT_EQ(indexer.size(), 2u);
  EXPECT_EQ(indexer.resource_version(), "5");
}

TEST(IndexerTest, ObjectsAreSharedNotCopied) {
  Indexer indexer;
  ObjectPtr pod = Pod("shop", "a", "", "1");
  indexer.Add(pod);
  EXPECT_EQ(indexer.Get("shop/a").get(), pod.get());
  EXPECT_EQ(indexer.List()[0].get(), pod.get());
}

TEST(IndexerTest, NamespaceAndLabelIndexes) {
  Indexer indexer;
  indexer.Add(Pod("shop", "a", "", "1", {{"app", "web"}, {"tier", "front"}}));
  indexer.Add(Pod("shop", "b", "", "2", {{"app", "db"}}));
  indexer.Add(Pod("blog", "c", "", "3", {{"app", "web"}}));

  EXPECT_EQ(Keys(*indexer.ByIndex(kNamespaceIndex, "shop")), (std::vector<std::string>{"shop/a", "shop/b"}));
  EXPECT_EQ(Keys(*indexer.ByIndex(kLabelsIndex, "app=web")), (std::vector<std::string>{"blog/c", "shop/a"}));
  EXPECT_EQ(Sorted(*indexer.IndexKeys(kLabelsIndex, "tier=front")), (std::vector<std::string>{"shop/a"}));
  EXPECT_TRUE(indexer.ByIndex(kLabelsIndex, "app=none")->empty());
  EXPECT_EQ(Sorted(*indexer.IndexValues(kNamespaceIndex)), (std::vector<std::string>{"blog", "shop"}));
  // Index(): everything sharing a value with the given object.
  EXPECT_EQ(Keys(*indexer.Index(kNamespaceIndex, *Pod("blog", "x", "", "0"))), (std::vector<std::string>{"blog/c"}));
}

TEST(IndexerTest, UnknownIndexIsNotFound) {
  Indexer indexer;
  Result<std::vector<ObjectPtr>> r = indexer.ByIndex("byOwner", "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_EQ(r.status().message(), "index with name byOwner does not exist");
  EXPECT_FALSE(indexer.IndexKeys("byOwner", "x").ok());
  EXPECT_FALSE(indexer.IndexValues("byOwner").ok());
}

TEST(IndexerTest, IndexFollowsUpdatesThatChangeTheIndexedValue) {
  Indexer indexer(WithNodeIndex());
  indexer.Add(Pod("shop", "a", "", "1", {{"app", "web"}}));  // not scheduled: not in the node index
  indexer.Add(Pod("shop", "b", "node-1", "2"));
  EXPECT_EQ(*indexer.IndexValues(kNodeNameIndex), (std::vector<std::string>{"node-1"}));

  indexer.Update(Pod("shop", "a", "node-1", "3", {{"app", "web"}}));
  EXPECT_EQ(Keys(*indexer.ByIndex(kNodeNameIndex, "node-1")), (std::vector<std::string>{"shop/a", "shop/b"}));

  indexer.Update(Pod("shop", "a", "node-2", "4", {{"app", "api"}}));
  EXPECT_EQ(Keys(*indexer.ByIndex(kNodeNameIndex, "node-1")), (std::vector<std::string>{"shop/b"}));
  EXPECT_EQ(Keys(*indexer.ByIndex(kNodeNameIndex, "node-2")), (std::vector<std::string>{"shop/a"}));
  EXPECT_TRUE(indexer.ByIndex(kLabelsIndex, "app=web")->empty());
  EXPECT_EQ(Keys(*indexer.ByIndex(kLabelsIndex, "app=api")), (std::vector<std::string>{"shop/a"}));
  // Emptied values disappear instead of lingering as empty entries.
  EXPECT_EQ(*indexer.IndexValues(kLabelsIndex), (std::vector<std::string>{"app=api"}));

  indexer.Update(Pod("shop", "b", "node-2", "5"));
  EXPECT_EQ(Sorted(*indexer.IndexValues(kNodeNameIndex)), (std::vector<std::string>{"node-2"}));

  indexer.Delete(Pod("shop", "a", "node-2", "6"));
  EXPECT_EQ(Keys(*indexer.ByIndex(kNodeNameIndex, "node-2")), (std::vector<std::string>{"shop/b"}));
  EXPECT_TRUE(indexer.IndexValues(kLabelsIndex)->empty());
}

TEST(IndexerTest, ReplaceRebuildsContentIndexesAndVersion) {
  Indexer indexer(WithNodeIndex());
  indexer.Add(Pod("shop", "a", "node-1", "1"));
  indexer.Add(Pod("shop", "b", "node-1", "2"));
  indexer.Replace({Pod("shop", "b", "node-2", "9"), Pod("blog", "c", "node-1", "8")}, "10");
  EXPECT_EQ(indexer.resource_version(), "10");
  EXPECT_EQ(Sorted(indexer.ListKeys()), (std::vector<std::string>{"blog/c", "shop/b"}));
  EXPECT_EQ(Keys(*indexer.ByIndex(kNodeNameIndex, "node-1")), (std::vector<std::string>{"blog/c"}));
  EXPECT_EQ(Keys(*indexer.ByIndex(kNodeNameIndex, "node-2")), (std::vector<std::string>{"shop/b"}));
  EXPECT_EQ(Keys(*indexer.ByIndex(kNamespaceIndex, "shop")), (std::vector<std::string>{"shop/b"}));

  Indexer::Snapshot snapshot = indexer.TakeSnapshot();
  EXPECT_EQ(snapshot.items.size(), 2u);
  EXPECT_EQ(snapshot.resource_version, "10");
  indexer.Bookmark("12");
  EXPECT_EQ(indexer.resource_version(), "12");
}

TEST(IndexerTest, AddIndexersIndexesExistingContent) {
  Indexer indexer;
  indexer.Add(Pod("shop", "a", "node-1", "1"));
  Indexers more;
  more[kNodeNameIndex] = FieldIndexFunc("spec.nodeName");
  ASSERT_TRUE(indexer.AddIndexers(more).ok());
  EXPECT_EQ(Keys(*indexer.ByIndex(kNodeNameIndex, "node-1")), (std::vector<std::string>{"shop/a"}));
  Status again = indexer.AddIndexers(more);
  EXPECT_EQ(again.code(), Code::kInvalid);
  EXPECT_EQ(Sorted(indexer.IndexNames()), (std::vector<std::string>{"labels", "namespace", "spec.nodeName"}));
}

TEST(IndexerTest, FieldIndexFuncReadsScalarsAlongThePath) {
  corev1::Pod pod = MakePod("a").Namespace("n").Node("node-1").Phase("Running");
  pod.mutable_spec()->set_priority(7);
  EXPECT_EQ(FieldIndexFunc("spec.nodeName")(pod), (std::vector<std::string>{"node-1"}));
  EXPECT_EQ(FieldIndexFunc("status.phase")(pod), (std::vector<std::string>{"Running"}));
  EXPECT_EQ(FieldIndexFunc("spec.priority")(pod), (std::vector<std::string>{"7"}));
  EXPECT_TRUE(FieldIndexFunc("spec.hostname")(pod).empty());  // unset
  EXPECT_TRUE(FieldIndexFunc("spec")(pod).empty());           // a message, not a value
  EXPECT_TRUE(FieldIndexFunc("spec.nope")(pod).empty());
  EXPECT_TRUE(FieldIndexFunc("spec.containers")(pod).empty());  // repeated
}

TEST(IndexerTest, ConcurrentReadersSeeConsistentIndexes) {
  Indexer indexer(WithNodeIndex());
  std::atomic<bool> done{false};
  std::atomic<int64_t> reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!done) {
        // Every object found through the index really has that node.
        std::vector<ObjectPtr> on_node = *indexer.ByIndex(kNodeNameIndex, "node-1");
        for (const ObjectPtr& o : on_node) {
          ASSERT_EQ(static_cast<const corev1::Pod&>(*o).spec().nodename(), "node-1");
        }
        ++reads;
      }
    });
  }
  // Readers are running before the writes start (and keep going until they end).
  EXPECT_TRUE(testing::WaitFor([&] { return reads.load() >= 2; }));
  for (int i = 0; i < 5000; ++i) {
    std::string name = "p" + std::to_string(i % 50);
    indexer.Update(Pod("shop", name, i % 3 == 0 ? "node-1" : "node-2", std::to_string(i + 1)));
    if (i % 7 == 0) indexer.Delete(Pod("shop", name, "", std::to_string(i + 1)));
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(reads.load(), 0);
  // The final index equals a fresh computation from the content.
  std::vector<std::string> expected;
  for (const ObjectPtr& o : indexer.List()) {
    if (static_cast<const corev1::Pod&>(*o).spec().nodename() == "node-1") expected.push_back(KeyOf(o));
  }
  EXPECT_EQ(Keys(*indexer.ByIndex(kNodeNameIndex, "node-1")), Sorted(expected));
}

}  // namespace
}  // namespace ck::client
