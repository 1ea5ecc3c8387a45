// ApplyDefaults: upstream's SetDefaults_* functions (and the +default markers of the v1 types)
// for every served kind, applied recursively the way the generated defaulters walk an object.
#include <cctype>

#include "apiserver/validation/kinds.h"
#include "common/api/quantity.h"

namespace ck::apiserver {

namespace {

using namespace validation;  // NOLINT: kinds' namespace aliases

using k8s::io::apimachinery::pkg::api::resource::Quantity;
using QuantityMap = google::protobuf::Map<std::string, Quantity>;

template <typename T>
using Repeated = google::protobuf::RepeatedPtrField<T>;

// --- core/v1 ---------------------------------------------------------------------------------------

// SetDefaults_ResourceList: values are rounded up to milli precision ("0.5m" -> "1m").
void DefaultResourceList(QuantityMap* m) {
  for (auto& [name, q] : *m) {
    auto parsed = ck::api::Quantity::Parse(q.string());
    if (!parsed.ok()) continue;
    ck::api::Quantity milli = ck::api::Quantity::FromMilli(parsed->MilliValue(), parsed->format());
    if (milli.Cmp(*parsed) != 0) q.set_string(milli.String());
  }
}

// The tag parsers.ParseImageName finds: "" when the reference carries a digest only or cannot be
// parsed, "latest" when it has neither tag nor digest.
std::string ImageTag(const std::string& image) {
  if (image.empty()) return "";
  std::string ref = image;
  bool digest = false;
  size_t at = ref.find('@');
  if (at != std::string::npos) {
    digest = true;
    ref = ref.substr(0, at);
  }
  size_t slash = ref.rfind('/');
  size_t colon = ref.rfind(':');
  std::string tag;
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    tag = ref.substr(colon + 1);
    ref = ref.substr(0, colon);
  }
  // Repository paths (after an optional registry host) must be lower case.
  std::string remainder = ref;
  size_t first = ref.find('/');
  if (first != std::string::npos) {
    std::string host = ref.substr(0, first);
    if (host.find('.') != std::string::npos || host.find(':') != std::string::npos || host == "localhost" ||
        std::any_of(host.begin(), host.end(), [](unsigned char c) { return std::isupper(c); })) {
      remainder = ref.substr(first + 1);
    }
  }
  if (remainder.empty() || std::any_of(remainder.begin(), remainder.end(), [](unsigned char c) { return std::isupper(c); })) {
    return "";
  }
  if (tag.empty() && !digest) return "latest";
  return tag;
}

void DefaultHTTPGet(corev1::HTTPGetAction* h) {
  if (h->path().empty()) h->set_path("/");
  if (h->scheme().empty()) h->set_scheme("HTTP");
}

void DefaultProbe(corev1::Probe* p) {
  if (p->timeoutseconds() == 0) p->set_timeoutseconds(1);
  if (p->periodseconds() == 0) p->set_periodseconds(10);
  if (p->successthreshold() == 0) p->set_successthreshold(1);
  if (p->failurethreshold() == 0) p->set_failurethreshold(3);
  if (p->handler().has_httpget()) DefaultHTTPGet(p->mutable_handler()->mutable_httpget());
}

void DefaultLifecycleHandler(corev1::LifecycleHandler* h) {
  if (h->has_httpget()) DefaultHTTPGet(h->mutable_httpget());
}

void DefaultFieldRef(corev1::ObjectFieldSelector* f) {
  if (f->apiversion().empty()) f->set_apiversion("v1");
}

template <typename C>  // corev1::Container or corev1::EphemeralContainerCommon
void DefaultContainer(C* c) {
  if (c->imagepullpolicy().empty()) c->set_imagepullpolicy(ImageTag(c->image()) == "latest" ? "Always" : "IfNotPresent");
  if (c->terminationmessagepath().empty()) c->set_terminationmessagepath("/dev/termination-log");
  if (c->terminationmessagepolicy().empty()) c->set_terminationmessagepolicy("File");
  for (auto& port : *c->mutable_ports()) {
    if (port.protocol().empty()) port.set_protocol("TCP");
  }
  for (auto& env : *c->mutable_env()) {
    if (env.has_valuefrom() && env.valuefrom().has_fieldref()) DefaultFieldRef(env.mutable_valuefrom()->mutable_fieldref());
  }
  for (auto* probe : {c->has_livenessprobe() ? c->mutable_livenessprobe() : nullptr,
                      c->has_readinessprobe() ? c->mutable_readinessprobe() : nullptr,
                      c->has_startupprobe() ? c->mutable_startupprobe() : nullptr}) {
    if (probe != nullptr) DefaultProbe(probe);
  }
  if (c->has_lifecycle()) {
    if (c->lifecycle().has_poststart()) DefaultLifecycleHandler(c->mutable_lifecycle()->mutable_poststart());
    if (c->lifecycle().has_prestop()) DefaultLifecycleHandler(c->mutable_lifecycle()->mutable_prestop());
  }
  DefaultResourceList(c->mutable_resources()->mutable_limits());
  DefaultResourceList(c->mutable_resources()->mutable_requests());
}

void DefaultDownwardAPIItems(Repeated<corev1::DownwardAPIVolumeFile>* items) {
  for (auto& item : *items) {
    if (item.has_fieldref()) DefaultFieldRef(item.mutable_fieldref());
  }
}

void DefaultPVCSpec(corev1::PersistentVolumeClaimSpec* spec) {
  if (!spec->has_volumemode()) spec->set_volumemode("Filesystem");
  DefaultResourceList(spec->mutable_resources()->mutable_limits());
  DefaultResourceList(spec->mutable_resources()->mutable_requests());
}

void DefaultVolume(corev1::Volume* v) {
  auto* s = v->mutable_volumesource();
  if (s->ByteSizeLong() == 0) s->mutable_emptydir();  // no source: an emptyDir
  constexpr int32_t kDefaultMode = 0644;
  if (s->has_secret() && !s->secret().has_defaultmode()) s->mutable_secret()->set_defaultmode(kDefaultMode);
  if (s->has_configmap() && !s->configmap().has_defaultmode()) s->mutable_configmap()->set_defaultmode(kDefaultMode);
  if (s->has_downwardapi()) {
    if (!s->downwardapi().has_defaultmode()) s->mutable_downwardapi()->set_defaultmode(kDefaultMode);
    DefaultDownwardAPIItems(s->mutable_downwardapi()->mutable_items());
  }
  if (s->has_projected()) {
    auto* p = s->mutable_projected();
    if (!p->has_defaultmode()) p->set_defaultmode(kDefaultMode);
    for (auto& src : *p->mutable_sources()) {
      if (src.has_serviceaccounttoken() && !src.serviceaccounttoken().has_expirationseconds()) {
        src.mutable_serviceaccounttoken()->set_expirationseconds(3600);
      }
      if (src.has_downwardapi()) DefaultDownwardAPIItems(src.mutable_downwardapi()->mutable_items());
    }
  }
  if (s->has_hostpath() && !s->hostpath().has_type()) s->mutable_hostpath()->set_type("");
  if (s->has_iscsi() && s->iscsi().iscsiinterface().empty()) s->mutable_iscsi()->set_iscsiinterface("default");
  if (s->has_rbd()) {
    auto* r = s->mutable_rbd();
    if (r->pool().empty()) r->set_pool("rbd");
    if (r->user().empty()) r->set_user("admin");
    if (r->keyring().empty()) r->set_keyring("/etc/ceph/keyring");
  }
  if (s->has_azuredisk()) {
    auto* a = s->mutable_azuredisk();
    if (!a->has_cachingmode()) a->set_cachingmode("ReadWrite");
    if (!a->has_fstype()) a->set_fstype("ext4");
    if (!a->has_readonly()) a->set_readonly(false);
    if (!a->has_kind()) a->set_kind("Shared");
  }
  if (s->has_scaleio()) {
    if (s->scaleio().storagemode().empty()) s->mutable_scaleio()->set_storagemode("ThinProvisioned");
    if (s->scaleio().fstype().empty()) s->mutable_scaleio()->set_fstype("xfs");
  }
  if (s->has_ephemeral() && s->ephemeral().has_volumeclaimtemplate()) {
    DefaultPVCSpec(s->mutable_ephemeral()->mutable_volumeclaimtemplate()->mutable_spec());
  }
  if (s->has_image() && s->image().pullpolicy().empty()) {
    s->mutable_image()->set_pullpolicy(ImageTag(s->image().reference()) == "latest" ? "Always" : "IfNotPresent");
  }
}

// SetDefaults_PodSpec plus everything nested in a pod spec.
void DefaultPodSpec(corev1::PodSpec* spec) {
  if (spec->dnspolicy().empty()) spec->set_dnspolicy("ClusterFirst");
  if (spec->restartpolicy().empty()) spec->set_restartpolicy("Always");
  if (!spec->has_securitycontext()) spec->mutable_securitycontext();
  if (!spec->has_terminationgraceperiodseconds()) spec->set_terminationgraceperiodseconds(30);
  if (spec->schedulername().empty()) spec->set_schedulername("default-scheduler");
  for (auto& v : *spec->mutable_volumes()) DefaultVolume(&v);
  for (auto& c : *spec->mutable_containers()) DefaultContainer(&c);
  for (auto& c : *spec->mutable_initcontainers()) DefaultContainer(&c);
  for (auto& c : *spec->mutable_ephemeralcontainers()) DefaultContainer(c.mutable_ephemeralcontainercommon());
  DefaultResourceList(spec->mutable_overhead());
  if (spec->has_resources()) {
    DefaultResourceList(spec->mutable_resources()->mutable_limits());
    DefaultResourceList(spec->mutable_resources()->mutable_requests());
  }
}

void DefaultPodTemplate(corev1::PodTemplateSpec* tpl) { DefaultPodSpec(tpl->mutable_spec()); }

// SetDefaults_Pod: what only Pods (not templates) get.
void DefaultPod(corev1::Pod* pod) {
  auto* spec = pod->mutable_spec();
  DefaultPodSpec(spec);
  auto requests_from_limits = [](corev1::Container& c) {
    if (c.resources().limits().empty()) return;
    auto* req = c.mutable_resources()->mutable_requests();
    for (const auto& [name, q] : c.resources().limits()) {
      if (!req->count(name)) (*req)[name] = q;
    }
  };
  for (auto& c : *spec->mutable_containers()) requests_from_limits(c);
  for (auto& c : *spec->mutable_initcontainers()) requests_from_limits(c);
  if (!spec->has_enableservicelinks()) spec->set_enableservicelinks(true);
  if (spec->hostnetwork()) {
    for (auto* list : {spec->mutable_containers(), spec->mutable_initcontainers()}) {
      for (auto& c : *list) {
        for (auto& p : *c.mutable_ports()) {
          if (p.hostport() == 0) p.set_hostport(p.containerport());
        }
      }
    }
  }
}

bool IsHeadlessSpec(const corev1::ServiceSpec& s) { return s.clusterips_size() == 1 && s.clusterips(0) == "None"; }

void DefaultService(corev1::Service* svc) {
  auto* s = svc->mutable_spec();
  // The create strategy keeps clusterIP and clusterIPs[0] in step.
  if (!s->clusterip().empty() && s->clusterips().empty()) s->add_clusterips(s->clusterip());
  if (s->clusterip().empty() && !s->clusterips().empty()) s->set_clusterip(s->clusterips(0));
  if (s->sessionaffinity().empty()) s->set_sessionaffinity("None");
  if (s->sessionaffinity() == "None") s->clear_sessionaffinityconfig();
  if (s->sessionaffinity() == "ClientIP" &&
      (!s->has_sessionaffinityconfig() || !s->sessionaffinityconfig().has_clientip() ||
       !s->sessionaffinityconfig().clientip().has_timeoutseconds())) {
    s->mutable_sessionaffinityconfig()->mutable_clientip()->set_timeoutseconds(10800);
  }
  if (s->type().empty()) s->set_type("ClusterIP");
  for (auto& p : *s->mutable_ports()) {
    if (p.protocol().empty()) p.set_protocol("TCP");
    const auto& tp = p.targetport();
    if ((tp.type() == 0 && tp.intval() == 0) || (tp.type() == 1 && tp.strval().empty())) {
      p.mutable_targetport()->set_type(0);
      p.mutable_targetport()->clear_strval();
      p.mutable_targetport()->set_intval(p.port());
    }
  }
  const std::string& type = s->type();
  bool externally_accessible = type == "LoadBalancer" || type == "NodePort" || (type == "ClusterIP" && !s->externalips().empty());
  if (externally_accessible && s->externaltrafficpolicy().empty()) s->set_externaltrafficpolicy("Cluster");
  if (!s->has_internaltrafficpolicy() && (type == "NodePort" || type == "LoadBalancer" || type == "ClusterIP")) {
    s->set_internaltrafficpolicy("Cluster");
  }
  if (type == "LoadBalancer") {
    if (!s->has_allocateloadbalancernodeports()) s->set_allocateloadbalancernodeports(true);
    for (auto& in : *svc->mutable_status()->mutable_loadbalancer()->mutable_ingress()) {
      if (!in.ip().empty() && !in.has_ipmode()) in.set_ipmode("VIP");
    }
  }
  // The IP-family fields the service registry fills in on a single-stack cluster.
  if (type != "ExternalName") {
    if (!s->has_ipfamilypolicy()) {
      s->set_ipfamilypolicy(IsHeadlessSpec(*s) && s->selector().empty() ? "RequireDualStack" : "SingleStack");
    }
    if (s->ipfamilies().empty()) {
      IpAddr ip;
      bool v6 = !s->clusterips().empty() && s->clusterips(0) != "None" && ParseIp(s->clusterips(0), &ip) && ip.v6;
      s->add_ipfamilies(v6 ? "IPv6" : "IPv4");
    }
  }
}

void DefaultSecret(corev1::Secret* s) {
  if (s->type().empty()) s->set_type("Opaque");
  // Conversion to the stored form merges the write-only stringData into data.
  for (const auto& [k, v] : s->stringdata()) (*s->mutable_data())[k] = v;
  s->clear_stringdata();
}

void DefaultNamespace(corev1::Namespace* ns) {
  if (!ns->metadata().name().empty()) {
    (*ns->mutable_metadata()->mutable_labels())["kubernetes.io/metadata.name"] = ns->metadata().name();
  }
  if (ns->status().phase().empty()) ns->mutable_status()->set_phase("Active");
  // The create strategy adds the namespace controller's finalizer.
  if (ns->metadata().resourceversion().empty() && ns->spec().finalizers().empty() && !ns->metadata().has_deletiontimestamp()) {
    ns->mutable_spec()->add_finalizers("kubernetes");
  }
}

void DefaultNode(corev1::Node* node) {
  auto* st = node->mutable_status();
  if (st->allocatable().empty() && !st->capacity().empty()) *st->mutable_allocatable() = st->capacity();
  DefaultResourceList(st->mutable_capacity());
  DefaultResourceList(st->mutable_allocatable());
}

void DefaultLimitRange(corev1::LimitRange* lr) {
  for (auto& item : *lr->mutable_spec()->mutable_limits()) {
    DefaultResourceList(item.mutable_max());
    DefaultResourceList(item.mutable_min());
    DefaultResourceList(item.mutable_default_());
    DefaultResourceList(item.mutable_defaultrequest());
    DefaultResourceList(item.mutable_maxlimitrequestratio());
    if (item.type() != "Container") continue;
    for (const auto& [k, v] : item.max()) {
      if (!item.default_().count(k)) (*item.mutable_default_())[k] = v;
    }
    for (const auto& [k, v] : item.default_()) {
      if (!item.defaultrequest().count(k)) (*item.mutable_defaultrequest())[k] = v;
    }
    for (const auto& [k, v] : item.min()) {
      if (!item.defaultrequest().count(k)) (*item.mutable_defaultrequest())[k] = v;
    }
  }
}

void DefaultPVC(corev1::PersistentVolumeClaim* pvc) {
  if (pvc->status().phase().empty()) pvc->mutable_status()->set_phase("Pending");
  DefaultPVCSpec(pvc->mutable_spec());
}

// --- apps/v1 -----------------------------------------------------------------------------------------

void SetString(IntOrString* v, const std::string& s) {
  v->set_type(1);
  v->set_strval(s);
  v->clear_intval();
}

void SetInt(IntOrString* v, int32_t i) {
  v->set_type(0);
  v->set_intval(i);
  v->clear_strval();
}

void DefaultDeployment(appsv1::Deployment* d) {
  auto* s = d->mutable_spec();
  if (!s->has_replicas()) s->set_replicas(1);
  auto* st = s->mutable_strategy();
  if (st->type().empty()) st->set_type("RollingUpdate");
  if (st->type() == "RollingUpdate") {
    auto* ru = st->mutable_rollingupdate();
    if (!ru->has_maxunavailable()) SetString(ru->mutable_maxunavailable(), "25%");
    if (!ru->has_maxsurge()) SetString(ru->mutable_maxsurge(), "25%");
  }
  if (!s->has_revisionhistorylimit()) s->set_revisionhistorylimit(10);
  if (!s->has_progressdeadlineseconds()) s->set_progressdeadlineseconds(600);
  DefaultPodTemplate(s->mutable_template_());
}

void DefaultDaemonSet(appsv1::DaemonSet* ds) {
  auto* s = ds->mutable_spec();
  auto* us = s->mutable_updatestrategy();
  if (us->type().empty()) us->set_type("RollingUpdate");
  if (us->type() == "RollingUpdate") {
    auto* ru = us->mutable_rollingupdate();
    if (!ru->has_maxunavailable()) SetInt(ru->mutable_maxunavailable(), 1);
    if (!ru->has_maxsurge()) SetInt(ru->mutable_maxsurge(), 0);
  }
  if (!s->has_revisionhistorylimit()) s->set_revisionhistorylimit(10);
  DefaultPodTemplate(s->mutable_template_());
}

void DefaultStatefulSet(appsv1::StatefulSet* sts) {
  auto* s = sts->mutable_spec();
  if (s->podmanagementpolicy().empty()) s->set_podmanagementpolicy("OrderedReady");
  auto* us = s->mutable_updatestrategy();
  if (us->type().empty()) {
    us->set_type("RollingUpdate");
    us->mutable_rollingupdate();
  }
  if (us->type() == "RollingUpdate" && us->has_rollingupdate() && !us->rollingupdate().has_partition()) {
    us->mutable_rollingupdate()->set_partition(0);
  }
  auto* retention = s->mutable_persistentvolumeclaimretentionpolicy();
  if (retention->whendeleted().empty()) retention->set_whendeleted("Retain");
  if (retention->whenscaled().empty()) retention->set_whenscaled("Retain");
  if (!s->has_replicas()) s->set_replicas(1);
  if (!s->has_revisionhistorylimit()) s->set_revisionhistorylimit(10);
  DefaultPodTemplate(s->mutable_template_());
  for (auto& claim : *s->mutable_volumeclaimtemplates()) DefaultPVC(&claim);
}

void DefaultReplicaSet(appsv1::ReplicaSet* rs) {
  if (!rs->spec().has_replicas()) rs->mutable_spec()->set_replicas(1);
  DefaultPodTemplate(rs->mutable_spec()->mutable_template_());
}

// --- batch/v1 -----------------------------------------------------------------------------------------

void DefaultJob(batchv1::Job* job) {
  auto* s = job->mutable_spec();
  if (!s->has_completions() && !s->has_parallelism()) {
    s->set_completions(1);
    s->set_parallelism(1);
  }
  if (!s->has_parallelism()) s->set_parallelism(1);
  if (!s->has_backofflimit()) s->set_backofflimit(s->has_backofflimitperindex() ? INT32_MAX : 6);
  if (!s->template_().metadata().labels().empty() && job->metadata().labels().empty()) {
    *job->mutable_metadata()->mutable_labels() = s->template_().metadata().labels();
  }
  if (!s->has_completionmode()) s->set_completionmode("NonIndexed");
  if (!s->has_suspend()) s->set_suspend(false);
  if (s->has_podfailurepolicy()) {
    for (auto& rule : *s->mutable_podfailurepolicy()->mutable_rules()) {
      for (auto& pattern : *rule.mutable_onpodconditions()) {
        if (pattern.status().empty()) pattern.set_status("True");
      }
    }
  }
  if (!s->has_podreplacementpolicy()) s->set_podreplacementpolicy(s->has_podfailurepolicy() ? "Failed" : "TerminatingOrFailed");
  DefaultPodTemplate(s->mutable_template_());
  // The create strategy's generated selector (generateSelectorIfNeeded): needs the uid, and runs
  // on create only (an object to be created carries no resourceVersion).
  const auto& meta = job->metadata();
  bool manual = s->has_manualselector() && s->manualselector();
  if (!manual && !meta.uid().empty() && meta.resourceversion().empty()) {
    auto* labels = s->mutable_template_()->mutable_metadata()->mutable_labels();
    for (const char* key : {"job-name", "batch.kubernetes.io/job-name"}) {
      if (!labels->count(key)) (*labels)[key] = meta.name();
    }
    for (const char* key : {"controller-uid", "batch.kubernetes.io/controller-uid"}) {
      if (!labels->count(key)) (*labels)[key] = meta.uid();
    }
    auto* match = s->mutable_selector()->mutable_matchlabels();
    if (!match->count("batch.kubernetes.io/controller-uid")) (*match)["batch.kubernetes.io/controller-uid"] = meta.uid();
  }
}

void DefaultCronJob(batchv1::CronJob* cj) {
  auto* s = cj->mutable_spec();
  if (s->concurrencypolicy().empty()) s->set_concurrencypolicy("Allow");
  if (!s->has_suspend()) s->set_suspend(false);
  if (!s->has_successfuljobshistorylimit()) s->set_successfuljobshistorylimit(3);
  if (!s->has_failedjobshistorylimit()) s->set_failedjobshistorylimit(1);
  DefaultPodTemplate(s->mutable_jobtemplate()->mutable_spec()->mutable_template_());
}

// --- other groups ----------------------------------------------------------------------------------

void DefaultNetworkPolicy(netv1::NetworkPolicy* np) {
  auto* s = np->mutable_spec();
  auto ports = [](Repeated<netv1::NetworkPolicyPort>* list) {
    for (auto& p : *list) {
      if (!p.has_protocol()) p.set_protocol("TCP");
    }
  };
  for (auto& rule : *s->mutable_ingress()) ports(rule.mutable_ports());
  for (auto& rule : *s->mutable_egress()) ports(rule.mutable_ports());
  if (s->policytypes().empty()) {
    s->add_policytypes("Ingress");
    if (!s->egress().empty()) s->add_policytypes("Egress");
  }
}

void DefaultIngressClass(netv1::IngressClass* ic) {
  if (ic->spec().has_parameters() && !ic->spec().parameters().has_scope()) {
    ic->mutable_spec()->mutable_parameters()->set_scope("Cluster");
  }
}

void DefaultSubjects(Repeated<rbacv1::Subject>* subjects) {
  for (auto& s : *subjects) {
    if (s.apigroup().empty() && (s.kind() == "User" || s.kind() == "Group")) s.set_apigroup("rbac.authorization.k8s.io");
  }
}

template <typename Binding>
void DefaultBinding(Binding* b) {
  if (b->roleref().apigroup().empty()) b->mutable_roleref()->set_apigroup("rbac.authorization.k8s.io");
  DefaultSubjects(b->mutable_subjects());
}

void DefaultEndpointSlice(discv1::EndpointSlice* slice) {
  for (auto& p : *slice->mutable_ports()) {
    if (!p.has_name()) p.set_name("");
    if (!p.has_protocol()) p.set_protocol("TCP");
  }
}

void DefaultEndpoints(corev1::Endpoints* ep) {
  for (auto& ss : *ep->mutable_subsets()) {
    for (auto& p : *ss.mutable_ports()) {
      if (p.protocol().empty()) p.set_protocol("TCP");
    }
  }
}

template <typename Hook>
void DefaultWebhook(Hook* h) {
  if (!h->has_failurepolicy()) h->set_failurepolicy("Fail");
  if (!h->has_matchpolicy()) h->set_matchpolicy("Equivalent");
  if (!h->has_namespaceselector()) h->mutable_namespaceselector();
  if (!h->has_objectselector()) h->mutable_objectselector();
  if (!h->has_timeoutseconds()) h->set_timeoutseconds(10);
  for (auto& r : *h->mutable_rules()) {
    if (!r.rule().has_scope()) r.mutable_rule()->set_scope("*");
  }
  auto* cc = h->mutable_clientconfig();
  if (cc->has_service() && !cc->service().has_port()) cc->mutable_service()->set_port(443);
}

// Casts `m` to T, or returns null when it is another type.
template <typename T>
T* As(google::protobuf::Message* m) {
  return dynamic_cast<T*>(m);
}

// Runs `fn` on `object` as a T; messages that are not the generated T (a DynamicMessage of the
// same type) are converted through the wire format.
template <typename T, typename Fn>
void WithTyped(google::protobuf::Message* object, Fn fn) {
  if (T* typed = As<T>(object)) {
    fn(typed);
    return;
  }
  if (object->GetDescriptor()->full_name() != T::descriptor()->full_name()) return;
  T copy;
  copy.ParseFromString(object->SerializeAsString());
  fn(&copy);
  object->ParseFromString(copy.SerializeAsString());
}

}  // namespace

