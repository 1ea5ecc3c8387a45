// Toleration matching (toleration.h), with upstream's rules for keys, operators and effects.
#include "scheduler/plugins/tainttoleration/toleration.h"

#include <gtest/gtest.h>

namespace ck::scheduler::plugins {
namespace {

corev1::Toleration Tol(std::string key, std::string op, std::string value, std::string effect) {
  corev1::Toleration t;
  if (!key.empty()) t.set_key(key);
  if (!op.empty()) t.set_operator_(op);
  if (!value.empty()) t.set_value(value);
  if (!effect.empty()) t.set_effect(effect);
  return t;
}

corev1::Taint Taint(std::string key, std::string value, std::string effect) {
  corev1::Taint t;
  t.set_key(key);
  if (!value.empty()) t.set_value(value);
  t.set_effect(effect);
  return t;
}

TEST(TolerationTest, ToleratesTaint) {
  struct Case {
    const char* name;
    corev1::Toleration toleration;
    corev1::Taint taint;
    bool want;
  };
  const corev1::Taint foo_bar = Taint("foo", "bar", "NoSchedule");
  const Case cases[] = {
      {"empty toleration: Equal with empty key and value", Tol("", "", "", ""), foo_bar, false},
      {"empty key with Exists tolerates everything", Tol("", "Exists", "", ""), foo_bar, true},
      {"empty key with Exists tolerates NoExecute too", Tol("", "Exists", "", ""), Taint("x", "", "NoExecute"), true},
      {"empty key with Exists and an effect: that effect only", Tol("", "Exists", "", "NoExecute"), foo_bar, false},
      {"Equal: same key, value and effect", Tol("foo", "Equal", "bar", "NoSchedule"), foo_bar, true},
      {"empty operator means Equal", Tol("foo", "", "bar", "NoSchedule"), foo_bar, true},
      {"Equal: another value", Tol("foo", "Equal", "baz", "NoSchedule"), foo_bar, false},
      {"Equal: another key", Tol("fob", "Equal", "bar", "NoSchedule"), foo_bar, false},
      {"another effect", Tol("foo", "Equal", "bar", "PreferNoSchedule"), foo_bar, false},
      {"empty effect matches every effect", Tol("foo", "Equal", "bar", ""), foo_bar, true},
      {"Exists ignores the value", Tol("foo", "Exists", "", "NoSchedule"), foo_bar, true},
      {"Exists with another key", Tol("fob", "Exists", "", ""), foo_bar, false},
      {"Equal with empty value matches a taint without value", Tol("foo", "Equal", "", "NoSchedule"),
       Taint("foo", "", "NoSchedule"), true},
      {"unknown operator tolerates nothing", Tol("foo", "Gt", "bar", "NoSchedule"), foo_bar, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ToleratesTaint(c.toleration, c.taint), c.want);
  }
}

TEST(TolerationTest, TolerationsTolerateTaint) {
  Tolerations none;
  EXPECT_FALSE(TolerationsTolerateTaint(none, Taint("a", "", "NoSchedule")));
  Tolerations some;
  *some.Add() = Tol("a", "Equal", "1", "NoSchedule");
  *some.Add() = Tol("b", "Exists", "", "");
  EXPECT_TRUE(TolerationsTolerateTaint(some, Taint("a", "1", "NoSchedule")));
  EXPECT_FALSE(TolerationsTolerateTaint(some, Taint("a", "2", "NoSchedule")));
  EXPECT_TRUE(TolerationsTolerateTaint(some, Taint("b", "anything", "NoExecute")));
  EXPECT_TRUE(TolerationsTolerateTaint(some, "b", "", "PreferNoSchedule"));
  EXPECT_FALSE(TolerationsTolerateTaint(some, "c", "", "NoSchedule"));
}

TEST(TolerationTest, FindMatchingUntoleratedTaint) {
  Taints taints;
  *taints.Add() = Taint("soft", "x", "PreferNoSchedule");
  *taints.Add() = Taint("a", "1", "NoSchedule");
  *taints.Add() = Taint("b", "2", "NoExecute");
  Tolerations tolerations;
  // Nothing tolerated: the first NoSchedule/NoExecute taint in node order; PreferNoSchedule is not looked at.
  const corev1::Taint* t = FindMatchingUntoleratedTaint(taints, tolerations, &IsDoNotScheduleTaint);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->key(), "a");
  // Without a filter every taint counts.
  t = FindMatchingUntoleratedTaint(taints, tolerations, nullptr);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->key(), "soft");
  *tolerations.Add() = Tol("a", "Exists", "", "NoSchedule");
  t = FindMatchingUntoleratedTaint(taints, tolerations, &IsDoNotScheduleTaint);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->key(), "b");
  *tolerations.Add() = Tol("b", "Equal", "2", "");
  EXPECT_EQ(FindMatchingUntoleratedTaint(taints, tolerations, &IsDoNotScheduleTaint), nullptr);
}

}  // namespace
}  // namespace ck::scheduler::plugins
