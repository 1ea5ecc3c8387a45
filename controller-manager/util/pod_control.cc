#include "controller-manager/util/pod_control.h"

#include "common/api/object.h"
#include "common/base/log.h"
#include "common/client/cache/informer_factory.h"
#include "controller-manager/util/controller_ref.h"

namespace ck::controller_manager {

namespace {

const client::ResourceInfo& Pods() {
  static const client::ResourceInfo& r = client::SharedInformerFactory::ResourceOfMessage(
      corev1::Pod::descriptor()->full_name());
  return r;
}

// A namespace being deleted refuses creates; upstream records no event for that.
bool NamespaceTerminating(const Status& s) {
  return s.code() == Code::kForbidden && s.message().find("because it is being terminated") != std::string::npos;
}

}  // namespace

corev1::Pod PodFromTemplate(const corev1::PodTemplateSpec& tmpl, const std::string& owner_name,
                            const metav1::OwnerReference& controller_ref) {
  corev1::Pod pod;
  metav1::ObjectMeta* meta = pod.mutable_metadata();
  *meta->mutable_labels() = tmpl.metadata().labels();
  *meta->mutable_annotations() = tmpl.metadata().annotations();
  *meta->mutable_finalizers() = tmpl.metadata().finalizers();
  // Upstream getPodsPrefix: "<owner>-", trimmed so that a generated name stays a valid name.
  std::string prefix = owner_name + "-";
  if (prefix.size() > 58) prefix.resize(58);
  meta->set_generatename(prefix);
  *meta->add_ownerreferences() = controller_ref;
  *pod.mutable_spec() = tmpl.spec();
  return pod;
}

Result<std::shared_ptr<const corev1::Pod>> PodControl::CreatePod(const std::string& ns, const corev1::Pod& pod,
                                                                 const google::protobuf::Message& owner) {
  if (pod.metadata().labels().empty()) {
    return Invalid("unable to create pods, no labels");  // upstream refuses: the owner could never select it
  }
  Result<client::ObjectPtr> created = api_.Create(Pods(), ns, pod);
  if (!created.ok()) {
    if (!NamespaceTerminating(created.status())) {
      recorder_.Event(owner, client::kEventWarning, "FailedCreate", "Error creating: " + created.status().message());
    }
    return created.status();
  }
  auto typed = client::As<corev1::Pod>(*created);
  CK_VLOG(4, "Controller created pod", "controller", MetaOf(owner).name(), "pod", typed->metadata().name());
  recorder_.Event(owner, client::kEventNormal, "SuccessfulCreate", "Created pod: " + typed->metadata().name());
  return typed;
}

Result<std::shared_ptr<const corev1::Pod>> PodControl::CreatePodFromTemplate(const std::string& ns,
                                                                             const corev1::PodTemplateSpec& tmpl,
                                                                             const google::protobuf::Message& owner) {
  return CreatePod(ns, PodFromTemplate(tmpl, MetaOf(owner).name(), NewControllerRef(owner)), owner);
}

Status PodControl::DeletePod(const std::string& ns, const std::string& name, const std::string& uid,
                             const google::protobuf::Message& owner) {
  client::DeleteOptions options;
  options.precondition_uid = uid;
  Result<client::ObjectPtr> deleted = api_.Delete(Pods(), ns, name, options);
  if (!deleted.ok()) {
    if (deleted.status().code() == Code::kNotFound) return Status::Ok();
    recorder_.Event(owner, client::kEventWarning, "FailedDelete", "Error deleting: " + deleted.status().message());
    return deleted.status();
  }
  recorder_.Event(owner, client::kEventNormal, "SuccessfulDelete", "Deleted pod: " + name);
  return Status::Ok();
}

Status PodControl::PatchPod(const std::string& ns, const std::string& name, const std::string& patch) {
  return api_.Patch(Pods(), ns, name, client::PatchType::kStrategicMerge, patch).status();
}

}  // namespace ck::controller_manager
