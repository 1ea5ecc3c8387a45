// The apiserver's names for the shared resource table (common/api/api_resources.h): the table
// lives in common/api because clients resolve kinds to paths with it too.
#pragma once

#include "common/api/api_resources.h"

namespace ck::apiserver {

using api::AllGroups;
using api::AllResources;
using api::FindResource;
using api::FindResourceByKind;
using api::GroupInfo;
using api::ResourceInfo;
using api::SubresourceInfo;

}  // namespace ck::apiserver
