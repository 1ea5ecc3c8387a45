// Strategic merge patch, the apply half of k8s.io/apimachinery/pkg/util/strategicpatch
// (StrategicMergeMapPatch with MergeParallelList and IgnoreUnmatchedNulls, as kube-apiserver
// calls it). The functions below follow upstream's mergeMap / mergeSlice / mergePatchIntoOriginal
// step by step, on a RapidJSON DOM instead of Go maps; the comments name the upstream step.
#include <algorithm>
#include <climits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "apiserver/patch/json_util.h"
#include "apiserver/patch/patch.h"
#include "apiserver/patch/patch_meta.h"

namespace ck::apiserver::patch {
namespace {

using internal::Alloc;
using internal::Document;
using internal::Find;
using internal::GoEqual;
using internal::GoFormat;
using internal::GoFormatS;
using internal::GoTypeName;
using internal::HasPrefix;
using internal::Kind;
using internal::KindOf;
using internal::Str;
using internal::Value;

using List = std::vector<Value>;
using Items = std::span<const Value>;

constexpr std::string_view kDirectiveMarker = "$patch";
constexpr std::string_view kDeleteDirective = "delete";
constexpr std::string_view kReplaceDirective = "replace";
constexpr std::string_view kMergeDirective = "merge";
constexpr std::string_view kRetainKeysDirective = "$retainKeys";
constexpr std::string_view kDeleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList";
constexpr std::string_view kSetElementOrderPrefix = "$setElementOrder";

constexpr std::string_view kMapType = "map[string]interface {}";
constexpr std::string_view kSliceType = "[]interface {}";

// k8s.io/apimachinery/pkg/util/mergepatch errors with the code kube-apiserver answers them with
// (interpretStrategicMergePatchError); every other error is a plain Go error, a 500.
Status ErrBadPatchFormatForPrimitiveList() { return BadRequest("invalid patch format of primitive list"); }
Status ErrBadPatchFormatForRetainKeys() { return BadRequest("invalid patch format of retainKeys"); }
Status ErrBadPatchFormatForSetElementOrderList() {
  return BadRequest("invalid patch format of setElementOrder list");
}
Status ErrNoListOfLists() { return Invalid("lists of lists are not supported"); }
Status Plain(std::string message) { return Internal(std::move(message)); }
Status ErrNoMergeKey(const Value& m, std::string_view key) {
  return Plain("map: " + GoFormat(m) + " does not contain declared merge key: " + std::string(key));
}
Status ErrBadArgType(std::string_view expected, const Value& actual) {
  return Plain("expected a " + std::string(expected) + ", but received a " + GoTypeName(actual));
}
Status ErrBadPatchType(const Value& directive, const Value& m) {
  return Plain("unknown patch type: " + GoFormatS(directive) + " in map: " + GoFormat(m));
}

std::string FormatItems(Items items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(' ');
    out += GoFormat(items[i]);
  }
  return out + "]";
}

Items ItemsOf(const Value* array) {
  if (array == nullptr) return {};
  return Items(array->Begin(), array->Size());
}

bool IsString(const Value& v, std::string_view s) { return v.IsString() && Str(v) == s; }

// extractKey: "$setElementOrder/containers" -> "containers".
Result<std::string_view> ExtractKey(std::string_view s, std::string_view prefix) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos || s.substr(0, slash) != prefix) {
    if (prefix == kDeleteFromPrimitiveListPrefix) return ErrBadPatchFormatForPrimitiveList();
    return ErrBadPatchFormatForSetElementOrderList();
  }
  return s.substr(slash + 1);
}

// sliceElementType: the one Go type of every element of the lists.
Result<Kind> ElementKind(std::initializer_list<Items> lists) {
  bool first = true;
  Kind kind = Kind::kNull;
  for (Items list : lists) {
    for (const Value& v : list) {
      Kind k = KindOf(v);
      if (first) {
        if (k == Kind::kArray) return ErrNoListOfLists();
        kind = k;
        first = false;
      } else if (k != kind) {
        std::string all = "[";
        bool sep = false;
        for (Items l : lists) {
          if (sep) all.push_back(' ');
          sep = true;
          all += FormatItems(l);
        }
        return Plain("list element types are not identical: " + all + "]");
      }
    }
  }
  if (first) return Plain("no elements in any of the given slices");
  return kind;
}

