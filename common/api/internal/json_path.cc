#include "common/api/internal/json_path.h"

namespace ck::api::internal {

std::string PathString(const PathNode* at) {
  const PathNode* chain[kMaxJsonDepth + 8];
  int n = 0;
  for (const PathNode* p = at; p != nullptr && n < kMaxJsonDepth + 8; p = p->parent) chain[n++] = p;
  std::string s;
  for (int i = n - 1; i >= 0; --i) {
    const PathNode& g = *chain[i];
    if (g.index >= 0) {
      s += '[';
      s += std::to_string(g.index);
      s += ']';
    } else if (g.key) {
      s += '[';
      s.append(g.name);
      s += ']';
    } else {
      if (!s.empty()) s += '.';
      s.append(g.name);
    }
  }
  return s;
}

}  // namespace ck::api::internal
