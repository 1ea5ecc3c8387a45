#include "common/client/cache/indexer.h"

#include <mutex>

#include <google/protobuf/descriptor.h>

#include "common/base/strings.h"
#include "common/client/cache/meta.h"

namespace ck::client {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

std::vector<std::string> NamespaceIndexFunc(const Message& object) {
  const metav1::ObjectMeta* meta = api::FindMeta(object);
  if (meta == nullptr || meta->namespace_().empty()) return {};
  return {meta->namespace_()};
}

std::vector<std::string> LabelsIndexFunc(const Message& object) {
  const metav1::ObjectMeta* meta = api::FindMeta(object);
  if (meta == nullptr) return {};
  std::vector<std::string> values;
  values.reserve(meta->labels().size());
  for (const auto& [key, value] : meta->labels()) values.push_back(key + "=" + value);
  return values;
}

IndexFunc FieldIndexFunc(std::string path) {
  std::vector<std::string> parts;
  for (std::string_view part : Split(path, '.')) parts.emplace_back(part);
  CK_CHECK(!parts.empty()) << "empty field path";
  return [parts = std::move(parts)](const Message& object) -> std::vector<std::string> {
    const Message* message = &object;
    for (size_t i = 0; i < parts.size(); ++i) {
      const FieldDescriptor* field = message->GetDescriptor()->FindFieldByName(parts[i]);
      if (field == nullptr || field->is_repeated()) return {};
      const auto* reflection = message->GetReflection();
      if (!reflection->HasField(*message, field)) return {};
      bool last = i + 1 == parts.size();
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        if (last) return {};
        message = &reflection->GetMessage(*message, field);
        continue;
      }
      if (!last) return {};
      std::string value;
      switch (field->cpp_type()) {
        case FieldDescriptor::CPPTYPE_STRING: value = reflection->GetString(*message, field); break;
        case FieldDescriptor::CPPTYPE_INT32: value = std::to_string(reflection->GetInt32(*message, field)); break;
        case FieldDescriptor::CPPTYPE_INT64: value = std::to_string(reflection->GetInt64(*message, field)); break;
        case FieldDescriptor::CPPTYPE_UINT32: value = std::to_string(reflection->GetUInt32(*message, field)); break;
        case FieldDescriptor::CPPTYPE_UINT64: value = std::to_string(reflection->GetUInt64(*message, field)); break;
        case FieldDescriptor::CPPTYPE_BOOL: value = reflection->GetBool(*message, field) ? "true" : "false"; break;
        case FieldDescriptor::CPPTYPE_ENUM: value = reflection->GetEnum(*message, field)->name(); break;
        default: return {};
      }
      if (value.empty()) return {};
      return {std::move(value)};
    }
    return {};
  };
}

Indexers DefaultIndexers() {
  Indexers indexers;
  indexers[kNamespaceIndex] = NamespaceIndexFunc;
  indexers[kLabelsIndex] = LabelsIndexFunc;
  return indexers;
}

Indexer::Indexer(Indexers indexers) {
  for (auto& [name, func] : indexers) {
    CK_CHECK(func != nullptr) << "index " << name << " has no function";
    indexes_.emplace(name, NamedIndex{std::move(func), {}});
  }
}

Status Indexer::AddIndexers(Indexers indexers) {
  std::unique_lock lock(mu_);
  for (const auto& [name, func] : indexers) {
    if (indexes_.count(name) != 0) return Invalid("indexer conflict: " + name);
    if (func == nullptr) return Invalid("index " + name + " has no function");
  }
  for (auto& [name, func] : indexers) {
    NamedIndex& idx = indexes_.emplace(name, NamedIndex{std::move(func), {}}).first->second;
    for (const auto& [key, object] : items_) IndexObject(idx, key, *object);
  }
  return Status::Ok();
}

void Indexer::IndexObject(NamedIndex& idx, const std::string& key, const Message& object) {
  for (std::string& value : idx.func(object)) idx.index[std::move(value)].insert(key);
}

void Indexer::UnindexObject(NamedIndex& idx, const std::string& key, const Message& object) {
  for (const std::string& value : idx.func(object)) {
    auto it = idx.index.find(value);
    if (it == idx.index.end()) continue;
    it->second.erase(key);
    if (it->second.empty()) idx.index.erase(it);  // empty sets would grow without bound
  }
}

void Indexer::PutLocked(std::string key, ObjectPtr object) {
  auto it = items_.find(key);
  if (it != items_.end()) {
    for (auto& [name, idx] : indexes_) {
      // Only touch the index when the values changed (the common update leaves labels alone).
      std::vector<std::string> old_values = idx.func(*it->second);
      std::vector<std::string> new_values = idx.func(*object);
      if (old_values == new_values) continue;
      for (const std::string& value : old_values) {
        auto entry = idx.index.find(value);
        if (entry == idx.index.end()) continue;
        entry->second.erase(key);
        if (entry->second.empty()) idx.index.erase(entry);
      }
      for (std::string& value : new_values) idx.index[std::move(value)].insert(key);
    }
    it->second = std::move(object);
    return;
  }
  for (auto& [name, idx] : indexes_) IndexObject(idx, key, *object);
  items_.emplace(std::move(key), std::move(object));
}

void Indexer::RemoveLocked(const std::string& key) {
  auto it = items_.find(key);
  if (it == items_.end()) return;
  for (auto& [name, idx] : indexes_) UnindexObject(idx, key, *it->second);
  items_.erase(it);
}

