// The built-in admission plugins of apiserver/admission/plugins, by their upstream names, and the
// order upstream runs admission plugins in. The apiserver builds its Chain from
// --enable-admission-plugins / --disable-admission-plugins: it sorts the enabled names by
// RecommendedPluginOrder(), asks NewBuiltinPlugin for each name this folder owns, and the
// webhook, PodSecurity and NodeRestriction folders for theirs.
// Plugins keep references to the deps; the deps must outlive them. Thread-safe once built.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "apiserver/admission/admission.h"
#include "apiserver/admission/plugins/default_toleration_seconds.h"
#include "apiserver/admission/plugins/priority.h"
#include "common/base/clock.h"
#include "common/base/random.h"

namespace ck::apiserver::admission::plugins {

struct PluginDeps {
  const ObjectSource* source = nullptr;  // the apiserver's cache (every plugin but DefaultTolerationSeconds)
  Random* random = nullptr;              // ServiceAccount's volume-name suffix
  Clock* clock = nullptr;                // reserved; no plugin here reads time yet
  int64_t default_toleration_seconds = kDefaultTolerationSeconds;  // DefaultTolerationSeconds
};

// NamespaceLifecycle, LimitRanger, ServiceAccount, Priority, DefaultTolerationSeconds,
// ResourceQuota (in recommended order).
const std::vector<std::string_view>& BuiltinPluginNames();

// Every admission plugin Clearkube knows, in upstream's order (kube-apiserver's AllOrderedPlugins):
// NamespaceLifecycle, LimitRanger, ServiceAccount, NodeRestriction, PodSecurity, Priority,
// DefaultTolerationSeconds, MutatingAdmissionWebhook, ValidatingAdmissionWebhook, ResourceQuota.
// Mutating plugins run their Admit in this order, validating ones their Validate; ResourceQuota
// comes last so that only writes every other plugin accepted are counted.
const std::vector<std::string_view>& RecommendedPluginOrder();

// The plugin named `name`. NotFound (`admission plugin "x" is not built in here`) for a name this
// folder does not own; CK_CHECKs that the deps the plugin needs are set.
Result<std::unique_ptr<Plugin>> NewBuiltinPlugin(std::string_view name, const PluginDeps& deps);

}  // namespace ck::apiserver::admission::plugins
