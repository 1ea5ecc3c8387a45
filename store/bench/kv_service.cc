// etcd v3 KV and Watch services over ck::store::Store (see kv_service.h).
#include "store/bench/kv_service.h"

#include <grpcpp/grpcpp.h>

#include <map>
#include <mutex>

#include "store/bench/etcd_rpc.grpc.pb.h"

namespace ck::store::bench {
namespace {

namespace pb = ::etcdserverpb;

// etcd's range convention: empty end = the single key, "\0" = every key from start.
KeyRange ToRange(const std::string& key, const std::string& end) {
  if (end.empty()) return KeyRange::Single(key);
  if (end == std::string(1, '\0')) return KeyRange{key, ""};
  return KeyRange{key, end};
}

void ToProto(const KeyValue& kv, pb::KeyValue* out) {
  out->set_key(kv.key);
  out->set_value(kv.value);
  out->set_create_revision(kv.create_revision);
  out->set_mod_revision(kv.mod_revision);
  out->set_version(kv.version);
}

grpc::Status ToGrpc(const Status& s) {
  grpc::StatusCode code = grpc::StatusCode::INTERNAL;
  switch (s.code()) {
    case Code::kBadRequest: code = grpc::StatusCode::INVALID_ARGUMENT; break;
    case Code::kNotFound: code = grpc::StatusCode::NOT_FOUND; break;
    case Code::kGone: code = grpc::StatusCode::OUT_OF_RANGE; break;
    case Code::kUnavailable: code = grpc::StatusCode::UNAVAILABLE; break;
    default: break;
  }
  return grpc::Status(code, s.message());
}

class KvImpl final : public pb::KV::Service {
 public:
  explicit KvImpl(Store& store) : store_(store) {}

  grpc::Status Range(grpc::ServerContext*, const pb::RangeRequest* req,
                     pb::RangeResponse* resp) override {
    KeyRange r = ToRange(req->key(), req->range_end());
    auto got = store_.Range(r.start, r.end, req->revision(), req->limit());
    if (!got.ok()) return ToGrpc(got.status());
    resp->mutable_header()->set_revision(got->revision);
    resp->set_count(got->count);
    resp->set_more(got->more);
    if (!req->count_only()) {
      for (const KeyValue& kv : got->kvs) ToProto(kv, resp->add_kvs());
    }
    return grpc::Status::OK;
  }

  grpc::Status Put(grpc::ServerContext*, const pb::PutRequest* req, pb::PutResponse* resp) override {
    auto got = store_.Txn({}, {Op::Put(req->key(), req->value())}, {});
    if (!got.ok()) return ToGrpc(got.status());
    resp->mutable_header()->set_revision(got->revision);
    if (req->prev_kv() && !got->results[0].kvs.empty()) {
      ToProto(got->results[0].kvs[0], resp->mutable_prev_kv());
    }
    return grpc::Status::OK;
  }

  grpc::Status DeleteRange(grpc::ServerContext*, const pb::DeleteRangeRequest* req,
                           pb::DeleteRangeResponse* resp) override {
    auto got = store_.Txn({}, {Op::DeleteRange(ToRange(req->key(), req->range_end()))}, {});
    if (!got.ok()) return ToGrpc(got.status());
    resp->mutable_header()->set_revision(got->revision);
    resp->set_deleted(got->results[0].deleted);
    return grpc::Status::OK;
  }

  grpc::Status Txn(grpc::ServerContext*, const pb::TxnRequest* req, pb::TxnResponse* resp) override {
    std::vector<Compare> cmps;
    for (const pb::Compare& c : req->compare()) {
      Compare out;
      out.key = c.key();
      switch (c.target()) {
        case pb::Compare::VERSION:
          out.target = Compare::Target::kVersion;
          out.operand = c.version();
          break;
        case pb::Compare::CREATE:
          out.target = Compare::Target::kCreateRevision;
          out.operand = c.create_revision();
          break;
        case pb::Compare::MOD:
          out.target = Compare::Target::kModRevision;
          out.operand = c.mod_revision();
          break;
        default:
          return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "compare target not supported");
      }
      switch (c.result()) {
        case pb::Compare::EQUAL: out.result = Compare::Result::kEqual; break;
        case pb::Compare::NOT_EQUAL: out.result = Compare::Result::kNotEqual; break;
        case pb::Compare::LESS: out.result = Compare::Result::kLess; break;
        case pb::Compare::GREATER: out.result = Compare::Result::kGreater; break;
        default: return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad compare");
      }
      cmps.push_back(std::move(out));
    }
    auto ops = [](const google::protobuf::RepeatedPtrField<pb::RequestOp>& in) {
      std::vector<Op> out;
      for (const pb::RequestOp& op : in) {
        if (op.has_request_put()) {
          out.push_back(Op::Put(op.request_put().key(), op.request_put().value()));
        } else if (op.has_request_delete_range()) {
          out.push_back(Op::DeleteRange(
              ToRange(op.request_delete_range().key(), op.request_delete_range().range_end())));
        } else {
          out.push_back(Op::Range(ToRange(op.request_range().key(), op.request_range().range_end())));
        }
      }
      return out;
    };
    auto got = store_.Txn(std::move(cmps), ops(req->success()), ops(req->failure()));
    if (!got.ok()) return ToGrpc(got.status());
    resp->mutable_header()->set_revision(got->revision);
    resp->set_succeeded(got->succeeded);
    const auto& branch = got->succeeded ? req->success() : req->failure();
    for (int i = 0; i < branch.size(); ++i) {
      const OpResult& r = got->results[i];
      pb::ResponseOp* out = resp->add_responses();
      if (branch[i].has_request_put()) {
        out->mutable_response_put()->mutable_header()->set_revision(got->revision);
      } else if (branch[i].has_request_delete_range()) {
        out->mutable_response_delete_range()->set_deleted(r.deleted);
      } else {
        pb::RangeResponse* rr = out->mutable_response_range();
        rr->set_count(static_cast<int64_t>(r.kvs.size()));
        for (const KeyValue& kv : r.kvs) ToProto(kv, rr->add_kvs());
      }
    }
    return grpc::Status::OK;
  }

