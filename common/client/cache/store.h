// ReflectorStore: what a Reflector writes into (client-go's cache.Store as the reflector sees it).
// The reflector calls it from its one thread, in the order the server produced the changes:
// a Replace after every (re)list, then one call per watch event. Two implementations: Indexer
// (a plain cache) and DeltaQueue (the SharedIndexInformer's queue towards its handlers).
//
// Also the tombstone a delete handler receives for a delete this cache missed.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "common/client/api_client.h"

namespace ck::client {

class ReflectorStore {
 public:
  virtual ~ReflectorStore() = default;
  // One watch event. The object is the new (for Delete: the last) state; its
  // metadata.resourceVersion is the event's resourceVersion.
  virtual void Add(ObjectPtr object) = 0;
  virtual void Update(ObjectPtr object) = 0;
  virtual void Delete(ObjectPtr object) = 0;
  // The complete content as of `resource_version` (a list): anything else the store holds is gone.
  virtual void Replace(std::vector<ObjectPtr> objects, std::string resource_version) = 0;
  // A watch bookmark: nothing of interest changed up to `resource_version`.
  virtual void Bookmark(std::string resource_version) = 0;
};

// An object deleted while the watch was down: a relist found it gone, so its final state is not
// known and `obj` is the last state this cache saw (client-go's cache.DeletedFinalStateUnknown).
struct DeletedFinalStateUnknown {
  std::string key;
  ObjectPtr obj;
};

// What a delete handler receives: the deleted object as the delete event carried it, or a
// tombstone for a delete that was missed.
using DeletedObject = std::variant<ObjectPtr, DeletedFinalStateUnknown>;

// The object in either case (the final or the last known state).
inline const ObjectPtr& StateOf(const DeletedObject& deleted) {
  if (const auto* tombstone = std::get_if<DeletedFinalStateUnknown>(&deleted)) return tombstone->obj;
  return std::get<ObjectPtr>(deleted);
}

}  // namespace ck::client
