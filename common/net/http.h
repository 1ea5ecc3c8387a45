// HTTP message types shared by the server (http_server.h) and the client (http_client.h).
// Plain data with no I/O; header names compare case-insensitively.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ck::net {

class Headers {
 public:
  using Entry = std::pair<std::string, std::string>;
  Headers() = default;
  Headers(std::initializer_list<Entry> init) : entries_(init) {}

  // First value of `name` (case-insensitive), or "" when absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  // All values of `name`, in order.
  std::vector<std::string_view> GetAll(std::string_view name) const;
  void Add(std::string name, std::string value) { entries_.emplace_back(std::move(name), std::move(value)); }
  // Replaces every value of `name` with one.
  void Set(std::string name, std::string value);
  void Remove(std::string_view name);

  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<Entry> entries_;
};

// Who is on the other end of a connection, as far as TLS can tell.
struct PeerIdentity {
  std::string remote_address;          // "127.0.0.1:53412"
  bool tls = false;
  bool client_cert_presented = false;  // the client sent a certificate (verified or not)
  bool client_cert_verified = false;   // a client certificate was presented and verified
  std::string client_cert_error;       // why a presented certificate did not verify ("certificate has expired")
  std::string cert_common_name;        // subject CN = user name (Kubernetes x509 authn)
  std::vector<std::string> cert_organizations;  // subject O = groups
};

struct Request {
  std::string method;       // "GET"
  std::string target;       // "/api/v1/pods?limit=500" as received
  std::string path;         // "/api/v1/pods" (not percent-decoded)
  std::string raw_query;    // "limit=500"
  int version = 11;         // 10 or 11
  Headers headers;
  std::string body;
  PeerIdentity peer;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
};

// "OK", "Not Found", ... for the status line.
std::string_view StatusText(int status);

}  // namespace ck::net
