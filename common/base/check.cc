#include "common/base/check.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ck::internal {

CheckFailure::CheckFailure(const char* file, int line, const char* condition) {
  const char* slash = std::strrchr(file, '/');
  stream_ << "F " << (slash ? slash + 1 : file) << ":" << line << "] Check failed: " << condition
          << " ";
}

CheckFailure::~CheckFailure() {
  std::string line = stream_.str();
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace ck::internal
