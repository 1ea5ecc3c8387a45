#!/usr/bin/env bash
# JSON codec benchmark (common/api): encodes/s and decodes/s per core for a realistic ~3.5 KB pod
# (common/api/testdata/bench_pod.json), protobuf for comparison, bytes and allocations per
# operation, and the JSON library comparison behind the choice of simdjson (common/api/README.md).
# Median of REPS repetitions; one thread, so the rates are per core.
# Usage: tests/bench/api_codec.bench.sh [BIN_DIR] [REPS]
set -euo pipefail
bin=${1:-build/bin}; reps=${2:-5}
exe=$bin/api_codec_bench
[ -x "$exe" ] || { echo "api codec bench: $exe is not built (make build)"; exit 1; }
out=$(mktemp); trap 'rm -f "$out"' EXIT
"$exe" --benchmark_repetitions="$reps" --benchmark_min_time=0.5 --benchmark_format=json >"$out" 2>/dev/null
python3 - "$out" <<'PY'
import json, statistics, sys
runs = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("run_type") == "iteration":
        runs.setdefault(b["run_name"], []).append(b)
def med(name, key):
    return statistics.median(r[key] for r in runs[name])
def row(label, name):
    ns = med(name, "cpu_time")
    print("%-34s %12.0f %10.0f %16.0f %11.1f" % (label, 1e9 / ns, ns, med(name, "alloc_bytes/op"), med(name, "allocs/op")))
print()
print("Kubernetes JSON codec, realistic pod (common/api/testdata/bench_pod.json), one core, median of %d" % len(runs["BM_JsonEncode"]))
print("%-34s %12s %10s %16s %11s" % ("operation", "ops/s", "ns/op", "alloc bytes/op", "allocs/op"))
row("JSON encode (generated code)", "BM_JsonEncode")
row("JSON encode into a new string", "BM_JsonEncodeNewString")
row("JSON decode (generated code)", "BM_JsonDecode")
row("JSON decode, fieldValidation=Strict", "BM_JsonDecodeStrict")
row("protobuf encode", "BM_ProtoEncode")
row("protobuf decode", "BM_ProtoDecode")
enc, dec = 1e9 / med("BM_JsonEncode", "cpu_time"), 1e9 / med("BM_JsonDecode", "cpu_time")
print("target: >= 100000 JSON encodes/s and >= 50000 JSON decodes/s per core: %s" %
      ("met" if enc >= 100000 and dec >= 50000 else "NOT met"))
print()
print("JSON library comparison: the same reflection decoder and encoder on each library (ops/s)")
print("%-12s %14s %14s %14s" % ("library", "parse only", "decode", "encode"))
for lib, enc_name in (("RapidJSON", "BM_Lib_Encode_RapidJsonWriter"), ("simdjson", "BM_Lib_Encode_OwnWriter"),
                      ("nlohmann", "BM_Lib_Encode_Nlohmann")):
    key = {"RapidJSON": "RapidJson", "simdjson": "SimdJson", "nlohmann": "Nlohmann"}[lib]
    print("%-12s %14.0f %14.0f %14.0f" % (lib, 1e9 / med("BM_Lib_ParseOnly_" + key, "cpu_time"),
                                          1e9 / med("BM_Lib_Decode_" + key, "cpu_time"), 1e9 / med(enc_name, "cpu_time")))
print("(simdjson has no writer: its encode column is the codec's own writer)")
PY
