// DefaultNormalizeScore (upstream plugins/helper): rescales raw plugin scores so the largest
// becomes `max_priority`, proportionally; with `reverse`, high raw scores become low ones (a raw
// count of bad things, such as intolerable PreferNoSchedule taints). All zero raw scores stay 0,
// or become `max_priority` when reversed. Used by NodeAffinity and TaintToleration; it lives here
// beside its first user. Pure function; thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "scheduler/framework/interface.h"

namespace ck::scheduler::plugins {

void DefaultNormalizeScore(int64_t max_priority, bool reverse, std::vector<NodeScore>& scores);

}  // namespace ck::scheduler::plugins