List TakeList(Value& array) {
  List out;
  out.reserve(array.Size());
  for (Value& e : array.GetArray()) out.push_back(std::move(e));
  array.SetArray();
  return out;
}

// The value an element is ordered and matched by (upstream's index()): its merge key for a list
// of maps (nil when absent), the element itself otherwise.
const Value& OrderKey(const Value& item, std::string_view merge_key, Kind kind) {
  static const Value kNil;
  if (kind != Kind::kObject) return item;
  if (!item.IsObject()) return kNil;
  auto it = Find(item, merge_key);
  return it == item.MemberEnd() ? kNil : it->value;
}

int IndexOf(Items order, const Value& item, std::string_view merge_key, Kind kind) {
  const Value& want = OrderKey(item, merge_key, kind);
  for (size_t i = 0; i < order.size(); ++i) {
    if (GoEqual(OrderKey(order[i], merge_key, kind), want)) return static_cast<int>(i);
  }
  return -1;
}

// mergeKeyValueEqual
Result<bool> MergeKeyValueEqual(const Value& left, const Value& right, std::string_view merge_key) {
  if (merge_key.empty()) return GoEqual(left, right);
  if (!left.IsObject()) return ErrBadArgType(kMapType, left);
  if (!right.IsObject()) return ErrBadArgType(kMapType, right);
  auto l = Find(left, merge_key);
  if (l == left.MemberEnd()) return ErrNoMergeKey(left, merge_key);
  auto r = Find(right, merge_key);
  if (r == right.MemberEnd()) return ErrNoMergeKey(right, merge_key);
  return GoEqual(l->value, r->value);
}

bool IsDeleteItem(const Value& v) {
  auto it = Find(v, kDirectiveMarker);
  return it != v.MemberEnd() && IsString(it->value, kDeleteDirective);
}

// validatePatchWithSetOrderList: the patch list (deletions aside) must follow the order of the
// $setElementOrder list.
Status ValidatePatchWithSetOrderList(Items patch_list, Items set_order, std::string_view merge_key) {
  if (set_order.empty() || patch_list.empty()) return Status::Ok();
  std::vector<const Value*> non_delete;
  for (const Value& v : patch_list) {
    if (!merge_key.empty()) {
      if (!v.IsObject()) return ErrBadArgType(kMapType, v);
      if (IsDeleteItem(v)) continue;
    }
    non_delete.push_back(&v);
  }
  size_t p = 0, s = 0;
  while (p < non_delete.size() && s < set_order.size()) {
    if (non_delete[p]->IsObject() && Find(*non_delete[p], kDirectiveMarker) != non_delete[p]->MemberEnd()) {
      ++p;
      continue;
    }
    CK_ASSIGN_OR_RETURN(bool equal, MergeKeyValueEqual(*non_delete[p], set_order[s], merge_key));
    if (equal) ++p;
    ++s;
  }
  if (p < non_delete.size() && s >= set_order.size()) {
    return Plain("the order in patch list:\n" + FormatItems(patch_list) + "\n doesn't match " +
                 std::string(kSetElementOrderPrefix) + " list:\n" + FormatItems(set_order));
  }
  return Status::Ok();
}

// findMapInSliceBasedOnKeyValue
Result<int> FindMapByKey(Items list, std::string_view merge_key, const Value& value) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].IsObject()) return Plain("value for key " + std::to_string(i) + " is not a map");
    auto it = Find(list[i], merge_key);
    if (it != list[i].MemberEnd() && GoEqual(it->value, value)) return static_cast<int>(i);
  }
  return -1;
}

