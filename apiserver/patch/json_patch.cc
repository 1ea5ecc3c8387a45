// RFC 6902 JSON patch as evanphx/json-patch v4 (the version kube-apiserver vendors) applies it,
// messages included. Its departures from the RFC are kept on purpose, since clients see them:
// "replace" of a missing object key adds it, "copy" from a missing key copies null, negative
// array indices count from the end, a "test" of an object passes when the document's members are
// a subset of the given value's, and a path's first segment is dropped without being checked.
#include <string>
#include <utility>
#include <vector>

#include "apiserver/patch/json_util.h"
#include "apiserver/patch/patch.h"
#include "common/base/strings.h"

namespace ck::apiserver::patch {
namespace {

using internal::Alloc;
using internal::Document;
using internal::Find;
using internal::GoEqual;
using internal::Str;
using internal::Value;

constexpr std::string_view kMissing = "missing value";                  // jsonpatch.ErrMissing
constexpr std::string_view kInvalidIndex = "invalid index referenced";  // jsonpatch.ErrInvalidIndex

// errors.Wrapf(err, msg): "msg: err".
std::string Wrap(std::string_view msg, std::string_view err) {
  return std::string(msg) + ": " + std::string(err);
}

// strconv.Atoi, with its error text.
Result<int64_t> Atoi(std::string_view s) {
  auto fail = [&](std::string_view why) {
    std::string quoted;
    AppendQuoted(quoted, s);
    return Status(Code::kInvalid, "strconv.Atoi: parsing " + quoted + ": " + std::string(why));
  };
  size_t i = 0;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    i = 1;
  }
  if (i >= s.size()) return fail("invalid syntax");
  uint64_t n = 0;
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return fail("invalid syntax");
    uint64_t d = static_cast<uint64_t>(s[i] - '0');
    if (n > (limit - d) / 10) return fail("value out of range");
    n = n * 10 + d;
  }
  return negative ? static_cast<int64_t>(0 - n) : static_cast<int64_t>(n);
}

Status InvalidIndex(int64_t idx) {
  return Status(Code::kInvalid,
                Wrap("Unable to access invalid index: " + std::to_string(idx), kInvalidIndex));
}

// decodePatchKey: "~1" is "/", "~0" is "~", read left to right.
std::string DecodeKey(std::string_view part) {
  std::string out;
  out.reserve(part.size());
  for (size_t i = 0; i < part.size(); ++i) {
    if (part[i] == '~' && i + 1 < part.size() && (part[i + 1] == '0' || part[i + 1] == '1')) {
      out.push_back(part[i + 1] == '1' ? '/' : '~');
      ++i;
    } else {
      out.push_back(part[i]);
    }
  }
  return out;
}

// An array index that must name an element (get, set, remove).
Result<rapidjson::SizeType> ElementIndex(const Value& array, std::string_view key) {
  CK_ASSIGN_OR_RETURN(int64_t idx, Atoi(key));
  const int64_t size = array.Size();
  if (idx >= size) return InvalidIndex(idx);
  if (idx < 0) {
    if (idx < -size) return InvalidIndex(idx);
    idx += size;
  }
  return static_cast<rapidjson::SizeType>(idx);
}

// container.get: the value under `key`, nullptr for a missing object key (not an error there).
Result<Value*> Get(Value& container, std::string_view key) {
  if (container.IsObject()) {
    auto it = Find(container, key);
    return it == container.MemberEnd() ? nullptr : &it->value;
  }
  CK_ASSIGN_OR_RETURN(rapidjson::SizeType i, ElementIndex(container, key));
  return &container[i];
}

// findObject: the container of the last segment of `path`, or nullptr.
struct Target {
  Value* container = nullptr;
  std::string key;
  int depth = 0;  // segments below the root
};
Target FindObject(Value& root, std::string_view path) {
  std::vector<std::string_view> split = Split(path, '/');
  if (split.size() < 2) return {};
  Value* doc = &root;
  for (size_t i = 1; i + 1 < split.size(); ++i) {
    Result<Value*> next = Get(*doc, DecodeKey(split[i]));
    if (!next.ok() || *next == nullptr || !((*next)->IsObject() || (*next)->IsArray())) return {};
    doc = *next;
  }
  return {doc, DecodeKey(split.back()), static_cast<int>(split.size()) - 1};
}

class Applier {
 public:
  Applier(Alloc& alloc, Value& doc) : alloc_(alloc), doc_(doc) {}

