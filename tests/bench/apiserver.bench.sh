#!/usr/bin/env bash
# API server benchmark: apiserver_bench starts its own ck-apiserver (from BIN_DIR) on a free
# loopback port with a temporary store and prints creates/s, create latency, LIST times, watch
# fan-out delay and RSS. The server is stopped by PID when the benchmark ends.
# Usage: tests/bench/apiserver.bench.sh [BIN_DIR]
set -euo pipefail
bin_dir=$(realpath "${1:-build/bin}")
[ -x "$bin_dir/apiserver_bench" ] || { echo "apiserver.bench.sh: $bin_dir/apiserver_bench not built (make bench)" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
CK_BIN_DIR="$bin_dir" "$bin_dir/apiserver_bench" "${@:2}"
