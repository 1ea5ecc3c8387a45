// apps/v1: Deployment, ReplicaSet, StatefulSet, DaemonSet, ControllerRevision
// (upstream pkg/apis/apps/validation and the apps/v1 strategies' update rules).
#include "apiserver/validation/kinds.h"

namespace ck::apiserver::validation {

namespace {

const LabelSelector* SelectorOf(bool has, const LabelSelector& s) { return has ? &s : nullptr; }

std::string GoSelectorPtr(const LabelSelector* s) { return s == nullptr ? "null" : GoLabelSelector(*s); }

// Shared by Deployment, ReplicaSet, StatefulSet: selector present, valid, non-empty; then the
// template must carry labels the selector matches. Returns the parsed selector (nullopt if bad).
FieldErrors ValidateSelectorAndTemplateLabels(const LabelSelector* selector, const corev1::PodTemplateSpec& tpl,
                                              std::string_view kind, const Path& spec, bool required) {
  FieldErrors errs;
  if (selector == nullptr) {
    if (required) errs.push_back(Required(spec.Child("selector")));
  } else {
    Append(errs, ValidateLabelSelector(selector, spec.Child("selector")));
    if (selector->matchlabels().empty() && selector->matchexpressions().empty()) {
      errs.push_back(Invalid(spec.Child("selector"), GoLabelSelector(*selector),
                             "empty selector is invalid for " + std::string(kind)));
    }
  }
  auto parsed = Selector::From(selector);
  if (!parsed) {
    errs.push_back(Invalid(spec.Child("selector"), GoSelectorPtr(selector), "invalid label selector"));
  } else if (!parsed->Empty() && !parsed->Matches(tpl.metadata().labels())) {
    errs.push_back(Invalid(spec.Child("template", "metadata").Child("labels"), GoMap(tpl.metadata().labels()),
                           "`selector` does not match template `labels`"));
  }
  return errs;
}

// ValidatePodTemplateSpecForReplicaSet minus the selector part.
FieldErrors ValidateWorkloadTemplate(const corev1::PodTemplateSpec& tpl, std::string_view kind, const Path& spec,
                                     const PodSpecOptions& opts) {
  Path tp = spec.Child("template");
  FieldErrors errs = ValidatePodTemplateSpec(tpl, tp, opts);
  if (tpl.spec().restartpolicy() != "Always") {
    errs.push_back(NotSupported(tp.Child("spec", "restartPolicy"), Q(tpl.spec().restartpolicy()), {"Always"}));
  }
  if (tpl.spec().has_activedeadlineseconds()) {
    errs.push_back(Forbidden(tp.Child("spec", "activeDeadlineSeconds"),
                             "activeDeadlineSeconds in " + std::string(kind) + " is not Supported"));
  }
  return errs;
}

bool SameSelector(bool has_a, const LabelSelector& a, bool has_b, const LabelSelector& b) {
  return has_a == has_b && (!has_a || SameMessage(a, b));
}

FieldErrors ValidateCollisionCount(bool has_new, int32_t new_count, bool has_old, int32_t old_count) {
  bool decremented = (!has_new && has_old) || (has_new && has_old && new_count < old_count);
  if (!decremented) return {};
  return {Invalid(Path("status").Child("collisionCount"), Num(has_new ? new_count : 0), "cannot be decremented")};
}

std::string GoStrategy(std::string_view go_type, const std::string& type) {
  return std::string(go_type) + "{Type:" + Q(type) + ", RollingUpdate:nil}";
}

FieldErrors ValidateDeploymentSpec(const appsv1::DeploymentSpec& spec, const Path& path) {
  FieldErrors errs;
  Append(errs, ValidateNonnegative(spec.replicas(), path.Child("replicas")));
  Append(errs, ValidateSelectorAndTemplateLabels(SelectorOf(spec.has_selector(), spec.selector()), spec.template_(),
                                                 "deployment", path, true));
  if (Selector::From(SelectorOf(spec.has_selector(), spec.selector()))) {
    Append(errs, ValidateWorkloadTemplate(spec.template_(), "ReplicaSet", path, {}));
  }
  const auto& st = spec.strategy();
  Path sp = path.Child("strategy");
  if (st.type() == "Recreate") {
    if (st.has_rollingupdate()) {
      errs.push_back(Forbidden(sp.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"));
    }
  } else if (st.type() == "RollingUpdate") {
    if (!st.has_rollingupdate()) {
      errs.push_back(Required(sp.Child("rollingUpdate"), "this should be defaulted and never be nil"));
    } else {
      Path rp = sp.Child("rollingUpdate");
      const auto& ru = st.rollingupdate();
      Append(errs, ValidatePositiveIntOrPercent(ru.maxunavailable(), rp.Child("maxUnavailable")));
      Append(errs, ValidatePositiveIntOrPercent(ru.maxsurge(), rp.Child("maxSurge")));
      auto value = [](const IntOrString& v) -> int64_t {
        if (IsStr(v)) {
          if (!IsValidPercent(v.strval()).empty()) return IntValue(v);
          return std::stoll(v.strval().substr(0, v.strval().size() - 1));
        }
        return v.intval();
      };
      if (value(ru.maxunavailable()) == 0 && value(ru.maxsurge()) == 0) {
        errs.push_back(Invalid(rp.Child("maxUnavailable"), GoIntOrString(ru.maxunavailable()), "may not be 0 when `maxSurge` is 0"));
      }
      Append(errs, IsNotMoreThan100Percent(ru.maxunavailable(), rp.Child("maxUnavailable")));
    }
  } else {
    errs.push_back(NotSupported(sp, GoStrategy("apps.DeploymentStrategy", st.type()), {"Recreate", "RollingUpdate"}));
  }
  Append(errs, ValidateNonnegative(spec.minreadyseconds(), path.Child("minReadySeconds")));
  if (spec.has_revisionhistorylimit()) {
    Append(errs, ValidateNonnegative(spec.revisionhistorylimit(), path.Child("revisionHistoryLimit")));
  }
  if (spec.has_progressdeadlineseconds()) {
    Append(errs, ValidateNonnegative(spec.progressdeadlineseconds(), path.Child("progressDeadlineSeconds")));
    if (spec.progressdeadlineseconds() <= spec.minreadyseconds()) {
      errs.push_back(Invalid(path.Child("progressDeadlineSeconds"), Num(spec.progressdeadlineseconds()),
                             "must be greater than minReadySeconds"));
    }
  }
  return errs;
}

int64_t PercentOrInt(const IntOrString& v) {
  if (IsStr(v) && IsValidPercent(v.strval()).empty()) return std::stoll(v.strval().substr(0, v.strval().size() - 1));
  return IntValue(v);
}

}  // namespace

FieldErrors ValidatePositiveIntOrPercent(const IntOrString& v, const Path& path) {
  FieldErrors errs;
  if (IsStr(v)) {
    for (auto& m : IsValidPercent(v.strval())) errs.push_back(Invalid(path, GoIntOrString(v), m));
  } else {
    Append(errs, ValidateNonnegative(v.intval(), path));
  }
  return errs;
}

FieldErrors IsNotMoreThan100Percent(const IntOrString& v, const Path& path) {
  if (!IsStr(v) || !IsValidPercent(v.strval()).empty()) return {};
  if (PercentOrInt(v) <= 100) return {};
  return {Invalid(path, GoIntOrString(v), "must not be greater than 100%")};
}

FieldErrors ValidateDeployment(const appsv1::Deployment& d, const appsv1::Deployment* old) {
  Path meta("metadata");
  FieldErrors errs = old == nullptr ? ValidateMeta(d.metadata(), true, NameRule::kDNSSubdomain, meta)
                                    : ValidateMetaUpdate(d.metadata(), old->metadata(), meta);
  Append(errs, ValidateDeploymentSpec(d.spec(), Path("spec")));
  if (old != nullptr && !SameSelector(d.spec().has_selector(), d.spec().selector(), old->spec().has_selector(),
                                      old->spec().selector())) {
    Append(errs, ValidateImmutable(false, GoSelectorPtr(SelectorOf(d.spec().has_selector(), d.spec().selector())),
                                   Path("spec").Child("selector")));
  }
  return errs;
}

FieldErrors ValidateDeploymentStatusUpdate(const appsv1::Deployment& d, const appsv1::Deployment& old) {
  FieldErrors errs = ValidateMetaUpdate(d.metadata(), old.metadata(), Path("metadata"));
  Path p("status");
  const auto& s = d.status();
  Append(errs, ValidateNonnegative(s.observedgeneration(), p.Child("observedGeneration")));
  Append(errs, ValidateNonnegative(s.replicas(), p.Child("replicas")));
  Append(errs, ValidateNonnegative(s.updatedreplicas(), p.Child("updatedReplicas")));
  Append(errs, ValidateNonnegative(s.readyreplicas(), p.Child("readyReplicas")));
  Append(errs, ValidateNonnegative(s.availablereplicas(), p.Child("availableReplicas")));
  Append(errs, ValidateNonnegative(s.unavailablereplicas(), p.Child("unavailableReplicas")));
  if (s.has_collisioncount()) Append(errs, ValidateNonnegative(s.collisioncount(), p.Child("collisionCount")));
  const std::string msg = "cannot be greater than status.replicas";
  if (s.updatedreplicas() > s.replicas()) errs.push_back(Invalid(p.Child("updatedReplicas"), Num(s.updatedreplicas()), msg));
  if (s.readyreplicas() > s.replicas()) errs.push_back(Invalid(p.Child("readyReplicas"), Num(s.readyreplicas()), msg));
  if (s.availablereplicas() > s.replicas()) errs.push_back(Invalid(p.Child("availableReplicas"), Num(s.availablereplicas()), msg));
  if (s.availablereplicas() > s.readyreplicas()) {
    errs.push_back(Invalid(p.Child("availableReplicas"), Num(s.availablereplicas()), "cannot be greater than readyReplicas"));
  }
  Append(errs, ValidateCollisionCount(s.has_collisioncount(), s.collisioncount(), old.status().has_collisioncount(),
                                      old.status().collisioncount()));
  return errs;
}

FieldErrors ValidateReplicaSet(const appsv1::ReplicaSet& rs, const appsv1::ReplicaSet* old) {
  Path meta("metadata");
  Path spec("spec");
  FieldErrors errs = old == nullptr ? ValidateMeta(rs.metadata(), true, NameRule::kDNSSubdomain, meta)
                                    : ValidateMetaUpdate(rs.metadata(), old->metadata(), meta);
  Append(errs, ValidateNonnegative(rs.spec().replicas(), spec.Child("replicas")));
  Append(errs, ValidateNonnegative(rs.spec().minreadyseconds(), spec.Child("minReadySeconds")));
  const LabelSelector* sel = SelectorOf(rs.spec().has_selector(), rs.spec().selector());
  Append(errs, ValidateSelectorAndTemplateLabels(sel, rs.spec().template_(), "deployment", spec, true));
  if (Selector::From(sel)) Append(errs, ValidateWorkloadTemplate(rs.spec().template_(), "ReplicaSet", spec, {}));
  if (old != nullptr && !SameSelector(rs.spec().has_selector(), rs.spec().selector(), old->spec().has_selector(),
                                      old->spec().selector())) {
    Append(errs, ValidateImmutable(false, GoSelectorPtr(sel), spec.Child("selector")));
  }
  return errs;
}

FieldErrors ValidateReplicaSetStatusUpdate(const appsv1::ReplicaSet& rs, const appsv1::ReplicaSet& old) {
  FieldErrors errs = ValidateMetaUpdate(rs.metadata(), old.metadata(), Path("metadata"));
  Path p("status");
  const auto& s = rs.status();
  Append(errs, ValidateNonnegative(s.replicas(), p.Child("replicas")));
  Append(errs, ValidateNonnegative(s.fullylabeledreplicas(), p.Child("fullyLabeledReplicas")));
  Append(errs, ValidateNonnegative(s.readyreplicas(), p.Child("readyReplicas")));
  Append(errs, ValidateNonnegative(s.availablereplicas(), p.Child("availableReplicas")));
  Append(errs, ValidateNonnegative(s.observedgeneration(), p.Child("observedGeneration")));
  const std::string msg = "cannot be greater than status.replicas";
  if (s.fullylabeledreplicas() > s.replicas()) {
    errs.push_back(Invalid(p.Child("fullyLabeledReplicas"), Num(s.fullylabeledreplicas()), msg));
  }
  if (s.readyreplicas() > s.replicas()) errs.push_back(Invalid(p.Child("readyReplicas"), Num(s.readyreplicas()), msg));
  if (s.availablereplicas() > s.replicas()) errs.push_back(Invalid(p.Child("availableReplicas"), Num(s.availablereplicas()), msg));
  if (s.availablereplicas() > s.readyreplicas()) {
    errs.push_back(Invalid(p.Child("availableReplicas"), Num(s.availablereplicas()), "cannot be greater than readyReplicas"));
  }
  return errs;
}

namespace {

FieldErrors ValidateStatefulSetSpec(const appsv1::StatefulSetSpec& spec, const Path& path) {
  FieldErrors errs;
  const std::string& pmp = spec.podmanagementpolicy();
  if (pmp.empty()) {
    errs.push_back(Required(path.Child("podManagementPolicy")));
  } else if (pmp != "OrderedReady" && pmp != "Parallel") {
    errs.push_back(Invalid(path.Child("podManagementPolicy"), Q(pmp), "must be 'OrderedReady' or 'Parallel'"));
  }
  const auto& us = spec.updatestrategy();
  Path usp = path.Child("updateStrategy");
  if (us.type().empty()) {
    errs.push_back(Required(usp));
  } else if (us.type() == "OnDelete") {
    if (us.has_rollingupdate()) {
      errs.push_back(Invalid(usp.Child("rollingUpdate"), "&apps.RollingUpdateStatefulSetStrategy{...}",
                             "only allowed for updateStrategy 'RollingUpdate'"));
    }
  } else if (us.type() == "RollingUpdate") {
    if (us.has_rollingupdate()) {
      Path rp = usp.Child("rollingUpdate");
      const auto& ru = us.rollingupdate();
      Append(errs, ValidateNonnegative(ru.partition(), rp.Child("partition")));
      if (ru.has_maxunavailable()) {
        Path mp = rp.Child("maxUnavailable");
        Append(errs, ValidatePositiveIntOrPercent(ru.maxunavailable(), mp));
        if (PercentOrInt(ru.maxunavailable()) == 0) errs.push_back(Invalid(mp, GoIntOrString(ru.maxunavailable()), "cannot be 0"));
        Append(errs, IsNotMoreThan100Percent(ru.maxunavailable(), mp));
      }
    }
  } else {
    errs.push_back(Invalid(usp, GoStrategy("apps.StatefulSetUpdateStrategy", us.type()), "must be 'RollingUpdate' or 'OnDelete'"));
  }
  if (spec.has_persistentvolumeclaimretentionpolicy()) {
    const auto& p = spec.persistentvolumeclaimretentionpolicy();
    Path pp = path.Child("persistentVolumeClaimRetentionPolicy");
    for (const auto& [value, name] : {std::pair{p.whendeleted(), "whenDeleted"}, std::pair{p.whenscaled(), "whenScaled"}}) {
      if (value != "Retain" && value != "Delete") errs.push_back(NotSupported(pp.Child(name), Q(value), {"Retain", "Delete"}));
    }
  }
  Append(errs, ValidateNonnegative(spec.replicas(), path.Child("replicas")));
  Append(errs, ValidateNonnegative(spec.minreadyseconds(), path.Child("minReadySeconds")));
  if (spec.has_ordinals()) Append(errs, ValidateNonnegative(spec.ordinals().start(), path.Child("ordinals.start")));
  const LabelSelector* sel = SelectorOf(spec.has_selector(), spec.selector());
  if (sel == nullptr) {
    errs.push_back(Required(path.Child("selector")));
  } else {
    Append(errs, ValidateLabelSelector(sel, path.Child("selector")));
    if (sel->matchlabels().empty() && sel->matchexpressions().empty()) {
      errs.push_back(Invalid(path.Child("selector"), GoLabelSelector(*sel), "empty selector is invalid for statefulset"));
    }
  }
  auto parsed = Selector::From(sel);
  if (!parsed) {
    errs.push_back(Invalid(path.Child("selector"), GoSelectorPtr(sel), ""));
  } else {
    const auto& tpl = spec.template_();
    if (!parsed->Empty() && !parsed->Matches(tpl.metadata().labels())) {
      errs.push_back(Invalid(path.Child("template", "metadata").Child("labels"), GoMap(tpl.metadata().labels()),
                             "`selector` does not match template `labels`"));
    }
    // Upstream checks only the template metadata here; the pod spec is validated as well so a
    // StatefulSet that could never create its pods is refused (claim templates count as volumes).
    PodSpecOptions opts;
    for (const auto& claim : spec.volumeclaimtemplates()) opts.extra_volumes.insert(claim.metadata().name());
    Append(errs, ValidatePodTemplateSpec(tpl, path.Child("template"), opts));
  }
  if (spec.template_().spec().restartpolicy() != "Always") {
    errs.push_back(NotSupported(path.Child("template", "spec").Child("restartPolicy"),
                                Q(spec.template_().spec().restartpolicy()), {"Always"}));
  }
  if (spec.template_().spec().has_activedeadlineseconds()) {
    errs.push_back(Forbidden(path.Child("template", "spec").Child("activeDeadlineSeconds"),
                             "activeDeadlineSeconds in StatefulSet is not Supported"));
  }
  return errs;
}

}  // namespace

FieldErrors ValidateStatefulSet(const appsv1::StatefulSet& s, const appsv1::StatefulSet* old) {
  Path meta("metadata");
  if (old == nullptr) {
    FieldErrors errs = ValidateMeta(s.metadata(), true, NameRule::kDNSLabel, meta);
    Append(errs, ValidateStatefulSetSpec(s.spec(), Path("spec")));
    return errs;
  }
  FieldErrors errs = ValidateMetaUpdate(s.metadata(), old->metadata(), meta);
  Append(errs, ValidateStatefulSetSpec(s.spec(), Path("spec")));
  appsv1::StatefulSetSpec clone = s.spec();
  const auto& o = old->spec();
  auto restore = [](bool has, auto setter, auto clearer) { has ? setter() : clearer(); };
  restore(o.has_replicas(), [&] { clone.set_replicas(o.replicas()); }, [&] { clone.clear_replicas(); });
  *clone.mutable_template_() = o.template_();
  *clone.mutable_updatestrategy() = o.updatestrategy();
  restore(o.has_updatestrategy(), [] {}, [&] { clone.clear_updatestrategy(); });
  restore(o.has_minreadyseconds(), [&] { clone.set_minreadyseconds(o.minreadyseconds()); }, [&] { clone.clear_minreadyseconds(); });
  restore(o.has_ordinals(), [&] { *clone.mutable_ordinals() = o.ordinals(); }, [&] { clone.clear_ordinals(); });
  restore(o.has_persistentvolumeclaimretentionpolicy(),
          [&] { *clone.mutable_persistentvolumeclaimretentionpolicy() = o.persistentvolumeclaimretentionpolicy(); },
          [&] { clone.clear_persistentvolumeclaimretentionpolicy(); });
  restore(o.has_template_(), [] {}, [&] { clone.clear_template_(); });
  if (!SameMessage(clone, o)) {
    errs.push_back(Forbidden(Path("spec"),
                             "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
                             "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
  }
  return errs;
}

FieldErrors ValidateStatefulSetStatusUpdate(const appsv1::StatefulSet& s, const appsv1::StatefulSet& old) {
  Path p("status");
  const auto& st = s.status();
  FieldErrors errs;
  Append(errs, ValidateNonnegative(st.replicas(), p.Child("replicas")));
  Append(errs, ValidateNonnegative(st.readyreplicas(), p.Child("readyReplicas")));
  Append(errs, ValidateNonnegative(st.currentreplicas(), p.Child("currentReplicas")));
  Append(errs, ValidateNonnegative(st.updatedreplicas(), p.Child("updatedReplicas")));
  Append(errs, ValidateNonnegative(st.availablereplicas(), p.Child("availableReplicas")));
  Append(errs, ValidateNonnegative(st.observedgeneration(), p.Child("observedGeneration")));
  if (st.has_collisioncount()) Append(errs, ValidateNonnegative(st.collisioncount(), p.Child("collisionCount")));
  const std::string msg = "cannot be greater than status.replicas";
  if (st.readyreplicas() > st.replicas()) errs.push_back(Invalid(p.Child("readyReplicas"), Num(st.readyreplicas()), msg));
  if (st.currentreplicas() > st.replicas()) errs.push_back(Invalid(p.Child("currentReplicas"), Num(st.currentreplicas()), msg));
  if (st.updatedreplicas() > st.replicas()) errs.push_back(Invalid(p.Child("updatedReplicas"), Num(st.updatedreplicas()), msg));
  if (st.availablereplicas() > st.replicas()) {
    errs.push_back(Invalid(p.Child("availableReplicas"), Num(st.availablereplicas()), msg));
  }
  if (st.availablereplicas() > st.readyreplicas()) {
    errs.push_back(Invalid(p.Child("availableReplicas"), Num(st.availablereplicas()), "cannot be greater than status.readyReplicas"));
  }
  Append(errs, ValidateMetaUpdate(s.metadata(), old.metadata(), Path("metadata")));
  Append(errs, ValidateCollisionCount(st.has_collisioncount(), st.collisioncount(), old.status().has_collisioncount(),
                                      old.status().collisioncount()));
  return errs;
}

FieldErrors ValidateDaemonSet(const appsv1::DaemonSet& ds, const appsv1::DaemonSet* old) {
  Path meta("metadata");
  Path spec("spec");
  FieldErrors errs = old == nullptr ? ValidateMeta(ds.metadata(), true, NameRule::kDNSSubdomain, meta)
                                    : ValidateMetaUpdate(ds.metadata(), old->metadata(), meta);
  const auto& s = ds.spec();
  const LabelSelector* sel = SelectorOf(s.has_selector(), s.selector());
  Append(errs, ValidateLabelSelector(sel, spec.Child("selector")));
  auto parsed = Selector::From(sel);
  if (parsed && !parsed->Matches(s.template_().metadata().labels())) {
    errs.push_back(Invalid(spec.Child("template", "metadata").Child("labels"), GoMap(s.template_().metadata().labels()),
                           "`selector` does not match template `labels`"));
  }
  if (sel != nullptr && sel->matchlabels().empty() && sel->matchexpressions().empty()) {
    errs.push_back(Invalid(spec.Child("selector"), GoLabelSelector(*sel), "empty selector is invalid for daemonset"));
  }
  Append(errs, ValidateWorkloadTemplate(s.template_(), "DaemonSet", spec, {}));
  Append(errs, ValidateNonnegative(s.minreadyseconds(), spec.Child("minReadySeconds")));
  const auto& us = s.updatestrategy();
  Path usp = spec.Child("updateStrategy");
  if (us.type() == "RollingUpdate") {
    if (!us.has_rollingupdate()) {
      errs.push_back(Required(usp.Child("rollingUpdate")));
    } else {
      Path rp = usp.Child("rollingUpdate");
      const auto& ru = us.rollingupdate();
      Append(errs, ValidatePositiveIntOrPercent(ru.maxunavailable(), rp.Child("maxUnavailable")));
      Append(errs, ValidatePositiveIntOrPercent(ru.maxsurge(), rp.Child("maxSurge")));
      Append(errs, IsNotMoreThan100Percent(ru.maxunavailable(), rp.Child("maxUnavailable")));
      Append(errs, IsNotMoreThan100Percent(ru.maxsurge(), rp.Child("maxSurge")));
      bool has_unavailable = PercentOrInt(ru.maxunavailable()) != 0;
      bool has_surge = PercentOrInt(ru.maxsurge()) != 0;
      if (has_unavailable && has_surge) {
        errs.push_back(Invalid(rp.Child("maxSurge"), GoIntOrString(ru.maxsurge()), "may not be set when maxUnavailable is non-zero"));
      } else if (!has_unavailable && !has_surge) {
        errs.push_back(Required(rp.Child("maxUnavailable"), "cannot be 0 when maxSurge is 0"));
      }
    }
  } else if (us.type() != "OnDelete") {
    errs.push_back(NotSupported(usp, GoStrategy("apps.DaemonSetUpdateStrategy", us.type()), {"RollingUpdate", "OnDelete"}));
  }
  if (s.has_revisionhistorylimit()) Append(errs, ValidateNonnegative(s.revisionhistorylimit(), spec.Child("revisionHistoryLimit")));
  if (old != nullptr && !SameSelector(s.has_selector(), s.selector(), old->spec().has_selector(), old->spec().selector())) {
    Append(errs, ValidateImmutable(false, GoSelectorPtr(sel), spec.Child("selector")));
  }
  return errs;
}

FieldErrors ValidateDaemonSetStatusUpdate(const appsv1::DaemonSet& ds, const appsv1::DaemonSet& old) {
  FieldErrors errs = ValidateMetaUpdate(ds.metadata(), old.metadata(), Path("metadata"));
  Path p("status");
  const auto& s = ds.status();
  Append(errs, ValidateNonnegative(s.currentnumberscheduled(), p.Child("currentNumberScheduled")));
  Append(errs, ValidateNonnegative(s.numbermisscheduled(), p.Child("numberMisscheduled")));
  Append(errs, ValidateNonnegative(s.desirednumberscheduled(), p.Child("desiredNumberScheduled")));
  Append(errs, ValidateNonnegative(s.numberready(), p.Child("numberReady")));
  Append(errs, ValidateNonnegative(s.observedgeneration(), p.Child("observedGeneration")));
  Append(errs, ValidateNonnegative(s.updatednumberscheduled(), p.Child("updatedNumberScheduled")));
  Append(errs, ValidateNonnegative(s.numberavailable(), p.Child("numberAvailable")));
  Append(errs, ValidateNonnegative(s.numberunavailable(), p.Child("numberUnavailable")));
  if (s.has_collisioncount()) Append(errs, ValidateNonnegative(s.collisioncount(), p.Child("collisionCount")));
  Append(errs, ValidateCollisionCount(s.has_collisioncount(), s.collisioncount(), old.status().has_collisioncount(),
                                      old.status().collisioncount()));
  return errs;
}

FieldErrors ValidateControllerRevision(const appsv1::ControllerRevision& r, const appsv1::ControllerRevision* old) {
  Path meta("metadata");
  FieldErrors errs;
  if (old != nullptr) errs = ValidateMetaUpdate(r.metadata(), old->metadata(), meta);
  Append(errs, ValidateMeta(r.metadata(), true, NameRule::kDNSSubdomain, meta));
  if (!r.has_data() || r.data().raw().empty()) errs.push_back(Required(Path("data"), "data is mandatory"));
  Append(errs, ValidateNonnegative(r.revision(), Path("revision")));
  if (old != nullptr && !SameMessage(r.data(), old->data())) {
    errs.push_back(Invalid(Path("data"), "runtime.RawExtension{...}", "field is immutable"));
  }
  return errs;
}

}  // namespace ck::apiserver::validation