// normalizeSliceOrder: sorts `to_sort` by the position of each element in `order`; elements
// carrying "$patch: delete" go last.
Result<List> NormalizeSliceOrder(List to_sort, Items order, std::string_view merge_key, Kind kind) {
  List to_delete;
  if (kind == Kind::kObject) {
    for (Items list : {Items(to_sort), order}) {  // validateMergeKeyInLists
      for (const Value& item : list) {
        if (!item.IsObject()) return ErrBadArgType(kMapType, item);
        if (Find(item, merge_key) == item.MemberEnd()) return ErrNoMergeKey(item, merge_key);
      }
    }
    List keep;
    for (Value& v : to_sort) (IsDeleteItem(v) ? to_delete : keep).push_back(std::move(v));
    to_sort = std::move(keep);
  }
  std::vector<std::pair<int, size_t>> rank(to_sort.size());
  for (size_t i = 0; i < to_sort.size(); ++i) {
    int at = IndexOf(order, to_sort[i], merge_key, kind);
    rank[i] = {at >= 0 ? at : INT_MAX, i};
  }
  std::stable_sort(rank.begin(), rank.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  List out;
  out.reserve(to_sort.size() + to_delete.size());
  for (const auto& r : rank) out.push_back(std::move(to_sort[r.second]));
  for (Value& v : to_delete) out.push_back(std::move(v));
  return out;
}

// mergeSortedSlice: interleaves server-only elements (left) with patch elements (right), each
// list keeping its order; a server-only element goes first when the live list had it first.
List MergeSortedSlice(List left, List right, Items server_order, std::string_view merge_key, Kind kind) {
  List out;
  out.reserve(left.size() + right.size());
  size_t i = 0, j = 0;
  while (i < left.size() || j < right.size()) {
    if (i >= left.size()) {
      out.push_back(std::move(right[j++]));
    } else if (j >= right.size()) {
      out.push_back(std::move(left[i++]));
    } else {
      int li = IndexOf(server_order, left[i], merge_key, kind);
      int ri = IndexOf(server_order, right[j], merge_key, kind);
      if (li >= 0 && ri >= 0 && li < ri) {
        out.push_back(std::move(left[i++]));
      } else {
        out.push_back(std::move(right[j++]));
      }
    }
  }
  return out;
}

// normalizeElementOrder
Result<List> NormalizeElementOrder(List patch, List server_only, Items patch_order, Items server_order,
                                   std::string_view merge_key, Kind kind) {
  CK_ASSIGN_OR_RETURN(patch, NormalizeSliceOrder(std::move(patch), patch_order, merge_key, kind));
  CK_ASSIGN_OR_RETURN(server_only,
                      NormalizeSliceOrder(std::move(server_only), server_order, merge_key, kind));
  return MergeSortedSlice(std::move(server_only), std::move(patch), server_order, merge_key, kind);
}

// partitionPrimitivesByPresentInList / partitionMapsByPresentInList: (in `by`, not in `by`).
Result<std::pair<List, List>> Partition(List merged, Items by, std::string_view merge_key) {
  std::pair<List, List> out;
  for (Value& v : merged) {
    bool found = false;
    if (merge_key.empty()) {
      found = std::any_of(by.begin(), by.end(), [&](const Value& b) { return GoEqual(b, v); });
    } else {
      if (!v.IsObject()) return ErrBadArgType(kMapType, v);
      auto key = Find(v, merge_key);
      if (key == v.MemberEnd()) return ErrNoMergeKey(v, merge_key);
      CK_ASSIGN_OR_RETURN(int at, FindMapByKey(by, merge_key, key->value));
      found = at >= 0;
    }
    (found ? out.first : out.second).push_back(std::move(v));
  }
  return out;
}

// removeDirectives: drops every object carrying "$patch" from a value new to the document.
// Returns false when `v` itself is such an object.
bool RemoveDirectives(Value& v) {
  if (v.IsObject()) {
    if (Find(v, kDirectiveMarker) != v.MemberEnd()) return false;
    std::vector<rapidjson::SizeType> drop;
    for (rapidjson::SizeType i = 0; i < v.MemberCount(); ++i) {
      if (!RemoveDirectives(v.MemberBegin()[i].value)) drop.push_back(i);
    }
    for (auto d = drop.rbegin(); d != drop.rend(); ++d) v.EraseMember(v.MemberBegin() + *d);
  } else if (v.IsArray()) {
    Value* a = v.Begin();
    rapidjson::SizeType w = 0;
    for (rapidjson::SizeType r = 0; r < v.Size(); ++r) {
      if (!RemoveDirectives(a[r])) continue;
      if (w != r) a[w] = std::move(a[r]);
      ++w;
    }
    while (v.Size() > w) v.PopBack();
  }
  return true;
}

// discardNullValuesFromPatch: nulls in a value new to the document mean nothing.
void DiscardNulls(Value& v) {
  if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd();) {
      if (it->value.IsNull()) {
        it = v.EraseMember(it);
      } else {
        DiscardNulls(it->value);
        ++it;
      }
    }
  } else if (v.IsArray()) {
    for (Value& e : v.GetArray()) DiscardNulls(e);
  }
}

