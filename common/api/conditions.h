// Status conditions, for every condition type (metav1.Condition, PodCondition, NodeCondition,
// DeploymentCondition, ...): find, test and set them with upstream's rule that
// lastTransitionTime moves only when the status changes (meta.SetStatusCondition,
// podutil.UpdatePodCondition). Templates over the generated message; the time comes from the
// injected Clock. Not synchronized: the caller owns the status being edited.
#pragma once

#include <string_view>

#include <google/protobuf/repeated_ptr_field.h>

#include "common/api/object.h"
#include "common/base/clock.h"

namespace ck::api {

template <class C>
const C* FindCondition(const google::protobuf::RepeatedPtrField<C>& conditions, std::string_view type) {
  for (const C& c : conditions) {
    if (c.type() == type) return &c;
  }
  return nullptr;
}

template <class C>
C* FindCondition(google::protobuf::RepeatedPtrField<C>* conditions, std::string_view type) {
  for (C& c : *conditions) {
    if (c.type() == type) return &c;
  }
  return nullptr;
}

// The condition's status is "True" / "False" (absent is neither).
template <class C>
bool IsConditionTrue(const google::protobuf::RepeatedPtrField<C>& conditions, std::string_view type) {
  const C* c = FindCondition(conditions, type);
  return c != nullptr && c->status() == "True";
}

template <class C>
bool IsConditionFalse(const google::protobuf::RepeatedPtrField<C>& conditions, std::string_view type) {
  const C* c = FindCondition(conditions, type);
  return c != nullptr && c->status() == "False";
}

// Adds or updates the condition of `update.type()`. lastTransitionTime is taken from `update` when
// set, else the clock's time, and changes only with the status. Returns true when anything
// changed (status, reason, message, observedGeneration).
template <class C>
bool SetCondition(google::protobuf::RepeatedPtrField<C>* conditions, const C& update, const Clock& clock) {
  C* existing = FindCondition(conditions, update.type());
  if (existing == nullptr) {
    C* added = conditions->Add();
    *added = update;
    if (IsZeroTime(added->lasttransitiontime())) *added->mutable_lasttransitiontime() = Now(clock);
    return true;
  }
  bool changed = false;
  if (existing->status() != update.status()) {
    existing->set_status(update.status());
    *existing->mutable_lasttransitiontime() =
        IsZeroTime(update.lasttransitiontime()) ? Now(clock) : update.lasttransitiontime();
    changed = true;
  }
  if (existing->reason() != update.reason()) {
    existing->set_reason(update.reason());
    changed = true;
  }
  if (existing->message() != update.message()) {
    existing->set_message(update.message());
    changed = true;
  }
  if constexpr (requires { update.observedgeneration(); }) {
    if (existing->observedgeneration() != update.observedgeneration()) {
      existing->set_observedgeneration(update.observedgeneration());
      changed = true;
    }
  }
  return changed;
}

// Removes the condition of `type`; returns whether there was one.
template <class C>
bool RemoveCondition(google::protobuf::RepeatedPtrField<C>* conditions, std::string_view type) {
  for (int i = 0; i < conditions->size(); ++i) {
    if (conditions->Get(i).type() == type) {
      conditions->erase(conditions->begin() + i);
      return true;
    }
  }
  return false;
}

}  // namespace ck::api
