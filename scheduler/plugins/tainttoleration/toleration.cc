// Taint and toleration matching (toleration.h).
#include "scheduler/plugins/tainttoleration/toleration.h"

namespace ck::scheduler::plugins {

bool ToleratesTaint(const corev1::Toleration& toleration, std::string_view key, std::string_view value,
                    std::string_view effect) {
  if (!toleration.effect().empty() && toleration.effect() != effect) return false;
  if (!toleration.key().empty() && toleration.key() != key) return false;
  // An empty operator means Equal (the API defaults it so).
  const std::string& op = toleration.operator_();
  if (op.empty() || op == kTolerationOpEqual) return toleration.value() == value;
  return op == kTolerationOpExists;
}

bool TolerationsTolerateTaint(const Tolerations& tolerations, std::string_view key, std::string_view value,
                              std::string_view effect) {
  for (const corev1::Toleration& t : tolerations) {
    if (ToleratesTaint(t, key, value, effect)) return true;
  }
  return false;
}

bool IsDoNotScheduleTaint(const corev1::Taint& taint) {
  return taint.effect() == kTaintEffectNoSchedule || taint.effect() == kTaintEffectNoExecute;
}

const corev1::Taint* FindMatchingUntoleratedTaint(const Taints& taints, const Tolerations& tolerations,
                                                  TaintFilter filter) {
  for (const corev1::Taint& taint : taints) {
    if (filter != nullptr && !filter(taint)) continue;
    if (!TolerationsTolerateTaint(tolerations, taint)) return &taint;
  }
  return nullptr;
}

}  // namespace ck::scheduler::plugins
