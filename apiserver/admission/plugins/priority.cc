#include "apiserver/admission/plugins/priority.h"

#include "apiserver/admission/plugins/util.h"
#include "common/api/proto/core_v1.pb.h"

namespace ck::apiserver::admission::plugins {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
namespace schedulingv1 = ::k8s::io::api::scheduling::v1;

constexpr std::string_view kPriorityClasses = "priorityclasses.scheduling.k8s.io";
// A class stored without preemptionPolicy gets upstream's default.
constexpr std::string_view kPreemptLowerPriority = "PreemptLowerPriority";

schedulingv1::PriorityClass MakeClass(std::string name, int32_t value, std::string description) {
  schedulingv1::PriorityClass pc;
  pc.mutable_metadata()->set_name(std::move(name));
  pc.set_value(value);
  pc.set_description(std::move(description));
  pc.set_preemptionpolicy(std::string(kPreemptLowerPriority));
  return pc;
}

std::string PolicyOf(const schedulingv1::PriorityClass& pc) {
  return pc.has_preemptionpolicy() ? pc.preemptionpolicy() : std::string(kPreemptLowerPriority);
}

}  // namespace

std::vector<schedulingv1::PriorityClass> SystemPriorityClasses() {
  return {
      MakeClass("system-node-critical", kSystemCriticalPriority + 1000,
                "Used for system critical pods that must not be moved from their current node."),
      MakeClass("system-cluster-critical", kSystemCriticalPriority,
                "Used for system critical pods that must run in the cluster, but can be moved to another node if "
                "necessary."),
  };
}

ObjectRef Priority::DefaultClass() const {
  ObjectRef best;
  for (ObjectRef& obj : source_.List(kPriorityClasses, "")) {
    const auto* pc = As<schedulingv1::PriorityClass>(obj.get());
    if (pc == nullptr || !pc->globaldefault()) continue;
    if (best == nullptr || As<schedulingv1::PriorityClass>(best.get())->value() > pc->value()) best = obj;
  }
  return best;
}

Status Priority::Admit(const Attributes& a, Context& ctx) {
  if (!IsResource(a, "", "pods") || !a.subresource.empty()) return Status::Ok();
  auto* pod = As<corev1::Pod>(a.object);
  if (pod == nullptr) return Status::Ok();
  auto* spec = pod->mutable_spec();

  if (a.operation == Operation::kUpdate) {
    // The priority was set on create; validation forbids changing it, so keep it when dropped.
    const auto* old = As<corev1::Pod>(a.old_object);
    if (old == nullptr) return Status::Ok();
    if (!spec->has_priority() && old->spec().has_priority()) spec->set_priority(old->spec().priority());
    if (!spec->has_preemptionpolicy() && old->spec().has_preemptionpolicy()) {
      spec->set_preemptionpolicy(old->spec().preemptionpolicy());
    }
    return Status::Ok();
  }
  if (a.operation != Operation::kCreate) return Status::Ok();

  int32_t priority = 0;
  std::optional<std::string> policy;
  ObjectRef holder;
  if (spec->priorityclassname().empty()) {
    holder = DefaultClass();
    if (const auto* pc = As<schedulingv1::PriorityClass>(holder.get())) {
      spec->set_priorityclassname(pc->metadata().name());
      priority = pc->value();
      policy = PolicyOf(*pc);
    }
  } else {
    holder = source_.Get(kPriorityClasses, "", spec->priorityclassname());
    const auto* pc = As<schedulingv1::PriorityClass>(holder.get());
    if (pc == nullptr) return ForbiddenFor(a, "no PriorityClass with name " + spec->priorityclassname() + " was found");
    priority = pc->value();
    policy = PolicyOf(*pc);
  }
  if (spec->has_priority() && spec->priority() != priority) {
    return ForbiddenFor(a, "the integer value of priority (" + std::to_string(spec->priority()) +
                               ") must not be provided in pod spec; priority admission controller computed " +
                               std::to_string(priority) + " from the given PriorityClass name");
  }
  spec->set_priority(priority);
  if (policy) {
    if (spec->has_preemptionpolicy() && spec->preemptionpolicy() != *policy) {
      return ForbiddenFor(a, "the string value of PreemptionPolicy (" + spec->preemptionpolicy() +
                                 ") must not be provided in pod spec; priority admission controller computed " +
                                 *policy + " from the given PriorityClass name");
    }
    spec->set_preemptionpolicy(*policy);
  }
  ctx.trace.push_back("Priority: priority " + std::to_string(priority) +
                      (spec->priorityclassname().empty() ? "" : " from class " + spec->priorityclassname()));
  return Status::Ok();
}

Status Priority::Validate(const Attributes& a, Context& ctx) {
  (void)ctx;
  if (!IsResource(a, "scheduling.k8s.io", "priorityclasses") || !a.subresource.empty()) return Status::Ok();
  if (a.operation != Operation::kCreate && a.operation != Operation::kUpdate) return Status::Ok();
  const auto* pc = As<schedulingv1::PriorityClass>(a.object);
  if (pc == nullptr || !pc->globaldefault()) return Status::Ok();
  ObjectRef current = DefaultClass();
  const auto* dpc = As<schedulingv1::PriorityClass>(current.get());
  if (dpc == nullptr) return Status::Ok();
  if (a.operation == Operation::kCreate || dpc->metadata().name() != pc->metadata().name()) {
    return ForbiddenFor(a, "PriorityClass " + dpc->metadata().name() + " is already marked as default. Only one "
                               "default can exist");
  }
  return Status::Ok();
}

}  // namespace ck::apiserver::admission::plugins