class StrategicMerger {
 public:
  explicit StrategicMerger(Alloc& alloc) : alloc_(alloc) {}

  // mergeMap: merges object `patch` into object `original` (which may be replaced whole).
  Status MergeMap(Value& original, Value& patch, const Schema& schema) {
    if (auto d = Find(patch, kDirectiveMarker); d != patch.MemberEnd()) {
      // handleDirectiveInMergeMap
      if (IsString(d->value, kReplaceDirective)) {
        patch.EraseMember(d);
        original = std::move(patch);
        return Status::Ok();
      }
      if (IsString(d->value, kDeleteDirective)) {
        original.SetObject();
        return Status::Ok();
      }
      return ErrBadPatchType(d->value, patch);
    }
    CK_RETURN_IF_ERROR(ApplyRetainKeys(original, patch));
    CK_RETURN_IF_ERROR(MergePatchIntoOriginal(original, patch, schema));

    for (auto& member : patch.GetObject()) {
      std::string_view key = Str(member.name);
      Value& patch_v = member.value;
      bool is_delete_list = false;
      if (HasPrefix(key, kDeleteFromPrimitiveListPrefix)) {  // preprocessDeletionListForMerging
        CK_ASSIGN_OR_RETURN(key, ExtractKey(key, kDeleteFromPrimitiveListPrefix));
        is_delete_list = true;
      }
      auto found = Find(original, key);
      if (patch_v.IsNull()) {  // null deletes the key
        if (found != original.MemberEnd()) original.EraseMember(found);
        continue;
      }
      if (found == original.MemberEnd() || KindOf(found->value) != KindOf(patch_v)) {
        // New to the document, or of another type: take the patch value, minus its directives.
        if (is_delete_list) continue;
        DiscardNulls(patch_v);
        bool keep = RemoveDirectives(patch_v);
        if (found == original.MemberEnd()) {
          if (keep) original.AddMember(internal::MakeString(key, alloc_), std::move(patch_v), alloc_);
        } else if (keep) {
          found->value = std::move(patch_v);
        } else {
          original.EraseMember(found);
        }
        continue;
      }
      Value& orig_v = found->value;
      if (orig_v.IsObject()) {
        // Unknown keys (not in the schema) are merged without a schema.
        FieldMeta meta = LookupField(schema, key);
        if (meta.tags.strategy == PatchStrategy::kReplace) {
          orig_v = std::move(patch_v);
        } else {
          CK_RETURN_IF_ERROR(MergeMap(orig_v, patch_v, meta.schema));
        }
      } else if (orig_v.IsArray()) {
        CK_ASSIGN_OR_RETURN(FieldMeta meta, LookupForSlice(schema, key));
        if (meta.tags.strategy == PatchStrategy::kMerge || is_delete_list) {
          CK_ASSIGN_OR_RETURN(List merged,
                              MergeSlice(TakeList(orig_v), TakeList(patch_v), meta, is_delete_list));
          Store(orig_v, std::move(merged));
        } else {
          orig_v = std::move(patch_v);
        }
      } else {
        orig_v = std::move(patch_v);
      }
    }
    return Status::Ok();
  }

