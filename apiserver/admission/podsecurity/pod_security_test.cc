#include "apiserver/admission/podsecurity/pod_security.h"

#include <gtest/gtest.h>

#include "apiserver/admission/testing/fake_source.h"
#include "common/api/testing/builders.h"

namespace ck::apiserver::podsecurity {
namespace {

using admission::Attributes;
using admission::Context;
using admission::Operation;
using api::testing::DeploymentBuilder;
using api::testing::PodBuilder;

corev1::Namespace Ns(const std::string& name, std::map<std::string, std::string> labels) {
  corev1::Namespace ns;
  ns.mutable_metadata()->set_name(name);
  for (const auto& [k, v] : labels) (*ns.mutable_metadata()->mutable_labels())[k] = v;
  return ns;
}

corev1::Pod PrivilegedPod(const std::string& name, const std::string& ns) {
  corev1::Pod pod = PodBuilder(name).Namespace(ns).Container("c");
  pod.mutable_spec()->mutable_containers(0)->mutable_securitycontext()->set_privileged(true);
  return pod;
}

corev1::Pod PlainPod(const std::string& name, const std::string& ns) {
  return PodBuilder(name).Namespace(ns).Container("c");
}

class PodSecurityTest : public ::testing::Test {
 protected:
  PodSecurityTest() : plugin_(&source_) {
    source_.Put("namespaces", Ns("open", {}));
    source_.Put("namespaces", Ns("base", {{"pod-security.kubernetes.io/enforce", "baseline"}}));
    source_.Put("namespaces", Ns("strict", {{"pod-security.kubernetes.io/enforce", "restricted"},
                                            {"pod-security.kubernetes.io/enforce-version", "v1.30"}}));
    source_.Put("namespaces", Ns("watched", {{"pod-security.kubernetes.io/enforce", "baseline"},
                                             {"pod-security.kubernetes.io/warn", "restricted"},
                                             {"pod-security.kubernetes.io/audit", "restricted"}}));
    source_.Put("namespaces", Ns("broken", {{"pod-security.kubernetes.io/enforce", "strict"}}));
  }

  Status CreatePod(PodSecurity& plugin, corev1::Pod& pod, Context* ctx) {
    Attributes a;
    a.operation = Operation::kCreate;
    a.resource = FindResource("", "v1", "pods");
    a.namespace_ = pod.metadata().namespace_();
    a.user = &user_;
    a.object = &pod;
    return plugin.Validate(a, *ctx);
  }

