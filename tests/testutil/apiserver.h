// A ck-apiserver process for integration and end-to-end tests: its own PKI (ck pki's file set),
// a token file, a RocksDB store in a temp dir, a free loopback port; clients for it (an
// HttpClient with the admin certificate, kubeconfig paths for kubectl). Stopped by PID.
// Threading: owned by the test thread; Client() objects may be used from many threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/net/http_client.h"
#include "tests/testutil/testutil.h"

namespace ck::testutil {

// A loopback port that was free a moment ago.
uint16_t FreePort();

class ApiServerProcess {
 public:
  // Writes the PKI and starts the server (CK_CHECKs that it becomes ready within 30 s).
  explicit ApiServerProcess(std::vector<std::string> extra_flags = {});
  ~ApiServerProcess();

  // SIGTERM, wait for a clean exit (returns its exit code), then start again on the same port
  // and store.
  int Restart();
  // SIGKILL (a crash: no drain, no flush beyond what was acknowledged), then wait for the exit.
  void Kill();
  void Start();
  int Stop();

  uint16_t port() const { return port_; }
  pid_t pid() const { return proc_ ? proc_->pid() : -1; }
  std::string server_url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  const TempDir& dir() const { return dir_; }
  std::string admin_kubeconfig() const { return dir_.File("pki/admin.kubeconfig"); }
  // A kubeconfig that authenticates with `token` ("s3cret-token" is user "token-user", groups
  // system:masters and dev; "view-token" is user "view-user" with no groups). The PKI has two
  // nodes (kubelet-node-1/2 kubeconfigs). ServiceAccount tokens are signed with pki/sa.key; the
  // ServiceAccount admission plugin is disabled unless the extra flags name admission plugins
  // (no controller-manager creates `default` accounts).
  std::string token_kubeconfig() const { return dir_.File("token.kubeconfig"); }
  std::string logs() const { return proc_ ? proc_->Stderr() : ""; }

  // An HTTPS client with the admin client certificate.
  std::unique_ptr<net::HttpClient> Client() const;

 private:
  TempDir dir_;
  uint16_t port_;
  std::vector<std::string> extra_flags_;
  std::unique_ptr<Subprocess> proc_;
};

}  // namespace ck::testutil