 private:
  void Store(Value& dst, List items) {
    dst.SetArray();
    dst.Reserve(static_cast<rapidjson::SizeType>(items.size()), alloc_);
    for (Value& v : items) dst.PushBack(std::move(v), alloc_);
  }

  // A copy of the list that keeps what ordering looks at: each map's merge key (the whole
  // element when the key is missing, for the error message), each scalar.
  List OrderSnapshot(Items items, std::string_view merge_key) {
    List out;
    out.reserve(items.size());
    for (const Value& item : items) {
      if (item.IsObject() && !merge_key.empty()) {
        if (auto key = Find(item, merge_key); key != item.MemberEnd()) {
          Value o(rapidjson::kObjectType);
          o.AddMember(internal::MakeString(merge_key, alloc_), Value(key->value, alloc_), alloc_);
          out.push_back(std::move(o));
          continue;
        }
      }
      out.emplace_back(item, alloc_);
    }
    return out;
  }

  // LookupPatchMetadataForSlice
  Result<FieldMeta> LookupForSlice(const Schema& schema, std::string_view key) {
    FieldMeta meta = LookupField(schema, key);
    if (meta.found && !meta.repeated && meta.go_kind != "slice") {
      return Plain("expected slice or array type, but got: " + std::string(SchemaKind(schema)));
    }
    return meta;
  }

  // applyRetainKeysDirective: keys of `original` missing from $retainKeys are cleared; every key
  // the patch sets must be listed.
  Status ApplyRetainKeys(Value& original, Value& patch) {
    auto it = Find(patch, kRetainKeysDirective);
    if (it == patch.MemberEnd()) return Status::Ok();
    Value retain(std::move(it->value));
    patch.EraseMember(it);
    if (!retain.IsArray()) return ErrBadPatchFormatForRetainKeys();
    auto listed = [&](std::string_view k) {
      for (const Value& r : retain.GetArray()) {
        if (IsString(r, k)) return true;
      }
      return false;
    };
    for (const auto& m : patch.GetObject()) {
      std::string_view k = Str(m.name);
      if (m.value.IsNull() || HasPrefix(k, kDeleteFromPrimitiveListPrefix) ||
          HasPrefix(k, kSetElementOrderPrefix)) {
        continue;
      }
      if (!listed(k)) return ErrBadPatchFormatForRetainKeys();
    }
    for (auto m = original.MemberBegin(); m != original.MemberEnd();) {
      m = listed(Str(m->name)) ? m + 1 : original.EraseMember(m);
    }
    return Status::Ok();
  }

