#include "common/daemon/profile.h"

namespace ck::daemon {

using namespace std::chrono_literals;

const Profile& DefaultProfile() {
  static const Profile p{"default", 10s, 40s, 300s, 15s, 10s, 2s, 10s, 300s, 1s, 10s, 3600s};
  return p;
}

const Profile& TeachingProfile() {
  static const Profile p{"teaching", 1s, 5s, 5s, 3s, 2s, 500ms, 1s, 10s, 200ms, 2s, 600s};
  return p;
}

Result<Profile> ProfileByName(std::string_view name) {
  if (name == "default" || name.empty()) return DefaultProfile();
  if (name == "teaching") return TeachingProfile();
  return Invalid("unknown profile \"" + std::string(name) + "\" (choose default or teaching)");
}

}  // namespace ck::daemon
