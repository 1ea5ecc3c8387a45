// DefaultTolerationSeconds (mutating): upstream's plugin/pkg/admission/defaulttolerationseconds.
// A created pod that does not tolerate node.kubernetes.io/not-ready:NoExecute (or
// node.kubernetes.io/unreachable:NoExecute) gets an Exists toleration for it with
// tolerationSeconds = the constructor's value (upstream's flag default is 300; the teaching
// profile passes less so that evictions show quickly). A toleration with an empty key or an empty
// effect counts as tolerating. Only pod CREATE (upstream also looks at updates; our pods always
// carry the tolerations from their create).
// Threading: stateless; safe from any thread.
#pragma once

#include <cstdint>

#include "apiserver/admission/admission.h"

namespace ck::apiserver::admission::plugins {

inline constexpr int64_t kDefaultTolerationSeconds = 300;

class DefaultTolerationSeconds final : public Plugin {
 public:
  explicit DefaultTolerationSeconds(int64_t seconds = kDefaultTolerationSeconds)
      : seconds_(seconds) {}
  std::string_view name() const override { return "DefaultTolerationSeconds"; }
  bool mutating() const override { return true; }
  bool validating() const override { return false; }
  Status Admit(const Attributes& a, Context& ctx) override;

 private:
  int64_t seconds_;
};

}  // namespace ck::apiserver::admission::plugins
