// JSON plumbing shared by the three patch engines (internal to apiserver/patch).
//
// Documents are RapidJSON DOMs on one MemoryPoolAllocator per request, so values move between the
// current object and the patch without copies. The helpers reproduce the Go facts the upstream
// patch code depends on: parse errors in Go's words, repeated object keys folded the way a Go map
// decodes them (the last one wins), the JSON "types" Go compares (int64 and float64 differ), `==`
// on decoded values, and fmt's %v / %s rendering of a decoded value for error messages.
// Pure functions; nothing is shared between calls.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ck::apiserver::patch::internal {

using Alloc = rapidjson::MemoryPoolAllocator<rapidjson::CrtAllocator>;
using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, Alloc>;
using Value = rapidjson::GenericValue<rapidjson::UTF8<>, Alloc>;

// Nesting limit for every document read or produced (the codec's limit too).
inline constexpr int kMaxDepth = 1000;

// Parses one JSON text into `doc` (which must use the request's allocator). On malformed input
// returns BadRequest with Go's encoding/json wording ("invalid character '}' looking for
// beginning of object key string", "unexpected end of JSON input"); rejects invalid UTF-8 and
// nesting deeper than kMaxDepth. Repeated keys of an object keep the last value.
Status Parse(std::string_view text, Document* doc);

// Compact JSON text of `v`.
std::string Write(const Value& v);

// The dynamic type a Go decoder gives a JSON value (k8s.io/apimachinery/pkg/util/json keeps
// integers as int64, everything else numeric is float64).
enum class Kind { kNull, kBool, kInt, kFloat, kString, kObject, kArray };
Kind KindOf(const Value& v);

// Go's `==` on two decoded values, extended to maps and slices by deep equality (Go would panic).
bool GoEqual(const Value& a, const Value& b);

// fmt's %v of a decoded value: map[a:1 b:[x y]] with sorted keys, <nil>, 1e+06.
std::string GoFormat(const Value& v);
// fmt's %s of a decoded value: strings as is, other scalars as %!s(int64=5).
std::string GoFormatS(const Value& v);
// reflect.TypeOf(v).String(): "map[string]interface {}", "[]interface {}", "string", "int64"...
// and "%!s(<nil>)" for null, as fmt prints a nil reflect.Type with %s.
std::string GoTypeName(const Value& v);
// The word encoding/json uses for a value in an UnmarshalTypeError: object, array, string,
// number, bool.
std::string_view GoValueWord(const Value& v);

// Nesting depth of `v` (a scalar is 0, `{}` is 1), computed without recursion.
int Depth(const Value& v);

inline std::string_view Str(const Value& v) { return {v.GetString(), v.GetStringLength()}; }
// A non-owning string for lookups (RapidJSON refuses a null pointer, which an empty view may hold).
inline rapidjson::GenericStringRef<char> Ref(std::string_view s) {
  return rapidjson::GenericStringRef<char>(s.empty() ? "" : s.data(),
                                           static_cast<rapidjson::SizeType>(s.size()));
}
// An owning string value allocated from `alloc`.
inline Value MakeString(std::string_view s, Alloc& alloc) {
  rapidjson::GenericStringRef<char> r = Ref(s);
  return Value(r.s, r.length, alloc);
}
// A member of object `obj` by name, or obj.MemberEnd().
Value::MemberIterator Find(Value& obj, std::string_view key);
Value::ConstMemberIterator Find(const Value& obj, std::string_view key);

inline bool HasPrefix(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

}  // namespace ck::apiserver::patch::internal
