// validation_bench: cost of the request-path work of this library on realistic objects: defaults
// plus create validation of a two-container Pod and of a Deployment, Pod update validation (the
// munged-spec comparison) and a cron schedule parse. Single-threaded: figures are per core.
#include <benchmark/benchmark.h>

#include "apiserver/resources.h"
#include "apiserver/validation/cron.h"
#include "apiserver/validation/validation.h"
#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/base/check.h"

namespace {

namespace corev1 = k8s::io::api::core::v1;
namespace appsv1 = k8s::io::api::apps::v1;
using ck::apiserver::ApplyDefaults;
using ck::apiserver::FindResourceByKind;
using ck::apiserver::ResourceInfo;
using ck::apiserver::ValidateObject;

// A web pod as a chart would write it: app + sidecar, env, ports, probes, resources, volumes.
corev1::PodSpec WebPodSpec() {
  corev1::PodSpec s;
  for (const char* name : {"web", "log-shipper"}) {
    auto* c = s.add_containers();
    c->set_name(name);
    c->set_image(std::string("registry.local/") + name + ":1.4.2");
    auto* env = c->add_env();
    env->set_name("LOG_LEVEL");
    env->set_value("info");
    auto* from = c->add_env();
    from->set_name("POD_NAME");
    from->mutable_valuefrom()->mutable_fieldref()->set_fieldpath("metadata.name");
    auto* port = c->add_ports();
    port->set_name(std::string(name).substr(0, 3) + "-http");
    port->set_containerport(std::string(name) == "web" ? 8080 : 9090);
    auto* r = c->mutable_resources();
    (*r->mutable_requests())["cpu"].set_string("100m");
    (*r->mutable_requests())["memory"].set_string("128Mi");
    (*r->mutable_limits())["cpu"].set_string("500m");
    (*r->mutable_limits())["memory"].set_string("256Mi");
    auto* probe = c->mutable_readinessprobe();
    probe->mutable_handler()->mutable_httpget()->set_path("/healthz");
    probe->mutable_handler()->mutable_httpget()->mutable_port()->set_intval(port->containerport());
    auto* mount = c->add_volumemounts();
    mount->set_name("config");
    mount->set_mountpath("/etc/app");
  }
  auto* v = s.add_volumes();
  v->set_name("config");
  v->mutable_volumesource()->mutable_configmap()->mutable_localobjectreference()->set_name("web-config");
  (*s.mutable_nodeselector())["kubernetes.io/os"] = "linux";
  auto* t = s.add_tolerations();
  t->set_key("node-role.kubernetes.io/control-plane");
  t->set_operator_("Exists");
  t->set_effect("NoSchedule");
  return s;
}

const ResourceInfo& Kind(std::string_view group, std::string_view kind) {
  const ResourceInfo* r = FindResourceByKind(group, "v1", kind);
  CK_CHECK(r != nullptr);
  return *r;
}

void BM_PodDefaultAndValidateCreate(benchmark::State& state) {
  const ResourceInfo& pods = Kind("", "Pod");
  corev1::Pod pod;
  pod.mutable_metadata()->set_name("web-7d9f8b6c5-x2x4z");
  pod.mutable_metadata()->set_namespace_("default");
  (*pod.mutable_metadata()->mutable_labels())["app"] = "web";
  *pod.mutable_spec() = WebPodSpec();
  for (auto _ : state) {
    corev1::Pod p = pod;
    ApplyDefaults(pods, &p);
    auto errs = ValidateObject(pods, p, nullptr);
    CK_CHECK(errs.empty()) << errs[0].ToString();
    benchmark::DoNotOptimize(errs);
  }
}
BENCHMARK(BM_PodDefaultAndValidateCreate);

void BM_PodValidateUpdate(benchmark::State& state) {
  const ResourceInfo& pods = Kind("", "Pod");
  corev1::Pod old;
  old.mutable_metadata()->set_name("web-0");
  old.mutable_metadata()->set_namespace_("default");
  old.mutable_metadata()->set_resourceversion("7");
  old.mutable_metadata()->set_uid("5e1c1a7e-0000-4000-8000-000000000001");
  *old.mutable_spec() = WebPodSpec();
  ApplyDefaults(pods, &old);
  corev1::Pod updated = old;
  updated.mutable_spec()->mutable_containers(0)->set_image("registry.local/web:1.4.3");
  for (auto _ : state) {
    auto errs = ValidateObject(pods, updated, &old);
    CK_CHECK(errs.empty()) << errs[0].ToString();
    benchmark::DoNotOptimize(errs);
  }
}
BENCHMARK(BM_PodValidateUpdate);

void BM_DeploymentDefaultAndValidateCreate(benchmark::State& state) {
  const ResourceInfo& deployments = Kind("apps", "Deployment");
  appsv1::Deployment d;
  d.mutable_metadata()->set_name("web");
  d.mutable_metadata()->set_namespace_("default");
  (*d.mutable_spec()->mutable_selector()->mutable_matchlabels())["app"] = "web";
  (*d.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels())["app"] = "web";
  *d.mutable_spec()->mutable_template_()->mutable_spec() = WebPodSpec();
  for (auto _ : state) {
    appsv1::Deployment copy = d;
    ApplyDefaults(deployments, &copy);
    auto errs = ValidateObject(deployments, copy, nullptr);
    CK_CHECK(errs.empty()) << errs[0].ToString();
    benchmark::DoNotOptimize(errs);
  }
}
BENCHMARK(BM_DeploymentDefaultAndValidateCreate);

void BM_CronScheduleParse(benchmark::State& state) {
  for (auto _ : state) {
    auto s = ck::apiserver::CronSchedule::Parse("*/15 9-17 * * MON-FRI");
    CK_CHECK(s.ok());
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_CronScheduleParse);

}  // namespace

BENCHMARK_MAIN();
