#!/usr/bin/env bash
# Client stack benchmark: informer_bench starts its own ck-apiserver (from BIN_DIR) on a free
# loopback port with a temporary store, and prints the informer's initial sync of 10,000 pods,
# write-to-handler event delivery p50/p99 and cache memory per pod. The server is stopped by PID.
# Usage: tests/bench/client.bench.sh [BIN_DIR] [--pods N]
set -euo pipefail
bin_dir=$(realpath "${1:-build/bin}")
[ -x "$bin_dir/informer_bench" ] || { echo "client.bench.sh: $bin_dir/informer_bench not built (make bench)" >&2; exit 1; }
CK_BIN_DIR="$bin_dir" "$bin_dir/informer_bench" "${@:2}"
