// Micro-benchmarks of the patch engine on a 3 KB Deployment (testdata/deployment.json): the
// strategic merge patch `kubectl apply` sends, a one-field scale patch in each of the three
// types, and a merge patch of labels. Each iteration parses the object and the patch, applies,
// and writes the result, as the PATCH handler does.
#include <benchmark/benchmark.h>

#include <fstream>
#include <iterator>
#include <string>

#include "apiserver/patch/patch.h"
#include "common/api/proto/apps_v1.pb.h"
#include "common/base/check.h"

namespace {

namespace p = ck::apiserver::patch;

std::string Read(const std::string& name) {
  std::ifstream in(std::string(CK_PATCH_TESTDATA) + "/" + name, std::ios::binary);
  CK_CHECK(in.good()) << "cannot read " << name;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

const std::string& Deployment() {
  static const std::string* doc = new std::string(Read("deployment.json"));
  return *doc;
}

const google::protobuf::Descriptor* kDeployment = k8s::io::api::apps::v1::Deployment::descriptor();

void BM_StrategicMergePatchKubectlApply(benchmark::State& state) {
  const std::string patch = Read("kubectl_apply_patch.json");
  for (auto _ : state) {
    ck::Result<std::string> out = p::ApplyStrategicMergePatch(Deployment(), patch, kDeployment);
    CK_CHECK(out.ok()) << out.status().ToString();
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(Deployment().size()));
}
BENCHMARK(BM_StrategicMergePatchKubectlApply);

void BM_StrategicMergePatchScale(benchmark::State& state) {
  for (auto _ : state) {
    ck::Result<std::string> out =
        p::ApplyStrategicMergePatch(Deployment(), R"({"spec":{"replicas":5}})", kDeployment);
    CK_CHECK(out.ok()) << out.status().ToString();
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_StrategicMergePatchScale);

void BM_MergePatchScale(benchmark::State& state) {
  for (auto _ : state) {
    ck::Result<std::string> out = p::ApplyMergePatch(Deployment(), R"({"spec":{"replicas":5}})");
    CK_CHECK(out.ok()) << out.status().ToString();
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_MergePatchScale);

void BM_JsonPatchScale(benchmark::State& state) {
  const char* patch =
      R"([{"op":"test","path":"/spec/replicas","value":3},{"op":"replace","path":"/spec/replicas","value":5}])";
  for (auto _ : state) {
    ck::Result<std::string> out = p::ApplyJsonPatch(Deployment(), patch);
    CK_CHECK(out.ok()) << out.status().ToString();
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_JsonPatchScale);

void BM_MergePatchLabels(benchmark::State& state) {
  const char* patch = R"({"metadata":{"labels":{"tier":null,"track":"stable"}}})";
  for (auto _ : state) {
    ck::Result<std::string> out = p::ApplyMergePatch(Deployment(), patch);
    CK_CHECK(out.ok()) << out.status().ToString();
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_MergePatchLabels);

}  // namespace

BENCHMARK_MAIN();
