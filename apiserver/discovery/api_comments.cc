#include "apiserver/discovery/api_comments.h"

#include <google/protobuf/descriptor.pb.h>

#include <vector>

#include "common/base/check.h"

namespace ck::apiserver::discovery {

// Defined in the generated api_descriptor_set.cc.
extern const unsigned char kApiDescriptorSet[];
extern const size_t kApiDescriptorSetSize;

namespace {

using google::protobuf::DescriptorProto;
using google::protobuf::FileDescriptorSet;

// Field numbers inside descriptor.proto that source-info paths are made of.
constexpr int kFileMessageType = 4;    // FileDescriptorProto.message_type
constexpr int kMessageField = 2;       // DescriptorProto.field
constexpr int kMessageNestedType = 3;  // DescriptorProto.nested_type

std::string Clean(const std::string& comment) {
  std::string out;
  size_t start = 0;
  while (start <= comment.size()) {
    size_t end = comment.find('\n', start);
    if (end == std::string::npos) end = comment.size();
    std::string_view line(comment.data() + start, end - start);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
      line.remove_suffix(1);
    if (!line.empty()) {
      if (!out.empty()) out.push_back(' ');
      out.append(line);
    }
    start = end + 1;
  }
  return out;
}

void IndexMessage(const DescriptorProto& m, const std::string& prefix, std::vector<int> path,
                  std::map<std::vector<int>, std::string>* names) {
  std::string name = prefix + "." + m.name();
  (*names)[path] = name;
  for (int i = 0; i < m.field_size(); ++i) {
    std::vector<int> p = path;
    p.push_back(kMessageField);
    p.push_back(i);
    (*names)[p] = name + "." + m.field(i).name();
  }
  for (int i = 0; i < m.nested_type_size(); ++i) {
    std::vector<int> p = path;
    p.push_back(kMessageNestedType);
    p.push_back(i);
    IndexMessage(m.nested_type(i), name, p, names);
  }
}

std::map<std::string, std::string, std::less<>> Load() {
  FileDescriptorSet set;
  CK_CHECK(set.ParseFromArray(kApiDescriptorSet, static_cast<int>(kApiDescriptorSetSize)))
      << "embedded API descriptor set does not parse";
  std::map<std::string, std::string, std::less<>> out;
  for (const auto& file : set.file()) {
    std::map<std::vector<int>, std::string> names;
    for (int i = 0; i < file.message_type_size(); ++i) {
      IndexMessage(file.message_type(i), file.package(), {kFileMessageType, i}, &names);
    }
    for (const auto& loc : file.source_code_info().location()) {
      if (!loc.has_leading_comments()) continue;
      std::vector<int> path(loc.path().begin(), loc.path().end());
      auto it = names.find(path);
      if (it == names.end()) continue;
      std::string text = Clean(loc.leading_comments());
      if (!text.empty()) out[it->second] = std::move(text);
    }
  }
  return out;
}

}  // namespace

const std::map<std::string, std::string, std::less<>>& ApiComments() {
  static const auto* comments = new std::map<std::string, std::string, std::less<>>(Load());
  return *comments;
}

std::string_view ApiComment(std::string_view full_name) {
  const auto& c = ApiComments();
  auto it = c.find(full_name);
  return it == c.end() ? std::string_view() : std::string_view(it->second);
}

}  // namespace ck::apiserver::discovery
