// api_codec_bench: speed of the Kubernetes JSON codec and of protobuf on a realistic pod
// (testdata/bench_pod.json, ~3.5 KB of JSON), and the JSON library comparison that chose the
// codec's parser (README.md): the same reflection decoder and encoder run on RapidJSON, simdjson
// and nlohmann. Every benchmark reports bytes and allocations per operation, counted by the
// replaced global operator new below. Single-threaded: figures are per core.
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <new>
#include <sstream>
#include <string>

#include <benchmark/benchmark.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/api/codec.h"
#include "common/api/internal/decode.h"
#include "common/api/internal/dom_nlohmann.h"
#include "common/api/internal/dom_rapidjson.h"
#include "common/api/internal/dom_simdjson.h"
#include "common/api/internal/encode.h"
#include "common/api/internal/json_writer.h"
#include "common/api/internal/message_plan.h"
#include "common/api/proto/core_v1.pb.h"

namespace {

std::atomic<uint64_t> g_alloc_count{0};
std::atomic<uint64_t> g_alloc_bytes{0};

void* CountedAlloc(size_t n) {
  g_alloc_count.fetch_add(1, std::memory_order_relaxed);
  g_alloc_bytes.fetch_add(n, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}

}  // namespace

void* operator new(size_t n) { return CountedAlloc(n); }
void* operator new[](size_t n) { return CountedAlloc(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  g_alloc_count.fetch_add(1, std::memory_order_relaxed);
  g_alloc_bytes.fetch_add(n, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace ck::api {
namespace {

using Pod = ::k8s::io::api::core::v1::Pod;

std::string PodJson() {
  std::ifstream in(CK_API_TESTDATA "/bench_pod.json");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.empty()) {
    std::fprintf(stderr, "cannot read %s\n", CK_API_TESTDATA "/bench_pod.json");
    std::exit(1);
  }
  return s;
}

const Pod& ThePod() {
  static const Pod* pod = [] {
    auto* p = new Pod();
    std::vector<std::string> warnings;
    Status s = FromJson(PodJson(), p, {}, &warnings);
    if (!s.ok() || !warnings.empty()) {
      std::fprintf(stderr, "bench pod does not decode cleanly: %s %s\n", s.ToString().c_str(),
                   warnings.empty() ? "" : warnings[0].c_str());
      std::exit(1);
    }
    return p;
  }();
  return *pod;
}

// Allocation counters per iteration, plus throughput in the units the README quotes.
class AllocScope {
 public:
  explicit AllocScope(benchmark::State& state) : state_(state) {
    count_ = g_alloc_count.load();
    bytes_ = g_alloc_bytes.load();
  }
  ~AllocScope() {
    double n = static_cast<double>(state_.iterations());
    state_.counters["allocs/op"] = (g_alloc_count.load() - count_) / n;
    state_.counters["alloc_bytes/op"] = (g_alloc_bytes.load() - bytes_) / n;
    state_.counters["ops/s"] = benchmark::Counter(n, benchmark::Counter::kIsRate);
  }

 private:
  benchmark::State& state_;
  uint64_t count_, bytes_;
};

// ---- The codec as the daemons use it -------------------------------------------------------

void BM_JsonEncode(benchmark::State& state) {
  const Pod& pod = ThePod();
  std::string out;
  EncodeOptions o{.kind = "Pod", .api_version = "v1"};
  AllocScope scope(state);
  for (auto _ : state) {
    out.clear();
    Status s = AppendJson(pod, &out, o);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_JsonEncode);

void BM_JsonEncodeNewString(benchmark::State& state) {
  const Pod& pod = ThePod();
  EncodeOptions o{.kind = "Pod", .api_version = "v1"};
  AllocScope scope(state);
  for (auto _ : state) {
    Result<std::string> r = ToJson(pod, o);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_JsonEncodeNewString);

void BM_JsonDecode(benchmark::State& state) {
  std::string json = PodJson();
  Pod pod;
  AllocScope scope(state);
  for (auto _ : state) {
    Status s = FromJson(json, &pod);
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * json.size()));
}
BENCHMARK(BM_JsonDecode);

void BM_JsonDecodeStrict(benchmark::State& state) {
  std::string json = PodJson();
  Pod pod;
  DecodeOptions o;
  o.field_validation = FieldValidation::kStrict;
  AllocScope scope(state);
  for (auto _ : state) {
    Status s = FromJson(json, &pod, o);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_JsonDecodeStrict);

void BM_ProtoEncode(benchmark::State& state) {
  const Pod& pod = ThePod();
  std::string out;
  AllocScope scope(state);
  for (auto _ : state) {
    out.clear();
    pod.SerializeToString(&out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_ProtoEncode);

void BM_ProtoDecode(benchmark::State& state) {
  std::string bytes = ThePod().SerializeAsString();
  Pod pod;
  AllocScope scope(state);
  for (auto _ : state) {
    pod.ParseFromString(bytes);
    benchmark::DoNotOptimize(pod);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_ProtoDecode);

// ---- JSON library comparison: the same decoder on each library's DOM -----------------------

template <class Dom, class Parser>
void DecodeWith(benchmark::State& state) {
  std::string json = PodJson();
  Parser parser;
  Pod pod;
  const internal::MessagePlan& plan = internal::PlanFor(Pod::descriptor());
  AllocScope scope(state);
  for (auto _ : state) {
    pod.Clear();
    typename Dom::Value root;
    Status s = parser.Parse(json, &root);
    internal::Decoder<Dom> decoder(internal::DecodeSettings{});
    if (s.ok()) s = decoder.Root(root, &pod, plan);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(pod);
  }
}

template <class Parser, class Value>
void ParseOnly(benchmark::State& state) {
  std::string json = PodJson();
  Parser parser;
  AllocScope scope(state);
  for (auto _ : state) {
    Value root;
    Status s = parser.Parse(json, &root);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(root);
  }
}

void BM_Lib_Decode_RapidJson(benchmark::State& s) { DecodeWith<internal::RapidJsonDom, internal::RapidJsonParser>(s); }
void BM_Lib_Decode_SimdJson(benchmark::State& s) { DecodeWith<internal::SimdJsonDom, internal::SimdJsonParser>(s); }
void BM_Lib_Decode_Nlohmann(benchmark::State& s) { DecodeWith<internal::NlohmannDom, internal::NlohmannParser>(s); }
void BM_Lib_ParseOnly_RapidJson(benchmark::State& s) { ParseOnly<internal::RapidJsonParser, internal::RapidJsonDom::Value>(s); }
void BM_Lib_ParseOnly_SimdJson(benchmark::State& s) { ParseOnly<internal::SimdJsonParser, internal::SimdJsonDom::Value>(s); }
void BM_Lib_ParseOnly_Nlohmann(benchmark::State& s) { ParseOnly<internal::NlohmannParser, internal::NlohmannDom::Value>(s); }
BENCHMARK(BM_Lib_Decode_RapidJson);
BENCHMARK(BM_Lib_Decode_SimdJson);
BENCHMARK(BM_Lib_Decode_Nlohmann);
BENCHMARK(BM_Lib_ParseOnly_RapidJson);
BENCHMARK(BM_Lib_ParseOnly_SimdJson);
BENCHMARK(BM_Lib_ParseOnly_Nlohmann);

// ---- JSON library comparison: the same encoder on each library's writer --------------------

// RapidJSON's Writer behind the encoder's writer interface.
class RapidJsonWriter {
 public:
  RapidJsonWriter() : w_(buf_) {}
  void Reset() {
    buf_.Clear();
    w_.Reset(buf_);
  }
  void StartObject() { w_.StartObject(); }
  void EndObject() { w_.EndObject(); }
  void StartArray() { w_.StartArray(); }
  void EndArray() { w_.EndArray(); }
  void KeyPrepared(std::string_view q) { w_.Key(q.data() + 1, static_cast<unsigned>(q.size() - 3)); }
  void Key(std::string_view k) { w_.Key(k.data(), static_cast<unsigned>(k.size())); }
  void String(std::string_view s) { w_.String(s.data(), static_cast<unsigned>(s.size())); }
  void Int(int64_t v) { w_.Int64(v); }
  void Uint(uint64_t v) { w_.Uint64(v); }
  void Double(double v) { w_.Double(v); }
  void Float(float v) { w_.Double(v); }
  void Bool(bool v) { w_.Bool(v); }
  void Null() { w_.Null(); }
  void Base64(std::string_view bytes) {
    tmp_.clear();
    internal::JsonWriter::AppendBase64(&tmp_, bytes);
    String(tmp_);
  }
  void RawValue(std::string_view json) { w_.RawValue(json.data(), json.size(), rapidjson::kObjectType); }
  size_t size() const { return buf_.GetSize(); }

 private:
  rapidjson::StringBuffer buf_;
  rapidjson::Writer<rapidjson::StringBuffer> w_;
  std::string tmp_;
};

void BM_Lib_Encode_OwnWriter(benchmark::State& state) {
  const Pod& pod = ThePod();
  const internal::MessagePlan& plan = internal::PlanFor(Pod::descriptor());
  std::string out;
  AllocScope scope(state);
  for (auto _ : state) {
    out.clear();
    internal::JsonWriter w(&out);
    internal::Encoder<internal::JsonWriter> e(w);
    Status s = e.Top(pod, plan, "Pod", "v1");
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_Lib_Encode_OwnWriter);

void BM_Lib_Encode_RapidJsonWriter(benchmark::State& state) {
  const Pod& pod = ThePod();
  const internal::MessagePlan& plan = internal::PlanFor(Pod::descriptor());
  RapidJsonWriter w;
  AllocScope scope(state);
  for (auto _ : state) {
    w.Reset();
    internal::Encoder<RapidJsonWriter> e(w);
    Status s = e.Top(pod, plan, "Pod", "v1");
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_Lib_Encode_RapidJsonWriter);

void BM_Lib_Encode_Nlohmann(benchmark::State& state) {
  const Pod& pod = ThePod();
  const internal::MessagePlan& plan = internal::PlanFor(Pod::descriptor());
  AllocScope scope(state);
  for (auto _ : state) {
    internal::NlohmannWriter w;
    internal::Encoder<internal::NlohmannWriter> e(w);
    Status s = e.Top(pod, plan, "Pod", "v1");
    std::string out = w.Dump();
    benchmark::DoNotOptimize(out);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_Lib_Encode_Nlohmann);

}  // namespace
}  // namespace ck::api

BENCHMARK_MAIN();
