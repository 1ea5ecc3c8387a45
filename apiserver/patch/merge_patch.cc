// RFC 7386 JSON merge patch as evanphx/json-patch v4's MergePatch applies it: objects merge key
// by key, null deletes, anything else replaces; nulls inside a value that is added are dropped
// from its objects (also inside lists, a v4 habit the RFC does not have).
#include <string>
#include <utility>

#include "apiserver/patch/json_util.h"
#include "apiserver/patch/patch.h"

namespace ck::apiserver::patch {
namespace {

using internal::Alloc;
using internal::Document;
using internal::Find;
using internal::Value;

Status ErrBadJsonDoc() { return Internal("Invalid JSON Document"); }
Status ErrBadJsonPatch() { return BadRequest("Invalid JSON Patch"); }

void PruneNulls(Value& v);

// pruneDocNulls
void PruneObjectNulls(Value& obj) {
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd();) {
    if (it->value.IsNull()) {
      it = obj.EraseMember(it);
    } else {
      PruneNulls(it->value);
      ++it;
    }
  }
}

// pruneNulls: objects lose their null members; lists keep null elements but prune inside the
// others.
void PruneNulls(Value& v) {
  if (v.IsObject()) {
    PruneObjectNulls(v);
  } else if (v.IsArray()) {
    for (Value& e : v.GetArray()) {
      if (!e.IsNull()) PruneNulls(e);
    }
  }
}

class JsonMerger {
 public:
  explicit JsonMerger(Alloc& alloc) : alloc_(alloc) {}

  // mergeDocs
  void MergeObjects(Value& doc, Value& patch) {
    for (auto& m : patch.GetObject()) {
      auto cur = Find(doc, internal::Str(m.name));
      if (m.value.IsNull()) {
        if (cur != doc.MemberEnd()) doc.EraseMember(cur);
      } else if (cur == doc.MemberEnd() || cur->value.IsNull()) {
        PruneNulls(m.value);
        if (cur == doc.MemberEnd()) {
          doc.AddMember(Value(m.name, alloc_), std::move(m.value), alloc_);
        } else {
          cur->value = std::move(m.value);
        }
      } else {
        Merge(cur->value, m.value);
      }
    }
  }

 private:
  // merge: an object merges into an object; anything else replaces (pruned when the current
  // value was not an object).
  void Merge(Value& cur, Value& patch) {
    if (!cur.IsObject()) {
      PruneNulls(patch);
      cur = std::move(patch);
    } else if (!patch.IsObject()) {
      cur = std::move(patch);
    } else {
      MergeObjects(cur, patch);
    }
  }

  Alloc& alloc_;
};

}  // namespace

Result<std::string> ApplyMergePatch(std::string_view original_json, std::string_view patch_json) {
  Alloc alloc;
  Document doc(&alloc);
  Document patch(&alloc);
  if (!internal::Parse(original_json, &doc).ok()) return ErrBadJsonDoc();
  if (!internal::Parse(patch_json, &patch).ok()) return ErrBadJsonPatch();
  if (doc.IsNull()) return ErrBadJsonDoc();
  if (patch.IsNull()) return ErrBadJsonPatch();
  if (!doc.IsObject() || !patch.IsObject()) {
    // Not two objects: the patch becomes the document, if it is an object or a list.
    if (!patch.IsObject() && !patch.IsArray()) return ErrBadJsonPatch();
    PruneNulls(patch);
    return internal::Write(patch);
  }
  JsonMerger(alloc).MergeObjects(doc, patch);
  return internal::Write(doc);
}

}  // namespace ck::apiserver::patch
