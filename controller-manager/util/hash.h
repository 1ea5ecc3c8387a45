// Stable short hashes of templates (upstream ComputeHash and controller-revision hashing): the
// `pod-template-hash` label of a Deployment's ReplicaSets, and the `controller-revision-hash` of
// StatefulSet and DaemonSet revisions. The hash is FNV-1a (32 bit) over the message's
// deterministic serialization, plus the collision count when there is one, printed in upstream's
// safe alphabet (no vowels, no 0/1/3, so a hash never spells a word: "5d4f8b7c9").
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <google/protobuf/message.h>

namespace ck::controller_manager {

// The hash of `object` with `collision_count` mixed in when set.
std::string ComputeHash(const google::protobuf::Message& object, std::optional<int32_t> collision_count = std::nullopt);
// FNV-1a 32-bit of `bytes`.
uint32_t Fnv32a(std::string_view bytes, uint32_t seed = 2166136261u);
// Upstream rand.SafeEncodeString: each character mapped into "bcdfghjklmnpqrstvwxz2456789".
std::string SafeEncodeString(std::string_view s);

}  // namespace ck::controller_manager
