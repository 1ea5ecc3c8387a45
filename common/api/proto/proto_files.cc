// Lists the API proto files by touching one message of each generated file.
#include "common/api/proto/proto_files.h"

#include "common/api/proto/admission_v1.pb.h"
#include "common/api/proto/admissionregistration_v1.pb.h"
#include "common/api/proto/apidiscovery_v2.pb.h"
#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/authentication_v1.pb.h"
#include "common/api/proto/authorization_v1.pb.h"
#include "common/api/proto/autoscaling_v1.pb.h"
#include "common/api/proto/batch_v1.pb.h"
#include "common/api/proto/coordination_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/discovery_v1.pb.h"
#include "common/api/proto/events_v1.pb.h"
#include "common/api/proto/intstr.pb.h"
#include "common/api/proto/meta_v1.pb.h"
#include "common/api/proto/networking_v1.pb.h"
#include "common/api/proto/options.pb.h"
#include "common/api/proto/policy_v1.pb.h"
#include "common/api/proto/rbac_v1.pb.h"
#include "common/api/proto/resource.pb.h"
#include "common/api/proto/runtime.pb.h"
#include "common/api/proto/scheduling_v1.pb.h"

namespace ck::api {

const std::vector<const google::protobuf::FileDescriptor*>& AllApiProtoFiles() {
  static const auto* const kFiles = new std::vector<const google::protobuf::FileDescriptor*>{
      ck::api::GoField_descriptor()->file(),
      k8s::io::apimachinery::pkg::api::resource::Quantity::descriptor()->file(),
      k8s::io::apimachinery::pkg::util::intstr::IntOrString::descriptor()->file(),
      k8s::io::apimachinery::pkg::runtime::RawExtension::descriptor()->file(),
      k8s::io::apimachinery::pkg::apis::meta::v1::ObjectMeta::descriptor()->file(),
      k8s::io::api::core::v1::Pod::descriptor()->file(),
      k8s::io::api::apps::v1::Deployment::descriptor()->file(),
      k8s::io::api::autoscaling::v1::Scale::descriptor()->file(),
      k8s::io::api::batch::v1::Job::descriptor()->file(),
      k8s::io::api::policy::v1::PodDisruptionBudget::descriptor()->file(),
      k8s::io::api::scheduling::v1::PriorityClass::descriptor()->file(),
      k8s::io::api::coordination::v1::Lease::descriptor()->file(),
      k8s::io::api::discovery::v1::EndpointSlice::descriptor()->file(),
      k8s::io::api::events::v1::Event::descriptor()->file(),
      k8s::io::api::networking::v1::Ingress::descriptor()->file(),
      k8s::io::api::rbac::v1::Role::descriptor()->file(),
      k8s::io::api::admissionregistration::v1::ValidatingWebhookConfiguration::descriptor()->file(),
      k8s::io::api::authentication::v1::TokenReview::descriptor()->file(),
      k8s::io::api::authorization::v1::SubjectAccessReview::descriptor()->file(),
      k8s::io::api::admission::v1::AdmissionReview::descriptor()->file(),
      k8s::io::api::apidiscovery::v2::APIGroupDiscoveryList::descriptor()->file(),
  };
  return *kFiles;
}

}  // namespace ck::api
