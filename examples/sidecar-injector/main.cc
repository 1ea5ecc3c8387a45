// ck-sidecar-injector: a mutating admission webhook on the daemon scaffold. POST /mutate takes an
// AdmissionReview and answers it (injector.h); /healthz, /readyz and /metrics come with the scaffold.
//
//   ck-sidecar-injector --tls-cert-file=tls.crt --tls-private-key-file=tls.key --secure-port=8443
#include <string>

#include "common/daemon/daemon.h"
#include "examples/sidecar-injector/injector.h"

int main(int argc, char** argv) {
  ck::daemon::Daemon d("ck-sidecar-injector", 8443);
  ck::examples::sidecar::SidecarOptions sidecar;
  d.flags().add_option("--sidecar-image", sidecar.image, "Image of the injected metrics sidecar.");
  d.flags().add_option("--sidecar-name", sidecar.name, "Name of the injected container.");
  d.flags().add_option("--sidecar-port", sidecar.port, "Port the sidecar serves /metrics on.")->check(CLI::Range(1, 65535));
  if (auto rc = d.ParseFlags(argc, argv)) return *rc;
  return d.Run([&](ck::daemon::Context& ctx) {
    ctx.Handle("/mutate", [&sidecar](ck::net::Request req, std::shared_ptr<ck::net::ResponseWriter> w) {
      if (req.method != "POST") {
        w->Respond(405, ck::net::Headers{{"Allow", "POST"}}, "");
        return;
      }
      auto answer = ck::examples::sidecar::Review(req.body, sidecar);
      if (!answer.ok()) {
        w->Respond(400, ck::net::Headers{{"Content-Type", "text/plain"}}, answer.status().message() + "\n");
        return;
      }
      w->Respond(200, ck::net::Headers{{"Content-Type", "application/json"}}, *answer);
    });
    return ck::Status::Ok();
  });
}
