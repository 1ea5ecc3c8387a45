// RestConfig: where the API server is and how to talk to it (client-go's rest.Config), and the
// kubeconfig loader that fills it.
//
// A kubeconfig is read the way client-go reads it: the current context (or a named one) picks a
// cluster (server, certificate-authority or certificate-authority-data, tls-server-name,
// insecure-skip-tls-verify) and a user (client-certificate/-key or their -data forms, token or
// tokenFile). Relative file paths are relative to the kubeconfig's directory. Files are read at
// load time, except tokenFile, which the client re-reads every minute (rotated tokens).
// Pure data and functions; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/base/status.h"

namespace ck::metrics {
class Registry;
}

namespace ck::client {

// Retry rules of the REST client (see retry.h for the decision itself).
struct RetryPolicy {
  // Idempotent requests (GET, list, watch start) are retried this many times on a connection
  // failure or a 429/5xx answer without Retry-After, after a jittered exponential backoff.
  int max_retries = 3;
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{5'000};
  double jitter = 0.5;  // each delay is backoff * (1 + jitter * uniform[0,1))
  // Any request answered 429 or 5xx with a Retry-After header is sent again after that many
  // seconds, at most this many times (client-go's default of 10).
  int max_retry_after_retries = 10;
};

// How request bodies are encoded. Responses are always read as JSON (Accept asks for JSON), which
// every server speaks; protobuf request bodies save the server a JSON parse.
enum class BodyEncoding { kJson, kProtobuf };

struct RestConfig {
  // "https://127.0.0.1:6443" (a path prefix such as "https://host/k8s" is kept), or http:// for
  // plain-text test servers.
  std::string server;
  // TLS: trust anchors (PEM); empty means the system default. Client certificate and key (PEM).
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
  std::string tls_server_name;  // SNI and the name checked in the server certificate
  bool insecure_skip_tls_verify = false;
  // Bearer token, or a file holding one (re-read every minute; takes precedence when set).
  std::string bearer_token;
  std::string bearer_token_file;

  // Client-side rate limit (client-go defaults: 5 QPS, burst 10). qps <= 0 disables it.
  double qps = 5;
  int burst = 10;
  // "ck-scheduler/v1.32.0 (linux/amd64) clearkube" (MakeUserAgent); empty sends a default.
  std::string user_agent;
  // Connect, send and receive timeout of each request (a watch waits for events without limit,
  // unless ListOptions::timeout_seconds is set).
  std::chrono::milliseconds timeout{60'000};
  size_t max_idle_connections = 16;
  BodyEncoding body_encoding = BodyEncoding::kJson;
  RetryPolicy retry;
  // When set, the client exports rest_client_requests_total, rest_client_request_duration_seconds,
  // rest_client_rate_limiter_duration_seconds and rest_client_request_retries_total.
  metrics::Registry* metrics = nullptr;
};

// Reads a kubeconfig file; `context` overrides current-context when not empty. Invalid (with
// "kubeconfig <path>: ...") on YAML errors, a missing context, cluster or user, bad base64, or
// a missing server; NotFound when a referenced file cannot be read.
Result<RestConfig> LoadKubeconfig(const std::string& path, const std::string& context = "");

// The same from YAML text; relative paths are resolved against `base_dir`.
Result<RestConfig> ParseKubeconfig(const std::string& yaml, const std::string& base_dir,
                                   const std::string& context = "");

// "<component>/<version> (<os>/<arch>) clearkube", the shape of client-go's default user agent:
// MakeUserAgent("ck-scheduler", "v1.32.0") is "ck-scheduler/v1.32.0 (linux/amd64) clearkube".
std::string MakeUserAgent(const std::string& component, const std::string& version);

// The server URL split for the HTTP client.
struct ServerUrl {
  bool tls = true;
  std::string host;  // "127.0.0.1", "::1", "api.example.com"
  uint16_t port = 443;
  std::string path_prefix;  // "" or "/k8s" (no trailing slash)
};
// Parses "https://host[:port][/prefix]"; Invalid on another scheme, an empty host or a bad port.
Result<ServerUrl> ParseServerUrl(const std::string& server);

}  // namespace ck::client
