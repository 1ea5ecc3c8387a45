// ck-testd: the smallest daemon on the shared scaffold, for the scaffold's integration tests and
// the HTTP benchmark. Routes: /hello (a small static body, like a static file) and
// /stream?n=N (N chunks, one per write).
#include <string>

#include "common/daemon/daemon.h"

int main(int argc, char** argv) {
  ck::daemon::Daemon d("ck-testd", 10999);
  int io_threads = 1;
  d.flags().add_option("--io-threads", io_threads, "I/O threads of the HTTPS server.")->check(CLI::Range(1, 16));
  if (auto rc = d.ParseFlags(argc, argv)) return *rc;
  return d.Run([&](ck::daemon::Context& ctx) {
    ctx.server_options().io_threads = io_threads;
    static const std::string kHello = std::string(200, 'x') + "\n";
    ctx.Handle("/hello", [](ck::net::Request, std::shared_ptr<ck::net::ResponseWriter> w) {
      w->Respond(200, ck::net::Headers{{"Content-Type", "text/plain"}}, kHello);
    });
    ctx.Handle("/stream", [](ck::net::Request req, std::shared_ptr<ck::net::ResponseWriter> w) {
      int n = req.raw_query.starts_with("n=") ? std::stoi(req.raw_query.substr(2)) : 3;
      w->StartStream(200, ck::net::Headers{{"Content-Type", "text/plain"}});
      for (int i = 0; i < n; ++i) w->Write("chunk " + std::to_string(i) + "\n");
      w->Finish();
    });
    return ck::Status::Ok();
  });
}