 private:
  Store& store_;
};

class WatchImpl final : public pb::Watch::Service {
 public:
  explicit WatchImpl(Store& store) : store_(store) {}

  // The handler thread reads create/cancel/progress requests; each store watcher writes its
  // responses to the stream straight from its own thread (one write at a time per stream).
  grpc::Status Watch(grpc::ServerContext*,
                     grpc::ServerReaderWriter<pb::WatchResponse, pb::WatchRequest>* stream) override {
    struct Writer {
      std::mutex mu;
      grpc::ServerReaderWriter<pb::WatchResponse, pb::WatchRequest>* stream;
      bool open = true;  // guarded by mu
      void Write(const pb::WatchResponse& r) {
        std::lock_guard<std::mutex> lock(mu);
        if (open && !stream->Write(r)) open = false;
      }
    };
    auto writer = std::make_shared<Writer>();
    writer->stream = stream;
    std::map<int64_t, std::unique_ptr<Watcher>> watchers;
    int64_t next_id = 0;
    pb::WatchRequest req;
    while (stream->Read(&req)) {
      if (req.has_create_request()) {
        const auto& c = req.create_request();
        int64_t id = next_id++;
        // Held until "created" is written, so no event can overtake it.
        std::unique_lock<std::mutex> order(writer->mu);
        auto w = store_.Watch(
            {ToRange(c.key(), c.range_end()), c.start_revision(), c.progress_notify()},
            [writer, id](const WatchResponse& r) {
              pb::WatchResponse out;
              out.set_watch_id(id);
              out.mutable_header()->set_revision(r.revision);
              if (r.type == WatchResponse::Type::kCanceled) {
                out.set_canceled(true);
                out.set_cancel_reason(r.status.message());
                out.set_compact_revision(r.compact_revision);
              }
              for (const Event& e : r.events) {
                pb::Event* pe = out.add_events();
                pe->set_type(e.type == Event::Type::kPut ? pb::Event::PUT : pb::Event::DELETE);
                ToProto(e.kv, pe->mutable_kv());
                if (e.prev_kv) ToProto(*e.prev_kv, pe->mutable_prev_kv());
              }
              writer->Write(out);
            });
        pb::WatchResponse created;
        created.set_watch_id(id);
        created.set_created(true);
        created.mutable_header()->set_revision(store_.CurrentRevision());
        if (!w.ok()) {
          created.set_canceled(true);
          created.set_cancel_reason(w.status().message());
        }
        if (writer->open && !stream->Write(created)) writer->open = false;
        order.unlock();
        if (w.ok()) watchers[id] = std::move(w).value();
      } else if (req.has_cancel_request()) {
        watchers.erase(req.cancel_request().watch_id());
      } else if (req.has_progress_request()) {
        for (auto& [id, w] : watchers) w->RequestProgress();
      }
    }
    watchers.clear();  // joins the watcher threads: nobody writes to the stream after this
    return grpc::Status::OK;
  }

 private:
  Store& store_;
};

class KvServerImpl final : public KvServer {
 public:
  explicit KvServerImpl(Store& store) : kv_(store), watch_(store) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    // Handlers block in Store::Txn until their group commit is durable, so keep enough threads
    // around for the benchmark's 64 concurrent clients instead of creating one per call.
    builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 4);
    builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 128);
    builder.RegisterService(&kv_);
    builder.RegisterService(&watch_);
    server_ = builder.BuildAndStart();
  }
  ~KvServerImpl() override { server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2)); }
  std::string address() const override { return "127.0.0.1:" + std::to_string(port_); }

 private:
  KvImpl kv_;
  WatchImpl watch_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace

std::unique_ptr<KvServer> KvServer::Start(Store& store) {
  return std::make_unique<KvServerImpl>(store);
}

}  // namespace ck::store::bench
