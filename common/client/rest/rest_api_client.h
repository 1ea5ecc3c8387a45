// RestApiClient: the ApiClient that speaks HTTPS to ck-apiserver (or any Kubernetes API server),
// client-go's rest.RESTClient with the typed and dynamic clients' decoding folded in.
//
// Each request: wait on the QPS/burst token bucket (watch starts too, as upstream), send over a
// keep-alive connection pool (net::HttpClient), then decode. Failed attempts are retried by the
// rules of retry.h (backoff for idempotent verbs, Retry-After for every verb); each retry waits on
// the bucket again. Bodies are JSON (or the protobuf envelope, RestConfig::body_encoding);
// answers are read as JSON into the message type of the resource (ResourceInfo::proto_type,
// list_proto_type), or into PartialObjectMetadata(List) for metadata-only requests, or by the
// object's own kind (common/api/kinds.h) for resources the table does not know. Error answers
// become Status values with the server's reason and message (api_errors.h).
//
// Threading: every method may be called from many threads at once; each call blocks its caller
// (sleeps go through the injected Clock, so tests can drive them with a FakeClock). A WatchStream
// belongs to one reader thread; its Stop() may be called from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "common/base/clock.h"
#include "common/base/random.h"
#include "common/client/api_client.h"
#include "common/client/flowcontrol/token_bucket.h"
#include "common/client/rest/config.h"
#include "common/net/http_client.h"

namespace ck::client {

// A request to any path of the server (discovery, /version, /healthz), with the client's
// credentials, user agent, rate limit and retry rules.
struct RawRequest {
  std::string method = "GET";
  std::string path;  // with the query: "/apis?timeout=32s"
  std::string accept = "application/json";
  std::string content_type;  // when there is a body
  std::string body;
};

class RestApiClient final : public ApiClient {
 public:
  // Fails (Invalid) on a bad server URL. Certificates are checked at the first connection.
  // `clock` and `random` must outlive the client.
  static Result<std::unique_ptr<RestApiClient>> New(RestConfig config, Clock& clock = RealClock::Get(),
                                                    Random& random = RealRandom::Get());
  ~RestApiClient() override;
  RestApiClient(const RestApiClient&) = delete;
  RestApiClient& operator=(const RestApiClient&) = delete;

  // ApiClient (api_client.h). Get/List/Watch honour metadata_only: the objects are
  // meta.v1.PartialObjectMetadata whatever the server answers (a server without
  // PartialObjectMetadata support sends full objects; their metadata is kept).
  Result<ObjectPtr> Get(const ResourceInfo& resource, const std::string& ns, const std::string& name,
                        const GetOptions& options = {}) override;
  Result<ObjectList> List(const ResourceInfo& resource, const std::string& ns,
                          const ListOptions& options = {}) override;
  // The watch starts (HTTP 200) before this returns; a non-200 answer is its Status (a 410 is
  // kGone). Events: ADDED/MODIFIED/DELETED/BOOKMARK; an ERROR event is returned from Next() as
  // its Status (code 410 / reason Expired -> kGone) and ends the stream; the end of the body is
  // nullopt; a broken or stalled connection is kUnavailable. With timeout_seconds set, a stream
  // silent for timeout_seconds + 30 s counts as stalled.
  Result<std::unique_ptr<WatchStream>> Watch(const ResourceInfo& resource, const std::string& ns,
                                             const ListOptions& options) override;
  Result<ObjectPtr> Create(const ResourceInfo& resource, const std::string& ns,
                           const google::protobuf::Message& object,
                           const WriteOptions& options = {}) override;
  Result<ObjectPtr> Update(const ResourceInfo& resource, const std::string& ns,
                           const google::protobuf::Message& object, const std::string& subresource = "",
                           const WriteOptions& options = {}) override;
  Result<ObjectPtr> Patch(const ResourceInfo& resource, const std::string& ns, const std::string& name,
                          PatchType type, const std::string& body, const std::string& subresource = "",
                          const WriteOptions& options = {}) override;
  Result<ObjectPtr> CreateSubresource(const ResourceInfo& resource, const std::string& ns,
                                      const std::string& name, const std::string& subresource,
                                      const google::protobuf::Message& object,
                                      const WriteOptions& options = {}) override;
  Result<ObjectPtr> Delete(const ResourceInfo& resource, const std::string& ns, const std::string& name,
                           const DeleteOptions& options = {}) override;
  Status DeleteCollection(const ResourceInfo& resource, const std::string& ns,
                          const ListOptions& list_options, const DeleteOptions& options = {}) override;

  // GET of a subresource of a named object (deployments/x/scale, pods/x/status), which the
  // ApiClient seam does not offer; decoded as the subresource's kind.
  Result<ObjectPtr> GetSubresource(const ResourceInfo& resource, const std::string& ns,
                                   const std::string& name, const std::string& subresource,
                                   const GetOptions& options = {});

  // Sends `request` (GET is retried like any idempotent request). Returns the final answer
  // whatever its status; fails only when no answer came (kUnavailable, kTimeout).
  Result<net::Response> DoRaw(const RawRequest& request);

  const RestConfig& config() const { return config_; }
  // Attempts sent and retries made so far (tests, benchmarks).
  int64_t attempts() const { return attempts_.load(); }
  int64_t retries() const { return retries_.load(); }
  // TCP connections opened by the pool (watches open one each).
  int connections_opened() const;

 private:
  struct Metrics;
  RestApiClient(RestConfig config, Clock& clock, Random& random);

  // One request with rate limiting and retries; `stream` opens a watch instead.
  struct Sent {
    net::Response response;                       // the answer (for a watch: an error answer)
    std::unique_ptr<net::ResponseStream> stream;  // an open watch (HTTP 200)
  };
  Result<Sent> Send(const std::string& method, const std::string& target, const std::string& accept,
                    const std::string& content_type, const std::string& body, bool stream);
  // Encodes `object` as the body of a create or update of `resource` (or its subresource).
  Result<std::string> EncodeBody(const ResourceInfo& resource, const std::string& subresource,
                                 const google::protobuf::Message& object, std::string* content_type) const;
  std::string BearerToken();

  const RestConfig config_;
  std::string path_prefix_;
  std::string user_agent_;
  Clock& clock_;
  Random& random_;
  TokenBucket limiter_;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<Metrics> metrics_;
  std::string host_label_;  // "127.0.0.1:6443", the metrics' host label
  std::atomic<int64_t> attempts_{0};
  std::atomic<int64_t> retries_{0};

  std::mutex token_mu_;
  std::string file_token_;    // guarded by token_mu_
  MonoTime token_read_at_{};  // guarded by token_mu_
  bool token_read_ = false;   // guarded by token_mu_
};

}  // namespace ck::client