  admission::testing::FakeObjectSource source_;
  PodSecurity plugin_;
  UserInfo user_{"alice", "", {"system:authenticated"}, {}};
};

TEST_F(PodSecurityTest, NoLabelsMeansPrivileged) {
  corev1::Pod pod = PrivilegedPod("p", "open");
  Context ctx;
  EXPECT_TRUE(CreatePod(plugin_, pod, &ctx).ok());
  EXPECT_TRUE(ctx.warnings.empty());
  EXPECT_EQ(ctx.audit_annotations["pod-security.kubernetes.io/enforce-policy"], "privileged:latest");
}

TEST_F(PodSecurityTest, EnforceRejectsWithUpstreamMessage) {
  corev1::Pod pod = PrivilegedPod("x", "base");
  Context ctx;
  Status s = CreatePod(plugin_, pod, &ctx);
  EXPECT_EQ(s.code(), Code::kForbidden);
  EXPECT_EQ(s.message(),
            "pods \"x\" is forbidden: violates PodSecurity \"baseline:latest\": privileged (container \"c\" must not "
            "set securityContext.privileged=true)");

  corev1::Pod plain = PlainPod("y", "strict");
  s = CreatePod(plugin_, plain, &ctx);
  EXPECT_EQ(s.message(),
            "pods \"y\" is forbidden: violates PodSecurity \"restricted:v1.30\": allowPrivilegeEscalation != false "
            "(container \"c\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities "
            "(container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or "
            "container \"c\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container \"c\" must "
            "set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")");

  // A generateName pod is named by its prefix.
  corev1::Pod gen = PrivilegedPod("", "base");
  gen.mutable_metadata()->set_generatename("web-");
  EXPECT_EQ(CreatePod(plugin_, gen, &ctx).message().substr(0, 30), "pods \"web-\" is forbidden: viol");
}

TEST_F(PodSecurityTest, WarnAndAuditModes) {
  corev1::Pod pod = PlainPod("w", "watched");
  Context ctx;
  ASSERT_TRUE(CreatePod(plugin_, pod, &ctx).ok());
  ASSERT_EQ(ctx.warnings.size(), 1u);
  EXPECT_EQ(ctx.warnings[0].substr(0, 49), "would violate PodSecurity \"restricted:latest\": al");
  EXPECT_NE(ctx.warnings[0].find("runAsNonRoot != true"), std::string::npos);
  EXPECT_EQ(ctx.audit_annotations["pod-security.kubernetes.io/audit-violations"], ctx.warnings[0]);
  EXPECT_EQ(ctx.audit_annotations["pod-security.kubernetes.io/enforce-policy"], "baseline:latest");

  // Enforce still wins over warn.
  corev1::Pod priv = PrivilegedPod("p", "watched");
  Context ctx2;
  EXPECT_EQ(CreatePod(plugin_, priv, &ctx2).code(), Code::kForbidden);
  EXPECT_TRUE(ctx2.warnings.empty());
}

TEST_F(PodSecurityTest, InvalidLabelsFailClosed) {
  corev1::Pod pod = PrivilegedPod("x", "broken");
  Context ctx;
  Status s = CreatePod(plugin_, pod, &ctx);
  EXPECT_EQ(s.code(), Code::kForbidden);
  EXPECT_NE(s.message().find("violates PodSecurity \"restricted:latest\""), std::string::npos);
}

TEST_F(PodSecurityTest, UnknownNamespaceIsAnError) {
  corev1::Pod pod = PlainPod("x", "missing");
  Context ctx;
  EXPECT_EQ(CreatePod(plugin_, pod, &ctx).code(), Code::kInternal);
}

TEST_F(PodSecurityTest, ExemptionsByOption) {
  PodSecurity::Options opts;
  opts.exempt_namespaces = {"base"};
  opts.exempt_usernames = {"system:serviceaccount:kube-system:replicaset-controller"};
  PodSecurity exempt(&source_, opts);
  corev1::Pod pod = PrivilegedPod("x", "base");
  Context ctx;
  EXPECT_TRUE(CreatePod(exempt, pod, &ctx).ok());
  corev1::Pod strict = PrivilegedPod("x", "strict");
  EXPECT_EQ(CreatePod(exempt, strict, &ctx).code(), Code::kForbidden);
  user_.name = "system:serviceaccount:kube-system:replicaset-controller";
  EXPECT_TRUE(CreatePod(exempt, strict, &ctx).ok());
  // kube-system is not special without a label or an option.
  source_.Put("namespaces", Ns("kube-system", {{"pod-security.kubernetes.io/enforce", "baseline"}}));
  corev1::Pod sys = PrivilegedPod("kp", "kube-system");
  EXPECT_EQ(CreatePod(plugin_, sys, &ctx).code(), Code::kForbidden);
}

TEST_F(PodSecurityTest, UpdatesOnlyReevaluatedForImageChanges) {
  corev1::Pod old = PrivilegedPod("x", "base");
  corev1::Pod labeled = old;
  (*labeled.mutable_metadata()->mutable_labels())["tier"] = "web";
  Attributes a;
  a.operation = Operation::kUpdate;
  a.resource = FindResource("", "v1", "pods");
  a.namespace_ = "base";
  a.name = "x";
  a.user = &user_;
  a.object = &labeled;
  a.old_object = &old;
  Context ctx;
  EXPECT_TRUE(plugin_.Validate(a, ctx).ok());
  corev1::Pod new_image = old;
  new_image.mutable_spec()->mutable_containers(0)->set_image("registry.example.com/app:2");
  a.object = &new_image;
  EXPECT_EQ(plugin_.Validate(a, ctx).code(), Code::kForbidden);
  // Status writes are never evaluated.
  a.subresource = "status";
  EXPECT_TRUE(plugin_.Validate(a, ctx).ok());
}

TEST_F(PodSecurityTest, WorkloadsGetWarningsNotRejections) {
  k8s::io::api::apps::v1::Deployment d = DeploymentBuilder("web").Namespace("base").Image("nginx");
  auto* tmpl_spec = d.mutable_spec()->mutable_template_()->mutable_spec();
  ASSERT_GT(tmpl_spec->containers_size(), 0);
  tmpl_spec->mutable_containers(0)->mutable_securitycontext()->set_privileged(true);
  Attributes a;
  a.operation = Operation::kCreate;
  a.resource = FindResource("apps", "v1", "deployments");
  a.namespace_ = "watched";
  a.user = &user_;
  a.object = &d;
  Context ctx;
  EXPECT_TRUE(plugin_.Validate(a, ctx).ok());
  ASSERT_EQ(ctx.warnings.size(), 1u);
  EXPECT_TRUE(ctx.warnings[0].starts_with(
      "would violate PodSecurity \"restricted:latest\": privileged (container \"web\" must not set "
      "securityContext.privileged=true), allowPrivilegeEscalation != false"))
      << ctx.warnings[0];
  EXPECT_FALSE(ctx.audit_annotations["pod-security.kubernetes.io/audit-violations"].empty());
  // Enforce-only namespace: no warning, no rejection.
  a.namespace_ = "base";
  Context ctx2;
  EXPECT_TRUE(plugin_.Validate(a, ctx2).ok());
  EXPECT_TRUE(ctx2.warnings.empty());
}

TEST_F(PodSecurityTest, NamespaceLabelsAreValidatedAndChangesWarnAboutExistingPods) {
  source_.Put("pods", PrivilegedPod("db-1", "open"));
  source_.Put("pods", PrivilegedPod("db-2", "open"));
  source_.Put("pods", PlainPod("web", "open"));
  corev1::Namespace old = Ns("open", {});
  corev1::Namespace bad = Ns("open", {{"pod-security.kubernetes.io/warn", "strict"}});
  Attributes a;
  a.operation = Operation::kUpdate;
  a.resource = FindResource("", "v1", "namespaces");
  a.name = "open";
  a.user = &user_;
  a.object = &bad;
  a.old_object = &old;
  Context ctx;
  Status s = plugin_.Validate(a, ctx);
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(s.message(),
            "namespaces \"open\" is invalid: metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: "
            "\"strict\": must be one of privileged, baseline, restricted");

  corev1::Namespace baseline = Ns("open", {{"pod-security.kubernetes.io/enforce", "baseline"}});
  a.object = &baseline;
  ASSERT_TRUE(plugin_.Validate(a, ctx).ok());
  ASSERT_EQ(ctx.warnings.size(), 2u);
  EXPECT_EQ(ctx.warnings[0], "existing pods in namespace \"open\" violate the new PodSecurity enforce level "
                             "\"baseline:latest\"");
  EXPECT_EQ(ctx.warnings[1], "db-1 (and 1 other pod): privileged");
}

}  // namespace
}  // namespace ck::apiserver::podsecurity