  // mergePatchIntoOriginal: each $setElementOrder/<list> merges <list> and fixes its order:
  // $setElementOrder first, then the patch's order, then the live object's.
  Status MergePatchIntoOriginal(Value& original, Value& patch, const Schema& schema) {
    std::vector<std::string> directives;
    for (const auto& m : patch.GetObject()) {
      if (HasPrefix(Str(m.name), kSetElementOrderPrefix)) directives.emplace_back(Str(m.name));
    }
    for (const std::string& directive : directives) {
      auto d = Find(patch, directive);
      Value set_order_value(std::move(d->value));
      patch.EraseMember(d);
      if (!set_order_value.IsArray()) return ErrBadArgType(kSliceType, set_order_value);
      CK_ASSIGN_OR_RETURN(std::string_view key_view, ExtractKey(directive, kSetElementOrderPrefix));
      const std::string key(key_view);
      auto orig_it = Find(original, key);
      auto patch_it = Find(patch, key);
      const bool found_original = orig_it != original.MemberEnd();
      const bool found_patch = patch_it != patch.MemberEnd();
      if (found_original && !orig_it->value.IsArray()) return ErrBadArgType(kSliceType, orig_it->value);
      if (found_patch && !patch_it->value.IsArray()) return ErrBadArgType(kSliceType, patch_it->value);
      CK_ASSIGN_OR_RETURN(FieldMeta meta, LookupForSlice(schema, key));
      const std::string_view merge_key = meta.tags.merge_key;
      Items set_order = ItemsOf(&set_order_value);
      Items original_items = found_original ? ItemsOf(&orig_it->value) : Items();
      Items patch_items = found_patch ? ItemsOf(&patch_it->value) : Items();
      CK_RETURN_IF_ERROR(ValidatePatchWithSetOrderList(patch_items, set_order, merge_key));
      if (!found_original && !found_patch) continue;

      // Taken before the lists are consumed; upstream reads them after merging, unchanged there.
      Result<Kind> kind = ElementKind({original_items, patch_items});
      List server_order = OrderSnapshot(original_items, merge_key);
      List merged;
      if (found_original && !found_patch) {
        merged = TakeList(orig_it->value);
      } else if (!found_original) {
        RemoveDirectives(patch_it->value);
        merged = TakeList(patch_it->value);
      } else {
        CK_ASSIGN_OR_RETURN(merged,
                            MergeSliceHandler(TakeList(orig_it->value), TakeList(patch_it->value), meta));
      }
      CK_ASSIGN_OR_RETURN(auto parts, Partition(std::move(merged), set_order, merge_key));
      if (!kind.ok()) return kind.status();
      CK_ASSIGN_OR_RETURN(List both, NormalizeElementOrder(std::move(parts.first), std::move(parts.second),
                                                           set_order, server_order, merge_key, *kind));
      if (found_patch) patch.EraseMember(patch_it);
      auto target = Find(original, key);
      if (target == original.MemberEnd()) {
        original.AddMember(internal::MakeString(key, alloc_), Value(rapidjson::kArrayType), alloc_);
        target = original.MemberEnd() - 1;
      }
      Store(target->value, std::move(both));
    }
    return Status::Ok();
  }

  // mergeSliceHandler (not a deletion list)
  Result<List> MergeSliceHandler(List original, List patch, const FieldMeta& meta) {
    if (meta.tags.strategy == PatchStrategy::kMerge) {
      return MergeSlice(std::move(original), std::move(patch), meta, /*is_delete_list=*/false);
    }
    return patch;
  }

  // mergeSlice: lists of scalars merge as sets (or lose the listed values, for a
  // $deleteFromPrimitiveList); lists of maps merge element by element on the merge key.
  Result<List> MergeSlice(List original, List patch, const FieldMeta& meta, bool is_delete_list) {
    if (original.empty() && patch.empty()) return original;
    CK_ASSIGN_OR_RETURN(Kind kind, ElementKind({Items(original), Items(patch)}));
    const std::string_view merge_key = meta.tags.merge_key;
    List merged;
    List server_order, patch_order;
    if (kind != Kind::kObject) {
      if (is_delete_list) {  // deleteFromSlice
        List kept;
        for (Value& v : original) {
          bool listed =
              std::any_of(patch.begin(), patch.end(), [&](const Value& d) { return GoEqual(d, v); });
          if (!listed) kept.push_back(std::move(v));
        }
        return kept;
      }
      server_order = OrderSnapshot(original, merge_key);
      patch_order = OrderSnapshot(patch, merge_key);
      for (List* list : {&original, &patch}) {  // deduplicateScalars
        for (Value& v : *list) {
          bool dup = std::any_of(merged.begin(), merged.end(), [&](const Value& m) { return GoEqual(m, v); });
          if (!dup) merged.push_back(std::move(v));
        }
      }
    } else {
      if (merge_key.empty()) {
        std::string_view elem = meta.go_kind.empty() ? "interface" : meta.go_kind;
        return Plain("cannot merge lists without merge key for " + std::string(elem));
      }
      CK_RETURN_IF_ERROR(MergeSliceWithSpecialElements(&original, &patch, merge_key));
      server_order = OrderSnapshot(original, merge_key);
      patch_order = OrderSnapshot(patch, merge_key);
      CK_ASSIGN_OR_RETURN(merged, MergeSliceWithoutSpecialElements(std::move(original), std::move(patch),
                                                                   merge_key, meta.schema));
    }
    CK_ASSIGN_OR_RETURN(auto parts, Partition(std::move(merged), patch_order, merge_key));
    return NormalizeElementOrder(std::move(parts.first), std::move(parts.second), patch_order, server_order,
                                 merge_key, kind);
  }

