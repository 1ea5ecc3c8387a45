// Code shared by every Store implementation: key ranges, compares, op builders, conveniences.
#include "store/store.h"

#include <utility>

namespace ck::store {

const std::string& Bytes::Empty() {
  static const std::string empty;
  return empty;
}

std::shared_ptr<const std::string> Bytes::shared() const {
  if (p_) return p_;
  static const auto empty = std::make_shared<const std::string>();
  return empty;
}

KeyRange KeyRange::Single(std::string key) {
  std::string end = key;
  end.push_back('\0');
  return {std::move(key), std::move(end)};
}

KeyRange KeyRange::Prefix(std::string prefix) {
  std::string end = PrefixEnd(prefix);
  return {std::move(prefix), std::move(end)};
}

bool KeyRange::Contains(std::string_view key) const {
  return key >= std::string_view(start) && (end.empty() || key < std::string_view(end));
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return end;  // every byte was 0xff: no upper bound
}

bool IsCompacted(const Status& status) {
  return status.code() == Code::kGone && status.message().find("compacted") != std::string::npos;
}

bool IsSlowWatcher(const Status& status) {
  return status.code() == Code::kUnavailable &&
         status.message().find("watcher too slow") != std::string::npos;
}

Compare Compare::ModRevisionIs(std::string key, Revision rev) {
  return {std::move(key), Target::kModRevision, Result::kEqual, rev};
}
Compare Compare::VersionIs(std::string key, int64_t version) {
  return {std::move(key), Target::kVersion, Result::kEqual, version};
}
Compare Compare::Exists(std::string key) {
  return {std::move(key), Target::kVersion, Result::kGreater, 0};
}
Compare Compare::NotExists(std::string key) {
  return {std::move(key), Target::kVersion, Result::kEqual, 0};
}

bool Compare::Holds(const KeyValue* kv) const {
  int64_t actual = 0;
  if (kv != nullptr) {
    switch (target) {
      case Target::kVersion: actual = kv->version; break;
      case Target::kCreateRevision: actual = kv->create_revision; break;
      case Target::kModRevision: actual = kv->mod_revision; break;
    }
  }
  switch (result) {
    case Result::kEqual: return actual == operand;
    case Result::kNotEqual: return actual != operand;
    case Result::kLess: return actual < operand;
    case Result::kGreater: return actual > operand;
  }
  return false;
}

Op Op::Put(std::string key, std::string value) {
  Op op;
  op.type = Type::kPut;
  op.key = std::move(key);
  op.value = std::move(value);
  return op;
}
Op Op::Delete(std::string key) {
  Op op;
  op.type = Type::kDelete;
  op.key = std::move(key);
  return op;
}
Op Op::DeleteRange(KeyRange range) {
  Op op;
  op.type = Type::kDeleteRange;
  op.range = std::move(range);
  return op;
}
Op Op::Get(std::string key) {
  Op op;
  op.type = Type::kGet;
  op.key = std::move(key);
  return op;
}
Op Op::Range(KeyRange range) {
  Op op;
  op.type = Type::kRange;
  op.range = std::move(range);
  return op;
}

Result<Revision> Store::Put(std::string key, std::string value) {
  CK_ASSIGN_OR_RETURN(TxnResult r, Txn({}, {Op::Put(std::move(key), std::move(value))}, {}));
  return r.revision;
}

Result<Revision> Store::Delete(std::string key) {
  std::string name = key;
  CK_ASSIGN_OR_RETURN(TxnResult r, Txn({}, {Op::Delete(std::move(key))}, {}));
  if (r.results.empty() || r.results[0].deleted == 0) return NotFound("key " + name + " not found");
  return r.revision;
}

}  // namespace ck::store