void Indexer::Add(ObjectPtr object) { Update(std::move(object)); }

void Indexer::Update(ObjectPtr object) {
  CK_CHECK(object != nullptr);
  std::string key = KeyOf(*object);
  const std::string& rv = ResourceVersionOf(*object);
  std::unique_lock lock(mu_);
  if (!rv.empty()) resource_version_ = rv;
  PutLocked(std::move(key), std::move(object));
}

void Indexer::Delete(ObjectPtr object) {
  CK_CHECK(object != nullptr);
  DeleteKey(KeyOf(*object), ResourceVersionOf(*object));
}

void Indexer::DeleteKey(const std::string& key, std::string resource_version) {
  std::unique_lock lock(mu_);
  if (!resource_version.empty()) resource_version_ = std::move(resource_version);
  RemoveLocked(key);
}

void Indexer::Replace(std::vector<ObjectPtr> objects, std::string resource_version) {
  // Keys and index values are computed outside the lock: readers keep going meanwhile.
  std::unordered_map<std::string, ObjectPtr> items;
  items.reserve(objects.size());
  for (ObjectPtr& object : objects) {
    CK_CHECK(object != nullptr);
    std::string key = KeyOf(*object);
    items[std::move(key)] = std::move(object);
  }
  std::unique_lock lock(mu_);
  items_ = std::move(items);
  for (auto& [name, idx] : indexes_) {
    idx.index.clear();
    for (const auto& [key, object] : items_) IndexObject(idx, key, *object);
  }
  resource_version_ = std::move(resource_version);
}

void Indexer::Bookmark(std::string resource_version) {
  std::unique_lock lock(mu_);
  resource_version_ = std::move(resource_version);
}

ObjectPtr Indexer::Get(std::string_view key) const {
  std::shared_lock lock(mu_);
  auto it = items_.find(std::string(key));
  return it == items_.end() ? nullptr : it->second;
}

ObjectPtr Indexer::Get(std::string_view ns, std::string_view name) const { return Get(api::ObjectKey(ns, name)); }

std::vector<ObjectPtr> Indexer::List() const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(items_.size());
  for (const auto& [key, object] : items_) out.push_back(object);
  return out;
}

std::vector<std::string> Indexer::ListKeys() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const auto& [key, object] : items_) out.push_back(key);
  return out;
}

size_t Indexer::size() const {
  std::shared_lock lock(mu_);
  return items_.size();
}

std::string Indexer::resource_version() const {
  std::shared_lock lock(mu_);
  return resource_version_;
}

Indexer::Snapshot Indexer::TakeSnapshot() const {
  std::shared_lock lock(mu_);
  Snapshot snapshot;
  snapshot.items.reserve(items_.size());
  for (const auto& [key, object] : items_) snapshot.items.push_back(object);
  snapshot.resource_version = resource_version_;
  return snapshot;
}

const Indexer::NamedIndex* Indexer::FindIndexLocked(std::string_view name) const {
  auto it = indexes_.find(name);
  return it == indexes_.end() ? nullptr : &it->second;
}

Result<std::vector<ObjectPtr>> Indexer::ByIndex(std::string_view index_name, std::string_view value) const {
  std::shared_lock lock(mu_);
  const NamedIndex* idx = FindIndexLocked(index_name);
  if (idx == nullptr) return NotFound("index with name " + std::string(index_name) + " does not exist");
  std::vector<ObjectPtr> out;
  auto it = idx->index.find(std::string(value));
  if (it == idx->index.end()) return out;
  out.reserve(it->second.size());
  for (const std::string& key : it->second) out.push_back(items_.at(key));
  return out;
}

Result<std::vector<std::string>> Indexer::IndexKeys(std::string_view index_name, std::string_view value) const {
  std::shared_lock lock(mu_);
  const NamedIndex* idx = FindIndexLocked(index_name);
  if (idx == nullptr) return NotFound("index with name " + std::string(index_name) + " does not exist");
  auto it = idx->index.find(std::string(value));
  if (it == idx->index.end()) return std::vector<std::string>();
  return std::vector<std::string>(it->second.begin(), it->second.end());
}

Result<std::vector<ObjectPtr>> Indexer::Index(std::string_view index_name, const Message& object) const {
  std::shared_lock lock(mu_);
  const NamedIndex* idx = FindIndexLocked(index_name);
  if (idx == nullptr) return NotFound("index with name " + std::string(index_name) + " does not exist");
  std::unordered_set<std::string> keys;
  for (const std::string& value : idx->func(object)) {
    auto it = idx->index.find(value);
    if (it != idx->index.end()) keys.insert(it->second.begin(), it->second.end());
  }
  std::vector<ObjectPtr> out;
  out.reserve(keys.size());
  for (const std::string& key : keys) out.push_back(items_.at(key));
  return out;
}

Result<std::vector<std::string>> Indexer::IndexValues(std::string_view index_name) const {
  std::shared_lock lock(mu_);
  const NamedIndex* idx = FindIndexLocked(index_name);
  if (idx == nullptr) return NotFound("index with name " + std::string(index_name) + " does not exist");
  std::vector<std::string> out;
  out.reserve(idx->index.size());
  for (const auto& [value, keys] : idx->index) out.push_back(value);
  return out;
}

std::vector<std::string> Indexer::IndexNames() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, idx] : indexes_) out.push_back(name);
  return out;
}

}  // namespace ck::client