  Status Apply(const Value& op) {
    std::string kind = Kind(op);
    if (kind == "add") return Add(op);
    if (kind == "remove") return Remove(op);
    if (kind == "replace") return Replace(op);
    if (kind == "move") return Move(op);
    if (kind == "test") return Test(op);
    if (kind == "copy") return Copy(op);
    return Fail("Unexpected kind: " + kind);
  }

 private:
  static Status Fail(std::string message) { return Status(Code::kInvalid, std::move(message)); }

  static std::string Kind(const Value& op) {
    auto it = Find(op, "op");
    if (it == op.MemberEnd() || !it->value.IsString()) return "unknown";
    return std::string(Str(it->value));
  }

  // Operation.Path / Operation.From: the string member, or the decoding error.
  static Result<std::string> Member(const Value& op, std::string_view name, std::string_view missing) {
    auto it = Find(op, name);
    if (it == op.MemberEnd() || it->value.IsNull()) return Fail(Wrap(missing, kMissing));
    if (!it->value.IsString()) {
      return Fail("json: cannot unmarshal " + std::string(internal::GoValueWord(it->value)) +
                  " into Go value of type string");
    }
    return std::string(Str(it->value));
  }
  static Result<std::string> Path(const Value& op) {
    return Member(op, "path", "operation missing path field");
  }
  static Result<std::string> From(const Value& op) {
    return Member(op, "from", "operation, missing from field");
  }

  // Operation.value: the "value" member; an absent one stands for null.
  static const Value* OpValue(const Value& op) {
    auto it = Find(op, "value");
    return it == op.MemberEnd() ? nullptr : &it->value;
  }

  Status CheckDepth(const Target& t, const Value* v) const {
    if (t.depth + (v == nullptr ? 0 : internal::Depth(*v)) > internal::kMaxDepth) {
      return Fail("exceeded max depth");
    }
    return Status::Ok();
  }

  // container.add
  Status AddTo(Value& container, std::string_view key, Value&& v) {
    if (container.IsObject()) {
      auto it = Find(container, key);
      if (it != container.MemberEnd()) {
        it->value = std::move(v);
      } else {
        container.AddMember(internal::MakeString(key, alloc_), std::move(v), alloc_);
      }
      return Status::Ok();
    }
    if (key == "-") {
      container.PushBack(std::move(v), alloc_);
      return Status::Ok();
    }
    Result<int64_t> parsed = Atoi(key);
    if (!parsed.ok()) {
      return Fail(
          Wrap("value was not a proper array index: '" + std::string(key) + "'", parsed.status().message()));
    }
    int64_t idx = *parsed;
    const int64_t size = static_cast<int64_t>(container.Size()) + 1;
    if (idx >= size) return InvalidIndex(idx);
    if (idx < 0) {
      if (idx < -size) return InvalidIndex(idx);
      idx += size;
    }
    container.PushBack(Value(), alloc_);
    Value* a = container.Begin();
    for (int64_t i = size - 1; i > idx; --i) a[i] = std::move(a[i - 1]);
    a[idx] = std::move(v);
    return Status::Ok();
  }

  // container.remove
  static Status RemoveFrom(Value& container, std::string_view key) {
    if (container.IsObject()) {
      auto it = Find(container, key);
      if (it == container.MemberEnd()) {
        return Fail(Wrap("Unable to remove nonexistent key: " + std::string(key), kMissing));
      }
      container.EraseMember(it);
      return Status::Ok();
    }
    CK_ASSIGN_OR_RETURN(rapidjson::SizeType i, ElementIndex(container, key));
    container.Erase(container.Begin() + i);
    return Status::Ok();
  }

  Status Add(const Value& op) {
    Result<std::string> path = Path(op);
    if (!path.ok()) return Fail(Wrap("add operation failed to decode path", kMissing));
    Target t = FindObject(doc_, *path);
    if (t.container == nullptr) {
      return Fail(Wrap("add operation does not apply: doc is missing path: \"" + *path + "\"", kMissing));
    }
    const Value* v = OpValue(op);
    CK_RETURN_IF_ERROR(CheckDepth(t, v));
    Status s = AddTo(*t.container, t.key, v == nullptr ? Value() : Value(*v, alloc_));
    if (!s.ok()) return Fail(Wrap("error in add for path: '" + *path + "'", s.message()));
    return Status::Ok();
  }

