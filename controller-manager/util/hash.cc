#include "controller-manager/util/hash.h"

#include <string>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace ck::controller_manager {

uint32_t Fnv32a(std::string_view bytes, uint32_t seed) {
  uint32_t h = seed;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

std::string SafeEncodeString(std::string_view s) {
  static constexpr std::string_view kAlphanums = "bcdfghjklmnpqrstvwxz2456789";
  std::string out(s.size(), ' ');
  for (size_t i = 0; i < s.size(); ++i) out[i] = kAlphanums[static_cast<unsigned char>(s[i]) % kAlphanums.size()];
  return out;
}

std::string ComputeHash(const google::protobuf::Message& object, std::optional<int32_t> collision_count) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    object.SerializeToCodedStream(&coded);
  }
  uint32_t h = Fnv32a(bytes);
  if (collision_count) {
    // Upstream writes the count's little-endian bytes into the hasher.
    uint32_t c = static_cast<uint32_t>(*collision_count);
    char le[4] = {static_cast<char>(c & 0xff), static_cast<char>((c >> 8) & 0xff), static_cast<char>((c >> 16) & 0xff),
                  static_cast<char>((c >> 24) & 0xff)};
    h = Fnv32a(std::string_view(le, 4), h);
  }
  return SafeEncodeString(std::to_string(h));
}

}  // namespace ck::controller_manager
