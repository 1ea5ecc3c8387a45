#include "tests/testutil/apiserver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/base/check.h"
#include "common/pki/pki.h"

namespace ck::testutil {

uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  CK_CHECK(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CK_CHECK(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  CK_CHECK(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  close(fd);
  return ntohs(a.sin_port);
}

ApiServerProcess::ApiServerProcess(std::vector<std::string> extra_flags)
    : port_(FreePort()), extra_flags_(std::move(extra_flags)) {
  pki::PkiOptions o;
  o.dir = dir_.File("pki");
  o.server = server_url();
  o.nodes = 2;
  Status s = pki::WritePki(o);
  CK_CHECK(s.ok()) << s.ToString();
  WriteFileOrDie(dir_.File("tokens.csv"),
                 "s3cret-token,token-user,1001,\"system:masters,dev\"\n"
                 "view-token,view-user,1002\n");
  WriteFileOrDie(dir_.File("token.kubeconfig"),
                 "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: " + server_url() +
                     "\n    certificate-authority: " + dir_.File("pki/ca.crt") +
                     "\nusers:\n- name: t\n  user:\n    token: s3cret-token\ncontexts:\n- name: c\n  context:\n"
                     "    cluster: c\n    user: t\ncurrent-context: c\n");
  Start();
}

ApiServerProcess::~ApiServerProcess() { Stop(); }

void ApiServerProcess::Start() {
  std::vector<std::string> argv = {BinDir() + "/ck-apiserver",
                                   "--bind-address=127.0.0.1",
                                   "--secure-port=" + std::to_string(port_),
                                   "--tls-cert-file=" + dir_.File("pki/apiserver.crt"),
                                   "--tls-private-key-file=" + dir_.File("pki/apiserver.key"),
                                   "--client-ca-file=" + dir_.File("pki/ca.crt"),
                                   "--token-auth-file=" + dir_.File("tokens.csv"),
                                   "--storage-dir=" + dir_.File("store"),
                                   "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                                   "--service-account-key-file=" + dir_.File("pki/sa.pub"),
                                   "--service-account-signing-key-file=" + dir_.File("pki/sa.key")};
  // Without a controller-manager no namespace gets its `default` ServiceAccount, so the
  // ServiceAccount admission plugin is off unless the test chooses the plugins itself.
  bool chooses_plugins = false;
  for (const std::string& f : extra_flags_) {
    if (f.rfind("--disable-admission-plugins", 0) == 0 || f.rfind("--enable-admission-plugins", 0) == 0) {
      chooses_plugins = true;
    }
  }
  if (!chooses_plugins) argv.push_back("--disable-admission-plugins=ServiceAccount");
  argv.insert(argv.end(), extra_flags_.begin(), extra_flags_.end());
  proc_ = std::make_unique<Subprocess>(argv);
  auto client = Client();
  bool ready = WaitUntil(
      [&] {
        if (!proc_->running()) return true;
        Result<net::Response> r = client->Do({"GET", "/readyz", {}, ""});
        return r.ok() && r->status == 200;
      },
      std::chrono::seconds(30));
  CK_CHECK(ready && proc_->running()) << "ck-apiserver did not become ready:\n" << proc_->Stderr();
}

int ApiServerProcess::Stop() {
  if (!proc_) return 0;
  int code = -1;
  if (proc_->running()) {
    proc_->Signal(SIGTERM);
    std::optional<int> rc = proc_->Wait(std::chrono::seconds(20));
    code = rc.value_or(-1);
  } else {
    code = proc_->Wait(std::chrono::seconds(1)).value_or(-1);
  }
  proc_.reset();  // SIGKILLs it if it did not stop
  return code;
}

void ApiServerProcess::Kill() {
  if (!proc_) return;
  proc_->Signal(SIGKILL);
  (void)proc_->Wait(std::chrono::seconds(20));
  proc_.reset();
}

int ApiServerProcess::Restart() {
  int code = Stop();
  Start();
  return code;
}

std::unique_ptr<net::HttpClient> ApiServerProcess::Client() const {
  net::HttpClientOptions o;
  o.port = port_;
  Result<pki::KubeconfigData> kc = pki::ParseKubeconfig(ReadFileOrDie(admin_kubeconfig()));
  CK_CHECK(kc.ok()) << kc.status().ToString();
  o.tls_config.ca_pem = kc->ca_pem;
  o.tls_config.cert_pem = kc->client.cert_pem;
  o.tls_config.key_pem = kc->client.key_pem;
  o.timeout = std::chrono::seconds(10);
  return std::make_unique<net::HttpClient>(o);
}

}  // namespace ck::testutil