  Status Remove(const Value& op) {
    Result<std::string> path = Path(op);
    if (!path.ok()) return Fail(Wrap("remove operation failed to decode path", kMissing));
    Target t = FindObject(doc_, *path);
    if (t.container == nullptr) {
      return Fail(Wrap("remove operation does not apply: doc is missing path: \"" + *path + "\"", kMissing));
    }
    Status s = RemoveFrom(*t.container, t.key);
    if (!s.ok()) return Fail(Wrap("error in remove for path: '" + *path + "'", s.message()));
    return Status::Ok();
  }

  Status Replace(const Value& op) {
    Result<std::string> path = Path(op);
    if (!path.ok()) return Fail(Wrap("replace operation failed to decode path", path.status().message()));
    const Value* v = OpValue(op);
    if (path->empty()) {  // the whole document, when the value is an object or an array
      if (v != nullptr && (v->IsObject() || v->IsArray())) doc_.CopyFrom(*v, alloc_);
      return Status::Ok();
    }
    Target t = FindObject(doc_, *path);
    if (t.container == nullptr) {
      return Fail(Wrap("replace operation does not apply: doc is missing path: " + *path, kMissing));
    }
    if (!Get(*t.container, t.key).ok()) {
      return Fail(Wrap("replace operation does not apply: doc is missing key: " + *path, kMissing));
    }
    CK_RETURN_IF_ERROR(CheckDepth(t, v));
    Value copy = v == nullptr ? Value() : Value(*v, alloc_);
    if (t.container->IsObject()) return AddTo(*t.container, t.key, std::move(copy));
    CK_ASSIGN_OR_RETURN(rapidjson::SizeType i, ElementIndex(*t.container, t.key));
    (*t.container)[i] = std::move(copy);
    return Status::Ok();
  }

  Status Move(const Value& op) {
    Result<std::string> from = From(op);
    if (!from.ok()) return Fail(Wrap("move operation failed to decode from", from.status().message()));
    Target src = FindObject(doc_, *from);
    if (src.container == nullptr) {
      return Fail(Wrap("move operation does not apply: doc is missing from path: " + *from, kMissing));
    }
    Result<Value*> got = Get(*src.container, src.key);
    if (!got.ok()) return Fail(Wrap("error in move for path: '" + src.key + "'", got.status().message()));
    Value moved;
    if (*got != nullptr) moved = std::move(**got);
    Status removed = RemoveFrom(*src.container, src.key);
    if (!removed.ok()) return Fail(Wrap("error in move for path: '" + src.key + "'", removed.message()));
    Result<std::string> path = Path(op);
    if (!path.ok()) return Fail(Wrap("move operation failed to decode path", path.status().message()));
    Target dst = FindObject(doc_, *path);
    if (dst.container == nullptr) {
      return Fail(Wrap("move operation does not apply: doc is missing destination path: " + *path, kMissing));
    }
    CK_RETURN_IF_ERROR(CheckDepth(dst, &moved));
    Status s = AddTo(*dst.container, dst.key, std::move(moved));
    if (!s.ok()) return Fail(Wrap("error in move for path: '" + *path + "'", s.message()));
    return Status::Ok();
  }

  // lazyNode.equal: objects compare one way (every member of the document's value must be in
  // the test value), arrays element by element, scalars by value.
  static bool TestEqual(const Value& n, const Value& o) {
    if (n.IsObject()) {
      if (!o.IsObject()) return false;
      for (const auto& m : n.GetObject()) {
        auto it = Find(o, Str(m.name));
        if (it == o.MemberEnd()) return false;
        if (m.value.IsNull() && it->value.IsNull()) continue;
        if (m.value.IsNull() || it->value.IsNull() || !TestEqual(m.value, it->value)) return false;
      }
      return true;
    }
    if (n.IsArray()) {
      if (!o.IsArray() || o.Size() != n.Size()) return false;
      for (rapidjson::SizeType i = 0; i < n.Size(); ++i) {
        if (n[i].IsNull() && o[i].IsNull()) continue;
        if (n[i].IsNull() || o[i].IsNull() || !TestEqual(n[i], o[i])) return false;
      }
      return true;
    }
    return !o.IsObject() && !o.IsArray() && GoEqual(n, o);
  }