void ApplyDefaults(const ResourceInfo& resource, google::protobuf::Message* object) {
  if (object == nullptr) return;
  const std::string& t = resource.proto_type;
  if (object->GetDescriptor()->full_name() != t) return;
  if (t == "k8s.io.api.core.v1.Pod") return WithTyped<corev1::Pod>(object, DefaultPod);
  if (t == "k8s.io.api.core.v1.Service") return WithTyped<corev1::Service>(object, DefaultService);
  if (t == "k8s.io.api.core.v1.Secret") return WithTyped<corev1::Secret>(object, DefaultSecret);
  if (t == "k8s.io.api.core.v1.Namespace") return WithTyped<corev1::Namespace>(object, DefaultNamespace);
  if (t == "k8s.io.api.core.v1.Node") return WithTyped<corev1::Node>(object, DefaultNode);
  if (t == "k8s.io.api.core.v1.LimitRange") return WithTyped<corev1::LimitRange>(object, DefaultLimitRange);
  if (t == "k8s.io.api.core.v1.PersistentVolumeClaim") return WithTyped<corev1::PersistentVolumeClaim>(object, DefaultPVC);
  if (t == "k8s.io.api.core.v1.Endpoints") return WithTyped<corev1::Endpoints>(object, DefaultEndpoints);
  if (t == "k8s.io.api.core.v1.ResourceQuota") {
    return WithTyped<corev1::ResourceQuota>(object, [](corev1::ResourceQuota* rq) {
      DefaultResourceList(rq->mutable_spec()->mutable_hard());
    });
  }
  if (t == "k8s.io.api.apps.v1.Deployment") return WithTyped<appsv1::Deployment>(object, DefaultDeployment);
  if (t == "k8s.io.api.apps.v1.DaemonSet") return WithTyped<appsv1::DaemonSet>(object, DefaultDaemonSet);
  if (t == "k8s.io.api.apps.v1.StatefulSet") return WithTyped<appsv1::StatefulSet>(object, DefaultStatefulSet);
  if (t == "k8s.io.api.apps.v1.ReplicaSet") return WithTyped<appsv1::ReplicaSet>(object, DefaultReplicaSet);
  if (t == "k8s.io.api.batch.v1.Job") return WithTyped<batchv1::Job>(object, DefaultJob);
  if (t == "k8s.io.api.batch.v1.CronJob") return WithTyped<batchv1::CronJob>(object, DefaultCronJob);
  if (t == "k8s.io.api.networking.v1.NetworkPolicy") return WithTyped<netv1::NetworkPolicy>(object, DefaultNetworkPolicy);
  if (t == "k8s.io.api.networking.v1.IngressClass") return WithTyped<netv1::IngressClass>(object, DefaultIngressClass);
  if (t == "k8s.io.api.rbac.v1.RoleBinding") return WithTyped<rbacv1::RoleBinding>(object, DefaultBinding<rbacv1::RoleBinding>);
  if (t == "k8s.io.api.rbac.v1.ClusterRoleBinding") {
    return WithTyped<rbacv1::ClusterRoleBinding>(object, DefaultBinding<rbacv1::ClusterRoleBinding>);
  }
  if (t == "k8s.io.api.scheduling.v1.PriorityClass") {
    return WithTyped<schedv1::PriorityClass>(object, [](schedv1::PriorityClass* pc) {
      if (!pc->has_preemptionpolicy()) pc->set_preemptionpolicy("PreemptLowerPriority");
    });
  }
  if (t == "k8s.io.api.discovery.v1.EndpointSlice") return WithTyped<discv1::EndpointSlice>(object, DefaultEndpointSlice);
  if (t == "k8s.io.api.admissionregistration.v1.ValidatingWebhookConfiguration") {
    return WithTyped<admregv1::ValidatingWebhookConfiguration>(object, [](admregv1::ValidatingWebhookConfiguration* c) {
      for (auto& h : *c->mutable_webhooks()) DefaultWebhook(&h);
    });
  }
  if (t == "k8s.io.api.admissionregistration.v1.MutatingWebhookConfiguration") {
    return WithTyped<admregv1::MutatingWebhookConfiguration>(object, [](admregv1::MutatingWebhookConfiguration* c) {
      for (auto& h : *c->mutable_webhooks()) {
        DefaultWebhook(&h);
        if (!h.has_reinvocationpolicy()) h.set_reinvocationpolicy("Never");
      }
    });
  }
}

}  // namespace ck::apiserver
