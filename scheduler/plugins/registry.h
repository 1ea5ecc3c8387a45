// The one table of built-in scheduler plugins (upstream plugins/registry.go): every plugin's
// upstream name and factory, in one explicit list (STYLE.md #7). Profiles pick from it by name.
#pragma once

#include "scheduler/framework/registry.h"

namespace ck::scheduler {

const Registry& BuiltinRegistry();

}  // namespace ck::scheduler