  Status Test(const Value& op) {
    Result<std::string> path = Path(op);
    if (!path.ok()) return Fail(Wrap("test operation failed to decode path", path.status().message()));
    const Value* v = OpValue(op);
    auto failed = [&] { return Fail(Wrap("testing value " + *path + " failed", "test failed")); };
    if (path->empty()) {
      if (v != nullptr && TestEqual(doc_, *v)) return Status::Ok();
      return failed();
    }
    Target t = FindObject(doc_, *path);
    if (t.container == nullptr) {
      return Fail(Wrap("test operation does not apply: is missing path: " + *path, kMissing));
    }
    Result<Value*> got = Get(*t.container, t.key);
    if (!got.ok()) return Fail(Wrap("error in test for path: '" + *path + "'", got.status().message()));
    const Value* have = *got;
    if (have == nullptr || have->IsNull()) {  // missing or null: passes against a null value
      if (v != nullptr && v->IsNull()) return Status::Ok();
      return failed();
    }
    if (v == nullptr || v->IsNull() || !TestEqual(*have, *v)) return failed();
    return Status::Ok();
  }

  Status Copy(const Value& op) {
    Result<std::string> from = From(op);
    if (!from.ok()) return Fail(Wrap("copy operation failed to decode from", from.status().message()));
    Target src = FindObject(doc_, *from);
    if (src.container == nullptr) {
      return Fail(Wrap("copy operation does not apply: doc is missing from path: " + *from, kMissing));
    }
    Result<Value*> got = Get(*src.container, src.key);
    if (!got.ok()) return Fail(Wrap("error in copy for from: '" + *from + "'", got.status().message()));
    Result<std::string> path = Path(op);
    if (!path.ok()) return Fail(Wrap("copy operation failed to decode path", kMissing));
    Target dst = FindObject(doc_, *path);
    if (dst.container == nullptr) {
      return Fail(Wrap("copy operation does not apply: doc is missing destination path: " + *path, kMissing));
    }
    Value copy = *got == nullptr ? Value() : Value(**got, alloc_);
    if (*got != nullptr) {
      copied_bytes_ += static_cast<int64_t>(internal::Write(copy).size());
      if (copied_bytes_ > kMaxJsonPatchCopyBytes) {
        return Fail("Unable to complete the copy, the accumulated size increase of copy is " +
                    std::to_string(copied_bytes_) + ", exceeding the limit " +
                    std::to_string(kMaxJsonPatchCopyBytes));
      }
    }
    CK_RETURN_IF_ERROR(CheckDepth(dst, &copy));
    Status s = AddTo(*dst.container, dst.key, std::move(copy));
    if (!s.ok()) return Fail(Wrap("error while adding value during copy", s.message()));
    return Status::Ok();
  }

  Alloc& alloc_;
  Value& doc_;
  int64_t copied_bytes_ = 0;
};

}  // namespace

Result<std::string> ApplyJsonPatch(std::string_view original_json, std::string_view patch_json) {
  Alloc alloc;
  Document patch(&alloc);
  Document doc(&alloc);
  // jsonpatch.DecodePatch: a JSON array of objects.
  CK_RETURN_IF_ERROR(internal::Parse(patch_json, &patch));
  if (!patch.IsNull() && !patch.IsArray()) {
    return BadRequest("json: cannot unmarshal " + std::string(internal::GoValueWord(patch)) +
                      " into Go value of type jsonpatch.Patch");
  }
  const rapidjson::SizeType ops = patch.IsArray() ? patch.Size() : 0;
  for (rapidjson::SizeType i = 0; i < ops; ++i) {
    const Value& op = patch[i];
    if (!op.IsObject() && !op.IsNull()) {
      return BadRequest("json: cannot unmarshal " + std::string(internal::GoValueWord(op)) +
                        " into Go value of type jsonpatch.Operation");
    }
  }
  if (ops > static_cast<rapidjson::SizeType>(kMaxJsonPatchOperations)) {
    return Status(Code::kRequestEntityTooLarge, "The allowed maximum operations in a JSON patch is " +
                                                    std::to_string(kMaxJsonPatchOperations) + ", got " +
                                                    std::to_string(ops));
  }
  Status parsed = internal::Parse(original_json, &doc);
  if (!parsed.ok()) return Status(Code::kInvalid, parsed.message());
  if (!doc.IsObject() && !doc.IsArray()) {
    return Status(Code::kInvalid, "json: cannot unmarshal " + std::string(internal::GoValueWord(doc)) +
                                      " into Go value of type jsonpatch.partialDoc");
  }
  Applier applier(alloc, doc);
  static const Value kNoOp(rapidjson::kObjectType);
  for (rapidjson::SizeType i = 0; i < ops; ++i) {
    CK_RETURN_IF_ERROR(applier.Apply(patch[i].IsNull() ? kNoOp : patch[i]));
  }
  return internal::Write(doc);
}

}  // namespace ck::apiserver::patch
