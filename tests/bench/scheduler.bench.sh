#!/usr/bin/env bash
# Scheduler benchmark (scheduler_perf's shape, end to end through the API): scheduler_perf starts
# a ck-apiserver and a ck-scheduler (from BIN_DIR) per workload, creates fake nodes and init pods,
# then the measured pods, and prints pods/s, creation rate, p50/p99 scheduling attempt latency from
# the scheduler's /metrics histogram, the share of attempt time spent binding, and the seed
# scenario's first-create-to-last-bound time, beside upstream's CI floors (reference numbers).
# Processes are stopped by PID when each workload ends.
# Usage: tests/bench/scheduler.bench.sh [BIN_DIR] [--quick] [--workload NAME]... [--mode running|backlog|both]
set -euo pipefail
bin_dir=$(realpath "${1:-build/bin}")
[ -x "$bin_dir/scheduler_perf" ] || { echo "scheduler.bench.sh: $bin_dir/scheduler_perf not built (make bench)" >&2; exit 1; }
[ -x "$bin_dir/ck-scheduler" ] || { echo "scheduler.bench.sh: $bin_dir/ck-scheduler not built" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
CK_BIN_DIR="$bin_dir" "$bin_dir/scheduler_perf" "${@:2}"
