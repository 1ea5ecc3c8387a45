// batch/v1: Job and CronJob (upstream pkg/apis/batch/validation).
#include <cctype>

#include "apiserver/validation/cron.h"
#include "apiserver/validation/kinds.h"

namespace ck::apiserver::validation {

namespace {

constexpr int32_t kMaxParallelismForIndexedJob = 100000;
constexpr const char* kControllerUidLabel = "batch.kubernetes.io/controller-uid";
constexpr const char* kJobNameLabel = "batch.kubernetes.io/job-name";
constexpr const char* kLegacyControllerUidLabel = "controller-uid";
constexpr const char* kLegacyJobNameLabel = "job-name";

const LabelSelector* SelectorOf(const batchv1::JobSpec& spec) { return spec.has_selector() ? &spec.selector() : nullptr; }

// apivalidation.ValidateHasLabel.
FieldErrors ValidateHasLabel(const ObjectMeta& meta, const Path& path, const std::string& key, const std::string& expected) {
  auto it = meta.labels().find(key);
  if (it == meta.labels().end()) return {Required(path.Child("labels").Key(key), "must be '" + expected + "'")};
  if (it->second != expected) return {Invalid(path.Child("labels").Key(key), GoMap(meta.labels()), "must be '" + expected + "'")};
  return {};
}

FieldErrors ValidateGeneratedSelector(const batchv1::Job& job) {
  FieldErrors errs;
  const auto& spec = job.spec();
  if ((spec.has_manualselector() && spec.manualselector()) || !spec.has_selector()) return errs;
  const std::string& uid = job.metadata().uid();
  const std::string& name = job.metadata().name();
  if (uid.empty()) errs.push_back(Required(Path("metadata").Child("uid")));
  Path tm = Path("spec").Child("template").Child("metadata");
  Append(errs, ValidateHasLabel(spec.template_().metadata(), tm, kLegacyControllerUidLabel, uid));
  Append(errs, ValidateHasLabel(spec.template_().metadata(), tm, kLegacyJobNameLabel, name));
  Append(errs, ValidateHasLabel(spec.template_().metadata(), tm, kControllerUidLabel, uid));
  Append(errs, ValidateHasLabel(spec.template_().metadata(), tm, kJobNameLabel, name));
  StringMap expected;
  expected[kControllerUidLabel] = uid;
  expected[kJobNameLabel] = name;
  expected[kLegacyControllerUidLabel] = uid;
  expected[kLegacyJobNameLabel] = name;
  auto sel = Selector::From(&spec.selector());
  if (sel && !sel->Matches(expected)) {
    errs.push_back(Invalid(Path("spec").Child("selector"), GoLabelSelector(spec.selector()), "`selector` not auto-generated"));
  }
  return errs;
}

FieldErrors ValidatePodFailurePolicy(const batchv1::JobSpec& spec, const Path& path) {
  FieldErrors errs;
  const std::vector<std::string> kActions = {"Count", "FailIndex", "FailJob", "Ignore"};
  for (int i = 0; i < spec.podfailurepolicy().rules_size(); ++i) {
    const auto& rule = spec.podfailurepolicy().rules(i);
    Path rp = path.Child("rules").Index(i);
    if (std::find(kActions.begin(), kActions.end(), rule.action()) == kActions.end()) {
      errs.push_back(NotSupported(rp.Child("action"), Q(rule.action()), kActions));
    }
    if (rule.action() == "FailIndex" && !(spec.has_backofflimitperindex())) {
      errs.push_back(Forbidden(rp.Child("action"), "requires the backoffLimitPerIndex to be set"));
    }
    if (rule.has_onexitcodes() && !rule.onpodconditions().empty()) {
      errs.push_back(Invalid(rp, "batch.PodFailurePolicyRule{...}", "specifying both OnExitCodes and OnPodConditions is not supported"));
    } else if (!rule.has_onexitcodes() && rule.onpodconditions().empty()) {
      errs.push_back(Invalid(rp, "batch.PodFailurePolicyRule{...}", "specifying one of OnExitCodes and OnPodConditions is required"));
    }
    if (rule.has_onexitcodes()) {
      const auto& ec = rule.onexitcodes();
      Path ep = rp.Child("onExitCodes");
      if (ec.operator_() != "In" && ec.operator_() != "NotIn") {
        errs.push_back(NotSupported(ep.Child("operator"), Q(ec.operator_()), {"In", "NotIn"}));
      }
      if (ec.values().empty()) errs.push_back(Required(ep.Child("values"), "at least one value is required"));
      if (ec.values_size() > 255) errs.push_back(TooMany(ep.Child("values"), ec.values_size(), 255));
      for (int j = 0; j < ec.values_size(); ++j) {
        int32_t v = ec.values(j);
        if (ec.operator_() == "In" && v == 0) {
          errs.push_back(Invalid(ep.Child("values").Index(j), Num(v), "must not be 0 for the In operator"));
        }
        if (j > 0 && ec.values(j - 1) == v) {
          errs.push_back(Duplicate(ep.Child("values").Index(j), Num(v)));
        } else if (j > 0 && ec.values(j - 1) > v) {
          errs.push_back(Invalid(ep.Child("values").Index(j), Num(v), "must be ordered"));
        }
      }
    }
    for (int j = 0; j < rule.onpodconditions_size(); ++j) {
      const auto& pc = rule.onpodconditions(j);
      Path pp = rp.Child("onPodConditions").Index(j);
      if (pc.status() != "True" && pc.status() != "False" && pc.status() != "Unknown") {
        errs.push_back(NotSupported(pp.Child("status"), Q(pc.status()), {"False", "True", "Unknown"}));
      }
      Append(errs, ValidateQualifiedNameField(pc.type(), pp.Child("type")));
    }
  }
  return errs;
}

// validateJobSpec: the part shared with CronJob job templates.
FieldErrors ValidateJobSpecCommon(const batchv1::JobSpec& spec, const Path& path) {
  FieldErrors errs;
  if (spec.has_parallelism()) Append(errs, ValidateNonnegative(spec.parallelism(), path.Child("parallelism")));
  if (spec.has_completions()) Append(errs, ValidateNonnegative(spec.completions(), path.Child("completions")));
  if (spec.has_activedeadlineseconds()) Append(errs, ValidateNonnegative(spec.activedeadlineseconds(), path.Child("activeDeadlineSeconds")));
  if (spec.has_backofflimit()) Append(errs, ValidateNonnegative(spec.backofflimit(), path.Child("backoffLimit")));
  if (spec.has_ttlsecondsafterfinished()) {
    Append(errs, ValidateNonnegative(spec.ttlsecondsafterfinished(), path.Child("ttlSecondsAfterFinished")));
  }
  if (spec.has_backofflimitperindex()) Append(errs, ValidateNonnegative(spec.backofflimitperindex(), path.Child("backoffLimitPerIndex")));
  if (spec.has_maxfailedindexes()) {
    Append(errs, ValidateNonnegative(spec.maxfailedindexes(), path.Child("maxFailedIndexes")));
    if (!spec.has_backofflimitperindex()) {
      errs.push_back(Required(path.Child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"));
    }
  }
  if (spec.has_managedby()) {
    const std::string& mb = spec.managedby();
    size_t slash = mb.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == mb.size()) {
      errs.push_back(Invalid(path.Child("managedBy"), Q(mb), "must be a domain-prefixed path (such as \"acme.io/foo\")"));
    } else {
      for (auto& m : IsDNS1123Subdomain(mb.substr(0, slash))) errs.push_back(Invalid(path.Child("managedBy"), Q(mb.substr(0, slash)), m));
    }
    if (mb.size() > 63) errs.push_back(TooLong(path.Child("managedBy"), 63));
  }
  bool indexed = spec.has_completionmode() && spec.completionmode() == "Indexed";
  if (spec.has_completionmode()) {
    if (spec.completionmode() != "NonIndexed" && spec.completionmode() != "Indexed") {
      errs.push_back(NotSupported(path.Child("completionMode"), Q(spec.completionmode()), {"NonIndexed", "Indexed"}));
    }
    if (indexed) {
      if (!spec.has_completions()) errs.push_back(Required(path.Child("completions"), "when completion mode is Indexed"));
      if (spec.has_parallelism() && spec.parallelism() > kMaxParallelismForIndexedJob) {
        errs.push_back(Invalid(path.Child("parallelism"), Num(spec.parallelism()),
                               "must be less than or equal to 100000 when completion mode is Indexed"));
      }
      if (spec.has_completions() && spec.has_maxfailedindexes() && spec.maxfailedindexes() > spec.completions()) {
        errs.push_back(Invalid(path.Child("maxFailedIndexes"), Num(spec.maxfailedindexes()), "must be less than or equal to completions"));
      }
    }
  }
  if (!indexed) {
    if (spec.has_backofflimitperindex()) {
      errs.push_back(Invalid(path.Child("backoffLimitPerIndex"), Num(spec.backofflimitperindex()), "requires indexed completion mode"));
    }
    if (spec.has_maxfailedindexes()) {
      errs.push_back(Invalid(path.Child("maxFailedIndexes"), Num(spec.maxfailedindexes()), "requires indexed completion mode"));
    }
  }
  if (spec.has_podfailurepolicy()) Append(errs, ValidatePodFailurePolicy(spec, path.Child("podFailurePolicy")));
  if (spec.has_podreplacementpolicy()) {
    const std::string& prp = spec.podreplacementpolicy();
    Path pp = path.Child("podReplacementPolicy");
    if (spec.has_podfailurepolicy()) {
      if (prp != "Failed") errs.push_back(NotSupported(pp, Q(prp), {"Failed"}));
    } else if (prp != "Failed" && prp != "TerminatingOrFailed") {
      errs.push_back(NotSupported(pp, Q(prp), {"Failed", "TerminatingOrFailed"}));
    }
  }
  Path tp = path.Child("template");
  Append(errs, ValidatePodTemplateSpec(spec.template_(), tp, {}));
  const std::string& rp = spec.template_().spec().restartpolicy();
  Path rpp = tp.Child("spec", "restartPolicy");
  if (rp == "Always" || rp.empty()) {
    errs.push_back(Required(rpp, "valid values: \"OnFailure\", \"Never\""));
  } else if (rp != "OnFailure" && rp != "Never") {
    errs.push_back(NotSupported(rpp, Q(rp), {"OnFailure", "Never"}));
  } else if (spec.has_podfailurepolicy() && rp != "Never") {
    errs.push_back(Invalid(rpp, Q(rp), "only \"Never\" is supported when podFailurePolicy is specified"));
  }
  return errs;
}

FieldErrors ValidateJobSpec(const batchv1::JobSpec& spec, const Path& path) {
  FieldErrors errs = ValidateJobSpecCommon(spec, path);
  const LabelSelector* sel = SelectorOf(spec);
  if (sel == nullptr) {
    errs.push_back(Required(path.Child("selector")));
  } else {
    Append(errs, ValidateLabelSelector(sel, path.Child("selector")));
  }
  auto parsed = Selector::From(sel);
  if (parsed && !parsed->Matches(spec.template_().metadata().labels())) {
    errs.push_back(Invalid(path.Child("template", "metadata").Child("labels"), GoMap(spec.template_().metadata().labels()),
                           "`selector` does not match template `labels`"));
  }
  return errs;
}

// Suspended jobs that never started may change their pod template's scheduling directives.
bool OnlySchedulingDirectivesChanged(const corev1::PodTemplateSpec& a, const corev1::PodTemplateSpec& b) {
  corev1::PodTemplateSpec x = a, y = b;
  for (auto* t : {&x, &y}) {
    t->mutable_metadata()->clear_labels();
    t->mutable_metadata()->clear_annotations();
    t->mutable_spec()->clear_nodeselector();
    t->mutable_spec()->clear_tolerations();
    t->mutable_spec()->clear_affinity();
    t->mutable_spec()->clear_schedulinggates();
  }
  return SameMessage(x, y);
}

template <typename T>
std::string OptNum(bool has, T v) {
  return has ? Num(v) : "null";
}

}  // namespace

FieldErrors ValidateJob(const batchv1::Job& job, const batchv1::Job* old) {
  Path meta("metadata");
  Path spec("spec");
  const auto& s = job.spec();
  if (old == nullptr) {
    FieldErrors errs = ValidateMeta(job.metadata(), true, NameRule::kDNSSubdomain, meta);
    Append(errs, ValidateGeneratedSelector(job));
    Append(errs, ValidateJobSpec(s, spec));
    if (s.has_completionmode() && s.completionmode() == "Indexed" && s.has_completions() && s.completions() > 0) {
      std::string hostname = job.metadata().name() + "-" + std::to_string(s.completions() - 1);
      if (!IsDNS1123Label(hostname).empty()) {
        errs.push_back(Invalid(meta.Child("name"), Q(job.metadata().name()),
                               "will not able to create pod with invalid DNS label: " + hostname));
      }
    }
    return errs;
  }
  const auto& o = old->spec();
  FieldErrors errs = ValidateMetaUpdate(job.metadata(), old->metadata(), meta);
  Append(errs, ValidateJobSpec(s, spec));
  // completions: immutable, except an Indexed job may change it together with parallelism.
  bool completions_equal = s.has_completions() == o.has_completions() && s.completions() == o.completions();
  if (!completions_equal) {
    bool indexed = s.has_completionmode() && s.completionmode() == "Indexed";
    if (!indexed || !s.has_completions() || !o.has_completions()) {
      Append(errs, ValidateImmutable(false, OptNum(s.has_completions(), s.completions()), spec.Child("completions")));
    } else if (!s.has_parallelism() || s.completions() != s.parallelism()) {
      errs.push_back(Invalid(spec.Child("completions"), Num(s.completions()), "can only be modified in tandem with spec.parallelism"));
    }
  }
  bool same_selector = s.has_selector() == o.has_selector() && SameMessage(s.selector(), o.selector());
  Append(errs, ValidateImmutable(same_selector, s.has_selector() ? GoLabelSelector(s.selector()) : "null", spec.Child("selector")));
  bool template_equal = SameMessage(s.template_(), o.template_());
  bool suspended_never_started = o.has_suspend() && o.suspend() && !old->status().has_starttime();
  if (!template_equal && !(suspended_never_started && OnlySchedulingDirectivesChanged(s.template_(), o.template_()))) {
    Append(errs, ValidateImmutable(false, "core.PodTemplateSpec{...}", spec.Child("template")));
  }
  Append(errs, ValidateImmutable(s.has_completionmode() == o.has_completionmode() && s.completionmode() == o.completionmode(),
                                 s.has_completionmode() ? Q(s.completionmode()) : "null", spec.Child("completionMode")));
  Append(errs, ValidateImmutable(SameMessage(s.podfailurepolicy(), o.podfailurepolicy()) &&
                                     s.has_podfailurepolicy() == o.has_podfailurepolicy(),
                                 s.has_podfailurepolicy() ? "&batch.PodFailurePolicy{...}" : "null", spec.Child("podFailurePolicy")));
  Append(errs, ValidateImmutable(s.has_backofflimitperindex() == o.has_backofflimitperindex() &&
                                     s.backofflimitperindex() == o.backofflimitperindex(),
                                 OptNum(s.has_backofflimitperindex(), s.backofflimitperindex()), spec.Child("backoffLimitPerIndex")));
  Append(errs, ValidateImmutable(s.has_managedby() == o.has_managedby() && s.managedby() == o.managedby(),
                                 s.has_managedby() ? Q(s.managedby()) : "null", spec.Child("managedBy")));
  Append(errs, ValidateImmutable(s.has_successpolicy() == o.has_successpolicy() &&
                                     SameMessage(s.successpolicy(), o.successpolicy()),
                                 s.has_successpolicy() ? "&batch.SuccessPolicy{...}" : "null", spec.Child("successPolicy")));
  return errs;
}

FieldErrors ValidateJobStatusUpdate(const batchv1::Job& job, const batchv1::Job& old) {
  FieldErrors errs = ValidateMetaUpdate(job.metadata(), old.metadata(), Path("metadata"));
  Path p("status");
  const auto& s = job.status();
  Append(errs, ValidateNonnegative(s.active(), p.Child("active")));
  Append(errs, ValidateNonnegative(s.succeeded(), p.Child("succeeded")));
  Append(errs, ValidateNonnegative(s.failed(), p.Child("failed")));
  if (s.has_ready()) Append(errs, ValidateNonnegative(s.ready(), p.Child("ready")));
  if (s.has_terminating()) Append(errs, ValidateNonnegative(s.terminating(), p.Child("terminating")));
  return errs;
}

namespace {

FieldErrors ValidateTimeZone(const batchv1::CronJobSpec& spec, const Path& path) {
  if (!spec.has_timezone()) return {};
  const std::string& tz = spec.timezone();
  if (tz.empty()) return {Invalid(path, Q(tz), "timeZone must be nil or non-empty string")};
  size_t start = 0;
  while (true) {
    size_t slash = tz.find('/', start);
    std::string part = tz.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    bool ok = !part.empty() && part.size() <= 14 && part != "." && part != ".." && part[0] != '-';
    for (char c : part) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_' && c != '+') ok = false;
    }
    if (!ok) return {Invalid(path, Q(tz), "unknown time zone " + tz)};
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  FieldErrors errs;
  if (tz.size() == 5 && std::equal(tz.begin(), tz.end(), "Local", [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    errs.push_back(Invalid(path, Q(tz), "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"));
  }
  if (!IsKnownTimeZone(tz)) errs.push_back(Invalid(path, Q(tz), "unknown time zone " + tz));
  return errs;
}

FieldErrors ValidateCronJobSpec(const batchv1::CronJobSpec& spec, const batchv1::CronJobSpec* old, const Path& path) {
  FieldErrors errs;
  Path sp = path.Child("schedule");
  if (spec.schedule().empty()) {
    errs.push_back(Required(sp));
  } else {
    bool allow_tz = old != nullptr && old->schedule().find("TZ") != std::string::npos;
    auto parsed = CronSchedule::Parse(spec.schedule());
    if (!parsed.ok()) errs.push_back(Invalid(sp, Q(spec.schedule()), parsed.status().message()));
    bool has_tz = spec.schedule().find("TZ") != std::string::npos;
    if (allow_tz && has_tz && spec.has_timezone()) {
      errs.push_back(Invalid(sp, Q(spec.schedule()), "cannot use both timeZone field and TZ or CRON_TZ in schedule"));
    } else if (!allow_tz && has_tz) {
      errs.push_back(Invalid(sp, Q(spec.schedule()), "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"));
    }
  }
  if (spec.has_startingdeadlineseconds()) {
    Append(errs, ValidateNonnegative(spec.startingdeadlineseconds(), path.Child("startingDeadlineSeconds")));
  }
  if (old == nullptr || old->has_timezone() != spec.has_timezone() || old->timezone() != spec.timezone()) {
    Append(errs, ValidateTimeZone(spec, path.Child("timeZone")));
  }
  const std::string& cp = spec.concurrencypolicy();
  if (cp.empty()) {
    errs.push_back(Required(path.Child("concurrencyPolicy")));
  } else if (cp != "Allow" && cp != "Forbid" && cp != "Replace") {
    errs.push_back(NotSupported(path.Child("concurrencyPolicy"), Q(cp), {"Allow", "Forbid", "Replace"}));
  }
  Path jt = path.Child("jobTemplate");
  const auto& js = spec.jobtemplate().spec();
  Append(errs, ValidateJobSpecCommon(js, jt.Child("spec")));
  if (js.has_selector()) errs.push_back(Invalid(jt.Child("spec", "selector"), GoLabelSelector(js.selector()), "`selector` will be auto-generated"));
  if (js.has_manualselector() && js.manualselector()) {
    errs.push_back(NotSupported(jt.Child("spec", "manualSelector"), "true", {"nil", "false"}));
  }
  if (spec.has_successfuljobshistorylimit()) {
    Append(errs, ValidateNonnegative(spec.successfuljobshistorylimit(), path.Child("successfulJobsHistoryLimit")));
  }
  if (spec.has_failedjobshistorylimit()) {
    Append(errs, ValidateNonnegative(spec.failedjobshistorylimit(), path.Child("failedJobsHistoryLimit")));
  }
  return errs;
}

}  // namespace

FieldErrors ValidateCronJob(const batchv1::CronJob& cj, const batchv1::CronJob* old) {
  Path meta("metadata");
  if (old == nullptr) {
    FieldErrors errs = ValidateMeta(cj.metadata(), true, NameRule::kDNSSubdomain, meta);
    Append(errs, ValidateCronJobSpec(cj.spec(), nullptr, Path("spec")));
    // The controller appends an 11-character suffix to make Job names (<= 63 characters).
    if (cj.metadata().name().size() > 52) {
      errs.push_back(Invalid(meta.Child("name"), Q(cj.metadata().name()), "must be no more than 52 characters"));
    }
    return errs;
  }
  FieldErrors errs = ValidateMetaUpdate(cj.metadata(), old->metadata(), meta);
  Append(errs, ValidateCronJobSpec(cj.spec(), &old->spec(), Path("spec")));
  return errs;
}

FieldErrors ValidateCronJobStatusUpdate(const batchv1::CronJob& cj, const batchv1::CronJob& old) {
  return ValidateMetaUpdate(cj.metadata(), old.metadata(), Path("metadata"));
}

}  // namespace ck::apiserver::validation
