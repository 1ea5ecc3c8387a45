#include "apiserver/admission/podsecurity/policy.h"

#include <functional>

#include <gtest/gtest.h>

#include "common/api/testing/builders.h"

namespace ck::apiserver::podsecurity {
namespace {

using api::testing::PodBuilder;

// A pod that passes restricted: non-root, RuntimeDefault seccomp, no escalation, drop ALL.
corev1::Pod RestrictedPod() {
  corev1::Pod pod = PodBuilder("web").Namespace("shop").Container("app");
  auto* psc = pod.mutable_spec()->mutable_securitycontext();
  psc->set_runasnonroot(true);
  psc->mutable_seccompprofile()->set_type("RuntimeDefault");
  auto* sc = pod.mutable_spec()->mutable_containers(0)->mutable_securitycontext();
  sc->set_allowprivilegeescalation(false);
  sc->mutable_capabilities()->add_drop("ALL");
  return pod;
}

corev1::SecurityContext* Sc(corev1::Pod& pod, int i = 0) {
  return pod.mutable_spec()->mutable_containers(i)->mutable_securitycontext();
}

struct Case {
  std::string name;
  std::function<void(corev1::Pod&)> mutate;
  std::string baseline;    // expected FormatViolations at baseline ("" = allowed)
  std::string restricted;  // expected FormatViolations at restricted
};

// Cases follow the controls of the Pod Security Standards page, one control per row.
std::vector<Case> Cases() {
  return {
      {"compliant", [](corev1::Pod&) {}, "", ""},
      {"hostProcess",
       [](corev1::Pod& p) {
         p.mutable_spec()->mutable_securitycontext()->mutable_windowsoptions()->set_hostprocess(true);
         Sc(p)->mutable_windowsoptions()->set_hostprocess(true);
       },
       "hostProcess (pod and container \"app\" must not set securityContext.windowsOptions.hostProcess=true)",
       "hostProcess (pod and container \"app\" must not set securityContext.windowsOptions.hostProcess=true)"},
      {"host namespaces",
       [](corev1::Pod& p) {
         p.mutable_spec()->set_hostnetwork(true);
         p.mutable_spec()->set_hostpid(true);
       },
       "host namespaces (hostNetwork=true, hostPID=true)", "host namespaces (hostNetwork=true, hostPID=true)"},
      {"privileged", [](corev1::Pod& p) { Sc(p)->set_privileged(true); },
       "privileged (container \"app\" must not set securityContext.privileged=true)",
       "privileged (container \"app\" must not set securityContext.privileged=true)"},
      {"capabilities",
       [](corev1::Pod& p) {
         Sc(p)->mutable_capabilities()->add_add("SYS_TIME");
         Sc(p)->mutable_capabilities()->add_add("NET_ADMIN");
         Sc(p)->mutable_capabilities()->add_add("CHOWN");
       },
       "non-default capabilities (container \"app\" must not include \"NET_ADMIN\", \"SYS_TIME\" in "
       "securityContext.capabilities.add)",
       "unrestricted capabilities (container \"app\" must not include \"CHOWN\", \"NET_ADMIN\", \"SYS_TIME\" in "
       "securityContext.capabilities.add)"},
      {"hostPath volume",
       [](corev1::Pod& p) {
         auto* v = p.mutable_spec()->add_volumes();
         v->set_name("host-etc");
         v->mutable_volumesource()->mutable_hostpath()->set_path("/etc");
       },
       "hostPath volumes (volume \"host-etc\")",
       "restricted volume types (volume \"host-etc\" uses restricted volume type \"hostPath\")"},
      {"hostPorts",
       [](corev1::Pod& p) {
         auto* port = p.mutable_spec()->mutable_containers(0)->add_ports();
         port->set_containerport(80);
         port->set_hostport(8080);
       },
       "hostPort (container \"app\" uses hostPort 8080)", "hostPort (container \"app\" uses hostPort 8080)"},
      {"apparmor annotation",
       [](corev1::Pod& p) {
         (*p.mutable_metadata()->mutable_annotations())["container.apparmor.security.beta.kubernetes.io/app"] =
             "unconfined";
       },
       "forbidden AppArmor profile (container.apparmor.security.beta.kubernetes.io/app=\"unconfined\")",
       "forbidden AppArmor profile (container.apparmor.security.beta.kubernetes.io/app=\"unconfined\")"},
      {"apparmor field", [](corev1::Pod& p) { Sc(p)->mutable_apparmorprofile()->set_type("Unconfined"); },
       "forbidden AppArmor profile (container \"app\" must not set securityContext.appArmorProfile.type to "
       "\"Unconfined\")",
       "forbidden AppArmor profile (container \"app\" must not set securityContext.appArmorProfile.type to "
       "\"Unconfined\")"},
      {"selinux",
       [](corev1::Pod& p) {
         Sc(p)->mutable_selinuxoptions()->set_type("spc_t");
         Sc(p)->mutable_selinuxoptions()->set_user("root");
       },
       "seLinuxOptions (container \"app\" set forbidden securityContext.seLinuxOptions: type \"spc_t\"; user may not "
       "be set)",
       "seLinuxOptions (container \"app\" set forbidden securityContext.seLinuxOptions: type \"spc_t\"; user may not "
       "be set)"},
      {"procMount", [](corev1::Pod& p) { Sc(p)->set_procmount("Unmasked"); },
       "procMount (container \"app\" must not set securityContext.procMount to \"Unmasked\")",
       "procMount (container \"app\" must not set securityContext.procMount to \"Unmasked\")"},
      {"seccomp unconfined",
       [](corev1::Pod& p) { p.mutable_spec()->mutable_securitycontext()->mutable_seccompprofile()->set_type("Unconfined"); },
       "seccompProfile (pod must not set securityContext.seccompProfile.type to \"Unconfined\")",
       "seccompProfile (pod must not set securityContext.seccompProfile.type to \"Unconfined\")"},
      {"sysctls",
       [](corev1::Pod& p) {
         auto* psc = p.mutable_spec()->mutable_securitycontext();
         auto* s = psc->add_sysctls();
         s->set_name("kernel.msgmax");
         s->set_value("65536");
         auto* safe = psc->add_sysctls();
         safe->set_name("net.ipv4.ip_local_port_range");
         safe->set_value("1024 65535");
       },
       "forbidden sysctls (kernel.msgmax)", "forbidden sysctls (kernel.msgmax)"},
      {"restricted volume type",
       [](corev1::Pod& p) {
         auto* v = p.mutable_spec()->add_volumes();
         v->set_name("shared");
         v->mutable_volumesource()->mutable_nfs()->set_server("nfs.example.com");
         auto* ok = p.mutable_spec()->add_volumes();
         ok->set_name("scratch");
         ok->mutable_volumesource()->mutable_emptydir();
       },
       "", "restricted volume types (volume \"shared\" uses restricted volume type \"nfs\")"},
      {"privilege escalation", [](corev1::Pod& p) { Sc(p)->clear_allowprivilegeescalation(); }, "",
       "allowPrivilegeEscalation != false (container \"app\" must set securityContext.allowPrivilegeEscalation=false)"},
      {"runAsNonRoot unset", [](corev1::Pod& p) { p.mutable_spec()->mutable_securitycontext()->clear_runasnonroot(); },
       "", "runAsNonRoot != true (pod or container \"app\" must set securityContext.runAsNonRoot=true)"},
      {"runAsNonRoot false", [](corev1::Pod& p) { Sc(p)->set_runasnonroot(false); }, "",
       "runAsNonRoot != true (container \"app\" must not set securityContext.runAsNonRoot=false)"},
      {"runAsUser 0", [](corev1::Pod& p) { Sc(p)->set_runasuser(0); }, "",
       "runAsUser=0 (container \"app\" must not set runAsUser=0)"},
      {"seccomp unset",
       [](corev1::Pod& p) { p.mutable_spec()->mutable_securitycontext()->clear_seccompprofile(); }, "",
       "seccompProfile (pod or container \"app\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" "
       "or \"Localhost\")"},
      {"capabilities not dropped", [](corev1::Pod& p) { Sc(p)->clear_capabilities(); }, "",
       "unrestricted capabilities (container \"app\" must set securityContext.capabilities.drop=[\"ALL\"])"},
      {"NET_BIND_SERVICE is fine", [](corev1::Pod& p) { Sc(p)->mutable_capabilities()->add_add("NET_BIND_SERVICE"); },
       "", ""},
      {"several containers",
       [](corev1::Pod& p) {
         *p.mutable_spec()->add_initcontainers() = p.spec().containers(0);
         p.mutable_spec()->mutable_initcontainers(0)->set_name("init");
         p.mutable_spec()->mutable_initcontainers(0)->mutable_securitycontext()->set_privileged(true);
         Sc(p)->set_privileged(true);
         p.mutable_spec()->mutable_initcontainers(0)->mutable_securitycontext()->clear_allowprivilegeescalation();
       },
       "privileged (containers \"init\", \"app\" must not set securityContext.privileged=true)",
       "privileged (containers \"init\", \"app\" must not set securityContext.privileged=true), "
       "allowPrivilegeEscalation != false (container \"init\" must set securityContext.allowPrivilegeEscalation=false)"},
  };
}

TEST(PolicyTest, StandardsTable) {
  for (const auto& c : Cases()) {
    SCOPED_TRACE(c.name);
    corev1::Pod pod = RestrictedPod();
    c.mutate(pod);
    EXPECT_TRUE(CheckPod(Level::kPrivileged, pod.metadata(), pod.spec()).empty());
    EXPECT_EQ(FormatViolations(CheckPod(Level::kBaseline, pod.metadata(), pod.spec())), c.baseline);
    EXPECT_EQ(FormatViolations(CheckPod(Level::kRestricted, pod.metadata(), pod.spec())), c.restricted);
  }
}

TEST(PolicyTest, PlainPodAgainstRestrictedListsEveryControlInUpstreamOrder) {
  corev1::Pod pod = PodBuilder("pod-root").Container("nginx");
  Sc(pod)->set_runasuser(0);
  Sc(pod)->set_privileged(true);
  auto* v = pod.mutable_spec()->add_volumes();
  v->set_name("host-etc");
  v->mutable_volumesource()->mutable_hostpath()->set_path("/etc");
  EXPECT_EQ(FormatViolations(CheckPod(Level::kRestricted, pod.metadata(), pod.spec())),
            "privileged (container \"nginx\" must not set securityContext.privileged=true), allowPrivilegeEscalation "
            "!= false (container \"nginx\" must set securityContext.allowPrivilegeEscalation=false), unrestricted "
            "capabilities (container \"nginx\" must set securityContext.capabilities.drop=[\"ALL\"]), restricted "
            "volume types (volume \"host-etc\" uses restricted volume type \"hostPath\"), runAsNonRoot != true (pod "
            "or container \"nginx\" must set securityContext.runAsNonRoot=true), runAsUser=0 (container \"nginx\" "
            "must not set runAsUser=0), seccompProfile (pod or container \"nginx\" must set "
            "securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")");
}

TEST(PolicyTest, UserNamespacesAndWindowsRelaxations) {
  corev1::Pod pod = RestrictedPod();
  pod.mutable_spec()->mutable_securitycontext()->clear_runasnonroot();
  Sc(pod)->set_procmount("Unmasked");
  pod.mutable_spec()->set_hostusers(false);
  EXPECT_TRUE(CheckPod(Level::kRestricted, pod.metadata(), pod.spec()).empty());

  corev1::Pod win = RestrictedPod();
  win.mutable_spec()->mutable_os()->set_name("windows");
  Sc(win)->clear_allowprivilegeescalation();
  Sc(win)->clear_capabilities();
  win.mutable_spec()->mutable_securitycontext()->clear_seccompprofile();
  EXPECT_TRUE(CheckPod(Level::kRestricted, win.metadata(), win.spec()).empty());
}

TEST(PolicyTest, ParseLabels) {
  EXPECT_EQ(*ParseLevel("baseline"), Level::kBaseline);
  EXPECT_FALSE(ParseLevel("Baseline").ok());
  EXPECT_EQ(*ParseVersion("latest"), "latest");
  EXPECT_EQ(*ParseVersion("v1.29"), "v1.29");
  EXPECT_FALSE(ParseVersion("v1.").ok());
  EXPECT_FALSE(ParseVersion("v2.0").ok());
  EXPECT_FALSE(ParseVersion("1.29").ok());
  EXPECT_EQ((LevelVersion{Level::kRestricted, "v1.30"}).String(), "restricted:v1.30");
}

}  // namespace
}  // namespace ck::apiserver::podsecurity
