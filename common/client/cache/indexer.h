// Indexer: the thread-safe, indexed cache behind every informer and lister (client-go's
// cache.Indexer). Objects are shared immutable ObjectPtrs keyed "namespace/name"; named index
// functions map an object to index values ("namespace" -> its namespace, "labels" -> "key=value"
// per label, custom ones such as pods by spec.nodeName) so that ByIndex answers without a scan.
// resource_version() is the resourceVersion of the last change applied, read consistently with
// the content (Snapshot).
// Threading: safe from any thread; readers share a lock, writers are exclusive. An informer has
// one writer (its processing thread).
#pragma once

#include <functional>
#include <map>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/client/api_client.h"
#include "common/client/cache/store.h"

namespace ck::client {

// The index values of an object (none: the object is not in that index). Must be a pure function
// of the object: the old values are recomputed from the old object on update.
using IndexFunc = std::function<std::vector<std::string>(const google::protobuf::Message& object)>;
using Indexers = std::map<std::string, IndexFunc>;

inline constexpr char kNamespaceIndex[] = "namespace";
inline constexpr char kLabelsIndex[] = "labels";
inline constexpr char kNodeNameIndex[] = "spec.nodeName";

// {metadata.namespace} (nothing for cluster-scoped objects): client-go's MetaNamespaceIndexFunc.
std::vector<std::string> NamespaceIndexFunc(const google::protobuf::Message& object);
// One "key=value" entry per label.
std::vector<std::string> LabelsIndexFunc(const google::protobuf::Message& object);
// The value of the scalar field at `path` (proto field names joined by "."), e.g.
// FieldIndexFunc("spec.nodeName") for pods by node; nothing when the field is unset or empty.
IndexFunc FieldIndexFunc(std::string path);
// The namespace and labels indexes.
Indexers DefaultIndexers();

class Indexer : public ReflectorStore {
 public:
  explicit Indexer(Indexers indexers = DefaultIndexers());

  // Adds index functions and indexes the current content with them. Invalid when a name is
  // already taken (nothing is added then).
  Status AddIndexers(Indexers indexers);

  // Writes. Add and Update both store the object under its key (insert or replace); Delete
  // removes the object's key. Each sets resource_version() to the object's resourceVersion.
  void Add(ObjectPtr object) override;
  void Update(ObjectPtr object) override;
  void Delete(ObjectPtr object) override;
  void DeleteKey(const std::string& key, std::string resource_version);
  // The content becomes exactly `objects` as of `resource_version`; indexes are rebuilt.
  void Replace(std::vector<ObjectPtr> objects, std::string resource_version) override;
  void Bookmark(std::string resource_version) override;

  // Reads. Objects are shared: never mutate them.
  ObjectPtr Get(std::string_view key) const;  // nullptr when absent
  ObjectPtr Get(std::string_view ns, std::string_view name) const;
  std::vector<ObjectPtr> List() const;
  std::vector<std::string> ListKeys() const;
  size_t size() const;
  std::string resource_version() const;

  struct Snapshot {
    std::vector<ObjectPtr> items;
    std::string resource_version;  // the version `items` are the content of
  };
  Snapshot TakeSnapshot() const;

  // The objects / keys whose index `index_name` has `value`. NotFound for an unknown index.
  Result<std::vector<ObjectPtr>> ByIndex(std::string_view index_name, std::string_view value) const;
  Result<std::vector<std::string>> IndexKeys(std::string_view index_name, std::string_view value) const;
  // The objects that share an index value of `index_name` with `object` (client-go's Index).
  Result<std::vector<ObjectPtr>> Index(std::string_view index_name, const google::protobuf::Message& object) const;
  // Every value index `index_name` currently holds (client-go's ListIndexFuncValues).
  Result<std::vector<std::string>> IndexValues(std::string_view index_name) const;
  std::vector<std::string> IndexNames() const;

 private:
  using ValueIndex = std::unordered_map<std::string, std::unordered_set<std::string>>;  // value -> keys
  struct NamedIndex {
    IndexFunc func;
    ValueIndex index;
  };
  void PutLocked(std::string key, ObjectPtr object);
  void RemoveLocked(const std::string& key);
  static void IndexObject(NamedIndex& idx, const std::string& key, const google::protobuf::Message& object);
  static void UnindexObject(NamedIndex& idx, const std::string& key, const google::protobuf::Message& object);
  const NamedIndex* FindIndexLocked(std::string_view name) const;

  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, ObjectPtr> items_;  // guarded by mu_; key -> object
  std::map<std::string, NamedIndex, std::less<>> indexes_;  // guarded by mu_
  std::string resource_version_;                       // guarded by mu_
};

}  // namespace ck::client