  // mergeSliceWithSpecialElements: "$patch: delete" elements remove their match from the live
  // list; a "$patch: replace" element makes the patch list (minus directives) the whole list.
  Status MergeSliceWithSpecialElements(List* original, List* patch, std::string_view merge_key) {
    List plain;
    bool replace = false;
    for (Value& v : *patch) {
      auto d = Find(v, kDirectiveMarker);
      if (d == v.MemberEnd()) {
        plain.push_back(std::move(v));
        continue;
      }
      if (IsString(d->value, kDeleteDirective)) {
        auto key = Find(v, merge_key);
        if (key == v.MemberEnd()) return ErrNoMergeKey(v, merge_key);
        List kept;  // deleteMatchingEntries
        for (size_t i = 0; i < original->size(); ++i) {
          Value& o = (*original)[i];
          if (!o.IsObject()) return Plain("value for key " + std::to_string(i) + " is not a map");
          auto ok = Find(o, merge_key);
          if (ok == o.MemberEnd() || !GoEqual(ok->value, key->value)) kept.push_back(std::move(o));
        }
        *original = std::move(kept);
      } else if (IsString(d->value, kReplaceDirective)) {
        replace = true;
      } else if (IsString(d->value, kMergeDirective)) {
        return Plain("merging lists cannot yet be specified in the patch");
      } else {
        return ErrBadPatchType(d->value, v);
      }
    }
    if (replace) {
      *original = std::move(plain);
      patch->clear();
    } else {
      *patch = std::move(plain);
    }
    return Status::Ok();
  }

  // mergeSliceWithoutSpecialElements: each patch element merges into the live element with the
  // same merge key, or is appended.
  Result<List> MergeSliceWithoutSpecialElements(List original, List patch, std::string_view merge_key,
                                                const Schema& schema) {
    for (Value& v : patch) {
      auto key = Find(v, merge_key);
      if (key == v.MemberEnd()) return ErrNoMergeKey(v, merge_key);
      CK_ASSIGN_OR_RETURN(int at, FindMapByKey(original, merge_key, key->value));
      if (at >= 0) {
        CK_RETURN_IF_ERROR(MergeMap(original[static_cast<size_t>(at)], v, schema));
      } else {
        original.push_back(std::move(v));
      }
    }
    return original;
  }

  Alloc& alloc_;
};

}  // namespace

Result<std::string> ApplyStrategicMergePatch(std::string_view original_json, std::string_view patch_json,
                                             const google::protobuf::Descriptor* type) {
  Alloc alloc;
  Document original(&alloc);
  Document patch(&alloc);
  if (!internal::Parse(original_json, &original).ok() || !original.IsObject()) {
    return BadRequest("invalid JSON document");  // mergepatch.ErrBadJSONDoc
  }
  // kube-apiserver decodes the body into a map[string]interface{} first (400 on failure).
  CK_RETURN_IF_ERROR(internal::Parse(patch_json, &patch));
  if (patch.IsNull()) return internal::Write(original);
  if (!patch.IsObject()) {
    return BadRequest("json: cannot unmarshal " + std::string(internal::GoValueWord(patch)) +
                      " into Go value of type map[string]interface {}");
  }
  StrategicMerger merger(alloc);
  CK_RETURN_IF_ERROR(merger.MergeMap(original, patch, SchemaFor(type)));
  return internal::Write(original);
}

}  // namespace ck::apiserver::patch
